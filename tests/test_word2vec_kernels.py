"""The word2vec kernels: the generic twins against a plain per-row NumPy reference on every backend,
and the NumPy (numba) fast paths against the twins: the row kernel on the same rows, the job
kernel on the same jobs and random draws."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import load as load_backend
from xpnet.backend.kernels import fast_path_families, get_kernel
from xpnet.backend.random import Generator
from xpnet.word2vec import training
from xpnet.word2vec.sampling import negative_draws_generic
from xpnet.word2vec.training import MAX_SUMMED_STEPS, train_job_generic, train_rows_generic


def _sequential_reference(syn0, syn1, context, context_weight, error_weight, target, label, mask,
                          alpha):
    """gensim's update, one row after another, in float64 (the oracle)."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    loss = 0.0
    for r in range(context.shape[0]):
        hidden = (context_weight[r, :, None] * syn0[context[r]]).sum(axis=0)
        grad_hidden = np.zeros_like(hidden)
        for t in range(target.shape[1]):
            if not mask[r, t]:
                continue
            f = hidden @ syn1[target[r, t]]
            if abs(f) >= 6:
                continue
            sigmoid = 1 / (1 + np.exp(-f))
            loss += -np.log(sigmoid if label[r, t] else 1 - sigmoid)
            g = (label[r, t] - sigmoid) * alpha
            grad_hidden += g * syn1[target[r, t]]
            syn1[target[r, t]] += g * hidden
        for c in range(context.shape[1]):
            syn0[context[r, c]] += error_weight[r, c] * grad_hidden
    return syn0, syn1, loss


def _rows(seed, *, rows=6, width=1, outputs=4, vocab=64, size=8, distinct=True):
    """Random training rows; with ``distinct`` no syn0 row and no syn1 row is used twice, so
    simultaneous and sequential updates agree."""
    rng = np.random.default_rng(seed)
    syn0 = rng.uniform(-0.5, 0.5, (vocab, size)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, (vocab, size)).astype(np.float32)
    if distinct:
        context = rng.permutation(vocab)[:rows * width].reshape(rows, width)
        target = rng.permutation(vocab)[:rows * outputs].reshape(rows, outputs)
    elif distinct is None:  # rows share words, but no row names an output twice
        context = rng.integers(0, 3, (rows, width))
        target = np.stack([rng.permutation(outputs + 1)[:outputs] for _ in range(rows)])
    else:
        context = rng.integers(0, 3, (rows, width))
        target = rng.integers(0, 3, (rows, outputs))
    context_weight = rng.uniform(0.2, 1.0, (rows, width)).astype(np.float32)
    error_weight = rng.uniform(0.2, 1.0, (rows, width)).astype(np.float32)
    label = (rng.random((rows, outputs)) < 0.4).astype(np.float32)
    mask = (rng.random((rows, outputs)) < 0.8).astype(np.float32)
    return [syn0, syn1, context.astype(np.int64), context_weight, error_weight,
            target.astype(np.int64), label, mask]


SHAPES = {"skip-gram": {"width": 1, "outputs": 6}, "cbow": {"width": 4, "outputs": 6},
          "hs": {"width": 1, "outputs": 3}}


@pytest.mark.parametrize("shape", SHAPES)
def test_twin_matches_the_sequential_reference_on_distinct_rows(backend, shape):
    arrays = _rows(1, **SHAPES[shape])
    b = load_backend(backend)
    # Copies: the twin updates the tables in place where the backend allows it.
    got0, got1, loss = train_rows_generic(b.xp, *(b.asarray(a, copy=True) for a in arrays),
                                          alpha=0.5, batch_size=64, compute_loss=True)
    want0, want1, want_loss = _sequential_reference(*arrays, alpha=0.5)
    assert xpnet.backend.backend_of_array(got0) is b and xpnet.backend.backend_of_array(got1) is b
    np.testing.assert_allclose(b.to_numpy(got0), want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.to_numpy(got1), want1, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)


def test_twin_with_batch_size_one_is_sequential_across_rows_that_share_words():
    # Within one row the twin updates the outputs together; gensim goes through them in turn,
    # which differs only when a row names the same output twice (a repeated negative draw).
    arrays = _rows(2, distinct=None, width=2, outputs=3)
    b = load_backend("numpy")
    got0, got1, _ = train_rows_generic(b.xp, *(a.copy() for a in arrays), alpha=0.3,
                                       batch_size=1)
    want0, want1, _ = _sequential_reference(*arrays, alpha=0.3)
    np.testing.assert_allclose(got0, want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got1, want1, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("repeats, steps", [(16, 16), (64, MAX_SUMMED_STEPS)])
def test_twin_caps_the_summed_steps_of_a_repeated_row(repeats, steps):
    syn0, syn1, context, context_weight, error_weight, target, label, mask = _rows(
        6, rows=1, width=1, outputs=1)
    mask[...] = 1
    b = load_backend("numpy")
    one0, one1, _ = train_rows_generic(b.xp, syn0.copy(), syn1.copy(), context, context_weight,
                                       error_weight, target, label, mask, alpha=0.01,
                                       batch_size=1)
    copies = [np.repeat(a, repeats, axis=0) for a in (context, context_weight, error_weight,
                                                      target, label, mask)]
    many0, many1, _ = train_rows_generic(b.xp, syn0.copy(), syn1.copy(), *copies, alpha=0.01,
                                         batch_size=repeats)
    np.testing.assert_allclose(many0 - syn0, steps * (one0 - syn0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(many1 - syn1, steps * (one1 - syn1), rtol=1e-4, atol=1e-6)


def test_twin_reads_and_writes_only_the_rows_a_minibatch_uses(backend, monkeypatch):
    # A 50,000-row table and 8 rows of training: every scatter-add is sized by the minibatch's
    # distinct rows, where the assigning backends write them in place; strict, which cannot
    # assign rows, adds one dense scatter per table and minibatch.
    b = load_backend(backend)
    arrays = _rows(8, rows=8, width=2, outputs=3, vocab=50_000, size=4)
    sizes = []
    scatter = training.get_kernel("scatter_add", b)

    def recording_get_kernel(name, kernel_backend):
        assert name == "scatter_add"
        return lambda xp, index, values, size: sizes.append(size) or scatter(xp, index, values,
                                                                             size)

    monkeypatch.setattr(training, "get_kernel", recording_get_kernel)
    syn0, syn1 = b.asarray(arrays[0], copy=True), b.asarray(arrays[1], copy=True)
    got0, got1, _ = train_rows_generic(b.xp, syn0, syn1, *(b.asarray(a) for a in arrays[2:]),
                                       alpha=0.5, batch_size=4)
    dense = 0 if training._assigns_rows(b.xp) else 50_000
    assert sizes and all(size <= 4 * 3 or size == dense for size in sizes)
    assert sizes.count(dense) <= 4  # two tables, two minibatches
    if dense == 0:
        assert got0 is syn0 and got1 is syn1
    want0, want1, _ = _sequential_reference(*arrays, alpha=0.5)
    np.testing.assert_allclose(b.to_numpy(got0), want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.to_numpy(got1), want1, rtol=1e-5, atol=1e-6)


def test_saturated_predictions_are_skipped_as_in_gensim():
    arrays = _rows(7, rows=4, width=1, outputs=2)
    # Row 0: f = context_weight * 10 * 8 >= 16 for both outputs, so nothing of it applies.
    arrays[0][arrays[2][0, 0]] = 10
    arrays[1][arrays[5][0, :]] = 1
    kernels = [train_rows_generic]
    if "numpy" in fast_path_families("word2vec_train_rows"):
        kernels.append(get_kernel("word2vec_train_rows", load_backend("numpy"), fast_paths=True))
    import array_api_compat.numpy as xp
    want0, want1, want_loss = _sequential_reference(*arrays, alpha=0.5)
    for kernel in kernels:
        got0, got1, loss = kernel(xp, *(a.copy() for a in arrays), alpha=0.5, batch_size=8,
                                  compute_loss=True)
        np.testing.assert_array_equal(got0[arrays[2][0, 0]], arrays[0][arrays[2][0, 0]])
        np.testing.assert_allclose(got0, want0, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got1, want1, rtol=1e-5, atol=1e-6)
        assert loss == pytest.approx(want_loss, rel=1e-5)


def test_negative_draws_twin_is_the_left_insertion_point(backend):
    b = load_backend(backend)
    table = np.array([3, 3, 10, 11, 40], dtype=np.int64)  # word 1 has zero probability
    draws = np.array([[0, 2, 3], [4, 10, 39]], dtype=np.int64)
    got = negative_draws_generic(b.xp, b.asarray(table), b.asarray(draws))
    np.testing.assert_array_equal(b.to_numpy(got), [[0, 0, 0], [2, 2, 4]])


def _numpy_fast_path(name):
    pytest.importorskip("numba", reason="the NumPy word2vec fast paths need numba "
                                        "(pip install 'xpnet[fast]')")
    assert "numpy" in fast_path_families(name)
    return get_kernel(name, load_backend("numpy"), fast_paths=True)


@pytest.mark.parametrize("shape", SHAPES)
def test_numpy_fast_path_matches_twin_on_distinct_rows(shape):
    fast = _numpy_fast_path("word2vec_train_rows")
    assert fast is not train_rows_generic
    arrays = _rows(3, rows=8, **SHAPES[shape])
    import array_api_compat.numpy as xp
    want0, want1, want_loss = train_rows_generic(xp, *(a.copy() for a in arrays), alpha=0.25,
                                                 batch_size=64, compute_loss=True)
    got0, got1, loss = fast(xp, *(a.copy() for a in arrays), alpha=0.25, batch_size=64,
                            compute_loss=True)
    np.testing.assert_allclose(got0, want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got1, want1, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)


def test_numpy_fast_path_is_sequential_with_repeats():
    fast = _numpy_fast_path("word2vec_train_rows")
    arrays = _rows(4, distinct=False, width=3, outputs=4)
    import array_api_compat.numpy as xp
    got0, got1, _ = fast(xp, *(a.copy() for a in arrays), alpha=0.3, batch_size=64)
    want0, want1, _ = _sequential_reference(*arrays, alpha=0.3)
    np.testing.assert_allclose(got0, want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got1, want1, rtol=1e-5, atol=1e-6)


def test_numpy_negative_draws_fast_path_matches_twin():
    fast = _numpy_fast_path("word2vec_negative_draws")
    rng = np.random.default_rng(5)
    counts = np.concatenate([[5000, 1], rng.integers(1, 300, 500), [1, 1, 1]])
    from xpnet.word2vec.vocab import cumulative_table
    table = np.array(cumulative_table(counts.tolist()), dtype=np.int64)
    edges = np.concatenate([table[:-1], table[:-1] - 1, table[:-1] + 1, [0, table[-1] - 1]])
    draws = np.concatenate([rng.integers(0, table[-1], 20000), edges]).reshape(-1, 2)
    import array_api_compat.numpy as xp
    np.testing.assert_array_equal(fast(xp, table, draws), negative_draws_generic(xp, table, draws))


def test_fast_path_skips_saturation_at_the_twins_threshold():
    pytest.importorskip("numba", reason="the NumPy word2vec fast paths need numba")
    from xpnet.backend.kernels import word2vec_kernels
    from xpnet.word2vec import training
    assert word2vec_kernels.MAX_EXP == training.MAX_EXP == 6.0


def test_fast_paths_off_gives_the_twins():
    b = load_backend("numpy")
    with xpnet.use_fast_paths(False):
        assert get_kernel("word2vec_train_rows", b) is train_rows_generic
        assert get_kernel("word2vec_negative_draws", b) is negative_draws_generic
        assert get_kernel("word2vec_train_job", b) is train_job_generic


# -- the job kernel --------------------------------------------------------------------------------

JOB_MODES = {"sg-ns": {"sg": 1, "hs": 0, "negative": 5},
             "cbow-ns": {"sg": 0, "hs": 0, "negative": 5},
             "sg-hs": {"sg": 1, "hs": 1, "negative": 0},
             "cbow-sum-both": {"sg": 0, "hs": 1, "negative": 3, "cbow_mean": 0},
             "sg-fixed-windows": {"sg": 1, "hs": 0, "negative": 2, "shrink_windows": False}}


def _job(mode, lockf=False, **settings):
    """A model's sampler, weights and one job of lee_background (about 2,000 words, 6% of them
    outside the vocabulary), and a lockf that freezes every seventh word if asked."""
    from gensim.test.utils import datapath

    from xpnet.word2vec import Word2Vec
    from xpnet.word2vec.corpus import LineSentence

    corpus = list(LineSentence(datapath("lee_background.cor")))[:40]
    model = Word2Vec(vector_size=12, window=3, min_count=2, seed=3, **{**JOB_MODES[mode],
                                                                      **settings})
    model.build_vocab(corpus)
    b = model.wv.backend
    rng = np.random.default_rng(0)
    weights = [b.to_numpy(model.wv.vectors)] + [
        None if a is None else rng.uniform(-0.3, 0.3, (len(model.wv), 12)).astype(np.float32)
        for a in (model.syn1neg, model.syn1)]
    words, lengths, _, _ = next(training.jobs(corpus, model.wv.key_to_index, 2000, "test"))
    factors = None
    if lockf:
        factors = np.ones(len(model.wv), dtype=np.float32)
        factors[::7] = 0.0
    return (model._row_sampler(), weights, np.asarray(words, dtype=np.int64),
            np.asarray(lengths, dtype=np.int64), factors)


def _copies(weights):
    return [None if a is None else a.copy() for a in weights]


@pytest.mark.parametrize("mode", [*JOB_MODES, "sg-ns-lockf", "cbow-sum-both-lockf"])
def test_numpy_job_fast_path_matches_the_twin_given_its_draws(mode):
    # The twin's rows (its own draws) through the sequential row kernel, against the job kernel
    # replaying the same draws: downsampling, windows, negatives and lockf give the same
    # updates in the same order.
    fast = _numpy_fast_path("word2vec_train_job")
    sampler, weights, words, lengths, lockf = _job(mode.removesuffix("-lockf"),
                                                   lockf=mode.endswith("-lockf"))
    import array_api_compat.numpy as xp
    seed = 11
    want = train_job_generic(xp, sampler, *_copies(weights), lockf, words, lengths, alpha=0.1,
                             seed=seed, compute_loss=True)
    # The same draws, in the twin's order: downsampling, windows, then negatives per row.
    known = words[words >= 0]
    ends = np.cumsum(lengths)
    sentence = np.searchsorted(ends, np.arange(words.shape[0]), side="right")[words >= 0]
    _, ns, effective = sampler.job_rows(known, sentence, lengths.shape[0], seed=seed)
    generator = np.random.default_rng(seed)
    subsample = generator.integers(0, 2**32, known.shape[0])
    windows = (generator.integers(0, sampler.window, effective) if sampler.shrink_windows
               else np.zeros(0, dtype=np.int64))
    negatives = (generator.integers(0, sampler.cum_total, (ns.target.shape[0], sampler.negative))
                 if ns is not None else np.zeros(0, dtype=np.int64))
    assert 0 < effective < known.shape[0]  # downsampling drew and dropped some words
    got = fast(xp, sampler, *_copies(weights), lockf, words, lengths, alpha=0.1, seed=seed,
               compute_loss=True, draws=(subsample, windows, negatives))
    assert got[0] == want[0] == effective
    for name, a, b, before in zip(("syn0", "syn1neg", "syn1"), got[1:4], want[1:4], weights):
        if before is None:
            assert a is None and b is None
            continue
        assert np.abs(a - before).max() > 1e-3, name  # it trained
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)
    assert got[4] == pytest.approx(want[4], rel=1e-5)
    if lockf is not None:
        frozen = lockf == 0
        np.testing.assert_array_equal(got[1][frozen], weights[0][frozen])


def test_numpy_job_fast_path_draws_like_the_twin():
    # With its own generator: the same seed gives the same job, and as many words survive
    # downsampling as with the twin's draws (about 1,075 of 1,495, seed to seed spread ~10).
    fast = _numpy_fast_path("word2vec_train_job")
    sampler, weights, words, lengths, _ = _job("sg-ns")
    import array_api_compat.numpy as xp
    runs = [fast(xp, sampler, *_copies(weights), None, words, lengths, alpha=0.1, seed=seed)
            for seed in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert np.abs(runs[0][1] - runs[2][1]).max() > 1e-4
    twin = [train_job_generic(xp, sampler, *_copies(weights), None, words, lengths, alpha=0.1,
                              seed=seed)[0] for seed in range(5)]
    assert abs(np.mean([r[0] for r in runs]) - np.mean(twin)) < 40
