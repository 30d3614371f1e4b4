"""Loss modules: PyTorch's ``torch.nn`` losses, each a one-line forward over
`xpnet.functional.loss` (which checks the arguments, so a module and its function raise the
same errors).

Class weights are buffers: they are in `state_dict` and follow `Module.to`.
"""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor
from xpnet.functional import loss as F

from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
           "NLLLoss", "SmoothL1Loss"]


class _Loss(Module):
    """Base of the losses: stores ``reduction`` ('mean', 'sum' or 'none')."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


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

    def extra_repr(self):
        return f"reduction={self.reduction!r}, delta={self.delta}"


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

    def extra_repr(self):
        return f"reduction={self.reduction!r}, beta={self.beta}"


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

    def extra_repr(self):
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


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

    def extra_repr(self):
        return (f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")


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
