"""Regression losses: mse_loss, l1_loss, huber_loss, smooth_l1_loss."""

from __future__ import annotations

import numbers

from xpnet import ops
from xpnet.ops.loss import Huber
from .checks import _check_reduction, _check_same_shape, _check_tensors, _reduce


# -- regression losses -------------------------------------------------------------------------

def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's name
    """Squared error ``(input - target)^2``, reduced.

    Parameters
    ----------
    input, target : Tensor of the same shape
        Unlike PyTorch, a target of another shape is an error rather than broadcast.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Returns
    -------
    Tensor
        0-d, or of the input's shape for ``reduction='none'``.

    Raises
    ------
    TypeError
        For a non-Tensor or a non-floating-point input.
    ValueError
        For target and input of different shapes, or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.mse_loss(xpnet.tensor([1.0, 2.0]), xpnet.tensor([1.0, 4.0]))
    tensor(2.)
    """
    _check_reduction("mse_loss", reduction)
    _check_tensors("mse_loss", input, target)
    _check_same_shape("mse_loss", input, target)
    return _reduce(ops.square(input - target), reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """Absolute error ``|input - target|``, reduced (its gradient is 0 where they are equal).

    Parameters and errors as `mse_loss`.
    """
    _check_reduction("l1_loss", reduction)
    _check_tensors("l1_loss", input, target)
    _check_same_shape("l1_loss", input, target)
    return _reduce(ops.abs(input - target), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002
    """Huber loss (Huber, 1964): quadratic for small errors, linear for large ones.

    ``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)``, for
    ``d = input - target``; reduced.

    Parameters
    ----------
    input, target : Tensor of the same shape
    reduction : {'mean', 'sum', 'none'}, default='mean'
    delta : float, default=1.0
        Where the loss turns from quadratic to linear; must be positive.

    Raises
    ------
    ValueError
        As `mse_loss`, and for ``delta <= 0``.
    """
    _check_reduction("huber_loss", reduction)
    _check_tensors("huber_loss", input, target)
    _check_same_shape("huber_loss", input, target)
    if not isinstance(delta, numbers.Real) or isinstance(delta, bool) or not delta > 0:
        raise ValueError(f"huber_loss: delta must be a positive number, got {delta!r}")
    return _reduce(Huber.apply(input, target, float(delta)), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):  # noqa: A002
    """Smooth L1 loss (Girshick, 2015): ``0.5 d^2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 beta``, for ``d = input - target``; reduced. It is `huber_loss` divided by
    ``beta``, and `l1_loss` for ``beta = 0``.

    Parameters
    ----------
    input, target : Tensor of the same shape
    reduction : {'mean', 'sum', 'none'}, default='mean'
    beta : float, default=1.0
        Where the loss turns from quadratic to linear; must be non-negative.

    Raises
    ------
    ValueError
        As `mse_loss`, and for ``beta < 0``.
    """
    _check_reduction("smooth_l1_loss", reduction)
    _check_tensors("smooth_l1_loss", input, target)
    _check_same_shape("smooth_l1_loss", input, target)
    if not isinstance(beta, numbers.Real) or isinstance(beta, bool) or not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be a non-negative number, got {beta!r}")
    if beta == 0:
        return _reduce(ops.abs(input - target), reduction)
    return _reduce(Huber.apply(input, target, float(beta)) * (1.0 / beta), reduction)
