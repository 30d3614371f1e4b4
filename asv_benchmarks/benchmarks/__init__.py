"""asv benchmarks for xpnet; see ``asv_benchmarks/README.md`` for how to run them offline.

Importing this package limits BLAS and OpenMP to ``XPNET_BENCH_THREADS`` threads (default 1).
These benchmarks track xpnet's own cost across commits. A multi-threaded BLAS on a small shared
machine stalls whenever another process holds a core: on the 2-core CI VM a 256x256 float32
matmul went from 0.2 ms to a 20 ms median with one core busy, which drowns that signal.
"""

import ctypes
import os

THREADS = os.environ.get("XPNET_BENCH_THREADS", "1")

# torch (and MKL/OpenMP builds) read these when first imported, which happens after this.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = THREADS


def _limit_loaded_openblas(n):
    """Set the thread count of any OpenBLAS already loaded (asv's runner imports numpy, through
    pympler, before this package, so the environment variable comes too late for it)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux: leave the library's default
        return
    for path in paths:
        lib = ctypes.CDLL(path)
        # numpy's wheels bundle scipy-openblas, whose symbols carry a prefix and suffix.
        for symbol in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                       "openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                break


_limit_loaded_openblas(int(THREADS))
