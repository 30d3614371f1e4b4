"""NumPy fast paths of batch and group normalisation with numba (the ``fast`` extra; without
numba nothing is registered and the twins in `xpnet.ops.normalization` run).

Why compiled: both are memory-bound, and the twins make some eight passes over the input with
NumPy (mean, centre, square, mean, scale, weight, bias; backward as many again), each allocating
an array of the input's size. Here the input, viewed as ``(N, C, L)``, is read in pieces, each
read twice: a channel's ``N x L`` values (batch norm) or a sample's group of ``C / G x L``
values (group norm) once for their statistics, shifted by their first value (Chan, Golub and
LeVeque, 1983: sums of ``x - k`` and ``(x - k)^2`` keep the precision of two passes when
|mean| >> std), summed in the array's dtype along a row of ``L`` and in float64 across rows;
then once more, from cache, for the output. Backward reads ``g`` and ``x`` once for the
per-channel sums ``sum(g)`` and ``sum(g * (x - mean))`` (the bias and weight gradients) and
once for ``grad_x = a * g + b * (x - mean) + c``, with coefficients per channel (batch norm)
or per channel and sample (group norm). (N, C) batch norm has a kernel of its own, vectorised
across the channels of a row.

At (32, 64, 32, 32) float32 on one thread, the whole layer in training (forward / forward +
backward, asv_benchmarks/norm_vs_torch.py, medians of 40): BatchNorm2d 5.9 / 15.5 ms with the
twins -> 1.3 / 2.5 ms (PyTorch 3.6 / 7.1), GroupNorm(8, 64) 5.3 / 15.8 -> 1.2 / 2.2 ms
(PyTorch 1.4 / 3.7). The kernels alone: forward 0.6-0.7 ms, backward 1.0 ms, where a copy of
the input takes 0.58 ms. Channels (batch norm) or (sample, group) rows (group norm) are shared
among `numpy_threads.thread_count` threads (`numpy_threads.run_compiled`: numba's threads, or
the team).
"""

from __future__ import annotations

import numpy as np

from . import _generic, register_fast
from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

# Below this many elements a thread hand-off (tens of microseconds) costs more than it saves.
_MIN_PARALLEL_SIZE = 1 << 16
# Two blocks a thread: enough that an unlucky split still balances, few enough that the GIL
# hand-offs between blocks stay rare (as in numba_layer_norm; 4 a thread before).
_BLOCKS_PER_THREAD = 2
# (N, C) batch norm sums this many rows in the array's dtype, then adds them in float64.
_COLUMN_ROWS = 64
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Reassociation lets LLVM vectorise the sums; no "nnan"/"ninf", so NaN and inf propagate as
# they do in the twins and in PyTorch.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


def _compiled(fn):
    return compiled(fn, fastmath=_FASTMATH)


def _parallel(fn):
    return parallel(fn, fastmath=_FASTMATH)


def _blocks(count, size):
    """(start, stop) blocks covering ``range(count)`` (`numpy_threads.block_bounds`): one on
    one thread (or for a small input), else a few per thread."""
    threads = thread_count()
    if threads <= 1 or count <= 1 or size < _MIN_PARALLEL_SIZE:
        return block_bounds(count, 1)
    return block_bounds(count, min(count, threads * _BLOCKS_PER_THREAD))


def _per_channel(a, count, dtype, fill):
    """``a`` as a contiguous array of ``dtype``, or ``count`` copies of ``fill`` for None."""
    if a is None:
        return np.full(count, fill, dtype=dtype)
    return np.ascontiguousarray(a, dtype=dtype)


if numba is not None:
    @_compiled
    def _clamped_variance(v):
        # Rounding can leave E[(x-k)^2] - E[x-k]^2 a hair below zero; NaN stays NaN (max(v, 0)
        # would turn it into 0 and hide it from the running variance).
        return 0.0 if v < 0.0 else v

    # -- batch normalisation: statistics per channel over N and L ------------------------------

    @_compiled
    def _bn_forward_channels(x, weight, bias, eps, training, out, mean, var, rstd, start, stop):
        n, _, length = x.shape
        cast = x.dtype.type
        inv_count = 1.0 / (n * length)
        zero = cast(0)
        for c in range(start, stop):
            if training:
                shift = x[0, c, 0]
                total = 0.0  # float64 across rows; each row sums in the array's dtype
                squares = 0.0
                for i in range(n):
                    t = zero
                    q = zero
                    for j in range(length):
                        d = x[i, c, j] - shift
                        t += d
                        q += d * d
                    total += t
                    squares += q
                centred_mean = total * inv_count
                v = _clamped_variance(squares * inv_count - centred_mean * centred_mean)
                mean[c] = cast(shift + centred_mean)
                var[c] = cast(v)
                rstd[c] = cast(1.0 / np.sqrt(v + eps))
            # Scalars of the array's dtype: a float64 one would turn the loop to float64.
            m = mean[c]
            scale = rstd[c] * weight[c]
            offset = bias[c]
            for i in range(n):
                for j in range(length):
                    out[i, c, j] = (x[i, c, j] - m) * scale + offset

    @_compiled
    def _bn_forward_columns(x, weight, bias, eps, training, out, mean, var, rstd, start, stop):
        # (N, C) input: a channel is a strided column, so loop over rows, vectorised over the
        # block's channels; sums run in the dtype over _COLUMN_ROWS rows, in float64 across.
        # Each row is taken as a view of the block: indexing x[i, start + k] instead kept the
        # loops from vectorising (0.32 -> 0.16 ms for the sums at (4096, 256) float32).
        n = x.shape[0]
        cast = x.dtype.type
        inv_count = 1.0 / n
        width = stop - start
        if training:
            shift = x[0, start:stop].copy()
            t = np.empty(width, dtype=x.dtype)
            q = np.empty(width, dtype=x.dtype)
            total = np.zeros(width)
            squares = np.zeros(width)
            for first in range(0, n, _COLUMN_ROWS):
                t[:] = 0
                q[:] = 0
                for i in range(first, min(first + _COLUMN_ROWS, n)):
                    row = x[i, start:stop]
                    for k in range(width):
                        d = row[k] - shift[k]
                        t[k] += d
                        q[k] += d * d
                for k in range(width):
                    total[k] += t[k]
                    squares[k] += q[k]
            for k in range(width):
                centred_mean = total[k] * inv_count
                v = _clamped_variance(squares[k] * inv_count - centred_mean * centred_mean)
                mean[start + k] = cast(shift[k] + centred_mean)
                var[start + k] = cast(v)
                rstd[start + k] = cast(1.0 / np.sqrt(v + eps))
        m = mean[start:stop]
        scale = rstd[start:stop] * weight[start:stop]
        offset = bias[start:stop]
        for i in range(n):
            row, out_row = x[i, start:stop], out[i, start:stop]
            for k in range(width):
                out_row[k] = (row[k] - m[k]) * scale[k] + offset[k]

    @_compiled
    def _bn_backward_channels(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                              grad_bias, start, stop, need_x, need_sums):
        n, _, length = x.shape
        cast = x.dtype.type
        inv_count = cast(1.0 / (n * length))
        zero = cast(0)
        for c in range(start, stop):
            m, r = mean[c], rstd[c]
            if need_sums:
                sum_g = 0.0
                sum_gx = 0.0
                for i in range(n):
                    t = zero
                    q = zero
                    for j in range(length):
                        gv = g[i, c, j]
                        t += gv
                        q += gv * (x[i, c, j] - m)
                    sum_g += t
                    sum_gx += q
                grad_bias[c] = cast(sum_g)
                grad_weight[c] = cast(sum_gx * r)  # sum(g * xhat)
            if not need_x:
                continue
            a = r * weight[c]
            if training:
                # grad_x = a * (g - mean(g) - xhat * mean(g * xhat))
                b = -a * r * grad_weight[c] * inv_count
                offset = -a * grad_bias[c] * inv_count
                for i in range(n):
                    for j in range(length):
                        grad_x[i, c, j] = a * g[i, c, j] + b * (x[i, c, j] - m) + offset
            else:  # running statistics: a per-channel affine map
                for i in range(n):
                    for j in range(length):
                        grad_x[i, c, j] = a * g[i, c, j]

    @_compiled
    def _bn_backward_columns(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                             grad_bias, start, stop, need_x, need_sums):
        n = x.shape[0]
        cast = x.dtype.type
        inv_count = cast(1.0 / n)
        width = stop - start
        m = mean[start:stop]
        if need_sums:
            t = np.empty(width, dtype=x.dtype)
            q = np.empty(width, dtype=x.dtype)
            sum_g = np.zeros(width)
            sum_gx = np.zeros(width)
            for first in range(0, n, _COLUMN_ROWS):
                t[:] = 0
                q[:] = 0
                for i in range(first, min(first + _COLUMN_ROWS, n)):
                    g_row, row = g[i, start:stop], x[i, start:stop]
                    for k in range(width):
                        t[k] += g_row[k]
                        q[k] += g_row[k] * (row[k] - m[k])
                for k in range(width):
                    sum_g[k] += t[k]
                    sum_gx[k] += q[k]
            for k in range(width):
                grad_bias[start + k] = cast(sum_g[k])
                grad_weight[start + k] = cast(sum_gx[k] * rstd[start + k])
        if not need_x:
            return
        a = rstd[start:stop] * weight[start:stop]
        if training:
            b = -a * rstd[start:stop] * grad_weight[start:stop] * inv_count
            offset = -a * grad_bias[start:stop] * inv_count
            for i in range(n):
                g_row, row, grad_row = g[i, start:stop], x[i, start:stop], grad_x[i, start:stop]
                for k in range(width):
                    grad_row[k] = a[k] * g_row[k] + b[k] * (row[k] - m[k]) + offset[k]
        else:
            for i in range(n):
                g_row, grad_row = g[i, start:stop], grad_x[i, start:stop]
                for k in range(width):
                    grad_row[k] = a[k] * g_row[k]

    # -- group normalisation: statistics per (sample, group) over C / G channels and L --------

    @_compiled
    def _gn_forward_rows(x, weight, bias, eps, groups, out, mean, rstd, start, stop):
        _, channels, length = x.shape
        per_group = channels // groups
        cast = x.dtype.type
        inv_count = 1.0 / (per_group * length)
        zero = cast(0)
        for row in range(start, stop):
            s, k = row // groups, row % groups
            first = k * per_group
            shift = x[s, first, 0]
            total = 0.0
            squares = 0.0
            for c in range(first, first + per_group):
                t = zero
                q = zero
                for j in range(length):
                    d = x[s, c, j] - shift
                    t += d
                    q += d * d
                total += t
                squares += q
            centred_mean = total * inv_count
            v = _clamped_variance(squares * inv_count - centred_mean * centred_mean)
            mean[s, k] = cast(shift + centred_mean)
            rstd[s, k] = cast(1.0 / np.sqrt(v + eps))
            m, r = mean[s, k], rstd[s, k]
            for c in range(first, first + per_group):
                scale = r * weight[c]
                offset = bias[c]
                for j in range(length):
                    out[s, c, j] = (x[s, c, j] - m) * scale + offset

    @_compiled
    def _gn_backward_rows(g, x, weight, mean, rstd, groups, grad_x, sum_g, sum_gx, start, stop,
                          need_x):
        # sum_g[s, c] = sum_j g, sum_gx[s, c] = sum_j g * (x - mean): the weight and bias
        # gradients are their sums over the samples, taken afterwards.
        _, channels, length = x.shape
        per_group = channels // groups
        cast = x.dtype.type
        inv_count = 1.0 / (per_group * length)
        zero = cast(0)
        for row in range(start, stop):
            s, k = row // groups, row % groups
            first = k * per_group
            m, r = mean[s, k], rstd[s, k]
            weighted_g = 0.0  # sum over the group of weight * g
            weighted_gx = 0.0  # ... and of weight * g * (x - mean)
            for c in range(first, first + per_group):
                t = zero
                q = zero
                for j in range(length):
                    gv = g[s, c, j]
                    t += gv
                    q += gv * (x[s, c, j] - m)
                sum_g[s, c] = t
                sum_gx[s, c] = q
                weighted_g += weight[c] * np.float64(t)
                weighted_gx += weight[c] * np.float64(q)
            if not need_x:
                continue
            # grad_x = r * (w g - mean(w g) - xhat * mean(w g xhat)), xhat = (x - m) r
            b = cast(-r * r * r * weighted_gx * inv_count)
            offset = cast(-r * weighted_g * inv_count)
            for c in range(first, first + per_group):
                a = r * weight[c]
                for j in range(length):
                    grad_x[s, c, j] = a * g[s, c, j] + b * (x[s, c, j] - m) + offset

    # -- their blocks on threads (numpy_threads.run_compiled) ----------------------------------

    @_parallel
    def _bn_forward_channels_blocks(x, weight, bias, eps, training, out, mean, var, rstd,
                                    bounds):
        for i in numba.prange(bounds.shape[0]):
            _bn_forward_channels(x, weight, bias, eps, training, out, mean, var, rstd,
                                 bounds[i, 0], bounds[i, 1])

    @_parallel
    def _bn_forward_columns_blocks(x, weight, bias, eps, training, out, mean, var, rstd,
                                   bounds):
        for i in numba.prange(bounds.shape[0]):
            _bn_forward_columns(x, weight, bias, eps, training, out, mean, var, rstd,
                                bounds[i, 0], bounds[i, 1])

    @_parallel
    def _bn_backward_channels_blocks(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                                     grad_bias, need_x, need_sums, bounds):
        for i in numba.prange(bounds.shape[0]):
            _bn_backward_channels(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                                  grad_bias, bounds[i, 0], bounds[i, 1], need_x, need_sums)

    @_parallel
    def _bn_backward_columns_blocks(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                                    grad_bias, need_x, need_sums, bounds):
        for i in numba.prange(bounds.shape[0]):
            _bn_backward_columns(g, x, weight, mean, rstd, training, grad_x, grad_weight,
                                 grad_bias, bounds[i, 0], bounds[i, 1], need_x, need_sums)

    @_parallel
    def _gn_forward_blocks(x, weight, bias, eps, groups, out, mean, rstd, bounds):
        for i in numba.prange(bounds.shape[0]):
            _gn_forward_rows(x, weight, bias, eps, groups, out, mean, rstd, bounds[i, 0],
                             bounds[i, 1])

    @_parallel
    def _gn_backward_blocks(g, x, weight, mean, rstd, groups, grad_x, sum_g, sum_gx, need_x,
                            bounds):
        for i in numba.prange(bounds.shape[0]):
            _gn_backward_rows(g, x, weight, mean, rstd, groups, grad_x, sum_g, sum_gx,
                              bounds[i, 0], bounds[i, 1], need_x)

    # -- the registered kernels ---------------------------------------------------------------

    @register_fast("batch_norm_forward", "numpy")
    def batch_norm_forward(xp, x, weight, bias, mean, rstd, *, eps):
        if x.dtype not in _FLOATS or x.size == 0:
            return _generic["batch_norm_forward"](xp, x, weight, bias, mean, rstd, eps=eps)
        x = np.ascontiguousarray(x)
        n, channels, length = x.shape
        dtype = x.dtype
        training = mean is None
        out = np.empty_like(x)
        if training:
            mean, var, rstd = (np.empty(channels, dtype=dtype) for _ in range(3))
        else:
            mean = np.ascontiguousarray(mean, dtype=dtype)
            rstd = np.ascontiguousarray(rstd, dtype=dtype)
            var = np.empty(0, dtype=dtype)
        w = _per_channel(weight, channels, dtype, 1)
        b = _per_channel(bias, channels, dtype, 0)
        if length == 1:
            blocks, x_, out_ = (_bn_forward_columns_blocks, x.reshape(n, channels),
                                out.reshape(n, channels))
        else:
            blocks, x_, out_ = _bn_forward_channels_blocks, x, out
        run_compiled(blocks, (x_, w, b, float(eps), training, out_, mean, var, rstd),
                     _blocks(channels, x.size))
        return out, mean, (var if training else None), rstd

    @register_fast("batch_norm_backward", "numpy")
    def batch_norm_backward(xp, g, x, weight, mean, rstd, *, training, need):
        if x.dtype not in _FLOATS or x.size == 0:
            return _generic["batch_norm_backward"](xp, g, x, weight, mean, rstd,
                                                   training=training, need=need)
        g = np.ascontiguousarray(g, dtype=x.dtype)
        x = np.ascontiguousarray(x)
        n, channels, length = x.shape
        dtype = x.dtype
        w = _per_channel(weight, channels, dtype, 1)
        mean = np.ascontiguousarray(mean, dtype=dtype)
        rstd = np.ascontiguousarray(rstd, dtype=dtype)
        need_sums = bool(training or need[1] or need[2])
        grad_x = np.empty_like(x) if need[0] else np.empty((0, 0, 0), dtype=dtype)
        grad_weight = np.empty(channels, dtype=dtype)
        grad_bias = np.empty(channels, dtype=dtype)
        if length == 1:
            blocks = _bn_backward_columns_blocks
            g_, x_ = g.reshape(n, channels), x.reshape(n, channels)
            grad_x_ = grad_x.reshape(n, channels) if need[0] else np.empty((0, 0), dtype=dtype)
        else:
            blocks, g_, x_, grad_x_ = _bn_backward_channels_blocks, g, x, grad_x
        run_compiled(blocks, (g_, x_, w, mean, rstd, bool(training), grad_x_, grad_weight,
                              grad_bias, bool(need[0]), need_sums),
                     _blocks(channels, x.size))
        return (grad_x if need[0] else None, grad_weight if need[1] else None,
                grad_bias if need[2] else None)

    @register_fast("group_norm_forward", "numpy")
    def group_norm_forward(xp, x, weight, bias, *, groups, eps):
        if x.dtype not in _FLOATS or x.size == 0:
            return _generic["group_norm_forward"](xp, x, weight, bias, groups=groups, eps=eps)
        x = np.ascontiguousarray(x)
        n, channels, _ = x.shape
        dtype = x.dtype
        out = np.empty_like(x)
        mean = np.empty((n, groups), dtype=dtype)
        rstd = np.empty((n, groups), dtype=dtype)
        w = _per_channel(weight, channels, dtype, 1)
        b = _per_channel(bias, channels, dtype, 0)
        run_compiled(_gn_forward_blocks, (x, w, b, float(eps), groups, out, mean, rstd),
                     _blocks(n * groups, x.size))
        return out, mean, rstd

    @register_fast("group_norm_backward", "numpy")
    def group_norm_backward(xp, g, x, weight, mean, rstd, *, groups, need):
        if x.dtype not in _FLOATS or x.size == 0:
            return _generic["group_norm_backward"](xp, g, x, weight, mean, rstd, groups=groups,
                                                   need=need)
        g = np.ascontiguousarray(g, dtype=x.dtype)
        x = np.ascontiguousarray(x)
        n, channels, _ = x.shape
        dtype = x.dtype
        w = _per_channel(weight, channels, dtype, 1)
        mean = np.ascontiguousarray(mean, dtype=dtype)
        rstd = np.ascontiguousarray(rstd, dtype=dtype)
        grad_x = np.empty_like(x) if need[0] else np.empty((0, 0, 0), dtype=dtype)
        sum_g = np.empty((n, channels))
        sum_gx = np.empty((n, channels))
        run_compiled(_gn_backward_blocks, (g, x, w, mean, rstd, groups, grad_x, sum_g, sum_gx,
                                           bool(need[0])),
                     _blocks(n * groups, x.size))
        grad_weight = grad_bias = None
        if need[1]:  # sum over samples of r * sum_gx, r repeated over each group's channels
            per_sample = sum_gx.reshape(n, groups, -1) * rstd.reshape(n, groups, 1)
            grad_weight = per_sample.sum(axis=0).reshape(channels).astype(dtype)
        if need[2]:
            grad_bias = sum_g.sum(axis=0).astype(dtype)
        return (grad_x if need[0] else None), grad_weight, grad_bias
