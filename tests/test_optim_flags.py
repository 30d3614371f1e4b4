"""Every optimizer takes torch.optim's constructor signature: PyTorch's implementation flags
(foreach, fused, capturable, differentiable), maximize, Adam's decoupled_weight_decay and named
parameters, each compared with torch 2.13."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet import nn, optim

from .conftest import assert_close
from .test_optim import _compare_trajectories, _initial, _xpnet_params, _xpnet_step

torch = pytest.importorskip("torch")

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "SparseAdam", "Adamax",
         "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]
FLAGS = ["foreach", "fused", "capturable", "differentiable", "maximize",
         "decoupled_weight_decay"]


def _parameters(cls):
    """``(name, kind, default)`` of each constructor parameter after ``self`` (annotations
    left out: xpnet has none)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [(p.name, p.kind, p.default) for p in params]


def _torch_flags(name):
    return [f for f in FLAGS if f in inspect.signature(getattr(torch.optim, name)).parameters]


def _tiny(lib):
    return [lib.zeros(2, requires_grad=True), lib.ones(3, requires_grad=True)]


# -- signatures and parameter groups ------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_signature_equals_torchs(name):
    got, want = _parameters(getattr(optim, name)), _parameters(getattr(torch.optim, name))
    assert got == want  # names, order, kinds (positional or keyword-only) and defaults
    for (_, _, a), (_, _, b) in zip(got, want):
        assert type(a) is type(b)  # 0 stays an int, 1e-3 a float, None None


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_hold_torchs_keys_and_defaults(name):
    ours = getattr(optim, name)(_tiny(xpnet))
    theirs = getattr(torch.optim, name)(_tiny(torch))
    got, want = ours.state_dict()["param_groups"], theirs.state_dict()["param_groups"]
    assert set(got[0]) == set(want[0])
    for key, value in want[0].items():
        assert got[0][key] == value and type(got[0][key]) is type(value), key


# Every flag torch takes, away from its default (fused with foreach=False: both True is an error).
def _flag_values(name):
    values = {"foreach": False, "fused": True, "capturable": True, "maximize": True,
              "decoupled_weight_decay": True}
    return {f: values[f] for f in _torch_flags(name) if f != "differentiable"}


@pytest.mark.parametrize("name", [n for n in NAMES if n != "LBFGS"])
def test_flags_are_kept_in_the_param_groups_as_in_torch(name):
    flags = _flag_values(name)
    ours = getattr(optim, name)(_tiny(xpnet), **flags)
    theirs = getattr(torch.optim, name)(_tiny(torch), **flags)
    got, want = ours.state_dict()["param_groups"][0], theirs.state_dict()["param_groups"][0]
    assert set(got) == set(want)
    for key in _torch_flags(name):
        assert got[key] == want[key], key


# -- flags validated like torch's ---------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_a_flag_torch_lacks_is_an_unexpected_keyword_naming_the_optimizer(name):
    for flag in FLAGS:
        if flag in _torch_flags(name):
            continue
        with pytest.raises(TypeError):
            getattr(torch.optim, name)(_tiny(torch), **{flag: False})
        with pytest.raises(TypeError, match=rf"{name}.*unexpected keyword argument '{flag}'"):
            getattr(optim, name)(_tiny(xpnet), **{flag: False})


FUSED = ["SGD", "Adam", "AdamW", "Adagrad"]  # torch's optimizers with a fused kernel


@pytest.mark.parametrize("name", FUSED)
def test_fused_with_foreach_is_refused_as_in_torch(name):
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        getattr(torch.optim, name)(_tiny(torch), fused=True, foreach=True)
    with pytest.raises(RuntimeError, match=rf"^{name}: fused=True and foreach=True cannot be"):
        getattr(optim, name)(_tiny(xpnet), fused=True, foreach=True)
    getattr(optim, name)(_tiny(xpnet), fused=False, foreach=True)  # one True is fine


@pytest.mark.parametrize("name", [n for n in NAMES if "differentiable" in _torch_flags(n)])
def test_differentiable_true_is_refused_clearly(name):
    # torch records its step in autograd; xpnet's steps run under no_grad, so it says so.
    with pytest.raises(ValueError, match=rf"^{name}: differentiable=True is not supported: "
                                         r"xpnet's optimizer steps run outside autograd"):
        getattr(optim, name)(_tiny(xpnet), differentiable=True)


def _bad_flag_cases():
    return [(name, flag, value) for name in NAMES for flag, value in
            (("foreach", "yes"), ("fused", 1), ("capturable", None), ("differentiable", 0),
             ("maximize", "no"), ("decoupled_weight_decay", 1))
            if flag in _torch_flags(name)]


@pytest.mark.parametrize("name, flag, value", _bad_flag_cases())
def test_a_flag_of_the_wrong_type_is_a_type_error(name, flag, value):
    # torch takes any truthy value here; a misspelt flag value is more likely a bug.
    with pytest.raises(TypeError, match=rf"^{name}: {flag} must be True or False, got "
                                        rf"{value!r}$"):
        getattr(optim, name)(_tiny(xpnet), **{flag: value})


def test_flags_of_an_added_group_are_checked():
    opt = optim.Adam(_tiny(xpnet))
    with pytest.raises(TypeError, match=r"^Adam: fused must be True or False, got 'yes'$"):
        opt.add_param_group({"params": [xpnet.zeros(1, requires_grad=True)], "fused": "yes"})
    assert len(opt.param_groups) == 1


# -- the flags do not change the step -----------------------------------------------------------

def _flag_sets(name):
    flags = _torch_flags(name)
    sets = [{"foreach": True}, {"foreach": False}] if "foreach" in flags else []
    if "fused" in flags:
        sets.append({"fused": True})
    if "capturable" in flags:
        sets.append({"capturable": True, "foreach": True})
    return sets


def _run(name, steps=5, **kwargs):
    params = _xpnet_params(_initial())
    opt = getattr(optim, name)(params, lr=0.05, **kwargs)
    for _ in range(steps):
        _xpnet_step(opt, params)
    return [p.numpy() for p in params]


@pytest.mark.parametrize("name, flags", [(n, f) for n in NAMES if n not in ("SparseAdam", "LBFGS")
                                         for f in _flag_sets(n)],
                         ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_foreach_fused_and_capturable_leave_the_trajectory_unchanged(name, flags):
    for plain, flagged in zip(_run(name), _run(name, **flags)):
        np.testing.assert_array_equal(flagged, plain)


@pytest.mark.parametrize("case", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "fused": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "fused": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "fused": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "fused": True}),
], ids=lambda case: case[0])
def test_fused_follows_torchs_fused_kernel(case):
    # torch runs its fused CPU kernel (foreach=False is added, which fused allows); xpnet runs
    # its one step: both follow the same trajectory.
    _compare_trajectories(torch, *case)


# -- Adam(decoupled_weight_decay=True) ----------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
    {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True, "decoupled_weight_decay": True},
], ids=["plain", "amsgrad"])
def test_adam_with_decoupled_weight_decay_follows_torch(kwargs):
    params, _, _ = _compare_trajectories(torch, "Adam", kwargs)
    # ...and is AdamW, to the last bit.
    adamw_kwargs = {k: v for k, v in kwargs.items() if k != "decoupled_weight_decay"}
    others = _xpnet_params(_initial())
    opt = optim.AdamW(others, **adamw_kwargs)
    for _ in range(20):
        _xpnet_step(opt, others)
    for a, b in zip(params, others):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_decoupled_weight_decay_is_off_by_default_and_on_in_adamw():
    assert optim.Adam(_tiny(xpnet)).param_groups[0]["decoupled_weight_decay"] is False
    assert optim.AdamW(_tiny(xpnet)).param_groups[0]["decoupled_weight_decay"] is True
    with_l2 = _run("Adam", weight_decay=0.1)
    decoupled = _run("Adam", weight_decay=0.1, decoupled_weight_decay=True)
    assert not np.allclose(with_l2[0], decoupled[0])


def test_adamw_keeps_decoupled_weight_decay_when_loading_an_adam_state_as_torch():
    ours = optim.AdamW(_tiny(xpnet))
    theirs = torch.optim.AdamW(_tiny(torch))
    ours.load_state_dict(optim.Adam(_tiny(xpnet)).state_dict())
    theirs.load_state_dict(torch.optim.Adam(_tiny(torch)).state_dict())
    assert ours.param_groups[0]["decoupled_weight_decay"] is True
    assert theirs.param_groups[0]["decoupled_weight_decay"] is True


def test_adam_loads_an_old_state_dict_without_the_new_keys():
    params = _xpnet_params(_initial())
    opt = optim.Adam(params, lr=0.05)
    _xpnet_step(opt, params)
    saved = opt.state_dict()
    for key in ("foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"):
        del saved["param_groups"][0][key]
    resumed = optim.Adam([xpnet.tensor(p, requires_grad=True) for p in params])
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["decoupled_weight_decay"] is False
    assert resumed.param_groups[0]["fused"] is None


# -- maximize wherever torch has it -------------------------------------------------------------

MAXIMIZE = [n for n in NAMES if "maximize" in _torch_flags(n)]


def test_maximize_is_everywhere_torch_has_it():
    assert MAXIMIZE == [n for n in NAMES if n != "LBFGS"]


@pytest.mark.parametrize("name", [n for n in MAXIMIZE if n != "SparseAdam"])
def test_maximize_follows_torch(name):
    _compare_trajectories(torch, name, {"lr": 0.02, "maximize": True}, steps=10)


def test_sparse_adam_maximize_follows_torch():
    rng = np.random.default_rng(0)
    weight, target = rng.uniform(-1, 1, (6, 3)), rng.uniform(-1, 1, (2, 3))
    steps = [np.array([1, 4]), np.array([4, 4]), np.array([0, 5]), np.array([1, 2])] * 3
    ours, theirs = xpnet.tensor(weight, requires_grad=True), torch.tensor(weight,
                                                                          requires_grad=True)
    ours_opt = optim.SparseAdam([ours], lr=0.05, maximize=True)
    theirs_opt = torch.optim.SparseAdam([theirs], lr=0.05, maximize=True)
    for idx in steps:
        ours_opt.zero_grad()
        out = F.embedding(xpnet.tensor(idx), ours, sparse=True)
        (-(out.tanh() * xpnet.tensor(target)).sum()).backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        out = torch.nn.functional.embedding(torch.from_numpy(idx), theirs, sparse=True)
        (-(out.tanh() * torch.from_numpy(target)).sum()).backward()
        with torch.sparse.check_sparse_tensor_invariants(enable=False):
            theirs_opt.step()
        assert_close(ours, theirs.detach(), rtol=1e-10, atol=1e-12)


# -- named parameters ---------------------------------------------------------------------------

def _linear_pair():
    ours, theirs = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.numpy()))
    return ours, theirs


def test_named_parameters_train_as_torch_and_keep_torchs_param_names():
    ours, theirs = _linear_pair()
    ours_opt = optim.SGD(ours.named_parameters(), lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD(theirs.named_parameters(), lr=0.1, momentum=0.9, foreach=False)
    x = np.random.default_rng(2).uniform(-1, 1, (4, 3))
    for _ in range(5):
        ours_opt.zero_grad()
        ours(xpnet.tensor(x)).tanh().sum().backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        theirs(torch.from_numpy(x)).tanh().sum().backward()
        theirs_opt.step()
    assert_close(ours.weight, theirs.weight.detach(), rtol=1e-12, atol=1e-14)
    got, want = ours_opt.state_dict(), theirs_opt.state_dict()
    assert got["param_groups"][0]["param_names"] == want["param_groups"][0]["param_names"] == \
        ["weight", "bias"]
    assert set(got["param_groups"][0]) == set(want["param_groups"][0])
    assert set(got["state"]) == set(want["state"]) == {0, 1}


def test_named_parameter_groups_keep_their_names_as_torch():
    def groups(model):
        named = list(model.named_parameters())
        return [{"params": named[:1], "lr": 0.5}, {"params": named[1:]}]

    ours, theirs = _linear_pair()
    got = optim.Adam(groups(ours)).state_dict()["param_groups"]
    want = torch.optim.Adam(groups(theirs)).state_dict()["param_groups"]
    assert [g["param_names"] for g in got] == [g["param_names"] for g in want] == \
        [["weight"], ["bias"]]
    assert [g["params"] for g in got] == [g["params"] for g in want] == [[0], [1]]


def test_named_and_unnamed_parameters_do_not_mix_as_in_torch():
    ours, theirs = _linear_pair()
    for model, opt_module in ((ours, optim), (theirs, torch.optim)):
        (name, weight), (_, bias) = model.named_parameters()
        with pytest.raises(ValueError, match=r"with/without names|a name, or none"):
            opt_module.SGD([(name, weight), bias], lr=0.1)
        opt = opt_module.SGD([(name, weight)], lr=0.1)
        with pytest.raises(ValueError, match=r"with/without names|named or none"):
            opt.add_param_group({"params": [bias]})
        opt = opt_module.SGD([weight], lr=0.1)
        with pytest.raises(ValueError, match=r"with/without names|named or none"):
            opt.add_param_group({"params": [("bias", bias)]})
    with pytest.raises(ValueError, match=r"^SGD: all parameter groups must be named or none; "
                                         r"cannot add a group without names"):
        optim.SGD([("weight", ours.weight)], lr=0.1).add_param_group({"params": [ours.bias]})


def test_load_state_dict_takes_the_saved_param_names_as_torch():
    ours, theirs = _linear_pair()
    results = []
    for model, opt_module in ((ours, optim), (theirs, torch.optim)):
        named = opt_module.SGD([("w", model.weight), ("b", model.bias)], lr=0.1)
        renamed = copy.deepcopy(named.state_dict())
        renamed["param_groups"][0]["param_names"] = ["x", "y"]
        named.load_state_dict(renamed)
        first = named.param_groups[0]["param_names"]
        unnamed = opt_module.SGD([model.weight, model.bias], lr=0.1).state_dict()
        named.load_state_dict(unnamed)  # no names saved: the current ones stay
        results.append((first, named.param_groups[0]["param_names"]))
    assert results[0] == results[1] == (["x", "y"], ["x", "y"])
