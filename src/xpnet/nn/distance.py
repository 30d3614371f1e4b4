"""Distance layers: `CosineSimilarity` and `PairwiseDistance` (PyTorch's ``nn.modules.distance``);
each calls its function in `xpnet.nn.functional`, which checks the arguments."""

from __future__ import annotations

from xpnet import functional as F

from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of ``x1`` and ``x2`` along ``dim``; see
    `xpnet.nn.functional.cosine_similarity`.

    Parameters
    ----------
    dim : int, default=1
    eps : float, default=1e-8
        Each norm is clamped at it.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> nn.CosineSimilarity(dim=0)(xpnet.tensor([1.0, 0.0]), xpnet.tensor([0.0, 2.0]))
    tensor(0.)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm of ``x1 - x2 + eps`` over the last axis; see
    `xpnet.nn.functional.pairwise_distance`.

    Parameters
    ----------
    p : float, default=2.0
        Kept as the attribute ``norm``, PyTorch's name.
    eps : float, default=1e-6
    keepdim : bool, default=False
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
