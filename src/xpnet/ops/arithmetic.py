"""Broadcasting binary arithmetic, where and clip (the comparisons are in `xpnet.ops.logic`)."""

from __future__ import annotations

import math
import numbers
import reprlib

from xpnet import dtypes
from xpnet.autograd.function import Function, check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import register_generic

from ._util import check_broadcast, is_scalar, promote_operands, sum_to_shape

__all__ = ["add", "sub", "mul", "div", "divide", "true_divide", "floor_divide", "remainder",
           "fmod", "neg", "pow", "float_power", "maximum", "minimum", "where", "clip",
           "clamp_min", "clamp_max"]


_NAMES = ("input", "other")  # PyTorch's parameter names of most binary ops


def _describe(value):
    """``str 'a'``: a value's type and a short repr, for messages."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def refuse_operand(op, a, b, names=_NAMES):
    """Raise a TypeError naming ``op`` and the parameter if one operand, beside a Tensor, is
    neither a Tensor, a number nor a list of numbers; return otherwise.

    Called only once promotion has failed, so that valid calls pay nothing for it: the error
    would otherwise come from turning the operand into a tensor and name `tensor`.
    """
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        return
    for name, value in zip(names, (a, b)):
        if isinstance(value, (Tensor, numbers.Number)) or hasattr(value, "shape"):
            continue  # an array's own errors are clear enough
        raise TypeError(f"{op}: {name} must be a Tensor or a number (or a nested list of "
                        f"numbers), got {_describe(value)}") from None


def _operands(op, a, b, names=_NAMES):
    """`promote_operands`, and two Tensors' shapes checked to broadcast (naming the op)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        # The common case, two tensors of one dtype and backend, without a call (per-op cost).
        aa, ba = a.array, b.array
        if a._backend is b._backend and aa.dtype == ba.dtype:
            if aa.shape != ba.shape:
                check_broadcast(op, aa.shape, ba.shape)
            return a, b
    try:
        a, b = promote_operands(op, a, b)
    except TypeError:
        refuse_operand(op, a, b, names)
        raise
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        sa, sb = a.array.shape, b.array.shape
        if sa != sb:
            check_broadcast(op, sa, sb)
    return a, b


def _grads(ctx, ga, gb):
    """Per-input gradients reduced to each input's shape, None where not needed."""
    xp, (sa, sb) = ctx.xp, ctx.shapes
    need_a, need_b = ctx.needs_input_grad[-2:]  # where's condition comes first
    return (sum_to_shape(xp, ga(), sa) if need_a else None,
            sum_to_shape(xp, gb(), sb) if need_b else None)


# The binary ops keep both operands' shapes for backward's sum_to_shape; a Python scalar operand
# (the only non-array one promote_operands leaves) has shape None.
class Add(Function):
    compute = staticmethod(lambda backend, a, b: backend.kernels.add(backend.xp, a, b))

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        return ctx.backend.kernels.add(ctx.xp, a, b)

    @staticmethod
    def backward(ctx, g):
        # g for each input, without _grads' closures (the commonest backward: per-op cost).
        xp, (sa, sb) = ctx.xp, ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to_shape(xp, g, sa) if need_a else None,
                sum_to_shape(xp, g, sb) if need_b else None)


@register_generic("add")
def add_arrays(xp, a, b):
    """``xp.add(a, b)``, the sum behind ``+`` and behind the gradients autograd adds up (a
    fast path may share a large sum among threads)."""
    return xp.add(a, b)


class Sub(Function):
    compute = staticmethod(lambda backend, a, b: backend.xp.subtract(a, b))

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        return ctx.xp.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return _grads(ctx, lambda: g, lambda: -g)


class Mul(Function):
    compute = staticmethod(lambda backend, a, b: backend.xp.multiply(a, b))

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        ctx.save_for_backward(a, b)
        return ctx.xp.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        return _grads(ctx, lambda: xp.multiply(g, b), lambda: xp.multiply(g, a))


class Div(Function):
    compute = staticmethod(lambda backend, a, b: backend.xp.divide(a, b))

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        out = ctx.xp.divide(a, b)
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        xp = ctx.xp
        # d(a/b)/db = -a/b^2 = -out/b
        return _grads(ctx, lambda: xp.divide(g, b), lambda: -xp.divide(xp.multiply(g, out), b))


class Neg(Function):
    compute = staticmethod(lambda backend, a: backend.xp.negative(a))

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.negative(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.negative(g)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        out = xp.pow(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = ctx.xp

        def grad_base():
            # x**0 is constant in x: 0, not 0 * inf at x = 0 (PyTorch masks exponent == 0 too).
            if is_scalar(b):
                return xp.zeros_like(g) if b == 0 else g * b * xp.pow(a, b - 1)
            # Exponent 1 where it is 0, so that pow(0, -1) is never evaluated; the factor b
            # still makes those entries 0.
            safe_b = xp.where(xp.equal(b, 0), xp.ones_like(b), b)
            return g * b * xp.pow(a, safe_b - 1)

        def grad_exponent():
            # d(a^b)/db = a^b log a. PyTorch gives 0 where a == 0 (not 0 * -inf = nan); a
            # negative base gives nan, as there.
            if is_scalar(a):
                return g * out * (math.log(a) if a != 0 else 0.0)
            zero = xp.equal(a, 0)
            log_a = xp.log(xp.where(zero, xp.ones_like(a), a))
            return xp.where(zero, xp.zeros_like(out), g * out * log_a)

        return _grads(ctx, grad_base, grad_exponent)


def _extremum_grads(ctx, g, a_wins):
    """The gradient goes to the chosen input; ties split it evenly (as PyTorch)."""
    a, b = ctx.saved_tensors
    xp = ctx.xp
    tie = xp.equal(a, b)
    half = g / 2
    zero = xp.zeros_like(g)
    return _grads(ctx, lambda: xp.where(tie, half, xp.where(a_wins, g, zero)),
                  lambda: xp.where(tie, half, xp.where(a_wins, zero, g)))


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, g, ctx.xp.greater(a, b))


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, g, ctx.xp.less(a, b))


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        xp = ctx.xp
        ctx.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        ctx.save_for_backward(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        xp = ctx.xp
        zero = xp.zeros_like(g)
        ga, gb = _grads(ctx, lambda: xp.where(cond, g, zero), lambda: xp.where(cond, zero, g))
        return None, ga, gb


class Clip(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        xp = ctx.xp
        inside = xp.ones_like(x, dtype=xp.bool)
        if lo is not None:
            inside = xp.logical_and(inside, x >= lo)
        if hi is not None:
            inside = xp.logical_and(inside, x <= hi)
        return xp.where(inside, g, xp.zeros_like(g)), None, None


def _is_integral(xp, array):
    return xp.isdtype(array.dtype, "integral")


def _trunc_divide_integers(xp, a, b):
    """C's integer division (toward zero) from the standard's floor division."""
    q = xp.floor_divide(a, b)
    # floor and trunc differ only for a negative quotient that is not whole.
    return xp.where(xp.logical_and(q < 0, q * b != a), q + 1, q)


class RoundedDiv(Function):
    """``a / b`` rounded toward zero ('trunc') or down ('floor'); PyTorch gives both a zero
    gradient."""

    @staticmethod
    def forward(ctx, a, b, mode):
        xp = ctx.xp
        ctx.shapes = (a.shape, b.shape)
        if mode == "floor":
            return xp.floor_divide(a, b)
        if _is_integral(xp, a):
            return _trunc_divide_integers(xp, a, b)
        return xp.trunc(xp.divide(a, b))

    @staticmethod
    def backward(ctx, g):
        zero = ctx.xp.zeros_like(g)
        return _grads(ctx, lambda: zero, lambda: zero)


class Remainder(Function):
    """Python's ``a % b``: the sign of the divisor."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, b)
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        # a % b = a - b * floor(a / b), the floor held constant (as PyTorch).
        return _grads(ctx, lambda: g, lambda: -g * xp.floor_divide(a, b))


class Fmod(Function):
    """C's ``fmod(a, b)``: the sign of the dividend."""

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, b)
        if _is_integral(xp, a):
            r = xp.remainder(a, b)
            moved = xp.logical_and(r != 0, (r < 0) != (a < 0))
            return xp.where(moved, r - b, r)
        # The standard has no fmod; the remainder of the magnitudes is exact (no correction by
        # adding b happens when both are positive), and fmod takes the dividend's sign.
        return xp.copysign(xp.remainder(xp.abs(a), xp.abs(b)), a)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        return _grads(ctx, lambda: g, lambda: -g * xp.trunc(a / b))


# -- user-facing functions -------------------------------------------------------------------

# add, sub and mul test the commonest case, two tensors of one shape, dtype and backend, in
# line before `_operands` (a call less: 0.1 of a (4,) add's 1.3 us).
def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's names
    """``input + alpha * other`` with broadcasting; either may be a Python scalar."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and alpha == 1 and \
            input._backend is other._backend and input.array.dtype == other.array.dtype and \
            input.array.shape == other.array.shape:
        return Add.apply_two(input, other)
    if alpha != 1:
        other = _times("add", input, other, alpha)
    return Add.apply(*_operands("add", input, other))


def sub(input, other, *, alpha=1):  # noqa: A002
    """``input - alpha * other`` with broadcasting; either may be a Python scalar."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and alpha == 1 and \
            input._backend is other._backend and input.array.dtype == other.array.dtype and \
            input.array.shape == other.array.shape:
        return Sub.apply_two(input, other)
    if alpha != 1:
        other = _times("sub", input, other, alpha)
    return Sub.apply(*_operands("sub", input, other))


def _times(op, input, other, alpha):  # noqa: A002
    """``alpha * other``, both checked first (a str times an int is a str in Python)."""
    if not isinstance(alpha, numbers.Number):
        raise TypeError(f"{op}: alpha must be a number, got {_describe(alpha)}")
    if isinstance(other, Tensor):
        return mul(other, alpha)
    if not is_scalar(other):
        refuse_operand(op, input, other)
        other = _operands(op, input, other)[1]  # a list of numbers, as a tensor
        return mul(other, alpha)
    return other * alpha


def mul(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._backend is b._backend and \
            a.array.dtype == b.array.dtype and a.array.shape == b.array.shape:
        return Mul.apply_two(a, b)
    return Mul.apply(*_operands("mul", a, b))


def _scalar_as_tensor(value, like):
    """A Python scalar as a 0-d tensor of ``like``'s dtype (scalars never widen a tensor)."""
    kind = like.dtype.kind
    cast = (bool if kind == "bool" else int if kind.endswith("integer")
            else complex if kind == "complex floating" else float)
    return Tensor._make(like._backend.asarray(cast(value), dtype=like.dtype), like._backend)


def _tensors(op, a, b):
    """`_operands`, with a Python scalar operand turned into a 0-d tensor of the other's dtype
    (so that every backend's functions see two arrays)."""
    a, b = _operands(op, a, b)
    if not isinstance(a, Tensor):
        a = _scalar_as_tensor(a, b)
    elif not isinstance(b, Tensor):
        b = _scalar_as_tensor(b, a)
    return a, b


def _refuse_bool(op, *tensors):
    for t in tensors:
        if t.dtype.kind == "bool":
            raise TypeError(f"{op}: not defined for bool tensors (as in PyTorch); convert with "
                            f".long() or .float() first")


def _rounded_div(op, input, other, mode):  # noqa: A002
    if mode not in ("trunc", "floor"):
        raise ValueError(f"{op}: rounding_mode must be None, 'trunc' or 'floor', got {mode!r}")
    a, b = _tensors(op, input, other)
    _refuse_bool(op, a, b)
    return RoundedDiv.apply(a, b, mode=mode)


def div(input, other, *, rounding_mode=None):  # noqa: A002 - PyTorch's names
    """``input / other``, optionally rounded; either may be a Python scalar.

    Parameters
    ----------
    input, other : Tensor or scalar
        Broadcast together.
    rounding_mode : {None, 'trunc', 'floor'}, default=None
        None: true division (integer inputs give the default float dtype). 'trunc': rounded
        toward zero (C's integer division); 'floor': rounded down (Python's ``//``). Rounded
        results keep integer dtypes and have a zero gradient, as in PyTorch.

    Returns
    -------
    Tensor
        Of the broadcast shape.

    Raises
    ------
    ValueError
        For another ``rounding_mode`` or shapes that do not broadcast.
    TypeError
        For bool tensors with a rounding mode.
    """
    if rounding_mode is not None:
        return _rounded_div("div", input, other, rounding_mode)
    a, b = _operands("div", input, other)
    t = a if isinstance(a, Tensor) else b
    if not t.dtype.is_floating_point and t.dtype.kind != "complex floating":
        default = dtypes.get_default_dtype()
        a = a.astype(default) if isinstance(a, Tensor) else float(a)
        b = b.astype(default) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


divide = div


def true_divide(dividend, divisor):
    """``div(dividend, divisor)``: true division, integers giving the default float dtype."""
    return div(dividend, divisor)


def floor_divide(input, other):  # noqa: A002 - PyTorch's names
    """``input // other``, rounded down as Python does (``div(..., rounding_mode='floor')``).

    Integer inputs stay integers; the gradient is zero (PyTorch defines none).
    """
    return _rounded_div("floor_divide", input, other, "floor")


def remainder(input, other):  # noqa: A002 - PyTorch's names
    """``input % other`` with Python's sign rule: the result has the sign of ``other``.

    Gradients: 1 for ``input``, ``-floor(input / other)`` for ``other`` (as PyTorch). Integer
    inputs stay integers. See `fmod` for C's rule.

    Raises
    ------
    TypeError
        For bool tensors.
    """
    a, b = _tensors("remainder", input, other)
    _refuse_bool("remainder", a, b)
    return Remainder.apply(a, b)


def fmod(input, other):  # noqa: A002 - PyTorch's names
    """C's remainder: ``input - trunc(input / other) * other``, with the sign of ``input``.

    Gradients: 1 for ``input``, ``-trunc(input / other)`` for ``other`` (as PyTorch). Integer
    inputs stay integers. See `remainder` for Python's rule.

    Raises
    ------
    TypeError
        For bool tensors.
    """
    a, b = _tensors("fmod", input, other)
    _refuse_bool("fmod", a, b)
    return Fmod.apply(a, b)


def float_power(input, exponent):  # noqa: A002 - PyTorch's names
    """``input ** exponent`` computed in double precision: the result is float64 (complex128
    when either operand is complex), whatever the inputs' dtypes; gradients come back in each
    input's own dtype."""
    operands = (input, exponent)
    if not any(isinstance(v, Tensor) for v in operands):
        raise TypeError(f"float_power: expected at least one Tensor, got "
                        f"{type(input).__name__} and {type(exponent).__name__}")
    is_complex = any(isinstance(v, complex) or (isinstance(v, Tensor)
                                                 and v.dtype.kind == "complex floating")
                     for v in operands)
    wide = dtypes.complex128 if is_complex else dtypes.float64
    cast = complex if is_complex else float
    return pow(*(v.astype(wide) if isinstance(v, Tensor) else cast(v) for v in operands))


def clamp_min(input, min):  # noqa: A002 - PyTorch's names
    """``clip(input, min=min)``: values below ``min`` (a number or a Tensor) raised to it."""
    if min is None:
        raise TypeError("clamp_min: min must be a number or a Tensor, got None")
    return clip(input, min, None)


def clamp_max(input, max):  # noqa: A002 - PyTorch's names
    """``clip(input, max=max)``: values above ``max`` (a number or a Tensor) lowered to it."""
    if max is None:
        raise TypeError("clamp_max: max must be a number or a Tensor, got None")
    return clip(input, None, max)


def neg(a):
    return Neg.apply_one(a) if isinstance(a, Tensor) else Neg.apply(a)


def pow(a, b):  # noqa: A001 - the standard's name
    """``a ** b``; either may be a Python scalar."""
    a, b = _operands("pow", a, b, ("input", "exponent"))
    return Pow.apply(a, b)


def _bool_extremum(op, xp_name, a, b):
    """maximum/minimum of bool tensors: or/and (the standard orders only numbers)."""
    a, b, backend = _paired_arrays(op, a, b)
    return Tensor._make(getattr(backend.xp, xp_name)(a.array, b.array), backend)


def _both_bool(a, b):
    return all(isinstance(t, Tensor) and t.dtype.kind == "bool" for t in (a, b))


def maximum(a, b):
    """Elementwise maximum; at ties the gradient is split evenly between a and b."""
    if _both_bool(a, b):
        return _bool_extremum("maximum", "logical_or", a, b)
    return Maximum.apply(*_operands("maximum", a, b))


def minimum(a, b):
    """Elementwise minimum; at ties the gradient is split evenly between a and b."""
    if _both_bool(a, b):
        return _bool_extremum("minimum", "logical_and", a, b)
    return Minimum.apply(*_operands("minimum", a, b))


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (broadcast together)."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    if condition.dtype.kind != "bool":
        raise TypeError(f"where: condition must have dtype bool, got {condition.dtype.name}")
    try:
        a, b = promote_operands("where", a, b)
    except TypeError:
        refuse_operand("where", a, b)
        raise
    if is_scalar(a) and is_scalar(b):
        raise TypeError("where: at least one of a, b must be a Tensor")
    named = [(name, t.shape) for name, t in zip(("condition", "input", "other"), (condition, a, b))
             if isinstance(t, Tensor)]
    try:
        check_broadcast("where", *(shape for _, shape in named))
    except ValueError:
        raise ValueError("where: cannot broadcast " + ", ".join(
            f"{name} of shape {tuple(shape)}" for name, shape in named)) from None
    return Where.apply(condition, a, b)


def clip(x, min=None, max=None):  # noqa: A002 - PyTorch's and the standard's names
    """Limit values to [min, max]; bounds may be scalars, Tensors or None (unbounded)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if not isinstance(x, Tensor):
        raise TypeError(f"clip: input must be a Tensor, got {type(x).__name__}")
    for name, bound in (("min", min), ("max", max)):
        if not (bound is None or isinstance(bound, (Tensor, numbers.Number))):
            raise TypeError(f"clip: {name} must be a number, a Tensor or None, got "
                            f"{_describe(bound)}")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .logic import gt, lt
        # where(), not maximum/minimum, which split the gradient at ties: x on a bound keeps all
        # of it (as with scalar bounds, and in PyTorch); a bound gets it only where it wins.
        out = x
        if min is not None:
            out = where(lt(out, min), min, out)
        if max is not None:
            out = where(gt(out, max), max, out)
        return out
    if not x.dtype.is_floating_point and (isinstance(min, float) or isinstance(max, float)):
        x = x.astype("float32" if x.dtype.bits <= 32 else "float64")
    return Clip.apply(x, min, max)


def _paired_arrays(op, a, b):
    """Two tensors (scalars made tensors, dtypes promoted) on one backend, as arrays."""
    a, b = _tensors(op, a, b)
    backend = a._backend
    if b._backend is not backend:
        check_same_backend(op, (a, b))
    return a, b, backend
