"""Indexing: basic slicing and integer-array gathers (whose backward is the scatter-add kernel).

``x[key]`` follows NumPy's rules for ints, slices, None, Ellipsis, integer arrays (Tensors, lists
or NumPy arrays) and boolean masks. Everything is lowered to two primitives that the standard
supports on every backend: `BasicIndex` (slices and ints) and `Take` (``xp.take`` along one axis).
"""

from __future__ import annotations

import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend import is_numpy_array
from xpnet.backend.checks import check
from xpnet.backend.kernels import get_kernel

from ._util import normalize_axis

__all__ = ["getitem", "take"]


class BasicIndex(Function):
    """``x[key]`` for a key of ints and slices covering every axis."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = tuple(x.shape), key
        ctx.in_dtype = x.dtype
        return x[key]

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        out = xp.zeros(ctx.in_shape, dtype=g.dtype, device=ctx.backend.device)
        out[ctx.key] = g
        return out, None


class Take(Function):
    """``xp.take(x, index, axis)`` for a 1-D integer index; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.save_for_backward(index)
        ctx.axis, ctx.in_shape = axis, tuple(x.shape)
        return ctx.xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        moved = xp.moveaxis(g, axis, 0) if axis else g
        scatter_add = get_kernel("scatter_add", ctx.backend)
        out = scatter_add(xp, index, moved, ctx.in_shape[axis])
        return (xp.moveaxis(out, 0, axis) if axis else out), None, None


def take(x, index, axis=None):
    """Elements of ``x`` at integer positions ``index`` (negative counts from the end).

    With ``axis`` (the Array API's ``take``): ``index`` is 1-D and selects along that axis.
    Without it (PyTorch's ``take``): ``x`` is read as 1-D in row-major order and ``index`` may
    have any shape, which the result takes. Repeated positions add up their gradients.
    """
    if axis is None:
        from .shape import reshape
        flat_index = _index_array(x, index, "take")
        if x._backend.xpnet_dtype(flat_index.dtype).kind == "bool":
            raise TypeError("take: index must hold integers, got bool (use x[mask] or "
                            "masked_select for a mask)")
        shape = tuple(flat_index.shape)
        picked = take(reshape(x, (-1,)), x._backend.xp.reshape(flat_index, (-1,)), axis=0)
        return reshape(picked, shape)
    axis = normalize_axis("take", axis, x.ndim)
    index = _index_array(x, index, "take")
    if index.ndim != 1:
        raise ValueError(f"take: expected a 1-D index, got shape {tuple(index.shape)}")
    index = _checked_positions(x, index, x.shape[axis], axis, "take")
    return Take.apply(x, index, axis)


def _index_array(x, obj, op):
    """An integer or bool backend array on x's backend from a Tensor, list or NumPy array."""
    backend = x._backend
    if isinstance(obj, Tensor):
        if obj._backend is not backend:
            raise ValueError(f"{op}: index is on {obj._backend.name}, the tensor on {backend.name}")
        arr = obj.array
    elif isinstance(obj, (list, tuple)) or is_numpy_array(obj):
        # An empty list indexes nothing (NumPy, PyTorch); asarray alone would make it float.
        arr = backend.asarray(obj, dtype="int64" if isinstance(obj, (list, tuple)) and not obj
                              else None)
    else:
        arr = obj  # an array of the backend itself
        if not hasattr(arr, "dtype"):
            shown = f" {obj!r}" if isinstance(obj, (numbers.Number, str)) else ""
            raise TypeError(f"{op}: indices must be ints, slices, None, Ellipsis, or integer or "
                            f"bool Tensors, got {type(obj).__name__}{shown}")
    xp = backend.xp
    kind = backend.xpnet_dtype(arr.dtype).kind
    if kind == "bool":
        return arr
    if not kind.endswith("integer"):
        raise IndexError(f"{op}: index arrays must be integers or bools, got "
                         f"{backend.xpnet_dtype(arr.dtype).name}")
    if arr.dtype != xp.int64:
        arr = xp.astype(arr, xp.int64)
    return arr


def _checked_positions(x, index, size, axis, op):
    """Negative positions wrapped; out-of-range ones raise IndexError (never read past the end)."""
    backend = x._backend
    xp = backend.xp
    if index.shape[0] == 0:
        return index
    deferred = check(
        backend, (op, "index", size, axis), xp.logical_or(index >= size, index < -size),
        lambda: (xp.min(index), xp.max(index)),
        lambda lo, hi: IndexError(f"{op}: index out of range for axis {axis} of size {size} "
                                  f"(indices span {lo}..{hi})"))
    index = xp.where(index < 0, index + size, index)
    # Reported at the next synchronisation on a device; until then nothing is read past the end.
    return xp.clip(index, 0, size - 1) if deferred else index


def _expand_key(x, key):
    """The key as a tuple with Ellipsis replaced by full slices; arrays are converted."""
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            parts.append(k)
        elif isinstance(k, bool):
            raise IndexError("getitem: a Python bool index is not supported")
        elif isinstance(k, numbers.Integral):
            parts.append(int(k))
        elif isinstance(k, Tensor) and k.ndim == 0 and k.dtype.is_integer:
            parts.append(int(k.item()))
        else:
            parts.append(_index_array(x, k, "getitem"))
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis")
    used = sum(_axes_used(p, x._backend) for p in parts)
    if used > x.ndim:
        raise IndexError(f"getitem: too many indices for a tensor of shape {x.shape}")
    if Ellipsis in [p for p in parts if not hasattr(p, "shape")]:
        i = next(j for j, p in enumerate(parts) if p is Ellipsis)
        parts[i:i + 1] = [slice(None)] * (x.ndim - used)
    else:
        parts += [slice(None)] * (x.ndim - used)
    return parts


def _axes_used(p, backend):
    if p is None or p is Ellipsis:
        return 0
    if hasattr(p, "shape") and backend.xpnet_dtype(p.dtype).kind == "bool":
        return p.ndim
    return 1


def getitem(x, key):
    """``x[key]`` with NumPy's semantics (see the module docstring).

    Raises
    ------
    IndexError
        An index out of range, or a boolean mask whose shape differs from the axes it
        indexes (as PyTorch; a size-1 mask axis is not broadcast).
    """
    return _getitem(x, key, "getitem")


def _getitem(x, key, op):
    """`getitem`, naming ``op`` (setitem reads its positions through it) in the errors an
    index check reports at a later synchronisation."""
    parts = _expand_key(x, key)
    if not any(hasattr(p, "shape") for p in parts):
        return _basic(x, parts)
    backend = x._backend
    masks = [i for i, p in enumerate(parts)
             if hasattr(p, "shape") and backend.xpnet_dtype(p.dtype).kind == "bool"]
    if masks:
        _check_masks(x, parts)
        if any(parts[i].ndim == 0 for i in masks):
            return _zero_dim_mask(x, parts)
    if any(p is None for p in parts):
        raise IndexError("getitem: None cannot be combined with array indices; index in two steps")
    if not masks:
        return _advanced(x, parts, op)
    # Boolean masks become one integer array per masked axis (their nonzero positions).
    xp = backend.xp
    expanded = []
    for i, p in enumerate(parts):
        if i in masks:
            expanded.extend(xp.nonzero(p))
        else:
            expanded.append(p)
    return _advanced(x, expanded, op)


def _check_masks(x, parts):
    """An IndexError naming the first axis where a boolean mask's shape differs from the axes
    it indexes: nonzero() alone would select other elements, or fail later with an
    out-of-range message (the check is a shape comparison, nothing per element)."""
    axis = 0
    for p in parts:
        if p is None:
            continue
        if not hasattr(p, "shape") or x._backend.xpnet_dtype(p.dtype).kind != "bool":
            axis += 1
            continue
        shape = tuple(p.shape)
        if shape != x.shape[axis:axis + len(shape)]:
            j = next(j for j, n in enumerate(shape) if n != x.shape[axis + j])
            raise IndexError(f"getitem: the shape of the mask {list(shape)} at index {j} does "
                             f"not match the shape of the indexed tensor {list(x.shape)} at "
                             f"index {axis + j}")
        axis += len(shape)


def _zero_dim_mask(x, parts):
    """A key with 0-d boolean masks and no other arrays, as PyTorch reads it: ints and slices
    apply first, then the masks broadcast to one new axis of length 1 (every mask True) or 0,
    placed where they stand if they are adjacent, else first."""
    if any(hasattr(p, "shape") and p.ndim for p in parts):
        raise IndexError("getitem: a 0-d boolean mask cannot be combined with other index "
                         "arrays; index in two steps")
    out = _basic(x, [p for p in parts if not hasattr(p, "shape")])
    kept = [p for p in parts if not isinstance(p, int)]  # one output axis each, or a mask
    masks = [i for i, p in enumerate(kept) if hasattr(p, "shape")]
    at = masks[0] if masks == list(range(masks[0], masks[-1] + 1)) else 0
    rest = [slice(None)] * (out.ndim - at)
    out = _basic(out, [slice(None)] * at + [None] + rest)
    if all(bool(kept[i]) for i in masks):
        return out
    return _basic(out, [slice(None)] * at + [slice(0, 0)] + rest)


def _basic(x, parts):
    """Ints and slices through BasicIndex; negative steps by a flip (PyTorch's arrays have none);
    None by a reshape afterwards."""
    key, flips, out_axis = [], [], 0
    for axis, p in enumerate(q for q in parts if q is not None):
        n = x.shape[axis]
        if isinstance(p, int):
            if not -n <= p < n:
                raise IndexError(f"getitem: index {p} is out of range for axis {axis} of size {n}")
            key.append(p)
            continue
        if p.step == 0:
            raise ValueError("getitem: slice step cannot be zero")
        start, stop, step = p.indices(n)
        count = len(range(start, stop, step))
        if step < 0:
            start, step = start + step * (count - 1), -step  # the same elements, reversed
            flips.append(out_axis)
        # In-bounds, positive-step slices only: the standard leaves out-of-range bounds
        # unspecified (array_api_strict refuses them), and PyTorch refuses negative steps.
        if count == n and step == 1:
            p = slice(None)
        elif count == 0:
            p = slice(0, 0)
        else:
            end = start + step * (count - 1) + 1
            p = slice(start, end if end < n else None, step)
        key.append(p)
        out_axis += 1
    key = tuple(key)
    out = x
    if any(not (isinstance(p, slice) and p == slice(None)) for p in key):
        out = BasicIndex.apply(x, key)
    if flips:
        from .shape import flip
        out = flip(out, tuple(flips))
    if len(key) != len(parts):
        from .shape import reshape
        shape, dims = [], iter(out.shape)
        for p in parts:
            if p is None:
                shape.append(1)
            elif not isinstance(p, int):
                shape.append(next(dims))
        out = reshape(out, tuple(shape))
    return out


def _advanced(x, parts, op="getitem"):
    """NumPy advanced indexing: slices first, then one flat gather over the indexed axes."""
    from .shape import permute, reshape
    xp = x._backend.xp
    # Ints beside arrays act as 0-d arrays (NumPy's rule); slices are applied first.
    arrays = {}
    for axis, p in enumerate(parts):
        if hasattr(p, "shape"):
            arrays[axis] = p
        elif isinstance(p, int):
            arrays[axis] = x._backend.asarray(p, dtype="int64")
    sliced = _basic(x, [slice(None) if a in arrays else p for a, p in enumerate(parts)])
    adv_axes = sorted(arrays)
    rest_axes = [a for a in range(x.ndim) if a not in arrays]
    try:
        broadcast = xp.broadcast_arrays(*(arrays[a] for a in adv_axes))
    except (ValueError, RuntimeError):  # torch raises RuntimeError
        shapes = [tuple(arrays[a].shape) for a in adv_axes]
        raise IndexError(f"getitem: index arrays of shapes {shapes} cannot be broadcast together") \
            from None
    index_shape = tuple(broadcast[0].shape)
    # Linear position over the indexed axes, in the order they appear.
    flat = None
    for a, idx in zip(adv_axes, broadcast):
        n = sliced.shape[a]
        idx = _checked_positions(x, xp.reshape(idx, (-1,)), n, a, op)
        flat = idx if flat is None else flat * n + idx
    moved = permute(sliced, adv_axes + rest_axes)
    rest_shape = tuple(sliced.shape[a] for a in rest_axes)
    gathered = take(reshape(moved, (-1,) + rest_shape), flat, axis=0)
    out = reshape(gathered, index_shape + rest_shape)
    # NumPy puts the index dimensions where the indexed axes were when those are adjacent.
    if adv_axes == list(range(adv_axes[0], adv_axes[-1] + 1)) and adv_axes[0] > 0:
        k, first = len(index_shape), adv_axes[0]
        order = list(range(k, k + first)) + list(range(k)) + list(range(k + first, out.ndim))
        out = permute(out, order)
    return out
