"""What the side-by-side scripts (``*_vs_torch.py``) share: thread caps, interleaved timing and
the peak memory of one step measured in a fresh process.

Each script builds ``steps``: ``{implementation: (forward, forward_backward, ...)}`` closures on
the same data, then asks here for the medians and the memory.

``--backend`` picks xpnet's backend (default numpy; cupy on a GPU machine, array_api_strict as
the CPU stand-in for a non-NumPy backend: its timings mean nothing, but it runs the code path a
GPU backend runs). Fast paths are those of that backend. ``--torch-device`` says where torch
runs: ``cpu`` (the default), ``cuda``, or ``auto`` (cuda when the backend is cupy and torch
sees a GPU, else cpu). Work queued on a GPU is waited for before each timer stops.
"""

import math
import os
import statistics
import subprocess
import sys
import time


def set_threads(threads):
    """Cap BLAS/OpenMP threads; call before numpy or torch is imported."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def add_device_arguments(parser):
    """``--backend`` (xpnet's) and ``--torch-device`` (torch's), as the module docstring says."""
    parser.add_argument("--backend", default="numpy",
                        help="xpnet backend: numpy (default), cupy, array_api_strict, torch...")
    parser.add_argument("--torch-device", default="cpu", choices=["cpu", "cuda", "auto"],
                        help="where torch runs: cpu (default), cuda, or auto (cuda when "
                             "--backend is cupy and torch sees a GPU)")


def torch_device(backend, requested):
    """'cpu' or 'cuda': where torch runs for ``--backend backend --torch-device requested``.
    On CUDA, float32 matmuls and convolutions are kept exact (no TF32), as CuPy's are, so
    both sides compute the same numbers."""
    import torch

    if requested == "auto":
        requested = "cuda" if backend.startswith("cupy") and torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--torch-device cuda: torch sees no CUDA GPU")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return requested


def synchronizer(backend, device):
    """A function that waits for the work queued on xpnet's backend and on torch's device
    (a no-op on CPUs), so that a timer stops when the work is done, not when it is queued."""
    waits = []
    if backend.startswith("cupy"):
        from xpnet.backend import load
        waits.append(load(backend).synchronize)
    if device == "cuda":
        import torch
        waits.append(torch.cuda.synchronize)

    def sync():
        for wait in waits:
            wait()
    return sync


def interleaved_medians(steps, repeat, burst=3, sync=None, window=2e-3):
    """Median ms per call of every ``steps[name][kind]`` that is not None.

    Rounds interleave the implementations, so all see the same machine load; within a round
    each step runs ``burst`` times, or as many more as fill ``window`` seconds, after one
    untimed call, so it is not timed on caches the previous implementation just evicted. The
    window times a 0.1 ms call (an embedding lookup) over some 2 ms rather than 0.3, where one
    interruption of the machine weighs less. It is counted on a second untimed call of the
    first round: the first, on cold caches, took 0.5 ms for a 0.1 ms lookup, which made the
    bursts 4 calls long. ``sync`` (see `synchronizer`) is called before the timer starts and
    before it stops.
    """
    sync = sync or (lambda: None)
    timings = {(name, kind): [] for name, kinds in steps.items()
               for kind, step in enumerate(kinds) if step is not None}
    bursts = {}
    for _ in range(repeat):
        for key in timings:
            step = steps[key[0]][key[1]]
            step()
            sync()
            if key not in bursts:
                start = time.perf_counter()
                step()
                sync()
                once = max(time.perf_counter() - start, 1e-7)
                bursts[key] = max(burst, min(200, math.ceil(window / once)))
            calls = bursts[key]
            start = time.perf_counter()
            for _ in range(calls):
                step()
            sync()
            timings[key].append((time.perf_counter() - start) / calls)
    return {key: 1e3 * statistics.median(values) for key, values in timings.items()}


def assert_same_gradients(pairs, label, rtol=1e-4):
    """Each (xpnet tensor, torch tensor) pair equal within ``rtol`` of the torch side's largest
    magnitude, so that a table never times a wrong result."""
    import numpy as np

    for got, want in ((g.numpy(), t.detach().cpu().numpy()) for g, t in pairs):
        scale = float(np.max(np.abs(want)))
        assert np.max(np.abs(got - want)) <= rtol * scale, label


def _rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss_growth(step):
    """KiB by which the first call of ``step``, then three warm calls, raise the peak RSS above
    the RSS before them, in this process (Linux: the peak is reset through clear_refs). The
    first includes whatever is loaded or kept for later calls (modules, scratch buffers)."""
    growth = []
    for calls in (1, 3):
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # reset VmHWM to the current RSS
        before = _rss_kib("VmRSS")
        for _ in range(calls):
            step()
        growth.append(_rss_kib("VmHWM") - before)
    return growth


def peak_memory_cells(script, threads, case, name, backend="numpy"):
    """'first | warm' MiB cells of a markdown row, measured by running ``script --memory-of
    CASE NAME`` in a fresh process (so earlier cases leave nothing behind)."""
    result = subprocess.run([sys.executable, script, "--threads", str(threads), "--backend",
                             backend, "--memory-of", case, name],
                            capture_output=True, text=True, check=True)
    return " | ".join(f"{int(k) / 1024:.1f}" for k in result.stdout.split()[-2:])


def forward_backward_table(argv, *, script, description, cases, steps, setting,
                           implementations=("xpnet", "xpnet-twin", "torch")):
    """The command line and markdown table of a forward / forward+backward comparison with
    torch: ``steps(case, threads, check, backend=, device=)`` gives each implementation's
    (forward, forward_backward) closures, xpnet's on ``backend`` and torch's on ``device``;
    ``setting`` describes the data for the title line."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cases", nargs="*", default=list(cases), choices=list(cases),
                        metavar="CASE")
    parser.add_argument("--no-memory", action="store_true")
    add_device_arguments(parser)
    parser.add_argument("--memory-of", nargs=2, metavar=("CASE", "IMPLEMENTATION"),
                        help=argparse.SUPPRESS)  # the subprocess that measures one peak
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.memory_of:
        case, name = args.memory_of
        print(*peak_rss_growth(steps(case, args.threads, check=False,
                                     backend=args.backend)[name][1]))
        return

    import torch
    device = torch_device(args.backend, args.torch_device)
    # The peak RSS sees host memory only: on a GPU it would measure nothing useful.
    no_memory = args.no_memory or args.backend.startswith("cupy") or device != "cpu"
    print(f"{setting}; threads={args.threads}; median of {args.repeat}; xpnet on "
          f"{args.backend}, torch {torch.__version__} on {device}; xpnet-twin = fast paths off "
          f"(the standard-only kernels)")
    print(f"| case | impl | forward ms | fwd+bwd ms | forward / torch-{device} "
          f"| fwd+bwd / torch-{device} | peak MiB, first fwd+bwd | peak MiB, warm |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for case in args.cases:
        case_steps = steps(case, args.threads, check=True, backend=args.backend, device=device)
        times = interleaved_medians(case_steps, args.repeat,
                                    sync=synchronizer(args.backend, device))
        for name in implementations:
            memory = " | "
            if not no_memory:
                memory = peak_memory_cells(script, args.threads, case, name, args.backend)
            forward, both = times[name, 0], times[name, 1]
            print(f"| {case} | {name} | {forward:.2f} | {both:.2f} "
                  f"| {forward / times['torch', 0]:.2f} | {both / times['torch', 1]:.2f} "
                  f"| {memory} |", flush=True)
