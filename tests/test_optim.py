"""Optimizers (xpnet/optim): trajectories equal torch.optim's, state dicts, groups, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import optim

from .conftest import assert_close, assert_on_backend, random_arrays


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# A small nonconvex model: a tanh layer, a scaled linear read-out and a sin term, on fixed data.
SHAPES = {"w1": (4, 3), "w2": (2, 4), "b": (2,), "s": ()}
X, Y = random_arrays((5, 3), (5, 2), seed=1)


def _loss(lib, params, x, y):
    w1, w2, b, s = params
    out = s * (lib.tanh(x @ w1.T) @ w2.T) + b
    return ((out - y) ** 2).mean() + 0.1 * lib.sin(w1).sum()


def _initial(seed=0):
    arrays = random_arrays(*SHAPES.values(), seed=seed, low=-1.0, high=1.0)
    arrays[3] = np.asarray(1.5)  # s: the output scale
    return arrays


def _xpnet_params(arrays, dtype="float64"):
    return [xpnet.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]


def _sign(opt):
    # With maximize=True the optimizer climbs -loss: the same bounded path, the sign flipped twice.
    return -1 if opt.param_groups[0].get("maximize") else 1


def _xpnet_step(opt, params, dtype="float64"):
    x, y = xpnet.tensor(X, dtype=dtype), xpnet.tensor(Y, dtype=dtype)
    opt.zero_grad()
    (_sign(opt) * _loss(xpnet, params, x, y)).backward()
    opt.step()


def _torch_step(torch, opt, params, dtype=None):
    dtype = dtype or torch.float64
    x, y = torch.tensor(X, dtype=dtype), torch.tensor(Y, dtype=dtype)
    opt.zero_grad()
    (_sign(opt) * _loss(torch, params, x, y)).backward()
    opt.step()


def _torch_optimizer(torch, name, params, kwargs):
    # foreach=False: PyTorch's per-tensor loop, the reference formulas (CPU picks it anyway).
    return getattr(torch.optim, name)(params, **kwargs, foreach=False)


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5, "eps": 1e-8}),
    ("Adagrad", {"lr": 0.05, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-6, "maximize": True}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
]


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


# Gradients differ from PyTorch's in the last bits (op order; its CPU kernels use FMA), and 20
# steps amplify that to at most ~2e-11 here (the centered RMSprop with alpha=0.3); most cases
# stay under 1e-13.
def _compare_trajectories(torch, name, kwargs, steps=20, rtol=1e-10, atol=1e-13):
    arrays = _initial()
    xp_params = _xpnet_params(arrays)
    t_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    xp_opt = getattr(optim, name)(xp_params, **kwargs)
    t_opt = _torch_optimizer(torch, name, t_params, kwargs)
    for _ in range(steps):
        _xpnet_step(xp_opt, xp_params)
        _torch_step(torch, t_opt, t_params)
        for got, want in zip(xp_params, t_params):
            assert_close(got, want, rtol=rtol, atol=atol)
    return xp_params, xp_opt, t_opt


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch(torch, case):
    _compare_trajectories(torch, *case)


EVERY_BACKEND = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("case", EVERY_BACKEND, ids=_case_id)
def test_trajectory_matches_torch_on_every_backend(torch, backend, case):
    params, opt, _ = _compare_trajectories(torch, *case)
    for p in params:
        assert_on_backend(p, backend)
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, xpnet.Tensor):
                assert_on_backend(value, backend)
                assert value.dtype is xpnet.float64


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_float32_stays_float32_and_tracks_torch(torch, name):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05, "amsgrad": True}
    arrays = _initial()
    xp_params = _xpnet_params(arrays, "float32")
    t_params = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    xp_opt = getattr(optim, name)(xp_params, **kwargs)
    t_opt = _torch_optimizer(torch, name, t_params, kwargs)
    for _ in range(10):
        _xpnet_step(xp_opt, xp_params, "float32")
        _torch_step(torch, t_opt, t_params, torch.float32)
    for got, want in zip(xp_params, t_params):
        assert got.dtype is xpnet.float32
        assert_close(got, want, rtol=1e-4, atol=1e-5)  # float32 rounding, op order differs
    for state in xp_opt.state.values():
        assert all(v.dtype is xpnet.float32 for v in state.values() if isinstance(v, xpnet.Tensor))


def test_state_matches_torch_names_and_values(torch):
    kwargs = {"lr": 0.05, "amsgrad": True}
    _, xp_opt, t_opt = _compare_trajectories(torch, "Adam", kwargs, steps=5)
    got, want = xp_opt.state_dict(), t_opt.state_dict()
    assert set(got["state"]) == set(want["state"]) == {0, 1, 2, 3}
    for index, state in want["state"].items():
        assert set(got["state"][index]) == set(state)
        assert got["state"][index]["step"] == state["step"].item() == 5
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert_close(got["state"][index][key], state[key], rtol=1e-12, atol=1e-15)
    assert set(got["param_groups"][0]) == set(want["param_groups"][0])
    assert got["param_groups"][0]["params"] == want["param_groups"][0]["params"]


@pytest.mark.parametrize("case", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adadelta", {}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
], ids=_case_id)
def test_state_dict_round_trip_mid_training_continues_identically(case):
    name, kwargs = case
    params = _xpnet_params(_initial())
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(10):
        _xpnet_step(opt, params)
    saved = opt.state_dict()
    clones = [xpnet.tensor(p, requires_grad=True) for p in params]
    resumed = getattr(optim, name)(clones, lr=123.0)  # lr comes back from the state dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == kwargs.get("lr", 1.0)
    for _ in range(10):
        _xpnet_step(opt, params)
        _xpnet_step(resumed, clones)
    for a, b in zip(params, clones):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_is_a_snapshot():
    params = _xpnet_params(_initial())
    opt = optim.Adam(params, lr=0.05)
    _xpnet_step(opt, params)
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].numpy()
    _xpnet_step(opt, params)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), before)
    assert saved["state"][0]["step"] == 1


@pytest.mark.parametrize("target", ["array_api_strict:device1", "torch"])
def test_load_state_dict_moves_state_to_the_parameters_backend(target):
    if target == "torch":
        pytest.importorskip("torch")
    arrays = _initial()
    params = _xpnet_params(arrays)
    opt = optim.Adam(params, lr=0.05, amsgrad=True)
    for _ in range(5):
        _xpnet_step(opt, params)
    saved = opt.state_dict()
    with xpnet.use_backend(target):
        moved = [xpnet.tensor(p, requires_grad=True, backend=target) for p in params]
        resumed = optim.Adam(moved, lr=0.05, amsgrad=True)
        resumed.load_state_dict(saved)
        for state in resumed.state.values():
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                assert_on_backend(state[key], target)
        for _ in range(5):
            _xpnet_step(resumed, moved)
    for _ in range(5):
        _xpnet_step(opt, params)
    for a, b in zip(params, moved):
        assert_close(b, a.numpy(), rtol=1e-12, atol=1e-15)


def test_load_state_dict_casts_state_to_the_parameters_dtype():
    params = _xpnet_params(_initial())
    opt = optim.SGD(params, lr=0.05, momentum=0.9)
    _xpnet_step(opt, params)
    single = [xpnet.tensor(p, dtype="float32", requires_grad=True) for p in params]
    resumed = optim.SGD(single, lr=0.05, momentum=0.9)
    resumed.load_state_dict(opt.state_dict())
    for p in single:
        assert resumed.state[p]["momentum_buffer"].dtype is xpnet.float32


@pytest.mark.parametrize("mutate, error, match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), ValueError,
     r"Adam.load_state_dict: the state dict has 2 parameter group\(s\), this optimizer has 1"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), ValueError,
     r"parameter group 0 has 3 parameter\(s\) in the state dict, 4 here"),
    (lambda sd: sd["state"][1].update(exp_avg=xpnet.zeros(4, 2, dtype="float64")), ValueError,
     r"state 'exp_avg' of parameter 1 has shape \(4, 2\), expected the parameter's shape \(2, 4\)"),
    (lambda sd: sd["state"].update({7: {}}), ValueError,
     r"state for parameter 7, but its groups list parameters \[0, 1, 2, 3\]"),
    (lambda sd: sd.pop("state"), TypeError,
     r"expected a dict with 'state' and 'param_groups', got \['param_groups'\]"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), ValueError, "Adam: lr must be >= 0"),
])
def test_load_state_dict_rejects_mismatches_and_loads_nothing(mutate, error, match):
    params = _xpnet_params(_initial())
    opt = optim.Adam(params, lr=0.05)
    _xpnet_step(opt, params)
    saved = opt.state_dict()
    mutate(saved)
    fresh = optim.Adam(_xpnet_params(_initial()), lr=0.01)
    with pytest.raises(error, match=match):
        fresh.load_state_dict(saved)
    assert fresh.state == {} and fresh.param_groups[0]["lr"] == 0.01


def test_param_groups_with_different_lrs_match_torch(torch):
    arrays = _initial()
    xp_params = _xpnet_params(arrays)
    t_params = [torch.tensor(a, requires_grad=True) for a in arrays]

    def groups(p):
        return [{"params": [p[0]], "lr": 0.1, "momentum": 0.5}, {"params": p[1:]}]

    xp_opt = optim.SGD(groups(xp_params), lr=0.01, momentum=0.9)
    t_opt = torch.optim.SGD(groups(t_params), lr=0.01, momentum=0.9, foreach=False)
    assert [g["lr"] for g in xp_opt.param_groups] == [0.1, 0.01]
    for _ in range(20):
        _xpnet_step(xp_opt, xp_params)
        _torch_step(torch, t_opt, t_params)
    for got, want in zip(xp_params, t_params):
        assert_close(got, want, rtol=1e-12, atol=1e-14)
    assert xp_opt.state_dict()["param_groups"][1]["params"] == [1, 2, 3]


def test_add_param_group_fills_defaults_and_trains_the_new_group():
    w, v = _xpnet_params(_initial()[:2])
    opt = optim.Adam([w], lr=0.1, betas=(0.8, 0.99))
    opt.add_param_group({"params": v, "lr": 0.5})
    assert opt.param_groups[1]["betas"] == (0.8, 0.99) and opt.param_groups[1]["lr"] == 0.5
    before = v.numpy()
    (v * v).sum().backward()
    opt.step()
    assert not np.array_equal(v.numpy(), before)


def test_named_parameters_keep_their_names():
    w, v = _xpnet_params(_initial()[:2])
    opt = optim.SGD([("w", w), ("v", v)], lr=0.1)
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(w), id(v)]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "v"]


def test_step_keeps_parameter_identity_and_skips_params_without_grad():
    w, v = _xpnet_params(_initial()[:2])
    opt = optim.SGD([w, v], lr=0.1, momentum=0.9)
    before_v = v.numpy()
    (w * w).sum().backward()
    w_id, w_data = id(w), w.array
    opt.step()
    assert id(opt.param_groups[0]["params"][0]) == w_id
    assert w.array is not w_data and w.requires_grad and w.is_leaf and w.grad_fn is None
    np.testing.assert_array_equal(v.numpy(), before_v)
    assert all(k is not v for k in opt.state)


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    (w,) = _xpnet_params(_initial()[:1])
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with xpnet.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, xpnet.Tensor)
    assert_close(w, _initial()[0] * 0.8)


def test_zero_grad():
    w, v = _xpnet_params(_initial()[:2])
    opt = optim.SGD([w, v], lr=0.1)
    (w.sum() + v.sum()).backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and not w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(w.shape))
    opt.zero_grad()
    assert w.grad is None and v.grad is None


def test_repr_lists_the_groups():
    (w,) = _xpnet_params(_initial()[:1])
    text = repr(optim.SGD([w], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text


def _bad_value_cases():
    p = [xpnet.zeros(2, requires_grad=True)]
    return [
        (lambda: optim.SGD(p, lr=-1), ValueError, r"^SGD: lr must be >= 0, got -1$"),
        (lambda: optim.SGD(p, lr=float("nan")), ValueError, r"^SGD: lr must be >= 0, got nan$"),
        (lambda: optim.SGD(p, lr="0.1"), TypeError, r"^SGD: lr must be a real number, got str$"),
        (lambda: optim.SGD(p, momentum=-0.5), ValueError, r"^SGD: momentum must be >= 0"),
        (lambda: optim.SGD(p, weight_decay=-1e-4), ValueError, r"^SGD: weight_decay must be"),
        (lambda: optim.SGD(p, nesterov=True), ValueError,
         r"^SGD: nesterov=True needs momentum > 0 and dampening == 0, got momentum=0"),
        (lambda: optim.SGD(p, momentum=0.9, nesterov=1), TypeError,
         r"^SGD: nesterov must be True or False, got 1$"),
        (lambda: optim.Adagrad(p, lr_decay=-1), ValueError, r"^Adagrad: lr_decay must be >= 0"),
        (lambda: optim.Adagrad(p, initial_accumulator_value=-1), ValueError,
         r"^Adagrad: initial_accumulator_value must be >= 0, got -1$"),
        (lambda: optim.RMSprop(p, alpha=-0.1), ValueError, r"^RMSprop: alpha must be >= 0"),
        (lambda: optim.RMSprop(p, centered="yes"), TypeError, r"^RMSprop: centered must be"),
        (lambda: optim.Adadelta(p, rho=1.5), ValueError,
         r"^Adadelta: rho must be in \[0, 1\], got 1.5$"),
        (lambda: optim.Adam(p, betas=(1.0, 0.999)), ValueError,
         r"^Adam: betas\[0\] must be in \[0, 1\), got 1.0$"),
        (lambda: optim.Adam(p, betas=(0.9, -0.1)), ValueError, r"^Adam: betas\[1\] must be in"),
        (lambda: optim.Adam(p, betas=0.9), TypeError,
         r"^Adam: betas must be a pair \(beta1, beta2\), got 0.9$"),
        (lambda: optim.Adam(p, eps=-1e-8), ValueError, r"^Adam: eps must be >= 0"),
        (lambda: optim.AdamW(p, weight_decay=-0.01), ValueError,
         r"^AdamW: weight_decay must be >= 0, got -0.01$"),
        (lambda: optim.SGD([{"params": p, "lr": -2}], lr=0.1), ValueError,
         r"^SGD: lr must be >= 0, got -2$"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_value_cases())))
def test_bad_hyperparameters_raise_clear_errors(index):
    make, error, match = _bad_value_cases()[index]
    with pytest.raises(error, match=match):
        make()


def test_bad_parameters_raise_clear_errors():
    w = xpnet.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"params must be an iterable of Tensors or of dicts, got "
                                        r"a Tensor; pass \[tensor\]"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered iterable"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="SGD: can only optimize Tensors, got float at position 1"):
        optim.SGD([w, 1.0], lr=0.1)
    with pytest.raises(ValueError, match="SGD: can only optimize leaf tensors"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="SGD: can only optimize floating-point tensors, got int64"):
        optim.SGD([xpnet.arange(3)], lr=0.1)
    with pytest.raises(ValueError, match="holds the same tensor more than once"):
        optim.SGD([w, w], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="appear in more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(TypeError, match="a parameter group must be a dict, got list"):
        opt.add_param_group([w])
    with pytest.raises(ValueError, match="SGD: lr must be >= 0"):
        opt.add_param_group({"params": [xpnet.zeros(1, requires_grad=True)], "lr": -1})
    assert len(opt.param_groups) == 1


def test_step_rejects_a_gradient_of_the_wrong_shape_before_writing():
    w, v = xpnet.zeros(2, requires_grad=True), xpnet.zeros(3, requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1)
    w.grad = xpnet.ones(2)
    with pytest.raises(ValueError, match=r"Tensor.grad: assigned grad has shape \(2,\)"):
        v.grad = xpnet.ones(2)  # refused at assignment, as in PyTorch
    v._grad = xpnet.ones(2)  # behind the setter's back: step still checks before writing
    with pytest.raises(ValueError, match=r"a parameter of shape \(3,\) on \S+ has a gradient of "
                                         r"shape \(2,\)"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), np.zeros(2))
