"""ASGD: stochastic gradient descent with a decaying step and a running average of the
iterates."""

from __future__ import annotations

from .optimizer import (
    Optimizer, check_implementation_flags, check_number, load_scalar_state, new_state_tensor,
    scalar_state, store,
)

__all__ = ["ASGD", "asgd_schedule", "asgd_update"]


def asgd_update(param, grad, ax, *, eta, mu, lambd, weight_decay, maximize, xp):
    """One ASGD step on arrays with step size ``eta`` and averaging weight ``mu``; returns
    ``(param, ax)``."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    param = param * (1 - lambd * eta)
    param = param + (-eta) * grad
    if mu == 1:  # before averaging starts the average is the iterate itself
        return param, xp.asarray(param, copy=True)
    return param, ax + (param - ax) * mu


def asgd_schedule(step, *, lr, lambd, alpha, t0):
    """``(eta, mu)`` for the step after step ``step``: the step size
    :math:`\\mathrm{lr} / (1 + \\lambda\\,\\mathrm{lr}\\,t)^\\alpha` and the averaging weight
    :math:`1 / \\max(1, t - t_0)`."""
    return lr / ((1 + lambd * lr * step) ** alpha), 1 / max(1, step - t0)


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (Polyak and Juditsky, 1992, "Acceleration of
    Stochastic Approximation by Averaging"; the schedule of Bottou, 2012, "Stochastic Gradient
    Descent Tricks").

    Each step decays the weights and moves them against the gradient with a step size
    :math:`\eta_t = \mathrm{lr} / (1 + \lambda\,\mathrm{lr}\,t)^\alpha`:
    :math:`\theta_t = \theta_{t-1}(1 - \lambda\eta_{t-1}) - \eta_{t-1} g_t`; from step
    :math:`t_0` on, the average :math:`\bar\theta_t = \bar\theta_{t-1} +
    \mu_t(\theta_t - \bar\theta_{t-1})` with :math:`\mu_t = 1/\max(1, t - t_0)` is kept in the
    state as ``ax``. The parameters themselves are the plain iterates, as in PyTorch's
    ``torch.optim.ASGD``, whose computation this is; copy ``ax`` into them to use the average.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-2
        Learning rate (the first step size).
    lambd : float, default=1e-4
        Decay term :math:`\lambda`.
    alpha : float, default=0.75
        Power of the step-size decay.
    t0 : float, default=1e6
        Step at which averaging starts.
    weight_decay : float, default=0
        L2 penalty added to the gradient.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility; does not change results.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range or ``differentiable=True``.
    RuntimeError
        At `step`, for a sparse gradient, as in PyTorch.

    Notes
    -----
    State per parameter: ``step`` (int), ``eta`` and ``mu`` (floats: the step size and the
    averaging weight of the next step) and ``ax`` (the average). As in PyTorch, ``eta`` and
    ``mu`` are rounded to the default dtype (`xpnet.get_default_dtype`), where PyTorch keeps
    them in 0-d tensors.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("ASGD", "lr", group["lr"], 0)
        check_number("ASGD", "lambd", group["lambd"], 0)
        check_number("ASGD", "alpha", group["alpha"])
        check_number("ASGD", "t0", group["t0"])
        check_number("ASGD", "weight_decay", group["weight_decay"], 0)
        check_implementation_flags("ASGD", group)

    def _init_state(self, p, group):
        return {"step": 0, "eta": scalar_state(group["lr"]), "mu": 1.0,
                "ax": new_state_tensor(p, p._backend.xp.zeros_like(p.array))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        param, ax = asgd_update(
            p.array, grad, state["ax"].array, eta=state["eta"], mu=state["mu"],
            lambd=group["lambd"], weight_decay=group["weight_decay"],
            maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["ax"], ax)
        eta, mu = asgd_schedule(state["step"], lr=group["lr"], lambd=group["lambd"],
                                alpha=group["alpha"], t0=group["t0"])
        state["eta"], state["mu"] = scalar_state(eta), scalar_state(mu)

    def load_state_dict(self, state_dict):
        """Load a state made by `state_dict` or by PyTorch's ``ASGD.state_dict()`` (whose
        ``eta`` and ``mu`` are 0-d tensors); see `Optimizer.load_state_dict`."""
        super().load_state_dict(load_scalar_state("ASGD.load_state_dict", state_dict,
                                                  ("eta", "mu")))
