"""Normalisation functions with PyTorch's names, signatures and semantics: batch, layer and
group normalisation, and `normalize` (vectors scaled to unit p-norm).

Each is one node of the graph with its affine map inside (a fused kernel on NumPy): batch
normalisation is `xpnet.ops.normalization.BatchNorm`, layer normalisation `LayerNorm`, group
normalisation `GroupNorm`, and instance normalisation is group normalisation with a group per
channel (or, with running statistics in evaluation, BatchNorm's per-channel map).
"""

from __future__ import annotations

import math
import numbers

from xpnet import ops
from xpnet.autograd import grad_mode
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.ops._util import normalize_axes
from xpnet.ops.normalization import BatchNorm, GroupNorm, LayerNorm

from ._checks import int_arg

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "normalize"]


def _check_input(op, x, min_ndim):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {x.dtype.name}")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input with at least {min_ndim} axes, got shape "
                         f"{x.shape}")


def _check_optional(op, x, shape, what, **tensors):
    """Each given tensor is a Tensor of ``shape`` on ``x``'s backend."""
    for name, t in tensors.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
        if t.shape != shape:
            raise ValueError(f"{op}: {name} of shape {t.shape} does not match the input's "
                             f"{what} {shape} (input of shape {x.shape})")
    check_same_backend(op, [x, *(t for t in tensors.values() if t is not None)])


def _affine(y, weight, bias, shape):
    """``y * weight + bias`` with per-channel parameters reshaped to ``shape`` (SyncBatchNorm's
    affine part; the primitives here have theirs inside)."""
    if weight is not None:
        y = y * (weight if weight.shape == shape else ops.reshape(weight, shape))
    if bias is not None:
        y = y + (bias if bias.shape == shape else ops.reshape(bias, shape))
    return y


def _running_rstd(running_var, eps):
    """``1 / sqrt(running_var + eps)`` as an array (running statistics take no gradient)."""
    return 1 / running_var._backend.xp.sqrt(running_var.array + eps)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation (Ioffe and Szegedy, 2015) over axis 1 of ``(N, C, *)`` input.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` per channel. In training the mean and
    the biased variance are the batch's (over every axis but 1), and the running statistics,
    when given, are updated in place: ``running = (1 - momentum) * running + momentum *
    batch``, with the *unbiased* batch variance, as PyTorch does. Otherwise the running
    statistics are used (as constants: they take no gradient, as in PyTorch).

    Parameters
    ----------
    x : Tensor of shape ``(N, C)`` or ``(N, C, *)``
    running_mean, running_var : Tensor of shape (C,) or None
        Needed when ``training`` is False.
    weight, bias : Tensor of shape (C,), optional
    training : bool, default=False
        Use (and record) batch statistics.
    momentum : float, default=0.1
        Weight of the batch in the running statistics.
    eps : float, default=1e-5
        Added to the variance.

    Returns
    -------
    Tensor of the shape of ``x``

    Raises
    ------
    ValueError
        For a channel mismatch, missing running statistics in evaluation, or one value per
        channel in training.
    """
    op = "batch_norm"
    _check_input(op, x, 2)
    channels = x.shape[1]
    _check_optional(op, x, (channels,), "channels on axis 1", running_mean=running_mean,
                    running_var=running_var, weight=weight, bias=bias)
    if training:
        n = x.shape[0] * math.prod(x.shape[2:])
        if n <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got "
                             f"input of shape {x.shape}")
        stats = [] if running_mean is not None or running_var is not None else None
        y = BatchNorm.apply(x, weight, bias, None, None, eps=eps, stats=stats)
        if stats:
            _update_running(x._backend.xp, stats, running_mean, running_var, momentum, n)
        return y
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when training is "
                         f"False")
    return BatchNorm.apply(x, weight, bias, running_mean.array, _running_rstd(running_var, eps),
                           eps=eps)


def _update_running(xp, stats, running_mean, running_var, momentum, n):
    mean, var = (xp.reshape(s, (-1,)) for s in stats)
    with grad_mode.no_grad():
        if running_mean is not None:
            new = (1 - momentum) * running_mean.array + momentum * mean
            running_mean._set_array(xp.astype(new, running_mean.array.dtype))
        if running_var is not None:
            new = (1 - momentum) * running_var.array + momentum * (var * (n / (n - 1)))
            running_var._set_array(xp.astype(new, running_var.array.dtype))


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation (Ba et al., 2016) over the last ``len(normalized_shape)`` axes.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the mean and biased variance of
    each sample over those axes; ``weight`` and ``bias`` have shape ``normalized_shape``.

    Raises
    ------
    ValueError
        When the trailing axes of ``x`` are not ``normalized_shape``.
    """
    op = "layer_norm"
    _check_input(op, x, 1)
    if isinstance(normalized_shape, numbers.Integral):
        normalized = (normalized_shape,)
    elif isinstance(normalized_shape, (str, bytes)) or not hasattr(normalized_shape, "__iter__"):
        raise TypeError(f"{op}: normalized_shape must be an int or a non-empty tuple of ints, "
                        f"got {type(normalized_shape).__name__} {normalized_shape!r}")
    else:
        normalized = tuple(normalized_shape)
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in normalized):
        raise TypeError(f"{op}: normalized_shape must be an int or a non-empty tuple of ints, "
                        f"got {normalized_shape!r}")
    if not normalized:
        raise ValueError(f"{op}: normalized_shape must be an int or a non-empty tuple of ints, "
                         f"got {normalized_shape!r}")
    normalized = tuple(int(n) for n in normalized)
    k = len(normalized)
    if x.ndim < k or x.shape[-k:] != normalized:
        raise ValueError(f"{op}: expected input of shape (*, {', '.join(map(str, normalized))}) "
                         f"for normalized_shape={normalized}, got shape {x.shape}")
    _check_optional(op, x, normalized, "normalized_shape", weight=weight, bias=bias)
    return LayerNorm.apply(x, weight, bias, ndim=k, eps=eps)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (Wu and He, 2018) of ``(N, C, *)`` input: the C channels are split into
    ``num_groups`` groups, each standardised over its channels and the spatial axes per
    sample, then scaled and shifted per channel by ``weight`` and ``bias`` of shape (C,).

    Raises
    ------
    ValueError
        When ``num_groups`` does not divide the number of channels.
    """
    op = "group_norm"
    _check_input(op, x, 2)
    int_arg(op, "num_groups", num_groups, minimum=1)
    channels = x.shape[1]
    if channels % num_groups:
        raise ValueError(f"{op}: num_groups={num_groups} must divide the number of channels "
                         f"{channels} (input of shape {x.shape})")
    _check_optional(op, x, (channels,), "channels on axis 1", weight=weight, bias=bias)
    return GroupNorm.apply(x, weight, bias, groups=int(num_groups), eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None,  # noqa: A002
                  bias=None, use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation (Ulyanov et al., 2016): each channel of each sample of
    ``(N, C, *spatial)`` input standardised over its spatial axes.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, with the mean and biased variance of
    ``x[n, c]`` when ``use_input_stats`` (updating the running statistics, when given, in place
    with the batch averages of the per-instance mean and *unbiased* variance, as PyTorch does),
    else with ``running_mean[c]`` and ``running_var[c]``.

    Parameters
    ----------
    input : Tensor of shape ``(N, C, *spatial)``, at least one spatial axis
    running_mean, running_var : Tensor of shape (C,) or None
        Needed when ``use_input_stats`` is False.
    weight, bias : Tensor of shape (C,), optional
    use_input_stats : bool, default=True
    momentum : float, default=0.1
        Weight of the batch in the running statistics.
    eps : float, default=1e-5

    Returns
    -------
    Tensor of the shape of ``input``

    Raises
    ------
    ValueError
        For a channel mismatch, a single spatial element with ``use_input_stats``, or missing
        running statistics without it.
    """
    op = "instance_norm"
    _check_input(op, input, 3)
    channels = input.shape[1]
    _check_optional(op, input, (channels,), "channels on axis 1", running_mean=running_mean,
                    running_var=running_var, weight=weight, bias=bias)
    if use_input_stats:
        n = math.prod(input.shape[2:])
        if n == 1:
            raise ValueError(f"{op}: expected more than 1 spatial element when using input "
                             f"statistics, got input of shape {input.shape}")
        track = running_mean is not None or running_var is not None
        stats = [] if track else None
        y = GroupNorm.apply(input, weight, bias, groups=channels, eps=eps, stats=stats)
        if track:
            xp = input._backend.xp
            # Per-instance statistics averaged over the batch feed the running ones. The
            # variance is taken again (one more pass, only when tracking): recovering it from
            # 1/std would lose float32 digits where it is small next to eps.
            mean = stats[0]
            centered = (xp.reshape(input.array, (*input.shape[:2], n))
                        - xp.reshape(mean, (*mean.shape, 1)))
            var = xp.mean(centered * centered, axis=2)
            _update_running(xp, (xp.mean(mean, axis=0), xp.mean(var, axis=0)), running_mean,
                            running_var, momentum, n)
        return y
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when "
                         f"use_input_stats is False")
    return BatchNorm.apply(input, weight, bias, running_mean.array,
                           _running_rstd(running_var, eps), eps=eps)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002 - PyTorch's names
    """``input / max(norm(input, p, dim), eps)``: vectors along ``dim`` scaled to unit p-norm,
    as ``torch.nn.functional.normalize``.

    Parameters
    ----------
    input : Tensor, floating point, of any shape
    p : float, default=2.0
        The norm's exponent (``inf`` for the largest magnitude).
    dim : int or tuple of ints, default=1
        The axis (or axes) holding each vector.
    eps : float, default=1e-12
        Lower bound of the divisor, so a zero vector stays zero instead of NaN.

    Returns
    -------
    Tensor of the shape of ``input``
        Differentiable as PyTorch's: through the norm where it exceeds ``eps``; a vector whose
        norm is below ``eps`` has gradient ``grad / eps``.

    Raises
    ------
    TypeError
        For a non-floating input, or ``p``/``eps`` that are not numbers.
    ValueError
        For ``dim`` out of range.
    """
    op = "normalize"
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; use the returned tensor")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {input.dtype.name}; convert "
                        f"with .float()")
    for name, value in (("p", p), ("eps", eps)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    normalize_axes(op, dim, input.ndim)  # the range error names normalize, not norm
    denominator = ops.clamp_min(ops.norm(input, float(p), dim, keepdim=True), float(eps))
    return input / denominator
