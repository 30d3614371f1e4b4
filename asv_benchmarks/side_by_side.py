"""What the side-by-side scripts (``*_vs_torch.py``) share: thread caps, interleaved timing and
the peak memory of one step measured in a fresh process.

Each script builds ``steps``: ``{implementation: (forward, forward_backward, ...)}`` closures on
the same data, then asks here for the medians and the memory.
"""

import os
import statistics
import subprocess
import sys
import time


def set_threads(threads):
    """Cap BLAS/OpenMP threads; call before numpy or torch is imported."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def interleaved_medians(steps, repeat, burst=3):
    """Median ms per call of every ``steps[name][kind]`` that is not None.

    Rounds interleave the implementations, so all see the same machine load; within a round
    each step runs ``burst`` times after one untimed call, so it is not timed on caches the
    previous implementation just evicted.
    """
    timings = {(name, kind): [] for name, kinds in steps.items()
               for kind, step in enumerate(kinds) if step is not None}
    for _ in range(repeat):
        for name, kind in timings:
            step = steps[name][kind]
            step()
            start = time.perf_counter()
            for _ in range(burst):
                step()
            timings[name, kind].append((time.perf_counter() - start) / burst)
    return {key: 1e3 * statistics.median(values) for key, values in timings.items()}


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


def peak_memory_cells(script, threads, case, name):
    """'first | warm' MiB cells of a markdown row, measured by running ``script --memory-of
    CASE NAME`` in a fresh process (so earlier cases leave nothing behind)."""
    result = subprocess.run([sys.executable, script, "--threads", str(threads), "--memory-of",
                             case, name], capture_output=True, text=True, check=True)
    return " | ".join(f"{int(k) / 1024:.1f}" for k in result.stdout.split()[-2:])


def forward_backward_table(argv, *, script, description, cases, steps, setting,
                           implementations=("xpnet", "xpnet-twin", "torch")):
    """The command line and markdown table of a forward / forward+backward comparison with
    torch: ``steps(case, threads, check)`` gives each implementation's (forward,
    forward_backward) closures; ``setting`` describes the data for the title line."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cases", nargs="*", default=list(cases), choices=list(cases),
                        metavar="CASE")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-of", nargs=2, metavar=("CASE", "IMPLEMENTATION"),
                        help=argparse.SUPPRESS)  # the subprocess that measures one peak
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.memory_of:
        case, name = args.memory_of
        print(*peak_rss_growth(steps(case, args.threads, check=False)[name][1]))
        return

    import torch
    print(f"{setting}; threads={args.threads}; median of {args.repeat}; torch "
          f"{torch.__version__}; xpnet-twin = fast paths off (the standard-only kernels)")
    print("| case | impl | forward ms | fwd+bwd ms | forward / torch | fwd+bwd / torch "
          "| peak MiB, first fwd+bwd | peak MiB, warm |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for case in args.cases:
        times = interleaved_medians(steps(case, args.threads, check=True), args.repeat)
        for name in implementations:
            memory = " | "
            if not args.no_memory:
                memory = peak_memory_cells(script, args.threads, case, name)
            forward, both = times[name, 0], times[name, 1]
            print(f"| {case} | {name} | {forward:.2f} | {both:.2f} "
                  f"| {forward / times['torch', 0]:.2f} | {both / times['torch', 1]:.2f} "
                  f"| {memory} |", flush=True)
