"""Recurrent layers (RNN, GRU, LSTM: stacked, bidirectional, variable length) and their cells.

Parameter names, shapes, order and initialisation are PyTorch's, so a ``torch.nn.LSTM`` state
dict loads directly and gives the same results. Each layer, both its directions, runs as one
autograd node over the whole sequence (see `xpnet.ops.recurrent`).
"""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg

from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, _pack, pad_packed_sequence

__all__ = ["RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "GRUCell", "LSTMCell"]

_FUNCTIONS = {"rnn_tanh": F.rnn_tanh, "rnn_relu": F.rnn_relu, "gru": F.gru, "lstm": F.lstm}
_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def _check_size(op, name, value, minimum=1):
    return int_arg(op, name, value, minimum)


class RNNBase(Module):
    """Shared by `RNN`, `GRU` and `LSTM`: the weights of every layer and direction.

    Attributes
    ----------
    weight_ih_l{k}, weight_hh_l{k} : Parameter
        (gates * hidden_size, input size of layer k) and (gates * hidden_size, hidden_size);
        gates is 1 (RNN), 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o).
    bias_ih_l{k}, bias_hh_l{k} : Parameter
        (gates * hidden_size,), when ``bias``.
    ..._reverse : the same for the backward direction when ``bidirectional``.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, dtype=None, backend=None):
        super().__init__()
        op = type(self).__name__
        self.mode = mode
        self.input_size = _check_size(op, "input_size", input_size)
        self.hidden_size = _check_size(op, "hidden_size", hidden_size)
        self.num_layers = _check_size(op, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout must be a number in [0, 1] (the probability of "
                             f"zeroing an element), got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{op}: dropout={dropout} acts between stacked layers only, so it does "
                          f"nothing with num_layers=1", UserWarning, stacklevel=3)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for name, shape in shapes:
                    setattr(self, name + suffix,
                            Parameter(creation.empty(*shape, dtype=dtype, backend=backend)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        """Every weight and bias U(-k, k) with k = 1 / sqrt(hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.all_weights_flat:
            init.uniform_(weight, -bound, bound, generator=generator)

    @property
    def all_weights_flat(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The weights grouped per layer and direction, as PyTorch's ``all_weights``."""
        per = 4 if self.bias else 2
        flat = self.all_weights_flat
        return [flat[i:i + per] for i in range(0, len(flat), per)]

    def flatten_parameters(self):
        """Does nothing: PyTorch compacts cuDNN's weight buffer here; xpnet needs no such step.
        Kept so code written for PyTorch runs unchanged."""

    def forward(self, input, hx=None, *, lengths=None):
        """Run over whole sequences.

        Parameters
        ----------
        input : Tensor or PackedSequence
            (seq_len, batch, input_size), or (batch, seq_len, input_size) with ``batch_first``,
            or unbatched (seq_len, input_size); or a `PackedSequence`.
        hx : Tensor, or (h_0, c_0) for LSTM, optional
            Shape (num_layers * num_directions, batch, hidden_size); zeros if None.
        lengths : sequence of int, optional
            Real length of each padded sequence (an xpnet extension; packing does the same).

        Returns
        -------
        output : Tensor or PackedSequence
            (seq_len, batch, num_directions * hidden_size) (batch first with ``batch_first``);
            zero at padded steps.
        h_n : Tensor, or (h_n, c_n) for LSTM
            The state after each sequence's last real step, per layer and direction.
        """
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError(f"{type(self).__name__}: give lengths or a PackedSequence, not "
                                 f"both")
            order = None if input.sorted_indices is None else input.sorted_indices.tolist()
            input, lengths = pad_packed_sequence(input, batch_first=self.batch_first)
        output, state = _FUNCTIONS[self.mode](
            input, hx, self.all_weights_flat, self.bias, self.num_layers, self.dropout,
            self.training, self.bidirectional, self.batch_first, lengths)
        if packed:  # packed again in the input's order, as PyTorch
            output = _pack(output.transpose(0, 1) if self.batch_first else output,
                           lengths.tolist(), order)
        return output, state

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    r"""Elman RNN: :math:`h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})`
    (or ReLU), stacked and optionally bidirectional, as ``torch.nn.RNN``.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int, default=1
    nonlinearity : {'tanh', 'relu'}, default='tanh'
    bias : bool, default=True
    batch_first : bool, default=False
    dropout : float, default=0
        Dropout on the outputs of every layer but the last, in training mode.
    bidirectional : bool, default=False
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, dtype=None,
                 backend=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, dtype=dtype, backend=backend)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity='relu'"


class GRU(RNNBase):
    r"""Gated recurrent unit, as ``torch.nn.GRU``: gates r, z and the candidate n,

    .. math::
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),

        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})), \quad
        h' = (1 - z) \odot n + z \odot h.

    Parameters as `RNN` (without ``nonlinearity``).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, dtype=None, backend=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, backend=backend)


class LSTM(RNNBase):
    r"""Long short-term memory, as ``torch.nn.LSTM``: gates i, f, g, o (in that order in the
    weights), :math:`c' = f \odot c + i \odot g`, :math:`h' = o \odot \tanh(c')`.

    ``forward(input, (h_0, c_0))`` returns ``(output, (h_n, c_n))``. Parameters as `RNN`
    (without ``nonlinearity``; ``proj_size`` is not supported).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, dtype=None, backend=None):
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral):
            raise TypeError(f"LSTM: proj_size must be an int (0 disables projections), got "
                            f"{type(proj_size).__name__} {proj_size!r}")
        if proj_size < 0:
            raise ValueError(f"LSTM: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size}")
        if proj_size:
            if proj_size >= _check_size("LSTM", "hidden_size", hidden_size):
                raise ValueError(f"LSTM: proj_size has to be smaller than hidden_size "
                                 f"({hidden_size}), got {proj_size}")
            raise NotImplementedError(f"LSTM: proj_size={proj_size} is not supported "
                                      f"(projections, proj_size > 0, are not implemented yet); "
                                      f"use proj_size=0 and a Linear layer on the output")
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, backend=backend)


class RNNCellBase(Module):
    """Shared by the cells: ``weight_ih`` (gates * hidden, input), ``weight_hh`` (gates * hidden,
    hidden) and, with ``bias``, ``bias_ih`` and ``bias_hh``; initialised U(-k, k),
    k = 1 / sqrt(hidden_size), as PyTorch."""

    def __init__(self, mode, input_size, hidden_size, bias=True, *, dtype=None, backend=None):
        super().__init__()
        op = type(self).__name__
        self.mode = mode
        self.input_size = _check_size(op, "input_size", input_size)
        self.hidden_size = _check_size(op, "hidden_size", hidden_size)
        self.bias = bool(bias)
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(creation.empty(gates, input_size, dtype=dtype, backend=backend))
        self.weight_hh = Parameter(creation.empty(gates, hidden_size, dtype=dtype,
                                                  backend=backend))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates, dtype=dtype, backend=backend))
            self.bias_hh = Parameter(creation.empty(gates, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU).

    ``forward(input, hx=None)``: input (batch, input_size) or (input_size,); returns h'.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *, dtype=None,
                 backend=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, bias, dtype=dtype,
                         backend=backend)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        fn = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        return fn(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step (see `GRU`). ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, *, dtype=None, backend=None):
        super().__init__("gru", input_size, hidden_size, bias, dtype=dtype, backend=backend)

    def forward(self, input, hx=None):
        return F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class LSTMCell(RNNCellBase):
    """One LSTM step (see `LSTM`). ``forward(input, (h, c)=None)`` returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, *, dtype=None, backend=None):
        super().__init__("lstm", input_size, hidden_size, bias, dtype=dtype, backend=backend)

    def forward(self, input, hx=None):
        return F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
