"""Shape and layout ops: reshape, permute, expand, squeeze, flip, concat/stack/split, pad."""

from __future__ import annotations

import collections.abc
import math
import numbers
import operator

from xpnet.autograd.function import Function, check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import register_generic

from ._util import AxisError, axis_arg, normalize_axis, sum_to_shape

__all__ = ["reshape", "permute", "swapaxes", "transpose", "flatten", "squeeze", "unsqueeze",
           "expand", "broadcast_to", "flip", "concat", "cat", "stack", "split", "chunk", "pad",
           "view_as", "reshape_as", "expand_as", "t"]


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return ctx.xp.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.reshape(g, ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return ctx.xp.permute_dims(x, axes)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.permute_dims(g, ctx.inverse), None


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to_shape(ctx.xp, g, ctx.in_shape), None


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.xp.flip(x, axis=axes)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.flip(g, axis=ctx.axes), None


def _slab(ndim, axis, start, stop):
    """An index selecting [start:stop) along ``axis`` and everything along the others."""
    return tuple(slice(start, stop) if i == axis else slice(None) for i in range(ndim))


class Concat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return ctx.xp.concat(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        grads, start = [None], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(g[_slab(g.ndim, ctx.axis, start, start + size)] if need else None)
            start += size
        return tuple(grads)


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return ctx.xp.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        grads = [None]
        for i, need in enumerate(ctx.needs_input_grad[1:]):
            grads.append(xp.squeeze(g[_slab(g.ndim, ctx.axis, i, i + 1)], axis=ctx.axis)
                         if need else None)
        return tuple(grads)


class Split(Function):
    @staticmethod
    def forward(ctx, x, sizes, axis):
        ctx.axis = axis
        out, start = [], 0
        for size in sizes:
            out.append(x[_slab(x.ndim, axis, start, start + size)])
            start += size
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        # The pieces' gradients are the engine's own, used nowhere else: a fast path may join
        # them as a view where they lie side by side (attention's q, k, v gradients do).
        return ctx.backend.kernels.concat_chunks(ctx.xp, grads, ctx.axis), None, None


@register_generic("concat_chunks")
def concat_chunks(xp, arrays, axis):
    """``xp.concat(arrays, axis=axis)`` for arrays that the caller owns and uses no more (a
    split's gradients): a fast path may return a view of the buffer they were cut from, where
    they lie side by side in it, instead of a copy."""
    return xp.concat(arrays, axis=axis)


class ConstantPad(Function):
    @staticmethod
    def forward(ctx, x, widths, value):
        xp = ctx.xp
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        ctx.inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths))
        out = xp.full(shape, value, dtype=x.dtype, device=ctx.backend.device)
        out[ctx.inner] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.inner], None, None


# -- user-facing functions -------------------------------------------------------------------

def _shape_arg(op, shape, name="shape"):
    """``shape`` as a tuple of ints: an int or a sequence of ints (NumPy integers too; bools,
    floats and the rest are refused, never truncated)."""
    if type(shape) is tuple and all(type(n) is int for n in shape):
        return shape
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    out = []
    for i, n in enumerate(shape):
        try:
            if isinstance(n, bool) or type(n).__name__ in ("bool", "bool_"):
                raise TypeError
            # An int subclass stays as it is: the ONNX exporter's symbolic sizes are ints that
            # remember their formula.
            out.append(n if isinstance(n, int) else operator.index(n))
        except TypeError:
            raise TypeError(f"{op}: {name} must be ints, got {type(n).__name__} {n!r:.40} at "
                            f"position {i}") from None
    return tuple(out)


def reshape(x, shape):
    """``x`` with a new shape of the same number of elements; one entry may be -1.

    Raises
    ------
    TypeError
        For a shape entry that is not an int (2.5 is refused, not truncated).
    ValueError
        For a shape of another number of elements, more than one -1, or an entry below -1.
    """
    return _reshape("reshape", x, shape)


def _reshape(op, x, shape):
    shape = _shape_arg(op, shape)
    size = x.numel()
    known = math.prod(n for n in shape if n != -1)
    unknown = [n for n in shape if n == -1]
    bad = any(n < -1 for n in shape) or len(unknown) > 1 or (
        size != known if not unknown else (known == 0 or size % known))
    if bad:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {x.shape} ({size} elements) "
                         f"into {shape}")
    if unknown:
        shape = tuple(size // known if n == -1 else n for n in shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


def permute(x, axes=None, *, dims=None):
    """Reorder the axes: output axis i is input axis ``axes[i]`` (PyTorch's ``dims``)."""
    axes = axis_arg("permute", axes, dims)
    if axes is None:
        raise TypeError("permute: missing the new order of the axes (axes= or dims=)")
    axes = tuple(axes)
    if sorted(normalize_axis("permute", a, x.ndim) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"permute: axes {axes} are not a permutation of the {x.ndim} axes of a "
                         f"tensor of shape {x.shape}")
    axes = tuple(normalize_axis("permute", a, x.ndim) for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, axes)


def swapaxes(x, axis0, axis1):
    """Exchange two axes (PyTorch's ``transpose(dim0, dim1)``)."""
    return _swap("swapaxes", x, axis0, axis1)


def transpose(input, dim0, dim1):  # noqa: A002 - PyTorch's names
    """Exchange axes ``dim0`` and ``dim1`` (the standard's `swapaxes`)."""
    return _swap("transpose", input, dim0, dim1)


def _swap(op, x, axis0, axis1):
    if x.ndim == 0:
        return x  # PyTorch: transposing a 0-d tensor returns it
    a, b = normalize_axis(op, axis0, x.ndim), normalize_axis(op, axis1, x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


def flatten(x, start_axis=None, end_axis=None, *, start_dim=None, end_dim=None):
    """Merge axes ``start_axis..end_axis`` (inclusive; PyTorch's ``start_dim``/``end_dim``)
    into one."""
    start_axis = axis_arg("flatten", start_axis, start_dim, 0)
    end_axis = axis_arg("flatten", end_axis, end_dim, -1)
    if x.ndim == 0:
        return reshape(x, (1,))
    s = _named_axis("flatten", "start_dim", start_axis, x.ndim)
    e = _named_axis("flatten", "end_dim", end_axis, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_axis} comes after end_dim {end_axis}")
    shape = x.shape
    return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def _named_axis(op, name, axis, ndim):
    """`normalize_axis` for a parameter with its own name (``start_dim``...)."""
    n = max(ndim, 1)
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and not -n <= axis < n:
        raise AxisError(f"{op}: axis {axis} is out of range for a {ndim}-D tensor ({name} is "
                        f"expected to be in range of [{-n}, {n - 1}], but got {axis})")
    return normalize_axis(op, axis, ndim)


def squeeze(x, axis=None, *, dim=None):
    """Drop size-1 axes (all of them, or those in ``axis``; others are left, as PyTorch does)."""
    axis = axis_arg("squeeze", axis, dim)
    if axis is None:
        axes = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        given = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = {normalize_axis("squeeze", a, x.ndim) for a in given}
        axes = {a for a in axes if x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis=None, *, dim=None):
    """Insert a size-1 axis at position ``axis`` (in the output; PyTorch's ``dim``)."""
    axis = axis_arg("unsqueeze", axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: dim (the position of the new axis, axis= or dim=) must be "
                        "an int, got None")
    axis = normalize_axis("unsqueeze", axis, x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a read-only view); the gradient is summed back."""
    shape = _shape_arg("broadcast_to", shape)
    if not _broadcastable(x.shape, shape):
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape)


def _broadcastable(shape, to):
    return len(to) >= len(shape) and all(a == b or a == 1 for a, b in zip(shape[::-1], to[::-1]))


def expand(x, shape):
    """PyTorch's ``expand``: ``broadcast_to`` where -1 keeps an axis's size."""
    shape = _shape_arg("expand", shape, "size")
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(shape)} sizes given for a {x.ndim}-D tensor {x.shape}: "
                         f"size {shape} needs at least {x.ndim} entries")
    full = tuple(x.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
    if not _broadcastable(x.shape, full) or any(n < 0 for n in full):
        raise ValueError(f"expand: cannot expand a tensor of shape {x.shape} to size {shape}: "
                         f"each axis must match the size, be 1, or be kept with -1")
    return broadcast_to(x, full)


def _other_shape(op, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    return other.shape


def view_as(x, other):
    """``x`` reshaped to ``other``'s shape."""
    return _reshape("view_as", x, _other_shape("view_as", other))


def reshape_as(x, other):
    """``x`` reshaped to ``other``'s shape."""
    return _reshape("reshape_as", x, _other_shape("reshape_as", other))


def expand_as(x, other):
    """``x`` broadcast to ``other``'s shape."""
    return expand(x, _other_shape("expand_as", other))


def t(x):
    """Transpose a 2-D tensor; 0-D and 1-D tensors come back as they are (PyTorch's ``t``)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {x.shape}; "
                         f"use transpose(dim0, dim1) or .mT")
    return x if x.ndim < 2 else permute(x, (1, 0))


def flip(x, axis=None, *, dims=None):
    """Reverse the order of elements along ``axis`` (PyTorch's ``dims``; all axes when None)."""
    axis = axis_arg("flip", axis, dims)
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        given = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(normalize_axis("flip", a, x.ndim) for a in given)
    return Flip.apply(x, axes)


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, collections.abc.Iterable):
        hint = "; wrap it in a list ([t]) or split it with t.unbind()" \
            if isinstance(tensors, Tensor) else ""
        raise TypeError(f"{op}: tensors must be a sequence (list or tuple) of Tensors, got "
                        f"{type(tensors).__name__}{hint}")
    given, tensors = type(tensors).__name__, list(tensors)
    if not tensors:
        raise ValueError(f"{op}: tensors must be a non-empty sequence of Tensors, got an empty "
                         f"{given}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: tensors must all be Tensors, got {type(t).__name__} at "
                            f"position {i}")
    check_same_backend(op, tensors)
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        # Promote as the standard does (the widest float wins) so strict accepts it.
        floats = [d for d in dtypes if d.is_floating_point]
        target = max(floats, key=lambda d: d.bits) if floats else max(dtypes, key=lambda d: d.bits)
        tensors = [t.astype(target) for t in tensors]
    return tensors


def concat(tensors, axis=None, *, dim=None):
    """Join tensors along an existing axis (PyTorch's ``cat``).

    Raises
    ------
    TypeError
        For ``tensors`` that is not a sequence of Tensors (a single Tensor included).
    ValueError
        For an empty sequence, 0-d tensors, or shapes that differ off ``axis``.
    """
    return _concat("concat", tensors, axis, dim)


def cat(tensors, axis=None, *, dim=None):
    """`concat` under PyTorch's name."""
    return _concat("cat", tensors, axis, dim)


def _concat(op, tensors, axis, dim):
    axis = axis_arg(op, axis, dim, 0)
    tensors = _tensor_list(op, tensors)
    ref = tensors[0]
    if ref.ndim == 0:
        raise ValueError(f"{op}: zero-dimensional tensors cannot be concatenated; use stack")
    axis = normalize_axis(op, axis, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if j != axis):
            raise ValueError(f"{op}: tensor {i} has shape {t.shape}, expected {ref.ndim}-D with "
                             f"all sizes but axis {axis} equal to those of {ref.shape}")
    return Concat.apply(axis, *tensors)


def stack(tensors, axis=None, *, dim=None):
    """Join same-shaped tensors along a new axis."""
    axis = axis_arg("stack", axis, dim, 0)
    tensors = _tensor_list("stack", tensors)
    ref = tensors[0]
    axis = normalize_axis("stack", axis, ref.ndim + 1)
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {ref.shape}")
    return Stack.apply(axis, *tensors)


def split(x, split_size_or_sections, axis=None, *, dim=None):
    """Split into pieces of ``split_size_or_sections`` (an int: equal chunks, the last maybe
    smaller; a list: those sizes) along ``axis``, as ``torch.split``."""
    axis = normalize_axis("split", axis_arg("split", axis, dim, 0), x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, bool) or not isinstance(
            split_size_or_sections, (numbers.Integral, tuple, list)):
        raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, got "
                        f"{type(split_size_or_sections).__name__} {split_size_or_sections!r:.40}")
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(_shape_arg("split", split_size_or_sections, "split_size_or_sections"))
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sections {sizes} must be non-negative and sum to the size "
                             f"of axis {axis} ({n})")
    if not sizes:
        return ()
    return Split.apply(x, tuple(sizes), axis)


def chunk(x, chunks, axis=None, *, dim=None):
    """Split into ``chunks`` nearly equal pieces along ``axis``, as ``torch.chunk``."""
    axis = axis_arg("chunk", axis, dim, 0)
    if isinstance(chunks, bool) or not isinstance(chunks, numbers.Integral):
        raise TypeError(f"chunk: chunks must be an int, got {type(chunks).__name__} "
                        f"{chunks!r:.40}")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_axis("chunk", axis, x.ndim)]
    return split(x, max(1, -(-n // chunks)), axis)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x, pad, mode="constant", value=0.0):  # noqa: A002 - PyTorch's name
    """Pad the last ``len(pad) // 2`` axes, PyTorch's way: ``pad = (left_last, right_last,
    left_second_last, right_second_last, ...)``.

    ``mode`` is 'constant' (fill with ``value``), 'reflect' (mirror without repeating the edge),
    'replicate' (repeat the edge) or 'circular' (wrap around).
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of pad sizes covering at most {x.ndim} "
                         f"axes, got {pad} for shape {x.shape}")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; expected one of {', '.join(_PAD_MODES)}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative pad sizes are not supported, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return ConstantPad.apply(x, tuple(widths), value)
    from .indexing import take
    out = x
    for axis, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = x.shape[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the size "
                             f"{n} of axis {axis}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty axis {axis}")
        index = [_source_index(i, n, mode) for i in range(-lo, n + hi)]
        out = take(out, x._backend.asarray(index, dtype="int64"), axis=axis)
    return out


def _source_index(i, n, mode):
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    if i < 0:  # reflect
        return -i
    return 2 * (n - 1) - i if i >= n else i
