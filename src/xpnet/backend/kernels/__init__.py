"""Kernels with a generic standard-only twin and optional per-backend fast paths.

`get_kernel(name, backend)` returns the fast path registered for the backend's family when fast
paths are enabled (see `xpnet.backend.use_fast_paths`), else the generic twin. Every kernel has
the signature ``fn(xp, *arrays, **options)`` so the twins are interchangeable, and a test runs
each fast path against its twin.

Fast-path modules are imported on first use, so a NumPy user never imports torch, and a CuPy
path that has not yet run on a GPU is simply not registered.
"""

from __future__ import annotations

import importlib
import importlib.util

_generic: dict[str, object] = {}
_fast: dict[tuple[str, str], object] = {}
_loaded_families: set[str] = set()
_FAST_MODULES = {"numpy": "numpy_kernels", "torch": "torch_kernels"}


def register_generic(name):
    """Register the standard-only twin of kernel ``name``."""
    def register(fn):
        _generic[name] = fn
        return fn
    return register


def register_fast(name, family):
    """Register a fast path of kernel ``name`` for a backend family ('numpy', 'torch', 'cupy')."""
    def register(fn):
        _fast[name, family] = fn
        return fn
    return register


def _load_family(family):
    if family not in _loaded_families:
        _loaded_families.add(family)
        module = _FAST_MODULES.get(family)
        if module is not None:
            importlib.import_module(f"{__name__}.{module}")


def get_kernel(name, backend, *, fast_paths=None):
    """The kernel to run on ``backend``: its fast path if allowed and registered, else the twin."""
    from xpnet.backend import fast_paths_enabled
    if fast_paths is None:
        fast_paths = fast_paths_enabled()
    if fast_paths:
        _load_family(backend.family)
        fn = _fast.get((name, backend.family))
        if fn is not None:
            return fn
    return _generic[name]


def fast_path_families(name) -> list[str]:
    """Families with a fast path for ``name`` (for tests that compare each with the twin)."""
    for family in _FAST_MODULES:
        if importlib.util.find_spec(family) is not None:
            _load_family(family)
    return sorted(f for (n, f) in _fast if n == name)


from . import twins as _twins  # noqa: E402,F401  (registers the generic twins)
