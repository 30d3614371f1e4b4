"""Layers of xpnet.nn (linear.py, activation.py, dropout.py, Identity and Flatten) against
torch.nn's modules holding identical weights, and gradcheck of input and parameter gradients."""

from __future__ import annotations

import re

import numpy as np
import pytest

import xpnet
import xpnet.functional as F
import xpnet.nn as nn

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device

try:  # the oracle; tests that need it skip through _torch()
    import torch
except ImportError:
    torch = None


def _torch():
    return pytest.importorskip("torch")


# name -> (xpnet module, torch module given torch.nn, input shape). Both are built in training
# mode; names ending in "_eval" are compared in eval mode.
LAYERS = {
    "linear": (lambda: nn.Linear(3, 4), lambda tnn: tnn.Linear(3, 4), (2, 3)),
    "linear_1d_input": (lambda: nn.Linear(3, 4), lambda tnn: tnn.Linear(3, 4), (3,)),
    "linear_3d_input": (lambda: nn.Linear(3, 4), lambda tnn: tnn.Linear(3, 4), (2, 5, 3)),
    "linear_no_bias": (lambda: nn.Linear(3, 4, bias=False),
                       lambda tnn: tnn.Linear(3, 4, bias=False), (2, 3)),
    "linear_no_bias_1d_input": (lambda: nn.Linear(3, 4, bias=False),
                                lambda tnn: tnn.Linear(3, 4, bias=False), (3,)),
    "linear_no_bias_3d_input": (lambda: nn.Linear(3, 4, bias=False),
                                lambda tnn: tnn.Linear(3, 4, bias=False), (2, 5, 3)),
    "sigmoid": (nn.Sigmoid, lambda tnn: tnn.Sigmoid(), (2, 5)),
    "tanh": (nn.Tanh, lambda tnn: tnn.Tanh(), (2, 5)),
    "relu": (nn.ReLU, lambda tnn: tnn.ReLU(), (2, 5)),
    "leaky_relu": (nn.LeakyReLU, lambda tnn: tnn.LeakyReLU(), (2, 5)),
    "leaky_relu_0.2": (lambda: nn.LeakyReLU(0.2), lambda tnn: tnn.LeakyReLU(0.2), (2, 5)),
    "prelu": (nn.PReLU, lambda tnn: tnn.PReLU(), (2, 3, 4)),
    "prelu_per_channel": (lambda: nn.PReLU(3), lambda tnn: tnn.PReLU(3), (2, 3, 4)),
    "prelu_per_channel_2d_input": (lambda: nn.PReLU(3), lambda tnn: tnn.PReLU(3), (4, 3)),
    "rrelu_eval": (lambda: nn.RReLU(0.1, 0.3), lambda tnn: tnn.RReLU(0.1, 0.3), (2, 5)),
    "elu": (nn.ELU, lambda tnn: tnn.ELU(), (2, 5)),
    "elu_alpha_0.5": (lambda: nn.ELU(0.5), lambda tnn: tnn.ELU(0.5), (2, 5)),
    "softplus": (nn.Softplus, lambda tnn: tnn.Softplus(), (2, 5)),
    "softplus_beta_2_threshold_1": (lambda: nn.Softplus(2.0, 1.0),
                                    lambda tnn: tnn.Softplus(2.0, 1.0), (2, 5)),
    "gelu": (nn.GELU, lambda tnn: tnn.GELU(), (2, 5)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda tnn: tnn.GELU("tanh"), (2, 5)),
    "softmax": (lambda: nn.Softmax(dim=-1), lambda tnn: tnn.Softmax(dim=-1), (2, 3, 4)),
    "softmax_dim_1": (lambda: nn.Softmax(dim=1), lambda tnn: tnn.Softmax(dim=1), (2, 3, 4)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), lambda tnn: tnn.LogSoftmax(dim=-1),
                    (2, 3, 4)),
    "log_softmax_dim_0": (lambda: nn.LogSoftmax(dim=0), lambda tnn: tnn.LogSoftmax(dim=0),
                          (2, 3, 4)),
    "dropout_eval": (nn.Dropout, lambda tnn: tnn.Dropout(), (2, 5)),
    "identity": (nn.Identity, lambda tnn: tnn.Identity(), (2, 5)),
    "flatten": (nn.Flatten, lambda tnn: tnn.Flatten(), (2, 3, 4)),
    "flatten_0_1": (lambda: nn.Flatten(0, 1), lambda tnn: tnn.Flatten(0, 1), (2, 3, 4)),
}


def _xpnet_layer(name):
    """The xpnet layer in float64 on the active backend, its PReLU slopes made distinct."""
    layer = LAYERS[name][0]().double()
    if isinstance(layer, nn.PReLU):
        nn.init.uniform_(layer.weight, -0.5, 0.5)  # 0.25 everywhere would hide a channel mix-up
    if name.endswith("_eval"):
        layer.eval()
    return layer


def _pair(name):
    """The xpnet layer and a torch layer holding a copy of its state dict."""
    torch = _torch()
    layer = _xpnet_layer(name)
    twin = LAYERS[name][1](torch.nn).double()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    if name.endswith("_eval"):
        twin.eval()
    return layer, twin


def _input(name, seed=0):
    return random_arrays(LAYERS[name][2], seed=seed, low=-3.0, high=3.0)[0]


def _parameter_names(layer):
    return [n for n, p in layer._parameters.items() if p is not None]


def _gradcheck_layer(layer, x):
    """gradcheck with respect to the input and every parameter of a (leaf) layer."""
    names = _parameter_names(layer)

    def run(x, *values):
        # gradcheck passes fresh leaves for the parameters; put them in the module for one call.
        saved = dict(layer._parameters)
        layer._parameters.update(zip(names, values))
        try:
            return layer(x)
        finally:
            layer._parameters.update(saved)

    inputs = [xpnet.tensor(x, requires_grad=True), *(getattr(layer, n) for n in names)]
    assert xpnet.gradcheck(run, inputs)


# -- every layer against torch.nn --------------------------------------------------------------

@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(backend, name):
    layer, twin = _pair(name)
    x = _input(name)
    got = layer(xpnet.tensor(x))
    assert_on_device(got, backend)
    assert got.dtype is xpnet.float64
    assert_close(got, twin(torch.tensor(x)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_grads_match_torch(backend, name):
    layer, twin = _pair(name)
    x = _input(name)
    xs, ts = xpnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = layer(xs), twin(ts)
    grad_out = np.random.default_rng(1).uniform(-1, 1, size=tuple(tout.shape))
    out.backward(xpnet.tensor(grad_out))
    tout.backward(torch.tensor(grad_out))
    assert_on_device(xs.grad, backend)
    assert_close(xs.grad, ts.grad, rtol=1e-10, atol=1e-12)
    torch_params = dict(twin.named_parameters())
    assert sorted(torch_params) == sorted(n for n, _ in layer.named_parameters())
    for pname, p in layer.named_parameters():
        assert_on_device(p.grad, backend)
        assert_close(p.grad, torch_params[pname].grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradcheck(backend, name):
    _gradcheck_layer(_xpnet_layer(name), _input(name))


def test_linear_built_in_float64_matches_linear_cast_to_float64(backend):
    layer = nn.Linear(3, 4, dtype="float64")
    assert layer.weight.dtype is layer.bias.dtype is xpnet.float64
    assert_on_device(layer.weight, backend)
    assert_on_device(layer.bias, backend)


def test_linear_output_stays_on_the_layers_backend(backend):
    out = nn.Linear(3, 2)(xpnet.randn(4, 3))
    assert_on_device(out, backend)
    assert out.dtype is xpnet.float32


def test_prelu_weight_gradient_sums_over_batch_and_space(backend):
    # d/dw of sum(prelu(x)) is the sum of x over the negative entries of each channel.
    layer = nn.PReLU(3).double()
    x = _input("prelu_per_channel")
    layer(xpnet.tensor(x)).sum().backward()
    expected = np.where(x > 0, 0.0, x).sum(axis=(0, 2))
    assert_close(layer.weight.grad, expected)


# -- RReLU in training: random slopes ----------------------------------------------------------

def test_rrelu_training_slopes_lie_in_range_and_are_the_gradient(backend):
    lower, upper = 0.1, 0.3
    layer = nn.RReLU(lower, upper)
    assert layer.training
    x_np = random_arrays((4000,), seed=2, low=-3.0, high=3.0)[0]
    x_np[:3] = [0.0, 1.0, -1.0]
    x = xpnet.tensor(x_np, requires_grad=True)
    out = layer(x)
    assert_on_device(out, backend)
    out.sum().backward()
    assert_on_device(x.grad, backend)
    y, grad = out.numpy(), x.grad.numpy()
    positive, negative = x_np > 0, x_np < 0
    np.testing.assert_array_equal(y[positive], x_np[positive])
    np.testing.assert_array_equal(grad[positive], 1.0)
    slopes = y[negative] / x_np[negative]
    assert np.all((slopes >= lower) & (slopes <= upper))
    # The gradient of a negative element is the slope its output used.
    np.testing.assert_allclose(grad[negative], slopes, rtol=1e-12)
    # ~2000 slopes from U(0.1, 0.3): the mean is 0.2 within ~0.0013 (1 sigma); 0.01 is ~8 sigma.
    assert abs(slopes.mean() - (lower + upper) / 2) < 0.01
    assert slopes.std() > 0.05  # not one shared slope (the uniform's std is 0.058)
    # At 0 the output is 0 and, as in torch, the derivative is a drawn slope.
    assert y[0] == 0.0 and lower <= grad[0] <= upper


def test_rrelu_training_is_reproducible_with_manual_seed(backend):
    x = xpnet.tensor(-np.linspace(0.5, 2.0, 50))
    xpnet.manual_seed(11)
    first = nn.RReLU()(x).numpy()
    xpnet.manual_seed(11)
    np.testing.assert_array_equal(nn.RReLU()(x).numpy(), first)
    g = xpnet.Generator(11)
    np.testing.assert_array_equal(F.rrelu(x, training=True, generator=g).numpy(), first)


def test_rrelu_eval_uses_the_mean_slope(backend):
    out = nn.RReLU(0.1, 0.3).eval()(xpnet.tensor([-2.0, -1.0, 0.0, 3.0], dtype="float64"))
    assert_close(out, np.array([-0.4, -0.2, 0.0, 3.0]), rtol=1e-15)


# -- Dropout -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_training_zeroes_a_fraction_p_and_scales_the_rest(backend, p):
    n = 100_000
    x_np = random_arrays((n,), seed=3, low=1.0, high=2.0)[0]  # nonzero: out == 0 iff dropped
    x = xpnet.tensor(x_np, requires_grad=True)
    out = nn.Dropout(p)(x)
    assert_on_device(out, backend)
    grad_out = random_arrays((n,), seed=4)[0]
    out.backward(xpnet.tensor(grad_out))
    y = out.numpy()
    dropped = y == 0
    # The zero fraction is Binomial(n, p) / n, std <= 0.0016 for n = 1e5; 0.01 is > 6 sigma.
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(y[~dropped], x_np[~dropped] / (1 - p), rtol=1e-12)
    # The gradient goes through the same mask and scale.
    assert_on_device(x.grad, backend)
    grad = x.grad.numpy()
    np.testing.assert_array_equal(grad[dropped], 0.0)
    np.testing.assert_allclose(grad[~dropped], grad_out[~dropped] / (1 - p), rtol=1e-12)


def test_dropout_eval_is_the_identity(backend):
    x_np = _input("dropout_eval")
    x = xpnet.tensor(x_np, requires_grad=True)
    layer = nn.Dropout(0.5).eval()
    out = layer(x)
    assert_close(out, x_np, rtol=0, atol=0)
    out.sum().backward()
    assert_close(x.grad, np.ones_like(x_np), rtol=0, atol=0)


def test_dropout_p_0_is_the_identity_in_training(backend):
    x_np = _input("dropout_eval")
    x = xpnet.tensor(x_np, requires_grad=True)
    out = nn.Dropout(0.0)(x)
    assert_close(out, x_np, rtol=0, atol=0)
    out.sum().backward()
    assert_close(x.grad, np.ones_like(x_np), rtol=0, atol=0)


def test_dropout_p_1_zeroes_everything_and_its_gradient(backend):
    x_np = _input("dropout_eval")
    x = xpnet.tensor(x_np, requires_grad=True)
    out = nn.Dropout(1.0)(x)
    assert_on_device(out, backend)
    assert_close(out, np.zeros_like(x_np), rtol=0, atol=0)
    out.sum().backward()
    assert_close(x.grad, np.zeros_like(x_np), rtol=0, atol=0)


def test_dropout_follows_train_and_eval_of_its_container(backend):
    model = nn.Sequential(nn.Identity(), nn.Dropout(0.5))
    x = xpnet.ones(1000)
    assert np.any(model(x).numpy() == 0)
    np.testing.assert_array_equal(model.eval()(x).numpy(), 1.0)
    assert np.any(model.train()(x).numpy() == 0)


def test_dropout_mask_is_reproducible_with_manual_seed_and_generator(backend):
    x = xpnet.ones(200)
    xpnet.manual_seed(5)
    first = nn.Dropout(0.3)(x).numpy()
    xpnet.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout(0.3)(x).numpy(), first)
    np.testing.assert_array_equal(F.dropout(x, 0.3, generator=xpnet.Generator(5)).numpy(), first)


# -- state dicts between torch and xpnet --------------------------------------------------------

def _models(torch):
    """The same architecture in torch and in xpnet (float64)."""
    tnn = torch.nn
    twin = tnn.Sequential(tnn.Linear(4, 5), tnn.PReLU(5), tnn.Linear(5, 3, bias=False),
                          tnn.Tanh(), tnn.Linear(3, 2)).double()
    model = nn.Sequential(nn.Linear(4, 5), nn.PReLU(5), nn.Linear(5, 3, bias=False),
                          nn.Tanh(), nn.Linear(3, 2)).double()
    return model, twin


def test_torch_state_dict_loads_into_the_matching_xpnet_model(backend):
    torch = _torch()
    torch.manual_seed(0)
    model, twin = _models(torch)
    with torch.no_grad():
        twin[1].weight.uniform_(-0.5, 0.5)
    assert list(model.state_dict()) == list(twin.state_dict())
    result = model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, p in model.named_parameters():
        assert_on_device(p, backend)
        assert p.dtype is xpnet.float64
        assert_close(p, twin.state_dict()[name], rtol=0, atol=0)
    x = random_arrays((6, 4), seed=5)[0]
    assert_close(model(xpnet.tensor(x)), twin(torch.tensor(x)), rtol=1e-10, atol=1e-12)


def test_xpnet_state_dict_loads_into_the_matching_torch_model(backend):
    torch = _torch()
    model, twin = _models(torch)
    nn.init.uniform_(model[1].weight, -0.5, 0.5)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = random_arrays((6, 4), seed=6)[0]
    assert_close(model(xpnet.tensor(x)), twin(torch.tensor(x)), rtol=1e-10, atol=1e-12)


def test_float32_torch_state_dict_is_cast_to_the_models_dtype(backend):
    torch = _torch()
    twin = torch.nn.Linear(3, 2)  # float32
    model = nn.Linear(3, 2).double()
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    assert model.weight.dtype is xpnet.float64
    assert_on_device(model.weight, backend)
    assert_close(model.weight, twin.weight.double(), rtol=0, atol=0)


# -- bad input ---------------------------------------------------------------------------------

def test_linear_rejects_the_wrong_number_of_input_features(backend):
    message = "linear: expected x.shape[-1] == weight.shape[1] (4), got x of shape (2, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.Linear(4, 2)(xpnet.zeros(2, 3))


@pytest.mark.parametrize("features, error", [(-1, ValueError), (2.0, TypeError),
                                             (True, TypeError)])
def test_linear_rejects_bad_sizes(features, error):
    with pytest.raises(error, match="Linear: in_features must be a non-negative int"):
        nn.Linear(features, 2)


def test_prelu_rejects_a_channel_mismatch(backend):
    message = "prelu: 3 slopes need input with 3 channels on axis 1, got shape (2, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.PReLU(3)(xpnet.zeros(2, 4))


def test_prelu_with_several_slopes_rejects_1d_input(backend):
    with pytest.raises(ValueError, match=re.escape("prelu: 3 slopes need input with 3 channels")):
        nn.PReLU(3)(xpnet.zeros(3))


@pytest.mark.parametrize("num_parameters, error", [(0, ValueError), (1.5, TypeError)])
def test_prelu_rejects_a_bad_number_of_slopes(num_parameters, error):
    with pytest.raises(error, match="PReLU: num_parameters must be a positive int"):
        nn.PReLU(num_parameters)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_p_out_of_range(p):
    with pytest.raises(ValueError, match=re.escape(f"Dropout: p must be in [0, 1], got {p}")):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=re.escape(f"dropout: p must be in [0, 1], got {p}")):
        F.dropout(xpnet.ones(3), p)


def test_gelu_rejects_an_unknown_approximation(backend):
    message = "gelu: approximate must be 'none' or 'tanh', got 'erf'"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.GELU("erf")(xpnet.zeros(3))


def test_rrelu_rejects_lower_above_upper(backend):
    with pytest.raises(ValueError, match=re.escape("rrelu: expected 0 <= lower <= upper")):
        nn.RReLU(0.5, 0.1)(xpnet.zeros(3))
