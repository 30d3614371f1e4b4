"""Convolutions on the issue's three shapes, float32: forward and forward+backward.

- conv2d: N=32, 64 -> 64 channels, 32x32, 3x3, padding 1;
- lenet: LeNet's first layer, N=64, 1 -> 6 channels, 28x28, 5x5;
- conv1d: a text CNN's, N=64, 128 -> 100 channels, length 50, width 3.

``asv_benchmarks/conv_vs_torch.py`` times the same shapes next to PyTorch.
"""

import xpnet
import xpnet.functional as F

from .bench_autograd import _activate, _synchronize

BACKENDS = ["numpy", "torch", "cupy"]

# name -> (function, input shape, weight shape, options)
SHAPES = {
    "conv2d": (F.conv2d, (32, 64, 32, 32), (64, 64, 3, 3), {"padding": 1}),
    "lenet": (F.conv2d, (64, 1, 28, 28), (6, 1, 5, 5), {}),
    "conv1d": (F.conv1d, (64, 128, 50), (100, 128, 3), {}),
}


class Conv:
    params = [BACKENDS, list(SHAPES)]
    param_names = ["backend", "shape"]

    def setup(self, backend, shape):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        self.function, x_shape, w_shape, self.options = SHAPES[shape]
        self.x = xpnet.randn(*x_shape, generator=generator, requires_grad=True)
        with xpnet.no_grad():
            self.weight = (xpnet.randn(*w_shape, generator=generator)
                           * (w_shape[1] * w_shape[2]) ** -0.5).requires_grad_()
        self.bias = xpnet.randn(w_shape[0], generator=generator, requires_grad=True)
        with xpnet.no_grad():
            out = self.function(self.x, self.weight, self.bias, **self.options)
        self.grad = xpnet.randn(*out.shape, generator=generator)

    def teardown(self, backend, shape):
        xpnet.set_backend(self._previous)

    def _forward(self):
        return self.function(self.x, self.weight, self.bias, **self.options)

    def time_forward(self, backend, shape):
        with xpnet.no_grad():
            _synchronize(self._forward())

    def time_forward_backward(self, backend, shape):
        for t in (self.x, self.weight, self.bias):
            t.grad = None
        self._forward().backward(self.grad)
        _synchronize(self.x.grad)

    def peakmem_forward_backward(self, backend, shape):
        for t in (self.x, self.weight, self.bias):
            t.grad = None
        self._forward().backward(self.grad)
        _synchronize(self.x.grad)
