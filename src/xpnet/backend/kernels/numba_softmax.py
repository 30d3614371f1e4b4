"""The softmax pass of the NumPy attention fast path (numpy_attention.py) with numba (the
``fast`` extra): ``available`` is False without numba, and numpy_attention.py keeps its NumPy
form.

`exp_keys` takes a block of key-major scores ``K (Q scale)^T`` (n, S, L) as the score
product leaves it and, in one pass over each item while it is in cache, takes the
exponential in place and sums over the keys; causal attention hides its keys by their index
instead of by an added -inf bias. NumPy needs a pass each (add the bias, exp, sum). At the
attention benchmark's (32, 8, 128, 128) float32 scores on one thread, in cache: exp and sum
2.3 ms in NumPy, 0.96 ms here (causal 1.04 ms; 1.29 ms with the pass that finds each query's
maximum first). `normalise_rows` scales the output's rows by the sums' reciprocals (0.18
against 0.31 ms), and `shifted_products` is backward's ``(dP - D) * P`` in one pass (0.59
against 1.27 ms).

The exponential of a float32 is computed inline, so that LLVM vectorises the loop (numba has
no vector exp without Intel's SVML, and calling the C library's expf per element took 4x
NumPy's time): e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2) / 2, e^r a degree-6
polynomial and 2^n made from its exponent bits. The polynomial's coefficients were fitted to
e^r on that interval by reweighted least squares on the relative error (Lawson's iteration):
3.1e-9 relative error, below float32's half ulp (6e-8); measured over 4M arguments the result
is within 1 ulp of the correctly rounded exp. float64 scores use the C library's exp, one at
a time: correct, but 4x slower than NumPy's, so numpy_attention.py uses these kernels for
float32 only.
"""

from __future__ import annotations

import math

import numpy as np

from .numba_jit import compiled

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

available = numba is not None

# Fast-math flags that allow contraction into FMAs and reciprocal tricks, but not 'nnan' /
# 'ninf': the scores hold -inf (masked keys), and the loops must keep them meaningful.
_FLAGS = {"contract", "afn", "arcp", "nsz"}


def _compiled(fn):
    return compiled(fn, fastmath=_FLAGS)


def _float32_constant(value):
    return np.float32(value)


_LOG2E = _float32_constant(1 / math.log(2))
# ln 2 in two parts (Cody and Waite): n * _LN2_HIGH is exact for |n| < 2^11, so r = x - n ln 2
# keeps float32's precision.
_LN2_HIGH = _float32_constant(0.693145751953125)
_LN2_LOW = _float32_constant(math.log(2) - 0.693145751953125)
# Adding it rounds x / ln 2 to an integer n and leaves n + 127 (the biased exponent of 2^n) in
# the low bits of the sum's mantissa: 1.5 * 2^23 keeps the sum's exponent fixed for |n| < 2^22.
_ROUNDER = _float32_constant(1.5 * 2**23 + 127)
# Below this e^x is a denormal or 0 (and 2^n's exponent bits would underflow): give 0.
_UNDERFLOW = _float32_constant(-87.3)
_P2, _P3, _P4, _P5, _P6 = (_float32_constant(c) for c in (
    0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.00836874544620514,
    0.0013814540579915047))
_ONE = _float32_constant(1)
# Without a shift, the bounds on a query's sum of exp(score) within which it is used: the
# largest weight then is at most e^60, so e V overflows float32 only for |V| > 1e12, and
# the largest score of a query is at least -20 - ln S, far from exp's underflow (-87).
_LOW_TOTAL, _HIGH_TOTAL = -20.0, 60.0


if available:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic, overload

    @intrinsic
    def _bits_of_float32(typingctx, value):
        """The float32's 32 bits as an int32 (a register move, vectorisable)."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(32))
        return types.int32(types.float32), codegen

    @intrinsic
    def _float32_of_bits(typingctx, bits):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())
        return types.float32(types.int32), codegen

    def _exp(x):
        """e^x, in x's precision; overloaded below per dtype."""
        raise NotImplementedError  # only called from compiled code

    @overload(_exp)
    def _exp_overload(x):
        if x == types.float32:
            def exp_float32(x):
                t = x * _LOG2E + _ROUNDER
                n = t - _ROUNDER
                r = x - n * _LN2_HIGH - n * _LN2_LOW
                p = _P6
                p = p * r + _P5
                p = p * r + _P4
                p = p * r + _P3
                p = p * r + _P2
                p = p * r + _ONE
                p = p * r + _ONE
                power = _float32_of_bits(_bits_of_float32(t) << np.int32(23))
                # -inf (a masked key) and tiny arguments give 0; NaN stays NaN.
                return np.float32(0) if x < _UNDERFLOW else p * power
            return exp_float32
        return lambda x: math.exp(x)

    # Small functions, each one loop: LLVM's code for the exponential's loop was up to half
    # as fast again when other loops or branches shared its function (0.86 against 1.2-1.6 ms
    # for the benchmark's exponentials); loops run from 0 to a count for the same reason (a
    # loop from a start, or over a slice's own length, also took 1.25 ms). The timings of
    # such variants swing with LLVM's choices: measure again after any change here.
    @_compiled
    def _exp_keys(scores, totals, causal, first, stop, keys, low, high):
        """Without a shift; False if some query's total is outside [low, high] (or NaN)."""
        bounded = True
        for i in range(scores.shape[0]):
            _exp_item(scores[i], totals[i], causal, first, stop, keys)
            bounded &= _within(totals[i, first:], stop - first, low, high)
        return bounded

    @_compiled
    def _exp_keys_shifted(scores, totals, causal, first, stop, keys):
        offset = np.empty(scores.shape[2], dtype=scores.dtype)
        for i in range(scores.shape[0]):
            _largest_visible(scores[i], offset, causal, first, stop, keys)
            _exp_item_shifted(scores[i], totals[i], offset, causal, first, stop, keys)

    @_compiled
    def _exp_item(e, total, causal, first, stop, keys):
        width = stop - first
        _fill(total[first:], e.dtype.type(0), width)
        for s in range(keys):
            if causal:  # exp(-inf) = 0 for the hidden keys, in the same vector loop
                _fill(e[s, first:], -np.inf, min(max(first, s), stop) - first)
            _exp_add(e[s, first:], total[first:], width)
        for s in range(keys, e.shape[0]):
            _fill(e[s, first:], e.dtype.type(0), width)

    @_compiled
    def _exp_item_shifted(e, total, offset, causal, first, stop, keys):
        width = stop - first
        _fill(total[first:], e.dtype.type(0), width)
        for s in range(keys):
            if causal:
                _fill(e[s, first:], -np.inf, min(max(first, s), stop) - first)
            _exp_add_shifted(e[s, first:], offset[first:], total[first:], width)
        for s in range(keys, e.shape[0]):
            _fill(e[s, first:], e.dtype.type(0), width)

    @_compiled
    def _largest_visible(e, offset, causal, first, stop, keys):
        """offset[first:stop]: each query's largest visible score, 0 where it has none."""
        width = stop - first
        _fill(offset[first:], -np.inf, width)
        for s in range(keys):
            start = min(max(first, s), stop) if causal else first
            _running_max(e[s, start:], offset[start:], stop - start)
        _finite_or_zero(offset[first:], width)

    @_compiled
    def _within(row, count, low, high):
        inside = True
        for j in range(count):
            inside &= low <= row[j] <= high
        return inside

    @_compiled
    def _fill(row, value, count):
        for j in range(count):
            row[j] = value

    @_compiled
    def _running_max(row, best, count):
        for j in range(count):
            best[j] = max(best[j], row[j])

    @_compiled
    def _finite_or_zero(row, count):
        for j in range(count):
            if row[j] == -np.inf:
                row[j] = 0  # exp(-inf - 0) = 0, not NaN

    @_compiled
    def _exp_add(row, total, count):
        for j in range(count):
            value = _exp(row[j])
            row[j] = value
            total[j] += value

    @_compiled
    def _exp_add_shifted(row, offset, total, count):
        for j in range(count):
            value = _exp(row[j] - offset[j])
            row[j] = value
            total[j] += value

    # Its loops in one function: with a function per row, which LLVM did not inline, this
    # took 1.34 ms instead of 0.59 ms.
    @_compiled
    def _shifted_products(ds, shift, e, factor):
        count = ds.shape[2]
        for i in range(ds.shape[0]):
            row_shift = shift[i]
            for s in range(ds.shape[1]):
                row, weights = ds[i, s], e[i, s]
                for j in range(count):
                    row[j] = (row[j] - row_shift[j]) * weights[j] * factor

    @_compiled
    def _normalise_rows(out, totals, empty, factor):
        items, length, width = out.shape
        for i in range(items):
            for j in range(length):
                t = totals[i, j]
                r = empty if t == 0 else 1 / t
                totals[i, j] = r
                r *= factor
                row = out[i, j]
                for m in range(width):
                    row[m] *= r


def exp_keys(scores, totals, *, shift, causal=False, first=0, stop=None, keys=None):
    """In place on key-major scores (n, S, L) (C-contiguous), for the queries ``first`` to
    ``stop`` and the keys below ``keys`` (the others of those queries become 0)::

        e[s, l] = exp(scores[s, l] - c[l])      (0 where key s > query l if causal)
        totals[:, l] = sum over s of e[s, l]

    where c[l] is the largest visible score of query l when ``shift`` (0 when it has none),
    else 0. ``totals`` is (n, L).

    Returns whether the result can be used: always with ``shift``; without, only if every
    query's total lies in [e^_LOW_TOTAL, e^_HIGH_TOTAL]. Outside, a score was large enough
    that exp overflows (or that exp(s) V might), or all of a query's scores were so negative
    that its weights lost precision or vanished (which is also how a query with every key
    masked looks): the caller computes the scores again and asks for the shift. Softmax is
    the same for any c, and attention scores rarely need one, so this spares the pass that
    finds the maxima (0.35 ms at the benchmark's shapes) and any test that bounds the
    scores beforehand (1 ms for the per-block norms of Q and K that bounded them)."""
    stop = scores.shape[-1] if stop is None else min(stop, scores.shape[-1])
    keys = scores.shape[-2] if keys is None else min(keys, scores.shape[-2])
    first = max(first, 0)
    if shift:
        _exp_keys_shifted(scores, totals, bool(causal), first, stop, keys)
        return True
    dtype = scores.dtype.type
    return bool(_exp_keys(scores, totals, bool(causal), first, stop, keys,
                          dtype(math.exp(_LOW_TOTAL)), dtype(math.exp(_HIGH_TOTAL))))


def shifted_products(ds, shift, e, *, factor=1):
    """``ds = (ds - shift) * e * factor`` in place, one pass: ds and e (n, S, L), shift (n, L)
    (the softmax backward's ``(dP - rowsum(P dP)) * P`` in the key-major layout)."""
    _shifted_products(ds, shift, e, ds.dtype.type(factor))


def normalise_rows(out, totals, *, empty_rows, factor=1):
    """``totals`` (n, L) becomes its reciprocal (0, or NaN when ``empty_rows == 'nan'``, where
    a total is 0: a query with nothing to attend to), and each row of ``out`` (n, L, Ev) is
    multiplied by it and by ``factor``."""
    dtype = out.dtype.type
    _normalise_rows(out, totals, dtype(np.nan if empty_rows == "nan" else 0), dtype(factor))

