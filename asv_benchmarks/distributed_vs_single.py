"""Data-parallel scaling on this machine: 2 ranks x 1 thread against one process.

For the digits CNN (examples/cnn_digits.py, 8x8 inputs) and an MLP (784-512-512-10), float32,
Adam, one training step timed over ``--steps`` steps after a warm-up:

- weak scaling: 2 ranks with batch B each against 1 process x 1 thread with batch B (the same
  work per core); efficiency = T(1 process) / T(2 ranks), 100% is perfect;
- strong scaling: the same global batch 2B, 2 ranks x 1 thread against 1 process x 2 threads
  (BLAS on two cores); speedup = T(1 process) / T(2 ranks).

Each step is split into compute (forward and backward, less what DistributedDataParallel spends
flattening, reducing and unpacking gradients), gradient communication (that, on rank 0) and the
optimizer step. Then the all-reduce bandwidth for 1 to 64 MB float32 buffers between 2 ranks,
through ``xpnet.distributed.all_reduce`` (metadata check, result in a new array) and through
mpi4py's ``Allreduce`` directly.

    python asv_benchmarks/distributed_vs_single.py [--steps 30] [--batch 64] [--rounds 1]
        [--sizes 1 4 16 64] [--models cnn,mlp] [--json]

Each configuration runs in a fresh process (``mpiexec -n 2 python -m mpi4py`` for the ranks,
the mpiexec next to this Python). Prints markdown tables (or one JSON object with --json).
Medians over the steps (and the best step); run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES_MB = (1, 4, 16, 64)


# -- the worker, run in each process ----------------------------------------------------------

def _build(model_name):
    import xpnet.nn as nn
    if model_name == "cnn":
        sys.path.insert(0, str(ROOT / "examples"))
        from cnn_digits import build_model
        return build_model(dropout=0.0), (1, 8, 8)
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10)), (784,)


def worker_step(args):
    import xpnet
    import xpnet.distributed as dist
    import xpnet.nn as nn
    from xpnet.nn.parallel import DistributedDataParallel

    xpnet.set_num_threads(args.threads)
    parallel = args.ranks > 1
    dist.init_process_group("mpi" if parallel else "local")
    xpnet.manual_seed(0)
    model, shape = _build(args.model)
    if parallel:
        model = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model))
    g = xpnet.Generator(dist.get_rank())
    x = xpnet.randn(args.batch, *shape, generator=g)
    y = xpnet.randint(0, 10, (args.batch,), generator=g)
    optimizer = xpnet.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rows = []
    for step in range(args.warmup + args.steps):
        comm_before = model.reducer.comm_seconds if parallel else 0.0
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        t1 = time.perf_counter()
        optimizer.step()
        t2 = time.perf_counter()
        comm = (model.reducer.comm_seconds if parallel else 0.0) - comm_before
        if step >= args.warmup:
            rows.append((t2 - t0, t1 - t0 - comm, comm, t2 - t1))
    rank = dist.get_rank()
    dist.destroy_process_group()
    if rank != 0:
        return None
    step, compute, comm, opt = (statistics.median(column) for column in zip(*rows))
    return {"step_ms": 1e3 * step, "compute_ms": 1e3 * compute, "comm_ms": 1e3 * comm,
            "optimizer_ms": 1e3 * opt, "best_step_ms": 1e3 * min(row[0] for row in rows)}


def worker_bandwidth(args):
    import xpnet
    import xpnet.distributed as dist
    from mpi4py import MPI

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = []
    for mb in args.sizes:
        n = mb * (1 << 20) // 4
        t = xpnet.ones(n, dtype=xpnet.float32)
        send, recv = t.numpy(), t.numpy().copy()
        times = {"xpnet": [], "mpi4py": []}
        for rep in range(args.reps + 1):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            times["xpnet"].append(time.perf_counter() - start)
            dist.barrier()
            start = time.perf_counter()
            MPI.COMM_WORLD.Allreduce(send, recv)
            times["mpi4py"].append(time.perf_counter() - start)
        row = {"MB": mb}
        for name, values in times.items():
            seconds = statistics.median(values[1:])  # the first is a warm-up
            row[f"{name}_ms"] = 1e3 * seconds
            row[f"{name}_algbw_GBps"] = mb * (1 << 20) / seconds / 1e9
            # the bytes each rank sends and receives in a ring all-reduce
            row[f"{name}_busbw_GBps"] = row[f"{name}_algbw_GBps"] * 2 * (world - 1) / world
        out.append(row)
    dist.destroy_process_group()
    return out if rank == 0 else None


# -- the driver -------------------------------------------------------------------------------

def _launch(ranks, threads, extra, timeout=600):
    env = dict(os.environ, XPNET_BACKEND="numpy", PYTHONPATH=str(ROOT / "src"))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    script = [str(Path(__file__).resolve()), "--worker", *extra, "--threads", str(threads),
              "--ranks", str(ranks)]
    if ranks > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        command = [str(mpiexec), "-n", str(ranks), sys.executable, "-m", "mpi4py", *script]
    else:
        command = [sys.executable, *script]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{") or
             line.startswith("[")]
    return json.loads(lines[-1])


def measure(models=("cnn", "mlp"), batch=64, steps=30, warmup=5, reps=10, sizes=SIZES_MB,
            rounds=1):
    """Every configuration, each in fresh processes; returns a dict of results (``sizes``:
    the all-reduce buffers in MB, empty for none). With ``rounds`` > 1 the configurations take
    turns that many times and each keeps its fastest round, so a burst of other work on a
    shared machine hits all of them alike and is filtered out."""
    common = ["--steps", str(steps), "--warmup", str(warmup)]
    results = {"batch": batch, "steps": steps, "rounds": rounds, "scaling": {},
               "bandwidth": None}
    configurations = (("1x1", 1, 1, batch), ("2x1", 2, 1, batch), ("1x2 global", 1, 2, 2 * batch))
    for model in models:
        run = {}
        for _ in range(rounds):
            for key, ranks, threads, b in configurations:
                new = _launch(ranks, threads, ["step", "--model", model, "--batch", str(b),
                                               *common])
                if key not in run or new["step_ms"] < run[key]["step_ms"]:
                    run[key] = new
        run["weak_efficiency"] = run["1x1"]["step_ms"] / run["2x1"]["step_ms"]
        run["strong_speedup"] = run["1x2 global"]["step_ms"] / run["2x1"]["step_ms"]
        run["best_weak_efficiency"] = run["1x1"]["best_step_ms"] / run["2x1"]["best_step_ms"]
        run["best_strong_speedup"] = (run["1x2 global"]["best_step_ms"]
                                      / run["2x1"]["best_step_ms"])
        results["scaling"][model] = run
    for _ in range(rounds if sizes else 0):
        rows = _launch(2, 1, ["bandwidth", "--reps", str(reps), "--sizes", *map(str, sizes)])
        best = results["bandwidth"] or rows
        results["bandwidth"] = [
            {key: max(a[key], b[key]) if "GBps" in key else min(a[key], b[key]) for key in a}
            for a, b in zip(best, rows)]
    return results


def tables(results):
    b = results["batch"]
    lines = ["| model | processes x threads | batch per process | step ms (best) | compute ms | "
             "gradient comm ms | optimizer ms | samples/s | scaling: median (best) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model, run in results["scaling"].items():
        for key, label, per, total in (("1x1", "1 x 1", b, b), ("2x1", "2 x 1 (DDP)", b, 2 * b),
                                       ("1x2 global", "1 x 2", 2 * b, 2 * b)):
            r = run[key]
            scale = {"2x1": f"weak efficiency {run['weak_efficiency']:.0%} "
                            f"({run['best_weak_efficiency']:.0%}), strong speedup "
                            f"{run['strong_speedup']:.2f}x ({run['best_strong_speedup']:.2f}x)"
                     }.get(key, "")
            lines.append(f"| {model} | {label} | {per} | {r['step_ms']:.2f} "
                         f"({r['best_step_ms']:.2f}) | "
                         f"{r['compute_ms']:.2f} | {r['comm_ms']:.2f} | {r['optimizer_ms']:.2f} "
                         f"| {1e3 * total / r['step_ms']:,.0f} | {scale} |")
    if results["bandwidth"]:
        lines += ["", "| buffer MB | xpnet all_reduce ms | algbw GB/s | busbw GB/s | "
                      "mpi4py Allreduce ms | algbw GB/s | busbw GB/s |",
                  "|---|---|---|---|---|---|---|"]
        for r in results["bandwidth"]:
            lines.append(f"| {r['MB']} | {r['xpnet_ms']:.2f} | {r['xpnet_algbw_GBps']:.2f} | "
                         f"{r['xpnet_busbw_GBps']:.2f} | {r['mpi4py_ms']:.2f} | "
                         f"{r['mpi4py_algbw_GBps']:.2f} | {r['mpi4py_busbw_GBps']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=["step", "bandwidth"], help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    parser.add_argument("--models", default="cnn,mlp")
    parser.add_argument("--batch", type=int, default=64, help="per-process batch (weak scaling)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=10, help="all-reduces per buffer size")
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES_MB),
                        help="all-reduce buffer sizes in MB (none: skip the bandwidth)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the configurations in turn this often, keep each one's best")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.worker:
        out = worker_step(args) if args.worker == "step" else worker_bandwidth(args)
        if out is not None:
            print(json.dumps(out), flush=True)
        return out
    results = measure(tuple(m for m in args.models.split(",") if m), args.batch, args.steps,
                      args.warmup, args.reps, args.sizes, args.rounds)
    print(json.dumps(results) if args.json else tables(results))
    return results


if __name__ == "__main__":
    main()
