"""word2vec training: one epoch over gensim's Lee corpus (59,890 words), per mode and worker count;
and the standard-only kernel against the vocabulary size.

``Word2VecEpoch.time_epoch`` times one epoch of `Word2Vec.train` (the vocabulary is built in
setup) with 1 or 2 worker threads; ``track_words_per_second`` reports the same epoch as
thousands of raw corpus words per second, the unit gensim and the C tool print.
``Word2VecStandardKernel`` times the standard-only path (what CuPy and torch run, with their
scatter-add; NumPy with all its fast paths off) on a synthetic Zipf corpus over vocabularies of
10,000 and 200,000 words: its cost should follow the corpus, not the vocabulary.
``asv_benchmarks/word2vec_vs_gensim.py`` compares the speed with gensim's on a bigger corpus.
"""

import importlib.resources
import time

import numpy as np

import xpnet

from .bench_autograd import _activate

BACKENDS = ["numpy", "cupy"]
# name -> Word2Vec settings (gensim's defaults otherwise: vector_size 100, window 5, ...)
MODES = {
    "sg-ns": {"sg": 1, "hs": 0, "negative": 5},
    "cbow-ns": {"sg": 0, "hs": 0, "negative": 5},
    "sg-hs": {"sg": 1, "hs": 1, "negative": 0},
    "cbow-hs": {"sg": 0, "hs": 1, "negative": 0},
}


def _lee_corpus():
    try:
        path = importlib.resources.files("gensim") / "test" / "test_data" / "lee_background.cor"
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise NotImplementedError(f"the corpus ships with gensim: {e}") from None
    return [line.lower().split() for line in text.splitlines()]


def _zipf(vocabulary, words, seed=0):
    """({word: count} over ``vocabulary`` words, Zipf s=1, and sentences of 20 words drawn from
    it): every word is in the vocabulary, only the frequent ones occur in the corpus."""
    rng = np.random.default_rng(seed)
    probabilities = 1.0 / np.arange(1, vocabulary + 1)
    probabilities /= probabilities.sum()
    names = [f"w{i}" for i in range(vocabulary)]
    counts = np.maximum(1, np.round(probabilities * 10 * words)).astype(int)
    tokens = rng.choice(vocabulary, words, p=probabilities)
    corpus = [[names[i] for i in tokens[start:start + 20]] for start in range(0, words, 20)]
    return dict(zip(names, counts.tolist())), corpus


class _Epoch:
    def _epoch(self):
        self.model.train(self.corpus, total_examples=len(self.corpus), epochs=1)
        # Reading a value back waits for queued GPU work.
        self.model.wv.backend.to_numpy(self.model.wv.vectors[:1, ...])

    def teardown(self, *params):
        xpnet.set_backend(self._previous)

    def track_words_per_second(self, *params):
        start = time.perf_counter()
        self._epoch()
        return self.words / (time.perf_counter() - start) / 1e3

    track_words_per_second.unit = "k words/s"


class Word2VecEpoch(_Epoch):
    params = [BACKENDS, list(MODES), [1, 2]]
    param_names = ["backend", "mode", "workers"]
    timeout = 120

    def setup(self, backend, mode, workers):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        if workers > 1 and not backend.startswith("numpy"):
            raise NotImplementedError("worker threads train with the compiled NumPy path only")
        from xpnet.word2vec import Word2Vec

        self.corpus = _lee_corpus()
        self.words = sum(map(len, self.corpus))
        self.model = Word2Vec(seed=1, progress=False, workers=workers, **MODES[mode])
        self.model.build_vocab(self.corpus)
        self._epoch()  # compile the numba kernels before anything is timed

    def time_epoch(self, backend, mode, workers):
        self._epoch()


class Word2VecStandardKernel(_Epoch):
    params = [["numpy", "torch", "cupy"], ["sg-ns", "cbow-hs"], [10_000, 200_000]]
    param_names = ["backend", "mode", "vocabulary"]
    timeout = 300

    def setup(self, backend, mode, vocabulary):
        self._previous = xpnet.backend.active()
        _activate(backend)
        from xpnet.word2vec import Word2Vec

        counts, self.corpus = _zipf(vocabulary, 10_000)
        self.words = 10_000
        self.model = Word2Vec(seed=1, min_count=1, progress=False, workers=1, **MODES[mode])
        self.model.build_vocab_from_freq(counts, corpus_count=len(self.corpus))
        # NumPy's compiled word2vec kernels would replace the standard-only one.
        self._fast_paths = xpnet.use_fast_paths(not backend.startswith("numpy"))
        self._epoch()

    def teardown(self, backend, mode, vocabulary):
        if hasattr(self, "_fast_paths"):
            self._fast_paths.__exit__(None, None, None)
        super().teardown()

    def time_epoch(self, backend, mode, vocabulary):
        self._epoch()
