"""Resampling of the trailing spatial axes (``F.interpolate``): one whole-batch primitive.

Every mode but 'area' is separable: along each spatial axis, output position j reads a few
input positions (taps) with fixed weights, ``out[..., j] = sum_t weight[t, j] * x[..., index[t,
j]]``: a linear map with a few nonzeros per row. Short axes apply it as a dense (out, in)
matrix (one matmul, and its transpose backward); long ones as one ``take`` of the ``taps * out``
positions, a product and a sum over the taps, whose adjoint scatters the weighted output
gradient back with the ``scatter_add`` kernel (repeated positions accumulate).

Source coordinates follow PyTorch's CPU kernels (``aten/src/ATen/native/UpSample.h``): nearest
in float32 arithmetic (its legacy rule ``floor(j * scale)``, and 'nearest-exact' ``floor((j +
0.5) * scale)``), linear and cubic in the input's dtype, where ``scale`` is ``1 / scale_factor``
when a scale factor was given (and not recomputed) and ``in / out`` otherwise, or ``(in - 1) /
(out - 1)`` with ``align_corners``.
"""

from __future__ import annotations

import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel

__all__ = ["Resample", "resample_taps"]

# The cubic convolution kernel's free parameter, as PyTorch and OpenCV (Keys (1981) uses -0.5).
_CUBIC_A = -0.75


def _nearest(xp, mode, n_in, n_out, scale, shortcuts, device):
    """Source positions (n_out,) int64 of the two nearest modes, in float32 as PyTorch."""
    j = xp.arange(n_out, dtype=xp.int64, device=device)
    # PyTorch's legacy rule copies an axis whose size is kept and repeats each pixel twice on
    # one whose size doubles, even when a scale factor (say 1.3 on 3 pixels) would sample
    # otherwise. Its 2-D forward kernel does so, and all its backward kernels; its 1-D and 3-D
    # forward kernels sample with the scale. Each forward here is PyTorch's, and the backward
    # its exact adjoint (so on those corner cases the gradient of 1-D and 3-D input differs
    # from PyTorch's, which is not the gradient of its own forward; torch 2.13).
    if shortcuts and mode == "nearest" and n_out == n_in:
        return j
    if shortcuts and mode == "nearest" and n_out == 2 * n_in:
        return j // 2
    f32 = xp.float32
    if scale is not None and scale > 0:
        step = xp.asarray(1.0 / scale, dtype=f32, device=device)
    else:
        step = xp.asarray(n_in, dtype=f32, device=device) / xp.asarray(n_out, dtype=f32,
                                                                         device=device)
    position = xp.astype(j, f32)
    if mode == "nearest-exact":
        position = position + 0.5
    index = xp.astype(xp.floor(position * step), xp.int64)
    return xp.minimum(index, xp.asarray(n_in - 1, dtype=xp.int64, device=device))


def _source(xp, n_in, n_out, scale, align_corners, cubic, dtype, device):
    """Real-valued source coordinates (n_out,) of the interpolating modes, in ``dtype``."""
    j = xp.arange(n_out, dtype=dtype, device=device)
    if align_corners:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return j * xp.asarray(step, dtype=dtype, device=device)
    if scale is not None and scale > 0:
        step = xp.asarray(1.0 / scale, dtype=dtype, device=device)
    else:
        step = xp.asarray(n_in, dtype=dtype, device=device) / n_out
    real = step * (j + 0.5) - 0.5
    # Linear interpolation clamps coordinates left of the first centre; cubic reads the
    # clamped border through its outer taps instead.
    return real if cubic else xp.maximum(real, xp.zeros_like(real))


def _cubic_weights(xp, t):
    """The four cubic-convolution weights (taps at -1, 0, 1, 2) at fractional offset t."""
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def resample_taps(xp, mode, n_in, n_out, scale, align_corners, dtype, device, *, dims):
    """One axis's map: ``(index, weights, taps)`` with index (taps * n_out,) int64 (tap-major)
    and weights (taps, n_out) in ``dtype``, or None for the nearest modes (one tap); None for
    an axis that the mode leaves as it is. ``dims`` is the number of spatial axes."""
    if n_out == n_in and mode in ("linear", "bilinear", "trilinear"):
        # PyTorch's linear kernels copy an axis whose size does not change, even when a scale
        # factor (say 1.3 on 3 pixels) would move the samples; nearest and cubic do not.
        return None
    if mode in ("nearest", "nearest-exact"):
        return _nearest(xp, mode, n_in, n_out, scale, dims == 2, device), None, 1
    cubic = mode == "bicubic"
    real = _source(xp, n_in, n_out, scale, align_corners, cubic, dtype, device)
    last = xp.asarray(n_in - 1, dtype=xp.int64, device=device)
    first = xp.astype(xp.floor(real), xp.int64)
    if not cubic:
        first = xp.minimum(first, last)
        lam = xp.clip(real - xp.astype(first, dtype), 0.0, 1.0)
        second = xp.minimum(first + 1, last)
        return (xp.concat([first, second]), xp.stack([1 - lam, lam]), 2)
    t = real - xp.astype(first, dtype)
    zero = xp.zeros_like(first)
    index = [xp.clip(first + k, zero, last) for k in (-1, 0, 1, 2)]
    return xp.concat(index), xp.stack(_cubic_weights(xp, t)), 4


# Up to this many (in * out) entries an axis's map is applied as a dense (out, in) matrix: one
# matmul each way beats gathering and scattering the taps (NumPy, float32, one thread: an axis
# 64 -> 128 of 16 MB of output takes 8 ms against 59 ms forward and 163 ms backward; they draw
# level near 512 -> 1024 forward and stay 3x apart backward).
_DENSE_ENTRIES = 1 << 19


class Resample(Function):
    """x (N, C, *spatial) resampled along its trailing ``len(out_sizes)`` axes, each with the
    map `resample_taps` gives for ``mode``, ``scales[i]`` (or None) and ``align_corners``."""

    @staticmethod
    def forward(ctx, x, mode, out_sizes, scales, align_corners):
        xp, device = ctx.xp, ctx.backend.device
        first_axis = x.ndim - len(out_sizes)
        maps = []
        for k, (n_out, scale) in enumerate(zip(out_sizes, scales)):
            axis, n_in = first_axis + k, x.shape[first_axis + k]
            taps = resample_taps(xp, mode, n_in, n_out, scale, align_corners, x.dtype, device,
                                 dims=len(out_sizes))
            if taps is None:
                continue
            if n_in * n_out <= _DENSE_ENTRIES:
                matrix = _dense(xp, *taps, n_in, x.dtype, device)
                maps.append((axis, matrix, None))
                x = _matmul_along(xp, x, axis, matrix)
            else:
                maps.append((axis, n_in, taps))
                x = _gather(xp, x, axis, *taps)
        ctx.maps = maps
        ctx.scatter_add = get_kernel("scatter_add", ctx.backend)
        return x

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        for axis, matrix_or_size, taps in reversed(ctx.maps):
            if taps is None:
                grad = _matmul_along(xp, grad, axis, xp.matrix_transpose(matrix_or_size))
            else:
                grad = _scatter(xp, ctx.scatter_add, grad, axis, matrix_or_size, *taps)
        return grad, None, None, None, None


def _dense(xp, index, weights, taps, n_in, dtype, device):
    """The (n_out, n_in) matrix of a map: entry (j, i) sums the weights of j's taps at i."""
    n_out = index.shape[0] // taps
    hits = xp.reshape(index, (taps, n_out, 1)) == xp.arange(n_in, dtype=xp.int64, device=device)
    hits = xp.astype(hits, dtype)
    if weights is not None:
        hits = hits * xp.reshape(weights, (taps, n_out, 1))
    return xp.sum(hits, axis=0)


def _matmul_along(xp, x, axis, matrix):
    """``matrix`` (m, n) applied to axis ``axis`` (of length n) of x."""
    if axis == x.ndim - 1:
        return xp.matmul(x, xp.matrix_transpose(matrix))
    if axis == x.ndim - 2:
        return xp.matmul(matrix, x)
    return xp.moveaxis(xp.matmul(matrix, xp.moveaxis(x, axis, -2)), -2, axis)


def _split(shape, axis, taps):
    """``shape`` with its ``axis`` (of length taps * n) split into (taps, n)."""
    return (*shape[:axis], taps, shape[axis] // taps, *shape[axis + 1:])


def _weights_along(xp, weights, ndim, axis):
    """(taps, n) weights shaped to broadcast against x split at ``axis`` (ndim + 1 axes)."""
    return xp.reshape(weights, (*weights.shape, *(1 for _ in range(ndim - axis - 1))))


def _gather(xp, x, axis, index, weights, taps):
    picked = xp.take(x, index, axis=axis)
    if weights is None:
        return picked
    picked = xp.reshape(picked, _split(picked.shape, axis, taps))
    return xp.sum(picked * _weights_along(xp, weights, x.ndim, axis), axis=axis)


def _scatter(xp, scatter_add, grad, axis, n_in, index, weights, taps):
    """The adjoint of `_gather`."""
    if weights is not None:
        # One row of the scatter per (tap, output position): the gradient times its weight.
        spread = xp.expand_dims(grad, axis=axis) * _weights_along(xp, weights, grad.ndim, axis)
        grad = xp.reshape(spread, (*grad.shape[:axis], taps * grad.shape[axis],
                                   *grad.shape[axis + 1:]))
    moved = xp.moveaxis(grad, axis, 0)
    rest = moved.shape[1:]
    flat = xp.reshape(moved, (moved.shape[0], math.prod(rest)))
    out = xp.reshape(scatter_add(xp, index, flat, n_in), (n_in, *rest))
    return xp.moveaxis(out, 0, axis)
