"""Convolution layers."""

from __future__ import annotations

import math
import numbers

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, PyTorch's initialisation."""

    _dims = 0
    _name = ""
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, dtype=None, backend=None):
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, dtype, backend)

    def _setup(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
               bias, padding_mode, dtype, backend, output_padding=None):
        name, dims = self._name, self._dims
        in_channels = int_arg(name, "in_channels", in_channels)
        out_channels = int_arg(name, "out_channels", out_channels)
        groups = int_arg(name, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of "
                             f"{', '.join(map(repr, _PADDING_MODES))}, got {padding_mode!r}")
        kernel_size = _ntuple(name, "kernel_size", kernel_size, dims)
        stride = _ntuple(name, "stride", stride, dims)
        dilation = _ntuple(name, "dilation", dilation, dims)
        if isinstance(padding, str) and self._transposed:
            raise ValueError(f"{name}: padding must be an int or a tuple of {dims} ints, got "
                             f"{padding!r} ('same' and 'valid' are for convolutions)")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a tuple "
                                 f"of {dims} ints, got {padding!r}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions, got stride={stride}")
        else:
            padding = _ntuple(name, "padding", padding, dims, minimum=0)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups, self.padding_mode = dilation, groups, padding_mode
        # PyTorch's attributes: both kinds have them (a convolution's output_padding is zeros).
        self.transposed = self._transposed
        self.output_padding = (0,) * dims if output_padding is None else output_padding
        # A transposed convolution's weight is the convolution's it is the gradient of:
        # (in_channels, out_channels / groups, *kernel), as in PyTorch.
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(creation.empty(*shape, *kernel_size, dtype=dtype,
                                               backend=backend))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        # PyTorch's: kaiming_uniform_(a=sqrt(5)) gives U(-b, b) with b = 1 / sqrt(fan_in), and
        # the bias uses the same bound; fan_in = weight.shape[1] * prod(kernel_size), which is
        # in_channels / groups for a convolution and out_channels / groups for a transposed one.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _conv(self, x, function):
        if self.padding_mode == "zeros":
            return function(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                            self.groups)
        # As PyTorch: pad with the mode first (last axis first, as F.pad wants), then no padding.
        if self.padding == "valid":
            pairs = [(0, 0)] * self._dims
        elif self.padding == "same":
            pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(self.kernel_size, self.dilation)]
        else:
            pairs = [(p, p) for p in self.padding]
        widths = tuple(w for pair in reversed(pairs) for w in pair)
        return function(F.pad(x, widths, mode=self.padding_mode), self.weight, self.bias,
                        self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


def _ntuple(name, arg, value, dims, minimum=1):
    values = (value,) * dims if isinstance(value, numbers.Integral) else value
    if (not isinstance(values, (tuple, list)) or len(values) != dims
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in values)):
        raise TypeError(f"{name}: {arg} must be an int or a tuple of {dims} ints, got {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name}: {arg} must be {kind}, got {value!r}")
    return tuple(int(v) for v in values)


class Conv1d(_ConvNd):
    """1-D convolution over the last axis: (N, C_in, L) -> (N, C_out, L_out).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 1 int
    stride, dilation : int or tuple of 1 int, default=1
    padding : int, tuple of 1 int, 'same' or 'valid', default=0
    groups : int, default=1
        Split the channels into ``groups`` independent convolutions.
    bias : bool, default=True
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default='zeros'
    dtype, backend : optional
        Default: the default float dtype and the active backend.

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels / groups, kernel_size)
    bias : Parameter of shape (out_channels,) or None

    See `xpnet.functional.conv1d` for the output length.
    """

    _dims, _name = 1, "Conv1d"

    def forward(self, x):
        return self._conv(x, F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over the last two axes: (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
    stride, dilation : int or tuple of 2 ints, default=1
    padding : int, tuple of 2 ints, 'same' or 'valid', default=0
    groups : int, default=1
        Split the channels into ``groups`` independent convolutions.
    bias : bool, default=True
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default='zeros'
    dtype, backend : optional
        Default: the default float dtype and the active backend.

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels / groups, kH, kW)
    bias : Parameter of shape (out_channels,) or None

    See `xpnet.functional.conv2d` for the output size.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.nn.conv import Conv2d
    >>> Conv2d(1, 6, 5)(xpnet.zeros(64, 1, 28, 28)).shape
    (64, 6, 24, 24)
    """

    _dims, _name = 2, "Conv2d"

    def forward(self, x):
        return self._conv(x, F.conv2d)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's argument order (output_padding
    before groups, dilation last) and ``output_size`` in forward."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", *,
                 dtype=None, backend=None):
        Module.__init__(self)
        output_padding = _ntuple(self._name, "output_padding", output_padding, self._dims,
                                 minimum=0)
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, dtype, backend, output_padding=output_padding)

    def _output_padding(self, x, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's rule), or the layer's."""
        if output_size is None:
            return self.output_padding
        name, dims = self._name, self._dims
        if isinstance(output_size, numbers.Integral):
            output_size = (output_size,)
        sizes = tuple(int(n) for n in output_size)
        batched = x.ndim == dims + 2
        leading = 2 if batched else 1
        if len(sizes) == leading + dims:
            sizes = sizes[leading:]
        if len(sizes) != dims:
            raise ValueError(f"{name}: for {x.ndim}-D input, output_size must have {dims} or "
                             f"{leading + dims} elements, got {tuple(output_size)}")
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            x.shape[-dims:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if any(not lo <= n <= hi for n, lo, hi in zip(sizes, smallest, largest)):
            raise ValueError(f"{name}: requested an output size of {sizes}, but valid sizes "
                             f"range from {smallest} to {largest} (for an input of spatial size "
                             f"{tuple(x.shape[-dims:])})")
        return tuple(n - lo for n, lo in zip(sizes, smallest))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution ("deconvolution"), the input gradient of a `Conv1d`:
    (N, C_in, L) -> (N, C_out, L_out).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 1 int
    stride : int or tuple of 1 int, default=1
        The upsampling factor.
    padding : int or tuple of 1 int, default=0
        Positions cut from both ends of the output.
    output_padding : int or tuple of 1 int, default=0
        Positions added to the end of the output (smaller than stride or dilation).
    groups : int, default=1
    bias : bool, default=True
    dilation : int or tuple of 1 int, default=1
    padding_mode : {'zeros'}, default='zeros'
        As PyTorch, the only mode of transposed convolutions.
    dtype, backend : optional
        Default: the default float dtype and the active backend.

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels / groups, kernel_size)
        Initialised as PyTorch's: U(-b, b), b = 1 / sqrt(out_channels / groups * kernel_size).
    bias : Parameter of shape (out_channels,) or None

    ``forward(x, output_size=None)``: ``output_size`` (the spatial size, optionally with the
    leading axes) picks the output_padding that reaches it. See
    `xpnet.functional.conv_transpose1d` for the output length.
    """

    _dims, _name = 1, "ConvTranspose1d"

    def forward(self, x, output_size=None):
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution"), the input gradient of a `Conv2d`:
    (N, C_in, H, W) -> (N, C_out, H_out, W_out), the upsampling layer of DCGAN generators.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
    stride, padding, output_padding, dilation : int or tuple of 2 ints
        As `ConvTranspose1d`, per axis (defaults 1, 0, 0, 1).
    groups : int, default=1
    bias : bool, default=True
    padding_mode : {'zeros'}, default='zeros'
    dtype, backend : optional

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels / groups, kH, kW)
    bias : Parameter of shape (out_channels,) or None

    See `xpnet.functional.conv_transpose2d` for the output size.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.nn.conv import ConvTranspose2d
    >>> ConvTranspose2d(16, 8, 4, stride=2, padding=1)(xpnet.zeros(2, 16, 7, 7)).shape
    (2, 8, 14, 14)
    >>> ConvTranspose2d(16, 8, 3, stride=2, padding=1)(xpnet.zeros(2, 16, 7, 7),
    ...                                                output_size=(14, 14)).shape
    (2, 8, 14, 14)
    """

    _dims, _name = 2, "ConvTranspose2d"

    def forward(self, x, output_size=None):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups,
                                  self.dilation)
