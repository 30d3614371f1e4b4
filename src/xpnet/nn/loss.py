"""Loss modules: PyTorch's ``torch.nn`` losses, each a one-line forward over
`xpnet.functional.loss` (which checks the arguments, so a module and its function raise the
same errors).

Class weights are buffers: they are in `state_dict` and follow `Module.to`.
"""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor
from xpnet.functional import loss as F
from xpnet.functional.loss.checks import _legacy_reduction

from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
           "NLLLoss", "SmoothL1Loss", "CosineEmbeddingLoss", "GaussianNLLLoss",
           "HingeEmbeddingLoss", "KLDivLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss",
           "MultiMarginLoss", "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss"]


class _Loss(Module):
    """Base of the losses: stores ``reduction`` ('mean', 'sum' or 'none')."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` buffer."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        _check_optional_tensor(type(self).__name__, "weight", weight)
        self.register_buffer("weight", weight)


def _check_optional_tensor(owner, name, value):
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{owner}: {name} must be a Tensor or None, got {type(value).__name__}")


class MSELoss(_Loss):
    """Mean squared error: ``(input - target)^2``, reduced; see `xpnet.functional.mse_loss`.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ``|input - target|``, reduced; see `xpnet.functional.l1_loss`.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss, quadratic below ``delta`` and linear above; see `xpnet.functional.huber_loss`.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default='mean'
    delta : float, default=1.0
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, quadratic below ``beta`` and linear above; see
    `xpnet.functional.smooth_l1_loss`.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default='mean'
    beta : float, default=1.0
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices; see `xpnet.functional.nll_loss`.

    Parameters
    ----------
    weight : Tensor of shape (C,), optional
        Class weights (a buffer).
    ignore_index : int, default=-100
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Attributes
    ----------
    weight : Tensor of shape (C,) or None
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or class probabilities;
    see `xpnet.functional.cross_entropy`.

    Parameters
    ----------
    weight : Tensor of shape (C,), optional
        Class weights (a buffer).
    ignore_index : int, default=-100
    reduction : {'mean', 'sum', 'none'}, default='mean'
    label_smoothing : float in [0, 1], default=0.0

    Attributes
    ----------
    weight : Tensor of shape (C,) or None

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.nn.loss import CrossEntropyLoss
    >>> CrossEntropyLoss(label_smoothing=0.1)(xpnet.zeros((2, 3)), xpnet.tensor([0, 2]))
    tensor(1.0986)
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; see `xpnet.functional.binary_cross_entropy`.

    Parameters
    ----------
    weight : Tensor, optional
        Broadcasts to the input's shape (a buffer).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, stable for any logit; see
    `xpnet.functional.binary_cross_entropy_with_logits`.

    Parameters
    ----------
    weight : Tensor, optional
        Broadcasts to the input's shape (a buffer).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    pos_weight : Tensor, optional
        Weight of the positive term, e.g. of shape (C,) for C labels (a buffer).

    Attributes
    ----------
    weight, pos_weight : Tensor or None
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        _check_optional_tensor("BCEWithLogitsLoss", "pos_weight", pos_weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


# -- the other losses of torch.nn: PyTorch's signatures (the deprecated size_average and reduce
# included) and reprs (no arguments shown) ------------------------------------------------------

class _TorchLoss(_Loss):
    """A loss taking PyTorch's deprecated ``size_average``/``reduce`` beside ``reduction``."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(_legacy_reduction(size_average, reduce, reduction))

    def extra_repr(self):
        return ""


class KLDivLoss(_TorchLoss):
    """Kullback-Leibler divergence of log-probability inputs from (log-)probability targets;
    see `xpnet.functional.kl_div`.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated (they warn); use ``reduction``.
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default='mean'
        'batchmean' is the KL divergence per sample; 'mean' averages over every element and
        warns, as PyTorch's.
    log_target : bool, default=False
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_TorchLoss):
    """Poisson negative log-likelihood; see `xpnet.functional.poisson_nll_loss`.

    Parameters
    ----------
    log_input : bool, default=True
    full : bool, default=False
        Add Stirling's term.
    size_average, reduce : bool, optional
        Deprecated (they warn).
    eps : float, default=1e-8
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of targets given means and variances; see
    `xpnet.functional.gaussian_nll_loss`. Called as ``loss(input, target, var)``.

    Parameters
    ----------
    full : bool, default=False
        Add the constant ``log(2 pi) / 2``.
    eps : float, default=1e-6
        The variance is clamped at it.
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):  # noqa: A002
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)

    def extra_repr(self):
        return ""


class CosineEmbeddingLoss(_TorchLoss):
    """``1 - cos`` for similar pairs (target 1), ``max(0, cos - margin)`` for dissimilar ones
    (target -1); see `xpnet.functional.cosine_embedding_loss`.

    Parameters
    ----------
    margin : float, default=0.0
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_TorchLoss):
    """``max(0, -target * (input1 - input2) + margin)``; see
    `xpnet.functional.margin_ranking_loss`.

    Parameters
    ----------
    margin : float, default=0.0
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_TorchLoss):
    """``input`` for target 1, ``max(0, margin - input)`` for target -1; see
    `xpnet.functional.hinge_embedding_loss`.

    Parameters
    ----------
    margin : float, default=1.0
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):  # noqa: A002
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_TorchLoss):
    """Two-class logistic loss ``log(1 + exp(-target * input))``; see
    `xpnet.functional.soft_margin_loss`.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def forward(self, input, target):  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class TripletMarginLoss(_TorchLoss):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))``; see
    `xpnet.functional.triplet_margin_loss`.

    Parameters
    ----------
    margin : float, default=1.0
        Must be positive.
    p : float, default=2.0
    eps : float, default=1e-6
    swap : bool, default=False
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    ValueError
        For a margin <= 0.
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_TorchLoss):
    """One-versus-all logistic loss averaged over C labels; see
    `xpnet.functional.multilabel_soft_margin_loss`.

    Parameters
    ----------
    weight : Tensor, optional
        Weight of each label, typically of shape (C,) (a buffer).
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        _check_optional_tensor("MultiLabelSoftMarginLoss", "weight", weight)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_TorchLoss):
    """Multi-class hinge loss of scores against class indices; see
    `xpnet.functional.multi_margin_loss`.

    Parameters
    ----------
    p : {1, 2}, default=1
    margin : float, default=1.0
    weight : Tensor of shape (C,), optional
        Class weights (a buffer).
    size_average, reduce : bool, optional
        Deprecated (they warn).
    reduction : {'mean', 'sum', 'none'}, default='mean'

    Raises
    ------
    ValueError
        For ``p`` other than 1 or 2, or a weight that is not 1-d.
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p!r}")
        _check_optional_tensor("MultiMarginLoss", "weight", weight)
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be 1-d, got shape {weight.shape}")
        self.p, self.margin = p, margin
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)
