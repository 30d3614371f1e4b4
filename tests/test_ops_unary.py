"""Elementwise math, casts and moves between backends (xpnet/ops/unary.py)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import load

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

# name -> (low, high) of inputs in the op's smooth domain (away from 0 for abs and sqrt).
UNARY = {
    "exp": (-2.0, 2.0), "expm1": (-2.0, 2.0), "log": (0.1, 3.0), "log1p": (-0.9, 3.0),
    "sqrt": (0.1, 3.0), "abs": (0.1, 2.0), "sin": (-3.0, 3.0), "cos": (-3.0, 3.0),
    "square": (-2.0, 2.0),
}


def _inputs(name, shape=(3, 4)):
    low, high = UNARY[name]
    (x,) = random_arrays(shape, low=low, high=high)
    if name == "abs":
        x = np.where(np.arange(x.size).reshape(shape) % 2, x, -x)  # both signs, none at the kink
    return [x]


def _torch_fn(name):
    return lambda t: getattr(torch, name)(t)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(backend, name):
    check_forward(backend, getattr(xpnet, name), _torch_fn(name), _inputs(name))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(backend, name):
    gradcheck(getattr(xpnet, name), _inputs(name))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grads_match_torch(backend, name):
    check_grads(backend, getattr(xpnet, name), _torch_fn(name), _inputs(name))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_of_zero_d_matches_torch(backend, name):
    check_forward(backend, getattr(xpnet, name), _torch_fn(name), _inputs(name, shape=()))


@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log1p", "sqrt", "sin", "cos"])
def test_unary_of_integers_gives_default_float(backend, name):
    (x,) = to_xpnet(np.array([1, 2, 3]))
    out = getattr(xpnet, name)(x)
    assert out.dtype is xpnet.get_default_dtype()
    assert_on_device(out, backend)


def test_abs_grad_at_zero_matches_torch(backend):
    check_grads(backend, xpnet.abs, _torch_fn("abs"), [np.array([-1.0, 0.0, 2.0])])


def test_sign_matches_torch(backend):
    check_forward(backend, xpnet.sign, _torch_fn("sign"), [np.array([-1.5, 0.0, 2.0])])


def test_sign_has_a_zero_gradient_as_torch(backend):
    # Differentiable with gradient zero (not cut from the graph), so backward runs through it.
    check_grads(backend, xpnet.sign, _torch_fn("sign"), [np.array([-1.5, 0.0, 2.0])])


def test_astype_matches_torch(backend):
    check_forward(backend, lambda x: xpnet.ops.astype(x, "float32"),
                  lambda t: t.to(torch.float32), random_arrays((2, 3)))


def test_astype_gradcheck(backend):
    # The float32 output resolves steps of 1e-3 well; the default 1e-6 would be rounding noise.
    gradcheck(lambda x: xpnet.ops.astype(x, "float32"), random_arrays((2, 3)), eps=1e-3)


def test_astype_gradient_comes_back_in_the_input_dtype(backend):
    (x,) = to_xpnet(np.array([1.0, -2.0, 3.0], dtype=np.float32))
    y = xpnet.ops.astype(x, "float64")
    (y * y).sum().backward()
    assert y.dtype is xpnet.float64
    assert x.grad.dtype is xpnet.float32
    assert_on_device(x.grad, backend)
    assert_close(x.grad, np.array([2.0, -4.0, 6.0], dtype=np.float32), rtol=1e-6)


def test_astype_to_integer_is_not_differentiable(backend):
    (x,) = to_xpnet(np.array([1.5, -2.5]))
    out = xpnet.ops.astype(x, "int64")
    assert out.dtype is xpnet.int64 and not out.requires_grad
    assert_close(out, np.array([1, -2]))


@pytest.mark.parametrize("target", ["numpy", "array_api_strict:device1"])
def test_move_to_backend_round_trip_gradcheck(backend, target):
    def there_and_back(x):
        moved = xpnet.ops.move_to_backend(x, load(target)) * 2.0
        return xpnet.ops.move_to_backend(moved, load(backend))

    gradcheck(there_and_back, random_arrays((2, 3)))


def test_move_to_backend_returns_the_gradient_to_the_source_device(backend):
    (x,) = to_xpnet(np.array([1.0, 2.0]))
    y = xpnet.ops.move_to_backend(x, load("array_api_strict:device1"))
    assert_on_device(y, "array_api_strict:device1")
    (y * y).sum().backward()
    assert_on_device(x.grad, backend)
    assert_close(x.grad, np.array([2.0, 4.0]))
