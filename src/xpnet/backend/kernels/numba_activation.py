"""ReLU's backward with numba (the ``fast`` extra): ``grad = g where out > 0, else 0`` in one
pass, for the NumPy fast path ``relu_backward`` in numpy_kernels.py; ``available`` is False
without numba, and the twin's form runs.

The twin (``g * (out > 0)`` as g's dtype) makes two arrays and three passes. At the Transformer
encoder layer's feed-forward activation, (4096, 2048) float32, one thread: 8.4 ms alone and
36 ms inside the layer's backward (its 33 MB temporaries fault fresh pages there), against
5.6 ms here (PyTorch's threshold_backward: 18.6 ms). Large arrays are split among
`numpy_threads.thread_count` threads. A NaN output gives a zero gradient, as in the twin and
PyTorch (NaN > 0 is false).
"""

from __future__ import annotations

import numpy as np

from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

available = numba is not None
_MIN_PARALLEL_SIZE = 1 << 18  # below, a thread hand-off costs more than the pass
_BLOCKS_PER_THREAD = 4


if available:
    @compiled
    def _relu_backward(g, out, grad, start, stop):
        zero = grad.dtype.type(0)
        for i in range(start, stop):
            grad[i] = g[i] if out[i] > 0 else zero

    @parallel
    def _relu_backward_blocks(g, out, grad, bounds):
        for i in numba.prange(bounds.shape[0]):
            _relu_backward(g, out, grad, bounds[i, 0], bounds[i, 1])


def relu_backward(g, out):
    """``g`` where ``out > 0``, else 0: contiguous arrays of one shape and dtype."""
    grad = np.empty(g.shape, dtype=g.dtype)
    flat_g, flat_out, flat_grad = g.reshape(-1), out.reshape(-1), grad.reshape(-1)
    size = flat_g.size
    threads = thread_count()
    if threads <= 1 or size < _MIN_PARALLEL_SIZE:
        _relu_backward(flat_g, flat_out, flat_grad, 0, size)
        return grad
    run_compiled(_relu_backward_blocks, (flat_g, flat_out, flat_grad),
                 block_bounds(size, threads * _BLOCKS_PER_THREAD))
    return grad
