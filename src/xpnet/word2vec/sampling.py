"""From a job of sentences to training rows, on the device and vectorised end to end.

One job (about ``batch_words`` words) goes through, as whole arrays with no per-word Python loop:

1. downsampling: an occurrence of word ``w`` survives when a uniform 32-bit integer is at most
   ``sample_int[w]`` (gensim's rule);
2. the dynamic window: each centre draws ``b`` uniform in ``[0, window)`` and looks
   ``window - b`` words each way (``shrink_windows=False``: always ``window``), staying inside
   its sentence;
3. every window offset at once: an ``(m, 2 * window)`` grid of candidate context positions and
   a mask of the valid ones;
4. rows for the update kernel: skip-gram makes one row per (centre, context) pair whose input is
   the context word (gensim trains ``syn0[context]`` to predict the centre); CBOW makes one row
   per centre whose input is its context words;
5. outputs: negative sampling puts the centre (label 1) beside ``negative`` words drawn from the
   unigram**ns_exponent table by ``searchsorted`` (label 0, masked where they hit the centre);
   hierarchical softmax puts the centre's Huffman points with labels ``1 - code``.

Random numbers come from `xpnet.backend.random.Generator` (host draws moved to the device), so
one seed gives the same rows on every backend; the negative samples alone come from the
device's own generator on torch and CuPy (reproducible from the job's seed, but not the host's
numbers). Each job has its own seed, drawn in job order from
the model's stream, and its draws come from a generator started at that seed in a fixed order
(downsampling, then windows, then negatives): a job's rows do not depend on which thread trains
it or on what other jobs drew. The compiled NumPy job kernel draws from its own small generator
started at the job's seed instead, and builds exactly these rows when handed these draws.
(gensim draws windows and samples from separate generators; on head500, skip-gram with
hierarchical softmax, 3 epochs, WordSim x100 over 7 seeds, one stream shared by every job and
every purpose gave 55.6, separate streams per purpose 56.8, gensim 56.5, with a seed-to-seed
spread of about 1.2 in both libraries: within noise.)
"""

from __future__ import annotations

from dataclasses import dataclass

from xpnet.backend.kernels import get_kernel, register_generic
from xpnet.backend.random import Generator

__all__ = ["Rows", "RowSampler", "negative_draws_generic"]


@register_generic("word2vec_negative_draws")
def negative_draws_generic(xp, cum_table, draws):
    """Word indices of uniform integer ``draws`` in ``[0, cum_table[-1])``: the insertion points
    (side left) in the cumulative table, so word ``i`` comes with probability proportional to
    ``cum_table[i] - cum_table[i - 1]``."""
    flat = xp.reshape(draws, (-1,))
    return xp.reshape(xp.searchsorted(cum_table, flat, side="left"), draws.shape)


@dataclass
class Rows:
    """Inputs of the ``word2vec_train_rows`` kernel for one output layer (see training.py)."""

    context: object          # (B, C) int: rows of syn0 that form the hidden vector
    context_weight: object   # (B, C) float: their weights in the hidden vector
    error_weight: object     # (B, C) float: share of the hidden error each one receives
    target: object           # (B, T) int: rows of the output layer
    label: object            # (B, T) float: 1 for the word to predict, 0 otherwise
    target_mask: object      # (B, T) float: 0 where a target is padding or skipped


class RowSampler:
    """Makes `Rows` for jobs of one model; holds its sampling tables on the device.

    Parameters
    ----------
    backend : xpnet.backend.Backend
    sample_int : list of int
        Downsampling thresholds by word index.
    cum_table : list of int or None
        Negative-sampling table (None without negative sampling).
    huffman : tuple of three lists or None
        ``(points, codes, mask)`` padded tables (None without hierarchical softmax).
    window, negative, sg, cbow_mean, shrink_windows : as in `Word2Vec`
    dtype : str
        Float dtype of the weights.

    Attributes
    ----------
    cache : dict
        Derived tables a fast path builds once for this sampler (host copies, search guides).
    """

    def __init__(self, backend, sample_int, cum_table, huffman, *, window, negative, sg,
                 cbow_mean, shrink_windows, dtype):
        self.backend, self.cache = backend, {}
        self.xp, self.device = backend.xp, backend.device
        self.window, self.negative, self.sg = int(window), int(negative), bool(sg)
        self.cbow_mean, self.shrink_windows = bool(cbow_mean), bool(shrink_windows)
        self.float = backend.dtype(dtype)
        self.sample_int = backend.asarray(sample_int, dtype="int64")
        self.keep_all = min(sample_int) >= 2**32 - 1
        self.cum_table = None if cum_table is None else backend.asarray(cum_table, dtype="int64")
        self.cum_total = None if cum_table is None else int(cum_table[-1])
        self.points = self.turns = None
        if huffman is not None:
            points, codes, mask = huffman
            self.points = backend.asarray(points, dtype="int64")
            # One table for code and padding (-1), so a batch needs two gathers, not three.
            self.turns = backend.asarray(
                [[c if m else -1 for c, m in zip(*row)] for row in zip(codes, mask)],
                dtype="int64")
        offsets = list(range(-self.window, 0)) + list(range(1, self.window + 1))
        self.offsets = backend.asarray(offsets, dtype="int64")
        self.offset_reach = backend.asarray([abs(o) for o in offsets], dtype="int64")

    # -- steps 1-3 ------------------------------------------------------------------------------
    def subsample(self, words, sentence, generator):
        """Keep each occurrence with its word's probability; returns (words, sentence)."""
        if self.keep_all:
            return words, sentence
        draws = generator.integers(self.backend, 0, 2**32, (words.shape[0],))
        keep = self.xp.take(self.sample_int, words) >= draws
        return words[keep], sentence[keep]

    def windows(self, sentence, sentences, generator):
        """(positions, valid): context positions (m, 2w) of every centre and which are usable.

        ``sentence`` holds the (sorted) sentence number of each word, ``sentences`` their count.
        """
        xp, m = self.xp, sentence.shape[0]
        position = xp.arange(m, dtype=xp.int64, device=self.device)
        # Where each sentence starts: one search per sentence, not per word.
        bounds = xp.searchsorted(sentence, xp.arange(sentences + 1, dtype=xp.int64,
                                                     device=self.device), side="left")
        start = xp.take(bounds, sentence)
        end = xp.take(bounds, sentence + 1)
        context = position[:, None] + self.offsets[None, :]
        if self.shrink_windows:
            reach = self.window - generator.integers(self.backend, 0, self.window, (m,))
            valid = self.offset_reach[None, :] <= reach[:, None]
            valid = valid & (context >= start[:, None]) & (context < end[:, None])
        else:
            valid = (context >= start[:, None]) & (context < end[:, None])
        return context, valid

    # -- steps 4-5 ------------------------------------------------------------------------------
    def inputs(self, words, sentence, sentences, generator):
        """(centre words (B,), context (B, C), context_weight, error_weight) of one job."""
        xp = self.xp
        m = words.shape[0]
        context, valid = self.windows(sentence, sentences, generator)
        if self.sg:
            flat_valid = xp.reshape(valid, (-1,))
            centre_pos = xp.reshape(xp.broadcast_to(
                xp.arange(m, dtype=xp.int64, device=self.device)[:, None], valid.shape), (-1,))
            centre = xp.take(words, centre_pos[flat_valid])
            context_words = xp.take(words, xp.reshape(context, (-1,))[flat_valid])[:, None]
            ones = xp.ones(context_words.shape, dtype=self.float, device=self.device)
            return centre, context_words, ones, ones
        context_words = xp.take(words, xp.reshape(xp.clip(context, 0, max(m - 1, 0)), (-1,)))
        context_words = xp.reshape(context_words, valid.shape)
        weight = xp.astype(valid, self.float)
        count = xp.sum(weight, axis=1)
        has_context = count > 0
        # A centre with no context word left (a one-word sentence) has nothing to learn from.
        centre = words[has_context]
        context_words, weight = context_words[has_context], weight[has_context]
        share = weight / count[has_context][:, None]
        # gensim: the mean feeds forward 1/count of each vector and sends back the whole error;
        # the sum feeds forward whole vectors and sends back 1/count of the error.
        if self.cbow_mean:
            return centre, context_words, share, weight
        return centre, context_words, weight, share

    def negative_rows(self, centre, context, context_weight, error_weight, generator):
        xp, n = self.xp, centre.shape[0]
        # From the device's own generator on torch and CuPy: nothing copied from the host.
        draws = generator.device_integers(self.backend, 0, self.cum_total, (n, self.negative))
        # Resolved per job, so use_fast_paths() between train() calls takes effect.
        draw = get_kernel("word2vec_negative_draws", self.backend)
        noise = draw(xp, self.cum_table, draws)
        target = xp.concat([centre[:, None], noise], axis=1)
        label = xp.concat([xp.ones((n, 1), dtype=self.float, device=self.device),
                           xp.zeros((n, self.negative), dtype=self.float, device=self.device)],
                          axis=1)
        # gensim skips a negative draw that is the centre word itself.
        mask = xp.concat([xp.ones((n, 1), dtype=xp.bool, device=self.device),
                          noise != centre[:, None]], axis=1)
        return Rows(context, context_weight, error_weight, target, label,
                    xp.astype(mask, self.float))

    def softmax_rows(self, centre, context, context_weight, error_weight):
        xp = self.xp
        points = xp.take(self.points, centre, axis=0)
        turns = xp.take(self.turns, centre, axis=0)
        return Rows(context, context_weight, error_weight, points,
                    xp.astype(turns == 0, self.float), xp.astype(turns >= 0, self.float))

    def job_rows(self, words, sentence, sentences, *, seed, lockf=None):
        """Rows for hierarchical softmax and for negative sampling (either may be None), and the
        number of words left after downsampling.

        ``words`` holds the job's word indices, ``sentence`` the sentence number (0, 1, ...,
        ``sentences - 1``, non-decreasing) of each; ``seed`` starts the job's random draws.
        ``lockf`` (by word, taken modulo its length as in gensim) scales each input vector's
        share of the error: a word with 0.0 is not updated.
        """
        generator = Generator(seed)
        words, sentence = self.subsample(words, sentence, generator)
        effective = int(words.shape[0])
        if effective == 0:
            return None, None, 0
        centre, context, context_weight, error_weight = self.inputs(words, sentence, sentences,
                                                                    generator)
        if centre.shape[0] == 0:
            return None, None, effective
        if lockf is not None:
            rows = context if lockf.shape[0] == self.sample_int.shape[0] else (
                context % lockf.shape[0])
            error_weight = error_weight * _take_2d(self.xp, lockf, rows)
        hs = None if self.points is None else self.softmax_rows(
            centre, context, context_weight, error_weight)
        ns = None if not self.negative else self.negative_rows(
            centre, context, context_weight, error_weight, generator)
        return hs, ns, effective


def _take_2d(xp, table, index):
    """``table[index]`` for a 1-D table and a 2-D index (the standard's take is 1-D here)."""
    return xp.reshape(xp.take(table, xp.reshape(index, (-1,))), index.shape)
