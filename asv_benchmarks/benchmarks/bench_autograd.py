"""Autograd overhead: graph building and backward on tiny tensors, and a matmul chain.

Every class is parametrized over the backend; a backend that cannot run here (CuPy without a
GPU, a missing library) is skipped by raising NotImplementedError in ``setup``, which asv
reports as skipped rather than failed.
"""

import xpnet

BACKENDS = ["numpy", "array_api_strict", "torch", "cupy"]


def _activate(backend):
    """Make ``backend`` active for new tensors, or skip the benchmark if it cannot run here."""
    try:
        xpnet.set_backend(backend)
    except xpnet.BackendUnavailableError as e:
        raise NotImplementedError(str(e)) from None


def _synchronize(t):
    """Wait for queued GPU work, so a CuPy timing covers the kernels and not only their launch."""
    if t.backend.startswith("cupy"):
        t._backend.device.synchronize()


def _tiny_chain(x, constants, n_ops):
    """``n_ops`` elementwise ops cycling tanh, sigmoid, add, mul.

    ``4 * (sigmoid(tanh(y)) - 0.5)`` is close to ``y`` near 0, so values and gradients stay of
    order 1 for any chain length (a chain of plain sigmoids would underflow its gradient).
    """
    minus_half, four = constants
    y = x
    for i in range(n_ops):
        step = i % 4
        if step == 0:
            y = xpnet.tanh(y)
        elif step == 1:
            y = xpnet.sigmoid(y)
        elif step == 2:
            y = y + minus_half
        else:
            y = y * four
    return y


class TinyChain:
    """Per-op overhead: a chain of elementwise ops on shape (4,) float32.

    The arrays are so small that the time is almost all Python: Function.apply, Tensor
    creation, operand promotion, and the backward walk.
    """

    params = [BACKENDS, [100, 1000]]
    param_names = ["backend", "n_ops"]

    def setup(self, backend, n_ops):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        self.x = xpnet.randn(4, generator=generator, requires_grad=True)
        self.constants = (xpnet.full((4,), -0.5), xpnet.full((4,), 4.0))

    def teardown(self, backend, n_ops):
        xpnet.set_backend(self._previous)

    def time_forward_no_grad(self, backend, n_ops):
        with xpnet.no_grad():
            _synchronize(_tiny_chain(self.x, self.constants, n_ops))

    def time_forward(self, backend, n_ops):
        _synchronize(_tiny_chain(self.x, self.constants, n_ops))

    def time_forward_backward(self, backend, n_ops):
        self.x.grad = None
        _tiny_chain(self.x, self.constants, n_ops).sum().backward()
        _synchronize(self.x.grad)


class MatmulChain:
    """A small MLP-like chain: ``n_layers`` times ``h = tanh(h @ W)`` with 256x256 float32."""

    params = [BACKENDS, [4, 8]]
    param_names = ["backend", "n_layers"]

    def setup(self, backend, n_layers):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        size = 256
        self.x = xpnet.randn(size, size, generator=generator, requires_grad=True)
        # Scaled by 1/sqrt(size), so tanh stays out of saturation and gradients are not ~0.
        with xpnet.no_grad():
            self.weights = [
                (xpnet.randn(size, size, generator=generator) * size**-0.5).requires_grad_()
                for _ in range(n_layers)]

    def teardown(self, backend, n_layers):
        xpnet.set_backend(self._previous)

    def _forward(self):
        h = self.x
        for w in self.weights:
            h = xpnet.tanh(h @ w)
        return h

    def time_forward(self, backend, n_layers):
        _synchronize(self._forward())

    def time_forward_backward(self, backend, n_layers):
        for t in (self.x, *self.weights):
            t.grad = None
        self._forward().sum().backward()
        _synchronize(self.weights[0].grad)

    def peakmem_forward_backward(self, backend, n_layers):
        for t in (self.x, *self.weights):
            t.grad = None
        self._forward().sum().backward()
        _synchronize(self.weights[0].grad)
