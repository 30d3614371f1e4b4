"""The original word2vec C tool's vector files, read and written as gensim 4 does.

Text form: a header line ``"<count> <vector_size>"``, then one line per key: the key, a space,
and ``vector_size`` numbers separated by spaces. Binary form: the same header, then per key the
key's UTF-8 bytes, a space and ``vector_size`` little-endian float32 values (the C tool also puts
a newline after each vector, which readers skip). A name ending in ``.gz`` or ``.bz2`` is
compressed, as gensim (through smart_open) does.

Reading streams the file (so ``limit`` reads only the head of a large one): keys are found with
a Python loop, but the binary vectors are joined into one buffer and handed to the backend in
one ``asarray``, never float by float. Writing builds the file in memory and replaces the old
one atomically (`xpnet.io`), so a failed save leaves it intact.
"""

from __future__ import annotations

import array
import bz2
import gzip
import logging
import os
import struct
import sys
from decimal import ROUND_FLOOR, Decimal, localcontext

from xpnet import backend as _backends

from .errors import FileDecodeError, TruncatedFileError, WrongFileError

__all__ = ["save_word2vec_format", "load_word2vec_format", "intersect_word2vec_format",
           "save_native", "load_native"]

logger = logging.getLogger(__name__)

_FLOAT32 = struct.Struct("<f")
_FLOAT16 = struct.Struct("<e")


# -- bytes in and out ----------------------------------------------------------------------------

def _open_binary(fname):
    """The file for reading bytes; through gzip or bz2 when the name ends in .gz or .bz2."""
    name = os.fspath(fname)
    if name.endswith(".gz"):
        return gzip.open(name, "rb")
    if name.endswith(".bz2"):
        return bz2.open(name, "rb")
    return open(name, "rb")


def _read_failure(name, error):
    # A damaged compressed stream surfaces as OSError/EOFError from gzip or bz2; a stream that
    # ends early is a truncated file (gensim lets the EOFError through).
    kind = TruncatedFileError if isinstance(error, EOFError) else ValueError
    return kind(f"load_word2vec_format: cannot read {name}: {error}")


def _compress(name, payload):
    if name.endswith(".gz"):
        return gzip.compress(payload, mtime=0)
    if name.endswith(".bz2"):
        return bz2.compress(payload)
    return payload


def _write(name, payload, append):
    """Write (or append) atomically: the old file stays whole until the new one is complete."""
    from xpnet.files import write_atomic

    payload = _compress(name, payload)
    if append and os.path.exists(name):
        # A gzip or bz2 stream may be followed by another; readers concatenate them.
        with open(name, "rb") as f:
            payload = f.read() + payload
    write_atomic(name, payload)


def _float32_little_endian(values: array.array) -> array.array:
    if sys.byteorder != "little":
        values = array.array("f", values)
        values.byteswap()
    return values


def _float32_text(value: float, layout=None, limit=1e6) -> str:
    """NumPy's str() of a float32, so text files come out byte for byte as gensim writes them:
    the fewest significant digits that read back as the same float32 (the nearest such digits,
    ties to an even last digit, as NumPy's Dragon4), positional (with at least one decimal) for
    1e-4 <= |x| < 1e6, else scientific (``1e-05``, ``-3.4e+38``). With ``layout=_FLOAT16`` and
    ``limit=1e3``, the same for a float16 (NumPy's rule for it)."""
    if value == 0.0 or value != value or value in (_INF, -_INF):
        return _SPECIAL[repr(value)]
    shortest = _shortest_decimal(value, layout or _FLOAT32)
    if 1e-4 <= abs(value) < limit:
        text = format(shortest, "f")
        return text if "." in text else text + ".0"
    exponent = shortest.adjusted()
    return f"{format(shortest.scaleb(-exponent), 'f')}e{exponent:+03d}"


def _shortest_decimal(value, layout):
    """The decimal with the fewest significant digits that reads back as ``value`` in
    ``layout`` (a struct of one float); of two such, the nearer, then the even one."""
    pack, unpack = layout.pack, layout.unpack

    def reads_back(candidate):
        try:
            return unpack(pack(float(candidate)))[0] == value
        except OverflowError:
            return False

    with localcontext() as context:
        context.prec = 800  # exact: a float's decimal expansion has at most ~770 digits
        exact = Decimal(value)
        magnitude, sign = abs(exact), (-1 if value < 0 else 1)
        top = magnitude.adjusted()
        for digits in range(1, 18):
            unit = Decimal(1).scaleb(top - digits + 1)
            low = magnitude.scaleb(digits - 1 - top).to_integral_value(rounding=ROUND_FLOOR)
            found = [(abs(k * unit - magnitude), int(k) % 2, k * unit) for k in (low, low + 1)
                     if reads_back(sign * k * unit)]
            if found:
                return (sign * min(found)[2]).normalize()
    raise AssertionError(f"no decimal reads back as {value!r}")  # unreachable for floats


_INF = float("inf")
_SPECIAL = {"0.0": "0.0", "-0.0": "-0.0", "nan": "nan", "inf": "inf", "-inf": "-inf"}


def _float32_texts(backend, vectors32, flat):
    """`_float32_text` of every value of ``vectors32`` (``flat`` holds them as an array('f')),
    with the digit counts found on the backend so that Python formats each value once."""
    xp = backend.xp
    if not backend.supports_float64:
        return list(map(_float32_text, flat))
    v32 = xp.reshape(vectors32, (-1,))
    v = xp.astype(v32, xp.float64)
    magnitude = xp.abs(v)
    finite = xp.isfinite(v)
    safe = xp.where(finite & (magnitude > 0), magnitude, xp.ones_like(magnitude))
    exponent = xp.floor(xp.log10(safe))
    digits = xp.full(v.shape, 9, dtype=xp.int64, device=backend.device)
    for count in (8, 7, 6):  # a value that survives p digits survives more
        scale = xp.pow(10.0, exponent - (count - 1))
        rounded = xp.astype(xp.round(v / scale) * scale, xp.float32)
        digits = xp.where(rounded == v32, count, digits)
    # %g with those digits is NumPy's text for 1e-4 <= |x| < 1e6 except whole numbers (no
    # '.0'); those, the scientific range, zeros and non-finite values take the careful path.
    careful = (~finite) | (magnitude < 1e-4) | (magnitude >= 1e6) | (xp.floor(v) == v)
    texts = ["%.*g" % pair for pair in zip(backend.to_numpy(digits).tolist(), flat)]
    for i in backend.to_numpy(xp.nonzero(careful)[0]).tolist():
        texts[i] = _float32_text(flat[i])
    if array.array("f", map(float, texts)) != flat:
        # The float64 rounding above can misjudge a value lying on a float32 rounding
        # boundary; such values get the exact (slower) search.
        for i, (text, value) in enumerate(zip(texts, flat)):
            if _FLOAT32.unpack(_FLOAT32.pack(float(text)))[0] != value:
                texts[i] = _float32_text(value)
    return texts


def _texts_in_own_dtype(kv, vectors, vectors32, flat):
    """The text of every value as gensim writes it, ``str()`` of the NumPy scalar of the
    vectors' own dtype: float32 (the usual case, vectorised), float64 (Python's repr, which
    is NumPy's str for float64) or float16 (NumPy's shortest digits and its 1e3 limit)."""
    xp = kv.backend.xp
    if vectors.dtype == xp.float32:
        return _float32_texts(kv.backend, vectors32, flat)
    if vectors.dtype == xp.float64:
        wide = array.array("d")
        wide.frombytes(memoryview(kv.backend.to_numpy(vectors)).tobytes())
        return list(map(repr, wide))
    # float16: each value is exact in float32 (flat), written with float16's shortest digits.
    return [_float32_text(value, _FLOAT16, 1e3) for value in flat]


# -- writing -------------------------------------------------------------------------------------

def save_word2vec_format(kv, fname, fvocab=None, binary=False, total_vec=None,
                         write_header=True, prefix="", append=False, sort_attr="count"):
    """Write ``kv`` in the C tool's text or binary format, readable by gensim and the C tool.

    Parameters
    ----------
    kv : KeyedVectors
    fname : str or os.PathLike
        Output file; ``.gz`` or ``.bz2`` compresses.
    fvocab : str or os.PathLike, optional
        Also write ``"<key> <sort_attr value>"`` lines here (the C tool's ``-save-vocab``).
    binary : bool, default=False
    total_vec : int, optional
        Count to put in the header (default: the number of keys).
    write_header : bool, default=True
        False writes GloVe's header-less form.
    prefix : str, default=""
        Put before every key.
    append : bool, default=False
        Add to the end of ``fname`` instead of replacing it.
    sort_attr : str, default="count"
        Write keys by descending value of this attribute; without it, in index order.

    Raises
    ------
    ValueError
        If a key holds whitespace (the format could not be read back), rows and keys disagree,
        or ``fvocab`` is asked for without ``sort_attr``. Nothing is written then, and a failed
        write leaves any existing file as it was.
    """
    name = os.fspath(fname)
    keys, vectors = kv.index_to_key, kv.vectors
    if vectors.shape[0] != len(keys):
        raise ValueError(f"save_word2vec_format: {len(keys)} keys but {vectors.shape[0]} vector "
                         f"rows; assign matching index_to_key and vectors first")
    if total_vec is None:
        total_vec = len(keys)
    if sort_attr in kv.expandos:
        column = kv.expandos[sort_attr]
        order = sorted(range(len(keys)), key=lambda i: -column[i])
    else:
        # Vectors loaded from a C-format file without fvocab have no counts; keep their order.
        if fvocab is not None:
            raise ValueError(f"save_word2vec_format: cannot store the vocabulary in {fvocab} "
                             f"by {sort_attr!r}: the vectors have no such attribute (they have "
                             f"{sorted(kv.expandos)})")
        logger.warning("attribute %s not present in %s; storing in index_to_key order",
                       sort_attr, kv)
        order = range(len(keys))
    texts = []
    for i in order:
        text = f"{prefix}{keys[i]}"
        if text.split() != [text]:  # also refuses the empty key
            raise ValueError(f"save_word2vec_format: key {keys[i]!r} (row {i}) is empty or holds "
                             f"whitespace, which the word2vec format cannot store")
        texts.append(text)

    xp = kv.backend.xp
    vectors32 = xp.astype(vectors, xp.float32)  # binary files hold float32, whatever the dtype
    host = kv.backend.to_numpy(vectors32)
    flat = array.array("f")
    flat.frombytes(memoryview(host).tobytes())  # C order, native float32
    size = kv.vector_size
    parts = [f"{total_vec} {size}\n".encode("utf8")] if write_header else []
    if binary:
        raw = memoryview(_float32_little_endian(flat)).cast("B")
        width = 4 * size
        for text, i in zip(texts, order):
            parts.append(text.encode("utf8") + b" ")
            parts.append(raw[i * width:(i + 1) * width])
    else:
        values = _texts_in_own_dtype(kv, vectors, vectors32, flat)
        for text, i in zip(texts, order):
            numbers = " ".join(values[i * size:(i + 1) * size])
            parts.append(f"{text} {numbers}\n".encode("utf8"))
    payload = b"".join(parts)

    if fvocab is not None:
        vocab = "".join(f"{text} {column[i]}\n" for text, i in zip(texts, order))
        _write(os.fspath(fvocab), vocab.encode("utf8"), append)
    _write(name, payload, append)


# -- reading -------------------------------------------------------------------------------------

_DECODE_HINT = "pass unicode_errors='replace' or 'ignore' to read it anyway"


def _decode_error(error, name, line, offset, hint=_DECODE_HINT):
    where = f"load_word2vec_format: {name}" + (" (decompressed)" if name.endswith(
        (".gz", ".bz2")) else "")
    return FileDecodeError(error, where, line, offset, hint, filename=name)


def _read_counts(fvocab, unicode_errors):
    from xpnet.files import readable_file

    counts = {}
    name = readable_file("load_word2vec_format", fvocab, "fvocab")
    with _open_binary(name) as f:
        offset = 0
        for line_no, line in enumerate(f, start=1):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                parts = line.decode("utf8", errors=unicode_errors).split()
            except UnicodeDecodeError as e:
                raise _decode_error(e, name, line_no, start) from None
            if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
                raise ValueError(f"load_word2vec_format: {name} line {line_no}: expected "
                                 f"'<word> <count>', got {line[:80]!r}")
            counts[parts[0]] = int(parts[1])
    return counts


def _parse_header(line, name, encoding):
    parts = line.decode(encoding, errors="replace").split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) < 1:
        shown = line.rstrip()[:80]
        raise ValueError(f"load_word2vec_format: {name} line 1: expected a header "
                         f"'<vector count> <vector size>' (two positive integers), got "
                         f"{shown!r}; pass no_header=True for a file without one")
    return int(parts[0]), int(parts[1])


def _read_binary(f, offset, count, size, name, encoding, unicode_errors, chunk_size=1 << 20):
    """Keys and one bytes buffer of count*size float32 values, reading ``f`` in chunks from
    byte ``offset`` on; returns them with the offset after the last vector and the bytes
    already read past it. Errors name the byte offset."""
    width = 4 * size
    keys, chunks = [], []
    buffer, pos, at_end = b"", 0, False
    for number in range(1, count + 1):
        while True:
            while pos < len(buffer) and buffer[pos] == 0x0A:  # the C tool's newline
                pos += 1
            space = buffer.find(b" ", pos)
            if space != -1 and space + 1 + width <= len(buffer):
                break
            if at_end:
                if space == -1:
                    raise TruncatedFileError(
                        f"load_word2vec_format: {name} is truncated at byte offset "
                        f"{offset + pos}: expected vector {number} of {count} (a word, a space "
                        f"and {width} bytes of float32) but the file ends")
                word = buffer[pos:space][:40].decode(encoding, "replace")
                raise TruncatedFileError(
                    f"load_word2vec_format: {name} is truncated at byte offset "
                    f"{offset + space + 1}: vector {number} of {count} ({word!r}) needs {width} "
                    f"bytes of float32, only {len(buffer) - space - 1} remain; either the file is "
                    f"cut short or the header's vector size ({size}) is wrong")
            more = f.read(max(chunk_size, 2 * width))
            at_end = not more
            offset, buffer, pos = offset + pos, buffer[pos:] + more, 0
        try:
            key = buffer[pos:space].decode(encoding, errors=unicode_errors)
        except UnicodeDecodeError as e:
            raise _decode_error(e, name, None, offset + pos,
                                f"word {number} of {count}: either the file is damaged, or the "
                                f"header's vector size ({size}) is wrong, or the words are in "
                                f"another encoding (pass encoding=, or unicode_errors="
                                f"'replace')") from None
        keys.append(key)
        chunks.append(buffer[space + 1:space + 1 + width])
        pos = space + 1 + width
    return keys, b"".join(chunks), offset + pos, buffer[pos:]


def _read_text(f, first_line_no, count, size, name, encoding, unicode_errors, typecode,
               offset=0):
    """Keys and an array (``typecode`` 'f' or 'd') of count*size values from the next
    ``count`` lines of ``f`` (the first at byte ``offset``); errors name the line number."""
    # Parsed straight to float64 when asked (and for float16, which gensim parses from the
    # text in one rounding), not through float32.
    keys, values = [], array.array(typecode)
    for number in range(count):
        line_no = first_line_no + number
        line = f.readline()
        if not line:
            raise TruncatedFileError(
                f"load_word2vec_format: {name} is truncated: the header announces {count} "
                f"vectors but the file ends after line {line_no - 1} ({number} vectors)")
        try:
            parts = line.rstrip().decode(encoding, errors=unicode_errors).split(" ")
        except UnicodeDecodeError as e:
            raise _decode_error(e, name, line_no, offset) from None
        offset += len(line)
        numbers = [p for p in parts[1:] if p]
        if len(numbers) != size:
            raise ValueError(f"load_word2vec_format: {name} line {line_no}: expected a word and "
                             f"{size} numbers (the header's vector size), got "
                             f"{len(numbers)} numbers after {parts[0][:40]!r}")
        try:
            values.extend(map(float, numbers))
        except ValueError:
            bad = next(p for p in numbers if not _is_float(p))
            raise ValueError(f"load_word2vec_format: {name} line {line_no}: expected numbers "
                             f"after {parts[0][:40]!r}, got {bad[:40]!r}") from None
        keys.append(parts[0])
    return keys, values


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _measure_headerless(name, limit):
    """(count, size) of a header-less text file: its lines up to the last non-blank one (at
    most ``limit``), and the numbers on its first line, as gensim's first pass finds them."""
    count = size = 0
    with _open_binary(name) as f:
        for line_no, line in enumerate(f, start=1):
            if line_no == 1:
                size = len([p for p in line.rstrip().split(b" ")[1:] if p])
                if size < 1:
                    raise ValueError(f"load_word2vec_format: {name} line 1: expected a word and "
                                     f"its numbers, got {line[:80]!r}")
            if line.strip():
                count = line_no
            if limit is not None and line_no >= limit:
                break
    if size < 1:
        raise ValueError(f"load_word2vec_format: {name} is empty; expected lines of a word and "
                         f"its numbers")
    return count, size


def load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8",
                         unicode_errors="strict", limit=None, datatype="float32",
                         no_header=False, backend=None, binary_chunk_size=1 << 20):
    """Read a C-tool vector file (text or binary, optionally .gz/.bz2) into ``cls``.

    The file is read as a stream: with ``limit``, only the vectors asked for (and, without
    it, a check that nothing follows the announced ones).

    Parameters
    ----------
    cls : type
        KeyedVectors or a subclass.
    fname : str or os.PathLike
    fvocab : str or os.PathLike, optional
        ``"<word> <count>"`` lines (the C tool's ``-save-vocab``) for the ``count`` attribute;
        without it counts are made up in descending order, as gensim does.
    binary : bool, default=False
    encoding, unicode_errors : str
        How keys are decoded.
    limit : int, optional
        Read at most this many vectors.
    datatype : str or dtype, default="float32"
        dtype of the loaded vectors: float32, float64 or float16 (a name or a NumPy type;
        float16 on NumPy, torch or CuPy). Text is parsed straight into it, binary float32
        values are converted.
    no_header : bool, default=False
        The text file has no header line (GloVe); count and size come from the content.
    backend : str or Backend, optional
        Where the vectors go; default the active backend.
    binary_chunk_size : int, default=1 MiB
        Bytes per read of a binary file.

    Raises
    ------
    xpnet.word2vec.errors.TruncatedFileError
        If the file ends before the vectors its header announces (a ValueError and gensim's
        EOFError), naming the line or byte offset.
    xpnet.word2vec.errors.FileDecodeError
        For a key (or a vocabulary line) that is not valid in ``encoding`` with
        ``unicode_errors='strict'``: a UnicodeDecodeError naming the file and the line or byte
        offset.
    ValueError
        For a bad header, a corrupt file (naming the line number or byte offset), or content
        beyond the vectors the header announces.
    TypeError
        For a ``datatype`` that is not a float dtype of the backend.
    FileNotFoundError, IsADirectoryError, PermissionError
        If ``fname`` (or ``fvocab``) cannot be read; the error keeps the path.
    """
    from xpnet.files import readable_file

    name = readable_file("load_word2vec_format", fname, "fname")
    if no_header and binary:
        raise NotImplementedError("load_word2vec_format: no_header=True works only for text "
                                  "files (binary=False)")
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 0):
        raise ValueError(f"load_word2vec_format: limit must be a non-negative int or None, got "
                         f"{limit!r}")
    target = _backends.active() if backend is None else _backends.load(backend)
    from .keyed_vectors import vector_dtype  # keyed_vectors imports this module
    native = vector_dtype(target, datatype, "load_word2vec_format")
    single = native == target.xp.float32
    counts = None if fvocab is None else _read_counts(fvocab, unicode_errors)
    try:
        if no_header:
            count, size = _measure_headerless(name, limit)
            header_count = None
        with _open_binary(name) as f:
            if no_header:
                first_line_no, offset = 1, 0
            else:
                header = f.readline()
                header_count, size = _parse_header(header, name, encoding)
                count = header_count if limit is None else min(header_count, limit)
                first_line_no, offset = 2, len(header)
            check_rest = limit is None and header_count is not None
            if binary:
                keys, raw, end, rest = _read_binary(f, offset, count, size, name, encoding,
                                                    unicode_errors, binary_chunk_size)
                values = array.array("f")
                values.frombytes(raw)
                values = _float32_little_endian(values)
                if check_rest and (rest + f.read()).strip():
                    raise ValueError(f"load_word2vec_format: {name} byte offset {end}: the "
                                     f"header announces {header_count} vectors but more data "
                                     f"follows")
            else:
                keys, values = _read_text(f, first_line_no, count, size, name, encoding,
                                          unicode_errors, "f" if single else "d", offset)
                for line_no, line in enumerate(f if check_rest else (),
                                               start=first_line_no + count):
                    if line.strip():
                        raise ValueError(f"load_word2vec_format: {name} line {line_no}: the "
                                         f"header announces {header_count} vectors but more "
                                         f"follow")
    except (OSError, EOFError) as e:
        if isinstance(e, (FileNotFoundError, TruncatedFileError)):
            raise
        raise _read_failure(name, e) from None

    xp = target.xp
    parsed = xp.float64 if values.typecode == "d" else xp.float32
    if values:
        vectors = xp.reshape(xp.asarray(memoryview(values), dtype=parsed,
                                        device=target.device), (len(keys), size))
    else:  # torch refuses an empty buffer
        vectors = xp.zeros((0, size), dtype=parsed, device=target.device)
    if native != parsed:
        vectors = xp.astype(vectors, native)

    # Like gensim: the first of duplicated keys wins (with a logged warning).
    key_to_index, unique_rows = {}, []
    for row, key in enumerate(keys):
        if key in key_to_index:
            logger.warning("duplicate word %r in word2vec file %s, ignoring all but first",
                           key, name)
            continue
        key_to_index[key] = len(unique_rows)
        unique_rows.append(row)
    if len(unique_rows) != len(keys):
        rows = xp.asarray(unique_rows, dtype=xp.int64, device=target.device)
        vectors = xp.take(vectors, rows, axis=0)

    kv = cls(size, 0, dtype=native, backend=target)
    kv.index_to_key = [keys[row] for row in unique_rows]
    kv.key_to_index = key_to_index
    kv.next_index = len(unique_rows)
    kv.vectors = vectors
    if counts is None:
        # gensim makes up descending counts so that sorting by count keeps the file's order.
        kv.expandos["count"] = [count - i for i in range(len(unique_rows))]
    else:
        missing = [key for key in kv.index_to_key if key not in counts]
        if missing:
            logger.warning("vocabulary file %s is incomplete: %d words missing, e.g. %r; their "
                           "count is 0", os.fspath(fvocab), len(missing), missing[0])
        kv.expandos["count"] = [counts.get(key, 0) for key in kv.index_to_key]
    return kv


# -- xpnet's own format --------------------------------------------------------------------------

_NATIVE_FORMAT = "xpnet.KeyedVectors"
_NATIVE_VERSION = 1


def save_native(kv, path):
    """Write ``kv`` whole (keys, vectors in their dtype, per-key attributes and
    ``vectors_lockf``) through `xpnet.io.save`: a safetensors file with JSON metadata, never
    pickle, written atomically. float16 vectors, which xpnet tensors cannot hold, are stored as
    a NumPy float16 array."""
    from xpnet import io
    from xpnet.autograd.tensor import Tensor

    xp = kv.backend.xp
    half = getattr(xp, "float16", None)
    if half is not None and kv.vectors.dtype == half:
        vectors = kv.backend.to_numpy(kv.vectors)
    else:
        vectors = Tensor._make(kv.vectors, kv.backend)
    lockf = kv.vectors_lockf
    io.save({"format": _NATIVE_FORMAT, "version": _NATIVE_VERSION,
             "vector_size": kv.vector_size, "index_to_key": list(kv.index_to_key),
             "vectors": vectors,
             "vectors_lockf": None if lockf is None else Tensor._make(lockf, kv.backend),
             "expandos": {attr: list(column) for attr, column in kv.expandos.items()}}, path)


def load_native(cls, path, backend=None, mmap=None):
    """Read what `save_native` wrote into a new ``cls`` on ``backend`` (with ``mmap``, NumPy
    arrays over the file: see `xpnet.word2vec.storage`)."""
    from xpnet import io
    from xpnet.autograd.tensor import Tensor
    from xpnet.files import readable_file

    name = readable_file("KeyedVectors.load", path)
    from .storage import load_mapped, mapped_backend, refuse_pickle
    try:
        if mmap is not None:
            target = mapped_backend("KeyedVectors.load", mmap, backend)
            obj = load_mapped(name, mmap, "KeyedVectors.load")
        else:
            target = _backends.active() if backend is None else _backends.load(backend)
            obj = io.load(name, backend=target.name)
    except ValueError:
        refuse_pickle(name, "KeyedVectors.load")
        raise
    found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
    if found != _NATIVE_FORMAT:
        hint = ("; it is a whole model: Word2Vec.load(path).wv holds its vectors"
                if found == "xpnet.word2vec.Word2Vec" else "; load it with xpnet.load")
        raise WrongFileError(f"KeyedVectors.load: {name} is an xpnet file but holds no "
                             f"KeyedVectors (format {found!r}){hint}")
    version = obj.get("version")
    if not isinstance(version, int) or version > _NATIVE_VERSION:
        raise ValueError(f"KeyedVectors.load: {name} has KeyedVectors version {version!r}; "
                         f"this xpnet reads up to {_NATIVE_VERSION}")
    raw = lambda v: v.array if isinstance(v, Tensor) else v  # noqa: E731
    vectors, keys, size = raw(obj["vectors"]), obj["index_to_key"], obj["vector_size"]
    if _backends.backend_of_array(vectors) is not target:  # a NumPy float16 array
        vectors = target.asarray(vectors)
    if tuple(vectors.shape) != (len(keys), size):
        raise ValueError(f"KeyedVectors.load: {name} is damaged: {len(keys)} keys of size "
                         f"{size} but vectors of shape {tuple(vectors.shape)}")
    kv = cls(size, 0, dtype=vectors.dtype, backend=target)
    kv.index_to_key = list(keys)
    kv.key_to_index = {key: i for i, key in enumerate(keys)}
    kv.next_index = len(keys)
    kv.vectors = vectors
    kv.vectors_lockf = raw(obj.get("vectors_lockf"))
    kv.expandos = {attr: list(column) for attr, column in obj["expandos"].items()}
    return kv


def intersect_word2vec_format(kv, fname, lockf=0.0, binary=False, encoding="utf8",
                              unicode_errors="strict"):
    """Copy the vectors of a C-format file into ``kv`` for the keys both hold, as gensim.

    No key is added or removed; the vectors of the other keys stay. The ``vectors_lockf``
    factor of every copied key becomes ``lockf`` (0.0, the default, keeps training from
    moving them; 1.0 lets it); ``vectors_lockf`` is made one factor per key if it was not.

    Raises
    ------
    ValueError
        If the file's vector size differs from ``kv``'s (before anything changes), or for
        anything `load_word2vec_format` refuses.
    """
    name = os.fspath(fname)
    with _open_binary(name) as f:
        header = f.readline()
    _, size = _parse_header(header, name, encoding)
    if size != kv.vector_size:
        raise ValueError(f"intersect_word2vec_format: incompatible vector size {size} in file "
                         f"{name}; these vectors have size {kv.vector_size}")
    from .keyed_vectors import KeyedVectors
    loaded = load_word2vec_format(KeyedVectors, name, binary=binary, encoding=encoding,
                                  unicode_errors=unicode_errors, backend=kv.backend)
    pairs = [(kv.key_to_index[key], row) for row, key in enumerate(loaded.index_to_key)
             if key in kv.key_to_index]
    xp, device = kv.backend.xp, kv.backend.device
    n = len(kv.index_to_key)
    source = [-1] * n
    for target, row in pairs:
        source[target] = row
    source = xp.asarray(source, dtype=xp.int64, device=device)
    chosen = source >= 0
    if pairs:
        taken = xp.take(loaded.vectors, xp.where(chosen, source, xp.zeros_like(source)), axis=0)
        if taken.dtype != kv.vectors.dtype:
            taken = xp.astype(taken, kv.vectors.dtype)
        kv.vectors = xp.where(chosen[:, None], taken, kv.vectors)
    factors = kv.vectors_lockf
    if factors is None or factors.shape[0] != n:
        fill = 1.0 if factors is None or factors.shape[0] != 1 else float(factors[0])
        factors = xp.full((n,), fill, dtype=xp.float32, device=device)
    kv.vectors_lockf = xp.where(chosen, xp.asarray(lockf, dtype=xp.float32, device=device),
                                factors)
    logger.info("merged %d vectors into %s matrix from %s", len(pairs), tuple(kv.vectors.shape),
                name)


def _load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8",
                          unicode_errors="strict", limit=None, datatype="float32",
                          no_header=False, binary_chunk_size=100 * 1024):
    """gensim's private ``_load_word2vec_format``, which its own tests call with
    ``binary_chunk_size`` (the size of each read of a binary file)."""
    return load_word2vec_format(cls, fname, fvocab=fvocab, binary=binary, encoding=encoding,
                                unicode_errors=unicode_errors, limit=limit, datatype=datatype,
                                no_header=no_header, binary_chunk_size=binary_chunk_size)
