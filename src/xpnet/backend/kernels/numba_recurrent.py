"""The loops over time of the recurrent layers (LSTM, GRU, RNN), forward and backward,
compiled with numba, calling the step kernels of `numba_recurrent_steps` between the products;
`numpy_recurrent` runs them for float32 when numba is installed (the ``fast`` extra) and keeps
its NumPy loop otherwise.

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
"""

from __future__ import annotations

import numpy as np

from . import numba_atomics, numba_gemm, numba_transpose, numpy_blas, numpy_buffers, numpy_threads
from .numba_recurrent_steps import compiled_step as _compiled

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

if numba is not None:
    from .numba_recurrent_steps import (activate_sums, gru_backward_step, gru_forward_step,
                                        lstm_backward_rows, lstm_backward_step, lstm_cell,
                                        lstm_forward_step, rnn_backward_step, rnn_forward_step)

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
                    lstm_forward_step(proj, k, rec, bias, gates[t], h_prev, h_new, cells[t],
                                       cells[t + 1], ys[t + 1], mask[t], masked)
                elif mode == 1:
                    gru_forward_step(proj, k, rec, bias, b_hn, gates[t], h_prev, h_new, hn[t],
                                      ys[t + 1], mask[t], masked)
                else:
                    rnn_forward_step(proj, k, rec, bias, h_prev, h_new, ys[t + 1], mask[t],
                                      masked, mode == 3)

    @_compiled
    def _backward_step(mode, t, gates, states, cells, hn, g_out, rec, carry, dc, d_gates,
                       d_out, d_bias, d_rec, d_rec_out, d_bias_n, dh, tc, mask, masked):
        """Step t's gate gradients; returns what W_hh^T multiplies next."""
        if mode == 0:
            lstm_backward_step(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry, dc,
                                d_gates, d_out[t], d_bias, dh, tc, mask[t], masked)
            return d_gates
        if mode == 1:
            gru_backward_step(gates[t], hn[t], states[t], g_out[t], rec, carry, d_gates,
                               d_out[t], d_bias, d_rec, d_rec_out[t], d_bias_n, dh,
                               tc.reshape(-1), mask[t], masked)
            return d_rec
        rnn_backward_step(gates[t], g_out[t], rec, carry, d_gates, d_out[t], d_bias, dh,
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
    def _steps_transposed(out, x):
        """out[t] = x[t].T for every step, (T, B, F) -> (T, F, B), in numba_transpose's blocks:
        at (35, 32, 128) on Zen 4, 20 us where NumPy's strided copy took 54, and 91 against 142
        just after a layer's loop (x no longer in cache)."""
        for t in range(x.shape[0]):
            numba_transpose.transpose(out[t], x[t])

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
            activate_sums(rec, bias, step_gates, gate * hidden + start, gate * hidden + stop,
                           2 * hidden, 3 * hidden)
        lstm_cell(step_gates, h_prev, h_new, c_prev, c_new, mask[t], masked, start, stop)
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
                    lstm_backward_rows(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry,
                                        dc, d_slots[i % 2], d_out[t], d_bias, dh, tc[block],
                                        mask[t], masked, start, stop)
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
        _steps_transposed(xt, x)  # (no copy of a reversed direction's flipped view first)
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
                lstm_forward_step(proj, k, rec, bias, gates[t], h_prev, h_new, cells[t],
                                   cells[t + 1], ys[t + 1], mask[t], masked)
            elif mode == "gru":
                gru_forward_step(proj, k, rec, bias, b_hn, gates[t], h_prev, h_new, hn[t],
                                  ys[t + 1], mask[t], masked)
            else:
                rnn_forward_step(proj, k, rec, bias, h_prev, h_new, ys[t + 1], mask[t], masked,
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
            lstm_backward_step(gates[t], cells[t], cells[t + 1], g_out[t], rec, carry, dc,
                                d_gates, d_out[t], d_bias, dh, tc, mask[t], masked)
            recurrent(d_gates)
        elif mode == 1:
            gru_backward_step(gates[t], hn[t], states[t], g_out[t], rec, carry, d_gates,
                               d_out[t], d_bias, d_rec, d_rec_out[t], d_bias_n, dh,
                               tc.reshape(-1), mask[t], masked)
            recurrent(d_rec)
        else:
            rnn_backward_step(gates[t], g_out[t], rec, carry, d_gates, d_out[t], d_bias, dh,
                               tc.reshape(-1), mask[t], masked, mode == 3)
            recurrent(d_gates)
