"""The in-place updates that are not just an op's result written back (those are
``bind_inplace`` in autograd/methods.py): filling with a value and copying from a tensor.

Each rebinds the tensor, and every tensor sharing its values, through `Tensor._assign`.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.tensor import Tensor

from .shape import broadcast_to
from .unary import move_to_backend

__all__ = ["fill_", "zero_", "copy_"]


def fill_(t, value):
    """Set every element to ``value`` (a number or a one-element tensor); returns ``t``.

    Raises
    ------
    TypeError
        ``value`` is not a number or a Tensor, or is complex for a real tensor.
    ValueError
        ``value`` is a Tensor of more than one element, or NaN/infinite for an integer tensor.
    """
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"fill_: value must be a number or a one-element Tensor, got a "
                             f"Tensor of shape {value.shape}")
        value = value.item()
    value = _scalar_for("fill_", "value", value, t.dtype)
    backend = t._backend
    full = backend.xp.full(t.array.shape, value, dtype=t.array.dtype, device=backend.device)
    return t._assign("fill_", Tensor._make(full, backend))


def _scalar_for(op, name, value, dtype):
    """A Python number of the kind ``dtype`` stores; a float into an integer tensor truncates,
    as PyTorch's fill_ does."""
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{op}: {name} must be a number or a one-element Tensor, got "
                        f"{type(value).__name__} {value!r}")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        if dtype.kind != "complex floating":
            raise TypeError(f"{op}: {name} {value!r} is complex; a {dtype.name} tensor would "
                            f"drop its imaginary part")
        return complex(value)
    if dtype.kind == "bool":
        return bool(value)
    if dtype.is_integer:
        if not math.isfinite(value):
            raise ValueError(f"{op}: cannot store {name} {value!r} in a {dtype.name} tensor")
        return int(value)
    return value


def zero_(t):
    """Set every element to zero; returns ``t``."""
    return fill_(t, 0)


def copy_(t, src, non_blocking=False):
    """Overwrite ``t``'s values with ``src`` (broadcast to ``t``'s shape, cast to its dtype, and
    moved from another backend or device, as PyTorch copies across devices); returns ``t``.

    ``src`` may also be numbers (nested lists of them) or an array.

    Raises
    ------
    TypeError
        ``src`` is not a Tensor, an array or numbers, or it is complex and ``t`` is real (the
        imaginary parts would be lost; PyTorch only warns).
    ValueError
        ``src``'s shape does not broadcast to ``t``'s.
    """
    if not isinstance(src, Tensor):
        if not (isinstance(src, (list, tuple, numbers.Number)) or hasattr(src, "dtype")):
            raise TypeError(f"copy_: src must be a Tensor (or numbers, an array), got "
                            f"{type(src).__name__}")
        from xpnet.creation import tensor
        try:
            dtype = None  # an array keeps its dtype until the cast below
            if not hasattr(src, "dtype") and tensor(src).dtype.kind != "complex floating":
                dtype = t.dtype  # Python floats straight to t's dtype, never through float32
            src = tensor(src, dtype=dtype, backend=t._backend)
        except (TypeError, ValueError) as error:
            raise TypeError(f"copy_: src must be a Tensor (or numbers, an array), got a "
                            f"{type(src).__name__} that is not one ({error})") from None
    shape = t.shape
    if src.ndim > len(shape) or any(
            n not in (1, m) for n, m in zip(src.shape[::-1], shape[::-1])):
        raise ValueError(f"copy_: src of shape {src.shape} cannot be broadcast to the tensor's "
                         f"shape {shape}")
    if src.dtype.kind == "complex floating" and t.dtype.kind != "complex floating":
        raise TypeError(f"copy_: src has dtype {src.dtype.name}; storing it in a {t.dtype.name} "
                        f"tensor would drop the imaginary parts (copy src.real if that is meant)")
    if src._backend is not t._backend:
        # Never store the foreign array: the values move to t's backend and device first.
        src = move_to_backend(src, t._backend)
    if src.dtype is not t.dtype:
        src = src.astype(t.dtype)
    return t._assign("copy_", broadcast_to(src, shape) if src.shape != shape else src)
