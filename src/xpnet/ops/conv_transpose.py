"""Transposed convolution over 1 or more spatial axes: one whole-batch primitive.

A transposed convolution is the input gradient of a convolution with the same weight and
options, so the three kernels of `xpnet.ops.conv` serve it, with roles exchanged:

- forward: ``conv_transpose_forward`` (weight.T @ x, then col2im), the convolution's
  input-gradient path;
- grad_input: ``conv_forward`` of the output gradient (im2col and one matmul);
- grad_weight: ``conv_backward``'s weight part, with x in the output gradient's place.
"""

from __future__ import annotations

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel
from xpnet.backend.kernels.twins import conv_output_size

from .conv import _tuple, check_operands

__all__ = ["conv_transpose", "conv_transpose_output_size"]


class ConvTranspose(Function):
    """PyTorch's transposed convolution of x (N, C_in, *in_size) with weight (C_in,
    C_out / groups, *kernel), plus bias (C_out,), to (N, C_out, *output_size).

    ``padding`` holds one (p, p) pair per axis; ``output_size`` is already checked.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, output_size):
        xp = ctx.xp
        options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        kernel = tuple(weight.shape[2:])
        in_size = tuple(x.shape[2:])
        # A convolution of the output has floor(output_padding / stride) more positions per
        # axis than x (only when output_padding >= stride, allowed with a larger dilation):
        # x gets that many zeros at the end, which write nothing and whose gradient is dropped.
        full = conv_output_size(output_size, kernel, stride, padding, dilation)
        if full != in_size:
            extended = xp.zeros((*x.shape[:2], *full), dtype=x.dtype, device=ctx.backend.device)
            extended[(..., *(slice(0, n) for n in in_size))] = x
            x = extended
        ctx.in_size, ctx.options, ctx.has_bias = in_size, options, bias is not None
        # All three halves from the same place, even if fast paths are switched before backward.
        ctx.conv_forward = get_kernel("conv_forward", ctx.backend)
        ctx.conv_backward = get_kernel("conv_backward", ctx.backend)
        ctx.save_for_backward(x, weight)
        return get_kernel("conv_transpose_forward", ctx.backend)(
            xp, x, weight, bias, output_size=tuple(output_size), **options)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        xp = ctx.xp
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = ctx.conv_forward(xp, grad, weight, None, **ctx.options)
            if tuple(grad_x.shape[2:]) != ctx.in_size:
                grad_x = grad_x[(..., *(slice(0, n) for n in ctx.in_size))]
        if need_weight:
            # dL/dweight[i, o, k] = sum over n and positions of x[n, i, pos] * grad[n, o,
            # stride * pos - padding + dilation * k]: a convolution's weight gradient with grad
            # as its input and x as its output gradient.
            _, grad_weight = ctx.conv_backward(xp, x, grad, weight, need_input=False,
                                               need_weight=True, **ctx.options)
        if need_bias and ctx.has_bias:
            grad_bias = xp.sum(grad, axis=(0, *range(2, grad.ndim)))
        return grad_x, grad_weight, grad_bias, None, None, None, None, None


def conv_transpose_output_size(in_size, kernel, stride, padding, output_padding, dilation):
    """PyTorch's output length per axis: (in - 1) * stride - 2 * padding + dilation *
    (kernel - 1) + output_padding + 1."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, o, d
                 in zip(in_size, kernel, stride, padding, output_padding, dilation))


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, dims, op="conv_transpose"):
    """Transposed convolution over the last ``dims`` axes, with PyTorch's arguments and checks.

    ``x`` is (N, C_in, *spatial) or unbatched (C_in, *spatial); see
    `xpnet.functional.conv_transpose2d`.
    """
    check_operands(op, x, weight, bias, groups, dims, "in_channels, out_channels / groups")
    in_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    if in_channels % groups:
        raise ValueError(f"{op}: in_channels (weight.shape[0] = {in_channels}) must be "
                         f"divisible by groups ({groups})")
    channels = x.shape[-dims - 1]
    if channels != in_channels:
        raise ValueError(f"{op}: expected input with weight.shape[0] = {in_channels} channels, "
                         f"got input of shape {x.shape} ({channels} channels)")
    out_channels = weight.shape[1] * groups
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: expected bias of shape (weight.shape[1] * groups,) = "
                         f"({out_channels},), got {bias.shape}")
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of {dims} ints, got "
                         f"{padding!r} ('same' and 'valid' are for convolutions)")
    stride = _tuple(op, "stride", stride, dims, 1)
    dilation = _tuple(op, "dilation", dilation, dims, 1)
    padding = _tuple(op, "padding", padding, dims, 0)
    output_padding = _tuple(op, "output_padding", output_padding, dims, 0)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding must be smaller than either stride or dilation "
                         f"on each axis, got output_padding={output_padding}, stride={stride}, "
                         f"dilation={dilation}")
    if 0 in kernel:
        raise ValueError(f"{op}: expected a non-empty kernel, got weight of shape "
                         f"{weight.shape}")
    spatial = tuple(x.shape[-dims:])
    out_size = conv_transpose_output_size(spatial, kernel, stride, padding, output_padding,
                                          dilation)
    if any(n < 1 for n in out_size) or any(n < 1 for n in spatial):
        raise ValueError(f"{op}: input of spatial size {spatial} gives an output of size "
                         f"{out_size} (kernel {kernel}, stride {stride}, padding {padding}, "
                         f"output_padding {output_padding}, dilation {dilation}); the padding "
                         f"is too large for this input")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: input, weight and bias must share a dtype, got "
                        f"{', '.join(sorted(d.name for d in dtypes))}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected floating-point tensors, got {x.dtype.name}")
    pairs = tuple((p, p) for p in padding)
    if x.ndim == dims + 1:
        out = ConvTranspose.apply(x.unsqueeze(0), weight, bias, stride, pairs, dilation, groups,
                                  out_size)
        return out.squeeze(0)
    return ConvTranspose.apply(x, weight, bias, stride, pairs, dilation, groups, out_size)
