"""Adamax: Adam with the infinity norm of past gradients in the denominator."""

from __future__ import annotations

from .optimizer import Optimizer, check_adam_family, lerp, new_state_tensor, store

__all__ = ["Adamax", "adamax_update"]


def adamax_update(param, grad, exp_avg, exp_inf, step, *, lr, beta1, beta2, eps, weight_decay,
                  maximize, xp):
    """One Adamax step on arrays (``step`` counts from 1); returns ``(param, exp_avg,
    exp_inf)``."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, 1 - beta1)
    # The infinity norm decays instead of averaging; eps keeps it away from zero from step 1.
    exp_inf = xp.maximum(beta2 * exp_inf, xp.abs(grad) + eps)
    clr = lr / (1 - beta1**step)  # only the first moment starts biased toward zero
    return param + (-clr * exp_avg) / exp_inf, exp_avg, exp_inf


class Adamax(Optimizer):
    r"""Adamax (Kingma and Ba, 2015, "Adam: A Method for Stochastic Optimization", section 7.1).

    Adam with the second moment replaced by an exponentially weighted infinity norm:
    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)`,
    :math:`\theta_t = \theta_{t-1} - \frac{\mathrm{lr}}{1-\beta_1^t} \frac{m_t}{u_t}`.
    The same computation as PyTorch's ``torch.optim.Adamax``.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=2e-3
        Learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        Smoothing constants of the first moment and of the infinity norm, each in [0, 1).
    eps : float, default=1e-8
        Added to :math:`|g_t|` for numerical stability.
    weight_decay : float, default=0
        L2 penalty added to the gradient.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility; it picks one of PyTorch's kernels and does not change
        results (xpnet has one implementation).
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
    State per parameter: ``step`` (int), ``exp_avg`` and ``exp_inf``.

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_adam_family(type(self).__name__, group)

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "exp_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "exp_inf": new_state_tensor(p, xp.zeros_like(p.array))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        beta1, beta2 = group["betas"]
        param, exp_avg, exp_inf = adamax_update(
            p.array, grad, state["exp_avg"].array, state["exp_inf"].array, state["step"],
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["exp_avg"], exp_avg)
        store(state["exp_inf"], exp_inf)

