"""Loss functions with PyTorch's names and semantics (``torch.nn.functional``).

Every loss takes ``reduction``: 'mean' (the default), 'sum' or 'none' (the elementwise losses).
Arguments are checked here, before any work, so a loss module and its function raise the same
errors. The primitives are in `xpnet.ops.loss`.
"""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import creation, ops
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.backend.checks import check
from xpnet.ops.activation import LogSigmoid
from xpnet.ops.distance import pairwise_distance
from xpnet.ops.loss import NLL, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Huber, KLDiv

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "huber_loss", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
           "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "kl_div",
           "margin_ranking_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
           "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss"]

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
    backend = t._backend
    xp = backend.xp
    outside = xp.logical_not(xp.logical_and(t.array >= 0, t.array <= 1))  # nan is outside too
    check(backend, (op, name, "[0, 1]"), outside, lambda: (_first_where(xp, outside, t.array),),
          lambda value: ValueError(f"{op}: {name} values must lie in [0, 1], got {value:g}"))


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
        # cross_entropy also takes a floating-point target (class probabilities) of the input's
        # shape: a float target of neither shape is a shape problem (torch: RuntimeError).
        probabilities = op == "cross_entropy"
        error = ValueError if probabilities and target.shape != expected else TypeError
        raise error(
            f"{op}: target must hold integer class indices of shape {expected} for input of "
            f"shape {input.shape}, got {target.dtype.name} of shape {target.shape}"
            + ("; class probabilities need a floating-point target of the input's shape"
               if probabilities else ""))
    if target.shape != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{input.shape} (class axis {axis} removed), got {target.shape}")
    if target.dtype.name != "int64":
        target = target.astype("int64")
    backend = target._backend
    xp, t = backend.xp, target.array
    bad = xp.logical_and(t != ignore_index, xp.logical_or(t < 0, t >= n_classes))

    def out_of_range(value):
        return IndexError(f"{op}: target {value} is out of range; class indices must lie in "
                          f"[0, {n_classes - 1}] (or equal ignore_index={ignore_index})")

    if check(backend, (op, "target", n_classes, ignore_index), bad,
             lambda: (_first_where(xp, bad, t),), out_of_range):
        # Reported at the next synchronisation; until then the bad targets are ignored.
        target = Tensor._make(xp.where(bad, xp.asarray(ignore_index, dtype=t.dtype,
                                                       device=backend.device), t), backend)
    return target


def _first_where(xp, bad, values):
    """The entry of ``values`` at the first True of ``bad`` (a 0-d array; any entry if none)."""
    flat = xp.reshape(bad, (-1,))
    return xp.reshape(values, (-1,))[xp.argmax(xp.astype(flat, xp.int8))]


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


# -- helpers of the losses below ---------------------------------------------------------------

def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a reduction, with its warning;
    ``reduction`` itself when both are None."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _check_operands(op, floating, other=None):
    """Tensors on one backend; those in ``floating`` (name -> value) floating point and of one
    dtype, those in ``other`` of any dtype."""
    other = other or {}
    for name, value in (*floating.items(), *other.items()):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    dtypes = {}
    for name, value in floating.items():
        if not value.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must be floating point, got {value.dtype.name}")
        dtypes.setdefault(value.dtype, name)
    if len(dtypes) > 1:
        (a, first), (b, second) = list(dtypes.items())[:2]
        raise TypeError(f"{op}: {first} and {second} must have the same dtype, got {a.name} and "
                        f"{b.name}")
    check_same_backend(op, [*floating.values(), *other.values()])


def _check_broadcast(op, **tensors):
    shapes = [t.shape for t in tensors.values()]
    for sizes in zip(*(s[::-1] for s in shapes)):
        if len({n for n in sizes if n != 1}) > 1:
            described = ", ".join(f"{name} {t.shape}" for name, t in tensors.items())
            raise ValueError(f"{op}: the shapes do not broadcast together: {described}")


def _real(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def _flag(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return value


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


# -- embedding and ranking losses --------------------------------------------------------------

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """Pull pairs together (``target = 1``: ``1 - cos``) or push them apart (``target = -1``:
    ``max(0, cos - margin)``), ``cos`` the cosine similarity of ``input1`` and ``input2``
    along their last axis (PyTorch's, with 1e-12 added to each squared norm).

    Parameters
    ----------
    input1, input2 : Tensor of shape (N, D) or (D,)
    target : Tensor of shape (N,) or ()
        1 or -1 (other values give a loss of 0).
    margin : float, default=0
        Typically in [-1, 1].
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or non-floating inputs.
    ValueError
        For a target of more than one axis, inputs whose number of axes does not fit the
        target's (2 for (N,), 1 for ()), shapes that do not broadcast, or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> x = xpnet.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> y = xpnet.tensor([[1.0, 1.0], [0.0, 1.0]])
    >>> F.cosine_embedding_loss(x, y, xpnet.tensor([1, -1]), reduction="none")
    tensor([0.2929, 0.0000])
    """
    op = "cosine_embedding_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_operands(op, {"input1": input1, "input2": input2}, {"target": target})
    margin = _real(op, "margin", margin)
    if target.ndim > 1:
        raise ValueError(f"{op}: target must be 0-d or 1-d (one label per pair), got shape "
                         f"{target.shape}")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise ValueError(f"{op}: a {target.ndim}-d target needs {target.ndim + 1}-d inputs, got "
                         f"inputs of shapes {input1.shape} and {input2.shape}")
    _check_broadcast(op, input1=input1, input2=input2)
    epsilon = 1e-12
    dot = ops.sum(input1 * input2, dim=-1)
    squares1 = ops.sum(input1 * input1, dim=-1) + epsilon
    squares2 = ops.sum(input2 * input2, dim=-1) + epsilon
    cos = dot / ops.sqrt(squares1 * squares2)
    _check_broadcast(op, target=target, similarity=cos)
    loss = (ops.where(ops.eq(target, 1), 1 - cos, 0.0)
            + ops.where(ops.eq(target, -1), ops.clamp_min(cos - margin, 0.0), 0.0))
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Ranking hinge ``max(0, -target * (input1 - input2) + margin)``: ``target = 1`` asks
    for ``input1`` to rank higher by ``margin``, ``-1`` for ``input2``.

    Parameters
    ----------
    input1, input2, target : Tensor with the same number of axes, broadcasting together
        ``target`` holds 1 or -1.
    margin : float, default=0
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or non-floating inputs.
    ValueError
        For tensors with different numbers of axes, shapes that do not broadcast, or an unknown
        reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.margin_ranking_loss(xpnet.tensor([2.0, 0.0]), xpnet.tensor([1.0, 1.0]),
    ...                       xpnet.tensor([1.0, 1.0]), margin=0.5, reduction="none")
    tensor([0.0000, 1.5000])
    """
    op = "margin_ranking_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_operands(op, {"input1": input1, "input2": input2}, {"target": target})
    margin = _real(op, "margin", margin)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{op}: input1, input2 and target must have the same number of axes, "
                         f"got shapes {input1.shape}, {input2.shape} and {target.shape}")
    _check_broadcast(op, input1=input1, input2=input2, target=target)
    target = _as_float_target(target, input1)
    return _reduce(ops.clamp_min(-target * (input1 - input2) + margin, 0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """Hinge loss of distances: ``input`` where ``target = 1``, ``max(0, margin - input)`` where
    ``target = -1`` (PyTorch's: other target values add both terms).

    Parameters
    ----------
    input : Tensor
        Typically distances.
    target : Tensor, broadcasting with ``input``
        1 or -1.
    margin : float, default=1.0
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or a non-floating input.
    ValueError
        For shapes that do not broadcast or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.hinge_embedding_loss(xpnet.tensor([0.3, 0.3]), xpnet.tensor([1, -1]),
    ...                        reduction="none")
    tensor([0.3000, 0.7000])
    """
    op = "hinge_embedding_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_tensors(op, input, target)
    margin = _real(op, "margin", margin)
    _check_broadcast(op, input=input, target=target)
    loss = (ops.where(ops.ne(target, 1), ops.clamp_min(margin - input, 0.0), 0.0)
            + ops.where(ops.ne(target, -1), input, 0.0))
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                     reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets 1 or -1.

    Computed as ``-logsigmoid(target * input)``: finite, with finite gradients, where PyTorch's
    ``log1p(exp(...))`` overflows (margins below about -710 in float64, -88 in float32).

    Parameters
    ----------
    input : Tensor
    target : Tensor, broadcasting with ``input``
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or a non-floating input.
    ValueError
        For shapes that do not broadcast or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.soft_margin_loss(xpnet.tensor([0.0]), xpnet.tensor([1.0]))
    tensor(0.6931)
    """
    op = "soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_tensors(op, input, target)
    _check_broadcast(op, input=input, target=target)
    return _reduce(-LogSigmoid.apply(_as_float_target(target, input) * input), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Triplet loss (Schroff et al., 2015; Balntas et al., 2016 for ``swap``):
    ``max(0, margin + d(anchor, positive) - d(anchor, negative))``, ``d`` the `pairwise_distance`
    (p-norm of the difference plus ``eps``).

    Parameters
    ----------
    anchor, positive, negative : Tensor of shape (N, D) or (D,)
        The same number of axes; the shapes broadcast together.
    margin : float, default=1.0
        Must be positive.
    p : float, default=2
        The norm's order.
    eps : float, default=1e-6
    swap : bool, default=False
        Use ``min(d(anchor, negative), d(positive, negative))`` as the negative distance.
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    TypeError
        For non-tensors or non-floating inputs.
    ValueError
        For a margin <= 0, inputs with different numbers of axes, shapes that do not
        broadcast, or an unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> a = xpnet.tensor([[0.0, 0.0]])
    >>> F.triplet_margin_loss(a, xpnet.tensor([[0.0, 1.0]]), xpnet.tensor([[0.0, 3.0]]), eps=0.0)
    tensor(0.)
    """
    op = "triplet_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_operands(op, {"anchor": anchor, "positive": positive, "negative": negative})
    margin = _real(op, "margin", margin)
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _flag(op, "swap", swap)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{op}: anchor, positive and negative must have the same number of "
                         f"axes, got shapes {anchor.shape}, {positive.shape} and "
                         f"{negative.shape}")
    _check_broadcast(op, anchor=anchor, positive=positive, negative=negative)
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = ops.minimum(distance_negative,
                                        pairwise_distance(positive, negative, p, eps))
    return _reduce(ops.clamp_min(margin + distance_positive - distance_negative, 0.0), reduction)


# -- multi-class and multi-label margins -------------------------------------------------------

def multilabel_soft_margin_loss(input, target, weight=None, size_average=None,  # noqa: A002
                                reduce=None, reduction="mean"):
    """One-versus-all logistic loss of C labels, averaged over the labels:
    ``-mean_c w_c (t_c logsigmoid(x_c) + (1 - t_c) logsigmoid(-x_c))`` per sample.

    Parameters
    ----------
    input : Tensor of shape (N, C) or (C,)
        Logits, labels on the last axis.
    target : Tensor broadcasting to the input's shape
        0/1 labels (or probabilities).
    weight : Tensor broadcasting to the input's shape, optional
        Typically of shape (C,): the weight of each label.
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'none' gives one loss per sample: shape (N,) (or () for 1-d input).

    Raises
    ------
    TypeError
        For non-tensors or a non-floating input.
    ValueError
        For a 0-d input, a target or weight that does not broadcast to the input's shape, or an
        unknown reduction.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.multilabel_soft_margin_loss(xpnet.zeros((2, 3)), xpnet.tensor([[1, 0, 1], [0, 0, 1]]))
    tensor(0.6931)
    """
    op = "multilabel_soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_tensors(op, input, target, weight=weight)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a label axis, shape (N, C) or (C,), got a 0-d "
                         f"tensor")
    _check_broadcasts_to(op, "target", target, input.shape)
    _check_broadcasts_to(op, "weight", weight, input.shape)
    target = _as_float_target(target, input)
    if target.shape != input.shape:
        target = ops.broadcast_to(target, input.shape)
    # -(t logsigmoid(x) + (1 - t) logsigmoid(-x)) is the binary cross-entropy of the logits.
    loss = BinaryCrossEntropyWithLogits.apply(input, target, None)
    if weight is not None:
        loss = loss * weight
    loss = ops.sum(loss, dim=-1) / input.shape[-1]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,  # noqa: A002
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss (Weston & Watkins, 1999, in PyTorch's form): per sample of class
    ``y``, ``sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C``.

    Parameters
    ----------
    input : Tensor of shape (N, C) or (C,)
        Scores.
    target : integer Tensor of shape (N,) (or () or (1,) for 1-d input)
        Class indices in [0, C).
    p : {1, 2}, default=1
    margin : float, default=1.0
    weight : Tensor of shape (C,), optional
        Weight of each class, applied by the sample's class.
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'none' gives the target's shape.

    Raises
    ------
    TypeError
        For non-tensors, a non-floating input or a non-integer target.
    ValueError
        For ``p`` other than 1 or 2, an input that is not 1-d or 2-d with classes, a target or
        weight of the wrong size, or an unknown reduction.
    IndexError
        For a class index outside [0, C).

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.multi_margin_loss(xpnet.tensor([[0.1, 0.2, 0.4, 0.8]]), xpnet.tensor([3]))
    tensor(0.3250)
    """
    op = "multi_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    _check_tensors(op, input, target, weight=weight)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got {p!r}")
    margin = _real(op, "margin", margin)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{op}: input must be of shape (N, C) or (C,) with C > 0, got "
                         f"{input.shape}")
    n_classes = input.shape[-1]
    rows = input.shape[0] if input.ndim == 2 else 1
    if not target.dtype.is_integer:
        raise TypeError(f"{op}: target must hold integer class indices, got {target.dtype.name}")
    if target.ndim > 1 or target.numel() != rows:
        raise ValueError(f"{op}: expected a target of {rows} class indices for input of shape "
                         f"{input.shape}, got shape {target.shape}")
    if weight is not None and (weight.ndim > 1 or weight.numel() != n_classes):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({n_classes},), "
                         f"got {weight.shape}")
    backend = target._backend
    xp, t = backend.xp, target.array
    bad = xp.logical_or(t < 0, t >= n_classes)
    if check(backend, (op, "target", n_classes), bad, lambda: (_first_where(xp, bad, t),),
             lambda value: IndexError(f"{op}: target {value} is out of range; class indices "
                                      f"must lie in [0, {n_classes - 1}]")):
        # Reported at the next synchronisation; until then nothing is read out of range.
        target = Tensor._make(xp.clip(t, 0, n_classes - 1), backend)
    scores = ops.reshape(input, (rows, n_classes))
    labels = ops.reshape(target.astype("int64"), (rows, 1))
    true_score = ops.take_along_dim(scores, labels, dim=1)
    # relu, not clamp_min: PyTorch's gradient is 0 where margin - x_y + x_i is exactly 0.
    hinge = ops.relu(margin - true_score + scores)
    if p == 2:
        hinge = hinge * hinge
    classes = creation.arange(n_classes, backend=target._backend, dtype="int64")
    hinge = ops.where(ops.ne(ops.reshape(classes, (1, n_classes)), labels), hinge, 0.0)
    if weight is not None:
        class_weight = ops.reshape(weight.astype(input.dtype), (n_classes,))
        hinge = hinge * ops.take(class_weight, labels)  # (rows, 1): each sample's class weight
    loss = ops.reshape(ops.sum(hinge, dim=1) / n_classes, target.shape)
    return _reduce(loss, reduction)
