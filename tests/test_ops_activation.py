"""Activation functions and (log-)softmax (xpnet/ops/activation.py), stable at |x| = 1e4."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xpnet
import xpnet.functional as F

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

ACTIVATIONS = {
    "sigmoid": (F.sigmoid, lambda t: torch.sigmoid(t)),
    "tanh": (F.tanh, lambda t: torch.tanh(t)),
    "relu": (F.relu, lambda t: torch.relu(t)),
    "leaky_relu": (F.leaky_relu, lambda t: TF.leaky_relu(t)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda t: TF.leaky_relu(t, 0.2)),
    "elu": (F.elu, lambda t: TF.elu(t)),
    "elu_alpha_0.5": (lambda x: F.elu(x, alpha=0.5), lambda t: TF.elu(t, alpha=0.5)),
    "softplus": (F.softplus, lambda t: TF.softplus(t)),
    "softplus_beta_2_threshold_1": (lambda x: F.softplus(x, beta=2.0, threshold=1.0),
                                    lambda t: TF.softplus(t, beta=2.0, threshold=1.0)),
    "softmax": (lambda x: F.softmax(x, dim=-1), lambda t: torch.softmax(t, dim=-1)),
    "softmax_axis_0": (lambda x: F.softmax(x, axis=0), lambda t: torch.softmax(t, dim=0)),
    "softmax_dim_1": (lambda x: F.softmax(x, dim=1), lambda t: torch.softmax(t, dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda t: torch.log_softmax(t, dim=-1)),
    "log_softmax_axis_0": (lambda x: F.log_softmax(x, axis=0),
                           lambda t: torch.log_softmax(t, dim=0)),
}


def _inputs():
    return random_arrays((3, 4), low=-3.0, high=3.0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(backend, name):
    fn, torch_fn = ACTIVATIONS[name]
    check_forward(backend, fn, torch_fn, _inputs())


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(backend, name):
    gradcheck(ACTIVATIONS[name][0], _inputs())


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_grads_match_torch(backend, name):
    fn, torch_fn = ACTIVATIONS[name]
    check_grads(backend, fn, torch_fn, _inputs())


@pytest.mark.parametrize("name", ["relu", "leaky_relu_0.2", "elu", "softplus_beta_2_threshold_1"])
def test_activation_grads_at_kink_match_torch(backend, name):
    # relu'(0) = 0, leaky_relu'(0) = slope, and softplus switching to linear at the threshold.
    fn, torch_fn = ACTIVATIONS[name]
    check_grads(backend, fn, torch_fn, [np.array([-1.0, 0.0, 0.5, 1.0])])


def test_relu_method_matches_function(backend):
    (x,) = to_xpnet(*_inputs())
    np.testing.assert_array_equal(x.relu().numpy(), F.relu(x).numpy())


# -- special numerics: |x| = 1e4 ----------------------------------------------------------------

BIG = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])


def test_sigmoid_saturates_exactly_without_overflow(backend):
    (x,) = to_xpnet(BIG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.sigmoid(x)
        out.sum().backward()
    values = out.numpy()
    assert values[0] == 0.0 and values[-1] == 1.0 and values[2] == 0.5
    assert np.all(np.isfinite(x.grad.numpy()))
    assert_close(x.grad, np.array([0.0, 0.0, 0.25, 0.0, 0.0]))


def test_sigmoid_at_extremes_matches_torch(backend):
    check_grads(backend, F.sigmoid, lambda t: torch.sigmoid(t), [BIG])


@pytest.mark.parametrize("threshold", [20.0, 1e5], ids=["linear_branch", "soft_branch"])
def test_softplus_is_stable_at_extremes(backend, threshold):
    (x,) = to_xpnet(BIG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(x, threshold=threshold)
        out.sum().backward()
    assert_close(out, np.array([0.0, 0.0, np.log(2.0), 800.0, 1e4]))
    assert_close(x.grad, np.array([0.0, 0.0, 0.5, 1.0, 1.0]))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_at_extremes(backend, name):
    (x,) = to_xpnet(np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(F, name)(x, dim=-1)
        out.sum().backward()
    third = np.log(1 / 3)
    want = {"softmax": [[1.0, 0.0, 0.0], [1 / 3] * 3],
            "log_softmax": [[0.0, -1e4, -2e4], [third] * 3]}[name]
    assert_on_device(out, backend)
    assert_close(out, np.array(want))
    assert np.all(np.isfinite(x.grad.numpy()))


def test_log_softmax_grads_at_extremes_match_torch(backend):
    check_grads(backend, lambda x: F.log_softmax(x, dim=-1), lambda t: torch.log_softmax(t, dim=-1),
                [np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])])


def test_elu_is_stable_at_extremes(backend):
    (x,) = to_xpnet(BIG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.elu(x)
    assert_close(out, np.array([-1.0, -1.0, 0.0, 800.0, 1e4]))


def test_softplus_rejects_non_positive_beta(backend):
    (x,) = to_xpnet(*_inputs())
    with pytest.raises(ValueError, match="softplus: beta must be positive, got 0"):
        F.softplus(x, beta=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "softplus"])
def test_activation_of_integers_gives_default_float(backend, name):
    # As PyTorch (and xpnet.exp): an integer input gives the default float dtype.
    (x,) = to_xpnet(np.array([-1, 0, 2]))
    out = getattr(F, name)(x)
    assert out.dtype is xpnet.get_default_dtype()
    assert_on_device(out, backend)


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_without_dim_takes_torchs_implicit_axis_with_its_warning(name, shape):
    (a,) = random_arrays(shape)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                                         f"deprecated"):
        got = getattr(F, name)(xpnet.tensor(a))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        want = getattr(torch.nn.functional, name)(torch.tensor(a))
    assert_close(got, want)
