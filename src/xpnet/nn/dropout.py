"""Dropout layers."""

from __future__ import annotations

from xpnet import functional as F
from xpnet.functional._checks import probability

from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Inverted dropout: in training zero each element with probability ``p`` and scale the rest
    by 1 / (1 - p); the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        probability("Dropout", "p", p)
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout: inplace must be True or False, got {inplace!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, inplace=self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Module):
    """Channel dropout for (N, C, H, W) maps: in training zero each whole channel with
    probability ``p`` and scale the rest by 1 / (1 - p); the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        probability("Dropout2d", "p", p)
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout2d: inplace must be True or False, got {inplace!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, inplace=self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
