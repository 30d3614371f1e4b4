"""Embedding layers."""

from __future__ import annotations

from xpnet import creation
from xpnet import functional as F

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Input: integer Tensor of any shape; output: that shape + (embedding_dim,).
    Initialised N(0, 1) as PyTorch's, with the ``padding_idx`` row zero.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional
        Row that stays zero and gets no gradient (padding tokens).
    max_norm : float, optional
        Looked-up rows with a larger ``norm_type``-norm are rescaled to it.
    norm_type : float, default=2.0
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, *, dtype=None, backend=None):
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {n!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype,
                                               backend=backend))
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            xp = self.weight._backend.xp
            rows = xp.arange(self.num_embeddings, device=self.weight._backend.device)
            keep = xp.reshape(rows != self.padding_idx, (-1, 1))
            self.weight.data = xp.where(keep, self.weight.data, xp.zeros_like(self.weight.data))

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self):
        extra = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            extra += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            extra += f", max_norm={self.max_norm}"
        return extra
