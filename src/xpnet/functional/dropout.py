"""Dropout (Srivastava et al., 2014), inverted: kept units are scaled by 1 / (1 - p) in training,
so evaluation needs no rescaling."""

from __future__ import annotations

import warnings

from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import default_generator
from xpnet.ops.activation import in_place

from ._checks import probability

__all__ = ["dropout", "dropout2d"]


def _check_input(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def dropout(x, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (in training; the identity otherwise). ``inplace=True`` writes the result into ``x``."""
    probability("dropout", "p", p)
    _check_input("dropout", x)
    if not training or p == 0:
        return x
    if p == 1:
        return in_place("dropout", x, x * 0.0, inplace)
    g = generator or default_generator
    keep = g.device_bernoulli(x._backend, x.shape, 1 - p)
    xp = x._backend.xp
    mask = Tensor._make(xp.astype(keep, x.array.dtype) * (1 / (1 - p)), x._backend)
    return in_place("dropout", x, x * mask, inplace)


def dropout2d(x, p=0.5, training=True, inplace=False, generator=None):
    """Channel dropout (Tompson et al., 2015): in training zero each whole channel of an
    (N, C, H, W) input with probability ``p`` and scale the rest by ``1 / (1 - p)``; the
    identity otherwise.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    barely regularises a convolution; dropping whole maps does.

    A 2-D (N, C) input has no channel maps: as PyTorch 2.13 does, each element is dropped on
    its own, with a warning that `dropout` is meant.

    Raises
    ------
    TypeError
        For ``p`` not a number or ``x`` not a Tensor.
    ValueError
        For ``p`` outside [0, 1] or a 3-D or 1-D input. PyTorch reads a 3-D input as (N, C, L)
        and warns that this will change to (C, H, W)
        (https://github.com/pytorch/pytorch/issues/77081); refusing it avoids both readings.
    """
    probability("dropout2d", "p", p)
    _check_input("dropout2d", x)
    if x.ndim == 2:
        warnings.warn("dropout2d: received a 2-D (N, C) input, which has no channel maps to "
                      "drop; each element is dropped on its own (use dropout for that)",
                      UserWarning, stacklevel=2)
        return dropout(x, p, training, inplace, generator)
    if x.ndim != 4:
        raise ValueError(f"dropout2d: expected a 4-D input (N, C, H, W), got shape {x.shape}; "
                         f"add the batch axis of a (C, H, W) input with x.unsqueeze(0)")
    if not training or p == 0:
        return x
    if p == 1:
        return in_place("dropout2d", x, x * 0.0, inplace)
    g = generator or default_generator
    keep = g.device_bernoulli(x._backend, x.shape[:2] + (1, 1), 1 - p)
    xp = x._backend.xp
    mask = Tensor._make(xp.astype(keep, x.array.dtype) * (1 / (1 - p)), x._backend)
    return in_place("dropout2d", x, x * mask, inplace)
