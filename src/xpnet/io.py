"""Pickle-free `save` and `load` with PyTorch's signatures: state dicts, optimizer and scheduler
states, nests of tensors and numbers, NumPy arrays, and whole Modules.

A file is a plain safetensors file. Its tensors are the array leaves of the saved object, moved
to the host; the object's structure and its other leaves are JSON in the safetensors metadata, so
loading parses JSON and raw bytes, never unpickles and never calls anything the file names. Any
safetensors reader can open the file (``safetensors.numpy.load_file``); a flat state dict's
tensors keep their names. `load` also reads plain safetensors files written elsewhere
(``safetensors.torch.save_file``) as a flat dict of tensors.

The structure (format version 2) is JSON in which every object is a one-key tag, so no user key
can be mistaken for one:

- ``{"dict": [[key, value], ...]}``, ``{"ordereddict": ...}``, ``{"counter": ...}``: a dict,
  `collections.OrderedDict` or `collections.Counter` with str or int keys, in order;
- ``{"tuple": [...]}``: a tuple (lists are JSON arrays);
- ``{"tensor": {"id", "name", "device", "requires_grad"}}`` and ``{"parameter": {...}}``: the
  safetensors entry ``name``, saved from ``device`` (``"cpu"``, ``"cuda:1"``...); an entry with
  ``"dtype": "complex128"`` is stored as float64 (real, imaginary) pairs on a last axis of 2,
  since safetensors has no complex128;
- ``{"ndarray": {"id", "name"}}``: a NumPy array (it loads as a NumPy array);
- ``{"module": {"id", "class", "training", "parameters", "buffers", "modules",
  "attributes"}}``: an `xpnet.nn.Module`, its class as ``"package.module:QualifiedName"``;
- ``{"ref": id}``: the tensor, array or module saved earlier under that ``id`` (shared
  parameters and tied submodules stay one object);
- ``{"float": "nan" | "inf" | "-inf"}``, ``{"complex": [real, imag]}``, ``{"dtype": name}``,
  ``{"device": name}``.

None, bool, int, finite float and str are JSON's own. Version 1 files (``{"tensor": name}``)
still load.
"""

from __future__ import annotations

import collections
import collections.abc
import errno
import io as _stdio
import json
import math
import numbers
import os
import struct

from xpnet import backend as _backends
from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor
from xpnet.backend import device as _device
from xpnet.files import with_path, write_atomic

__all__ = ["save", "load", "FORMAT", "VERSION"]

FORMAT = "xpnet"
VERSION = 2
_STRUCTURE_KEY = "xpnet.structure"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
# safetensors dtype codes that xpnet tensors can hold; F16 is read from other writers' files.
_TENSOR_CODES = {"BOOL", "U8", "U16", "U32", "U64", "I8", "I16", "I32", "I64", "F32", "F64",
                 "C64"}
_NUMPY_CODES = _TENSOR_CODES | {"F16"}  # what NumPy (so safetensors.numpy) can hold
_DICT_TAGS = {"dict": dict, "ordereddict": collections.OrderedDict,
              "counter": collections.Counter}


# -- encoding ------------------------------------------------------------------------------------

class _Attr(str):
    """A step into an object's attribute (``.weight``) in a key path, as opposed to an item."""


def _path_text(path) -> str:
    return "obj" + "".join(f".{key}" if isinstance(key, _Attr) else f"[{key!r}]" for key in path)


def _tensor_name(path) -> str:
    # Items are joined by "/" and attributes by ".", so a module's tensors keep their
    # state-dict names ("fc.weight") and a nest of dicts reads as a path ("optimizer/state/0").
    parts = []
    for i, key in enumerate(path):
        if i:
            parts.append("." if isinstance(key, _Attr) else "/")
        parts.append(str(key))
    return "".join(parts)


def _storable(array):
    """(C-ordered host array safetensors can store, dtype note); complex128 becomes float64
    (real, imaginary) pairs."""
    note = None
    if array.dtype.kind == "c" and array.dtype.itemsize == 16:
        xp = _backends.load("numpy").xp
        array, note = xp.stack([xp.real(array), xp.imag(array)], axis=-1), "complex128"
    if not array.flags.c_contiguous:
        # safetensors.numpy.save (0.8.0) writes the memory of a transposed or strided array as
        # if it were C-ordered: wrong values, silently.
        array = array.copy(order="C")
    return array, note


class _Encoder:
    """Turns an object into JSON, collecting its arrays (host NumPy arrays) by name."""

    def __init__(self):
        self.arrays = {}
        self.ids = {}  # id(tensor, array or module) -> number in the file
        self.keep_alive = []  # ids stay unique only while the objects live

    def _array_name(self, path, default):
        base = name = _tensor_name(path) or default
        while name in self.arrays:  # e.g. {"a/b": t, "a": {"b": t}}
            name = f"{base}#{len(self.arrays)}"
        return name

    def _remember(self, obj):
        number = len(self.ids)
        self.ids[id(obj)] = number
        self.keep_alive.append(obj)
        return number

    def encode(self, obj, path=(), open_containers=frozenset()):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if id(obj) in self.ids:
            return {"ref": self.ids[id(obj)]}
        if isinstance(obj, Tensor):
            return self._tensor(obj, path)
        from xpnet.nn.module import Module
        if isinstance(obj, Module):
            return self._module(obj, path)
        if _backends.is_numpy_array(obj):
            if _backend_of(obj) is None:  # a NumPy scalar: its Python value
                return self.encode(obj.item(), path, open_containers)
            return self._ndarray(obj, path)
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            return _float(obj)
        if isinstance(obj, numbers.Complex):
            return {"complex": [_float(obj.real), _float(obj.imag)]}
        if isinstance(obj, _dt.DType):
            return {"dtype": obj.name}
        if isinstance(obj, _device.device):
            return {"device": str(obj)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in open_containers:
                raise TypeError(f"save: the object contains itself at {_path_text(path)}")
            open_containers = open_containers | {id(obj)}
        if isinstance(obj, dict):
            return self._dict(obj, path, open_containers)
        if isinstance(obj, (list, tuple)):
            encoded = [self.encode(value, (*path, i), open_containers)
                       for i, value in enumerate(obj)]
            return {"tuple": encoded} if isinstance(obj, tuple) else encoded
        raise TypeError(_refusal(obj, path))

    def _tensor(self, t, path):
        host, note = _storable(t.numpy())
        name = self._array_name(path, "tensor")
        self.arrays[name] = host
        from xpnet.nn.parameter import Parameter
        entry = {"id": self._remember(t), "name": name, "device": str(t.device),
                 "requires_grad": bool(t.requires_grad)}
        if note:
            entry["dtype"] = note
        return {"parameter" if isinstance(t, Parameter) else "tensor": entry}

    def _ndarray(self, a, path):
        kind, size = a.dtype.kind, a.dtype.itemsize
        if not (kind in "biu" or (kind == "f" and size in (2, 4, 8))
                or (kind == "c" and size in (8, 16))):
            raise TypeError(f"save: cannot store a NumPy array of dtype {a.dtype} at "
                            f"{_path_text(path)}; safetensors holds booleans, integers, "
                            f"float16/32/64 and complex numbers")
        host, note = _storable(a)
        name = self._array_name(path, "array")
        self.arrays[name] = host
        entry = {"id": self._remember(a), "name": name}
        if note:
            entry["dtype"] = note
        return {"ndarray": entry}

    def _dict(self, obj, path, open_containers):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__} "
                                f"key {key!r} at {_path_text(path)}")
            items.append([key if isinstance(key, str) else int(key),
                          self.encode(value, (*path, key), open_containers)])
        if isinstance(obj, collections.Counter):
            return {"counter": items}
        if isinstance(obj, collections.OrderedDict):
            return {"ordereddict": items}
        return {"dict": items}  # other dict subclasses are saved as plain dicts

    def _module(self, m, path):
        state = vars(m)
        if "_parameters" not in state:
            raise TypeError(f"save: the {type(m).__name__} at {_path_text(path)} has no "
                            f"parameter registry; its __init__ must call super().__init__()")
        entry = {"id": self._remember(m), "class": _class_path(type(m)),
                 "training": bool(m.training)}
        non_persistent = state.get("_non_persistent", set())
        entry["parameters"] = [[name, self.encode(p, (*path, _Attr(name)))]
                               for name, p in m._parameters.items()]
        entry["buffers"] = [[name, self.encode(b, (*path, _Attr(name))),
                             name not in non_persistent] for name, b in m._buffers.items()]
        entry["modules"] = [[name, self.encode(sub, (*path, _Attr(name)))]
                            for name, sub in m._modules.items()]
        entry["attributes"] = [[name, self.encode(value, (*path, _Attr(name)))]
                               for name, value in state.items() if name not in _MODULE_OWN]
        return {"module": entry}


# What `_module` records in fields of their own rather than as plain attributes.
_MODULE_OWN = frozenset({"training", "_parameters", "_buffers", "_modules", "_non_persistent"})


def _class_path(cls):
    from xpnet.serialization import class_path
    return class_path(cls)


def _float(value):
    value = float(value)
    return value if math.isfinite(value) else {"float": repr(value)}


def _backend_of(obj):
    try:
        return _backends.backend_of_array(obj)
    except ValueError:  # e.g. a torch tensor on a GPU: an array, of no backend here
        return type(obj)


def _refusal(obj, path):
    """The TypeError message for an object `save` cannot encode."""
    from xpnet.optim.lr_scheduler import LRScheduler
    from xpnet.optim.optimizer import Optimizer
    where, kind = _path_text(path), type(obj).__name__
    if isinstance(obj, Optimizer):
        return (f"save: cannot save the optimizer itself ({kind} at {where}): it holds its "
                f"parameters by reference; save optimizer.state_dict() and, after loading, "
                f"pass it to optimizer.load_state_dict() of a new {kind} built on the model's "
                f"parameters")
    if isinstance(obj, LRScheduler):
        return (f"save: cannot save the scheduler itself ({kind} at {where}); save "
                f"scheduler.state_dict() and restore it with load_state_dict() on a new {kind}")
    if _backend_of(obj) is not None:
        return (f"save: cannot encode a raw {kind} array at {where}; wrap it as a tensor "
                f"(xpnet.Tensor(array)) or pass a NumPy array")
    in_module = any(isinstance(key, _Attr) for key in path)
    if in_module:
        return (f"save: cannot encode a {kind} at {where}: a saved module's attributes may hold "
                f"tensors, modules, NumPy arrays, numbers, strings, None, dtypes and "
                f"lists/tuples/dicts of them, not code or open resources (forward hooks "
                f"included); save model.state_dict() instead and rebuild the model in code")
    hint = "; pass its .state_dict()" if hasattr(obj, "state_dict") else ""
    return (f"save: cannot encode a {kind} at {where}; expected Tensor, Module, NumPy array, "
            f"dict, list, tuple, str, int, float, complex, bool or None{hint}")


def save(obj, f) -> None:
    """Write ``obj`` (a state dict, a Module, or any nest of dicts/lists/tuples of tensors,
    arrays and numbers) to a file, as ``torch.save`` does but never with pickle.

    A path is written atomically: to a temporary file in the same directory that replaces it
    only once it is complete and flushed to disk, so an interrupted save leaves any previous
    file intact. The file is a safetensors file with the structure in its metadata.

    Parameters
    ----------
    obj : object
        Tensors and Parameters (any backend and device; ``requires_grad`` is kept), NumPy arrays
        (they load as NumPy arrays), Modules (rebuilt by `load`; see
        `xpnet.serialization`), dicts (str or int keys; OrderedDict and Counter keep their
        type), lists, tuples, None, bool, int, float (nan and infinities too), complex, str,
        xpnet dtypes and devices. A tensor, array or module reached twice is saved once and
        loads as one object.
    f : str, os.PathLike or binary file object
        The file to write (by convention ending in ``.safetensors``; it is not renamed), or an
        object with a ``write(bytes)`` method, such as ``io.BytesIO`` or ``open(path, "wb")``.

    Raises
    ------
    TypeError
        If ``obj`` holds something else (the message gives its key path: ``obj['opt']``,
        ``obj.encoder.fn``), such as an optimizer (save its ``state_dict()``) or a function in a
        module's attribute; or if ``f`` is neither a path nor a binary file object. Nothing is
        written then.
    IsADirectoryError, FileNotFoundError, PermissionError
        If the path cannot be written; the error keeps the path.

    Examples
    --------
    >>> import xpnet, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> xpnet.save({"weight": xpnet.ones(2), "step": 3}, path)
    >>> xpnet.load(path)["step"]
    3
    """
    import safetensors.numpy

    is_path = isinstance(f, (str, bytes, os.PathLike))
    if not is_path:
        _check_binary_writer(f)
    encoder = _Encoder()
    structure = encoder.encode(obj)
    metadata = {"format": FORMAT, "version": str(VERSION),
                _STRUCTURE_KEY: json.dumps(structure, allow_nan=False, separators=(",", ":"))}
    payload = safetensors.numpy.save(encoder.arrays, metadata=metadata)
    if is_path:
        write_atomic(os.fsdecode(os.fspath(f)), payload)
    else:
        _write_all(f, payload)


def _check_binary_writer(f):
    if isinstance(f, _stdio.TextIOBase):
        raise TypeError(f"save: the file object {_file_name(f)} is open in text mode; open it in "
                        f"binary mode (open(path, 'wb'))")
    if not callable(getattr(f, "write", None)):
        raise TypeError(f"save: f must be a path (str or os.PathLike) or a binary file object "
                        f"with a write() method, got {type(f).__name__}")


def _write_all(f, payload):
    view = memoryview(payload)
    while view:
        written = f.write(view)
        if written is None or written >= len(view):  # buffered files write everything
            break
        view = view[written:]


def _file_name(f):
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, (str, bytes)) else f"<{type(f).__name__}>"


# -- reading the file ----------------------------------------------------------------------------

def _read_exact(stream, n, where):
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if isinstance(chunk, str):
            raise TypeError(f"load: the file object {where} is open in text mode; open it in "
                            f"binary mode (open(path, 'rb'))")
        if not chunk:
            break
        chunks.append(bytes(chunk))
        got += len(chunk)
    return b"".join(chunks)


_CONVERT = ("load it once where PyTorch is installed and save its tensors with safetensors: "
            "`from safetensors.torch import save_file; save_file({k: v.contiguous() for k, v in "
            "torch.load(path, weights_only=True).items()}, 'model.safetensors')` (for a model, "
            "pass model.state_dict()); xpnet.load reads that file as a dict of tensors")


def _foreign_format(head, stream, where):
    """A ValueError for a file that is a pickle or a zip archive (torch.save, np.savez)."""
    if head.startswith(b"\x80"):
        return ValueError(
            f"load: {where} is a pickle (a legacy torch.save file?); xpnet never unpickles, "
            f"because unpickling runs code the file names. To convert a PyTorch file, {_CONVERT}")
    import zipfile
    rest = stream.read()  # zipfile only parses the archive's directory
    try:
        names = zipfile.ZipFile(_stdio.BytesIO(head + rest)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        names = []
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return ValueError(
            f"load: {where} is a PyTorch checkpoint (a zip archive written by torch.save, "
            f"holding a pickle); xpnet never unpickles, because unpickling runs code the file "
            f"names. To convert it, {_CONVERT}")
    return ValueError(
        f"load: {where} is a zip archive (an .npz file?), not a safetensors file; read NumPy "
        f"archives with numpy.load(path) and wrap the arrays with xpnet.tensor")


def _read_safetensors(stream, where):
    """(metadata dict, header entries in file order, arrays by name) of one safetensors file."""
    from safetensors import SafetensorError
    import safetensors.numpy

    head = _read_exact(stream, 8, where)
    if head.startswith(b"PK\x03\x04"):
        raise _foreign_format(head, stream, where)

    def not_safetensors(why):
        return ValueError(f"load: {where} is not a safetensors file ({why}); xpnet.load reads "
                          f"files written by xpnet.save or by safetensors")

    if len(head) < 8:
        raise not_safetensors(f"it is {len(head)} bytes long")
    (length,) = struct.unpack("<Q", head)
    # A pickle starts with b"\x80" (PROTO), which is also the low byte of a header length such
    # as 640; only a length that is not a safetensors one makes it a pickle.
    pickled = head.startswith(b"\x80")
    if not 2 <= length <= _MAX_HEADER:
        if pickled:
            raise _foreign_format(head, stream, where)
        raise not_safetensors(f"a header length of {length} bytes")
    text = _read_exact(stream, length, where)
    if pickled and not text.startswith(b"{"):
        raise _foreign_format(head, stream, where)
    if len(text) < length:
        raise not_safetensors(f"the header is cut off after {len(text)} of {length} bytes")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise not_safetensors(f"its header is not JSON: {e}") from None
    except RecursionError:
        raise not_safetensors("its header is nested too deeply") from None
    if not isinstance(header, dict):
        raise not_safetensors("its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise not_safetensors("its __metadata__ is not a map of strings")
    end = 0
    for name, entry in header.items():
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(isinstance(o, int) and o >= 0 for o in offsets)):
            raise not_safetensors(f"bad entry for tensor {name!r}")
        end = max(end, offsets[1])
        if entry.get("dtype") not in _NUMPY_CODES:
            raise ValueError(f"load: {where} holds tensor {name!r} of dtype "
                             f"{entry.get('dtype')!r}, which xpnet cannot hold; convert it "
                             f"before saving (in PyTorch: {{k: v.float() for k, v in "
                             f"state_dict.items()}})")
    data = _read_exact(stream, end, where)
    if len(data) < end:
        raise ValueError(f"load: {where} is damaged: it is cut off ({len(data)} of {end} bytes "
                         f"of tensor data)")
    try:
        arrays = safetensors.numpy.load(head + text + data) if header else {}
    except (SafetensorError, TypeError, ValueError) as e:
        raise ValueError(f"load: {where} is damaged: {e}") from None
    return metadata, header, arrays


# -- where tensors go ----------------------------------------------------------------------------

def _placement(map_location, backend):
    """A function: saved device string -> the Backend its tensors load onto."""
    from xpnet.backend import BackendUnavailableError
    if isinstance(map_location, collections.abc.Mapping):
        table = {}
        for key, value in map_location.items():
            try:
                saved = str(_device.device(key))
                _device.device(value)  # parse now; load only if a tensor needs it
            except (TypeError, ValueError) as e:
                raise type(e)(f"load: map_location {{{key!r}: {value!r}}}: {e}") from None
            table[saved] = value
        fallback = None if backend is None else _backends.load(backend)
        cache = {}

        def place(saved):
            if saved not in cache:
                where = table.get(saved, saved if fallback is None else None)
                try:
                    cache[saved] = fallback if where is None else _device.resolve(where)
                except BackendUnavailableError as e:
                    raise BackendUnavailableError(
                        f"load: tensors saved on {saved!r} cannot go to {str(where)!r}: {e}; "
                        f"map that device elsewhere, e.g. map_location={{{saved!r}: 'cpu'}}"
                    ) from None
                except (TypeError, ValueError) as e:
                    raise ValueError(f"load: tensors saved on {saved!r}: {e}") from None
            return cache[saved]
        return place
    if callable(map_location) and not isinstance(map_location, (_device.device, _backends.Backend)):
        raise TypeError("load: map_location functions are not supported: xpnet never calls code "
                        "while loading and has no storages to pass them; give a device ('cpu', "
                        "'cuda', 'cuda:1', xpnet.device(...)), a backend name, or a dict mapping "
                        "saved devices to targets ({'cuda:1': 'cuda:0'})")
    if map_location is not None and not isinstance(
            map_location, (str, _device.device, _backends.Backend)):
        raise TypeError(f"load: map_location must be None, a device string, an xpnet.device, a "
                        f"backend name or a dict, got {type(map_location).__name__}")
    try:
        target = _device.target_backend("load", backend, map_location)
    except BackendUnavailableError as e:
        raise BackendUnavailableError(f"load: cannot load onto {str(map_location)!r}: {e}; pass "
                                      f"map_location='cpu' to load on the CPU") from None
    return lambda saved: target


# -- decoding ------------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, where, header, arrays, place, weights_only):
        self.where, self.header, self.arrays = where, header, arrays
        self.place, self.weights_only = place, weights_only
        self.used, self.objects = set(), {}

    def fail(self, what):
        raise ValueError(f"load: {self.where} is damaged: {what}")

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict) or len(node) != 1:
            self.fail(f"unexpected structure entry {node!r:.80}")
        (tag, value), = node.items()
        if tag in _DICT_TAGS and isinstance(value, list):
            out = _DICT_TAGS[tag]()
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int)) and not isinstance(pair[0], bool)):
                    self.fail(f"bad dict item {pair!r:.80}")
                out[pair[0]] = self.decode(pair[1])
            return out
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.decode(item) for item in value)
        if tag in ("tensor", "parameter") and isinstance(value, (dict, str)):
            return self._tensor(tag, value)
        if tag == "ndarray" and isinstance(value, dict):
            return self._define(value, lambda: self._host_array(value, numpy_ok=True))
        if tag == "module" and isinstance(value, dict):
            return self._module(value)
        if tag == "ref" and isinstance(value, int) and not isinstance(value, bool):
            if value not in self.objects:
                self.fail(f"a reference to object {value}, which comes later or not at all")
            return self.objects[value]
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "complex" and isinstance(value, list) and len(value) == 2:
            real, imag = (self.decode(v) for v in value)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in (real, imag)):
                self.fail(f"bad complex number {value!r:.80}")
            return complex(real, imag)
        if tag == "dtype" and isinstance(value, str) and value in _dt.ALL:
            return _dt.ALL[value]
        if tag == "device" and isinstance(value, str):
            try:
                return _device.device(value)
            except (TypeError, ValueError) as e:
                self.fail(f"bad device {value!r:.40} ({e})")
        self.fail(f"unknown structure tag {tag!r:.40}")

    def _define(self, entry, build):
        number = entry.get("id")
        if not isinstance(number, int) or isinstance(number, bool) or number in self.objects:
            self.fail(f"bad or repeated object id {number!r:.20}")
        obj = build()
        self.objects[number] = obj
        return obj

    def _host_array(self, entry, numpy_ok=False):
        """The NumPy array an entry names (complex128 pairs joined again)."""
        name = entry.get("name")
        if not isinstance(name, str) or name not in self.arrays:
            self.fail(f"the structure names a tensor {name!r:.80} that the file does not hold")
        if name in self.used:  # xpnet writes each array once; two objects must not share it
            self.fail(f"tensor {name!r} is named by two entries")
        if not numpy_ok and self.header[name].get("dtype") not in _TENSOR_CODES:
            self.fail(f"tensor {name!r} has dtype {self.header[name].get('dtype')!r}, which "
                      f"xpnet tensors cannot hold")
        self.used.add(name)
        array = self.arrays[name]
        note = entry.get("dtype")
        if note is not None:
            if note != "complex128" or array.ndim == 0 or array.shape[-1] != 2 \
                    or array.dtype.kind != "f" or array.dtype.itemsize != 8:
                self.fail(f"tensor {name!r} is not a complex128 pair array")
            xp = _backends.load("numpy").xp
            array = xp.astype(array[..., 0], xp.complex128) + 1j * array[..., 1]
        return array

    def _tensor(self, tag, entry):
        if isinstance(entry, str):  # format version 1: {"tensor": name}
            return self._make_tensor("tensor", {"name": entry}, "cpu", False)
        saved, requires_grad = entry.get("device"), entry.get("requires_grad")
        if not isinstance(saved, str) or not isinstance(requires_grad, bool):
            self.fail(f"bad tensor entry {entry!r:.80}")
        return self._define(entry, lambda: self._make_tensor(tag, entry, saved, requires_grad))

    def _make_tensor(self, tag, entry, saved, requires_grad):
        target = self.place(saved)
        t = Tensor._make(target.asarray(self._host_array(entry)), target)
        if requires_grad and not (t.dtype.is_floating_point
                                  or t.dtype.kind == "complex floating"):
            self.fail(f"tensor {entry.get('name')!r} of dtype {t.dtype.name} requires grad")
        if tag == "parameter":
            from xpnet.nn.parameter import Parameter
            return Parameter(t, requires_grad=requires_grad)
        return t.requires_grad_(requires_grad)

    def _module(self, entry):
        from xpnet.nn.module import Module
        from xpnet.nn.parameter import Parameter
        cls = self._module_class(entry.get("class"))
        fields = ("parameters", "buffers", "modules", "attributes")
        if not (isinstance(entry.get("training"), bool)
                and all(isinstance(entry.get(k), list) for k in fields)):
            self.fail(f"bad module entry for {entry.get('class')!r:.80}")
        # Never cls.__init__: a bare instance, the base class's empty registries, then the
        # recorded values written straight into them.
        module = object.__new__(cls)
        Module.__init__(module)
        self._define(entry, lambda: module)
        state = object.__getattribute__(module, "__dict__")
        state["training"] = entry["training"]

        def named(field, kinds, what, width=2):
            for item in entry[field]:
                if not (isinstance(item, list) and len(item) == width and isinstance(item[0], str)):
                    self.fail(f"bad {field} item {item!r:.80} of {entry['class']!r}")
                value = self.decode(item[1])
                if value is not None and not isinstance(value, kinds):
                    self.fail(f"{what} {item[0]!r} of {entry['class']!r} is a "
                              f"{type(value).__name__}")
                yield item, value

        for (name, _), value in named("parameters", Parameter, "parameter"):
            module._parameters[name] = value
        for item, value in named("buffers", Tensor, "buffer", width=3):
            if not isinstance(item[2], bool):
                self.fail(f"bad buffers item {item!r:.80} of {entry['class']!r}")
            module._buffers[item[0]] = value
            if not item[2]:
                module._non_persistent.add(item[0])
        for (name, _), value in named("modules", Module, "submodule"):
            module._modules[name] = value
        for item in entry["attributes"]:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and item[0] not in _MODULE_OWN):
                self.fail(f"bad attribute item {item!r:.80} of {entry['class']!r}")
            state[item[0]] = self.decode(item[1])
        return module

    def _module_class(self, path):
        """The Module subclass a recorded import path names, if this load may rebuild it."""
        from xpnet.nn.module import Module
        from xpnet.serialization import ClassNotAllowedError, allowed_class
        if not isinstance(path, str) or path.count(":") != 1:
            self.fail(f"bad module class {path!r:.80}")
        module_name, qualname = path.split(":")
        if not (all(part.isidentifier() for part in module_name.split("."))
                and all(qualname.split("."))):
            self.fail(f"bad module class {path!r:.80}")
        cls = allowed_class(path)
        if cls is None:
            if self.weights_only and not _is_own_module(module_name):
                raise ClassNotAllowedError(
                    f"load: {self.where} holds a module of class {path!r}, which "
                    f"weights_only=True does not rebuild. If you trust the file, load it with "
                    f"xpnet.load(f, weights_only=False); or allow the class with "
                    f"xpnet.serialization.add_safe_globals([{qualname.rsplit('.', 1)[-1]}]) "
                    f"(or inside `with xpnet.serialization.safe_globals([...]):`); or save "
                    f"model.state_dict() instead and load it into a model built in code")
            cls = _find_class(module_name, qualname, path)
            if self.weights_only and not _is_own(cls):
                cls = None  # an xpnet module re-exporting someone else's class
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise ClassNotAllowedError(
                f"load: {self.where} names {path!r} as a module class, but it is "
                f"{'not allowed' if cls is None else 'not an xpnet.nn.Module subclass'}; xpnet "
                f"rebuilds only Module subclasses (allowed ones under weights_only=True)")
        return cls


def _is_own_module(name):
    return name == "xpnet" or name.startswith("xpnet.")


def _is_own(cls):
    return isinstance(cls, type) and _is_own_module(cls.__module__)


def _find_class(module_name, qualname, path):
    """The object at ``module:qualname``, found through module and class dicts only (no
    properties or ``__getattr__`` run)."""
    import importlib
    import sys
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ModuleNotFoundError(f"load: cannot find the module of class {path!r} ({e}); "
                                      f"import or install it before loading") from None
    obj = module
    for part in qualname.split("."):
        # Only through modules and classes: an instance's __dict__ could be a property.
        namespace = vars(obj) if isinstance(obj, (type, type(module))) else {}
        if part not in namespace:
            raise AttributeError(f"load: cannot find class {path!r} (no {part!r} in "
                                 f"{getattr(obj, '__name__', obj)!r}); define or import it "
                                 f"before loading, or register a moved class with "
                                 f"xpnet.serialization.add_safe_globals([(cls, {path!r})])")
        obj = namespace[part]
    return obj


def load(f, map_location=None, weights_only=True, *, backend=None):
    """Read what `save` wrote (or a plain safetensors file), with PyTorch's signature.

    Only JSON and raw tensor bytes are parsed: nothing is unpickled and nothing the file names
    is called. A saved Module is rebuilt from its recorded class without calling ``__init__``.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        The file, or an object with ``read()`` (``io.BytesIO``, ``open(path, "rb")``); reading
        stops at the end of the saved object, so several saves into one stream load in turn.
    map_location : None, str, xpnet.device, Backend or dict, optional
        Where tensors go: None is ``backend`` (default: the active backend); a device
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``xpnet.device(...)``) or backend name puts every
        tensor there; a dict maps saved devices to targets (``{"cuda:1": "cuda:0"}``), and
        tensors from devices it does not list go back to the device they were saved from (or to
        ``backend`` when given). NumPy arrays always load as NumPy arrays.
    weights_only : bool, default=True
        Rebuild only xpnet's own module classes and those allowed by
        `xpnet.serialization.add_safe_globals`. False also looks other classes up by their
        import path (importing their module) -- only for files you trust; only `xpnet.nn.Module`
        subclasses are ever rebuilt. Data (tensors, arrays, numbers, containers) loads either
        way.
    backend : str, optional
        Backend name for the tensors (xpnet's spelling of ``map_location``; both given must
        agree, except that with a dict it places the tensors the dict does not).

    Returns
    -------
    The saved object: dicts (keys str or int, in the saved order; OrderedDict and Counter kept),
    lists, tuples, Tensors and Parameters (with their ``requires_grad``), NumPy arrays, Modules,
    numbers, strings, bools and None. A plain safetensors file gives a dict of name -> Tensor in
    the file's order (float16 is widened to float32, as xpnet has no float16).

    Raises
    ------
    ValueError
        If the file is not a safetensors file (a PyTorch ``.pt`` file, for one: the message says
        how to convert it), is damaged, or comes from a newer xpnet.
    xpnet.serialization.ClassNotAllowedError
        If the file holds a module class that ``weights_only`` does not allow, or names a class
        that is not a Module subclass (a `ValueError` and a `pickle.UnpicklingError`).
    TypeError
        For a callable ``map_location`` (xpnet never calls functions while loading), or a file
        object opened in text mode.
    BackendUnavailableError
        If the tensors must go to a device that cannot run here (``"cuda"`` without a GPU).
    FileNotFoundError, IsADirectoryError, PermissionError
        If the path cannot be read; the error keeps the path.
    """
    if weights_only is None:  # torch 2.6's default, meaning True
        weights_only = True
    if not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be True or False, got {weights_only!r}")
    place = _placement(map_location, backend)
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(f))
        if os.path.isdir(path):  # Windows' open() says PermissionError for a folder
            raise IsADirectoryError(errno.EISDIR, f"load: {os.strerror(errno.EISDIR)}", path)
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise with_path(e, path, "load") from None
        with stream:
            return _load_from(stream, path, place, weights_only)
    if isinstance(f, _stdio.TextIOBase):
        raise TypeError(f"load: the file object {_file_name(f)} is open in text mode; open it in "
                        f"binary mode (open(path, 'rb'))")
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"load: f must be a path (str or os.PathLike) or a binary file object "
                        f"with a read() method, got {type(f).__name__}")
    return _load_from(f, _file_name(f), place, weights_only)


def _load_from(stream, where, place, weights_only):
    metadata, header, arrays = _read_safetensors(stream, where)
    if metadata.get("format") != FORMAT:
        return _plain_file(where, header, arrays, place)
    version = metadata.get("version", "")
    if not version.isdigit() or int(version) > VERSION:
        raise ValueError(f"load: {where} has xpnet format version {version!r}; this xpnet "
                         f"reads versions up to {VERSION}; upgrade xpnet")
    if _STRUCTURE_KEY not in metadata:
        raise ValueError(f"load: {where} is damaged: its metadata has no {_STRUCTURE_KEY!r}")
    decoder = _Decoder(where, header, arrays, place, weights_only)
    try:
        obj = decoder.decode(json.loads(metadata[_STRUCTURE_KEY]))
    except json.JSONDecodeError as e:
        decoder.fail(f"its structure is not valid JSON ({e})")
    except RecursionError:
        decoder.fail("its structure is nested too deeply")
    if decoder.used != set(arrays):
        extra = sorted(set(arrays) - decoder.used)
        decoder.fail(f"tensors {extra[:5]} are not part of the saved structure")
    return obj


def _plain_file(where, header, arrays, place):
    """A safetensors file from elsewhere: its tensors by name, in the file's order."""
    numpy_backend = _backends.load("numpy")
    target = place("cpu")
    out = {}
    for name, entry in header.items():
        array = arrays[name]
        if entry.get("dtype") == "F16":  # xpnet has no float16; float32 holds each one exactly
            array = numpy_backend.xp.astype(array, numpy_backend.xp.float32)
        out[name] = Tensor._make(target.asarray(array), target)
    return out
