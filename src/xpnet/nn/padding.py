"""Padding layers with PyTorch's names, arguments and reprs, on top of `xpnet.functional.pad`.

``padding`` is an int (the same on every side) or one int per side, last axis first:
(left, right) for the 1-D layers, (left, right, top, bottom) for the 2-D ones.
"""

from __future__ import annotations

import numbers

from xpnet import functional as F
from xpnet.autograd.tensor import Tensor

from .module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d"]


def _sides(name, padding, dims):
    """``padding`` as a tuple of 2 * dims ints."""
    count = 2 * dims
    values = (padding,) * count if isinstance(padding, numbers.Integral) else padding
    if (not isinstance(values, (tuple, list)) or len(values) != count
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in values)):
        raise TypeError(f"{name}: padding must be an int or a tuple of {count} ints, got "
                        f"{padding!r}")
    return tuple(int(v) for v in values)


class _PadNd(Module):
    """Pads the last ``_dims`` axes with ``_mode``; the subclasses only name them."""

    _dims = 0
    _mode = ""

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(type(self).__name__, padding, self._dims)

    def _check(self, x):
        name, dims = type(self).__name__, self._dims
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if x.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"{name}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D "
                             f"input, got shape {x.shape}")
        if any(p < 0 for p in self.padding):
            raise ValueError(f"{name}: negative padding is only supported by the constant "
                             f"padding layers, got {self.padding}")
        for i in range(dims):
            axis = x.ndim - 1 - i
            n, pair = x.shape[axis], self.padding[2 * i:2 * i + 2]
            if self._mode == "reflect" and max(pair) >= n:
                raise ValueError(f"{name}: padding {pair} must be smaller than the size {n} of "
                                 f"axis {axis} (input of shape {x.shape})")
            if self._mode == "circular" and max(pair) > n:
                raise ValueError(f"{name}: padding {pair} wraps around axis {axis} (size {n}) "
                                 f"more than once; it must be at most the size")
            if n == 0 and max(pair) > 0:
                raise ValueError(f"{name}: cannot {self._mode}-pad the empty axis {axis}")

    def forward(self, x):
        self._check(x)
        return F.pad(x, self.padding, mode=self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant; a negative padding crops that side, as in PyTorch."""

    _mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{type(self).__name__}: value must be a number, got {value!r}")
        self.value = value

    def forward(self, x):
        name, dims = type(self).__name__, self._dims
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if x.ndim < dims:
            raise ValueError(f"{name}: expected an input of at least {dims} dimensions, got "
                             f"shape {x.shape}")
        crop = [slice(None)] * x.ndim
        for i in range(dims):
            axis = x.ndim - 1 - i
            lo, hi = self.padding[2 * i:2 * i + 2]
            start, stop = max(-lo, 0), x.shape[axis] - max(-hi, 0)
            if stop <= start and (lo < 0 or hi < 0):
                raise ValueError(f"{name}: padding {(lo, hi)} crops all of axis {axis} (size "
                                 f"{x.shape[axis]})")
            crop[axis] = slice(start, stop)
        if any(p < 0 for p in self.padding):
            x = x[tuple(crop)]
        return F.pad(x, tuple(max(p, 0) for p in self.padding), mode="constant",
                     value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last axis with ``value``: (*, L) -> (*, left + L + right).

    Parameters
    ----------
    padding : int or tuple of 2 ints
        (left, right); negative values crop.
    value : float
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two axes with ``value``: (*, H, W) -> (*, top + H + bottom,
    left + W + right).

    Parameters
    ----------
    padding : int or tuple of 4 ints
        (left, right, top, bottom); negative values crop.
    value : float
    """

    _dims = 2


class ZeroPad1d(ConstantPad1d):
    """Pads the last axis with zeros; ``padding`` as `ConstantPad1d`."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two axes with zeros; ``padding`` as `ConstantPad2d`.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.nn.padding import ZeroPad2d
    >>> ZeroPad2d((1, 1, 2, 0))(xpnet.ones(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads the last axis of (C, L) or (N, C, L) input with its mirror image, the edge not
    repeated: [1, 2, 3] padded by 2 is [3, 2, 1, 2, 3, 2, 1]. Each side's padding must be
    smaller than L.

    Parameters
    ----------
    padding : int or tuple of 2 ints
        (left, right).
    """

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last two axes of (C, H, W) or (N, C, H, W) input with their mirror image
    (edge not repeated); ``padding`` is (left, right, top, bottom), each smaller than its axis.
    """

    _dims, _mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last axis of (C, L) or (N, C, L) input by repeating its edge values.

    Parameters
    ----------
    padding : int or tuple of 2 ints
        (left, right).
    """

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last two axes of (C, H, W) or (N, C, H, W) input by repeating their edges;
    ``padding`` is (left, right, top, bottom)."""

    _dims, _mode = 2, "replicate"


class CircularPad1d(_PadNd):
    """Pads the last axis of (C, L) or (N, C, L) input by wrapping around: the left padding
    is the end of the input, the right padding its start (each at most L).

    Parameters
    ----------
    padding : int or tuple of 2 ints
        (left, right).
    """

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pads the last two axes of (C, H, W) or (N, C, H, W) input by wrapping around (a torus);
    ``padding`` is (left, right, top, bottom), each at most its axis's size."""

    _dims, _mode = 2, "circular"
