"""One recurrent layer over a whole sequence, in one direction or both: a single autograd node.

Forward projects the inputs of every time step with one matmul, then loops over time doing only
the recurrent matmul and the gate math. Backward is one loop back through time (BPTT) that
collects the gate gradients of every step; the weight, bias and input gradients then come from
a few whole-sequence matmuls after it. The maths lives in the kernels ``rnn_forward`` and
``rnn_backward`` (generic twins here; fast paths in `xpnet.backend.kernels`), which the node
calls for each direction through ``rnn_forward_directions`` and ``rnn_backward_directions``.

Equations and gate order are PyTorch's (``torch.nn.RNN``/``GRU``/``LSTM``), with the hidden
size H and the weights ``w_ih`` (G*H, I), ``w_hh`` (G*H, H):

- ``rnn_tanh`` / ``rnn_relu`` (G=1): ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``
- ``lstm`` (G=4, gates i, f, g, o): ``c' = f*c + i*g``, ``h' = o*tanh(c')``
- ``gru`` (G=3, gates r, z, n): ``n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn))``,
  ``h' = (1-z)*n + z*h``

Variable lengths come as a boolean ``mask`` (T, B, 1), true where step t of sequence b is real.
On padded steps the state is carried unchanged and the output is zero, so padding changes
neither the final state nor any gradient; a reversed direction starts at each sequence's own
last step.
"""

from __future__ import annotations

from xpnet.autograd import grad_mode
from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel, register_generic

__all__ = ["RecurrentLayer", "GATES"]

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


class RecurrentLayer(Function):
    """One layer over the whole sequence, in one direction or in both: ``(output, h_n)`` or,
    for LSTM, ``(output, h_n, c_n)``, for each direction in turn.

    Arrays: x (T, B, I) and mask (T, B, 1) bool or None, then for each direction h0 and c0
    (B, H) (c0 None unless LSTM) and the weights and biases as PyTorch names them, ``w_ih,
    w_hh, b_ih, b_hh`` (biases may be None). ``reverse`` holds a bool per direction: true
    where it runs from the last step to the first. One node for both directions of a
    bidirectional layer, as they depend on nothing of each other's and the kernels
    (``rnn_forward_directions``, ``rnn_backward_directions``) may run them at once.
    """

    @staticmethod
    def forward(ctx, x, mask, *params, mode, reverse):
        xp = ctx.xp
        # Both halves from the same place, even if fast paths are switched before backward.
        ctx.backward_kernel = get_kernel("rnn_backward_directions", ctx.backend)
        ctx.mode, ctx.reverse = mode, tuple(reverse)
        ctx.has_bias = params[4] is not None
        calls = []
        for d, backwards in enumerate(ctx.reverse):
            h0, c0, w_ih, w_hh, b_ih, b_hh = params[_PER_DIRECTION * d:_PER_DIRECTION * (d + 1)]
            calls.append((_in_time(xp, x, backwards), h0, c0, w_ih, w_hh, b_ih, b_hh,
                          _in_time(xp, mask, backwards)))
        # Without a graph to record, a kernel need not keep every step's gates.
        save = grad_mode.is_grad_enabled() and True in ctx.needs_input_grad
        results = get_kernel("rnn_forward_directions", ctx.backend)(
            xp, mode, calls, device=ctx.backend.device, save=save)
        outputs, kept = [], []
        for call, backwards, (out, h_n, c_n, saved) in zip(calls, ctx.reverse, results):
            kept.append((call[0], call[3], call[4], call[7], saved))
            outputs += [_in_time(xp, out, backwards), h_n] + ([] if c_n is None else [c_n])
        if save:
            ctx.save_for_backward(*kept)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        xp = ctx.xp
        per = len(grads) // len(ctx.reverse)  # (g_out, g_hn) or, for LSTM, (..., g_cn)
        need = ctx.needs_input_grad
        calls = []
        for d, (backwards, (x, w_ih, w_hh, mask, saved)) in enumerate(
                zip(ctx.reverse, ctx.saved_tensors)):
            g_out, g_hn, *g_cn = grads[per * d:per * (d + 1)]
            first = 2 + _PER_DIRECTION * d  # this direction's h0 among forward's arguments
            calls.append((saved, _in_time(xp, g_out, backwards), g_hn,
                          g_cn[0] if g_cn else None, x, w_ih, w_hh, mask, need[0],
                          any(need[first + 2:first + _PER_DIRECTION])))
        dx, per_direction = None, []
        for backwards, (dx_d, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh) in zip(
                ctx.reverse, ctx.backward_kernel(xp, ctx.mode, calls)):
            if dx_d is not None:
                dx_d = _in_time(xp, dx_d, backwards)
                dx = dx_d if dx is None else dx + dx_d
            if not ctx.has_bias:
                db_ih = db_hh = None
            per_direction += [dh0, dc0, dw_ih, dw_hh, db_ih, db_hh]
        return (dx, None, *per_direction)


_PER_DIRECTION = 6  # h0, c0, w_ih, w_hh, b_ih, b_hh


def _in_time(xp, a, backwards):
    """``a`` (time first) in a reversed direction's order of steps: flipped, or as it is."""
    return xp.flip(a, axis=0) if backwards and a is not None else a


# -- the generic twins ---------------------------------------------------------------------------
# Written functionally (per-step lists, then one stack), as the standard has no item assignment.
# Sigmoids come from one tanh: sigmoid(a) = 0.5 + 0.5 * tanh(a / 2) cannot overflow, and one tanh
# call activates all of an LSTM's gates at once.


def _gate_constants(xp, mode, hidden, dtype, device):
    """(scale, offset) rows such that ``tanh(a * scale) * scale + offset`` applies sigmoid to the
    sigmoid gates and tanh to the tanh gate (LSTM's g)."""
    half = xp.full((hidden,), 0.5, dtype=dtype, device=device)
    one = xp.ones((hidden,), dtype=dtype, device=device)
    zero = xp.zeros((hidden,), dtype=dtype, device=device)
    if mode == "lstm":
        return xp.concat([half, half, one, half]), xp.concat([half, half, zero, half])
    return xp.concat([half, half]), xp.concat([half, half])  # GRU's r and z


def _input_projection(xp, x, w_ih, b_ih):
    """x W_ih^T + b_ih for every step at once: (T, B, G*H)."""
    steps, batch = x.shape[0], x.shape[1]
    proj = xp.matmul(xp.reshape(x, (steps * batch, x.shape[2])), xp.matrix_transpose(w_ih))
    if b_ih is not None:
        proj = proj + b_ih
    return xp.reshape(proj, (steps, batch, w_ih.shape[0]))


@register_generic("rnn_forward")
def rnn_forward(xp, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, *, device, save=True):
    """Run the layer forward in time. Returns ``(output, h_n, c_n, saved)``; ``c_n`` is None
    unless LSTM and ``saved`` is what `rnn_backward` needs, per step in time order:
    the carried states ``hs`` (T, B, H) and the activated gates (LSTM: also ``cs``; GRU: also
    the recurrent part of the candidate, ``h W_hn^T + b_hn``). With ``save`` false no backward
    will run, and a fast path may keep less (the twin keeps its lists either way)."""
    hidden = w_hh.shape[1]
    proj = _input_projection(xp, x, w_ih, b_ih)
    w_hh_t = xp.matrix_transpose(w_hh)
    if mode in ("lstm", "gru"):
        scale, offset = _gate_constants(xp, mode, hidden, x.dtype, device)
    h, c = h0, c0
    outs, hs, cs, acts, hns = [], [], [], [], []
    for t in range(x.shape[0]):
        rec = xp.matmul(h, w_hh_t)
        if b_hh is not None:
            rec = rec + b_hh
        if mode == "lstm":
            act = xp.tanh((proj[t, ...] + rec) * scale) * scale + offset
            c_new = act[:, hidden:2 * hidden] * c + act[:, :hidden] * act[:, 2 * hidden:3 * hidden]
            h_new = act[:, 3 * hidden:] * xp.tanh(c_new)
        elif mode == "gru":
            rz = xp.tanh((proj[t, :, :2 * hidden] + rec[:, :2 * hidden]) * scale) * scale + offset
            hn = rec[:, 2 * hidden:]
            n = xp.tanh(proj[t, :, 2 * hidden:] + rz[:, :hidden] * hn)
            z = rz[:, hidden:]
            h_new = n + z * (h - n)
            act = xp.concat([rz, n], axis=1)
            hns.append(hn)
        else:
            pre = proj[t, ...] + rec
            h_new = xp.tanh(pre) if mode == "rnn_tanh" else xp.maximum(pre, xp.zeros_like(pre))
            act = h_new
        if mask is None:
            h, out = h_new, h_new
            c = c_new if mode == "lstm" else None
        else:
            m = mask[t, ...]
            h = xp.where(m, h_new, h)
            out = xp.where(m, h_new, xp.zeros_like(h_new))
            if mode == "lstm":
                c = xp.where(m, c_new, c)
        outs.append(out)
        hs.append(h)
        acts.append(act)
        if mode == "lstm":
            cs.append(c)
    saved = [xp.stack(hs), xp.stack(acts)]
    if mode == "lstm":
        saved.append(xp.stack(cs))
    elif mode == "gru":
        saved.append(xp.stack(hns))
    return xp.stack(outs), h, c, (h0, c0, *saved)


@register_generic("rnn_backward")
def rnn_backward(xp, mode, saved, g_out, g_hn, g_cn, x, w_ih, w_hh, mask, *, need_input,
                 need_weights):
    """Back through time from the last step. Returns ``(dx, dh0, dc0, dw_ih, dw_hh, db_ih,
    db_hh)``; each is None when not needed (dx unless ``need_input``, the weights and biases
    unless ``need_weights``, dc0 unless LSTM)."""
    h0, c0, hs, acts, extra = (*saved, None) if len(saved) == 4 else saved
    steps, hidden = x.shape[0], w_hh.shape[1]
    dh = g_hn
    dc = g_cn if mode == "lstm" else None
    if dc is None and mode == "lstm":
        dc = xp.zeros_like(h0)
    d_in, d_rec = [], []  # gate gradients for the input side and the recurrent side
    for t in range(steps - 1, -1, -1):
        h_prev = hs[t - 1, ...] if t > 0 else h0
        act = acts[t, ...]
        m = None if mask is None else mask[t, ...]
        # The output at a padded step is a constant zero: its gradient goes nowhere.
        dh_new = dh + (g_out[t, ...] if m is None else xp.where(m, g_out[t, ...], 0.0))
        if mode == "lstm":
            c_prev = extra[t - 1, ...] if t > 0 else c0
            c_new = extra[t, ...]
            i, f = act[:, :hidden], act[:, hidden:2 * hidden]
            g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
            # At a padded step c_new is the carried c_prev, but the mask below drops
            # everything computed from it.
            tc = xp.tanh(c_new)
            dc_new = dc + dh_new * o * (1 - tc * tc)
            gate = xp.concat([dc_new * g * i * (1 - i), dc_new * c_prev * f * (1 - f),
                              dc_new * i * (1 - g * g), dh_new * tc * o * (1 - o)], axis=1)
            dc_prev = dc_new * f
            rec_gate = gate
        elif mode == "gru":
            r, z, n = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:]
            hn = extra[t, ...]
            dn = dh_new * (1 - z) * (1 - n * n)
            dr = dn * hn * r * (1 - r)
            dz = dh_new * (h_prev - n) * z * (1 - z)
            gate = xp.concat([dr, dz, dn], axis=1)
            rec_gate = xp.concat([dr, dz, dn * r], axis=1)
        else:
            deriv = 1 - act * act if mode == "rnn_tanh" else xp.astype(act > 0, act.dtype)
            gate = rec_gate = dh_new * deriv
        if m is not None:
            gate = xp.where(m, gate, 0.0)
            rec_gate = xp.where(m, rec_gate, 0.0) if mode == "gru" else gate
        dh_prev = xp.matmul(rec_gate, w_hh)
        if mode == "gru":
            dh_prev = dh_prev + dh_new * z
        if m is not None:
            dh_prev = xp.where(m, dh_prev, dh)
            if mode == "lstm":
                dc_prev = xp.where(m, dc_prev, dc)
        dh = dh_prev
        if mode == "lstm":
            dc = dc_prev
        d_in.append(gate)
        d_rec.append(rec_gate)
    d_in = xp.stack(d_in[::-1])
    d_rec = d_in if mode != "gru" else xp.stack(d_rec[::-1])
    dx, dw_ih, dw_hh, db_ih, db_hh = _sequence_grads(
        xp, x, h0, hs, d_in, d_rec, w_ih, need_input, need_weights)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


@register_generic("rnn_forward_directions")
def rnn_forward_directions(xp, mode, calls, *, device, save=True):
    """`rnn_forward` of each call's ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask)``, in order:
    the directions of one layer, each on its own steps (a reversed direction's come
    flipped). They depend on nothing of each other's, so that a fast path may run them at
    once."""
    return [rnn_forward(xp, mode, *call, device=device, save=save) for call in calls]


@register_generic("rnn_backward_directions")
def rnn_backward_directions(xp, mode, calls):
    """`rnn_backward` of each call's ``(saved, g_out, g_hn, g_cn, x, w_ih, w_hh, mask,
    need_input, need_weights)``, in order (see `rnn_forward_directions`)."""
    return [rnn_backward(xp, mode, *call[:8], need_input=call[8], need_weights=call[9])
            for call in calls]


def _sequence_grads(xp, x, h0, hs, d_in, d_rec, w_ih, need_input, need_weights):
    """The input, weight and bias gradients from the gate gradients of all steps at once:
    a handful of (T*B)-row matmuls instead of one small one per step."""
    steps, batch = x.shape[0], x.shape[1]
    flat_in = xp.reshape(d_in, (steps * batch, d_in.shape[2]))
    dx = dw_ih = dw_hh = db_ih = db_hh = None
    if need_input:
        dx = xp.reshape(xp.matmul(flat_in, w_ih), x.shape)
    if need_weights:
        flat_rec = flat_in if d_rec is d_in else xp.reshape(d_rec, flat_in.shape)
        h_prev = xp.concat([h0[None, ...], hs[:-1, ...]], axis=0)
        dw_ih = xp.matmul(xp.matrix_transpose(flat_in),
                          xp.reshape(x, (steps * batch, x.shape[2])))
        dw_hh = xp.matmul(xp.matrix_transpose(flat_rec),
                          xp.reshape(h_prev, (steps * batch, h0.shape[1])))
        db_ih = xp.sum(flat_in, axis=0)
        db_hh = db_ih if flat_rec is flat_in else xp.sum(flat_rec, axis=0)
    return dx, dw_ih, dw_hh, db_ih, db_hh
