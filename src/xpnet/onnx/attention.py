"""Exporters of attention: the scaled dot-product attention primitive (MatMul, Softmax, MatMul,
with the mask added or selected), MultiheadAttention (projections, head split and torch's mask
conventions around it), and the Transformer layers, traced through (they are attention,
Linear, LayerNorm, Dropout and activations)."""

from __future__ import annotations

import math

from ._dims import dim_add
from ._registry import layer, optional, primitive, transparent
from ._util import broadcast_dims
from .reduce import transposed_weight

_Attention = optional("xpnet.ops.attention:Attention")
_MultiheadAttention = optional("xpnet.nn.attention:MultiheadAttention")


def _swap_last(g, name, ndim):
    perm = list(range(ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return g.transpose(name, perm)


def _causal_mask(g, length, source):
    """(L, S) bool: key j visible from query i when j <= i (top-left aligned, as torch)."""
    rows = g.op("Range", [g.scalar(0, "int64"), g.squeeze(g.dim_tensor(length), [0]),
                          g.scalar(1, "int64")])
    cols = g.op("Range", [g.scalar(0, "int64"), g.squeeze(g.dim_tensor(source), [0]),
                          g.scalar(1, "int64")])
    return g.compare("LessOrEqual", g.unsqueeze(cols, [0]), g.unsqueeze(rows, [1]))


def _attend(g, q, k, v, q_rank, scale, dt, bool_keep=None, additive=(), causal=None,
            empty_rows="zero"):
    """softmax(q k^T * scale + masks) v; returns (output, probabilities)."""
    scores = g.op("MatMul", [g.op("Mul", [q, g.scalar(scale, dt)]), _swap_last(g, k, q_rank)])
    masked = bool(additive) or bool_keep is not None or causal is not None
    for mask in additive:
        scores = g.op("Add", [scores, mask])
    for keep in [m for m in (bool_keep, causal) if m is not None]:
        scores = g.op("Where", [keep, scores, g.scalar(-math.inf, dt)])
    probs = g.softmax("Softmax", scores, -1, q_rank)
    if masked and empty_rows == "zero":
        # A query with every key masked: softmax of an all -inf row is NaN; xpnet gives 0.
        probs = g.op("Where", [g.op("IsNaN", [probs]), g.scalar(0, dt), probs])
    return g.op("MatMul", [probs, v]), probs


@primitive(_Attention)
def _attention(g, out, query, key, value, mask, *, scale, causal=False, dropout_p=0.0,
               generator=None, empty_rows="zero", need_weights=False, layout=None):
    first = out[0] if need_weights else out
    dt = first.dtype.name
    qd, kd, vd = g.dims(query), g.dims(key), g.dims(value)
    keep, additive, causal_mask = None, [], None
    if mask is not None:
        if g.dtype(mask) == "bool":
            keep = g.value(mask)
        else:
            additive.append(g.value(mask, dt))
    if causal:
        causal_mask = _causal_mask(g, qd[-2], kd[-2])
    result, probs = _attend(g, g.value(query, dt), g.value(key, dt), g.value(value, dt),
                            len(qd), scale, dt, keep, additive, causal_mask, empty_rows)
    batch = broadcast_dims(qd[:-2], kd[:-2], vd[:-2])
    out_dims = batch + (qd[-2], vd[-1])
    if need_weights:
        g.bind(out[0], result, out_dims)
        g.bind(out[1], probs, batch + (qd[-2], kd[-2]))
    else:
        g.bind(out, result, out_dims)


def _additive(g, mask, dt):
    """A MultiheadAttention mask (bool: True hides) as a float mask to add to the scores."""
    if g.dtype(mask) == "bool":
        return g.op("Where", [g.value(mask), g.scalar(-math.inf, dt), g.scalar(0, dt)])
    return g.value(mask, dt)


def _pad_last(g, name, rank):
    pads = [0] * rank + [0] * (rank - 1) + [1]
    return g.op("Pad", [name, g.ints(pads)], mode="constant")


def _host(p):
    return p._backend.to_numpy(p.array)


@layer(_MultiheadAttention)
def _multihead_attention(g, module, out, query, key, value, key_padding_mask=None,
                         need_weights=True, attn_mask=None, average_attn_weights=True,
                         is_causal=False):
    """torch's multi-head attention in eval mode (see `xpnet.functional.attention`)."""
    output, weights = out
    dt = output.dtype.name
    e, heads = module.embed_dim, module.num_heads
    head_dim = e // heads
    batched = query.ndim == 3
    name = g.scope[-1] or "attention"

    def batch_major(t):
        v, dims = g.value(t, dt), tuple(g.dims(t))
        if not batched:
            return g.unsqueeze(v, [0]), (1,) + dims
        if module.batch_first:
            return v, dims
        return g.transpose(v, [1, 0, 2]), (dims[1], dims[0], dims[2])

    qv, qd = batch_major(query)
    kv, kd = (qv, qd) if key is query else batch_major(key)
    vv, vd = (kv, kd) if value is key else batch_major(value)
    batch, length, source = qd[0], qd[1], kd[1]

    # Projections: one MatMul when it is self-attention with the stacked weight.
    bias = module.in_proj_bias
    bias_host = None if bias is None else _host(bias)
    if module._qkv_same_embed_dim and query is key and key is value:
        w = transposed_weight(g, module.in_proj_weight)
        qkv = g.op("MatMul", [qv, w])
        if bias is not None:
            qkv = g.op("Add", [qkv, g.value(bias, dt)])
        q, k, v = g.split(qkv, [e, e, e], 2)
    else:
        if module._qkv_same_embed_dim:
            stacked = _host(module.in_proj_weight)
            weights_host = [stacked[i * e:(i + 1) * e] for i in range(3)]
        else:
            weights_host = [_host(w) for w in (module.q_proj_weight, module.k_proj_weight,
                                               module.v_proj_weight)]
        projected = []
        for i, (x, tag) in enumerate(((qv, "q"), (kv, "k"), (vv, "v"))):
            y = g.op("MatMul", [x, g.weight(weights_host[i].T.copy(),
                                           f"{name}.{tag}_proj_weight_transposed")])
            if bias is not None:
                y = g.op("Add", [y, g.weight(bias_host[i * e:(i + 1) * e].copy(),
                                             f"{name}.{tag}_proj_bias")])
            projected.append(y)
        q, k, v = projected

    masks = []
    if attn_mask is not None:
        m = _additive(g, attn_mask, dt)
        md = g.dims(attn_mask)
        if attn_mask.ndim == 3:  # (N * heads, L, S) -> (N, heads, L, S)
            m = g.op("Reshape", [m, g.shape_tensor([-1, heads, md[1], md[2]])])
        masks.append([m, attn_mask.ndim if attn_mask.ndim == 2 else 4])
    if key_padding_mask is not None:
        m = _additive(g, key_padding_mask, dt)
        if not batched:
            m = g.unsqueeze(m, [0])
        masks.append([m, 2, "padding"])

    def expand_to_batch(param_or_zeros, shape_tail):
        return g.op("Expand", [param_or_zeros, g.shape_tensor([batch, *shape_tail])])

    if module.bias_k is not None:
        k = g.op("Concat", [k, expand_to_batch(g.value(module.bias_k, dt), [1, e])], axis=1)
        v = g.op("Concat", [v, expand_to_batch(g.value(module.bias_v, dt), [1, e])], axis=1)
        source = dim_add(source, 1)
        for entry in masks:
            entry[0] = _pad_last(g, entry[0], entry[1])

    def split_heads(t):
        return g.transpose(g.op("Reshape", [t, g.ints([0, 0, heads, head_dim])]), [0, 2, 1, 3])

    q, k, v = split_heads(q), split_heads(k), split_heads(v)
    if module.add_zero_attn:
        zeros = expand_to_batch(g.const([0.0] * head_dim, dt, [1, 1, 1, head_dim]),
                                [heads, 1, head_dim])
        k = g.op("Concat", [k, zeros], axis=2)
        v = g.op("Concat", [v, zeros], axis=2)
        source = dim_add(source, 1)
        for entry in masks:
            entry[0] = _pad_last(g, entry[0], entry[1])
    additive = []
    for entry in masks:
        if len(entry) == 3:  # key padding: (N, S) -> (N, 1, 1, S)
            additive.append(g.unsqueeze(entry[0], [1, 2]))
        else:
            additive.append(entry[0])
    result, probs = _attend(g, q, k, v, 4, 1 / math.sqrt(head_dim) if head_dim else 1.0, dt,
                            additive=additive, empty_rows="nan" if need_weights else "zero")
    merged = g.op("Reshape", [g.transpose(result, [0, 2, 1, 3]), g.ints([0, 0, e])])
    projected = g.op("MatMul", [merged, transposed_weight(g, module.out_proj.weight)])
    if module.out_proj.bias is not None:
        projected = g.op("Add", [projected, g.value(module.out_proj.bias, dt)])
    if not batched:
        projected = g.squeeze(projected, [0])
        out_dims = (length, e)
    elif module.batch_first:
        out_dims = (batch, length, e)
    else:
        projected = g.transpose(projected, [1, 0, 2])
        out_dims = (length, batch, e)
    g.bind(output, projected, out_dims)
    if weights is not None:
        dims = (batch, heads, length, source)
        if average_attn_weights:
            probs = g.reduce("Mean", probs, [1], False)
            dims = (batch, length, source)
        if not batched:
            probs = g.squeeze(probs, [0])
            dims = dims[1:]
        g.bind(weights, probs, dims)


transparent(*(optional(f"xpnet.nn.transformer:{name}") for name in (
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerDecoder", "Transformer")))
