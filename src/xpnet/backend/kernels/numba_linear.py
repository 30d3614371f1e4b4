"""Linear's epilogue with numba (the ``fast`` extra): ``relu(out + bias)`` written over the
fresh product ``out`` in one pass, for the NumPy fast path ``bias_relu`` in numpy_kernels.py;
``available`` is False without numba, and the twin's form runs.

Why: the twin adds the bias in place and then makes ReLU's output, a second array of the
product's size, in a second pass. At the Transformer encoder layer's feed-forward product,
(4096, 2048) float32, one thread, that is 33 + 6 ms after the 31 ms GEMM (the second 33 MB
array faults fresh pages), against one in-place pass here. Large arrays are split by rows
among `numpy_threads.thread_count` threads. NaN stays NaN, as in ``maximum`` and PyTorch's
relu.
"""

from __future__ import annotations

import numpy as np

from .numba_jit import compiled
from .numpy_threads import run_shared, thread_count

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


def bias_relu_(out, bias):
    """``out = relu(out + bias)`` in place; ``out`` C-contiguous (rows, features), ``bias``
    (features,) of its dtype, or None. Returns ``out``."""
    if bias is None:
        bias = np.zeros(out.shape[1], dtype=out.dtype)
    rows = out.shape[0]
    threads = thread_count()
    if threads <= 1 or out.size < _MIN_PARALLEL_SIZE or rows < 2:
        _bias_relu_rows(out, bias, 0, rows)
        return out
    parts = min(rows, threads * _BLOCKS_PER_THREAD)
    bounds = [rows * k // parts for k in range(parts + 1)]
    run_shared(lambda block: _bias_relu_rows(out, bias, *block),
               list(zip(bounds[:-1], bounds[1:])))
    return out
