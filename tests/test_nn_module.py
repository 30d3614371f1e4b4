"""Module: registration, traversal, modes, state dicts across backends, to(), repr, containers,
hooks, and the training diagnostics and anomaly mode built on them."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import xpnet
import xpnet.nn as nn
from xpnet.nn.utils import dead_relu_fraction, diagnostics_report, gradient_norms

from .conftest import assert_close, assert_on_backend


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.out = nn.Linear(4, 2)
        self.register_buffer("scale", xpnet.ones(2))
        self.register_buffer("scratch", xpnet.zeros(1), persistent=False)

    def forward(self, x):
        return self.out(self.act(self.hidden(x))) * self.scale


def test_parameters_buffers_and_children_are_registered_in_order():
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight",
                                                   "out.bias"]
    assert [n for n, _ in m.named_buffers()] == ["scale", "scratch"]
    assert [n for n, _ in m.named_children()] == ["hidden", "act", "out"]
    assert [n for n, _ in m.named_modules()] == ["", "hidden", "act", "out"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_and_eval_reach_every_submodule():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    m.eval()
    assert not any(sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())


def test_zero_grad_clears_gradients():
    m = TwoLayer()
    m(xpnet.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not np.any(p.grad.numpy()) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_holds_parameters_and_persistent_buffers():
    m = TwoLayer()
    sd = m.state_dict()
    # PyTorch's order: a module's own parameters and buffers, then its children's.
    assert list(sd) == ["scale", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert not any(t.requires_grad for t in sd.values())


def test_state_dict_round_trip_across_backends(backend):
    with xpnet.use_backend("numpy"):
        source = TwoLayer()
    target = TwoLayer()  # built on the test's backend
    weight_before = target.hidden.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.hidden.weight is weight_before  # identity kept, so optimizers keep working
    assert_on_backend(target.hidden.weight, backend)
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert_close(b, a.numpy(), rtol=0, atol=0)


def test_load_state_dict_accepts_numpy_and_casts_to_the_parameter_dtype():
    m = nn.Linear(2, 3)
    values = {"weight": np.arange(6.0).reshape(3, 2), "bias": np.array([1, 2, 3])}  # f64, int
    m.load_state_dict(values)
    assert m.weight.dtype is xpnet.float32 and m.bias.dtype is xpnet.float32
    assert_close(m.bias, [1.0, 2.0, 3.0])


def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    m = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"load_state_dict for Linear: missing keys: 'bias'; "
                                         r"unexpected keys: 'extra'"):
        m.load_state_dict({"weight": np.zeros((3, 2)), "extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"shape mismatch for 'weight': the module has \(3, 2\), "
                                         r"the state dict \(2, 3\)"):
        m.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(3)})
    before = m.weight.numpy()
    result = m.load_state_dict({"weight": np.ones((3, 2)), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert not np.array_equal(before, m.weight.numpy())


def test_a_failed_load_writes_nothing():
    m = nn.Linear(2, 3)
    before = m.weight.numpy()
    with pytest.raises(ValueError):
        m.load_state_dict({"weight": np.ones((3, 2)), "bias": np.zeros(4)})
    np.testing.assert_array_equal(m.weight.numpy(), before)


def test_to_moves_and_casts_in_place():
    m = TwoLayer()
    weight = m.hidden.weight
    m.to(dtype=xpnet.float64, backend="array_api_strict:device1")
    assert m.hidden.weight is weight
    assert weight.dtype is xpnet.float64 and weight.backend == "array_api_strict:device1"
    assert m.scale.backend == "array_api_strict:device1"
    with xpnet.use_backend("array_api_strict:device1"):
        out = m(xpnet.randn(2, 3, dtype="float64"))
    assert out.backend == "array_api_strict:device1"
    m.float()
    assert weight.dtype is xpnet.float32
    with pytest.raises(TypeError, match="dtype must be floating point"):
        m.to(dtype=xpnet.int64)


def test_repr_is_pytorch_like():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Dropout(0.2)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2, inplace=False)\n"  # torch's text exactly
        "  )\n"
        ")")


def test_containers():
    seq = nn.Sequential(OrderedDict(first=nn.Linear(2, 3), act=nn.Tanh()))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Tanh) and len(seq) == 2
    assert isinstance(seq[:1], nn.Sequential) and len(seq[:1]) == 1
    seq.append(nn.Linear(3, 1))
    assert seq(xpnet.randn(4, 2)).shape == (4, 1)
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Identity())
    assert len(layers) == 4 and len(list(nn.Sequential(*layers).parameters())) == 6
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "b" in heads
    holder = nn.Module()
    holder.heads = heads
    assert [n for n, _ in holder.named_parameters()] == ["heads.a.weight", "heads.a.bias",
                                                          "heads.b.weight", "heads.b.bias"]
    with pytest.raises(IndexError, match="Sequential: index 9 is out of range for length 3"):
        seq[9]


def test_flatten_and_identity():
    x = xpnet.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity()(x) is x


def test_assigning_the_wrong_type_to_a_registered_name_is_refused():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor to parameter 'weight'"):
        m.weight = xpnet.zeros(2, 2)
    m.bias = None
    assert m.bias is None and list(m.state_dict()) == ["weight"]


def test_forward_hooks_see_and_can_replace_outputs():
    m = nn.Linear(2, 2)
    seen = []
    handle = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    m(xpnet.randn(3, 2))
    handle.remove()
    m(xpnet.randn(3, 2))
    assert seen == [(3, 2)]
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert not np.any(m(xpnet.randn(1, 2)).numpy())


# -- diagnostics ------------------------------------------------------------------------------

def test_gradient_norms_per_layer_and_per_parameter(backend):
    xpnet.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    m(xpnet.randn(8, 3)).square().sum().backward()
    per_param = gradient_norms(m, per="parameter")
    per_layer = gradient_norms(m)
    assert list(per_layer) == ["0", "2"]
    w, b = m[0].weight.grad.numpy(), m[0].bias.grad.numpy()
    assert per_param["0.weight"] == pytest.approx(np.linalg.norm(w), rel=1e-5)
    assert per_layer["0"] == pytest.approx(math.hypot(np.linalg.norm(w), np.linalg.norm(b)),
                                           rel=1e-5)
    assert gradient_norms(m, norm_type=math.inf)["2"] == pytest.approx(
        max(np.abs(m[2].weight.grad.numpy()).max(), np.abs(m[2].bias.grad.numpy()).max()))


def test_dead_relu_fraction_counts_units_never_active(backend):
    m = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with xpnet.no_grad():
        m[0].weight.copy_([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [-1.0, -1.0]])
        m[0].bias.copy_([0.0, 0.0, -10.0, 0.5])
    x = xpnet.tensor([[1.0, 2.0], [3.0, 0.5]])  # units 0, 1 fire; 2 never; 3 never (0.5-3 < 0)
    assert dead_relu_fraction(m, x) == {"1": 0.5}
    report = diagnostics_report(m, x)
    assert "dead ReLU" in report and "50.0%" in report


def test_diagnostics_show_vanishing_gradients_in_a_deep_sigmoid_stack():
    # The textbook case: each sigmoid scales gradients by at most 1/4, so the first layers of a
    # deep sigmoid MLP get far smaller gradients than the last.
    xpnet.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    m = nn.Sequential(*layers)
    m(xpnet.randn(32, 16)).sum().backward()
    norms = list(gradient_norms(m).values())
    assert norms[0] < norms[-1] / 100


# -- anomaly mode -----------------------------------------------------------------------------

def test_anomaly_mode_names_the_op_and_layer_of_a_non_finite_forward():
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    with xpnet.no_grad():
        m[0].weight.fill_(1e30)
    with pytest.raises(RuntimeError, match=r"anomaly: Linear produced 1 non-finite value\(s\) in "
                                           r"output 0 \(shape \(1, 1\)\), in layer Sequential "
                                           r"\(Sequential\) > 0 \(Linear\)"):
        with xpnet.autograd.detect_anomaly(m), np.errstate(over="ignore"):
            m(xpnet.tensor([[1e30]]))
    assert not xpnet.autograd.is_anomaly_enabled()


def test_anomaly_mode_names_the_backward_that_made_a_non_finite_gradient():
    x = xpnet.tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"anomaly: Sqrt backward produced 1 non-finite "
                                           r"value\(s\) in the gradient of input 0"):
        with xpnet.autograd.detect_anomaly(), np.errstate(divide="ignore"):
            x.sqrt().sum().backward()


def test_without_anomaly_mode_non_finite_values_pass_silently():
    x = xpnet.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert math.isinf(x.grad.numpy()[0])
