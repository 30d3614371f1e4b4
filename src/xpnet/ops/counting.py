"""Distinct values, counts, bins and index queries: unique, unique_consecutive, bincount,
histc, searchsorted, bucketize, nonzero, argwhere, isin and unravel_index.

None is differentiable (the outputs are counts, positions or booleans). ``unique`` sorts with
the stable ``argsort`` of `xpnet.ops.sorting`; ``bincount`` and ``histc`` count with the
scatter-add kernel; ``searchsorted`` uses the standard's on 1-D sequences and counts the smaller
elements of each row on batched ones; ``isin`` sorts the test elements once and looks each
element up with ``searchsorted``.
"""

from __future__ import annotations

import builtins
import math

from xpnet import dtypes as _dt
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel

from ._util import axis_arg, normalize_axis, promote_operands
from .sorting import _argsort, _int, _tensor

__all__ = ["unique", "unique_consecutive", "bincount", "histc", "searchsorted", "bucketize",
           "nonzero", "argwhere", "isin", "unravel_index"]


# -- unique ------------------------------------------------------------------------------------

def _unique(op, input, dim, consecutive, return_inverse, return_counts):
    _tensor(op, "input", input)
    backend = input._backend
    xp, device = backend.xp, backend.device
    if dim is None:
        rows = xp.reshape(input.array, (-1, 1))
        axis, rest = 0, ()
    else:
        axis = normalize_axis(op, dim, input.ndim)
        if input.ndim == 0:
            raise ValueError(f"{op}: dim={dim} needs a tensor with at least one axis")
        moved = xp.moveaxis(input.array, axis, 0)
        rest = tuple(moved.shape[1:])
        rows = xp.reshape(moved, (moved.shape[0], math.prod(rest)))
    n = rows.shape[0]
    if consecutive:
        order = xp.arange(n, dtype=xp.int64, device=device)
    else:
        # Rows in lexicographic order: stable sorts from the last column to the first.
        order = xp.arange(n, dtype=xp.int64, device=device)
        for column in reversed(range(rows.shape[1])):
            key = xp.take(rows[:, column], order)
            order = xp.take(order, _argsort(xp, key, 0))
    ranked = xp.take(rows, order, axis=0)
    if n == 0:
        starts = xp.zeros((0,), dtype=xp.bool, device=device)
    else:
        differs = xp.any(ranked[1:, ...] != ranked[:-1, ...], axis=1)
        starts = xp.concat([xp.ones((1,), dtype=xp.bool, device=device), differs])
    first = xp.nonzero(starts)[0]
    values = xp.take(ranked, first, axis=0)
    if dim is None:
        values = xp.reshape(values, (-1,))
    else:
        values = xp.moveaxis(xp.reshape(values, (values.shape[0], *rest)), 0, axis)
    out = [Tensor._make(values, backend)]
    if return_inverse:
        run = xp.cumulative_sum(xp.astype(starts, xp.int64)) - 1
        # Undo the sort: element order[i] of the input is in run run[i].
        inverse = xp.take(run, _argsort(xp, order, 0)) if not consecutive else run
        if dim is None:
            inverse = xp.reshape(inverse, tuple(input.shape))
        out.append(Tensor._make(inverse, backend))
    if return_counts:
        ends = xp.concat([first[1:], xp.asarray([n], dtype=first.dtype, device=device)]) \
            if n else first
        out.append(Tensor._make(xp.astype(ends - first, xp.int64), backend))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None, *,  # noqa: A002
           axis=None):
    """The distinct elements (or, with ``dim``, distinct slices along ``dim``), sorted.

    Parameters
    ----------
    input : Tensor
    sorted : bool, default=True
        The result is always sorted here (``sorted=False`` allows any order).
    return_inverse : bool, default=False
        Also return, for each input element (each slice with ``dim``), the position of its value
        in the output: ``output[inverse]`` rebuilds ``input``.
    return_counts : bool, default=False
        Also return how often each output value occurs.
    dim : int, optional
        Compare whole slices along ``dim`` (lexicographically ordered) instead of elements of
        the flattened input.

    Returns
    -------
    Tensor or tuple of Tensors
        ``output``, then ``inverse_indices`` and ``counts`` (int64) when asked for. Not
        differentiable.
    """
    dim = axis_arg("unique", axis, dim)
    return _unique("unique", input, dim, False, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None, *,  # noqa: A002
                       axis=None):
    """`unique` of each run of equal consecutive elements (or slices along ``dim``), in input
    order: ``[1, 1, 2, 1]`` gives ``[1, 2, 1]``."""
    dim = axis_arg("unique_consecutive", axis, dim)
    return _unique("unique_consecutive", input, dim, True, return_inverse, return_counts)


# -- counting and bucketing --------------------------------------------------------------------

def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each value ``0..max(input)`` occurs in a 1-D non-negative integer tensor.

    Parameters
    ----------
    input : Tensor of shape (N,), integer
    weights : Tensor of shape (N,), optional
        Sum these instead of counting ones.
    minlength : int, default=0
        The output has at least this many bins.

    Returns
    -------
    Tensor of shape (max(max(input) + 1, minlength),)
        int64 counts; with weights, their sums (float weights keep their dtype, others give
        float64, as PyTorch). Not differentiable.
    """
    _tensor("bincount", "input", input)
    minlength = _int("bincount", "minlength", minlength)
    if input.ndim != 1 or not input.dtype.is_integer:
        raise TypeError(f"bincount: input must be a 1-D integer tensor, got {input.dtype.name} "
                        f"of shape {input.shape}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    backend = input._backend
    xp = backend.xp
    index = xp.astype(input.array, xp.int64)
    if input.numel() and int(xp.min(index)) < 0:
        raise ValueError(f"bincount: input must be non-negative, got {int(xp.min(index))}")
    size = builtins.max(int(xp.max(index)) + 1 if input.numel() else 0, minlength)
    if weights is None:
        values = xp.ones(index.shape, dtype=xp.int64, device=backend.device)
    else:
        _tensor("bincount", "weights", weights)
        if weights.shape != input.shape:
            raise ValueError(f"bincount: weights must have input's shape {input.shape}, got "
                             f"{weights.shape}")
        values = weights.array
        if not weights.dtype.is_floating_point:
            values = xp.astype(values, backend.dtype(_dt.float64))
    out = get_kernel("scatter_add", backend)(xp, index, values, size)
    return Tensor._make(out, backend)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of a floating tensor: ``bins`` equal-width bins over [min, max].

    ``min == max`` (the default) uses the smallest and largest elements, widened by 1 each side
    when those are equal; elements outside the range (and NaNs) are not counted; the last bin
    includes ``max``. Returns a Tensor of shape (bins,) and input's dtype (not differentiable).
    """
    _tensor("histc", "input", input)
    bins = _int("histc", "bins", bins)
    if bins <= 0:
        raise ValueError(f"histc: bins must be positive, got {bins}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"histc: expected a floating-point tensor, got {input.dtype.name}")
    backend = input._backend
    xp = backend.xp
    x = xp.reshape(input.array, (-1,))
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    if lo == hi and x.shape[0]:
        finite = x[xp.isfinite(x)]
        if finite.shape[0]:
            lo, hi = float(xp.min(finite)), float(xp.max(finite))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = xp.logical_and(x >= lo, x <= hi)
    position = xp.floor((xp.where(inside, x, xp.full_like(x, lo)) - lo) / (hi - lo) * bins)
    index = xp.clip(xp.astype(position, xp.int64), 0, bins - 1)
    # Outside elements go to an extra bin that is dropped.
    index = xp.where(inside, index, xp.full_like(index, bins))
    counts = get_kernel("scatter_add", backend)(xp, index, xp.ones_like(x), bins + 1)
    return Tensor._make(counts[:bins], backend)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa: A002
                 sorter=None):
    """Where each element of ``input`` would go in ``sorted_sequence`` to keep it sorted.

    Parameters
    ----------
    sorted_sequence : Tensor of shape ``(N,)`` or ``(*B, N)``
        Sorted along its last axis (or put in order by ``sorter``). With more than one axis, each
        row is searched by the matching row of ``input``, of shape ``(*B, M)``.
    input : Tensor or Python scalar
    out_int32 : bool, default=False
        int32 indices instead of int64.
    right : bool, default=False
        Insert after equal elements (``side='right'``) instead of before them.
    side : {'left', 'right'}, optional
        The same choice as ``right``; give one of the two.
    sorter : Tensor, optional
        Indices that sort each row of ``sorted_sequence`` (as from `argsort`).

    Returns
    -------
    Tensor of ``input``'s shape
        Insertion indices (not differentiable).
    """
    _tensor("searchsorted", "sorted_sequence", sorted_sequence)
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    backend = sorted_sequence._backend
    xp = backend.xp
    scalar = not isinstance(input, Tensor)
    if scalar:
        from xpnet.creation import tensor
        if not isinstance(input, (int, float)) or isinstance(input, bool):
            raise TypeError(f"searchsorted: input must be a Tensor or a number, got "
                            f"{type(input).__name__}")
        keep = isinstance(input, int) or sorted_sequence.dtype.is_floating_point
        input = tensor(input, dtype=sorted_sequence.dtype if keep else None, backend=backend)
    seq, values = promote_operands("searchsorted", sorted_sequence, input)
    if seq.ndim == 0:
        raise ValueError("searchsorted: sorted_sequence must have at least one axis")
    seq_array, value_array = seq.array, values.array
    if seq_array.dtype != value_array.dtype:  # e.g. int32 and int64: search in the wider one
        common = xp.result_type(seq_array, value_array)
        seq_array, value_array = xp.astype(seq_array, common), xp.astype(value_array, common)
    if sorter is not None:
        _tensor("searchsorted", "sorter", sorter)
        if sorter.shape != seq.shape:
            raise ValueError(f"searchsorted: sorter must have sorted_sequence's shape "
                             f"{seq.shape}, got {sorter.shape}")
        seq_array = xp.take_along_axis(seq_array, xp.astype(sorter.array, xp.int64), axis=-1)
    side_name = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq_array, value_array, side=side_name)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise ValueError(f"searchsorted: input must have the leading shape "
                             f"{seq.shape[:-1]} of sorted_sequence {seq.shape}, got "
                             f"{values.shape}")
        # Insertion point = how many elements are below (or not above) the value.
        below = (xp.less_equal if right else xp.less)(seq_array[..., None, :],
                                                       value_array[..., None])
        out = xp.sum(xp.astype(below, xp.int64), axis=-1)
    out = xp.astype(out, xp.int32 if out_int32 else xp.int64)
    return Tensor._make(out, backend)


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each element of ``input`` between the sorted 1-D ``boundaries``:
    ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (``<=`` then ``<`` with ``right=True``),
    i.e. ``searchsorted(boundaries, input, right=right)``."""
    _tensor("bucketize", "boundaries", boundaries)
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- index queries -----------------------------------------------------------------------------

def nonzero(input, *, as_tuple=False):  # noqa: A002 - PyTorch's names
    """The positions of the nonzero (True) elements of ``input``, in row-major order
    (``torch.nonzero``).

    Parameters
    ----------
    input : Tensor
    as_tuple : bool, default=False
        Return one 1-D tensor of positions per axis (NumPy's ``nonzero``) instead of a matrix.

    Returns
    -------
    Tensor of shape (count, input.ndim), or tuple of input.ndim Tensors of shape (count,)
        int64 positions. A 0-d input counts as 1-D for ``as_tuple=True`` and gives shape
        (count, 0) otherwise, as PyTorch.
    """
    _tensor("nonzero", "input", input)
    backend = input._backend
    xp = backend.xp
    array = xp.reshape(input.array, (1,)) if input.ndim == 0 else input.array
    found = [xp.astype(i, xp.int64) for i in xp.nonzero(array)]
    if as_tuple:
        return tuple(Tensor._make(i, backend) for i in found)
    if input.ndim == 0:
        return Tensor._make(xp.zeros((found[0].shape[0], 0), dtype=xp.int64,
                                     device=backend.device), backend)
    return Tensor._make(xp.stack(found, axis=1), backend)


def argwhere(input):  # noqa: A002 - PyTorch's name
    """``nonzero(input)``: the positions of the nonzero elements as a (count, ndim) int64
    matrix (``torch.argwhere``)."""
    _tensor("argwhere", "input", input)
    return nonzero(input)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` occurs in ``test_elements`` (``torch.isin``).

    Parameters
    ----------
    elements : Tensor or number
    test_elements : Tensor or number
        Any shape (flattened); at most one of the two may be a number. Dtypes are promoted
        together (an int 2 is in [2.0]); NaN is in nothing.
    assume_unique : bool, default=False
        Accepted for PyTorch's signature; the answer does not depend on it.
    invert : bool, default=False
        Return the opposite: True where the element does not occur.

    Returns
    -------
    Tensor of elements' shape
        bool (not differentiable).

    Raises
    ------
    TypeError
        Two numbers, another type, or bool tensors (as PyTorch).
    """
    op = "isin"
    given = [x for x in (elements, test_elements) if isinstance(x, Tensor)]
    if not given:
        raise TypeError(f"{op}: expected elements or test_elements to be a Tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    backend = given[0]._backend
    from xpnet.creation import tensor
    operands = []
    for name, x in (("elements", elements), ("test_elements", test_elements)):
        if not isinstance(x, Tensor):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError(f"{op}: {name} must be a Tensor or a number, got "
                                f"{type(x).__name__}")
            x = tensor(x, backend=backend)
        if x.dtype.kind == "bool":
            raise TypeError(f"{op}: {name} of dtype bool is not supported (as in PyTorch); "
                            f"convert with .long() first")
        operands.append(x)
    check_same_backend(op, operands)
    values, tests = promote_operands(op, *operands)
    xp = backend.xp
    a, b = values.array, xp.reshape(tests.array, (-1,))
    if a.dtype != b.dtype:  # e.g. int32 and int64: compare in the wider one
        common = xp.result_type(a, b)
        a, b = xp.astype(a, common), xp.astype(b, common)
    flat = xp.reshape(a, (-1,))
    if b.shape[0] == 0:
        found = xp.zeros(flat.shape, dtype=xp.bool, device=backend.device)
    else:
        ordered = xp.sort(b)
        where = xp.clip(xp.searchsorted(ordered, flat), 0, b.shape[0] - 1)
        found = xp.take(ordered, xp.astype(where, xp.int64)) == flat
    if invert:
        found = xp.logical_not(found)
    return Tensor._make(xp.reshape(found, tuple(values.shape)), backend)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of each flat (row-major) index, as
    ``torch.unravel_index``.

    Parameters
    ----------
    indices : Tensor of any integer dtype
    shape : int or sequence of int
        Non-negative sizes, none of them zero.

    Returns
    -------
    tuple of len(shape) Tensors of indices' shape
        int64 coordinates. Indices outside ``[0, prod(shape))`` wrap around as in PyTorch
        (coordinate ``i`` is ``(index // stride_i) % shape[i]``, rounding down).

    Raises
    ------
    TypeError
        ``indices`` not an integer Tensor, or ``shape`` not an int or sequence of ints.
    ValueError
        Negative or zero sizes in ``shape``.
    """
    op = "unravel_index"
    _tensor(op, "indices", indices)
    if not indices.dtype.is_integer:
        raise TypeError(f"{op}: indices must be an integer Tensor, got {indices.dtype.name}")
    if isinstance(shape, (tuple, list)):
        shape = tuple(_int(op, "shape", n) for n in shape)
    else:
        shape = (_int(op, "shape", shape),)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: shape cannot have negative sizes, got {shape}")
    if any(n == 0 for n in shape):
        raise ValueError(f"{op}: shape {shape} has a zero size; no index lies in an empty array")
    backend = indices._backend
    xp = backend.xp
    flat = xp.astype(indices.array, xp.int64)
    out, stride = [], math.prod(shape)
    for n in shape:
        stride //= n
        out.append(Tensor._make((flat // stride) % n, backend))  # both round down, as torch
    return tuple(out)
