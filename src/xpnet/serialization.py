"""PyTorch's ``torch.serialization`` names: `save`, `load` and the allowlist of module classes
that ``load(..., weights_only=True)`` may rebuild.

xpnet files never hold pickles (see `xpnet.io`): a saved Module is recorded as data (its class's
import path, attributes, parameters, buffers and submodules) and rebuilt without calling its
``__init__``. With ``weights_only=True`` (the default) only xpnet's own layers and the classes
allowed here are rebuilt; ``weights_only=False`` looks any other class up by its import path,
and even then only `xpnet.nn.Module` subclasses are ever rebuilt.

>>> import xpnet
>>> from xpnet import serialization
>>> class Net(xpnet.nn.Module):
...     pass
>>> serialization.add_safe_globals([Net])
>>> Net in serialization.get_safe_globals()
True
>>> serialization.clear_safe_globals()
"""

from __future__ import annotations

import contextlib
# Only for its exception class, so that code written for torch.load ("except
# pickle.UnpicklingError") keeps working; xpnet never unpickles anything.
import pickle

from xpnet.io import load, save

__all__ = ["ClassNotAllowedError", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "load", "safe_globals", "save"]

_safe_globals: list = []


class ClassNotAllowedError(pickle.UnpicklingError, ValueError):
    """A file names a class that `load` will not rebuild.

    Raised for a module class that ``weights_only=True`` does not allow (neither one of xpnet's
    own layers nor in `get_safe_globals`), and for any class that is not an `xpnet.nn.Module`
    subclass. It is a `pickle.UnpicklingError`, the error ``torch.load`` raises in the same
    situation, so ported ``except`` clauses still catch it; and a `ValueError`, xpnet's error for
    a file whose content `load` refuses.
    """


def _check_entries(op, entries):
    if isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"{op}: expected a list of classes, got {type(entries).__name__}")
    entries = list(entries)
    for entry in entries:
        if isinstance(entry, tuple):
            if not (len(entry) == 2 and isinstance(entry[1], str)):
                raise TypeError(f"{op}: a tuple entry must be (class, 'module:QualifiedName'), "
                                f"got {entry!r}")
        elif not callable(entry):
            raise TypeError(f"{op}: expected classes (or (class, name) tuples), got "
                            f"{type(entry).__name__} {entry!r}")
    return entries


def add_safe_globals(safe_globals) -> None:
    """Allow ``load(..., weights_only=True)`` to rebuild these module classes.

    Parameters
    ----------
    safe_globals : list of class or of (class, str)
        `xpnet.nn.Module` subclasses, matched against the import path a file records
        (``"package.module:QualifiedName"``). A ``(cls, "old.module:Name")`` tuple rebuilds
        files that name the class by another path (it was moved or renamed). Other entries (for
        instance the NumPy names torch scripts allow) are kept, so ported code runs, but have no
        effect: xpnet files hold no other objects.

    Raises
    ------
    TypeError
        If an entry is neither a class (or other callable) nor a ``(class, str)`` tuple.
    """
    entries = _check_entries("add_safe_globals", safe_globals)
    _safe_globals.extend(entry for entry in entries if entry not in _safe_globals)


def get_safe_globals() -> list:
    """The entries `add_safe_globals` added (a copy), in the order they were added."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every entry `add_safe_globals` added."""
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Allow these classes only inside a ``with`` block (see `add_safe_globals`).

    >>> import xpnet
    >>> class Net(xpnet.nn.Module):
    ...     pass
    >>> with xpnet.serialization.safe_globals([Net]):
    ...     Net in xpnet.serialization.get_safe_globals()
    True
    >>> Net in xpnet.serialization.get_safe_globals()
    False
    """
    entries = _check_entries("safe_globals", safe_globals)
    previous = list(_safe_globals)
    add_safe_globals(entries)
    try:
        yield
    finally:
        _safe_globals[:] = previous


def class_path(cls) -> str:
    """The import path a file records for a class: ``"package.module:QualifiedName"``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def allowed_class(path):
    """The class an `add_safe_globals` entry gives for a recorded import path, or None."""
    dotted = path.replace(":", ".")
    for entry in reversed(_safe_globals):  # the latest entry wins
        if isinstance(entry, tuple):
            cls, name = entry
            if name == path or name.replace(":", ".") == dotted:
                return cls
        elif isinstance(entry, type) and class_path(entry) == path:
            return entry
    return None
