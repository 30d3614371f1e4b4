"""Penalties to add to a loss. (L2 weight decay is the optimizers' ``weight_decay``.)"""

from __future__ import annotations

import numbers

from xpnet.autograd.tensor import Tensor

__all__ = ["l1_penalty"]


def l1_penalty(parameters, weight):
    r"""The L1 penalty :math:`\lambda \sum_i \lVert p_i \rVert_1` of some tensors, to add to a loss.

    The result is differentiable: its gradient, ``weight * sign(p)`` (0 where ``p`` is 0), pushes
    entries towards zero and drives many to exactly zero with plain SGD (the lasso, Tibshirani,
    1996). For the L2 penalty pass ``weight_decay`` to the optimizer instead: there it costs no
    extra graph. (With `xpnet.optim.Adam`, ``weight_decay`` is L2 added to the gradient;
    `xpnet.optim.AdamW` decays the weights directly.)

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        The tensors to penalize, e.g. a model's weights (usually not its biases).
    weight : float
        The coefficient :math:`\lambda` (>= 0).

    Returns
    -------
    Tensor of shape ()
        ``weight * sum(abs(p).sum() for p in parameters)``, on the parameters' backend.

    Raises
    ------
    TypeError
        If ``weight`` is not a real number or a parameter is not a Tensor.
    ValueError
        If ``weight`` is negative or ``parameters`` is empty.

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    >>> loss = (w * w).sum() + l1_penalty([w], weight=0.1)
    >>> loss.backward()
    >>> w.grad
    tensor([ 2.1000, -4.1000])
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise TypeError(f"l1_penalty: weight must be a real number, got {type(weight).__name__}")
    if not weight >= 0:
        raise ValueError(f"l1_penalty: weight must be >= 0, got {weight}")
    if not params:
        raise ValueError("l1_penalty: got no parameters to penalize")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"l1_penalty: parameters must be Tensors, got {type(p).__name__} at "
                            f"position {i}")
    total = params[0].abs().sum()
    for p in params[1:]:
        total = total + p.abs().sum()
    return total * weight
