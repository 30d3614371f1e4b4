"""Exceptions of `xpnet.word2vec` that are at once xpnet's clear error and the one gensim raises.

xpnet raises ``ValueError`` for a bad value; gensim raises ``EOFError`` for a truncated vector
file, ``RuntimeError`` for training without a vocabulary, ``AttributeError`` for loading a file
of the wrong kind, ``ZeroDivisionError`` for an empty list of words and ``UnicodeDecodeError``
for undecodable bytes. Each class here derives from
both, so code written for either library catches it.
"""

from __future__ import annotations

__all__ = ["EmptyInputError", "EmptyVocabularyError", "TruncatedFileError", "WrongFileError",
           "FileDecodeError"]


class TruncatedFileError(ValueError, EOFError):
    """A vector file ends before the vectors its header announces (gensim: ``EOFError``)."""


class EmptyVocabularyError(ValueError, RuntimeError):
    """No word is left to train on: an empty corpus, or one that ``min_count`` empties (gensim:
    ``RuntimeError`` when training starts)."""


class EmptyInputError(ValueError, ZeroDivisionError):
    """A query got an empty list of words, e.g. `KeyedVectors.n_similarity` (gensim:
    ``ZeroDivisionError``, from the mean of nothing)."""


class WrongFileError(ValueError, AttributeError):
    """A saved file holds another kind of object than the one asked for, e.g. `Word2Vec.load` on
    a `KeyedVectors` file (gensim: ``AttributeError``)."""


class FileDecodeError(UnicodeDecodeError):
    """Bytes of a text file that are not valid in its encoding, with the file, the line and the
    byte offset in the file named (a ``UnicodeDecodeError``, so also a ``ValueError``).

    Parameters
    ----------
    error : UnicodeDecodeError
        The error of decoding one piece (a line, a key) of the file.
    where : str
        What was read, e.g. ``"LineSentence: corpus.txt"``.
    line : int or None
        Line number (1-based) of the piece, when the file has lines.
    offset : int
        Byte offset in the (decompressed) file where the piece starts.
    hint : str, optional
        What to do about it, appended to the message.

    Attributes
    ----------
    filename, line, byte_offset
        The file, the line and the offset of the first bad byte in the file.
    """

    def __init__(self, error, where, line, offset, hint="", *, filename=None):
        super().__init__(error.encoding, error.object, error.start, error.end, error.reason)
        self.where, self.line, self.hint = where, line, hint
        self.filename = filename
        self.byte_offset = offset + error.start

    def __str__(self):
        bad = bytes(self.object[self.start:self.end])
        place = f"line {self.line}, " if self.line is not None else ""
        text = (f"{self.where}: {place}byte offset {self.byte_offset}: cannot decode byte "
                f"{bad[:4]!r} as {self.encoding} ({self.reason})")
        return f"{text}; {self.hint}" if self.hint else text

    def __reduce__(self):
        # UnicodeDecodeError pickles by its five arguments; keep ours (multiprocessing workers).
        return (_rebuild_decode_error, (self.encoding, bytes(self.object), self.start, self.end,
                                        self.reason, self.where, self.line,
                                        self.byte_offset - self.start, self.hint, self.filename))


def _rebuild_decode_error(encoding, obj, start, end, reason, where, line, offset, hint, filename):
    return FileDecodeError(UnicodeDecodeError(encoding, obj, start, end, reason), where, line,
                           offset, hint, filename=filename)
