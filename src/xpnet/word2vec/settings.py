"""Checks of `Word2Vec`'s settings, made once where the user passes them: TypeError for a
value of the wrong type (bool is no count), ValueError for one out of range; the message names
the call, the setting, what was expected and what came."""

from __future__ import annotations

import math
import numbers

__all__ = ["check_callbacks", "check_flag", "check_float", "check_int", "got"]


def got(value):
    """How a message names a value that came: its type and repr, cut at 80 characters."""
    return f"{type(value).__name__} {value!r:.80}"


def check_int(name, value, low, allow_none=False, where="Word2Vec", expected=None):
    if value is None and allow_none:
        return None
    expected = expected or f"an int >= {low}{' or None' if allow_none else ''}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: expected {name} {expected}, got {got(value)}")
    if value < low:
        raise ValueError(f"{where}: expected {name} {expected}, got {value!r}")
    return int(value)


def check_float(name, value, low=None, *, strict=False, allow_none=False, where="Word2Vec"):
    """A finite real number (> low with ``strict``, else >= low; any with low None)."""
    if value is None and allow_none:
        return None
    bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
    expected = f"a number{bound}{' or None' if allow_none else ''}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: expected {name} {expected}, got {got(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected {name} a finite number{bound}, got {value!r}")
    if low is not None and not (value > low if strict else value >= low):
        raise ValueError(f"{where}: expected {name} {expected}, got {value!r}")
    return float(value)


def check_flag(name, value, expected="0 or 1", where="Word2Vec"):
    """A switch: 0/1 or a bool (NumPy's too); gensim tests only its truth, so that "0" or 2
    would silently switch it on."""
    if isinstance(value, numbers.Integral):  # bool and NumPy ints too
        if value in (0, 1):
            return int(value)
        raise ValueError(f"{where}: expected {name} {expected}, got {value!r}")
    if getattr(value, "shape", None) == () and str(getattr(value, "dtype", "")) == "bool":
        return int(bool(value))  # a NumPy (or other array library's) bool scalar
    raise TypeError(f"{where}: expected {name} {expected}, got {got(value)}")


def check_callbacks(where, callbacks):
    try:
        return tuple(callbacks)
    except TypeError:
        raise TypeError(f"{where}: expected callbacks a sequence of CallbackAny2Vec, got "
                        f"{got(callbacks)}") from None
