"""Affine layers' functions."""

from xpnet.ops import linear

__all__ = ["linear"]
