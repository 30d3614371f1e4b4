"""Attention as functions: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

The attention itself is one `xpnet.ops.attention.Attention` node (fused backward); multi-head
attention adds the projections, the head split and PyTorch's mask conventions around it.
"""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import creation, ops
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import default_generator
from xpnet.ops.attention import Attention

from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _broadcast(op, what, *shapes):
    """The broadcast of batch shapes, or a ValueError naming them."""
    n = max(len(s) for s in shapes)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded):
        wide = {d for d in sizes if d != 1}
        if len(wide) > 1:
            raise ValueError(f"{op}: the batch shapes of {what} "
                             f"{' and '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def _check_mask(op, name, mask, target, float_dtype):
    """A bool or float mask that broadcasts to ``target`` without changing it."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
        raise TypeError(f"{op}: {name} must be bool (True = take part in attention) or float "
                        f"(added to the scores), got {mask.dtype.name}")
    shape = tuple(mask.shape)
    fits = len(shape) <= len(target) and all(
        m in (1, t) for m, t in zip(shape[::-1], target[::-1]))
    if not fits:
        raise ValueError(f"{op}: {name} of shape {shape} does not broadcast to the attention "
                         f"scores' shape {target} (..., L, S)")
    if mask.dtype.is_floating_point and mask.dtype != float_dtype:
        mask = mask.astype(float_dtype)
    return mask


def _group_heads(op, query, key, value, mask):
    """Grouped-query attention: query heads h*G..h*G+G-1 share key/value head h. With equal key
    and value head counts the query's head axis is split into (heads, G) so the key and value
    broadcast over G (no copies); otherwise they are repeated."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 3:
            raise ValueError(f"{op}: enable_gqa needs a head axis (..., heads, L, E) in every "
                             f"input; got {name} of shape {t.shape}")
    heads, kv_heads, v_heads = query.shape[-3], key.shape[-3], value.shape[-3]
    if heads % kv_heads or heads % v_heads:
        raise ValueError(f"{op}: with enable_gqa the number of query heads ({heads}) must be a "
                         f"multiple of the key's ({kv_heads}) and the value's ({v_heads})")
    if kv_heads != v_heads:
        return (query, key.repeat_interleave(heads // kv_heads, dim=-3),
                value.repeat_interleave(heads // v_heads, dim=-3), mask, False)
    group = heads // kv_heads
    q = query.reshape(*query.shape[:-3], kv_heads, group, *query.shape[-2:])
    if mask is not None and mask.ndim >= 3:
        if mask.shape[-3] == heads:
            mask = mask.reshape(*mask.shape[:-3], kv_heads, group, *mask.shape[-2:])
        else:
            mask = mask.unsqueeze(-3)
    return q, key.unsqueeze(-3), value.unsqueeze(-3), mask, True


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, *, scale=None, enable_gqa=False,
                                 generator=None):
    """Scaled dot-product attention (Vaswani et al., 2017), one autograd node.

    ``softmax(query @ key^T * scale + bias) @ value``, with ``bias`` from ``attn_mask`` or
    ``is_causal``, and dropout on the attention probabilities (see `xpnet.ops.attention`).

    Parameters
    ----------
    query : Tensor of shape (..., L, E)
    key : Tensor of shape (..., S, E)
    value : Tensor of shape (..., S, Ev)
        Leading (batch, head) axes broadcast.
    attn_mask : Tensor, optional
        Broadcastable to the scores' (..., L, S). Bool: True where a query may attend to a key
        (the opposite of `MultiheadAttention`'s masks); float: added to the scores.
    dropout_p : float, default=0.0
        Probability of zeroing each attention probability (applied whenever it is non-zero,
        as PyTorch: pass 0.0 in evaluation).
    is_causal : bool, default=False
        Query i attends to keys 0..i only (the mask is aligned top-left when L != S, as
        PyTorch's ``tril``); not together with ``attn_mask``.
    scale : float, optional
        Default ``1 / sqrt(E)``.
    enable_gqa : bool, default=False
        Grouped-query attention: key and value may have fewer heads (axis -3) than the query,
        each shared by consecutive query heads.
    generator : xpnet.Generator, optional
        Source of the dropout mask; default the global generator.

    Returns
    -------
    Tensor of shape (..., L, Ev)
        A query row with every key masked out gives zeros (and zero gradients), as torch 2.13.

    Raises
    ------
    TypeError
        For non-Tensor inputs, different dtypes, or a mask that is neither bool nor float.
    ValueError
        For mismatched sizes, batch shapes that do not broadcast, a mask that does not
        broadcast to (..., L, S), ``attn_mask`` with ``is_causal``, or ``dropout_p`` outside
        [0, 1].

    Examples
    --------
    >>> import xpnet
    >>> q = k = v = xpnet.ones(2, 3, 4)
    >>> xpnet.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 3, 4)
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 axes (..., length, features), "
                             f"got shape {t.shape}")
    if not query.dtype.is_floating_point or not (query.dtype == key.dtype == value.dtype):
        raise TypeError(f"{op}: query, key and value must share a floating dtype, got "
                        f"{query.dtype.name}, {key.dtype.name} and {value.dtype.name}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{op}: key's last axis ({key.shape[-1]}) must match query's "
                         f"({query.shape[-1]}); got query {query.shape} and key {key.shape}")
    if value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{op}: value's length axis (-2) must match key's ({key.shape[-2]}); "
                         f"got key {key.shape} and value {value.shape}")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real):
        raise TypeError(f"{op}: dropout_p must be a probability in [0, 1], got "
                        f"{type(dropout_p).__name__} {dropout_p!r}")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"{op}: dropout_p must be a probability in [0, 1], got {dropout_p!r}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"{op}: attn_mask must be a Tensor or None, got "
                        f"{type(attn_mask).__name__}")
    grouped = False
    if enable_gqa:
        query, key, value, attn_mask, grouped = _group_heads(op, query, key, value, attn_mask)
    batch = _broadcast(op, "query and key", query.shape[:-2], key.shape[:-2])
    _broadcast(op, "query, key and value", batch, value.shape[:-2])
    if attn_mask is not None:
        attn_mask = _check_mask(op, "attn_mask", attn_mask,
                                (*batch, query.shape[-2], key.shape[-2]), query.dtype)
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    out = Attention.apply(query, key, value, attn_mask, scale=float(scale),
                          causal=bool(is_causal), dropout_p=float(dropout_p),
                          generator=generator or default_generator)
    if grouped:  # (..., heads, G, L, Ev) -> (..., heads * G, L, Ev)
        out = out.reshape(*out.shape[:-4], out.shape[-4] * out.shape[-3], *out.shape[-2:])
    return out


# -- multi-head attention ------------------------------------------------------------------------

def _float_mask(mask, dtype):
    """A bool mask (True = hidden, PyTorch's MultiheadAttention convention) as an additive
    float mask; a float one in ``dtype``."""
    if mask.dtype.name == "bool":
        return creation.zeros(*mask.shape, dtype=dtype, backend=mask._backend.name) \
            .masked_fill(mask, -math.inf)
    return mask.astype(dtype) if mask.dtype != dtype else mask


def _mask_kind(op, name, mask):
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
        raise TypeError(f"{op}: {name} must be bool (True = masked out) or float (added to "
                        f"the scores), got {mask.dtype.name}")
    return mask.dtype


def _split_heads(x, heads, batch_first):
    """(L, N, E) (or (N, L, E) when batch_first) -> (N, heads, L, E // heads), a view."""
    a, b, e = x.shape
    x = x.reshape(a, b, heads, e // heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate):
    """q, k, v projections; self-attention and shared key/value inputs take one GEMM."""
    if separate is not None:
        w_q, w_k, w_v = separate
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if key is value:
        if query is key:
            return linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        w_q, w_kv = in_proj_weight.split([embed_dim, 2 * embed_dim])
        b_q = b_kv = None
        if in_proj_bias is not None:
            b_q, b_kv = in_proj_bias.split([embed_dim, 2 * embed_dim])
        return (linear(query, w_q, b_q), *linear(key, w_kv, b_kv).chunk(2, dim=-1))
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False,
                                 *, batch_first=False):
    """Multi-head attention (Vaswani et al., 2017) with PyTorch's arguments and conventions
    (see `xpnet.nn.MultiheadAttention`).

    Parameters
    ----------
    query : Tensor of shape (L, N, E), or (L, E) unbatched
    key : Tensor of shape (S, N, kdim), or (S, kdim)
    value : Tensor of shape (S, N, vdim), or (S, vdim)
        Sequence first; ``batch_first=True`` (an xpnet extension, which saves the transposes)
        reads and returns (N, L, E) instead.
    embed_dim_to_check, num_heads : int
    in_proj_weight : Tensor of shape (3 E, E) or None
    in_proj_bias : Tensor of shape (3 E,) or None
    bias_k, bias_v : Tensor of shape (1, 1, E) or None
        Appended to the projected keys and values (one more source position).
    add_zero_attn : bool
        Append a zero key and value per head (one more source position).
    dropout_p : float
        Dropout on the attention probabilities (in training only).
    out_proj_weight : Tensor of shape (E, E)
    out_proj_bias : Tensor of shape (E,) or None
    key_padding_mask : Tensor of shape (N, S) or (S,), optional
        Bool: True marks padding to ignore; float: added to the scores.
    need_weights : bool, default=True
        Also return the attention probabilities (after dropout).
    attn_mask : Tensor of shape (L, S) or (N * num_heads, L, S), optional
        Bool: True hides the key from the query; float: added to the scores.
    use_separate_proj_weight : bool, default=False
        Project with ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim) and
        ``v_proj_weight`` (E, vdim) instead of ``in_proj_weight``.
    static_k, static_v : Tensor of shape (N * num_heads, S, E / num_heads), optional
        Keys / values used as given, in place of the projected ones.
    average_attn_weights : bool, default=True
        Average the returned weights over the heads.
    is_causal : bool, default=False
        A hint that ``attn_mask`` is the causal mask (which must still be given).

    Returns
    -------
    attn_output : Tensor of shape (L, N, E), or (L, E) unbatched
    attn_output_weights : Tensor or None
        (N, L, S) averaged or (N, num_heads, L, S) per head ((L, S) / (num_heads, L, S)
        unbatched); None unless ``need_weights``. With ``need_weights`` a query whose every key
        is masked gives NaN, as PyTorch's (its softmax sees an all -inf row); without, zeros.

    Raises
    ------
    TypeError
        For a mask that is neither bool nor float.
    ValueError
        For inputs or masks of the wrong rank or shape, ``embed_dim`` not divisible by
        ``num_heads``, or ``is_causal`` without ``attn_mask``.
    """
    op = "multi_head_attention_forward"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim not in (2, 3):
        raise ValueError(f"{op}: query must be 3-D (batched) or 2-D (unbatched), got shape "
                         f"{query.shape}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{op}: for a {query.ndim}-D query, key and value must be "
                         f"{query.ndim}-D too, got shapes {key.shape} and {value.shape}")
    kpm_dtype = _mask_kind(op, "key_padding_mask", key_padding_mask)
    mask_dtype = _mask_kind(op, "attn_mask", attn_mask)
    if key_padding_mask is not None and key_padding_mask.ndim != (2 if batched else 1):
        raise ValueError(f"{op}: key_padding_mask must be {'2-D (N, S)' if batched else '1-D (S,)'}"
                         f" for a {query.ndim}-D query, got shape {key_padding_mask.shape}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ValueError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (N * num_heads, L, S), got "
                         f"shape {attn_mask.shape}")
    if not batched:
        same = query is key, key is value  # self-attention keeps its one in-projection
        query = query.unsqueeze(1)
        key = query if same[0] else key.unsqueeze(1)
        value = key if same[1] else value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False
    if batch_first:
        bsz, tgt_len, embed_dim = query.shape
        src_len = key.shape[1]
    else:
        tgt_len, bsz, embed_dim = query.shape
        src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"{op}: expected query's embedding size {embed_dim_to_check}, got "
                         f"{embed_dim} (query of shape {query.shape})")
    if isinstance(num_heads, bool) or not isinstance(num_heads, numbers.Integral):
        raise TypeError(f"{op}: num_heads must be a positive int, got "
                        f"{type(num_heads).__name__} {num_heads!r}")
    if num_heads < 1 or embed_dim % num_heads:
        raise ValueError(f"{op}: embed_dim ({embed_dim}) must be divisible by num_heads "
                         f"({num_heads!r})")
    head_dim = embed_dim // num_heads
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"{op}: key's sequence and batch axes {key.shape[:2]} do not match "
                             f"value's {value.shape[:2]}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, "
                             f"k_proj_weight and v_proj_weight")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if key.shape != value.shape:
            raise ValueError(f"{op}: key shape {key.shape} does not match value shape "
                             f"{value.shape}")
        if in_proj_weight is None:
            raise ValueError(f"{op}: in_proj_weight is None but use_separate_proj_weight=False")
        separate = None
    if query.shape[1 - batch_first] != key.shape[1 - batch_first]:
        raise ValueError(f"{op}: query and key must have the same batch size, got shapes "
                         f"{query.shape} and {key.shape}")
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True is a hint that needs attn_mask as well; make "
                         f"the mask with nn.Transformer.generate_square_subsequent_mask(L)")
    if kpm_dtype is not None and mask_dtype is not None and kpm_dtype != mask_dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=2)
    dtype = query.dtype
    # As PyTorch: the causal hint replaces the mask only when nothing else must be merged in.
    causal = bool(is_causal) and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    if attn_mask is not None:
        want = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if tuple(attn_mask.shape) != want:
            raise ValueError(f"{op}: the {attn_mask.ndim}-D attn_mask must have shape {want}, "
                             f"got {tuple(attn_mask.shape)}")
        attn_mask = _float_mask(attn_mask, dtype)
        attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len) if attn_mask.ndim == 2 \
            else attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        key_padding_mask = _float_mask(key_padding_mask, dtype)

    q, k, v = _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                             separate)
    # q, k and v are the chunks of one projection, which the attention kernel's gradients
    # may then fill side by side (the ``packed`` hint of `Attention`).
    packed = (separate is None and query is key is value and bias_k is None
              and static_k is None and static_v is None and not add_zero_attn)
    seq_axis = 1 if batch_first else 0
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ValueError(f"{op}: give both bias_k and bias_v or neither")
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op}: bias_k/bias_v cannot be added to static_k/static_v")
        shape = (bsz, 1, embed_dim) if batch_first else (1, bsz, embed_dim)
        k = ops.concat([k, bias_k.reshape(1, 1, embed_dim).expand(*shape)], dim=seq_axis)
        v = ops.concat([v, bias_v.reshape(1, 1, embed_dim).expand(*shape)], dim=seq_axis)
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask, (0, 1))
    q = _split_heads(q, num_heads, batch_first)
    k = _static(op, "static_k", static_k, bsz, num_heads, head_dim) if static_k is not None \
        else _split_heads(k, num_heads, batch_first)
    v = _static(op, "static_v", static_v, bsz, num_heads, head_dim) if static_v is not None \
        else _split_heads(v, num_heads, batch_first)
    if add_zero_attn:
        zeros = creation.zeros(bsz, num_heads, 1, head_dim, dtype=dtype,
                               backend=query._backend.name)
        k, v = ops.concat([k, zeros], dim=2), ops.concat([v, zeros], dim=2)
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask, (0, 1))
    src_len = k.shape[2]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"{op}: key_padding_mask must have shape (N, S) = {(bsz, src_len)},"
                             f" got {tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    merge = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)
    result = Attention.apply(q, k, v, attn_mask, scale=1 / math.sqrt(head_dim) if head_dim else 1.0,
                             causal=causal, dropout_p=float(dropout_p),
                             generator=default_generator,
                             empty_rows="nan" if need_weights else "zero",
                             need_weights=bool(need_weights), layout=merge, packed=packed)
    out, weights = result if need_weights else (result, None)
    # (N, H, L, D) -> (L, N, E) or (N, L, E): a view where the kernel took the layout hint,
    # else the one copy of the attention output.
    out = out.permute(*merge)
    out = linear(out.reshape(out.shape[0], out.shape[1], embed_dim), out_proj_weight,
                 out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _static(op, name, t, bsz, num_heads, head_dim):
    want = (bsz * num_heads, None, head_dim)
    if not isinstance(t, Tensor) or t.ndim != 3 or t.shape[0] != want[0] or t.shape[2] != head_dim:
        got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"{op}: {name} must have shape (N * num_heads, S, head_dim) = "
                         f"({want[0]}, S, {head_dim}), got {got}")
    return t.reshape(bsz, num_heads, t.shape[1], head_dim)
