"""NumPy fast paths of ``layer_norm_forward`` / ``layer_norm_backward`` with numba (the ``fast``
extra; without numba nothing is registered and the twins in `xpnet.ops.normalization` run).

Why compiled: layer normalisation is memory-bound, and the twin makes seven passes over the
input with NumPy (mean, centre, square, mean, scale, weight, bias), each allocating an array
of the input's size; PyTorch fuses them into one kernel. Here each row is read twice while it
is in cache: once for its mean and variance (shifted by the row's first value, which keeps the
precision the twin's two passes have when |mean| >> std), once for the output. At
(4096, 256) float32 on one thread: forward 2.8 ms -> 0.32 ms, forward + backward 7.5 ms ->
0.8 ms (PyTorch: 0.35-0.37 and 1.2-1.4; the forward is as fast as a copy of the input,
0.29 ms, once every scalar stays in the input's dtype, see _forward_rows). Blocks of rows are
shared among `numpy_threads.thread_count` threads (`numpy_threads.run_compiled`: numba's
threads, or the team); backward's weight and bias gradients are summed per block, then across
blocks.
"""

from __future__ import annotations

import numpy as np

from . import numpy_buffers, register_fast
from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

_ROWS_PER_BLOCK = 512  # a block's rows at least: enough work to outweigh a thread hand-off
# Two blocks a thread: the pass is memory-bound, and each block's hand-off between threads takes
# the GIL (4096 x 256 float32 on 2 threads, one run: 2 blocks 223 us, 4 blocks 346, 8 blocks 467,
# one thread 327; the machine is noisy, so the order, not the numbers, is what held).
_BLOCKS_PER_THREAD = 2


def _compiled(fn):
    return compiled(fn, fastmath=True)


def _blocks(rows):
    threads = thread_count()
    parts = min(threads * _BLOCKS_PER_THREAD, rows // _ROWS_PER_BLOCK)
    return block_bounds(rows, parts if threads > 1 and parts > 1 else 1)


if numba is not None:
    @_compiled
    def _forward_rows(x, weight, bias, eps, inv_width, out, mean, rstd, start, stop):
        # Every scalar here has the arrays' dtype (eps and inv_width come in it; zero and one
        # are made from it): a float64 one, even from ``r * 0`` or ``1 / sqrt(...)`` with an int,
        # turns the row's loops to float64, with conversions and half the SIMD lanes. That
        # alone made the forward 0.53 ms where it is now 0.29 ms (4096 x 256 float32).
        width = x.shape[1]
        zero, one = x.dtype.type(0), x.dtype.type(1)
        for i in range(start, stop):
            # One pass over the row, shifted by its first value: sums of x - k and (x - k)^2
            # lose no precision to a large mean, as E[x^2] - E[x]^2 would, since k lies
            # within the row's spread ("shifted data", Chan, Golub and LeVeque, 1983).
            row, out_row = x[i], out[i]
            shift = row[0]
            total = zero
            squares = zero
            for j in range(width):
                d = row[j] - shift
                total += d
                squares += d * d
            centred_mean = total * inv_width
            m = shift + centred_mean
            var = max(squares * inv_width - centred_mean * centred_mean, zero)
            r = one / np.sqrt(var + eps)
            mean[i, 0] = m
            rstd[i, 0] = r
            for j in range(width):
                out_row[j] = (row[j] - m) * (r * weight[j]) + bias[j]

    @_compiled
    def _backward_rows(g, x, weight, mean, rstd, inv_width, grad_x, grad_weight, grad_bias,
                       start, stop, need_x):
        width = x.shape[1]
        zero = x.dtype.type(0)  # of the dtype, as in _forward_rows
        for i in range(start, stop):
            m, r = mean[i, 0], rstd[i, 0]
            mean_gw = zero
            mean_gw_xhat = zero
            for j in range(width):
                xhat = (x[i, j] - m) * r
                gw = g[i, j] * weight[j]
                mean_gw += gw
                mean_gw_xhat += gw * xhat
                grad_weight[j] += g[i, j] * xhat
                grad_bias[j] += g[i, j]
            if need_x:
                mean_gw *= inv_width
                mean_gw_xhat *= inv_width
                for j in range(width):
                    xhat = (x[i, j] - m) * r
                    grad_x[i, j] = r * (g[i, j] * weight[j] - mean_gw - xhat * mean_gw_xhat)

    @parallel(fastmath=True)
    def _forward_blocks(x, weight, bias, eps, inv_width, out, mean, rstd, bounds):
        for i in numba.prange(bounds.shape[0]):
            _forward_rows(x, weight, bias, eps, inv_width, out, mean, rstd, bounds[i, 0],
                          bounds[i, 1])

    @parallel(fastmath=True)
    def _backward_blocks(g, x, weight, mean, rstd, inv_width, grad_x, partial_w, partial_b,
                         need_x, bounds):
        # One row of weight / bias partial sums per block: blocks run on different threads.
        for i in numba.prange(bounds.shape[0]):
            block = bounds[i, 2]
            _backward_rows(g, x, weight, mean, rstd, inv_width, grad_x, partial_w[block],
                           partial_b[block], bounds[i, 0], bounds[i, 1], need_x)

    def _ones_if_none(a, width, dtype, value):
        return np.full(width, value, dtype=dtype) if a is None else a

    @register_fast("layer_norm_forward", "numpy")
    def layer_norm_forward(xp, rows, weight, bias, *, eps):
        rows = np.ascontiguousarray(rows)
        n, width = rows.shape
        dtype = rows.dtype
        out = numpy_buffers.empty(dtype, rows.shape)
        mean = np.empty((n, 1), dtype=dtype)
        rstd = np.empty((n, 1), dtype=dtype)
        w = np.ascontiguousarray(_ones_if_none(weight, width, dtype, 1))
        b = np.ascontiguousarray(_ones_if_none(bias, width, dtype, 0))
        eps, inv_width = dtype.type(eps), dtype.type(1 / max(width, 1))
        run_compiled(_forward_blocks, (rows, w, b, eps, inv_width, out, mean, rstd), _blocks(n))
        return out, mean, rstd

    @register_fast("layer_norm_backward", "numpy")
    def layer_norm_backward(xp, g, rows, weight, mean, rstd, *, need):
        g = np.ascontiguousarray(g)
        n, width = rows.shape
        dtype = rows.dtype
        w = np.ascontiguousarray(_ones_if_none(weight, width, dtype, 1))
        grad_x = numpy_buffers.empty(dtype, rows.shape) if need[0] else np.empty((0, width),
                                                                                 dtype=dtype)
        blocks = _blocks(n)
        partial_w = np.zeros((len(blocks), width), dtype=dtype)
        partial_b = np.zeros((len(blocks), width), dtype=dtype)
        inv_width = dtype.type(1 / max(width, 1))
        run_compiled(_backward_blocks, (g, rows, w, mean, rstd, inv_width, grad_x, partial_w,
                                        partial_b, bool(need[0])), blocks)
        return (grad_x if need[0] else None,
                partial_w.sum(axis=0) if need[1] else None,
                partial_b.sum(axis=0) if need[2] else None)
