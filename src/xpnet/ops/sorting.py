"""Sorting and ranking: sort, argsort, topk, kthvalue, median, mode (unique, bincount, histc,
searchsorted and bucketize are in `xpnet.ops.counting`).

Every op sorts with the standard's stable ``argsort`` (NaN last ascending, first descending, as
PyTorch), and picks values from the input at the sorted positions with `TakeAlong`, whose
gradient goes back to the picked elements through the scatter-add kernel. Functions that return
values and indices give a named tuple of `xpnet.ops.return_types`.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel

from . import return_types
from ._util import axis_arg, normalize_axis, torch_axis_aliases

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode"]


# -- primitives --------------------------------------------------------------------------------

def scatter_along(xp, backend, values, index, axis, shape):
    """Zeros of ``shape`` with ``values`` added at ``index`` along ``axis`` (repeats accumulate):
    the adjoint of ``take_along_axis``. ``values`` and ``index`` match ``shape`` off ``axis``."""
    n = shape[axis]
    moved_values = xp.moveaxis(values, axis, -1)
    moved_index = xp.moveaxis(index, axis, -1)
    lead = tuple(moved_values.shape[:-1])
    rows, k = math.prod(lead), moved_values.shape[-1]
    # One flat scatter: row r's positions are offset by r * n.
    offsets = xp.reshape(xp.arange(rows, dtype=index.dtype, device=backend.device) * n, (rows, 1))
    flat = xp.reshape(xp.reshape(moved_index, (rows, k)) + offsets, (-1,))
    out = get_kernel("scatter_add", backend)(xp, flat, xp.reshape(moved_values, (-1,)), rows * n)
    return xp.moveaxis(xp.reshape(out, (*lead, n)), -1, axis)


class TakeAlong(Function):
    """``take_along_axis(x, index, axis)`` reshaped to ``out_shape``: the values that sort, topk,
    max(dim)... select. The gradient goes to the selected elements (PyTorch's rule for
    value-selecting reductions)."""

    @staticmethod
    def forward(ctx, x, index, axis, out_shape):
        ctx.save_for_backward(index)
        ctx.axis, ctx.in_shape = axis, tuple(x.shape)
        return ctx.xp.reshape(ctx.xp.take_along_axis(x, index, axis=axis), out_shape)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        xp = ctx.xp
        g = xp.reshape(g, tuple(index.shape))
        return scatter_along(xp, ctx.backend, g, index, ctx.axis, ctx.in_shape), None, None, None


class SharedValue(Function):
    """A value of ``x`` chosen by a whole-tensor reduction (median, nanmedian); the gradient is
    shared evenly among the elements equal to it, NaN matching NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.save_for_backward(x, value)
        return value

    @staticmethod
    def backward(ctx, g):
        x, value = ctx.saved_tensors
        xp = ctx.xp
        hit = xp.equal(x, value)
        if _dt_is_float(xp, x):
            hit = xp.logical_or(hit, xp.logical_and(xp.isnan(x), xp.isnan(value)))
        hit = xp.astype(hit, g.dtype)
        return hit * (g / xp.sum(hit)), None


def _dt_is_float(xp, a):
    return xp.isdtype(a.dtype, ("real floating", "complex floating"))


# -- helpers -----------------------------------------------------------------------------------

def _tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _int(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _along(op, input, dim, axis, default):
    """(tensor with at least one axis, axis, was_zero_d): PyTorch lets dim 0 / -1 name the
    single element of a 0-d tensor, so 0-d inputs are treated as shape (1,)."""
    _tensor(op, "input", input)
    dim = axis_arg(op, axis, dim, default)
    axis = normalize_axis(op, dim, input.ndim)
    if input.ndim == 0:
        from .shape import reshape
        return reshape(input, (1,)), 0, True
    return input, axis, False


def _slice_along(a, axis, start, stop):
    return a[(slice(None),) * axis + (slice(start, stop),) + (...,)]


def _sortable(xp, a):
    """argsort refuses bools on array_api_strict; their order is that of 0 and 1."""
    return xp.astype(a, xp.uint8) if a.dtype == xp.bool else a


def _argsort(xp, a, axis, descending=False):
    # Always stable: a valid answer for stable=False too, and deterministic on every backend.
    return xp.argsort(_sortable(xp, a), axis=axis, descending=descending, stable=True)


def _select(x, index, axis, keepdim, zero_d, kind):
    """(values, indices) as the named tuple ``kind``, from positions ``index`` (an int64 array,
    with ``x``'s shape except along ``axis``). ``keepdim=False`` drops ``axis`` (index has size
    1 there); a 0-d input gives 0-d outputs."""
    shape = tuple(index.shape)
    if zero_d:
        shape = ()
    elif not keepdim:
        shape = shape[:axis] + shape[axis + 1:]
    xp = x._backend.xp
    values = TakeAlong.apply(x, index, axis, shape)
    indices = Tensor._make(xp.reshape(index, shape), x._backend)
    return kind(values, indices)


def _check_nonempty(op, x, axis):
    if x.shape[axis] == 0:
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {x.shape}, axis {axis})")


# -- sort, argsort, topk -----------------------------------------------------------------------

def sort(input, dim=None, descending=False, stable=False, *, axis=None):  # noqa: A002
    """Sort along one axis: ``(values, indices)`` with ``values == take_along_axis(input,
    indices)``.

    Parameters
    ----------
    input : Tensor
    dim : int, default=-1
        The axis to sort along (``axis=`` is the same parameter).
    descending : bool, default=False
        Largest first.
    stable : bool, default=False
        Keep the input order of equal elements. The sort is always stable here, which is one of
        the orders ``stable=False`` allows.

    Returns
    -------
    return_types.sort
        ``values`` (input's shape and dtype; NaN sorts as the largest value) and ``indices``
        (int64). The gradient of ``values`` goes back to the input elements they came from.
    """
    x, axis, zero_d = _along("sort", input, dim, axis, -1)
    order = _argsort(x._backend.xp, x.array, axis, bool(descending))
    return _select(x, order, axis, True, zero_d, return_types.sort)


def argsort(input, dim=None, descending=False, stable=False, *, axis=None):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (default -1): the ``indices`` of `sort`
    (int64, not differentiable)."""
    x, axis, zero_d = _along("argsort", input, dim, axis, -1)
    xp = x._backend.xp
    order = _argsort(xp, x.array, axis, bool(descending))
    return Tensor._make(xp.reshape(order, ()) if zero_d else order, x._backend)


def msort(input):  # noqa: A002
    """``sort(input, dim=0).values``: sorted along the first axis."""
    return sort(input, 0).values


def topk(input, k, dim=None, largest=True, sorted=True, *, axis=None):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` (default -1).

    Parameters
    ----------
    input : Tensor
    k : int
        How many, ``0 <= k <= input.shape[dim]``.
    dim : int, default=-1
    largest : bool, default=True
        The largest elements (else the smallest).
    sorted : bool, default=True
        Return them in order. They are always in order here (``sorted=False`` allows any).

    Returns
    -------
    return_types.topk
        ``values`` and ``indices`` with ``input``'s shape except ``k`` along ``dim``. Among tied
        elements, which ones are picked is unspecified (as in PyTorch); here the earliest.

    Raises
    ------
    ValueError
        If ``k`` is out of range.
    """
    x, axis, zero_d = _along("topk", input, dim, axis, -1)
    k = _int("topk", "k", k)
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dimension {axis} of size {n} "
                         f"(shape {input.shape})")
    order = _argsort(x._backend.xp, x.array, axis, bool(largest))
    index = _slice_along(order, axis, 0, k)
    return _select(x, index, axis, True, zero_d and k == 1, return_types.topk)


def kthvalue(input, k, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """The ``k``-th smallest element (``k`` counts from 1) along ``dim`` (default -1), and its
    index; which of several equal elements is returned is unspecified, as in PyTorch.

    Returns
    -------
    return_types.kthvalue
        ``values`` and ``indices`` of ``input``'s shape without ``dim`` (kept as size 1 with
        ``keepdim=True``).

    Raises
    ------
    ValueError
        If ``k`` is not in ``1..input.shape[dim]``.
    """
    dim, keepdim = torch_axis_aliases("kthvalue", axis, keepdims, dim, keepdim)
    x, axis, zero_d = _along("kthvalue", input, dim, None, -1)
    k = _int("kthvalue", "k", k)
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range for dimension {axis} of size {n}; "
                         f"expected 1 <= k <= {n}")
    order = _argsort(x._backend.xp, x.array, axis)
    return _select(x, _slice_along(order, axis, k - 1, k), axis, keepdim, zero_d,
                   return_types.kthvalue)


# -- median, nanmedian, mode -------------------------------------------------------------------

def _median(op, input, dim, keepdim, axis, keepdims, ignore_nan):
    _tensor(op, "input", input)
    dim, keepdim = torch_axis_aliases(op, axis, keepdims, dim, keepdim)
    xp = input._backend.xp
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim needs a dim")
        if input.numel() == 0:
            raise ValueError(f"{op}: cannot take the median of an empty tensor")
        flat = xp.reshape(input.array, (-1,))
        value = _median_along(xp, input._backend.device, flat, 0, ignore_nan, False)[0]
        return SharedValue.apply(input, value)
    x, axis, zero_d = _along(op, input, dim, None, None)
    _check_nonempty(op, x, axis)
    index = _median_along(xp, input._backend.device, x.array, axis, ignore_nan, True)[1]
    kind = return_types.nanmedian if ignore_nan else return_types.median
    return _select(x, index, axis, keepdim, zero_d, kind)


def _median_along(xp, device, a, axis, ignore_nan, keepdims):
    """(value, index) of the lower median along ``axis``. NaNs sort last: median picks the first
    NaN of a row that has one (PyTorch's), nanmedian the lower median of the other elements."""
    n = a.shape[axis]
    order = _argsort(xp, a, axis)
    position = xp.full((*a.shape[:axis], 1, *a.shape[axis + 1:]), (n - 1) // 2,
                       dtype=order.dtype, device=device)
    if _dt_is_float(xp, a):
        nans = xp.sum(xp.astype(xp.isnan(a), order.dtype), axis=axis, keepdims=True)
        if ignore_nan:
            valid = n - nans
            position = xp.where(valid > 0, (valid - 1) // 2, position)
        else:
            position = xp.where(nans > 0, n - nans, position)
    index = xp.take_along_axis(order, position, axis=axis)
    value = xp.take_along_axis(a, index, axis=axis)
    if not keepdims:
        value, index = xp.squeeze(value, axis=axis), xp.squeeze(index, axis=axis)
    return value, index


def median(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """The lower median: of all elements (a Tensor), or along ``dim`` (values and indices).

    Parameters
    ----------
    input : Tensor
    dim : int, optional
        Without it, the median of every element is returned as a 0-d Tensor whose gradient is
        shared evenly among the elements equal to it. With it, ``(values, indices)``, the gradient
        going to the element at ``indices``.
    keepdim : bool, default=False
        Keep ``dim`` as size 1.

    Returns
    -------
    Tensor or return_types.median
        For an even count, the lower of the two middle values (not their mean). A NaN makes the
        result NaN (the index of its first NaN). Which of several equal elements ``indices``
        names is unspecified, as in PyTorch.
    """
    return _median("median", input, dim, keepdim, axis, keepdims, ignore_nan=False)


def nanmedian(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """`median` ignoring NaNs: the lower median of the other elements (NaN where all are NaN;
    the index returned for such a row is unspecified, as in PyTorch)."""
    return _median("nanmedian", input, dim, keepdim, axis, keepdims, ignore_nan=True)


def mode(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """The most frequent value along ``dim`` (default -1) and the index of its last occurrence.

    Ties between values that occur equally often go to the smallest value, and the index is
    that of its last occurrence, as PyTorch's CPU kernel returns.

    Returns
    -------
    return_types.mode
        ``values`` and ``indices`` of ``input``'s shape without ``dim`` (size 1 with
        ``keepdim=True``); the gradient of ``values`` goes to the element at ``indices``.
    """
    dim, keepdim = torch_axis_aliases("mode", axis, keepdims, dim, keepdim)
    x, axis, zero_d = _along("mode", input, dim, None, -1)
    _check_nonempty("mode", x, axis)
    xp, device = x._backend.xp, x._backend.device
    moved = xp.moveaxis(x.array, axis, -1)
    lead, n = tuple(moved.shape[:-1]), moved.shape[-1]
    rows = math.prod(lead)
    flat = xp.reshape(moved, (rows, n))
    order = _argsort(xp, flat, -1)
    ranked = xp.take_along_axis(flat, order, axis=-1)
    starts = xp.concat([xp.ones((rows, 1), dtype=xp.bool, device=device),
                        ranked[:, 1:] != ranked[:, :-1]], axis=-1)
    # Runs of equal values get ids that increase through the whole (rows, n) array, so one 1-D
    # searchsorted counts every run of every row.
    runs = (xp.cumulative_sum(xp.astype(starts, xp.int64), axis=-1)
            + xp.reshape(xp.arange(rows, dtype=xp.int64, device=device) * n, (rows, 1)))
    runs = xp.reshape(runs, (-1,))
    counts = xp.reshape(xp.searchsorted(runs, runs, side="right")
                        - xp.searchsorted(runs, runs, side="left"), (rows, n))
    most = xp.max(counts, axis=-1, keepdims=True)
    # argmax gives the first hit: the start of the smallest most frequent value's run.
    first = xp.argmax(xp.astype(counts == most, xp.int8), axis=-1, keepdims=True)
    last = first + most - 1
    index = xp.take_along_axis(order, last, axis=-1)
    index = xp.moveaxis(xp.reshape(index, (*lead, 1)), -1, axis)
    return _select(x, index, axis, keepdim, zero_d, return_types.mode)
