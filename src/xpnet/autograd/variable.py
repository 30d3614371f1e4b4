"""``Variable``: PyTorch's pre-0.4 wrapper, kept there as a function that returns a tensor."""

from __future__ import annotations

from .tensor import Tensor

__all__ = ["Variable"]


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's name
    """A tensor sharing ``data``'s values, with ``requires_grad`` set (old code's
    ``Variable(x, requires_grad=True)``); since PyTorch 0.4 tensors carry gradients
    themselves, so this returns a tensor."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: expected a Tensor, got {type(data).__name__}")
    out = data.detach()
    return out.requires_grad_(True) if requires_grad else out
