"""Fused-looking PyTorch pointwise helpers built from the primitives: ``addcmul``, ``addcdiv``
(optimizer code and hand-written update rules use them)."""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor

from .arithmetic import add, div, mul

__all__ = ["addcmul", "addcdiv"]


def _check(op, *tensors):
    for name, t in zip(("input", "tensor1", "tensor2"), tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002 - PyTorch's names
    """``input + value * tensor1 * tensor2`` (broadcast together)."""
    _check("addcmul", input, tensor1, tensor2)
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002 - PyTorch's names
    """``input + value * tensor1 / tensor2`` (broadcast together)."""
    _check("addcdiv", input, tensor1, tensor2)
    ratio = div(tensor1, tensor2)
    return add(input, ratio if value == 1 else mul(ratio, value))
