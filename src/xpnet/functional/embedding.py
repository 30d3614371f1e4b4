"""Embedding lookups."""

from xpnet.ops import embedding

__all__ = ["embedding"]
