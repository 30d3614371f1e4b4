"""Gather, scatter and masks: PyTorch's ``gather``, ``scatter*``, ``index_*``, ``masked_*`` and
``take_along_dim``; index assignment (``index_put``, ``x[key] = value``) is in `xpnet.ops.assign`.

The standard has no scatter and no integer-array assignment (array_api_strict refuses it), so
every write is built functionally, mostly from four primitives (beside them, `Fill` writes a
scalar through a mask):

- `Gather`: ``take`` on the flattened input at precomputed linear positions; its backward is the
  scatter-add kernel.
- `IndexAdd`: slices of ``source`` added into ``input`` along one axis (the scatter-add kernel);
  ``scatter_add`` is the axis-0 case on flattened arrays.
- `IndexWrite`: slices of ``source`` written into ``input`` along one axis. Repeated indices keep
  the last write, as PyTorch does on the CPU: the positions are sorted (stably), and each target
  row reads the last entry of its run, so the forward is one gather and one ``where``.
- `ScatterReduce`: "sum", "prod", "mean", "amax", "amin" per target, from a segmented scan over
  the sorted positions (O(n log n), exact for zeros and negative numbers, NaN-propagating).

Gradients follow PyTorch's formulas: a written position passes no gradient to ``input``, and
every source element written to a position receives that position's gradient, *including*
elements whose write was overwritten by a later duplicate (PyTorch's ``scatter``, ``index_copy``
and ``index_put_`` backward is a gather of the output gradient, which does the same).
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend import is_numpy_array
from xpnet.backend.checks import check
from xpnet.backend.kernels import get_kernel

from ._util import check_broadcast, is_scalar, normalize_axis

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_fill", "index_copy", "masked_fill", "masked_select", "masked_scatter",
           "take_along_dim"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


# -- kernels on raw arrays ---------------------------------------------------------------------

class _Segments:
    """Positions grouped by target: their stable sorted order, and each target's run [lo, hi)
    in it (``hit`` where the run is non-empty)."""

    def __init__(self, xp, positions, size, device):
        self.xp = xp
        self.order = xp.argsort(positions, stable=True)
        self.keys = xp.take(positions, self.order)
        rows = xp.arange(size, dtype=positions.dtype, device=device)
        self.lo = xp.searchsorted(self.keys, rows, side="left")
        self.hi = xp.searchsorted(self.keys, rows, side="right")
        self.hit = self.hi > self.lo
        self.count = self.hi - self.lo

    def last(self, sorted_values):
        """Per target, the entry at the end of its run (arbitrary where there is none)."""
        xp = self.xp
        return xp.take(sorted_values, xp.where(self.hit, self.hi - 1, xp.zeros_like(self.hi)))

    def last_writer(self):
        """Per target, the original position of the last entry written to it (stable sort: the
        latest among equal positions ends the run)."""
        return self.last(self.order)


def _segmented_scan(xp, values, keys, combine):
    """Inclusive scan of ``combine`` within runs of equal ``keys`` (sorted): after step s each
    entry combines the 2**s entries ending at it, cut at its run's start (Hillis-Steele)."""
    n, shift = values.shape[0], 1
    while shift < n:
        same = keys[shift:] == keys[:-shift]
        merged = xp.where(same, combine(values[:-shift], values[shift:]), values[shift:])
        values = xp.concat([values[:shift], merged])
        shift *= 2
    return values


def _exclusive_products(xp, values, keys):
    """For each entry, the product of the *other* entries of its run (no division, so zeros are
    exact): the product before it times the product after it."""
    ones = xp.ones_like(values[:1])
    falses = xp.zeros_like(keys[:1], dtype=xp.bool)
    same_prev = xp.concat([falses, keys[1:] == keys[:-1]])
    same_next = xp.concat([keys[:-1] == keys[1:], falses])
    before = _segmented_scan(xp, values, keys, xp.multiply)
    before = xp.where(same_prev, xp.concat([ones, before[:-1]]), xp.ones_like(values))
    after = xp.flip(_segmented_scan(xp, xp.flip(values), xp.flip(keys), xp.multiply))
    after = xp.where(same_next, xp.concat([after[1:], ones]), xp.ones_like(values))
    return before * after


def _along(xp, mask, axis, ndim):
    """A 1-D array reshaped to broadcast along ``axis`` of an ``ndim``-D array."""
    return xp.reshape(mask, tuple(-1 if i == axis else 1 for i in range(ndim)))


class Gather(Function):
    """Elements of ``x`` at linear ``positions`` (1-D int64), reshaped to ``out_shape``."""

    @staticmethod
    def forward(ctx, x, positions, out_shape):
        xp = ctx.xp
        ctx.save_for_backward(positions)
        ctx.in_shape = tuple(x.shape)
        return xp.reshape(xp.take(xp.reshape(x, (-1,)), positions), out_shape)

    @staticmethod
    def backward(ctx, g):
        (positions,) = ctx.saved_tensors
        xp = ctx.xp
        scatter_add_kernel = get_kernel("scatter_add", ctx.backend)
        flat = scatter_add_kernel(xp, positions, xp.reshape(g, (-1,)), math.prod(ctx.in_shape))
        return xp.reshape(flat, ctx.in_shape), None, None


class IndexAdd(Function):
    """``input`` plus the slices of ``source`` added at ``index`` (1-D, non-negative) along
    ``axis``; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, input, source, index, axis):  # noqa: A002 - PyTorch's name
        xp = ctx.xp
        ctx.save_for_backward(index)
        ctx.axis = axis
        scatter_add_kernel = get_kernel("scatter_add", ctx.backend)
        added = scatter_add_kernel(xp, index, xp.moveaxis(source, axis, 0), input.shape[axis])
        return input + xp.moveaxis(added, 0, axis)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad_source = ctx.xp.take(g, index, axis=ctx.axis) if ctx.needs_input_grad[1] else None
        return g, grad_source, None, None


class IndexWrite(Function):
    """``input`` with the slices at ``index`` (1-D, non-negative) along ``axis`` replaced by
    those of ``source``; of repeated indices the last one wins."""

    @staticmethod
    def forward(ctx, input, source, index, axis):  # noqa: A002 - PyTorch's name
        xp = ctx.xp
        ctx.axis = axis
        if index.shape[0] == 0:
            ctx.save_for_backward(index, None)
            return xp.asarray(input, copy=True)
        segments = _Segments(xp, index, input.shape[axis], ctx.backend.device)
        written = _along(xp, segments.hit, axis, input.ndim)
        ctx.save_for_backward(index, written)
        picked = xp.take(source, segments.last_writer(), axis=axis)
        return xp.where(written, picked, input)

    @staticmethod
    def backward(ctx, g):
        index, written = ctx.saved_tensors
        xp = ctx.xp
        need_input, need_source = ctx.needs_input_grad[:2]
        grad_input = None
        if need_input:
            grad_input = g if written is None else xp.where(written, xp.zeros_like(g), g)
        grad_source = xp.take(g, index, axis=ctx.axis) if need_source else None
        return grad_input, grad_source, None, None


class Fill(Function):
    """``x`` with the Python scalar ``value`` where ``mask`` (broadcasting to x) holds."""

    @staticmethod
    def forward(ctx, x, mask, value):
        xp = ctx.xp
        ctx.save_for_backward(mask)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype, device=ctx.backend.device), x)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        xp = ctx.xp
        return xp.where(mask, xp.zeros_like(g), g), None, None


class ScatterReduce(Function):
    """``x`` (any shape) with ``src[i]`` (1-D) reduced into flat position ``positions[i]``."""

    @staticmethod
    def forward(ctx, x, src, positions, reduce, include_self):
        xp = ctx.xp
        ctx.shape, ctx.reduce, ctx.include_self = tuple(x.shape), reduce, include_self
        if positions.shape[0] == 0:
            ctx.save_for_backward(positions)
            return xp.asarray(x, copy=True)
        flat = xp.reshape(x, (-1,))
        size = flat.shape[0]
        seg = _Segments(xp, positions, size, ctx.backend.device)
        hit = seg.hit
        if reduce in ("sum", "mean"):
            total = get_kernel("scatter_add", ctx.backend)(xp, positions, src, size)
            if reduce == "sum":
                out = flat + total if include_self else xp.where(hit, total, flat)
                ctx.save_for_backward(positions, hit)
            else:
                denom = seg.count + 1 if include_self else xp.where(hit, seg.count,
                                                                     xp.ones_like(seg.count))
                if include_self:
                    total = total + flat
                if xp.isdtype(flat.dtype, "integral"):
                    mean = xp.astype(xp.floor_divide(total, xp.astype(denom, total.dtype)),
                                     flat.dtype)  # PyTorch floors integer means
                else:
                    mean = total / xp.astype(denom, flat.dtype)
                out = xp.where(hit, mean, flat)
                ctx.save_for_backward(positions, hit, denom)
            return xp.reshape(out, ctx.shape)
        combine = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
        sorted_src = xp.take(src, seg.order)
        reduced = seg.last(_segmented_scan(xp, sorted_src, seg.keys, combine))
        out = xp.where(hit, combine(flat, reduced) if include_self else reduced, flat)
        if reduce == "prod":
            ctx.save_for_backward(positions, hit, flat, reduced, sorted_src, seg.keys, seg.order)
        else:
            ctx.save_for_backward(positions, hit, flat, src, out)
        return xp.reshape(out, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        xp, reduce, include_self = ctx.xp, ctx.reduce, ctx.include_self
        g = xp.reshape(g, (-1,))
        saved = ctx.saved_tensors
        if len(saved) == 1:  # nothing was scattered
            return xp.reshape(g, ctx.shape), xp.take(g, saved[0]), None, None, None
        positions, hit = saved[:2]
        zeros = xp.zeros_like(g)
        if reduce == "sum":
            grad_x = g if include_self else xp.where(hit, zeros, g)
            grad_src = xp.take(g, positions)
        elif reduce == "mean":
            scaled = g / xp.astype(saved[2], g.dtype)
            grad_x = scaled if include_self else xp.where(hit, zeros, g)
            grad_src = xp.take(scaled, positions)
        elif reduce == "prod":
            flat, reduced, sorted_src, keys, order = saved[2:]
            others = _exclusive_products(xp, sorted_src, keys)
            others = xp.take(others, xp.argsort(order))  # back to the original order
            if include_self:
                others = others * xp.take(flat, positions)
            grad_x = xp.where(hit, g * reduced if include_self else zeros, g)
            grad_src = xp.take(g, positions) * others
        else:
            # PyTorch's rule: the gradient is shared evenly by every element equal to the result,
            # the input's own element counted even when include_self=False (it then gets none).
            flat, src, out = saved[2:]
            value = xp.take(out, positions)
            x_is = xp.astype(flat == out, g.dtype)
            src_is = xp.astype(src == value, g.dtype)
            count = x_is + get_kernel("scatter_add", ctx.backend)(xp, positions, src_is,
                                                                   g.shape[0])
            shared = g / xp.where(count > 0, count, xp.ones_like(count))
            grad_x = x_is * shared
            if not include_self:
                grad_x = xp.where(hit, zeros, grad_x)
            grad_src = src_is * xp.take(shared, positions)
        return xp.reshape(grad_x, ctx.shape), grad_src, None, None, None


# -- argument checks ---------------------------------------------------------------------------

def _check_tensor(op, name, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")


def _index_array(op, x, index, name="index"):
    """An int64 backend array on x's backend from a Tensor, list, NumPy array or int."""
    backend = x._backend
    if isinstance(index, Tensor):
        if index._backend is not backend:
            raise ValueError(f"{op}: {name} is on {index._backend.name}, the tensor on "
                             f"{backend.name}; move one with .to()")
        arr = index.array
    elif isinstance(index, (list, tuple)) or is_numpy_array(index) or (
            isinstance(index, numbers.Integral) and not isinstance(index, bool)):
        empty = isinstance(index, (list, tuple)) and not index
        arr = backend.asarray(index, dtype="int64" if empty else None)
    else:
        raise TypeError(f"{op}: {name} must be a Tensor of integers, got {type(index).__name__}")
    dtype = backend.xpnet_dtype(arr.dtype)
    if not dtype.is_integer:
        raise TypeError(f"{op}: {name} must have an integer dtype, got {dtype.name}")
    xp = backend.xp
    return arr if arr.dtype == xp.int64 else xp.astype(arr, xp.int64)


def _checked(op, backend, index, size, dim, wrap=False):
    """``index`` with every entry in [0, size) (negative ones wrapped when ``wrap``), or an
    IndexError naming the op, the dimension and the offending range (at the next
    synchronisation on a device backend, the entries clamped until then)."""
    if math.prod(index.shape) == 0:
        return index
    xp = backend.xp
    low = -size if wrap else 0
    allowed = f"[{-size}, {size})" if wrap else f"[0, {size})"
    deferred = check(
        backend, (op, "index", size, dim, wrap), xp.logical_or(index >= size, index < low),
        lambda: (xp.min(index), xp.max(index)),
        lambda lo, hi: IndexError(f"{op}: index out of range for dimension {dim} of size "
                                  f"{size}: expected values in {allowed}, got values from {lo} "
                                  f"to {hi}"))
    if wrap:
        index = xp.where(index < 0, index + size, index)
    return xp.clip(index, 0, size - 1) if deferred else index


def _cast_scalar(op, value, dtype):
    """A Python scalar of the kind ``dtype`` stores (a float into an int tensor truncates, as
    PyTorch's fill does)."""
    if not is_scalar(value):
        raise TypeError(f"{op}: value must be a number or a 0-d Tensor, got "
                        f"{type(value).__name__}")
    if dtype.kind == "bool":
        return bool(value)
    if dtype.is_integer:
        if isinstance(value, complex) or value != value:
            raise ValueError(f"{op}: cannot store {value!r} in a {dtype.name} tensor")
        return int(value)
    if dtype.is_floating_point:
        return float(value)
    return complex(value)


def _like(op, x, value, name="value"):
    """``value`` (a Tensor, scalar, list or NumPy array) as a Tensor of x's dtype and backend;
    a float Tensor keeps its gradient through the cast."""
    if isinstance(value, Tensor):
        if value._backend is not x._backend:
            raise ValueError(f"{op}: {name} is on {value._backend.name}, the tensor on "
                             f"{x._backend.name}; move one with .to()")
        return value if value.dtype is x.dtype else value.astype(x.dtype)
    from xpnet.creation import tensor
    if is_scalar(value):
        value = _cast_scalar(op, value, x.dtype)
    elif not (isinstance(value, (list, tuple)) or is_numpy_array(value)):
        raise TypeError(f"{op}: {name} must be a Tensor or a number, got {type(value).__name__}")
    return tensor(value, dtype=x.dtype, backend=x._backend.name)


def _fill(op, x, mask, value):
    """``x`` with ``value`` (scalar or 0-d Tensor) where the bool array ``mask`` holds."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"{op}: value must be a number or a 0-d Tensor, got a Tensor of "
                             f"shape {value.shape}")
        from .arithmetic import where
        return where(Tensor._make(mask, x._backend), _like(op, x, value), x)
    return Fill.apply(x, mask, _cast_scalar(op, value, x.dtype))


def _flat(x):
    from .shape import reshape
    return reshape(x, (-1,))


def _as_1d(x):
    from .shape import reshape
    return reshape(x, (1,)) if x.ndim == 0 else x


def _shape_back(out, shape):
    from .shape import reshape
    return reshape(out, shape)


# -- gather and scatter ------------------------------------------------------------------------

def _linear_positions(xp, device, index, dim, shape):
    """Flat positions into an array of ``shape``: entry p of ``index`` (same ndim, each size at
    most shape's) addresses shape's element with coordinate index[p] on ``dim`` and p's own
    coordinates elsewhere."""
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    flat = index * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            coords = xp.arange(n, dtype=xp.int64, device=device) * strides[d]
            flat = flat + _along(xp, coords, d, index.ndim)
    return xp.reshape(flat, (-1,))


def _dim_and_index(op, input, dim, index):  # noqa: A002 - PyTorch's name
    """The normalized dim and int64 index array, with 0-d inputs and indices treated as 1-D,
    and the index's own shape."""
    _check_tensor(op, "input", input)
    dim = normalize_axis(op, dim, input.ndim)
    arr = _index_array(op, input, index)
    shape = tuple(arr.shape)
    if arr.ndim == 0:
        arr = input._backend.xp.reshape(arr, (1,))
    if arr.ndim != max(input.ndim, 1):
        raise ValueError(f"{op}: index must have as many dimensions as input ({input.ndim}), "
                         f"got shape {tuple(arr.shape)}")
    return dim, arr, shape


def _check_fits(op, index_shape, shape, dim, what, skip_dim=True):
    for d, (n, m) in enumerate(zip(index_shape, shape)):
        if n > m and not (skip_dim and d == dim):
            raise ValueError(f"{op}: index of shape {tuple(index_shape)} must be no larger than "
                             f"{what} of shape {tuple(shape)} in every dimension"
                             + (f" but dim {dim}" if skip_dim else ""))


def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002 - PyTorch's names
    """Values along ``dim`` at ``index``: ``out[i][j][k] = input[i][index[i][j][k]][k]`` for
    dim=1, as ``torch.gather``.

    Parameters
    ----------
    input : Tensor
    dim : int
        The axis indexed (negative counts from the end).
    index : Tensor of integers
        Same number of dimensions as ``input``, each size at most input's except along ``dim``;
        entries in ``[0, input.shape[dim])``.
    sparse_grad : bool, default=False
        Accepted for PyTorch compatibility; the gradient is always dense.

    Returns
    -------
    Tensor of index's shape and input's dtype.

    Raises
    ------
    IndexError
        An index outside ``[0, input.shape[dim])``.
    ValueError, TypeError
        Mismatched shapes; a non-integer index.
    """
    dim, index_arr, shape = _dim_and_index("gather", input, dim, index)
    x = _as_1d(input)
    _check_fits("gather", index_arr.shape, x.shape, dim, "input")
    xp = x._backend.xp
    index_arr = _checked("gather", x._backend, index_arr, x.shape[dim], dim)
    positions = _linear_positions(xp, x._backend.device, index_arr, dim, x.shape)
    return Gather.apply(x, positions, shape)


def take_along_dim(input, indices, dim=None):  # noqa: A002 - PyTorch's names
    """Values at ``indices`` along ``dim``, as ``torch.take_along_dim`` (NumPy's
    ``take_along_axis``): input and indices broadcast against each other except along ``dim``;
    with dim=None both are flattened. Negative indices count from the end along ``dim`` (not
    with dim=None, where PyTorch refuses them too).

    Returns
    -------
    Tensor of the broadcast shape (indices' size along ``dim``), or 1-D when dim is None.
    """
    op = "take_along_dim"
    _check_tensor(op, "input", input)
    index_arr = _index_array(op, input, indices, "indices")
    xp = input._backend.xp
    if dim is None:
        flat = _flat(input)
        index_arr = _checked(op, input._backend, xp.reshape(index_arr, (-1,)), flat.shape[0], 0)
        return Gather.apply(flat, index_arr, tuple(index_arr.shape))
    dim = normalize_axis(op, dim, input.ndim)
    if index_arr.ndim != input.ndim:
        raise ValueError(f"{op}: indices must have as many dimensions as input ({input.ndim}), "
                         f"got shape {tuple(index_arr.shape)}")
    x = _as_1d(input)
    index_arr = xp.reshape(index_arr, (1,)) if index_arr.ndim == 0 else index_arr
    others_x = tuple(1 if d == dim else n for d, n in enumerate(x.shape))
    others_i = tuple(1 if d == dim else n for d, n in enumerate(index_arr.shape))
    check_broadcast(op, others_x, others_i)
    common = [max(a, b) if a != 1 else b for a, b in zip(others_x, others_i)]
    from .shape import broadcast_to
    x = broadcast_to(x, tuple(x.shape[dim] if d == dim else n for d, n in enumerate(common)))
    index_arr = xp.broadcast_to(index_arr, tuple(index_arr.shape[dim] if d == dim else n
                                                 for d, n in enumerate(common)))
    index_arr = _checked(op, x._backend, index_arr, x.shape[dim], dim, wrap=True)
    positions = _linear_positions(xp, x._backend.device, index_arr, dim, x.shape)
    shape = tuple(index_arr.shape) if input.ndim else ()
    return Gather.apply(x, positions, shape)


def _scatter_source(op, input, dim, index, src, value):  # noqa: A002
    """(linear positions into input, 1-D source Tensor of input's dtype) for the scatter
    family."""
    dim, index_arr, _ = _dim_and_index(op, input, dim, index)
    x = _as_1d(input)
    _check_fits(op, index_arr.shape, x.shape, dim, "input")
    xp = x._backend.xp
    index_arr = _checked(op, x._backend, index_arr, x.shape[dim], dim)
    n = math.prod(index_arr.shape)
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{op}: expected src (a Tensor) or value (a number)")
    if isinstance(src, Tensor) and src.ndim > 0:
        if src._backend is not x._backend:
            raise ValueError(f"{op}: src is on {src._backend.name}, input on {x._backend.name}")
        if src.ndim != index_arr.ndim:
            raise ValueError(f"{op}: src must have as many dimensions as index "
                             f"({index_arr.ndim}), got shape {src.shape}")
        _check_fits(op, index_arr.shape, src.shape, dim, "src", skip_dim=False)
        from .indexing import getitem
        if tuple(src.shape) != tuple(index_arr.shape):
            src = getitem(src, tuple(slice(0, k) for k in index_arr.shape))
        source = _flat(_like(op, x, src, "src"))
    else:
        from .shape import broadcast_to
        source = broadcast_to(_like(op, x, src, "value"), (n,))
    return _linear_positions(xp, x._backend.device, index_arr, dim, x.shape), source


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """``input`` with ``src`` (a Tensor) or ``value`` (a number) written at ``index`` along
    ``dim``: ``out[i][index[i][j][k]][k] = src[i][j][k]`` for dim=1, as ``torch.scatter``.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor of integers
        Same number of dimensions as ``input``; entries in ``[0, input.shape[dim])``.
    src : Tensor or number
        A Tensor at least as large as ``index`` in every dimension (its first ``index.shape``
        elements are used), or a number (PyTorch's ``value`` overload).
    value : number, optional
        Keyword form of a scalar source.
    reduce : {None, "add", "multiply"}, default=None
        PyTorch's older reduction argument: "add" is `scatter_add`, "multiply" is
        ``scatter_reduce(..., "prod")``.

    Returns
    -------
    Tensor of input's shape and dtype. Of repeated target positions the last write (in
    index's row-major order) wins; the gradient reaches every source element (see the module
    docstring).
    """
    op = "scatter"
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"{op}: reduce must be 'add' or 'multiply', got {reduce!r}")
        source = value if src is None else src
        return scatter_reduce(input, dim, index, source if isinstance(source, Tensor) else
                              _full_like_index(op, input, index, source),
                              "sum" if reduce == "add" else "prod")
    positions, source = _scatter_source(op, input, dim, index, src, value)
    out = IndexWrite.apply(_flat(input), source, positions, 0)
    return _shape_back(out, input.shape)


def _full_like_index(op, input, index, value):  # noqa: A002
    from xpnet.creation import full
    arr = _index_array(op, input, index)
    return full(tuple(arr.shape), _cast_scalar(op, value, input.dtype), dtype=input.dtype,
                backend=input._backend.name)


def scatter_add(input, dim, index, src):  # noqa: A002 - PyTorch's name
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated positions accumulate):
    ``out[i][index[i][j][k]][k] += src[i][j][k]`` for dim=1, as ``torch.scatter_add``.

    Returns
    -------
    Tensor of input's shape and dtype.
    """
    positions, source = _scatter_source("scatter_add", input, dim, index, src, None)
    return _shape_back(IndexAdd.apply(_flat(input), source, positions, 0), input.shape)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """Reduce ``src`` into ``input`` at ``index`` along ``dim``, as ``torch.scatter_reduce``.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor of integers
    src : Tensor
    reduce : {"sum", "prod", "mean", "amax", "amin"}
        How the values meeting at one position combine. Integer means round down (PyTorch).
    include_self : bool, default=True
        Whether input's own value at a scattered position takes part; positions nothing is
        scattered to keep input's value either way.

    Returns
    -------
    Tensor of input's shape and dtype. Gradients follow PyTorch: for "amax"/"amin" the gradient
    is shared evenly by all elements equal to the result; for "prod" each element receives the
    product of the others (exact with zeros).
    """
    op = "scatter_reduce"
    if reduce not in _REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {', '.join(map(repr, _REDUCTIONS))}, "
                         f"got {reduce!r}")
    _check_tensor(op, "input", input)
    _check_tensor(op, "src", src)
    if input.dtype.kind in ("bool", "complex floating"):
        raise TypeError(f"{op}: expected a real integer or floating-point input, got "
                        f"{input.dtype.name}")
    positions, source = _scatter_source(op, input, dim, index, src, None)
    return ScatterReduce.apply(input, source, positions, reduce, bool(include_self))


# -- index_* -----------------------------------------------------------------------------------

def _index_1d(op, input, dim, index, wrap=False):  # noqa: A002
    """(normalized dim, checked 1-D int64 index) for the index_* family."""
    _check_tensor(op, "input", input)
    dim = normalize_axis(op, dim, input.ndim)
    arr = _index_array(op, input, index)
    if arr.ndim > 1:
        raise ValueError(f"{op}: index must be 1-D or 0-d, got shape {tuple(arr.shape)}")
    xp = input._backend.xp
    arr = xp.reshape(arr, (-1,))
    size = input.shape[dim] if input.ndim else 1
    return dim, _checked(op, input._backend, arr, size, dim, wrap=wrap)


def _index_source(op, x, dim, index_arr, source):
    """``source`` checked to be x's shape with index's length along dim, in x's dtype."""
    _check_tensor(op, "source", source)
    source = _as_1d(source)
    want = tuple(index_arr.shape[0] if d == dim else n for d, n in enumerate(x.shape))
    if tuple(source.shape) != want:
        raise ValueError(f"{op}: source must have shape {want} (input's, with len(index) along "
                         f"dim {dim}), got {source.shape}")
    return _like(op, x, source, "source")


def index_select(input, dim, index):  # noqa: A002 - PyTorch's names
    """The slices of ``input`` at ``index`` (1-D; entries in ``[0, size)``) along ``dim``, as
    ``torch.index_select``; the gradient accumulates repeated indices (scatter-add kernel).

    Returns
    -------
    Tensor of input's shape with ``len(index)`` along ``dim``.
    """
    from .indexing import Take
    dim, arr = _index_1d("index_select", input, dim, index)
    if input.ndim == 0:
        return _shape_back(Take.apply(_as_1d(input), arr, 0), ())
    return Take.apply(input, arr, dim)


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002 - PyTorch's names
    """``input`` with ``alpha * source`` added along ``dim`` at ``index`` (repeated indices
    accumulate), as ``torch.index_add``.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor of integers, 1-D
        Entries in ``[0, input.shape[dim])``.
    source : Tensor
        input's shape with ``len(index)`` along ``dim``.
    alpha : number, default=1

    Returns
    -------
    Tensor of input's shape and dtype.
    """
    op = "index_add"
    dim, arr = _index_1d(op, input, dim, index)
    x = _as_1d(input)
    source = _index_source(op, x, dim, arr, source)
    if alpha != 1:
        from .arithmetic import mul
        source = _like(op, x, mul(source, alpha), "source")
    return _shape_back(IndexAdd.apply(x, source, arr, dim), input.shape)


def index_copy(input, dim, index, source):  # noqa: A002 - PyTorch's names
    """``input`` with the slices of ``source`` copied along ``dim`` to ``index``, as
    ``torch.index_copy``; of repeated indices the last one wins.

    Returns
    -------
    Tensor of input's shape and dtype.
    """
    op = "index_copy"
    dim, arr = _index_1d(op, input, dim, index)
    x = _as_1d(input)
    source = _index_source(op, x, dim, arr, source)
    return _shape_back(IndexWrite.apply(x, source, arr, dim), input.shape)


def index_fill(input, dim, index, value):  # noqa: A002 - PyTorch's names
    """``input`` with ``value`` (a number or 0-d Tensor) in the slices at ``index`` along
    ``dim``, as ``torch.index_fill`` (negative indices count from the end).

    Returns
    -------
    Tensor of input's shape and dtype.
    """
    op = "index_fill"
    dim, arr = _index_1d(op, input, dim, index, wrap=True)
    x = _as_1d(input)
    xp = x._backend.xp
    rows = _Segments(xp, arr, x.shape[dim], x._backend.device).hit if arr.shape[0] else \
        xp.zeros((x.shape[dim],), dtype=xp.bool, device=x._backend.device)
    return _shape_back(_fill(op, x, _along(xp, rows, dim, x.ndim), value), input.shape)


# -- masks -------------------------------------------------------------------------------------

def _mask_array(op, x, mask, broadcast_input=False):
    _check_tensor(op, "mask", mask)
    if mask.dtype.kind != "bool":
        raise TypeError(f"{op}: mask must have dtype bool, got {mask.dtype.name}")
    if mask._backend is not x._backend:
        raise ValueError(f"{op}: mask is on {mask._backend.name}, input on {x._backend.name}")
    if not broadcast_input and (mask.ndim > x.ndim or any(
            m not in (1, n) for m, n in zip(mask.shape[::-1], x.shape[::-1]))):
        raise ValueError(f"{op}: mask of shape {mask.shape} cannot be broadcast to input's "
                         f"shape {x.shape}")
    return mask.array


def masked_fill(input, mask, value):  # noqa: A002 - PyTorch's names
    """``input`` with ``value`` (a number or 0-d Tensor) where ``mask`` (bool, broadcasting to
    input's shape) is True, as ``torch.masked_fill``.

    Returns
    -------
    Tensor of input's shape and dtype (a float value into an integer tensor truncates).
    """
    _check_tensor("masked_fill", "input", input)
    return _fill("masked_fill", input, _mask_array("masked_fill", input, mask), value)


def _broadcast_shape(a, b):
    """The shape two broadcastable shapes broadcast to."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)
    return tuple(m if n == 1 else n for n, m in zip(a, b))


def masked_select(input, mask):  # noqa: A002 - PyTorch's names
    """The elements of ``input`` where ``mask`` is True (the two broadcast together), as a 1-D
    tensor in row-major order, as ``torch.masked_select``."""
    op = "masked_select"
    _check_tensor(op, "input", input)
    m = _mask_array(op, input, mask, broadcast_input=True)
    check_broadcast(op, input.shape, mask.shape)
    xp = input._backend.xp
    shape = _broadcast_shape(input.shape, mask.shape)
    from .indexing import getitem
    from .shape import broadcast_to
    x = _flat(broadcast_to(input, shape))
    return getitem(x, xp.reshape(xp.broadcast_to(m, shape), (-1,)))


def masked_scatter(input, mask, source):  # noqa: A002 - PyTorch's names
    """``input`` with the True positions of ``mask`` (broadcasting to input's shape) filled,
    in row-major order, by the first elements of ``source``, as ``torch.masked_scatter``.

    Raises
    ------
    ValueError
        ``source`` has fewer elements than ``mask`` has True entries.
    """
    op = "masked_scatter"
    _check_tensor(op, "input", input)
    m = _mask_array(op, input, mask)
    _check_tensor(op, "source", source)
    xp = input._backend.xp
    (positions,) = xp.nonzero(xp.reshape(xp.broadcast_to(m, input.shape), (-1,)))
    count = positions.shape[0]
    if source.numel() < count:
        raise ValueError(f"{op}: mask has {count} True entries but source has only "
                         f"{source.numel()} elements")
    from .indexing import getitem
    values = _flat(_like(op, input, source, "source"))
    if values.shape[0] != count:
        values = getitem(values, slice(0, count))
    positions = xp.astype(positions, xp.int64)
    return _shape_back(IndexWrite.apply(_flat(input), values, positions, 0), input.shape)
