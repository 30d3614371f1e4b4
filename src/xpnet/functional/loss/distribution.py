"""Losses of distributions and likelihoods: kl_div, poisson_nll_loss, gaussian_nll_loss."""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import creation, ops
from xpnet.backend.checks import check
from xpnet.ops.loss import KLDiv
from .checks import (_as_float_target, _check_broadcast, _check_reduction, _check_tensors, _flag,
                     _legacy_reduction, _real, _reduce)


# -- distribution losses -----------------------------------------------------------------------

_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release.")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
           log_target=False):
    """Kullback-Leibler divergence ``KL(target || exp(input))`` per element:
    ``target * (log(target) - input)`` (0 where target is 0), reduced.

    Parameters
    ----------
    input : Tensor
        Log-probabilities, e.g. from `log_softmax`.
    target : Tensor, broadcasting with ``input``
        Probabilities, or log-probabilities with ``log_target=True`` (then the loss is
        ``exp(target) * (target - input)``, exact where the probabilities underflow).
    size_average, reduce : bool, optional
        PyTorch's deprecated spelling of ``reduction`` (they warn).
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default='mean'
        'batchmean' divides the sum by ``input.shape[0]``, which gives the KL divergence of each
        row on average; 'mean' divides by the number of elements and warns, as PyTorch's.
    log_target : bool, default=False

    Returns
    -------
    Tensor
        0-d, or of the broadcast shape for 'none'.

    Raises
    ------
    TypeError
        For non-tensors or a non-floating input.
    ValueError
        For an unknown reduction or shapes that do not broadcast.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> p = xpnet.tensor([[0.5, 0.5]])
    >>> F.kl_div(xpnet.log(xpnet.tensor([[0.25, 0.75]])), p, reduction="batchmean")
    tensor(0.1438)
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction != "batchmean":
        _check_reduction(op, reduction)
    _check_tensors(op, input, target)
    _flag(op, "log_target", log_target)
    _check_broadcast(op, input=input, target=target)
    loss = KLDiv.apply(input, _as_float_target(target, input), log_target)
    if reduction == "batchmean":
        total = ops.sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None,  # noqa: A002
                     eps=1e-8, reduce=None, reduction="mean"):
    """Negative log-likelihood of ``target`` under a Poisson distribution of rate ``input``
    (or ``exp(input)``), up to a constant.

    ``exp(input) - target * input`` for ``log_input``, else ``input - target * log(input +
    eps)``; ``full`` adds Stirling's approximation of ``log(target!)``,
    ``target log(target) - target + log(2 pi target) / 2``, where target > 1 (as PyTorch).

    Parameters
    ----------
    input : Tensor
        Log-rates (``log_input=True``) or rates.
    target : Tensor, broadcasting with ``input``
        Counts.
    log_input : bool, default=True
    full : bool, default=False
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    eps : float, default=1e-8
        Keeps ``log`` finite at a zero rate when ``log_input=False``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors, a non-floating input, or non-bool flags.
    ValueError
        For an unknown reduction or shapes that do not broadcast.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.poisson_nll_loss(xpnet.tensor([0.0]), xpnet.tensor([2.0]))
    tensor(1.)
    """
    op = "poisson_nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_tensors(op, input, target)
    _flag(op, "log_input", log_input)
    _flag(op, "full", full)
    eps = _real(op, "eps", eps)
    _check_broadcast(op, input=input, target=target)
    target = _as_float_target(target, input)
    if log_input:
        loss = ops.exp(input) - target * input
    else:
        loss = input - target * ops.log(input + eps)
    if full:
        counted = ops.gt(target, 1)
        # A placeholder 2 where target <= 1 keeps log() finite; where() drops the term there.
        t = ops.where(counted, target, 2.0)
        stirling = t * ops.log(t) - t + 0.5 * ops.log(2 * math.pi * t)
        loss = loss + ops.where(counted, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of ``target`` under normal distributions of mean ``input`` and
    variance ``var``: ``(log(max(var, eps)) + (input - target)^2 / max(var, eps)) / 2``.

    ``var`` is clamped at ``eps`` outside the graph, as PyTorch's: its gradient is that of the
    clamped formula, also below ``eps``.

    Parameters
    ----------
    input : Tensor
        Means.
    target : Tensor, broadcasting with ``input``
        Samples.
    var : Tensor or float
        Non-negative variances: of the input's shape (one per mean), of the input's shape
        without its last axis or with one axis of size 1 (shared along that axis), or one
        number for all.
    full : bool, default=False
        Add the constant ``log(2 pi) / 2``.
    eps : float, default=1e-6
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or a non-floating input.
    ValueError
        For a negative variance, a ``var`` of another shape than those above, shapes that do
        not broadcast, or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.gaussian_nll_loss(xpnet.tensor([0.0]), xpnet.tensor([2.0]), 1.0)
    tensor(2.)
    """
    op = "gaussian_nll_loss"
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        _check_tensors(op, input, target)
        var = creation.full_like(input, float(var))
    else:
        _check_tensors(op, input, target, var=var)
        if var is None:
            raise TypeError(f"{op}: var must be a Tensor or a number, got None")
        if not var.dtype.is_floating_point:
            var = var.astype(input.dtype)
        check(var._backend, (op, "var"), var.array < 0, tuple,
              lambda: ValueError(f"{op}: var has negative entries"))
    if var.shape != input.shape:
        mismatched = [v for n, v in zip(input.shape, var.shape) if n != v]
        if var.shape == input.shape[:-1]:
            var = ops.unsqueeze(var, -1)  # one variance shared along the last axis
        elif not (var.ndim == input.ndim and mismatched == [1]):
            raise ValueError(f"{op}: var of shape {var.shape} does not fit input of shape "
                             f"{input.shape}: expected the input's shape, that shape without "
                             f"its last axis, or one axis of size 1")
    _check_reduction(op, reduction)
    _flag(op, "full", full)
    eps = _real(op, "eps", eps)
    _check_broadcast(op, input=input, target=target)
    target = _as_float_target(target, input)
    # PyTorch clamps a clone of var under no_grad: the value is clamped, the gradient is not.
    var = var + ops.clip(var, eps, None).detach() - var.detach()
    loss = 0.5 * (ops.log(var) + ops.square(input - target) / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
