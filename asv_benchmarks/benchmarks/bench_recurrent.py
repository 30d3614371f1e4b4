"""Recurrent layers on the issue's shapes, float32: forward and forward+backward.

seq_len 35, batch 32, input 128, hidden 256: LSTM, GRU and RNN with 2 layers, and a 1-layer
bidirectional LSTM. ``asv_benchmarks/rnn_vs_torch.py`` times the same cases next to PyTorch.
"""

import xpnet

from .bench_autograd import _activate, _synchronize

BACKENDS = ["numpy", "torch", "cupy"]
SEQ, BATCH, INPUT, HIDDEN = 35, 32, 128, 256
# name -> (layer class name, num_layers, bidirectional)
CASES = {
    "lstm": ("LSTM", 2, False),
    "gru": ("GRU", 2, False),
    "rnn": ("RNN", 2, False),
    "bilstm": ("LSTM", 1, True),
}


class Recurrent:
    params = [BACKENDS, list(CASES)]
    param_names = ["backend", "case"]

    def setup(self, backend, case):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        kind, layers, bidirectional = CASES[case]
        self.layer = getattr(xpnet.nn, kind)(INPUT, HIDDEN, num_layers=layers,
                                             bidirectional=bidirectional)
        self.layer.reset_parameters(generator=generator)
        self.x = xpnet.randn(SEQ, BATCH, INPUT, generator=generator, requires_grad=True)
        self.grad = xpnet.randn(SEQ, BATCH, HIDDEN * (2 if bidirectional else 1),
                                generator=generator)

    def teardown(self, backend, case):
        xpnet.set_backend(self._previous)

    def time_forward(self, backend, case):
        with xpnet.no_grad():
            _synchronize(self.layer(self.x)[0])

    def _forward_backward(self):
        self.layer.zero_grad(set_to_none=True)
        self.x.grad = None
        self.layer(self.x)[0].backward(self.grad)
        _synchronize(self.x.grad)

    def time_forward_backward(self, backend, case):
        self._forward_backward()

    def peakmem_forward_backward(self, backend, case):
        self._forward_backward()
