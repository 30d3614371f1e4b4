"""Activation functions. The primitives live in `xpnet.ops.activation`; PReLU and RReLU are
composites of `where`."""

from __future__ import annotations

from xpnet.backend.random import default_generator
from xpnet.autograd.tensor import Tensor
from xpnet.ops import activation as _activation
from xpnet.ops.activation import (
    celu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, in_place, logsigmoid, mish, relu6,
    selu, silu, softmin, softshrink, softsign, tanhshrink, threshold,
)
from xpnet.ops import (
    elu, gelu, leaky_relu, log_softmax, logsumexp, relu, sigmoid, softmax, softplus, tanh, where,
)

__all__ = ["celu", "celu_", "elu", "elu_", "gelu", "glu", "hardshrink", "hardsigmoid",
           "hardswish", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "log_softmax",
           "logsigmoid", "logsumexp", "mish", "prelu", "relu", "relu6", "rrelu", "rrelu_", "selu",
           "selu_", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign",
           "tanh", "tanhshrink", "threshold", "threshold_"]


def prelu(x, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has one slope, or one per
    channel (axis 1 of ``x``)."""
    if weight.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    n = weight.shape[0]
    if n != 1:
        if x.ndim < 2 or x.shape[1] != n:
            raise ValueError(f"prelu: {n} slopes need input with {n} channels on axis 1, got "
                             f"shape {x.shape}")
        weight = weight.reshape((n,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, weight * x)


def rrelu(x, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    """Randomized leaky ReLU (Xu et al., 2015): in training each negative element gets its own
    slope drawn from U(lower, upper); in evaluation the slope is the mean, (lower + upper) / 2."""
    lower = _activation._scalar("rrelu", "lower", lower)
    upper = _activation._scalar("rrelu", "upper", upper)
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(x, (lower + upper) / 2, inplace=inplace)
    g = generator or default_generator
    slopes = Tensor._make(g.uniform(x._backend, x.shape, x.dtype, lower, upper), x._backend)
    # x > 0, not >= 0: at 0 the derivative is the drawn slope, as in torch and leaky_relu.
    return in_place("rrelu", x, where(x > 0, x, slopes * x), inplace)


# PyTorch's in-place spellings (F.elu_...): the function with inplace=True.

def elu_(input, alpha=1.0):  # noqa: A002 - PyTorch's names
    """`elu` in place: ``input`` holds the result and is returned."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    """`leaky_relu` in place: ``input`` holds the result and is returned."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    """`hardtanh` in place: ``input`` holds the result and is returned."""
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input):  # noqa: A002
    """`selu` in place: ``input`` holds the result and is returned."""
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):  # noqa: A002
    """`celu` in place: ``input`` holds the result and is returned."""
    return celu(input, alpha, inplace=True)


def threshold_(input, threshold, value):  # noqa: A002
    """`threshold` in place: ``input`` holds the result and is returned."""
    # The parameter shadows the function of the same name (PyTorch's signature).
    return _activation.threshold(input, threshold, value, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):  # noqa: A002
    """`rrelu` in place: ``input`` holds the result and is returned."""
    return rrelu(input, lower, upper, training, inplace=True, generator=generator)
