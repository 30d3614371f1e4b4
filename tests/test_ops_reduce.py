"""Reductions: sum, mean, max/min, var/std, logsumexp, argmax/argmin, any/all (ops/reduce.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPE = (2, 3, 4)
AXES = [None, 0, -1, (0, 2), (-1, 0, 1)]


def _dims(axis, ndim):
    """torch's ``dim`` for our ``axis``: None means every axis."""
    return tuple(range(ndim)) if axis is None else axis


# name -> (xpnet function, torch function); both called as f(x, axis/dim, keepdims/keepdim).
REDUCTIONS = {
    "sum": (xpnet.sum, lambda t, d, k: torch.sum(t, dim=d, keepdim=k)),
    "mean": (xpnet.mean, lambda t, d, k: torch.mean(t, dim=d, keepdim=k)),
    # torch.max(dim) picks one index at ties; amax shares the gradient, as ours does.
    "max": (xpnet.max, lambda t, d, k: torch.amax(t, dim=d, keepdim=k)),
    "min": (xpnet.min, lambda t, d, k: torch.amin(t, dim=d, keepdim=k)),
    "var": (xpnet.var, lambda t, d, k: torch.var(t, dim=d, keepdim=k)),
    "std": (xpnet.std, lambda t, d, k: torch.std(t, dim=d, keepdim=k)),
    "logsumexp": (xpnet.logsumexp, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k)),
}


def _pair(name, axis, keepdims):
    fn, torch_fn = REDUCTIONS[name]
    return (lambda x: fn(x, axis, keepdims),
            lambda t: torch_fn(t, _dims(axis, t.ndim), keepdims))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_torch(backend, name, axis, keepdims):
    check_forward(backend, *_pair(name, axis, keepdims), random_arrays(SHAPE))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradcheck(backend, name, axis, keepdims):
    gradcheck(_pair(name, axis, keepdims)[0], random_arrays((2, 3, 2)))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_grads_match_torch(backend, name):
    check_grads(backend, *_pair(name, (0, 2), False), random_arrays(SHAPE))


# var and std of one element divide by zero (correction=1).
@pytest.mark.parametrize("name", ["logsumexp", "max", "mean", "min", "sum"])
def test_reduction_of_zero_d_matches_torch(backend, name):
    check_forward(backend, *_pair(name, None, False), [np.array(1.5)])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_accepts_torch_dim_keepdim(backend, name):
    fn = REDUCTIONS[name][0]
    (x,) = to_xpnet(*random_arrays(SHAPE))
    got, want = fn(x, dim=1, keepdim=True), fn(x, axis=1, keepdims=True)
    assert got.shape == (2, 1, 4)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("axis", [None, 0, 1], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_extreme_ties_share_gradient_as_torch_amax(backend, name, axis):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 3.0, -1.0, 3.0]])
    check_grads(backend, *_pair(name, axis, False), [-x if name == "min" else x])


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_matches_torch(backend, name, correction):
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis=1, correction=correction),
                  lambda t: getattr(torch, name)(t, dim=1, correction=correction),
                  random_arrays(SHAPE))


@pytest.mark.parametrize("correction", [0, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_gradcheck(backend, name, correction):
    fn = getattr(xpnet, name)
    gradcheck(lambda x: fn(x, axis=(0, 1), correction=correction), random_arrays((2, 3, 2)))


def test_mean_of_integers_gives_default_float(backend):
    (x,) = to_xpnet(np.array([[1, 2], [3, 5]]))
    out = xpnet.mean(x, axis=0)
    assert out.dtype is xpnet.get_default_dtype()
    assert_close(out, np.array([2.0, 3.5], dtype=np.float32))


# -- logsumexp numerics -----------------------------------------------------------------------

def test_logsumexp_is_stable_at_1e4(backend):
    (x,) = to_xpnet(np.array([[1e4, 1e4], [-1e4, -1e4], [1e4, -1e4]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = xpnet.logsumexp(x, axis=1)
        out.sum().backward()
    assert_close(out, np.array([1e4 + np.log(2), -1e4 + np.log(2), 1e4]))
    assert_close(x.grad, np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]]))


def test_logsumexp_of_all_minus_inf_row_is_minus_inf(backend):
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    check_forward(backend, lambda x: xpnet.logsumexp(x, axis=1),
                  lambda t: torch.logsumexp(t, dim=1), [x])


def test_logsumexp_of_all_minus_inf_row_does_not_warn(backend):
    (x,) = to_xpnet(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = xpnet.logsumexp(x, axis=1)
    assert out.numpy()[0] == -np.inf


def test_logsumexp_with_plus_inf_is_plus_inf(backend):
    x = np.array([[np.inf, 0.0], [np.inf, -np.inf]])
    check_forward(backend, lambda x: xpnet.logsumexp(x, axis=1),
                  lambda t: torch.logsumexp(t, dim=1), [x])


# -- non-differentiable reductions ------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 0, -1], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_index_reduction_matches_torch(backend, name, axis, keepdims):
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis, keepdims),
                  lambda t: getattr(torch, name)(t, dim=axis, keepdim=keepdims),
                  random_arrays(SHAPE))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["any", "all"])
def test_bool_reduction_matches_torch(backend, name, axis, keepdims):
    x = np.array([[[True, False], [True, True], [False, False]]])
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis, keepdims),
                  lambda t: getattr(torch, name)(t, dim=_dims(axis, t.ndim), keepdim=keepdims),
                  [x])


@pytest.mark.parametrize("name", ["argmax", "any"])
def test_non_differentiable_reduction_does_not_require_grad(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    out = getattr(xpnet, name)(x > 0 if name == "any" else x, axis=1)
    assert not out.requires_grad
    assert_on_device(out, backend)


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REDUCTIONS) + ["argmax", "argmin", "any", "all"])
def test_reduction_rejects_out_of_range_axis(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(ValueError, match=f"{name}: axis 3 is out of range for a 3-D tensor"):
        getattr(xpnet, name)(x, axis=3)


@pytest.mark.parametrize("name", ["sum", "max", "logsumexp"])
def test_reduction_rejects_repeated_axis(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(ValueError, match=rf"{name}: repeated axis in \(1, -2\)"):
        getattr(xpnet, name)(x, axis=(1, -2))


def test_reduction_rejects_non_integer_axis(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="sum: axis must be an int, got float"):
        xpnet.sum(x, axis=1.0)


@pytest.mark.parametrize("name", ["max", "min"])
def test_extreme_rejects_empty_axis(backend, name):
    (x,) = to_xpnet(np.zeros((2, 0)))
    with pytest.raises(ValueError,
                       match=rf"{name}: cannot reduce over an empty axis \(shape \(2, 0\)"):
        getattr(xpnet, name)(x, axis=1)


def test_reduction_rejects_axis_and_dim_together(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="sum: give axis or dim, not both"):
        xpnet.sum(x, axis=0, dim=1)
