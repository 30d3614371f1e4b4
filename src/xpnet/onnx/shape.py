"""Exporters of shape and layout ops: reshape/view (and flatten, squeeze, unsqueeze, which call
it), expand, transpose/permute, flip, concatenation, stacking, splitting, constant padding and
indexing."""

from __future__ import annotations

import importlib

import itertools

from xpnet.autograd.tensor import Tensor

from ._dims import Dim, dim_add, dim_floordiv, dim_mul, dim_sub, lift, monomial, units, \
    value_of
from ._errors import ExportError
from ._graph import INT64_MAX
from ._registry import function, primitive

# The modules themselves: xpnet.ops re-exports functions under some of their names.
_indexing = importlib.import_module("xpnet.ops.indexing")
_shape = importlib.import_module("xpnet.ops.shape")


def _product(dims):
    total = 1
    for d in dims:
        total = dim_mul(total, d)
    return total


def _already(g, out, x):
    """The op returned its input unchanged: nothing to emit."""
    if out is x or (isinstance(out, Tensor) and out.array is x.array):
        if not g.traced(x):  # a constant given symbolic sizes that equal its own
            g.bind(x, g.value(x), g.dims(x))
        return True
    return False


# -- reshape ---------------------------------------------------------------------------------

@function("xpnet.ops.shape:reshape")
def _reshape(g, out, x, shape):
    if _already(g, out, x):
        return
    in_dims = g.dims(x)
    entries = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    requested = []
    for e in entries:
        d = lift(e)
        requested.append(int(e) if d is None else d)
    minus = [i for i, d in enumerate(requested) if not isinstance(d, Dim) and d == -1]
    dims = list(requested)
    if minus:
        known = _product(d for i, d in enumerate(requested) if i != minus[0])
        dims[minus[0]] = dim_floordiv(_product(in_dims), known)
    if [value_of(d) for d in dims] != list(out.shape):
        # Sizes given some other way (0-d tensors...): found from the input's, as the
        # primitive's are.
        dims = list(infer_reshape_dims(g, in_dims, out.shape))
        minus = []
    name = g.value(x)
    if minus:
        # Keep the caller's -1; unchanged axes copy (0), other symbolic sizes are computed.
        target = []
        for i, d in enumerate(requested):
            if i == minus[0]:
                target.append(-1)
            elif isinstance(d, Dim) and i < len(in_dims) and in_dims[i] == d:
                target.append(0)
            else:
                target.append(d)
        if 0 in [value_of(d) for d in dims]:
            g.need_opset("a reshape to an empty axis", 14)
            result = g.op("Reshape", [name, g.shape_tensor(dims)], allowzero=1)
        else:
            result = g.op("Reshape", [name, g.shape_tensor(target)])
    else:
        result = g.reshape(name, dims, in_dims)
    g.bind(out, result, dims)


def infer_reshape_dims(g, in_dims, target):
    """Symbolic sizes for a reshape known only by its concrete target: input and output axes
    are grouped into blocks of equal size, and each block's symbols go to the output axes whose
    sizes they explain."""
    concrete = [value_of(d) for d in in_dims]
    target = [int(t) for t in target]
    if not any(isinstance(d, Dim) for d in in_dims) or 0 in concrete or 0 in target:
        return tuple(target)
    out = list(target)
    i = j = 0
    n, m = len(in_dims), len(target)
    while i < n or j < m:
        block_in, block_out, pi, po = [], [], 1, 1
        if i < n:
            block_in.append(i)
            pi *= concrete[i]
            i += 1
        if j < m:
            block_out.append(j)
            po *= target[j]
            j += 1
        while pi != po:
            if pi < po and i < n:
                block_in.append(i)
                pi *= concrete[i]
                i += 1
            elif j < m:
                block_out.append(j)
                po *= target[j]
                j += 1
            else:
                break
        size = _product(in_dims[k] for k in block_in)
        if not isinstance(size, Dim):
            continue
        if len(block_out) == 1:
            out[block_out[0]] = size
            continue
        out_sizes = [target[k] for k in block_out]
        split = _split_monomial(size, out_sizes)
        if split is None:
            raise ExportError(
                f"ONNX export: cannot tell which axes of a reshape to {tuple(target)} follow "
                f"the dynamic sizes {g.describe(size)} (input sizes {in_dims}); reshape with "
                f"sizes read from the input (x.view(x.size(0), -1)) or give the dynamic axes "
                f"example sizes that differ from each other and from the static ones")
        for k, d in zip(block_out, split):
            out[k] = d
    return tuple(out)


def _split_monomial(size, out_sizes):
    """The one way to share ``size``'s atoms among axes of concrete ``out_sizes``, or None."""
    atoms = units(size)
    found = set()
    for assignment in itertools.product(range(len(out_sizes)), repeat=len(atoms)):
        groups = [[] for _ in out_sizes]
        for atom, slot in zip(atoms, assignment):
            groups[slot].append(atom)
        dims, coeffs, ok = [], 1, True
        for group, want in zip(groups, out_sizes):
            part = monomial(1, group)
            v = value_of(part)
            if v == 0 or want % v:
                ok = False
                break
            c = want // v
            coeffs *= c
            dims.append(monomial(c, group) if group else c)
        if ok and coeffs == size.coeff:
            found.add(tuple(dims))
        if len(found) > 1:
            return None
    return found.pop() if found else None


@primitive(_shape.Reshape)
def _reshape_primitive(g, out, x, shape):
    in_dims = g.dims(x)
    if any(isinstance(lift(n), Dim) for n in shape):  # symbolic sizes given to the primitive
        dims = tuple(lift(n) for n in shape)
    else:
        dims = infer_reshape_dims(g, in_dims, shape)
    g.bind(out, g.reshape(g.value(x), dims, in_dims), dims)


# -- expand / broadcast_to ---------------------------------------------------------------------

def _expand_to(g, out, x, dims):
    in_dims = g.dims(x)
    lead = len(dims) - len(in_dims)
    # Expand broadcasts: a 1 keeps the input's size, so only new sizes need to be computed.
    target = [1 if i >= lead and in_dims[i - lead] == d else d for i, d in enumerate(dims)]
    g.bind(out, g.op("Expand", [g.value(x), g.shape_tensor(target)]), dims)


@function("xpnet.ops.shape:expand")
def _expand(g, out, x, shape):
    if _already(g, out, x):
        return
    in_dims = g.dims(x)
    entries = tuple(shape)
    lead = len(entries) - len(in_dims)
    dims = []
    for i, e in enumerate(entries):
        d = lift(e)
        d = int(e) if d is None else d
        if i >= lead and not isinstance(d, Dim) and d == -1:
            d = in_dims[i - lead]
        dims.append(d)
    if [value_of(d) for d in dims] != list(out.shape):
        dims = list(out.shape)
    _expand_to(g, out, x, dims)


@primitive(_shape.BroadcastTo)
def _broadcast_to(g, out, x, shape):
    in_dims = g.dims(x)
    lead = len(shape) - len(in_dims)
    dims = [in_dims[i - lead] if i >= lead and value_of(in_dims[i - lead]) == n else int(n)
            for i, n in enumerate(shape)]
    _expand_to(g, out, x, dims)


# -- layout ---------------------------------------------------------------------------------

@primitive(_shape.Permute)
def _permute(g, out, x, axes):
    dims = g.dims(x)
    g.bind(out, g.transpose(g.value(x), axes), [dims[a] for a in axes])


@primitive(_shape.Flip)
def _flip(g, out, x, axes):
    k = len(axes)
    name = g.slice(g.value(x), [-1] * k, [-INT64_MAX] * k, list(axes), [-1] * k)
    g.bind(out, name, g.dims(x))


@primitive(_shape.Concat)
def _concat(g, out, axis, *arrays):
    dtype = out.dtype.name
    dims = [g.dims(a) for a in arrays]
    result = list(dims[0])
    for i in range(len(result)):
        if i == axis:
            total = 0
            for d in dims:
                total = dim_add(total, d[i])
            result[i] = total
        else:
            result[i] = next((d[i] for d in dims if isinstance(d[i], Dim)), dims[0][i])
    g.bind(out, g.op("Concat", [g.value(a, dtype) for a in arrays], axis=axis), result)


@primitive(_shape.Stack)
def _stack(g, out, axis, *arrays):
    dtype = out.dtype.name
    parts = [g.unsqueeze(g.value(a, dtype), [axis]) for a in arrays]
    dims = list(next((g.dims(a) for a in arrays if g.traced(a)), g.dims(arrays[0])))
    dims.insert(axis, len(arrays))
    g.bind(out, g.op("Concat", parts, axis=axis), dims)


@primitive(_shape.Split)
def _split(g, out, x, sizes, axis):
    dims = g.dims(x)
    if isinstance(dims[axis], Dim):
        raise ExportError(f"ONNX export: split of the dynamic axis {axis} (size "
                          f"{g.describe(dims[axis])}) into the fixed sizes {list(sizes)}: the "
                          f"pieces would not follow the size; split a static axis, or use "
                          f"chunk(n) for n equal parts")
    _bind_pieces(g, out, x, list(sizes), axis)


def _bind_pieces(g, out, x, pieces, axis):
    dims = g.dims(x)
    outs = out if isinstance(out, tuple) else (out,)
    names = g.split(g.value(x), pieces, axis)
    for t, name, piece in zip(outs, names, pieces):
        d = list(dims)
        d[axis] = piece
        g.bind(t, name, d)


def _chunk_accepts(x, chunks, axis=None, *, dim=None):
    """chunk of a dynamic axis: n equal parts of the run-time size (others: the primitive)."""
    from ._trace import _ACTIVE
    a = dim if dim is not None else (axis if axis is not None else 0)
    value = _ACTIVE.g.lookup(x) if _ACTIVE is not None else None
    return value is not None and isinstance(value.dims[a % len(value.dims)], Dim)


@function("xpnet.ops.shape:chunk", accepts=_chunk_accepts)
def _chunk(g, out, x, chunks, axis=None, *, dim=None):
    a = (dim if dim is not None else (axis if axis is not None else 0)) % x.ndim
    size = g.dims(x)[a]
    outs = out if isinstance(out, tuple) else (out,)
    k = len(outs)
    if value_of(size) % k:
        raise ExportError(f"ONNX export: chunk({chunks}) of the dynamic axis {a} (size "
                          f"{g.describe(size)}, {value_of(size)} here) has pieces of unequal "
                          f"sizes; export with an example size divisible by {chunks}")
    _bind_pieces(g, out, x, [dim_floordiv(size, k)] * k, a)


@primitive(_shape.ConstantPad)
def _constant_pad(g, out, x, widths, value):
    dtype = out.dtype.name
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    name = g.op("Pad", [g.value(x, dtype), g.ints(pads), g.scalar(value, dtype)],
                mode="constant")
    dims = [dim_add(d, lo + hi) for d, (lo, hi) in zip(g.dims(x), widths)]
    g.bind(out, name, dims)


# -- indexing -------------------------------------------------------------------------------

def _is_array(p):
    return isinstance(p, Tensor) or (hasattr(p, "shape") and hasattr(p, "dtype"))


def _key_parts(key):
    return key if isinstance(key, tuple) else (key,)


def _getitem_accepts(x, key):
    """Keys of ints, slices with a positive step, None, Ellipsis and at most one integer
    tensor; anything else is traced op by op (an error if it involves traced indices)."""
    if not isinstance(x, Tensor):
        return False
    arrays = 0
    for p in _key_parts(key):
        if p is None or p is Ellipsis:
            continue
        if isinstance(p, slice):
            if p.step is not None and (lift(p.step) is None or isinstance(lift(p.step), Dim)
                                       or lift(p.step) <= 0):
                return False
            if any(b is not None and lift(b) is None for b in (p.start, p.stop)):
                return False
        elif isinstance(p, bool):
            return False
        elif lift(p) is not None:
            continue
        elif isinstance(p, Tensor) and p.dtype.is_integer:
            if p.ndim == 0:
                continue
            arrays += 1
        else:
            if isinstance(p, Tensor) and _traced_anywhere(p):
                raise ExportError("ONNX export: indexing with a boolean mask computed from "
                                  "the inputs gives a data-dependent shape, which the exporter "
                                  "does not support; use where() or masked_fill()")
            return False
    return arrays <= 1


def _traced_anywhere(t):
    from ._trace import _ACTIVE
    return _ACTIVE is not None and _ACTIVE.g.traced(t)


@function("xpnet.ops.indexing:getitem", accepts=_getitem_accepts)
def _getitem(g, out, x, key):
    parts = list(_key_parts(key))
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if Ellipsis in [p for p in parts if not _is_array(p)]:
        k = next(i for i, p in enumerate(parts) if not _is_array(p) and p is Ellipsis)
        parts[k:k + 1] = [slice(None)] * (x.ndim - used)
    in_dims = g.dims(x)
    name = g.value(x)
    axis, out_dims, slices, gathers, nones = 0, [], [], [], []
    for p in parts:
        if p is None:
            nones.append(len(out_dims))
            out_dims.append(1)
            continue
        if isinstance(p, slice):
            start, stop, step = p.start, p.stop, 1 if p.step is None else int(p.step)
            full = (start is None or (lift(start) == 0 and not isinstance(lift(start), Dim))) \
                and stop is None and step == 1
            if full:
                out_dims.append(in_dims[axis])
            else:
                slices.append((axis, start, stop, step))
                out_dims.append(("slice", axis, start, stop, step, len(out_dims)))
        elif _is_array(p) and getattr(p, "ndim", 0) > 0:
            gathers.append((axis, p))
            out_dims.extend(g.dims(p))
        else:
            gathers.append((axis, p))
        axis += 1
    out_dims.extend(in_dims[axis:])
    if slices:
        starts = [lift(s) if s is not None else 0 for _, s, _, _ in slices]
        ends = [lift(e) if e is not None else INT64_MAX for _, _, e, _ in slices]
        name = g.op("Slice", [name, g.shape_tensor(starts), g.shape_tensor(ends),
                              g.ints([a for a, _, _, _ in slices]),
                              g.ints([s for _, _, _, s in slices])])
    for a, p in sorted(gathers, key=lambda item: -item[0]):
        if _is_array(p):
            index = g.value(p, "int64")
        else:
            d = lift(p)
            index = g.squeeze(g.dim_tensor(d), [0]) if isinstance(d, Dim) else \
                g.scalar(d, "int64")
        name = g.op("Gather", [name, index], axis=a)
    if nones:
        name = g.unsqueeze(name, nones)
    dims = []
    for i, d in enumerate(out_dims):
        if isinstance(d, tuple):
            _, a, start, stop, step, pos = d
            d = _slice_length(in_dims[a], start, stop, step)
            if d is None or value_of(d) != out.shape[pos]:
                d = g.new_symbol(name, pos, int(out.shape[pos]))
        dims.append(d)
    g.bind(out, name, dims)


def _slice_length(size, start, stop, step):
    """The symbolic length of ``size[start:stop:step]`` for in-range bounds, or None."""
    start, stop = lift(start), lift(stop)
    if not isinstance(size, Dim) and not isinstance(start, Dim) and not isinstance(stop, Dim):
        return len(range(*slice(start, stop, step).indices(size)))

    def position(b, default):
        if b is None:
            return default
        if isinstance(b, Dim):
            return b
        return dim_add(size, b) if b < 0 else b

    lo, hi = position(start, 0), position(stop, size)
    if value_of(lo) < 0 or value_of(hi) > value_of(size) or value_of(hi) < value_of(lo):
        return None
    length = dim_sub(hi, lo)
    if step != 1:
        length = dim_floordiv(dim_add(length, step - 1), step)
    return length


@primitive(_indexing.BasicIndex)
def _basic_index(g, out, x, key):
    in_dims = g.dims(x)
    name = g.value(x)
    slices, gathers, dims = [], [], []
    for axis, p in enumerate(key):
        if isinstance(p, slice):
            start, stop, step = p.indices(value_of(in_dims[axis]))
            if p == slice(None):
                dims.append(in_dims[axis])
                continue
            slices.append((axis, start, INT64_MAX if p.stop is None else p.stop, step))
            dims.append(("slice", axis, p, len(dims)))
        else:
            gathers.append((axis, p))
    dims.extend(in_dims[len(key):])
    if slices:
        name = g.slice(name, [s for _, s, _, _ in slices], [e for _, _, e, _ in slices],
                       [a for a, _, _, _ in slices], [s for _, _, _, s in slices])
    for a, p in sorted(gathers, key=lambda item: -item[0]):
        name = g.op("Gather", [name, g.scalar(int(p), "int64")], axis=a)
    final = []
    for d in dims:
        if isinstance(d, tuple):
            _, a, p, pos = d
            size = in_dims[a]
            if isinstance(size, Dim) and p.stop is None and (p.step or 1) == 1:
                d = dim_sub(size, p.start or 0)
            else:
                d = int(out.shape[pos])
        final.append(d)
    g.bind(out, name, final)


@primitive(_indexing.Take)
def _take(g, out, x, index, axis):
    dims = list(g.dims(x))
    dims[axis:axis + 1] = list(g.dims(index))
    g.bind(out, g.op("Gather", [g.value(x), g.value(index, "int64")], axis=axis), dims)


__all__ = ["infer_reshape_dims"]


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@function("xpnet.ops.shape:pad",
          accepts=lambda x, pad, mode="constant", value=0.0: mode in _PAD_MODES)
def _pad(g, out, x, pad, mode="constant", value=0.0):
    """Reflect, replicate and circular padding: one Pad node (constant padding is the
    ConstantPad primitive's)."""
    if mode == "circular":
        g.need_opset("pad(mode='circular') (ONNX Pad mode 'wrap')", 19)
    dims = list(g.dims(x))
    widths = [(0, 0)] * len(dims)
    pad = [int(p) for p in pad]
    for i in range(len(pad) // 2):
        widths[len(dims) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    name = g.op("Pad", [g.value(x), g.ints(pads)], mode=_PAD_MODES[mode])
    g.bind(out, name, [dim_add(d, lo + hi) for d, (lo, hi) in zip(dims, widths)])


# -- gathers, rolls, unbinding -----------------------------------------------------------------

@function("xpnet.ops.scatter:gather")
def _gather(g, out, input, dim, index, *, sparse_grad=False):  # noqa: A002 - torch's names
    axis = dim % input.ndim
    name = g.op("GatherElements", [g.value(input), g.value(index, "int64")], axis=axis)
    g.bind(out, name, g.dims(index))


@primitive(importlib.import_module("xpnet.ops.repeat").Unbind)
def _unbind(g, out, x, axis):
    dims = list(g.dims(x))
    if isinstance(dims[axis], Dim):
        raise ExportError(f"ONNX export: unbind along the dynamic axis {axis} (size "
                          f"{g.describe(dims[axis])}) gives a number of tensors that depends "
                          f"on the input")
    outs = out if isinstance(out, tuple) else (out,)
    pieces = g.split(g.value(x), [1] * len(outs), axis) if len(outs) > 1 else [g.value(x)]
    rest = dims[:axis] + dims[axis + 1:]
    for t, piece in zip(outs, pieces):
        g.bind(t, g.squeeze(piece, [axis]), rest)


@primitive(importlib.import_module("xpnet.ops.repeat").Roll)
def _roll(g, out, x, shifts, axes):
    dims = g.dims(x)
    name = g.value(x)
    if axes is None:  # the flattened tensor, then the shape back
        name = g.op("Reshape", [name, g.ints([-1])])
        pairs = [(0, shifts)]
    else:
        pairs = list(zip(axes, shifts))
    for axis, shift in pairs:
        if axes is not None and not isinstance(dims[axis], Dim):
            shift %= dims[axis]
        if shift == 0:
            continue
        # The last `shift` entries first: a negative start counts from the end at run time.
        tail = g.slice(name, [-shift], [INT64_MAX], [axis])
        head = g.slice(name, [0], [-shift], [axis])
        name = g.op("Concat", [tail, head], axis=axis)
    if axes is None:
        name = g.op("Reshape", [name, g.op("Shape", [g.value(x)])])
    g.bind(out, name, dims)
