"""Adadelta: steps sized by the ratio of running averages of updates and of gradients."""

from __future__ import annotations

from .optimizer import (
    Optimizer, check_implementation_flags, check_number, new_state_tensor, store,
)

__all__ = ["Adadelta", "adadelta_update"]


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize,
                    xp):
    """One Adadelta step on arrays; returns ``(param, square_avg, acc_delta)``."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = rho * square_avg + (1 - rho) * grad * grad
    std = xp.sqrt(square_avg + eps)
    # The update has the units of the parameter: RMS of past updates over RMS of gradients.
    delta = xp.sqrt(acc_delta + eps) / std * grad
    acc_delta = rho * acc_delta + (1 - rho) * delta * delta
    return param - lr * delta, square_avg, acc_delta


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method").

    :math:`v_t = \rho v_{t-1} + (1-\rho) g_t^2`,
    :math:`\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t`,
    :math:`u_t = \rho u_{t-1} + (1-\rho) \Delta_t^2`,
    :math:`\theta_t = \theta_{t-1} - \mathrm{lr}\,\Delta_t`, as PyTorch's
    ``torch.optim.Adadelta`` does.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1.0
        Scale applied to the update.
    rho : float, default=0.9
        Smoothing constant of the running averages, in [0, 1].
    eps : float, default=1e-6
        Added inside the square roots for numerical stability.
    weight_decay : float, default=0
        L2 penalty added to the gradient.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; it picks one of
        PyTorch's kernels and does not change results (xpnet has one implementation per
        backend).
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range or ``differentiable=True``.
    TypeError
        If a flag is not a bool (``foreach``: or None).

    Notes
    -----
    State per parameter: ``step`` (int), ``square_avg`` and ``acc_delta``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "capturable": capturable, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("Adadelta", "lr", group["lr"], 0)
        check_number("Adadelta", "rho", group["rho"], 0, 1)
        check_number("Adadelta", "eps", group["eps"], 0)
        check_number("Adadelta", "weight_decay", group["weight_decay"], 0)
        check_implementation_flags("Adadelta", group)

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "square_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "acc_delta": new_state_tensor(p, xp.zeros_like(p.array))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        param, square_avg, acc_delta = adadelta_update(
            p.array, grad, state["square_avg"].array, state["acc_delta"].array, lr=group["lr"],
            rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
            maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["square_avg"], square_avg)
        store(state["acc_delta"], acc_delta)
