"""Matrix products."""

from __future__ import annotations

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

from ._util import promote_operands, sum_to_shape

__all__ = ["matmul", "linear"]


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


class Linear(Function):
    """``x @ weight.T + bias`` over the last axis, as one node: one GEMM forward, two backward
    (leading axes are folded into one batch axis, so the weight gradient is a single GEMM)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        xp = ctx.xp
        lead = x.shape[:-1]
        x2 = xp.reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
        out = xp.matmul(x2, xp.matrix_transpose(weight))
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(x2, weight)
        ctx.lead = lead
        ctx.has_bias = bias is not None
        return xp.reshape(out, (*lead, weight.shape[0])) if x.ndim != 2 else out

    @staticmethod
    def backward(ctx, g):
        x2, weight = ctx.saved_tensors
        xp = ctx.xp
        g2 = xp.reshape(g, (-1, weight.shape[0])) if g.ndim != 2 else g
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = xp.matmul(g2, weight)
            if len(ctx.lead) != 1:
                grad_x = xp.reshape(grad_x, (*ctx.lead, weight.shape[1]))
        if need_w:
            grad_w = xp.matmul(xp.matrix_transpose(g2), x2)
        if need_b and ctx.has_bias:
            grad_b = xp.sum(g2, axis=0)
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    """Affine map over the last axis: ``x @ weight.T + bias``.

    Parameters
    ----------
    x : Tensor of shape ``(*, in_features)``
    weight : Tensor of shape (out_features, in_features)
    bias : Tensor of shape (out_features,), optional
    """
    for name, t in (("x", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: expected x.shape[-1] == weight.shape[1] ({weight.shape[1]}), "
                         f"got x of shape {x.shape}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        got = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {got}")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"linear: x, weight and bias must share a dtype, got "
                        f"{', '.join(sorted(d.name for d in dtypes))}")
    return Linear.apply(x, weight, bias)
