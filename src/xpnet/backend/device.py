"""PyTorch's device names as views of backends: ``"cpu"`` is the CPU backend, ``"cuda:N"`` is
``cupy:N``.

A `device` is only a name; it becomes a `Backend` when something is made or moved there
(`resolve`), so ``device("cuda")`` can be written, compared and printed on a machine without a
GPU, and only *using* it raises the same `BackendUnavailableError` as ``use_backend("cupy")``.
"""

from __future__ import annotations

import numbers

from .registry import Backend, BackendUnavailableError, load

__all__ = ["device", "resolve", "device_of_backend", "set_current_cuda_index",
           "current_cuda_index"]

_TORCH_TYPES = ("cpu", "cuda")
# What other PyTorch device types are, so their error can say why xpnet has no such device.
_FOREIGN = ("mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia", "vulkan", "privateuseone")

_cuda_index = 0  # the GPU that "cuda" without an index means (xpnet.cuda.set_device)


def current_cuda_index() -> int:
    return _cuda_index


def set_current_cuda_index(index: int) -> None:
    global _cuda_index
    _cuda_index = index


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives, in PyTorch's terms: ``device("cpu")``, ``device("cuda")``,
    ``device("cuda:1")`` or ``device("cuda", 1)``.

    ``"cpu"`` is the CPU backend: the active one when it runs on the CPU (numpy,
    array_api_strict, torch), else numpy. ``"cuda:N"`` is the ``cupy:N`` backend. A backend name
    (``device("cupy:1")``, ``device("array_api_strict:device1")``) is accepted too, and a tensor's
    ``.device`` remembers its exact backend. A device equals another device or a string naming
    the same place: ``t.device == "cpu"``.

    Attributes
    ----------
    type : str
        ``'cpu'``, ``'cuda'``, or the backend family for a device PyTorch has no name for.
    index : int, str or None
        The GPU number (None: the current one), or the array_api_strict device name.
    """

    __slots__ = ("type", "index", "_backend")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's parameter name
        self._backend = None
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given with a device object")
            self.type, self.index, self._backend = type.type, type.index, type._backend
            return
        if isinstance(type, Backend):
            self.type, self.index = _names_of_backend(type)
            self._backend = type
            return
        if isinstance(type, numbers.Integral) and not isinstance(type, bool) and index is None:
            type, index = "cuda", int(type)  # torch.device(1): the accelerator's GPU 1
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device string such as 'cpu' or 'cuda:0', a "
                            f"device or a GPU number, got {type.__class__.__name__}")
        text = type.strip()
        kind, _, number = text.partition(":")
        kind = kind.lower()
        if number and index is not None:
            raise ValueError(f"device: {text!r} already has an index; do not also pass "
                             f"index={index!r}")
        if kind in ("cpu", "cuda"):
            if number:
                if not number.isdigit():
                    raise ValueError(f"device: invalid device string {text!r}; expected 'cpu', "
                                     f"'cuda' or 'cuda:N' with N a GPU number")
                index = int(number)
            if index is not None and (isinstance(index, bool)
                                      or not isinstance(index, numbers.Integral) or index < 0):
                raise ValueError(f"device: index must be a non-negative int, got {index!r}")
            self.type, self.index = kind, (None if index is None else int(index))
            if kind == "cpu" and self.index not in (None, 0):
                raise ValueError(f"device: the CPU has only index 0, got {text!r}")
            if kind == "cpu":
                self.index = None  # PyTorch keeps cpu:0 apart from cpu; one CPU is enough here
            return
        if kind == "cupy":  # a name only, like "cuda": loading waits until it is used
            if number and not number.isdigit():
                raise ValueError(f"device: invalid device string {text!r}; expected 'cupy:N'")
            self.type, self.index = "cuda", int(number) if number else index
            return
        if kind in ("numpy", "torch", "array_api_strict"):
            backend_name = text if index is None else f"{text}:{index}"
            self._backend = load(backend_name)
            self.type, self.index = _names_of_backend(self._backend)
            return
        if kind in _FOREIGN:
            raise ValueError(f"device: xpnet runs on 'cpu' (NumPy) and 'cuda' (CuPy on NVIDIA "
                             f"GPUs); PyTorch's {kind!r} devices have no backend here")
        raise ValueError(f"device: unknown device {text!r}; expected 'cpu', 'cuda', 'cuda:N' or "
                         f"a backend name (numpy, cupy:N, array_api_strict, torch)")

    @property
    def backend(self) -> Backend:
        """The Backend this device names now (loading it; raises if it cannot run here)."""
        return resolve(self)

    def __str__(self):
        if self.type == "cpu" or self.index is None:
            return self.type
        return f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index!r})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError, BackendUnavailableError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


def _names_of_backend(backend: Backend):
    """(type, index) of the device a Backend is."""
    if backend.family == "cupy":
        return "cuda", int(backend.name.partition(":")[2])
    if backend.family == "array_api_strict" and backend.name != "array_api_strict":
        return "array_api_strict", backend.name.partition(":")[2]
    return "cpu", None


def device_of_backend(backend: Backend) -> device:
    """The device of a tensor on ``backend`` (it remembers that exact backend)."""
    cached = _by_backend.get(backend.name)
    if cached is None:
        cached = _by_backend[backend.name] = device(backend)
    return cached


_by_backend: dict[str, device] = {}


def resolve(where) -> Backend:
    """The Backend named by a device, a device string or a backend name.

    "cpu" follows the active backend's family where it runs on the CPU, so a script that moves
    its model ``.to("cpu")`` stays on array_api_strict or torch when the tests run it there.
    """
    from . import active
    if isinstance(where, Backend):
        return where
    d = where if isinstance(where, device) else device(where)
    if d._backend is not None:
        return d._backend
    if d.type == "cpu":
        current = active()
        if current.family in ("numpy", "torch"):
            return current
        if current.family == "array_api_strict":
            return load("array_api_strict")
        return load("numpy")
    index = _cuda_index if d.index is None else d.index
    return load(f"cupy:{index}")


def cpu_backend_of(backend: Backend) -> Backend:
    """Where ``.cpu()`` takes a tensor of ``backend``: its own library's CPU device (numpy for
    CuPy)."""
    if backend.family == "cupy":
        return load("numpy")
    if backend.family == "array_api_strict":
        return load("array_api_strict")
    return backend


def target_backend(op, backend=None, device=None):
    """The Backend for a factory's ``backend=`` / ``device=`` (None: the active one); both given
    must agree."""
    from . import active
    if device is None:
        return active() if backend is None else load(backend)
    if not isinstance(device, globals()["device"]):
        given = device
        try:
            device = globals()["device"](device)
        except ValueError as error:  # "device: ..." becomes the call the user made
            message = str(error)
            if type(error) is not ValueError or not message.startswith("device: "):
                raise
            rest = message[len("device: "):]
            raise ValueError(f"{op}: {rest}" if "device" in rest
                             else f"{op}: device {given!r}: {rest}") from None
    if backend is None:
        return resolve(device)
    chosen = load(backend)
    named = device
    agree = (named._backend is chosen if named._backend is not None
             else (named.type == "cuda") == (chosen.family == "cupy"))
    if not agree:
        raise ValueError(f"{op}: backend={chosen.name!r} and device={str(named)!r} name "
                         f"different places; give one")
    return chosen


def parse_to(op, args, kwargs):
    """PyTorch's ``to`` arguments -> (Backend or None, xpnet DType or None, copy).

    Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)`` and the
    keywords ``device``, ``dtype``, ``backend``, ``non_blocking`` (ignored: xpnet's copies are
    ordered on the device anyway) and ``copy``.
    """
    from xpnet import dtypes as _dt
    unknown = set(kwargs) - {"device", "dtype", "backend", "non_blocking", "copy",
                             "memory_format"}
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument {sorted(unknown)[0]!r}")
    where = kwargs.get("device")
    dtype = kwargs.get("dtype")
    backend = kwargs.get("backend")
    if len(args) > 2:
        raise TypeError(f"{op}: expected at most a device and a dtype, got {len(args)} "
                        f"positional arguments")
    for arg in args:
        if hasattr(arg, "_backend") and hasattr(arg, "dtype") and not isinstance(arg, Backend):
            if where is not None or dtype is not None:
                raise TypeError(f"{op}: a tensor argument gives both device and dtype; do not "
                                f"pass them again")
            backend, dtype = arg._backend, arg.dtype
        elif isinstance(arg, _dt.DType) or (isinstance(arg, type) and arg in (float, int, bool)):
            if dtype is not None:
                raise TypeError(f"{op}: dtype given twice")
            dtype = arg
        elif isinstance(arg, (str, device, Backend)) or (
                isinstance(arg, numbers.Integral) and not isinstance(arg, bool)):
            if where is not None or backend is not None:
                raise TypeError(f"{op}: device given twice")
            where = arg
        else:
            raise TypeError(f"{op}: expected a device (such as 'cpu' or 'cuda'), a dtype or a "
                            f"tensor, got {type(arg).__name__}")
    target = None
    if where is not None or backend is not None:
        target = target_backend(op, backend, where)
    if dtype is not None:
        dtype = _as_to_dtype(op, dtype)
    copy = kwargs.get("copy", False)
    if not isinstance(copy, bool):
        raise TypeError(f"{op}: copy must be True or False, got {copy!r}")
    return target, dtype, copy


def _as_to_dtype(op, dtype):
    from xpnet import dtypes as _dt
    if dtype is float:
        return _dt.float64  # PyTorch: Python float means torch.float64 here
    if dtype is int:
        return _dt.int64
    try:
        return _dt.as_dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}; expected an xpnet dtype such as "
                        f"xpnet.float32") from None
