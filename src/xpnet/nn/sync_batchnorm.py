"""`SyncBatchNorm`: batch normalisation with the statistics of the whole global batch.

With data parallelism each rank sees only its share of the batch; plain batch norm then
normalises with per-rank statistics, so the model depends on how the batch was split. Here the
ranks exchange per-channel counts, means and sums of squared deviations (one all-gather,
combined with Chan et al.'s pairwise formula, which stays exact where E[x^2] - E[x]^2 would
cancel), and in backward the two per-channel gradient sums (one all-reduce). The result equals
batch norm over the concatenated batch.
"""

from __future__ import annotations

import math

from xpnet import functional as F
from xpnet.autograd import grad_mode
from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.device import target_backend
from xpnet.distributed import process_group as _pg
from xpnet.distributed.collectives import all_gather_array, all_reduce_array
from xpnet.functional.normalization import _affine, _update_running

from .module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncStandardize(Function):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` with the mean and biased variance of every
    rank's ``x`` together (``group``: a ProcessGroup). ``stats``, when a list, receives the
    global mean and variance (keepdims arrays) and the global count."""

    @staticmethod
    def forward(ctx, x, axes, eps, group=None, stats=None):
        xp, backend = ctx.xp, ctx.backend
        device = backend.device
        channels = x.shape[1]
        keep = (1, channels) + (1,) * (x.ndim - 2)
        count = math.prod(x.shape[a] for a in axes)
        if count:
            mean = xp.mean(x, axis=axes, keepdims=True)
            centered = x - mean
            m2 = xp.sum(centered * centered, axis=axes, keepdims=True)
        else:  # a rank with an empty batch contributes nothing
            mean = m2 = xp.zeros(keep, dtype=x.dtype, device=device)
        local = xp.concat([xp.full((1,), float(count), dtype=x.dtype, device=device),
                           xp.reshape(mean, (-1,)), xp.reshape(m2, (-1,))])
        table = all_gather_array(group, backend, local, "SyncBatchNorm statistics")
        counts = table[:, :1]
        means, m2s = table[:, 1:1 + channels], table[:, 1 + channels:]
        total = float(xp.sum(counts))
        if total <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all "
                             f"ranks when training, got {total:g} (input of shape {x.shape} "
                             f"on this rank)")
        global_mean = xp.sum(counts * means, axis=0) / total
        spread = means - global_mean
        global_m2 = xp.sum(m2s, axis=0) + xp.sum(counts * spread * spread, axis=0)
        mean = xp.reshape(global_mean, keep)
        var = xp.reshape(global_m2 / total, keep)
        invstd = 1 / xp.sqrt(var + eps)
        xhat = (x - mean) * invstd
        if stats is not None:
            stats.extend((mean, var, total))
        ctx.axes, ctx.group, ctx.total = axes, group, total
        ctx.save_for_backward(xhat, invstd)
        return xhat

    @staticmethod
    def backward(ctx, g):
        xhat, invstd = ctx.saved_tensors
        xp, axes, channels = ctx.xp, ctx.axes, xhat.shape[1]
        keep = (1, channels) + (1,) * (xhat.ndim - 2)
        local = xp.concat([xp.reshape(xp.sum(g, axis=axes), (-1,)),
                           xp.reshape(xp.sum(g * xhat, axis=axes), (-1,))])
        sums = all_reduce_array(ctx.group, ctx.backend, local, "SyncBatchNorm gradient sums")
        mean_g = xp.reshape(sums[:channels], keep) / ctx.total
        mean_gx = xp.reshape(sums[channels:], keep) / ctx.total
        return invstd * (g - mean_g - xhat * mean_gx), None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the batches of all ranks together (PyTorch's
    ``torch.nn.SyncBatchNorm``), for ``(N, C, *)`` input of any rank >= 2.

    In training, with a process group of more than one rank, the mean and variance of each
    channel are those of every rank's batch together, and so are the running statistics. In
    eval mode, or without `xpnet.distributed` initialised (one process), it is `BatchNorm2d`'s
    computation. Every rank must run the same forward and backward (the statistics are
    exchanged in both).

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps, momentum, affine, track_running_stats
        As `BatchNorm1d`.
    process_group : ProcessGroup, optional
        The ranks to synchronise over; default the default group.
    device, dtype
        Of the parameters and buffers.

    Attributes
    ----------
    weight, bias : Parameter of shape (C,) or None
    running_mean, running_var : Tensor of shape (C,) or None
    num_batches_tracked : int64 Tensor of shape () or None

    Raises
    ------
    ValueError
        In forward: input with fewer than 2 axes, or a single value per channel over all
        ranks in training.

    Examples
    --------
    >>> import xpnet, xpnet.nn as nn
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    >>> model[1]
    SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 backend=None):
        if device is not None:
            backend = target_backend("SyncBatchNorm", backend, device)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype=dtype,
                         backend=backend)
        self.process_group = process_group

    def _sync_group(self):
        """The group to synchronise over, or None where this is plain batch norm."""
        if self.process_group is None and not _pg.is_initialized():
            return None
        group = _pg.resolve_group("SyncBatchNorm", self.process_group)
        return group if group.size() > 1 else None

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"SyncBatchNorm: expected a Tensor, got {type(x).__name__}")
        if x.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected an input of at least 2 axes (N, C, *), "
                             f"got shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with grad_mode.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        running_mean = self.running_mean if update else None
        running_var = self.running_var if update else None
        group = self._sync_group() if self.training else None
        if group is None:
            return F.batch_norm(x, running_mean, running_var, self.weight, self.bias,
                                use_batch, factor, self.eps)
        if x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels on axis 1, "
                             f"got input of shape {x.shape}")
        stats = [] if running_mean is not None or running_var is not None else None
        axes = (0,) + tuple(range(2, x.ndim))
        y = SyncStandardize.apply(x, axes, self.eps, group=group, stats=stats)
        if stats:
            mean, var, total = stats
            _update_running(x._backend.xp, (mean, var), running_mean, running_var, factor,
                            total)
        return _affine(y, self.weight, self.bias, (1, x.shape[1]) + (1,) * (x.ndim - 2))

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch-norm layer in it (BatchNorm1d, BatchNorm2d) replaced by
        a SyncBatchNorm holding the same parameters and buffers (PyTorch's helper).

        Parameters
        ----------
        module : Module
        process_group : ProcessGroup, optional

        Returns
        -------
        Module
            ``module`` itself with its batch-norm children replaced, or a new SyncBatchNorm
            when ``module`` is a batch-norm layer.
        """
        if not isinstance(module, Module):
            raise TypeError(f"convert_sync_batchnorm: expected a Module, got "
                            f"{type(module).__name__}")
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                if module._parameters.get(name) is not None:
                    out._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers.get(name)
            object.__setattr__(out, "training", module.training)
        for name, child in list(module._modules.items()):
            if child is not None:
                out._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return out
