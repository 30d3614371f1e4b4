"""F.one_hot (xpnet/functional/encoding.py) and F.normalize (xpnet/functional/normalization.py)
against torch.nn.functional: values, dtypes, gradients and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F

from .conftest import random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None


# -- one_hot -----------------------------------------------------------------------------------

@pytest.mark.parametrize("indices, num_classes", [
    (np.array([0, 2, 1, 2]), -1),
    (np.array([0, 2]), 5),
    (np.array([[0, 1], [3, 0]]), -1),
    (np.array(2), -1),
    (np.zeros(0, dtype=np.int64), 3),
    (np.zeros((2, 0), dtype=np.int64), 4),
])
def test_one_hot_matches_torch(backend, indices, num_classes):
    check_forward(backend, lambda t: F.one_hot(t, num_classes),
                  lambda t: torch.nn.functional.one_hot(t, num_classes), [indices])


def test_one_hot_is_int64_on_the_input_device_without_gradient(backend):
    out = F.one_hot(xpnet.tensor([1, 0]), num_classes=3)
    assert out.dtype is xpnet.int64 and not out.requires_grad
    assert_on_device(out, backend)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative, got -1"):
        F.one_hot(xpnet.tensor([0, -1]), 3)
    with pytest.raises(ValueError, match="one_hot: class values must be smaller than "
                                         "num_classes=2, got 2"):
        F.one_hot(xpnet.tensor([0, 2]), num_classes=2)
    with pytest.raises(ValueError, match=r"one_hot: cannot infer num_classes from an empty "
                                         r"tensor \(shape \(0,\)\); pass a positive num_classes"):
        F.one_hot(xpnet.tensor([], dtype="int64"))
    with pytest.raises(ValueError, match="one_hot: cannot infer num_classes from an empty"):
        F.one_hot(xpnet.tensor([], dtype="int64"), 0)
    with pytest.raises(ValueError, match="one_hot: num_classes must be -1 .infer. or "
                                         "non-negative, got -2"):
        F.one_hot(xpnet.tensor([0]), -2)
    with pytest.raises(TypeError, match="one_hot: tensor must hold int64 class indices, got "
                                        "int32; convert with .long()"):
        F.one_hot(xpnet.tensor([0, 1], dtype="int32"))
    with pytest.raises(TypeError, match="one_hot: tensor must hold int64 class indices, got "
                                        "float32"):
        F.one_hot(xpnet.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="one_hot: num_classes must be an int, got float"):
        F.one_hot(xpnet.tensor([0]), 2.5)
    with pytest.raises(TypeError, match="one_hot: tensor must be a Tensor, got list"):
        F.one_hot([0, 1])


# -- normalize ---------------------------------------------------------------------------------

@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (math.inf, 1), (2.0, (0, 2)),
                                    (0.5, 1)])
def test_normalize_matches_torch(backend, p, dim):
    (x,) = random_arrays((3, 4, 2))
    x[1, :, 0] = 0.0  # a zero vector along dim 1: its norm is clamped to eps
    fn = lambda x: F.normalize(x, p, dim)  # noqa: E731
    torch_fn = lambda t: torch.nn.functional.normalize(t, p, dim)  # noqa: E731
    check_forward(backend, fn, torch_fn, [x])
    # 1/eps = 1e12 times O(1) upstream weights: compare relative to that scale
    check_grads(backend, fn, torch_fn, [x], rtol=1e-9, atol=1e-3)


def test_normalize_defaults_and_eps_match_torch(backend):
    (x,) = random_arrays((2, 3))
    check_forward(backend, F.normalize, torch.nn.functional.normalize, [x])
    check_forward(backend, lambda x: F.normalize(x, eps=10.0),
                  lambda t: torch.nn.functional.normalize(t, eps=10.0), [x])
    check_grads(backend, lambda x: F.normalize(x, eps=10.0),
                lambda t: torch.nn.functional.normalize(t, eps=10.0), [x])


@pytest.mark.parametrize("p", [1.5, 2.0, math.inf])
def test_normalize_gradcheck(backend, p):
    gradcheck(lambda x: F.normalize(x, p, dim=-1), random_arrays((3, 4), seed=4))


def test_normalize_errors():
    x = xpnet.ones((2, 3))
    with pytest.raises(TypeError, match="normalize: input must be floating point, got int64"):
        F.normalize(xpnet.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="normalize: axis 2 is out of range for a 2-D tensor"):
        F.normalize(x, dim=2)
    with pytest.raises(TypeError, match="normalize: p must be a number, got str"):
        F.normalize(x, p="fro")
    with pytest.raises(TypeError, match="normalize: eps must be a number, got NoneType"):
        F.normalize(x, eps=None)
    with pytest.raises(TypeError, match="normalize: out= is not supported"):
        F.normalize(x, out=xpnet.ones((2, 3)))
    with pytest.raises(TypeError, match="normalize: expected a Tensor, got list"):
        F.normalize([[1.0, 2.0]])


def test_functional_names_are_torch_paths():
    import xpnet.functional
    assert F.one_hot is xpnet.functional.one_hot and F.normalize is xpnet.functional.normalize
    x = to_xpnet(np.array([[3.0, 4.0]]))[0]
    np.testing.assert_allclose(F.normalize(x).numpy(), [[0.6, 0.8]])
