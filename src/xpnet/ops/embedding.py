"""Embedding lookup: rows of a weight matrix gathered by integer indices of any shape.

The backward is the scatter-add kernel (repeated indices accumulate), with the padding row's
gradient held at zero.
"""

from __future__ import annotations

import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel

__all__ = ["embedding"]


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        xp = ctx.xp
        flat = xp.reshape(indices, (-1,))
        ctx.save_for_backward(flat)
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        out = xp.take(weight, flat, axis=0)
        return xp.reshape(out, (*indices.shape, weight.shape[1]))

    @staticmethod
    def backward(ctx, g):
        (flat,) = ctx.saved_tensors
        xp = ctx.xp
        rows = xp.reshape(g, (flat.shape[0], g.shape[-1]))
        grad = get_kernel("scatter_add", ctx.backend)(xp, flat, rows, ctx.num_embeddings)
        if ctx.padding_idx is not None:
            row_ids = xp.arange(ctx.num_embeddings, device=ctx.backend.device)
            keep = xp.reshape(row_ids != ctx.padding_idx, (-1, 1))
            grad = xp.where(keep, grad, xp.zeros_like(grad))
        return grad, None, None


def embedding(indices, weight, padding_idx=None, max_norm=None, norm_type=2.0):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at integer ``indices`` of any shape;
    the result has shape ``(*indices.shape, embedding_dim)``.

    Parameters
    ----------
    padding_idx : int, optional
        That row gets no gradient (it stays whatever it is, usually zeros).
    max_norm : float, optional
        Rows looked up whose ``norm_type``-norm exceeds it are rescaled to it in place
        (under no_grad), before the lookup, as PyTorch does.
    """
    if not isinstance(indices, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding: indices and weight must be Tensors")
    if not indices.dtype.is_integer:
        raise TypeError(f"embedding: indices must be integers, got {indices.dtype.name}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    n = weight.shape[0]
    padding_idx = _padding_index(padding_idx, n)
    xp = weight._backend.xp
    if indices.numel() and (bool(xp.any(indices.data < 0)) or bool(xp.any(indices.data >= n))):
        lo, hi = int(xp.min(indices.data)), int(xp.max(indices.data))
        raise IndexError(f"embedding: indices must be in [0, {n}) (num_embeddings), got values "
                         f"in [{lo}, {hi}]")
    if max_norm is not None:
        _renormalize(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices.data, padding_idx)


def _padding_index(padding_idx, n):
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, numbers.Integral) or not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx must be an int in [-{n}, {n}), got "
                         f"{padding_idx!r}")
    return int(padding_idx) % n


def _renormalize(weight, indices, max_norm, norm_type):
    """Scale the looked-up rows whose norm exceeds max_norm down to it (PyTorch's rule,
    including its 1e-7 in the denominator)."""
    backend = weight._backend
    xp = backend.xp
    w = weight.data
    used = get_kernel("scatter_add", backend)(
        xp, xp.reshape(indices.data, (-1,)),
        xp.ones((indices.numel(),), dtype=w.dtype, device=backend.device), w.shape[0]) > 0
    norms = xp.sum(xp.abs(w) ** norm_type, axis=1) ** (1.0 / norm_type)
    shrink = xp.logical_and(used, norms > max_norm)
    scale = xp.where(shrink, max_norm / (norms + 1e-7), xp.ones_like(norms))
    weight.data = w * xp.reshape(scale, (-1, 1))
