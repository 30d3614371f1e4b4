"""Elementwise math PyTorch has beyond the standard's basics: two-argument functions (atan2,
hypot, logaddexp, xlogy, copysign, fmax, heaviside, lerp...) and the special functions logit,
erfc and erfinv."""

from __future__ import annotations

import math
import numbers

from xpnet import dtypes
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel

from ._util import check_broadcast, sum_to_shape
from .arithmetic import _grads, _tensors, maximum, minimum
from .unary import _float_input

__all__ = ["atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "fmax",
           "fmin", "heaviside", "lerp", "logit", "erfc", "erfinv"]

_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _safe_reciprocal(xp, d):
    """1 / d, and 0 where d is 0 (without dividing by zero)."""
    zero = d == 0
    return xp.where(zero, xp.zeros_like(d), 1 / xp.where(zero, xp.ones_like(d), d))


def _sigmoid(xp, d):
    """1 / (1 + exp(-d)) from exp(-|d|), which cannot overflow; nan stays nan."""
    z = xp.exp(-xp.abs(d))
    return xp.where(d >= 0, 1 / (1 + z), z / (1 + z))


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, b)
        return ctx.xp.atan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        # PyTorch gives 0 (not nan) at the origin, where a^2 + b^2 = 0.
        scale = g * _safe_reciprocal(xp, a * a + b * b)
        return _grads(ctx, lambda: scale * b, lambda: -scale * a)


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        out = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        return _grads(ctx, lambda: g * a / out, lambda: g * b / out)  # nan at 0, as PyTorch


class LogAddExp(Function):
    """``log(exp(a) + exp(b))``, or with base 2 (``base2=True``)."""

    @staticmethod
    def forward(ctx, a, b, base2):
        xp = ctx.xp
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, b)
        ctx.scale = _LN2 if base2 else 1.0
        if not base2:
            return xp.logaddexp(a, b)
        # max + log2(1 + 2^-|a - b|); equal operands (infinities included, whose difference
        # is nan) give a + 1.
        same = a == b
        zero = xp.zeros_like(a)
        d = xp.where(same, zero, a) - xp.where(same, zero, b)
        out = xp.maximum(a, b) + xp.log1p(2.0 ** -xp.abs(d)) / _LN2
        return xp.where(same, a + 1, out)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        # d/da = 1 / (1 + base^(b - a)), a sigmoid: finite for infinite operands, as PyTorch.
        return _grads(ctx, lambda: g * _sigmoid(xp, (a - b) * ctx.scale),
                      lambda: g * _sigmoid(xp, (b - a) * ctx.scale))


class Xlogy(Function):
    @staticmethod
    def forward(ctx, x, y):
        xp = ctx.xp
        ctx.shapes = (x.shape, y.shape)
        # 0 where x is 0 (unless y is nan), even where log(y) is -inf or nan: y is replaced by 1
        # there, so x * log(1) = 0 and nothing warns.
        zero = xp.logical_and(x == 0, xp.logical_not(xp.isnan(y)))
        log_y = xp.log(xp.where(zero, xp.ones_like(y), y))
        ctx.save_for_backward(x, y, log_y)
        return x * log_y

    @staticmethod
    def backward(ctx, g):
        x, y, log_y = ctx.saved_tensors
        # d/dx is log(y), and 0 where x is 0 (log_y holds exactly that); d/dy = x / y.
        return _grads(ctx, lambda: g * log_y, lambda: g * x / y)


class Copysign(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.shapes = (a.shape, b.shape)
        out = xp.copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        xp = ctx.xp
        zero = a == 0
        # +-1 (out / a), 0 where a is 0; PyTorch defines the sign's gradient as zero.
        ratio = xp.where(zero, xp.zeros_like(out), out / xp.where(zero, xp.ones_like(a), a))
        return _grads(ctx, lambda: g * ratio, lambda: xp.zeros_like(g))


class NanExtremum(Function):
    """fmax/fmin: ``a`` where ``a`` wins or ties or ``b`` is nan, else ``b``; the gradient goes
    all to the chosen input (PyTorch's fmax does not split ties as maximum does)."""

    @staticmethod
    def forward(ctx, a, b, largest):
        xp = ctx.xp
        ctx.shapes = (a.shape, b.shape)
        wins = a >= b if largest else a <= b
        pick_a = xp.logical_or(wins, xp.isnan(b))
        ctx.save_for_backward(pick_a)
        return xp.where(pick_a, a, b)

    @staticmethod
    def backward(ctx, g):
        (pick_a,) = ctx.saved_tensors
        xp = ctx.xp
        zero = xp.zeros_like(g)
        return _grads(ctx, lambda: xp.where(pick_a, g, zero), lambda: xp.where(pick_a, zero, g))


class Heaviside(Function):
    @staticmethod
    def forward(ctx, x, values):
        xp = ctx.xp
        ctx.shapes = (x.shape, values.shape)
        at_zero = xp.logical_not(x) if xp.isdtype(x.dtype, "bool") else x == 0
        ctx.save_for_backward(at_zero)
        step = x if xp.isdtype(x.dtype, "bool") else xp.astype(x > 0, x.dtype)
        return xp.where(at_zero, values, step)

    @staticmethod
    def backward(ctx, g):
        (at_zero,) = ctx.saved_tensors
        xp = ctx.xp
        zero = xp.zeros_like(g)
        # The step is flat in x; ``values`` shows through where x is 0.
        return _grads(ctx, lambda: zero, lambda: xp.where(at_zero, g, zero))


class Lerp(Function):
    @staticmethod
    def forward(ctx, start, end, weight):
        xp = ctx.xp
        ctx.shapes = tuple(getattr(v, "shape", None) for v in (start, end, weight))
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        # From the nearer end, so that weight 1 gives ``end`` exactly (PyTorch's formula).
        if isinstance(weight, numbers.Real):
            return start + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
        return xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        xp = ctx.xp
        needs = ctx.needs_input_grad
        grads = (lambda: g * (1 - weight), lambda: g * weight, lambda: g * (end - start))
        return tuple(sum_to_shape(xp, grad(), shape) if need else None
                     for grad, shape, need in zip(grads, ctx.shapes, needs))


class Logit(Function):
    @staticmethod
    def forward(ctx, x, eps):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        return xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        grad = g / (x * (1 - x))
        # Outside [eps, 1 - eps] the clamp makes the output flat: 0. Without eps, outside
        # [0, 1] the function is undefined: nan (both as PyTorch).
        eps = ctx.eps
        if eps is None:
            outside, fill = xp.logical_or(x < 0, x > 1), xp.full_like(g, math.nan)
        else:
            outside, fill = xp.logical_or(x < eps, x > 1 - eps), xp.zeros_like(g)
        return xp.where(outside, fill, grad)


# -- erfc and erfinv, standard-only on top of the erf kernel ----------------------------------

def _erfc_taylor_coefficients(center, terms):
    """Taylor coefficients of erfc at ``center``: the k-th derivative (k >= 1) is
    (-1)^k 2/sqrt(pi) H_(k-1)(x) exp(-x^2), H the physicists' Hermite polynomials."""
    scale = _TWO_OVER_SQRT_PI * math.exp(-center * center)
    hermite = [1.0, 2 * center]
    while len(hermite) < terms:
        k = len(hermite) - 1
        hermite.append(2 * center * hermite[k] - 2 * k * hermite[k - 1])
    return [math.erfc(center)] + [(-1) ** k * scale * hermite[k - 1] / math.factorial(k)
                                  for k in range(1, terms)]


# erfc(x) = 1 - erf(x) loses digits once erf(x) nears 1: from x = 0.5 on, erfc comes from
# Taylor series at 0.75, 1.25 and 1.75 (|x - center| <= 0.25: ~1e-16 relative with 20 terms),
# and beyond 2 from the continued fraction (A&S 7.1.14; 60 terms: ~4e-15 relative at x = 2).
_ERFC_PIECES = tuple((center, _erfc_taylor_coefficients(center, 20))
                     for center in (0.75, 1.25, 1.75))
_ERFC_FRACTION_TERMS = 60


def _erf_and_erfc(xp, backend, x):
    erf = get_kernel("erf", backend)(xp, x)
    erfc = 1 - erf
    for center, coefficients in _ERFC_PIECES:
        h = x - center
        series = xp.full_like(x, coefficients[-1])
        for c in coefficients[-2::-1]:
            series = series * h + c
        erfc = xp.where(xp.logical_and(x > center - 0.25, x <= center + 0.25), series, erfc)
    # x clipped to [2, 30]: erfc(30) underflows to 0 even in float64, and big * big stays finite.
    big = xp.minimum(xp.where(x > 2, x, xp.full_like(x, 2.0)), xp.full_like(x, 30.0))
    fraction = big
    for k in range(_ERFC_FRACTION_TERMS, 0, -1):
        fraction = big + (k / 2) / fraction
    # exp(-x^2) as exp(-z^2) exp(-(x - z)(x + z)) with z = x rounded to 1/16: z^2 is exact, so
    # the rounding of x^2 (relative error eps * x^2 in the result) does not enter.
    z = xp.floor(big * 16) / 16
    gauss = xp.exp(-z * z) * xp.exp(-(big - z) * (big + z))
    tail = gauss / (math.sqrt(math.pi) * fraction)
    return erf, xp.where(x > 2, tail, erfc)


class Erfc(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_and_erfc(ctx.xp, ctx.backend, x)[1]

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -_TWO_OVER_SQRT_PI * g * ctx.xp.exp(-x * x)


_WINITZKI_A = 0.147  # Winitzki's erfinv approximation, relative error < 2e-3: the start
_HALLEY_STEPS = 3


def _erfinv(xp, backend, y):
    a = xp.abs(y)
    inside = a < 1  # False for nan
    a = xp.where(inside, a, xp.full_like(a, 0.5))  # +-1, |y| > 1 and nan are filled in last
    log_term = xp.log1p(-a) + xp.log1p(a)  # log(1 - a^2) without cancellation near 1
    t = 2 / (math.pi * _WINITZKI_A) + log_term / 2
    x = xp.sqrt(xp.sqrt(t * t - log_term / _WINITZKI_A) - t)
    small = a <= 0.5
    for _ in range(_HALLEY_STEPS):
        erf, erfc = _erf_and_erfc(xp, backend, x)
        # erf(x) - a, in the form that keeps its digits: near a = 1 both 1 - a (exact there)
        # and erfc(x) are small and accurate, while erf(x) - a would be rounding noise.
        residual = xp.where(small, erf - a, (1 - a) - erfc)
        newton = residual * (math.sqrt(math.pi) / 2) * xp.exp(x * x)
        x = x - newton / (1 + x * newton)  # Halley's step: erf'' / erf' = -2x
    edge = xp.where(xp.abs(y) == 1, xp.full_like(x, math.inf), xp.full_like(x, math.nan))
    x = xp.where(inside, x, edge)
    return xp.copysign(x, y)


class Erfinv(Function):
    @staticmethod
    def forward(ctx, y):
        out = _erfinv(ctx.xp, ctx.backend, y)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (math.sqrt(math.pi) / 2) * ctx.xp.exp(out * out)


# -- user-facing functions -----------------------------------------------------------------------

def _float_tensors(op, a, b):
    """Both operands as tensors of one floating kind: integers and bools give the default
    float dtype (PyTorch does so for atan2, xlogy and copysign; for hypot and logaddexp, which
    it refuses on integers, we do the same rather than fail)."""
    a, b = _tensors(op, a, b)
    if a.dtype.kind not in ("real floating", "complex floating") and \
            b.dtype.kind not in ("real floating", "complex floating"):
        default = dtypes.get_default_dtype()
        a, b = a.astype(default), b.astype(default)
    return a, b


def atan2(input, other):  # noqa: A002 - PyTorch's names
    """The angle of the point (other, input): ``atan(input / other)`` in the right quadrant,
    in [-pi, pi]. Both gradients are 0 at the origin (as PyTorch)."""
    return Atan2.apply(*_float_tensors("atan2", input, other))


arctan2 = atan2


def hypot(input, other):  # noqa: A002 - PyTorch's names
    """``sqrt(input^2 + other^2)`` without overflow or underflow in the squares."""
    return Hypot.apply(*_float_tensors("hypot", input, other))


def logaddexp(input, other):  # noqa: A002 - PyTorch's names
    """``log(exp(input) + exp(other))`` without overflow."""
    return LogAddExp.apply(*_float_tensors("logaddexp", input, other), base2=False)


def logaddexp2(input, other):  # noqa: A002 - PyTorch's names
    """``log2(2**input + 2**other)`` without overflow."""
    return LogAddExp.apply(*_float_tensors("logaddexp2", input, other), base2=True)


def xlogy(input, other):  # noqa: A002 - PyTorch's names
    """``input * log(other)``, and 0 where ``input`` is 0 (unless ``other`` is nan).

    The gradient with respect to ``input`` is ``log(other)``, and 0 where ``input`` is 0;
    with respect to ``other`` it is ``input / other`` (as PyTorch). Either may be a scalar;
    integers give the default float dtype.
    """
    return Xlogy.apply(*_float_tensors("xlogy", input, other))


def copysign(input, other):  # noqa: A002 - PyTorch's names
    """The magnitude of ``input`` with the sign (bit) of ``other``.

    The gradient is +-1 for ``input`` (0 where it is 0) and 0 for ``other`` (as PyTorch);
    integers give the default float dtype.
    """
    return Copysign.apply(*_float_tensors("copysign", input, other))


def _nan_extremum(op, input, other, largest):  # noqa: A002
    a, b = _tensors(op, input, other)
    kind = a.dtype.kind
    if kind == "complex floating":
        raise TypeError(f"{op}: complex tensors have no order")
    if kind == "real floating":
        return NanExtremum.apply(a, b, largest=largest)
    # No nan among integers and bools: the plain maximum/minimum (or/and for bools).
    return (maximum if largest else minimum)(a, b)


def fmax(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise maximum that ignores NaN: where one operand is NaN, the other (NaN only if
    both are). The gradient goes to the chosen operand, to ``input`` at ties."""
    return _nan_extremum("fmax", input, other, largest=True)


def fmin(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise minimum that ignores NaN: where one operand is NaN, the other (NaN only if
    both are). The gradient goes to the chosen operand, to ``input`` at ties."""
    return _nan_extremum("fmin", input, other, largest=False)


def heaviside(input, values):  # noqa: A002 - PyTorch's names
    """The step function: 0 where ``input < 0``, ``values`` where it is 0, 1 where it is > 0.

    Dtypes are promoted (PyTorch asks for equal ones). The gradient is 0 for ``input`` and
    passes to ``values`` where ``input`` is 0 (PyTorch defines none).

    Raises
    ------
    TypeError
        For complex tensors.
    """
    x, v = _tensors("heaviside", input, values)
    if x.dtype.kind == "complex floating":
        raise TypeError("heaviside: complex tensors are not supported")
    return Heaviside.apply(x, v)


def lerp(input, end, weight):  # noqa: A002 - PyTorch's names
    """Linear interpolation ``input + weight * (end - input)``.

    Parameters
    ----------
    input, end : Tensor
        Floating-point; broadcast together (and with ``weight``).
    weight : float or Tensor
        A Tensor weight is converted to ``input``'s dtype (as PyTorch).

    Returns
    -------
    Tensor
        Of the broadcast shape; ``end`` exactly where ``weight`` is 1. Differentiable with
        respect to all three.

    Raises
    ------
    TypeError
        For integer or bool tensors.
    """
    start, end = _tensors("lerp", input, end)
    if not start.dtype.is_floating_point and start.dtype.kind != "complex floating":
        raise TypeError(f"lerp: expected floating-point tensors, got {start.dtype.name}")
    if isinstance(weight, Tensor):
        weight = weight.astype(start.dtype)
        check_broadcast("lerp", start.shape, end.shape, weight.shape)
    elif isinstance(weight, numbers.Real) and not isinstance(weight, bool):
        weight = float(weight)
    else:
        raise TypeError(f"lerp: weight must be a float or a Tensor, got {type(weight).__name__}")
    return Lerp.apply(start, end, weight)


def logit(input, eps=None):  # noqa: A002 - PyTorch's names
    """The log-odds ``log(p / (1 - p))``, the inverse of `sigmoid`.

    Parameters
    ----------
    input : Tensor
        Probabilities; integers give the default float dtype.
    eps : float, optional
        When given, the input is first clamped to [eps, 1 - eps] (and the gradient is 0 where
        the clamp acts).

    Returns
    -------
    Tensor
        Same shape; +-inf at 0 and 1 and nan outside [0, 1] without ``eps``.
    """
    if eps is not None:
        if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
            raise TypeError(f"logit: eps must be a float or None, got {type(eps).__name__}")
        eps = float(eps)
    return Logit.apply(_float_input("logit", input), eps)


def erfc(input):  # noqa: A002 - PyTorch's name
    """The complementary error function ``1 - erf(input)``, accurate where it is tiny (it is
    not computed as a difference there)."""
    return Erfc.apply(_float_input("erfc", input))


def erfinv(input):  # noqa: A002 - PyTorch's name
    """The inverse of `erf` on [-1, 1]: +-inf at +-1, nan outside.

    Computed standard-only: an approximation (Winitzki 2008) refined by Halley steps on erf,
    or on erfc near +-1, where erf's digits run out.
    """
    return Erfinv.apply(_float_input("erfinv", input))
