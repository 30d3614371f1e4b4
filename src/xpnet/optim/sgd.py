"""Stochastic gradient descent, with momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from xpnet.autograd.sparse import dense_array
from xpnet.backend.kernels import get_kernel, register_generic

from .optimizer import (
    Optimizer, add_to_rows, check_bool, check_implementation_flags, check_number,
    new_state_tensor, store,
)

__all__ = ["SGD", "sgd_update"]


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
               maximize):
    """One SGD step on arrays; returns ``(param, momentum_buffer)``.

    ``momentum_buffer`` is None before the first step (it then starts as the gradient) and stays
    None when ``momentum`` is 0.
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = grad
        else:
            momentum_buffer = momentum * momentum_buffer + (1 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    return param - lr * grad, momentum_buffer


@register_generic("sgd_update")
def _sgd_update_twin(xp, param, grad, momentum_buffer, **hyper):
    """`sgd_update` in the kernels' calling convention: the standard-only twin of the fused
    ``sgd_update`` fast paths (backend/kernels/numba_optim.py), which may write the momentum
    buffer they are given in place: pass one only the optimizer holds."""
    return sgd_update(param, grad, momentum_buffer, **hyper)


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    With momentum :math:`\mu` and dampening :math:`\tau`, each step computes
    :math:`b_t = \mu b_{t-1} + (1 - \tau) g_t` (:math:`b_1 = g_1`) and
    :math:`\theta_t = \theta_{t-1} - \mathrm{lr}\, b_t`, or with Nesterov momentum
    (Sutskever et al., 2013) :math:`\theta_t = \theta_{t-1} - \mathrm{lr}\,(g_t + \mu b_t)`,
    as PyTorch's ``torch.optim.SGD`` does.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`).
    lr : float, default=1e-3
        Learning rate.
    momentum : float, default=0
        Momentum factor; 0 disables momentum (and its state).
    dampening : float, default=0
        Dampening of the gradient's contribution to the momentum.
    weight_decay : float, default=0
        L2 penalty: ``weight_decay * param`` is added to the gradient.
    nesterov : bool, default=False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    foreach : bool or None, default=None
        Accepted for PyTorch compatibility and kept in the parameter groups; it picks one of
        PyTorch's kernels and does not change results (xpnet has one implementation per
        backend).
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
    State per parameter: ``momentum_buffer`` (when ``momentum != 0``).

    Sparse gradients (``sparse=True`` embeddings): without momentum and weight decay only the
    rows in the gradient change, in place, at O(rows looked up) cost. With momentum or weight
    decay every row moves at every step (the buffer keeps moving rows that got no gradient; the
    decay shrinks them all), so the gradient is densified and the step is the dense one, with
    the same results as ``torch.optim.SGD`` (which also accepts sparse gradients there).

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("SGD", "lr", group["lr"], 0)
        check_number("SGD", "momentum", group["momentum"], 0)
        check_number("SGD", "dampening", group["dampening"])
        check_number("SGD", "weight_decay", group["weight_decay"], 0)
        check_bool("SGD", "nesterov", group["nesterov"])
        check_implementation_flags("SGD", group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening == 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _sparse_unsupported(self, group):
        return ""

    def _sparse_update(self, p, grad, state, group):
        if group["momentum"] != 0 or group["weight_decay"] != 0:
            self._update(p, dense_array(grad), state, group)
            return
        lr = -group["lr"] if group["maximize"] else group["lr"]
        add_to_rows(p, grad.index_data, -lr * grad.values_data)

    def _update(self, p, grad, state, group):
        buffer = state.get("momentum_buffer")
        backend = p._backend
        # One fused pass where the backend has one (NumPy, 670k float32 parameters with
        # momentum: 1.0 -> 0.49 ms a step; PyTorch 0.58 ms). The parameter always gets a
        # new array; the fast path writes the buffer in place, which no one else holds: this
        # class makes it (the kernels' results, copies in load_state_dict, never the
        # gradient's array: see below) and state_dict hands out copies.
        param, buffer = get_kernel("sgd_update", backend)(
            backend.xp, p.array, grad, None if buffer is None else buffer.array, lr=group["lr"],
            momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
            maximize=group["maximize"])
        store(p, param)
        if buffer is not None:
            if "momentum_buffer" in state:
                store(state["momentum_buffer"], buffer)
            else:
                if buffer is grad:  # the twin's first buffer is the gradient itself
                    buffer = backend.xp.asarray(grad, copy=True)
                state["momentum_buffer"] = new_state_tensor(p, buffer)
