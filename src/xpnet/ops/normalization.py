"""`Standardize`: the primitive under batch, layer and group normalisation.

``(x - mean) / sqrt(var + eps)`` over some axes, with the biased variance. Composed from
reductions it would be about eight graph nodes, each saving an input-sized array; as one node
it saves two arrays and its backward is the closed form (Ioffe and Szegedy, 2015, section 3):

    grad_x = invstd * (g - mean(g) - xhat * mean(g * xhat))

The affine part (``* weight + bias``) stays with `mul`/`add`, whose backward already sums the
weight and bias gradients over the broadcast axes.
"""

from __future__ import annotations

from xpnet.autograd.function import Function

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
