"""Cyclical schedules that also move the momentum: CyclicLR and OneCycleLR."""

from __future__ import annotations

import math

from ..optimizer import check_bool, check_number
from .base import LRScheduler, _check_int, _check_optimizer
from .lambdas import _callable_state


def _per_group(name, arg, optimizer, value, low=None, low_open=False):
    """One number per parameter group, from one number or a list of them (PyTorch's
    ``_format_param``), each checked."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} values of {arg} (one per parameter group), "
                             f"got {len(value)}")
        values = list(value)
    else:
        values = [value] * n
    for v in values:
        check_number(name, arg, v, low, low_open=low_open)
    return values


def _momentum_key(name, optimizer):
    """The group key a cycled momentum goes to: ``betas`` (its first) or ``momentum``."""
    if "betas" in optimizer.defaults:
        return True
    if "momentum" in optimizer.defaults:
        return False
    raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with 'momentum' or "
                     f"'betas', got {type(optimizer).__name__}; pass cycle_momentum=False")


def _set_momentum(group, use_beta1, momentum):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class CyclicLR(LRScheduler):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` (Smith, 2017, "Cyclical
    Learning Rates for Training Neural Networks"); step it after every batch.

    Each cycle rises linearly for ``step_size_up`` steps and falls for ``step_size_down``;
    the amplitude is scaled by ``scale_fn`` of the cycle number (``scale_mode='cycle'``) or of
    the step (``'iterations'``). The momentum (or Adam's first beta) cycles the other way,
    between ``max_momentum`` and ``base_momentum``.

    Parameters
    ----------
    optimizer : Optimizer
    base_lr : float or list of float
        Lower rate of the cycle, for all groups or one per group; it replaces the group's
        ``lr`` at construction.
    max_lr : float or list of float
        Upper rate of the cycle (its amplitude is ``max_lr - base_lr``).
    step_size_up : int, default=2000
        Steps in the rising half of a cycle (> 0).
    step_size_down : int, optional
        Steps in the falling half; ``step_size_up`` if None.
    mode : {'triangular', 'triangular2', 'exp_range'}, default='triangular'
        Constant amplitude; amplitude halved each cycle; amplitude times ``gamma**step``.
        Ignored when ``scale_fn`` is given.
    gamma : float, default=1.0
        The ``exp_range`` base.
    scale_fn : callable, optional
        A custom amplitude scale, a function of one argument returning a factor.
    scale_mode : {'cycle', 'iterations'}, default='cycle'
        What ``scale_fn`` is called with (used only with ``scale_fn``).
    cycle_momentum : bool, default=True
        Whether to cycle ``momentum`` (SGD, RMSprop) or ``betas[0]`` (Adam and family).
    base_momentum : float or list of float, default=0.8
        Lower momentum, reached at ``max_lr``.
    max_momentum : float or list of float, default=0.9
        Upper momentum, at ``base_lr``; it replaces the group's momentum at construction.
    last_epoch : int, default=-1
        Index of the last batch.

    Notes
    -----
    `state_dict` saves the attributes of a callable object ``scale_fn``, not of a function or
    lambda.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.optim import SGD
    >>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    >>> lrs = [round(sched.get_last_lr()[0], 4)]
    >>> for batch in range(4):
    ...     opt.step()
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.1, 0.3, 0.5, 0.3, 0.1]
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        name = "CyclicLR"
        _check_optimizer(name, optimizer)
        _check_int(name, "last_epoch", last_epoch, -1)
        base_lrs = _per_group(name, "base_lr", optimizer, base_lr, 0)
        self.max_lrs = _per_group(name, "max_lr", optimizer, max_lr, 0)
        check_number(name, "step_size_up", step_size_up, 0, low_open=True)
        if step_size_down is not None:
            check_number(name, "step_size_down", step_size_down, 0, low_open=True)
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"{name}: mode must be 'triangular', 'triangular2' or 'exp_range' "
                             f"(or give scale_fn), got {mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be callable or None, got "
                            f"{type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"{name}: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        check_number(name, "gamma", gamma, 0)
        check_bool(name, "cycle_momentum", cycle_momentum)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode, self.gamma, self._scale_fn_custom = mode, gamma, scale_fn
        # The built-in modes fix what their scale is a function of, as PyTorch's do.
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(name, optimizer)
            self.base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for group, top, low in zip(optimizer.param_groups, self.max_momentums,
                                           self.base_momentums):
                    _set_momentum(group, self.use_beta1, top)
                    group["max_momentum"], group["base_momentum"] = top, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        """The amplitude's scale at ``x`` (a cycle number or a step, see ``scale_mode``)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position in the cycle, [0, 1)
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * height * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, top in zip(self.optimizer.param_groups, self.base_momentums,
                                       self.max_momentums):
                _set_momentum(group, self.use_beta1, top - (top - low) * height * scale)
        return lrs

    def state_dict(self):
        """The scheduler's state; of ``scale_fn``, the attributes of a callable object only."""
        state = {k: v for k, v in self.__dict__.items() if k != "optimizer"}
        state["_scale_fn_custom"] = _callable_state(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        """Restore a state made by `state_dict`."""
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if saved is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(saved)


def _check_positive_int(name, arg, value):
    _check_int(name, arg, value, 1)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2018, "Super-Convergence"): the learning rate rises
    from ``max_lr / div_factor`` to ``max_lr`` then anneals far below the start; step it after
    every batch.

    The first phase lasts ``pct_start * total_steps`` steps; the momentum (or Adam's first beta)
    moves the opposite way between ``max_momentum`` and ``base_momentum``. With
    ``three_phase=True`` the rate first comes back down to the start symmetrically, then
    anneals to the minimum.

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
        Peak learning rate, for all groups or one per group.
    total_steps : int, optional
        Length of the cycle in steps; if None, ``epochs * steps_per_epoch``.
    epochs : int, optional
        Number of epochs, with ``steps_per_epoch``, when ``total_steps`` is None.
    steps_per_epoch : int, optional
        Steps (batches) per epoch.
    pct_start : float, default=0.3
        Fraction of the cycle spent raising the rate, in [0, 1].
    anneal_strategy : {'cos', 'linear'}, default='cos'
        Cosine or linear interpolation in each phase.
    cycle_momentum : bool, default=True
        Whether to cycle ``momentum`` (SGD, RMSprop) or ``betas[0]`` (Adam and family).
    base_momentum : float or list of float, default=0.85
        Momentum at the peak rate.
    max_momentum : float or list of float, default=0.95
        Momentum at the start and end.
    div_factor : float, default=25.0
        ``initial_lr = max_lr / div_factor`` (> 0).
    final_div_factor : float, default=1e4
        ``min_lr = initial_lr / final_div_factor`` (> 0).
    three_phase : bool, default=False
        Use the three-phase schedule.
    last_epoch : int, default=-1
        Index of the last batch.

    Raises
    ------
    ValueError
        From `step`, when stepped more than ``total_steps`` times.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.optim import SGD
    >>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="linear")
    >>> lrs = [round(sched.get_last_lr()[0], 4)]
    >>> for batch in range(4):
    ...     opt.step()
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.04, 0.8571, 0.5714, 0.2857, 0.0]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        _check_int(name, "last_epoch", last_epoch, -1)
        if total_steps is not None:
            _check_positive_int(name, "total_steps", total_steps)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int(name, "epochs", epochs)
            _check_positive_int(name, "steps_per_epoch", steps_per_epoch)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch; "
                             f"got total_steps=None, epochs={epochs!r}, "
                             f"steps_per_epoch={steps_per_epoch!r}")
        check_number(name, "pct_start", pct_start, 0, 1)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        check_bool(name, "cycle_momentum", cycle_momentum)
        check_bool(name, "three_phase", three_phase)
        check_number(name, "div_factor", div_factor, 0, low_open=True)
        check_number(name, "final_div_factor", final_div_factor, 0, low_open=True)
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr, 0)
        self._anneal_func_type = anneal_strategy
        # Each phase ends at a step index and goes between two group keys.
        rise = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            self._schedule_phases = [
                _phase(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                _phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(name, optimizer)
            tops = _per_group(name, "max_momentum", optimizer, max_momentum)
            lows = _per_group(name, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, top, low in zip(optimizer.param_groups, tops, lows):
                    _set_momentum(group, self.use_beta1, top)
                    group["max_momentum"], group["base_momentum"] = top, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR.step: stepped {step} times, past total_steps="
                             f"{self.total_steps}; make total_steps (or epochs * "
                             f"steps_per_epoch) cover every step")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self.use_beta1,
                                      self._anneal(group[phase["start_momentum"]],
                                                   group[phase["end_momentum"]], pct))
                    break
                start = end
        return lrs


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
    return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
            "start_momentum": start_momentum, "end_momentum": end_momentum}
