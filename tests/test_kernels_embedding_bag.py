"""The embedding-bag kernels (ops/embedding.py's twins, the numba fast paths in
backend/kernels/numba_embedding_bag.py): the fast paths against the twins for sum, mean and
max, per-sample weights, padding, empty bags and bags of lengths 0 to 9, rows narrower than a
vector and rows of whole vectors, single vectors and columns left over (numba_row_sums),
float32 and float64, on one and two threads; F.embedding_bag's values and gradients
with fast paths on and off; the sparse backward's rows, the embedding lookup's rows
(``take_rows``) and the operand checks' kernels."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet.backend import load
from xpnet.backend.kernels import fast_path_families, get_kernel

V, D = 13, 6
# Row widths for the sums' vectors: 85 float32 columns are 64 + 16 + 5 (four vectors, one,
# five columns alone), float64 32 + 32 + 16 + 5; 6 is narrower than any vector.
WIDTHS = [D, 85]
# name: (flat indices, bag starts); bags of every length from 0 to 9.
BAGS = {
    "lengths 0 to 9": (np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2,
                                 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 0, 2, 8, 8, 4, 1, 9, 7, 1, 6, 9, 3,
                                 9, 9]),
                       np.array([0, 0, 1, 3, 6, 10, 15, 21, 28, 36])),
    "empty last bags": (np.array([2, 2, 7, 0, 11]), np.array([0, 3, 5, 5])),
    "no input": (np.array([], dtype=np.int64), np.array([0, 0])),
    "no bags": (np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
}
PADDING = {"no padding": None, "padding 9": 9, "padding 3": 3}  # 3: several in a bag


def _operands(b, case, dtype, weights, width=D):
    flat, starts = BAGS[case]
    rng = np.random.default_rng(7)
    weight = rng.standard_normal((V, width)).astype(dtype)
    psw = rng.uniform(0.5, 2.0, flat.shape[0]).astype(dtype) if weights else None
    return (b.asarray(weight), b.asarray(flat, dtype="int64"), b.asarray(starts, dtype="int64"),
            None if psw is None else b.asarray(psw))


def _close(got, want, dtype):
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), **tol)


def _split_work(monkeypatch, family):
    """Blocks even for these tiny inputs, so that two threads share them."""
    if family == "numpy":
        from xpnet.backend.kernels import numba_embedding_bag
        monkeypatch.setattr(numba_embedding_bag, "_PARALLEL_FROM", 0)


@pytest.mark.parametrize("family", fast_path_families("embedding_bag_forward"))
@pytest.mark.parametrize("case", list(BAGS))
@pytest.mark.parametrize("mode", ["sum", "mean", "weighted sum"])
@pytest.mark.parametrize("padding", list(PADDING))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("width", WIDTHS)
def test_sum_and_mean_fast_paths_match_the_twin(family, case, mode, padding, dtype, threads,
                                                width, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _split_work(monkeypatch, family)
    b = load(family)
    weight, flat, starts, psw = _operands(b, case, dtype, mode == "weighted sum", width)
    options = dict(mean=mode == "mean", padding_idx=PADDING[padding], backend=b)
    fast = get_kernel("embedding_bag_forward", b, fast_paths=True)
    twin = get_kernel("embedding_bag_forward", b, fast_paths=False)
    assert fast is not twin
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        got = fast(b.xp, weight, flat, starts, psw, **options)
        alone = fast(b.xp, weight, flat, starts, psw, save=False, **options)[0]
    want = twin(b.xp, weight, flat, starts, psw, **options)
    assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
    _close(got[0], want[0], dtype)
    _close(alone, want[0], dtype)
    np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(want[1]))  # bag_of
    for g, w in zip(got[2:], want[2:]):  # scale, mask
        assert g.dtype == w.dtype
        _close(g, w, dtype)


@pytest.mark.parametrize("family", fast_path_families("embedding_bag_max_forward"))
@pytest.mark.parametrize("case", [c for c in BAGS if BAGS[c][0].size])
@pytest.mark.parametrize("padding", list(PADDING))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_max_fast_path_matches_the_twin(family, case, padding, dtype, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _split_work(monkeypatch, family)
    b = load(family)
    weight, flat, starts, _ = _operands(b, case, dtype, False)
    if case == "lengths 0 to 9":  # ties: rows 1 and 4 equal, so the earlier entry must win
        weight[4, ...] = weight[1, ...]
    options = dict(padding_idx=PADDING[padding], backend=b)
    fast = get_kernel("embedding_bag_max_forward", b, fast_paths=True)
    twin = get_kernel("embedding_bag_max_forward", b, fast_paths=False)
    assert fast is not twin
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        out, winner, filled = fast(b.xp, weight, flat, starts, **options)
    want_out, want_winner, want_filled = twin(b.xp, weight, flat, starts, **options)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(want_out))  # no arithmetic
    np.testing.assert_array_equal(np.asarray(filled), np.asarray(want_filled))
    # Which entry won matters only where a bag has one (the backward masks the others).
    rows = np.asarray(filled)
    np.testing.assert_array_equal(np.asarray(winner)[rows], np.asarray(want_winner)[rows])


@pytest.mark.parametrize("threads", [2, 3, 8])
@pytest.mark.parametrize("case", list(BAGS)[:2] + ["one long bag", "zipf"])
def test_bag_blocks_cut_by_entries_without_splitting_a_bag(threads, case):
    """The threads' blocks of contiguous bags: cut at the first bag starting at or after
    each k/threads of the entries, never at bag 0 or past the last, a repeated cut once;
    numbered in order, covering every bag."""
    numba_embedding_bag = pytest.importorskip("xpnet.backend.kernels.numba_embedding_bag")
    if numba_embedding_bag.numba is None:
        pytest.skip("numba not installed (the fast extra)")
    if case == "one long bag":
        starts, entries = np.array([0, 1, 2, 3, 100]), 101
    elif case == "zipf":
        rng = np.random.default_rng(0)
        starts = np.concatenate(([0], np.sort(rng.choice(np.arange(1, 8192), 511,
                                                         replace=False))))
        entries = 8192
    else:
        starts = BAGS[case][1]
        entries = BAGS[case][0].size
    bounds = numba_embedding_bag._bag_bounds(starts.astype(np.int64), entries, threads)
    cuts = []
    for k in range(1, threads):
        cut = int(np.argmax(np.append(starts, entries + 1) >= entries * k // threads))
        if 0 < cut < starts.size and cut not in cuts:
            cuts.append(cut)
    edges = [0, *cuts, starts.size]
    want = [(edges[k], edges[k + 1], k) for k in range(len(edges) - 1)]
    assert bounds.tolist() == [list(row) for row in want]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 3}, {"sparse": True},
                                     {"per_sample_weights": True}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_bag_is_the_same_with_fast_paths_on_and_off(mode, options, dtype):
    if mode == "max" and options.get("sparse"):
        pytest.skip("max has no sparse gradient (as in PyTorch)")
    if options.get("per_sample_weights") and mode != "sum":
        pytest.skip("per-sample weights only with mode='sum' (as in PyTorch)")
    flat, starts = BAGS["lengths 0 to 9"]
    rng = np.random.default_rng(11)
    weight = rng.standard_normal((V, D)).astype(dtype)
    grad = rng.standard_normal((starts.shape[0], D)).astype(dtype)
    psw = rng.uniform(0.5, 2.0, flat.shape[0]).astype(dtype)
    results = []
    for fast in (True, False):
        w = xpnet.tensor(weight, requires_grad=True)
        p = xpnet.tensor(psw, requires_grad=True) if options.get("per_sample_weights") else None
        kwargs = {**options, "per_sample_weights": p}
        with xpnet.use_fast_paths(fast):
            out = F.embedding_bag(xpnet.tensor(flat), w, xpnet.tensor(starts), mode=mode,
                                  **kwargs)
            with xpnet.no_grad():
                alone = F.embedding_bag(xpnet.tensor(flat), w, xpnet.tensor(starts), mode=mode,
                                        **kwargs)
            out.backward(xpnet.tensor(grad))
        g = w.grad.to_dense() if options.get("sparse") else w.grad
        results.append((out.numpy(), alone.numpy(), g.numpy(),
                        None if p is None else p.grad.numpy()))
    (out, alone, g, pg), (want_out, want_alone, want_g, want_pg) = results
    _close(out, want_out, dtype)
    _close(alone, want_out, dtype)
    _close(g, want_g, dtype)
    if pg is not None:
        _close(pg, want_pg, dtype)


@pytest.mark.parametrize("family", fast_path_families("gather_scale_rows"))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_gather_scale_rows_fast_path_matches_the_twin(family, dtype, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _split_work(monkeypatch, family)
    b = load(family)
    rng = np.random.default_rng(5)
    source = b.asarray(rng.standard_normal((4, D)).astype(dtype))
    index = b.asarray(np.array([3, 0, 0, 2, 3, 1, 1]), dtype="int64")
    scale = b.asarray(np.array([0.5, 0, 1, 2, -1, 0.25, 3]).astype(dtype))
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        got = get_kernel("gather_scale_rows", b, fast_paths=True)(b.xp, source, index, scale)
    want = get_kernel("gather_scale_rows", b, fast_paths=False)(b.xp, source, index, scale)
    assert got.dtype == want.dtype and got.shape == want.shape == (7, D)
    _close(got, want, dtype)


@pytest.mark.parametrize("family", fast_path_families("index_range"))
@pytest.mark.parametrize("values", [[7], [3, -2, 9, 0], [[4, 4], [1, 12]]])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_index_range_fast_path_matches_the_twin(family, values, dtype):
    if dtype == "uint8" and np.min(values) < 0:
        pytest.skip("no negative uint8")
    b = load(family)
    data = b.asarray(np.array(values), dtype=dtype)
    got = get_kernel("index_range", b, fast_paths=True)(b.xp, data)
    assert got == get_kernel("index_range", b, fast_paths=False)(b.xp, data)
    assert got == (int(np.min(values)), int(np.max(values)))
    assert all(type(v) is int for v in got)


@pytest.mark.parametrize("family", fast_path_families("first_decrease"))
@pytest.mark.parametrize("values, at", [([], -1), ([0], -1), ([0, 2, 2, 5], -1),
                                        ([0, 3, 1, 0], 1), ([0, 0, 4, 2], 2)])
def test_first_decrease_fast_path_matches_the_twin(family, values, at):
    b = load(family)
    data = b.asarray(np.array(values, dtype=np.int64), dtype="int64")
    assert get_kernel("first_decrease", b, fast_paths=True)(b.xp, data) == at
    assert get_kernel("first_decrease", b, fast_paths=False)(b.xp, data) == at


@pytest.mark.parametrize("family", fast_path_families("take_rows"))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("index_dtype", ["int32", "int64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_take_rows_fast_path_matches_the_twin(family, dtype, index_dtype, threads,
                                              monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _split_work(monkeypatch, family)
    b = load(family)
    table = b.asarray((np.random.default_rng(3).standard_normal((V, D)) * 10).astype(dtype))
    # (the longest reaches past the compiled loop's requests for rows ahead)
    for index in ([3, 0, 0, 12, 7, 3, 1], [5], [], list(range(V)) * 3 + [0]):
        index = b.asarray(np.array(index), dtype=index_dtype)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            got = get_kernel("take_rows", b, fast_paths=True)(b.xp, table, index)
        want = get_kernel("take_rows", b, fast_paths=False)(b.xp, table, index)
        assert got.dtype == want.dtype and got.shape == want.shape == (index.shape[0], D)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("bad", [-1, V])
def test_embedding_refuses_an_index_out_of_range_before_the_lookup(fast, bad):
    w = xpnet.tensor(np.ones((V, D), dtype="float32"))
    with xpnet.use_fast_paths(fast), pytest.raises(
            IndexError, match=rf"embedding: indices must be in \[0, {V}\) \(num_embeddings\), "
                              rf"got values in \[{min(bad, 0)}, {max(bad, 2)}\]"):
        F.embedding(xpnet.tensor([0, bad, 2]), w)
