"""Convolution over 1 or more spatial axes: one whole-batch primitive (im2col and one matmul
forward; matmuls and col2im backward), in the kernels ``conv_forward`` and ``conv_backward``."""

from __future__ import annotations

import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel

__all__ = ["conv"]


class Conv(Function):
    """PyTorch's convolution (a cross-correlation) of x (N, C, *spatial) with weight
    (O, C / groups, *kernel), plus bias (O,). Options are normalized: one int per spatial axis,
    and one (before, after) padding pair per axis."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        # Both halves come from the same place, even if fast paths are switched before backward.
        ctx.backward_kernel = get_kernel("conv_backward", ctx.backend)
        ctx.options = options
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, weight)
        return get_kernel("conv_forward", ctx.backend)(ctx.xp, x, weight, bias, **options)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_x = grad_weight = grad_bias = None
        if need_x or need_weight:
            grad_x, grad_weight = ctx.backward_kernel(
                ctx.xp, grad, x, weight, need_input=need_x, need_weight=need_weight,
                **ctx.options)
        if need_bias and ctx.has_bias:
            grad_bias = ctx.xp.sum(grad, axis=(0, *range(2, grad.ndim)))
        return grad_x, grad_weight, grad_bias, None, None, None, None


def _tuple(op, name, value, dims, minimum):
    """One int per spatial axis from an int or a sequence of ``dims`` ints, each >= minimum."""
    values = (value,) * dims if isinstance(value, numbers.Integral) else value
    if (not isinstance(values, (tuple, list)) or len(values) != dims
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in values)):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in values)


def _padding_pairs(op, padding, kernel, stride, dilation):
    """(before, after) per spatial axis. 'same' puts the odd pixel after, as PyTorch does."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions, got stride={stride}")
            pairs = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple of {dims} "
                         f"ints, got {padding!r}")
    return tuple((p, p) for p in _tuple(op, "padding", padding, dims, 0))


def check_operands(op, x, weight, bias, groups, dims, weight_axes):
    """The checks a convolution and a transposed one share: Tensors, the weight's and the
    input's number of dimensions, ``groups`` a positive int. ``weight_axes`` names the
    weight's first two axes for the message."""
    for name, t in (("input", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
    axes = {1: "kL", 2: "kH, kW"}.get(dims, "*kernel_size")
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: expected weight of {dims + 2} dimensions ({weight_axes}, "
                         f"{axes}), got shape {weight.shape}")
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected input of {dims + 1} (unbatched) or {dims + 2} "
                         f"(batched) dimensions, got shape {x.shape}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be positive, got {groups}")


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, dims, op="conv"):
    """Convolution over the last ``dims`` axes, with PyTorch's arguments and checks.

    ``x`` is (N, C, *spatial) or unbatched (C, *spatial); see `xpnet.functional.conv2d`.
    """
    check_operands(op, x, weight, bias, groups, dims, "out_channels, in_channels / groups")
    out_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    if out_channels % groups:
        raise ValueError(f"{op}: out_channels (weight.shape[0] = {out_channels}) must be "
                         f"divisible by groups ({groups})")
    channels = x.shape[-dims - 1]
    if channels != weight.shape[1] * groups:
        raise ValueError(f"{op}: expected input with weight.shape[1] * groups = "
                         f"{weight.shape[1]} * {groups} = {weight.shape[1] * groups} channels, "
                         f"got input of shape {x.shape} ({channels} channels)")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: expected bias of shape ({out_channels},), got {bias.shape}")
    stride = _tuple(op, "stride", stride, dims, 1)
    dilation = _tuple(op, "dilation", dilation, dims, 1)
    padding = _padding_pairs(op, padding, kernel, stride, dilation)
    spatial = tuple(x.shape[-dims:])
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
    covered = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(c > p for c, p in zip(covered, padded)) or 0 in kernel:
        raise ValueError(f"{op}: kernel size {kernel} with dilation {dilation} spans {covered}, "
                         f"larger than the padded input {padded} (input {spatial}, padding "
                         f"{padding}); use a smaller kernel or more padding")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: input, weight and bias must share a dtype, got "
                        f"{', '.join(sorted(d.name for d in dtypes))}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected floating-point tensors, got {x.dtype.name}")
    if x.ndim == dims + 1:
        out = Conv.apply(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups)
        return out.squeeze(0)
    return Conv.apply(x, weight, bias, stride, padding, dilation, groups)
