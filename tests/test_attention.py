"""Attention (ops/attention.py, functional/attention.py, nn/attention.py): scaled dot-product
attention and MultiheadAttention against torch with the same inputs and weights (values and
gradients, float64), gradcheck on every backend, dropout, bad input, and the NumPy fast path
against its twin."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.nn.functional as F
from xpnet import nn
from xpnet.backend.kernels import fast_path_families, get_kernel

from .conftest import assert_close
from .op_checks import assert_on_device, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(a, requires_grad=True):
    """(xpnet tensor on the active backend, torch tensor) holding copies of ``a``."""
    grad = requires_grad and a.dtype.kind == "f"
    return xpnet.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _check_outputs_and_grads(outs, touts, wrt, twrt, rtol=1e-10, atol=1e-12, seed=1):
    """Outputs equal torch's, and so do the gradients under random output gradients."""
    outs = [o for o in outs if o is not None]
    touts = [o for o in touts if o is not None]
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert_on_device(o, xpnet.backend.active().name)
        assert_close(o, t, rtol=rtol, atol=atol)
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=tuple(t.shape)) for t in touts]
    got = xpnet.autograd.grad(outs, wrt, [xpnet.tensor(w) for w in weights])
    want = torch.autograd.grad(touts, twrt, [torch.from_numpy(w) for w in weights])
    for g, w in zip(got, want):
        assert_on_device(g, xpnet.backend.active().name)
        assert_close(g, w, rtol=rtol, atol=atol)


# -- scaled_dot_product_attention ----------------------------------------------------------------

def _bool_mask(shape, seed=5, empty_row=True):
    mask = np.random.default_rng(seed).random(shape) > 0.4
    if empty_row:
        mask[..., 1, :] = False  # a query that may attend to nothing: torch returns zeros
    return mask


# name -> (query, key, value shapes, mask or None, options)
SDPA_CASES = {
    "plain": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    "bool mask with an empty row": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                                    _bool_mask((4, 6)), {}),
    "bool mask per head": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                           _bool_mask((2, 3, 4, 6), empty_row=False), {}),
    "float mask (with gradient)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                                   np.random.default_rng(6).normal(size=(3, 1, 6)), {}),
    "float mask with -inf": ((2, 4, 5), (2, 6, 5), (2, 6, 7),
                             np.where(_bool_mask((4, 6)), 0.0, -np.inf), {}),
    "causal": ((2, 3, 4, 5), (2, 3, 4, 5), (2, 3, 4, 7), None, {"is_causal": True}),
    "causal, more queries than keys": ((3, 7, 5), (3, 4, 5), (3, 4, 2), None,
                                       {"is_causal": True}),
    "causal, fewer queries than keys": ((3, 2, 5), (3, 6, 5), (3, 6, 2), None,
                                        {"is_causal": True}),
    # Long enough for the NumPy kernel's causal query tiles when they are made small
    # (test_sdpa_causal_query_tiles_match_torch): 32, 32, 32 and 4 queries.
    "causal, query tiles": ((2, 2, 100, 5), (2, 2, 100, 5), (2, 2, 100, 3), None,
                            {"is_causal": True}),
    "causal tiles, more queries than keys": ((2, 130, 4), (2, 70, 4), (2, 70, 3), None,
                                             {"is_causal": True}),
    "causal tiles, fewer queries than keys": ((2, 70, 4), (2, 130, 4), (2, 130, 3), None,
                                              {"is_causal": True}),
    "scale": ((2, 4, 5), (2, 6, 5), (2, 6, 7), None, {"scale": 0.3}),
    "unbatched": ((4, 5), (6, 5), (6, 7), None, {}),
    "broadcast batch": ((2, 3, 4, 5), (1, 3, 6, 5), (3, 6, 7), None, {}),
    "gqa": ((2, 8, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), np.random.default_rng(7).normal(
        size=(8, 4, 6)), {"enable_gqa": True}),
    "gqa, key and value heads differ": ((2, 8, 4, 5), (2, 2, 6, 5), (2, 4, 6, 7), None,
                                        {"enable_gqa": True}),
}
BACKEND_CASES = ["bool mask with an empty row", "float mask (with gradient)", "causal",
                 "causal, query tiles", "broadcast batch", "gqa"]


def _sdpa_compare(case, seed=0):
    q_shape, k_shape, v_shape, mask, options = SDPA_CASES[case]
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in (q_shape, k_shape, v_shape)]
    pairs = [_pair(a) for a in arrays]
    if mask is not None:
        pairs.append(_pair(mask, requires_grad=bool(np.all(np.isfinite(mask)))
                           if mask.dtype.kind == "f" else False))
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    out = F.scaled_dot_product_attention(*xs, **options)
    tout = TF.scaled_dot_product_attention(*ts, **options)
    _check_outputs_and_grads([out], [tout], [x for x in xs if x.requires_grad],
                             [t for t in ts if t.requires_grad])


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(case):
    _sdpa_compare(case)


@pytest.mark.parametrize("case", BACKEND_CASES)
def test_sdpa_matches_torch_on_every_backend(backend, case):
    _sdpa_compare(case)


@pytest.mark.parametrize("case", [c for c in SDPA_CASES if "tiles" in c])
def test_sdpa_causal_query_tiles_match_torch(case, monkeypatch):
    from xpnet.backend.kernels import numpy_attention
    monkeypatch.setattr(numpy_attention, "_MIN_TILE", 32)  # tiles from 64 queries on
    assert numpy_attention._causal_tiles(100, 100) == [(0, 32, 32), (32, 64, 64), (64, 96, 96),
                                                       (96, 100, 100)]
    _sdpa_compare(case)


@pytest.mark.parametrize("fast", [True, False])
def test_sdpa_empty_rows_give_zeros_and_zero_gradients_as_torch(fast):
    xpnet.use_fast_paths(fast)
    q, k, v = (xpnet.randn(2, 4, 3, dtype="float64", requires_grad=True) for _ in range(3))
    mask = xpnet.tensor(_bool_mask((4, 4)))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out.sum().backward()
    assert not np.any(out.numpy()[:, 1]) and not np.any(q.grad.numpy()[:, 1])
    assert np.all(np.isfinite(k.grad.numpy())) and np.all(np.isfinite(v.grad.numpy()))


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_sdpa_gradcheck_on_every_backend(backend, mask_kind):
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    if mask_kind == "bool":
        mask = xpnet.tensor(_bool_mask((3, 5)))
        gradcheck(lambda *a: F.scaled_dot_product_attention(*a, attn_mask=mask), [q, k, v])
    else:
        gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                  [q, k, v, rng.normal(size=(2, 1, 5))])


def test_sdpa_gradcheck_causal_with_weights_output(backend):
    """The primitive's second output (the weights MultiheadAttention returns) has gradients."""
    from xpnet.ops.attention import Attention

    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s) for s in ((2, 4, 3), (2, 4, 3), (2, 4, 2))]
    gradcheck(lambda *a: Attention.apply(*a, None, scale=0.5, causal=True, need_weights=True),
              arrays)


@pytest.mark.parametrize("fast", [True, False])
def test_sdpa_dropout_is_the_generators_mask_on_the_probabilities(fast):
    """With a seeded generator the dropped probabilities are reproducible, so the result and
    its gradients equal torch's attention computed by hand with the same mask."""
    xpnet.use_fast_paths(fast)
    p = 0.3
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=s) for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))]
    mask = _bool_mask((4, 6))
    xs, ts = zip(*(_pair(a) for a in arrays))
    out = F.scaled_dot_product_attention(*xs, attn_mask=xpnet.tensor(mask), dropout_p=p,
                                         generator=xpnet.Generator(3))
    keep = xpnet.Generator(3).bernoulli(xpnet.backend.active(), (2, 3, 4, 6), 1 - p)
    tq, tk, tv = ts
    scores = (tq @ tk.transpose(-2, -1) / math.sqrt(5)).masked_fill(~torch.tensor(mask),
                                                                     -math.inf)
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    tout = (probs * torch.tensor(np.asarray(keep)) / (1 - p)) @ tv
    _check_outputs_and_grads([out], [tout], list(xs), list(ts))


def test_sdpa_dropout_one_gives_zeros():
    q = xpnet.randn(2, 3, 4)
    assert not np.any(F.scaled_dot_product_attention(q, q, q, dropout_p=1.0).numpy())


@pytest.mark.parametrize("family", fast_path_families("attention_forward"))
@pytest.mark.parametrize("case", ["plain", "masked, dropout, weights", "large scores",
                                  "empty rows as NaN", "broadcast batch", "no keys",
                                  "float mask, 2 threads", "causal tiles, dropout, weights",
                                  "causal tiles, large scores, 2 threads"])
def test_attention_fast_paths_match_the_twin(family, case, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    b = xpnet.backend.load(family)
    threads = 2 if "2 threads" in case else 1
    if family == "numpy":  # small blocks, so that several run (on two threads in one case)
        from xpnet.backend.kernels import numpy_attention
        monkeypatch.setattr(numpy_attention, "_BLOCK_BYTES", 256)
        monkeypatch.setattr(numpy_attention, "_MIN_TILE", 32)  # causal tiles from 64 queries
    rng = np.random.default_rng(4)
    shapes = {"broadcast batch": ((2, 3, 4, 5), (1, 3, 6, 5), (3, 6, 7)),
              "no keys": ((2, 4, 5), (2, 0, 5), (2, 0, 3))}.get(
        case, ((40, 3, 4, 5), (40, 3, 6, 5), (40, 3, 6, 7)))
    causal = case.startswith("causal")
    if causal:  # 70 queries, 90 keys: query tiles of 32, 32 and 6
        shapes = ((6, 2, 70, 5), (6, 2, 90, 5), (6, 2, 90, 3))
    q, k, v = (rng.normal(size=s) * (30 if "large scores" in case else 1) for s in shapes)
    mask = keep = None
    options = dict(scale=0.3, drop_scale=1.0, empty_rows="zero", need_weights=False)
    if causal:
        mask = np.tri(70, 90, dtype=bool)
        options.update(causal=True, need_weights="weights" in case)
        if "dropout" in case:
            keep = rng.random((6, 2, 70, 90)) > 0.25
            options["drop_scale"] = 1 / 0.75
    if case in ("masked, dropout, weights", "empty rows as NaN"):
        mask = _bool_mask((4, 6))
        options["need_weights"] = True
    if case == "float mask, 2 threads":
        mask = rng.normal(size=(3, 4, 6))
    if case == "masked, dropout, weights":
        keep = rng.random((40, 3, 4, 6)) > 0.25
        options["drop_scale"] = 1 / 0.75
    if case == "empty rows as NaN":
        options["empty_rows"] = "nan"
    args = [b.asarray(a) if a is not None else None for a in (q, k, v, mask, keep)]
    results = []
    for fast in (True, False):
        forward = get_kernel("attention_forward", b, fast_paths=fast)
        backward = get_kernel("attention_backward", b, fast_paths=fast)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            out, weights, saved = forward(b.xp, *args, **options)
            grad_out = np.random.default_rng(5).normal(size=out.shape)
            grad_weights = None if weights is None else np.random.default_rng(6).normal(
                size=weights.shape)
            grads = backward(b.xp, saved, b.asarray(grad_out),
                             None if grad_weights is None else b.asarray(grad_weights),
                             scale=options["scale"], drop_scale=options["drop_scale"],
                             need=(True, True, True, mask is not None and not causal),
                             causal=causal)
        results.append((out, weights, *grads))
    assert get_kernel("attention_forward", b, fast_paths=True) is not \
        get_kernel("attention_forward", b, fast_paths=False)
    if family == "numpy" and threads > 1:  # the blocks ran on the kernel's worker threads
        import threading
        assert any(t.name.startswith("xpnet-kernel") for t in threading.enumerate())
    for got, want in zip(*results):
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10,
                                       atol=1e-12)


_MASK_KINDS = ["none", "bool", "float", "causal"]


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), lengths=st.tuples(
    st.integers(1, 5), st.integers(1, 5)), features=st.tuples(st.integers(1, 4),
                                                              st.integers(1, 4)),
       mask_kind=st.sampled_from(_MASK_KINDS), mask_rank=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_sdpa_matches_torch_on_random_shapes_and_masks(batch, lengths, features, mask_kind,
                                                        mask_rank, seed):
    (length, source), (embed, value_embed) = lengths, features
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(*batch, n, e)) for n, e in
              ((length, embed), (source, embed), (source, value_embed))]
    scores_shape = (*batch, length, source)
    options = {"is_causal": True} if mask_kind == "causal" else {}
    mask = None
    if mask_kind in ("bool", "float"):
        # a random broadcastable shape: a suffix of the scores' shape, some axes set to 1
        shape = tuple(n if rng.random() < 0.6 else 1
                      for n in scores_shape[max(0, len(scores_shape) - mask_rank):])
        if len(shape) < 2:
            shape = scores_shape[-2:]
        mask = rng.random(shape) > 0.3 if mask_kind == "bool" else rng.normal(size=shape)
    pairs = [_pair(a) for a in arrays]
    if mask is not None:
        pairs.append(_pair(mask))
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    out = F.scaled_dot_product_attention(*xs, **options)
    tout = TF.scaled_dot_product_attention(*ts, **options)
    _check_outputs_and_grads([out], [tout], [x for x in xs if x.requires_grad],
                             [t for t in ts if t.requires_grad])


def test_sdpa_bad_input_raises_clear_errors():
    q = xpnet.randn(2, 3, 4)
    with pytest.raises(TypeError, match="query must be a Tensor"):
        F.scaled_dot_product_attention(np.zeros((2, 3, 4)), q, q)
    with pytest.raises(ValueError, match="key must have at least 2 axes"):
        F.scaled_dot_product_attention(q, xpnet.randn(4), q)
    with pytest.raises(TypeError, match="share a floating dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(ValueError, match=r"key's last axis \(5\) must match query's \(4\)"):
        F.scaled_dot_product_attention(q, xpnet.randn(2, 3, 5), q)
    with pytest.raises(ValueError, match="value's length axis"):
        F.scaled_dot_product_attention(q, q, xpnet.randn(2, 5, 4))
    with pytest.raises(ValueError, match="do not broadcast"):
        F.scaled_dot_product_attention(xpnet.randn(2, 3, 4), xpnet.randn(3, 3, 4), q)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 2\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=xpnet.ones(3, 2, dtype="bool"))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=xpnet.zeros(5, 2, 3, 3))
    with pytest.raises(TypeError, match="attn_mask must be bool .* or float"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=xpnet.zeros(3, 3, dtype="int64"))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=xpnet.zeros(3, 3), is_causal=True)
    with pytest.raises(ValueError, match=r"dropout_p must be a probability in \[0, 1\]"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(ValueError, match=r"query heads \(8\) must be a multiple"):
        h = xpnet.randn(1, 3, 2, 4)
        F.scaled_dot_product_attention(xpnet.randn(1, 8, 2, 4), h, h, enable_gqa=True)
    with pytest.raises(ValueError, match="enable_gqa needs a head axis"):
        F.scaled_dot_product_attention(q[0], q[0], q[0], enable_gqa=True)


# -- MultiheadAttention --------------------------------------------------------------------------

def _mha(embed_dim=8, num_heads=2, **options):
    """(xpnet module, torch module), float64, torch's weights loaded into ours."""
    theirs = torch.nn.MultiheadAttention(embed_dim, num_heads, dtype=torch.float64, **options)
    ours = nn.MultiheadAttention(embed_dim, num_heads, dtype="float64", **options)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _lnd(batch_first, n, length, e):
    return (n, length, e) if batch_first else (length, n, e)


# name -> (constructor options, forward options, self-attention)
MHA_CASES = {
    "defaults": ({}, {}, False),
    "self-attention": ({}, {}, True),
    "batch_first": ({"batch_first": True}, {}, False),
    "batch_first self-attention": ({"batch_first": True}, {}, True),
    "kdim and vdim": ({"kdim": 3, "vdim": 5}, {}, False),
    "add_bias_kv": ({"add_bias_kv": True}, {}, False),
    "add_zero_attn": ({"add_zero_attn": True}, {}, False),
    "no bias": ({"bias": False}, {}, False),
    "need_weights=False": ({}, {"need_weights": False}, False),
    "per-head weights": ({}, {"average_attn_weights": False}, False),
    "bool key_padding_mask": ({}, {"key_padding_mask": "bool"}, False),
    "float key_padding_mask": ({}, {"key_padding_mask": "float"}, False),
    "bool attn_mask": ({}, {"attn_mask": "bool"}, False),
    "float 3-D attn_mask": ({}, {"attn_mask": "float3d"}, False),
    "both masks, bias_kv, zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                                       {"key_padding_mask": "bool", "attn_mask": "bool"}, False),
    "causal hint": ({}, {"attn_mask": "causal", "is_causal": True, "need_weights": False},
                    True),
}
MHA_BACKEND_CASES = ["self-attention", "kdim and vdim", "both masks, bias_kv, zero_attn"]


def _mha_masks(options, n, length, source, heads, rng):
    options = dict(options)
    kind = options.get("key_padding_mask")
    if kind == "bool":
        kpm = rng.random((n, source)) > 0.7
        kpm[:, 0] = False  # keep a key per sequence (an all-masked one gives NaN in torch)
        options["key_padding_mask"] = kpm
    elif kind == "float":
        options["key_padding_mask"] = rng.normal(size=(n, source))
    kind = options.get("attn_mask")
    if kind == "bool":
        mask = rng.random((length, source)) > 0.7
        mask[:, 0] = False
        options["attn_mask"] = mask
    elif kind == "float3d":
        options["attn_mask"] = rng.normal(size=(n * heads, length, source))
    elif kind == "causal":
        options["attn_mask"] = np.triu(np.full((length, length), -np.inf), 1)
    return options


def _mha_compare(case, train, seed=0):
    init, forward, self_attention = MHA_CASES[case]
    ours, theirs = _mha(**init)
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed)
    n, length, source, e = 3, 4, 4 if self_attention else 5, 8
    bf = init.get("batch_first", False)
    query = rng.normal(size=_lnd(bf, n, length, e))
    if self_attention:
        arrays = [query]
    else:
        arrays = [query, rng.normal(size=_lnd(bf, n, source, init.get("kdim", e))),
                  rng.normal(size=_lnd(bf, n, source, init.get("vdim", e)))]
    options = _mha_masks(forward, n, length, source, 2, rng)
    pairs = [_pair(a) for a in arrays]
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    xopts, topts = {}, {}
    for name, value in options.items():
        if isinstance(value, np.ndarray):
            xopts[name], topts[name] = _pair(value, requires_grad=False)
        else:
            xopts[name] = topts[name] = value
    qkv = xs * 3 if self_attention else xs
    tqkv = ts * 3 if self_attention else ts
    out, weights = ours(*qkv, **xopts)
    tout, tweights = theirs(*tqkv, **topts)
    assert (weights is None) == (tweights is None)
    _check_outputs_and_grads([out, weights], [tout, tweights],
                             xs + list(ours.parameters()), ts + list(theirs.parameters()))


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case, train):
    _mha_compare(case, train)


@pytest.mark.parametrize("case", MHA_BACKEND_CASES)
def test_multihead_attention_matches_torch_on_every_backend(backend, case):
    _mha_compare(case, train=True)


def test_multihead_attention_unbatched_matches_torch():
    ours, theirs = _mha()
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(4, 8)), rng.normal(size=(5, 8)), rng.normal(size=(5, 8))]
    kpm = np.array([False, True, False, False, True])
    xs, ts = zip(*(_pair(a) for a in arrays))
    out, w = ours(*xs, key_padding_mask=xpnet.tensor(kpm), average_attn_weights=False)
    tout, tw = theirs(*ts, key_padding_mask=torch.tensor(kpm), average_attn_weights=False)
    assert tuple(w.shape) == (2, 4, 5)
    _check_outputs_and_grads([out, w], [tout, tw], list(xs) + list(ours.parameters()),
                             list(ts) + list(theirs.parameters()))


def test_multi_head_attention_forward_with_static_keys_matches_torch():
    ours, theirs = _mha(kdim=3, vdim=5)
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=s) for s in ((4, 3, 8), (6, 3, 3), (6, 3, 5), (6, 6, 4),
                                           (6, 6, 4))]
    xs, ts = zip(*(_pair(a) for a in arrays))

    def call(f, module, q, k, v, sk, sv):
        return f.multi_head_attention_forward(
            q, k, v, 8, 2, None, module.in_proj_bias, None, None, False, 0.0,
            module.out_proj.weight, module.out_proj.bias, use_separate_proj_weight=True,
            q_proj_weight=module.q_proj_weight, k_proj_weight=module.k_proj_weight,
            v_proj_weight=module.v_proj_weight, static_k=sk, static_v=sv)

    out, w = call(F, ours, *xs)
    tout, tw = call(TF, theirs, *ts)
    wrt = [xs[0], xs[3], xs[4], ours.q_proj_weight, ours.out_proj.weight]
    twrt = [ts[0], ts[3], ts[4], theirs.q_proj_weight, theirs.out_proj.weight]
    _check_outputs_and_grads([out, w], [tout, tw], wrt, twrt)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_fully_masked_query_as_torch(need_weights):
    """A query with every key masked: NaN with need_weights (torch's softmax of an all -inf
    row), zeros (before out_proj) without, as torch's scaled_dot_product_attention."""
    ours, theirs = _mha()
    x = np.random.default_rng(3).normal(size=(3, 2, 8))
    kpm = np.zeros((2, 3), dtype=bool)
    kpm[1] = True
    out, _ = ours(*[xpnet.tensor(x)] * 3, key_padding_mask=xpnet.tensor(kpm),
                  need_weights=need_weights)
    tout, _ = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm),
                     need_weights=need_weights)
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(tout.detach().numpy()))
    assert np.isnan(out.numpy()[:, 1]).all() == need_weights
    if not need_weights:
        assert_close(out, tout, rtol=1e-10, atol=1e-12)


def test_multihead_attention_gradcheck_on_every_backend(backend):
    ours = nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True, dtype="float64")
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s) for s in ((3, 2, 4), (5, 2, 3), (5, 2, 4))]
    kpm = xpnet.tensor(np.array([[False, False, True, False, False]] * 2))

    def f(q, k, v):
        out, weights = ours(q, k, v, key_padding_mask=kpm)
        return out, weights

    gradcheck(f, arrays)


def test_multihead_attention_state_dict_keys_and_init_as_torch():
    for options in ({}, {"kdim": 3, "vdim": 5, "add_bias_kv": True}, {"bias": False}):
        ours, theirs = _mha(16, 4, **options)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(p.shape) for p in ours.parameters()] == \
            [tuple(p.shape) for p in theirs.parameters()]
    ours = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) in_proj_weight
    w = ours.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not np.any(ours.in_proj_bias.numpy()) and not np.any(ours.out_proj.bias.numpy())
    assert type(ours.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(ours.out_proj, nn.Linear)
    assert repr(ours) == repr(torch.nn.MultiheadAttention(64, 4))


def test_multihead_attention_dropout_applies_in_training_only():
    ours = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = xpnet.randn(4, 3, 8)
    out, weights = ours(x, x, x, average_attn_weights=False)
    dropped = weights.numpy()
    assert np.any(dropped == 0) and np.any(dropped.sum(-1) > 1.01)
    ours.eval()
    _, weights = ours(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-5)


def test_multihead_attention_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        nn.MultiheadAttention(10, 0)
    m = nn.MultiheadAttention(8, 2)
    x = xpnet.randn(4, 3, 8)
    with pytest.raises(ValueError, match="query must be 3-D .* or 2-D"):
        m(x[None], x[None], x[None])
    with pytest.raises(ValueError, match="key and value must be 3-D too"):
        m(x, x[0], x)
    with pytest.raises(ValueError, match="expected query's embedding size 8, got 6"):
        m(xpnet.randn(4, 3, 6), x, x)
    with pytest.raises(ValueError, match=r"2-D attn_mask must have shape \(4, 4\)"):
        m(x, x, x, attn_mask=xpnet.zeros(4, 5))
    with pytest.raises(ValueError, match=r"3-D attn_mask must have shape \(6, 4, 4\)"):
        m(x, x, x, attn_mask=xpnet.zeros(3, 4, 4))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\)"):
        m(x, x, x, key_padding_mask=xpnet.zeros(3, 5, dtype="bool"))
    with pytest.raises(ValueError, match="key_padding_mask must be 2-D"):
        m(x, x, x, key_padding_mask=xpnet.zeros(3, dtype="bool"))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        m(x, x, x, attn_mask=xpnet.zeros(4, 4, dtype="int64"))
    with pytest.raises(ValueError, match="is_causal=True is a hint that needs attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="key shape .* does not match value shape"):
        m(x, x, xpnet.randn(5, 3, 8))
    with pytest.raises(ValueError, match="same batch size"):
        m(x, xpnet.randn(4, 2, 8), xpnet.randn(4, 2, 8))


def test_multihead_attention_warns_on_mismatched_mask_types_as_torch():
    m = nn.MultiheadAttention(8, 2)
    x = xpnet.randn(4, 3, 8)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=xpnet.zeros(3, 4, dtype="bool"), attn_mask=xpnet.zeros(4, 4))


@pytest.mark.parametrize("family", fast_path_families("attention_backward"))
@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_backward_packs_the_in_projections_gradients_as_the_twin(family,
                                                                          batch_first):
    """With the ``packed`` hint (q, k, v are the three chunks of one projection's last axis,
    each merged from the heads by ``layout``), the fast path returns the twin's gradients,
    and on NumPy they lie side by side, so that the chunks' backward joins them without a
    copy."""
    b = xpnet.backend.load(family)
    rng = np.random.default_rng(7)
    length, batch, heads, width = 6, 2, 3, 4
    embed = heads * width
    outer = (batch, length) if batch_first else (length, batch)
    qkv = rng.normal(size=(*outer, 3 * embed))
    split = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
    q, k, v = (b.asarray(qkv[..., i * embed:(i + 1) * embed].reshape(*outer, heads, width)
                         .transpose(split)) for i in range(3))
    merge = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)
    options = dict(scale=0.4, drop_scale=1.0, empty_rows="zero", need_weights=False)
    grad_out = b.asarray(rng.normal(size=(batch, heads, length, width)))
    results = []
    for fast in (True, False):
        out, _, saved = get_kernel("attention_forward", b, fast_paths=fast)(
            b.xp, q, k, v, None, None, layout=merge, **options)
        grads = get_kernel("attention_backward", b, fast_paths=fast)(
            b.xp, saved, grad_out, None, scale=0.4, drop_scale=1.0,
            need=(True, True, True, False), layout=merge, packed=True)
        results.append((out, *grads[:3]))
    for got, want in zip(*results):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)
    if family == "numpy":
        merged = [np.asarray(g).transpose(merge).reshape(*outer, embed) for g in results[0][1:]]
        joined = get_kernel("concat_chunks", b, fast_paths=True)(b.xp, merged, 2)
        assert np.shares_memory(joined, merged[0])
        np.testing.assert_array_equal(joined, np.concatenate(merged, axis=2))


def test_self_attention_in_projection_gradient_is_joined_without_a_copy(joins_as_views):
    """MultiheadAttention's self-attention (one in-projection, split in three) on NumPy: the
    split's backward gets q, k and v's gradients side by side and joins them as a view, and
    the gradients still equal torch's."""
    with xpnet.use_backend("numpy"):
        for batch_first in (False, True):
            ours, theirs = _mha(8, 2, batch_first=batch_first, dropout=0.0)
            xq, tq = _pair(np.random.default_rng(3).normal(size=(5, 3, 8)))
            out = ours(xq, xq, xq, need_weights=False)[0]
            tout = theirs(tq, tq, tq, need_weights=False)[0]
            _check_outputs_and_grads([out], [tout], [xq, ours.in_proj_weight],
                                     [tq, theirs.in_proj_weight])
    assert joins_as_views and all(joins_as_views)
