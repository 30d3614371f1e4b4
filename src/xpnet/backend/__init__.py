"""The only package that imports array libraries: backend registry, RNG and fast-path kernels.

The active backend is chosen by ``XPNET_BACKEND`` when xpnet is imported (default ``numpy``) and
changed with `use_backend`, as a call or a context manager. Tensors remember the backend they were
made on, so ops follow their inputs, not whatever is active when they run.
"""

from __future__ import annotations

import os

from .checks import eager_checks_enabled, use_eager_checks
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
    "eager_checks_enabled", "use_eager_checks",
]

_active: Backend | None = None


def active() -> Backend:
    """The active Backend object (loading the one ``XPNET_BACKEND`` names on first use)."""
    global _active
    if _active is None:
        _active = _load_from_environment()
    return _active


def _load_from_environment() -> Backend:
    name = os.environ.get("XPNET_BACKEND", "")
    if not name:
        return load("numpy")
    try:
        return load(name)
    except (ValueError, BackendUnavailableError) as e:
        # The name was not in the code the user runs: say where it came from.
        valid = ", ".join(VALID_NAMES)
        names = "" if valid in str(e) else f"; valid names: {valid}"
        raise type(e)(f"environment variable XPNET_BACKEND={name!r}: {e}{names}; or unset "
                      f"XPNET_BACKEND for numpy") from None


def get_backend() -> str:
    """The name of the active backend, e.g. ``'numpy'`` or ``'cupy:0'``."""
    return active().name


def get_namespace():
    """The Array API namespace of the active backend."""
    return active().xp


def set_backend(name) -> Backend:
    """Make ``name`` the active backend for new tensors; returns its Backend."""
    return _activate(name, "set_backend")


def _activate(name, op):
    """Load ``name`` and make it active; a bad name's error names ``op``, the call made."""
    global _active
    try:
        backend = load(name)
    except (TypeError, ValueError, BackendUnavailableError) as e:
        raise type(e)(f"{op}: {e}") from None
    _active = backend
    return backend


def _use(name):
    return _activate(name, "use_backend")


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
    return _Switch(_use, name, previous)


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
    changed, _fast_paths = flag != _fast_paths, flag
    if changed:
        from .kernels import forget_resolved
        forget_resolved()  # the tables hold what the old setting chose
    return flag


def use_fast_paths(flag: bool) -> _Switch:
    """Allow (True) or forbid (False) fast paths; also a context manager restoring the old value.

    ``XPNET_FAST_PATHS=0`` in the environment forbids them from the start.
    """
    return _Switch(_set_fast_paths, flag, _fast_paths)
