"""The schedulers added beside the first seven (xpnet/optim/lr_scheduler.py): MultiplicativeLR,
LinearLR, ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR and OneCycleLR give
PyTorch's learning rates (and momentums, where they cycle them) step by step."""

from __future__ import annotations

import math

import pytest

import xpnet
from xpnet import optim
from xpnet.optim import lr_scheduler


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


LRS = (0.1, 0.03)  # two parameter groups with different rates


def _optimizers(torch, kind):
    def groups(zeros):
        return [{"params": [zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    if kind == "adam":
        return (optim.Adam(groups(xpnet.zeros), lr=0.5),
                torch.optim.Adam(groups(torch.zeros), lr=0.5))
    return (optim.SGD(groups(xpnet.zeros), lr=0.5, momentum=0.9),
            torch.optim.SGD(groups(torch.zeros), lr=0.5, momentum=0.9))


class _Decay:
    """A callable object: its attributes go into the state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate if epoch % 3 else 1.0


def _half_every_third(x):
    return 0.5 ** (x // 3)


CASES = [
    ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.95}, "sgd"),
    ("MultiplicativeLR", {"lr_lambda": [lambda e: 0.9, _Decay(0.8)]}, "sgd"),
    ("LinearLR", {}, "sgd"),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 20}, "sgd"),
    ("ConstantLR", {}, "sgd"),
    ("ConstantLR", {"factor": 0.25, "total_iters": 7}, "sgd"),
    ("PolynomialLR", {}, "sgd"),
    ("PolynomialLR", {"total_iters": 25, "power": 2.0}, "sgd"),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}, "sgd"),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}, "sgd"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}, "sgd"),
    ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.3], "step_size_up": 3,
                  "step_size_down": 5, "mode": "triangular2"}, "sgd"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "exp_range",
                  "gamma": 0.97, "base_momentum": [0.7, 0.75], "max_momentum": 0.95}, "sgd"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4,
                  "scale_fn": _half_every_third, "scale_mode": "iterations"}, "sgd"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "triangular2"},
     "adam"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "cycle_momentum": False,
                  "step_size_up": 2}, "sgd"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 40}, "sgd"),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 4, "steps_per_epoch": 10,
                    "anneal_strategy": "linear", "pct_start": 0.25}, "sgd"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 40, "three_phase": True, "div_factor": 10.0,
                    "final_div_factor": 100.0}, "sgd"),
    ("OneCycleLR", {"max_lr": 0.01, "total_steps": 40, "base_momentum": 0.8,
                    "max_momentum": [0.9, 0.95]}, "adam"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 40, "cycle_momentum": False}, "sgd"),
]
STEPS = 39  # within OneCycleLR's 40 steps


def _case_id(case):
    name, kwargs, kind = case
    return name + "-" + kind + "-" + "-".join(f"{k}={getattr(v, '__name__', v)}"
                                               for k, v in kwargs.items())


def _momentums(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _trajectory(opt, sched, steps):
    got = []
    for _ in range(steps):
        opt.step()
        sched.step()
        got.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momentums(opt)))
    return got


def _assert_same(got, want):
    for step, ((glast, glr, gmom), (wlast, wlr, wmom)) in enumerate(zip(got, want)):
        assert glast == pytest.approx(wlast, rel=1e-12, abs=1e-15), step
        assert glr == pytest.approx(wlr, rel=1e-12, abs=1e-15), step
        assert gmom == pytest.approx(wmom, rel=1e-12, abs=1e-15), step


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_the_rates_and_momentums_are_pytorchs(torch, case):
    name, kwargs, kind = case
    xopt, topt = _optimizers(torch, kind)
    xs = getattr(lr_scheduler, name)(xopt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert xs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    assert _momentums(xopt) == pytest.approx(_momentums(topt), rel=1e-12)
    _assert_same(_trajectory(xopt, xs, STEPS), _trajectory(topt, ts, STEPS))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_a_state_dict_taken_midway_continues_identically(torch, case):
    name, kwargs, kind = case
    cls = getattr(lr_scheduler, name)
    xopt, _ = _optimizers(torch, kind)
    sched = cls(xopt, **kwargs)
    _trajectory(xopt, sched, 13)
    opt_state, sched_state = xopt.state_dict(), sched.state_dict()
    want = _trajectory(xopt, sched, STEPS - 13)

    fresh, _ = _optimizers(torch, kind)
    resumed = cls(fresh, **kwargs)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    _assert_same(_trajectory(fresh, resumed, STEPS - 13), want)


def test_a_callable_objects_attributes_travel_in_the_state_dict():
    opt = optim.SGD([xpnet.zeros(2, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.MultiplicativeLR(opt, lr_lambda=_Decay(0.5))
    other = lr_scheduler.MultiplicativeLR(opt, lr_lambda=_Decay(0.9))
    other.load_state_dict(sched.state_dict())
    assert other.lr_lambdas[0].rate == 0.5

    fn = _Decay(0.5)
    sched = lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=fn)
    other_fn = _Decay(0.9)
    other = lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=other_fn)
    other.load_state_dict(sched.state_dict())
    assert other_fn.rate == 0.5 and other._scale_fn_custom is other_fn


@pytest.mark.parametrize("name,kwargs", [
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.9, "total_iters": 6}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 8, "power": 1.5}),
])
def test_step_with_an_epoch_uses_the_closed_form(torch, name, kwargs):
    xopt, topt = _optimizers(torch, "sgd")
    xs = getattr(lr_scheduler, name)(xopt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in [3, 1, 7, 10, 2]:
        with pytest.warns(UserWarning, match="epoch parameter"):
            xs.step(epoch)
        with pytest.warns(UserWarning):
            ts.step(epoch)
        assert xs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_take_fractional_epochs_as_pytorch(torch, T_mult):
    xopt, topt = _optimizers(torch, "sgd")
    xs = lr_scheduler.CosineAnnealingWarmRestarts(xopt, T_0=3, T_mult=T_mult, eta_min=0.001)
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=T_mult,
                                                              eta_min=0.001)
    for epoch in range(12):
        for batch in range(4):
            xs.step(epoch + batch / 4)
            ts.step(epoch + batch / 4)
            assert xs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
            assert (xs.T_cur, xs.T_i, xs.last_epoch) == pytest.approx(
                (ts.T_cur, ts.T_i, ts.last_epoch))
    for _ in range(10):  # plain steps after jumps carry on the same way
        xs.step()
        ts.step()
        assert xs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


def test_one_cycle_refuses_to_step_past_its_total(torch):
    opt = optim.SGD([xpnet.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match=r"OneCycleLR\.step: stepped 4 times, past "
                                         r"total_steps=3"):
        sched.step()


def _sgd(momentum=0.9):
    return optim.SGD([{"params": [xpnet.zeros(2, requires_grad=True)], "lr": lr}
                      for lr in LRS], lr=0.1, momentum=momentum)


BAD = [
    (TypeError, "MultiplicativeLR: lr_lambda must be callable, got float",
     "MultiplicativeLR", {"lr_lambda": 0.9}),
    (ValueError, "MultiplicativeLR: expected 2 lr_lambdas", "MultiplicativeLR",
     {"lr_lambda": [lambda e: 1.0]}),
    (ValueError, r"LinearLR: start_factor must be in \(0, 1\], got 0", "LinearLR",
     {"start_factor": 0}),
    (ValueError, r"LinearLR: end_factor must be in \[0, 1\], got 1.5", "LinearLR",
     {"end_factor": 1.5}),
    (TypeError, "LinearLR: total_iters must be an int, got float", "LinearLR",
     {"total_iters": 2.5}),
    (ValueError, r"ConstantLR: factor must be in \[0, 1\], got 2", "ConstantLR", {"factor": 2}),
    (ValueError, "ConstantLR: total_iters must be >= 0, got -1", "ConstantLR",
     {"total_iters": -1}),
    (TypeError, "PolynomialLR: power must be a real number, got str", "PolynomialLR",
     {"power": "2"}),
    (ValueError, "PolynomialLR: total_iters must be >= 1, got 0", "PolynomialLR",
     {"total_iters": 0}),
    (ValueError, "CosineAnnealingWarmRestarts: T_0 must be >= 1, got 0",
     "CosineAnnealingWarmRestarts", {"T_0": 0}),
    (TypeError, "CosineAnnealingWarmRestarts: T_mult must be an int, got float",
     "CosineAnnealingWarmRestarts", {"T_0": 2, "T_mult": 1.5}),
    (ValueError, "CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range'",
     "CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "mode": "square"}),
    (ValueError, "CyclicLR: scale_mode must be 'cycle' or 'iterations', got 'epoch'",
     "CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "scale_mode": "epoch"}),
    (ValueError, r"CyclicLR: expected 2 values of base_lr \(one per parameter group\), got 3",
     "CyclicLR", {"base_lr": [0.1, 0.2, 0.3], "max_lr": 1.0}),
    (TypeError, "CyclicLR: max_lr must be a real number, got str", "CyclicLR",
     {"base_lr": 0.01, "max_lr": "0.1"}),
    (ValueError, "CyclicLR: step_size_up must be > 0, got 0", "CyclicLR",
     {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 0}),
    (TypeError, "CyclicLR: scale_fn must be callable or None, got int", "CyclicLR",
     {"base_lr": 0.01, "max_lr": 0.1, "scale_fn": 3}),
    (TypeError, "CyclicLR: cycle_momentum must be True or False, got 'yes'", "CyclicLR",
     {"base_lr": 0.01, "max_lr": 0.1, "cycle_momentum": "yes"}),
    (ValueError, "OneCycleLR: give total_steps, or both epochs and steps_per_epoch", "OneCycleLR",
     {"max_lr": 0.1, "epochs": 3}),
    (ValueError, "OneCycleLR: total_steps must be >= 1, got 0", "OneCycleLR",
     {"max_lr": 0.1, "total_steps": 0}),
    (TypeError, "OneCycleLR: steps_per_epoch must be an int, got float", "OneCycleLR",
     {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": 2.0}),
    (ValueError, r"OneCycleLR: pct_start must be in \[0, 1\], got 1.5", "OneCycleLR",
     {"max_lr": 0.1, "total_steps": 5, "pct_start": 1.5}),
    (ValueError, "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'exp'",
     "OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "anneal_strategy": "exp"}),
    (ValueError, "OneCycleLR: div_factor must be > 0, got 0", "OneCycleLR",
     {"max_lr": 0.1, "total_steps": 5, "div_factor": 0}),
    (TypeError, "OneCycleLR: three_phase must be True or False, got 1", "OneCycleLR",
     {"max_lr": 0.1, "total_steps": 5, "three_phase": 1}),
]


@pytest.mark.parametrize("error,match,name,kwargs", BAD,
                         ids=[f"{b[2]}-{'-'.join(b[3])}" for b in BAD])
def test_bad_arguments_raise_clear_errors(torch, error, match, name, kwargs):
    with pytest.raises(error, match=match):
        getattr(lr_scheduler, name)(_sgd(), **kwargs)


@pytest.mark.parametrize("name,kwargs", [
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 5}),
])
def test_cycling_momentum_needs_an_optimizer_with_one(name, kwargs):
    opt = optim.Adagrad([xpnet.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=f"{name}: cycle_momentum=True needs an optimizer "
                                         f"with 'momentum' or 'betas', got Adagrad"):
        getattr(lr_scheduler, name)(opt, **kwargs)
    getattr(lr_scheduler, name)(opt, cycle_momentum=False, **kwargs)


@pytest.mark.parametrize("name", ["MultiplicativeLR", "LinearLR", "OneCycleLR"])
def test_a_non_optimizer_is_refused(name):
    kwargs = {"MultiplicativeLR": {"lr_lambda": lambda e: 1.0}, "LinearLR": {},
              "OneCycleLR": {"max_lr": 0.1, "total_steps": 3}}[name]
    with pytest.raises(TypeError, match=f"{name}: expected an xpnet.optim.Optimizer, got list"):
        getattr(lr_scheduler, name)([], **kwargs)


def test_warm_restarts_refuse_a_bad_epoch():
    sched = lr_scheduler.CosineAnnealingWarmRestarts(_sgd(), T_0=2)
    with pytest.raises(ValueError, match=r"CosineAnnealingWarmRestarts\.step: epoch must be a "
                                         r"finite number >= 0, got -1"):
        sched.step(-1)
    with pytest.raises(TypeError, match=r"CosineAnnealingWarmRestarts\.step: epoch must be a "
                                        r"real number or None, got str"):
        sched.step("1")
    sched.step(math.pi)  # fractional epochs are fine
    assert sched.last_epoch == 3
