"""Learning-rate schedulers (xpnet/optim/lr_scheduler.py): the same lr sequences as PyTorch's."""

from __future__ import annotations

import math

import pytest

import xpnet
from xpnet import optim
from xpnet.optim import lr_scheduler


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


LRS = (0.1, 0.03)  # two parameter groups


def _xpnet_optimizer(lrs=LRS):
    return optim.SGD([{"params": [xpnet.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs],
                     lr=0.5)


def _torch_optimizer(torch, lrs=LRS):
    return torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                            for lr in lrs], lr=0.5)


def _halve_every_ten(epoch):
    return 0.5 ** (epoch // 10)


class _Warmup:
    """A callable object: its attributes go into LambdaLR's state dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULERS = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [4, 10, 10, 25], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": _halve_every_ten}),
    ("LambdaLR", {"lr_lambda": [lambda e: 0.95 ** e, _Warmup(5)]}),
]


def _sched_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in kwargs.items())


def _sequence(opt, sched, steps, opt_step):
    """The lrs of every group after construction and after each of ``steps`` epochs."""
    seq = [sched.get_last_lr()]
    for _ in range(steps):
        opt_step()
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        seq.append(sched.get_last_lr())
    return seq


@pytest.mark.parametrize("case", SCHEDULERS, ids=_sched_id)
def test_lr_sequence_equals_torch(torch, case):
    name, kwargs = case
    xp_opt, t_opt = _xpnet_optimizer(), _torch_optimizer(torch)
    got = _sequence(xp_opt, getattr(lr_scheduler, name)(xp_opt, **kwargs), 30, xp_opt.step)
    want = _sequence(t_opt, getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs), 30,
                     t_opt.step)
    assert got == want  # the same float operations: equal to the last bit


@pytest.mark.parametrize("case", SCHEDULERS[:6], ids=_sched_id)
def test_resuming_with_last_epoch_equals_torch(torch, case):
    name, kwargs = case

    def run(module, opt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        # opt.step looked up after the scheduler exists: PyTorch's wraps it to check the order.
        return _sequence(opt, getattr(module, name)(opt, last_epoch=5, **kwargs), 12,
                         lambda: opt.step())

    xp_opt, t_opt = _xpnet_optimizer(), _torch_optimizer(torch)
    assert run(lr_scheduler, xp_opt) == run(torch.optim.lr_scheduler, t_opt)


@pytest.mark.parametrize("case", SCHEDULERS, ids=_sched_id)
def test_state_dict_round_trip_continues_the_schedule(case):
    name, kwargs = case
    opt = _xpnet_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(12):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()

    opt2 = _xpnet_optimizer(lrs=(9.0, 9.0))
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert _sequence(opt2, sched2, 15, opt2.step) == _sequence(opt, sched, 15, opt.step)


def test_lambda_state_dict_keeps_callable_objects_and_drops_functions():
    opt = _xpnet_optimizer()
    warmup = _Warmup(5)
    sched = lr_scheduler.LambdaLR(opt, [_halve_every_ten, warmup])
    assert sched.state_dict()["lr_lambdas"] == [None, {"epochs": 5}]
    warmup.epochs = 9
    sched.load_state_dict({**sched.state_dict(), "lr_lambdas": [None, {"epochs": 3}]})
    assert warmup.epochs == 3


def test_cosine_annealing_reaches_eta_min_at_t_max_and_matches_the_closed_form():
    opt = _xpnet_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.002)
    for epoch in range(1, 9):
        opt.step()
        sched.step()
        for lr, base in zip(sched.get_last_lr(), LRS):
            closed = 0.002 + (base - 0.002) * (1 + math.cos(math.pi * epoch / 8)) / 2
            assert lr == pytest.approx(closed, rel=1e-12, abs=1e-15)
    assert sched.get_last_lr() == pytest.approx([0.002, 0.002], abs=1e-15)


METRICS = [1.0, 0.9, 0.95, 0.91, 0.9, 0.9, 0.89995, 0.85, 0.86, 0.87, 0.88, 0.84, 0.84, 0.84,
           0.84, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69,
           0.69, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]

PLATEAU = [
    {"patience": 2},
    {"patience": 0, "factor": 0.5, "min_lr": 0.01},
    {"mode": "max", "patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"patience": 1, "cooldown": 3, "factor": 0.5, "min_lr": [0.02, 0.0]},
    {"patience": 1, "factor": 0.9, "eps": 0.005, "threshold": 0.0},
    {"mode": "max", "patience": 2, "threshold_mode": "rel", "threshold": 0.01},
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=str)
def test_reduce_lr_on_plateau_equals_torch(torch, kwargs):
    xp_opt, t_opt = _xpnet_optimizer(), _torch_optimizer(torch)
    xp_sched = lr_scheduler.ReduceLROnPlateau(xp_opt, **kwargs)
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    got, want = [], []
    for metric in METRICS:
        xp_sched.step(metric)
        t_sched.step(metric)
        got.append((xp_sched.get_last_lr(), xp_sched.num_bad_epochs, xp_sched.cooldown_counter))
        want.append((t_sched.get_last_lr(), t_sched.num_bad_epochs, t_sched.cooldown_counter))
    assert got == want
    assert len({tuple(lrs) for lrs, _, _ in got}) > 1  # the sequence did reduce the rate


def test_reduce_lr_on_plateau_takes_a_tensor_metric_and_round_trips():
    opt = _xpnet_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(xpnet.tensor(1.0))
    sched.step(xpnet.tensor(2.0))
    assert sched.get_last_lr() == [0.05, 0.015]
    saved = sched.state_dict()
    sched2 = lr_scheduler.ReduceLROnPlateau(_xpnet_optimizer(), mode="max")
    sched2.load_state_dict(saved)
    assert sched2.mode == "min" and sched2.best == 1.0 and sched2.mode_worse == math.inf


@pytest.mark.parametrize("make, error, match", [
    (lambda o: lr_scheduler.StepLR("sgd", 3), TypeError,
     r"^StepLR: expected an xpnet.optim.Optimizer, got str$"),
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, r"^StepLR: step_size must be >= 1, got 0$"),
    (lambda o: lr_scheduler.StepLR(o, 2.5), TypeError, r"^StepLR: step_size must be an int"),
    (lambda o: lr_scheduler.StepLR(o, 2, gamma=-1), ValueError, r"^StepLR: gamma must be >= 0"),
    (lambda o: lr_scheduler.MultiStepLR(o, [2, -1]), ValueError,
     r"^MultiStepLR: each milestone must be >= 0, got -1$"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma="0.9"), TypeError,
     r"^ExponentialLR: gamma must be a real number, got str$"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError,
     r"^CosineAnnealingLR: T_max must be >= 1, got 0$"),
    (lambda o: lr_scheduler.LambdaLR(o, [_halve_every_ten]), ValueError,
     r"^LambdaLR: expected 2 lr_lambdas \(one per parameter group\), got 1$"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError,
     r"^LambdaLR: lr_lambda must be callable, got float$"),
    (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=4), KeyError,
     r"StepLR: resuming with last_epoch=4 needs 'initial_lr' in param_groups\[0\]"),
    (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=-2), ValueError,
     r"^StepLR: last_epoch must be >= -1, got -2$"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError,
     r"^ReduceLROnPlateau: factor must be in \[0, 1\), got 1.0$"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="avg"), ValueError,
     r"^ReduceLROnPlateau: mode must be 'min' or 'max', got 'avg'$"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError,
     r"^ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got 'pct'$"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     r"^ReduceLROnPlateau: expected 2 min_lrs \(one per parameter group\), got 1$"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError,
     r"^ReduceLROnPlateau: patience must be >= 0, got -1$"),
])
def test_bad_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(_xpnet_optimizer())
