"""PyTorch (CPU) fast paths; each is compared with its twin in tests/test_kernels.py."""

from __future__ import annotations

import torch

from . import register_fast


@register_fast("scatter_add", "torch")
def scatter_add(xp, index, values, size):
    out = torch.zeros((size, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, index, values)


@register_fast("erf", "torch")
def erf(xp, x):
    return torch.special.erf(x)
