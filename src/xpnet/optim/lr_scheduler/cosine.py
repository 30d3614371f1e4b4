"""Cosine annealing: CosineAnnealingLR and CosineAnnealingWarmRestarts (SGDR)."""

from __future__ import annotations

import math
import numbers
import reprlib

from ..optimizer import check_number
from .base import LRScheduler, _check_int


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` down to ``eta_min`` over ``T_max`` epochs.

    The closed form (Loshchilov and Hutter, 2017, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", without restarts) is
    :math:`\eta_t = \eta_{min} + \frac{1}{2}(\eta_{0} - \eta_{min})(1 + \cos(\pi t / T_{max}))`.
    As PyTorch, each step applies it recursively to the current rate,
    :math:`\eta_{t} = \eta_{min} + (\eta_{t-1} - \eta_{min})
    \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t-1) / T_{max})}`,
    so changes made to ``group["lr"]`` by other code carry on, and the values equal PyTorch's
    to the last bit. Past ``T_max`` the rate follows the cosine back up.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Half-period of the cosine, in epochs (>= 1).
    eta_min : float, default=0.0
        Minimum learning rate.
    last_epoch : int, default=-1
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 (PyTorch's)
        _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        check_number("CosineAnnealingLR", "eta_min", eta_min, 0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            # At the cosine's minimum the ratio below is 0/0; step up by the closed form instead.
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` to ``eta_min``, restarted every ``T_i`` epochs.

    :math:`\eta_t = \eta_{min} + \frac{1}{2}(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur} / T_i))`
    (Loshchilov and Hutter, 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts"), where
    :math:`T_{cur}` counts the epochs since the last restart and the period :math:`T_i` starts
    at ``T_0`` and is multiplied by ``T_mult`` at each restart.

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Length of the first period, in epochs (>= 1).
    T_mult : int, default=1
        Factor (>= 1) growing the period after each restart.
    eta_min : float, default=0.0
        Minimum learning rate.
    last_epoch : int, default=-1

    Notes
    -----
    As PyTorch, `step` takes a fractional ``epoch`` (say ``epoch + batch / n_batches``) to
    anneal within an epoch; it does not warn here.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):  # noqa: N803
        _check_int("CosineAnnealingWarmRestarts", "T_0", T_0, 1)
        _check_int("CosineAnnealingWarmRestarts", "T_mult", T_mult, 1)
        check_number("CosineAnnealingWarmRestarts", "eta_min", eta_min, 0)
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or go to ``epoch`` (which may be fractional), and set the rates.

        Parameters
        ----------
        epoch : float, optional
            The (non-negative, possibly fractional) epoch to jump to.

        Raises
        ------
        TypeError
            For an ``epoch`` that is not a real number or None.
        ValueError
            For a negative or non-finite ``epoch``.
        """
        name = "CosineAnnealingWarmRestarts.step"
        if epoch is not None:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real):
                raise TypeError(f"{name}: epoch must be a real number or None, got "
                                f"{type(epoch).__name__} {reprlib.repr(epoch)}")
            if not math.isfinite(epoch) or epoch < 0:
                raise ValueError(f"{name}: epoch must be a finite number >= 0, got {epoch}")
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # Periods T_0 * T_mult**k: the restarts before `epoch` are the n whose lengths sum
            # to at most epoch, T_0 * (T_mult**n - 1) / (T_mult - 1) <= epoch.
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()
