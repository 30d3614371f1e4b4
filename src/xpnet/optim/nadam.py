"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from .optimizer import (
    Optimizer, check_adam_family, check_bool, check_number, lerp, load_scalar_state,
    new_state_tensor, scalar_state, store,
)

__all__ = ["NAdam", "nadam_momentum", "nadam_update"]


def nadam_momentum(step, beta1, momentum_decay):
    """Dozat's momentum schedule :math:`\\mu_t = \\beta_1 (1 - 0.5 \\cdot 0.96^{t\\psi})`."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def nadam_update(param, grad, exp_avg, exp_avg_sq, step, mu_product, *, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled_weight_decay, maximize, xp):
    """One NAdam step on arrays; returns ``(param, exp_avg, exp_avg_sq)``.

    ``step`` counts from 1; ``mu_product`` is :math:`\\prod_{i \\le t} \\mu_i`, this step's
    momentum included (the optimizer keeps it as state).
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:  # as AdamW: shrink the weights outside the moments
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    mu = nadam_momentum(step, beta1, momentum_decay)
    mu_next = nadam_momentum(step + 1, beta1, momentum_decay)
    exp_avg = lerp(exp_avg, grad, 1 - beta1)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    denom = xp.sqrt(exp_avg_sq / (1 - beta2**step)) + eps
    # Nesterov: the current gradient with this step's momentum, plus the first moment already
    # carried one step ahead with the next step's momentum, each with its own bias correction.
    param = param + (-lr * (1.0 - mu) / (1.0 - mu_product) * grad) / denom
    param = param + (-lr * mu_next / (1.0 - mu_product * mu_next) * exp_avg) / denom
    return param, exp_avg, exp_avg_sq


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam").

    Adam whose first-moment step looks one step ahead, with the momentum
    :math:`\mu_t = \beta_1 (1 - \frac{1}{2} 0.96^{t \psi})` (:math:`\psi` = ``momentum_decay``):
    :math:`\theta_t = \theta_{t-1} - \mathrm{lr}\left(\frac{(1-\mu_t) g_t}{1-\prod_{i\le t}\mu_i}
    + \frac{\mu_{t+1} m_t}{1-\prod_{i\le t+1}\mu_i}\right) / (\sqrt{\hat v_t} + \epsilon)`.
    The same computation as PyTorch's ``torch.optim.NAdam``.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=2e-3
        Learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        Smoothing constants of the first and second moment estimates, each in [0, 1).
    eps : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0
        Weight decay: an L2 penalty added to the gradient, or with ``decoupled_weight_decay``
        a shrinking of the weights (NAdamW).
    momentum_decay : float, default=4e-3
        :math:`\psi` in the momentum schedule.
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
    State per parameter: ``step`` (int), ``mu_product`` (float), ``exp_avg`` and
    ``exp_avg_sq``. As in PyTorch, ``mu_product`` is rounded to the default dtype
    (`xpnet.get_default_dtype`) at each step, where PyTorch keeps it in a 0-d tensor.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_adam_family("NAdam", group)
        check_number("NAdam", "momentum_decay", group["momentum_decay"], 0)
        check_bool("NAdam", "decoupled_weight_decay", group["decoupled_weight_decay"])

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "mu_product": 1.0,
                "exp_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "exp_avg_sq": new_state_tensor(p, xp.zeros_like(p.array))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        beta1, beta2 = group["betas"]
        mu = nadam_momentum(state["step"], beta1, group["momentum_decay"])
        state["mu_product"] = scalar_state(state["mu_product"] * scalar_state(mu))
        param, exp_avg, exp_avg_sq = nadam_update(
            p.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array, state["step"],
            state["mu_product"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            xp=p._backend.xp)
        store(p, param)
        store(state["exp_avg"], exp_avg)
        store(state["exp_avg_sq"], exp_avg_sq)

    def load_state_dict(self, state_dict):
        """Load a state made by `state_dict` or by PyTorch's ``NAdam.state_dict()`` (whose
        ``mu_product`` is a 0-d tensor); see `Optimizer.load_state_dict`."""
        super().load_state_dict(load_scalar_state("NAdam.load_state_dict", state_dict,
                                                  ("mu_product",)))
