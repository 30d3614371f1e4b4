"""Threads for the NumPy fast paths that split their work into blocks (attention, the norms,
the numba loops, large matrix products: `matmul`).

The thread count is the BLAS's (what ``xpnet.set_num_threads`` or the environment set), so a
kernel uses as many cores as a matmul would. Blocks are shared out among that many threads: the
calling thread and the helpers of a process-wide `_Team`. NumPy's matmul and ufuncs, and numba
functions compiled with ``nogil``, release the GIL, so the threads run concurrently.

Why a team of our own, not a ``concurrent.futures`` pool: the kernels here take 0.1-1 ms, and a
pool's hand-off cost ~45 us a call (a submit, a future, a lock, and a helper asleep on a futex,
which on these VMs wakes slowly: its virtual CPU is halted). A helper of the team, once its task
is done, spins for the next one for `SPIN_NS` in a numba ``nogil`` loop on an int64
"generation" counter (as an OpenMP runtime's threads do between parallel regions), and only
then sleeps on a condition; the caller publishes the task (the callable and its blocks), bumps
the counter, works on blocks itself and waits, spinning, for the blocks the helpers took. One
caller uses the team at a time: a second Python thread calling in meanwhile (a data loader's),
or a block that itself calls `run_shared`, runs its blocks in its own thread, so nothing waits
on anything but blocks already being run.

Row loops compiled with numba go through `run_compiled` instead, which runs them on numba's own
threads where its threading layer is OpenMP or TBB: there the hand-off needs no GIL at all.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:
    from . import numba_atomics
    from .numba_atomics import GIVE_WAY
    _spin_while = numba_atomics.spin_while
    _wait_sum = numba_atomics.wait_sum
except (ImportError, AttributeError):  # no numba: the helpers block on the condition at once
    GIVE_WAY = _spin_while = _wait_sum = None

# How long a helper spins for its next task before it sleeps. Measured on the 2-vCPU VMs these
# kernels are tuned on: a spinning helper saw a new task 2-6 us after it was published (back in
# Python, GIL taken, 8-18 us); one woken from a futex 13 us after at best, and a
# concurrent.futures hand-off cost ~45 us a call. The kernels that share blocks follow each
# other within a training step every 10-500 us; libgomp (PyTorch's threads) spins 300,000
# pauses (~0.3-10 ms) by default. 1 ms covers the gaps between the ops of a step, and costs an
# idle process at most 1 ms of a core after its last kernel.
SPIN_NS = 1_000_000
# Once a helper sees a new task it pauses this long before it asks for the GIL: the caller holds
# the GIL from publishing the task until its own first block's numba call releases it (~2-4 us
# of Python), and a thread that asks for a GIL another holds sleeps on a futex (tens of us to
# wake here, and the scheduler may then queue it behind the caller on the caller's vCPU).
SETTLE_NS = 5_000
_STRIDE = 8  # int64 counters 64 bytes apart: each on a cache line of its own

# Products of at least this many multiply-adds are split among threads by `matmul` (unless the
# caller says otherwise). Alone, the BLAS's own threads multiply faster (2 threads: 128 x 784 x
# 512 0.48 against 0.61 ms on the team, 256 x 4096 x 256 2.1 against 4.0; from 4096 x 256 x 768
# on, on par), and an MLP's step (784-512-512-10, batch 128) took 4.4-5.0 ms with them against
# 6.6-7.1 on the team; above this size the products are long enough for the spin after them to
# cost more than the split. Each block keeps at least _MATMUL_MIN_SIDE rows (or columns), for
# the BLAS kernels' register tiles. One block a thread: each block's BLAS call packs the whole
# of the other operand again, and with two a thread (so that a helper that starts late would
# even out) the Transformer encoder layer's products took 2-4% longer alone (4096 x 256 x 2048:
# 13.1 against 12.9 ms, 4096 x 2048 x 256: 14.2-14.9 against 13.8-14.2), its forward at 2
# threads in attention_vs_torch.py 50.9-51.3 against 49.7-49.9 ms, forward+backward 158-161
# against 152-157, and a 2-layer LSTM's forward+backward 32.5-33.5 against 30.7-32.1.
_MATMUL_SPLIT_FROM = 1 << 28
_MATMUL_MIN_SIDE = 32
_MATMUL_BLOCKS_PER_THREAD = 1

_blas_controller = None
_blas_threads = None
_blas_libraries = None
_pools = {}
_pools_lock = threading.Lock()
_teams = {}
_teams_lock = threading.Lock()


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
    """How many threads the BLAS may use now (1 without threadpoolctl). Asked of the library
    each call (~0.4 us; a cached count would miss a user's ``threadpool_limits`` block)."""
    global _blas_threads
    if _blas_threads is None:
        controller = _blas()
        libs = [] if controller is None else list(controller.lib_controllers)
        _blas_threads = [lib.get_num_threads for lib in libs]
    if not _blas_threads:
        return 1
    if len(_blas_threads) == 1:
        return _blas_threads[0]() or 1
    return max(get() or 1 for get in _blas_threads)


def _blas_setters():
    """Each loaded BLAS's (getter, setter) of its thread count: threadpoolctl's, called
    directly (~1 us, where its ``limit()`` context takes ~50)."""
    global _blas_libraries
    if _blas_libraries is None:
        controller = _blas()
        libs = [] if controller is None else list(controller.lib_controllers)
        _blas_libraries = [(lib.get_num_threads, lib.set_num_threads) for lib in libs]
    return _blas_libraries


def _blas_on_one_thread():
    """Set every BLAS to one thread; returns what `_restore_blas` needs to undo it."""
    previous = [(get(), set_threads) for get, set_threads in _blas_setters()]
    for _, set_threads in previous:
        set_threads(1)
    return previous


def _restore_blas(previous):
    for count, set_threads in previous:
        set_threads(count)


def run_blocks(work, blocks):
    """``work(block)`` for every block on `thread_count` threads, as `run_shared`, with the
    BLAS held at one thread meanwhile (for blocks that call matmuls: the products inside a
    block are too small to split, and OpenBLAS splitting each of them costs more than it
    gains; its threads spin between hundreds of calls)."""
    threads = thread_count()  # read before the limit, which makes it 1
    if len(blocks) <= 1 or threads <= 1:
        for block in blocks:
            work(block)
        return
    previous = _blas_on_one_thread()
    try:
        run_shared(work, blocks, threads)
    finally:
        _restore_blas(previous)


def matmul(a, b, out=None, split_from=None):
    """``np.matmul(a, b, out=out)`` for 2-D ``a`` (m, k) and ``b`` (k, n), split by rows (or,
    when n > m, columns) of the product among `thread_count` threads of the team, each calling
    the BLAS on one thread.

    Why not the BLAS's own threads: once a threaded call is done, OpenBLAS's threads spin for
    ~0.1 s (its THREAD_TIMEOUT, 2**28 cycles, fixed when it loads) waiting for the next one,
    and take the second core from whatever parallel kernel follows: at 2 threads, inside a
    Transformer encoder layer the attention kernels ran at 1.07x their one-thread speed, and a
    two-layer LSTM's backward, whose time steps two threads share, lost a third. With every
    large product on the team, the BLAS's threads stay asleep and the team's helpers, which
    spin only 1 ms, serve both. Products below ``split_from`` multiply-adds (default
    `_MATMUL_SPLIT_FROM`), or with the team busy (another Python thread, a call from inside a
    block), go to NumPy as they are."""
    (m, k), n = a.shape, b.shape[1]
    if m * n * k < (_MATMUL_SPLIT_FROM if split_from is None else split_from):
        return np.matmul(a, b, out=out)  # before asking the BLAS its thread count (~0.4 us)
    threads = thread_count()
    by_rows = m >= n
    parts = min(_MATMUL_BLOCKS_PER_THREAD * threads, (m if by_rows else n) // _MATMUL_MIN_SIDE)
    if threads <= 1 or parts < 2:
        return np.matmul(a, b, out=out)
    team = _team(threads - 1)
    if not team.busy.acquire(blocking=False):
        return np.matmul(a, b, out=out)
    try:
        if out is None:
            out = np.empty((m, n), dtype=np.result_type(a, b))
        cuts = [(m if by_rows else n) * i // parts for i in range(parts + 1)]
        if by_rows:
            def work(i):
                np.matmul(a[cuts[i]:cuts[i + 1]], b, out=out[cuts[i]:cuts[i + 1]])
        else:
            def work(i):
                np.matmul(a, b[:, cuts[i]:cuts[i + 1]], out=out[:, cuts[i]:cuts[i + 1]])
        previous = _blas_on_one_thread()
        try:
            team.run(work, list(range(parts)))
        finally:
            _restore_blas(previous)
    finally:
        team.busy.release()
    return out


def run_shared(work, blocks, threads=None):
    """``work(block)`` for every block on `thread_count` threads (``threads`` when given): the
    calling thread and `_Team` helpers each take the next block as it comes free, and the call
    returns once every block is done. A helper that wakes late finds the blocks taken and does
    nothing: the caller never waits for a helper that has not started (on a loaded machine, here
    2 cores shared with other processes, one can wake milliseconds late). The first exception
    a block raises is raised here, once every block taken has finished."""
    if threads is None:
        threads = thread_count()
    threads = min(threads, len(blocks))
    if threads <= 1:
        for block in blocks:
            work(block)
        return
    team = _team(threads - 1)
    if not team.busy.acquire(blocking=False):  # in use by another thread, or by this one
        for block in blocks:
            work(block)
        return
    try:
        team.run(work, blocks)
    finally:
        team.busy.release()


def run_compiled(parallel, args, bounds, kernel=None):
    """``parallel(*args, bounds)`` for a numba function compiled with ``parallel=True`` (see
    `numba_jit.parallel`) whose body is ``for i in numba.prange(len(bounds)): ...`` over the
    blocks of ``bounds`` (`block_bounds`), an int64 (blocks, 3) array of (start, stop, block
    number): a loop that keeps something per block (partial sums) indexes it by the number,
    bounds[i, 2], not by ``i``.

    Where numba's own threads serve (an OpenMP or TBB layer, `numba_threads_serve`; and the
    team has not run a task in the last 20 ms, `_team_hot`), the blocks run on them without
    the GIL: the whole hand-off happens in compiled code. A team hand-off takes the GIL twice,
    and on these 2-vCPU VMs a thread that waits for the GIL sleeps and may be woken onto the
    busy vCPU: sub-millisecond passes gained little from a second thread (a (4096, 256)
    LayerNorm forward: 0.31 ms on one thread, 0.48 through the team, 0.18 on numba's).
    Elsewhere (numba's workqueue layer, whose threads sleep between calls; a forked child of a
    process that used GNU OpenMP, which numba would terminate; ``XPNET_NUMBA_THREADS=0``) each
    block is one `run_shared` block, running the loop's Python form (``parallel.py_func``) over
    its rows, the inner kernels compiled as before.

    ``kernel``, where the loop's body is ``kernel(*args, bounds[i, 0], bounds[i, 1])``: a
    single block calls it directly rather than through the loop's Python form, whose range and
    array scalars cost 2-3 us a call after a kernel has flushed the caches (an EmbeddingBag
    forward of 80 us)."""
    blocks = len(bounds)
    if blocks == 1 and kernel is not None:
        start, stop = bounds[0, :2].tolist()
        kernel(*args, start, stop)
        return
    threads = min(thread_count(), blocks) if blocks > 1 else 1
    if threads <= 1:
        parallel.py_func(*args, bounds)
        return
    numba_threads = None if _team_hot(threads) else _numba_threads(threads)
    if numba_threads:
        numba_threads(threads)
        parallel(*args, bounds)
        return
    # Each block on its own: a one-row bounds, whose row keeps the block's number.
    run_shared(lambda i: parallel.py_func(*args, bounds[i:i + 1]), range(blocks), threads)


def block_bounds(rows, parts=None, *, cuts=None):
    """(start, stop, block number) of ``parts`` near-equal blocks of ``rows`` (or of the blocks
    between ``cuts``, a sorted list from 0 to ``rows``), as `run_compiled` takes them.
    Read-only: made once per size, as making them took 11 us of a 30 us LayerNorm call."""
    if cuts is not None:
        return _bounds_array(cuts)
    bounds = _bounds.get((rows, parts))
    if bounds is None:
        bounds = _bounds_array([rows * k // parts for k in range(parts + 1)])
        if len(_bounds) > 256:
            _bounds.clear()
        _bounds[rows, parts] = bounds
    return bounds


_bounds = {}


def _bounds_array(cuts):
    blocks = len(cuts) - 1
    bounds = np.array([(cuts[k], cuts[k + 1], k) for k in range(blocks)],
                      dtype=np.int64).reshape(blocks, 3)
    bounds.flags.writeable = False
    return bounds


# numba's threads: None until first asked, then numba.set_num_threads where its layer serves
# (OpenMP or TBB), else False. Not in a forked child of a process that launched GNU OpenMP.
_numba_setter = None
_numba_most = 1
_numba_layer = None
# How long numba's OpenMP threads spin for the next region before they sleep, in pauses, set
# when xpnet launches them (a user's GOMP_SPINCOUNT or OMP_WAIT_POLICY wins): libgomp's default,
# 300,000 pauses (~6 ms on the 2-vCPU VMs, where a spin loop's pause takes ~19 ns; several
# times that on cores with 140 ns pauses), keeps a core busy long after the last kernel, from
# the team's helpers and the BLAS's threads. 20,000 is 0.4-3 ms, about the team's own spin.
_GOMP_SPINCOUNT = "20000"


def numba_threads_serve(threads=None):
    """Whether `run_compiled` runs blocks on numba's threads (no GIL hand-off: a few
    microseconds a call, where a team hand-off costs tens), for ``threads`` threads (default
    `thread_count`). Kernels split smaller inputs when it does."""
    if threads is None:
        threads = thread_count()
    return threads > 1 and not _team_hot(threads) and _numba_threads(threads) is not None


# How recently the team must have run a task for `run_compiled` to keep to it (see _team_hot).
_TEAM_HOT_NS = 20_000_000


def _team_hot(threads):
    """Whether the team ran a task in the last `_TEAM_HOT_NS` (20 ms): then `run_compiled`
    gives its blocks to the team too, so that one set of threads serves a workload that already
    uses the team (large products, attention) and numba's threads serve the rest. Mixing them
    cost more than numba's threads saved: a Transformer encoder layer's forward at 2 threads,
    timed after PyTorch's, took 55.8 ms with every loop on the team and 66-74 with its norms
    and Linear epilogues on numba's threads (the team's products and attention after them
    ran 15-40% slower); keeping to a team used in the last 1 ms (its helpers' spin) still
    gave 61-66, as the norms follow a residual add; with 20 ms, 56.1. Alone, a LayerNorm or an
    EmbeddingBag at 2 threads is faster on numba's threads."""
    team = _teams.get(threads - 1)
    return team is not None and time.perf_counter_ns() - team.finished < _TEAM_HOT_NS


def _numba_threads(threads):
    """numba.set_num_threads where numba's threads can run ``threads`` of `run_compiled`'s
    blocks, else None."""
    global _numba_setter
    if _numba_setter is None:
        with _teams_lock:  # once, and one thread at a time sets GOMP_SPINCOUNT around it
            if _numba_setter is None:
                _numba_setter = _launch_numba_threads()
    return _numba_setter if _numba_setter and threads <= _numba_most else None


def _launch_numba_threads():
    """numba.set_num_threads once numba's threads are launched with a layer whose threads spin
    between calls (OpenMP, TBB), else False: no numba, its workqueue layer, or
    ``XPNET_NUMBA_THREADS=0`` in the environment (for a program whose forked children run
    numba's own parallel code: numba terminates such a child of a process that ran GNU
    OpenMP)."""
    global _numba_most
    if os.environ.get("XPNET_NUMBA_THREADS", "").strip() == "0":
        return False
    try:
        import numba
        from numba.np.ufunc import parallel
    except ImportError:
        return False
    added = "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ
    if added:
        os.environ["GOMP_SPINCOUNT"] = _GOMP_SPINCOUNT
    try:
        parallel._launch_threads()
        layer = numba.threading_layer()
    except (ValueError, RuntimeError, OSError):
        return False
    finally:
        if added:
            del os.environ["GOMP_SPINCOUNT"]
    if layer not in ("omp", "tbb"):
        return False
    global _numba_layer
    _numba_most, _numba_layer = numba.config.NUMBA_NUM_THREADS, layer
    return numba.set_num_threads


class _Task:
    """One `run_shared` call's blocks: a queue, and per thread the count of blocks it finished
    (a numpy array the caller's numba wait reads without the GIL)."""
    __slots__ = ("work", "queue", "done", "errors")

    def __init__(self, work, blocks, helpers):
        self.work = work
        self.queue = iter(blocks)  # next() on a list iterator is atomic under the GIL
        self.done = np.zeros(helpers * _STRIDE, dtype=np.int64)
        self.errors = []

    def drain(self):
        """Run blocks until none are left; returns how many this thread ran."""
        work, errors = self.work, self.errors
        count = 0
        for block in self.queue:
            try:
                work(block)
            except BaseException as error:  # raised in the caller, once all blocks are done
                errors.append(error)
            count += 1
        return count


class _Team:
    """``helpers`` daemon threads that run the blocks of one caller's `run_shared` at a time."""

    def __init__(self, helpers):
        self.helpers = helpers
        self.busy = threading.Lock()
        self.state = np.zeros(_STRIDE, dtype=np.int64)  # state[0]: the task's generation
        self.task = None
        self.stopping = False
        self.sleeping = 0
        self.wake = threading.Condition(threading.Lock())
        self.spins, self.settle = _spins()
        self.finished = 0  # perf_counter_ns when the last task was done (see `_team_hot`)
        for i in range(helpers):
            threading.Thread(target=self._serve, args=(i * _STRIDE,), daemon=True,
                             name=f"xpnet-kernel-{i}").start()

    def run(self, work, blocks):
        task = _Task(work, blocks, self.helpers)
        self.task = task
        # Only the holder of `busy` writes the generation, under the GIL, as the helpers read
        # `sleeping` and the generation under it: a helper going to sleep sees the new
        # generation, or is counted in `sleeping` before it is read here.
        self.state[0] += 1
        if self.sleeping:
            with self.wake:
                self.wake.notify_all()
        mine = task.drain()  # the helpers count theirs in task.done
        # Every block is taken: wait for those the helpers took. (A KeyboardInterrupt raised in
        # a block is raised below like any error; one raised between blocks leaves the rest to
        # the helpers, and nothing waits for them.)
        if _wait_sum is not None:
            _wait_sum(task.done, self.helpers, _STRIDE, len(blocks) - mine, GIVE_WAY)
        else:
            while int(task.done[::_STRIDE].sum()) < len(blocks) - mine:
                time.sleep(0)
        self.task = None
        self.finished = time.perf_counter_ns()
        if task.errors:
            raise task.errors[0]

    def _serve(self, slot):
        seen, task, count = 0, None, 0
        state, nothing = self.state, np.zeros(1, dtype=np.int64)
        while True:
            # The blocks run are counted in their task's `done` as this thread stops holding
            # the GIL, in `spin_while`: the caller, waiting for them, then finds the GIL free.
            done, at = (task.done, slot) if task is not None else (nothing, 0)
            task = None
            if self.spins:
                now = _spin_while(state, 0, seen, self.spins, self.settle, GIVE_WAY,
                                  done, at, count)
            else:
                done[at] += count
                now = seen
            if now == seen:
                with self.wake:
                    self.sleeping += 1
                    while state[0] == seen and not self.stopping:
                        self.wake.wait()
                    self.sleeping -= 1
                now = int(state[0])
            if self.stopping:
                return
            seen = now
            task = self.task
            count = task.drain() if task is not None else 0

    def stop(self):
        self.stopping = True
        self.state[0] += 1
        with self.wake:
            self.wake.notify_all()


def _spins():
    """Pauses of `numba_atomics.spin_while` in `SPIN_NS` (timed here once: a pause takes
    ~10 ns on some x86 cores, ~40-140 ns on others)."""
    if _spin_while is None or GIVE_WAY is None:
        return 0, 0
    probe = np.zeros(1, dtype=np.int64)
    _spin_while(probe, 0, 0, 1, 0, GIVE_WAY, probe, 0, 0)  # compiled (or loaded) first
    spins = 20_000
    start = time.perf_counter_ns()
    _spin_while(probe, 0, 0, spins, 0, GIVE_WAY, probe, 0, 0)
    per_spin = max(time.perf_counter_ns() - start, 1) / spins
    return max(1, int(SPIN_NS / per_spin)), int(SETTLE_NS / per_spin)


def _team(helpers):
    team = _teams.get(helpers)
    if team is None:
        with _teams_lock:
            team = _teams.get(helpers)
            if team is None:
                team = _teams[helpers] = _Team(helpers)
    return team


@atexit.register
def _stop_teams():
    """Let the helpers return at exit (they are daemon threads: exit never waits for them)."""
    for team in list(_teams.values()):
        team.stop()


def _forget_teams():
    """In a forked child the helpers do not exist: start new ones on demand. Nor may numba's
    OpenMP threads be used there (numba terminates a forked child of a process that ran GNU
    OpenMP): its blocks go to the team."""
    global _teams_lock, _numba_setter
    _teams.clear()
    _teams_lock = threading.Lock()
    if _numba_layer == "omp":
        _numba_setter = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_teams)


def pool(threads):
    """A process-wide ``concurrent.futures`` pool of ``threads`` workers, made once and reused
    (for kernels that schedule their own work, as the recurrent loops' shared steps)."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="xpnet-kernel")
    return pool
