"""The compiled softmax pass of NumPy attention (backend/kernels/numba_softmax.py): its float32
exponential against the correctly rounded one, its kernels against NumPy's forms of them, and
the attention fast path that uses them against the standard-only twin (ops/attention.py) —
masks none / bool / float / causal, dropout, queries with every key masked, scores that need
the shift, causal query tiles, two threads, float32 (the compiled pass) and float64 (NumPy's
passes), and the NumPy passes alone as they run without numba."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend.kernels import get_kernel, numba_softmax, numpy_attention

needs_numba = pytest.mark.skipif(not numba_softmax.available, reason="numba is not installed")


# -- the kernels -----------------------------------------------------------------------------------

@needs_numba
def test_float32_exp_is_within_one_ulp_of_the_correctly_rounded_one():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-87.3, 88.0, 200_000), np.linspace(-1, 1, 4097),
                        [0.0, -87.29, 60.0]]).astype(np.float32)
    e = x.reshape(1, 1, -1).copy()
    numba_softmax.exp_keys(e, np.zeros((1, x.size), np.float32), shift=False)
    want = np.exp(x.astype(np.float64)).astype(np.float32)
    ulps = np.abs(e.ravel() - want) / np.spacing(want)
    assert ulps.max() <= 1


@needs_numba
def test_float32_exp_of_minus_inf_and_tiny_arguments_is_zero_and_of_nan_is_nan():
    x = np.array([[[-np.inf, -88.0, -1e30, np.nan, 0.0]]], dtype=np.float32)
    numba_softmax.exp_keys(x, np.zeros((1, 5), np.float32), shift=False)
    assert x[0, 0, :3].tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(x[0, 0, 3]) and x[0, 0, 4] == 1.0


def _exp_keys_reference(scores, shift, causal, first, stop, keys):
    """NumPy's form of exp_keys on key-major (n, S, L) scores: (e, totals) for the queries
    first:stop."""
    e = scores.astype(np.float64)
    source = e.shape[1]
    s_index = np.arange(source)[:, None]
    l_index = np.arange(e.shape[2])[None, :]
    hidden = (s_index >= keys) | ((s_index > l_index) if causal else False)
    e = np.where(hidden, -np.inf, e)
    if shift:
        top = e.max(axis=1, keepdims=True)
        e = e - np.where(top == -np.inf, 0, top)
    e = np.exp(e)
    want = scores.copy()
    want[:, :, first:stop] = e[:, :, first:stop]
    return want, e.sum(axis=1)[:, first:stop]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("part", ["all", "causal", "causal tile", "more keys than queries"])
def test_exp_keys_matches_numpy(dtype, shift, part):
    rng = np.random.default_rng(1)
    source, length = (40, 23) if part == "more keys than queries" else (29, 37)
    scores = rng.normal(scale=3, size=(3, source, length)).astype(dtype)
    first, stop, keys, causal = 0, length, source, part != "all"
    if part == "causal tile":  # queries 16:32 see the keys up to 24 (and the later ones 0)
        first, stop, keys = 16, 32, 24
    e, totals = scores.copy(), np.full((3, length), 7, dtype=dtype)
    ok = numba_softmax.exp_keys(e, totals, shift=shift, causal=causal, first=first, stop=stop,
                                keys=keys)
    assert ok
    want_e, want_totals = _exp_keys_reference(scores, shift, causal, first, stop, keys)
    tol = dict(rtol=2e-6, atol=0) if dtype == "float32" else dict(rtol=1e-14, atol=0)
    np.testing.assert_allclose(e, want_e, **tol)
    np.testing.assert_allclose(totals[:, first:stop], want_totals, **tol)
    assert np.all(totals[:, :first] == 7) and np.all(totals[:, stop:] == 7)  # untouched


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["large score", "all small", "every key masked", "fine"])
def test_exp_keys_without_a_shift_says_when_it_needed_one(dtype, case):
    scores = np.zeros((2, 5, 4), dtype=dtype)
    if case == "large score":
        scores[1, 2, 3] = 70
    if case == "all small":
        scores[0, :, 1] = -30
    if case == "every key masked":
        scores[0, :, 2] = -np.inf
    ok = numba_softmax.exp_keys(scores.copy(), np.empty((2, 4), dtype), shift=False)
    assert ok == (case == "fine")
    # Shifted, every case is usable: each query's largest visible weight is 1 (none: 0).
    e, totals = scores.copy(), np.empty((2, 4), dtype)
    assert numba_softmax.exp_keys(e, totals, shift=True)
    want_e, want_totals = _exp_keys_reference(scores, True, False, 0, 4, 5)
    np.testing.assert_allclose(e, want_e, rtol=1e-6)
    np.testing.assert_allclose(totals, want_totals, rtol=1e-6)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("empty_rows", ["zero", "nan"])
def test_normalise_rows_and_shifted_products_match_numpy(dtype, empty_rows):
    rng = np.random.default_rng(2)
    out = rng.normal(size=(3, 6, 5)).astype(dtype)
    totals = rng.uniform(0.5, 2, size=(3, 6)).astype(dtype)
    totals[1, 2] = 0  # a query with nothing to attend to
    got_out, got_totals = out.copy(), totals.copy()
    numba_softmax.normalise_rows(got_out, got_totals, empty_rows=empty_rows, factor=1.5)
    empty = np.nan if empty_rows == "nan" else 0
    reciprocal = np.where(totals == 0, empty, 1 / np.where(totals == 0, 1, totals))
    np.testing.assert_allclose(got_totals, reciprocal, rtol=1e-6)
    np.testing.assert_allclose(got_out, out * (reciprocal * 1.5)[..., None], rtol=1e-6)

    ds, e = rng.normal(size=(2, 3, 6, 7)).astype(dtype)
    shift = rng.normal(size=(3, 7)).astype(dtype)
    want = (ds - shift[:, None, :]) * e * 0.25
    numba_softmax.shifted_products(ds, shift, e, factor=0.25)
    np.testing.assert_allclose(ds, want, rtol=1e-6)


# -- attention's fast path against the twin -----------------------------------------------------

def _mask(kind, rng, batch, length, source, empty_row):
    if kind == "bool":
        mask = rng.random((*batch, length, source)) > 0.3
        mask[..., 0] = True
        if empty_row:
            mask[..., 1, :] = False
        return mask
    if kind == "float":
        mask = rng.normal(size=(length, source))
        if empty_row:
            mask[1] = -np.inf
        return mask
    if kind == "causal":
        return np.tri(length, source, dtype=bool)
    return None


def _attention(fast, arrays, options, grad_out, grad_weights, threads, need):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    b = xpnet.backend.load("numpy")
    forward = get_kernel("attention_forward", b, fast_paths=fast)
    backward = get_kernel("attention_backward", b, fast_paths=fast)
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        out, weights, saved = forward(np, *arrays, **options)
        grads = backward(np, saved, grad_out, None if weights is None else grad_weights,
                         scale=options["scale"], drop_scale=options["drop_scale"], need=need,
                         causal=options.get("causal", False), layout=options.get("layout"))
    layout = options.get("layout")
    if fast and layout is not None:  # the hint taken: the caller's permutation is a view
        for a in (out, *grads[:3]):
            assert a.transpose(layout).flags.c_contiguous
    return out, weights, *grads


# name: (mask kind, options)
FAST_CASES = {
    "no mask": ("none", {}),
    "bool mask": ("bool", {}),
    "bool mask, empty rows": ("bool", {"empty_row": True}),
    "bool mask, empty rows as NaN, weights": ("bool", {"empty_row": True,
                                                       "empty_rows": "nan", "weights": True}),
    "float mask": ("float", {}),
    "float mask with an empty row": ("float", {"empty_row": True}),
    "causal": ("causal", {}),
    "causal, dropout, weights": ("causal", {"dropout": True, "weights": True}),
    "causal tiles": ("causal", {"tiles": True}),
    "causal tiles, large scores": ("causal", {"tiles": True, "large": True}),
    "dropout": ("none", {"dropout": True}),
    "large scores": ("none", {"large": True}),
    "large scores, bool mask, 2 threads": ("bool", {"large": True, "threads": 2}),
    "no mask, 2 threads": ("none", {"threads": 2}),
    # MultiheadAttention's hint: the output's and gradients' heads merged as (L, N, H, Ev)
    "sequence-first layout, 2 threads": ("none", {"layout": (2, 0, 1, 3), "threads": 2}),
    "batch-first layout, bool mask": ("bool", {"layout": (0, 2, 1, 3)}),
    "causal tiles, sequence-first layout, dropout": ("causal", {"tiles": True, "dropout": True,
                                                                "layout": (2, 0, 1, 3)}),
}


@pytest.mark.parametrize("compiled", [
    pytest.param(True, marks=needs_numba, id="numba"), pytest.param(False, id="numpy only")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(FAST_CASES))
def test_attention_fast_path_matches_the_twin(case, dtype, compiled, monkeypatch):
    kind, extra = FAST_CASES[case]
    monkeypatch.setattr(numba_softmax, "available", compiled)
    monkeypatch.setattr(numpy_attention, "_BLOCK_BYTES", 2048)  # several blocks
    causal = kind == "causal"
    if extra.get("tiles"):
        monkeypatch.setattr(numpy_attention, "_MIN_TILE", 16)  # tiles of 16 from 32 queries
    rng = np.random.default_rng(5)
    batch, length, source, width = (3, 2), (40 if extra.get("tiles") else 9), 11, 6
    if causal and not extra.get("tiles"):
        source = 9
    size = 12 if extra.get("large") else 1  # scores in the hundreds: exp needs the shift
    q = (rng.normal(size=(*batch, length, width)) * size).astype(dtype)
    k = (rng.normal(size=(*batch, source, width)) * size).astype(dtype)
    v = rng.normal(size=(*batch, source, 4)).astype(dtype)
    mask = _mask(kind, rng, batch, length, source, extra.get("empty_row", False))
    if mask is not None and mask.dtype.kind == "f":
        mask = mask.astype(dtype)
    keep, drop_scale = None, 1.0
    if extra.get("dropout"):
        keep, drop_scale = rng.random((*batch, length, source)) > 0.2, 1 / 0.8
    options = dict(scale=0.4, drop_scale=drop_scale, empty_rows=extra.get("empty_rows", "zero"),
                   need_weights=extra.get("weights", False), causal=causal,
                   layout=extra.get("layout"))
    grad_out = rng.normal(size=(*batch, length, 4)).astype(dtype)
    grad_weights = rng.normal(size=(*batch, length, source)).astype(dtype)
    need = (True, True, True, mask is not None and mask.dtype.kind == "f")
    threads = extra.get("threads", 1)
    got = _attention(True, (q, k, v, mask, keep), options, grad_out, grad_weights, threads,
                     need)
    want = _attention(False, (q, k, v, mask, keep), options, grad_out, grad_weights, threads,
                      need)
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.dtype == w.dtype and g.shape == w.shape
            finite = np.abs(w[np.isfinite(w)])
            scale = max(1.0, float(finite.max())) if finite.size else 1.0
            np.testing.assert_allclose(g, w, rtol=tol["rtol"], atol=tol["atol"] * scale)


@needs_numba
def test_attention_uses_the_compiled_pass_for_float32_only(monkeypatch):
    calls = []
    original = numba_softmax.exp_keys
    monkeypatch.setattr(numba_softmax, "exp_keys",
                        lambda *a, **kw: calls.append(a[0].dtype) or original(*a, **kw))
    b = xpnet.backend.load("numpy")
    forward = get_kernel("attention_forward", b, fast_paths=True)
    for dtype in ("float32", "float64"):
        q = np.ones((2, 3, 4), dtype=dtype)
        forward(np, q, q, q, None, None, scale=0.5, drop_scale=1.0, empty_rows="zero",
                need_weights=False)
    assert calls and set(calls) == {np.dtype("float32")}
