"""Reading a corpus: `LineSentence` for ``corpus_file`` and the checks every corpus goes through.

A corpus is a re-iterable sequence of sentences, each a list of string tokens, as in gensim.
"""

from __future__ import annotations

import itertools
import os
import types
from collections.abc import Iterable

__all__ = ["LineSentence", "MAX_WORDS_IN_BATCH", "check_corpus", "resolve_corpus"]

# gensim's limit on one sentence (and on one job): longer lines are cut into pieces of this size.
MAX_WORDS_IN_BATCH = 10000


class LineSentence:
    """Sentences from a text file: one sentence per line, tokens separated by whitespace.

    Lines longer than ``max_sentence_length`` tokens are split into consecutive pieces of that
    length, as gensim's ``LineSentence`` does. The file is read as UTF-8.

    Parameters
    ----------
    source : str or os.PathLike
        Path to the file.
    max_sentence_length : int, default=10000
    limit : int, optional
        Read only the first ``limit`` lines.

    Raises
    ------
    FileNotFoundError
        If ``source`` is not an existing file (checked when the object is made).
    """

    def __init__(self, source, max_sentence_length=MAX_WORDS_IN_BATCH, limit=None):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"LineSentence: corpus_file {path!r} is not an existing file")
        if not isinstance(max_sentence_length, int) or max_sentence_length < 1:
            raise ValueError(f"LineSentence: expected max_sentence_length a positive int, got "
                             f"{max_sentence_length!r}")
        self.source, self.max_sentence_length, self.limit = path, max_sentence_length, limit

    def __iter__(self):
        with open(self.source, encoding="utf-8") as f:
            for line in itertools.islice(f, self.limit):
                tokens = line.split()
                for start in range(0, len(tokens), self.max_sentence_length):
                    yield tokens[start:start + self.max_sentence_length]


def resolve_corpus(where, corpus_iterable, corpus_file):
    """The corpus to iterate: ``corpus_iterable`` or a `LineSentence` over ``corpus_file``."""
    if corpus_iterable is None and corpus_file is None:
        raise TypeError(f"{where}: expected one of corpus_iterable (sentences) or corpus_file, "
                        f"got neither")
    if corpus_iterable is not None and corpus_file is not None:
        raise TypeError(f"{where}: expected one of corpus_iterable (sentences) or corpus_file, "
                        f"got both")
    if corpus_file is not None:
        if not isinstance(corpus_file, (str, os.PathLike)):
            raise TypeError(f"{where}: expected corpus_file a path, got "
                            f"{type(corpus_file).__name__}")
        if not os.path.isfile(corpus_file):
            raise FileNotFoundError(f"{where}: corpus_file {os.fspath(corpus_file)!r} is not an "
                                    f"existing file")
        return LineSentence(corpus_file)
    return check_corpus(where, corpus_iterable)


def check_corpus(where, corpus, passes=1):
    """Refuse what cannot be a corpus before any work starts: a string, a non-iterable, a one-shot
    generator asked for several passes, or sentences that are strings."""
    if isinstance(corpus, (str, bytes)):
        raise TypeError(f"{where}: expected the corpus to be an iterable of sentences (lists of "
                        f"str tokens), got a plain {type(corpus).__name__}; split it first, e.g. "
                        f"[line.split() for line in text.splitlines()]")
    if not isinstance(corpus, Iterable):
        raise TypeError(f"{where}: expected the corpus to be an iterable of sentences (lists of "
                        f"str tokens), got {type(corpus).__name__}")
    if passes > 1 and isinstance(corpus, (types.GeneratorType, map, filter, zip)):
        raise TypeError(f"{where}: a generator can be iterated once, but training needs {passes} "
                        f"passes; pass a list or a re-iterable object such as LineSentence")
    return corpus


def checked_sentences(where, corpus):
    """Iterate ``corpus``, refusing a sentence that is a string (a common mistake: a list of
    lines instead of a list of token lists; gensim only warns and trains on characters)."""
    for sentence in corpus:
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"{where}: expected each sentence to be a list of str tokens, got a "
                            f"plain {type(sentence).__name__} {sentence[:40]!r}; split it into "
                            f"words first")
        yield sentence
