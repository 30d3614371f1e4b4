"""NumPy fast paths of the embedding-bag kernels with numba (the ``fast`` extra; without numba
nothing is registered and the twins in `xpnet.ops.embedding` run): ``embedding_bag_forward``
(sum, mean, per-sample weights), ``embedding_bag_max_forward``, ``gather_scale_rows`` (the
sparse backward's per-entry rows) and the operand checks ``index_range`` / ``first_decrease``.

Why compiled: the op used to find each entry's bag with a searchsorted, count the bags with a
scatter, then sum the rows through SciPy's CSR product (a dozen Python calls to set up), as the
twin still does with its own scatters; PyTorch (FBGEMM) reads each bag's rows once into its
output row, and so does this: one pass per bag, its sums held in vector registers
(`numba_row_sums`), the rows asked for ahead of use. The per-entry bag numbers and scales the
backward needs are written only when a backward will run. Vocabulary 50,000, dim 128, 8,192
Zipf lookups in 512 bags, float32, mean, one thread (asv_benchmarks/embedding_vs_torch.py):
forward 0.84 -> 0.21 ms (PyTorch 0.25), sparse forward + backward 1.02x -> 0.34x PyTorch's
time. Max keeps, per bag and column, the first entry holding the largest value (as PyTorch
and the twin's scan) in one pass instead of the twin's log2(longest bag) whole-array steps:
forward 46.5 -> 0.47 ms (PyTorch 2.5), with backward 50.6 -> 4.0 ms (PyTorch 7.8).

``take_rows``, the plain embedding lookup (``weight[indices]``), needs no numba: large lookups
are NumPy takes of blocks of the indices shared among threads (registered with or without
numba), or a compiled loop on numba's threads where they serve. The indices reach it already
checked by the op (`xpnet.ops.embedding._check_range`, whose ``index_range`` is below).

Large inputs are cut into blocks (of contiguous bags holding about equal numbers of entries,
or of indices), one per thread of `numpy_threads.thread_count`, shared by
`numpy_threads.run_compiled` (numba's threads, or the team); see _PARALLEL_FROM for what
counts as large.
"""

from __future__ import annotations

import numpy as np

from . import _generic, numpy_buffers, register_fast
from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, numba_threads_serve, run_compiled, run_shared, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

# Below this many entry-columns (entries x dim) one thread does it all. A block handed to a
# helper of the `numpy_threads` team costs some 25-50 us (it wakes, takes the GIL, calls in),
# and the loops are memory-bound, so two threads do not halve them: 2 threads against 1 on the
# 2-core machine, kernels alone, medians (ms), Zipf lookups of width 128, float32: 1,024 rows
# gathered 0.021 / 0.015, 2,048 rows 0.036 / 0.060, 8,192 rows 0.25-0.28 / 0.33; mean bags of
# 16 entries, 4,096 entries 0.100 / 0.081, 8,192 entries 0.188 / 0.207. But in
# asv_benchmarks/embedding_vs_torch.py, where PyTorch runs between our calls, its idle OpenMP
# worker spins on the second core for milliseconds after each call, and two threads lost
# there at 8,192 x 128 (forward 0.43 against 0.38 ms; bags 0.29 against 0.25): that size
# stays on one thread.
_PARALLEL_FROM = 1 << 21
# Where numba's threads serve (`numpy_threads.run_compiled`: a hand-off of a few microseconds,
# no GIL), from this size: 8,192 Zipf lookups of width 128 (2**20), mean bags of 16, float32,
# against PyTorch between calls: 0.135 -> 0.092 ms; a gather 0.29 (NumPy's take) -> 0.17.
_NUMBA_PARALLEL_FROM = 1 << 16
_FLOATS = (np.float32, np.float64)  # what the compiled loops are for; others take the twin


def _threads(work):
    """Threads for ``work`` entry-columns: 1 below _PARALLEL_FROM (_NUMBA_PARALLEL_FROM where
    numba's threads serve), else the BLAS count."""
    if work < _NUMBA_PARALLEL_FROM:
        return 1
    threads = thread_count()
    if work < _PARALLEL_FROM and not numba_threads_serve(threads):
        return 1
    return threads


def _row_blocks(rows, width):
    """(first row, stop row) blocks of equal size, one per thread (`numpy_threads.block_bounds`)."""
    return block_bounds(rows, _threads(rows * width))


def _blocks(starts, entries, width):
    """(first bag, stop bag) blocks of contiguous bags, one per thread, by entry count (the
    loops' callers have numba)."""
    bags = starts.shape[0]
    threads = _threads(entries * width) if bags > 1 else 1
    if threads <= 1:
        return block_bounds(bags, 1)
    return _bag_bounds(starts, entries, threads)


if numba is not None:
    from llvmlite import ir
    from numba.core import cgutils
    from numba.extending import intrinsic

    from .numba_row_sums import sum_rows

    @intrinsic
    def _prefetch_row(typingctx, table, row, lines):
        """Ask the cache for the first ``lines`` 64-byte lines of ``table[row]`` (a hint: it
        never faults, and does nothing where the CPU has no prefetch)."""
        def codegen(context, builder, signature, args):
            table_type = signature.args[0]
            array = context.make_array(table_type)(context, builder, args[0])
            zero = context.get_constant(numba.types.intp, 0)
            start = cgutils.get_item_pointer(context, builder, table_type, array,
                                             [args[1], zero], wraparound=False)
            byte_ptr = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            # llvm.prefetch(address, write=0, locality=3 (keep in every level), data cache=1)
            prefetch = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
                "llvm.prefetch")
            base = builder.bitcast(start, byte_ptr)
            with cgutils.for_range(builder, args[2]) as loop:
                address = builder.gep(base, [builder.mul(loop.index,
                                                         ir.Constant(loop.index.type, 64))])
                builder.call(prefetch, [address, i32(0), i32(3), i32(1)])
            return context.get_dummy_value()
        return numba.types.void(table, numba.types.intp, numba.types.intp), codegen

    # Entries ahead whose rows are asked for, and how many of each row's 64-byte lines (the
    # hardware's prefetcher follows the rest). Each bag's sums in registers, 8,192 entries of
    # dim 128 float32 in 512 bags, one thread, Zen 4: Zipf indices 80 us asking for whole rows
    # 16 entries ahead, 72 for none, 69-71 for 2 lines 4 or 8 ahead; uniform indices 114, 118
    # and 109-110.
    _AHEAD = 8
    _LINES = 2

    @numba.njit(inline="always")
    def _end(starts, b, flat):
        """Where bag b ends: where the next starts, or with the input."""
        return starts[b + 1] if b + 1 < starts.shape[0] else flat.shape[0]

    @compiled
    def _entries(flat, starts, psw, has_psw, mean, padding_idx, one, bag_of, scale, mask,
                 first, stop):
        """What the backward needs of each entry: its bag, and its factor in the bag's sum
        with (scale) and without (mask) its per-sample weight."""
        # one comes in the weight's dtype and the counts are kept in it, so that float32 bags
        # stay in float32 arithmetic (numba types float32 * int64 as float64); float32 counts
        # are exact up to 2**24 entries a bag.
        zero = one - one
        for b in range(first, stop):
            count = zero
            for i in range(starts[b], _end(starts, b, flat)):
                bag_of[i] = b
                if flat[i] != padding_idx:
                    count += one
            share = one / count if mean and count > one else one
            for i in range(starts[b], _end(starts, b, flat)):
                if flat[i] == padding_idx:
                    mask[i] = zero
                    scale[i] = zero
                else:
                    mask[i] = share
                    scale[i] = share * psw[i] if has_psw else share

    # Each bag's sums stay in vector registers while its rows add, one entry after the other
    # (`numba_row_sums`: the kernel's 108-111 us -> 80-82 on Zen 4 at the benchmark's shapes,
    # one thread, PyTorch's call 100-102; -> 69-71 asking for less ahead, above), the rows
    # _AHEAD entries on asked for first. A mean is divided once at the end, as PyTorch does,
    # not scaled entry by entry.

    @compiled
    def _sum_bags(weight, flat, starts, psw, has_psw, padding_idx, mean, one, out, first,
                  stop):
        n = flat.shape[0]
        lines = min(_LINES, (weight.shape[1] * weight.itemsize + 63) // 64)
        for b in range(first, stop):
            start, end = starts[b], _end(starts, b, flat)
            for i in range(start + _AHEAD, min(end + _AHEAD, n)):
                _prefetch_row(weight, flat[i], lines)
            count = end - start
            if padding_idx >= 0:
                for i in range(start, end):
                    if flat[i] == padding_idx:
                        count -= 1
            share = one / weight.dtype.type(count) if mean and count > 1 else one  # (as FBGEMM)
            sum_rows(weight, flat, psw, has_psw, padding_idx, start, end, share, out, b)

    @compiled
    def _bags(weight, flat, starts, psw, has_psw, save, mean, padding_idx, one, out, bag_of,
              scale, mask, first, stop):
        """A block of bags in one call: each Python call between blocks takes the GIL."""
        if save:
            _entries(flat, starts, psw, has_psw, mean, padding_idx, one, bag_of, scale, mask,
                     first, stop)
        _sum_bags(weight, flat, starts, psw, has_psw, padding_idx, mean, one, out, first, stop)

    @compiled
    def _max_bags(weight, flat, starts, padding_idx, zero, out, winner, filled, first,
                  stop):
        dim = weight.shape[1]
        for b in range(first, stop):
            best, won = out[b], winner[b]
            seen = False
            for i in range(starts[b], _end(starts, b, flat)):
                k = flat[i]
                if k == padding_idx:
                    continue
                row = weight[k]
                if not seen:
                    for j in range(dim):
                        best[j] = row[j]
                        won[j] = i
                    seen = True
                else:
                    for j in range(dim):
                        if row[j] > best[j]:  # strict: a tie stays with the earlier entry
                            best[j] = row[j]
                            won[j] = i
            filled[b] = seen
            if not seen:  # empty (or all padding): zeros, and a gradient that goes nowhere
                for j in range(dim):
                    best[j] = zero
                    won[j] = 0

    @compiled
    def _bag_bounds(starts, entries, threads):
        """`numpy_threads.block_bounds` rows of contiguous bags, cut where the entries reach
        1/threads, 2/threads... of ``entries`` (a bag is never cut; repeated cuts are one).
        Compiled: NumPy's searchsorted and the bounds' array from Python took 6-14 us of a
        70 us forward (8,192 entries in 512 bags, two threads)."""
        bags = starts.shape[0]
        bounds = np.empty((threads, 3), dtype=np.int64)
        count = first = 0
        for k in range(1, threads):
            cut = np.searchsorted(starts, entries * k // threads)
            if first < cut < bags:
                bounds[count, 0], bounds[count, 1], bounds[count, 2] = first, cut, count
                count += 1
                first = cut
        bounds[count, 0], bounds[count, 1], bounds[count, 2] = first, bags, count
        return bounds[:count + 1]

    @parallel
    def _bags_blocks(weight, flat, starts, psw, has_psw, save, mean, padding_idx, one, out,
                     bag_of, scale, mask, bounds):
        for i in numba.prange(bounds.shape[0]):
            _bags(weight, flat, starts, psw, has_psw, save, mean, padding_idx, one, out, bag_of,
                  scale, mask, bounds[i, 0], bounds[i, 1])

    @parallel
    def _max_bags_blocks(weight, flat, starts, padding_idx, zero, out, winner, filled, bounds):
        for i in numba.prange(bounds.shape[0]):
            _max_bags(weight, flat, starts, padding_idx, zero, out, winner, filled, bounds[i, 0],
                      bounds[i, 1])

    def _operands(weight, flat, starts):
        return (np.ascontiguousarray(weight), np.ascontiguousarray(flat),
                np.ascontiguousarray(starts, dtype=np.int64))

    def _padding(padding_idx):
        return -1 if padding_idx is None else int(padding_idx)  # indices are >= 0

    @register_fast("embedding_bag_forward", "numpy")
    def embedding_bag_forward(xp, weight, flat, starts, per_sample_weights, *, mean,
                              padding_idx, backend, save=True):
        if weight.dtype not in _FLOATS:
            return _generic["embedding_bag_forward"](
                xp, weight, flat, starts, per_sample_weights, mean=mean,
                padding_idx=padding_idx, backend=backend)
        weight, flat, starts = _operands(weight, flat, starts)
        n, bags, dim = flat.shape[0], starts.shape[0], weight.shape[1]
        dtype = weight.dtype
        out = np.empty((bags, dim), dtype=dtype)
        has_psw = per_sample_weights is not None
        psw = (np.ascontiguousarray(per_sample_weights, dtype=dtype) if has_psw
               else np.empty(0, dtype=dtype))
        padding, one = _padding(padding_idx), dtype.type(1)
        saved = n if save else 0
        bag_of = np.empty(saved, dtype=np.int64)
        scale, mask = np.empty(saved, dtype=dtype), np.empty(saved, dtype=dtype)
        run_compiled(_bags_blocks, (weight, flat, starts, psw, has_psw, save, mean, padding, one,
                                    out, bag_of, scale, mask),
                     _blocks(starts, n, dim), kernel=_bags)
        return (out, bag_of, scale, mask) if save else (out, None, None, None)

    @register_fast("embedding_bag_max_forward", "numpy")
    def embedding_bag_max_forward(xp, weight, flat, starts, *, padding_idx, backend):
        if weight.dtype not in _FLOATS:
            return _generic["embedding_bag_max_forward"](xp, weight, flat, starts,
                                                         padding_idx=padding_idx,
                                                         backend=backend)
        weight, flat, starts = _operands(weight, flat, starts)
        bags, dim = starts.shape[0], weight.shape[1]
        out = np.empty((bags, dim), dtype=weight.dtype)
        winner = np.empty((bags, dim), dtype=np.int64)
        filled = np.empty(bags, dtype=np.bool_)
        padding, zero = _padding(padding_idx), weight.dtype.type(0)
        run_compiled(_max_bags_blocks, (weight, flat, starts, padding, zero, out, winner, filled),
                     _blocks(starts, flat.shape[0], dim))
        return out, winner, filled

    # The sparse backward's per-entry rows in one pass: NumPy's take, then the scaling in
    # place, went over the (8,192, 128) rows twice (0.45 -> 0.2 ms, float32, one thread).

    @compiled
    def _gather_scale_rows(source, index, scale, rows, first, stop):
        dim = source.shape[1]
        for i in range(first, stop):
            s = scale[i]
            row, out = source[index[i]], rows[i]
            for j in range(dim):
                out[j] = row[j] * s

    @parallel
    def _gather_scale_blocks(source, index, scale, rows, bounds):
        for i in numba.prange(bounds.shape[0]):
            _gather_scale_rows(source, index, scale, rows, bounds[i, 0], bounds[i, 1])

    _TAKE_AHEAD = 16  # entries, whose whole rows (up to 9 lines) are asked for

    @compiled
    def _take_rows(table, index, out, first, stop):
        n = index.shape[0]
        # A row need not start a line (NumPy aligns to 16 bytes): it may reach into one more.
        lines = min((table.shape[1] * table.itemsize + 63) // 64 + 1, 9)
        for i in range(first, stop):
            if i + _TAKE_AHEAD < n:
                _prefetch_row(table, index[i + _TAKE_AHEAD], lines)
            row, dst = table[index[i]], out[i]
            for j in range(row.shape[0]):
                dst[j] = row[j]

    @parallel
    def _take_rows_blocks(table, index, out, bounds):
        for i in numba.prange(bounds.shape[0]):
            _take_rows(table, index, out, bounds[i, 0], bounds[i, 1])

    # A dense embedding (or bag) gradient: the (vocabulary, dim) rows zeroed and the looked-up
    # rows (scaled) summed in, by blocks of the table's rows, one a thread. Each block zeroes
    # its rows and reads the whole index for the entries that land in it, in order, so that
    # every row sums in the order SciPy's scatter does (the same bits) while the zeroing, most
    # of the time at 50,000 x 128 (25.6 MB: 0.95 of 1.3 ms on one thread), is shared.

    @compiled
    def _scatter_rows(source, gather, scatter, scale, scaled, out, first, stop):
        dim = source.shape[1]
        zero = out.dtype.type(0)
        for r in range(first, stop):
            target = out[r]
            for j in range(dim):
                target[j] = zero
        for i in range(scatter.shape[0]):
            k = scatter[i]
            if first <= k < stop:
                row, target = source[gather[i]], out[k]
                if scaled:  # (no fastmath: a product and a sum, as SciPy's, not an FMA)
                    s = scale[i]
                    for j in range(dim):
                        target[j] += s * row[j]
                else:
                    for j in range(dim):
                        target[j] += row[j]

    @parallel
    def _scatter_rows_blocks(source, gather, scatter, scale, scaled, out, bounds):
        for i in numba.prange(bounds.shape[0]):
            _scatter_rows(source, gather, scatter, scale, scaled, out, bounds[i, 0],
                          bounds[i, 1])

    def scatter_rows(source, scatter, size, gather=None, scale=None):
        """(size, dim) zeros with ``scale[i] * source[gather[i]]`` added to row ``scatter[i]``
        for every i, in order (gather: 0, 1, ... and scale: 1 when None); float rows, indices
        checked to lie in range. The output comes from `numpy_buffers.empty` (reused memory
        when large: glibc hands a freed 25.6 MB back to the system, whose fresh pages then
        fault one by one)."""
        source, scatter = np.ascontiguousarray(source), np.ascontiguousarray(scatter)
        scaled = scale is not None
        gather = np.arange(scatter.shape[0]) if gather is None else np.ascontiguousarray(gather)
        scale = (np.ascontiguousarray(scale, dtype=source.dtype) if scaled
                 else np.empty(0, dtype=source.dtype))
        out = numpy_buffers.empty(source.dtype, (size, source.shape[1]))
        run_compiled(_scatter_rows_blocks, (source, gather, scatter, scale, scaled, out),
                     _row_blocks(size, source.shape[1]))
        return out

    @register_fast("gather_scale_rows", "numpy")
    def gather_scale_rows(xp, source, index, scale):
        if source.dtype not in _FLOATS:
            return _generic["gather_scale_rows"](xp, source, index, scale)
        source = np.ascontiguousarray(source)
        index = np.ascontiguousarray(index)
        scale = np.ascontiguousarray(scale, dtype=source.dtype)
        n, dim = index.shape[0], source.shape[1]
        rows = np.empty((n, dim), dtype=source.dtype)
        run_compiled(_gather_scale_blocks, (source, index, scale, rows), _row_blocks(n, dim))
        return rows

    # The operand checks the op makes before every call read each index once here: after a
    # bag's sums have filled the caches with weight rows, NumPy's mask, any() and reductions
    # over 8,192 indices took 25 us more than these (8,192 Zipf lookups into 512 bags, forward
    # 0.22 -> 0.18 ms on one thread).

    @compiled
    def _index_range(data):
        lo = hi = data[0]
        for i in range(1, data.shape[0]):
            v = data[i]
            lo = min(lo, v)
            hi = max(hi, v)
        return lo, hi

    @compiled
    def _first_decrease(values):
        for i in range(values.shape[0] - 1):
            if values[i + 1] < values[i]:
                return i
        return -1

    @register_fast("index_range", "numpy")
    def index_range(xp, data):
        lo, hi = _index_range(data.reshape(-1))
        return int(lo), int(hi)

    @register_fast("first_decrease", "numpy")
    def first_decrease(xp, values):
        return int(_first_decrease(values))


@register_fast("take_rows", "numpy")
def take_rows(xp, table, index):
    # Compiled (float32 and float64 with numba): a loop copying each row while it asks for
    # the rows _TAKE_AHEAD entries on; 8,192 Zipf rows of 128 float32 on Zen 4: one thread
    # 113 us, where NumPy's take took 127 and the loop without the requests 132 (PyTorch
    # 147); two threads 60 (PyTorch 72). Otherwise NumPy's take, a block a thread (it
    # releases the GIL; with mode="clip", as the op has checked the indices, it writes into
    # `out` without a buffer).
    n, dim = index.shape[0], table.shape[1]
    blocks = _row_blocks(n, dim)
    if numba is not None and table.dtype in _FLOATS and table.ndim == 2 and index.ndim == 1:
        out = np.empty((n, dim), dtype=table.dtype)
        run_compiled(_take_rows_blocks, (table, index, out), blocks, kernel=_take_rows)
        return out
    if len(blocks) == 1:
        return np.take(table, index, axis=0, mode="clip")
    out = np.empty((n, dim), dtype=table.dtype)
    run_shared(lambda block: np.take(table, index[block[0]:block[1]], axis=0,
                                     out=out[block[0]:block[1]], mode="clip"),
               [tuple(block) for block in blocks])
    return out
