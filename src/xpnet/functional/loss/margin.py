"""Embedding, ranking and margin losses: cosine_embedding_loss, margin_ranking_loss,
hinge_embedding_loss, soft_margin_loss, triplet_margin_loss, multilabel_soft_margin_loss,
multi_margin_loss."""

from __future__ import annotations

from xpnet import creation, ops
from xpnet.autograd.tensor import Tensor
from xpnet.backend.checks import check
from xpnet.ops.activation import LogSigmoid
from xpnet.ops.distance import pairwise_distance
from xpnet.ops.loss import BinaryCrossEntropyWithLogits
from .checks import (_as_float_target, _check_broadcast, _check_broadcasts_to, _check_operands,
                     _check_reduction, _check_tensors, _first_where, _flag,
                     _legacy_reduction, _real, _reduce)


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
