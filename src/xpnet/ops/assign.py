"""Index assignment: ``x[key] = value`` (`setitem`, bound as ``Tensor.__setitem__``) and
PyTorch's ``index_put``.

The standard has no integer-array assignment (array_api_strict refuses it), so both are built
functionally. A key of ints and slices writes a copy through `BasicAssign`; any other key is
turned into the flat positions it selects (getitem on a tensor of positions, so the rules stay
getitem's) and written with `scatter`'s `IndexWrite` (the last of repeated positions wins) or,
for ``index_put(..., accumulate=True)``, added with `IndexAdd`. Gradients follow PyTorch's, as
in `xpnet.ops.scatter`: a written position passes none to ``x``, and every value written there,
overwritten duplicates included, receives its gradient.
"""

from __future__ import annotations

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from .scatter import IndexAdd, IndexWrite, _check_tensor, _flat, _like, _shape_back

__all__ = ["setitem", "index_put"]


def _rename(error, op):
    """The same error with the message's leading ``getitem:`` replaced by ``op:``."""
    message = str(error)
    if message.startswith("getitem:"):
        message = op + ":" + message[len("getitem:"):]
    return type(error)(message)


def _selection_positions(op, x, key):
    """The flat position in x of each element of ``x[key]`` (that exact shape), from getitem
    on a tensor of positions, so the rules stay getitem's."""
    from .indexing import _getitem
    xp = x._backend.xp
    numel = x.numel()
    positions = Tensor._make(xp.reshape(xp.arange(numel, dtype=xp.int64,
                                                  device=x._backend.device), x.shape), x._backend)
    try:
        return _getitem(positions, key, op).array
    except (IndexError, ValueError, TypeError) as error:
        raise _rename(error, op) from None


def _broadcast_value(op, value, shape):
    """``value`` broadcast to ``shape``; extra leading size-1 axes are dropped first (NumPy
    and PyTorch allow ``x[0] = v`` with v of shape (1, n))."""
    from .shape import broadcast_to, reshape
    if value.shape == tuple(shape):
        return value
    dims = list(value.shape)
    while len(dims) > len(shape) and dims[0] == 1:
        dims.pop(0)
    if len(dims) > len(shape) or any(a not in (1, b) for a, b in zip(dims[::-1], shape[::-1])):
        raise ValueError(f"{op}: cannot assign a value of shape {value.shape} to a selection "
                         f"of shape {tuple(shape)}")
    if len(dims) != value.ndim:
        value = reshape(value, tuple(dims))
    return broadcast_to(value, tuple(shape))


class BasicAssign(Function):
    """A copy of ``x`` with ``value`` written at a key of ints and positive-step slices."""

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key = key
        out = ctx.xp.asarray(x, copy=True)
        out[key] = value
        return out

    @staticmethod
    def backward(ctx, g):
        xp, key = ctx.xp, ctx.key
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = xp.asarray(g, copy=True)
            grad_x[key] = 0
        if ctx.needs_input_grad[1]:
            grad_value = g[key]
        return grad_x, grad_value, None


def _basic_key(op, x, parts):
    """For a key without arrays: (key of ints and positive-step slices over every axis, shape of
    ``x[key]``, shape of ``x[key]`` without None's axes, axes of the latter to flip)."""
    key, shape, kept, flips = [], [], [], []
    axes = iter(range(x.ndim))
    for p in parts:
        if p is None:
            shape.append(1)
            continue
        axis = next(axes)
        n = x.shape[axis]
        if isinstance(p, int):
            if not -n <= p < n:
                raise IndexError(f"{op}: index {p} is out of range for axis {axis} of size {n}")
            key.append(p % n)
            continue
        if p.step == 0:
            raise ValueError(f"{op}: slice step cannot be zero")
        start, stop, step = p.indices(n)
        count = len(range(start, stop, step))
        if step < 0:  # the same elements in increasing order, then flipped
            start, step = start + step * (count - 1), -step
            flips.append(len(kept))
        shape.append(count)
        kept.append(count)
        if count == 0:
            key.append(slice(0, 0))
        else:
            end = start + step * (count - 1) + 1
            key.append(slice(start, end if end < n else None, step))
    return tuple(key), tuple(shape), tuple(kept), tuple(flips)


def setitem(x, key, value):
    """``x[key] = value``: PyTorch's in-place assignment, for every key getitem accepts (ints,
    slices with any step, None, Ellipsis, bool masks, integer Tensors/lists and their mixes).

    ``value`` (a number or Tensor) is broadcast to ``x[key]``'s shape and cast to x's dtype. The
    result is built out of place and bound through `Tensor._assign`, so the assignment is
    recorded by autograd (gradient to x outside the written region and to value) and refused on
    a leaf that requires grad while gradients are recorded. Repeated integer indices behave as
    ``index_put_`` without accumulate: the last write wins, and each duplicate receives its
    position's gradient, as in PyTorch.

    Returns
    -------
    Tensor
        ``x`` itself.
    """
    op = "setitem"
    _check_tensor(op, "x", x)
    from .indexing import _expand_key
    try:
        parts = _expand_key(x, key)
    except (IndexError, ValueError, TypeError) as error:
        raise _rename(error, op) from None
    value = _like(op, x, value)
    from .shape import flip, reshape
    if not any(hasattr(p, "shape") for p in parts):
        basic, shape, kept, flips = _basic_key(op, x, parts)
        value = _broadcast_value(op, value, shape)
        if kept != shape:
            value = reshape(value, kept)
        if flips:
            value = flip(value, flips)
        result = BasicAssign.apply(x, value, basic)
    else:
        positions = _selection_positions(op, x, key)
        value = _broadcast_value(op, value, tuple(positions.shape))
        xp = x._backend.xp
        positions = xp.reshape(positions, (-1,))
        result = reshape(IndexWrite.apply(_flat(x), _flat(value), positions, 0), x.shape)
    return x._assign(op, result)


def index_put(input, indices, values, accumulate=False):  # noqa: A002 - PyTorch's names
    """``input`` with ``values`` put at ``input[indices]`` (a tuple of index Tensors, one per
    leading axis), as ``torch.index_put``: with ``accumulate`` repeated positions add up,
    without it the last write wins.

    Returns
    -------
    Tensor of input's shape and dtype.
    """
    op = "index_put"
    _check_tensor(op, "input", input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of Tensors, got "
                        f"{type(indices).__name__}")
    key = tuple(slice(None) if i is None else i for i in indices)
    positions = _selection_positions(op, input, key)
    values = _broadcast_value(op, _like(op, input, values, "values"), tuple(positions.shape))
    xp = input._backend.xp
    positions = xp.reshape(positions, (-1,))
    primitive = IndexAdd if accumulate else IndexWrite
    return _shape_back(primitive.apply(_flat(input), _flat(values), positions, 0), input.shape)
