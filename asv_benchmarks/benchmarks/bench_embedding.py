"""Embedding lookups on the issue's shape: vocabulary 50,000, dim 128, 8,192 Zipf-distributed
indices, float32.

- ``Lookup``: ``F.embedding`` forward, and forward+backward with a dense or a sparse
  (``sparse=True``) weight gradient; the same for ``F.embedding_bag(mode='mean')`` over the
  same indices cut into 512 bags;
- ``SparseStep``: one SparseAdam step on a sparse gradient (touches only the looked-up rows).

``asv_benchmarks/embedding_vs_torch.py`` times the same cases next to PyTorch.
"""

import numpy as np

import xpnet
import xpnet.functional as F
from xpnet import optim

from .bench_autograd import _activate, _synchronize

BACKENDS = ["numpy", "torch", "cupy"]
VOCABULARY, DIM, LOOKUPS, BAGS = 50_000, 128, 8_192, 512


def _data():
    """Weights, Zipf indices (rank r drawn with probability proportional to 1/r), bag offsets."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((VOCABULARY, DIM), dtype=np.float32)
    p = 1.0 / np.arange(1, VOCABULARY + 1)
    indices = rng.choice(VOCABULARY, size=LOOKUPS, p=p / p.sum()).astype(np.int64)
    offsets = np.concatenate(([0], np.sort(rng.choice(np.arange(1, LOOKUPS), BAGS - 1,
                                                      replace=False))))
    return weight, indices, offsets


class Lookup:
    """``F.embedding``, or ``F.embedding_bag(mode='mean')`` over 512 bags of the same indices,
    with a dense or a sparse weight gradient."""

    params = [BACKENDS, ["embedding", "embedding_bag"], ["dense", "sparse"]]
    param_names = ["backend", "function", "gradient"]

    def setup(self, backend, function, gradient):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        weight, indices, offsets = _data()
        self.weight = xpnet.tensor(weight, requires_grad=True)
        self.indices, self.offsets = xpnet.tensor(indices), xpnet.tensor(offsets)
        self.bags = function == "embedding_bag"
        self.sparse = gradient == "sparse"
        with xpnet.no_grad():
            out = self._forward()
        self.grad = xpnet.randn(*out.shape, generator=xpnet.Generator(1))
        # One untimed step: the first loads the fast-path module (and SciPy with it).
        self.time_forward_backward(backend, function, gradient)

    def teardown(self, backend, function, gradient):
        xpnet.set_backend(self._previous)

    def _forward(self):
        if self.bags:
            return F.embedding_bag(self.indices, self.weight, self.offsets, mode="mean",
                                   sparse=self.sparse)
        return F.embedding(self.indices, self.weight, sparse=self.sparse)

    def time_forward(self, backend, function, gradient):
        with xpnet.no_grad():
            _synchronize(self._forward())

    def time_forward_backward(self, backend, function, gradient):
        self.weight.grad = None
        self._forward().backward(self.grad)
        grad = self.weight.grad
        _synchronize(grad.values() if self.sparse else grad)

    def peakmem_forward_backward(self, backend, function, gradient):
        self.weight.grad = None
        self._forward().backward(self.grad)


class SparseStep:
    """Forward, backward and a SparseAdam step: the cost of one sparse training step."""

    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self._previous = xpnet.backend.active()
        _activate(backend)
        weight, indices, _ = _data()
        self.weight = xpnet.tensor(weight, requires_grad=True)
        self.indices = xpnet.tensor(indices)
        self.optimizer = optim.SparseAdam([self.weight], lr=1e-3)
        self.time_step(backend)  # the first step makes the (dense) moment state

    def teardown(self, backend):
        xpnet.set_backend(self._previous)

    def time_step(self, backend):
        self.optimizer.zero_grad()
        F.embedding(self.indices, self.weight, sparse=True).sum().backward()
        self.optimizer.step()
        _synchronize(self.weight)
