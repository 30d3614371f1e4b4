"""Broadcasting binary arithmetic, where/clip, and the non-differentiable comparisons."""

from __future__ import annotations

import math

from xpnet import dtypes
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from ._util import check_broadcast, is_scalar, promote_operands, sum_to_shape

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "maximum", "minimum", "where", "clip",
           "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
           "isfinite", "isnan"]


def _shape(a):
    """An operand's shape (None for a Python scalar, which promote_operands leaves as the only
    non-array operand)."""
    return getattr(a, "shape", None)


def _operands(op, a, b):
    """`promote_operands`, and two Tensors' shapes checked to broadcast (naming the op)."""
    a, b = promote_operands(op, a, b)
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


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ctx.xp.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return _grads(ctx, lambda: g, lambda: g)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ctx.xp.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return _grads(ctx, lambda: g, lambda: -g)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return ctx.xp.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        return _grads(ctx, lambda: xp.multiply(g, b), lambda: xp.multiply(g, a))


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
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
        ctx.shapes = (_shape(a), _shape(b))
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
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, g, ctx.xp.greater(a, b))


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
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
        ctx.shapes = (_shape(a), _shape(b))
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


# -- user-facing functions -------------------------------------------------------------------

def add(a, b):
    """``a + b`` with broadcasting; either may be a Python scalar."""
    return Add.apply(*_operands("add", a, b))


def sub(a, b):
    return Sub.apply(*_operands("sub", a, b))


def mul(a, b):
    return Mul.apply(*_operands("mul", a, b))


def div(a, b):
    """True division; integer inputs give the default float dtype (as PyTorch)."""
    a, b = _operands("div", a, b)
    t = a if isinstance(a, Tensor) else b
    if not t.dtype.is_floating_point and t.dtype.kind != "complex floating":
        default = dtypes.get_default_dtype()
        a = a.astype(default) if isinstance(a, Tensor) else float(a)
        b = b.astype(default) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


def neg(a):
    return Neg.apply(a)


def pow(a, b):  # noqa: A001 - the standard's name
    """``a ** b``; either may be a Python scalar."""
    a, b = _operands("pow", a, b)
    return Pow.apply(a, b)


def maximum(a, b):
    """Elementwise maximum; at ties the gradient is split evenly between a and b."""
    return Maximum.apply(*_operands("maximum", a, b))


def minimum(a, b):
    """Elementwise minimum; at ties the gradient is split evenly between a and b."""
    return Minimum.apply(*_operands("minimum", a, b))


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (broadcast together)."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    if condition.dtype.kind != "bool":
        raise TypeError(f"where: condition must have dtype bool, got {condition.dtype.name}")
    a, b = promote_operands("where", a, b)
    if is_scalar(a) and is_scalar(b):
        raise TypeError("where: at least one of a, b must be a Tensor")
    check_broadcast("where", *(t.shape for t in (condition, a, b) if isinstance(t, Tensor)))
    return Where.apply(condition, a, b)


def clip(x, min=None, max=None):  # noqa: A002 - PyTorch's and the standard's names
    """Limit values to [min, max]; bounds may be scalars, Tensors or None (unbounded)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
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


def _compare(op_name, xp_name):
    def compare(a, b):
        a, b = _operands(op_name, a, b)
        t = a if isinstance(a, Tensor) else b
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a._backend is not b._backend:
            from xpnet.autograd.function import check_same_backend
            check_same_backend(op_name, (a, b))
        da = a.array if isinstance(a, Tensor) else a
        db = b.array if isinstance(b, Tensor) else b
        return Tensor._make(getattr(t._backend.xp, xp_name)(da, db), t._backend)
    compare.__name__ = op_name
    compare.__doc__ = f"Elementwise ``{xp_name}`` as a bool Tensor (not differentiable)."
    return compare


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")
logical_and = _compare("logical_and", "logical_and")
logical_or = _compare("logical_or", "logical_or")


def logical_not(a):
    return Tensor._make(a._backend.xp.logical_not(a.array), a._backend)


def isfinite(a):
    return Tensor._make(a._backend.xp.isfinite(a.array), a._backend)


def isnan(a):
    return Tensor._make(a._backend.xp.isnan(a.array), a._backend)
