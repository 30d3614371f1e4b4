"""NumPy fast paths of the word2vec kernels with numba (the ``fast`` extra): ``word2vec_train_job``,
``word2vec_train_rows`` and ``word2vec_negative_draws``.

Why numba: every training row touches a handful of 100-float rows, so the work is small and
scattered. The vectorised twin spends its time in gathers, the (V, D) scatter-add per minibatch
and array temporaries; gensim does the same arithmetic in a Cython loop. This is that loop,
compiled: rows are applied one after another, updating ``syn0`` and ``syn1`` in place (gensim's
sequential SGD), so it is also what the twin computes when no two rows of a minibatch share a
word (tests/test_word2vec_kernels.py compares them on such batches). The negative draws are an
indexed search that returns exactly what the twin's ``searchsorted`` does, ~15x faster.

``word2vec_train_job`` goes further and does a whole job in one compiled call that releases the
GIL: downsampling, windows, negative draws and the updates, without building the rows at all
(gensim's ``train_batch_sg``/``train_batch_cbow``). That is what lets ``workers=N`` Python
threads train at once, each on its own job, writing into the shared tables without locks
(Hogwild, as gensim and the C tool do). Its random numbers come from a small generator seeded
by the job's seed; given the twin's draws instead (``draws=``), it builds exactly the twin's rows,
which is how tests/test_word2vec_kernels.py compares the two.

Without numba nothing is registered and the twin runs.
"""

from __future__ import annotations

import math

import numpy as np

from . import register_fast

MAX_EXP = 6.0  # the twin's xpnet.word2vec.training.MAX_EXP (backend/ may not import word2vec/)

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None


def _compiled(**options):
    """numba.njit that caches the machine code on disk (beside this file, or in numba's user
    cache folder), so only the first run pays the ~5 s compile; where no folder is writable it
    compiles once per process instead of failing the import of every NumPy fast path."""
    def decorate(fn):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # numba: "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(fn)
    return decorate


if numba is not None:
    # splitmix64's constants (Steele, Lea and Flood, "Fast splittable pseudorandom number
    # generators", 2014).
    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)
    _MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    _S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)

    @numba.njit(inline="always")
    def _random(state):
        # splitmix64: 64 good bits for an add and two multiply-xorshifts, with all its state in
        # one word, so each job (each thread) carries its own stream.
        z = state[0] + _GOLDEN
        state[0] = z
        z = (z ^ (z >> _S30)) * _MIX1
        z = (z ^ (z >> _S27)) * _MIX2
        return z ^ (z >> _S31)

    @numba.njit(inline="always")
    def _below(state, n):
        # Uniform in [0, n) for n < 2**32: the top 32 bits times n, shifted down (Lemire 2019;
        # the bias is at most n / 2**32 per value).
        return np.int64(((_random(state) >> _S32) * np.uint64(n)) >> _S32)

    @numba.njit(inline="always")
    def _output(hidden, grad_hidden, out, label, alpha, compute_loss, max_exp):
        """One logistic output: adds its error to grad_hidden and steps ``out``; returns its
        loss (0.0 when skipped or not asked)."""
        real = hidden.dtype.type
        f = real(0)
        for k in range(hidden.shape[0]):
            f += hidden[k] * out[k]
        if f <= -max_exp or f >= max_exp:
            return 0.0  # gensim's rule: no step, no loss
        # exp(-|f|) cannot overflow.
        z = math.exp(-abs(f))
        sigmoid = 1 / (1 + z) if f >= 0 else z / (1 + z)
        g = real((label - sigmoid) * alpha)
        for k in range(hidden.shape[0]):
            grad_hidden[k] += g * out[k]
            out[k] += g * hidden[k]
        if not compute_loss:
            return 0.0
        signed = f if label > 0.5 else -f
        return max(-signed, 0.0) + math.log1p(z)

    # fastmath lets LLVM reorder the float32 dot products into SIMD lanes (gensim uses BLAS sdot
    # for the same reason).
    @_compiled(nogil=True, fastmath=True)
    def _train_rows(syn0, syn1, context, context_weight, error_weight, target, label, target_mask,
                    alpha, compute_loss, max_exp):
        rows, width = context.shape
        outputs, size = target.shape[1], syn0.shape[1]
        hidden = np.empty(size, dtype=syn0.dtype)
        grad_hidden = np.empty(size, dtype=syn0.dtype)
        loss = 0.0
        for r in range(rows):
            hidden[:] = 0
            for c in range(width):
                w = context_weight[r, c]
                if w != 0:
                    row = context[r, c]
                    for k in range(size):
                        hidden[k] += w * syn0[row, k]
            grad_hidden[:] = 0
            for t in range(outputs):
                if target_mask[r, t] != 0:
                    loss += _output(hidden, grad_hidden, syn1[target[r, t]], label[r, t], alpha,
                                    compute_loss, max_exp)
            for c in range(width):
                w = error_weight[r, c]
                if w != 0:
                    row = context[r, c]
                    for k in range(size):
                        syn0[row, k] += w * grad_hidden[k]
        return loss

    @numba.njit(inline="always")
    def _noise_word(cum_table, guide, step, v):
        # Indexed search (Chen and Asau, 1974): guide[j] is the answer for j * step, so a draw
        # starts at its bucket's answer and walks the few entries inside the bucket. A binary
        # search is a chain of ~13 dependent loads per draw; this is one or two.
        at = guide[v // step]
        last = cum_table.shape[0] - 1
        while at < last and cum_table[at] < v:
            at += 1
        return at

    @_compiled(nogil=True, fastmath=True)
    def _train_job(words, lengths, sample_int, keep_all, cum_table, guide, step, points, turns,
                   syn0, syn1neg, syn1, lockf, alpha, window, negative, sg, hs, cbow_mean,
                   shrink_windows, compute_loss, max_exp, seed, given, subsample_draws,
                   window_draws, negative_draws):
        """One job, start to end; returns (words kept by downsampling, loss).

        The twin's steps in the twin's order (xpnet.word2vec.sampling): drop out-of-vocabulary
        words (-1), downsample, draw each centre's reach, then every hierarchical-softmax row
        of the job followed by every negative-sampling row, skip-gram rows by centre and then
        context position. ``given`` takes the random numbers from the three draw arrays (the
        twin's) instead of the job's own generator.
        """
        real = syn0.dtype.type
        size = syn0.shape[1]
        state = np.empty(1, dtype=np.uint64)
        state[0] = seed
        kept = np.empty(words.shape[0], dtype=np.int64)
        first = np.empty(words.shape[0], dtype=np.int64)  # each kept word's sentence: [first, end)
        end = np.empty(words.shape[0], dtype=np.int64)
        m = drawn = position = 0
        for p in range(lengths.shape[0]):
            start = m
            for q in range(position, position + lengths[p]):
                w = words[q]
                if w < 0:
                    continue
                if not keep_all:
                    if given:
                        draw = subsample_draws[drawn]
                        drawn += 1
                    else:
                        draw = np.int64(_random(state) >> _S32)
                    if sample_int[w] < draw:
                        continue
                kept[m] = w
                m += 1
            position += lengths[p]
            for i in range(start, m):
                first[i] = start
                end[i] = m
        reach = np.empty(m, dtype=np.int64)
        for i in range(m):
            if not shrink_windows:
                reach[i] = window
            elif given:
                reach[i] = window - window_draws[i]
            else:
                reach[i] = window - _below(state, window)
        hidden = np.empty(size, dtype=syn0.dtype)
        grad_hidden = np.empty(size, dtype=syn0.dtype)
        noise = np.empty(max(negative, 1), dtype=np.int64)
        locks = lockf.shape[0]
        cum_total = cum_table[cum_table.shape[0] - 1] if cum_table.shape[0] else 1
        loss = 0.0
        drawn = 0
        for softmax in (True, False):
            if (softmax and not hs) or (not softmax and negative == 0):
                continue
            for i in range(m):
                lo = max(first[i], i - reach[i])
                hi = min(end[i], i + reach[i] + 1)
                count = hi - lo - 1
                if count <= 0:
                    continue
                centre = kept[i]
                share = real(1) / real(count)
                # Skip-gram: one row per context word (its vector predicts the centre); CBOW:
                # one row for the centre, from the mean (or sum) of its context vectors.
                for j in range(lo, hi if sg else lo + 1):
                    if sg:
                        if j == i:
                            continue
                        hidden[:] = syn0[kept[j]]
                    else:
                        weight = share if cbow_mean else real(1)
                        hidden[:] = 0
                        for c in range(lo, hi):
                            if c != i:
                                # A local row: LLVM cannot tell that the stores into hidden
                                # leave kept alone, and would reload it in the loop over k.
                                source = syn0[kept[c]]
                                for k in range(size):
                                    hidden[k] += weight * source[k]
                    grad_hidden[:] = 0
                    if softmax:
                        for t in range(turns.shape[1]):
                            turn = turns[centre, t]
                            if turn < 0:
                                break  # the paths are padded at the end
                            loss += _output(hidden, grad_hidden, syn1[points[centre, t]],
                                            real(1) if turn == 0 else real(0), alpha,
                                            compute_loss, max_exp)
                    else:
                        for d in range(negative):
                            if given:
                                v = negative_draws[drawn]
                                drawn += 1
                            else:
                                v = _below(state, cum_total)
                            noise[d] = _noise_word(cum_table, guide, step, v)
                        loss += _output(hidden, grad_hidden, syn1neg[centre], real(1), alpha,
                                        compute_loss, max_exp)
                        for d in range(negative):
                            if noise[d] != centre:  # gensim skips a draw of the centre itself
                                loss += _output(hidden, grad_hidden, syn1neg[noise[d]], real(0),
                                                alpha, compute_loss, max_exp)
                    if sg:
                        row = kept[j]
                        target = syn0[row]
                        scale = lockf[row % locks]
                        for k in range(size):
                            target[k] += scale * grad_hidden[k]
                    else:
                        weight = real(1) if cbow_mean else share
                        for c in range(lo, hi):
                            if c != i:
                                row = kept[c]
                                target = syn0[row]
                                scale = weight * lockf[row % locks]
                                for k in range(size):
                                    target[k] += scale * grad_hidden[k]
        return m, loss

    @_compiled(nogil=True)
    def _searchsorted_left(table, values, guide, step, out):
        for i in range(values.shape[0]):
            out[i] = _noise_word(table, guide, step, values[i])
        return out

    def _guide(cum_table):
        """(guide, step) of the indexed search. About 8 buckets per word keep the walk to one or
        two steps; building it is one sorted searchsorted."""
        buckets = 8 * cum_table.shape[0]
        step = max(1, -(-int(cum_table[-1]) // buckets))
        guide = np.searchsorted(cum_table, np.arange(buckets + 1, dtype=np.int64) * step,
                                side="left")
        return guide, step

    @register_fast("word2vec_train_rows", "numpy")
    def train_rows(xp, syn0, syn1, context, context_weight, error_weight, target, label,
                   target_mask, *, alpha, batch_size, compute_loss=False):
        # batch_size does not apply: rows go one by one, which is batch size 1.
        real = syn0.dtype
        loss = _train_rows(syn0, syn1, context, context_weight.astype(real, copy=False),
                           error_weight.astype(real, copy=False), target,
                           label.astype(real, copy=False), target_mask.astype(real, copy=False),
                           real.type(alpha), bool(compute_loss), real.type(MAX_EXP))
        return syn0, syn1, float(loss)

    def _job_tables(sampler, syn0):
        """The sampler's tables as the compiled job wants them, built once per sampler."""
        tables = sampler.cache.get("numba_job")
        if tables is None:
            empty = np.zeros((0, 1), dtype=np.int64)
            cum_table = (np.zeros(0, dtype=np.int64) if sampler.cum_table is None
                         else np.ascontiguousarray(sampler.cum_table, dtype=np.int64))
            if cum_table.shape[0] and int(cum_table[-1]) >= 2**32:
                raise ValueError(f"word2vec_train_job: the negative-sampling table must total "
                                 f"under 2**32, got {int(cum_table[-1])}")
            guide, step = _guide(cum_table) if cum_table.shape[0] else (cum_table, 1)
            tables = (np.ascontiguousarray(sampler.sample_int, dtype=np.int64), sampler.keep_all,
                      cum_table, guide, step,
                      empty if sampler.points is None else np.ascontiguousarray(sampler.points),
                      empty if sampler.turns is None else np.ascontiguousarray(sampler.turns))
            sampler.cache["numba_job"] = tables
        return tables

    @register_fast("word2vec_train_job", "numpy")
    def train_job(xp, sampler, syn0, syn1neg, syn1, lockf, words, lengths, *, alpha, seed,
                  compute_loss=False, draws=None):
        for name, table in (("wv.vectors", syn0), ("syn1neg", syn1neg), ("syn1", syn1)):
            if table is not None and not table.flags.writeable:
                raise ValueError(f"train: {name} is read-only (memory-mapped with mmap='r'?); "
                                 f"load the model without mmap, or copy the array, to train it")
        sample_int, keep_all, cum_table, guide, step, points, turns = _job_tables(sampler, syn0)
        real = syn0.dtype
        unused = np.zeros((0, syn0.shape[1]), dtype=real)
        given = draws is not None
        none = np.zeros(0, dtype=np.int64)
        subsample_draws, window_draws, negative_draws = (
            (np.asarray(d, dtype=np.int64).reshape(-1) for d in draws) if given
            else (none, none, none))
        lockf = (np.ones(1, dtype=real) if lockf is None
                 else np.ascontiguousarray(lockf, dtype=real))
        effective, loss = _train_job(
            np.asarray(words, dtype=np.int64), np.asarray(lengths, dtype=np.int64), sample_int,
            keep_all, cum_table, guide, step, points, turns, syn0,
            unused if syn1neg is None else syn1neg, unused if syn1 is None else syn1, lockf,
            real.type(alpha), sampler.window, sampler.negative, sampler.sg,
            sampler.points is not None, sampler.cbow_mean, sampler.shrink_windows,
            bool(compute_loss), real.type(MAX_EXP), np.uint64(seed), given, subsample_draws,
            window_draws, negative_draws)
        return int(effective), syn0, syn1neg, syn1, float(loss)

    @register_fast("word2vec_negative_draws", "numpy")
    def negative_draws(xp, cum_table, draws):
        guide, step = _guide(cum_table)
        flat = draws.reshape(-1)
        out = np.empty(flat.shape, dtype=np.int64)
        return _searchsorted_left(cum_table, flat, guide, step, out).reshape(draws.shape)
