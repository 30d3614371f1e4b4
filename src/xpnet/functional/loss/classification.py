"""Classification losses: nll_loss, cross_entropy, binary_cross_entropy (with logits)."""

from __future__ import annotations

import math
import numbers

from xpnet import ops
from xpnet.ops.loss import NLL, BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from .checks import (_as_float_target, _check_broadcasts_to, _check_reduction, _check_same_shape,
                     _check_tensors, _check_unit_interval, _class_axis,
                     _class_index_target, _class_weight, _divide_or_nan,
                     _reduce)


# -- classification losses ---------------------------------------------------------------------

def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of class-index targets: ``-weight[t] * input[t]`` per target.

    ``input`` holds log-probabilities (e.g. from `log_softmax`) with the classes on axis 1.

    Parameters
    ----------
    input : Tensor of shape (C,), (N, C) or (N, C, d1, ...)
    target : integer Tensor of shape (), (N,) or (N, d1, ...)
        Class indices in [0, C), or ``ignore_index``.
    weight : Tensor of shape (C,), optional
        Weight of each class (default all 1).
    ignore_index : int, default=-100
        Targets equal to it contribute nothing to the loss or to the mean's denominator.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'mean' divides by the summed weight of the targets not ignored (nan if there are none),
        exactly as PyTorch; 'none' gives the target's shape.

    Raises
    ------
    TypeError
        For a non-integer target or non-Tensor arguments.
    ValueError
        For a target or weight of the wrong shape, or an unknown reduction.
    IndexError
        For a target outside [0, C) that is not ``ignore_index``.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> logp = F.log_softmax(xpnet.tensor([[0.0, 0.0], [0.0, 0.0]]), axis=1)
    >>> F.nll_loss(logp, xpnet.tensor([0, 1]))
    tensor(0.6931)
    """
    _check_reduction("nll_loss", reduction)
    _check_tensors("nll_loss", input, target, weight=weight)
    target = _class_index_target("nll_loss", input, target, ignore_index)
    weight = _class_weight("nll_loss", weight, input, input.shape[_class_axis("nll_loss", input)])
    return NLL.apply(input, target, weight, int(ignore_index), reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """Cross-entropy between the softmax of logits and class-index or class-probability targets.

    With class indices this is ``nll_loss(log_softmax(input, axis=1), target, ...)``; with label
    smoothing ``eps`` it is ``(1 - eps) * nll + eps / C * smooth``, where ``smooth`` is the
    (weighted) sum of ``-log_softmax`` over the classes (Szegedy et al., 2016, "Rethinking the
    Inception architecture"), reduced like the nll part, as in PyTorch. With probabilities (a
    floating-point target of the input's shape), the loss per sample is
    ``-sum_c weight[c] * p_c * log_softmax(input)_c``, ``p`` smoothed to ``(1 - eps) p + eps / C``,
    and 'mean' divides by the number of samples.

    Parameters
    ----------
    input : Tensor of shape (C,), (N, C) or (N, C, d1, ...)
        Unnormalized logits, classes on axis 1 (axis 0 for 1-D input).
    target : Tensor
        Integer class indices of shape (), (N,) or (N, d1, ...), or floating-point class
        probabilities of the input's shape.
    weight : Tensor of shape (C,), optional
    ignore_index : int, default=-100
        Only for class-index targets.
    reduction : {'mean', 'sum', 'none'}, default='mean'
    label_smoothing : float in [0, 1], default=0.0

    Raises
    ------
    TypeError
        For a floating-point target whose shape is not the input's, an integer target of the
        input's shape, or non-Tensor arguments.
    ValueError
        For a target or weight of the wrong shape, an unknown reduction, or a label_smoothing
        outside [0, 1].
    IndexError
        For a class index outside [0, C) that is not ``ignore_index``.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.cross_entropy(xpnet.tensor([[0.0, 0.0]]), xpnet.tensor([1]))
    tensor(0.6931)
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    _check_tensors(op, input, target, weight=weight)
    if not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, bool) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be a number in [0, 1], got "
                         f"{label_smoothing!r}")
    axis = _class_axis(op, input)
    n_classes = input.shape[axis]
    if target.shape == input.shape:
        if not target.dtype.is_floating_point:
            raise TypeError(f"{op}: a target of the input's shape {input.shape} holds class "
                            f"probabilities and must be floating point, got {target.dtype.name}")
        weight = _class_weight(op, weight, input, n_classes)
        return _cross_entropy_probabilities(input, target, weight, reduction,
                                            float(label_smoothing), axis)
    target = _class_index_target(op, input, target, ignore_index)
    weight = _class_weight(op, weight, input, n_classes)
    log_p = ops.log_softmax(input, axis=axis)
    nll = NLL.apply(log_p, target, weight, int(ignore_index), reduction)
    if label_smoothing == 0:
        return nll
    # The smoothing term of PyTorch's cross_entropy_loss_label_smoothing, reduced the same way.
    class_shape = (n_classes,) + (1,) * (input.ndim - axis - 1)
    weighted = log_p if weight is None else log_p * ops.reshape(weight, class_shape)
    kept = ops.ne(target, int(ignore_index))
    smooth = ops.where(kept, -ops.sum(weighted, axis=axis), 0.0)
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = ops.sum(smooth)
    else:
        if weight is None:
            denominator = ops.sum(kept.astype(input.dtype))
        else:
            safe = ops.reshape(ops.where(kept, target, 0), (-1,))
            denominator = ops.sum(ops.where(ops.reshape(kept, (-1,)),
                                            ops.take(weight, safe), 0.0))
        ret = _divide_or_nan(ops.sum(smooth), denominator)
    return (1 - label_smoothing) * nll + (label_smoothing / n_classes) * ret


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, axis):
    n_classes = input.shape[axis]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    product = ops.log_softmax(input, axis=axis) * target
    if weight is not None:
        product = product * ops.reshape(weight, (n_classes,) + (1,) * (input.ndim - axis - 1))
    if reduction == "none":
        return -ops.sum(product, axis=axis)
    total = -ops.sum(product)
    if reduction == "sum":
        return total
    samples = input.numel() // n_classes if n_classes else 0
    return total / samples if samples else total * math.nan


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """Binary cross-entropy of probabilities: ``-w (t log x + (1 - t) log(1 - x))``, reduced.

    Each log is clamped at -100, as in PyTorch, so x = 0 or 1 gives a finite loss. For
    logits, `binary_cross_entropy_with_logits` is exact where this saturates.

    Parameters
    ----------
    input : Tensor
        Probabilities in [0, 1].
    target : Tensor of the input's shape
        Values in [0, 1]; integer or bool labels are taken in the input's dtype.
    weight : Tensor, optional
        Rescales each element; broadcasts to the input's shape.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    ValueError
        For a target of another shape, a weight that does not broadcast to the input's shape,
        input or target values outside [0, 1], or an unknown reduction.
    """
    op = "binary_cross_entropy"
    _check_reduction(op, reduction)
    _check_tensors(op, input, target, weight=weight)
    _check_same_shape(op, input, target)
    _check_broadcasts_to(op, "weight", weight, input.shape)
    target = _as_float_target(target, input)
    _check_unit_interval(op, "input", input)
    _check_unit_interval(op, "target", target)
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",  # noqa: A002
                                     pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without overflow.

    ``loss = -w (p t log(sigmoid(x)) + (1 - t) log(1 - sigmoid(x)))`` with ``p = pos_weight``,
    evaluated as ``(1 - t) x - (1 + (p - 1) t) log(sigmoid(x))``; exact and with finite
    gradients for logits of any size (+-1e4 included).

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor of the input's shape
        Values in [0, 1] (not checked, as in PyTorch); integer or bool labels are taken in the
        input's dtype.
    weight : Tensor, optional
        Rescales each element; broadcasts to the input's shape.
    reduction : {'mean', 'sum', 'none'}, default='mean'
    pos_weight : Tensor, optional
        Weight of the positive term, typically of shape (C,) for C labels on the last axis;
        broadcasts to the input's shape.

    Raises
    ------
    ValueError
        For a target of another shape, a weight or pos_weight that does not broadcast to the
        input's shape, or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.binary_cross_entropy_with_logits(xpnet.tensor([1e4, -1e4]), xpnet.tensor([0.0, 0.0]))
    tensor(5000.)
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    _check_tensors(op, input, target, weight=weight, pos_weight=pos_weight)
    _check_same_shape(op, input, target)
    _check_broadcasts_to(op, "weight", weight, input.shape)
    _check_broadcasts_to(op, "pos_weight", pos_weight, input.shape)
    target = _as_float_target(target, input)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    return _reduce(loss if weight is None else loss * weight, reduction)
