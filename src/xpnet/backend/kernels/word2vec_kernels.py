"""NumPy fast paths of the word2vec kernels with numba (the ``fast`` extra): ``word2vec_train_rows``
and ``word2vec_negative_draws``.

Why numba: every training row touches a handful of 100-float rows, so the work is small and
scattered. The vectorised twin spends its time in gathers, the (V, D) scatter-add per minibatch
and array temporaries; gensim does the same arithmetic in a Cython loop. This is that loop,
compiled: rows are applied one after another, updating ``syn0`` and ``syn1`` in place (gensim's
sequential SGD), so it is also what the twin computes when no two rows of a minibatch share a
word (tests/test_word2vec_kernels.py compares them on such batches). The negative draws are an
indexed search that returns exactly what the twin's ``searchsorted`` does, ~15x faster.

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
    # fastmath lets LLVM reorder the float32 dot products into SIMD lanes (gensim uses BLAS sdot
    # for the same reason).
    @_compiled(nogil=True, fastmath=True)
    def _train_rows(syn0, syn1, context, context_weight, error_weight, target, label, target_mask,
                    alpha, compute_loss, max_exp):
        rows, width = context.shape
        outputs, size = target.shape[1], syn0.shape[1]
        real = syn0.dtype.type
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
                if target_mask[r, t] == 0:
                    continue
                out = target[r, t]
                f = real(0)
                for k in range(size):
                    f += hidden[k] * syn1[out, k]
                if f <= -max_exp or f >= max_exp:
                    continue  # gensim's rule: no step, no loss
                # exp(-|f|) cannot overflow.
                z = math.exp(-abs(f))
                sigmoid = 1 / (1 + z) if f >= 0 else z / (1 + z)
                g = real((label[r, t] - sigmoid) * alpha)
                if compute_loss:
                    signed = f if label[r, t] > 0.5 else -f
                    loss += max(-signed, 0.0) + math.log1p(z)
                for k in range(size):
                    grad_hidden[k] += g * syn1[out, k]
                    syn1[out, k] += g * hidden[k]
            for c in range(width):
                w = error_weight[r, c]
                if w != 0:
                    row = context[r, c]
                    for k in range(size):
                        syn0[row, k] += w * grad_hidden[k]
        return loss

    @_compiled(nogil=True)
    def _searchsorted_left(table, values, guide, step, out):
        # Indexed search (Chen and Asau, 1974): guide[j] is the answer for j * step, so a draw
        # starts at its bucket's answer and walks the few entries inside the bucket. A binary
        # search is a chain of ~13 dependent loads per draw; this is one or two.
        last = table.shape[0] - 1
        for i in range(values.shape[0]):
            v = values[i]
            at = guide[v // step]
            while at < last and table[at] < v:
                at += 1
            out[i] = at
        return out

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

    @register_fast("word2vec_negative_draws", "numpy")
    def negative_draws(xp, cum_table, draws):
        # About 8 buckets per word keep the walk to one or two steps; building the guide is one
        # sorted searchsorted, small next to the draws of a job.
        buckets = 8 * cum_table.shape[0]
        step = max(1, -(-int(cum_table[-1]) // buckets))
        guide = np.searchsorted(cum_table, np.arange(buckets + 1, dtype=np.int64) * step,
                                side="left")
        flat = draws.reshape(-1)
        out = np.empty(flat.shape, dtype=np.int64)
        return _searchsorted_left(cum_table, flat, guide, step, out).reshape(draws.shape)
