"""Recurrent layers and cells as functions: stacked, bidirectional, variable-length.

Each layer (both its directions) is one `xpnet.ops.recurrent.RecurrentLayer` node over the
whole sequence. The arguments mirror what ``torch.nn.LSTM`` passes to its kernel: a flat list of
weights in PyTorch's order (``w_ih, w_hh[, b_ih, b_hh]`` per layer, the reverse direction's
after the forward one's).
"""

from __future__ import annotations

import numbers

from xpnet import creation, ops
from xpnet.autograd.tensor import Tensor
from xpnet.ops.recurrent import RecurrentLayer

from .dropout import dropout as _dropout

__all__ = ["rnn_tanh", "rnn_relu", "gru", "lstm", "rnn_tanh_cell", "rnn_relu_cell", "gru_cell",
           "lstm_cell"]

_NAMES = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "gru": "GRU", "lstm": "LSTM"}


def _recurrent(mode, input, hx, params, has_biases, num_layers, dropout, training,
               bidirectional, batch_first, lengths):
    op = _NAMES[mode]
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    directions = 2 if bidirectional else 1
    per_layer = 4 if has_biases else 2
    if len(params) != num_layers * directions * per_layer:
        raise ValueError(f"{op}: expected {num_layers * directions * per_layer} weight tensors "
                         f"({num_layers} layers x {directions} directions x {per_layer}), got "
                         f"{len(params)}")
    hidden = params[1].shape[1]
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of 3 dimensions (seq_len, batch, input_size) or 2 "
                         f"(unbatched), got shape {input.shape}")
    x = input.unsqueeze(1) if unbatched else input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    input_size = params[0].shape[1]
    if x.shape[2] != input_size:
        raise ValueError(f"{op}: expected input.size(-1) == input_size = {input_size}, got "
                         f"input of shape {input.shape}")
    if x.dtype != params[0].dtype:
        raise TypeError(f"{op}: input dtype {x.dtype.name} does not match the weights' "
                        f"{params[0].dtype.name}")
    mask = _lengths_mask(op, lengths, steps, batch, x._backend, unbatched)
    h0, c0 = _initial_states(op, mode, hx, num_layers * directions, batch, hidden, x, unbatched)
    finals_h, finals_c = [], []
    layer_input = x
    per_output = 3 if mode == "lstm" else 2  # (output, h_n[, c_n]) per direction
    for layer in range(num_layers):
        arguments = []
        for direction in range(directions):
            k = layer * directions + direction
            w = params[k * per_layer:(k + 1) * per_layer]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            arguments += [h0[k], None if c0 is None else c0[k], w[0], w[1], b_ih, b_hh]
        results = RecurrentLayer.apply(layer_input, mask, *arguments, mode=mode,
                                       reverse=(False, True)[:directions])
        outputs = results[::per_output]
        finals_h += results[1::per_output]
        if mode == "lstm":
            finals_c += results[2::per_output]
        layer_input = outputs[0] if directions == 1 else ops.concat(outputs, axis=2)
        if dropout and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, training=True)
    output = layer_input
    h_n = ops.stack(finals_h)
    c_n = ops.stack(finals_c) if mode == "lstm" else None
    if unbatched:
        output, h_n = output.squeeze(1), h_n.squeeze(1)
        c_n = None if c_n is None else c_n.squeeze(1)
    elif batch_first:
        output = output.transpose(0, 1)
    return output, (h_n if c_n is None else (h_n, c_n))


def _lengths_mask(op, lengths, steps, batch, backend, unbatched):
    """The (T, B, 1) bool mask of real steps, or None when every sequence is full length."""
    if lengths is None:
        return None
    if unbatched:
        raise ValueError(f"{op}: lengths needs a batched input")
    xp = backend.xp
    if isinstance(lengths, Tensor):
        values = lengths.tolist()
    elif isinstance(lengths, (list, tuple)):
        values = list(lengths)
    else:  # an array of any backend
        values = backend.to_numpy(lengths).tolist()
    if len(values) != batch or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{op}: lengths must hold one int per sequence of the batch ({batch}), "
                         f"got {lengths!r}")
    bad = [v for v in values if not 1 <= v <= steps]
    if bad:
        raise ValueError(f"{op}: lengths must be in [1, seq_len = {steps}], got {bad[0]} "
                         f"(lengths {values})")
    if min(values) == steps:
        return None
    device = backend.device
    step = xp.arange(steps, device=device)
    limit = xp.asarray(values, dtype=step.dtype, device=device)
    return xp.reshape(step, (steps, 1, 1)) < xp.reshape(limit, (1, batch, 1))


def _initial_states(op, mode, hx, count, batch, hidden, x, unbatched):
    """(h0, c0) as lists of (B, H) tensors, one per layer and direction; zeros if hx is None."""
    if hx is None:
        z = creation.zeros(batch, hidden, dtype=x.dtype, backend=x._backend)
        return [z] * count, ([z] * count if mode == "lstm" else None)
    if mode == "lstm":
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{op}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        states = list(hx)
    else:
        states = [hx]
    want = (count, hidden) if unbatched else (count, batch, hidden)
    names = ("h_0", "c_0")
    out = []
    for name, s in zip(names, states):
        if not isinstance(s, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(s).__name__}")
        if tuple(s.shape) != want:
            raise ValueError(f"{op}: expected {name} of shape {want} (num_layers * num_directions,"
                             f"{'' if unbatched else ' batch,'} hidden_size), got {tuple(s.shape)}")
        if s.dtype != x.dtype:
            raise TypeError(f"{op}: {name} dtype {s.dtype.name} does not match the input's "
                            f"{x.dtype.name}")
        if unbatched:
            s = s.unsqueeze(1)
        out.append([s[k, ...] for k in range(count)])
    return out[0], (out[1] if mode == "lstm" else None)


def _make_recurrent(mode):
    def fn(input, hx, params, has_biases=True, num_layers=1, dropout=0.0, training=False,
           bidirectional=False, batch_first=False, lengths=None):
        return _recurrent(mode, input, hx, list(params), has_biases, num_layers, dropout,
                          training, bidirectional, batch_first, lengths)
    fn.__name__ = fn.__qualname__ = mode
    fn.__doc__ = f"""{_NAMES[mode]} over a whole sequence (see `xpnet.nn.{_NAMES[mode]}`).

    Parameters
    ----------
    input : Tensor
        (seq_len, batch, input_size), (batch, seq_len, input_size) if ``batch_first``, or
        (seq_len, input_size) unbatched.
    hx : {'(Tensor, Tensor) or None' if mode == 'lstm' else 'Tensor or None'}
        Initial state(s) of shape (num_layers * num_directions, batch, hidden_size); zeros if
        None.
    params : list of Tensor
        ``weight_ih, weight_hh[, bias_ih, bias_hh]`` per layer and direction, in PyTorch's order.
    lengths : sequence of int, optional
        The real length of each sequence; later steps are padding. They change neither the final
        state nor any gradient, and their outputs are zero.

    Returns
    -------
    output, {'(h_n, c_n)' if mode == 'lstm' else 'h_n'}
    """
    return fn


rnn_tanh = _make_recurrent("rnn_tanh")
rnn_relu = _make_recurrent("rnn_relu")
gru = _make_recurrent("gru")
lstm = _make_recurrent("lstm")


def _cell(mode, input, hx, w_ih, w_hh, b_ih, b_hh):
    """One step: the layer primitive over a sequence of length one."""
    op = _NAMES[mode] + "Cell"
    for name, t in (("input", input), ("weight_ih", w_ih), ("weight_hh", w_hh)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    hidden, input_size = w_hh.shape[1], w_ih.shape[1]
    if input.ndim not in (1, 2) or input.shape[-1] != input_size:
        raise ValueError(f"{op}: expected input of shape (batch, {input_size}) or "
                         f"({input_size},), got {input.shape}")
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    batch = x.shape[0]
    states = []
    if hx is None:
        z = creation.zeros(batch, hidden, dtype=x.dtype, backend=x._backend)
        states = [z, z] if mode == "lstm" else [z]
    else:
        given = list(hx) if mode == "lstm" else [hx]
        if mode == "lstm" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{op}: hx must be a tuple (h, c), got {type(hx).__name__}")
        want = (hidden,) if unbatched else (batch, hidden)
        for name, s in zip(("h", "c"), given):
            if not isinstance(s, Tensor) or tuple(s.shape) != want:
                got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(f"{op}: expected {name} of shape {want}, got {got}")
            states.append(s.unsqueeze(0) if unbatched else s)
    results = RecurrentLayer.apply(x.unsqueeze(0), None, states[0],
                                   states[1] if mode == "lstm" else None, w_ih, w_hh, b_ih, b_hh,
                                   mode=mode, reverse=(False,))
    finals = results[1:]
    if unbatched:
        finals = tuple(f.squeeze(0) for f in finals)
    return finals if mode == "lstm" else finals[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of an Elman RNN with tanh: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return _cell("rnn_tanh", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of an Elman RNN with ReLU."""
    return _cell("rnn_relu", input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n as PyTorch's ``GRUCell``)."""
    return _cell("gru", input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o as PyTorch's ``LSTMCell``); returns ``(h', c')``."""
    return _cell("lstm", input, hx, w_ih, w_hh, b_ih, b_hh)
