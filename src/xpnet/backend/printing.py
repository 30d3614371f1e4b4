"""How tensors print: PyTorch's layout and print options (`xpnet.set_printoptions`).

The text follows ``torch``'s rules, so a ported script prints what it printed before: floats
with ``precision`` digits after the point (or scientific notation when the magnitudes span more
than 1e3, exceed 1e8 or fall below 1e-4), whole-valued floats as ``1.``, every element right-
aligned to one width, lines filled up to ``linewidth``, and only ``edgeitems`` rows/columns at
each end of an axis when the tensor has more than ``threshold`` elements.

The options live here, below every other layer, because `format_array` (which Tensor.__repr__
calls) reads them; `xpnet.settings` is the public way to change them.
"""

from __future__ import annotations

import math

import numpy as np

# PyTorch's named profiles; "default" is also the state at import.
PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

options = {**PROFILES["default"], "sci_mode": None}

_PREFIX = "tensor("


def summarize(xp, arr, edgeitems):
    """(smaller array, elided axes): the first and last ``edgeitems`` along every axis longer
    than ``2 * edgeitems``, so only what is shown leaves the device."""
    elided = []
    for axis, n in enumerate(arr.shape):
        if n > 2 * edgeitems:
            lead = (slice(None),) * axis
            arr = xp.concat([arr[lead + (slice(0, edgeitems), ...)],
                             arr[lead + (slice(n - edgeitems, n), ...)]], axis=axis)
            elided.append(axis)
    return arr, frozenset(elided)


def is_summarized(shape) -> bool:
    """Whether an array of ``shape`` has more elements than the ``threshold`` option."""
    return math.prod(shape) > options["threshold"]


def format_host(host: np.ndarray, elided=frozenset(), indent=len(_PREFIX)) -> str:
    """The text of a NumPy array as torch prints it inside ``tensor(...)``; ``elided`` names
    the axes `summarize` shortened (an ellipsis goes in their middle)."""
    if host.size == 0:
        return "[]"
    if host.dtype.kind == "c":  # PyTorch formats real and imaginary parts apart; NumPy is close
        return np.array2string(host, separator=", ", prefix=_PREFIX,
                               precision=options["precision"], floatmode="fixed",
                               max_line_width=options["linewidth"])
    element = _ElementFormat(host)
    return _nested(host, indent, elided, element)


class _ElementFormat:
    """One element's text, padded to the widest of the tensor's elements (PyTorch's rules)."""

    def __init__(self, host):
        self.floating = host.dtype.kind == "f"
        self.precision = options["precision"]
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = host.reshape(-1)
        if not self.floating:
            convert = bool if host.dtype.kind == "b" else int
            self.width = max(len(str(convert(v))) for v in flat)
        else:
            values = [float(v) for v in flat[np.isfinite(flat) & (flat != 0)]]
            if values:  # else (zeros, NaN, inf only) whole-number style, whatever sci_mode says
                self._fit(values)

    def _fit(self, values):
        magnitudes = [abs(v) for v in values]
        smallest, largest = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in values)
        wide_range = largest / smallest > 1000.0 or largest > 1.0e8
        # Whole numbers never need more digits, so small magnitudes only switch non-whole ones.
        self.sci_mode = wide_range or (not self.int_mode and smallest < 1.0e-4)
        if options["sci_mode"] is not None:
            self.sci_mode = options["sci_mode"]
        # Only nonzero finite values set the width; zeros, NaN and inf are padded to it.
        if self.sci_mode:
            texts = (f"{v:.{self.precision}e}" for v in values)
        elif self.int_mode:
            texts = (f"{v:.0f}." for v in values)
        else:
            texts = (f"{v:.{self.precision}f}" for v in values)
        self.width = max(len(t) for t in texts)

    def __call__(self, value) -> str:
        if not self.floating:
            text = str(bool(value)) if isinstance(value, np.bool_) else str(int(value))
        else:
            value = float(value)
            if self.sci_mode:
                text = f"{value:.{self.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}" + ("." if math.isfinite(value) else "")
            else:
                text = f"{value:.{self.precision}f}"
        return text.rjust(self.width)


def _nested(a, indent, elided, element, axis=0):
    if a.ndim == 0:
        return element(a[()])
    n = a.shape[0]
    half = n // 2 if axis in elided else None
    if a.ndim == 1:
        texts = [element(v) for v in a]
        if half is not None:
            texts = texts[:half] + [" ..."] + texts[half:]
        per_line = max(1, int((options["linewidth"] - indent) // (element.width + 2)))
        lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = [_nested(a[i], indent + 1, elided, element, axis + 1) for i in range(n)]
    if half is not None:
        parts = parts[:half] + ["..."] + parts[half:]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"
