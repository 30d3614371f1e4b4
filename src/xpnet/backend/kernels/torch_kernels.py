"""PyTorch (CPU) fast paths; each is compared with its twin in tests/test_kernels.py."""

from __future__ import annotations

import torch

from . import register_fast


@register_fast("scatter_add", "torch")
def scatter_add(xp, index, values, size):
    out = torch.zeros((size, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, index, values)


@register_fast("gather_scale_scatter_add", "torch")
def gather_scale_scatter_add(xp, source, gather_index, scatter_index, scale, size):
    rows = torch.index_select(source, 0, gather_index) * scale[:, None]
    out = torch.zeros((size, source.shape[1]), dtype=source.dtype, device=source.device)
    return out.index_add_(0, scatter_index, rows)


@register_fast("add_to_rows", "torch")
def add_to_rows(xp, target, index, values):
    return target.index_add_(0, index, values)


@register_fast("erf", "torch")
def erf(xp, x):
    return torch.special.erf(x)
