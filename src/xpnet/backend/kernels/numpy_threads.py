"""Threads for the NumPy fast paths that split their work into blocks (attention, layer norm).

The thread count is the BLAS's (what ``xpnet.set_num_threads`` or the environment set), so a
kernel uses as many cores as a matmul would. Blocks are shared out among that many Python
threads of a process-wide pool, each running BLAS single-threaded: the products inside a
block are too small to split, and OpenBLAS splitting each of them costs more than it gains
(its threads spin between hundreds of calls). NumPy's matmul and ufuncs, and numba functions
compiled with ``nogil``, release the GIL, so the threads run concurrently.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_blas_controller = None
_pools = {}
_pools_lock = threading.Lock()


def _blas():
    """threadpoolctl's handle on the loaded BLAS, or None without threadpoolctl."""
    global _blas_controller
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas_controller = False
        else:
            _blas_controller = ThreadpoolController().select(user_api="blas")
    return _blas_controller or None


def thread_count():
    """How many threads the BLAS may use now (1 without threadpoolctl)."""
    controller = _blas()
    if controller is None:
        return 1
    return max((lib.num_threads for lib in controller.lib_controllers), default=1)


def run_blocks(work, blocks):
    """``work(block)`` for every block, on `thread_count` threads (in this thread when 1)."""
    threads = thread_count() if len(blocks) > 1 else 1
    if threads <= 1:
        for index in blocks:
            work(index)
        return
    pool = _pool(threads)
    with _blas().limit(limits=1):
        for future in [pool.submit(_run_serial, work, blocks[i::threads])
                       for i in range(threads)]:
            future.result()


def _run_serial(work, blocks):
    for index in blocks:
        work(index)


def _pool(threads):
    """A process-wide pool of ``threads`` workers, made once and reused."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="xpnet-kernel")
    return pool
