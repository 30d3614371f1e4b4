"""Affine and bilinear layers."""

from __future__ import annotations

import math

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Bilinear", "Linear"]


class Linear(Module):
    """Affine map over the last axis: (*, in_features) -> (*, out_features).

    Parameters
    ----------
    in_features, out_features : int
        Last-axis size of the input and of the output.
    bias : bool, default=True
        Learn an additive bias.
    dtype : dtype, optional
        Default: the default float dtype.
    backend : str, optional
        Default: the active backend.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
    bias : Parameter of shape (out_features,) or None
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, backend=None):
        super().__init__()
        in_features = int_arg("Linear", "in_features", in_features, minimum=0)
        out_features = int_arg("Linear", "out_features", out_features, minimum=0)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype,
                                               backend=backend))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        # PyTorch's kaiming_uniform_(a=sqrt(5)) on the weight reduces to U(-b, b) with
        # b = 1 / sqrt(in_features), and the bias uses the same bound.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """Bilinear map of two inputs: ``y_k = x1^T W_k x2 + b_k``, ``(*, in1), (*, in2) -> (*, out)``;
    see `xpnet.nn.functional.bilinear`.

    Parameters
    ----------
    in1_features, in2_features, out_features : int
        Last-axis sizes of the two inputs and of the output.
    bias : bool, default=True
        Learn an additive bias.
    device : str or xpnet.device, optional
    dtype : dtype, optional
        Default: the default float dtype.
    backend : str, optional
        Default: the active backend.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in1_features, in2_features)
    bias : Parameter of shape (out_features,) or None
        Both drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> layer = nn.Bilinear(3, 4, 2)
    >>> layer(xpnet.randn(5, 3), xpnet.randn(5, 4)).shape
    (5, 2)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None, *, backend=None):
        super().__init__()
        in1_features = int_arg("Bilinear", "in1_features", in1_features, minimum=0)
        in2_features = int_arg("Bilinear", "in2_features", in2_features, minimum=0)
        out_features = int_arg("Bilinear", "out_features", out_features, minimum=0)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               dtype=dtype, backend=backend, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, backend=backend,
                                                 device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        # PyTorch's: weight and bias uniform within 1 / sqrt(in1_features).
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound, generator=generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
