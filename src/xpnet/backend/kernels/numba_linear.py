"""`linear_relu`'s passes with numba (the ``fast`` extra), for the NumPy fast paths in
numpy_kernels.py; ``available`` is False without numba, and the twins' forms run.

- ``bias_relu``: ``relu(out + bias)`` written over the fresh product ``out`` in one pass;
  ``bias_add``, Linear's own epilogue, the same without the ReLU (NumPy's broadcast add is
  as fast on one thread; this one also runs on the others).
- ``relu_backward_bias``: ReLU's input gradient (``g`` where the output is positive) and its
  column sums, the bias gradient, in one pass: the twin reads the 33 MB gradient again for
  the sum (1.3 ms at one thread, and on one thread only).

Why: the twin adds the bias in place and then makes ReLU's output, a second array of the
product's size, in a second pass. At the Transformer encoder layer's feed-forward product,
(4096, 2048) float32, one thread, that is 33 + 6 ms after the 31 ms GEMM (the second 33 MB
array faults fresh pages), against one in-place pass here. Large arrays are split by rows
among `numpy_threads.thread_count` threads by `numpy_threads.run_compiled` (each block sums
its own rows; the blocks' sums are added at the end). NaN stays NaN, as in ``maximum`` and
PyTorch's relu, and a NaN output gives a zero gradient, as ``relu_backward``.
"""

from __future__ import annotations

import numpy as np

from . import numpy_buffers
from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

available = numba is not None
_MIN_PARALLEL_SIZE = 1 << 18  # below, a thread hand-off costs more than the pass
_BLOCKS_PER_THREAD = 2


if available:
    @compiled
    def _bias_relu_rows(out, bias, start, stop):
        zero = out.dtype.type(0)
        for i in range(start, stop):
            for j in range(out.shape[1]):
                value = out[i, j] + bias[j]
                # ``not value < 0`` rather than ``value > 0``: NaN passes through.
                out[i, j] = value if not value < zero else zero

    @compiled
    def _bias_add_rows(out, bias, start, stop):
        for i in range(start, stop):
            for j in range(out.shape[1]):
                out[i, j] += bias[j]

    @compiled
    def _relu_backward_rows(g, out, grad, sums, block, start, stop):
        zero = grad.dtype.type(0)
        for i in range(start, stop):
            for j in range(g.shape[1]):
                value = g[i, j] if out[i, j] > zero else zero
                grad[i, j] = value
                sums[block, j] += value

    @parallel
    def _bias_relu_blocks(out, bias, bounds):
        for i in numba.prange(bounds.shape[0]):
            _bias_relu_rows(out, bias, bounds[i, 0], bounds[i, 1])

    @parallel
    def _bias_add_blocks(out, bias, bounds):
        for i in numba.prange(bounds.shape[0]):
            _bias_add_rows(out, bias, bounds[i, 0], bounds[i, 1])

    @parallel
    def _relu_backward_blocks(g, out, grad, sums, bounds):
        for i in numba.prange(bounds.shape[0]):
            _relu_backward_rows(g, out, grad, sums, bounds[i, 2], bounds[i, 0], bounds[i, 1])


def _row_blocks(rows, size):
    """(start, stop) row ranges (`numpy_threads.block_bounds`): one on one thread or for a
    small array, else a few per thread."""
    if size < _MIN_PARALLEL_SIZE or rows < 2:
        return block_bounds(rows, 1)
    threads = thread_count()
    if threads <= 1:
        return block_bounds(rows, 1)
    return block_bounds(rows, min(rows, threads * _BLOCKS_PER_THREAD))


def bias_relu_(out, bias):
    """``out = relu(out + bias)`` in place; ``out`` C-contiguous (rows, features), ``bias``
    (features,) of its dtype, or None. Returns ``out``."""
    if bias is None:
        bias = np.zeros(out.shape[1], dtype=out.dtype)
    run_compiled(_bias_relu_blocks, (out, bias), _row_blocks(out.shape[0], out.size))
    return out


def bias_add_(out, bias):
    """``out += bias`` as `bias_relu_`, without the ReLU; NumPy's add where one block does."""
    blocks = _row_blocks(out.shape[0], out.size)
    if len(blocks) == 1:
        out += bias
    else:
        run_compiled(_bias_add_blocks, (out, bias), blocks)
    return out


def relu_backward_bias(g, out):
    """``(grad, column sums of grad)`` for ReLU's output ``out`` and its gradient ``g``:
    C-contiguous (rows, features) arrays of one dtype."""
    grad = numpy_buffers.large(g.dtype, g.shape)
    if grad is None:
        grad = np.empty(g.shape, dtype=g.dtype)
    blocks = _row_blocks(g.shape[0], g.size)
    sums = np.zeros((len(blocks), g.shape[1]), dtype=g.dtype)
    run_compiled(_relu_backward_blocks, (g, out, grad, sums), blocks)
    return grad, sums.sum(axis=0) if len(blocks) > 1 else sums[0]
