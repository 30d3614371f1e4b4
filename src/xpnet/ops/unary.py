"""Elementwise math functions of one tensor, dtype casts and moves between backends."""

from __future__ import annotations

import math
import numbers

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

__all__ = ["exp", "log", "sqrt", "abs", "log1p", "expm1", "sin", "cos", "square", "sign",
           "sgn", "signbit", "floor", "ceil", "round", "trunc", "fix", "frac", "rsqrt",
           "reciprocal", "log2", "log10", "exp2", "tan", "asin", "arcsin", "acos", "arccos",
           "atan", "arctan", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh", "atanh",
           "arctanh", "nan_to_num", "astype", "clone", "move_to_backend"]


class Exp(Function):
    compute = staticmethod(lambda backend, x: backend.xp.exp(x))

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)


class Log(Function):
    compute = staticmethod(lambda backend, x: backend.xp.log(x))

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1)


class Sqrt(Function):
    compute = staticmethod(lambda backend, x: backend.xp.sqrt(x))

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.xp.sign(x)  # 0 at 0, as PyTorch


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.xp.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * ctx.xp.sin(x)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.square(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x


# -- one-input functions with a closed-form derivative -------------------------------------------

class _Smooth(Function):
    """``out = fn(xp, x)`` with ``d out / dx = derivative(xp, x, out)``; each subclass below
    only names the two (see `_smooth`)."""

    fn = derivative = None

    @staticmethod
    def forward(ctx, x):
        out = ctx.fn(ctx.xp, x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * ctx.derivative(ctx.xp, x, out)


def _smooth(name, fn, derivative):
    return type(name, (_Smooth,), {"fn": staticmethod(fn), "derivative": staticmethod(derivative),
                                   "__doc__": f"``{name.lower()}`` and its derivative."})


_LN2, _LN10 = math.log(2.0), math.log(10.0)

Tan = _smooth("Tan", lambda xp, x: xp.tan(x), lambda xp, x, out: 1 + out * out)
Asin = _smooth("Asin", lambda xp, x: xp.asin(x), lambda xp, x, out: 1 / xp.sqrt(1 - x * x))
Acos = _smooth("Acos", lambda xp, x: xp.acos(x), lambda xp, x, out: -1 / xp.sqrt(1 - x * x))
Atan = _smooth("Atan", lambda xp, x: xp.atan(x), lambda xp, x, out: 1 / (1 + x * x))
Sinh = _smooth("Sinh", lambda xp, x: xp.sinh(x), lambda xp, x, out: xp.cosh(x))
Cosh = _smooth("Cosh", lambda xp, x: xp.cosh(x), lambda xp, x, out: xp.sinh(x))
Asinh = _smooth("Asinh", lambda xp, x: xp.asinh(x), lambda xp, x, out: 1 / xp.sqrt(x * x + 1))
Acosh = _smooth("Acosh", lambda xp, x: xp.acosh(x), lambda xp, x, out: 1 / xp.sqrt(x * x - 1))
Atanh = _smooth("Atanh", lambda xp, x: xp.atanh(x), lambda xp, x, out: 1 / (1 - x * x))
Rsqrt = _smooth("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, out: -0.5 * out * out * out)
Reciprocal = _smooth("Reciprocal", lambda xp, x: 1 / x, lambda xp, x, out: -out * out)
Log2 = _smooth("Log2", lambda xp, x: xp.log2(x), lambda xp, x, out: 1 / (x * _LN2))
Log10 = _smooth("Log10", lambda xp, x: xp.log10(x), lambda xp, x, out: 1 / (x * _LN10))
# 2.0 ** x, not exp(x * ln 2): whole powers of two come out exact, as in torch.exp2.
Exp2 = _smooth("Exp2", lambda xp, x: 2.0 ** x, lambda xp, x, out: out * _LN2)
Frac = _smooth("Frac", lambda xp, x: x - xp.trunc(x), lambda xp, x, out: 1)


class _Step(Function):
    """A piecewise-constant ``fn(xp, x, **options)``. PyTorch gives these a zero gradient (not
    none), so a graph through them still runs backward; so do we."""

    fn = None

    @staticmethod
    def forward(ctx, x, **options):
        return ctx.fn(ctx.xp, x, **options)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g)


def _step(name, fn):
    return type(name, (_Step,), {"fn": staticmethod(fn),
                                 "__doc__": f"``{name.lower()}``, with a zero gradient."})


def _round_half_even(xp, x, decimals=0):
    # torch's recipe, so that results agree to the last bit: scale by 10**|decimals|, round half
    # to even, scale back (dividing by the power rather than multiplying by its inexact inverse).
    if decimals == 0:
        return xp.round(x)
    if decimals > 0:
        scale = 10.0 ** decimals
        return xp.round(x * scale) / scale
    scale = 10.0 ** -decimals
    return xp.round(x / scale) * scale


Floor = _step("Floor", lambda xp, x: xp.floor(x))
Ceil = _step("Ceil", lambda xp, x: xp.ceil(x))
Trunc = _step("Trunc", lambda xp, x: xp.trunc(x))
Round = _step("Round", _round_half_even)
Sign = _step("Sign", lambda xp, x: xp.sign(x))


class SgnComplex(Function):
    """``z / |z|`` (0 at 0) of a complex tensor."""

    @staticmethod
    def forward(ctx, z):
        xp = ctx.xp
        r = xp.abs(z)
        zero = r == 0
        safe_r = xp.where(zero, xp.ones_like(r), r)
        s = xp.where(zero, xp.zeros_like(z), z / xp.astype(safe_r, z.dtype))
        ctx.save_for_backward(s, r)
        return s

    @staticmethod
    def backward(ctx, g):
        s, r = ctx.saved_tensors
        xp = ctx.xp
        # s = z (z conj(z))^(-1/2): ds/dz = 1/(2r), ds/dconj(z) = -s^2/(2r); PyTorch's convention
        # turns these into (g - s^2 conj(g)) / (2r), and 0 where z = 0 (as torch).
        zero = r == 0
        two_r = xp.astype(xp.where(zero, xp.ones_like(r), 2 * r), s.dtype)
        grad = (g - s * s * xp.conj(g)) / two_r
        return xp.where(zero, xp.zeros_like(grad), grad)


class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = ctx.xp
        finite = xp.isfinite(x)
        ctx.save_for_backward(finite)
        info = xp.finfo(x.dtype)
        posinf = float(info.max) if posinf is None else posinf
        neginf = float(info.min) if neginf is None else neginf
        infinite = xp.where(x > 0, xp.full_like(x, posinf), xp.full_like(x, neginf))
        return xp.where(finite, x, xp.where(xp.isnan(x), xp.full_like(x, nan), infinite))

    @staticmethod
    def backward(ctx, g):
        (finite,) = ctx.saved_tensors
        return ctx.xp.where(finite, g, ctx.xp.zeros_like(g))


class AsType(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return ctx.xp.astype(x, dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.astype(g, ctx.in_dtype), None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.asarray(x, copy=True)

    @staticmethod
    def backward(ctx, g):
        return g


class MoveToBackend(Function):
    """Copy to another backend through the host; the gradient travels back the same way."""

    @staticmethod
    def forward(ctx, x, target):
        ctx.out_backend = target
        return target.asarray(ctx.backend.to_numpy(x))

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.asarray(ctx.out_backend.to_numpy(g)), None


def _float_input(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.array.dtype in x._backend.inexact_dtypes:  # the common case, one set lookup
        return x
    if not (x.dtype.is_floating_point or x.dtype.kind == "complex floating"):
        return x.astype(_dt.get_default_dtype())  # PyTorch: exp(int tensor) is float
    return x


def exp(x):
    return Exp.apply_one(_float_input("exp", x))


def expm1(x):
    """``exp(x) - 1``, accurate for small x."""
    return Expm1.apply(_float_input("expm1", x))


def log(x):
    return Log.apply_one(_float_input("log", x))


def log1p(x):
    """``log(1 + x)``, accurate for small x."""
    return Log1p.apply(_float_input("log1p", x))


def sqrt(x):
    return Sqrt.apply_one(_float_input("sqrt", x))


def sin(x):
    return Sin.apply(_float_input("sin", x))


def cos(x):
    return Cos.apply(_float_input("cos", x))


def abs(x):  # noqa: A001 - the standard's name
    return Abs.apply(x)


def square(x):
    return Square.apply(x)


def _kind(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x.dtype.kind


def _copy(x):
    """A new tensor with x's values (what PyTorch returns where the op changes nothing)."""
    return Tensor._make(x._backend.xp.asarray(x.array, copy=True), x._backend)


def sign(input):  # noqa: A002 - PyTorch's name
    """-1, 0 or 1 by the sign of each element (bool tensors are returned as they are).

    Differentiable with a zero gradient, as in PyTorch. Complex tensors: use `sgn`.

    Raises
    ------
    TypeError
        For a complex tensor.
    """
    kind = _kind("sign", input)
    if kind == "complex floating":
        raise TypeError("sign: complex tensors are not supported (as in PyTorch); use sgn, "
                        "which gives z / |z|")
    if kind == "bool":
        return _copy(input)
    return Sign.apply(input)


def sgn(input):  # noqa: A002 - PyTorch's name
    """`sign` extended to complex numbers: ``z / |z|``, and 0 at 0.

    Real tensors get `sign` (gradient zero); complex ones are differentiable in PyTorch's
    convention for complex gradients.
    """
    if _kind("sgn", input) == "complex floating":
        return SgnComplex.apply(input)
    return sign(input)


def signbit(input):  # noqa: A002 - PyTorch's name
    """True where the sign bit is set: negative numbers, and -0.0 (a bool tensor, not
    differentiable). Integer tensors: ``input < 0``; bool tensors: all False."""
    kind = _kind("signbit", input)
    xp, array = input._backend.xp, input.array
    if kind == "real floating":
        out = xp.signbit(array)
    elif kind == "bool":
        out = xp.zeros_like(array)
    elif kind.endswith("integer"):
        out = array < 0
    else:
        raise TypeError(f"signbit: expected a real tensor, got {input.dtype.name}")
    return Tensor._make(out, input._backend)


def _rounding(op, cls, input, **options):
    kind = _kind(op, input)
    if kind.endswith("integer"):
        return _copy(input)  # already whole numbers; PyTorch returns them unchanged
    if kind != "real floating":
        raise TypeError(f"{op}: expected a real floating-point or integer tensor, got "
                        f"{input.dtype.name}")
    return cls.apply(input, **options)


def floor(input):  # noqa: A002 - PyTorch's name
    """The largest whole number <= each element (gradient zero; integer tensors unchanged)."""
    return _rounding("floor", Floor, input)


def ceil(input):  # noqa: A002 - PyTorch's name
    """The smallest whole number >= each element (gradient zero; integer tensors unchanged)."""
    return _rounding("ceil", Ceil, input)


def trunc(input):  # noqa: A002 - PyTorch's name
    """Each element rounded toward zero (gradient zero; integer tensors unchanged)."""
    return _rounding("trunc", Trunc, input)


fix = trunc


def round(input, *, decimals=0):  # noqa: A001,A002 - PyTorch's names
    """Round to ``decimals`` decimal places, halves to even (as PyTorch and the standard).

    Parameters
    ----------
    input : Tensor
    decimals : int, default=0
        Places after the decimal point; negative rounds to tens, hundreds...

    Returns
    -------
    Tensor
        Same shape and dtype; the gradient is zero. Integer tensors come back unchanged
        (PyTorch refuses them with ``decimals != 0``, and so do we).

    Raises
    ------
    TypeError
        If ``decimals`` is not an int, or for a bool tensor or an integer one with decimals.
    """
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if decimals != 0 and _kind("round", input) != "real floating":
        raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got "
                        f"{input.dtype.name}")
    return _rounding("round", Round, input, decimals=int(decimals))


def frac(input):  # noqa: A002 - PyTorch's name
    """The fractional part, ``input - trunc(input)`` (sign of the input; gradient 1)."""
    if _kind("frac", input) != "real floating":
        raise TypeError(f"frac: expected a floating-point tensor, got {input.dtype.name}")
    return Frac.apply(input)


def _float_function(op, cls):
    def function(input):  # noqa: A002 - PyTorch's name
        return cls.apply(_float_input(op, input))
    function.__name__ = function.__qualname__ = op
    return function


rsqrt = _float_function("rsqrt", Rsqrt)
rsqrt.__doc__ = "``1 / sqrt(input)``; integer tensors give the default float dtype."
reciprocal = _float_function("reciprocal", Reciprocal)
reciprocal.__doc__ = "``1 / input``; integer tensors give the default float dtype."
log2 = _float_function("log2", Log2)
log2.__doc__ = "Base-2 logarithm; integer tensors give the default float dtype."
log10 = _float_function("log10", Log10)
log10.__doc__ = "Base-10 logarithm; integer tensors give the default float dtype."
exp2 = _float_function("exp2", Exp2)
exp2.__doc__ = "``2 ** input``; integer tensors give the default float dtype."
tan = _float_function("tan", Tan)
tan.__doc__ = "Tangent (radians); integer tensors give the default float dtype."
asin = _float_function("asin", Asin)
asin.__doc__ = "Inverse sine, in [-pi/2, pi/2]; nan outside [-1, 1]."
acos = _float_function("acos", Acos)
acos.__doc__ = "Inverse cosine, in [0, pi]; nan outside [-1, 1]."
atan = _float_function("atan", Atan)
atan.__doc__ = "Inverse tangent, in (-pi/2, pi/2)."
sinh = _float_function("sinh", Sinh)
sinh.__doc__ = "Hyperbolic sine; integer tensors give the default float dtype."
cosh = _float_function("cosh", Cosh)
cosh.__doc__ = "Hyperbolic cosine; integer tensors give the default float dtype."
asinh = _float_function("asinh", Asinh)
asinh.__doc__ = "Inverse hyperbolic sine."
acosh = _float_function("acosh", Acosh)
acosh.__doc__ = "Inverse hyperbolic cosine; nan below 1."
atanh = _float_function("atanh", Atanh)
atanh.__doc__ = "Inverse hyperbolic tangent; +-inf at +-1, nan outside [-1, 1]."
# NumPy's names, which PyTorch accepts too.
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002 - PyTorch's names
    """NaN, +inf and -inf replaced by finite numbers.

    Parameters
    ----------
    input : Tensor
    nan : float, default=0.0
    posinf, neginf : float, optional
        Replacements for +inf and -inf; by default the dtype's largest and smallest finite
        values.

    Returns
    -------
    Tensor
        Same shape and dtype; the gradient passes where the input was finite and is zero where
        it was replaced. Integer and bool tensors come back unchanged.

    Raises
    ------
    TypeError
        For a complex tensor, or a replacement that is not a number.
    """
    kind = _kind("nan_to_num", input)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and (not isinstance(value, numbers.Real) or isinstance(value, bool)):
            raise TypeError(f"nan_to_num: {name} must be a real number, got "
                            f"{type(value).__name__}")
    if kind != "real floating":
        if kind == "complex floating":
            raise TypeError("nan_to_num: complex tensors are not supported")
        return _copy(input)
    return NanToNum.apply(input, float(nan), None if posinf is None else float(posinf),
                          None if neginf is None else float(neginf))


def astype(x, dtype):
    """``x`` converted to ``dtype``; the gradient is converted back."""
    dt = _dt.as_dtype(dtype)
    if x.dtype is dt:
        return x
    native = x._backend.dtype(dt)
    if x.requires_grad and dt.is_floating_point:
        return AsType.apply(x, native)
    return Tensor._make(x._backend.xp.astype(x.array, native), x._backend)


def clone(x):
    """A copy of ``x`` with its own values; gradients flow back to ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"clone: expected a Tensor, got {type(x).__name__}")
    return Clone.apply(x)


def move_to_backend(x, backend):
    """``x`` copied onto another Backend (differentiable)."""
    return MoveToBackend.apply(x, backend)
