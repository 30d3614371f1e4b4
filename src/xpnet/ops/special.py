"""Special functions the standard lacks, through kernels with a standard-only twin."""

from __future__ import annotations

import math

from xpnet.autograd.function import Function
from xpnet.backend.kernels import get_kernel

from .unary import _float_input

__all__ = ["erf"]


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_kernel("erf", ctx.backend)(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * ctx.xp.exp(-x * x)


def erf(x):
    """The error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    return Erf.apply(_float_input("erf", x))
