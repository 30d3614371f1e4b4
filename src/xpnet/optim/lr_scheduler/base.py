"""The base class of the schedulers and the argument checks they share."""

from __future__ import annotations

import numbers
import reprlib
import warnings

from ..optimizer import Optimizer


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
