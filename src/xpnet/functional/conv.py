"""Convolutions' functions, with PyTorch's signatures and semantics."""

from xpnet.ops.conv import conv
from xpnet.ops.conv_transpose import conv_transpose

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution (PyTorch's: a cross-correlation) over the last axis.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, L) or (C_in, L)
    weight : Tensor of shape (C_out, C_in / groups, kL)
    bias : Tensor of shape (C_out,), optional
    stride, dilation : int or tuple of 1 int, default=1
    padding : int, tuple of 1 int, 'valid' or 'same', default=0
        Zeros added at both ends; 'same' keeps the length (stride 1 only; an odd total puts
        the extra zero at the end).
    groups : int, default=1
        Split the channels into ``groups`` independent convolutions.

    Returns
    -------
    Tensor of shape (N, C_out, L_out) or (C_out, L_out), with
    L_out = floor((L + 2 * padding - dilation * (kL - 1) - 1) / stride) + 1.

    Raises
    ------
    ValueError
        On a channel count other than ``weight.shape[1] * groups``, groups not dividing the
        channels, a kernel wider than the padded input, or a non-positive stride or dilation.
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, dims=1, op="conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (PyTorch's: a cross-correlation) over the last two axes.

    out[n, o] = bias[o] + sum over c in o's group, i, j of
    weight[o, c, i, j] * padded[n, c, stride * h + dilation * i, stride * w + dilation * j].

    Parameters
    ----------
    input : Tensor of shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor of shape (C_out, C_in / groups, kH, kW)
    bias : Tensor of shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints, default=1
    padding : int, tuple of 2 ints, 'valid' or 'same', default=0
        Zeros added on both sides of each axis; 'same' keeps the size (stride 1 only).
    groups : int, default=1

    Returns
    -------
    Tensor of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1.

    Raises
    ------
    ValueError
        As `conv1d`.

    Examples
    --------
    >>> import xpnet
    >>> import xpnet.functional as F
    >>> F.conv2d(xpnet.ones(1, 1, 4, 4), xpnet.ones(1, 1, 3, 3), padding=1).shape
    (1, 1, 4, 4)
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, dims=2, op="conv2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0,  # noqa: A002
                     output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution ("deconvolution") over the last axis: the gradient of
    `conv1d` with respect to its input, so ``stride`` upsamples.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, L) or (C_in, L)
    weight : Tensor of shape (C_in, C_out / groups, kL)
        PyTorch's layout: input channels first.
    bias : Tensor of shape (C_out,), optional
    stride, dilation : int or tuple of 1 int, default=1
    padding : int or tuple of 1 int, default=0
        ``dilation * (kL - 1) - padding`` zeros pad the input's both ends in the equivalent
        direct convolution; ``padding`` removes that many positions from each end of the output.
    output_padding : int or tuple of 1 int, default=0
        Positions added to one end of the output, to reach any length a stride allows; must be
        smaller than ``stride`` or ``dilation``.
    groups : int, default=1
        Split the channels into ``groups`` independent transposed convolutions.

    Returns
    -------
    Tensor of shape (N, C_out, L_out) or (C_out, L_out), with
    L_out = (L - 1) * stride - 2 * padding + dilation * (kL - 1) + output_padding + 1.

    Raises
    ------
    ValueError
        On a channel count other than ``weight.shape[0]``, groups not dividing it, an
        ``output_padding`` not below the stride or dilation, or an output of length < 1.
    """
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, dims=1, op="conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0,  # noqa: A002
                     output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution") over the last two axes: the gradient of
    `conv2d` with respect to its input, as in a DCGAN generator's upsampling.

    out[n, o, stride * h - padding + dilation * i, stride * w - padding + dilation * j] +=
    weight[c, o, i, j] * input[n, c, h, w] for every c in o's group, plus bias[o].

    Parameters
    ----------
    input : Tensor of shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor of shape (C_in, C_out / groups, kH, kW)
    bias : Tensor of shape (C_out,), optional
    stride, padding, output_padding, dilation : int or tuple of 2 ints
        As `conv_transpose1d`, per axis (defaults 1, 0, 0, 1).
    groups : int, default=1

    Returns
    -------
    Tensor of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) +
    output_padding[0] + 1.

    Raises
    ------
    ValueError
        As `conv_transpose1d`.

    Examples
    --------
    >>> import xpnet
    >>> import xpnet.functional as F
    >>> F.conv_transpose2d(xpnet.ones(1, 8, 4, 4), xpnet.ones(8, 3, 4, 4), stride=2,
    ...                    padding=1).shape
    (1, 3, 8, 8)
    """
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, dims=2, op="conv_transpose2d")
