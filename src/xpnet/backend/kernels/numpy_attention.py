"""NumPy fast paths of the attention kernels ``attention_forward`` / ``attention_backward``.

Same maths, inputs and results as the twins in `xpnet.ops.attention`, arranged for NumPy and
OpenBLAS. Timings are CPU milliseconds of one forward at the issue's shapes (float32, (32, 8,
128, 32), one thread) on this project's shared 2-core VM, so read them as rough ratios:

- **Scores stored key-major**, as ``e^T`` of shape (..., S, L) (``K (Q scale)^T``). Softmax
  reduces over the keys, which is then axis -2: NumPy reduces it as an elementwise maximum /
  sum of contiguous rows (1.1 ms) instead of a short reduction per row along the last axis
  (3.2-7.2 ms). The products that need ``e`` rather than ``e^T`` pass BLAS a transposed view.
- **Products without a transposed view of length 32.** OpenBLAS multiplies by a transposed
  view much more slowly when the summed axis is short: ``K (Q scale)^T`` takes 2.6 ms with
  Q's view, 1.75 ms with (Q scale)^T copied to a contiguous buffer first (0.3 ms; the scaling
  comes free), and backward's ``V g^T`` likewise 2.6 -> 1.6 ms.
- **Blocks of the batch.** The work runs over blocks of the leading batch axis of about 4 MiB
  of scores: each block's product, exp and sum, and the product with V, one after the other.
  Without a backward to keep them for, a block's scores live in a per-thread buffer of the
  block's size (9.1 -> 7.1 ms: one of the whole batch's size wrote 16 MiB back to memory on
  every call). Blocks of 1 MiB, which stay in a 1 MiB L2 cache, were the best on the machine
  this was first tuned on (12.2 -> 10.4 ms against whole-batch passes); on the Sapphire Rapids
  VMs (2 MiB of L2 a core) each block's dozen NumPy and numba calls cost more than the cache
  saves: 4 MiB blocks took the forward 8.2 -> 7.3 ms on one thread and 5.0 -> 4.0 ms on two,
  forward+backward 23.1-24.2 -> 21.7-22.0 and 13.4-14.4 -> 11.5-12.3 ms (sizes from 256 KiB
  to 32 MiB timed; 8 MiB was no better, and leaves two threads one block each).
- **One compiled softmax pass** (numba_softmax.py, with numba): the exponential, the sums over
  the keys and the causal mask in one pass over each block while it is in cache, 0.9 ms where
  NumPy's exp and sum took 2.1 ms, and the rows of the output scaled in another. Without
  numba, NumPy's passes run as described below.
- **No shift when none is needed.** softmax(s) = exp(s - c) / sum(exp(s - c)) for any per-row
  c; the row max only keeps exp finite. The compiled pass takes exp(s) directly and tells
  when some query's sum came out of [e^-20, e^60] (an overflow, or every score so negative
  that precision suffers); only then is the block's product done again and shifted by its
  maxima. In NumPy, without a float mask, |s_ij| <= |q_i| |k_j| scale (Cauchy-Schwarz)
  bounds every score from two (L, E)-sized passes; when that bound is at most 60 no row max
  is taken at all, and otherwise only blocks with a row max outside [-20, 60] are shifted
  (10.4 -> 8.4 ms).
- **Contiguous operands.** Heads split from a (L, N, E) projection arrive as strided views; one
  copy of Q, K and V (about 1 ms) makes BLAS read whole cache lines and pages (16.6 -> 11.6 ms
  forward, 22.4 -> 13.7 ms backward in that layout).
- **Threads over blocks, not inside products.** With a multi-threaded BLAS the blocks are
  shared among that many Python threads (NumPy releases the GIL in matmul and ufuncs), each
  running BLAS single-threaded: OpenBLAS splitting every 128 x 32 product costs more than it
  gains, and on a busy machine its spinning threads made a 2-thread forward 10-30x slower.
- **Long causal attention skips what the mask hides.** From 256 queries on, they go in 4
  tiles; a tile's queries see only the keys up to its last query, so the scores above the
  diagonal tiles are never computed (62.5% of the products and exponentials), only zeroed
  where the saved scores need them, and backward skips them as well. Shorter sequences run
  whole: their tiles would make BLAS products too small to pay.
- **Masks as small additive biases**: a bool mask becomes 0 / -inf in its own (broadcast)
  shape, so the (.., S, L) pass is one add (``np.where`` over the scores is ~5x slower). The
  compiled pass hides the causal keys by their index instead (exp(-inf) = 0 in its loop).
- **Dropout and the row normalisation on the (L, Ev) side** where possible; the (S, L)
  temporaries of a block live in per-thread scratch buffers.
- **Outputs in the caller's layout.** With the ``layout`` hint (MultiheadAttention merges the
  heads of its (N, H, L, Ev) output as (L, N, H, Ev)), the output and the gradients of Q, K
  and V are views of arrays in that order, so the merge (and, in backward, the gradient of the
  head split) is a view rather than a copy of the whole output (1.2 + 4 ms at the encoder
  layer's shapes, one thread); a block is normalised in cache and copied out on its thread.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from . import numba_softmax as _softmax
from . import numpy_buffers
from . import register_fast
from .numpy_threads import run_blocks as _run_blocks

_BLOCK_BYTES = 1 << 22  # scores per block (see the module docstring)
_CAUSAL_TILES = 4  # query tiles of a causal block: fewer waste work, more make small products
# Below this many queries a tile's products are too small for BLAS and its strided exp slower
# than the whole block's (L = 128: forward 11.1 -> 13.5 ms, backward 16.0 -> 18.0 ms, tiles of
# 32); at L = 1024, tiles of 256 gain (forward 37.1 -> 32.1 ms, backward 49.6 -> 37.0 ms).
_MIN_TILE = 128
_SHIFT_LOW, _SHIFT_HIGH = -20.0, 60.0  # row maxima for which exp(s) needs no shift
_workspace = threading.local()


def _scratch(slot, shape, dtype):
    """A per-thread buffer reused across calls, for temporaries that die inside one kernel
    call. Never return one of these."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = getattr(_workspace, slot, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
        setattr(_workspace, slot, buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)


def _t(a):
    return np.swapaxes(a, -1, -2)


def _fits(layout, shape):
    return layout is not None and sorted(layout) == list(range(len(shape)))


def _laid_out(shape, dtype, layout):
    """``np.empty(shape)`` whose ``transpose(layout)`` is C-contiguous (the caller's hint), or
    plain when there is no hint or it does not fit the shape."""
    if not _fits(layout, shape):
        return numpy_buffers.empty(dtype, shape)
    return numpy_buffers.empty(dtype, [shape[axis] for axis in layout]).transpose(
        np.argsort(layout))


def _packed(shape, dtype, layout):
    """Three arrays of ``shape`` (the ``packed`` hint: q, k and v's gradients) cut from one
    buffer, so that with the last two axes of ``layout`` merged they are chunks 0, 1 and 2 of
    its last axis: (L, N, 3, H, D) for MultiheadAttention's (N, H, L, D) heads, which
    `numpy_views.concat_chunks` then joins as a view."""
    outer = [shape[axis] for axis in layout[:-2]]
    buffer = numpy_buffers.empty(dtype, (*outer, 3, *(shape[axis] for axis in layout[-2:])))
    back = np.argsort(layout)
    return [buffer[(slice(None),) * len(outer) + (i,)].transpose(back) for i in range(3)]


def _blocks(batch, per_item_bytes):
    """Index tuples over the leading batch axis, about _BLOCK_BYTES of scores each."""
    if not batch:
        return [()]
    step = max(1, _BLOCK_BYTES // max(per_item_bytes * math.prod(batch[1:]), 1))
    return [(slice(i, min(i + step, batch[0])),) for i in range(0, batch[0], step)]


def _bias_t(mask, dtype):
    """The mask as an additive bias, transposed to (..., S, L); None without a mask."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        # Made in the transposed layout: adding a transposed view strides across rows
        # (causal forward 12.3 -> 9.6 ms at the benchmark's shapes).
        bias = np.zeros(_t(mask).shape, dtype=dtype)
        bias[~_t(mask)] = -np.inf
        return bias
    return np.ascontiguousarray(_t(mask))  # its own shape, not the broadcast one


def _causal_tiles(length, source):
    """(first query, end query, keys seen) of each query tile of causal attention; None when
    tiling does not pay (short sequences) or does not apply (no keys)."""
    tile = max(_MIN_TILE, -(-length // _CAUSAL_TILES))
    if not source or tile >= length:
        return None
    return [(i0, min(i0 + tile, length), min(i0 + tile, source))
            for i0 in range(0, length, tile)]


def _diagonal_bias(tiles, dtype):
    """(t, t) bias of a diagonal tile in the key-major layout: -inf where key > query."""
    size = tiles[0][1] - tiles[0][0]
    return np.where(np.tri(size, dtype=bool).T, dtype.type(0), dtype.type(-np.inf))


def _compiled_softmax(dtype):
    """Whether numba's softmax pass serves this dtype: float32 only. Its float64 exponential
    is the C library's, one element at a time (4x NumPy's exp), and float64 attention is
    for checks against the twin, which NumPy's passes match to the last bits."""
    return _softmax.available and dtype == np.float32


def _items(a, *tail):
    """A contiguous block (..., *tail) as a view of shape (items, *tail), as the numba
    kernels take it."""
    return a.reshape(math.prod(a.shape[:a.ndim - len(tail)]), *tail)


def _full(a, shape):
    return None if a is None else np.broadcast_to(a, shape)


def _needs_no_shift(query, key, scale, mask):
    """Whether exp(scores) can be taken without subtracting the row maxima: no float mask, and
    |q_i . k_j| * scale <= |q_i| |k_j| scale <= _SHIFT_HIGH for every pair (Cauchy-Schwarz),
    so every score lies in [-_SHIFT_HIGH, _SHIFT_HIGH] (or is -inf where masked). Two
    (L, E)-sized passes instead of one over the (L, S) scores."""
    if mask is not None and mask.dtype != np.bool_:
        return False
    if not query.size or not key.size:
        return True
    q_norm = np.max(np.einsum("...i,...i->...", query, query))
    k_norm = np.max(np.einsum("...i,...i->...", key, key))
    return bool(math.sqrt(float(q_norm) * float(k_norm)) * scale <= _SHIFT_HIGH)


def _shift_if_needed(block):
    """Subtract the row maxima (over axis -2) from a score block when some row max is outside
    [_SHIFT_LOW, _SHIFT_HIGH]; rows with every score -inf stay as they are."""
    row_max = np.max(block, axis=-2, keepdims=True)
    high, low = row_max.max(), row_max.min()
    if low == -np.inf:  # fully masked rows: judge by the others
        finite = row_max[row_max > -np.inf]
        if not finite.size:
            return
        high, low = finite.max(), finite.min()
    if low < _SHIFT_LOW or high > _SHIFT_HIGH:
        row_max[row_max == -np.inf] = 0  # exp(-inf - 0) = 0, not NaN
        block -= row_max


def _normalise(out, total, empty_rows, factor):
    """``total`` (.., 1, L) becomes its reciprocal (0 or NaN for rows with nothing to attend
    to), and ``out`` (.., L, Ev) is scaled by it (and by ``factor``)."""
    empty = total == 0
    has_empty = empty.any()
    if has_empty:
        total[empty] = 1
    np.reciprocal(total, out=total)
    if has_empty:
        total[empty] = np.nan if empty_rows == "nan" else 0
    out *= _t(total) if factor == 1 else _t(total) * factor


@register_fast("attention_forward", "numpy")
def attention_forward(xp, query, key, value, mask, keep, *, scale, drop_scale, empty_rows,
                      need_weights, save=True, causal=False, layout=None):
    # Heads split from a (L, N, E) projection arrive as strided views: one copy each makes
    # BLAS read whole cache lines and pages (forward 16.6 -> 11.6 ms, backward 22.4 -> 13.7 ms
    # for the sequence-first layout at the benchmark's shapes; the copies cost about 1 ms).
    # Without broadcasting, each block copies its own rows, on the block's thread.
    batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    strided = [a for a in (query, key, value) if not a.flags.c_contiguous]
    in_blocks = batch and all(a.shape[:-2] == batch for a in (query, key, value))
    sources = {}
    if in_blocks:
        for name, a in (("query", query), ("key", key), ("value", value)):
            if not a.flags.c_contiguous:
                sources[name] = a
        query, key, value = (numpy_buffers.empty(a.dtype, a.shape) if name in sources else a
                             for name, a in (("query", query), ("key", key), ("value", value)))
    elif strided:
        query, key, value = (np.ascontiguousarray(a) for a in (query, key, value))
    targets = {"query": query, "key": key, "value": value}

    def copy_block(index):
        for name, a in sources.items():
            targets[name][index] = a[index]

    length, source = query.shape[-2], key.shape[-2]
    dtype = query.dtype
    scale = dtype.type(scale)
    q = np.broadcast_to(query, (*batch, length, query.shape[-1]))
    k = np.broadcast_to(key, (*batch, source, key.shape[-1]))
    v = np.broadcast_to(value, (*batch, source, value.shape[-1]))
    tiles = _causal_tiles(length, source) if causal else None
    # numba's softmax pass hides the causal keys by their index.
    compiled = _compiled_softmax(dtype)
    if tiles is not None or (causal and compiled):
        mask = None  # the tiles or the softmax pass apply it
        if not compiled:
            diagonal = _diagonal_bias(tiles, dtype)
    bias_t = _full(_bias_t(mask, dtype), (*batch, source, length))
    keep_t = None if keep is None else _full(_t(keep), (*batch, source, length))
    # numba's softmax pass tells when its scores needed a shift (see exp_keys).
    no_shift = None if compiled else _needs_no_shift(
        sources.get("query", query), sources.get("key", key), float(scale), mask)
    # Kept for backward; without one, each block's scores live in a per-thread buffer of
    # the block's size, which stays in cache.
    kept = save or need_weights
    e_t = numpy_buffers.empty(dtype, (*batch, source, length)) if kept else None
    total = np.empty((*batch, 1, length), dtype=dtype)  # row sums, then their reciprocals
    out = _laid_out((*batch, length, value.shape[-1]), dtype, layout)
    factor = dtype.type(drop_scale) if keep_t is not None else 1

    def out_block(index):
        """(the block of ``out``, the array to compute it in): the block itself, or, in another
        layout, a contiguous scratch buffer to normalise in cache and then copy over it."""
        target = out[index]
        if target.flags.c_contiguous:
            return target, target
        return target, _scratch("attention_out", target.shape, dtype)

    def scores_of(index):
        if kept:
            return e_t[index]
        return _scratch("attention_scores", (*total[index].shape[:-2], source, length), dtype)

    def scaled_query_t(index):
        """Q^T * scale of the block, contiguous (..., E, L), for OpenBLAS (module docstring)."""
        q_block = q[index]
        q_t = _scratch("attention_query", (*q_block.shape[:-2], q_block.shape[-1], length),
                       dtype)
        return np.multiply(_t(q_block), scale, out=q_t)

    def normalise(outs, totals):
        if compiled:
            _softmax.normalise_rows(_items(outs, length, outs.shape[-1]),
                                    _items(totals, length), empty_rows=empty_rows,
                                    factor=factor)
        else:
            _normalise(outs, totals, empty_rows, factor)

    def block_forward(index):
        copy_block(index)
        block = scores_of(index)
        query_t = scaled_query_t(index)

        def scores():
            np.matmul(k[index], query_t, out=block)
            if bias_t is not None:
                np.add(block, bias_t[index], out=block)

        scores()
        if compiled:
            items, totals = _items(block, source, length), _items(total[index], length)
            if not _softmax.exp_keys(items, totals, shift=False, causal=causal):
                scores()  # some query's scores needed the shift (rare): again, with it
                _softmax.exp_keys(items, totals, shift=True, causal=causal)
        else:
            if source and not no_shift:
                _shift_if_needed(block)
            np.exp(block, out=block)
            np.sum(block, axis=-2, keepdims=True, out=total[index])
        weights_block = block
        if keep_t is not None:
            weights_block = _scratch("attention_dropped", block.shape, dtype)
            np.multiply(block, keep_t[index], out=weights_block)
        target, outs = out_block(index)
        np.matmul(_t(weights_block), v[index], out=outs)
        normalise(outs, total[index])
        if outs is not target:
            target[...] = outs

    def causal_block_forward(index):
        copy_block(index)
        block, totals = scores_of(index), total[index]
        target, outs = out_block(index)
        query_t = scaled_query_t(index)
        k_block, v_block = k[index], v[index]
        items, item_totals = _items(block, source, length), _items(totals, length)
        for i0, i1, keys in tiles:
            sub = block[..., :keys, i0:i1]

            def scores():
                np.matmul(k_block[..., :keys, :], query_t[..., i0:i1], out=sub)

            scores()
            if compiled:  # also zeroes the keys beyond the tile's
                tile = dict(causal=True, first=i0, stop=i1, keys=keys)
                if not _softmax.exp_keys(items, item_totals, shift=False, **tile):
                    scores()
                    _softmax.exp_keys(items, item_totals, shift=True, **tile)
            else:
                if keys > i0:
                    sub[..., i0:, :] += diagonal[:keys - i0, :i1 - i0]
                if not no_shift:
                    _shift_if_needed(sub)
                np.exp(sub, out=sub)
                block[..., keys:, i0:i1] = 0  # hidden: no weight, and nothing for backward
                np.sum(sub, axis=-2, keepdims=True, out=totals[..., i0:i1])
            weights_sub = sub
            if keep_t is not None:
                weights_sub = sub * keep_t[index][..., :keys, i0:i1]
            np.matmul(_t(weights_sub), v_block[..., :keys, :], out=outs[..., i0:i1, :])
        normalise(outs, totals)
        if outs is not target:
            target[...] = outs

    _run_blocks(block_forward if tiles is None else causal_block_forward,
                _blocks(batch, source * length * dtype.itemsize))
    reciprocal = _t(total)  # (..., L, 1)
    weights = None
    if need_weights:
        weights_t = e_t * total
        if keep_t is not None:
            weights_t *= keep_t
            weights_t *= factor
        weights = _t(weights_t)
    saved = (query, key, value, e_t, reciprocal, keep, out) if save else None
    return out, weights, saved


@register_fast("attention_backward", "numpy")
def attention_backward(xp, saved, grad_out, grad_weights, *, scale, drop_scale, need,
                       causal=False, layout=None, packed=False):
    query, key, value, e_t, reciprocal, keep, out = saved
    batch = e_t.shape[:-2]
    source, length = e_t.shape[-2:]
    dtype = e_t.dtype
    scale = dtype.type(scale)
    compiled = _compiled_softmax(dtype)
    q = np.broadcast_to(query, (*batch, length, query.shape[-1]))
    k = np.broadcast_to(key, (*batch, source, key.shape[-1]))
    v = np.broadcast_to(value, (*batch, source, value.shape[-1]))
    grad_out = np.broadcast_to(grad_out, (*batch, length, value.shape[-1]))
    keep_t = None if keep is None else _full(_t(keep), e_t.shape)
    need_scores = need[0] or need[1] or need[3]
    # Causal without a mask gradient: only the tiles' visible keys (the rest of e is 0).
    tiles = _causal_tiles(length, source) if causal and not need[3] else None
    # g = dout * r (* the dropout scale), (..., L, Ev) and contiguous whatever grad_out's
    # layout: the products below come out normalised. Made by each block in its own buffer,
    # in cache, except for the causal tiles.
    g_drop = None
    if tiles is not None:
        g_drop = np.multiply(grad_out, reciprocal, out=np.empty(grad_out.shape, dtype=dtype))
        if keep_t is not None:
            g_drop *= dtype.type(drop_scale)

    def grad_block(index):
        go_block = grad_out[index]
        g_block = np.multiply(go_block, reciprocal[index],
                              out=_scratch("attention_grad", go_block.shape, dtype))
        if keep_t is not None:
            g_block *= dtype.type(drop_scale)
        return g_block

    # The float32 compiled pass scales dscores by `scale` too, so that neither Q nor dQ needs
    # a pass of its own for it (unless dscores itself is wanted, for a float mask).
    folded = compiled and not need[3]
    # D' = rowsum(dout * out) * r, as a row (..., 1, L) of the key-major layout. In float32
    # by einsum, which makes no (L, Ev) temporary (0.3 against 1.05 ms at the benchmark's
    # shapes); float64 sums as the twin does, whose tests compare gradients made of rounding
    # noise (scores so large that P is 0 or 1) to 1e-12.
    row_dot = None
    if need_scores:
        dots = np.einsum("...i,...i->...", grad_out, out)[..., None] if dtype == np.float32 \
            else np.sum(grad_out * out, axis=-1, keepdims=True)
        row_dot = _t(dots * reciprocal)
    weights_grad_t = None if grad_weights is None else _t(grad_weights)
    if packed and need[:3] == (True, True, True) and q.shape == k.shape == v.shape \
            and _fits(layout, q.shape):
        dquery, dkey, dvalue = _packed(q.shape, dtype, layout)
    else:
        dquery = _laid_out(q.shape, dtype, layout) if need[0] else None
        dkey = _laid_out(k.shape, dtype, layout) if need[1] else None
        dvalue = _laid_out(v.shape, dtype, layout) if need[2] else None
    dscores_t = np.empty(e_t.shape, dtype=dtype) if need[3] else None

    def block_backward(index):
        block = e_t[index]
        v_block = v[index] if need_scores else None
        dropped = block
        if keep_t is not None:
            dropped = _scratch("attention_dropped", block.shape, dtype)
            np.multiply(block, keep_t[index], out=dropped)
        g_block = grad_block(index)
        if need[2]:
            np.matmul(dropped, g_block, out=dvalue[index])
        if not need_scores:
            return
        ds = dscores_t[index] if need[3] else _scratch("attention_dscores", block.shape, dtype)
        # dP^T * r, before the dropout mask; g^T copied first, as Q^T in forward
        g_t = _scratch("attention_grad_t", _t(g_block).shape, dtype)
        np.copyto(g_t, _t(g_block))
        np.matmul(v_block, g_t, out=ds)
        shift = row_dot[index]
        if weights_grad_t is not None:
            gw = weights_grad_t[index] * _t(reciprocal[index])
            # the weights' own term of rowsum(P * dP): rowsum(dropped * gw) * r
            shift = shift + np.sum(dropped * gw, axis=-2, keepdims=True) * (
                _t(reciprocal[index]) * dtype.type(drop_scale))
            if keep_t is not None:
                gw *= dtype.type(drop_scale)
            ds += gw
        if keep_t is not None:
            ds *= keep_t[index]
        if compiled:  # dscores^T = (ds - shift) * e in one pass (times scale if folded)
            _softmax.shifted_products(_items(ds, source, length), _items(shift, length),
                                      _items(block, source, length),
                                      factor=scale if folded else 1)
        else:
            ds -= shift
            ds *= block  # dscores^T
        # dK = dscores^T (Q scale), dQ = dscores K scale: the scale goes on the (L, E) sides
        # unless dscores has it.
        if need[1]:
            q_block = q[index]
            if not folded:
                q_block = np.multiply(q_block, scale, out=_scratch(
                    "attention_query", q_block.shape, dtype))
            np.matmul(ds, q_block, out=dkey[index])
        if need[0]:
            dq = dquery[index]
            np.matmul(_t(ds), k[index], out=dq)
            if not folded:
                dq *= scale

    def causal_block_backward(index):
        block = e_t[index]
        q_block, k_block, v_block = q[index], k[index], v[index]
        g_block = g_drop[index]
        scaled = None
        if need[1]:
            scaled = np.multiply(q_block, scale,
                                 out=_scratch("attention_query", q_block.shape, dtype))
        # dK and dV of a key gather over every tile that sees it: accumulate.
        for grad in (dvalue, dkey):
            if grad is not None:
                grad[index] = 0
        for i0, i1, keys in tiles:
            sub = block[..., :keys, i0:i1]
            dropped = sub if keep_t is None else sub * keep_t[index][..., :keys, i0:i1]
            g_tile = g_block[..., i0:i1, :]
            if need[2]:
                dvalue[index][..., :keys, :] += np.matmul(dropped, g_tile)
            if not need_scores:
                continue
            ds = np.matmul(v_block[..., :keys, :], _t(g_tile))
            shift = row_dot[index][..., i0:i1]
            if weights_grad_t is not None:
                r_tile = _t(reciprocal[index][..., i0:i1, :])
                gw = weights_grad_t[index][..., :keys, i0:i1] * r_tile
                shift = shift + np.sum(dropped * gw, axis=-2, keepdims=True) * (
                    r_tile * dtype.type(drop_scale))
                if keep_t is not None:
                    gw *= dtype.type(drop_scale)
                ds += gw
            if keep_t is not None:
                ds *= keep_t[index][..., :keys, i0:i1]
            ds -= shift
            ds *= sub
            if need[1]:
                dkey[index][..., :keys, :] += np.matmul(ds, scaled[..., i0:i1, :])
            if need[0]:
                dq = dquery[index][..., i0:i1, :]
                np.matmul(_t(ds), k_block[..., :keys, :], out=dq)
                dq *= scale

    _run_blocks(block_backward if tiles is None else causal_block_backward,
                _blocks(batch, source * length * dtype.itemsize))
    return dquery, dkey, dvalue, None if dscores_t is None else _t(dscores_t)
