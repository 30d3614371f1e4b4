"""``xpnet.cuda``: PyTorch's ``torch.cuda`` questions, answered by CuPy.

``is_available()`` and ``device_count()`` never raise; the rest raise the same
`BackendUnavailableError` as ``use_backend("cupy")`` when no GPU can be used, saying why.
"""

from __future__ import annotations

import numbers

from xpnet.backend import registry as _registry
from xpnet.backend.device import current_cuda_index, device, set_current_cuda_index

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all", "get_device_name"]


def is_available() -> bool:
    """Whether a CUDA GPU can be used through CuPy (never raises)."""
    return _registry.cupy_unusable_reason() is None


def device_count() -> int:
    """How many CUDA GPUs CuPy sees (0 when none can be used; never raises)."""
    if not is_available():
        return 0
    return _registry.cuda_device_count()


def _require(op):
    why = _registry.cupy_unusable_reason()
    if why is not None:
        raise _registry.BackendUnavailableError(f"xpnet.cuda.{op}: no CUDA GPU can be used: {why}")


def current_device() -> int:
    """The GPU number that ``"cuda"`` without an index means."""
    _require("current_device")
    return current_cuda_index()


def set_device(d) -> None:
    """Make GPU ``d`` (a number, ``"cuda:N"`` or a device) the one ``"cuda"`` means."""
    _require("set_device")
    if isinstance(d, numbers.Integral) and not isinstance(d, bool):
        index = int(d)
    else:
        d = device(d)
        if d.type != "cuda":
            raise ValueError(f"xpnet.cuda.set_device: expected a CUDA device, got {str(d)!r}")
        index = current_cuda_index() if d.index is None else d.index
    _registry.load(f"cupy:{index}")  # raises, naming the GPUs there are, if there is no such one
    set_current_cuda_index(index)


def synchronize(d=None) -> None:
    """Wait until every queued GPU operation on ``d`` (default: the current GPU) has finished."""
    _require("synchronize")
    index = current_cuda_index() if d is None else (
        int(d) if isinstance(d, numbers.Integral) else device(d).index or 0)
    _registry.load(f"cupy:{index}").synchronize()


def get_device_name(d=None) -> str:
    """The GPU's name as the driver reports it."""
    _require("get_device_name")
    index = current_cuda_index() if d is None else (
        int(d) if isinstance(d, numbers.Integral) else device(d).index or 0)
    return _registry.cuda_device_name(index)


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch scripts; it changes nothing. xpnet draws the random numbers of CUDA
    tensors from the generator that `xpnet.manual_seed` seeds: on the host, and for per-step
    noise (dropout masks) from a GPU stream that seed also starts, so there is no separate
    CUDA seed, and the CPU stream must not be reset behind the script's back."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"xpnet.cuda.manual_seed: expected an int seed, got {seed!r}")


manual_seed_all = manual_seed

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.cuda", "torch.cuda")
