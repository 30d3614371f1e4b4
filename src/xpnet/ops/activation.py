"""Activation functions and (log-)softmax."""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet.autograd import grad_mode
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel, register_generic

from ._util import AxisError, axis_arg
from .arithmetic import where
from .reduce import logsumexp
from .shape import chunk
from .unary import _float_input, exp
from .unary import abs as absolute

# The other activations of torch.nn.functional (silu, mish, hardtanh...) are here too but not in
# __all__: PyTorch has these four at the top level (torch.selu...) and the rest only in F.
__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "softmax",
           "log_softmax", "selu", "celu", "threshold", "hardshrink"]


class Sigmoid(Function):
    compute = staticmethod(lambda backend, x: backend.kernels.sigmoid(backend.xp, x))

    @staticmethod
    def forward(ctx, x):
        out = get_kernel("sigmoid", ctx.backend)(ctx.xp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


@register_generic("sigmoid")
def sigmoid_kernel(xp, x):
    """1 / (1 + exp(-x)), exact for every x: exp(-|x|) cannot overflow, and the form is
    chosen by sign."""
    z = xp.exp(-xp.abs(x))
    r = 1 / (1 + z)
    return xp.where(x >= 0, r, z * r)


class Tanh(Function):
    compute = staticmethod(lambda backend, x: backend.xp.tanh(x))

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
        ctx.slope = negative_slope
        if negative_slope == 0:
            # maximum, not where: where on random signs costs several times more (branchy
            # selection), and maximum keeps NaN as PyTorch's relu does. Backward reads the
            # signs from the output (out > 0 exactly where x > 0), so the forward makes no
            # mask: one pass, and none at all kept without a graph.
            out = xp.maximum(x, 0)
            if grad_mode._enabled and ctx.needs_input_grad[0]:
                ctx.save_for_backward(out)
            return out
        positive = x > 0
        ctx.save_for_backward(positive)
        return xp.where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (saved,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx.slope == 0:
            return get_kernel("relu_backward", ctx.backend)(xp, g, saved), None
        return xp.where(saved, g, g * ctx.slope), None


@register_generic("relu_backward")
def relu_backward_kernel(xp, g, out):
    """ReLU's input gradient from its output: ``g`` where ``out > 0``, else 0 (also for a NaN
    output, as in PyTorch)."""
    return g * xp.astype(out > 0, g.dtype)


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
    # A float tensor goes straight on (a call less per op); _float_input checks the rest.
    if not (isinstance(x, Tensor) and x.array.dtype in x._backend.inexact_dtypes):
        x = _float_input("sigmoid", x)
    return Sigmoid.apply_one(x)


def tanh(x):
    if not (isinstance(x, Tensor) and x.array.dtype in x._backend.inexact_dtypes):
        x = _float_input("tanh", x)
    return Tanh.apply_one(x)


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


def _scalar(op, name, value):
    """A Python int or float for a numeric hyper-parameter (NumPy scalars converted: the
    standard mixes arrays only with Python scalars), or a TypeError naming ``op``."""
    if type(value) is float or type(value) is int:  # the common case, kept cheap
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} "
                        f"{value!r:.40}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    negative_slope = _scalar("leaky_relu", "negative_slope", negative_slope)
    return in_place("leaky_relu", x, LeakyRelu.apply(x, negative_slope), inplace)


def elu(x, alpha=1.0, inplace=False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    alpha = _scalar("elu", "alpha", alpha)
    return in_place("elu", x, Elu.apply(_float_input("elu", x), alpha), inplace)


def softplus(x, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Raises
    ------
    TypeError
        For a ``beta`` or ``threshold`` that is not a number.
    ValueError
        For ``beta <= 0``.
    """
    beta = _scalar("softplus", "beta", beta)
    threshold = _scalar("softplus", "threshold", threshold)
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(_float_input("softplus", x), beta, threshold)


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel, 2016); ``approximate='tanh'``
    uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` as PyTorch does."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float_input("gelu", x), approximate)


def check_dim(op, dim, ndim, word="dim"):
    """``dim`` as a non-negative int, or a TypeError/`AxisError` naming ``op`` with the valid
    range in PyTorch's words."""
    if type(dim) is not int and (isinstance(dim, bool) or not isinstance(dim, numbers.Integral)):
        raise TypeError(f"{op}: {word} must be an int, got {type(dim).__name__} {dim!r}")
    n = max(ndim, 1)  # a 0-d tensor has one dim to name, as in PyTorch
    if not -n <= dim < n:
        raise AxisError(f"{op}: {word} {dim} is out of range for a {ndim}-D tensor (expected to "
                        f"be in range of [{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def _softmax_axis(op, x, axis, dim, stacklevel):
    """The checked axis of softmax, log_softmax or softmin (errors say "dim", PyTorch's word,
    whichever spelling was used)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    axis = axis_arg(op, axis, dim)
    if axis is None:
        return _implicit_softmax_dim(op, x.ndim, stacklevel + 1)
    return check_dim(op, axis, x.ndim)


def _log_softmax(x, axis, dtype):
    if dtype is not None:
        x = x.astype(dtype)
    if x.ndim == 0:  # PyTorch takes dim 0 (or -1) of a 0-d tensor; the standard has no such axis
        return _log_softmax(x.reshape((1,)), 0, None).reshape(())
    return x - logsumexp(x, axis=axis, keepdims=True)


def log_softmax(x, axis=None, *, dim=None, dtype=None, _stacklevel=3):
    """``x - logsumexp(x)`` along ``axis`` (PyTorch's ``dim``): stable for any finite input.
    ``dtype`` casts the input first, as PyTorch's. Without an axis, PyTorch's deprecated
    implicit choice applies (0 for 0-, 1- and 3-d input, else 1), with its warning.

    Raises
    ------
    TypeError
        For an input that is not a Tensor, or a ``dim`` that is not an int.
    IndexError
        For a ``dim`` out of range (an `AxisError`, also a ValueError).
    """
    return _log_softmax(x, _softmax_axis("log_softmax", x, axis, dim, _stacklevel), dtype)


def softmax(x, axis=None, *, dim=None, dtype=None, _stacklevel=3):
    """exp(log_softmax(x)) along ``axis`` (PyTorch's ``dim``; without one, PyTorch's deprecated
    implicit choice, with its warning, as `log_softmax`, and its errors)."""
    return exp(_log_softmax(x, _softmax_axis("softmax", x, axis, dim, _stacklevel), dtype))


# -- more of torch.nn.functional's activations -------------------------------------------------
# Primitives where a composite would cost several graph nodes or lose digits; the derivative at
# each kink is PyTorch's (the value it returns there, checked by the tests).

# SELU's constants (Klambauer et al., 2017), to the digits PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _stable_sigmoid(xp, x):
    """sigmoid(x) and exp(-|x|), without overflow."""
    z = xp.exp(-xp.abs(x))
    r = 1 / (1 + z)
    return xp.where(x >= 0, r, z * r), z


class Hardtanh(Function):
    """``clip(x, min_val, max_val)``; the gradient is 1 strictly inside, 0 on the bounds."""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        inside = ctx.xp.logical_and(x > min_val, x < max_val)
        ctx.save_for_backward(inside)
        return ctx.xp.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return ctx.xp.where(inside, g, ctx.xp.zeros_like(g)), None, None


class Hardsigmoid(Function):
    """``clip(x + 3, 0, 6) / 6``; the gradient is 1/6 strictly inside (-3, 3).

    PyTorch's CPU kernel multiplies the gradient by 1/6 rounded to float32 even for float64
    (0.16666667163...); here it is 1/6 in the tensor's precision.
    """

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(xp.logical_and(x > -3, x < 3))
        return xp.clip(x + 3, 0.0, 6.0) / 6

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return ctx.xp.where(inside, g / 6, ctx.xp.zeros_like(g))


class Hardswish(Function):
    """``x * clip(x + 3, 0, 6) / 6`` (Howard et al., 2019); the gradient is 0 for x <= -3,
    1 for x >= 3 and ``x / 3 + 1/2`` between, as PyTorch's."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ctx.xp.clip(x + 3, 0.0, 6.0) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        middle = g * (x / 3 + 0.5)
        return xp.where(x <= -3, xp.zeros_like(g), xp.where(x >= 3, g, middle))


class Silu(Function):
    """``x * sigmoid(x)`` (Elfwing et al., 2017; "swish")."""

    @staticmethod
    def forward(ctx, x):
        s, _ = _stable_sigmoid(ctx.xp, x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * (1 - s))


class Mish(Function):
    """``x * tanh(softplus(x))`` (Misra, 2019), softplus in its overflow-free form."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        s, z = _stable_sigmoid(xp, x)
        t = xp.tanh(xp.maximum(x, xp.zeros_like(x)) + xp.log1p(z))
        ctx.save_for_backward(x, s, t)
        return x * t

    @staticmethod
    def backward(ctx, g):
        x, s, t = ctx.saved_tensors
        # d softplus / dx = sigmoid(x).
        return g * (t + x * s * (1 - t * t))


class LogSigmoid(Function):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: exact for every finite x."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        z = xp.exp(-xp.abs(x))
        ctx.save_for_backward(x, z)
        return xp.minimum(x, xp.zeros_like(x)) - xp.log1p(z)

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        r = 1 / (1 + z)
        # 1 - sigmoid(x) = sigmoid(-x), in the form that keeps its digits on each side.
        return g * ctx.xp.where(x >= 0, z * r, r)


class ScaledElu(Function):
    """``scale * (x if x > 0 else alpha * expm1(input_scale * x))``: SELU and CELU.

    At 0 the gradient is that of the exponential side, ``scale * alpha * input_scale``, as
    PyTorch's.
    """

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = ctx.xp
        positive = x > 0
        # expm1 of the clipped input: no overflow warning from the branch where() discards.
        negative = alpha * xp.expm1(xp.minimum(x, xp.zeros_like(x)) * input_scale)
        ctx.save_for_backward(positive, negative)
        ctx.constants = (alpha, scale, input_scale)
        out = xp.where(positive, x, negative)
        return out if scale == 1 else out * scale

    @staticmethod
    def backward(ctx, g):
        positive, negative = ctx.saved_tensors
        alpha, scale, input_scale = ctx.constants
        g = g if scale == 1 else g * scale
        return ctx.xp.where(positive, g, g * ((negative + alpha) * input_scale)), None, None, None


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002 - PyTorch's names
    """``input`` clipped to ``[min_val, max_val]``.

    The gradient is 1 strictly between the bounds and 0 on and beyond them (PyTorch's).

    Parameters
    ----------
    input : Tensor
    min_val, max_val : float, default=-1.0 and 1.0
    inplace : bool, default=False
        Rebind ``input`` to the result (PyTorch's ``hardtanh_``).

    Raises
    ------
    ValueError
        If ``min_val > max_val``.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.hardtanh(xpnet.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    min_val = _number("hardtanh", "min_val", min_val)
    max_val = _number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    x = _float_input("hardtanh", input)
    return in_place("hardtanh", input, Hardtanh.apply(x, min_val, max_val), inplace)


def relu6(input, inplace=False):  # noqa: A002
    """``min(max(input, 0), 6)``: `hardtanh` with bounds 0 and 6 (gradient 0 at both)."""
    x = _float_input("relu6", input)
    return in_place("relu6", input, Hardtanh.apply(x, 0.0, 6.0), inplace)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """Piecewise-linear sigmoid: 0 below -3, 1 above 3, ``input / 6 + 1/2`` between."""
    x = _float_input("hardsigmoid", input)
    return in_place("hardsigmoid", input, Hardsigmoid.apply(x), inplace)


def hardswish(input, inplace=False):  # noqa: A002
    """``input * hardsigmoid(input)`` (Howard et al., 2019, "Searching for MobileNetV3")."""
    x = _float_input("hardswish", input)
    return in_place("hardswish", input, Hardswish.apply(x), inplace)


def silu(input, inplace=False):  # noqa: A002
    """Sigmoid linear unit ``input * sigmoid(input)`` (Elfwing et al., 2017; Ramachandran et
    al.'s "swish"), without overflow for any finite input."""
    x = _float_input("silu", input)
    return in_place("silu", input, Silu.apply(x), inplace)


def mish(input, inplace=False):  # noqa: A002
    """``input * tanh(softplus(input))`` (Misra, 2019), without overflow for any finite input."""
    x = _float_input("mish", input)
    return in_place("mish", input, Mish.apply(x), inplace)


def logsigmoid(input):  # noqa: A002
    """``log(sigmoid(input))``, computed as ``min(x, 0) - log1p(exp(-|x|))``: exact and finite
    for every finite input (``logsigmoid(-1e4) == -1e4``)."""
    return LogSigmoid.apply(_float_input("logsigmoid", input))


def softsign(input):  # noqa: A002
    """``input / (1 + |input|)``."""
    x = _float_input("softsign", input)
    return x / (absolute(x) + 1)


def tanhshrink(input):  # noqa: A002
    """``input - tanh(input)``."""
    x = _float_input("tanhshrink", input)
    return x - tanh(x)


def selu(input, inplace=False):  # noqa: A002
    """Scaled ELU (Klambauer et al., 2017): ``scale * elu(input, alpha)`` with PyTorch's
    ``alpha = 1.6732632...`` and ``scale = 1.0507009...``."""
    x = _float_input("selu", input)
    return in_place("selu", input, ScaledElu.apply(x, SELU_ALPHA, SELU_SCALE, 1.0), inplace)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """Continuously differentiable ELU (Barron, 2017): ``input`` where positive,
    ``alpha * (exp(input / alpha) - 1)`` elsewhere.

    Raises
    ------
    ValueError
        For ``alpha == 0``.
    """
    alpha = _number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the input is divided by it)")
    x = _float_input("celu", input)
    return in_place("celu", input, ScaledElu.apply(x, alpha, 1.0, 1 / alpha), inplace)


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """``input`` where it is greater than ``threshold``, else ``value`` (gradient 0 there)."""
    threshold = _number("threshold", "threshold", threshold)
    value = _number("threshold", "value", value)
    return in_place("threshold", input, where(input > threshold, input, value), inplace)


def hardshrink(input, lambd=0.5):  # noqa: A002
    """``input`` where ``|input| > lambd``, else 0."""
    lambd = _number("hardshrink", "lambd", lambd)
    x = _float_input("hardshrink", input)
    return where(absolute(x) > lambd, x, 0.0)


def softshrink(input, lambd=0.5):  # noqa: A002
    """Shrink towards 0 by ``lambd``: ``input - lambd`` above ``lambd``, ``input + lambd`` below
    ``-lambd``, 0 between.

    Raises
    ------
    ValueError
        For a negative ``lambd``.
    """
    lambd = _number("softshrink", "lambd", lambd)
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    x = _float_input("softshrink", input)
    return where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0.0))


def glu(input, dim=-1):  # noqa: A002
    """Gated linear unit (Dauphin et al., 2017): ``a * sigmoid(b)`` for the two halves ``a``,
    ``b`` of ``input`` along ``dim``.

    Raises
    ------
    ValueError
        For a 0-d input or an odd size along ``dim``.
    IndexError
        For ``dim`` out of range (an `AxisError`, also a ValueError).
    """
    x = _float_input("glu", input)
    if x.ndim == 0:
        raise ValueError("glu: input must have at least one dimension, got a 0-d tensor")
    axis = check_dim("glu", dim, x.ndim, word="axis")
    if x.shape[axis] % 2:
        raise ValueError(f"glu: the size along dim {dim} must be even to be halved, got "
                         f"{x.shape[axis]} (input shape {x.shape})")
    a, b = chunk(x, 2, axis)
    return a * sigmoid(b)


def _implicit_softmax_dim(op, ndim, stacklevel):
    # PyTorch's legacy rule for dim=None, with its warning (stacklevel counts from the caller
    # of the public function, as PyTorch's _stacklevel).
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """``softmax(-input, dim)``.

    ``dim=None`` takes PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-d input, else
    1) with its warning; ``_stacklevel`` is where that warning points, as in PyTorch.
    """
    axis = _softmax_axis("softmin", input, None, dim, _stacklevel)
    x = input if dtype is None else input.astype(dtype)
    return exp(_log_softmax(-x, axis, None))
