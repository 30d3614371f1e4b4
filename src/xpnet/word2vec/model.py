"""`Word2Vec`: CBOW and skip-gram with negative sampling and hierarchical softmax (gensim 4 API)."""

from __future__ import annotations

import logging
import numbers

from xpnet import backend as _backends

from .corpus import check_corpus, resolve_corpus
from .errors import EmptyVocabularyError
from .huffman import huffman_codes, padded_paths
from .sampling import RowSampler
from .settings import check_callbacks, check_flag, check_float, check_int, got
from .training import train_epochs
from .weights import generators, grow_weights, init_weights
from .vocab import (cumulative_table, empty_vocabulary_detail, empty_vocabulary_error,
                    prepare_vocab, scan_vocab, update_vocab)

__all__ = ["Word2Vec"]

logger = logging.getLogger(__name__)


class _class_only:
    """A classmethod that refuses to run on an instance, as gensim's ``call_on_class_only``:
    ``Word2Vec.load(path)`` returns a new model, so ``model.load(path)`` (which would leave
    ``model`` as it was) raises AttributeError."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__wrapped__ = function

    def __get__(self, instance, owner):
        if instance is None:
            return self.function.__get__(owner, type(owner))
        name = f"{owner.__name__}.{self.__name__}"

        def refuse(*args, **kwargs):
            raise AttributeError(f"{name}: call it on the class ({name}(path)); it returns a new "
                                 f"model and does not change this one")
        return refuse


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
        Threads that train at once with the compiled NumPy path (numba), each on its own job,
        updating the shared weights without locks as gensim does; ``workers=1`` with a seed is
        reproducible. The standard-only path (CuPy, torch, array_api_strict) trains in one
        thread.
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
        The word vectors (``syn0``); ``wv.vectors_lockf`` (float32, one factor per word,
        ones after `build_vocab`) scales each word's training steps: 0.0 freezes its vector.
    syn1neg : array of shape (len(wv), vector_size) or None
        Output layer of negative sampling.
    syn1 : array of shape (len(wv), vector_size) or None
        Output layer of hierarchical softmax (one row per inner node of the Huffman tree).
    cum_table : array of int64 or None
        Negative-sampling table.
    corpus_count, corpus_total_words : int
        Sentences and raw words of the corpus given to `build_vocab`.
    raw_vocab : dict
        Counts of the last `scan_vocab` (emptied by `prepare_vocab` unless ``keep_raw_vocab``).
    effective_min_count : int
        min_count as raised by ``max_final_vocab``.

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
        self.vector_size = check_int("vector_size", vector_size, 1)
        self.alpha = check_float("alpha", alpha, 0, strict=True)
        self.min_alpha = check_float("min_alpha", min_alpha, 0)
        self.window = check_int("window", window, 1)
        self.min_count = check_int("min_count", min_count, 0)
        self.max_vocab_size = check_int("max_vocab_size", max_vocab_size, 1, allow_none=True)
        self.sample = check_float("sample", sample, 0)
        self.seed = check_int("seed", seed, 0)
        self.workers = check_int("workers", workers, 1)
        self.sg, self.hs = check_flag("sg", sg), check_flag("hs", hs)
        self.negative = check_int("negative", negative, 0)
        if not self.hs and not self.negative:
            raise ValueError("Word2Vec: hs=0 and negative=0 leave nothing to train; set hs=1 or "
                             "negative > 0")
        self.ns_exponent = check_float("ns_exponent", ns_exponent)
        self.cbow_mean = check_flag("cbow_mean", cbow_mean)
        self.epochs = check_int("epochs", epochs, 0)
        self.null_word = check_flag("null_word", null_word)
        self.sorted_vocab = check_flag("sorted_vocab", sorted_vocab)
        self.batch_words = check_int("batch_words", batch_words, 1)
        self.compute_loss = bool(check_flag("compute_loss", compute_loss, "a bool"))
        self.callbacks = check_callbacks("Word2Vec", callbacks)
        self.shrink_windows = bool(check_flag("shrink_windows", shrink_windows, "a bool"))
        self.max_final_vocab = check_int("max_final_vocab", max_final_vocab, 1, allow_none=True)
        if trim_rule is not None and not callable(trim_rule):
            raise TypeError(f"Word2Vec: expected trim_rule a callable or None, got "
                            f"{got(trim_rule)}")
        self.progress = progress
        self._backend = _backends.active() if backend is None else _backends.load(backend)

        self.layer1_size = self.vector_size
        self.wv = self._new_keyed_vectors(0)
        xp = self._backend.xp
        self.wv.vectors_lockf = xp.ones((0,), dtype=xp.float32, device=self._backend.device)
        self.syn1neg = self.syn1 = self.cum_table = None
        self._counts, self._sample_int, self._huffman, self._cum_list = [], [], None, None
        self._empty_vocabulary = None
        self.raw_vocab = {}
        self.corpus_count = self.corpus_total_words = 0
        self.effective_min_count = self.min_count
        self.running_training_loss = 0.0
        self.min_alpha_yet_reached = self.alpha
        self.train_count = 0
        self.total_train_time = 0.0
        self._generators = generators(self.seed)
        self._sampler = None

        if sentences is not None or corpus_file is not None:
            corpus = resolve_corpus("Word2Vec", sentences, corpus_file)
            check_corpus("Word2Vec", corpus, passes=self.epochs + 1)
            # Through build_vocab, as gensim (a subclass may override it); a vocabulary left
            # empty is an error named after the call the user made.
            self.build_vocab(corpus, trim_rule=trim_rule)
            if self._empty_vocabulary is not None:
                raise empty_vocabulary_error("Word2Vec", self._empty_vocabulary)
            self.train(corpus, total_examples=self.corpus_count,
                       total_words=self.corpus_total_words, epochs=self.epochs,
                       start_alpha=self.alpha, end_alpha=self.min_alpha,
                       compute_loss=self.compute_loss, callbacks=self.callbacks)
        else:
            # gensim's warnings for settings that only a corpus given here would use.
            if trim_rule is not None:
                logger.warning("The rule, if given, is only used to prune vocabulary during "
                               "build_vocab() and is not stored as part of the model. Model "
                               "initialized without sentences. trim_rule provided, if any, will "
                               "be ignored.")
            if self.callbacks:
                logger.warning("Callbacks are no longer retained by the model, so must be "
                               "provided whenever training is triggered, as in initialization "
                               "with a corpus or calling `train()`. The callbacks provided in "
                               "this initialization without triggering train will be ignored.")

    # -- vocabulary -----------------------------------------------------------------------------
    def _new_keyed_vectors(self, count):
        from .keyed_vectors import KeyedVectors
        return KeyedVectors(self.vector_size, count, backend=self._backend.name)

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Count the corpus, build the vocabulary and its tables, and initialise the weights:
        `scan_vocab`, `prepare_vocab` and `prepare_weights` in turn, as gensim.

        Parameters
        ----------
        corpus_iterable, corpus_file
            The corpus, one way or the other (``corpus_file`` may be ``.gz``/``.bz2``).
        update : bool, default=False
            Grow the vocabulary of a model that has one (online training, as gensim): words of
            the new corpus that pass min_count are appended with new rows (seeded as gensim
            seeds them, see `update_weights`), every word's count grows, old rows keep their
            trained values and the sampling tables (and the Huffman tree) are rebuilt.
        progress_per : int
            Accepted for gensim compatibility.
        keep_raw_vocab : bool, default=False
            Keep the raw counts of the corpus in ``raw_vocab``.
        trim_rule : callable, optional
            See `xpnet.word2vec.vocab.keep_vocab_item`.
        **kwargs
            ``min_count``, ``sample`` or ``dry_run`` for `prepare_vocab`.

        Raises
        ------
        TypeError
            If the corpus is a plain string, not iterable, or given both or neither way.
        FileNotFoundError, IsADirectoryError, PermissionError
            If ``corpus_file`` does not open for reading (the error keeps the path).
        xpnet.word2vec.errors.EmptyVocabularyError
            With ``update=True`` on a model without a vocabulary (a RuntimeError, as gensim's).

        TypeError, ValueError
            For ``min_count`` or ``sample`` of the wrong type or value.

        Notes
        -----
        As in gensim, a corpus that leaves no word (empty, or emptied by min_count) is not an
        error here: a warning is logged, and `train` raises
        `~xpnet.word2vec.errors.EmptyVocabularyError`. Given to ``Word2Vec(...)``, such a
        corpus raises it there, naming ``Word2Vec``.
        """
        self._build_vocab("build_vocab", corpus_iterable, corpus_file, update=update,
                          keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule, **kwargs)

    def _build_vocab(self, where, corpus_iterable, corpus_file, update=False,
                     keep_raw_vocab=False, trim_rule=None, **kwargs):
        """`build_vocab` for the public call ``where``; for ``Word2Vec`` (the constructor,
        which trains right away) a vocabulary left empty raises at once."""
        self._check_prepare_kwargs(where, kwargs)
        if update:
            self._check_can_update(where)
        corpus = resolve_corpus(where, corpus_iterable, corpus_file)
        total_words, corpus_count = self._scan(corpus, trim_rule, where=where)
        self.corpus_count, self.corpus_total_words = corpus_count, total_words
        report = self._prepare_vocab(where, update=update, keep_raw_vocab=keep_raw_vocab,
                                     trim_rule=trim_rule, **kwargs)
        report["memory"] = self.estimate_memory(vocab_size=report["num_retained_words"])
        if not kwargs.get("dry_run"):
            self.prepare_weights(update=update)

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None,
                              trim_rule=None, update=False):
        """Build (or with ``update=True`` grow, as `build_vocab`) the vocabulary from a
        ``{word: count}`` dict instead of a corpus.

        ``corpus_count`` (sentences) is stored for `train`'s ``total_examples``; the total of the
        counts becomes ``corpus_total_words``. Raises as `build_vocab`, and TypeError for a
        ``word_freq`` that is not a dict of int counts.
        """
        if not isinstance(word_freq, dict):
            raise TypeError(f"build_vocab_from_freq: expected a dict of word -> count, got "
                            f"{type(word_freq).__name__}")
        bad = next(((w, c) for w, c in word_freq.items()
                    if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 0), None)
        if bad is not None:
            raise TypeError(f"build_vocab_from_freq: expected non-negative int counts, got "
                            f"{bad[0]!r}: {bad[1]!r}")
        if update:
            self._check_can_update("build_vocab_from_freq")
        self.raw_vocab = {word: int(count) for word, count in word_freq.items()}
        self.corpus_count = int(corpus_count or 0)
        self.corpus_total_words = sum(self.raw_vocab.values())
        report = self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab,
                                    trim_rule=trim_rule)
        report["memory"] = self.estimate_memory(vocab_size=report["num_retained_words"])
        self.prepare_weights(update=update)

    def scan_vocab(self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None,
                   trim_rule=None):
        """Count the words of one pass over the corpus into ``raw_vocab`` (gensim's first step
        of `build_vocab`; pruned by ``max_vocab_size`` while counting).

        Returns
        -------
        (int, int)
            Raw words and sentences of the corpus.
        """
        corpus = resolve_corpus("scan_vocab", corpus_iterable, corpus_file)
        return self._scan(corpus, trim_rule, where="scan_vocab")

    def _scan(self, corpus, trim_rule, where="build_vocab"):
        self.raw_vocab, total_words, corpus_count = scan_vocab(corpus, self.max_vocab_size,
                                                               trim_rule, where=where)
        logger.info("collected %i word types from a corpus of %i raw words and %i sentences",
                    len(self.raw_vocab), total_words, corpus_count)
        return total_words, corpus_count

    def prepare_vocab(self, update=False, keep_raw_vocab=False, trim_rule=None, min_count=None,
                      sample=None, dry_run=False):
        """Turn ``raw_vocab`` (from `scan_vocab`) into the vocabulary: min_count (raised by
        ``max_final_vocab``), the trim rule, downsampling thresholds, the order, the Huffman
        tree and the negative-sampling table (gensim's second step of `build_vocab`).

        Parameters
        ----------
        update : bool, default=False
            Grow the present vocabulary instead of replacing it (see `build_vocab`).
        keep_raw_vocab : bool, default=False
            Keep ``raw_vocab`` afterwards (otherwise it is emptied).
        trim_rule : callable, optional
        min_count, sample : optional
            Replace the model's settings (and are stored in it, as gensim does); a false value
            keeps the model's.
        dry_run : bool, default=False
            Only compute the report; the model is left as it was.

        Returns
        -------
        dict
            gensim's report: ``drop_unique``, ``retain_total``, ``downsample_unique``,
            ``downsample_total`` and ``num_retained_words``.

        Raises
        ------
        TypeError, ValueError
            For ``min_count`` or ``sample`` of the wrong type or value.
        """
        return self._prepare_vocab("prepare_vocab", update, keep_raw_vocab, trim_rule, min_count,
                                   sample, dry_run)

    def _prepare_vocab(self, where, update=False, keep_raw_vocab=False, trim_rule=None,
                       min_count=None, sample=None, dry_run=False):
        min_count = check_int("min_count", min_count, 0, allow_none=True, where=where)
        sample = check_float("sample", sample, 0, allow_none=True, where=where)
        min_count = min_count or self.min_count
        sample = sample or self.sample
        raw = self.raw_vocab
        if update:
            if not dry_run:
                self._check_can_update("prepare_vocab")
            # The per-word attributes are the truth (users may set them), as in gensim.
            n = len(self.wv.index_to_key)
            counts, thresholds = (self.wv.expandos.get(name) for name in ("count", "sample_int"))
            counts = counts if counts is not None and len(counts) == n else self._counts
            thresholds = (thresholds if thresholds is not None and len(thresholds) == n
                          else self._sample_int)
            grown = update_vocab(self.wv.index_to_key, counts, thresholds, raw,
                                 min_count=min_count, max_final_vocab=self.max_final_vocab,
                                 sample=sample, null_word=self.null_word, trim_rule=trim_rule)
            report = grown.report
            logger.info("build_vocab(update=True): %d new words, %d words in all",
                        grown.new_words, len(grown.index_to_key))
            if not dry_run:
                self.effective_min_count = grown.effective_min_count
                if any(word != "\0" for word in grown.index_to_key):
                    self._empty_vocabulary = None
                self._install_vocab(grown.index_to_key, grown.counts, grown.sample_int,
                                    wv=self.wv)
        else:
            vocab = prepare_vocab(raw, min_count=min_count, max_final_vocab=self.max_final_vocab,
                                  sample=sample, sorted_vocab=self.sorted_vocab,
                                  null_word=self.null_word, trim_rule=trim_rule, allow_empty=True)
            report = vocab.report()
            if not dry_run:
                self.min_count, self.sample = min_count, sample
                self.effective_min_count = vocab.effective_min_count
                self._empty_vocabulary = None
                if not report["num_retained_words"]:
                    self._empty_vocabulary = empty_vocabulary_detail(raw,
                                                                     vocab.effective_min_count)
                    logger.warning("build_vocab: no word is left to train on: %s; train() will "
                                   "refuse to start (lower min_count or pass a larger corpus)",
                                   self._empty_vocabulary)
                self._install_vocab(vocab.index_to_key, vocab.counts, vocab.sample_int)
        if not dry_run and not keep_raw_vocab:
            self.raw_vocab = {}
        return report

    def _check_prepare_kwargs(self, where, kwargs):
        unknown = set(kwargs) - {"min_count", "sample", "dry_run"}
        if unknown:
            raise TypeError(f"{where}: unexpected keyword arguments {sorted(unknown)}; it passes "
                            f"on only min_count, sample and dry_run (to prepare_vocab)")
        # Checked before the corpus is read (prepare_vocab checks them again, for itself).
        check_int("min_count", kwargs.get("min_count"), 0, allow_none=True, where=where)
        check_float("sample", kwargs.get("sample"), 0, allow_none=True, where=where)

    def _check_can_update(self, where):
        if not self.wv.index_to_key or self.wv.vectors.shape[0] == 0:
            raise EmptyVocabularyError(
                f"{where}: update=True grows the vocabulary of a model that has one, but this "
                f"model has no vocabulary yet; call build_vocab(corpus) first (without update)")

    def _install_vocab(self, index_to_key, counts, sample_int, wv=None):
        """Make ``wv`` (a new KeyedVectors unless given) hold this vocabulary, its ``count`` and
        ``sample_int`` attributes (and ``code``/``point`` with hs), and rebuild the sampling
        tables from the counts. The weights are `prepare_weights`' business."""
        if wv is None:
            wv = self._new_keyed_vectors(0)
        wv.index_to_key = list(index_to_key)
        wv.key_to_index = {word: i for i, word in enumerate(wv.index_to_key)}
        wv.next_index = len(wv.index_to_key)
        wv.expandos["count"] = [int(c) for c in counts]
        wv.expandos["sample_int"] = [int(s) for s in sample_int]
        wv.allocate_vecattrs()
        self._counts, self._sample_int = list(counts), list(sample_int)
        self._huffman = None
        if self.hs:
            codes, points = huffman_codes(counts)
            wv.expandos["code"], wv.expandos["point"] = codes, points
            self._huffman = padded_paths(codes, points)
        self._cum_list = (cumulative_table(counts, self.ns_exponent)
                          if self.negative and counts else None)
        self.cum_table = (None if self._cum_list is None
                          else self._backend.asarray(self._cum_list, dtype="int64"))
        self.wv = wv
        self._sampler = None

    def prepare_weights(self, update=False):
        """Initialise the weights for the vocabulary (`init_weights`), or with ``update=True``
        keep the trained rows and add rows for new words (`update_weights`)."""
        if update:
            self.update_weights()
        else:
            self.init_weights()

    def init_weights(self):
        """Fresh weights for the present vocabulary, exactly gensim's for the same seed: input
        vectors ``(u * 2 - 1) / vector_size`` in float32 for ``u`` uniform in [0, 1) from
        ``numpy.random.default_rng(seed)``, output layers zero, ``wv.vectors_lockf`` ones."""
        init_weights(self)

    def update_weights(self):
        """Rows for the words `prepare_vocab(update=True)` added: as gensim, a new input row
        is the row a fresh `init_weights` of the grown vocabulary would give it (so it depends
        on the seed and its index only), new output rows are zero and new
        ``wv.vectors_lockf`` entries one; every old row keeps its value.

        The arrays are replaced by larger ones (``wv.vectors``, ``syn1neg``, ``syn1``,
        ``wv.vectors_lockf``), never grown in place.

        Raises
        ------
        xpnet.word2vec.errors.EmptyVocabularyError
            If the model had no weights yet (a RuntimeError, as gensim's).
        """
        grow_weights(self)

    def estimate_memory(self, vocab_size=None, report=None):
        """gensim's estimate of the memory a model of ``vocab_size`` words needs, in bytes.

        Returns
        -------
        dict
            ``vocab`` (500 bytes a word, 700 with hs), ``vectors``, ``syn1`` (with hs),
            ``syn1neg`` (with negative sampling) and their ``total``.
        """
        vocab_size = vocab_size or len(self.wv)
        report = dict(report or {})
        report["vocab"] = vocab_size * (700 if self.hs else 500)
        report["vectors"] = vocab_size * self.vector_size * 4  # float32
        if self.hs:
            report["syn1"] = vocab_size * self.layer1_size * 4
        if self.negative:
            report["syn1neg"] = vocab_size * self.layer1_size * 4
        report["total"] = sum(report.values())
        logger.info("estimated required memory for %i words and %i dimensions: %i bytes",
                    vocab_size, self.vector_size, report["total"])
        return report

    def reset_from(self, other_model):
        """Share ``other_model``'s vocabulary (keys, per-word attributes and the sampling tables,
        the same objects, as gensim) and its corpus counts, and start from fresh weights.

        As in gensim, neither model should grow its vocabulary afterwards.
        """
        self._install_vocab(other_model.wv.index_to_key, other_model._counts,
                            other_model._sample_int)
        self.wv.index_to_key = other_model.wv.index_to_key
        self.wv.key_to_index = other_model.wv.key_to_index
        needed = {"count", "sample_int"} | ({"code", "point"} if self.hs else set())
        if needed <= set(other_model.wv.expandos):
            self.wv.expandos = other_model.wv.expandos
        if other_model.cum_table is not None and self.negative and \
                other_model.ns_exponent == self.ns_exponent:
            self.cum_table, self._cum_list = other_model.cum_table, other_model._cum_list
        self.corpus_count = other_model.corpus_count
        self.corpus_total_words = other_model.corpus_total_words
        self.effective_min_count = other_model.effective_min_count
        self._empty_vocabulary = other_model._empty_vocabulary
        self.init_weights()

    def _row_sampler(self):
        if self._sampler is None:
            self._sampler = RowSampler(
                self._backend, self._sample_int, self._cum_list, self._huffman,
                window=self.window, negative=self.negative, sg=self.sg, cbow_mean=self.cbow_mean,
                shrink_windows=self.shrink_windows, dtype="float32")
        return self._sampler

    def _check_vocabulary(self, where):
        """Raise before training or scoring a model without words (or training one whose
        weights are read-only)."""
        if not self.wv.key_to_index or self._empty_vocabulary is not None:
            if self._empty_vocabulary is not None:
                raise empty_vocabulary_error(where, self._empty_vocabulary)
            raise EmptyVocabularyError(f"{where}: the vocabulary is empty; call "
                                       f"build_vocab(corpus) before {where} (or pass the corpus "
                                       f"to Word2Vec(...))")
        if self.wv.vectors.shape[0] != len(self.wv.index_to_key):
            raise RuntimeError(f"{where}: wv has {len(self.wv.index_to_key)} keys but "
                               f"{self.wv.vectors.shape[0]} vector rows; call build_vocab again")
        if where == "train":
            for name, array in (("wv.vectors", self.wv.vectors), ("syn1neg", self.syn1neg),
                                ("syn1", self.syn1)):
                # NumPy's flag (arrays mapped with mmap='r'); other arrays have no such flag.
                if not getattr(getattr(array, "flags", None), "writeable", True):
                    raise ValueError(f"train: {name} is read-only (loaded with mmap='r'); load "
                                     f"with mmap='c' (copy-on-write) or without mmap to train")

    def _log_training_warnings(self):
        """gensim's warnings at the start of `train` (logged, as gensim logs them)."""
        if self.hs and self.negative:
            logger.warning("Both hierarchical softmax and negative sampling are activated. This "
                           "is probably a mistake. You should set either 'hs=0' or "
                           "'negative=0' to disable one of them. ")
        if self.alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")

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
        queue_factor : int, default=2
            With ``workers > 1``, at most ``queue_factor * workers`` jobs wait for a thread.
        word_count, report_delay
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
        TypeError
            For counts, learning rates or callbacks of the wrong type.
        ValueError
            Without total_examples/total_words, or for a count below 1 or a learning rate out
            of range.
        """
        self._check_vocabulary("train")
        corpus = resolve_corpus("train", corpus_iterable, corpus_file)
        if total_examples is None and total_words is None:
            raise ValueError("train: expected total_examples or total_words for the learning-rate "
                             "schedule, got neither; for the corpus given to build_vocab use "
                             "total_examples=model.corpus_count")
        if epochs is None:  # required, as gensim's ValueError says
            raise ValueError("train: expected epochs a positive int (usually model.epochs), got "
                             "None; the count of passes is required, as in gensim")
        epochs = check_int("epochs", epochs, 1, where="train",
                            expected="a positive int (usually model.epochs)")
        for name, value in (("total_examples", total_examples), ("total_words", total_words)):
            check_int(name, value, 1, allow_none=True, where="train", expected="a positive int")
        start_alpha = check_float("start_alpha", start_alpha, 0, strict=True, allow_none=True,
                                   where="train")
        end_alpha = check_float("end_alpha", end_alpha, 0, allow_none=True, where="train")
        check_int("queue_factor", queue_factor, 1, where="train", expected="a positive int")
        callbacks = check_callbacks("train", callbacks)
        check_corpus("train", corpus, passes=epochs)
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        self._log_training_warnings()
        self.epochs = int(epochs)
        self.compute_loss = bool(check_flag("compute_loss", compute_loss, "a bool", "train"))
        return train_epochs(self, corpus, total_examples=total_examples,
                            total_words=total_words, callbacks=callbacks,
                            queue_factor=queue_factor)

    def get_latest_training_loss(self):
        """The loss summed over the rows of the latest `train` call with ``compute_loss=True``
        (negative log-likelihood of each prediction, before its update, as gensim)."""
        return self.running_training_loss

    # -- using the trained model ----------------------------------------------------------------
    def predict_output_word(self, context_words_list, topn=10):
        """The ``topn`` most probable centre words given context words, as gensim: the mean (or
        with ``cbow_mean=0`` the sum) of the context vectors through ``syn1neg`` and a softmax
        over the whole vocabulary (a CBOW-style forward pass, also for skip-gram models).

        Parameters
        ----------
        context_words_list : list of str or int
            Context words (or their indices); words not in the vocabulary are ignored.
        topn : int, default=10
            How many words to return (0: none).

        Returns
        -------
        list of (str, float) or None
            Words with their probability, most probable first (ties in vocabulary order);
            None (with a logged warning, as gensim) when no context word is known.

        Raises
        ------
        TypeError, ValueError
            If ``topn`` is not an int, or is negative.
        RuntimeError
            Without negative sampling (gensim implements it for that scheme only), or without
            the trained output layer (e.g. after assigning vectors loaded from a C-format file).
        """
        from .scoring import predict_output_word
        return predict_output_word(self, context_words_list, topn)

    def score(self, sentences, total_sentences=int(1e6), chunksize=100, queue_factor=2,
              report_delay=1):
        """Log-probability of each sentence under a hierarchical-softmax model (Taddy, "Document
        Classification by Inversion of Distributed Language Representations", 2015), computed
        exactly as gensim's ``score`` (see `xpnet.word2vec.scoring`).

        Parameters
        ----------
        sentences : iterable of list of str
        total_sentences : int, default=1000000
            Score at most this many sentences (a warning is logged when more are given).
        chunksize : int, default=100
            Sentences scored together.
        queue_factor, report_delay
            Accepted for gensim compatibility.

        Returns
        -------
        array of float32, shape (number of sentences scored,)
            On the model's backend.

        Raises
        ------
        RuntimeError
            Without a vocabulary, or without hierarchical softmax (``hs=1``).
        """
        from .scoring import score_sentences
        return score_sentences(self, sentences, total_sentences, chunksize)

    # -- saving ---------------------------------------------------------------------------------
    def save(self, path, separately=None, sep_limit=None, ignore=frozenset(), pickle_protocol=None):
        """Save the whole model, vocabulary, weights and random state, so training can continue.

        The file is a safetensors file written atomically by `xpnet.save` (no pickle): a failed
        save leaves any earlier file at ``path`` intact. Every array is stored in one file,
        where `load` can memory-map it, so gensim's ``separately``, ``sep_limit``, ``ignore``
        and ``pickle_protocol`` are accepted and have nothing to do.
        """
        from .model_file import save_model
        save_model(self, path)

    @_class_only
    def load(cls, path, mmap=None, *, backend=None):
        """Load a model written by `save`, on ``backend`` (default: the active one).

        Call it on the class (``Word2Vec.load(path)``): on an instance it raises
        AttributeError, as gensim's does, since it returns a new model.

        Parameters
        ----------
        path : str or os.PathLike
        mmap : {None, 'r', 'c'}
            Memory-map the weights instead of reading them: read-only (``'r'``) or
            copy-on-write (``'c'``, changes never reach the file) NumPy arrays over the file
            (`xpnet.word2vec.storage`); the backend is then NumPy. A read-only model can be
            queried but not trained.
        backend : str, optional

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError
            If ``path`` does not open for reading (the error keeps the path).
        xpnet.word2vec.errors.WrongFileError
            If the file holds something else, e.g. `KeyedVectors` (a ValueError, and gensim's
            AttributeError).
        ValueError
            If the file is damaged, or ``mmap`` is asked for with another backend.
        """
        from .model_file import load_model
        return load_model(cls, path, mmap, backend)

    def __str__(self):
        return (f"Word2Vec<vocab={len(self.wv.index_to_key)}, vector_size={self.vector_size}, "
                f"alpha={self.alpha}>")

    __repr__ = __str__
