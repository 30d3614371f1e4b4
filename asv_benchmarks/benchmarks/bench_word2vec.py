"""word2vec training: one epoch over gensim's Lee corpus (59,890 words), per mode.

``time_epoch`` times one epoch of `Word2Vec.train` (the vocabulary is built in setup);
``track_words_per_second`` reports the same epoch as thousands of raw corpus words per second,
the unit gensim and the C tool print. ``asv_benchmarks/word2vec_vs_gensim.py`` compares the
speed with gensim's on a bigger corpus.
"""

import importlib.resources
import time

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


class Word2VecEpoch:
    params = [BACKENDS, list(MODES)]
    param_names = ["backend", "mode"]
    timeout = 120

    def setup(self, backend, mode):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        from xpnet.word2vec import Word2Vec

        self.corpus = _lee_corpus()
        self.model = Word2Vec(seed=1, progress=False, **MODES[mode])
        self.model.build_vocab(self.corpus)
        self._epoch()  # compile the numba kernels before anything is timed

    def teardown(self, backend, mode):
        xpnet.set_backend(self._previous)

    def _epoch(self):
        self.model.train(self.corpus, total_examples=self.model.corpus_count, epochs=1)
        # Reading a value back waits for queued GPU work.
        self.model.wv.backend.to_numpy(self.model.wv.vectors[:1, ...])

    def time_epoch(self, backend, mode):
        self._epoch()

    def track_words_per_second(self, backend, mode):
        start = time.perf_counter()
        self._epoch()
        return self.model.corpus_total_words / (time.perf_counter() - start) / 1e3

    track_words_per_second.unit = "k words/s"
