"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and shrink when
it flips; only the sign of the gradient is used."""

from __future__ import annotations

from .optimizer import (
    Optimizer, check_implementation_flags, check_number, new_state_tensor, store,
)

__all__ = ["Rprop", "rprop_update"]


def rprop_update(param, grad, prev, step_size, *, etaminus, etaplus, step_size_min,
                 step_size_max, maximize, xp):
    """One Rprop step on arrays; returns ``(param, prev, step_size)``.

    ``prev`` is the gradient the previous step used (zero where its sign had flipped).
    """
    grad = -grad if maximize else grad
    agreement = grad * prev
    flipped = agreement < 0
    factor = xp.where(agreement > 0, etaplus,
                      xp.where(flipped, etaminus, xp.ones_like(step_size)))
    step_size = xp.clip(step_size * factor, step_size_min, step_size_max)
    # After a sign flip the coordinate overshot a minimum: it stays put this step, and its
    # gradient is forgotten so that the next step neither grows nor shrinks its step size.
    grad = xp.where(flipped, xp.zeros_like(grad), grad)
    return param - xp.sign(grad) * step_size, grad, step_size


class Rprop(Optimizer):
    r"""Rprop (Riedmiller and Braun, 1993, "A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm"), in the variant without weight backtracking ("Rprop-").

    Each coordinate moves by its own step size against the sign of its gradient. The step size
    is multiplied by :math:`\eta_+` when the gradient keeps its sign and by :math:`\eta_-` when
    it flips (and that coordinate then waits one step), clipped to ``step_sizes``. The same
    computation as PyTorch's ``torch.optim.Rprop``; meant for full-batch training, as the
    gradient's sign is noisy on mini-batches.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-2
        The initial step size of every coordinate.
    etas : tuple of float, default=(0.5, 1.2)
        :math:`(\eta_-, \eta_+)`, with :math:`0 < \eta_- < 1 < \eta_+`.
    step_sizes : tuple of float, default=(1e-6, 50)
        Smallest and largest allowed step sizes.
    capturable : bool, default=False
        Accepted for PyTorch compatibility (CUDA-graph capture); does not change results.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility; does not change results.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
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
    State per parameter: ``step`` (int), ``prev`` (the previous step's gradient) and
    ``step_size``.

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Rprop([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("Rprop", "lr", group["lr"], 0)
        for key, names in (("etas", "(etaminus, etaplus)"),
                           ("step_sizes", "(min_step_size, max_step_size)")):
            pair = group[key]
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"Rprop: {key} must be a pair {names}, got {pair!r}")
            check_number("Rprop", f"{key}[0]", pair[0])
            check_number("Rprop", f"{key}[1]", pair[1])
        etaminus, etaplus = group["etas"]
        if not 0 < etaminus < 1 < etaplus:
            raise ValueError(f"Rprop: etas must satisfy 0 < etas[0] < 1 < etas[1], got "
                             f"{tuple(group['etas'])}")
        low, high = group["step_sizes"]
        if not 0 <= low <= high:
            raise ValueError(f"Rprop: step_sizes must satisfy 0 <= step_sizes[0] <= "
                             f"step_sizes[1], got {tuple(group['step_sizes'])}")
        check_implementation_flags("Rprop", group)

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "prev": new_state_tensor(p, xp.zeros_like(p.array)),
                "step_size": new_state_tensor(p, xp.full_like(p.array, group["lr"]))}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        param, prev, step_size = rprop_update(
            p.array, grad, state["prev"].array, state["step_size"].array, etaminus=etaminus,
            etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
            maximize=group["maximize"], xp=p._backend.xp)
        store(p, param)
        store(state["prev"], prev)
        store(state["step_size"], step_size)
