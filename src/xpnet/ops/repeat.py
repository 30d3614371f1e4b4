"""Repeat, roll, narrow, triangles and diagonals: PyTorch's layout ops beyond reshape/permute.

Most are compositions of existing primitives (getitem slices, permute, broadcast_to, reshape,
take) so their gradients come for free: ``repeat`` and ``repeat_interleave`` with an int are a
broadcast between two reshapes (backward: a sum), ``diagonal`` is a take on the flattened last
two axes (backward: the scatter-add kernel), ``diag_embed`` is a masked broadcast and a pad.
The standard has no ``tril``/``triu``; they are a ``where`` with a mask built from two aranges.
"""

from __future__ import annotations

import numbers

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor, _shape_args

from ._util import AxisError, normalize_axis

__all__ = ["narrow", "select", "unbind", "movedim", "moveaxis", "repeat", "repeat_interleave",
           "tile", "roll", "tril", "triu", "diag", "diagonal", "diag_embed", "trace",
           "tril_indices", "triu_indices", "fliplr", "flipud"]


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def _int(op, name, value):
    """A Python int from an int or a one-element integer Tensor (PyTorch accepts both)."""
    if isinstance(value, Tensor):
        if not value.dtype.is_integer or value.numel() != 1:
            raise TypeError(f"{op}: {name} must be an int or a one-element integer Tensor, got "
                            f"a {value.dtype.name} Tensor of shape {value.shape}")
        return int(value.item())
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _ints(op, name, values):
    """A tuple of ints from an int or a sequence of them."""
    if isinstance(values, (tuple, list)):
        return tuple(_int(op, name, v) for v in values)
    return (_int(op, name, values),)


def _slab(dim, index):
    """A getitem key applying ``index`` (an int or slice) to ``dim`` only."""
    return (slice(None),) * dim + (index,)


# -- slices and axes ---------------------------------------------------------------------------

def narrow(input, dim, start, length):  # noqa: A002 - PyTorch's names
    """``length`` elements of ``input`` along ``dim`` from ``start`` (negative counts from the
    end), as ``torch.narrow``.

    Raises
    ------
    IndexError
        ``start`` outside ``[-size, size]``.
    ValueError
        A negative length, or ``start + length`` past the end.
    """
    op = "narrow"
    _check_tensor(op, input)
    if input.ndim == 0:
        raise ValueError(f"{op}: cannot narrow a 0-d tensor")
    dim = normalize_axis(op, dim, input.ndim)
    start, length = _int(op, "start", start), _int(op, "length", length)
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"{op}: start out of range: expected a value in [{-size}, {size}] for "
                         f"dimension {dim} of size {size}, got {start}")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise ValueError(f"{op}: start ({start}) + length ({length}) must lie within dimension "
                         f"{dim} of size {size}, with length >= 0")
    from .indexing import getitem
    return getitem(input, _slab(dim, slice(start, start + length)))


def select(input, dim, index):  # noqa: A002 - PyTorch's names
    """The slice of ``input`` at ``index`` along ``dim`` (that axis removed), as
    ``torch.select``; ``x.select(1, 2)`` is ``x[:, 2]``."""
    op = "select"
    _check_tensor(op, input)
    if input.ndim == 0:
        raise IndexError(f"{op}: cannot select from a 0-d tensor")
    dim = normalize_axis(op, dim, input.ndim)
    index, size = _int(op, "index", index), input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"{op}: index {index} is out of range for dimension {dim} of size "
                         f"{size}")
    from .indexing import getitem
    return getitem(input, _slab(dim, index))


class Unbind(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return tuple(ctx.xp.unstack(x, axis=axis))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.stack(grads, axis=ctx.axis), None


def unbind(input, dim=0):  # noqa: A002 - PyTorch's names
    """The slices of ``input`` along ``dim``, as a tuple (``torch.unbind``)."""
    op = "unbind"
    _check_tensor(op, input)
    if input.ndim == 0:
        raise ValueError(f"{op}: cannot unbind a 0-d tensor")
    dim = normalize_axis(op, dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    out = Unbind.apply(input, dim)
    return out if isinstance(out, tuple) else (out,)


def _axes(op, name, values, ndim):
    """The axes of parameter ``name`` (an int or a sequence), made non-negative; an AxisError
    (an IndexError, as PyTorch's) naming the parameter when one is out of range."""
    axes = _ints(op, name, values)
    n = max(ndim, 1)  # a 0-d tensor has one axis to name, as in PyTorch
    for a in axes:
        if not -n <= a < n:
            raise AxisError(f"{op}: {name} axis {a} is out of range for a {ndim}-D tensor "
                            f"(expected to be in range of [{-n}, {n - 1}], but got {a})")
    return tuple(a % n for a in axes)


def movedim(input, source, destination):  # noqa: A002 - PyTorch's names
    """``input`` with axes ``source`` (an int or sequence) moved to positions ``destination``,
    the others keeping their order, as ``torch.movedim``."""
    op = "movedim"
    _check_tensor(op, input)
    src = _axes(op, "source", source, input.ndim)
    dst = _axes(op, "destination", destination, input.ndim)
    if len(src) != len(dst):
        raise ValueError(f"{op}: source and destination must have the same number of axes, "
                         f"got {source!r} and {destination!r}")
    for name, axes, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: repeated axis in {name} {given!r}")
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(a for a in range(input.ndim) if a not in src)
    order = [next(rest) if a is None else a for a in order]
    from .shape import permute
    return permute(input, order) if input.ndim else input


moveaxis = movedim


def fliplr(input):  # noqa: A002 - PyTorch's name
    """``input`` reversed along axis 1 (at least 2-D), as ``torch.fliplr``."""
    _check_tensor("fliplr", input)
    if input.ndim < 2:
        raise ValueError(f"fliplr: expected a tensor of at least 2 dimensions, got {input.ndim}")
    from .shape import flip
    return flip(input, 1)


def flipud(input):  # noqa: A002 - PyTorch's name
    """``input`` reversed along axis 0 (at least 1-D), as ``torch.flipud``."""
    _check_tensor("flipud", input)
    if input.ndim < 1:
        raise ValueError("flipud: expected a tensor of at least 1 dimension, got 0")
    from .shape import flip
    return flip(input, 0)


# -- repeating ---------------------------------------------------------------------------------

def _tile(op, x, reps):
    """``x`` (padded with leading size-1 axes to len(reps)) repeated reps[i] times along axis i:
    a broadcast of shape (r0, s0, r1, s1, ...) reshaped to (r0 * s0, r1 * s1, ...)."""
    from .shape import broadcast_to, reshape
    if any(r < 0 for r in reps):
        raise ValueError(f"{op}: repeats must be non-negative, got {reps}")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    out_shape = tuple(r * n for r, n in zip(reps, shape))
    if all(r == 1 for r in reps):
        return reshape(x, shape) if shape != x.shape else _clone(x)
    interleaved = reshape(x, tuple(d for n in shape for d in (1, n)))
    spread = broadcast_to(interleaved, tuple(d for r, n in zip(reps, shape) for d in (r, n)))
    return reshape(spread, out_shape)


def _clone(x):
    from .unary import clone
    return clone(x)


def repeat(input, *sizes):  # noqa: A002 - PyTorch's name
    """``input`` repeated ``sizes[i]`` times along each axis, as PyTorch's ``Tensor.repeat``:
    ``t.repeat(2, 3)`` or ``t.repeat((2, 3))``. There must be at least ``input.ndim`` sizes;
    extra ones add leading axes. (NumPy's and the standard's ``repeat`` is
    `repeat_interleave`.)"""
    op = "repeat"
    _check_tensor(op, input)
    reps = _ints(op, "sizes", _shape_args(sizes))
    if len(reps) < input.ndim:
        raise ValueError(f"{op}: expected at least {input.ndim} sizes (one per dimension), got "
                         f"{len(reps)}: {reps}")
    return _tile(op, input, reps)


def tile(input, *dims):  # noqa: A002 - PyTorch's name
    """``input`` repeated ``dims[i]`` times along each axis, as ``torch.tile``: like `repeat`,
    but with fewer dims than axes the leading axes are repeated once."""
    op = "tile"
    _check_tensor(op, input)
    reps = _ints(op, "dims", _shape_args(dims))
    return _tile(op, input, (1,) * (input.ndim - len(reps)) + reps)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element (slice along ``dim``) of ``input`` repeated ``repeats`` times in place, as
    ``torch.repeat_interleave``.

    Parameters
    ----------
    input : Tensor
    repeats : int or Tensor of integers
        One count for all, or one per slice along ``dim`` (1-D). With ``repeats`` omitted,
        ``input`` holds the counts and the result repeats their positions:
        ``repeat_interleave(tensor([1, 2]))`` is ``tensor([0, 1, 1])``.
    dim : int, optional
        Default: the flattened input.
    output_size : int, optional
        The total length along ``dim``, checked against the counts.

    Returns
    -------
    Tensor
        input's shape with ``sum(repeats)`` along ``dim`` (1-D when dim is None).
    """
    op = "repeat_interleave"
    _check_tensor(op, input)
    if repeats is None:
        if input.ndim != 1 or not input.dtype.is_integer:
            raise TypeError(f"{op}: with repeats omitted, input must hold 1-D integer counts, "
                            f"got a {input.dtype.name} tensor of shape {input.shape}")
        from xpnet.creation import arange
        positions = arange(input.shape[0], backend=input._backend.name)
        return repeat_interleave(positions, input, 0, output_size=output_size)
    from .shape import reshape
    if dim is None:
        x, dim = reshape(input, (-1,)), 0
    else:
        dim = normalize_axis(op, dim, input.ndim)
        x = reshape(input, (1,)) if input.ndim == 0 else input
    n = x.shape[dim]
    xp = x._backend.xp
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.ndim <= 1:
        repeats = _int(op, "repeats", repeats)
    if isinstance(repeats, Tensor) or isinstance(repeats, (list, tuple)):
        from .scatter import _index_array
        counts = _index_array(op, x, repeats, "repeats")
        if counts.ndim != 1 or counts.shape[0] != n:
            raise ValueError(f"{op}: repeats must be an int or 1-D with one count per slice "
                             f"along dim {dim} ({n}), got shape {tuple(counts.shape)}")
        if n and bool(xp.any(counts < 0)):
            raise ValueError(f"{op}: repeats must be non-negative")
        ends = xp.cumulative_sum(counts)
        total = int(ends[-1]) if n else 0
        _check_output_size(op, output_size, total)
        steps = xp.arange(total, dtype=xp.int64, device=x._backend.device)
        from .indexing import Take
        return Take.apply(x, xp.searchsorted(ends, steps, side="right"), dim)
    count = _int(op, "repeats", repeats)
    if count < 0:
        raise ValueError(f"{op}: repeats must be non-negative, got {count}")
    _check_output_size(op, output_size, n * count)
    from .shape import broadcast_to
    shape = tuple(x.shape)
    wide = shape[:dim + 1] + (count,) + shape[dim + 1:]
    spread = broadcast_to(reshape(x, shape[:dim + 1] + (1,) + shape[dim + 1:]), wide)
    return reshape(spread, shape[:dim] + (n * count,) + shape[dim + 1:])


def _check_output_size(op, output_size, total):
    if output_size is not None and _int(op, "output_size", output_size) != total:
        raise ValueError(f"{op}: output_size={output_size} does not match the repeated length "
                         f"{total}")


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return ctx.xp.roll(x, shift=shifts, axis=axes)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if ctx.axes is not None else -ctx.shifts
        return ctx.xp.roll(g, shift=back, axis=ctx.axes), None, None


def roll(input, shifts, dims=None):  # noqa: A002 - PyTorch's names
    """``input`` shifted circularly by ``shifts`` along ``dims`` (ints or matching sequences),
    as ``torch.roll``; with dims=None the flattened tensor is rolled and the shape restored."""
    op = "roll"
    _check_tensor(op, input)
    shifts_t = _ints(op, "shifts", shifts)
    if dims is None:
        if len(shifts_t) != 1:
            raise ValueError(f"{op}: with dims=None, shifts must be a single int, got {shifts!r}")
        axes, shifts_arg = None, shifts_t[0]
    else:
        axes = tuple(normalize_axis(op, d, input.ndim) for d in _ints(op, "dims", dims))
        if len(axes) != len(shifts_t):
            raise ValueError(f"{op}: shifts and dims must have the same length, got "
                             f"{shifts!r} and {dims!r}")
        shifts_arg = shifts_t
    if input.numel() == 0:
        return _clone(input)
    return Roll.apply(input, shifts_arg, axes)


# -- triangles and diagonals -------------------------------------------------------------------

def _triangle(op, x, diagonal, lower):
    _check_tensor(op, x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a tensor of at least 2 dimensions, got {x.ndim}")
    k = _int(op, "diagonal", diagonal)
    xp, device = x._backend.xp, x._backend.device
    rows, cols = x.shape[-2:]
    offset = (xp.reshape(xp.arange(cols, dtype=xp.int64, device=device), (1, cols))
              - xp.reshape(xp.arange(rows, dtype=xp.int64, device=device), (rows, 1)))
    outside = offset > k if lower else offset < k
    from .scatter import Fill
    return Fill.apply(x, outside, 0)


def tril(input, diagonal=0):  # noqa: A002 - PyTorch's names
    """The lower triangle of the last two axes (on and below diagonal ``diagonal``, which is
    above the main one when positive), zeros elsewhere, as ``torch.tril``."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input, diagonal=0):  # noqa: A002 - PyTorch's names
    """The upper triangle of the last two axes (on and above diagonal ``diagonal``), zeros
    elsewhere, as ``torch.triu``."""
    return _triangle("triu", input, diagonal, lower=False)


def _diagonal_length(rows, cols, offset):
    return max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002 - PyTorch's names
    """The diagonal ``offset`` (positive: above the main one) of the matrices in axes ``dim1``
    (rows) and ``dim2`` (columns), as ``torch.diagonal``: those axes are removed and the
    diagonal becomes the last axis."""
    op = "diagonal"
    _check_tensor(op, input)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected a tensor of at least 2 dimensions, got {input.ndim}")
    d1, d2 = normalize_axis(op, dim1, input.ndim), normalize_axis(op, dim2, input.ndim)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 must differ, both are {d1}")
    k = _int(op, "offset", offset)
    rows, cols = input.shape[d1], input.shape[d2]
    from .shape import reshape
    x = movedim(input, (d1, d2), (-2, -1))
    lead = tuple(x.shape[:-2])
    flat = reshape(x, lead + (rows * cols,))
    length = _diagonal_length(rows, cols, k)
    xp = x._backend.xp
    steps = xp.arange(length, dtype=xp.int64, device=x._backend.device)
    start = max(-k, 0) * cols + max(k, 0)
    from .indexing import Take
    return Take.apply(flat, start + steps * (cols + 1), flat.ndim - 1)


_diagonal = diagonal  # diag's parameter is called diagonal


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002 - PyTorch's names
    """Matrices with the last axis of ``input`` on their diagonal ``offset``, placed in output
    axes ``dim1`` (rows) and ``dim2`` (columns), as ``torch.diag_embed``.

    Returns
    -------
    Tensor with one more axis than input; the matrices are ``n + |offset|`` square.
    """
    op = "diag_embed"
    _check_tensor(op, input)
    k = _int(op, "offset", offset)
    if input.ndim == 0:
        raise ValueError(f"{op}: expected a tensor of at least 1 dimension, got 0")
    x = input
    d1, d2 = normalize_axis(op, dim1, x.ndim + 1), normalize_axis(op, dim2, x.ndim + 1)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 must differ, both are {d1}")
    n = x.shape[-1]
    xp, device = x._backend.xp, x._backend.device
    from .shape import broadcast_to, pad, unsqueeze
    square = broadcast_to(unsqueeze(x, -2), tuple(x.shape[:-1]) + (n, n))
    steps = xp.arange(n, dtype=xp.int64, device=device)
    off_diagonal = xp.reshape(steps, (n, 1)) != xp.reshape(steps, (1, n))
    from .scatter import Fill
    out = Fill.apply(square, off_diagonal, 0)
    if k:
        # Positive offsets move the diagonal right (pad columns before, rows after).
        out = pad(out, (k, 0, 0, k) if k > 0 else (0, -k, -k, 0))
    return movedim(out, (-2, -1), (d1, d2))


def diag(input, diagonal=0):  # noqa: A002 - PyTorch's names
    """A 1-D input placed on diagonal ``diagonal`` of a square matrix, or the diagonal of a 2-D
    input as 1-D, as ``torch.diag``."""
    op = "diag"
    _check_tensor(op, input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal(input, diagonal)
    raise ValueError(f"{op}: expected a 1-D or 2-D tensor, got {input.ndim}-D of shape "
                     f"{input.shape}")


def trace(input):  # noqa: A002 - PyTorch's name
    """The sum of the main diagonal of a 2-D tensor, as ``torch.trace`` (integers sum as int64)."""
    _check_tensor("trace", input)
    if input.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got {input.ndim}-D of shape "
                         f"{input.shape}")
    from .reduce import sum as total
    d = diagonal(input)
    if not (d.dtype.is_floating_point or d.dtype.kind == "complex floating"):
        d = d.astype(_dt.int64)
    return total(d)


def _triangle_indices(op, row, col, offset, dtype, device, backend, lower):
    from xpnet import backend as _backends
    from xpnet.backend import device as _device
    row, col, k = _int(op, "row", row), _int(op, "col", col), _int(op, "offset", offset)
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got {row} and {col}")
    if device is not None:
        target = _device.target_backend(op, backend, device)
    else:
        target = _backends.active() if backend is None else _backends.load(backend)
    dt = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if not dt.is_integer:
        raise TypeError(f"{op}: dtype must be an integer dtype, got {dt.name}")
    xp = target.xp
    rows = xp.reshape(xp.arange(row, dtype=xp.int64, device=target.device), (row, 1))
    cols = xp.reshape(xp.arange(col, dtype=xp.int64, device=target.device), (1, col))
    inside = (cols - rows <= k) if lower else (cols - rows >= k)
    # nonzero lists positions in row-major order, which is PyTorch's order.
    found = xp.nonzero(inside)
    out = xp.stack([xp.astype(a, target.dtype(dt)) for a in found])
    return Tensor._make(out, target)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, backend=None):
    """The (row, column) positions of the lower triangle of a ``row x col`` matrix (on and below
    diagonal ``offset``), as a ``(2, N)`` tensor in row-major order, as ``torch.tril_indices``.

    Parameters
    ----------
    row, col : int
    offset : int, default=0
    dtype : integer dtype, default=int64
    device : str or xpnet.device, optional
    backend : str, optional
        Default: the active backend.
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, backend, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, backend=None):
    """The (row, column) positions of the upper triangle of a ``row x col`` matrix (on and
    above diagonal ``offset``), as a ``(2, N)`` tensor, as ``torch.triu_indices``."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, backend, False)
