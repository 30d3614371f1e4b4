"""Loss functions with PyTorch's names and semantics (``torch.nn.functional``).

Every loss takes ``reduction``: 'mean' (the default), 'sum' or 'none' (the elementwise losses).
Arguments are checked here, before any work, so a loss module and its function raise the same
errors. The primitives are in `xpnet.ops.loss`.
"""

from __future__ import annotations

import math
import numbers

from xpnet import ops
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.ops.loss import NLL, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Huber

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "huber_loss", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss"]

_REDUCTIONS = ("mean", "sum", "none")


# -- argument checks ---------------------------------------------------------------------------

def _check_reduction(op, reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; expected 'mean', 'sum' or "
                         f"'none'")


def _check_tensors(op, input, target, **optional):
    """Tensors on one backend and a floating-point input; ``optional`` ones may be None."""
    for name, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    for name, value in optional.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {input.dtype.name}")
    check_same_backend(op, [input, target, *(t for t in optional.values() if t is not None)])


def _check_same_shape(op, input, target):
    # PyTorch broadcasts (with a warning) for mse/l1/huber; a silent (N, 1) - (N,) -> (N, N) is
    # a classic bug, so a mismatch is an error here.
    if target.shape != input.shape:
        raise ValueError(f"{op}: target of shape {target.shape} must have the input's shape "
                         f"{input.shape}; reshape or expand it first")


def _check_broadcasts_to(op, name, t, shape):
    """``t`` (or None) broadcasts to ``shape`` without making it larger."""
    if t is None:
        return
    if t.ndim > len(shape) or any(a not in (1, b) for a, b in zip(t.shape[::-1], shape[::-1])):
        raise ValueError(f"{op}: {name} of shape {t.shape} must broadcast to the input's shape "
                         f"{shape}")


def _as_float_target(target, input):
    """Integer or bool targets (0/1 labels) in the input's dtype; float ones as they are."""
    return target if target.dtype.is_floating_point else target.astype(input.dtype)


def _check_unit_interval(op, name, t):
    xp = t._backend.xp
    outside = xp.reshape(xp.logical_not(xp.logical_and(t.array >= 0, t.array <= 1)), (-1,))
    if bool(xp.any(outside)):  # nan is outside too, as in PyTorch
        value = float(xp.reshape(t.array, (-1,))[int(xp.argmax(xp.astype(outside, xp.int8)))])
        raise ValueError(f"{op}: {name} values must lie in [0, 1], got {value:g}")


def _class_axis(op, input):
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis: shape (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _class_weight(op, weight, input, n_classes):
    """None, or a weight of shape (C,) in the input's dtype."""
    if weight is None:
        return None
    if weight.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({n_classes},), got "
                         f"{weight.shape}")
    return weight if weight.dtype is input.dtype else weight.astype(input.dtype)


def _class_index_target(op, input, target, ignore_index):
    """An int64 target of the input's shape without the class axis, every value a class index
    or ``ignore_index`` (IndexError otherwise)."""
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise TypeError(f"{op}: ignore_index must be an int, got {type(ignore_index).__name__}")
    axis = _class_axis(op, input)
    n_classes = input.shape[axis]
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if not target.dtype.is_integer:
        raise TypeError(
            f"{op}: target must hold integer class indices of shape {expected} for input of "
            f"shape {input.shape}, got {target.dtype.name} of shape {target.shape}"
            + ("; class probabilities need a floating-point target of the input's shape"
               if op == "cross_entropy" else ""))
    if target.shape != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{input.shape} (class axis {axis} removed), got {target.shape}")
    if target.dtype.name != "int64":
        target = target.astype("int64")
    xp, t = target._backend.xp, target.array
    bad = xp.logical_and(t != ignore_index, xp.logical_or(t < 0, t >= n_classes))
    if bool(xp.any(bad)):
        flat = xp.reshape(bad, (-1,))
        value = int(xp.reshape(t, (-1,))[int(xp.argmax(xp.astype(flat, xp.int8)))])
        raise IndexError(f"{op}: target {value} is out of range; class indices must lie in "
                         f"[0, {n_classes - 1}] (or equal ignore_index={ignore_index})")
    return target


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return ops.sum(loss) if reduction == "sum" else ops.mean(loss)


def _divide_or_nan(total, denominator):
    """``total / denominator`` for 0-d tensors; nan where the denominator is 0 (PyTorch's empty
    mean), without 0/0's warning or a nan gradient."""
    empty = ops.eq(denominator, 0)
    return ops.where(empty, math.nan, total / ops.where(empty, 1.0, denominator))


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
