"""Schedulers driven by the user's functions of the epoch: LambdaLR, MultiplicativeLR."""

from __future__ import annotations

import numbers
import reprlib
import types

from .base import LRScheduler, _check_optimizer


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
