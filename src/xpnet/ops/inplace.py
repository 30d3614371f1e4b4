"""The in-place updates that are not just an op's result written back (those are
``bind_inplace`` in autograd/methods.py): filling with a value and copying from a tensor.

Each rebinds the tensor, and every tensor sharing its values, through `Tensor._assign`.
"""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor

from .shape import broadcast_to
from .unary import move_to_backend

__all__ = ["fill_", "zero_", "copy_"]


def fill_(t, value):
    """Set every element to ``value`` (a number or a one-element tensor); returns ``t``."""
    if isinstance(value, Tensor):
        value = value.item()
    backend = t._backend
    full = backend.xp.full(t.array.shape, value, dtype=t.array.dtype, device=backend.device)
    return t._assign("fill_", Tensor._make(full, backend))


def zero_(t):
    """Set every element to zero; returns ``t``."""
    return fill_(t, 0)


def copy_(t, src, non_blocking=False):
    """Overwrite ``t``'s values with ``src`` (broadcast to ``t``'s shape, cast to its dtype, and
    moved from another backend or device, as PyTorch copies across devices); returns ``t``."""
    if not isinstance(src, Tensor):
        from xpnet.creation import tensor
        src = tensor(src, dtype=t.dtype, backend=t._backend)
    elif src._backend is not t._backend:
        src = move_to_backend(src, t._backend)
    return t._assign("copy_", broadcast_to(src.astype(t.dtype), t.shape))
