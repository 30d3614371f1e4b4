"""NumPy fast paths of the recurrent kernels ``rnn_forward`` / ``rnn_backward``.

Same maths, inputs and results as the twins in `xpnet.ops.recurrent`. In float32, with numba
installed, `numba_recurrent` runs the layer (the fused gate kernels of
`numba_recurrent_steps` in a compiled loop over time; 1.6 -> 1.2x PyTorch's LSTM forward,
~1.0-1.08x with `numba_gemm`'s tiled products on AVX-512); this module's NumPy loop serves
float64, and every dtype without numba. It is arranged for OpenBLAS:

- **Transposed state.** Gates and states are kept as (features, batch) blocks, (T, G*H, B) for
  the whole sequence, so the per-step product is ``W_hh @ h`` (M = G*H = 1024, N = B = 32) rather
  than ``h @ W_hh.T`` (M = 32): 185 against 265 us for a 256 -> 1024 step at batch 32, float32,
  one thread, and a 2-layer LSTM layer's forward went from 16.4 to 12.4 ms (CPU time).
- **No allocation in the loop.** The activated gates are written over the input projection
  they came from, and each step writes into preallocated arrays with ``out=``.
- **LSTM gates reordered to i, f, o, g, sigmoid rows halved.** One tanh over the whole gate
  block then gives tanh(a/2) for the three sigmoid gates (sigmoid(a) = tanh(a/2)/2 + 1/2, which
  cannot overflow) and tanh(a) for g: 3 elementwise calls per step instead of 9. Halving is
  exact in binary, and the weight gradients are mapped back to PyTorch's i, f, g, o order.

The directions of a bidirectional layer (``rnn_forward_directions``, ``rnn_backward_directions``)
run at once, one on each of two threads, when their steps are compiled: each direction's loop
then runs on one thread with nothing to wait for between steps, where one direction's steps
shared by two threads wait for each other at every step (LSTM, 1 layer, bidirectional, seq 35,
batch 32, 128 -> 256, float32, two threads: forward 6.7-7.1 -> 5.5-5.6 ms, forward+backward
24.1 -> 19.1-21.0 ms, the kernels alone).

Padded steps (``mask`` false) are handled with ``where=``/``copyto``: the carried state is
copied forward, the output is zero, and backward passes the state gradient through untouched.
"""

from __future__ import annotations

import numpy as np

from . import numba_recurrent, numpy_threads, register_fast


def _lstm_order(hidden):
    """Gate rows in the order i, f, o, g (PyTorch's is i, f, g, o)."""
    idx = np.arange(4 * hidden)
    return np.concatenate([idx[:2 * hidden], idx[3 * hidden:], idx[2 * hidden:3 * hidden]])


def _sigmoid_(a):
    """In place: sigmoid(a) = 0.5 * tanh(a / 2) + 0.5."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _transposed_mask(mask):
    """(T, B, 1) -> (T, 1, B), to broadcast over (features, batch) blocks."""
    return None if mask is None else mask.transpose(0, 2, 1)


def _compiled_steps(dtype):
    """Whether numba_recurrent runs the steps: float32 with numba installed. In float64 its
    kernels take numba's scalar tanh (50x slower than NumPy's vectorised one), so this loop
    stays faster there."""
    return numba_recurrent.numba is not None and dtype == np.float32


@register_fast("rnn_forward", "numpy")
def rnn_forward(xp, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, *, device, save=True):
    if _compiled_steps(x.dtype):
        out, h_n, c_n, tape = numba_recurrent.forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                      mask, save=save)
        return out, h_n, c_n, (tape,)
    steps, batch = x.shape[0], x.shape[1]
    hidden = w_hh.shape[1]
    dtype = x.dtype
    bias = None
    if b_ih is not None:
        bias = b_ih + b_hh
        if mode == "gru":  # b_hn stays inside r * (W_hn h + b_hn)
            bias[2 * hidden:] = b_ih[2 * hidden:]
    if mode == "lstm":
        order = _lstm_order(hidden)
        half = np.ones((4 * hidden, 1), dtype=dtype)
        half[:3 * hidden] = 0.5
        w_ih, w_hh = w_ih[order] * half, w_hh[order] * half
        bias = None if bias is None else bias[order] * half[:, 0]
    acts = np.matmul(w_ih, x.transpose(0, 2, 1))  # (T, G*H, B): one GEMM per step, batched
    if bias is not None:
        acts += bias[:, None]
    hs = np.empty((steps, hidden, batch), dtype=dtype)
    extra = np.empty((steps, hidden, batch), dtype=dtype) if mode in ("lstm", "gru") else None
    rec = np.empty((w_hh.shape[0], batch), dtype=dtype)
    tmp = np.empty((hidden, batch), dtype=dtype)
    b_hn = None if b_hh is None or mode != "gru" else b_hh[2 * hidden:, None]
    mask_t = _transposed_mask(mask)
    keep = None if mask is None else ~mask_t
    h = np.ascontiguousarray(h0.T)
    c = None if c0 is None else np.ascontiguousarray(c0.T)
    h0_t, c0_t = h, c
    for t in range(steps):
        a = acts[t]
        np.matmul(w_hh, h, out=rec)
        h_new = hs[t]
        if mode == "lstm":
            a += rec
            np.tanh(a, out=a)
            sig = a[:3 * hidden]
            sig *= 0.5
            sig += 0.5
            i, f, o, g = (a[k * hidden:(k + 1) * hidden] for k in range(4))
            c_new = extra[t]
            np.multiply(f, c, out=c_new)
            np.multiply(i, g, out=tmp)
            c_new += tmp
            np.tanh(c_new, out=tmp)
            np.multiply(o, tmp, out=h_new)
            if keep is not None:
                np.copyto(c_new, c, where=keep[t])
            c = c_new
        elif mode == "gru":
            hn = extra[t]
            if b_hn is None:
                np.copyto(hn, rec[2 * hidden:])
            else:
                np.add(rec[2 * hidden:], b_hn, out=hn)
            rz = a[:2 * hidden]
            rz += rec[:2 * hidden]
            _sigmoid_(rz)
            r, z, n = a[:hidden], a[hidden:2 * hidden], a[2 * hidden:]
            np.multiply(r, hn, out=tmp)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(h, n, out=tmp)
            tmp *= z
            np.add(n, tmp, out=h_new)
        else:
            a += rec
            if mode == "rnn_tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            np.copyto(h_new, a)
        if keep is not None:
            np.copyto(h_new, h, where=keep[t])
        h = h_new
    out = hs if mask is None else np.where(mask_t, hs, np.zeros((), dtype=dtype))
    c_n = None if c is None else c.T
    return out.transpose(0, 2, 1), h.T, c_n, (h0_t, c0_t, hs, acts, extra)


@register_fast("rnn_forward_directions", "numpy")
def rnn_forward_directions(xp, mode, calls, *, device, save=True):
    return _each_direction(calls[0][0].dtype, calls,
                           lambda call: rnn_forward(xp, mode, *call, device=device, save=save))


@register_fast("rnn_backward_directions", "numpy")
def rnn_backward_directions(xp, mode, calls):
    return _each_direction(calls[0][4].dtype, calls, lambda call: rnn_backward(
        xp, mode, *call[:8], need_input=call[8], need_weights=call[9]))


def _each_direction(dtype, calls, run):
    """[run(call) for call in calls], the calls shared among the kernel team's threads
    (`numpy_threads.run_blocks`, the BLAS held at one thread meanwhile, so that each call's
    loop and products run on one) when there are several and their loops are compiled: the
    Python loop's many small NumPy calls would contend for the GIL."""
    if len(calls) < 2 or not _compiled_steps(dtype):
        return [run(call) for call in calls]
    results = [None] * len(calls)

    def work(i):
        results[i] = run(calls[i])

    numpy_threads.run_blocks(work, list(range(len(calls))))
    return results


@register_fast("rnn_backward", "numpy")
def rnn_backward(xp, mode, saved, g_out, g_hn, g_cn, x, w_ih, w_hh, mask, *, need_input,
                 need_weights):
    if len(saved) == 1:  # numba_recurrent's tape
        return numba_recurrent.backward(saved[0], g_out, g_hn, g_cn, x, w_ih, w_hh,
                                        need_input=need_input, need_weights=need_weights)
    h0, c0, hs, acts, extra = saved  # (features, batch) layout, see rnn_forward
    steps, batch = x.shape[0], x.shape[1]
    hidden = w_hh.shape[1]
    dtype = x.dtype
    order = None
    if mode == "lstm":  # the gates are in the order i, f, o, g
        order = _lstm_order(hidden)
        w_ih, w_hh = w_ih[order], w_hh[order]
    g_out = np.ascontiguousarray(g_out.transpose(0, 2, 1))
    d_in = np.empty(acts.shape, dtype=dtype)
    d_rec = np.empty(acts.shape, dtype=dtype) if mode == "gru" else d_in
    dh = np.array(g_hn.T, dtype=dtype, order="C")
    dc = None
    if mode == "lstm":
        dc = np.zeros_like(dh) if g_cn is None else np.array(g_cn.T, dtype=dtype, order="C")
        dc_new = np.empty_like(dh)
    dh_next = np.empty_like(dh)
    t1, t2 = np.empty_like(dh), np.empty_like(dh)
    w_hh_t = w_hh.T
    mask_t = _transposed_mask(mask)
    for t in range(steps - 1, -1, -1):
        a, gate = acts[t], d_in[t]
        m = None if mask_t is None else mask_t[t]
        if m is None:
            dh += g_out[t]
        else:
            np.add(dh, g_out[t], out=dh, where=m)
        if mode == "lstm":
            i, f, o, g = (a[k * hidden:(k + 1) * hidden] for k in range(4))
            di, df, do, dg = (gate[k * hidden:(k + 1) * hidden] for k in range(4))
            c_prev = extra[t - 1] if t > 0 else c0
            tc = np.tanh(extra[t], out=t1)
            np.multiply(dh, tc, out=do)                        # dh * tanh(c)
            np.multiply(tc, tc, out=t2)                        # dc += dh * o * (1 - tanh(c)^2)
            np.subtract(1, t2, out=t2)
            t2 *= o
            t2 *= dh
            np.add(dc, t2, out=dc_new)
            np.multiply(o, o, out=t2)                          # do *= o (1 - o)
            np.subtract(o, t2, out=t2)
            do *= t2
            np.multiply(i, i, out=t2)                          # di = dc * g * i (1 - i)
            np.subtract(i, t2, out=t2)
            np.multiply(dc_new, g, out=di)
            di *= t2
            np.multiply(f, f, out=t2)                          # df = dc * c_prev * f (1 - f)
            np.subtract(f, t2, out=t2)
            np.multiply(dc_new, c_prev, out=df)
            df *= t2
            np.multiply(g, g, out=t2)                          # dg = dc * i * (1 - g^2)
            np.subtract(1, t2, out=t2)
            np.multiply(dc_new, i, out=dg)
            dg *= t2
            dc_new *= f                                        # dc_prev
            if m is None:
                dc, dc_new = dc_new, dc
            else:
                np.copyto(dc, dc_new, where=m)
        elif mode == "gru":
            r, z, n = a[:hidden], a[hidden:2 * hidden], a[2 * hidden:]
            dr, dz, dn = gate[:hidden], gate[hidden:2 * hidden], gate[2 * hidden:]
            h_prev = hs[t - 1] if t > 0 else h0
            np.multiply(n, n, out=t2)                          # dn = dh (1 - z)(1 - n^2)
            np.subtract(1, t2, out=t2)
            np.subtract(1, z, out=t1)
            np.multiply(dh, t1, out=dn)
            dn *= t2
            np.multiply(r, r, out=t2)                          # dr = dn * hn * r (1 - r)
            np.subtract(r, t2, out=t2)
            np.multiply(dn, extra[t], out=dr)
            dr *= t2
            np.multiply(z, z, out=t2)                          # dz = dh (h_prev - n) z (1 - z)
            np.subtract(z, t2, out=t2)
            np.subtract(h_prev, n, out=dz)
            dz *= dh
            dz *= t2
            rec = d_rec[t]
            np.copyto(rec[:2 * hidden], gate[:2 * hidden])
            np.multiply(dn, r, out=rec[2 * hidden:])
        else:
            if mode == "rnn_tanh":
                np.multiply(a, a, out=t2)
                np.subtract(1, t2, out=t2)
                np.multiply(dh, t2, out=gate)
            else:
                np.multiply(dh, a > 0, out=gate)
        if m is not None:
            np.copyto(gate, 0, where=~m)
            if mode == "gru":
                np.copyto(d_rec[t], 0, where=~m)
        np.matmul(w_hh_t, d_rec[t], out=dh_next)
        if mode == "gru":
            np.multiply(dh, a[hidden:2 * hidden], out=t1)  # + dh * z
            dh_next += t1
        if m is None:
            dh, dh_next = dh_next, dh
        else:
            np.copyto(dh, dh_next, where=m)
    # Whole-sequence products: gates as (G*H, T*B) against (T*B, features) rows.
    flat_in = d_in.transpose(1, 0, 2).reshape(d_in.shape[1], steps * batch)
    dx = dw_ih = dw_hh = db_ih = db_hh = None
    if need_input:
        dx = np.matmul(flat_in.T, w_ih).reshape(x.shape)
    if need_weights:
        flat_rec = flat_in if mode != "gru" else \
            d_rec.transpose(1, 0, 2).reshape(flat_in.shape)
        h_prev = np.empty((steps, batch, hidden), dtype=dtype)
        h_prev[0] = h0.T
        h_prev[1:] = hs[:-1].transpose(0, 2, 1)
        dw_ih = np.matmul(flat_in, x.reshape(steps * batch, -1))
        dw_hh = np.matmul(flat_rec, h_prev.reshape(steps * batch, hidden))
        db_ih = flat_in.sum(axis=1)
        db_hh = db_ih if mode != "gru" else flat_rec.sum(axis=1)
        if order is not None:  # back to PyTorch's i, f, g, o
            inverse = np.argsort(order)
            dw_ih, dw_hh, db_ih = dw_ih[inverse], dw_hh[inverse], db_ih[inverse]
            db_hh = db_ih
    return dx, dh.T, None if dc is None else dc.T, dw_ih, dw_hh, db_ih, db_hh
