"""Normalisation layers: BatchNorm1d, BatchNorm2d, InstanceNorm1d, InstanceNorm2d, LayerNorm,
GroupNorm.

Parameter and buffer names are PyTorch's (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``), so state dicts load both ways.
"""

from __future__ import annotations

import numbers
import warnings

from xpnet import creation
from xpnet import dtypes as _dt
from xpnet import functional as F
from xpnet.functional._checks import int_arg
from xpnet.autograd import grad_mode

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "LayerNorm"]


def _positive_int(op, name, n):
    return int_arg(op, name, n, minimum=1)


def _check_momentum(op, momentum):
    if momentum is None:
        return
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"{op}: momentum must be a number in [0, 1] or None, got "
                        f"{type(momentum).__name__} {momentum!r}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be in [0, 1] or None, got {momentum!r}")


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d, which differ only in the input's rank."""

    _ranks = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, dtype=None, backend=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(name, "num_features", num_features)
        _check_momentum(name, momentum)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, backend=backend))
            self.bias = Parameter(creation.empty(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, dtype=dtype, backend=backend))
            self.register_buffer("running_var",
                                 creation.ones(num_features, dtype=dtype, backend=backend))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=_dt.int64, backend=backend))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with grad_mode.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self, generator=None):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self._ranks:
            raise ValueError(f"{type(self).__name__}: expected a "
                             f"{' or '.join(f'{r}-D' for r in self._ranks)} input "
                             f"{self._layout}, got shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with grad_mode.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if update else None,
                            self.running_var if update else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation (Ioffe and Szegedy, 2015) of (N, C) or (N, C, L) input.

    In training each channel is standardised with the batch's mean and biased variance and the
    running statistics are updated, with the unbiased variance (PyTorch's conventions); in eval
    mode the running statistics are used.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance.
    momentum : float or None, default=0.1
        Weight of each batch in the running statistics; None keeps a cumulative (equal-weight)
        average.
    affine : bool, default=True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default=True
        Keep running statistics; without them eval mode uses batch statistics too.

    Attributes
    ----------
    weight, bias : Parameter of shape (C,) or None
    running_mean, running_var : Tensor of shape (C,) or None
    num_batches_tracked : int64 Tensor of shape () or None
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel over N, H and W.

    Arguments and attributes as `BatchNorm1d`.
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class _InstanceNorm(Module):
    """Shared by InstanceNorm1d and InstanceNorm2d, which differ only in the input's rank."""

    _spatial = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, *, bias=True, dtype=None, backend=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(name, "num_features", num_features)
        _check_momentum(name, momentum)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(creation.empty(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
        for buffer in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(buffer, None)
        if track_running_stats:
            # PyTorch keeps num_batches_tracked for InstanceNorm too (state dicts carry it), but
            # never advances it.
            self.running_mean = creation.zeros(num_features, dtype=dtype, backend=backend)
            self.running_var = creation.ones(num_features, dtype=dtype, backend=backend)
            self.num_batches_tracked = creation.tensor(0, dtype=_dt.int64, backend=backend)
        self.reset_parameters()

    reset_running_stats = _BatchNorm.reset_running_stats

    def reset_parameters(self, generator=None):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        name, d = type(self).__name__, self._spatial
        if x.ndim not in (d + 1, d + 2):
            raise ValueError(f"{name}: expected a {d + 1}-D (unbatched) or {d + 2}-D input, got "
                             f"shape {x.shape}")
        axis = x.ndim - d - 1
        if x.shape[axis] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={axis} to match "
                                 f"num_features ({self.num_features}), got shape {x.shape}")
            # As PyTorch: without affine parameters num_features is not used.
            warnings.warn(f"{name}: input's size at dim={axis} ({x.shape[axis]}) does not match "
                          f"num_features ({self.num_features}), which is unused because "
                          f"affine=False", UserWarning, stacklevel=2)
        batched = x if x.ndim == d + 2 else x.unsqueeze(0)
        # In eval mode the running statistics serve, when kept (PyTorch's rule).
        y = F.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if x.ndim == d + 2 else y.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation (Ulyanov et al., 2016) of (N, C, L) or unbatched (C, L) input:
    each channel of each sample standardised over its length.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance.
    momentum : float or None, default=0.1
        Weight of each batch in the running statistics (None: they stay as they are).
    affine : bool, default=False
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default=False
        Keep running averages of the per-instance statistics, updated in training and used
        instead of the input's own statistics in eval mode.
    bias : bool, default=True
        With ``affine``, learn the ``bias`` too (keyword only, as in PyTorch).
    dtype, backend : optional

    Attributes
    ----------
    weight, bias : Parameter of shape (C,) or None
    running_mean, running_var : Tensor of shape (C,) or None
    num_batches_tracked : int64 Tensor of shape () or None

    See `xpnet.functional.instance_norm`.
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) input, per sample and
    channel over H and W: the normalisation of style-transfer networks.

    Arguments and attributes as `InstanceNorm1d`.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.nn.normalization import InstanceNorm2d
    >>> y = InstanceNorm2d(3)(xpnet.randn(2, 3, 8, 8))
    >>> bool(y.mean(dim=(2, 3)).abs().max() < 1e-5)
    True
    """

    _spatial = 2


class LayerNorm(Module):
    """Layer normalisation (Ba et al., 2016) over the trailing ``normalized_shape`` axes.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape to normalise over.
    eps : float, default=1e-5
    elementwise_affine : bool, default=True
        Learn a ``weight`` (ones) of shape ``normalized_shape``...
    bias : bool, default=True
        ...and a ``bias`` (zeros), when ``elementwise_affine``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *,
                 dtype=None, backend=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            shape = (normalized_shape,)
        elif isinstance(normalized_shape, (str, bytes)) \
                or not hasattr(normalized_shape, "__iter__"):
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, got "
                            f"{type(normalized_shape).__name__} {normalized_shape!r}")
        else:
            shape = tuple(normalized_shape)
        self.normalized_shape = tuple(_positive_int("LayerNorm", "normalized_shape", n)
                                      for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype,
                                                  backend=backend))
            if bias:
                self.bias = Parameter(creation.zeros(*self.normalized_shape, dtype=dtype,
                                                     backend=backend))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self, generator=None):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalisation (Wu and He, 2018): the channels of ``(N, C, *)`` input in
    ``num_groups`` groups, each standardised per sample; independent of the batch size.

    Parameters
    ----------
    num_groups : int
        Must divide ``num_channels``.
    num_channels : int
        C.
    eps : float, default=1e-5
    affine : bool, default=True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, dtype=None,
                 backend=None):
        super().__init__()
        self.num_groups = _positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = _positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype, backend=backend))
            self.bias = Parameter(creation.zeros(num_channels, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self, generator=None):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
