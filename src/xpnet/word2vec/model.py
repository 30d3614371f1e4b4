"""`Word2Vec`: CBOW and skip-gram with negative sampling and hierarchical softmax (gensim 4 API)."""

from __future__ import annotations

import numbers
import os
import time

from xpnet import backend as _backends
from xpnet.backend.random import Generator

from .corpus import check_corpus, resolve_corpus
from .huffman import huffman_codes, padded_paths
from .sampling import RowSampler
from .training import ProgressBar, train_epoch
from .vocab import cumulative_table, prepare_vocab, scan_vocab

__all__ = ["Word2Vec"]

_FORMAT = "xpnet.word2vec.Word2Vec"
_FORMAT_VERSION = 1
# Settings saved with the model and restored by `Word2Vec.load` (trim_rule and callbacks are
# functions and are not saved).
_SETTINGS = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
             "workers", "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs",
             "null_word", "sorted_vocab", "batch_words", "compute_loss", "shrink_windows",
             "max_final_vocab")


def _generators(seed):
    """Independent random streams, one per purpose, all determined by ``seed`` (see
    `xpnet.word2vec.sampling` for why they are separate)."""
    names = ("init", "subsample", "windows", "negatives")
    return {name: Generator(seed * len(names) + i) for i, name in enumerate(names)}


def _check_int(name, value, low, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"Word2Vec: expected {name} an int >= {low}"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def _check_float(name, value, low, *, strict=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            value > low if strict else value >= low):
        raise ValueError(f"Word2Vec: expected {name} a number {'>' if strict else '>='} {low}, "
                         f"got {value!r}")
    return float(value)


class Word2Vec:
    """Word vectors learnt by predicting words from their neighbours (Mikolov et al., 2013).

    Parameters and their meanings are gensim 4's. With ``sentences`` or ``corpus_file`` the
    vocabulary is built and the model trained right away.

    Parameters
    ----------
    sentences : iterable of list of str, optional
        The corpus; must be re-iterable (a list, `LineSentence`...) when ``epochs > 1``.
    corpus_file : str or os.PathLike, optional
        A text file with one sentence per line and whitespace-separated tokens (instead of
        ``sentences``).
    vector_size : int, default=100
    alpha, min_alpha : float, default=0.025, 0.0001
        The learning rate decays linearly from alpha to min_alpha over all epochs.
    window : int, default=5
        Largest distance between the centre and a context word.
    min_count : int, default=5
        Words seen fewer times are dropped.
    max_vocab_size : int, optional
        Prune the rarest words while counting whenever more distinct words are held.
    sample : float, default=1e-3
        Downsampling threshold of frequent words (0 disables it).
    seed : int, default=1
        Seed of the initial vectors and of every random draw in training.
    workers : int, default=3
        Accepted for gensim compatibility; training runs in this process (the NumPy fast path
        on one core, CuPy on the GPU).
    sg : {0, 1}, default=0
        1 skip-gram, 0 CBOW.
    hs : {0, 1}, default=0
        1 hierarchical softmax.
    negative : int, default=5
        Noise words per prediction for negative sampling (0 disables it).
    ns_exponent : float, default=0.75
        Negative samples are drawn with probability proportional to count**ns_exponent.
    cbow_mean : {0, 1}, default=1
        CBOW hidden vector: 1 the mean of the context vectors, 0 their sum.
    epochs : int, default=5
    null_word : {0, 1}, default=0
        Append a padding word ``'\\0'``.
    trim_rule : callable, optional
        ``trim_rule(word, count, min_count)`` returning ``RULE_KEEP``, ``RULE_DISCARD`` or
        ``RULE_DEFAULT`` (see `xpnet.word2vec.vocab`); applied by the vocabulary built here from
        ``sentences``/``corpus_file`` and not kept (pass it to `build_vocab` again, as in gensim).
    sorted_vocab : {0, 1}, default=1
        Order the vocabulary by descending count.
    batch_words : int, default=10000
        Raw words per job; the learning rate is updated once per job.
    compute_loss : bool, default=False
        Accumulate the training loss (see `get_latest_training_loss`).
    callbacks : sequence of CallbackAny2Vec, default=()
    shrink_windows : bool, default=True
        Draw each centre's window uniformly from 1..window (False: always ``window``).
    max_final_vocab : int, optional
        Raise min_count so that at most this many words remain.
    backend : str, optional
        Backend of the vectors (default: the active one).
    progress : bool or None, default=None
        Show a tqdm progress bar (words/s and loss); None shows it when stderr is a terminal.
        Without tqdm training runs silently.

    Attributes
    ----------
    wv : KeyedVectors
        The word vectors (``syn0``).
    syn1neg : array of shape (len(wv), vector_size) or None
        Output layer of negative sampling.
    syn1 : array of shape (len(wv), vector_size) or None
        Output layer of hierarchical softmax (one row per inner node of the Huffman tree).
    cum_table : array of int64 or None
        Negative-sampling table.
    corpus_count, corpus_total_words : int
        Sentences and raw words of the corpus given to `build_vocab`.

    Notes
    -----
    Each job of sentences becomes whole arrays of training rows on the backend (downsampling,
    dynamic windows, negative draws: `xpnet.word2vec.sampling`). With numba installed
    (``pip install 'xpnet[fast]'``) NumPy applies the rows one by one in compiled code, gensim's
    sequential SGD; everywhere else (CuPy, array_api_strict, torch, NumPy without numba or with
    ``XPNET_FAST_PATHS=0``) a standard-only kernel updates 256 rows at a time (64 for CBOW)
    (`xpnet.word2vec.training`). The sequential path matches gensim's scores within its seed
    spread (tests/test_word2vec_quality.py); the minibatched one came within 2 points of it on
    head500 (one seed per mode) and is an order of magnitude slower on a CPU.

    Examples
    --------
    >>> from xpnet.word2vec import Word2Vec
    >>> sentences = [["cat", "say", "meow"], ["dog", "say", "woof"]]
    >>> model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=2)
    >>> model.wv.vectors.shape
    (5, 8)
    >>> model.wv.index_to_key[0]
    'say'
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5,
                 min_count=5, max_vocab_size=None, sample=1e-3, seed=1, workers=3,
                 min_alpha=0.0001, sg=0, hs=0, negative=5, ns_exponent=0.75, cbow_mean=1,
                 epochs=5, null_word=0, trim_rule=None, sorted_vocab=1, batch_words=10000,
                 compute_loss=False, callbacks=(), shrink_windows=True, max_final_vocab=None, *,
                 backend=None, progress=None):
        self.vector_size = _check_int("vector_size", vector_size, 1)
        self.alpha = _check_float("alpha", alpha, 0.0, strict=True)
        self.min_alpha = _check_float("min_alpha", min_alpha, 0.0)
        self.window = _check_int("window", window, 1)
        self.min_count = _check_int("min_count", min_count, 0)
        self.max_vocab_size = _check_int("max_vocab_size", max_vocab_size, 1, allow_none=True)
        self.sample = _check_float("sample", sample, 0.0)
        self.seed = _check_int("seed", seed, 0)
        self.workers = _check_int("workers", workers, 1)
        self.sg, self.hs = int(bool(sg)), int(bool(hs))
        self.negative = _check_int("negative", negative, 0)
        if not self.hs and not self.negative:
            raise ValueError("Word2Vec: hs=0 and negative=0 leave nothing to train; set hs=1 or "
                             "negative > 0")
        if isinstance(ns_exponent, bool) or not isinstance(ns_exponent, numbers.Real):
            raise ValueError(f"Word2Vec: expected ns_exponent a number, got {ns_exponent!r}")
        self.ns_exponent = float(ns_exponent)
        self.cbow_mean = int(bool(cbow_mean))
        self.epochs = _check_int("epochs", epochs, 0)
        self.null_word = int(bool(null_word))
        self.sorted_vocab = int(bool(sorted_vocab))
        self.batch_words = _check_int("batch_words", batch_words, 1)
        self.compute_loss = bool(compute_loss)
        self.callbacks = tuple(callbacks)
        self.shrink_windows = bool(shrink_windows)
        self.max_final_vocab = _check_int("max_final_vocab", max_final_vocab, 1, allow_none=True)
        self.progress = progress
        self._backend = _backends.active() if backend is None else _backends.load(backend)

        self.layer1_size = self.vector_size
        self.wv = self._new_keyed_vectors(0)
        self.syn1neg = self.syn1 = self.cum_table = None
        self.raw_vocab = {}
        self.corpus_count = self.corpus_total_words = 0
        self.effective_min_count = self.min_count
        self.running_training_loss = 0.0
        self.min_alpha_yet_reached = self.alpha
        self.train_count = 0
        self.total_train_time = 0.0
        self._generators = _generators(self.seed)
        self._sampler = None

        if sentences is not None or corpus_file is not None:
            corpus = resolve_corpus("Word2Vec", sentences, corpus_file)
            check_corpus("Word2Vec", corpus, passes=self.epochs + 1)
            self.build_vocab(corpus, trim_rule=trim_rule)
            self.train(corpus, total_examples=self.corpus_count,
                       total_words=self.corpus_total_words, epochs=self.epochs,
                       start_alpha=self.alpha, end_alpha=self.min_alpha,
                       compute_loss=self.compute_loss, callbacks=self.callbacks)

    # -- vocabulary -----------------------------------------------------------------------------
    def _new_keyed_vectors(self, count):
        from .keyed_vectors import KeyedVectors
        return KeyedVectors(self.vector_size, count, backend=self._backend.name)

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Count the corpus, build the vocabulary and its tables, and initialise the weights.

        Raises
        ------
        TypeError
            If the corpus is a plain string, not iterable, or given both or neither way.
        FileNotFoundError
            If ``corpus_file`` does not exist.
        ValueError
            If no word survives ``min_count`` (or the corpus is empty).
        NotImplementedError
            For ``update=True`` (growing a trained vocabulary is not supported yet).
        """
        if update:
            raise NotImplementedError("build_vocab: update=True (adding words to a trained "
                                      "vocabulary) is not supported yet; build a new model")
        corpus = resolve_corpus("build_vocab", corpus_iterable, corpus_file)
        raw, total_words, corpus_count = scan_vocab(corpus, self.max_vocab_size, trim_rule)
        self._build(raw, total_words, corpus_count, keep_raw_vocab, trim_rule)

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None,
                              trim_rule=None, update=False):
        """Build the vocabulary from a ``{word: count}`` dict instead of a corpus.

        ``corpus_count`` (sentences) is stored for `train`'s ``total_examples``; the total of the
        counts becomes ``corpus_total_words``. Raises as `build_vocab`.
        """
        if update:
            raise NotImplementedError("build_vocab_from_freq: update=True is not supported yet; "
                                      "build a new model")
        if not isinstance(word_freq, dict):
            raise TypeError(f"build_vocab_from_freq: expected a dict of word -> count, got "
                            f"{type(word_freq).__name__}")
        raw = {word: int(count) for word, count in word_freq.items()}
        self._build(raw, sum(raw.values()), int(corpus_count or 0), keep_raw_vocab, trim_rule)

    def _build(self, raw, total_words, corpus_count, keep_raw_vocab, trim_rule):
        vocab = prepare_vocab(raw, min_count=self.min_count, max_final_vocab=self.max_final_vocab,
                              sample=self.sample, sorted_vocab=self.sorted_vocab,
                              null_word=self.null_word, trim_rule=trim_rule)
        self.corpus_count, self.corpus_total_words = corpus_count, total_words
        self.raw_vocab = raw if keep_raw_vocab else {}
        self.effective_min_count = vocab.effective_min_count
        self._install_vocab(vocab.index_to_key, vocab.counts, vocab.sample_int)
        self._generators = _generators(self.seed)
        # gensim 4 draws uniform(-1, 1) / vector_size for the input vectors; outputs start at zero.
        bound = 1.0 / self.vector_size
        self.wv.vectors = self._generators["init"].uniform(self._backend, (len(vocab.index_to_key),
                                                                  self.vector_size),
                                                  "float32", -bound, bound)
        self._reset_outputs()

    def _install_vocab(self, index_to_key, counts, sample_int):
        """Make ``wv`` hold this vocabulary and rebuild the sampling tables from the counts."""
        wv = self._new_keyed_vectors(0)
        wv.index_to_key = list(index_to_key)
        wv.key_to_index = {word: i for i, word in enumerate(wv.index_to_key)}
        for word, count, threshold in zip(wv.index_to_key, counts, sample_int):
            wv.set_vecattr(word, "count", int(count))
            wv.set_vecattr(word, "sample_int", int(threshold))
        self._counts, self._sample_int = list(counts), list(sample_int)
        self._huffman = None
        if self.hs:
            codes, points = huffman_codes(counts)
            for word, code, point in zip(wv.index_to_key, codes, points):
                wv.set_vecattr(word, "code", code)
                wv.set_vecattr(word, "point", point)
            self._huffman = padded_paths(codes, points)
        self._cum_list = cumulative_table(counts, self.ns_exponent) if self.negative else None
        self.cum_table = (None if self._cum_list is None
                          else self._backend.asarray(self._cum_list, dtype="int64"))
        self.wv = wv
        self._sampler = None

    def _reset_outputs(self):
        xp, n = self._backend.xp, len(self.wv.index_to_key)
        zeros = lambda: xp.zeros((n, self.vector_size), dtype=xp.float32,  # noqa: E731
                                 device=self._backend.device)
        self.syn1 = zeros() if self.hs else None
        self.syn1neg = zeros() if self.negative else None

    def _row_sampler(self):
        if self._sampler is None:
            self._sampler = RowSampler(
                self._backend, self._generators, self._sample_int, self._cum_list, self._huffman,
                window=self.window, negative=self.negative, sg=self.sg, cbow_mean=self.cbow_mean,
                shrink_windows=self.shrink_windows, dtype="float32")
        return self._sampler

    # -- training -------------------------------------------------------------------------------
    def _alpha_at(self, progress_in_epoch, epoch):
        progress = (epoch + progress_in_epoch) / self.epochs
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)

    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None,
              epochs=None, start_alpha=None, end_alpha=None, word_count=0, queue_factor=2,
              report_delay=1.0, compute_loss=False, callbacks=(), **kwargs):
        """Train (or continue training) on a corpus; as gensim, the counts must be given.

        Parameters
        ----------
        corpus_iterable, corpus_file
            The corpus, one way or the other.
        total_examples, total_words : int
            Sentences or raw words per epoch, for the learning-rate schedule (one is required;
            ``model.corpus_count`` is right when the corpus is the one of `build_vocab`).
        epochs : int
            Passes over the corpus (required, as in gensim).
        start_alpha, end_alpha : float, optional
            Replace ``alpha`` and ``min_alpha`` for this and later calls.
        compute_loss : bool, default=False
            Accumulate the loss of this call in ``running_training_loss``.
        callbacks : sequence of CallbackAny2Vec
        word_count, queue_factor, report_delay
            Accepted for gensim compatibility; unused.

        Returns
        -------
        (int, int)
            Words trained on (after downsampling) and raw words processed.

        Raises
        ------
        RuntimeError
            If the vocabulary has not been built.
        TypeError, FileNotFoundError
            For a bad corpus (see `build_vocab`).
        ValueError
            Without total_examples/total_words or a positive epochs.
        """
        if not self.wv.key_to_index:
            raise RuntimeError("train: the vocabulary is empty; call build_vocab(corpus) before "
                               "train (or pass the corpus to Word2Vec(...))")
        corpus = resolve_corpus("train", corpus_iterable, corpus_file)
        if total_examples is None and total_words is None:
            raise ValueError("train: expected total_examples or total_words for the learning-rate "
                             "schedule, got neither; for the corpus given to build_vocab use "
                             "total_examples=model.corpus_count")
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(f"train: expected epochs a positive int (usually model.epochs), got "
                             f"{epochs!r}")
        check_corpus("train", corpus, passes=epochs)
        for name, value in (("total_examples", total_examples), ("total_words", total_words)):
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, numbers.Integral) or value < 1):
                raise ValueError(f"train: expected {name} a positive int, got {value!r}")
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        self.epochs = int(epochs)
        self.compute_loss = bool(compute_loss)
        self.running_training_loss = 0.0
        sampler = self._row_sampler()
        start = time.perf_counter()
        trained = raw = 0
        progress = ProgressBar(self.progress, (total_words or self.corpus_total_words or 0)
                               * self.epochs, self.epochs)
        try:
            for callback in callbacks:
                callback.on_train_begin(self)
            for epoch in range(self.epochs):
                for callback in callbacks:
                    callback.on_epoch_begin(self)
                done, seen = train_epoch(self, corpus, epoch, total_examples=total_examples,
                                         total_words=total_words, sampler=sampler,
                                         progress=progress)
                trained, raw = trained + done, raw + seen
                for callback in callbacks:
                    callback.on_epoch_end(self)
        finally:
            progress.close()
        self.train_count += 1
        self.total_train_time += time.perf_counter() - start
        for callback in callbacks:
            callback.on_train_end(self)
        return trained, raw

    def get_latest_training_loss(self):
        """The loss summed over the rows of the latest `train` call with ``compute_loss=True``
        (negative log-likelihood of each prediction, before its update, as gensim)."""
        return self.running_training_loss

    # -- saving ---------------------------------------------------------------------------------
    def save(self, path):
        """Save the whole model, vocabulary, weights and random state, so training can continue.

        The file is a safetensors file written atomically by `xpnet.save` (no pickle): a failed
        save leaves any earlier file at ``path`` intact.
        """
        from xpnet.autograd.tensor import Tensor
        from xpnet.io import save

        wrap = lambda a: None if a is None else Tensor._make(a, self._backend)  # noqa: E731
        state = {
            "format": _FORMAT, "version": _FORMAT_VERSION,
            "settings": {name: getattr(self, name) for name in _SETTINGS},
            "index_to_key": list(self.wv.index_to_key), "counts": list(self._counts),
            "sample_int": list(self._sample_int),
            "vectors": wrap(self.wv.vectors), "syn1neg": wrap(self.syn1neg),
            "syn1": wrap(self.syn1),
            "generators": {name: g.get_state() for name, g in self._generators.items()},
            "counters": {"corpus_count": self.corpus_count,
                         "corpus_total_words": self.corpus_total_words,
                         "effective_min_count": self.effective_min_count,
                         "min_alpha_yet_reached": self.min_alpha_yet_reached,
                         "running_training_loss": self.running_training_loss,
                         "train_count": self.train_count,
                         "total_train_time": self.total_train_time},
        }
        save(state, path)

    @classmethod
    def load(cls, path, *, backend=None):
        """Load a model written by `save`, on ``backend`` (default: the active one).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a saved Word2Vec model or is damaged.
        """
        from xpnet.io import load

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Word2Vec.load: {path!r} is not an existing file")
        state = load(path, backend=backend)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"Word2Vec.load: {path} holds no Word2Vec model (format "
                             f"{state.get('format') if isinstance(state, dict) else None!r}); "
                             f"for vectors alone use KeyedVectors.load")
        if state.get("version") != _FORMAT_VERSION:
            raise ValueError(f"Word2Vec.load: {path} has model format version "
                             f"{state.get('version')!r}; this xpnet reads {_FORMAT_VERSION}")
        settings = state["settings"]
        model = cls(**settings, backend=backend)
        model._install_vocab(state["index_to_key"], state["counts"], state["sample_int"])
        n = len(state["index_to_key"])
        for name in ("vectors", "syn1neg", "syn1"):
            tensor = state[name]
            if tensor is not None and tuple(tensor.shape) != (n, model.vector_size):
                raise ValueError(f"Word2Vec.load: {path} is damaged: {name} has shape "
                                 f"{tuple(tensor.shape)}, expected {(n, model.vector_size)}")
        model.wv.vectors = state["vectors"].array
        model.syn1neg = None if state["syn1neg"] is None else state["syn1neg"].array
        model.syn1 = None if state["syn1"] is None else state["syn1"].array
        for name, generator_state in state["generators"].items():
            model._generators[name].set_state(generator_state)
        for name, value in state["counters"].items():
            setattr(model, name, value)
        return model

    def __str__(self):
        return (f"Word2Vec<vocab={len(self.wv.index_to_key)}, vector_size={self.vector_size}, "
                f"alpha={self.alpha}>")

    __repr__ = __str__
