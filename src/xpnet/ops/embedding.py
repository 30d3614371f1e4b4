"""Embedding lookups: rows of a weight matrix gathered by integer indices, one at a time
(`embedding`) or reduced over bags (`embedding_bag`: sum, mean or max).

The backwards are scatter-adds (repeated indices accumulate). With ``sparse=True``
the weight's gradient is a `RowSparseGrad` holding just the looked-up rows, as PyTorch's
``sparse=True``; padding rows get no gradient either way.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.sparse import RowSparseGrad
from xpnet.autograd.tensor import Tensor
from xpnet.backend.checks import check, defers
from xpnet.backend.kernels import get_kernel, register_generic

__all__ = ["embedding", "embedding_bag"]


def _weight_grad(ctx, flat, rows, num_embeddings):
    """The weight's gradient from per-lookup gradient rows: row-sparse or scattered dense.

    ``flat`` (N,) are the looked-up rows, ``rows`` (N, D) their gradients; ``ctx`` carries
    ``padding_idx``, ``scale_grad_by_freq`` and ``sparse``.
    """
    xp, backend = ctx.xp, ctx.backend
    scatter_add = get_kernel("scatter_add", backend)
    if ctx.scale_grad_by_freq:
        # PyTorch divides each lookup's gradient by how often its row occurs in the whole input.
        ones = xp.ones((flat.shape[0],), dtype=rows.dtype, device=backend.device)
        counts = xp.take(scatter_add(xp, flat, ones, num_embeddings), flat)
        rows = rows / xp.reshape(xp.maximum(counts, xp.ones_like(counts)), (-1, 1))
    if ctx.sparse:
        if ctx.padding_idx is not None:
            (kept,) = xp.nonzero(flat != ctx.padding_idx)
            flat, rows = xp.take(flat, kept), xp.take(rows, kept, axis=0)
        return RowSparseGrad(flat, rows, (num_embeddings, rows.shape[1]), backend)
    grad = scatter_add(xp, flat, rows, num_embeddings)
    if ctx.padding_idx is not None:
        row_ids = xp.arange(num_embeddings, device=backend.device)
        keep = xp.reshape(row_ids != ctx.padding_idx, (-1, 1))
        grad = xp.where(keep, grad, xp.zeros_like(grad))
    return grad


class Embedding(Function):
    @staticmethod
    def compute(backend, weight, indices, padding_idx, scale_grad_by_freq, sparse):
        # Nothing records (no_grad, or a weight without gradient): the rows alone.
        xp = backend.xp
        if indices.ndim == 1:  # (each reshape costs a microsecond)
            return get_kernel("take_rows", backend)(xp, weight, indices)
        out = get_kernel("take_rows", backend)(xp, weight, xp.reshape(indices, (-1,)))
        return xp.reshape(out, (*indices.shape, weight.shape[1]))

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse):
        xp = ctx.xp
        flat = xp.reshape(indices, (-1,))
        ctx.save_for_backward(flat)
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.scale_grad_by_freq, ctx.sparse = scale_grad_by_freq, sparse
        out = get_kernel("take_rows", ctx.backend)(xp, weight, flat)
        return xp.reshape(out, (*indices.shape, weight.shape[1]))

    @staticmethod
    def backward(ctx, g):
        (flat,) = ctx.saved_tensors
        rows = ctx.xp.reshape(g, (flat.shape[0], g.shape[-1]))
        return _weight_grad(ctx, flat, rows, ctx.num_embeddings), None, None, None, None


def embedding(indices, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at integer ``indices``.

    Parameters
    ----------
    indices : Tensor of integers, any shape
    weight : Tensor of shape (num_embeddings, embedding_dim)
    padding_idx : int, optional
        That row gets no gradient (it stays whatever it is, usually zeros).
    max_norm : float, optional
        Rows looked up whose ``norm_type``-norm exceeds it are rescaled to it in place
        (under no_grad), before the lookup, as PyTorch does. Only those rows are read and
        written.
    norm_type : float, default=2.0
    scale_grad_by_freq : bool, default=False
        Divide each lookup's gradient by the number of times its row occurs in ``indices``.
    sparse : bool, default=False
        Give ``weight`` a row-sparse gradient (`xpnet.autograd.RowSparseGrad`) holding only the
        looked-up rows, for the optimizers that apply it without densifying (`optim.SGD`,
        `optim.Adagrad`, `optim.Adam`, `optim.SparseAdam`).

    Returns
    -------
    Tensor of shape (*indices.shape, embedding_dim)

    Raises
    ------
    TypeError
        If ``indices`` is not an integer Tensor.
    IndexError
        If an index is outside [0, num_embeddings).

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.arange(6.0).reshape(3, 2)
    >>> embedding(xpnet.tensor([2, 0]), w)
    tensor([[4., 5.],
            [0., 1.]])
    """
    _check_weight("embedding", indices, weight)
    n = weight.shape[0]
    padding_idx = _padding_index("embedding", padding_idx, n)
    data = _check_range("embedding", indices, n)
    for name, flag in (("scale_grad_by_freq", scale_grad_by_freq), ("sparse", sparse)):
        _check_flag("embedding", name, flag)
    if max_norm is not None:
        _renormalize(weight, data, max_norm, norm_type)
    return Embedding.apply(weight, data, padding_idx, scale_grad_by_freq, sparse)


class EmbeddingBag(Function):
    """Entry i of the flat input adds ``scale[i] * weight[flat[i]]`` to bag ``bag_of[i]``:
    scale is 1 or 0 (padding) for 'sum', 1/len(bag) or 0 for 'mean', times the per-sample
    weight. Forward is the `embedding_bag_forward` kernel (one pass over each bag's rows on
    NumPy; the twin is one `gather_scale_scatter_add`: gather words, sum into bags), which also
    gives ``bag_of`` and ``scale``; the dense backward is one `gather_scale_scatter_add` (gather
    bags, sum into words), with no (N, dim) intermediate on fast paths."""

    @staticmethod
    def compute(backend, weight, per_sample_weights, flat, starts, mean, padding_idx,
                scale_grad_by_freq, sparse):
        # Nothing records (no_grad): the bags alone, without the per-entry arrays for backward.
        return get_kernel("embedding_bag_forward", backend)(
            backend.xp, weight, flat, starts, per_sample_weights, mean=mean,
            padding_idx=padding_idx, backend=backend, save=False)[0]

    @staticmethod
    def forward(ctx, weight, per_sample_weights, flat, starts, mean, padding_idx,
                scale_grad_by_freq, sparse):
        out, bag_of, scale, mask = get_kernel("embedding_bag_forward", ctx.backend)(
            ctx.xp, weight, flat, starts, per_sample_weights, mean=mean,
            padding_idx=padding_idx, backend=ctx.backend)
        ctx.save_for_backward(flat, bag_of, scale, mask,
                              weight if ctx.needs_input_grad[1] else None)
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.scale_grad_by_freq, ctx.sparse = scale_grad_by_freq, sparse
        return out

    @staticmethod
    def backward(ctx, g):
        flat, bag_of, scale, mask, weight = ctx.saved_tensors
        xp = ctx.xp
        grad_weight = grad_per_sample = None
        if ctx.needs_input_grad[0]:
            if ctx.sparse or ctx.scale_grad_by_freq:
                rows = get_kernel("gather_scale_rows", ctx.backend)(xp, g, bag_of, scale)
                grad_weight = _weight_grad(ctx, flat, rows, ctx.num_embeddings)
            else:  # the padding entries' scale is zero, so the padding row gets nothing
                grad_weight = get_kernel("gather_scale_scatter_add", ctx.backend)(
                    xp, g, bag_of, flat, scale, ctx.num_embeddings)
        if ctx.needs_input_grad[1]:
            # d out[bag] / d psw[i] = weight[flat[i]], and zero for padding entries.
            per_entry = xp.take(g, bag_of, axis=0) * xp.take(weight, flat, axis=0)
            grad_per_sample = xp.sum(per_entry, axis=1) * mask
        return grad_weight, grad_per_sample, None, None, None, None, None, None, None


class EmbeddingBagMax(Function):
    """Each bag's elementwise maximum over its entries (padding entries left out), from the
    `embedding_bag_max_forward` kernel, which also says which entry gave each maximum (ties go
    to the earliest entry, as in PyTorch); that entry gets the gradient."""

    @staticmethod
    def forward(ctx, weight, flat, starts, padding_idx):
        out, winner, filled = get_kernel("embedding_bag_max_forward", ctx.backend)(
            ctx.xp, weight, flat, starts, padding_idx=padding_idx, backend=ctx.backend)
        ctx.save_for_backward(flat, winner, filled)
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.scale_grad_by_freq, ctx.sparse = False, False
        return out

    @staticmethod
    def backward(ctx, g):
        flat, winner, filled = ctx.saved_tensors
        xp = ctx.xp
        n, dim = flat.shape[0], g.shape[1]
        # Entry winner[b, d] gets g[b, d]: a scatter over the (entry, dim) pairs, then the
        # entries' rows go to the weight as for any lookup.
        columns = xp.reshape(xp.arange(dim, dtype=winner.dtype, device=ctx.backend.device),
                             (1, -1))
        target = xp.reshape(winner * dim + columns, (-1,))
        values = xp.reshape(xp.where(xp.reshape(filled, (-1, 1)), g, xp.zeros_like(g)), (-1,))
        rows = xp.reshape(get_kernel("scatter_add", ctx.backend)(xp, target, values, n * dim),
                          (n, dim))
        return (_weight_grad(ctx, flat, rows, ctx.num_embeddings),
                None, None, None, None, None, None, None)


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows, in one primitive per mode.

    Parameters
    ----------
    input : Tensor of integers, of shape (B, L) or (N,)
        2-D: B bags of L indices each (``offsets`` must be None). 1-D: the indices of every bag
        one after the other, cut by ``offsets``.
    weight : Tensor of shape (num_embeddings, embedding_dim)
    offsets : Tensor of integers, of shape (B,) or (B + 1,), optional
        Start of each bag in a 1-D ``input``: starts at 0 and never decreases; equal neighbours
        make empty bags. With ``include_last_offset`` the last entry ends the last bag and must
        equal ``len(input)``.
    max_norm, norm_type : float, optional
        As in `embedding`: looked-up rows are renormalised in place first.
    scale_grad_by_freq : bool, default=False
        As in `embedding` (frequencies over the whole input).
    mode : {'mean', 'sum', 'max'}, default='mean'
        How each bag is reduced ('max': elementwise, the gradient going to the entry that
        gave each maximum). Empty bags (and bags holding only padding) give zeros.
    sparse : bool, default=False
        Row-sparse gradient for ``weight``, as in `embedding` (not with 'max', as in PyTorch).
    per_sample_weights : Tensor of the shape of ``input``, optional
        Weight of each index in its bag's sum (``mode='sum'`` only); it gets a gradient too.
    include_last_offset : bool, default=False
    padding_idx : int, optional
        Indices equal to it are left out of their bag (and of the mean's count) and the row
        gets no gradient.

    Returns
    -------
    Tensor of shape (B, embedding_dim)

    Raises
    ------
    ValueError
        For a bad ``mode``, ``offsets`` with 2-D input or none with 1-D input, offsets that do
        not start at 0, decrease or run past the input, a ``per_sample_weights`` that does not
        match ``input``, or ``mode='max'`` with ``sparse`` or ``scale_grad_by_freq``.
    IndexError
        If an index is outside [0, num_embeddings).
    NotImplementedError
        For ``per_sample_weights`` with a mode other than 'sum' (as in PyTorch).

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.arange(8.0).reshape(4, 2)
    >>> embedding_bag(xpnet.tensor([0, 1, 3]), w, xpnet.tensor([0, 2]), mode="sum")
    tensor([[2., 4.],
            [6., 7.]])
    """
    op = "embedding_bag"
    _check_weight(op, input, weight)
    if mode not in _BAG_MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, _BAG_MODES))}, got "
                         f"{mode!r}")
    if mode == "max" and (sparse or scale_grad_by_freq):
        raise ValueError(f"{op}: mode='max' supports neither sparse=True nor "
                         f"scale_grad_by_freq=True (as in PyTorch)")
    for name, flag in (("scale_grad_by_freq", scale_grad_by_freq), ("sparse", sparse),
                       ("include_last_offset", include_last_offset)):
        _check_flag(op, name, flag)
    n = weight.shape[0]
    padding_idx = _padding_index(op, padding_idx, n)
    backend = weight._backend
    xp = backend.xp
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for 2-D input (each row is one bag), "
                             f"got offsets of shape {tuple(offsets.shape)}")
        num_bags, length = input.shape
        flat = xp.reshape(input.array, (-1,))
        starts = xp.arange(num_bags, dtype=flat.dtype, device=backend.device) * length
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: 1-D input needs offsets (the start of each bag); for bags "
                             f"of one length pass 2-D input of shape (bags, length)")
        flat = input.array
        starts, _ = _bag_starts(op, offsets, flat.shape[0], include_last_offset)
    else:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D (bags, length), got "
                         f"shape {input.shape}")
    checked = _check_range(op, input, n)
    if checked is not input.array:  # clamped until a device-side check reports
        flat = xp.reshape(checked, (-1,))
    if per_sample_weights is not None:
        per_sample_weights = _check_per_sample_weights(op, per_sample_weights, input, weight,
                                                       mode)

    if max_norm is not None:
        _renormalize(weight, flat, max_norm, norm_type)
    if mode == "max" and flat.shape[0]:  # (no input: zeros, which the sum path gives too)
        return EmbeddingBagMax.apply(weight, flat, starts, padding_idx)
    return EmbeddingBag.apply(weight, per_sample_weights, flat, starts, mode == "mean",
                              padding_idx, scale_grad_by_freq, sparse)


def _bag_entries(xp, flat, starts, dtype, padding_idx, backend):
    """Each entry's bag (bags are contiguous, from their starts), and 1 for each entry (0 at
    padding entries) in the weight's dtype."""
    device = backend.device
    positions = xp.arange(flat.shape[0], dtype=starts.dtype, device=device)
    bag_of = xp.searchsorted(starts, positions, side="right") - 1
    valid = xp.ones(flat.shape, dtype=dtype, device=device)
    if padding_idx is not None:
        valid = xp.where(flat != padding_idx, valid, xp.zeros_like(valid))
    return bag_of, valid


@register_generic("embedding_bag_forward")
def embedding_bag_forward(xp, weight, flat, starts, per_sample_weights, *, mean,
                          padding_idx, backend, save=True):
    """The twin of the sum and mean bags: ``(out, bag_of, scale, mask)``, ``out`` (bags, dim)
    the bags' sums or means, ``bag_of`` each entry's bag, ``scale`` each entry's factor in its
    bag's sum (1, or 1/count for 'mean', times its per-sample weight; 0 for padding), ``mask``
    that factor without the per-sample weight. With ``save=False`` (no backward will run) a
    fast path may return None for the last three. ``backend`` gives the scatters its fast
    paths (the twin runs wherever this kernel has none)."""
    bag_of, valid = _bag_entries(xp, flat, starts, weight.dtype, padding_idx, backend)
    num_bags = starts.shape[0]
    mask = valid
    if mean:
        counts = get_kernel("scatter_add", backend)(xp, bag_of, valid, num_bags)
        counts = xp.take(xp.maximum(counts, xp.ones_like(counts)), bag_of)
        mask = valid / counts
    scale = mask if per_sample_weights is None else mask * per_sample_weights
    out = get_kernel("gather_scale_scatter_add", backend)(xp, weight, flat, bag_of, scale,
                                                          num_bags)
    return out, bag_of, scale, mask


@register_generic("embedding_bag_max_forward")
def embedding_bag_max_forward(xp, weight, flat, starts, *, padding_idx, backend):
    """The twin of the max bags: ``(out, winner, filled)``, ``winner`` (bags, dim) the entry
    each maximum came from, ``filled`` whether a bag holds any non-padding entry (empty ones
    give zeros), by a segmented doubling scan: after the step with shift s every entry holds
    the maximum, and which entry gave it, of the last 2s entries of its bag, so
    ceil(log2(longest bag)) whole-array steps leave each bag's maximum at its last entry.
    O(N dim log L) work, O(N dim) memory, no loop over bags; ties go to the earliest entry, as
    in PyTorch."""
    device = backend.device
    bag_of, valid = _bag_entries(xp, flat, starts, weight.dtype, padding_idx, backend)
    num_bags = starts.shape[0]
    ends = xp.concat([starts[1:], xp.asarray([flat.shape[0]], dtype=starts.dtype,
                                             device=device)])
    filled = get_kernel("scatter_add", backend)(xp, bag_of, valid, num_bags) > 0
    longest = int(xp.max(ends - starts)) if num_bags else 0
    last_entry = xp.maximum(ends - 1, xp.zeros_like(ends))
    n, dim = flat.shape[0], weight.shape[1]
    best = xp.take(weight, flat, axis=0)
    best = xp.where(xp.reshape(valid > 0, (-1, 1)), best, xp.full_like(best, -math.inf))
    positions = xp.arange(n, dtype=bag_of.dtype, device=device)
    source = xp.broadcast_to(xp.reshape(positions, (-1, 1)), (n, dim))
    shift = 1
    while shift < longest:
        earlier = xp.maximum(positions - shift, xp.zeros_like(positions))
        same_bag = xp.logical_and(positions >= shift, xp.take(bag_of, earlier) == bag_of)
        candidate = xp.take(best, earlier, axis=0)
        # >=: on a tie the earlier window's entry wins.
        better = xp.logical_and(xp.reshape(same_bag, (-1, 1)), candidate >= best)
        best = xp.where(better, candidate, best)
        source = xp.where(better, xp.take(source, earlier, axis=0), source)
        shift *= 2
    zeros = xp.zeros((1, dim), dtype=weight.dtype, device=device)
    out = xp.where(xp.reshape(filled, (-1, 1)), xp.take(best, last_entry, axis=0), zeros)
    winner = xp.take(source, last_entry, axis=0)  # (bags, dim): the entry each value is from
    return out, winner, filled


def _bag_starts(op, offsets, length, include_last_offset):
    """The first position of each bag, checked; and the number of bags."""
    if not isinstance(offsets, Tensor):
        raise TypeError(f"{op}: offsets must be a Tensor of integers, got "
                        f"{type(offsets).__name__}")
    if not offsets.dtype.is_integer or offsets.ndim != 1:
        raise ValueError(f"{op}: offsets must be a 1-D integer Tensor, got {offsets.dtype.name} "
                         f"of shape {offsets.shape}")
    xp = offsets._backend.xp
    values = offsets.array
    if include_last_offset and values.shape[0] == 0:
        raise ValueError(f"{op}: with include_last_offset=True offsets needs at least one entry "
                         f"(the end of the input), got none")
    if values.shape[0]:
        first = int(values[0])
        if first != 0:
            raise ValueError(f"{op}: offsets[0] must be 0 (the first bag starts the input), "
                             f"got {first}")
        at = get_kernel("first_decrease", offsets._backend)(xp, values)
        if at >= 0:
            raise ValueError(f"{op}: offsets must not decrease, got offsets[{at}] = "
                             f"{int(values[at])} > offsets[{at + 1}] = {int(values[at + 1])}")
        last = int(values[-1])
        if last > length:
            raise ValueError(f"{op}: offsets must be <= len(input) ({length}), got offsets[-1] "
                             f"= {last}")
        if include_last_offset and last != length:
            raise ValueError(f"{op}: with include_last_offset=True the last offset ends the "
                             f"last bag and must equal len(input) ({length}), got {last}")
    elif length:
        raise ValueError(f"{op}: offsets is empty but input holds {length} indices; pass at "
                         f"least [0]")
    starts = values[:-1] if include_last_offset else values
    return starts, starts.shape[0]


def _check_per_sample_weights(op, per_sample_weights, input, weight, mode):
    if mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights is only supported for mode='sum' "
                                  f"(as in PyTorch), got mode={mode!r}")
    if not isinstance(per_sample_weights, Tensor):
        raise TypeError(f"{op}: per_sample_weights must be a Tensor, got "
                        f"{type(per_sample_weights).__name__}")
    if per_sample_weights.shape != input.shape:
        raise ValueError(f"{op}: per_sample_weights must have the shape of input {input.shape}, "
                         f"got {per_sample_weights.shape}")
    if per_sample_weights.dtype is not weight.dtype:
        raise TypeError(f"{op}: per_sample_weights must have the weight's dtype "
                        f"{weight.dtype.name}, got {per_sample_weights.dtype.name}")
    return per_sample_weights.reshape(-1)


def _check_weight(op, indices, weight):
    if not isinstance(indices, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: indices and weight must be Tensors, got "
                        f"{type(indices).__name__} and {type(weight).__name__}")
    if not indices.dtype.is_integer:
        raise TypeError(f"{op}: indices must be integers, got {indices.dtype.name}")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    if indices._backend is not weight._backend:
        raise ValueError(f"{op}: indices are on {indices.backend}, weight on {weight.backend}; "
                         f"move one with .to(backend=...)")


def _check_range(op, indices, n):
    """The index array, every entry in [0, n): IndexError otherwise (at the next
    synchronisation on a device backend, the entries clamped until then)."""
    backend = indices._backend
    xp, data = backend.xp, indices.array
    if not indices.numel():
        return data
    if not defers(backend):
        # Read at once: one pass for the smallest and largest index where a fast path has it
        # (8,192 indices on NumPy: 2 us, where the mask, its any() and the reductions took
        # 8 us alone and 25 us right after a bag's sums had taken the caches).
        lo, hi = get_kernel("index_range", backend)(xp, data)
        if lo < 0 or hi >= n:
            raise IndexError(f"{op}: indices must be in [0, {n}) (num_embeddings), got values "
                             f"in [{lo}, {hi}]")
        return data
    if check(backend, (op, "indices", n), xp.logical_or(data < 0, data >= n),
             lambda: (xp.min(data), xp.max(data)),
             lambda lo, hi: IndexError(f"{op}: indices must be in [0, {n}) (num_embeddings), "
                                       f"got values in [{lo}, {hi}]")):
        return xp.clip(data, 0, n - 1)
    return data


@register_generic("take_rows")
def take_rows(xp, table, index):
    """``table[index[i], :]`` for every i: the (N, dim) rows of a lookup, ``index`` (N,) already
    checked to lie in [0, len(table))."""
    return xp.take(table, index, axis=0)


@register_generic("gather_scale_rows")
def gather_scale_rows(xp, source, index, scale):
    """``source[index[i], :] * scale[i]`` for every i: the (N, dim) per-entry rows of a bag's
    gradient."""
    rows = xp.take(source, index, axis=0)
    rows *= xp.reshape(scale, (-1, 1))  # in place: one fresh (N, dim) array, not two
    return rows


@register_generic("index_range")
def index_range(xp, data):
    """``(min, max)`` of a non-empty integer array, as Python ints (read on the host)."""
    return int(xp.min(data)), int(xp.max(data))


@register_generic("first_decrease")
def first_decrease(xp, values):
    """The first ``i`` with ``values[i + 1] < values[i]`` in a 1-D array, or -1 (read on the
    host)."""
    if values.shape[0] < 2:
        return -1
    down = values[1:] < values[:-1]
    if not bool(xp.any(down)):
        return -1
    return int(xp.argmax(xp.astype(down, xp.int8)))


def _check_flag(op, name, flag):
    if not isinstance(flag, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {flag!r}")


def _padding_index(op, padding_idx, n):
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral) \
            or not -n <= padding_idx < n:
        raise ValueError(f"{op}: padding_idx must be an int in [-{n}, {n}), got "
                         f"{padding_idx!r}")
    return int(padding_idx) % n


def _renormalize(weight, flat, max_norm, norm_type):
    """Scale the looked-up rows whose norm exceeds max_norm down to it (PyTorch's rule,
    including its 1e-7 in the denominator). Only those rows are read and written."""
    backend = weight._backend
    xp = backend.xp
    w = weight.array
    rows_idx = xp.unique_values(xp.reshape(flat, (-1,)))
    rows = xp.take(w, rows_idx, axis=0)
    norms = xp.sum(xp.abs(rows) ** norm_type, axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), xp.ones_like(norms))
    delta = rows * xp.reshape(scale - 1, (-1, 1))
    weight._set_array(get_kernel("add_to_rows", backend)(xp, w, rows_idx, delta))
