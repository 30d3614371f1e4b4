"""``xpnet.accelerator``: PyTorch's device-agnostic questions. The accelerator is a CUDA GPU
through CuPy; every function here answers without raising when there is none."""

from __future__ import annotations

from xpnet import cuda as _cuda
from xpnet.backend.device import current_cuda_index, device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available() -> bool:
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """``device("cuda")`` when a GPU can be used, else None (as PyTorch on a CPU-only build)."""
    return device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    return _cuda.device_count()


def current_device_index() -> int:
    """The current GPU number; -1 without an accelerator (PyTorch's answer then)."""
    return current_cuda_index() if _cuda.is_available() else -1


def set_device_index(index) -> None:
    _cuda.set_device(index)


def synchronize(d=None) -> None:
    _cuda.synchronize(d)
