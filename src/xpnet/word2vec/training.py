"""The training loop: jobs of sentences, worker threads, the learning-rate schedule, and the
update kernels.

Every training row (one skip-gram pair or one CBOW centre) is a tiny two-layer network: a hidden
vector ``h`` mixed from rows of ``syn0`` (the word vectors) predicts, through logistic units, a
few rows of the output layer (``syn1neg`` for negative sampling, ``syn1`` for hierarchical
softmax). With ``f = h . out``, ``g = alpha * (label - sigmoid(f))`` is the step of the
log-likelihood ``label * log sigmoid(f) + (1 - label) * log sigmoid(-f)``; each output row moves
by ``g * h`` and each input row by its share of ``sum g * out``, times its ``wv.vectors_lockf``
(0.0 freezes a word, as in gensim) (Mikolov et al. 2013; Rong, "word2vec Parameter Learning
Explained", 2014).

Two kernels do the work. ``word2vec_train_job`` trains one job (about ``batch_words`` words):
its generic twin here makes the rows with `xpnet.word2vec.sampling.RowSampler` and hands them to
``word2vec_train_rows``, whose twin runs them in minibatches of ``batch_size`` rows updated
together (gather, fused sigmoid and gradient, scatter-add into the rows the minibatch uses), which
is what runs on CuPy, torch and array_api_strict. The NumPy fast paths (numba, in
``xpnet/backend/kernels/word2vec_kernels.py``) apply the rows one after another as gensim's
Cython does, and the job kernel does a whole job in one compiled call without the GIL, so
``workers`` threads train at once on jobs taken from a bounded queue, updating the shared weights
without locks (Hogwild, as gensim and the C tool do). Tests compare each fast path with its twin.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass

from xpnet.backend.kernels import get_kernel, register_generic

from .corpus import MAX_WORDS_IN_BATCH, checked_sentences

__all__ = ["train_epoch", "train_epochs", "train_job_generic", "train_rows_generic"]

logger = logging.getLogger(__name__)

# The generic twin updates GENERIC_BATCH_ROWS rows at once (CBOW_BATCH_ROWS for CBOW, whose
# rows each touch up to 2 * window input vectors). A syn0 or syn1 row used by n rows
# of one minibatch gets the sum of n gradients taken at the same point, where sequential SGD
# (gensim) would have corrected itself between them. The rows every prediction shares, the
# root and upper nodes of the Huffman tree and the most frequent words, then overshoot: with
# plain sums at 256 rows, CBOW with hierarchical softmax fell from WordSim ~53 (sequential) to
# ~6 on head500. So a row's summed step is scaled by min(1, MAX_SUMMED_STEPS / n): up to 32
# repeats add as in sequential SGD (32-row minibatches with plain sums matched the sequential
# scores), more are averaged down to 32 steps' worth. Measured on head500 (WordSim x100, the
# twin against the row-by-row fast path on the same rows): SG-HS 56.8 vs 56.0 (3 seeds),
# SG-NS 25.4 vs 23.5 and CBOW-NS 38.4 vs 37.5 (seed 1) at 256 rows; CBOW-HS at 256 rows fell to
# 51.4 vs 54.4 (3 seeds) and needed 64 (seed 2: 54.8 vs 55.1; seed 1: 51.4 vs 52.7); CBOW-NS
# at 64 rows: 37.4 vs 37.3 (seeds 1-2).
GENERIC_BATCH_ROWS = 256
CBOW_BATCH_ROWS = 64
MAX_SUMMED_STEPS = 32
# gensim (and the C tool) skip a prediction whose |h . out| reaches 6: no update, no loss, so a
# confidently wrong prediction is left alone rather than taking a full-size step. Kept for
# fidelity; on head500 it changed no score we measured.
MAX_EXP = 6.0


def _sigmoid_and_loss(xp, f, label):
    # exp(-|f|) cannot overflow; -log sigmoid(s f) = max(-s f, 0) + log1p(exp(-|f|)).
    z = xp.exp(-xp.abs(f))
    sigmoid = xp.where(f >= 0, 1 / (1 + z), z / (1 + z))
    signed = (2 * label - 1) * f
    loss = xp.where(signed < 0, -signed, xp.zeros_like(signed)) + xp.log1p(z)
    return sigmoid, loss


@register_generic("word2vec_train_rows")
def train_rows_generic(xp, syn0, syn1, context, context_weight, error_weight, target, label,
                       target_mask, *, alpha, batch_size, compute_loss=False):
    """Apply the word2vec update of every row; returns ``(syn0, syn1, loss)``.

    Parameters
    ----------
    syn0 : array of shape (V, D)
        Input vectors. The fast path updates it in place; always use the returned array.
    syn1 : array of shape (V_out, D)
        Output layer (``syn1neg`` or ``syn1``), same rule.
    context, context_weight, error_weight : arrays of shape (B, C)
        Input rows of each training row, their weights in the hidden vector, and the share of
        the hidden error each receives.
    target, label, target_mask : arrays of shape (B, T)
        Output rows, their labels (1 or 0) and a 0/1 mask.
    alpha : float
        Learning rate.
    batch_size : int
        Rows updated together (the twin only; the fast path goes row by row). Within one
        minibatch a table row's steps add up, scaled down to ``MAX_SUMMED_STEPS`` steps' worth
        when it is used more often (see the note at the top of this module). Only the rows a
        minibatch uses are read and written, so its cost grows with the minibatch, not with
        the vocabulary.
    compute_loss : bool
        Also return the summed negative log-likelihood of the rows (before their update).

    Predictions with ``|f| >= MAX_EXP`` are skipped (no update, no loss), as in gensim.

    Returns
    -------
    syn0, syn1 : the updated arrays (the same arrays, updated in place, where the backend
        allows it)
    loss : float (0.0 when not computed)
    """
    rows, width = context.shape[0], context.shape[1]
    outputs, size = target.shape[1], syn0.shape[1]
    scatter_add = get_kernel("scatter_add", _backend_of(syn0))
    total = None
    for start in range(0, rows, batch_size):
        stop = min(start + batch_size, rows)
        n = stop - start
        ctx = xp.reshape(context[start:stop, :], (-1,))
        weight = context_weight[start:stop, :][:, :, None]
        hidden = xp.sum(xp.reshape(xp.take(syn0, ctx, axis=0), (n, width, size)) * weight, axis=1)
        out_index = xp.reshape(target[start:stop, :], (-1,))
        out = xp.reshape(xp.take(syn1, out_index, axis=0), (n, outputs, size))
        f = xp.reshape(out @ hidden[:, :, None], (n, outputs))
        sigmoid, loss = _sigmoid_and_loss(xp, f, label[start:stop, :])
        mask = target_mask[start:stop, :] * xp.astype(xp.abs(f) < MAX_EXP, f.dtype)
        g = (label[start:stop, :] - sigmoid) * mask * alpha
        grad_hidden = xp.reshape(g[:, None, :] @ out, (n, 1, size))
        grad_out = g[:, :, None] * hidden[:, None, :]
        grad_in = grad_hidden * error_weight[start:stop, :][:, :, None]
        syn1 = _add_capped(xp, scatter_add, syn1, out_index,
                           xp.reshape(grad_out, (n * outputs, size)), xp.reshape(mask, (-1,)))
        used = xp.astype(context_weight[start:stop, :] != 0, syn0.dtype)
        syn0 = _add_capped(xp, scatter_add, syn0, ctx, xp.reshape(grad_in, (n * width, size)),
                           xp.reshape(used, (-1,)))
        if compute_loss:
            part = xp.sum(loss * mask)
            total = part if total is None else total + part
    return syn0, syn1, 0.0 if total is None else float(total)


def _add_capped(xp, scatter_add, table, index, steps, used):
    """``table`` with the ``steps`` of each of its rows added, their sum scaled down when the row
    was used more than MAX_SUMMED_STEPS times (``used`` is 1 per step that counts).

    The sums are taken over the distinct rows of ``index`` only (the minibatch's own rows), never
    over the whole table."""
    rows, inverse = xp.unique_inverse(index)
    total = scatter_add(xp, inverse, steps, rows.shape[0])
    uses = scatter_add(xp, inverse, used, rows.shape[0])
    delta = total / xp.clip(uses / MAX_SUMMED_STEPS, 1.0, None)[:, None]
    if _assigns_rows(xp):
        table[rows, ...] = xp.take(table, rows, axis=0) + delta
        return table
    # array_api_strict: no integer-array assignment, so a new table with the rows added.
    return table + scatter_add(xp, rows, delta, table.shape[0])


@functools.cache
def _assigns_rows(xp):
    """Whether ``a[index_array, ...] = values`` works in this namespace. NumPy, CuPy and torch
    take it; the standard leaves integer-array assignment out and array_api_strict refuses it."""
    probe = xp.zeros((2, 1))
    try:
        probe[xp.asarray([1]), ...] = xp.ones((1, 1))
    except (IndexError, TypeError, ValueError, NotImplementedError):
        return False
    return bool(probe[1, 0] == 1)


def _backend_of(array):
    from xpnet.backend import backend_of_array
    return backend_of_array(array)


@register_generic("word2vec_train_job")
def train_job_generic(xp, sampler, syn0, syn1neg, syn1, lockf, words, lengths, *, alpha, seed,
                      compute_loss=False):
    """Train on one job; returns ``(words kept by downsampling, syn0, syn1neg, syn1, loss)``.

    Parameters
    ----------
    sampler : RowSampler
        The model's sampling tables and settings.
    syn0, syn1neg, syn1 : arrays of shape (V, D), or None for an output layer not trained
        As in `train_rows_generic`: use the returned arrays.
    lockf : array of shape (L,) or None
        ``wv.vectors_lockf``: word ``w``'s input-vector steps are scaled by ``lockf[w % L]``.
    words : int array of shape (N,)
        The job's word indices, -1 for words outside the vocabulary.
    lengths : int array of shape (S,)
        Words (``-1`` included) of each sentence, in order; windows stop at their ends.
    alpha : float
    seed : int
        Start of the job's random draws (see `xpnet.word2vec.sampling`).
    compute_loss : bool
    """
    device = sampler.device
    ends = xp.cumulative_sum(lengths)
    sentence = xp.searchsorted(ends, xp.arange(words.shape[0], dtype=xp.int64, device=device),
                               side="right")
    known = words >= 0
    hs, ns, effective = sampler.job_rows(words[known], sentence[known], int(lengths.shape[0]),
                                         seed=seed, lockf=lockf)
    kernel = get_kernel("word2vec_train_rows", sampler.backend)
    total = 0.0
    for rows, softmax in ((hs, True), (ns, False)):
        if rows is None:
            continue
        syn0, out, loss = kernel(
            xp, syn0, syn1 if softmax else syn1neg, rows.context, rows.context_weight,
            rows.error_weight, rows.target, rows.label, rows.target_mask, alpha=alpha,
            batch_size=GENERIC_BATCH_ROWS if sampler.sg else CBOW_BATCH_ROWS,
            compute_loss=compute_loss)
        if softmax:
            syn1 = out
        else:
            syn1neg = out
        total += loss
    return effective, syn0, syn1neg, syn1, total


# -- jobs ------------------------------------------------------------------------------------------

def jobs(corpus, key_to_index, batch_words, where):
    """Group sentences into jobs of at most ``batch_words`` raw words, as gensim's job producer.

    A sentence longer than 10,000 words (gensim's limit) is cut into pieces that count as
    sentences of their own for the windows; gensim instead trains on its first 10,000 words
    only. Each piece counts as its share of one sentence in the progress, so the learning rate
    still decays smoothly over a corpus that is one long line.

    Yields ``(word indices, piece lengths, raw words, sentences)``: words outside the
    vocabulary are -1, and ``sentences`` is the (possibly fractional) number of corpus sentences
    the job covers.
    """
    get = key_to_index.get
    missing = itertools.repeat(-1)
    words, lengths, raw, sentences = [], [], 0, 0.0
    for sentence in checked_sentences(where, corpus):
        length = len(sentence)
        for start in range(0, max(length, 1), MAX_WORDS_IN_BATCH):
            piece = sentence[start:start + MAX_WORDS_IN_BATCH]
            if raw and raw + len(piece) > batch_words:
                yield words, lengths, raw, sentences
                words, lengths, raw, sentences = [], [], 0, 0.0
            words.extend(map(get, piece, missing))
            lengths.append(len(piece))
            raw += len(piece)
            sentences += len(piece) / length if length > MAX_WORDS_IN_BATCH else 1
    if lengths:
        yield words, lengths, raw, sentences


@dataclass
class _Job:
    words: object    # int64 array, -1 outside the vocabulary
    lengths: object  # int64 array, words per sentence
    raw: int
    alpha: float
    seed: int


class ProgressBar:
    """A tqdm bar in words with words/s and loss; nothing at all when tqdm is missing or the bar
    is off. ``show=None`` shows it only when stderr is a terminal (so never under pytest)."""

    def __init__(self, show, total, epochs):
        self._bar = None
        if show is None:
            show = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        if not show:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is in the examples extra; training goes on without a bar
            return
        self._bar = tqdm(total=total, unit="word", unit_scale=True, desc=f"word2vec 1/{epochs}",
                         leave=True, dynamic_ncols=True)

    def update(self, words, epoch, epochs, loss):
        if self._bar is None:
            return
        self._bar.set_description(f"word2vec {epoch + 1}/{epochs}", refresh=False)
        if loss is not None:
            self._bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        self._bar.update(words)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def train_epoch(model, corpus, epoch, *, total_examples, total_words, sampler, progress, seeds,
                queue_factor=2, where="train"):
    """One pass over ``corpus``; returns ``(trained words, raw words)``.

    This thread reads the corpus and makes the jobs: word indices, the learning rate (gensim's
    schedule: linear in the share of the corpus pushed before the job) and the job's seed from
    ``seeds``, all in corpus order. With ``model.workers > 1`` and the compiled NumPy job kernel,
    ``workers`` threads train the jobs from a queue of ``queue_factor * workers`` jobs, so the
    memory held does not grow with the corpus; otherwise this thread trains each job in turn.
    """
    backend = model.wv.backend
    kernel = get_kernel("word2vec_train_job", backend)
    # Only the compiled kernel releases the GIL and updates in place; the twin's Python steps
    # would take turns on the GIL (and on a GPU the minibatch is the parallel part).
    workers = model.workers if kernel is not train_job_generic else 1
    lockf = _lockf(model)
    weights = {"syn0": model.wv.vectors, "syn1neg": model.syn1neg, "syn1": model.syn1}
    done = {"trained": 0}
    lock = threading.Lock()

    def train(job):
        effective, syn0, syn1neg, syn1, loss = kernel(
            backend.xp, sampler, weights["syn0"], weights["syn1neg"], weights["syn1"], lockf,
            job.words, job.lengths, alpha=job.alpha, seed=job.seed,
            compute_loss=model.compute_loss)
        with lock:
            weights.update(syn0=syn0, syn1neg=syn1neg, syn1=syn1)
            done["trained"] += effective
            model.running_training_loss += loss
            progress.update(job.raw, epoch, model.epochs,
                            model.running_training_loss if model.compute_loss else None)

    def produce():
        raw_done = examples_done = 0
        for words, lengths, raw, sentences in jobs(corpus, model.wv.key_to_index,
                                                   model.batch_words, where):
            alpha = model._alpha_at(examples_done / total_examples if total_examples
                                    else raw_done / total_words, epoch)
            seed = int(backend.to_numpy(seeds.integers(backend, 0, 2**63 - 1, (1,)))[0])
            yield _Job(backend.asarray(words, dtype="int64"),
                       backend.asarray(lengths, dtype="int64"), raw, alpha, seed)
            raw_done += raw
            examples_done += sentences
            model.min_alpha_yet_reached = alpha
            done["raw"] = raw_done

    done["raw"] = 0
    try:
        if workers == 1:
            for job in produce():
                train(job)
        else:
            _train_threaded(produce(), train, workers, queue_factor)
    finally:
        # The fast path updates in place; the twin may make new arrays. Either way the model
        # holds what was trained, also when a bad sentence stops the epoch half-way.
        model.wv.vectors, model.syn1neg, model.syn1 = (weights["syn0"], weights["syn1neg"],
                                                       weights["syn1"])
    return done["trained"], done["raw"]


def train_epochs(model, corpus, *, total_examples, total_words, callbacks, queue_factor):
    """`Word2Vec.train` once its arguments are checked: ``model.epochs`` passes of
    `train_epoch` with the callbacks around them and a progress bar; returns ``(trained
    words, raw words)``."""
    model.running_training_loss = 0.0
    sampler = model._row_sampler()
    start = time.perf_counter()
    trained = raw = 0
    progress = ProgressBar(model.progress, (total_words or model.corpus_total_words or 0)
                           * model.epochs, model.epochs)
    try:
        for callback in callbacks:
            callback.on_train_begin(model)
        for epoch in range(model.epochs):
            for callback in callbacks:
                callback.on_epoch_begin(model)
            # Each job's seed comes from the 'subsample' stream, in corpus order (the job's
            # own generator then makes all its draws: see xpnet.word2vec.sampling).
            done, seen = train_epoch(model, corpus, epoch, total_examples=total_examples,
                                     total_words=total_words, sampler=sampler,
                                     progress=progress, seeds=model._generators["subsample"],
                                     queue_factor=queue_factor)
            trained, raw = trained + done, raw + seen
            for callback in callbacks:
                callback.on_epoch_end(model)
    finally:
        progress.close()
    _log_empty_corpus(model, raw)
    model.train_count += 1
    model.total_train_time += time.perf_counter() - start
    for callback in callbacks:
        callback.on_train_end(model)
    return trained, raw


def _log_empty_corpus(model, raw_words):
    """gensim's warning after a first `train` call that found no sentence at all."""
    if raw_words == 0 and model.train_count == 0:
        logger.warning("train() called with an empty iterator (if not intended, be sure to "
                       "provide a corpus that offers restartable iteration = an iterable).")


def _train_threaded(job_iterator, train, workers, queue_factor):
    """Jobs from this thread to ``workers`` threads through a bounded queue; the first error
    of a worker (or of reading the corpus) stops the epoch and is raised here."""
    pending = queue.Queue(maxsize=max(1, int(queue_factor)) * workers)
    failures = []

    def work():
        while True:
            job = pending.get()
            if job is None:
                return
            if failures:
                continue  # keep draining, so the producer never blocks on a full queue
            try:
                train(job)
            except BaseException as e:  # noqa: BLE001 (re-raised in the calling thread)
                failures.append(e)

    threads = [threading.Thread(target=work, name=f"xpnet-word2vec-{i}", daemon=True)
               for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for job in job_iterator:
            if failures:
                break
            pending.put(job)
    finally:
        for _ in threads:
            pending.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]


def _lockf(model):
    """``wv.vectors_lockf`` on the backend as float32, or None when it is absent or all ones
    (nothing to scale)."""
    lockf = getattr(model.wv, "vectors_lockf", None)
    if lockf is None:
        return None
    from xpnet.backend import backend_of_array

    backend = model.wv.backend
    xp = backend.xp
    source = backend_of_array(lockf)
    if source is not backend:  # a list, or an array of another backend or device
        lockf = backend.asarray(lockf if source is None else source.to_numpy(lockf),
                                dtype="float32")
    if lockf.dtype != xp.float32:
        lockf = xp.astype(lockf, xp.float32)
    if lockf.ndim != 1 or lockf.shape[0] == 0:
        raise ValueError(f"train: expected wv.vectors_lockf a non-empty 1-D array (one factor "
                         f"per word, or one for all), got shape {tuple(lockf.shape)}")
    if bool(xp.all(lockf == 1.0)):
        return None
    return lockf
