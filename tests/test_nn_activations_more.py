"""The activations beyond the core ones (xpnet/ops/activation.py, xpnet/functional/activation.py,
xpnet/nn/activation.py): SiLU, Mish, Hardtanh, ReLU6, Hardswish, Hardsigmoid, LogSigmoid,
Softsign, Tanhshrink, SELU, CELU, GLU, Softmin, Threshold, Hardshrink, Softshrink, against
PyTorch's functions and modules, gradients at the kinks, stability at |x| = 1e4, in-place
forms, reprs and bad arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
import xpnet.nn as nn

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

# name -> (xpnet function, torch function)
ACTIVATIONS = {
    "silu": (F.silu, lambda t: TF.silu(t)),
    "mish": (F.mish, lambda t: TF.mish(t)),
    "hardtanh": (F.hardtanh, lambda t: TF.hardtanh(t)),
    "hardtanh_-2_3": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda t: TF.hardtanh(t, -2.0, 3.0)),
    "relu6": (F.relu6, lambda t: TF.relu6(t)),
    "hardswish": (F.hardswish, lambda t: TF.hardswish(t)),
    "hardsigmoid": (F.hardsigmoid, lambda t: TF.hardsigmoid(t)),
    "logsigmoid": (F.logsigmoid, lambda t: TF.logsigmoid(t)),
    "softsign": (F.softsign, lambda t: TF.softsign(t)),
    "tanhshrink": (F.tanhshrink, lambda t: TF.tanhshrink(t)),
    "selu": (F.selu, lambda t: TF.selu(t)),
    "celu": (F.celu, lambda t: TF.celu(t)),
    "celu_alpha_2": (lambda x: F.celu(x, 2.0), lambda t: TF.celu(t, 2.0)),
    "glu": (F.glu, lambda t: TF.glu(t)),
    "glu_dim_0": (lambda x: F.glu(x, 0), lambda t: TF.glu(t, 0)),
    "softmin_dim_1": (lambda x: F.softmin(x, 1), lambda t: TF.softmin(t, 1)),
    "softmin_dim_0": (lambda x: F.softmin(x, dim=0), lambda t: TF.softmin(t, dim=0)),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda t: TF.threshold(t, 0.5, -2.0)),
    "hardshrink": (F.hardshrink, lambda t: TF.hardshrink(t)),
    "hardshrink_1": (lambda x: F.hardshrink(x, 1.0), lambda t: TF.hardshrink(t, 1.0)),
    "softshrink": (F.softshrink, lambda t: TF.softshrink(t)),
    "softshrink_1": (lambda x: F.softshrink(x, 1.0), lambda t: TF.softshrink(t, 1.0)),
}

# PyTorch's CPU hardsigmoid gradient is 1/6 rounded to float32 (0.16666667163...); ours is 1/6.
GRAD_RTOL = {"hardsigmoid": 1e-7}


def _inputs():
    # Spans every piece of hardswish/hardsigmoid (kinks at +-3) and of the shrinks.
    return random_arrays((4, 6), low=-4.0, high=4.0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(backend, name):
    fn, torch_fn = ACTIVATIONS[name]
    check_forward(backend, fn, torch_fn, _inputs())
    check_grads(backend, fn, torch_fn, _inputs(), rtol=GRAD_RTOL.get(name, 1e-10))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(backend, name):
    gradcheck(ACTIVATIONS[name][0], _inputs())


KINKS = {
    "hardtanh": [-1.5, -1.0, 0.0, 1.0, 1.5],
    "hardtanh_-2_3": [-2.0, 3.0],
    "relu6": [-1.0, 0.0, 3.0, 6.0, 7.0],
    "hardswish": [-4.0, -3.0, 0.0, 3.0, 4.0],
    "hardsigmoid": [-4.0, -3.0, 0.0, 3.0, 4.0],
    "selu": [-1.0, 0.0, 1.0],
    "celu_alpha_2": [-1.0, 0.0, 1.0],
    "threshold": [0.4, 0.5, 0.6],
    "hardshrink": [-0.5, 0.0, 0.5],
    "softshrink": [-0.5, 0.0, 0.5],
    "softsign": [0.0],
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_gradient_at_the_kinks_is_torchs(backend, name):
    fn, torch_fn = ACTIVATIONS[name]
    check_grads(backend, fn, torch_fn, [np.array(KINKS[name])],
                rtol=GRAD_RTOL.get(name, 1e-10))


BIG = np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4])


@pytest.mark.parametrize("name", ["silu", "mish", "logsigmoid", "softsign", "selu", "celu"])
def test_stable_at_huge_inputs(backend, name):
    fn, torch_fn = ACTIVATIONS[name]
    (x,) = to_xpnet(BIG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from a discarded branch
        out = fn(x)
        out.sum().backward()
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    check_forward(backend, fn, torch_fn, [BIG])
    check_grads(backend, fn, torch_fn, [BIG])


def test_logsigmoid_is_exact_where_the_naive_form_is_not(backend):
    out = F.logsigmoid(xpnet.tensor(np.array([-1e4, -50.0, 50.0]), dtype=xpnet.float64))
    np.testing.assert_allclose(out.numpy(), [-1e4, -50.0, -np.exp(-50.0)], rtol=1e-15)


@pytest.mark.parametrize("name", ["silu", "hardswish", "logsigmoid", "selu", "glu"])
def test_float32_stays_float32(backend, name):
    out = ACTIVATIONS[name][0](xpnet.randn(4, 6))
    assert out.dtype is xpnet.float32
    assert_on_device(out, backend)


def test_integer_input_gives_the_default_float(backend):
    out = F.silu(xpnet.tensor([-1, 0, 2]))
    assert out.dtype is xpnet.float32
    assert_close(out, TF.silu(torch.tensor([-1.0, 0.0, 2.0])), rtol=1e-6)


# -- in place ----------------------------------------------------------------------------------

INPLACE = {
    "silu": lambda x, **k: F.silu(x, **k), "mish": lambda x, **k: F.mish(x, **k),
    "hardtanh": lambda x, **k: F.hardtanh(x, -0.5, 0.5, **k),
    "relu6": lambda x, **k: F.relu6(x, **k), "hardswish": lambda x, **k: F.hardswish(x, **k),
    "hardsigmoid": lambda x, **k: F.hardsigmoid(x, **k), "selu": lambda x, **k: F.selu(x, **k),
    "celu": lambda x, **k: F.celu(x, 0.5, **k),
    "threshold": lambda x, **k: F.threshold(x, 0.1, 7.0, **k),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_rebinds_the_input_and_keeps_the_gradient(backend, name):
    fn = INPLACE[name]
    (a,) = to_xpnet(*_inputs())
    want = fn(a)
    want.sum().backward()
    want_grad = a.grad.numpy()
    a.grad = None
    x = a * 1.0  # not a leaf: in-place is allowed under autograd
    out = fn(x, inplace=True)
    assert out is x
    assert_close(x, want.numpy())
    x.sum().backward()
    assert_close(a.grad, want_grad)


def test_inplace_on_a_leaf_that_requires_grad_is_refused(backend):
    (x,) = to_xpnet(*_inputs())
    with pytest.raises(RuntimeError, match="silu: a leaf tensor that requires grad"):
        F.silu(x, inplace=True)


@pytest.mark.parametrize("name, torch_name, args", [
    ("elu_", "elu_", (0.5,)), ("leaky_relu_", "leaky_relu_", (0.2,)),
    ("hardtanh_", "hardtanh_", (-0.5, 0.5)), ("selu_", "selu_", ()), ("celu_", "celu_", (2.0,)),
    ("threshold_", "threshold_", (0.1, 7.0)),
])
def test_underscore_functions_update_in_place_as_torchs(backend, name, torch_name, args):
    (x,) = to_xpnet(*_inputs(), requires_grad=False)
    t = torch.tensor(_inputs()[0])
    assert getattr(F, name)(x, *args) is x
    getattr(TF, torch_name)(t, *args)
    assert_close(x, t)


def test_rrelu_underscore_in_eval_is_leaky_relu_with_the_mean_slope(backend):
    (x,) = to_xpnet(*_inputs(), requires_grad=False)
    want = F.leaky_relu(x, (0.1 + 0.3) / 2).numpy()
    assert F.rrelu_(x, 0.1, 0.3) is x
    assert_close(x, want)


# -- names: top level, Tensor method, nn.functional --------------------------------------------

@pytest.mark.parametrize("name", ["selu", "celu", "threshold", "hardshrink"])
def test_torchs_top_level_names_are_the_functions(name):
    assert getattr(xpnet, name) is getattr(F, name)
    assert getattr(torch, name) is not None


def test_hardshrink_method_matches_torch(backend):
    (x,) = to_xpnet(*_inputs())
    assert_close(x.hardshrink(0.7), torch.tensor(_inputs()[0]).hardshrink(0.7))


def test_nn_functional_is_xpnet_functional():
    import xpnet.nn.functional as NF
    for name in ("silu", "mish", "hardtanh", "glu", "softmin", "logsigmoid", "hardtanh_"):
        assert getattr(NF, name) is getattr(F, name)


# -- softmin's implicit dim ----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
def test_softmin_without_dim_warns_and_picks_torchs_axis(backend, shape):
    (x,) = random_arrays(shape, seed=2)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        got = F.softmin(xpnet.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        want = TF.softmin(torch.tensor(x))
    assert_close(got, want)


def test_softmin_dtype_casts_first(backend):
    (x,) = random_arrays((3, 4), seed=3)
    out = F.softmin(xpnet.tensor(x, dtype=xpnet.float32), dim=1, dtype=xpnet.float64)
    assert out.dtype is xpnet.float64
    assert_close(out, TF.softmin(torch.tensor(x, dtype=torch.float32), 1, dtype=torch.float64),
                 rtol=1e-6)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_glu_and_softmin_over_any_axis_match_torch(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] *= 2  # glu halves the axis
    (x,) = random_arrays(tuple(shape), seed=sum(shape))
    with xpnet.use_backend("array_api_strict"):
        for fn, torch_fn in ((F.glu, TF.glu), (F.softmin, TF.softmin)):
            check_forward("array_api_strict", lambda t: fn(t, axis),
                          lambda t: torch_fn(t, axis), [x])
            check_grads("array_api_strict", lambda t: fn(t, axis),
                        lambda t: torch_fn(t, axis), [x])


# -- modules -------------------------------------------------------------------------------------

# (xpnet module, the same torch module)
MODULES = [
    (lambda m: m.SiLU(), None), (lambda m: m.SiLU(inplace=True), None),
    (lambda m: m.Mish(), None), (lambda m: m.Mish(True), None),
    (lambda m: m.Hardtanh(), None), (lambda m: m.Hardtanh(-2.0, 3.0, True), None),
    (lambda m: m.Hardtanh(-2, 3), None), (lambda m: m.ReLU6(), None),
    (lambda m: m.ReLU6(True), None), (lambda m: m.Hardswish(), None),
    (lambda m: m.Hardswish(True), None), (lambda m: m.Hardsigmoid(True), None),
    (lambda m: m.LogSigmoid(), None), (lambda m: m.Softsign(), None),
    (lambda m: m.Tanhshrink(), None), (lambda m: m.SELU(), None), (lambda m: m.SELU(True), None),
    (lambda m: m.CELU(), None), (lambda m: m.CELU(2.0, True), None), (lambda m: m.GLU(), None),
    (lambda m: m.GLU(0), None), (lambda m: m.Softmin(1), None),
    (lambda m: m.Threshold(0.1, 20), None), (lambda m: m.Threshold(0.1, 20.0, True), None),
    (lambda m: m.Hardshrink(), None), (lambda m: m.Softshrink(1), None),
]


@pytest.mark.parametrize("make", [m for m, _ in MODULES])
def test_module_matches_torch_module_and_repr(make):
    module, torch_module = make(nn), make(torch.nn)
    assert repr(module) == repr(torch_module)
    x = _inputs()[0]
    with xpnet.use_backend("numpy"):
        xs = xpnet.tensor(x, requires_grad=True) * 1.0  # a non-leaf: in-place layers allowed
        got = module(xs)
        want = torch_module(torch.tensor(x, requires_grad=True) * 1.0)
        assert_close(got, want.detach())


def test_softmin_module_without_dim_warns_like_torch():
    assert repr(nn.Softmin()) == "Softmin(dim=None)"
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        nn.Softmin()(xpnet.randn(2, 3))


def test_hardtanh_deprecated_keywords_warn_and_apply():
    with pytest.warns(FutureWarning, match="min_value"):
        layer = nn.Hardtanh(min_value=-3.0)
    with pytest.warns(FutureWarning, match="max_value"):
        layer2 = nn.Hardtanh(max_value=3.0)
    assert (layer.min_val, layer2.max_val) == (-3.0, 3.0)


def test_new_layers_are_in_torchs_family_module():
    from xpnet.nn.modules import activation
    for name in ("SiLU", "Mish", "Hardtanh", "ReLU6", "Hardswish", "Hardsigmoid", "LogSigmoid",
                 "Softsign", "Tanhshrink", "SELU", "CELU", "GLU", "Softmin", "Threshold",
                 "Hardshrink", "Softshrink"):
        assert getattr(activation, name) is getattr(nn, name)


# -- bad arguments -------------------------------------------------------------------------------

def test_bad_arguments_raise_clear_errors():
    x = xpnet.randn(3, 4)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2.0\) must not exceed max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(TypeError, match="hardtanh: min_val must be a number, got str"):
        F.hardtanh(x, "a")
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="softshrink: lambd must be non-negative, got -1"):
        F.softshrink(x, -1.0)
    with pytest.raises(ValueError, match=r"glu: the size along dim 1 must be even .* got 3"):
        F.glu(xpnet.randn(2, 3), 1)
    with pytest.raises(ValueError, match="glu: input must have at least one dimension"):
        F.glu(xpnet.tensor(1.0))
    with pytest.raises(ValueError, match="glu: axis 2 is out of range for a 2-D tensor"):
        F.glu(x, 2)
    with pytest.raises(TypeError, match="silu: expected a Tensor, got list"):
        F.silu([1.0, 2.0])
    with pytest.raises(TypeError, match="silu: inplace must be True or False, got 1"):
        F.silu(x * 1.0, inplace=1)
    with pytest.raises(TypeError, match="SiLU: inplace must be True or False, got 'yes'"):
        nn.SiLU("yes")
    with pytest.raises(TypeError, match="threshold: value must be a number, got NoneType"):
        F.threshold(x, 0.5, None)
