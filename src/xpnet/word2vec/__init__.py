"""Word vectors: `Word2Vec` (CBOW and skip-gram, negative sampling and hierarchical softmax),
with gensim 4's names, and `KeyedVectors` to query, evaluate, save and load them."""

from __future__ import annotations

__all__ = ["CallbackAny2Vec", "KeyedVectors", "LineSentence", "Word2Vec"]


def __getattr__(name):
    # Imported on first use, so `import xpnet` stays light.
    if name == "KeyedVectors":
        from .keyed_vectors import KeyedVectors
        return KeyedVectors
    if name == "Word2Vec":
        from .model import Word2Vec
        return Word2Vec
    if name == "LineSentence":
        from .corpus import LineSentence
        return LineSentence
    if name == "CallbackAny2Vec":
        from .callbacks import CallbackAny2Vec
        return CallbackAny2Vec
    raise AttributeError(f"module 'xpnet.word2vec' has no attribute {name!r}")
