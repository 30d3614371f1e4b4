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
spread (max - min) of gensim's own three scores where that is larger. WordSim and SimLex are the
scores that tell models apart here; the analogy accuracy is low on a corpus this small (both
libraries find 1-3% of 5,975 questions, far above the 1/8,000 of chance but a loose check).
"""

from __future__ import annotations

import pathlib
import statistics
import sys

import pytest

import xpnet

pytest.importorskip("gensim", reason="gensim is the reference (test extra)")
from gensim.models import Word2Vec as GensimWord2Vec  # noqa: E402

from xpnet.word2vec import KeyedVectors, Word2Vec  # noqa: E402

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


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_scores_match_gensim(mode, data):
    corpus, files = data
    settings, epochs = MODES[mode]
    ours, theirs = [], []
    with xpnet.use_backend("numpy"):
        for seed in SEEDS:
            model = Word2Vec(corpus, seed=seed, epochs=epochs, progress=False, **COMMON,
                             **settings)
            ours.append(_scores(model.wv, files))
            # One worker: gensim's sequential SGD, which is what xpnet trains, and the only
            # gensim run a seed reproduces (two threads update the same rows Hogwild-style, and
            # the scores move from run to run).
            reference = GensimWord2Vec(corpus, seed=seed, epochs=epochs, workers=1, **COMMON,
                                       **settings)
            # Both models are scored by the same code, xpnet's: gensim's own analogy evaluation
            # takes 15-30 s of CPU per model here (one most_similar call per question).
            theirs.append(_scores(_as_xpnet(reference.wv), files))
            if seed == SEEDS[0]:  # ... and that code agrees with gensim's on gensim's vectors
                own = 100 * float(reference.wv.evaluate_word_pairs(files["wordsim353"])[1][0])
                assert theirs[-1]["wordsim353"] == pytest.approx(own, abs=1e-3)
    table = [f"{mode}, {epochs} epochs: metric | xpnet per seed | gensim per seed"]
    failures = []
    for metric in METRICS:
        mine = [s[metric] for s in ours]
        reference_scores = [s[metric] for s in theirs]
        tolerance = max(2.0, max(reference_scores) - min(reference_scores))
        gap = statistics.fmean(mine) - statistics.fmean(reference_scores)
        table.append(f"  {metric}: {' '.join(f'{v:.1f}' for v in mine)} (mean "
                     f"{statistics.fmean(mine):.1f}) | "
                     f"{' '.join(f'{v:.1f}' for v in reference_scores)} (mean "
                     f"{statistics.fmean(reference_scores):.1f}) | gap {gap:+.1f}, "
                     f"tolerance {tolerance:.1f}")
        if abs(gap) > tolerance:
            failures.append(metric)
    print("\n".join(table))
    # gensim must itself be clearly above chance on WordSim, or the check says nothing
    # (calibrated: its lowest mean is ~24, skip-gram+NS; SimLex there, ~5, is a weak check).
    assert statistics.fmean(s["wordsim353"] for s in theirs) > 15, "\n".join(table)
    assert not failures, f"xpnet differs from gensim on {failures}:\n" + "\n".join(table)
