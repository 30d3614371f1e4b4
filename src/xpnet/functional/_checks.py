"""Argument checks shared by the functionals and the layers of `xpnet.nn` (issue 14).

A wrong type is a TypeError, a wrong value of the right type a ValueError (PyTorch raises
TypeError for ``Linear(2.5, 3)``), and the message names the layer or function, the parameter,
what was expected and the value that came.
"""

from __future__ import annotations

import numbers


def _int_kind(minimum):
    if minimum == 0:
        return "a non-negative int"
    if minimum == 1:
        return "a positive int"
    return f"an int >= {minimum}"


def int_arg(op, name, value, minimum=1):
    """``value`` as a Python int: TypeError unless it is an int (bools refused, NumPy ints
    accepted as PyTorch does), ValueError when it is below ``minimum``. An int subclass is
    returned as it is: the exporter's symbolic sizes (``x.size(0)`` while tracing) must stay
    symbolic."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be {_int_kind(minimum)}, got "
                        f"{type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be {_int_kind(minimum)}, got {value!r}")
    return value if isinstance(value, int) else int(value)


def probability(op, name, p):
    """``p`` as a float in [0, 1]: TypeError for a non-number (as PyTorch's layers, whose
    comparison fails), ValueError outside the interval."""
    if not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: {name} must be a probability (a number in [0, 1]), got "
                        f"{type(p).__name__} {p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: {name} must be in [0, 1], got {p!r}")
    return p
