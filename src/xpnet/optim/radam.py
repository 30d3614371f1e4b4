"""RAdam: Adam whose adaptive step is switched on, and rectified, once its variance is
tractable."""

from __future__ import annotations

from .optimizer import Optimizer, check_adam_family, check_bool, lerp, new_state_tensor, store

__all__ = ["RAdam", "radam_update"]


def radam_update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay,
                 decoupled_weight_decay, maximize, xp):
    """One RAdam step on arrays (``step`` counts from 1); returns ``(param, exp_avg,
    exp_avg_sq)``."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:  # as AdamW: shrink the weights outside the moments
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, 1 - beta1)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    exp_avg_hat = exp_avg / bias_correction1
    # rho: length of the simple moving average that the exponential one approximates; the
    # adaptive term's variance is finite only for rho > 4, and PyTorch switches at rho > 5.
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
    if rho_t <= 5.0:  # early steps: momentum SGD with the bias-corrected first moment
        return param - exp_avg_hat * lr, exp_avg, exp_avg_sq
    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    adaptive_lr = bias_correction2**0.5 / (xp.sqrt(exp_avg_sq) + eps)
    return param - exp_avg_hat * lr * adaptive_lr * rect, exp_avg, exp_avg_sq


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond").

    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`: while :math:`\rho_t \le 5` the step
    is :math:`\mathrm{lr}\,\hat m_t` (no adaptive term, whose variance is not yet tractable);
    after, Adam's step times the rectification
    :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty / ((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`.
    The same computation as PyTorch's ``torch.optim.RAdam``.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-3
        Learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        Smoothing constants of the first and second moment estimates, each in [0, 1).
    eps : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0
        Weight decay: an L2 penalty added to the gradient, or with ``decoupled_weight_decay``
        a shrinking of the weights (RAdamW).
    decoupled_weight_decay : bool, default=False
        Decay the weights directly, as AdamW does.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility; does not change results.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range or ``differentiable=True``.
    RuntimeError
        At `step`, for a sparse gradient, as in PyTorch.

    Notes
    -----
    State per parameter: ``step`` (int), ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_adam_family("RAdam", group)
        check_bool("RAdam", "decoupled_weight_decay", group["decoupled_weight_decay"])

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "exp_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "exp_avg_sq": new_state_tensor(p, xp.zeros_like(p.array))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        beta1, beta2 = group["betas"]
        param, exp_avg, exp_avg_sq = radam_update(
            p.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array, state["step"],
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            xp=p._backend.xp)
        store(p, param)
        store(state["exp_avg"], exp_avg)
        store(state["exp_avg_sq"], exp_avg_sq)
