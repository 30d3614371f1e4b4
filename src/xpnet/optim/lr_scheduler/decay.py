"""Schedulers with a closed-form decay: StepLR, MultiStepLR, ExponentialLR, ConstantLR,
LinearLR, PolynomialLR."""

from __future__ import annotations

import bisect
import collections
import reprlib

from ..optimizer import check_number
from .base import LRScheduler, _check_int


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Period of the decay, in epochs (>= 1); a whole float such as 2.0 is read as an int.
    gamma : float, default=0.1
        Multiplicative factor.
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        # PyTorch takes any number here; a whole float (2.0, from a config file or argparse
        # type=float) loses nothing, so it is accepted as the int it is.
        if isinstance(step_size, float) and step_size.is_integer():
            step_size = int(step_size)
        _check_int("StepLR", "step_size", step_size, 1)
        check_number("StepLR", "gamma", gamma, 0)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        Epoch indices; one listed n times decays by ``gamma**n`` there.
    gamma : float, default=0.1
        Multiplicative factor.
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be an iterable of ints, got "
                            f"{type(milestones).__name__} {reprlib.repr(milestones)}")
        milestones = list(milestones)
        for m in milestones:
            _check_int("MultiStepLR", "each milestone", m, 0)
        check_number("MultiStepLR", "gamma", gamma, 0)
        self.milestones = collections.Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        Multiplicative factor.
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_number("ExponentialLR", "gamma", gamma, 0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        # Resuming must not move the rate one epoch further than where it was saved.
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    factor : float, default=1/3
        Factor applied until ``total_iters``, in [0, 1].
    total_iters : int, default=5
        Number of epochs (>= 0) with the reduced rate.
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_number("ConstantLR", "factor", factor, 0, 1)
        _check_int("ConstantLR", "total_iters", total_iters, 0)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        if self.factor == 0:  # the rate is 0 and cannot be divided back: restart from base_lrs
            return list(self.base_lrs)
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base_lr * factor for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then keep it.

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float, default=1/3
        Factor of the first epoch, in (0, 1].
    end_factor : float, default=1.0
        Factor from epoch ``total_iters`` on, in [0, 1].
    total_iters : int, default=5
        Number of epochs (>= 1) of the linear change.
    last_epoch : int, default=-1

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.optim import SGD
    >>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=1.0)
    >>> sched = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for epoch in range(3):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        check_number("LinearLR", "start_factor", start_factor, 0, 1, low_open=True)
        check_number("LinearLR", "end_factor", end_factor, 0, 1)
        _check_int("LinearLR", "total_iters", total_iters, 1)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._current_lrs()]
        if self._is_initial or t > self.total_iters:
            return self._current_lrs()
        # The ratio of this epoch's factor to the last one's (PyTorch's recursive form).
        ratio = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)
                for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay the learning rate as :math:`\eta_0 (1 - t / T)^{power}` over ``total_iters``
    epochs; it stays 0 afterwards.

    Parameters
    ----------
    optimizer : Optimizer
    total_iters : int, default=5
        Number of epochs (>= 1) of the decay.
    power : float, default=1.0
        Power of the polynomial (>= 0).
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_int("PolynomialLR", "total_iters", total_iters, 1)
        check_number("PolynomialLR", "power", power, 0)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.total_iters  # noqa: N806
        if self._is_initial or t > T:
            return self._current_lrs()
        factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * left ** self.power for base_lr in self.base_lrs]
