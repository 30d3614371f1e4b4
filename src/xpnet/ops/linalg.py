"""Matrix products."""

from __future__ import annotations

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from ._util import promote_operands, sum_to_shape

__all__ = ["matmul"]


class Matmul(Function):
    """``a @ b`` with the standard's rules: 1-D operands are promoted to a row / column and the
    leading (batch) axes broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        # Work with the 2-D-or-more forms, then undo the promotion and the broadcasting.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = xp.expand_dims(g, axis=-2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            g = xp.expand_dims(g, axis=-1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = xp.reshape(sum_to_shape(xp, xp.matmul(g, xp.matrix_transpose(b2)),
                                             a2.shape), a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = xp.reshape(sum_to_shape(xp, xp.matmul(xp.matrix_transpose(a2), g),
                                             b2.shape), b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """Matrix product with batch broadcasting (``a @ b``)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one axis, got shapes {a.shape} "
                         f"and {b.shape}; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: cannot multiply shapes {a.shape} and {b.shape}: {k_a} != {k_b}")
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    for x, y in zip(batch_a[::-1], batch_b[::-1]):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch shapes {batch_a} and {batch_b} of operands "
                             f"{a.shape} and {b.shape} do not broadcast")
    a, b = promote_operands("matmul", a, b)
    return Matmul.apply(a, b)
