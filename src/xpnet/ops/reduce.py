"""Reductions over axes: sum, mean, max/min, var/std, logsumexp (and non-differentiable argmax...).

Each accepts the standard's ``axis``/``keepdims`` and PyTorch's ``dim``/``keepdim``.
"""

from __future__ import annotations

import builtins
import math

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from ._util import normalize_axes, normalize_axis, torch_axis_aliases

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "argmax", "argmin", "any", "all"]


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _drop_kept(xp, kept, shape, axes):
    """A keepdims=True result with the reduced axes removed."""
    return xp.reshape(kept, tuple(n for i, n in enumerate(shape) if i not in axes))


def _expand_back(xp, g, ctx):
    """A reduced gradient broadcast back over the input's shape."""
    return xp.broadcast_to(xp.reshape(g, ctx.kept), ctx.in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.kept = tuple(x.shape), _kept_shape(x.shape, axes)
        return ctx.xp.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(ctx.xp, g, ctx), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.kept = tuple(x.shape), _kept_shape(x.shape, axes)
        ctx.count = math.prod(x.shape[a] for a in axes)
        return ctx.xp.mean(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(ctx.xp, g / ctx.count, ctx), None, None


class Extreme(Function):
    """max or min; the gradient is shared evenly among tied extreme elements (as PyTorch's amax)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest):
        xp = ctx.xp
        ctx.in_shape, ctx.kept, ctx.axes = tuple(x.shape), _kept_shape(x.shape, axes), axes
        reduce = xp.max if largest else xp.min
        kept = reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, kept)
        return kept if keepdims else _drop_kept(xp, kept, x.shape, axes)

    @staticmethod
    def backward(ctx, g):
        x, kept = ctx.saved_tensors
        xp = ctx.xp
        hit = xp.astype(xp.equal(x, kept), g.dtype)
        count = xp.sum(hit, axis=ctx.axes, keepdims=True)
        return hit * (xp.reshape(g, ctx.kept) / count), None, None, None


class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        xp = ctx.xp
        ctx.in_shape, ctx.kept = tuple(x.shape), _kept_shape(x.shape, axes)
        ctx.denominator = math.prod(x.shape[a] for a in axes) - correction
        centered = x - xp.mean(x, axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        return xp.sum(centered * centered, axis=axes, keepdims=keepdims) / ctx.denominator

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        xp = ctx.xp
        return (2 / ctx.denominator) * centered * xp.reshape(g, ctx.kept), None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        xp = ctx.xp
        ctx.in_shape, ctx.kept = tuple(x.shape), _kept_shape(x.shape, axes)
        m = xp.max(x, axis=axes, keepdims=True)
        # Shift by the max so exp cannot overflow; an all -inf slice keeps shift 0 (result -inf).
        m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
        total = xp.sum(xp.exp(x - m), axis=axes, keepdims=True)
        # Only an all -inf slice sums to 0: give it -inf without log(0)'s divide-by-zero warning.
        empty = total == 0
        out = xp.where(empty, xp.full_like(total, -math.inf),
                       xp.log(xp.where(empty, xp.ones_like(total), total)) + m)
        ctx.save_for_backward(x, out)
        return out if keepdims else _drop_kept(xp, out, x.shape, axes)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        return xp.exp(x - out) * xp.reshape(g, ctx.kept), None, None


def _reduce_args(op, x, axis, keepdims, dim, keepdim):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    axis, keepdims = torch_axis_aliases(op, axis, keepdims, dim, keepdim)
    return normalize_axes(op, axis, x.ndim), keepdims


def _floating(op, x):
    if not (x.dtype.is_floating_point or x.dtype.kind == "complex floating"):
        return x.astype(_dt.get_default_dtype())
    return x


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Sum over ``axis`` (int, tuple, or None for all)."""
    axes, keepdims = _reduce_args("sum", x, axis, keepdims, dim, keepdim)
    return Sum.apply(x, axes, keepdims)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axes, keepdims = _reduce_args("mean", x, axis, keepdims, dim, keepdim)
    return Mean.apply(_floating("mean", x), axes, keepdims)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Largest value over ``axis``; tied maxima share the gradient evenly."""
    axes, keepdims = _reduce_args("max", x, axis, keepdims, dim, keepdim)
    _check_nonempty("max", x, axes)
    return Extreme.apply(x, axes, keepdims, True)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Smallest value over ``axis``; tied minima share the gradient evenly."""
    axes, keepdims = _reduce_args("min", x, axis, keepdims, dim, keepdim)
    _check_nonempty("min", x, axes)
    return Extreme.apply(x, axes, keepdims, False)


def _check_nonempty(op, x, axes):
    # builtins.any: this module's `any` is the tensor reduction.
    if builtins.any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {x.shape}, axis {axes})")


def var(x, axis=None, keepdims=False, *, correction=1, dim=None, keepdim=None):
    """Variance over ``axis`` with ``correction`` (1: unbiased, PyTorch's default; 0: biased)."""
    axes, keepdims = _reduce_args("var", x, axis, keepdims, dim, keepdim)
    return Var.apply(_floating("var", x), axes, keepdims, correction)


def std(x, axis=None, keepdims=False, *, correction=1, dim=None, keepdim=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    from .unary import sqrt
    axes, keepdims = _reduce_args("std", x, axis, keepdims, dim, keepdim)  # errors name std
    return sqrt(Var.apply(_floating("std", x), axes, keepdims, correction))


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow."""
    axes, keepdims = _reduce_args("logsumexp", x, axis, keepdims, dim, keepdim)
    return LogSumExp.apply(_floating("logsumexp", x), axes, keepdims)


def _index_reduction(name):
    def reduction(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = torch_axis_aliases(name, axis, keepdims, dim, keepdim)
        xp = x._backend.xp
        if axis is not None:
            axis = normalize_axis(name, axis, x.ndim)
        return Tensor._make(getattr(xp, name)(x.array, axis=axis, keepdims=keepdims), x._backend)
    reduction.__name__ = name
    reduction.__doc__ = f"Index of the {name[3:]}imum over ``axis`` (flattened when None); not differentiable."
    return reduction


argmax = _index_reduction("argmax")
argmin = _index_reduction("argmin")


def _bool_reduction(name):
    def reduction(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axes, keepdims = _reduce_args(name, x, axis, keepdims, dim, keepdim)
        return Tensor._make(getattr(x._backend.xp, name)(x.array, axis=axes, keepdims=keepdims),
                            x._backend)
    reduction.__name__ = name
    reduction.__doc__ = f"Logical {name} over ``axis`` as a bool Tensor."
    return reduction


any = _bool_reduction("any")  # noqa: A001
all = _bool_reduction("all")  # noqa: A001
