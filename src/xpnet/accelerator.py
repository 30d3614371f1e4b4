"""``xpnet.accelerator``: PyTorch's device-agnostic questions. The accelerator is a CUDA GPU
through CuPy; every function here answers without raising when there is none."""

from __future__ import annotations

from xpnet import cuda as _cuda
from xpnet.backend.device import current_cuda_index, device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available() -> bool:
    """Whether a CUDA GPU can be used (never raises)."""
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """``device("cuda")`` when a GPU can be used, else None (as PyTorch on a CPU-only build)."""
    return device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    """How many GPUs can be used (0 without any)."""
    return _cuda.device_count()


def current_device_index() -> int:
    """The current GPU number; -1 without an accelerator (PyTorch's answer then)."""
    return current_cuda_index() if _cuda.is_available() else -1


def set_device_index(index) -> None:
    """Make GPU ``index`` the one ``"cuda"`` means (`xpnet.cuda.set_device`)."""
    _cuda.set_device(index)


def synchronize(d=None) -> None:
    """Wait for the GPU's queued work (`xpnet.cuda.synchronize`)."""
    _cuda.synchronize(d)

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.accelerator", "torch.accelerator")
