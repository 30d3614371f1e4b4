"""PyTorch's layout helpers beyond reshape/permute: ravel, unflatten, tensor_split and the
h/v/d splits, the h/v/d/column stacks, atleast_Nd, rot90, broadcasting several tensors,
meshgrid, cartesian_prod, combinations, block_diag, ``Tensor.unfold`` and the in-place shape
changes (``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``, ``swapaxes_``, ``swapdims_``).

All are compositions of differentiable primitives (reshape, broadcast_to, flip, permute,
concat, the ``Split`` node of `xpnet.ops.shape`, slicing and ``Take``), so their gradients come
for free: ``unfold`` is one ``Take`` of every window's positions along the axis, whose backward
is the scatter-add kernel (overlapping windows add up), followed by a reshape and a permute.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings

from xpnet.autograd import grad_mode
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Size, Tensor, _unshare

from ._util import normalize_axis
from .indexing import Take, getitem
from .shape import (Split, _tensor_list, broadcast_to, concat, flip, permute, reshape,
                    squeeze, stack, swapaxes, t, transpose, unsqueeze)

__all__ = ["ravel", "unflatten", "tensor_split", "hsplit", "vsplit", "dsplit",
           "split_with_sizes", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d", "rot90", "broadcast_tensors",
           "broadcast_shapes", "meshgrid", "cartesian_prod", "combinations", "block_diag"]

# PyTorch has these only as Tensor methods (there is no torch.unfold or torch.squeeze_); they
# are bound in autograd/methods.py and stay out of the top-level namespace.
TENSOR_METHODS = ("unfold", "squeeze_", "unsqueeze_", "t_", "transpose_", "swapaxes_",
                  "swapdims_")


def _tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _int(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _slab(ndim, axis, start, stop):
    return (slice(None),) * axis + (slice(start, stop),) + (slice(None),) * (ndim - axis - 1)


# -- flattening and splitting ------------------------------------------------------------------

def ravel(input):  # noqa: A002 - PyTorch's name
    """``input`` as a 1-D tensor of all its elements in row-major order (``torch.ravel``)."""
    _tensor("ravel", "input", input)
    return reshape(input, (-1,))


def unflatten(input, dim, sizes):  # noqa: A002 - PyTorch's names
    """Expand axis ``dim`` of ``input`` into several axes of ``sizes`` (``torch.unflatten``).

    Parameters
    ----------
    input : Tensor
    dim : int
        The axis to expand (negative counts from the end).
    sizes : sequence of int
        The new axes' sizes; their product is ``input.shape[dim]``. One may be -1 (inferred).

    Returns
    -------
    Tensor of shape ``input.shape[:dim] + sizes + input.shape[dim + 1:]``

    Raises
    ------
    TypeError
        ``sizes`` not a sequence of ints.
    ValueError
        Empty ``sizes``, more than one -1, other negative sizes, or sizes whose product is not
        the length of axis ``dim``.
    """
    op = "unflatten"
    _tensor(op, "input", input)
    axis = normalize_axis(op, _int(op, "dim", dim), input.ndim)
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"{op}: sizes must be a tuple or list of ints, got "
                        f"{type(sizes).__name__}")
    sizes = tuple(_int(op, "sizes", s) for s in sizes)
    if not sizes:
        raise ValueError(f"{op}: sizes must be non-empty")
    n = input.shape[axis] if input.ndim else 1
    known = math.prod(s for s in sizes if s != -1)
    free = sizes.count(-1)
    if free > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"{op}: sizes {sizes} may hold at most one -1 and no other negative "
                         f"size")
    if (known != n) if not free else (known == 0 or n % known):
        raise ValueError(f"{op}: sizes {sizes} do not multiply up to the size {n} of dimension "
                         f"{axis} of a tensor of shape {input.shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    shape = input.shape
    return reshape(input, shape[:axis] + sizes + shape[axis + 1:])


def _pieces(input, bounds, axis):
    """The slices between consecutive ``bounds`` along ``axis`` (empty where they decrease)."""
    if all(a <= b for a, b in zip(bounds, bounds[1:])):
        out = Split.apply(input, tuple(b - a for a, b in zip(bounds, bounds[1:])), axis)
        return out if isinstance(out, tuple) else (out,)
    # Python's slicing rules: a piece after a larger index is empty, the next one starts
    # back at its own index (the pieces overlap).
    return tuple(getitem(input, _slab(input.ndim, axis, a, max(a, b)))
                 for a, b in zip(bounds, bounds[1:]))


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002 - PyTorch's names
    """Split ``input`` along ``dim`` into pieces, as ``torch.tensor_split``.

    Parameters
    ----------
    input : Tensor with at least one axis
    indices_or_sections : int, sequence of int, or integer Tensor (0-D or 1-D)
        An int ``n``: ``n`` pieces, the first ``size % n`` of them one element longer. A
        sequence: split before each index (Python slicing rules: negative indices count from
        the end, indices past the end give empty pieces).
    dim : int, default=0

    Returns
    -------
    tuple of Tensor
        Views of ``input`` along ``dim``; gradients flow back into ``input``.

    Raises
    ------
    TypeError
        ``indices_or_sections`` of another type (or a float Tensor).
    ValueError
        A 0-d input, ``n <= 0``, or an index Tensor with more than one axis.
    """
    op = "tensor_split"
    _tensor(op, "input", input)
    if input.ndim == 0:
        raise ValueError(f"{op}: expected a tensor with at least 1 dimension, got a 0-d tensor")
    axis = normalize_axis(op, _int(op, "dim", dim), input.ndim)
    spec = _split_spec(op, indices_or_sections)
    n = input.shape[axis]
    if isinstance(spec, int):
        if spec <= 0:
            raise ValueError(f"{op}: the number of sections must be positive, got {spec}")
        size, extra = divmod(n, spec)
        bounds = list(itertools.accumulate([0] + [size + 1] * extra + [size] * (spec - extra)))
    else:
        bounds = [0] + [min(max(b + n, 0), n) if b < 0 else min(b, n) for b in spec] + [n]
    return _pieces(input, bounds, axis)


def _split_spec(op, spec):
    """An int (sections) or a list of ints (indices) from any of PyTorch's spellings."""
    if isinstance(spec, Tensor):
        if not spec.dtype.is_integer:
            raise TypeError(f"{op}: indices_or_sections must be an integer Tensor, got "
                            f"{spec.dtype.name}")
        if spec.ndim > 1:
            raise ValueError(f"{op}: an indices_or_sections Tensor must be 0-D or 1-D, got "
                             f"shape {spec.shape}")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, (tuple, list)):
        return [_int(op, "indices_or_sections", i) for i in spec]
    if isinstance(spec, bool) or not isinstance(spec, numbers.Integral):
        raise TypeError(f"{op}: indices_or_sections must be an int, a sequence of ints or an "
                        f"integer Tensor, got {type(spec).__name__}")
    return int(spec)


def _split_along(op, input, indices_or_sections, axis, min_ndim):  # noqa: A002
    _tensor(op, "input", input)
    if input.ndim < min_ndim:
        raise ValueError(f"{op}: expected a tensor with at least {min_ndim} dimension"
                         f"{'s' if min_ndim > 1 else ''}, got {input.ndim}")
    spec = _split_spec(op, indices_or_sections)
    if isinstance(spec, int):
        n = input.shape[axis]
        if spec <= 0 or n % spec:
            raise ValueError(f"{op}: cannot split dimension {axis} of size {n} into {spec} equal "
                             f"sections; give a divisor of {n} or a list of indices")
    return tensor_split(input, spec, axis)


def hsplit(input, indices_or_sections):  # noqa: A002 - PyTorch's names
    """`tensor_split` along axis 1 (axis 0 of a 1-D tensor); an int must divide that axis
    evenly (``torch.hsplit``)."""
    axis = 0 if isinstance(input, Tensor) and input.ndim == 1 else 1
    return _split_along("hsplit", input, indices_or_sections, axis, 1)


def vsplit(input, indices_or_sections):  # noqa: A002 - PyTorch's names
    """`tensor_split` along axis 0 of a tensor of at least 2 dimensions; an int must divide
    that axis evenly (``torch.vsplit``)."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):  # noqa: A002 - PyTorch's names
    """`tensor_split` along axis 2 of a tensor of at least 3 dimensions; an int must divide
    that axis evenly (``torch.dsplit``)."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):  # noqa: A002 - PyTorch's names
    """Split ``input`` along ``dim`` into pieces of ``split_sizes``, which must add up to the
    length of that axis (``torch.split_with_sizes``); returns a tuple of Tensors.

    Raises
    ------
    TypeError
        ``split_sizes`` not a sequence of ints.
    ValueError
        Negative sizes, or sizes that do not sum to ``input.shape[dim]``.
    """
    op = "split_with_sizes"
    _tensor(op, "input", input)
    if not isinstance(split_sizes, (tuple, list)):
        raise TypeError(f"{op}: split_sizes must be a tuple or list of ints, got "
                        f"{type(split_sizes).__name__}")
    sizes = [_int(op, "split_sizes", s) for s in split_sizes]
    axis = normalize_axis(op, _int(op, "dim", dim), input.ndim)
    n = input.shape[axis] if input.ndim else 1
    if any(s < 0 for s in sizes) or sum(sizes) != n:
        raise ValueError(f"{op}: split_sizes {sizes} must be non-negative and sum exactly to "
                         f"{n}, the size of dimension {axis}")
    if not sizes:
        raise ValueError(f"{op}: split_sizes must be non-empty")
    return _pieces(input, list(itertools.accumulate([0] + sizes)), axis)


# -- stacking ------------------------------------------------------------------------------------

def _at_least(op, ndim, tensors):
    """PyTorch's atleast_Nd calling conventions: one Tensor -> a Tensor; several Tensors or
    one sequence of them -> a tuple."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (tuple, list))
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    out = tuple(_raise_ndim(_tensor(op, "each input", x), ndim) for x in tensors)
    return out[0] if single else out


def _raise_ndim(x, ndim):
    if x.ndim >= ndim:
        return x
    if ndim == 3 and x.ndim == 2:
        return reshape(x, x.shape + (1,))
    if ndim == 3 and x.ndim == 1:  # PyTorch puts a 1-D tensor in the middle: (1, n, 1)
        return reshape(x, (1,) + x.shape + (1,))
    return reshape(x, (1,) * (ndim - x.ndim) + x.shape)


def atleast_1d(*tensors):
    """Each tensor with at least 1 axis (a 0-d one becomes shape (1,)), as
    ``torch.atleast_1d``: one Tensor gives a Tensor; several, or one list/tuple, a tuple."""
    return _at_least("atleast_1d", 1, tensors)


def atleast_2d(*tensors):
    """Each tensor with at least 2 axes: 0-d -> (1, 1), (n,) -> (1, n) (``torch.atleast_2d``;
    one Tensor gives a Tensor, several or one list/tuple a tuple)."""
    return _at_least("atleast_2d", 2, tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 axes: 0-d -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1) (``torch.atleast_3d``; one Tensor gives a Tensor, several or one
    list/tuple a tuple)."""
    return _at_least("atleast_3d", 3, tensors)


def _stackable(op, tensors):
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: tensors must be a sequence of Tensors, got "
                        f"{type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of Tensors")
    for i, x in enumerate(tensors):
        _tensor(op, f"tensors[{i}]", x)
    return _tensor_list(op, tensors)


def hstack(tensors):
    """Join tensors column-wise: 1-D ones end to end (axis 0), others along axis 1; 0-d ones
    count as 1-D (``torch.hstack``)."""
    tensors = [_raise_ndim(x, 1) for x in _stackable("hstack", tensors)]
    return concat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join tensors row-wise along axis 0, after making each at least 2-D ((n,) -> (1, n)),
    as ``torch.vstack``."""
    return concat([_raise_ndim(x, 2) for x in _stackable("vstack", tensors)], 0)


def row_stack(tensors):
    """`vstack` under its other name (``torch.row_stack``)."""
    return concat([_raise_ndim(x, 2) for x in _stackable("row_stack", tensors)], 0)


def dstack(tensors):
    """Join tensors depth-wise along axis 2, after making each at least 3-D (see
    `atleast_3d`), as ``torch.dstack``."""
    return concat([_raise_ndim(x, 3) for x in _stackable("dstack", tensors)], 2)


def column_stack(tensors):
    """Join tensors as the columns of a matrix: 0-d and 1-D tensors become columns of shape
    (n, 1), others are joined along axis 1 as they are (``torch.column_stack``)."""
    tensors = _stackable("column_stack", tensors)
    return concat([reshape(x, (x.numel(), 1)) if x.ndim < 2 else x for x in tensors], 1)


# -- rotating, broadcasting, grids ---------------------------------------------------------------

def rot90(input, k=1, dims=(0, 1)):  # noqa: A002 - PyTorch's names
    """``input`` rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first
    axis towards the second (``torch.rot90``; negative ``k`` turns the other way).

    Returns
    -------
    Tensor
        ``dims`` exchanged in the shape when ``k`` is odd; a copy when ``k % 4 == 0``.

    Raises
    ------
    ValueError
        ``dims`` not two different axes of a tensor of at least 2 dimensions.
    """
    op = "rot90"
    _tensor(op, "input", input)
    k = _int(op, "k", k)
    if not isinstance(dims, (tuple, list)) or len(dims) != 2:
        raise ValueError(f"{op}: dims must be a pair of axes, got {dims!r}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected a tensor with at least 2 dimensions, got {input.ndim}")
    a, b = (normalize_axis(op, _int(op, "dims", d), input.ndim) for d in dims)
    if a == b:
        raise ValueError(f"{op}: dims must be two different axes, got {tuple(dims)}")
    k %= 4
    if k == 0:
        from .unary import clone
        return clone(input)
    if k == 2:
        return flip(input, (a, b))
    # A quarter turn is a flip of one axis and a swap of the two.
    return swapaxes(flip(input, b if k == 1 else a), a, b)


def _shape_of(op, shape):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{op}: each shape must be an int or a sequence of ints, got "
                        f"{type(shape).__name__}")
    shape = tuple(_int(op, "shape", n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: shapes cannot have negative sizes, got {shape}")
    return shape


def _broadcast(op, shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{op}: shapes {', '.join(str(s) for s in shapes)} cannot be "
                             f"broadcast together (sizes {sorted(sizes)} meet in one "
                             f"dimension)")
        out.append(sizes.pop() if sizes else 1)
    return Size(out)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to, as an `xpnet.Size`
    (``torch.broadcast_shapes``; an int counts as a 1-D shape).

    Raises
    ------
    ValueError
        Shapes that do not broadcast, or negative sizes.
    """
    return _broadcast("broadcast_shapes", [_shape_of("broadcast_shapes", s) for s in shapes])


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape, as a tuple (``torch.broadcast_tensors``);
    gradients are summed back to each input's shape."""
    op = "broadcast_tensors"
    for i, x in enumerate(tensors):
        _tensor(op, f"tensors[{i}]", x)
    if tensors:
        check_same_backend(op, tensors)
    shape = _broadcast(op, [x.shape for x in tensors])
    return tuple(broadcast_to(x, shape) for x in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (0-d ones count as length 1), as ``torch.meshgrid``.

    Parameters
    ----------
    *tensors : Tensor, or one list/tuple of Tensors
        Of the same dtype and backend; ``N`` of them, of lengths ``s0, s1, ...``.
    indexing : {'ij', 'xy'}, optional
        'ij' (matrix indexing): output shape ``(s0, s1, ...)``. 'xy' (Cartesian, NumPy's
        default): the first two axes exchanged, ``(s1, s0, ...)``. Omitted, 'ij' is used and a
        UserWarning says so, as PyTorch does.

    Returns
    -------
    tuple of N Tensors
        Output ``i`` holds ``tensors[i]`` repeated along every other axis; gradients are summed
        back.

    Raises
    ------
    ValueError
        No tensors, an input of more than 1 dimension, or another ``indexing``.
    TypeError
        Inputs of different dtypes.
    """
    op = "meshgrid"
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument (as in PyTorch); pass indexing='ij' (used now) or "
                      "indexing='xy' (NumPy's)", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"{op}: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError(f"{op}: expected at least one tensor")
    for i, x in enumerate(tensors):
        _tensor(op, f"tensors[{i}]", x)
        if x.ndim > 1:
            raise ValueError(f"{op}: expected 0-D or 1-D tensors, got tensors[{i}] of shape "
                             f"{x.shape}")
    check_same_backend(op, tensors)
    if len({x.dtype for x in tensors}) > 1:
        raise TypeError(f"{op}: expected tensors of one dtype, got "
                        f"{', '.join(x.dtype.name for x in tensors)}")
    sizes = [x.numel() for x in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for axis, n in zip(axes, sizes):
        shape[axis] = n
    out = []
    for x, axis, n in zip(tensors, axes, sizes):
        along = [1] * len(tensors)
        along[axis] = n
        out.append(broadcast_to(reshape(x, tuple(along)), tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as the rows of a matrix of
    shape (s0 * s1 * ..., N) in row-major order (``torch.cartesian_prod``); one tensor comes
    back as it is."""
    op = "cartesian_prod"
    if not tensors:
        raise ValueError(f"{op}: expected at least one tensor")
    for i, x in enumerate(tensors):
        _tensor(op, f"tensors[{i}]", x)
        if x.ndim != 1:
            raise ValueError(f"{op}: expected 1-D tensors, got tensors[{i}] of shape {x.shape}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002 - PyTorch's names
    """The length-``r`` combinations of the elements of a 1-D tensor, in lexicographic order
    of positions, as the rows of a matrix (``torch.combinations``, like
    ``itertools.combinations``; ``with_replacement`` allows an element several times).

    Returns
    -------
    Tensor of shape (number of combinations, r)
        Of ``input``'s dtype; gradients add up into the elements picked. ``r=0`` gives an
        empty 1-D tensor, as PyTorch.

    Raises
    ------
    ValueError
        An input that is not 1-D, or a negative ``r``.
    """
    op = "combinations"
    _tensor(op, "input", input)
    r = _int(op, "r", r)
    if input.ndim != 1:
        raise ValueError(f"{op}: expected a 1-D tensor, got shape {input.shape}")
    if r < 0:
        raise ValueError(f"{op}: r must be non-negative, got {r}")
    if r == 0:
        return getitem(input, (slice(0, 0),))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    positions = [i for combo in pick(range(input.shape[0]), r) for i in combo]
    backend = input._backend
    index = backend.asarray(positions, dtype="int64") if positions else \
        backend.xp.zeros((0,), dtype=backend.xp.int64, device=backend.device)
    return reshape(Take.apply(input, index, 0), (len(positions) // r, r))


def block_diag(*tensors):
    """A block-diagonal matrix with the tensors (0-D, 1-D taken as one row, or 2-D) on its
    diagonal and zeros elsewhere (``torch.block_diag``); dtypes are promoted, no tensors give
    an empty (1, 0) matrix."""
    op = "block_diag"
    for i, x in enumerate(tensors):
        _tensor(op, f"tensors[{i}]", x)
        if x.ndim > 2:
            raise ValueError(f"{op}: expected 0-D, 1-D or 2-D tensors, got tensors[{i}] of "
                             f"shape {x.shape}")
    if not tensors:
        from xpnet.creation import zeros
        return zeros((1, 0))
    blocks = [reshape(x, (1, x.numel())) if x.ndim < 2 else x for x in _tensor_list(op, tensors)]
    width = sum(b.shape[1] for b in blocks)
    from .shape import pad
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1]), value=0))
        left += b.shape[1]
    return concat(rows, 0)


# -- sliding windows -----------------------------------------------------------------------------

def unfold(input, dimension, size, step):  # noqa: A002 - PyTorch's names
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last axis
    (PyTorch's ``Tensor.unfold``; windows may overlap when ``step < size``).

    Parameters
    ----------
    input : Tensor
    dimension : int
    size : int
        Window length, at most ``input.shape[dimension]``.
    step : int
        Distance between window starts, positive.

    Returns
    -------
    Tensor
        Axis ``dimension`` replaced by the ``(L - size) // step + 1`` windows and a last axis of
        ``size``. Gradients from overlapping windows add up.

    Raises
    ------
    ValueError
        ``size`` negative or larger than the axis, or ``step`` not positive.
    """
    op = "unfold"
    _tensor(op, "input", input)
    axis = normalize_axis(op, _int(op, "dimension", dimension), input.ndim)
    size, step = _int(op, "size", size), _int(op, "step", step)
    x = reshape(input, (1,)) if input.ndim == 0 else input
    length = x.shape[axis]
    if not 0 <= size <= length:
        raise ValueError(f"{op}: size must be in [0, {length}] (the size of dimension {axis}), "
                         f"got {size}")
    if step <= 0:
        raise ValueError(f"{op}: step must be positive, got {step}")
    windows = (length - size) // step + 1
    backend = input._backend
    xp, device = backend.xp, backend.device
    starts = xp.arange(0, windows * step, step, dtype=xp.int64, device=device)
    offsets = xp.arange(size, dtype=xp.int64, device=device)
    index = xp.reshape(starts[:, None] + offsets[None, :], (-1,))
    picked = Take.apply(x, index, axis)
    shape = x.shape[:axis] + (windows, size) + x.shape[axis + 1:]
    out = reshape(picked, shape)
    if input.ndim == 0:
        return reshape(out, (size,))
    order = [a for a in range(len(shape)) if a != axis + 1] + [axis + 1]
    return permute(out, order)


# -- in-place shape changes ----------------------------------------------------------------------

def _reshape_in_place(op, self, make):
    """Make ``self`` hold ``make(self)``, a result of another shape (or layout).

    `Tensor._assign` keeps the shape, so this mirrors it for shape changes: refused on a leaf
    that requires grad while gradients are recorded; otherwise the result's graph node becomes
    this tensor's. Only this tensor changes: it leaves its sharing group, so ``.data`` and
    ``.detach()`` made earlier keep the old shape (as PyTorch's views keep theirs).
    """
    _tensor(op, "self", self)
    if grad_mode._enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be reshaped in place "
                           f"while gradients are recorded; do it under xpnet.no_grad()")
    result = make(self)
    if result is self:
        return self
    _unshare(self)
    self.array = result.array
    if result.grad_fn is not None:
        self.grad_fn, self._out_index, self.requires_grad = result.grad_fn, result._out_index, True
    elif self.grad_fn is not None:  # under no_grad a non-leaf becomes a plain leaf
        self.grad_fn = None
    return self


def squeeze_(self, dim=None):
    """In-place `xpnet.squeeze`: drop size-1 axes (all, or those in ``dim``); returns self."""
    return _reshape_in_place("squeeze_", self, lambda x: squeeze(x, dim))


def unsqueeze_(self, dim):
    """In-place `xpnet.unsqueeze`: insert a size-1 axis at ``dim``; returns self."""
    return _reshape_in_place("unsqueeze_", self, lambda x: unsqueeze(x, dim))


def t_(self):
    """In-place `xpnet.t`: transpose a tensor of at most 2 dimensions; returns self."""
    return _reshape_in_place("t_", self, t)


def transpose_(self, dim0, dim1):
    """In-place `xpnet.transpose`: exchange axes ``dim0`` and ``dim1``; returns self."""
    return _reshape_in_place("transpose_", self, lambda x: transpose(x, dim0, dim1))


def swapaxes_(self, axis0, axis1):
    """In-place `xpnet.swapaxes` (PyTorch's ``swapaxes_``); returns self."""
    return _reshape_in_place("swapaxes_", self, lambda x: swapaxes(x, axis0, axis1))


def swapdims_(self, dim0, dim1):
    """In-place `xpnet.swapdims` (PyTorch's ``swapdims_``); returns self."""
    return _reshape_in_place("swapdims_", self, lambda x: transpose(x, dim0, dim1))
