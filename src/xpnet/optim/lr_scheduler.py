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

from .optimizer import Optimizer, check_bool, check_number

__all__ = ["ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
           "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "StepLR"]


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
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factors = _factors("LambdaLR", self.lr_lambdas, self.last_epoch)
        return [base_lr * factor for factor, base_lr in zip(factors, self.base_lrs)]

    def state_dict(self):
        """The scheduler's state; of ``lr_lambdas``, the attributes of callable objects only."""
        return _lambda_state_dict(self)

    def load_state_dict(self, state_dict):
        """Restore a state made by `state_dict`."""
        _load_lambda_state_dict(self, state_dict)


def _lambdas(name, optimizer, lr_lambda):
    """One callable per parameter group, from one callable or a list of them."""
    _check_optimizer(name, optimizer)
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ValueError(f"{name}: expected {n} lr_lambdas (one per parameter group), "
                             f"got {len(lr_lambda)}")
        lambdas = list(lr_lambda)
    else:
        lambdas = [lr_lambda] * n
    for fn in lambdas:
        if not callable(fn):
            raise TypeError(f"{name}: lr_lambda must be callable, got {type(fn).__name__}")
    return lambdas


def _factors(name, lambdas, epoch):
    factors = [fn(epoch) for fn in lambdas]
    for factor in factors:
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(f"{name}: lr_lambda({epoch}) must return a number, got "
                            f"{type(factor).__name__} {reprlib.repr(factor)}")
    return factors


def _callable_state(fn):
    """What a state dict keeps of a user callable: an object's attributes, nothing of a function
    (a lambda or def cannot be saved; the one given to the new scheduler is used)."""
    return None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()


def _lambda_state_dict(sched):
    state = {k: v for k, v in sched.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
    state["lr_lambdas"] = [_callable_state(fn) for fn in sched.lr_lambdas]
    return state


def _load_lambda_state_dict(sched, state_dict):
    state = dict(state_dict)
    lambdas = state.pop("lr_lambdas")
    sched.__dict__.update(state)
    for fn, saved in zip(sched.lr_lambdas, lambdas):
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


class MultiplicativeLR(LRScheduler):
    """Multiply the learning rate by ``lr_lambda(epoch)`` every epoch (after the first).

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callable
        A function of the epoch index giving a factor, or one function per parameter group.
    last_epoch : int, default=-1

    Notes
    -----
    `state_dict` saves the attributes of callable objects, not plain functions or lambdas.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.optim import SGD
    >>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=1.0)
    >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.5)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        factors = _factors("MultiplicativeLR", self.lr_lambdas, self.last_epoch)
        return [lr * factor for lr, factor in zip(self._current_lrs(), factors)]

    def state_dict(self):
        """The scheduler's state; of ``lr_lambdas``, the attributes of callable objects only."""
        return _lambda_state_dict(self)

    def load_state_dict(self, state_dict):
        """Restore a state made by `state_dict`."""
        _load_lambda_state_dict(self, state_dict)


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


# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.optim.lr_scheduler", "torch.optim.lr_scheduler")
