"""Scaled dot-product attention as one autograd node, with a fused hand-written backward.

For queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev)::

    scores = scale * Q K^T + bias         (..., L, S)
    P      = softmax(scores)              over S
    out    = (P * keep / (1 - p)) V       (..., L, Ev)

where ``bias`` is a float mask added to the scores, or -inf where a boolean mask is False
(``is_causal``: where key j > query i), and ``keep`` the dropout mask. Composed from primitives
this would be about ten graph nodes, each keeping an (L, S) array; as one node it keeps:

- the unnormalised ``e = exp(scores - c)`` (c per row: its max, or 0 where the scores are known
  to be bounded), one (L, S) array: the attention probabilities up to a per-row factor;
- the per-row reciprocal ``r = 1 / sum(e)`` ((..., L, 1));
- Q (or Q * scale), K, V and the output, all (L, E)-sized, and the boolean dropout mask when
  dropping. Nothing at all is kept when no gradient is recorded.

Keeping ``e`` rather than the per-row logsumexp trades one (L, S) array of memory for not
recomputing ``Q K^T`` and the exponential in backward (a third of the backward's work at E = 32);
it is what ``torch``'s math path keeps too, while its fused CPU kernel keeps the logsumexp and
recomputes. At batch 32, 8 heads, L = S = 128 in float32 that array is 16 MiB, and a warm
forward+backward raised the peak RSS by 16.0 MiB with the NumPy fast path against 16-24 MiB for
``torch`` (``asv_benchmarks/attention_vs_torch.py``): the recomputation needs (L, S) blocks of
its own. The row normalisation is applied to the (L, Ev) output and gradients, never to an
(L, S) array.

Backward, with ``g = dout * r`` ((L, Ev), so the (L, S) products come out normalised)::

    dV      = (e * keep')^T g
    dP'     = (g V^T) * keep'                 (= dP * r)
    D'      = rowsum(dout * out) * r          (= rowsum(P * dP) * r, without an (L, S) pass)
    dscores = e * (dP' - D')
    dQ      = scale * dscores K,   dK = dscores^T (Q * scale),   dbias = dscores

A row whose scores are all -inf (every key masked) has ``e = 0``: its output and gradients are
zero, as ``torch.nn.functional.scaled_dot_product_attention`` returns in torch 2.13
(``empty_rows="nan"`` gives NaN there instead, as torch's ``MultiheadAttention`` with
``need_weights=True``, whose softmax sees the -inf row).

The maths lives in the kernels ``attention_forward`` / ``attention_backward`` (generic twins
here; a NumPy fast path in `xpnet.backend.kernels`).
"""

from __future__ import annotations

import math

from xpnet.autograd import grad_mode
from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel, register_generic

from ._util import sum_to_shape

__all__ = ["Attention"]


class Attention(Function):
    """``out`` or, with ``need_weights``, ``(out, weights)`` of scaled dot-product attention.

    Arrays: query (..., L, E), key (..., S, E), value (..., S, Ev), mask None, bool (True =
    attend) or float (added to the scores), broadcastable to the scores' (..., L, S) without
    changing their shape; batch axes broadcast. Options: ``scale`` (float), ``causal`` (key j
    is hidden from query i when j > i), ``dropout_p`` with ``generator`` (dropout on the
    probabilities), ``empty_rows`` ('zero' or 'nan': the output of a row with every key
    masked), ``need_weights`` (also return the dropped-out probabilities, differentiable),
    ``layout`` (a hint: the axis order in which the caller will read the output, as
    `MultiheadAttention` permutes its (N, H, L, Ev) output to (L, N, H, Ev) before merging the
    heads; a kernel may lay out the output and the gradients of query, key and value so that
    this permutation of them is contiguous, saving the copy the merge would make), ``packed``
    (a hint, with ``layout``: query, key and value are chunks 0, 1 and 2 of one array's last
    axis, each read through ``layout`` with its last two axes merged, as self-attention's one
    in-projection gives them; a kernel may write their gradients side by side in one array,
    which the split's backward then joins without a copy).
    """

    @staticmethod
    def forward(ctx, query, key, value, mask, *, scale, causal=False, dropout_p=0.0,
                generator=None, empty_rows="zero", need_weights=False, layout=None,
                packed=False):
        xp, backend = ctx.xp, ctx.backend
        length, source = query.shape[-2], key.shape[-2]
        if causal:
            rows = xp.reshape(xp.arange(length, device=backend.device), (length, 1))
            cols = xp.reshape(xp.arange(source, device=backend.device), (1, source))
            mask = cols <= rows
        keep, drop_scale = None, 1.0
        if dropout_p > 0:
            batch = _broadcast_shapes(query.shape[:-2], key.shape[:-2])
            keep = generator.device_bernoulli(backend, (*batch, length, source), 1 - dropout_p)
            drop_scale = 0.0 if dropout_p >= 1 else 1 / (1 - dropout_p)
        # Both halves from the same place, even if fast paths are switched before backward.
        ctx.backward_kernel = get_kernel("attention_backward", backend)
        # Without a graph to record, a kernel may keep its (L, S) arrays in scratch memory.
        save = grad_mode.is_grad_enabled() and True in ctx.needs_input_grad
        # ``causal`` beside its mask: a kernel may skip the key blocks the mask hides.
        out, weights, saved = get_kernel("attention_forward", backend)(
            xp, query, key, value, mask, keep, scale=scale, drop_scale=drop_scale,
            empty_rows=empty_rows, need_weights=need_weights, save=save, causal=causal,
            layout=layout)
        if save:
            ctx.save_for_backward(*saved)
        ctx.scale, ctx.drop_scale, ctx.causal, ctx.layout = scale, drop_scale, causal, layout
        ctx.packed = packed
        ctx.shapes = (query.shape, key.shape, value.shape, None if mask is None else mask.shape)
        ctx.need_weights = need_weights
        return (out, weights) if need_weights else out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        xp = ctx.xp
        need = ctx.needs_input_grad
        grads = ctx.backward_kernel(
            xp, ctx.saved_tensors, grad_out, grad_weights if ctx.need_weights else None,
            scale=ctx.scale, drop_scale=ctx.drop_scale, need=tuple(need[:4]),
            causal=ctx.causal, layout=ctx.layout, packed=ctx.packed)
        shapes = ctx.shapes
        return tuple(None if g is None else sum_to_shape(xp, g, shape)
                     for g, shape in zip(grads, shapes))


def _broadcast_shapes(a, b):
    """The broadcast of two shapes (checked by the caller)."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(y if x == 1 else x for x, y in zip(a, b))


# -- the generic twins ---------------------------------------------------------------------------

def _masked_scores(xp, scores, mask):
    if mask is None:
        return scores
    if mask.dtype == xp.bool:
        # An additive 0 / -inf bias in the mask's own (broadcast) shape: one add over the
        # scores instead of a select (NumPy's where is ~5x slower than an add on random masks).
        mask = xp.where(mask, xp.zeros_like(mask, dtype=scores.dtype), -math.inf)
    return scores + mask


def _row_reciprocal(xp, total, empty_rows):
    """1 / total per row; 0 (or NaN) for the rows with every key masked (total 0)."""
    empty = total == 0
    reciprocal = 1 / xp.where(empty, 1.0, total)
    return xp.where(empty, math.nan if empty_rows == "nan" else 0.0, reciprocal)


@register_generic("attention_forward")
def attention_forward(xp, query, key, value, mask, keep, *, scale, drop_scale, empty_rows,
                      need_weights, save=True, causal=False, layout=None):
    """Returns ``(out, weights or None, saved)``; ``saved`` is what `attention_backward` needs:
    ``(query * scale, key, value, e, r, keep, out)`` (see the module docstring), or None when
    not ``save`` (nothing will call backward). ``causal`` says that ``mask`` is the causal
    one (this twin computes every score and masks them all alike); the standard has no say
    in memory layout, so this twin ignores the ``layout`` hint."""
    scaled_query = query * scale
    scores = _masked_scores(xp, xp.matmul(scaled_query, xp.matrix_transpose(key)), mask)
    if scores.shape[-1] == 0:  # no keys: every row is empty
        e = scores
        reciprocal = _row_reciprocal(xp, xp.sum(e, axis=-1, keepdims=True), empty_rows)
    else:
        row_max = xp.max(scores, axis=-1, keepdims=True)
        # A row with every score -inf: exp(-inf - 0) = 0 everywhere, not NaN.
        row_max = xp.where(row_max == -math.inf, 0.0, row_max)
        e = xp.exp(scores - row_max)
        reciprocal = _row_reciprocal(xp, xp.sum(e, axis=-1, keepdims=True), empty_rows)
    dropped = e if keep is None else e * (xp.astype(keep, e.dtype) * drop_scale)
    out = xp.matmul(dropped, value) * reciprocal
    weights = dropped * reciprocal if need_weights else None
    return out, weights, (scaled_query, key, value, e, reciprocal, keep, out) if save else None


@register_generic("attention_backward")
def attention_backward(xp, saved, grad_out, grad_weights, *, scale, drop_scale, need,
                       causal=False, layout=None, packed=False):
    """Returns ``(dquery, dkey, dvalue, dmask)`` in the shapes the products give (the caller
    sums broadcast axes away); each is None unless ``need`` says so. Like ``layout``, the
    ``packed`` hint means nothing to this twin."""
    scaled_query, key, value, e, reciprocal, keep, out = saved
    keep_scale = None if keep is None else xp.astype(keep, e.dtype) * drop_scale
    g = grad_out * reciprocal
    dvalue = None
    if need[2]:
        dropped = e if keep_scale is None else e * keep_scale
        dvalue = xp.matmul(xp.matrix_transpose(dropped), g)
    if not (need[0] or need[1] or need[3]):
        return None, None, dvalue, None
    # D' = rowsum(P * dP) * r = rowsum(dout * out) * r: an (L, Ev) reduction, not an (L, S) one.
    row_dot = xp.sum(grad_out * out, axis=-1, keepdims=True) * reciprocal
    dprobs = xp.matmul(g, xp.matrix_transpose(value))
    if grad_weights is not None:
        dprobs = dprobs + grad_weights * reciprocal
        dropped = e if keep_scale is None else e * keep_scale
        row_dot = row_dot + xp.sum(dropped * grad_weights, axis=-1, keepdims=True) * (
            reciprocal * reciprocal)
    if keep_scale is not None:
        dprobs = dprobs * keep_scale
    # A value (or grad_out) with more batch axes than the scores: P is shared across them.
    dscores = sum_to_shape(xp, dprobs - row_dot, e.shape) * e
    dquery = xp.matmul(dscores, key) * scale if need[0] else None
    dkey = xp.matmul(xp.matrix_transpose(dscores), scaled_query) if need[1] else None
    return dquery, dkey, dvalue, dscores if need[3] else None
