"""The training loop: jobs of sentences, the learning-rate schedule, and the update kernel.

Every training row (one skip-gram pair or one CBOW centre) is a tiny two-layer network: a hidden
vector ``h`` mixed from rows of ``syn0`` (the word vectors) predicts, through logistic units, a
few rows of the output layer (``syn1neg`` for negative sampling, ``syn1`` for hierarchical
softmax). With ``f = h . out``, ``g = alpha * (label - sigmoid(f))`` is the step of the
log-likelihood ``label * log sigmoid(f) + (1 - label) * log sigmoid(-f)``; each output row moves
by ``g * h`` and each input row by its share of ``sum g * out`` (Mikolov et al. 2013; Rong,
"word2vec Parameter Learning Explained", 2014).

The kernel ``word2vec_train_rows`` applies that to many rows. Its generic twin here is standard
only and runs in minibatches of ``batch_size`` rows updated together (gather, fused sigmoid and
gradient, scatter-add), which is what runs on CuPy and array_api_strict. A NumPy fast path
(numba, in ``xpnet/backend/kernels/word2vec_kernels.py``) applies the rows one after another as
gensim's Cython does; the two agree exactly when no row of a minibatch shares a word with
another, and a test checks that.
"""

from __future__ import annotations

import sys

from xpnet.backend.kernels import get_kernel, register_generic

from .corpus import MAX_WORDS_IN_BATCH, checked_sentences

__all__ = ["train_epoch", "train_rows_generic"]

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
        when it is used more often (see the note at the top of this module).
    compute_loss : bool
        Also return the summed negative log-likelihood of the rows (before their update).

    Predictions with ``|f| >= MAX_EXP`` are skipped (no update, no loss), as in gensim.

    Returns
    -------
    syn0, syn1 : the updated arrays
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
        syn1 = syn1 + _capped_sum(xp, scatter_add, out_index,
                                  xp.reshape(grad_out, (n * outputs, size)),
                                  xp.reshape(mask, (-1,)), syn1.shape[0])
        used = xp.astype(context_weight[start:stop, :] != 0, syn0.dtype)
        syn0 = syn0 + _capped_sum(xp, scatter_add, ctx, xp.reshape(grad_in, (n * width, size)),
                                  xp.reshape(used, (-1,)), syn0.shape[0])
        if compute_loss:
            part = xp.sum(loss * mask)
            total = part if total is None else total + part
    return syn0, syn1, 0.0 if total is None else float(total)


def _capped_sum(xp, scatter_add, index, steps, used, size):
    """Per row of the table: the sum of its ``steps``, scaled down when it was used more than
    MAX_SUMMED_STEPS times (``used`` is 1 per step that counts)."""
    total = scatter_add(xp, index, steps, size)
    uses = scatter_add(xp, index, used, size)
    return total / xp.clip(uses / MAX_SUMMED_STEPS, 1.0, None)[:, None]


def _backend_of(array):
    from xpnet.backend import backend_of_array
    return backend_of_array(array)


# -- jobs ------------------------------------------------------------------------------------------

def jobs(corpus, key_to_index, batch_words, where):
    """Group sentences into jobs of at most ``batch_words`` raw words, as gensim's job producer.

    A sentence longer than 10,000 words (gensim's limit) is cut into pieces that count as
    sentences of their own for the windows; gensim instead trains on its first 10,000 words
    only. Each piece counts as its share of one sentence in the progress, so the learning rate
    still decays smoothly over a corpus that is one long line.

    Yields ``(word indices, sentence ids, raw words, pieces, sentences)``: out-of-vocabulary words
    are already dropped, ids number the job's pieces from 0, and ``sentences`` is the (possibly
    fractional) number of corpus sentences the job covers.
    """
    get = key_to_index.get
    words, sentence_ids, raw, pieces, sentences = [], [], 0, 0, 0.0
    for sentence in checked_sentences(where, corpus):
        length = len(sentence)
        for start in range(0, max(length, 1), MAX_WORDS_IN_BATCH):
            piece = sentence[start:start + MAX_WORDS_IN_BATCH]
            if raw and raw + len(piece) > batch_words:
                yield words, sentence_ids, raw, pieces, sentences
                words, sentence_ids, raw, pieces, sentences = [], [], 0, 0, 0.0
            indices = [i for i in map(get, piece) if i is not None]
            words.extend(indices)
            sentence_ids.extend([pieces] * len(indices))
            raw += len(piece)
            pieces += 1
            sentences += len(piece) / length if length > MAX_WORDS_IN_BATCH else 1
    if pieces:
        yield words, sentence_ids, raw, pieces, sentences


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


def train_epoch(model, corpus, epoch, *, total_examples, total_words, sampler, progress,
                where="train"):
    """One pass over ``corpus``; returns ``(trained words, raw words)``."""
    kernel = get_kernel("word2vec_train_rows", model.wv.backend)
    syn0 = model.wv.vectors
    syn1neg, syn1 = model.syn1neg, model.syn1
    trained = raw_done = examples_done = 0
    try:
        for words, sentence_ids, raw, pieces, sentences in jobs(
                corpus, model.wv.key_to_index, model.batch_words, where):
            # gensim's schedule: linear in the share of the corpus pushed before this job.
            alpha = model._alpha_at(examples_done / total_examples if total_examples
                                    else raw_done / total_words, epoch)
            if words:
                effective, syn0, syn1neg, syn1 = _train_job(
                    model, words, sentence_ids, pieces, alpha, sampler, kernel,
                    syn0, syn1neg, syn1)
                trained += effective
            raw_done += raw
            examples_done += sentences
            model.min_alpha_yet_reached = alpha
            progress.update(raw, epoch, model.epochs,
                            model.running_training_loss if model.compute_loss else None)
    finally:
        # The fast path updates in place; the twin makes new arrays. Either way the model holds
        # what was trained, also when a bad sentence stops the epoch half-way.
        model.wv.vectors, model.syn1neg, model.syn1 = syn0, syn1neg, syn1
    return trained, raw_done


def _train_job(model, words, sentence_ids, pieces, alpha, sampler, kernel, syn0, syn1neg,
               syn1):
    """Rows of one job through the kernel; returns (words after downsampling, arrays)."""
    backend = model.wv.backend
    hs, ns, effective = sampler.job_rows(backend.asarray(words, dtype="int64"),
                                         backend.asarray(sentence_ids, dtype="int64"), pieces)
    for rows, is_softmax in ((hs, True), (ns, False)):
        if rows is None:
            continue
        syn0, out, loss = kernel(
            backend.xp, syn0, syn1 if is_softmax else syn1neg, rows.context,
            rows.context_weight, rows.error_weight, rows.target, rows.label, rows.target_mask,
            alpha=alpha, batch_size=GENERIC_BATCH_ROWS if model.sg else CBOW_BATCH_ROWS,
            compute_loss=model.compute_loss)
        if is_softmax:
            syn1 = out
        else:
            syn1neg = out
        model.running_training_loss += loss
    return effective, syn0, syn1neg, syn1
