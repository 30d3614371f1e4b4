"""ReduceLROnPlateau: lower the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import math
import numbers
import reprlib

from ..optimizer import check_number
from .base import LRScheduler, _check_epoch, _check_int, _check_optimizer


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
