"""Adamax, NAdam, RAdam, Rprop and ASGD: trajectories equal torch.optim's, state dicts in
torch's layout (both ways), PyTorch's implementation flags, bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import xpnet
from xpnet import optim

from .conftest import assert_close, assert_on_backend
from .test_optim import _case_id, _compare_trajectories, _initial, _torch_step, _xpnet_params
from .test_optim import _xpnet_step


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# Each case is run 20 steps beside torch (foreach=False, its per-tensor loop) from the same
# parameters, and compared after every step (tests/test_optim.py's pattern and tolerances).
CASES = [
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.02, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.02, "betas": (0.8, 0.9), "maximize": True}),
    # rho_t > 5 (the rectified adaptive step) from step 6 on with beta2 = 0.999, from step 7
    # with 0.8, from step 10 with 0.7, never with 0.6 (rho_inf = 4): both branches run.
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.6), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.8), "weight_decay": 0.1,
               "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.02, "betas": (0.9, 0.7), "maximize": True}),
    ("Rprop", {"lr": 0.05}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"lr": 0.01, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.1, "lambd": 0.1, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 3, "maximize": True}),
]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch(torch, case):
    _compare_trajectories(torch, *case)


EVERY_BACKEND = [
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.8), "weight_decay": 0.1}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("ASGD", {"lr": 0.1, "lambd": 0.1, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
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


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_scalar_state_follows_the_default_dtype_as_in_torch(torch, name):
    # torch keeps NAdam's mu_product and ASGD's eta/mu in 0-d tensors of its default dtype:
    # float32 normally (the cases above), float64 here; the trajectories differ by ~1e-9.
    kwargs = {"lr": 0.1, "t0": 5} if name == "ASGD" else {"lr": 0.05}
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    xpnet.set_default_dtype("float64")  # restored by conftest
    try:
        _compare_trajectories(torch, name, kwargs)
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_float32_stays_float32_and_tracks_torch(torch, name):
    arrays = _initial()
    xp_params = _xpnet_params(arrays, "float32")
    t_params = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    xp_opt = getattr(optim, name)(xp_params, lr=0.05)
    t_opt = getattr(torch.optim, name)(t_params, lr=0.05, foreach=False)
    for _ in range(10):
        _xpnet_step(xp_opt, xp_params, "float32")
        _torch_step(torch, t_opt, t_params, torch.float32)
    for got, want in zip(xp_params, t_params):
        assert got.dtype is xpnet.float32
        assert_close(got, want, rtol=1e-4, atol=1e-5)  # float32 rounding, op order differs
    for state in xp_opt.state.values():
        assert all(v.dtype is xpnet.float32 for v in state.values() if isinstance(v, xpnet.Tensor))


STATE_CASES = [
    ("Adamax", {"lr": 0.05}, ("exp_avg", "exp_inf")),
    ("NAdam", {"lr": 0.05}, ("exp_avg", "exp_avg_sq", "mu_product")),
    ("RAdam", {"lr": 0.05}, ("exp_avg", "exp_avg_sq")),
    ("Rprop", {"lr": 0.05}, ("prev", "step_size")),
    ("ASGD", {"lr": 0.05, "t0": 2}, ("eta", "mu", "ax")),
]


@pytest.mark.parametrize("name, kwargs, keys", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_matches_torch_names_and_values(torch, name, kwargs, keys):
    _, xp_opt, t_opt = _compare_trajectories(torch, name, kwargs, steps=5)
    got, want = xp_opt.state_dict(), t_opt.state_dict()
    assert set(got["state"]) == set(want["state"]) == {0, 1, 2, 3}
    for index, state in want["state"].items():
        assert set(got["state"][index]) == set(state) == {"step", *keys}
        assert got["state"][index]["step"] == state["step"].item() == 5
        for key in keys:
            assert_close(got["state"][index][key], state[key], rtol=1e-10, atol=1e-13)
    assert set(got["param_groups"][0]) == set(want["param_groups"][0])
    for key, value in want["param_groups"][0].items():
        if key != "foreach":  # torch's tests pass foreach=False; ours keep the default None
            assert got["param_groups"][0][key] == value, key


@pytest.mark.parametrize("name, kwargs, keys", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_loads_torch_state_dict_mid_training_and_continues_as_torch(torch, name, kwargs, keys):
    arrays = _initial()
    t_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_opt = getattr(torch.optim, name)(t_params, **kwargs, foreach=False)
    for _ in range(5):
        _torch_step(torch, t_opt, t_params)
    xp_params = _xpnet_params([p.detach().numpy() for p in t_params])
    xp_opt = getattr(optim, name)(xp_params, lr=123.0)
    xp_opt.load_state_dict(copy.deepcopy(t_opt.state_dict()))  # torch tensors, 0-d scalars
    assert xp_opt.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(10):
        _xpnet_step(xp_opt, xp_params)
        _torch_step(torch, t_opt, t_params)
        for got, want in zip(xp_params, t_params):
            assert_close(got, want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name, kwargs, keys", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_round_trip_mid_training_continues_identically(name, kwargs, keys):
    params = _xpnet_params(_initial())
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(5):
        _xpnet_step(opt, params)
    saved = opt.state_dict()
    clones = [xpnet.tensor(p, requires_grad=True) for p in params]
    resumed = getattr(optim, name)(clones, lr=123.0)
    resumed.load_state_dict(saved)
    for _ in range(5):
        _xpnet_step(opt, params)
        _xpnet_step(resumed, clones)
    for a, b in zip(params, clones):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_sparse_gradients_are_refused_as_in_torch(name):
    emb = xpnet.nn.Embedding(5, 3, sparse=True)
    opt = getattr(optim, name)(emb.parameters())
    before = emb.weight.numpy()
    emb(xpnet.tensor([1, 3])).sum().backward()
    with pytest.raises(RuntimeError, match=rf"{name}\.step: a parameter of shape \(5, 3\) has a "
                                           rf"sparse gradient .*which {name} does not support"):
        opt.step()
    np.testing.assert_array_equal(emb.weight.numpy(), before)


@pytest.mark.parametrize("name, flags", [
    ("Adamax", {"foreach": True, "capturable": True}),
    ("NAdam", {"foreach": False, "capturable": True}),
    ("RAdam", {"foreach": True}),
    ("Rprop", {"foreach": True, "capturable": True}),
    ("ASGD", {"foreach": False, "capturable": True}),
])
def test_foreach_and_capturable_are_accepted_and_change_nothing(name, flags):
    plain, flagged = _xpnet_params(_initial()), _xpnet_params(_initial())
    plain_opt = getattr(optim, name)(plain, lr=0.05)
    flagged_opt = getattr(optim, name)(flagged, lr=0.05, **flags, differentiable=False)
    for key, value in flags.items():
        assert flagged_opt.param_groups[0][key] is value
    for _ in range(3):
        _xpnet_step(plain_opt, plain)
        _xpnet_step(flagged_opt, flagged)
    for a, b in zip(plain, flagged):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_differentiable_true_and_fused_are_refused(name):
    p = [xpnet.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=rf"^{name}: differentiable=True is not supported"):
        getattr(optim, name)(p, differentiable=True)
    with pytest.raises(TypeError, match="fused"):  # torch has no fused kernel for these either
        getattr(optim, name)(p, fused=True)


def _bad_value_cases():
    p = [xpnet.zeros(2, requires_grad=True)]
    return [
        (lambda: optim.Adamax(p, lr=-1), ValueError, r"^Adamax: lr must be >= 0, got -1$"),
        (lambda: optim.Adamax(p, betas=(1.0, 0.9)), ValueError,
         r"^Adamax: betas\[0\] must be in \[0, 1\), got 1.0$"),
        (lambda: optim.Adamax(p, eps=-1.0), ValueError, r"^Adamax: eps must be >= 0"),
        (lambda: optim.Adamax(p, foreach="yes"), TypeError,
         r"^Adamax: foreach must be True or False, got 'yes'$"),
        (lambda: optim.NAdam(p, momentum_decay=-1e-3), ValueError,
         r"^NAdam: momentum_decay must be >= 0, got -0.001$"),
        (lambda: optim.NAdam(p, decoupled_weight_decay=1), TypeError,
         r"^NAdam: decoupled_weight_decay must be True or False, got 1$"),
        (lambda: optim.NAdam(p, betas=0.9), TypeError,
         r"^NAdam: betas must be a pair \(beta1, beta2\), got 0.9$"),
        (lambda: optim.RAdam(p, weight_decay=-0.1), ValueError,
         r"^RAdam: weight_decay must be >= 0, got -0.1$"),
        (lambda: optim.RAdam(p, betas=(0.9, 1.0)), ValueError, r"^RAdam: betas\[1\] must be in"),
        (lambda: optim.RAdam(p, capturable=None), TypeError,
         r"^RAdam: capturable must be True or False, got None$"),
        (lambda: optim.Rprop(p, etas=(1.5, 1.2)), ValueError,
         r"^Rprop: etas must satisfy 0 < etas\[0\] < 1 < etas\[1\], got \(1.5, 1.2\)$"),
        (lambda: optim.Rprop(p, etas=(0.5, 1.0)), ValueError, r"^Rprop: etas must satisfy"),
        (lambda: optim.Rprop(p, etas=0.5), TypeError,
         r"^Rprop: etas must be a pair \(etaminus, etaplus\), got 0.5$"),
        (lambda: optim.Rprop(p, step_sizes=(1.0, 0.1)), ValueError,
         r"^Rprop: step_sizes must satisfy 0 <= step_sizes\[0\] <= step_sizes\[1\], got "
         r"\(1.0, 0.1\)$"),
        (lambda: optim.Rprop(p, maximize="no"), TypeError, r"^Rprop: maximize must be True or"),
        (lambda: optim.ASGD(p, lr=float("nan")), ValueError, r"^ASGD: lr must be >= 0, got nan$"),
        (lambda: optim.ASGD(p, weight_decay=-1), ValueError, r"^ASGD: weight_decay must be >= 0"),
        (lambda: optim.ASGD(p, t0="1e6"), TypeError, r"^ASGD: t0 must be a real number, got str$"),
        (lambda: optim.ASGD([{"params": p, "lambd": -1}]), ValueError,
         r"^ASGD: lambd must be >= 0, got -1$"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_value_cases())))
def test_bad_hyperparameters_raise_clear_errors(index):
    make, error, match = _bad_value_cases()[index]
    with pytest.raises(error, match=match):
        make()


def test_param_groups_with_their_own_hyperparameters_match_torch(torch):
    arrays = _initial()
    xp_params = _xpnet_params(arrays)
    t_params = [torch.tensor(a, requires_grad=True) for a in arrays]

    def groups(p):
        return [{"params": [p[0]], "lr": 0.1, "etas": (0.4, 1.1)}, {"params": p[1:]}]

    xp_opt = optim.Rprop(groups(xp_params), lr=0.01)
    t_opt = torch.optim.Rprop(groups(t_params), lr=0.01, foreach=False)
    for _ in range(20):
        _xpnet_step(xp_opt, xp_params)
        _torch_step(torch, t_opt, t_params)
    for got, want in zip(xp_params, t_params):
        assert_close(got, want, rtol=1e-12, atol=1e-14)
    assert xp_opt.param_groups[1]["etas"] == (0.5, 1.2)
