"""The only package that imports array libraries: backend registry, RNG and fast-path kernels.

The active backend is chosen by ``XPNET_BACKEND`` when xpnet is imported (default ``numpy``) and
changed with `use_backend`, as a call or a context manager. Tensors remember the backend they were
made on, so ops follow their inputs, not whatever is active when they run.
"""

from __future__ import annotations

import os

from .registry import (
    FAMILIES,
    VALID_NAMES,
    Backend,
    BackendUnavailableError,
    backend_of_array,
    cupy_unusable_reason,
    format_array,
    is_numpy_array,
    load,
)

__all__ = [
    "Backend", "BackendUnavailableError", "FAMILIES", "VALID_NAMES", "active", "backend_of_array",
    "cupy_unusable_reason", "fast_paths_enabled", "format_array", "get_backend", "get_namespace",
    "is_numpy_array", "load", "set_backend", "use_backend", "use_fast_paths",
]

_active: Backend | None = None


def active() -> Backend:
    """The active Backend object (loading the one ``XPNET_BACKEND`` names on first use)."""
    global _active
    if _active is None:
        _active = load(os.environ.get("XPNET_BACKEND", "numpy") or "numpy")
    return _active


def get_backend() -> str:
    """The name of the active backend, e.g. ``'numpy'`` or ``'cupy:0'``."""
    return active().name


def get_namespace():
    """The Array API namespace of the active backend."""
    return active().xp


def set_backend(name) -> Backend:
    """Make ``name`` the active backend for new tensors; returns its Backend."""
    global _active
    _active = load(name)
    return _active


class _Switch:
    """Apply a setting now; as a context manager, restore the previous one on exit."""

    def __init__(self, setter, new, previous):
        self._setter, self._previous = setter, previous
        self.value = setter(new)

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        self._setter(self._previous)
        return False


def use_backend(name) -> _Switch:
    """Switch the active backend; ``with use_backend('torch') as b:`` restores the old one after.

    Entering the context gives the Backend (``b.xp`` is its namespace, ``b.asarray`` makes arrays).
    """
    previous = active()
    return _Switch(set_backend, name, previous)


# -- fast paths -----------------------------------------------------------------------------

def _env_flag(name, default=True):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("0", "false", "no", "off"):
        return False
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={value!r}: expected 0 or 1")


_fast_paths = _env_flag("XPNET_FAST_PATHS")


def fast_paths_enabled() -> bool:
    """Whether backend-specific kernels may replace their generic standard-only twins."""
    return _fast_paths


def _set_fast_paths(flag):
    global _fast_paths
    if not isinstance(flag, bool):
        raise TypeError(f"use_fast_paths: expected True or False, got {flag!r}")
    _fast_paths = flag
    return flag


def use_fast_paths(flag: bool) -> _Switch:
    """Allow (True) or forbid (False) fast paths; also a context manager restoring the old value.

    ``XPNET_FAST_PATHS=0`` in the environment forbids them from the start.
    """
    return _Switch(_set_fast_paths, flag, _fast_paths)
