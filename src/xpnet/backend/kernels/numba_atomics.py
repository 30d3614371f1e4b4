"""Atomic counters for numba code that several threads run at once (numba has atomics for CUDA
only): `fetch_add` and `load` on an int64 array element, sequentially consistent, and
`wait_until`, a spin that yields its core once it has spun a while.

Why: the recurrent loops share each time step's work among threads (`numba_recurrent`), which
claim blocks of it (`claim`) and wait for the step's last block before the next step
(`wait_round`); a pool call per step would cost more than a block (a step of an LSTM layer is
~150 us).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

try:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
except ImportError:  # the library works without the fast extra
    numba = None

from .numba_jit import compiled

_SPINS = 2000  # pauses (~40 ns each here) before a waiting thread starts yielding its core
# While a pool thread spins for its next task (`spin_while`), it gives its core away once in
# this many pauses: a thread of another pool (PyTorch's OpenMP) waiting for the core gets it
# within ~2.5 us instead of at the end of a scheduler slice (ms).
_YIELD_EVERY = 64
ROUND = 32  # int64 counters a round of `claim` takes: 4, each on a cache line of its own


def _sched_yield():
    """libc's sched_yield as a ctypes function, or None. Passed to `wait_until` as an
    argument: a ctypes function held in a global would stop numba caching the loops."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = libc.sched_yield
    except (OSError, AttributeError):
        return None
    function.restype, function.argtypes = ctypes.c_int, []
    return function


GIVE_WAY = _sched_yield()
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


if numba is not None:
    def _element(context, builder, array_type, array, index):
        data = context.make_array(array_type)(context, builder, array).data
        return builder.gep(data, [index])

    def _int64_array(array):
        return isinstance(array, types.Array) and array.dtype == types.int64

    @intrinsic
    def fetch_add(typingctx, array, index, value):
        """array[index] += value, atomically; returns the value before."""
        if not _int64_array(array):
            return None
        sig = types.int64(array, types.intp, types.int64)

        def codegen(context, builder, signature, args):
            pointer = _element(context, builder, signature.args[0], args[0], args[1])
            return builder.atomic_rmw("add", pointer, args[2], "seq_cst")

        return sig, codegen

    @intrinsic
    def load(typingctx, array, index):
        """array[index], read atomically (never hoisted out of a loop)."""
        if not _int64_array(array):
            return None
        sig = types.int64(array, types.intp)

        def codegen(context, builder, signature, args):
            pointer = _element(context, builder, signature.args[0], args[0], args[1])
            return builder.load_atomic(pointer, "seq_cst", 8)

        return sig, codegen

    @intrinsic
    def _pause(typingctx):
        """x86's spin-wait hint (nothing elsewhere)."""
        def codegen(context, builder, signature, args):
            if _X86:
                function = cgutils.get_or_insert_function(
                    builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
                builder.call(function, [])
            return context.get_dummy_value()

        return types.void(), codegen

    @compiled
    def wait_until(array, index, target, give_way):
        """Spin until array[index] >= target, calling give_way() (`GIVE_WAY`) between
        checks once it has spun `_SPINS` times."""
        spins = 0
        while load(array, index) < target:
            if spins < _SPINS:
                _pause()
                spins += 1
            else:
                give_way()

    @compiled
    def claim(counters, at, count, front):
        """The next block of a round of ``count`` whose counters start at counters[at] (zeros
        at first, `ROUND` of them), or -1 once all are taken: from the front for ``front``,
        else from the back. A thread that always takes the same end keeps the same blocks from
        step to step while the other keeps up, and so their weights in its own L2 (taking the
        next block from one counter, each thread's blocks changed from step to step and the
        steps took as long on two threads as on one); it takes the other end's when the other
        lags."""
        if fetch_add(counters, at, 1) >= count:
            return -1
        if front:
            return fetch_add(counters, at + 8, 1)
        return count - 1 - fetch_add(counters, at + 16, 1)

    @compiled
    def finish(counters, at):
        """Count a block of the round at counters[at] done."""
        fetch_add(counters, at + 24, 1)

    @compiled
    def wait_round(counters, at, count, give_way):
        """Wait until the ``count`` blocks of the round at counters[at] are done."""
        wait_until(counters, at + 24, count, give_way)


if numba is not None:
    @compiled
    def spin_while(array, index, value, spins, settle, give_way, done, slot, count):
        """Add ``count`` to done[slot], then spin while array[index] == value, at most
        ``spins`` pauses (calling give_way() every `_YIELD_EVERY` of them, so that a thread
        waiting for this core gets it); returns array[index] as last read (``value`` when the
        spins ran out). The count is added here, without the GIL, so that the thread waiting
        for it finds the GIL free: a thread that wakes to a GIL another holds sleeps on a
        futex, tens of microseconds on these VMs."""
        fetch_add(done, slot, count)
        for spin in range(spins):
            now = load(array, index)
            if now != value:
                for _ in range(settle):
                    _pause()
                return now
            _pause()
            if spin % _YIELD_EVERY == _YIELD_EVERY - 1:
                give_way()
        return load(array, index)

    @compiled
    def wait_sum(array, count, stride, target, give_way):
        """Spin until array[0] + array[stride] + ... (``count`` of them) >= target, yielding
        the core between checks once it has spun `_SPINS` times."""
        spins = 0
        while True:
            total = 0
            for i in range(count):
                total += load(array, i * stride)
            if total >= target:
                return
            if spins < _SPINS:
                _pause()
                spins += 1
            else:
                give_way()
