"""Affine layers."""

from __future__ import annotations

import math

from xpnet import creation
from xpnet import functional as F

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear"]


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
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
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
