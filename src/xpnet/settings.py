"""Process-wide settings under PyTorch's names: how tensors print, how many CPU threads the
array libraries use, and the determinism flag.

>>> import xpnet
>>> xpnet.set_printoptions(precision=2)
>>> xpnet.tensor([1.0 / 3.0])
tensor([0.33])
>>> xpnet.set_printoptions(profile="default")
"""

from __future__ import annotations

import math
import numbers
import os

from xpnet.backend import printing as _printing
from xpnet.backend import threads as _threads

__all__ = [
    "set_printoptions", "get_printoptions",
    "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
]


# -- printing ----------------------------------------------------------------------------------

def _count(op, name, value, minimum, allow_inf=False):
    if allow_inf and isinstance(value, numbers.Real) and value == math.inf:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or math.inf" if allow_inf else "an int"
        raise TypeError(f"{op}: {name} must be {expected}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``.

    Parameters
    ----------
    precision : int, optional
        Digits after the decimal point (default 4).
    threshold : int or math.inf, optional
        A tensor with more elements than this is summarised (default 1000).
    edgeitems : int, optional
        Rows/columns shown at each end of a summarised axis (default 3).
    linewidth : int, optional
        Characters per line before wrapping (default 80).
    profile : {'default', 'short', 'full'}, optional
        Set the four above at once (``'short'``: precision 2, edgeitems 2; ``'full'``: no
        summarising); the other arguments, when given, override it.
    sci_mode : bool or None, default=None
        Force (True) or forbid (False) scientific notation; None chooses by the values. As in
        PyTorch, every call sets it, so a call without ``sci_mode`` returns to automatic.

    Raises
    ------
    TypeError, ValueError
        For an option of the wrong type or out of range, or an unknown profile.
    """
    op = "set_printoptions"
    new = dict(_printing.options)
    if profile is not None:
        if profile not in _printing.PROFILES:
            names = ", ".join(map(repr, _printing.PROFILES))
            raise ValueError(f"{op}: profile must be one of {names}, got {profile!r}")
        new.update(_printing.PROFILES[profile])
    for name, value, minimum in (("precision", precision, 0), ("edgeitems", edgeitems, 0),
                                 ("linewidth", linewidth, 1)):
        if value is not None:
            new[name] = _count(op, name, value, minimum)
    if threshold is not None:
        new["threshold"] = _count(op, "threshold", threshold, 0, allow_inf=True)
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"{op}: sci_mode must be True, False or None, got {sci_mode!r}")
    new["sci_mode"] = sci_mode
    _printing.options.update(new)  # only once every argument is valid


def get_printoptions() -> dict:
    """The current print options as a dict (``precision``, ``threshold``, ``edgeitems``,
    ``linewidth``, ``sci_mode``); ``set_printoptions(**get_printoptions())`` restores them."""
    return dict(_printing.options)


# -- threads -----------------------------------------------------------------------------------

_threads_set = {"intra": None, "interop": None}


def set_num_threads(n: int) -> None:
    """Use at most ``n`` CPU threads for the backends' parallel kernels, as
    ``torch.set_num_threads``.

    Limits NumPy's BLAS and any OpenMP runtime already loaded (through threadpoolctl, when it is
    installed) and PyTorch's intra-op pool (when torch has been imported, e.g. by the torch
    backend). Libraries loaded afterwards keep their own defaults: call it again after switching
    backend. CuPy work runs on the GPU and is not affected.

    Raises
    ------
    TypeError, ValueError
        Unless ``n`` is a positive int.
    """
    n = _count("set_num_threads", "n", n, 1)
    _threads.limit(n)
    _threads_set["intra"] = n


def get_num_threads() -> int:
    """The number of CPU threads for parallel kernels: what `set_num_threads` set, else the most
    any loaded thread pool uses now."""
    return _threads_set["intra"] if _threads_set["intra"] is not None else _threads.current()


def set_num_interop_threads(n: int) -> None:
    """Record ``n`` as the number of inter-op threads (``torch.set_num_interop_threads``).

    xpnet runs one op after another and has no inter-op thread pool, so nothing else changes;
    the value is kept for code that reads it back. PyTorch's own pool is left alone (it can be
    set only once, before any parallel work).
    """
    _threads_set["interop"] = _count("set_num_interop_threads", "n", n, 1)


def get_num_interop_threads() -> int:
    """What `set_num_interop_threads` recorded, else the CPU count (PyTorch's default)."""
    recorded = _threads_set["interop"]
    return recorded if recorded is not None else (os.cpu_count() or 1)


# -- determinism -------------------------------------------------------------------------------

_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """Ask for deterministic algorithms only, as ``torch.use_deterministic_algorithms``.

    Every xpnet kernel is deterministic today: the generic twins and the fast paths in
    ``xpnet/backend/kernels`` (NumPy's bincount, SciPy sparse products and sorted reduceat for
    scatter-add; torch's CPU ``index_add_``; the numba word2vec loop, which applies rows one
    after another) sum in a fixed order, and random draws come from seeded generators. So the
    flag is recorded (for `are_deterministic_algorithms_enabled`) and changes nothing; a
    nondeterministic fast path added later (e.g. an atomic-add CUDA kernel) must consult it and
    raise, or warn when ``warn_only`` is True, as PyTorch does. Reductions inside the array
    libraries themselves (BLAS, cuBLAS) are outside xpnet's control.

    Parameters
    ----------
    mode : bool
    warn_only : bool, default=False
        Warn instead of raising when a nondeterministic operation is met.

    Raises
    ------
    TypeError
        Unless ``mode`` and ``warn_only`` are bools.
    """
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"use_deterministic_algorithms: {name} must be a bool, got "
                            f"{type(value).__name__}")
    _deterministic.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether `use_deterministic_algorithms` turned the flag on."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether the flag was turned on with ``warn_only=True``."""
    return _deterministic["warn_only"]
