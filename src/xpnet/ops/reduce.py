"""Reductions over axes: sum, mean, prod, max/min, amax/amin, var/std, logsumexp, nansum...

Each takes PyTorch's positional ``dim``/``keepdim`` and the standard's keyword ``axis``/
``keepdims`` (the same parameters; giving both is a TypeError). ``dim`` may be an int or a tuple
(PyTorch's ``dim=()`` reduces every axis, the standard's ``axis=()`` none). `max` and `min` with
a ``dim`` return ``(values, indices)`` as PyTorch's; with ``axis=`` they return the values only,
as the standard's.
"""

from __future__ import annotations

import builtins
import math
import numbers

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from . import return_types
from ._util import axis_arg, normalize_axes, torch_axis_aliases
from .sorting import _along, _check_nonempty, _select, _tensor

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax",
           "argmax", "argmin", "var", "std", "var_mean", "std_mean", "logsumexp",
           "count_nonzero", "any", "all"]


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


class Prod(Function):
    """Product over ``axes``. Where a slice has no zero the gradient is ``g * out / x``; with
    one zero, only that element gets a gradient (the product of the others); with two or more,
    none does (every partial product still holds a zero)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        xp = ctx.xp
        ctx.in_shape, ctx.kept, ctx.axes = tuple(x.shape), _kept_shape(x.shape, axes), axes
        kept = xp.prod(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, kept)
        return kept if keepdims else _drop_kept(xp, kept, x.shape, axes)

    @staticmethod
    def backward(ctx, g):
        x, kept = ctx.saved_tensors
        xp = ctx.xp
        g = xp.reshape(g, ctx.kept)
        zero = x == 0
        if not bool(xp.any(zero)):
            return g * (kept / x), None, None
        one = xp.ones_like(x)
        zeros = xp.sum(xp.astype(zero, xp.int32), axis=ctx.axes, keepdims=True)
        others = xp.prod(xp.where(zero, one, x), axis=ctx.axes, keepdims=True)
        no_zero = g * others / xp.where(zero, one, x)
        lone_zero = xp.where(xp.logical_and(zero, zeros == 1), g * others, xp.zeros_like(x))
        return xp.where(zeros == 0, no_zero, lone_zero), None, None


class Extreme(Function):
    """max or min over axes; the gradient is shared evenly among the tied extreme elements, NaN
    matching NaN (PyTorch's amax/amin, and max/min without a dim)."""

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
        hit = xp.equal(x, kept)
        if xp.isdtype(x.dtype, "real floating"):
            hit = xp.logical_or(hit, xp.logical_and(xp.isnan(x), xp.isnan(kept)))
        hit = xp.astype(hit, g.dtype)
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


# -- argument handling -------------------------------------------------------------------------

def _reduce_args(op, x, axis, keepdims, dim, keepdim, empty_dim_is_all=True):
    """(sorted axes, keepdims) from either spelling. PyTorch's ``dim=()`` (or ``[]``) means
    every axis for most reductions; the standard's ``axis=()`` means none."""
    _tensor(op, "input", x)
    axis_arg(op, axis, dim)  # both given: TypeError
    if empty_dim_is_all and isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    axis, keepdims = torch_axis_aliases(op, axis, keepdims, dim, keepdim)
    return normalize_axes(op, axis, x.ndim), keepdims


def _floating(x):
    if not (x.dtype.is_floating_point or x.dtype.kind == "complex floating"):
        return x.astype(_dt.get_default_dtype())
    return x


def _with_dtype(x, dtype):
    """PyTorch's ``dtype=``: the input is cast to it before reducing."""
    return x if dtype is None else x.astype(_dt.as_dtype(dtype))


def _accumulating(x, dtype):
    """sum/prod's dtype: ``dtype`` if given; bool and integers accumulate in int64 (PyTorch)."""
    if dtype is not None:
        return _with_dtype(x, dtype)
    if x.dtype.kind == "bool" or x.dtype.is_integer:
        return x.astype(_dt.int64)
    return x


# -- sums and means ----------------------------------------------------------------------------

def sum(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None):  # noqa: A001,A002
    """Sum over ``dim`` (an int, a tuple, or None for every axis).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
        Axes to reduce (``axis=`` is the same parameter).
    keepdim : bool, default=False
        Keep reduced axes as size 1 (``keepdims=`` is the same parameter).
    dtype : xpnet dtype, optional
        Cast the input to it first; by default bool and integer inputs sum as int64.

    Returns
    -------
    Tensor
        ``input``'s shape without the reduced axes.
    """
    axes, keepdims = _reduce_args("sum", input, axis, keepdims, dim, keepdim)
    return Sum.apply(_accumulating(input, dtype), axes, keepdims)


def mean(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Mean over ``dim`` (arguments as `sum`); integer inputs give the default float dtype."""
    axes, keepdims = _reduce_args("mean", input, axis, keepdims, dim, keepdim)
    return Mean.apply(_floating(_with_dtype(input, dtype)), axes, keepdims)


def _without_nan(x):
    from .arithmetic import where
    from .logic import isnan
    if not x.dtype.is_floating_point:
        return x
    return where(isnan(x), 0.0, x)


def nansum(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """`sum` treating NaN as zero (NaN elements get a zero gradient)."""
    axes, keepdims = _reduce_args("nansum", input, axis, keepdims, dim, keepdim)
    return Sum.apply(_accumulating(_without_nan(_with_dtype(input, dtype)), dtype), axes,
                     keepdims)


def nanmean(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """`mean` of the non-NaN elements (NaN where a slice has none)."""
    from .arithmetic import div, where
    from .logic import isnan, logical_not
    axes, keepdims = _reduce_args("nanmean", input, axis, keepdims, dim, keepdim)
    x = _floating(_with_dtype(input, dtype))
    total = Sum.apply(_without_nan(x), axes, keepdims)
    count = Sum.apply(logical_not(isnan(x)).astype(x.dtype), axes, keepdims)
    empty = count == 0
    return where(empty, math.nan, div(total, where(empty, 1.0, count)))


def prod(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Product over ``dim`` (arguments as `sum`; bool and integers multiply as int64).

    The gradient is exact with zeros in the input: ``out / x`` where a slice has none, the
    product of the others for a slice's only zero, and zero otherwise (as PyTorch).
    """
    axes, keepdims = _reduce_args("prod", input, axis, keepdims, dim, keepdim)
    return Prod.apply(_accumulating(input, dtype), axes, keepdims)


# -- max and min -------------------------------------------------------------------------------

def _extreme(op, input, axes, keepdims, largest):
    if builtins.any(input.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {input.shape}, "
                         f"axis {axes})")
    return Extreme.apply(input, axes, keepdims, largest)


def _max_min(op, input, dim, keepdim, axis, keepdims, largest):
    if isinstance(dim, Tensor):  # torch.max(input, other): the elementwise maximum
        from .arithmetic import maximum, minimum
        _tensor(op, "input", input)
        if not (keepdim is None and axis is None and keepdims is None):
            raise TypeError(f"{op}: with a Tensor second argument ({op}(input, other), the "
                            f"elementwise {op}imum) there is no axis or keepdim")
        return (maximum if largest else minimum)(input, dim)
    if dim is None:  # the standard's meaning: values only, over axis (None: every axis)
        axes, keepdims = _reduce_args(op, input, axis, keepdims, None, keepdim)
        return _extreme(op, input, axes, keepdims, largest)
    _tensor(op, "input", input)
    axis_arg(op, axis, dim)  # both given: TypeError
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int (with a dim, {op} returns values and "
                        f"indices along it), got {type(dim).__name__}; for several axes use "
                        f"a{op}(input, dim) or {op}(input, axis=...)")
    dim, keepdim = torch_axis_aliases(op, None, keepdims, dim, keepdim)
    x, axis, zero_d = _along(op, input, dim, None, None)
    _check_nonempty(op, x, axis)
    xp = x._backend.xp
    array = xp.astype(x.array, xp.uint8) if x.dtype.kind == "bool" else x.array
    index = (xp.argmax if largest else xp.argmin)(array, axis=axis, keepdims=True)
    index = xp.astype(index, xp.int64)
    return _select(x, index, axis, keepdim, zero_d, getattr(return_types, op))


def max(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A001,A002
    """Largest value: of every element, along ``dim`` with its index, or elementwise.

    Parameters
    ----------
    input : Tensor
    dim : int or Tensor, optional
        An int: ``(values, indices)`` along that axis, as PyTorch's ``torch.max(input, dim)``;
        the gradient goes to the element at ``indices`` (the first of tied maxima). A Tensor:
        the elementwise maximum of the two (`maximum`).
    keepdim : bool, default=False
        Keep ``dim`` as size 1.
    axis : int or tuple of ints, optional
        The standard's spelling: the values only, over these axes. Tied maxima share the
        gradient evenly, as they do without any axis (PyTorch's rule for ``max(input)``).

    Returns
    -------
    Tensor or return_types.max
        NaN propagates (and its index is returned).

    Raises
    ------
    ValueError
        If a reduced axis is empty.
    """
    return _max_min("max", input, dim, keepdim, axis, keepdims, True)


def min(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A001,A002
    """Smallest value: of every element, along ``dim`` with its index, or elementwise; the
    rules of `max`."""
    return _max_min("min", input, dim, keepdim, axis, keepdims, False)


def amax(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """Largest value over ``dim`` (int, tuple, or None / ``()`` for every axis); tied maxima
    share the gradient evenly."""
    axes, keepdims = _reduce_args("amax", input, axis, keepdims, dim, keepdim)
    return _extreme("amax", input, axes, keepdims, True)


def amin(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """Smallest value over ``dim``; the rules of `amax`."""
    axes, keepdims = _reduce_args("amin", input, axis, keepdims, dim, keepdim)
    return _extreme("amin", input, axes, keepdims, False)


def aminmax(input, *, dim=None, keepdim=None, axis=None, keepdims=None):  # noqa: A002
    """``(min, max)`` over ``dim`` (default every axis) as a named tuple, each as `amin` and
    `amax`."""
    axes, keepdims = _reduce_args("aminmax", input, axis, keepdims, dim, keepdim)
    return return_types.aminmax(_extreme("aminmax", input, axes, keepdims, False),
                                _extreme("aminmax", input, axes, keepdims, True))


def _index_reduction(name):
    def reduction(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
        _tensor(name, "input", input)
        dim, keepdims = torch_axis_aliases(name, axis, keepdims, dim, keepdim)
        xp = input._backend.xp
        array = xp.astype(input.array, xp.uint8) if input.dtype.kind == "bool" else input.array
        if dim is not None:
            x, dim, zero_d = _along(name, input, dim, None, None)
            _check_nonempty(name, x, dim)
            if zero_d:
                array = xp.reshape(array, (1,))
        elif input.numel() == 0:
            raise ValueError(f"{name}: cannot reduce an empty tensor")
        out = getattr(xp, name)(array, axis=dim, keepdims=keepdims)
        if input.ndim == 0:
            out = xp.reshape(out, ())
        return Tensor._make(xp.astype(out, xp.int64), input._backend)
    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = (f"Index of the {name[3:]}imum along ``dim`` (of the flattened input when "
                         f"None; the first at ties; NaN counts as the {name[3:]}imum); int64, "
                         f"not differentiable.")
    return reduction


argmax = _index_reduction("argmax")
argmin = _index_reduction("argmin")


# -- variance and standard deviation -----------------------------------------------------------

def _correction(op, dim, unbiased, correction):
    """(dim, correction) from PyTorch's forms: ``var(x, unbiased)``, ``var(x, dim, unbiased)``
    and ``var(x, dim, correction=c)``."""
    if isinstance(dim, bool):  # var(input, unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice ({dim!r} and {unbiased!r})")
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: got both unbiased={unbiased!r} and correction={correction!r}; "
                            f"give one (unbiased=True is correction=1, False is 0)")
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}: unbiased must be a bool, got {type(unbiased).__name__}")
        return dim, int(unbiased)
    if correction is None:
        return dim, 1
    if isinstance(correction, bool) or not isinstance(correction, numbers.Real):
        raise TypeError(f"{op}: correction must be a number, got {type(correction).__name__}")
    return dim, correction


def _var(op, input, dim, unbiased, keepdim, correction, axis, keepdims):
    dim, correction = _correction(op, dim, unbiased, correction)
    axes, keepdims = _reduce_args(op, input, axis, keepdims, dim, keepdim)
    return Var.apply(_floating(input), axes, keepdims, correction), axes, keepdims


def var(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,  # noqa: A002
        keepdims=None):
    """Variance over ``dim``: ``sum((x - mean)**2) / (N - correction)``.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
        Axes to reduce (every axis when None). A bool here is PyTorch's ``var(input,
        unbiased)``.
    unbiased : bool, optional
        PyTorch's older spelling: True is ``correction=1``, False ``correction=0``.
    keepdim : bool, default=False
    correction : int or float, default=1
        Bessel's correction (1: unbiased estimate, 0: the population variance).

    Returns
    -------
    Tensor
        Integer inputs give the default float dtype.
    """
    return _var("var", input, dim, unbiased, keepdim, correction, axis, keepdims)[0]


def std(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,  # noqa: A002
        keepdims=None):
    """Standard deviation: ``sqrt(var(...))`` with the arguments of `var`."""
    from .unary import sqrt
    return sqrt(_var("std", input, dim, unbiased, keepdim, correction, axis, keepdims)[0])


def var_mean(input, dim=None, unbiased=None, keepdim=None, *, correction=None,  # noqa: A002
             axis=None, keepdims=None):
    """``(var, mean)`` over the same axes, with the arguments of `var` (a plain tuple, as
    PyTorch's)."""
    variance, axes, keepdims = _var("var_mean", input, dim, unbiased, keepdim, correction, axis,
                                    keepdims)
    return variance, Mean.apply(_floating(input), axes, keepdims)


def std_mean(input, dim=None, unbiased=None, keepdim=None, *, correction=None,  # noqa: A002
             axis=None, keepdims=None):
    """``(std, mean)`` over the same axes, with the arguments of `var`."""
    from .unary import sqrt
    variance, axes, keepdims = _var("std_mean", input, dim, unbiased, keepdim, correction, axis,
                                    keepdims)
    return sqrt(variance), Mean.apply(_floating(input), axes, keepdims)


# -- logsumexp, counting and logic -------------------------------------------------------------

def logsumexp(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """``log(sum(exp(input)))`` over ``dim`` (every axis when None), without overflow."""
    axes, keepdims = _reduce_args("logsumexp", input, axis, keepdims, dim, keepdim)
    return LogSumExp.apply(_floating(input), axes, keepdims)


def count_nonzero(input, dim=None, *, axis=None):  # noqa: A002
    """How many elements are not zero over ``dim`` (every axis when None); int64."""
    axes, _ = _reduce_args("count_nonzero", input, axis, False, dim, None)
    xp = input._backend.xp
    return Tensor._make(xp.astype(xp.count_nonzero(input.array, axis=axes), xp.int64),
                        input._backend)


def _bool_reduction(name):
    def reduction(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
        # PyTorch's all/any treat dim=() as no axis (unlike its other reductions).
        axes, keepdims = _reduce_args(name, input, axis, keepdims, dim, keepdim,
                                      empty_dim_is_all=False)
        return Tensor._make(getattr(input._backend.xp, name)(input.array, axis=axes,
                                                             keepdims=keepdims),
                            input._backend)
    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = (f"Logical {name} over ``dim`` (every axis when None; non-zero counts "
                         f"as true) as a bool Tensor.")
    return reduction


any = _bool_reduction("any")  # noqa: A001
all = _bool_reduction("all")  # noqa: A001
