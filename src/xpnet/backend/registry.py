"""Backend names -> loaded `Backend` objects (namespace + device), and the CuPy availability probe.

A backend is an Array API namespace *and* a device: ``cupy:1`` and ``array_api_strict:device1``
are backends of their own, so an op can refuse to mix two devices by comparing two objects.
"""

from __future__ import annotations

import functools
import threading

import array_api_compat
import numpy as np

from xpnet import dtypes as _dt

from . import checks as _checks

FAMILIES = ("numpy", "array_api_strict", "torch", "cupy")


class BackendUnavailableError(RuntimeError):
    """A known backend that cannot run here (library missing, no device); the message says how to fix it."""


class Backend:
    """One array library on one device.

    Attributes
    ----------
    name : str
        Canonical name: ``numpy``, ``torch``, ``array_api_strict``, ``array_api_strict:device1``,
        ``cupy:0``...
    family : str
        The array library: one of ``numpy``, ``array_api_strict``, ``torch``, ``cupy``.
    xp : module
        Its Array API namespace (through array-api-compat where the library needs it).
    device : object
        The device to pass as ``device=`` to the namespace's creation functions.
    on_host : bool
        Whether the arrays live in host memory (numpy, torch's CPU tensors, array_api_strict's
        CPU device), so that reading a value back does not wait for a device.
    """

    def __init__(self, name, family, xp, device):
        self.name, self.family, self.xp, self.device = name, family, xp, device
        # backend dtype object -> xpnet DType; every backend dtype here is hashable.
        self._from_xp = {}
        self._to_xp = {}
        for dt in _dt.ALL.values():
            native = getattr(xp, dt.name, None)
            if native is not None:
                self._to_xp[dt] = native
                self._from_xp[native] = dt
                if family in ("numpy", "cupy"):  # arrays carry np.dtype('float32'), not np.float32
                    self._from_xp[np.dtype(native)] = dt
        self._float64_ok = None
        # The native float and complex dtypes, for the per-op "is it inexact?" test.
        self.inexact_dtypes = frozenset(
            native for native, dt in self._from_xp.items()
            if dt.is_floating_point or dt.kind == "complex floating")
        # Whether the arrays live in host memory: reading a value back costs no wait there.
        # array_api_strict's devices other than its CPU one stand in for a GPU.
        self.on_host = family in ("numpy", "torch") or name == "array_api_strict"
        # NumPy (and CuPy through NumPy's rules) turns 0-d results of reductions into scalars,
        # which are immutable and not arrays; ops turn them back (None: nothing to fix).
        self.fix_output = _as_ndarray if family == "numpy" else None
        from .kernels import kernel_table
        # The family's kernels as attributes (``backend.kernels.sigmoid``), for the hottest ops.
        self.kernels = kernel_table(family)
        # The array type that needs no fixing; Tensor._make tests it inline, a call less per op.
        self.array_type = np.ndarray if family == "numpy" else None

    # dtypes --------------------------------------------------------------------------------
    def dtype(self, dtype):
        """The namespace's dtype object for an xpnet dtype (or dtype name)."""
        dt = _dt.as_dtype(dtype)
        try:
            return self._to_xp[dt]
        except KeyError:
            raise TypeError(f"backend {self.name!r} has no dtype {dt.name}") from None

    def xpnet_dtype(self, native) -> _dt.DType:
        return self._from_xp[native]

    @property
    def supports_float64(self) -> bool:
        if self._float64_ok is None:
            info = self.xp.__array_namespace_info__()
            self._float64_ok = "float64" in info.dtypes(device=self.device, kind="real floating")
        return self._float64_ok

    # moving data ---------------------------------------------------------------------------
    def asarray(self, obj, dtype=None, copy=None):
        """An array of this backend on its device (``dtype`` an xpnet dtype or name)."""
        native = None if dtype is None else self.dtype(dtype)
        if isinstance(obj, np.ndarray) and self.family != "numpy":
            obj = self._from_numpy(obj)
        return self.xp.asarray(obj, dtype=native, device=self.device, copy=copy)

    def _from_numpy(self, a):
        if self.family == "torch":
            import torch
            # order="C" copies only strided arrays (torch refuses negative strides); unlike
            # ascontiguousarray it keeps 0-d arrays 0-d.
            return torch.from_numpy(np.asarray(a, order="C"))
        if self.family == "cupy":
            import cupy
            with cupy.cuda.Device(self.device.id):
                return cupy.asarray(a)
        return a  # array_api_strict.asarray accepts NumPy arrays directly

    def to_numpy(self, arr) -> np.ndarray:
        """A NumPy copy of ``arr`` (from the GPU or another device where needed).

        A synchronisation: a data check still pending on this device raises here."""
        if _checks._pending:
            _checks.report(self)
        if self.family == "numpy":
            return np.array(arr, copy=True)
        if self.family == "torch":
            return arr.detach().cpu().numpy().copy()
        if self.family == "cupy":
            return arr.get()
        import array_api_strict as xs
        # np.asarray refuses arrays off CPU_DEVICE, like CuPy; go through the host explicitly.
        return np.array(xs.asarray(arr, device=xs.Device("CPU_DEVICE"), copy=True), copy=True)

    def __deepcopy__(self, memo):
        return self  # one Backend object per backend and device: copies of tensors share it

    def __copy__(self):
        return self

    def synchronize(self):
        """Wait for the device's queued work (a no-op on the CPU backends); a data check
        pending on this device raises here."""
        if self.family == "cupy":
            self.device.synchronize()
        if _checks._pending:
            _checks.report(self)

    def __repr__(self):
        return f"Backend({self.name!r})"


def _as_ndarray(a):
    return a if type(a) is np.ndarray else np.asarray(a)


# -- CuPy probe ------------------------------------------------------------------------------

@functools.cache
def cupy_unusable_reason() -> str | None:
    """Why the cupy backend cannot run here (None when it can). Never raises; probed once."""
    try:
        import cupy
    except Exception as e:  # ImportError, or a CUDA library failing to load at import
        return (f"CuPy is not installed ({type(e).__name__}: {e}); "
                f"install it with: pip install 'xpnet[gpu]'")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError (a RuntimeError) when there is no driver/GPU
        return (f"CuPy is installed but no CUDA device is visible ({type(e).__name__}: {e}); "
                f"check that an NVIDIA driver is loaded (nvidia-smi) and CUDA_VISIBLE_DEVICES")
    if count < 1:
        return ("CuPy is installed but no CUDA device is visible; "
                "check nvidia-smi and CUDA_VISIBLE_DEVICES")
    try:
        cupy.zeros(1).sum().item()  # a runtime present but missing a library fails here
    except Exception as e:
        return f"CuPy found {count} CUDA device(s) but a smoke test failed ({type(e).__name__}: {e})"
    return None


def cuda_device_count() -> int:
    """GPUs CuPy sees (call only when `cupy_unusable_reason` is None)."""
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def cuda_device_name(index: int) -> str:
    import cupy
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


# -- loaders ---------------------------------------------------------------------------------

def _load_numpy(dev):
    if dev not in (None, "cpu"):
        raise ValueError(f"backend 'numpy' has only the 'cpu' device, got {dev!r}")
    import array_api_compat.numpy as xp
    return Backend("numpy", "numpy", xp, "cpu")


def _load_strict(dev):
    try:
        import array_api_strict as xp
    except ImportError as e:
        raise BackendUnavailableError(
            f"backend 'array_api_strict' needs the array-api-strict package ({e}); "
            f"install it with: pip install array-api-strict") from None
    if dev is None or dev == "CPU_DEVICE":
        return Backend("array_api_strict", "array_api_strict", xp, xp.Device("CPU_DEVICE"))
    return Backend(f"array_api_strict:{dev}", "array_api_strict", xp, xp.Device(dev))


def _load_torch(dev):
    if dev not in (None, "cpu"):
        raise ValueError(f"backend 'torch' runs on the CPU only (it is a test oracle), got device {dev!r}")
    try:
        import array_api_compat.torch as xp
        import torch
    except ImportError as e:
        raise BackendUnavailableError(
            f"backend 'torch' needs PyTorch ({e}); install it with: pip install torch==2.13.0") from None
    return Backend("torch", "torch", xp, torch.device("cpu"))


def _load_cupy(dev):
    why = cupy_unusable_reason()
    if why is not None:
        raise BackendUnavailableError(f"backend 'cupy' is unavailable: {why}")
    import array_api_compat.cupy as xp
    import cupy
    index = 0 if dev is None else int(dev)
    count = cupy.cuda.runtime.getDeviceCount()
    if not 0 <= index < count:
        raise ValueError(f"backend 'cupy:{dev}': no such GPU; {count} visible (cupy:0..cupy:{count - 1})")
    return Backend(f"cupy:{index}", "cupy", xp, cupy.cuda.Device(index))


_LOADERS = {"numpy": _load_numpy, "array_api_strict": _load_strict, "torch": _load_torch,
            "cupy": _load_cupy}
VALID_NAMES = ("numpy", "array_api_strict", "array_api_strict:<device>", "torch", "cupy", "cupy:N")

_cache: dict[str, Backend] = {}
_lock = threading.Lock()


def load(name: str) -> Backend:
    """The Backend for a name such as 'numpy', 'cupy:1' or 'array_api_strict:device1'."""
    if isinstance(name, Backend):
        return name
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a str, got {type(name).__name__}")
    key = name.strip().lower() if not name.startswith("array_api_strict:") else name.strip()
    with _lock:
        if key in _cache:
            return _cache[key]
        family, _, dev = key.partition(":")
        loader = _LOADERS.get(family)
        if loader is None:
            raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(VALID_NAMES)}")
        if family == "cupy" and dev and not dev.isdigit():
            raise ValueError(f"unknown backend {name!r}: the cupy device must be a GPU number, as in 'cupy:1'")
        if family == "array_api_strict" and dev:
            import array_api_strict as xs
            try:
                xs.Device(dev)
            except ValueError:
                valid = [d._device for d in xs.__array_namespace_info__().devices()]
                raise ValueError(f"unknown backend {name!r}: array_api_strict has devices "
                                 f"{', '.join(valid)}") from None
        backend = loader(dev or None)
        _cache[key] = _cache[backend.name] = backend
        return backend


def backend_of_array(arr) -> Backend | None:
    """The Backend an array belongs to (its library and device), or None if not a known array."""
    if isinstance(arr, np.ndarray):
        return load("numpy")
    if array_api_compat.is_torch_array(arr):
        if arr.device.type != "cpu":
            raise ValueError(f"torch backend: only CPU tensors are supported, got one on {arr.device}")
        return load("torch")
    if array_api_compat.is_cupy_array(arr):
        return load(f"cupy:{arr.device.id}")
    mod = type(arr).__module__
    if mod.startswith("array_api_strict"):
        dev = arr.device._device
        return load("array_api_strict" if dev == "CPU_DEVICE" else f"array_api_strict:{dev}")
    return None


def is_numpy_array(obj) -> bool:
    return isinstance(obj, np.ndarray) or isinstance(obj, np.generic)


def format_array(backend: Backend, arr) -> str:
    """The text of the array's values as PyTorch prints them inside 'tensor(...)', under the
    options of `xpnet.set_printoptions`. A tensor over the threshold is cut down on its own
    device first, so only the elements shown are copied to the host."""
    from . import printing

    elided = frozenset()
    if printing.is_summarized(arr.shape):
        arr, elided = printing.summarize(backend.xp, arr, printing.options["edgeitems"])
    return printing.format_host(backend.to_numpy(arr), elided)
