"""Loading xpnet's saved word vectors and models with their arrays memory-mapped (``mmap='r'``).

`xpnet.save` writes a safetensors file: an 8-byte little-endian header length, a JSON header
(each tensor's dtype, shape and ``data_offsets`` into the data block, and the saved object's
structure as JSON in ``__metadata__``), then the raw little-endian data. Mapping the file and
viewing each tensor's byte range as an array is all a memory map takes: nothing is read from
disk until a row is used, and the operating system shares the pages between processes that map
the same file (gensim's reason for ``mmap='r'``).

The arrays are NumPy arrays over the map (only the NumPy backend can hold them): read-only with
``mmap='r'``, copy-on-write with ``mmap='c'`` (changes stay in memory, the file is never
written). The map stays open as long as an array over it lives. float16 arrays are the
exception: they are read into memory (a memoryview cannot hold half floats).
"""

from __future__ import annotations

import json
import mmap as _mmap
import os
import struct

from xpnet import backend as _backends

__all__ = ["MMAP_MODES", "load_mapped", "refuse_pickle"]

MMAP_MODES = ("r", "c")
_MAX_HEADER = 100 * 1024 * 1024
# safetensors dtype code -> struct format of one element (memoryview.cast takes these; it has
# no half floats, so float16 arrays are read into memory instead, see _half).
_FORMATS = {"F32": "f", "F64": "d", "I8": "b", "I16": "h", "I32": "i", "I64": "q",
            "U8": "B", "U16": "H", "U32": "I", "U64": "Q", "BOOL": "?"}


def refuse_pickle(path, where):
    """Refuse a file that gensim's ``save()`` wrote (a pickle) with a way to convert it."""
    with open(path, "rb") as f:
        head = f.read(2)
    # Pickle protocols 2-5 start with PROTO (0x80) and the version. A safetensors header length
    # can start so too, so callers ask only after the file failed to read as safetensors.
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        raise ValueError(
            f"{where}: {path} is a pickle, as gensim's save() writes; xpnet never unpickles "
            f"(unpickling runs code the file names). Convert it once where gensim is "
            f"installed: gensim.models.Word2Vec.load(path).wv.save_word2vec_format("
            f"'vectors.bin', binary=True) (or KeyedVectors.load(path) for vectors), then "
            f"xpnet's KeyedVectors.load_word2vec_format('vectors.bin', binary=True); to train "
            f"further, build a Word2Vec from the corpus and intersect_word2vec_format the "
            f"vectors")


def mapped_backend(where, mmap, backend):
    """The NumPy backend, after checking ``mmap`` and that ``backend`` allows it."""
    if mmap not in MMAP_MODES:
        raise ValueError(f"{where}: expected mmap None, 'r' (read-only) or 'c' (copy-on-write), "
                         f"got {mmap!r}")
    numpy_backend = _backends.load("numpy")
    if backend is not None and _backends.load(backend) is not numpy_backend:
        raise ValueError(f"{where}: mmap={mmap!r} maps the file into NumPy arrays, but backend "
                         f"{_backends.load(backend).name!r} was asked for; load without mmap "
                         f"onto that backend, or with mmap onto 'numpy'")
    return numpy_backend


def load_mapped(path, mmap, where):
    """The object `xpnet.save` wrote to ``path``, with every tensor (and NumPy array) a NumPy
    array over a memory map of the file.

    Parameters
    ----------
    path : str or os.PathLike
    mmap : {'r', 'c'}
        Read-only or copy-on-write.
    where : str
        The caller, for error messages.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a safetensors file written by `xpnet.save`, or is damaged.
    """
    name = os.fspath(path)
    numpy_backend = _backends.load("numpy")
    with open(name, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{where}: {name} is not an xpnet file (it is {len(head)} bytes "
                             f"long)")
        (length,) = struct.unpack("<Q", head)
        if not 2 <= length <= _MAX_HEADER:
            raise ValueError(f"{where}: {name} is not an xpnet (safetensors) file: header length "
                             f"{length}")
        text = f.read(length)
        size = os.fstat(f.fileno()).st_size
        try:
            header = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{where}: {name} is not an xpnet (safetensors) file: its header is "
                             f"not JSON ({e})") from None
        metadata = header.pop("__metadata__", None) or {}
        structure = metadata.get("xpnet.structure")
        if metadata.get("format") != "xpnet" or structure is None:
            raise ValueError(f"{where}: {name} was not written by xpnet.save, so it holds no "
                             f"xpnet word vectors")
        start = 8 + length
        end = max((entry["data_offsets"][1] for entry in header.values()), default=0)
        if start + end > size:
            raise ValueError(f"{where}: {name} is damaged: it is cut off ({size - start} of {end} "
                             f"bytes of tensor data)")
        access = _mmap.ACCESS_READ if mmap == "r" else _mmap.ACCESS_COPY
        mapped = _mmap.mmap(f.fileno(), 0, access=access) if size else None
    # The map outlives the file object: the arrays below keep it alive through their buffers.
    whole = memoryview(mapped) if mapped is not None else memoryview(b"")

    def array(entry_name):
        entry = header.get(entry_name)
        if not isinstance(entry, dict) or entry.get("dtype") not in (*_FORMATS, "F16"):
            raise ValueError(f"{where}: {name} is damaged: no usable tensor {entry_name!r}")
        begin, stop = entry["data_offsets"]
        shape = tuple(entry["shape"])
        xp = numpy_backend.xp
        if entry["dtype"] == "F16":
            return _half(xp, whole[start + begin:start + stop], shape)
        view = whole[start + begin:start + stop].cast(_FORMATS[entry["dtype"]])
        if view.nbytes == 0:  # NumPy cannot view an empty buffer with a shape; nothing to map
            return xp.zeros(shape, dtype=getattr(xp, _numpy_name(entry["dtype"])))
        return xp.reshape(xp.asarray(view), shape)

    return _decode(json.loads(structure), array, where, name)


def _half(xp, raw, shape):
    """float16 data as an array in memory (a copy: no standard way views bytes as halves)."""
    values = [v for (v,) in struct.iter_unpack("<e", raw)]
    return xp.reshape(xp.asarray(values, dtype=xp.float16), shape)


def _numpy_name(code):
    return {"F16": "float16", "F32": "float32", "F64": "float64", "I8": "int8", "I16": "int16",
            "I32": "int32", "I64": "int64", "U8": "uint8", "U16": "uint16", "U32": "uint32",
            "U64": "uint64", "BOOL": "bool"}[code]


def _decode(node, array, where, name):
    """The saved structure (see `xpnet.io`) with tensors and arrays as mapped arrays: the tags
    the word2vec files use (dict, tuple, tensor, ndarray, float)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(item, array, where, name) for item in node]
    if isinstance(node, dict) and len(node) == 1:
        (tag, value), = node.items()
        if tag == "dict":
            return {key: _decode(item, array, where, name) for key, item in value}
        if tag == "tuple":
            return tuple(_decode(item, array, where, name) for item in value)
        if tag in ("tensor", "ndarray") and isinstance(value, dict) and "dtype" not in value:
            return array(value.get("name"))
        if tag == "float":
            return float(value)
    raise ValueError(f"{where}: {name} holds {str(node)[:60]!r}, which mmap= cannot map; it "
                     f"is not word vectors or a model saved by xpnet.word2vec")
