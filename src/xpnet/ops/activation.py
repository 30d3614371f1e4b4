"""Activation functions and (log-)softmax."""

from __future__ import annotations

import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel

from ._util import axis_arg
from .reduce import logsumexp
from .unary import _float_input, exp

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "softmax",
           "log_softmax"]


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # exp(-|x|) cannot overflow; choose the form by sign.
        z = xp.exp(-xp.abs(x))
        r = 1 / (1 + z)
        out = xp.where(x >= 0, r, z * r)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class LeakyRelu(Function):
    """max(x, 0) + slope * min(x, 0); slope 0 is ReLU. The derivative at 0 is taken as slope."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        xp = ctx.xp
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = negative_slope
        if negative_slope == 0:
            return xp.where(positive, x, xp.zeros_like(x))
        return xp.where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        xp = ctx.xp
        other = xp.zeros_like(g) if ctx.slope == 0 else g * ctx.slope
        return xp.where(positive, g, other), None


class Elu(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        xp = ctx.xp
        positive = x > 0
        # expm1 of the clipped input: no overflow warning from the branch where() discards.
        negative_part = alpha * xp.expm1(xp.minimum(x, xp.zeros_like(x)))
        out = xp.where(positive, x, negative_part)
        ctx.save_for_backward(positive, negative_part)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, g):
        positive, negative_part = ctx.saved_tensors
        xp = ctx.xp
        return xp.where(positive, g, g * (negative_part + ctx.alpha)), None


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` as in PyTorch."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        z = x * beta
        # log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow for large z.
        soft = (xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        linear = z > threshold
        ctx.save_for_backward(z, linear)
        return xp.where(linear, x, soft)

    @staticmethod
    def backward(ctx, g):
        z, linear = ctx.saved_tensors
        xp = ctx.xp
        e = xp.exp(-xp.abs(z))
        r = 1 / (1 + e)
        sig = xp.where(z >= 0, r, e * r)
        return xp.where(linear, g, g * sig), None, None


class Gelu(Function):
    """x * Phi(x), Phi the standard normal CDF; or PyTorch's tanh approximation of it."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = ctx.xp
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
            t = xp.tanh(inner)
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + get_kernel("erf", ctx.backend)(xp, x * (1 / math.sqrt(2))))
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        if ctx.approximate == "tanh":
            x, t = ctx.saved_tensors
            d_inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner), None
        x, cdf = ctx.saved_tensors
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf), None


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow for any finite x."""
    return Sigmoid.apply(_float_input("sigmoid", x))


def tanh(x):
    return Tanh.apply(_float_input("tanh", x))


def in_place(op, x, result, inplace):
    """``result``, or with PyTorch's ``inplace=True`` ``x`` rebound to it (and returned)."""
    if not inplace:
        return result
    if inplace is not True:
        raise TypeError(f"{op}: inplace must be True or False, got {inplace!r}")
    return x._assign(op, result)


def relu(x, inplace=False):
    """``max(x, 0)``; ``inplace=True`` writes the result into ``x`` (PyTorch's ``relu_``)."""
    return in_place("relu", x, LeakyRelu.apply(x, 0), inplace)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return in_place("leaky_relu", x, LeakyRelu.apply(x, negative_slope), inplace)


def elu(x, alpha=1.0, inplace=False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return in_place("elu", x, Elu.apply(_float_input("elu", x), alpha), inplace)


def softplus(x, beta=1.0, threshold=20.0):
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(_float_input("softplus", x), beta, threshold)


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel, 2016); ``approximate='tanh'``
    uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` as PyTorch does."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float_input("gelu", x), approximate)


def log_softmax(x, axis=None, *, dim=None, dtype=None):
    """``x - logsumexp(x)`` along ``axis`` (PyTorch's ``dim``; default the last): stable for
    any finite input. ``dtype`` casts the input first, as PyTorch's."""
    axis = axis_arg("log_softmax", axis, dim, -1)
    if dtype is not None:
        x = x.astype(dtype)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=None, *, dim=None, dtype=None):
    """exp(log_softmax(x)) along ``axis`` (PyTorch's ``dim``; default the last)."""
    axis = axis_arg("softmax", axis, dim, -1)
    return exp(log_softmax(x, axis, dtype=dtype))
