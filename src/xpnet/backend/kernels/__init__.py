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

from xpnet import backend as _settings  # its _fast_paths flag (use_fast_paths)

_generic: dict[str, object] = {}
_fast: dict[tuple[str, str], object] = {}
_loaded_families: set[str] = set()
_FAST_MODULES = {"numpy": "numpy_kernels", "torch": "torch_kernels"}
# (name, family, fast paths allowed) -> kernel: get_kernel runs once per op, and a dict lookup
# is a fraction of the import, calls and lookups that resolving takes (0.4 us a call). Emptied
# whenever a kernel is registered.
_resolved: dict[tuple[str, str, bool], object] = {}


class KernelTable:
    """A backend family's kernels as attributes: ``backend.kernels.sigmoid`` is
    ``get_kernel("sigmoid", backend)``, resolved on first use and then a plain attribute read
    (for ops whose tiny-array cost matters: a (4,) sigmoid's kernel lookup, 0.10 -> 0.03 us).
    Forgotten whenever a kernel is registered or fast paths are switched."""

    __slots__ = ("family", "__dict__")

    def __init__(self, family):
        self.family = family

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        fn = _resolve(name, self.family, _settings._fast_paths)
        self.__dict__[name] = fn
        return fn


_tables: dict[str, KernelTable] = {}


def kernel_table(family) -> KernelTable:
    """The one `KernelTable` of a backend family (`Backend.kernels`)."""
    table = _tables.get(family)
    if table is None:
        table = _tables[family] = KernelTable(family)
    return table


def forget_resolved():
    """Drop every cached resolution (a kernel was registered, or fast paths were switched)."""
    _resolved.clear()
    for table in _tables.values():
        table.__dict__.clear()


def register_generic(name):
    """Register the standard-only twin of kernel ``name``."""
    def register(fn):
        _generic[name] = fn
        forget_resolved()
        return fn
    return register


def register_fast(name, family):
    """Register a fast path of kernel ``name`` for a backend family ('numpy', 'torch', 'cupy')."""
    def register(fn):
        _fast[name, family] = fn
        forget_resolved()
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
    if fast_paths is None:
        fast_paths = _settings._fast_paths
    key = (name, backend.family, fast_paths)
    fn = _resolved.get(key)
    if fn is None:
        fn = _resolve(name, backend.family, fast_paths)
        _resolved[key] = fn
    return fn


def _resolve(name, family, fast_paths):
    if fast_paths:
        _load_family(family)
        fn = _fast.get((name, family))
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
