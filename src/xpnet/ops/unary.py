"""Elementwise math functions, dtype casts and moves between backends."""

from __future__ import annotations

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

__all__ = ["exp", "log", "sqrt", "abs", "log1p", "expm1", "sin", "cos", "square", "sign",
           "astype", "clone", "move_to_backend"]


class Exp(Function):
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
    if not (x.dtype.is_floating_point or x.dtype.kind == "complex floating"):
        return x.astype(_dt.get_default_dtype())  # PyTorch: exp(int tensor) is float
    return x


def exp(x):
    return Exp.apply(_float_input("exp", x))


def expm1(x):
    """``exp(x) - 1``, accurate for small x."""
    return Expm1.apply(_float_input("expm1", x))


def log(x):
    return Log.apply(_float_input("log", x))


def log1p(x):
    """``log(1 + x)``, accurate for small x."""
    return Log1p.apply(_float_input("log1p", x))


def sqrt(x):
    return Sqrt.apply(_float_input("sqrt", x))


def sin(x):
    return Sin.apply(_float_input("sin", x))


def cos(x):
    return Cos.apply(_float_input("cos", x))


def abs(x):  # noqa: A001 - the standard's name
    return Abs.apply(x)


def square(x):
    return Square.apply(x)


def sign(x):
    """-1, 0 or 1 by sign (not differentiable: its derivative is zero almost everywhere)."""
    return Tensor._make(x._backend.xp.sign(x.array), x._backend)


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
