"""The numba kernels of one recurrent step (LSTM, GRU, RNN), forward and backward: a step's
activations, cell and state updates, or going back its gate gradients, in one call after the
step's product (the loops over time that call them are `numba_recurrent`'s).

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

from . import numba_transpose
from .numba_jit import compiled

try:
    import numba
    from numba.extending import overload
except ImportError:  # the library works without the extra
    numba = None


def compiled_step(fn):
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

    @compiled_step
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

    @compiled_step
    def _keep_padded(new, old, mask):
        """new[:, b] = old[:, b] where mask[b] is false (padded steps carry their state)."""
        for b in range(mask.shape[0]):
            if not mask[b]:
                for j in range(new.shape[0]):
                    new[j, b] = old[j, b]

    @compiled_step
    def activate_sums(rec, bias, gates, start, stop, tanh_start, tanh_stop):
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

    @compiled_step
    def lstm_forward_step(proj, k, rec, bias, gates, h_prev, h_new, c_prev, c_new, y, mask,
                           masked):
        hidden = h_prev.shape[0]
        _activate_rows(proj, k, rec, bias, gates, 0, 4 * hidden, 2 * hidden, 3 * hidden)
        lstm_cell(gates, h_prev, h_new, c_prev, c_new, mask, masked, 0, hidden)
        numba_transpose.transpose(y, h_new)

    @compiled_step
    def lstm_cell(gates, h_prev, h_new, c_prev, c_new, mask, masked, start, stop):
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

    @compiled_step
    def gru_forward_step(proj, k, rec, bias, b_hn, gates, h_prev, h_new, hn, y, mask,
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

    @compiled_step
    def rnn_forward_step(proj, k, rec, bias, h_prev, h_new, y, mask, masked, relu):
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

    @compiled_step
    def _state_gradient(dh, rec, carry, g_out, mask, masked):
        hidden, batch = dh.shape
        for j in range(hidden):
            for b in range(batch):
                dh[j, b] = rec[j, b] + carry[j, b]
        for b in range(batch):
            if mask[b] or not masked:
                for j in range(hidden):
                    dh[j, b] += g_out[b, j]

    @compiled_step
    def _padded_backward(d_gates, dh, carry, mask):
        """On padded columns: no gate gradient, the state gradient passes through."""
        hidden = dh.shape[0]
        for b in range(mask.shape[0]):
            if not mask[b]:
                for r in range(d_gates.shape[0]):
                    d_gates[r, b] = 0
                for j in range(hidden):
                    carry[j, b] = dh[j, b]

    @compiled_step
    def _finish(d, d_out, d_bias, sums):
        """d_out (B, R) = d (R, B), the step's rows of the whole-sequence (T*B, R) gradient,
        and d_bias[r] += the sum of d[r] over the batch; sums is scratch of R or more."""
        numba_transpose.transpose(d_out, d)
        _add_column_sums(d_bias, d_out, 0, d.shape[0], sums)

    @compiled_step
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

    @compiled_step
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

    @compiled_step
    def lstm_backward_step(gates, c_prev, c_new, g_out, rec, carry, dc, d_gates, d_out,
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

    @compiled_step
    def lstm_backward_rows(gates, c_prev, c_new, g_out, rec, carry, dc, d_gates, d_out,
                            d_bias, dh, tc, mask, masked, start, stop):
        """`lstm_backward_step` for hidden units start..stop-1 only (their rows of each gate),
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

    @compiled_step
    def gru_backward_step(gates, hn, h_prev, g_out, rec, carry, d_gates, d_out, d_bias,
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

    @compiled_step
    def rnn_backward_step(gates, g_out, rec, carry, d_gates, d_out, d_bias, dh, sums, mask,
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
