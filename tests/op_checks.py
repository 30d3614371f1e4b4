"""Checks shared by tests/test_ops_*.py: PyTorch CPU as the oracle, and device placement.

Each check takes the same NumPy float64 arrays to xpnet (on the active backend) and to torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import backend_of_array

from .conftest import assert_close, assert_on_backend, to_xpnet


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def to_torch(*arrays, requires_grad=True):
    """torch tensors holding copies of the arrays (float ones require grad)."""
    torch = pytest.importorskip("torch")
    return [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def assert_on_device(t, backend):
    """On the test's backend, and the data itself on that backend's device.

    `assert_on_backend` reads the Backend the tensor was wrapped with; the array's own device is
    what catches an ``xp.zeros(...)`` made without ``device=`` on array_api_strict:device1.
    """
    assert_on_backend(t, backend)
    assert backend_of_array(t.array) is xpnet.backend.load(backend), (t.array, backend)


def check_forward(backend, fn, torch_fn, arrays, rtol=1e-10, atol=1e-12):
    """``fn`` on xpnet tensors equals ``torch_fn`` on torch tensors, output by output."""
    got = as_tuple(fn(*to_xpnet(*arrays)))
    want = as_tuple(torch_fn(*to_torch(*arrays, requires_grad=False)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_on_device(g, backend)
        assert g.dtype.name == str(w.dtype).removeprefix("torch."), (g.dtype, w.dtype)
        assert_close(g, w, rtol=rtol, atol=atol)


def check_grads(backend, fn, torch_fn, arrays, rtol=1e-10, atol=1e-12, seed=1):
    """The gradients of ``fn`` (under a random upstream gradient) equal torch's."""
    torch = pytest.importorskip("torch")
    xs = to_xpnet(*arrays)
    ts = to_torch(*arrays)
    outs = as_tuple(fn(*xs))
    touts = as_tuple(torch_fn(*ts))
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=tuple(o.shape)) for o in touts]
    wrt = [x for x in xs if x.requires_grad]
    twrt = [t for t in ts if t.requires_grad]
    got = xpnet.autograd.grad(outs, wrt, [xpnet.tensor(w) for w in weights], allow_unused=True)
    want = torch.autograd.grad(touts, twrt, [torch.from_numpy(w) for w in weights],
                               allow_unused=True)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g.numpy())
            continue
        assert_on_device(g, backend)
        assert_close(g, w, rtol=rtol, atol=atol)


def gradcheck(fn, arrays, **options):
    """xpnet.gradcheck on float64 tensors (requiring grad) made on the active backend."""
    assert xpnet.gradcheck(fn, to_xpnet(*arrays), **options)
