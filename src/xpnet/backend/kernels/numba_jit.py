"""How xpnet's numba fast paths compile: one decorator for every numba_*.py kernel module."""

from __future__ import annotations

try:
    import numba
except ImportError:  # the library works without the fast extra; nothing here is called then
    numba = None


def compiled(fn=None, **options):
    """``numba.njit`` without the GIL and with NumPy's error model (a division by zero gives
    inf or nan, as in the twins), caching the machine code on disk where it can: only the first
    run pays the compile. Where no folder is writable (numba: "no locator available") it
    compiles once per process instead of failing the import of every fast path. Use it as
    ``@compiled`` or ``@compiled(fastmath=...)``; ``options`` go to ``numba.njit``."""
    if fn is None:
        return lambda fn: compiled(fn, **options)
    options = {"nogil": True, "error_model": "numpy", **options}
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(cache=False, **options)(fn)


def parallel(fn=None, **options):
    """`compiled` with ``parallel=True``: for the block loops that `numpy_threads.run_compiled`
    runs on numba's threads (``for i in numba.prange(len(bounds))``, one call of a `compiled`
    row kernel per block). Cached on disk as `compiled` is."""
    if fn is None:
        return lambda fn: parallel(fn, **options)
    return compiled(fn, parallel=True, **options)
