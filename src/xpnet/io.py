"""Pickle-free saving: `save` and `load` for state dicts of modules and optimizers.

A file is a plain safetensors file. Its tensors are the leaves of the saved object, moved to the
host; the object's structure and its non-tensor leaves are JSON in the safetensors metadata, so
loading parses JSON and raw bytes and never runs code. Any safetensors reader can open the file
(``safetensors.numpy.load_file``); a flat state dict's tensors keep their names.

The structure is JSON in which every object is a one-key tag, so no user key can be mistaken
for one:

- ``{"dict": [[key, value], ...]}``: a dict with str or int keys, in order;
- ``{"tuple": [...]}``: a tuple (lists are JSON arrays);
- ``{"tensor": name}``: the safetensors entry ``name``;
- ``{"float": "nan" | "inf" | "-inf"}``: floats JSON cannot spell.

None, bool, int, finite float and str are JSON's own.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import secrets

from xpnet import backend as _backends
from xpnet.autograd.tensor import Tensor

__all__ = ["save", "load", "FORMAT", "VERSION"]

FORMAT = "xpnet"
VERSION = 1
_STRUCTURE_KEY = "xpnet.structure"


# -- encoding ------------------------------------------------------------------------------------

def _path_text(path) -> str:
    return "obj" + "".join(f"[{key!r}]" for key in path)


def _encode(obj, path, tensors, names, open_containers=frozenset()):
    """JSON for ``obj``; its tensors go to ``tensors`` under names built from their key path."""
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in open_containers:
            raise TypeError(f"save: the object contains itself at {_path_text(path)}")
        open_containers = open_containers | {id(obj)}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, Tensor):
        if obj.dtype.name == "complex128":
            raise TypeError(f"save: safetensors cannot store complex128 (at {_path_text(path)}); "
                            f"convert it with .to(dtype='complex64') or save real and imaginary "
                            f"parts")
        base = name = "/".join(str(key) for key in path) or "tensor"
        while name in names:  # e.g. {"a/b": t, "a": {"b": t}}
            name = f"{base}#{len(names)}"
        names.add(name)
        tensors[name] = obj.numpy()
        return {"tensor": name}
    if isinstance(obj, numbers.Integral):  # also NumPy integers; bool is handled above
        return int(obj)
    if isinstance(obj, numbers.Real):
        value = float(obj)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__} "
                                f"key {key!r} at {_path_text(path)}")
            items.append([key if isinstance(key, str) else int(key),
                          _encode(value, (*path, key), tensors, names, open_containers)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        encoded = [_encode(value, (*path, i), tensors, names, open_containers)
                   for i, value in enumerate(obj)]
        return {"tuple": encoded} if isinstance(obj, tuple) else encoded
    hint = "; pass its .state_dict()" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"save: cannot encode a {type(obj).__name__} at {_path_text(path)}; expected "
                    f"Tensor, dict, list, tuple, str, int, float, bool or None{hint}")


def save(obj, path) -> None:
    """Write ``obj`` (a state dict, or any nest of dicts/lists/tuples of tensors and numbers).

    The file is written atomically: to a temporary file in the same directory that replaces
    ``path`` only once it is complete and flushed to disk, so an interrupted save leaves any
    previous file intact.

    Parameters
    ----------
    obj : dict, list, tuple or Tensor
        Leaves may be Tensors (any backend and device), None, bool, int, float and str; dict keys
        must be str or int.
    path : str or os.PathLike
        The file to write (by convention ending in ``.safetensors``); it is not renamed.

    Raises
    ------
    TypeError
        If ``obj`` holds something else (the message gives its key path), before anything is
        written.

    Examples
    --------
    >>> import xpnet, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> xpnet.save({"weight": xpnet.ones(2), "step": 3}, path)
    >>> xpnet.load(path)["step"]
    3
    """
    import safetensors.numpy

    tensors, names = {}, set()
    structure = _encode(obj, (), tensors, names)
    metadata = {"format": FORMAT, "version": str(VERSION),
                _STRUCTURE_KEY: json.dumps(structure, allow_nan=False, separators=(",", ":"))}
    _write_atomic(os.fspath(path), safetensors.numpy.save(tensors, metadata=metadata))


def _write_atomic(path, payload):
    """Write ``payload`` to ``path`` through a temporary sibling file and `os.replace`."""
    directory = os.path.dirname(os.path.abspath(path))
    # O_EXCL with a random name instead of tempfile.mkstemp: mkstemp makes the file 0600, while
    # os.open(..., 0o666) honours the umask as an ordinary open() would.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"save: could not create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic within one filesystem, on POSIX and Windows
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        except OSError:  # some filesystems refuse fsync on directories; the data is safe anyway
            pass
        finally:
            os.close(dir_fd)


# -- decoding ------------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, path, handle, backend):
        self.path, self.handle, self.backend = path, handle, backend
        self.available = set(handle.keys())
        self.used = set()

    def fail(self, what):
        raise ValueError(f"load: {self.path} is damaged: {what}")

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict) or len(node) != 1:
            self.fail(f"unexpected structure entry {node!r:.80}")
        (tag, value), = node.items()
        if tag == "dict" and isinstance(value, list):
            out = {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int)) and not isinstance(pair[0], bool)):
                    self.fail(f"bad dict item {pair!r:.80}")
                out[pair[0]] = self.decode(pair[1])
            return out
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.decode(item) for item in value)
        if tag == "tensor" and isinstance(value, str):
            if value not in self.available:
                self.fail(f"the structure names a tensor {value!r} that the file does not hold")
            self.used.add(value)
            return Tensor._make(self.backend.asarray(self.handle.get_tensor(value)), self.backend)
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        self.fail(f"unknown structure tag {tag!r:.40}")


def load(path, backend=None):
    """Read what `save` wrote, with every tensor on ``backend``.

    Only JSON and raw tensor bytes are parsed; nothing in the file is executed.

    Parameters
    ----------
    path : str or os.PathLike
    backend : str, optional
        Backend for the tensors; default the active one.

    Returns
    -------
    The saved object: dicts (keys str or int, in the saved order), lists, tuples, Tensors (not
    requiring grad) and plain numbers, strings, bools and None.

    Raises
    ------
    ValueError
        If the file is not a safetensors file written by `save`, or is damaged.
    """
    from safetensors import SafetensorError, safe_open

    path = os.fspath(path)
    target = _backends.active() if backend is None else _backends.load(backend)
    try:
        handle = safe_open(path, framework="np")
    except SafetensorError as e:
        raise ValueError(f"load: {path} is not an xpnet file (not a safetensors file: "
                         f"{e})") from None
    with handle:
        metadata = handle.metadata() or {}
        if metadata.get("format") != FORMAT or _STRUCTURE_KEY not in metadata:
            raise ValueError(f"load: {path} is a safetensors file but was not written by "
                             f"xpnet.save (metadata format={metadata.get('format')!r}); read it "
                             f"with safetensors.numpy.load_file and wrap arrays with xpnet.tensor")
        version = metadata.get("version", "")
        if not version.isdigit() or int(version) > VERSION:
            raise ValueError(f"load: {path} has xpnet format version {version!r}; this xpnet "
                             f"reads versions up to {VERSION}; upgrade xpnet")
        decoder = _Decoder(path, handle, target)
        try:
            obj = decoder.decode(json.loads(metadata[_STRUCTURE_KEY]))
        except json.JSONDecodeError as e:
            decoder.fail(f"its structure is not valid JSON ({e})")
        except RecursionError:
            decoder.fail("its structure is nested too deeply")
        if decoder.used != decoder.available:
            extra = sorted(decoder.available - decoder.used)
            decoder.fail(f"tensors {extra[:5]} are not part of the saved structure")
    return obj
