"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from .optimizer import (
    Optimizer, add_to_rows, check_implementation_flags, check_number, masked_rows,
    new_state_tensor, store,
)

__all__ = ["Adagrad", "adagrad_update", "sparse_adagrad_update"]


def adagrad_update(param, grad, state_sum, step, *, lr, lr_decay, weight_decay, eps, maximize,
                   xp):
    """One Adagrad step on arrays (``step`` counts from 1); returns ``(param, state_sum)``."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum = state_sum + grad * grad
    std = xp.sqrt(state_sum) + eps
    return param + (-clr * grad) / std, state_sum


def sparse_adagrad_update(grad, sum_rows, step, *, lr, lr_decay, eps, maximize, xp):
    """One Adagrad step on the rows a sparse gradient touches (``grad`` and ``sum_rows`` of
    shape (nnz, ...), distinct rows); returns the increments ``(param_delta, sum_delta)``.
    Rows outside the gradient would get zero increments, so they are left alone."""
    grad = -grad if maximize else grad
    clr = lr / (1 + (step - 1) * lr_decay)
    sum_delta = grad * grad
    std = xp.sqrt(sum_rows + sum_delta) + eps
    return -clr * (grad / std), sum_delta


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011, "Adaptive Subgradient Methods").

    Each coordinate's step is scaled by the root of the sum of its squared gradients:
    :math:`s_t = s_{t-1} + g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \frac{\mathrm{lr}}{1 + (t-1)\,\mathrm{lr\_decay}}
    \frac{g_t}{\sqrt{s_t} + \epsilon}`, as PyTorch's ``torch.optim.Adagrad`` does.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-2
        Learning rate.
    lr_decay : float, default=0
        Learning-rate decay per step.
    weight_decay : float, default=0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default=0
        Starting value of the sum of squared gradients.
    eps : float, default=1e-10
        Added to the denominator for numerical stability.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; it picks one of
        PyTorch's kernels and does not change results (xpnet has one implementation per
        backend).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.
    fused : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; gives the same
        results as the unfused step (xpnet has one implementation per backend).

    Raises
    ------
    ValueError
        If a hyperparameter is out of range or ``differentiable=True``.
    TypeError
        If a flag is not a bool (``foreach`` and ``fused``: or None).
    RuntimeError
        If ``fused=True`` and ``foreach=True``, as in PyTorch.

    Notes
    -----
    State per parameter: ``step`` (int) and ``sum``. Unlike PyTorch, which makes the state when
    the optimizer is built, xpnet makes it at a parameter's first step.

    Sparse gradients (``sparse=True`` embeddings) update only the rows they hold, of the
    parameter and of ``sum``, in place; the result is the dense step's (untouched rows would
    not move), as in PyTorch. As there, they cannot be combined with ``weight_decay``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("Adagrad", "lr", group["lr"], 0)
        check_number("Adagrad", "lr_decay", group["lr_decay"], 0)
        check_number("Adagrad", "weight_decay", group["weight_decay"], 0)
        check_number("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"], 0)
        check_number("Adagrad", "eps", group["eps"], 0)
        check_implementation_flags("Adagrad", group)

    def _init_state(self, p, group):
        initial = p._backend.xp.full_like(p.array, group["initial_accumulator_value"])
        return {"step": 0, "sum": new_state_tensor(p, initial)}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        param, state_sum = adagrad_update(
            p.array, grad, state["sum"].array, state["step"], lr=group["lr"],
            lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
            maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["sum"], state_sum)

    def _sparse_unsupported(self, group):
        if group["weight_decay"] != 0:
            return (f"which Adagrad cannot combine with weight_decay={group['weight_decay']} "
                    f"(it would move every row)")
        return ""

    def _sparse_update(self, p, grad, state, group):
        state["step"] += 1
        xp = p._backend.xp
        index = grad.index_data
        param_delta, sum_delta = sparse_adagrad_update(
            grad.values_data, xp.take(state["sum"].array, index, axis=0), state["step"],
            lr=group["lr"], lr_decay=group["lr_decay"], eps=group["eps"],
            maximize=group["maximize"], xp=xp)
        if grad._valid is not None:  # zero padding (RowSparseGrad._rows_once): 0/0 with eps=0
            param_delta = masked_rows(xp, grad._valid, param_delta)
        add_to_rows(state["sum"], index, sum_delta)
        add_to_rows(p, index, param_delta)
