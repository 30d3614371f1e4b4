"""The normalisation primitives: `Standardize`, and batch, layer and group normalisation with
their affine part inside.

``(x - mean) / sqrt(var + eps)`` over some axes, with the biased variance. Composed from
reductions it would be about eight graph nodes, each saving an input-sized array; as one node
it saves two arrays and its backward is the closed form (Ioffe and Szegedy, 2015, section 3):

    grad_x = invstd * (g - mean(g) - xhat * mean(g * xhat))

`BatchNorm`, `LayerNorm` and `GroupNorm` are that node with ``* weight + bias`` inside, each
running a forward and a backward kernel (`xpnet.backend.kernels`; the twins are below, the
NumPy fast paths in numba_layer_norm.py and numba_norms.py): these layers sit on the path of
every CNN or Transformer block, and a fused kernel reads the input twice where Standardize,
mul and add read and write it seven times. The layers no longer use `Standardize` (no affine
part); the ONNX exporter still knows it.
"""

from __future__ import annotations

import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel, register_generic

# BatchNorm, LayerNorm and GroupNorm stay out of the top-level namespace (nn.BatchNorm2d...)
__all__ = ["Standardize"]


class Standardize(Function):
    """``xhat = (x - mean) / sqrt(var + eps)`` over ``axes`` (a tuple), biased variance.

    ``stats``, when a list, receives the batch mean and biased variance (keepdims arrays, not
    differentiable), which batch normalisation needs for its running statistics.
    """

    @staticmethod
    def forward(ctx, x, axes, eps, stats=None):
        xp = ctx.xp
        mean = xp.mean(x, axis=axes, keepdims=True)
        centered = x - mean
        # Two passes (mean, then mean of squares of the centred values): the one-pass
        # E[x^2] - E[x]^2 loses all precision when |mean| >> std.
        var = xp.mean(centered * centered, axis=axes, keepdims=True)
        invstd = 1 / xp.sqrt(var + eps)
        xhat = centered * invstd
        if stats is not None:
            stats.extend((mean, var))
        ctx.axes = axes
        ctx.save_for_backward(xhat, invstd)
        return xhat

    @staticmethod
    def backward(ctx, g):
        xhat, invstd = ctx.saved_tensors
        xp, axes = ctx.xp, ctx.axes
        mean_g = xp.mean(g, axis=axes, keepdims=True)
        mean_gx = xp.mean(g * xhat, axis=axes, keepdims=True)
        return invstd * (g - mean_g - xhat * mean_gx), None, None


class LayerNorm(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last ``ndim`` axes, as one
    node with the affine part inside: layer normalisation is on the path of every Transformer
    block, and a fused kernel (`xpnet.backend.kernels`) reads ``x`` once where Standardize,
    mul and add read and write it seven times. ``weight`` and ``bias`` (each optional) have the
    normalised shape. Saves ``x``, ``weight`` and the per-row mean and 1/std.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, ndim, eps):
        xp = ctx.xp
        lead = x.shape[:x.ndim - ndim]
        rows = xp.reshape(x, (-1, math.prod(x.shape[x.ndim - ndim:])))
        flat = [None if a is None else xp.reshape(a, (-1,)) for a in (weight, bias)]
        ctx.backward_kernel = get_kernel("layer_norm_backward", ctx.backend)
        out, mean, rstd = get_kernel("layer_norm_forward", ctx.backend)(xp, rows, *flat, eps=eps)
        ctx.save_for_backward(rows, flat[0], mean, rstd)
        ctx.shapes = (x.shape, None if weight is None else weight.shape,
                      None if bias is None else bias.shape)
        return xp.reshape(out, (*lead, *x.shape[x.ndim - ndim:]))

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        rows, weight, mean, rstd = ctx.saved_tensors
        need = tuple(ctx.needs_input_grad[:3])
        grads = ctx.backward_kernel(xp, xp.reshape(g, rows.shape), rows, weight, mean, rstd,
                                    need=need)
        return tuple(None if grad is None else xp.reshape(grad, shape)
                     for grad, shape in zip(grads, ctx.shapes))


@register_generic("layer_norm_forward")
def layer_norm_forward(xp, rows, weight, bias, *, eps):
    """rows (N, D) -> (out (N, D), mean (N, 1), rstd (N, 1)); weight, bias (D,) or None."""
    mean = xp.mean(rows, axis=1, keepdims=True)
    centered = rows - mean
    # Two passes (mean, then mean of squares of the centred values): the one-pass
    # E[x^2] - E[x]^2 loses all precision when |mean| >> std.
    rstd = 1 / xp.sqrt(xp.mean(centered * centered, axis=1, keepdims=True) + eps)
    out = centered * rstd
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out, mean, rstd


@register_generic("layer_norm_backward")
def layer_norm_backward(xp, g, rows, weight, mean, rstd, *, need):
    """(d rows, d weight, d bias), each None unless ``need`` says so."""
    xhat = (rows - mean) * rstd
    grad_weight = xp.sum(g * xhat, axis=0) if need[1] else None
    grad_bias = xp.sum(g, axis=0) if need[2] else None
    grad_x = None
    if need[0]:
        gw = g if weight is None else g * weight
        grad_x = rstd * (gw - xp.mean(gw, axis=1, keepdims=True)
                         - xhat * xp.mean(gw * xhat, axis=1, keepdims=True))
    return grad_x, grad_weight, grad_bias


def _three_axes(x):
    """``x`` of shape (N, C, *) as (N, C, L), L the product of the rest (1 for (N, C))."""
    return (x.shape[0], x.shape[1], math.prod(x.shape[2:]))


class BatchNorm(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` per channel (axis 1) of ``(N, C, *)``
    input, as one node. In training (``mean`` and ``rstd`` None) the statistics are the
    batch's, over every axis but 1, and ``stats``, when a list, receives the batch mean and
    biased variance (arrays of shape (C,), not differentiable) for the running statistics.
    Otherwise ``mean`` and ``rstd = 1 / sqrt(running_var + eps)`` (arrays of shape (C,), not
    differentiable) are used. ``weight`` and ``bias`` (each optional) have shape (C,).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, rstd, *, eps, stats=None):
        xp = ctx.xp
        x3 = xp.reshape(x, _three_axes(x))
        out, mean, var, rstd = get_kernel("batch_norm_forward", ctx.backend)(
            xp, x3, weight, bias, mean, rstd, eps=eps)
        ctx.training = var is not None
        if stats is not None and ctx.training:
            stats.extend((mean, var))
        ctx.backward_kernel = get_kernel("batch_norm_backward", ctx.backend)
        ctx.save_for_backward(x3, weight, mean, rstd)
        ctx.x_shape = x.shape
        return xp.reshape(out, x.shape)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x3, weight, mean, rstd = ctx.saved_tensors
        grad_x, grad_weight, grad_bias = ctx.backward_kernel(
            xp, xp.reshape(g, x3.shape), x3, weight, mean, rstd, training=ctx.training,
            need=tuple(ctx.needs_input_grad[:3]))
        if grad_x is not None:
            grad_x = xp.reshape(grad_x, ctx.x_shape)
        return grad_x, grad_weight, grad_bias, None, None


class GroupNorm(Function):
    """Group normalisation of ``(N, C, *)`` input as one node: the C channels in ``groups``
    groups, each standardised per sample over its channels and the remaining axes, then
    ``* weight + bias`` per channel (each optional, shape (C,)). ``stats``, when a list,
    receives the mean and 1/std of each (sample, group), arrays of shape (N, groups).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, groups, eps, stats=None):
        xp = ctx.xp
        x3 = xp.reshape(x, _three_axes(x))
        out, mean, rstd = get_kernel("group_norm_forward", ctx.backend)(
            xp, x3, weight, bias, groups=groups, eps=eps)
        if stats is not None:
            stats.extend((mean, rstd))
        ctx.groups = groups
        ctx.backward_kernel = get_kernel("group_norm_backward", ctx.backend)
        ctx.save_for_backward(x3, weight, mean, rstd)
        ctx.x_shape = x.shape
        return xp.reshape(out, x.shape)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x3, weight, mean, rstd = ctx.saved_tensors
        grad_x, grad_weight, grad_bias = ctx.backward_kernel(
            xp, xp.reshape(g, x3.shape), x3, weight, mean, rstd, groups=ctx.groups,
            need=tuple(ctx.needs_input_grad[:3]))
        if grad_x is not None:
            grad_x = xp.reshape(grad_x, ctx.x_shape)
        return grad_x, grad_weight, grad_bias


def _channels(a, xp):
    """A per-channel array of shape (C,) as (1, C, 1), to broadcast over (N, C, L)."""
    return xp.reshape(a, (1, -1, 1))


@register_generic("batch_norm_forward")
def batch_norm_forward(xp, x, weight, bias, mean, rstd, *, eps):
    """x (N, C, L) -> (out, mean (C,), biased var (C,) or None, rstd (C,)): with the batch's
    statistics when ``mean`` and ``rstd`` are None, else with those; weight, bias (C,) or None."""
    var = None
    if mean is None:
        mean = xp.mean(x, axis=(0, 2))
        centered = x - _channels(mean, xp)
        # Two passes (mean, then mean of squares of the centred values): the one-pass
        # E[x^2] - E[x]^2 loses all precision when |mean| >> std.
        var = xp.mean(centered * centered, axis=(0, 2))
        rstd = 1 / xp.sqrt(var + eps)
    else:
        centered = x - _channels(mean, xp)
    out = centered * _channels(rstd, xp)
    if weight is not None:
        out = out * _channels(weight, xp)
    if bias is not None:
        out = out + _channels(bias, xp)
    return out, mean, var, rstd


@register_generic("batch_norm_backward")
def batch_norm_backward(xp, g, x, weight, mean, rstd, *, training, need):
    """(d x, d weight, d bias), each None unless ``need`` says so; ``training``: the mean and
    rstd were the batch's (and depend on x)."""
    r = _channels(rstd, xp)
    xhat = (x - _channels(mean, xp)) * r
    sum_g = xp.sum(g, axis=(0, 2))
    sum_gx = xp.sum(g * xhat, axis=(0, 2))
    grad_x = None
    if need[0]:
        scale = r if weight is None else r * _channels(weight, xp)
        if training:
            count = x.shape[0] * x.shape[2]
            grad_x = scale * (g - _channels(sum_g, xp) / count
                              - xhat * _channels(sum_gx, xp) / count)
        else:
            grad_x = scale * g
    return grad_x, (sum_gx if need[1] else None), (sum_g if need[2] else None)


def _grouped(a, groups, xp):
    """(N, C, L) -> (N, groups, C // groups * L): each group's values as one row."""
    return xp.reshape(a, (a.shape[0], groups, a.shape[1] // groups * a.shape[2]))


@register_generic("group_norm_forward")
def group_norm_forward(xp, x, weight, bias, *, groups, eps):
    """x (N, C, L) -> (out, mean (N, groups), rstd (N, groups)); weight, bias (C,) or None."""
    rows = _grouped(x, groups, xp)
    mean = xp.mean(rows, axis=2, keepdims=True)
    centered = rows - mean
    rstd = 1 / xp.sqrt(xp.mean(centered * centered, axis=2, keepdims=True) + eps)
    out = xp.reshape(centered * rstd, x.shape)
    if weight is not None:
        out = out * _channels(weight, xp)
    if bias is not None:
        out = out + _channels(bias, xp)
    return out, xp.reshape(mean, mean.shape[:2]), xp.reshape(rstd, rstd.shape[:2])


@register_generic("group_norm_backward")
def group_norm_backward(xp, g, x, weight, mean, rstd, *, groups, need):
    """(d x, d weight, d bias), each None unless ``need`` says so."""
    r = xp.reshape(rstd, (*rstd.shape, 1))
    xhat = xp.reshape((_grouped(x, groups, xp) - xp.reshape(mean, (*mean.shape, 1))) * r,
                      x.shape)
    grad_weight = xp.sum(g * xhat, axis=(0, 2)) if need[1] else None
    grad_bias = xp.sum(g, axis=(0, 2)) if need[2] else None
    grad_x = None
    if need[0]:
        gw = _grouped(g if weight is None else g * _channels(weight, xp), groups, xp)
        rows = _grouped(xhat, groups, xp)
        grad_x = xp.reshape(r * (gw - xp.mean(gw, axis=2, keepdims=True)
                                 - rows * xp.mean(gw * rows, axis=2, keepdims=True)), x.shape)
    return grad_x, grad_weight, grad_bias
