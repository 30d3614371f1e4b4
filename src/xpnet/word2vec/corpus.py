"""Reading a corpus: gensim's corpus readers and the checks every corpus goes through.

A corpus is a re-iterable sequence of sentences, each a list of string tokens, as in gensim.
The readers stream their files (a ``.gz`` or ``.bz2`` name is decompressed on the fly, as
gensim's ``smart_open`` does) and decode them as UTF-8; undecodable bytes raise a
`~xpnet.word2vec.errors.FileDecodeError` naming the file, the line and the byte offset.

- `LineSentence`: one sentence per line, whitespace-separated tokens (a path or an open file);
- `PathLineSentences`: the same over every file of a folder, in file-name order;
- `Text8Corpus`: one huge line (Matt Mahoney's text8), cut into sentences of fixed length;
- `BrownCorpus`: NLTK's Brown corpus files, ``word/TAG`` tokens turned into ``word/TA``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import logging
import numbers
import os
import types
from collections.abc import Iterable

from .errors import FileDecodeError

__all__ = ["BrownCorpus", "LineSentence", "MAX_WORDS_IN_BATCH", "PathLineSentences",
           "Text8Corpus", "check_corpus", "resolve_corpus"]

logger = logging.getLogger(__name__)

# gensim's limit on one sentence (and on one job): longer lines are cut into pieces of this size.
MAX_WORDS_IN_BATCH = 10000

_HINT = "convert the file to UTF-8 first (e.g. iconv -f latin1 -t utf-8)"


def open_binary(path):
    """``path`` opened for reading bytes, through gzip or bz2 when it ends in .gz or .bz2."""
    name = os.fspath(path)
    if name.endswith(".gz"):
        return gzip.open(name, "rb")
    if name.endswith(".bz2"):
        return bz2.open(name, "rb")
    return open(name, "rb")


def _label(name):
    return f"{name} (decompressed)" if name.endswith((".gz", ".bz2")) else name


def decoded_lines(lines, where, name):
    """Decode byte lines as UTF-8, counting lines and bytes so an error can name both."""
    offset = 0
    for number, line in enumerate(lines, start=1):
        if isinstance(line, str):  # a file object opened in text mode
            yield line
            continue
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileDecodeError(e, f"{where}: {_label(name)}", number, offset, _HINT,
                                  filename=name) from None
        offset += len(line)


def _pieces(tokens, length):
    """A line's tokens in consecutive pieces of at most ``length`` (none for an empty line)."""
    for start in range(0, len(tokens), length):
        yield tokens[start:start + length]


def _check_length(where, max_sentence_length):
    if isinstance(max_sentence_length, bool) or not isinstance(max_sentence_length,
                                                               numbers.Integral) \
            or max_sentence_length < 1:
        raise ValueError(f"{where}: expected max_sentence_length a positive int, got "
                         f"{max_sentence_length!r}")
    return int(max_sentence_length)


def _check_limit(where, limit):
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral)
                              or limit < 0):
        raise ValueError(f"{where}: expected limit a non-negative int or None, got {limit!r}")
    return limit


def _existing_file(where, source, param="source"):
    from xpnet.files import readable_file
    return readable_file(where, source, param)


class LineSentence:
    """Sentences from a text file: one sentence per line, tokens separated by whitespace.

    Lines longer than ``max_sentence_length`` tokens are split into consecutive pieces of that
    length and empty lines are skipped, as gensim's ``LineSentence`` does. The file is read as
    UTF-8; a name ending in ``.gz`` or ``.bz2`` is decompressed while reading.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path of the file, or an open file (binary or text) that supports ``seek(0)``: each
        iteration rewinds it.
    max_sentence_length : int, default=10000
    limit : int, optional
        Read only the first ``limit`` lines.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If ``source`` is a path that does not open for reading (checked when the object is
        made; the error keeps the path).
    TypeError
        If ``source`` is neither a path nor a readable file object.
    xpnet.word2vec.errors.FileDecodeError
        While iterating, for bytes that are not UTF-8 (names the file, line and byte offset).

    Examples
    --------
    >>> import io
    >>> from xpnet.word2vec import LineSentence
    >>> list(LineSentence(io.BytesIO(b"the cat sat\\n\\non the mat\\n")))
    [['the', 'cat', 'sat'], ['on', 'the', 'mat']]
    """

    def __init__(self, source, max_sentence_length=MAX_WORDS_IN_BATCH, limit=None):
        where = type(self).__name__
        if isinstance(source, (str, os.PathLike)):
            source = _existing_file(where, source)
        elif not (hasattr(source, "read") and hasattr(source, "seek")):
            raise TypeError(f"{where}: expected a path or an open file object with seek(), got "
                            f"{type(source).__name__}")
        self.source = source
        self.max_sentence_length = _check_length(where, max_sentence_length)
        self.limit = _check_limit(where, limit)
        self._where = where  # what errors start with (Word2Vec's corpus_file says so)

    def _name(self):
        if isinstance(self.source, str):
            return self.source
        return str(getattr(self.source, "name", None) or f"<{type(self.source).__name__}>")

    def __iter__(self):
        where = getattr(self, "_where", type(self).__name__)
        if isinstance(self.source, str):
            with open_binary(self.source) as f:
                yield from self._sentences(f, where)
        else:
            self.source.seek(0)
            yield from self._sentences(self.source, where)

    def _sentences(self, f, where):
        lines = decoded_lines(itertools.islice(f, self.limit), where, self._name())
        for line in lines:
            yield from _pieces(line.split(), self.max_sentence_length)


class PathLineSentences:
    """`LineSentence` over every file of a folder, in the order of their sorted names.

    Files ending in ``.gz`` or ``.bz2`` are decompressed, any other is read as text.
    Subfolders are skipped (not read recursively). A single file may be given instead of a folder.

    Parameters
    ----------
    source : str or os.PathLike
        The folder (or one file).
    max_sentence_length : int, default=10000
    limit : int, optional
        Read only the first ``limit`` lines of each file.

    Attributes
    ----------
    input_files : list of str
        The files read, in order.

    Raises
    ------
    FileNotFoundError
        If ``source`` is neither a file nor a folder.
    """

    def __init__(self, source, max_sentence_length=MAX_WORDS_IN_BATCH, limit=None):
        where = type(self).__name__
        path = os.fspath(source)
        if os.path.isfile(path):
            self.input_files = [path]
        elif os.path.isdir(path):
            self.input_files = sorted(os.path.join(path, name) for name in os.listdir(path)
                                      if os.path.isfile(os.path.join(path, name)))
        else:
            raise FileNotFoundError(f"{where}: {path!r} is neither a file nor a folder")
        self.source = path
        self.max_sentence_length = _check_length(where, max_sentence_length)
        self.limit = _check_limit(where, limit)
        logger.info("%s reads %d files from %s", where, len(self.input_files), path)

    def __iter__(self):
        for name in self.input_files:
            with open_binary(name) as f:
                lines = decoded_lines(itertools.islice(f, self.limit), type(self).__name__, name)
                for line in lines:
                    yield from _pieces(line.split(), self.max_sentence_length)


class Text8Corpus:
    """Sentences of ``max_sentence_length`` words from a file that is one long line of
    whitespace-separated words (text8, unzipped from https://mattmahoney.net/dc/text8.zip).

    The file is read in chunks of 8 KiB, never whole; the last sentence holds what is left.
    A name ending in ``.gz`` or ``.bz2`` is decompressed while reading.

    Parameters
    ----------
    fname : str or os.PathLike
    max_sentence_length : int, default=10000

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If ``fname`` does not open for reading (the error keeps the path).
    """

    CHUNK = 8192

    def __init__(self, fname, max_sentence_length=MAX_WORDS_IN_BATCH):
        where = type(self).__name__
        self.fname = _existing_file(where, fname, "fname")
        self.max_sentence_length = _check_length(where, max_sentence_length)

    def __iter__(self):
        size = self.max_sentence_length
        sentence, rest = [], b""
        offset = lines_before = 0  # of `rest` in the file, for decoding errors
        with open_binary(self.fname) as f:
            while True:
                chunk = f.read(self.CHUNK)
                text = rest + chunk
                if chunk:
                    # Keep a token that may continue in the next chunk (a multi-byte character
                    # is never cut either: whitespace bytes never occur inside one).
                    cut = max(text.rfind(b" "), text.rfind(b"\n"), text.rfind(b"\t"),
                              text.rfind(b"\r"))
                    done, rest = (text[:cut + 1], text[cut + 1:]) if cut >= 0 else (b"", text)
                else:
                    done, rest = text, b""
                sentence.extend(self._decode(done, offset, lines_before).split())
                offset += len(done)
                lines_before += done.count(b"\n")
                while len(sentence) >= size:
                    yield sentence[:size]
                    sentence = sentence[size:]
                if not chunk:
                    break
        if sentence:
            yield sentence

    def _decode(self, data, offset, lines_before):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = lines_before + data.count(b"\n", 0, e.start) + 1
            start = data.rfind(b"\n", 0, e.start) + 1  # report the offset within the whole file
            piece = UnicodeDecodeError(e.encoding, data[start:], e.start - start,
                                       e.end - start, e.reason)
            raise FileDecodeError(piece, f"{type(self).__name__}: {_label(self.fname)}", line,
                                  offset + start, _HINT, filename=self.fname) from None


class BrownCorpus:
    """Sentences from the files of NLTK's Brown corpus: each line a sentence of ``word/TAG``
    tokens, read as ``word.lower() + '/' + TAG[:2]``.

    Tokens that are not exactly ``word/TAG``, and those whose tag does not start with two
    letters (punctuation and the like), are dropped, then lines left empty; files are read in
    the order of their sorted names (gensim takes ``os.listdir``'s order), ``.gz``/``.bz2``
    decompressed.

    Parameters
    ----------
    dirname : str or os.PathLike
        The folder of the corpus files.

    Raises
    ------
    FileNotFoundError
        If ``dirname`` is not a folder.
    """

    def __init__(self, dirname):
        path = os.fspath(dirname)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"BrownCorpus: {path!r} is not a folder")
        self.dirname = path

    def __iter__(self):
        for name in sorted(os.listdir(self.dirname)):
            path = os.path.join(self.dirname, name)
            if not os.path.isfile(path):
                continue
            with open_binary(path) as f:
                for line in decoded_lines(f, "BrownCorpus", path):
                    pairs = [token.split("/") for token in line.split()]
                    words = [f"{word.lower()}/{tag[:2]}" for word, tag in
                             (pair for pair in pairs if len(pair) == 2) if tag[:2].isalpha()]
                    if words:
                        yield words


def resolve_corpus(where, corpus_iterable, corpus_file):
    """The corpus to iterate: ``corpus_iterable`` or a `LineSentence` over ``corpus_file``
    (which, unlike gensim's, may be ``.gz`` or ``.bz2``)."""
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
        corpus = LineSentence(_existing_file(f"{where}: corpus_file", corpus_file))
        corpus._where = f"{where}: corpus_file"
        return corpus
    return check_corpus(where, corpus_iterable)


def check_corpus(where, corpus, passes=1):
    """Refuse what cannot be a corpus before any work starts: a string, a non-iterable, or a
    one-shot generator asked for several passes."""
    if isinstance(corpus, (str, bytes)):
        raise TypeError(f"{where}: expected the corpus to be an iterable of sentences (lists of "
                        f"str tokens), got a plain {type(corpus).__name__}; split it first, e.g. "
                        f"[line.split() for line in text.splitlines()]")
    if isinstance(corpus, (io.IOBase, io.TextIOWrapper)):
        raise TypeError(f"{where}: expected an iterable of sentences, got an open file; wrap it: "
                        f"LineSentence(f)")
    if not isinstance(corpus, Iterable):
        raise TypeError(f"{where}: expected the corpus to be an iterable of sentences (lists of "
                        f"str tokens), got {type(corpus).__name__}")
    if passes > 1 and isinstance(corpus, (types.GeneratorType, map, filter, zip)):
        raise TypeError(f"{where}: a generator can be iterated once, but training needs {passes} "
                        f"passes; pass a list or a re-iterable object such as LineSentence")
    return corpus


def checked_sentences(where, corpus):
    """Iterate ``corpus``, refusing a sentence of bytes. A sentence that is a ``str`` is an
    iterable of its characters, as in gensim (`scan_vocab` logs gensim's warning about it)."""
    for sentence in corpus:
        if isinstance(sentence, (bytes, bytearray)):
            raise TypeError(f"{where}: expected each sentence to be a list of str tokens, got "
                            f"{type(sentence).__name__} {bytes(sentence[:40])!r}; decode and "
                            f"split it first")
        yield sentence
