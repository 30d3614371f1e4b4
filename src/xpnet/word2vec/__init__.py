"""Word vectors: `Word2Vec` (CBOW and skip-gram, negative sampling and hierarchical softmax),
with gensim 4's names, and `KeyedVectors` to query, evaluate, save and load them; gensim's
corpus readers and its exceptions."""

from __future__ import annotations

import logging

# As gensim: warnings are logged, and stay silent unless the application configures logging.
if not logging.getLogger(__name__).handlers:
    logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["BrownCorpus", "CallbackAny2Vec", "EmptyInputError", "EmptyVocabularyError",
           "FileDecodeError", "KeyedVectors", "LineSentence", "PathLineSentences", "Text8Corpus",
           "TruncatedFileError", "Word2Vec", "WrongFileError"]

# name -> module that defines it, imported on first use so `import xpnet` stays light.
_HOMES = {"KeyedVectors": "keyed_vectors", "Word2Vec": "model", "LineSentence": "corpus",
          "PathLineSentences": "corpus", "Text8Corpus": "corpus", "BrownCorpus": "corpus",
          "CallbackAny2Vec": "callbacks", "EmptyInputError": "errors",
          "EmptyVocabularyError": "errors",
          "FileDecodeError": "errors", "TruncatedFileError": "errors",
          "WrongFileError": "errors"}


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'xpnet.word2vec' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f".{home}", __name__), name)
