"""Word vectors as good as gensim's: same corpus, same settings, scores averaged over 3 seeds.

The corpus is gensim's ``head500.noblanks.cor`` (331,339 words of Wikipedia, lower-cased and
Porter-stemmed). The evaluation sets hold whole words, so they are stemmed the same way first
(``examples/word2vec_demo.py``), which keeps 274 of WordSim-353's pairs, 737 of SimLex-999's and
5,975 analogy questions in the vocabulary (96, 348 and 1,077 unstemmed).

Settings were chosen on gensim's own numbers so that every score is clearly above chance and
still moving with training (so a slower or faster learner shows): gensim's defaults, with the C
tool's alpha 0.05 for CBOW (at 0.025 CBOW with negative sampling reaches only ~14 on WordSim
in 5 epochs), and 3 epochs for skip-gram, the slow mode, to keep the test near a minute and a half.
Calibration, gensim 4.4 (workers=2, seeds 1-3, means of two runs; the test itself compares
with workers=1, see below), WordSim / SimLex / analogy %:
CBOW+NS 5 epochs ~37 / ~11 / ~1.8; CBOW+HS 5 epochs ~55 / ~21 / ~1.6;
skip-gram+NS 3 epochs ~24 / ~5 / ~1.5; skip-gram+HS 3 epochs ~58 / ~26 / ~3.2.
Both models are scored by xpnet's evaluation code (checked against gensim's on gensim's vectors
for one seed): gensim's own analogy evaluation costs 15-30 s of CPU per model here.

The bar (issue 6): xpnet's mean over the seeds within 2 points of gensim's mean, or within the
spread (max - min) of gensim's own three scores where that is larger. xpnet trains with
``workers=2`` (issue 13: two threads updating the weights without locks, the setting its speed
is compared at), gensim with one worker, the only gensim run a seed reproduces.

CBOW with hierarchical softmax is compared on common random numbers. With gensim's shrinking
windows its WordSim score swings with the window draws (sd ~1.6 per seed in both libraries;
~0.2 with fixed windows), and three seeds of each decide little: over 100 seeds (issue 13,
workers=1) gensim scores 54.6 (50.6-59.4) and xpnet 54.1 (50.9-58.2), with workers=2 gensim 54.5
and xpnet 54.2 (49.2-58.6, 96 seeds), yet seeds 1-3 alone give gensim 56.2 and xpnet 52.4.
Given the same random numbers the two train the same model: xpnet fed gensim's draws (the job
kernel's ``draws=``; `_GensimDraws` makes them) keeps exactly gensim's words, with gensim's
sigmoid table matches its weights to ~1e-3 after an epoch (downsampling off), and with its own
exact sigmoid matches its scores seed by seed (seeds 1-24, xpnet minus gensim: WordSim +0.17 +-
0.21, largest 0.63; SimLex 0.00 +- 0.11; analogy 0.01 +- 0.08; means of three seeds within
0.34, 0.07 and 0.12). So in this mode xpnet trains through its own ``train()`` (one worker, so
the jobs draw in gensim's order) on gensim's draws, and the bar is `PAIRED_TOLERANCE` on the
mean of the per-seed gaps: a sharper check than the bar above, with gensim's default windows.
The other three modes compare xpnet's own draws with two workers. WordSim and SimLex are the
scores that tell models apart here; the analogy accuracy is low on a corpus this small (both
libraries find 1-3% of 5,975 questions, far above the 1/8,000 of chance but a loose check).
"""

from __future__ import annotations

import pathlib
import statistics
import sys

import numpy as np
import pytest

import xpnet

pytest.importorskip("gensim", reason="gensim is the reference (test extra)")
from gensim.models import Word2Vec as GensimWord2Vec  # noqa: E402

from xpnet.backend.kernels import fast_path_families  # noqa: E402
from xpnet.word2vec import KeyedVectors, Word2Vec, training  # noqa: E402
from xpnet.word2vec.corpus import MAX_WORDS_IN_BATCH  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
SEEDS = (1, 2, 3)
COMMON = {"vector_size": 100, "window": 5, "min_count": 5, "sample": 1e-3}
# mode -> (settings, epochs)
MODES = {
    "cbow-ns": ({"sg": 0, "hs": 0, "negative": 5, "alpha": 0.05}, 5),
    "cbow-hs": ({"sg": 0, "hs": 1, "negative": 0, "alpha": 0.05}, 5),
    "sg-ns": ({"sg": 1, "hs": 0, "negative": 5, "alpha": 0.025}, 3),
    "sg-hs": ({"sg": 1, "hs": 1, "negative": 0, "alpha": 0.025}, 3),
}
METRICS = ("wordsim353", "simlex999", "questions-words")
# Modes compared on common random numbers (see the note above): xpnet trains on gensim's draws,
# so the seed-to-seed swing is the same in both and the scores are compared seed by seed.
PAIRED = {"cbow-hs"}
# The bar of a paired mode: the mean of the per-seed gaps within these (WordSim and SimLex
# x100, analogy %): three times the largest three-seed gap of seeds 1-24 or more (the note
# above).
PAIRED_TOLERANCE = {"wordsim353": 1.0, "simlex999": 0.5, "questions-words": 0.3}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The head500 corpus and the evaluation sets stemmed like it."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import word2vec_demo
    finally:
        sys.path.remove(str(EXAMPLES))
    folder = tmp_path_factory.mktemp("stemmed")
    return word2vec_demo.load_corpus("head500"), word2vec_demo.evaluation_files("head500",
                                                                                str(folder))


def _as_xpnet(gensim_wv):
    wv = KeyedVectors(gensim_wv.vector_size, backend="numpy")
    wv.add_vectors(list(gensim_wv.index_to_key), gensim_wv.vectors)
    return wv


def _scores(wv, files):
    """WordSim-353 and SimLex-999 Spearman x100 and analogy accuracy x100 (xpnet's evaluation
    of an xpnet KeyedVectors)."""
    ws = 100 * float(wv.evaluate_word_pairs(files["wordsim353"])[1][0])
    sl = 100 * float(wv.evaluate_word_pairs(files["simlex999"])[1][0])
    analogy = 100 * float(wv.evaluate_word_analogies(files["questions-words"])[0])
    return dict(zip(METRICS, (ws, sl, analogy)))


# gensim 4's random numbers, as train_batch_cbow draws them for hierarchical softmax. Per job:
# with downsampling on, two numbers from model.random (numpy's RandomState(seed)) seed a
# linear congruential generator (the C tool's multiplier and increment, modulo 2**48 as
# java.util.Random), whose successive states, shifted right by 16, are the downsampling draws,
# one per in-vocabulary word; then model.random.randint(0, window, kept) gives each kept word
# its window reduction b (it looks window - b words each way).
_LCG_MULTIPLIER, _LCG_INCREMENT, _LCG_MASK = 25214903917, 11, 2**48 - 1


def _lcg_jumps(n):
    """(A, C) with state_k = (A[k] * state_0 + C[k]) mod 2**48 for k < n, as uint64 arrays."""
    multipliers, increments, a, c = [], [], 1, 0
    for _ in range(n):
        multipliers.append(a)
        increments.append(c)
        a, c = a * _LCG_MULTIPLIER & _LCG_MASK, (c * _LCG_MULTIPLIER + _LCG_INCREMENT) & _LCG_MASK
    return np.array(multipliers, dtype=np.uint64), np.array(increments, dtype=np.uint64)


class _GensimDraws:
    """Hands xpnet's compiled job kernel (its ``draws=`` argument) the random numbers gensim
    draws for the same job, job after job; ``workers=1`` keeps the jobs in corpus order."""

    def __init__(self, seed, window, sample, sample_int, longest_job):
        self.random = np.random.RandomState(seed)
        self.window, self.sample, self.sample_int = window, sample, sample_int
        self.jumps = _lcg_jumps(longest_job)

    def job(self, words):
        known = words[words >= 0]
        n = known.shape[0]
        if not self.sample:
            return (np.zeros(0, dtype=np.int64), self.random.randint(0, self.window, n),
                    np.zeros(0, dtype=np.int64))
        state = 2**24 * int(self.random.randint(0, 2**24)) + int(self.random.randint(0, 2**24))
        # A * state mod 2**48 in uint64 without overflow: 24-bit halves.
        low, high = np.uint64(state & 0xFFFFFF), np.uint64(state >> 24)
        a, c = self.jumps[0][:n], self.jumps[1][:n]
        a_low, a_high = a & np.uint64(0xFFFFFF), a >> np.uint64(24)
        cross = (a_high * low + a_low * high) & np.uint64(0xFFFFFF)
        states = (a_low * low + (cross << np.uint64(24)) + c) & np.uint64(_LCG_MASK)
        subsample = (states >> np.uint64(16)).astype(np.int64)
        kept = int(np.count_nonzero(self.sample_int[known] >= subsample))
        windows = self.random.randint(0, self.window, kept)
        return subsample, windows, np.zeros(0, dtype=np.int64)


def _train_on_gensims_draws(corpus, seed, epochs, settings, monkeypatch):
    """xpnet's Word2Vec trained through its own train() on gensim's random numbers for
    ``seed``; returns (model, words trained)."""
    model = Word2Vec(seed=seed, epochs=epochs, workers=1, progress=False, **settings)
    assert model.hs and not model.negative, "gensim's negative draws are not reproduced"
    model.build_vocab(corpus)
    draws = _GensimDraws(seed, model.window, model.sample,
                         np.asarray(model._sample_int, dtype=np.int64),
                         max(model.batch_words, MAX_WORDS_IN_BATCH))
    get_kernel = training.get_kernel

    def replaying_get_kernel(name, backend, **kwargs):
        kernel = get_kernel(name, backend, **kwargs)
        if name != "word2vec_train_job":
            return kernel

        def train_job(xp, sampler, syn0, syn1neg, syn1, lockf, words, lengths, *, seed,
                      **options):
            return kernel(xp, sampler, syn0, syn1neg, syn1, lockf, words, lengths, seed=seed,
                          draws=draws.job(np.asarray(words)), **options)
        return train_job

    with monkeypatch.context() as patch:
        patch.setattr(training, "get_kernel", replaying_get_kernel)
        trained, _ = model.train(corpus, total_examples=model.corpus_count, epochs=epochs)
    return model, trained


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_scores_match_gensim(mode, data, monkeypatch):
    corpus, files = data
    settings, epochs = MODES[mode]
    paired = mode in PAIRED
    if paired:
        pytest.importorskip("numba", reason="gensim's draws are given to the compiled job kernel")
        assert "numpy" in fast_path_families("word2vec_train_job")
    ours, theirs = [], []
    with xpnet.use_backend("numpy"):
        for seed in SEEDS:
            # One worker: gensim's sequential SGD, which is what xpnet trains, and the only
            # gensim run a seed reproduces (two threads update the same rows Hogwild-style, and
            # the scores move from run to run).
            reference = GensimWord2Vec(seed=seed, epochs=epochs, workers=1, **COMMON, **settings)
            reference.build_vocab(corpus)
            trained, _ = reference.train(corpus, total_examples=reference.corpus_count,
                                         epochs=epochs)
            if paired:
                model, ours_trained = _train_on_gensims_draws(corpus, seed, epochs,
                                                              {**COMMON, **settings}, monkeypatch)
                # Downsampling kept exactly gensim's words: the draws are in step.
                assert ours_trained == trained
            else:
                model = Word2Vec(corpus, seed=seed, epochs=epochs, workers=2, progress=False,
                                 **COMMON, **settings)
            ours.append(_scores(model.wv, files))
            # Both models are scored by the same code, xpnet's: gensim's own analogy evaluation
            # takes 15-30 s of CPU per model here (one most_similar call per question).
            theirs.append(_scores(_as_xpnet(reference.wv), files))
            if seed == SEEDS[0]:  # ... and that code agrees with gensim's on gensim's vectors
                own = 100 * float(reference.wv.evaluate_word_pairs(files["wordsim353"])[1][0])
                assert theirs[-1]["wordsim353"] == pytest.approx(own, abs=1e-3)
    draws = " on gensim's random numbers" if paired else ""
    table = [f"{mode}, {epochs} epochs{draws}: metric | xpnet per seed | gensim per seed"]
    failures = []
    for metric in METRICS:
        mine = [s[metric] for s in ours]
        reference_scores = [s[metric] for s in theirs]
        tolerance = (PAIRED_TOLERANCE[metric] if paired
                     else max(2.0, max(reference_scores) - min(reference_scores)))
        gap = statistics.fmean(mine) - statistics.fmean(reference_scores)
        table.append(f"  {metric}: {' '.join(f'{v:.2f}' for v in mine)} (mean "
                     f"{statistics.fmean(mine):.2f}) | "
                     f"{' '.join(f'{v:.2f}' for v in reference_scores)} (mean "
                     f"{statistics.fmean(reference_scores):.2f}) | gap {gap:+.2f}, "
                     f"tolerance {tolerance:.2f}")
        if abs(gap) > tolerance:
            failures.append(metric)
    print("\n".join(table))
    # gensim must itself be clearly above chance on WordSim, or the check says nothing
    # (calibrated: its lowest mean is ~24, skip-gram+NS; SimLex there, ~5, is a weak check).
    assert statistics.fmean(s["wordsim353"] for s in theirs) > 15, "\n".join(table)
    assert not failures, f"xpnet differs from gensim on {failures}:\n" + "\n".join(table)
