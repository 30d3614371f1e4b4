"""Threads for the NumPy fast paths that split their work into blocks (attention, the norms).

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
    workers = pool(threads)
    with _blas().limit(limits=1):
        for future in [workers.submit(_run_serial, work, blocks[i::threads])
                       for i in range(threads)]:
            future.result()


def run_shared(work, blocks):
    """``work(block)`` for every block on `thread_count` threads, as `run_blocks`,
    except that the calling thread works too, each thread takes the next block as it comes
    free, and the call returns once every block is done, without waiting for a helper that
    has not started. On a loaded machine (here 2 cores shared with other processes) a pool
    thread can wake milliseconds late: with fixed shares the call waited for it (a 0.6 ms
    group norm took 1.3-3.7 ms on two threads); here the caller takes its blocks, and a helper
    that wakes to an empty queue does nothing. The kernels call no BLAS, so none is limited."""
    threads = min(thread_count(), len(blocks))
    if threads <= 1:
        for block in blocks:
            work(block)
        return
    queue = iter(blocks)  # next() on a list iterator is atomic under the GIL
    lock = threading.Lock()
    unfinished = [len(blocks)]
    done = threading.Event()
    errors = []

    def drain():
        for block in queue:
            try:
                work(block)
            except BaseException as error:  # raised in the caller, once all blocks are done
                errors.append(error)
            with lock:
                unfinished[0] -= 1
                if not unfinished[0]:
                    done.set()
    workers = pool(threads - 1)
    for _ in range(threads - 1):
        workers.submit(drain)
    drain()
    done.wait()
    if errors:
        raise errors[0]


def _run_serial(work, blocks):
    for index in blocks:
        work(index)


def pool(threads):
    """A process-wide pool of ``threads`` workers, made once and reused (for kernels that
    schedule their own work, as the recurrent loops' shared steps)."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="xpnet-kernel")
    return pool
