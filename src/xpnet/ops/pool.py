"""Pooling primitives over the trailing spatial axes of (N, C, *spatial) arrays.

Each is one node for the whole batch. Windows are strided slices of the (padded) input, one per
kernel offset, so the Python loop runs over the ``prod(kernel_size)`` offsets, never over pixels.
Argument checks and output sizes live in `xpnet.functional.pooling`.
"""

from __future__ import annotations

import itertools
import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel, register_generic

__all__ = ["MaxPool", "AvgPool", "AdaptiveAvgPool", "pool_output_size", "adaptive_bounds"]


def pool_output_size(size, kernel, stride, padding, ceil_mode, dilation=1):
    """PyTorch's output length of a pooling window sliding over one padded axis."""
    span = size + 2 * padding - ((kernel - 1) * dilation + 1)
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # In ceil mode the last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def adaptive_bounds(size, out):
    """PyTorch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


class _Windows:
    """The padded geometry of a pooling op and the strided slice of each kernel offset."""

    def __init__(self, in_shape, kernel, stride, padding, out_sizes, dilation=None):
        d = len(kernel)
        self.spatial = tuple(in_shape[-d:])
        self.dilation = dilation = dilation or (1,) * d
        # Right padding reaches the last window's end (ceil mode may need more than `padding`).
        self.high = tuple(max(p, (o - 1) * s + (k - 1) * e + 1 - n - p) for n, k, s, p, o, e
                          in zip(self.spatial, kernel, stride, padding, out_sizes, dilation))
        self.padded_shape = tuple(in_shape[:-d]) + tuple(
            n + p + h for n, p, h in zip(self.spatial, padding, self.high))
        self.inner = (...,) + tuple(slice(p, p + n) for n, p in zip(self.spatial, padding))
        self.needs_padding = any(padding) or any(self.high)
        self.offsets = list(itertools.product(*(range(k) for k in kernel)))
        self.kernel, self.stride, self.padding, self.out_sizes = kernel, stride, padding, out_sizes

    def key(self, offset):
        return (...,) + tuple(slice(o * e, o * e + (n - 1) * s + 1, s)
                              for o, n, s, e in zip(offset, self.out_sizes, self.stride,
                                                    self.dilation))

    def pad(self, xp, x, value, device):
        if not self.needs_padding:
            return x
        out = xp.full(self.padded_shape, value, dtype=x.dtype, device=device)
        out[self.inner] = x
        return out

    def scatter(self, xp, pieces, dtype, device):
        """The input-shaped sum of per-offset window gradients (overlaps accumulate)."""
        shape = self.padded_shape
        out = xp.zeros(shape, dtype=dtype, device=device)
        for offset, piece in zip(self.offsets, pieces):
            if piece is None:
                continue
            key = self.key(offset)
            out[key] = out[key] + piece
        return out[self.inner] if self.needs_padding else out

    def valid_masks(self, xp, device):
        """Per offset, a bool array of shape out_sizes marking windows whose element at that
        offset lies in the input (not padding), or None where all of them do."""
        masks = []
        for offset in self.offsets:
            per_axis = []
            for o, n, s, p, size, e in zip(offset, self.out_sizes, self.stride, self.padding,
                                           self.spatial, self.dilation):
                per_axis.append([p <= i * s + o * e < p + size for i in range(n)])
            if all(all(axis) for axis in per_axis):
                masks.append(None)
                continue
            mask = None
            d = len(per_axis)
            for j, axis in enumerate(per_axis):
                shape = tuple(len(axis) if i == j else 1 for i in range(d))
                m = xp.reshape(xp.asarray(axis, device=device), shape)
                mask = m if mask is None else xp.logical_and(mask, m)
            masks.append(mask)
        return masks


@register_generic("max_pool_forward")
def max_pool_forward(xp, x, kernel, stride, padding, dilation, out_sizes, device):
    """The generic twin: ``(maxima, positions)``, positions the index of each window's winning
    kernel offset (int32), computed by comparing one strided slice per offset."""
    win = _Windows(x.shape, kernel, stride, padding, out_sizes, dilation)
    padded = win.pad(xp, x, -math.inf, device)
    masks = win.valid_masks(xp, device) if win.needs_padding else [None] * len(win.offsets)
    best = arg = seen = None
    for k, (offset, valid) in enumerate(zip(win.offsets, masks)):
        v = padded[win.key(offset)]
        if best is None:
            best = v
            arg = xp.zeros(v.shape, dtype=xp.int32, device=device)
            seen = valid
            continue
        take = xp.logical_or(v > best, xp.isnan(v))
        if seen is not None:
            # Padding never wins: the first in-input element of a window starts its max
            # even when it is -inf (PyTorch's kernel skips padding the same way).
            take = xp.logical_or(take, xp.logical_not(seen))
        if valid is not None:
            take = xp.logical_and(take, valid)
            if seen is not None:
                seen = xp.logical_or(seen, valid)
        else:
            seen = None  # every window has now seen an input element
        best = xp.where(take, v, best)
        arg = xp.where(take, xp.asarray(k, dtype=xp.int32, device=device), arg)
    return best, arg


@register_generic("max_pool_backward")
def max_pool_backward(xp, g, arg, in_shape, kernel, stride, padding, dilation, out_sizes,
                      device):
    """The generic twin: each window's gradient to the offset ``arg`` names."""
    win = _Windows(in_shape, kernel, stride, padding, out_sizes, dilation)
    zero = xp.zeros_like(g)
    pieces = (xp.where(arg == k, g, zero) for k in range(len(win.offsets)))
    return win.scatter(xp, pieces, g.dtype, device)


class MaxPool(Function):
    """Max over each window; the gradient goes to the window's first maximum (row-major order,
    as PyTorch's CPU kernel), and a NaN in a window wins, as there."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_sizes):
        forward = get_kernel("max_pool_forward", ctx.backend)
        # The backward must read positions the way this forward wrote them.
        ctx.backward_kernel = get_kernel("max_pool_backward", ctx.backend,
                                         fast_paths=forward is not max_pool_forward)
        ctx.geometry = (tuple(x.shape), kernel, stride, padding, dilation, out_sizes)
        best, arg = forward(ctx.xp, x, kernel, stride, padding, dilation, out_sizes,
                            ctx.backend.device)
        ctx.save_for_backward(arg)
        return best

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved_tensors
        grad = ctx.backward_kernel(ctx.xp, g, arg, *ctx.geometry, ctx.backend.device)
        return grad, None, None, None, None, None


@register_generic("avg_pool_forward")
def avg_pool_forward(xp, x, kernel, stride, padding, out_sizes, divisor, device):
    """The generic twin: the sum of the window's strided views over the zero-padded input,
    divided by ``divisor`` (a number, or nested lists of shape out_sizes)."""
    win = _Windows(x.shape, kernel, stride, padding, out_sizes)
    padded = win.pad(xp, x, 0, device)
    if not isinstance(divisor, (int, float)):
        divisor = xp.asarray(divisor, dtype=x.dtype, device=device)
    total = None
    for offset in win.offsets:
        v = padded[win.key(offset)]
        total = v if total is None else total + v
    return total / divisor


@register_generic("avg_pool_backward")
def avg_pool_backward(xp, g, in_shape, kernel, stride, padding, out_sizes, divisor, device):
    """The generic twin: ``g / divisor`` added back to every position of its window."""
    win = _Windows(in_shape, kernel, stride, padding, out_sizes)
    if not isinstance(divisor, (int, float)):
        divisor = xp.asarray(divisor, dtype=g.dtype, device=device)
    share = g / divisor
    return win.scatter(xp, (share for _ in win.offsets), g.dtype, device)


class AvgPool(Function):
    """Mean over each window; ``divisor`` is a Python number or nested lists of shape
    out_sizes (PyTorch's counts without the padding, or ``divisor_override``)."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_sizes, divisor):
        forward = get_kernel("avg_pool_forward", ctx.backend)
        ctx.backward_kernel = get_kernel("avg_pool_backward", ctx.backend,
                                         fast_paths=forward is not avg_pool_forward)
        ctx.geometry = (tuple(x.shape), kernel, stride, padding, out_sizes, divisor)
        return forward(ctx.xp, x, kernel, stride, padding, out_sizes, divisor,
                       ctx.backend.device)

    @staticmethod
    def backward(ctx, g):
        grad = ctx.backward_kernel(ctx.xp, g, *ctx.geometry, ctx.backend.device)
        return grad, None, None, None, None, None


class AdaptiveAvgPool(Function):
    """Adaptive average over the last one or two axes as products with averaging matrices
    (``A @ x @ B.T``): one matmul per axis instead of a loop over the uneven windows."""

    @staticmethod
    def forward(ctx, x, out_sizes):
        xp, device = ctx.xp, ctx.backend.device
        d = len(out_sizes)
        mats = []
        for size, out in zip(x.shape[-d:], out_sizes):
            rows = []
            for start, end in adaptive_bounds(size, out):
                rows.append([1 / (end - start) if start <= j < end else 0.0 for j in range(size)])
            mats.append(xp.asarray(rows, dtype=x.dtype, device=device))
        ctx.mats = mats
        y = xp.matmul(x, xp.matrix_transpose(mats[-1]))
        if d == 2:
            y = xp.matmul(mats[0], y)
        return y

    @staticmethod
    def backward(ctx, g):
        xp, mats = ctx.xp, ctx.mats
        grad = xp.matmul(g, mats[-1])
        if len(mats) == 2:
            grad = xp.matmul(xp.matrix_transpose(mats[0]), grad)
        return grad, None
