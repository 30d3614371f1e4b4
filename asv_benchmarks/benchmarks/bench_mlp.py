"""One MLP training step, the unit of work every user's loop repeats.

784-512-512-10 with ReLU, batch 128, cross-entropy, Adam: zero_grad, forward, loss, backward,
step. Float32.
"""

import xpnet
import xpnet.nn as nn

from .bench_autograd import _activate, _synchronize

BACKENDS = ["numpy", "torch", "cupy"]


def build_mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def training_step(model, optimizer, loss_fn, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


class MLPStep:
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        xpnet.manual_seed(0)
        self.model = build_mlp()
        self.optimizer = xpnet.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = nn.CrossEntropyLoss()
        self.x = xpnet.randn(128, 784, generator=generator)
        self.y = xpnet.randint(0, 10, (128,), generator=generator)
        training_step(self.model, self.optimizer, self.loss_fn, self.x, self.y)  # warm up state

    def teardown(self, backend):
        xpnet.set_backend(self._previous)

    def time_training_step(self, backend):
        _synchronize(training_step(self.model, self.optimizer, self.loss_fn, self.x, self.y))

    def time_forward(self, backend):
        with xpnet.no_grad():
            _synchronize(self.model(self.x))

    def peakmem_training_step(self, backend):
        training_step(self.model, self.optimizer, self.loss_fn, self.x, self.y)
