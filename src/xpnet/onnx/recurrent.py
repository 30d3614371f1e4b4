"""Exporter of the recurrent layers RNN, GRU and LSTM: one ONNX ``RNN``/``GRU``/``LSTM`` op per
layer (both directions in one op when bidirectional), stacked layers chained, torch's gate
order converted to ONNX's (LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h, with
``linear_before_reset=1``, which is torch's GRU)."""

from __future__ import annotations

from xpnet import nn
from xpnet.nn.utils.rnn import PackedSequence

from ._errors import ExportError
from ._registry import layer
from .reduce import transposed_weight

_ONNX_OP = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "gru": "GRU", "lstm": "LSTM"}
_GATE_ORDER = {"rnn_tanh": [0], "rnn_relu": [0], "gru": [1, 0, 2], "lstm": [0, 3, 1, 2]}


def _reordered(p, order):
    """A weight or bias with its gate blocks (along axis 0) in ONNX's order."""
    xp, a = p._backend.xp, p.array
    size = a.shape[0] // len(order)
    return xp.concat([a[k * size:(k + 1) * size, ...] for k in order], axis=0)


def _layer_weights(g, module, layer_index, directions):
    """ONNX's W, R and B for one layer: (directions, gates * H, in), (directions, gates * H,
    H), (directions, 2 * gates * H) or None."""
    order = _GATE_ORDER[module.mode]
    w, r, b = [], [], []
    for direction in range(directions):
        suffix = f"_l{layer_index}" + ("_reverse" if direction else "")
        w.append(_reordered(getattr(module, "weight_ih" + suffix), order))
        r.append(_reordered(getattr(module, "weight_hh" + suffix), order))
        if module.bias:
            b.append(module.weight_ih_l0._backend.xp.concat(
                [_reordered(getattr(module, "bias_ih" + suffix), order),
                 _reordered(getattr(module, "bias_hh" + suffix), order)], axis=0))
    xp = module.weight_ih_l0._backend.xp
    base = (g.scope[-1] or type(module).__name__.lower()) + f".onnx_l{layer_index}"
    names = [g.weight(xp.stack(w, axis=0), base + "_W"), g.weight(xp.stack(r, axis=0),
                                                                  base + "_R")]
    names.append(g.weight(xp.stack(b, axis=0), base + "_B") if b else "")
    return names


@layer(nn.RNN, nn.GRU, nn.LSTM)
def _recurrent(g, module, out, input, hx=None, *, lengths=None):  # noqa: A002 - torch's name
    kind = type(module).__name__
    if isinstance(input, PackedSequence):
        raise ExportError(f"ONNX export: {kind} with a PackedSequence input is not supported; "
                          f"export the model on padded input")
    if lengths is not None:
        raise ExportError(f"ONNX export: {kind} with lengths= is not supported; export the "
                          f"model on full-length sequences")
    dt = out[0].dtype.name
    mode, hidden, layers = module.mode, module.hidden_size, module.num_layers
    directions = 2 if module.bidirectional else 1
    dims = g.dims(input)
    x = g.value(input, dt)
    unbatched = input.ndim == 2
    if unbatched:
        x = g.unsqueeze(x, [1])
        steps, batch = dims[0], 1
    elif module.batch_first:
        x = g.transpose(x, [1, 0, 2])
        batch, steps = dims[0], dims[1]
    else:
        steps, batch = dims[0], dims[1]

    h0 = c0 = None
    if hx is not None:
        states = list(hx) if mode == "lstm" else [hx]
        values = [g.value(s, dt) for s in states]
        if unbatched:
            values = [g.unsqueeze(v, [1]) for v in values]
        h0 = values[0]
        c0 = values[1] if mode == "lstm" else None

    attrs = {"hidden_size": hidden,
             "direction": "bidirectional" if directions == 2 else "forward"}
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    elif mode != "lstm":
        attrs["activations"] = ["Tanh" if mode == "rnn_tanh" else "Relu"] * directions
    finals_h, finals_c = [], []
    layer_input = x
    for k in range(layers):
        w, r, b = _layer_weights(g, module, k, directions)

        def rows(state):
            if state is None:
                return ""
            if layers == 1:
                return state
            return g.slice(state, [k * directions], [(k + 1) * directions], [0])

        inputs = [layer_input, w, r, b, "", rows(h0)]
        if mode == "lstm":
            inputs.append(rows(c0))
        while inputs[-1] == "":
            inputs.pop()
        results = g.op(_ONNX_OP[mode], inputs, outputs=3 if mode == "lstm" else 2, **attrs)
        # Y is (T, directions, B, H): directions next to H, then merged with it.
        y = g.transpose(results[0], [0, 2, 1, 3])
        layer_input = g.op("Reshape", [y, g.ints([0, 0, -1])])
        finals_h.append(results[1])
        if mode == "lstm":
            finals_c.append(results[2])

    output = layer_input
    h_n = finals_h[0] if layers == 1 else g.op("Concat", finals_h, axis=0)
    c_n = None
    if mode == "lstm":
        c_n = finals_c[0] if layers == 1 else g.op("Concat", finals_c, axis=0)
    out_dims = [steps, batch, directions * hidden]
    state_dims = [layers * directions, batch, hidden]
    if unbatched:
        output = g.squeeze(output, [1])
        h_n = g.squeeze(h_n, [1])
        c_n = None if c_n is None else g.squeeze(c_n, [1])
        out_dims, state_dims = [steps, directions * hidden], [layers * directions, hidden]
    elif module.batch_first:
        output = g.transpose(output, [1, 0, 2])
        out_dims = [batch, steps, directions * hidden]
    output_tensor, state = out
    g.bind(output_tensor, output, out_dims)
    if mode == "lstm":
        g.bind(state[0], h_n, state_dims)
        g.bind(state[1], c_n, state_dims)
    else:
        g.bind(state, h_n, state_dims)


# -- cells: one step, written out with MatMul and the gate nonlinearities ----------------------

def _affine(g, x, weight, bias, dt):
    name = g.op("MatMul", [x, transposed_weight(g, weight)])
    return name if bias is None else g.op("Add", [name, g.value(bias, dt)])


@layer(nn.RNNCell, nn.GRUCell, nn.LSTMCell)
def _cell(g, module, out, input, hx=None):  # noqa: A002 - torch's name
    mode, hidden = module.mode, module.hidden_size
    first = out[0] if mode == "lstm" else out
    dt = first.dtype.name
    unbatched = input.ndim == 1
    dims = g.dims(input)
    batch = 1 if unbatched else dims[0]
    x = g.value(input, dt)
    if unbatched:
        x = g.unsqueeze(x, [0])
    if hx is None:
        zeros = g.constant_of_shape([batch, hidden], 0, dt)
        states = [zeros, zeros] if mode == "lstm" else [zeros]
    else:
        states = [g.value(s, dt) for s in (hx if mode == "lstm" else [hx])]
        if unbatched:
            states = [g.unsqueeze(s, [0]) for s in states]
    gi = _affine(g, x, module.weight_ih, module.bias_ih, dt)
    gh = _affine(g, states[0], module.weight_hh, module.bias_hh, dt)
    if mode == "lstm":
        i, f, c, o = g.split(g.op("Add", [gi, gh]), [hidden] * 4, 1)
        cell = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [f]), states[1]]),
                            g.op("Mul", [g.op("Sigmoid", [i]), g.op("Tanh", [c])])])
        results = [g.op("Mul", [g.op("Sigmoid", [o]), g.op("Tanh", [cell])]), cell]
    elif mode == "gru":
        ir, iz, i_n = g.split(gi, [hidden] * 3, 1)
        hr, hz, h_n = g.split(gh, [hidden] * 3, 1)
        r = g.op("Sigmoid", [g.op("Add", [ir, hr])])
        z = g.op("Sigmoid", [g.op("Add", [iz, hz])])
        n = g.op("Tanh", [g.op("Add", [i_n, g.op("Mul", [r, h_n])])])
        # (1 - z) * n + z * h = n + z * (h - n)
        results = [g.op("Add", [n, g.op("Mul", [z, g.op("Sub", [states[0], n])])])]
    else:
        results = [g.op("Tanh" if mode == "rnn_tanh" else "Relu", [g.op("Add", [gi, gh])])]
    state_dims = [hidden] if unbatched else [batch, hidden]
    if unbatched:
        results = [g.squeeze(r, [0]) for r in results]
    for t, name in zip(out if mode == "lstm" else [out], results):
        g.bind(t, name, state_dims)
