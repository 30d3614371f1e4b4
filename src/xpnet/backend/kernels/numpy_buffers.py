"""Memory that the NumPy fast paths reuse from call to call.

Why: the arrays of one call (a few MB) come from the allocator as fresh pages whenever it has
handed the last call's back to the system (glibc trims its heap past a threshold), and their
first writes then fault, page by page: ~950 faults (~0.9 ms, of a 2.3 ms forward) in every
forward of an RNN layer of the recurrent benchmark, ~600 in every backward of a GRU layer.
`arrays` carves a call's arrays out of one block and takes a block again only once no array
of it is alive (the block's reference count says so), so reuse never overwrites anything; a
caller gives what it returns (outputs, gradients) a block of its own, so that keeping it
keeps nothing else.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

_BLOCKS = []
_STARTS = []  # each kept block's first byte at _ALIGN (asked once: ``.ctypes`` is slow)
_BLOCKS_KEPT = 32
_FREE_BYTES_KEPT = 128 << 20  # what the blocks no array uses may hold between calls
_ALIGN = 64
_lock = threading.Lock()


def arrays(dtype, *shapes):
    """Uninitialised C-ordered arrays of ``shapes``, carved out of one block."""
    dtype = np.dtype(dtype)
    counts = [math.prod(shape) for shape in shapes]
    sizes = [-(-count * dtype.itemsize // _ALIGN) * _ALIGN for count in counts]
    block, start = _block(sum(sizes) + _ALIGN)
    carved = []
    for shape, count, size in zip(shapes, counts, sizes):
        carved.append(block[start:start + count * dtype.itemsize].view(dtype).reshape(shape))
        start += size
    return carved


def array(dtype, shape):
    """One array of `arrays` (without its lists: these calls often follow a kernel that has
    flushed the caches, where every Python step costs a few us)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    block, start = _block(-(-nbytes // _ALIGN) * _ALIGN + _ALIGN)
    return block[start:start + nbytes].view(dtype).reshape(shape)


# Arrays of at least this size come from `large` in reused memory; smaller ones from NumPy, as
# the scan of the blocks costs microseconds and small arrays do not fault much.
_LARGE_BYTES = 1 << 22


def large(dtype, shape):
    """For an output a kernel returns: `array` when it is large, else None (the kernel lets
    NumPy allocate). glibc maps an array of over 32 MB afresh every time, whose first writes
    fault page by page: the Transformer encoder layer's (4096, 2048) float32 product took 32.5
    ms fresh against 29.5 into reused memory, and its forward+backward 322 -> 315 ms at one
    thread, 174 -> 168 ms at two (the faults of the threads serialise)."""
    dtype = np.dtype(dtype)
    if math.prod(shape) * dtype.itemsize < _LARGE_BYTES:
        return None
    return array(dtype, shape)


def empty(dtype, shape):
    """``np.empty(shape, dtype)``, from reused memory when it is large (`large`): for arrays a
    kernel returns or keeps for backward, whose fresh pages would otherwise fault whenever
    glibc has handed the last call's back (in the asv process, a Transformer encoder layer's
    step faulted ~3,000 pages in attention's and LayerNorm's outputs)."""
    out = large(dtype, shape)
    return np.empty(shape, dtype=dtype) if out is None else out


_FREE_COUNT = None  # what the count below reads for a block nothing else holds


def _used():
    """Whether each kept block still has arrays carved out of it (each holds a reference),
    against a probe referenced as an unused block is, counted once (exact counts vary with
    the version). Called after a large kernel has flushed the caches, each step here costs
    a few us: a probe made and counted at every call took 6-9 of a 22 us call."""
    global _FREE_COUNT
    if _FREE_COUNT is None:
        _BLOCKS.append(np.empty(0, dtype=np.uint8))
        counts = [sys.getrefcount(block) for block in _BLOCKS]
        _BLOCKS.pop()
        _FREE_COUNT = counts.pop()
    else:
        counts = [sys.getrefcount(block) for block in _BLOCKS]
    return [count > _FREE_COUNT for count in counts]


def _block(nbytes):
    """(a block of nbytes to 2 * nbytes that no array uses, its first aligned byte)."""
    with _lock:
        used = _used()
        for block, start, in_use in zip(_BLOCKS, _STARTS, used):
            if not in_use and nbytes <= block.nbytes <= 2 * nbytes:
                return block, start
        # Make room by dropping the oldest unused blocks; the new one is kept if it fits.
        free = [i for i, in_use in enumerate(used) if not in_use]
        free_bytes = sum(_BLOCKS[i].nbytes for i in free)
        dropped = set()
        for i in free:
            if (len(_BLOCKS) - len(dropped) < _BLOCKS_KEPT
                    and free_bytes + nbytes <= _FREE_BYTES_KEPT):
                break
            dropped.add(i)
            free_bytes -= _BLOCKS[i].nbytes
        _BLOCKS[:] = [kept for i, kept in enumerate(_BLOCKS) if i not in dropped]
        _STARTS[:] = [kept for i, kept in enumerate(_STARTS) if i not in dropped]
        block = np.empty(nbytes, dtype=np.uint8)
        start = -block.ctypes.data % _ALIGN
        if len(_BLOCKS) < _BLOCKS_KEPT and nbytes <= _FREE_BYTES_KEPT:
            _BLOCKS.append(block)
            _STARTS.append(start)
        return block, start
