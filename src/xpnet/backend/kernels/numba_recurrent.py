"""numba kernels of one recurrent step (LSTM, GRU, RNN), forward and backward, and the loops
over time that call them between BLAS products; `numpy_recurrent` runs them for float32 when
numba is installed (the ``fast`` extra) and keeps its NumPy loop otherwise.

Why compiled: after the per-step product ``W_hh @ h``, the NumPy loop made 10 to 20 calls per
step for the gate math, each a pass over (gates, batch) arrays; here one call does a step's
activations, cell and state updates (or, going back, its gate gradients) with the step's data
in cache, and the loop over time is compiled too, calling NumPy's OpenBLAS itself
(`numpy_blas`), so that no Python runs between steps. Benchmark LSTM layer (seq 35, batch 32,
128 -> 256, float32, one thread, CPU time on the busy 2-core machine): forward 11.2 -> 9.2 ms
with the compiled steps, -> 8.1 ms with the compiled loop (PyTorch 6.9).

Layout: states and gates are (features, batch) blocks, so that the per-step product is
``W_hh @ h`` with M = G*H (rather than M = B: 148 against 195 us for (1024, 256) @ (256, 32));
each step's blocks are contiguous, as a strided step costs a cache miss per row (an LSTM
forward reading its gates from a (G*H, T, B) array took 3 ms more).

- Forward: the input projections of a few steps (`_CHUNK_BYTES`) are one GEMM, read back while
  in cache; the activated gates go to ``gates`` (T, G*H, B), kept for backward, the states to
  ``states`` (T+1, H, B), the next product's operand (an RNN's gates are its states; an LSTM,
  whose backward reads no states, uses two slots in turn), and transposed to ``ys``
  (T+1, B, H), which is the output and backward's ``h_prev`` operand.
- Backward: a step's gate gradients are the next product's operand, (G*H, B), and go
  transposed into ``d_out`` (T, B, G*H), the operand of the whole-sequence products for dx,
  dW_ih and dW_hh; the bias gradients are summed as they come.
- Memory comes from `numpy_buffers`, reused from call to call (fresh pages fault).

Tiled (float32 on AVX-512, batch a multiple of 16, hidden of 8: `numba_gemm`): the per-step
products take numba_gemm's register tiles, with the weights packed once per call, instead of
BLAS. The LSTM's forward multiplies each step's input too (``W_ih @ x_t``, then ``+= W_hh @
h``: no projections), and its loop back through time multiplies ``W_hh^T`` by the gate
gradients in tiles; GRU and RNN take the tiles going back on one thread. LSTM layer at the
benchmark's shapes, one thread, CPU time, interleaved: forward 7.0-7.4 -> 5.6-5.8 ms (128 ->
256) and 9.5-9.8 -> 7.5-8.0 ms (256 -> 256), the backward loop ~1 ms less; PyTorch's
(oneDNN) forward 6.0-6.3 and 8.0-8.2. On several threads (`_sharing`) every thread runs the
same loop and each step's hidden units are shared out in blocks (`_lstm_forward_shared`,
`_lstm_backward_shared`, claimed through `numba_atomics`), so that no thread waits on a pool
call between steps: 1.3-1.5x one thread's speed when the second core is free (forward 6.0-6.4
-> 4.0-4.9 ms; backward loop 5.65 -> 4.29 ms).

NumPy's tanh is vectorised, numba's (libm, one value at a time) 50x slower: 450 us against
8 us over 32k float32. The activations are therefore computed from a rational approximation
of tanh (`_tanh32`, within 6 ulp of float32's tanh; sigmoid(a) = tanh(a/2)/2 + 1/2, which
cannot overflow), which LLVM vectorises: 7.6 us over 32k. Only float32 gets it; with float64
the kernels call the exact tanh (the tests compare them with the twin that way, at 1e-11).

Padded steps (mask false) carry the state unchanged and write a zero output; going back, their
gate gradients are zero and the state gradient passes through.
"""

from __future__ import annotations

import numpy as np

from . import (numba_atomics, numba_gemm, numba_transpose, numpy_blas, numpy_buffers,
               numpy_threads)
from .numba_jit import compiled

try:
    import numba
    from numba.extending import overload
except ImportError:  # the library works without the extra
    numba = None


def _compiled(fn):
    """`numba_jit.compiled` without fastmath's no-NaN assumption: a NaN in the data must come
    out as a NaN, as it does in PyTorch."""
    return compiled(fn, fastmath={"contract", "arcp", "nsz", "afn"})


# tanh(x) ~ x P(x^2) / Q(x^2) on [-9, 9] (beyond, float32's tanh is within an ulp of +-1): a
# relative-error fit in float64 (Lawson-weighted least squares), then rounded to float32.
# Over 7 million float32 inputs it is within 5.7 ulp of tanh (mean 0.77 ulp).
_P = tuple(np.float32(c) for c in (9.9999994168408290e-01, 1.2919228220858925e-01,
                                   2.9207600452034162e-03, 9.2673803903047851e-06,
                                   -1.2780241852102178e-08, 1.8254559537541043e-11))
_Q = tuple(np.float32(c) for c in (1.0, 4.6252512280605812e-01, 2.3763165295470037e-02,
                                   2.2809977917979512e-04))
_CLAMP = np.float32(9.0)
_HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)


def _tanh(x):
    """tanh in the kernels: `_tanh32` for float32, the exact one otherwise."""
    return np.tanh(x)


def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5


if numba is not None:
    def _tanh32(x):
        # Comparisons leave a NaN as it is (min/max would turn it into +-9).
        x = _CLAMP if x > _CLAMP else x
        x = -_CLAMP if x < -_CLAMP else x
        s = x * x
        p = (((((_P[5] * s + _P[4]) * s + _P[3]) * s + _P[2]) * s + _P[1]) * s + _P[0])
        q = ((_Q[3] * s + _Q[2]) * s + _Q[1]) * s + _Q[0]
        y = x * p / q
        y = _ONE32 if y > _ONE32 else y  # it overshoots by an ulp near the clamp
        return -_ONE32 if y < -_ONE32 else y

    def _sigmoid32(x):
        return _HALF32 * _tanh(_HALF32 * x) + _HALF32

    @overload(_tanh, jit_options={"nogil": True})
    def _tanh_overload(x):
        if x == numba.types.float32:
            return _tanh32
        return lambda x: np.tanh(x)

    @overload(_sigmoid, jit_options={"nogil": True})
    def _sigmoid_overload(x):
        if x == numba.types.float32:
            return _sigmoid32
        return lambda x: 0.5 * np.tanh(0.5 * x) + 0.5

    # -- forward steps. rec (G*H, B) is W_hh @ h_prev; proj (G*H, c, B) holds the input
    # projections of c steps, of which this is step k; gates (G*H, B) receive the activated
    # gates; h_prev, h_new (H, B); y (B, H) receives h_new transposed (the output's layout);
    # mask (B,). Each inner loop writes one array: with more, LLVM cannot rule out aliasing
    # within its limit of runtime checks and leaves the loop scalar (a one-loop LSTM step took
    # 87 us, these passes 15 us, at (1024, 32) float32).

    @_compiled
    def _activate_rows(proj, k, rec, bias, gates, start, stop, tanh_start, tanh_stop):
        """gates[r] = act(proj[r, k] + rec[r] + bias[r]) for rows start..stop-1: tanh for the
        rows in tanh_start..tanh_stop-1, sigmoid for the others."""
        batch = gates.shape[1]
        for r in range(start, stop):
            bias_r = bias[r]
            if tanh_start <= r < tanh_stop:
                for b in range(batch):
                    gates[r, b] = _tanh(proj[r, k, b] + rec[r, b] + bias_r)
            else:
                for b in range(batch):
                    gates[r, b] = _sigmoid(proj[r, k, b] + rec[r, b] + bias_r)

    @_compiled
    def _keep_padded(new, old, mask):
        """new[:, b] = old[:, b] where mask[b] is false (padded steps carry their state)."""
        for b in range(mask.shape[0]):
            if not mask[b]:
                for j in range(new.shape[0]):
                    new[j, b] = old[j, b]

    @_compiled
    def _activate_sums(rec, bias, gates, start, stop, tanh_start, tanh_stop):
        """`_activate_rows` where rec already holds the input projection (numba_gemm's
        tiled steps)."""
        batch = gates.shape[1]
        for r in range(start, stop):
            bias_r = bias[r]
            if tanh_start <= r < tanh_stop:
                for b in range(batch):
                    gates[r, b] = _tanh(rec[r, b] + bias_r)
            else:
                for b in range(batch):
                    gates[r, b] = _sigmoid(rec[r, b] + bias_r)

    @_compiled
    def _lstm_forward_step(proj, k, rec, bias, gates, h_prev, h_new, c_prev, c_new, y, mask,
                           masked):
        hidden = h_prev.shape[0]
        _activate_rows(proj, k, rec, bias, gates, 0, 4 * hidden, 2 * hidden, 3 * hidden)
        _lstm_cell(gates, h_prev, h_new, c_prev, c_new, mask, masked, 0, hidden)
        numba_transpose.transpose(y, h_new)

    @_compiled
    def _lstm_cell(gates, h_prev, h_new, c_prev, c_new, mask, masked, start, stop):
        """The cell and state updates of hidden units start..stop-1 from the activated
        gates."""
        hidden, batch = h_prev.shape
        for j in range(start, stop):  # gates i, f, g, o
            for b in range(batch):
                c_new[j, b] = (gates[hidden + j, b] * c_prev[j, b]
                               + gates[j, b] * gates[2 * hidden + j, b])
            for b in range(batch):
                h_new[j, b] = gates[3 * hidden + j, b] * _tanh(c_new[j, b])
            if masked:
                for b in range(batch):
                    c_new[j, b] = c_new[j, b] if mask[b] else c_prev[j, b]
                for b in range(batch):
                    h_new[j, b] = h_new[j, b] if mask[b] else h_prev[j, b]

    @_compiled
    def _gru_forward_step(proj, k, rec, bias, b_hn, gates, h_prev, h_new, hn, y, mask,
                          masked):
        hidden, batch = h_prev.shape
        _activate_rows(proj, k, rec, bias, gates, 0, 2 * hidden, 0, 0)  # r, z
        for j in range(hidden):
            n_row = 2 * hidden + j
            bias_hn, bias_n = b_hn[j], bias[n_row]
            for b in range(batch):
                hn[j, b] = rec[n_row, b] + bias_hn
            for b in range(batch):
                gates[n_row, b] = _tanh(proj[n_row, k, b] + bias_n + gates[j, b] * hn[j, b])
            for b in range(batch):
                n = gates[n_row, b]
                h_new[j, b] = n + gates[hidden + j, b] * (h_prev[j, b] - n)
        if masked:
            _keep_padded(h_new, h_prev, mask)
        numba_transpose.transpose(y, h_new)

    @_compiled
    def _rnn_forward_step(proj, k, rec, bias, h_prev, h_new, y, mask, masked, relu):
        """The activations are the states: h_new is also what backward reads as the gates
        (padded columns, which carry h_prev instead, have no gate gradient)."""
        hidden, batch = h_prev.shape
        if relu:
            zero = h_new.dtype.type(0)
            for j in range(hidden):
                bias_j = bias[j]
                for b in range(batch):
                    a = proj[j, k, b] + rec[j, b] + bias_j
                    h_new[j, b] = zero if a < zero else a  # a NaN stays a NaN
        else:
            _activate_rows(proj, k, rec, bias, h_new, 0, hidden, 0, hidden)
        if masked:
            _keep_padded(h_new, h_prev, mask)
        numba_transpose.transpose(y, h_new)

    # -- backward steps, t from T-1 down to 0. The gradient with respect to h_t is
    # rec (W_hh^T times the recurrent gate gradients of step t+1) + carry (what reaches h_t
    # other than through W_hh: all of it on a padded step, GRU's dh * z) + g_out[t] on a
    # real step; each step leaves carry for the next. d_gates (G*H, B) receive the gradients
    # of the gate pre-activations (the next product's operand), d_out (B, G*H) the same
    # transposed: step t's rows of the (T*B, G*H) operand of the whole-sequence weight
    # products. (Written straight into a (G*H, T*B) operand instead, 128-byte pieces 4 kB
    # apart, the steps took 2.0 ms more per LSTM layer at batch 32; transposed element by
    # element, 0.6 ms; in `numba_transpose`'s blocks of shuffles, 0.3 ms: an LSTM step back
    # at (1024, 32), 57 -> 47 us.)
    # d_bias gathers the sums over the batch; g_out is (B, H) as it comes; dh (H, B) is
    # scratch.

    @_compiled
    def _state_gradient(dh, rec, carry, g_out, mask, masked):
        hidden, batch = dh.shape
        for j in range(hidden):
            for b in range(batch):
                dh[j, b] = rec[j, b] + carry[j, b]
        for b in range(batch):
            if mask[b] or not masked:
                for j in range(hidden):
                    dh[j, b] += g_out[b, j]

    @_compiled
    def _padded_backward(d_gates, dh, carry, mask):
        """On padded columns: no gate gradient, the state gradient passes through."""
        hidden = dh.shape[0]
        for b in range(mask.shape[0]):
            if not mask[b]:
                for r in range(d_gates.shape[0]):
                    d_gates[r, b] = 0
                for j in range(hidden):
                    carry[j, b] = dh[j, b]

    @_compiled
    def _finish(d, d_out, d_bias, sums):
        """d_out (B, R) = d (R, B), the step's rows of the whole-sequence (T*B, R) gradient,
        and d_bias[r] += the sum of d[r] over the batch; sums is scratch of R or more."""
        numba_transpose.transpose(d_out, d)
        _add_column_sums(d_bias, d_out, 0, d.shape[0], sums)

    @_compiled
    def _add_column_sums(d_bias, d_t, first, last, sums):
        """d_bias[r] += the sum over b of d_t[b, r] for r in first..last-1, summed in the
        order b = 0, 1, ... (as a loop over each row of the untransposed block does) but with
        r in the vector lanes: 6.0 -> 1.9 us for (32, 1024) float32, where each row's sum was
        a scalar chain. sums: scratch of last - first or more."""
        size = last - first
        acc = sums[:size]
        for k in range(size):
            acc[k] = 0
        for b in range(d_t.shape[0]):
            row = d_t[b, first:last]
            for k in range(size):
                acc[k] += row[k]
        bias = d_bias[first:last]
        for k in range(size):
            bias[k] += acc[k]

    @_compiled
    def _lstm_units_gradient(start, stop, gates, c_prev, c_new, dh, dc, d_gates, scratch,
                             mask, masked):
        """Hidden units start..stop-1 of an LSTM step going back: their four gate gradients
        (all columns, padded ones too) and their cell gradient carried to the step before
        (kept in padded columns); scratch is (2, (stop - start) * batch). The one-thread step
        and the shared rows both call it.

        Each pass runs over the units' rows of one array as one flat range, through views
        indexed from 0: LLVM then vectorises it (with the (row, column) indices of a loop
        per unit, whose negative-index checks it cannot rule out, the passes stayed scalar:
        31 against 9.3 us for the 256 units of a step at batch 32, float32)."""
        hidden, batch = dh.shape
        plane = hidden * batch
        first, last = start * batch, stop * batch
        size = last - first
        flat, d_flat = gates.reshape(-1), d_gates.reshape(-1)
        i_, f_ = flat[first:last], flat[plane + first:plane + last]
        g_, o_ = flat[2 * plane + first:2 * plane + last], flat[3 * plane + first:3 * plane + last]
        di, df = d_flat[first:last], d_flat[plane + first:plane + last]
        dg = d_flat[2 * plane + first:2 * plane + last]
        do = d_flat[3 * plane + first:3 * plane + last]
        cp, cn = c_prev.reshape(-1)[first:last], c_new.reshape(-1)[first:last]
        dh_, dc_ = dh.reshape(-1)[first:last], dc.reshape(-1)[first:last]
        tanh_c, dc_all = scratch[0, :size], scratch[1, :size]  # the cell's whole gradient
        one = dh.dtype.type(1)
        for k in range(size):
            tanh_c[k] = _tanh(cn[k])
        for k in range(size):
            dc_all[k] = dc_[k] + dh_[k] * o_[k] * (one - tanh_c[k] * tanh_c[k])
        for k in range(size):
            di[k] = dc_all[k] * g_[k] * i_[k] * (one - i_[k])
        for k in range(size):
            df[k] = dc_all[k] * cp[k] * f_[k] * (one - f_[k])
        for k in range(size):
            dg[k] = dc_all[k] * i_[k] * (one - g_[k] * g_[k])
        for k in range(size):
            do[k] = dh_[k] * tanh_c[k] * o_[k] * (one - o_[k])
        if not masked:
            for k in range(size):
                dc_[k] = dc_all[k] * f_[k]
            return
        for j in range(stop - start):
            for b in range(batch):
                k = j * batch + b
                dc_[k] = dc_all[k] * f_[k] if mask[b] else dc_[k]

    @_compiled
    def _lstm_backward_step(gates, c_prev, c_new, g_out, rec, carry, dc, d_gates, d_out,
                            d_bias, dh, tc, mask, masked):
        hidden, batch = dh.shape
        _state_gradient(dh, rec, carry, g_out, mask, masked)
        zero = dh.dtype.type(0)
        _lstm_units_gradient(0, hidden, gates, c_prev, c_new, dh, dc, d_gates, tc, mask, masked)
        if masked:
            _padded_backward(d_gates, dh, carry, mask)
        for j in range(hidden):  # padded columns were set above
            for b in range(batch):
                carry[j, b] = carry[j, b] if masked and not mask[b] else zero
        _finish(d_gates, d_out, d_bias, tc.reshape(-1))

    @_compiled
    def _lstm_backward_rows(gates, c_prev, c_new, g_out, rec, carry, dc, d_gates, d_out,
                            d_bias, dh, tc, mask, masked, start, stop):
        """`_lstm_backward_step` for hidden units start..stop-1 only (their rows of each gate),
        so that threads can share a step."""
        hidden, batch = dh.shape
        zero = dh.dtype.type(0)
        for j in range(start, stop):
            for b in range(batch):
                dh[j, b] = rec[j, b] + carry[j, b]
        for b in range(batch):  # g_out is (B, H)
            if mask[b] or not masked:
                for j in range(start, stop):
                    dh[j, b] += g_out[b, j]
        _lstm_units_gradient(start, stop, gates, c_prev, c_new, dh, dc, d_gates, tc, mask,
                             masked)
        for j in range(start, stop):
            if masked:  # padded columns: no gate gradient, the state gradients pass through
                for b in range(batch):
                    carry[j, b] = zero if mask[b] else dh[j, b]
                for gate in range(4):
                    for b in range(batch):
                        d_gates[gate * hidden + j, b] = (d_gates[gate * hidden + j, b]
                                                         if mask[b] else zero)
            else:
                for b in range(batch):
                    carry[j, b] = zero
        for gate in range(4):
            first, last = gate * hidden + start, gate * hidden + stop
            numba_transpose.transpose_rows(d_out, d_gates, first, last)
            _add_column_sums(d_bias, d_out, first, last, tc.reshape(-1))

    @_compiled
    def _lstm_backward_shared(packed, gates, cells, g_out, rec, carry, dc, d_slots, d_out,
                              d_bias, dh, tc, mask, masked, group, counters, give_way, front):
        """The LSTM's loop back through time with numba_gemm's tiles, run by one thread or
        several at once as `_lstm_forward_shared` (blocks of ``group`` hidden units, counters
        per round). Round i multiplies W_hh^T by the gate gradients of step T - i (rows
        rec[block]; none in round 0, where rec is zero) and then computes step T - 1 - i's
        for the block's units, which need only those rows: one wait a step. The gate
        gradients alternate between the two d_slots, as a thread may start the next step's
        while another still multiplies the last's; the last round only multiplies (dh0)."""
        steps, hidden = g_out.shape[0], dh.shape[0]
        groups = hidden // group
        for i in range(steps + 1):
            t = steps - 1 - i
            at = numba_atomics.ROUND * i
            while True:
                block = numba_atomics.claim(counters, at, groups, front)
                if block < 0:
                    break
                start, stop = block * group, (block + 1) * group
                if i > 0:
                    numba_gemm.product(packed, d_slots[(i - 1) % 2], rec,
                                       start // numba_gemm.ROWS, stop // numba_gemm.ROWS, False)
                if t >= 0:
                    _lstm_backward_rows(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry,
                                        dc, d_slots[i % 2], d_out[t], d_bias, dh, tc[block],
                                        mask[t], masked, start, stop)
                numba_atomics.finish(counters, at)
            numba_atomics.wait_round(counters, at, groups, give_way)

    @_compiled
    def _gru_backward_step(gates, hn, h_prev, g_out, rec, carry, d_gates, d_out, d_bias,
                           d_rec, d_rec_out, d_bias_n, dh, sums, mask, masked):
        """d_rec (G*H, B) receives what goes through W_hh (dr, dz, dn * r); its n rows go to
        d_rec_out (B, H) and their sums to d_bias_n, for the weight gradient."""
        hidden, batch = dh.shape
        _state_gradient(dh, rec, carry, g_out, mask, masked)
        one = dh.dtype.type(1)
        for j in range(hidden):
            for b in range(batch):
                z, n = gates[hidden + j, b], gates[2 * hidden + j, b]
                d_gates[2 * hidden + j, b] = dh[j, b] * (one - z) * (one - n * n)
            for b in range(batch):
                r = gates[j, b]
                d_gates[j, b] = d_gates[2 * hidden + j, b] * hn[j, b] * r * (one - r)
            for b in range(batch):
                z, n = gates[hidden + j, b], gates[2 * hidden + j, b]
                d_gates[hidden + j, b] = dh[j, b] * (h_prev[j, b] - n) * z * (one - z)
            for b in range(batch):
                carry[j, b] = dh[j, b] * gates[hidden + j, b]
        if masked:
            _padded_backward(d_gates, dh, carry, mask)
        for r in range(2 * hidden):
            for b in range(batch):
                d_rec[r, b] = d_gates[r, b]
        for j in range(hidden):
            for b in range(batch):
                d_rec[2 * hidden + j, b] = d_gates[2 * hidden + j, b] * gates[j, b]
        _finish(d_gates, d_out, d_bias, sums)
        _finish(d_rec[2 * hidden:], d_rec_out, d_bias_n, sums)

    @_compiled
    def _rnn_backward_step(gates, g_out, rec, carry, d_gates, d_out, d_bias, dh, sums, mask,
                           masked, relu):
        hidden, batch = dh.shape
        _state_gradient(dh, rec, carry, g_out, mask, masked)
        one, zero = dh.dtype.type(1), dh.dtype.type(0)
        for j in range(hidden):
            if relu:
                for b in range(batch):
                    d_gates[j, b] = dh[j, b] if gates[j, b] > zero else zero
            else:
                for b in range(batch):
                    h = gates[j, b]
                    d_gates[j, b] = dh[j, b] * (one - h * h)
        if masked:
            _padded_backward(d_gates, dh, carry, mask)
        for j in range(hidden):
            for b in range(batch):
                carry[j, b] = carry[j, b] if masked and not mask[b] else zero
        _finish(d_gates, d_out, d_bias, sums)


    # -- the loops over time, with BLAS called from here (numpy_blas.gemm): mode 0 LSTM, 1 GRU,
    # 2 RNN tanh, 3 RNN relu; arrays a mode does not use are empty stand-ins.

    @_compiled
    def _product(gemm, a, b, out, blocks):
        """out = a @ b, all C-ordered, in the row blocks of numpy_blas.row_blocks."""
        inner, columns, size = a.shape[1], b.shape[1], a.itemsize
        one, zero = a.dtype.type(1), a.dtype.type(0)
        for i in range(blocks.shape[0]):
            start, stop = blocks[i, 0], blocks[i, 1]
            gemm(numpy_blas.ROW_MAJOR, numpy_blas.NO_TRANS, numpy_blas.NO_TRANS, stop - start,
                 columns, inner, one, a.ctypes.data + np.uint64(start * inner * size), inner,
                 b.ctypes.data, columns, zero, out.ctypes.data + np.uint64(start * columns * size),
                 columns)

    @_compiled
    def _forward_loop(gemm, mode, x_rows, w_ih, w_hh, bias, b_hn, blocks, gates, states, cells,
                      hn, ys, proj, rec, mask, masked):
        steps, batch = ys.shape[0] - 1, ys.shape[1]
        rows, features = w_ih.shape
        chunk, size = proj.shape[1], x_rows.itemsize
        one, zero = w_ih.dtype.type(1), w_ih.dtype.type(0)
        for start in range(0, steps, chunk):
            stop = min(start + chunk, steps)
            # proj[:, :stop - start] = w_ih @ x_rows[start * B:stop * B].T
            gemm(numpy_blas.ROW_MAJOR, numpy_blas.NO_TRANS, numpy_blas.TRANS, rows,
                 (stop - start) * batch, features, one, w_ih.ctypes.data, features,
                 x_rows.ctypes.data + np.uint64(start * batch * features * size), features,
                 zero, proj.ctypes.data, chunk * batch)
            for t in range(start, stop):
                k = t - start
                if mode == 0:  # LSTM: two state slots, used in turn
                    h_prev, h_new = states[t % 2], states[1 - t % 2]
                else:
                    h_prev, h_new = states[t], states[t + 1]
                _product(gemm, w_hh, h_prev, rec, blocks)
                if mode == 0:
                    _lstm_forward_step(proj, k, rec, bias, gates[t], h_prev, h_new, cells[t],
                                       cells[t + 1], ys[t + 1], mask[t], masked)
                elif mode == 1:
                    _gru_forward_step(proj, k, rec, bias, b_hn, gates[t], h_prev, h_new, hn[t],
                                      ys[t + 1], mask[t], masked)
                else:
                    _rnn_forward_step(proj, k, rec, bias, h_prev, h_new, ys[t + 1], mask[t],
                                      masked, mode == 3)

    @_compiled
    def _backward_step(mode, t, gates, states, cells, hn, g_out, rec, carry, dc, d_gates,
                       d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc, mask, masked):
        """Step t's gate gradients; returns what W_hh^T multiplies next."""
        if mode == 0:
            _lstm_backward_step(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry, dc,
                                d_gates, d_out[t], d_bias, dh, tc, mask[t], masked)
            return d_gates
        if mode == 1:
            _gru_backward_step(gates[t], hn[t], states[t], g_out[t], rec, carry, d_gates,
                               d_out[t], d_bias, d_rec, d_rec_out[t], d_bias_n, dh,
                               tc.reshape(-1), mask[t], masked)
            return d_rec
        _rnn_backward_step(gates[t], g_out[t], rec, carry, d_gates, d_out[t], d_bias, dh,
                           tc.reshape(-1), mask[t], masked, mode == 3)
        return d_gates

    @_compiled
    def _backward_loop(gemm, mode, gates, states, cells, hn, g_out, w_hh_t, blocks, rec, carry,
                       dc, d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc, mask,
                       masked):
        for t in range(g_out.shape[0] - 1, -1, -1):
            operand = _backward_step(mode, t, gates, states, cells, hn, g_out, rec, carry, dc,
                                     d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc,
                                     mask, masked)
            _product(gemm, w_hh_t, operand, rec, blocks)

    # -- the same loops with numba_gemm's tiles for the per-step products (float32 only, as
    # the tiles are). The LSTM's forward multiplies the step's input too: its (1024, 128)
    # product at batch 32 takes 43.5 us in tiles, a 35th of the whole-sequence GEMM 52 us, and
    # no projection is written and read back.

    @_compiled
    def _lstm_forward_tiled(ih_packed, hh_packed, xt, bias, gates, keep_steps, states, cells,
                            ys, rec, mask, masked):
        hidden = states.shape[1]
        for t in range(xt.shape[0]):
            _lstm_tiled_rows(ih_packed, hh_packed, xt, bias, gates, keep_steps, states, cells,
                             ys, rec, mask, masked, t, 0, hidden)

    @_compiled
    def _lstm_tiled_rows(ih_packed, hh_packed, xt, bias, gates, keep_steps, states, cells, ys,
                         rec, mask, masked, t, start, stop):
        """Step t for hidden units start..stop-1 (multiples of 8): their 4 gates' rows of the
        products, then their activations and states. (Each group of 8 units multiplied and
        updated at once, while in L1, took 6.2 against 5.6 ms a layer: the step's operands
        were read once per tile then.)"""
        hidden = states.shape[1]
        h_prev, h_new = states[t % 2], states[1 - t % 2]
        step_gates = gates[t] if keep_steps else gates[0]
        # (kept for backward: every step's cells; else two slots, used in turn)
        c_prev, c_new = (cells[t], cells[t + 1]) if keep_steps else (cells[t % 2],
                                                                     cells[1 - t % 2])
        for gate in range(4):
            first = (gate * hidden + start) // numba_gemm.ROWS
            last = (gate * hidden + stop) // numba_gemm.ROWS
            numba_gemm.product(ih_packed, xt[t], rec, first, last, False)
            numba_gemm.product(hh_packed, h_prev, rec, first, last, True)
        for gate in range(4):
            _activate_sums(rec, bias, step_gates, gate * hidden + start, gate * hidden + stop,
                           2 * hidden, 3 * hidden)
        _lstm_cell(step_gates, h_prev, h_new, c_prev, c_new, mask[t], masked, start, stop)
        numba_transpose.transpose(ys[t + 1][:, start:stop], h_new[start:stop])

    @_compiled
    def _lstm_forward_shared(ih_packed, hh_packed, xt, bias, gates, keep_steps, states, cells,
                             ys, rec, mask, masked, group, counters, give_way, front):
        """`_lstm_forward_tiled` run by several threads at once: each step's hidden units in
        blocks of ``group``, each done by the thread that claims it (`numba_atomics.claim`:
        this thread from the front if ``front``, else from the back), the next step begun once
        the step's blocks are all done. A thread that starts late finds the early steps
        claimed and catches up, and a thread held up by the machine's load holds back at most
        the block it took."""
        groups = states.shape[1] // group
        for t in range(xt.shape[0]):
            at = numba_atomics.ROUND * t
            while True:
                block = numba_atomics.claim(counters, at, groups, front)
                if block < 0:
                    break
                _lstm_tiled_rows(ih_packed, hh_packed, xt, bias, gates, keep_steps, states,
                                 cells, ys, rec, mask, masked, t, block * group,
                                 (block + 1) * group)
                numba_atomics.finish(counters, at)
            numba_atomics.wait_round(counters, at, groups, give_way)

    @_compiled
    def _backward_loop_tiled(packed, mode, gates, states, cells, hn, g_out, rec, carry, dc,
                             d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc, mask,
                             masked):
        tiles = rec.shape[0] // numba_gemm.ROWS
        for t in range(g_out.shape[0] - 1, -1, -1):
            operand = _backward_step(mode, t, gates, states, cells, hn, g_out, rec, carry, dc,
                                     d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc,
                                     mask, masked)
            numba_gemm.product(packed, operand, rec, 0, tiles, False)


# -- the drivers -------------------------------------------------------------------------------

_MODES = {"lstm": 0, "gru": 1, "rnn_tanh": 2, "rnn_relu": 3}
# The LSTM backward's products go to the kernel team from this many multiply-adds (numpy_threads'
# default is for products with no shared loop after them).
_TEAM_PRODUCTS_FROM = 1 << 22
_CHUNK_BYTES = 1 << 19  # the input projections of a few steps at a time, sized to stay in L2
# until the steps read them (4 steps at (1024, 32) float32; as fast as one GEMM for all 35)


def _chunk_steps(gate_rows, batch, itemsize, steps):
    return max(1, min(steps, _CHUNK_BYTES // max(gate_rows * batch * itemsize, 1)))


def _gemm(dtype, *sizes):
    """NumPy's BLAS for the compiled loops, or None: the Python loops then call NumPy (which
    also takes the empty arrays a BLAS call would refuse)."""
    return numpy_blas.gemm(dtype) if all(sizes) else None


def _sharing(hidden):
    """(threads, hidden units per block) for the tiled steps: the block is the largest of 32,
    16, 8 units that gives each thread two blocks or more; one block on one thread."""
    threads = numpy_threads.thread_count()
    if threads > 1 and numba_atomics.GIVE_WAY is not None:
        for group in (32, 16, 8):
            if hidden % group == 0 and hidden // group >= 2 * threads:
                return threads, group
    return 1, max(hidden, 1)


def _share(loop, threads):
    """loop(True) in this thread and loop(False) in threads - 1 of the pool's, at once (the
    argument says which end of each step's blocks a thread takes). Returns when this
    thread's loop does (the loops return once every step is done): a helper that has not
    started yet finds every block claimed and touches nothing but the counters."""
    if threads > 1:
        pool = numpy_threads.pool(threads - 1)
        for _ in range(threads - 1):
            pool.submit(loop, False)
    loop(True)


class Tape:
    """What `forward` keeps for `backward`, in the layout above."""

    def __init__(self, mode, gates, states, ys, cells, hn, step_mask):
        self.mode, self.gates, self.states, self.ys = mode, gates, states, ys
        self.cells, self.hn, self.step_mask = cells, hn, step_mask


def forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, save=True):
    """``(output, h_n, c_n, tape)`` of one layer and direction (see the module docstring).
    With ``save`` false (no backward will run) the tiled LSTM keeps one step's gates and two
    steps' cells, not every step's (a forward of the benchmark's 128 -> 256 layer then writes
    5.6 MB less: 6.16-6.27 -> 6.01-6.19 ms, the loop alone, on a busy machine)."""
    steps, batch, features = x.shape
    gate_rows, hidden = w_hh.shape
    dtype = x.dtype
    w_ih, w_hh = np.ascontiguousarray(w_ih), np.ascontiguousarray(w_hh)
    bias = np.zeros(gate_rows, dtype=dtype) if b_ih is None else b_ih + b_hh
    b_hn = np.zeros(hidden, dtype=dtype)
    if mode == "gru" and b_ih is not None:  # b_hn stays inside r * (W_hn h + b_hn)
        bias[2 * hidden:] = b_ih[2 * hidden:]
        b_hn = np.ascontiguousarray(b_hh[2 * hidden:])
    masked = mask is not None
    step_mask = (np.ascontiguousarray(mask[:, :, 0]) if masked
                 else np.ones((steps, batch), dtype=bool))
    chunk = _chunk_steps(gate_rows, batch, dtype.itemsize, steps)
    state_shape = (steps + 1, hidden, batch)  # h_t in slot t+1
    rnn = mode not in ("lstm", "gru")
    tiled = (mode == "lstm" and steps > 0 and hidden % numba_gemm.ROWS == 0
             and numba_gemm.usable(gate_rows, batch, dtype))
    none = (0, 0, 0)
    # LSTM's backward needs no (H, B) states (ys has them): two slots, used in turn, do.
    # The tiled steps take each step's input as a (features, batch) block and need no
    # projections.
    # Every step's gates and cells for backward; without one, the tiled LSTM's steps use one
    # slot of gates and two of cells in turn.
    keep_steps = save or not tiled
    gates, states, cells, hn, proj, rec, xt, ih_packed, hh_packed = numpy_buffers.arrays(
        dtype, none if rnn else (steps if keep_steps else 1, gate_rows, batch),
        (2, hidden, batch) if mode == "lstm" else state_shape,
        (state_shape if keep_steps else (2, hidden, batch)) if mode == "lstm" else none,
        (steps, hidden, batch) if mode == "gru" else none,
        none if tiled else (gate_rows, chunk, batch),  # proj whole, so that it is C-ordered
        (gate_rows, batch), (steps, features, batch) if tiled else none,
        (gate_rows // numba_gemm.ROWS, features, numba_gemm.ROWS) if tiled else none,
        (gate_rows // numba_gemm.ROWS, hidden, numba_gemm.ROWS) if tiled else none)
    states[0] = h0.T
    if rnn:  # an RNN's gates are its states
        gates = states[1:]
    if mode == "lstm":
        cells[0] = c0.T
    # The output (and h_n) in a block of its own, as the caller may keep it.
    ys = numpy_buffers.array(dtype, (steps + 1, batch, hidden))
    ys[0] = h0
    if tiled:
        xt[...] = x.transpose(0, 2, 1)  # no copy of a reversed direction's flipped view first
        args = (numba_gemm.pack(w_ih, ih_packed), numba_gemm.pack(w_hh, hh_packed), xt, bias,
                gates, keep_steps, states, cells, ys, rec, step_mask, masked)
        threads, group = _sharing(hidden)
        if threads > 1:
            counters = np.zeros(numba_atomics.ROUND * steps, dtype=np.int64)
            _share(lambda front: _lstm_forward_shared(*args, group, counters,
                                                      numba_atomics.GIVE_WAY, front), threads)
        else:
            _lstm_forward_tiled(*args)
    else:
        _forward_blas(mode, x, w_ih, w_hh, bias, b_hn, gates, states, cells, hn, ys, proj, rec,
                      step_mask, masked)
    out = ys[1:]
    if masked:
        out = np.where(mask, out, np.zeros((), dtype=dtype))
    c_n = None  # (a copy: not a view that holds the block)
    if mode == "lstm":
        c_n = (cells[steps] if keep_steps else cells[steps % 2]).T.copy()
    return out, ys[steps], c_n, Tape(mode, gates, states, ys, cells, hn, step_mask)


def _forward_blas(mode, x, w_ih, w_hh, bias, b_hn, gates, states, cells, hn, ys, proj, rec,
                  step_mask, masked):
    """The loop over time with BLAS's products: compiled, or from Python."""
    steps, batch, features = x.shape
    gate_rows, hidden = w_hh.shape
    x_rows = np.ascontiguousarray(x.reshape(steps * batch, features))
    blocks = numpy_blas.row_blocks(gate_rows, hidden, batch)
    gemm = _gemm(x.dtype, steps, batch, features, hidden)
    if gemm is not None:
        _forward_loop(gemm, _MODES[mode], x_rows, w_ih, w_hh, bias, b_hn, blocks, gates, states,
                      cells, hn, ys, proj, rec, step_mask, masked)
    else:
        _forward_from_python(mode, x_rows, w_ih, w_hh, bias, b_hn, blocks, gates, states, cells,
                             hn, ys, proj, rec, step_mask, masked)


def _forward_from_python(mode, x_rows, w_ih, w_hh, bias, b_hn, blocks, gates, states, cells, hn,
                         ys, proj, rec, mask, masked):
    """`_forward_loop` with NumPy's products."""
    steps, batch = ys.shape[0] - 1, ys.shape[1]
    gate_rows, chunk = proj.shape[0], proj.shape[1]
    recurrent = numpy_blas.Product(w_hh, rec, blocks)
    for start in range(0, steps, chunk):
        stop = min(start + chunk, steps)
        np.matmul(w_ih, x_rows[start * batch:stop * batch].T,
                  out=proj.reshape(gate_rows, chunk * batch)[:, :(stop - start) * batch])
        for t in range(start, stop):
            k = t - start
            h_prev, h_new = (states[t % 2], states[1 - t % 2]) if mode == "lstm" else (
                states[t], states[t + 1])
            recurrent(h_prev)
            if mode == "lstm":
                _lstm_forward_step(proj, k, rec, bias, gates[t], h_prev, h_new, cells[t],
                                   cells[t + 1], ys[t + 1], mask[t], masked)
            elif mode == "gru":
                _gru_forward_step(proj, k, rec, bias, b_hn, gates[t], h_prev, h_new, hn[t],
                                  ys[t + 1], mask[t], masked)
            else:
                _rnn_forward_step(proj, k, rec, bias, h_prev, h_new, ys[t + 1], mask[t], masked,
                                  mode == "rnn_relu")


def backward(tape, g_out, g_hn, g_cn, x, w_ih, w_hh, *, need_input, need_weights):
    """``(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)`` from a `forward`'s tape."""
    mode, gates, states = tape.mode, tape.gates, tape.states
    steps, batch, features = x.shape
    gate_rows, hidden = w_hh.shape
    dtype = x.dtype
    gru = mode == "gru"
    d_gates, d_out, d_rec, d_rec_out, dh, tc = numpy_buffers.arrays(
        dtype, (gate_rows, batch), (steps, batch, gate_rows),
        (gate_rows, batch) if gru else (0, 0), (steps, batch, hidden) if gru else (0, 0, 0),
        (hidden, batch), (2, max(hidden * batch, gate_rows)))  # scratch (tc): see the steps
    d_bias = np.zeros(gate_rows, dtype=dtype)
    d_bias_n = np.zeros(hidden if gru else 0, dtype=dtype)
    carry = np.array(g_hn.T, dtype=dtype, order="C")
    rec = np.zeros((hidden, batch), dtype=dtype)
    dc = np.zeros((hidden if mode == "lstm" else 0, batch), dtype=dtype)
    if mode == "lstm" and g_cn is not None:
        dc[...] = g_cn.T
    gemm = _gemm(dtype, steps, batch, features, hidden)
    mask = tape.step_mask
    masked = not mask.all()
    threads, group = _sharing(hidden)
    tiled = steps and numba_gemm.usable(hidden, batch, dtype)
    shared = tiled and mode == "lstm" and threads > 1
    if not shared:  # (that loop reads a strided g_out: no copy to fault)
        g_out = np.ascontiguousarray(g_out)
    if shared:
        packed, d_slots, tcs = numpy_buffers.arrays(
            dtype, (hidden // numba_gemm.ROWS, gate_rows, numba_gemm.ROWS),
            (2, gate_rows, batch), (hidden // group, 2, group * max(batch, 2)))
        numba_gemm.pack(w_hh.T, packed)
        counters = np.zeros(numba_atomics.ROUND * (steps + 1), dtype=np.int64)
        args = (packed, gates, tape.cells, g_out, rec, carry, dc, d_slots, d_out, d_bias, dh,
                tcs, mask, masked, group, counters, numba_atomics.GIVE_WAY)
        _share(lambda front: _lstm_backward_shared(*args, front), threads)
    elif tiled and threads == 1:  # (one thread's tiles are slower than two threads' BLAS;
        # one thread takes 0.2-0.6 ms less a layer here than in _lstm_backward_shared)
        packed = numba_gemm.pack(w_hh.T, numpy_buffers.array(
            dtype, (hidden // numba_gemm.ROWS, gate_rows, numba_gemm.ROWS)))
        _backward_loop_tiled(packed, _MODES[mode], gates, states, tape.cells, tape.hn, g_out,
                             rec, carry, dc, d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n,
                             dh, tc, mask, masked)
    else:
        blocks = numpy_blas.row_blocks(hidden, gate_rows, batch)
        w_hh_t = np.ascontiguousarray(w_hh.T)  # for the small kernels (SMALL_PRODUCT)
        loop = _backward_loop if gemm is not None else _backward_from_python
        loop(gemm, _MODES[mode], gates, states, tape.cells, tape.hn, g_out, w_hh_t, blocks,
             rec, carry, dc, d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc, mask,
             masked)
    dh0 = rec + carry
    flat = d_out.reshape(steps * batch, gate_rows)
    dx = dw_ih = dw_hh = db_ih = db_hh = None
    # What the caller keeps, each in a block of its own. The LSTM's products run on the kernel
    # team, not the BLAS's threads, which would spin on after them through the next layer's
    # shared time steps (numpy_threads.matmul; 2 threads, fwd+bwd of two layers: 49.4 -> 37.2
    # ms). The GRU's and RNN's steps multiply on the BLAS's threads, which the team's would
    # then compete with for the second core (GRU 31.0 -> 41.7 ms, RNN 12.4 -> 16.3 ms).
    if mode == "lstm":
        def product(a, b, out):
            return numpy_threads.matmul(a, b, out=out, split_from=_TEAM_PRODUCTS_FROM)
    else:
        product = np.matmul
    if need_input:
        dx = numpy_buffers.array(dtype, (steps, batch, features))
        product(flat, w_ih, out=dx.reshape(steps * batch, features))
    if need_weights:
        h_prev = tape.ys[:steps].reshape(steps * batch, hidden)
        dw_ih = product(flat.T, x.reshape(steps * batch, features),
                        out=numpy_buffers.array(dtype, w_ih.shape))
        dw_hh = numpy_buffers.array(dtype, w_hh.shape)
        db_ih = d_bias
        if gru:  # the n rows of what went through W_hh differ: dn * r
            product(flat[:, :2 * hidden].T, h_prev, out=dw_hh[:2 * hidden])
            product(d_rec_out.reshape(steps * batch, hidden).T, h_prev,
                    out=dw_hh[2 * hidden:])
            db_hh = np.concatenate([d_bias[:2 * hidden], d_bias_n])
        else:
            product(flat.T, h_prev, out=dw_hh)
            db_hh = d_bias
    return dx, dh0.T, None if mode != "lstm" else dc.T, dw_ih, dw_hh, db_ih, db_hh


def _backward_from_python(gemm, mode, gates, states, cells, hn, g_out, w_hh_t, blocks, rec,
                          carry, dc, d_gates, d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc,
                          mask, masked):
    """`_backward_loop` with NumPy's products."""
    recurrent = numpy_blas.Product(w_hh_t, rec, blocks)
    for t in range(g_out.shape[0] - 1, -1, -1):
        if mode == 0:
            _lstm_backward_step(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry, dc,
                                d_gates, d_out[t], d_bias, dh, tc, mask[t], masked)
            recurrent(d_gates)
        elif mode == 1:
            _gru_backward_step(gates[t], hn[t], states[t], g_out[t], rec, carry, d_gates,
                               d_out[t], d_bias, d_rec, d_rec_out[t], d_bias_n, dh,
                               tc.reshape(-1), mask[t], masked)
            recurrent(d_rec)
        else:
            _rnn_backward_step(gates[t], g_out[t], rec, carry, d_gates, d_out[t], d_bias, dh,
                               tc.reshape(-1), mask[t], masked, mode == 3)
            recurrent(d_gates)
