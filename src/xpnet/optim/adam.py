"""Adam (with the AMSGrad variant), AdamW (decoupled weight decay) and the lazy update of
sparse gradients they share with `SparseAdam`."""

from __future__ import annotations

import math

from xpnet.backend.kernels import get_kernel, register_generic

from .optimizer import (
    Optimizer, check_adam_family, check_bool, lerp, masked_rows, new_state_tensor, store,
)

__all__ = ["Adam", "AdamW", "adam_update", "sparse_adam_update"]


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2, eps,
                weight_decay, amsgrad, maximize, decoupled_weight_decay, xp):
    """One Adam step on arrays (``step`` counts from 1).

    Returns ``(param, exp_avg, exp_avg_sq, max_exp_avg_sq)``; ``max_exp_avg_sq`` is used (and
    returned) only with ``amsgrad``, pass None otherwise.
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:  # AdamW: shrink the weights, outside the moment estimates
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, 1 - beta1)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    # Both averages start at zero; the bias corrections undo that in early steps.
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    if amsgrad:
        max_exp_avg_sq = xp.maximum(max_exp_avg_sq, exp_avg_sq)
        denom = xp.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
    else:
        denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    step_size = lr / bias_correction1
    return param + (-step_size * exp_avg) / denom, exp_avg, exp_avg_sq, max_exp_avg_sq


@register_generic("adam_update")
def _adam_update_twin(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, **hyper):
    """`adam_update` in the kernels' calling convention: the standard-only twin of the fused
    ``adam_update`` fast paths (backend/kernels/numba_optim.py), which may write the state
    arrays they are given in place: pass arrays only the optimizer holds."""
    return adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, xp=xp, **hyper)


def sparse_adam_update(grad, exp_avg_rows, exp_avg_sq_rows, step, *, lr, beta1, beta2, eps,
                       maximize, xp):
    """The lazy Adam step of ``torch.optim.SparseAdam`` on the rows a sparse gradient touches
    (arrays of shape (nnz, ...), distinct rows).

    Only those rows' moments decay and only those rows move; the others keep their moments and
    values until a gradient reaches them (a row's zero gradient is treated as "no news", not as
    a zero observation). Returns the increments ``(param_delta, exp_avg_delta,
    exp_avg_sq_delta)``. As in PyTorch the bias correction of the second moment goes into the
    step size, so eps is added to the uncorrected root: the dense `adam_update` adds it to the
    corrected one.
    """
    grad = -grad if maximize else grad
    exp_avg_delta = (grad - exp_avg_rows) * (1 - beta1)
    exp_avg_sq_delta = (grad * grad - exp_avg_sq_rows) * (1 - beta2)
    numer = exp_avg_delta + exp_avg_rows
    denom = xp.sqrt(exp_avg_sq_delta + exp_avg_sq_rows) + eps
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    return -step_size * (numer / denom), exp_avg_delta, exp_avg_sq_delta


@register_generic("sparse_adam_step")
def sparse_adam_step(xp, param, exp_avg, exp_avg_sq, index, grad, valid, step, *, lr, beta1,
                     beta2, eps, maximize, backend):
    """`sparse_adam_update` applied to the rows ``index`` (nnz,) of ``param`` and its moments,
    ``grad`` (nnz, ...) the gradient's rows: ``(param, exp_avg, exp_avg_sq)`` with those rows
    moved, written in place where the backend allows it (the `add_to_rows` kernel). ``valid``
    (nnz,) marks the real rows of a device gradient's padded slots
    (`RowSparseGrad._rows_once`), or is None."""
    param_delta, exp_avg_delta, exp_avg_sq_delta = sparse_adam_update(
        grad, xp.take(exp_avg, index, axis=0), xp.take(exp_avg_sq, index, axis=0), step,
        lr=lr, beta1=beta1, beta2=beta2, eps=eps, maximize=maximize, xp=xp)
    if valid is not None:  # zero padding moves nothing
        param_delta, exp_avg_delta, exp_avg_sq_delta = (
            masked_rows(xp, valid, d) for d in (param_delta, exp_avg_delta, exp_avg_sq_delta))
    add = get_kernel("add_to_rows", backend)
    return (add(xp, param, index, param_delta), add(xp, exp_avg, index, exp_avg_delta),
            add(xp, exp_avg_sq, index, exp_avg_sq_delta))


def apply_sparse_adam(p, grad, state, group):
    """`sparse_adam_update` on parameter ``p`` and its ``exp_avg``/``exp_avg_sq`` state, rows
    written in place (the state layout of Adam and SparseAdam)."""
    state["step"] += 1
    backend = p._backend
    beta1, beta2 = group["betas"]
    param, exp_avg, exp_avg_sq = get_kernel("sparse_adam_step", backend)(
        backend.xp, p.array, state["exp_avg"].array, state["exp_avg_sq"].array,
        grad.index_data, grad.values_data, grad._valid, state["step"], lr=group["lr"],
        beta1=beta1, beta2=beta2, eps=group["eps"], maximize=group["maximize"],
        backend=backend)
    store(state["exp_avg"], exp_avg)
    store(state["exp_avg_sq"], exp_avg_sq)
    store(p, param)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015, "Adam: A Method for Stochastic Optimization").

    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \frac{\mathrm{lr}}{1-\beta_1^t}
    \frac{m_t}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}`; with ``amsgrad`` (Reddi et al., 2018,
    "On the Convergence of Adam and Beyond") :math:`v_t` in the denominator is replaced by its
    running maximum. The same computation as PyTorch's ``torch.optim.Adam``.

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
        L2 penalty added to the gradient, or with ``decoupled_weight_decay`` a shrinking of the
        weights.
    amsgrad : bool, default=False
        Use the AMSGrad variant.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; it picks one of
        PyTorch's kernels and does not change results (xpnet has one implementation per
        backend).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.
    fused : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; gives the same
        results as the unfused step (xpnet has one implementation per backend).
    decoupled_weight_decay : bool, default=False
        Decay the weights directly instead of adding an L2 term to the gradient: with True,
        `Adam` is `AdamW` (PyTorch's meaning).

    Raises
    ------
    ValueError
        If a hyperparameter is out of range or ``differentiable=True``.
    TypeError
        If ``betas`` is not a pair or a flag is not a bool (``foreach`` and ``fused``: or
        None).
    RuntimeError
        If ``fused=True`` and ``foreach=True``, as in PyTorch.

    Notes
    -----
    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq``
    (with ``amsgrad``).

    Sparse gradients (``sparse=True`` embeddings), which ``torch.optim.Adam`` refuses, get the
    lazy update of `SparseAdam` (`sparse_adam_update`): only the rows looked up in the step
    change, with their moments, in place. Without ``weight_decay`` and ``amsgrad`` only (both
    would touch every row).

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        check_adam_family(name, group)
        check_bool(name, "amsgrad", group["amsgrad"])
        check_bool(name, "decoupled_weight_decay", group["decoupled_weight_decay"])

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "exp_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "exp_avg_sq": new_state_tensor(p, xp.zeros_like(p.array))}

    def _sparse_unsupported(self, group):
        if group["weight_decay"] != 0:
            return (f"which {type(self).__name__} cannot combine with weight_decay="
                    f"{group['weight_decay']} (it would move every row)")
        if group["amsgrad"]:
            return f"which {type(self).__name__} cannot combine with amsgrad=True"
        return ""

    def _sparse_update(self, p, grad, state, group):
        apply_sparse_adam(p, grad, state, group)

    def _update(self, p, grad, state, group):
        amsgrad = group["amsgrad"]
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = new_state_tensor(p, p._backend.xp.zeros_like(p.array))
        state["step"] += 1
        beta1, beta2 = group["betas"]
        backend = p._backend
        # One fused pass where the backend has one (NumPy: 2.4 -> 0.6 ms a step for the 670k
        # float32 parameters of a 784-512-512-10 MLP; PyTorch 1.5-1.6 ms). The
        # parameter always gets a new array. The fast path writes the state arrays in place:
        # no one else holds them, since this class makes every one (zeros in _init_state,
        # copies in load_state_dict, the kernels' results), state_dict hands out copies, and
        # they never serve as a parameter or a gradient. Only code reaching into
        # ``self.state`` sees them change, as PyTorch's in-place state changes.
        param, exp_avg, exp_avg_sq, max_exp_avg_sq = get_kernel("adam_update", backend)(
            backend.xp, p.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array,
            state["max_exp_avg_sq"].array if amsgrad else None, state["step"], lr=group["lr"],
            beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
            amsgrad=amsgrad, maximize=group["maximize"],
            decoupled_weight_decay=group["decoupled_weight_decay"])
        store(p, param)
        store(state["exp_avg"], exp_avg)
        store(state["exp_avg_sq"], exp_avg_sq)
        if amsgrad:
            store(state["max_exp_avg_sq"], max_exp_avg_sq)


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019, "Decoupled Weight Decay Regularization").

    Adam whose weight decay shrinks the weights directly,
    :math:`\theta \leftarrow \theta (1 - \mathrm{lr}\cdot\mathrm{weight\_decay})`, instead of
    adding an L2 term to the gradient (where the moment estimates would rescale it). The same
    computation as PyTorch's ``torch.optim.AdamW``, and as ``Adam(...,
    decoupled_weight_decay=True)``.

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
    weight_decay : float, default=1e-2
        Decoupled weight decay coefficient.
    amsgrad : bool, default=False
        Use the AMSGrad variant.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; does not change
        results.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    differentiable : bool, default=False
        Only False: xpnet's steps are not recorded by autograd.
    fused : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; gives the same
        results as the unfused step (xpnet has one implementation per backend).

    Raises
    ------
    ValueError, TypeError, RuntimeError
        As `Adam`.

    Notes
    -----
    State per parameter: as `Adam`. The parameter groups hold ``decoupled_weight_decay=True``,
    as PyTorch's do, and `load_state_dict` keeps it True whatever the state dict says.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Load a state made by `state_dict` (of an `AdamW` or an `Adam`); the groups keep
        ``decoupled_weight_decay=True``, as PyTorch's ``AdamW`` does. See
        `Optimizer.load_state_dict`."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
