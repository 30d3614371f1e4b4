"""RMSprop: steps scaled by a running average of squared gradients."""

from __future__ import annotations

from .optimizer import (
    Optimizer, check_bool, check_implementation_flags, check_number, lerp, new_state_tensor,
    store,
)

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize, xp):
    """One RMSprop step on arrays; returns ``(param, square_avg, grad_avg, momentum_buffer)``.

    ``grad_avg`` is used (and returned) only when ``centered``, ``momentum_buffer`` only when
    ``momentum > 0``; pass None otherwise.
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = alpha * square_avg + (1 - alpha) * grad * grad
    if centered:
        grad_avg = lerp(grad_avg, grad, 1 - alpha)
        # E[g^2] - E[g]^2 is the variance of the gradient: the centered form normalizes by it.
        avg = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = xp.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer = momentum * momentum_buffer + grad / avg
        return param - lr * momentum_buffer, square_avg, grad_avg, momentum_buffer
    return param + (-lr * grad) / avg, square_avg, grad_avg, momentum_buffer


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e, "Neural Networks for Machine Learning", 2012).

    :math:`v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \mathrm{lr}\, g_t / (\sqrt{v_t} + \epsilon)`; the centered
    variant (Graves, 2013) subtracts the square of the running mean gradient from :math:`v_t`.
    The same computation as PyTorch's ``torch.optim.RMSprop``.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-2
        Learning rate.
    alpha : float, default=0.99
        Smoothing constant of the running averages.
    eps : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0
        L2 penalty added to the gradient.
    momentum : float, default=0
        Momentum factor.
    centered : bool, default=False
        Normalize by an estimate of the gradient's variance instead of its second moment.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; it picks one of
        PyTorch's kernels and does not change results (xpnet has one implementation per
        backend).
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
    State per parameter: ``step`` (int), ``square_avg``, ``momentum_buffer`` (when
    ``momentum > 0``) and ``grad_avg`` (when ``centered``).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("RMSprop", "lr", group["lr"], 0)
        check_number("RMSprop", "alpha", group["alpha"], 0)
        check_number("RMSprop", "eps", group["eps"], 0)
        check_number("RMSprop", "weight_decay", group["weight_decay"], 0)
        check_number("RMSprop", "momentum", group["momentum"], 0)
        check_bool("RMSprop", "centered", group["centered"])
        check_implementation_flags("RMSprop", group)

    def _init_state(self, p, group):
        return {"step": 0, "square_avg": _zeros(p)}

    def _update(self, p, grad, state, group):
        # Buffers a group gains later (momentum or centered switched on) start at zero.
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _zeros(p)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = _zeros(p)
        state["step"] += 1
        buffer, grad_avg = state.get("momentum_buffer"), state.get("grad_avg")
        param, square_avg, new_grad_avg, new_buffer = rmsprop_update(
            p.array, grad, state["square_avg"].array,
            grad_avg.array if group["centered"] else None,
            buffer.array if group["momentum"] > 0 else None,
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
            weight_decay=group["weight_decay"], momentum=group["momentum"],
            centered=group["centered"], maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["square_avg"], square_avg)
        if group["centered"]:
            store(grad_avg, new_grad_avg)
        if group["momentum"] > 0:
            store(buffer, new_buffer)


def _zeros(p):
    return new_state_tensor(p, p._backend.xp.zeros_like(p.array))
