"""Dropout (Srivastava et al., 2014), inverted: kept units are scaled by 1 / (1 - p) in training,
so evaluation needs no rescaling."""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import default_generator

__all__ = ["dropout"]


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (in training; the identity otherwise)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    g = generator or default_generator
    keep = g.bernoulli(x._backend, x.shape, 1 - p)
    xp = x._backend.xp
    mask = Tensor._make(xp.astype(keep, x.data.dtype) * (1 / (1 - p)), x._backend)
    return x * mask
