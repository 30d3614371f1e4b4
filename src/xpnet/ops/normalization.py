"""`Standardize`: the primitive under batch, layer and group normalisation.

``(x - mean) / sqrt(var + eps)`` over some axes, with the biased variance. Composed from
reductions it would be about eight graph nodes, each saving an input-sized array; as one node
it saves two arrays and its backward is the closed form (Ioffe and Szegedy, 2015, section 3):

    grad_x = invstd * (g - mean(g) - xhat * mean(g * xhat))

The affine part (``* weight + bias``) stays with `mul`/`add`, whose backward already sums the
weight and bias gradients over the broadcast axes.
"""

from __future__ import annotations

import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel, register_generic

__all__ = ["Standardize"]  # LayerNorm stays out of the top-level namespace (nn.LayerNorm)


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
