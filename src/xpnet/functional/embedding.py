"""Embedding lookups: single rows (`embedding`) and reduced bags of rows (`embedding_bag`)."""

from xpnet.ops.embedding import embedding, embedding_bag

__all__ = ["embedding", "embedding_bag"]
