"""Learning-rate schedulers: they set ``group["lr"]`` of an optimizer's parameter groups.

The same classes, arguments and values as ``torch.optim.lr_scheduler``: build the scheduler after
the optimizer, call ``optimizer.step()`` then ``scheduler.step()`` once per epoch (or per batch),
and ``ReduceLROnPlateau.step(metric)`` with the monitored value.

>>> import xpnet
>>> from xpnet.optim import SGD
>>> from xpnet.optim.lr_scheduler import StepLR
>>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step()
...     lrs.append(sched.get_last_lr()[0])
...     sched.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import bisect
import collections
import math
import numbers
import reprlib
import types
import warnings

from .optimizer import Optimizer, check_number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "MultiStepLR",
           "ReduceLROnPlateau", "StepLR"]


def _check_optimizer(name, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an xpnet.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")


# torch's words, so that filters written for its warning catch this one too.
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")


def _check_epoch(name, epoch):
    """PyTorch's deprecated ``step(epoch)`` argument: an int (with its warning) or None."""
    if epoch is None:
        return None
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
        raise TypeError(f"{name}.step: epoch must be an int or None, got "
                        f"{type(epoch).__name__} {reprlib.repr(epoch)}")
    warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=3)
    return int(epoch)


def _check_int(name, arg, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {arg} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: {arg} must be >= {low}, got {value}")


class LRScheduler:
    """Base class of the epoch-driven schedulers.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are set.
    last_epoch : int, default=-1
        Index of the last epoch; -1 starts a new schedule (recording each group's ``lr`` as its
        ``initial_lr``). A value >= 0 resumes one, and needs ``initial_lr`` in every group.

    Attributes
    ----------
    base_lrs : list of float
        Each group's ``initial_lr``.
    last_epoch : int
        The number of `step` calls so far (0 right after construction, which applies the
        schedule's first value).

    Subclasses define ``get_lr()``, the learning rates for ``last_epoch`` (the one just reached),
    computed from the current ``group["lr"]`` values or from ``base_lrs``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        _check_int(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: resuming with last_epoch={last_epoch} needs "
                                   f"'initial_lr' in param_groups[{i}]; load the optimizer's "
                                   f"state_dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        # As PyTorch: the first step applies the schedule's value for epoch 0 (or resumes).
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for ``last_epoch``, one per parameter group."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def get_last_lr(self):
        """The learning rates the last `step` set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance one epoch and set each group's ``lr``; call after ``optimizer.step()``.

        Parameters
        ----------
        epoch : int, optional
            Deprecated, as in PyTorch (it warns): jump to this epoch, with the rate from the
            schedule's closed form where it has one.

        Raises
        ------
        TypeError
            For an ``epoch`` that is neither an int nor None.
        """
        epoch = _check_epoch(type(self).__name__, epoch)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """The scheduler's state: every attribute but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a state made by `state_dict`."""
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callable
        A function of the epoch index giving a factor, or one function per parameter group.
    last_epoch : int, default=-1

    Notes
    -----
    `state_dict` saves the attributes of callable objects, not plain functions or lambdas.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per parameter group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factors = [fn(self.last_epoch) for fn in self.lr_lambdas]
        for factor in factors:
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
                raise TypeError(f"LambdaLR: lr_lambda({self.last_epoch}) must return a number, "
                                f"got {type(factor).__name__} {reprlib.repr(factor)}")
        return [base_lr * factor for factor, base_lr in zip(factors, self.base_lrs)]

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


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


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate when a monitored metric stops improving.

    After more than ``patience`` epochs without improvement, each group's rate becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by less than ``eps``), then
    ``cooldown`` epochs pass before bad epochs count again.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {'min', 'max'}, default='min'
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float, default=0.1
        Multiplicative factor, in [0, 1).
    patience : int, default=10
        Epochs without improvement tolerated before reducing.
    threshold : float, default=1e-4
        How much better than the best so far counts as an improvement.
    threshold_mode : {'rel', 'abs'}, default='rel'
        ``rel``: better than ``best * (1 -/+ threshold)``; ``abs``: than ``best -/+ threshold``.
    cooldown : int, default=0
        Epochs to wait after a reduction before counting bad epochs again.
    min_lr : float or list of float, default=0
        Lower bound on the rate, for all groups or one per group.
    eps : float, default=1e-8
        Reductions smaller than this are skipped.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.optim import SGD
    >>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        check_number(name, "factor", factor, 0, 1, high_open=True)
        _check_int(name, "patience", patience, 0)
        _check_int(name, "cooldown", cooldown, 0)
        check_number(name, "threshold", threshold, 0)
        check_number(name, "eps", eps, 0)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"{name}: expected {n} min_lrs (one per parameter group), got "
                                 f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        for m in self.min_lrs:
            check_number(name, "min_lr", m, 0)
        self._init_is_better(mode, threshold, threshold_mode)
        self.optimizer = optimizer
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or a one-element tensor); reduce if it stalled.

        Parameters
        ----------
        metrics : number, or Tensor or array of one element
            The monitored value.
        epoch : int, optional
            Deprecated, as in PyTorch (it warns): the epoch number to record.

        Raises
        ------
        TypeError
            For ``metrics`` that is not a number, tensor or array, or a bad ``epoch``.
        ValueError
            For a tensor or array of more than one element.
        """
        current = _metric(metrics)
        epoch = _check_epoch("ReduceLROnPlateau", epoch)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during a cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                   f"parameter groups but min_lr lists {len(self.min_lrs)}; "
                                   f"set min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)

def _metric(metrics):
    """``float(metrics)``, or an error naming ReduceLROnPlateau.step and ``metrics``."""
    expected = "ReduceLROnPlateau.step: metrics must be a number or a one-element tensor"
    if isinstance(metrics, numbers.Real):
        return float(metrics)
    shape = getattr(metrics, "shape", None)
    if shape is None or isinstance(metrics, (str, bytes)):
        raise TypeError(f"{expected}, got {type(metrics).__name__} {reprlib.repr(metrics)}")
    if math.prod(shape) != 1:
        kind = "a tensor" if hasattr(metrics, "item") and hasattr(metrics, "requires_grad") \
            else "an array"
        raise ValueError(f"{expected}, got {kind} of shape {tuple(shape)}")
    value = metrics.item() if hasattr(metrics, "item") else metrics
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{expected}, got one element of type {type(value).__name__}")
    return float(value)


# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.optim.lr_scheduler", "torch.optim.lr_scheduler")
