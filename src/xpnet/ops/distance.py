"""Distances between points: cdist (every pair of rows of two sets), dist (the norm of a
difference), pairwise_distance (row by row) and cosine_similarity, with PyTorch's names,
defaults and gradients.

`Cdist` is one primitive: its forward is the direct ``(..., P, R, M)`` difference form, or for
p = 2 on large sets the matrix-product form ``|a|^2 + |b|^2 - 2 a.b`` that PyTorch also uses
(no ``P * R * M`` temporary); its backward is PyTorch's, including zero where a distance is zero.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.function import Function, check_same_backend
from xpnet.autograd.tensor import Tensor

from ._util import check_broadcast, normalize_axis, sum_to_shape

__all__ = ["cdist", "cosine_similarity", "dist", "pairwise_distance"]

COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                 "donot_use_mm_for_euclid_dist")


def _differences(xp, x1, x2):
    """``x1[..., i, :] - x2[..., j, :]`` for every pair: shape (..., P, R, M)."""
    return xp.expand_dims(x1, axis=-2) - xp.expand_dims(x2, axis=-3)


def _safe(xp, a):
    """``a`` with zeros replaced by ones, for divisions whose result is masked out there."""
    return xp.where(a == 0, xp.ones_like(a), a)


class Cdist(Function):
    """p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2`` (..., R, M)."""

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        xp = ctx.xp
        ctx.p, ctx.use_mm, ctx.shapes = p, p == 2 and use_mm, (tuple(x1.shape), tuple(x2.shape))
        if ctx.use_mm:
            squares = (xp.expand_dims(xp.sum(x1 * x1, axis=-1), axis=-1)
                       + xp.expand_dims(xp.sum(x2 * x2, axis=-1), axis=-2))
            # Rounding can leave a tiny negative where two points coincide.
            out = xp.sqrt(xp.clip(squares - 2 * (x1 @ xp.matrix_transpose(x2)), min=0.0))
        else:
            magnitude = xp.abs(_differences(xp, x1, x2))
            if p == 0:
                out = xp.sum(xp.astype(magnitude != 0, x1.dtype), axis=-1)
            elif p == 1:
                out = xp.sum(magnitude, axis=-1)
            elif p == 2:
                out = xp.sqrt(xp.sum(magnitude * magnitude, axis=-1))
            elif p == math.inf and magnitude.shape[-1]:
                out = xp.max(magnitude, axis=-1)
            elif p == math.inf:  # no coordinates: distance 0, as the sums give
                out = xp.sum(magnitude, axis=-1)
            else:
                out = xp.sum(magnitude ** p, axis=-1) ** (1 / p)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, d = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        shape1, shape2 = ctx.shapes
        if p == 0:
            return xp.zeros(shape1, dtype=x1.dtype, device=ctx.backend.device), \
                xp.zeros(shape2, dtype=x2.dtype, device=ctx.backend.device), None, None
        if ctx.use_mm:
            # PyTorch's gradient of the product form: sum_j w_ij (x1_i - x2_j) as products,
            # with w = g / d (0 where d = 0).
            w = xp.where(d == 0, xp.zeros_like(d), g / _safe(xp, d))
            grad1 = x1 * xp.expand_dims(xp.sum(w, axis=-1), axis=-1) - w @ x2
            grad2 = (x2 * xp.expand_dims(xp.sum(w, axis=-2), axis=-1)
                     - xp.matrix_transpose(w) @ x1)
        else:
            diff = _differences(xp, x1, x2)
            sign = xp.sign(diff)
            g, d = xp.expand_dims(g, axis=-1), xp.expand_dims(d, axis=-1)
            zero = xp.zeros_like(diff)
            if p == 1:
                term = sign * g
            elif p == 2:
                term = xp.where(d == 0, zero, diff * (g / _safe(xp, d)))
            elif p == math.inf:
                # Every coordinate reaching the maximum gets the whole gradient (PyTorch's).
                term = xp.where(xp.abs(diff) == d, sign * g, zero)
            else:
                magnitude = xp.abs(diff)
                if p < 2:
                    # |diff|**(p-1) is infinite at diff = 0 for p < 1; the gradient is 0 there.
                    powered = xp.where(diff == 0, zero, sign * _safe(xp, magnitude) ** (p - 1))
                else:
                    powered = diff * magnitude ** (p - 2)
                term = xp.where(d == 0, zero, powered * g / _safe(xp, d) ** (p - 1))
            grad1 = xp.sum(term, axis=-2)
            grad2 = -xp.sum(term, axis=-3)
        return sum_to_shape(xp, grad1, shape1), sum_to_shape(xp, grad2, shape2), None, None


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of ``x1`` and each row of ``x2``, batched, as
    ``torch.cdist``.

    Parameters
    ----------
    x1 : Tensor of shape ``(*B1, P, M)``, floating point
    x2 : Tensor of shape ``(*B2, R, M)``, of ``x1``'s dtype
        The batch shapes ``B1`` and ``B2`` broadcast together.
    p : float, default=2.0
        ``p >= 0``: 0 counts the differing coordinates, ``inf`` takes the largest difference.
    compute_mode : str, default='use_mm_for_euclid_dist_if_necessary'
        For p = 2 only: ``'use_mm_for_euclid_dist'`` computes from matrix products (faster and
        without a (P, R, M) temporary, but less accurate for close points),
        ``'donot_use_mm_for_euclid_dist'`` from the differences, and the default uses products
        when P > 25 or R > 25, as PyTorch.

    Returns
    -------
    Tensor of shape ``(*broadcast(B1, B2), P, R)``
        Differentiable in both inputs; the gradient of a zero distance is zero (p > 1 and
        p = 2's products included), as in PyTorch.

    Raises
    ------
    TypeError
        For non-floating or mismatched dtypes, or a non-number ``p``.
    ValueError
        For inputs under two axes, different row lengths M, batch shapes that do not
        broadcast, a negative ``p`` or an unknown ``compute_mode``.
    """
    op = "cdist"
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
        if not x.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must be floating point, got {x.dtype.name}")
        if x.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 axes (points, features), got "
                             f"shape {x.shape}")
    if x1.dtype is not x2.dtype:
        raise TypeError(f"{op}: x1 and x2 must have the same dtype, got {x1.dtype.name} and "
                        f"{x2.dtype.name}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"{op}: x1 and x2 must have the same number of columns, got shapes "
                         f"{x1.shape} and {x2.shape}")
    check_same_backend(op, [x1, x2])
    check_broadcast(op, x1.shape[:-2], x2.shape[:-2])
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number, got {type(p).__name__}")
    if not p >= 0:
        raise ValueError(f"{op}: p must be non-negative, got {p}")
    if compute_mode not in COMPUTE_MODES:
        raise ValueError(f"{op}: compute_mode must be one of {', '.join(COMPUTE_MODES)}, got "
                         f"{compute_mode!r}")
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    use_mm = (compute_mode == "use_mm_for_euclid_dist"
              or (compute_mode == COMPUTE_MODES[0] and (rows1 > 25 or rows2 > 25)))
    return Cdist.apply(x1, x2, float(p), use_mm)


def dist(input, other, p=2):  # noqa: A002
    """The p-norm of ``input - other`` (broadcast) over all elements, as ``torch.dist``.

    Parameters
    ----------
    input, other : Tensor, floating point
    p : float, default=2
        As in `xpnet.norm`: ``inf``/``-inf`` the largest/smallest difference, 0 the count of
        differing elements.

    Returns
    -------
    Tensor, 0-D
        Differentiable as ``norm(input - other, p)`` (zero gradient at zero distance; shared
        evenly among ties for ``inf``).

    Raises
    ------
    TypeError
        For non-tensors, non-floating dtypes or a non-number ``p``.
    ValueError
        When the shapes do not broadcast.
    """
    op = "dist"
    for name, x in (("input", input), ("other", other)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
        if not x.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must be floating point, got {x.dtype.name}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number, got {type(p).__name__}")
    check_same_backend(op, [input, other])
    check_broadcast(op, input.shape, other.shape)
    from .arithmetic import sub
    from .linalg import norm
    return norm(sub(input, other), float(p))


class CosineSimilarity(Function):
    """``sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`` along ``axis``, the inputs broadcast.

    The gradient is PyTorch's: each norm is clamped at ``eps`` outside the graph, so below
    ``eps`` the gradient still holds the norm's own term ``x / |x|`` (0 where ``|x| = 0``).
    """

    @staticmethod
    def forward(ctx, x1, x2, axis, eps):
        xp = ctx.xp
        shape = tuple(xp.broadcast_arrays(x1, x2)[0].shape)
        a, b = xp.broadcast_to(x1, shape), xp.broadcast_to(x2, shape)
        n1 = xp.sqrt(xp.sum(a * a, axis=axis, keepdims=True))
        n2 = xp.sqrt(xp.sum(b * b, axis=axis, keepdims=True))
        c1, c2 = xp.clip(n1, eps, None), xp.clip(n2, eps, None)
        u1, u2 = a / c1, b / c2
        out = xp.sum(u1 * u2, axis=axis)
        ctx.axis, ctx.shapes = axis, (tuple(x1.shape), tuple(x2.shape))
        ctx.save_for_backward(u1, u2, n1, n2, c1, c2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        u1, u2, n1, n2, c1, c2, out = ctx.saved_tensors
        xp = ctx.xp
        g = xp.expand_dims(g, axis=ctx.axis)
        # d out / d c1 = -out / c1; it reaches x1 through the unclamped norm, d|x1|/dx1 = x1/|x1|
        # = u1 c1 / |x1| (0 at |x1| = 0).
        scale = g * xp.expand_dims(out, axis=ctx.axis)
        grads = []
        for need, u_self, u_other, n, c, shape in ((ctx.needs_input_grad[0], u1, u2, n1, c1,
                                                    ctx.shapes[0]),
                                                   (ctx.needs_input_grad[1], u2, u1, n2, c2,
                                                    ctx.shapes[1])):
            if not need:
                grads.append(None)
                continue
            direction = xp.where(n == 0, xp.zeros_like(u_self), u_self * (c / _safe(xp, n)))
            grads.append(sum_to_shape(xp, (g * u_other - scale * direction) / c, shape))
        return grads[0], grads[1], None, None


def _two_float_tensors(op, x1, x2):
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
        if not x.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must be floating point, got {x.dtype.name}")
    if x1.dtype is not x2.dtype:
        raise TypeError(f"{op}: x1 and x2 must have the same dtype, got {x1.dtype.name} and "
                        f"{x2.dtype.name}")
    check_same_backend(op, [x1, x2])
    check_broadcast(op, x1.shape, x2.shape)


def _positive_number(op, name, value, allow_zero=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    if not (value >= 0 if allow_zero else value > 0):
        raise ValueError(f"{op}: {name} must be {'non-negative' if allow_zero else 'positive'}, "
                         f"got {value}")
    return float(value)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, as
    ``torch.nn.functional.cosine_similarity``.

    ``sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps))``: each norm is clamped on its own
    (PyTorch's rule since 1.12), so the result stays in [-1, 1] and a zero vector gives 0.

    Parameters
    ----------
    x1, x2 : Tensor, floating point, of one dtype
        Their shapes broadcast together.
    dim : int, default=1
        The axis of the vectors, in the broadcast shape.
    eps : float, default=1e-8
        Smallest norm divided by.

    Returns
    -------
    Tensor of the broadcast shape without ``dim``

    Raises
    ------
    TypeError
        For non-tensors, non-floating or mismatched dtypes.
    ValueError
        For shapes that do not broadcast, ``dim`` outside the broadcast shape, or a negative
        ``eps``.

    Examples
    --------
    >>> import xpnet
    >>> xpnet.cosine_similarity(xpnet.tensor([[1.0, 0.0]]), xpnet.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    op = "cosine_similarity"
    _two_float_tensors(op, x1, x2)
    eps = _positive_number(op, "eps", eps)
    ndim = max(x1.ndim, x2.ndim)
    if ndim == 0:
        raise ValueError(f"{op}: x1 and x2 must have at least one dimension, got 0-d tensors")
    axis = normalize_axis(op, dim, ndim)
    return CosineSimilarity.apply(x1, x2, axis, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` over the last axis, as
    ``torch.nn.functional.pairwise_distance``.

    Parameters
    ----------
    x1, x2 : Tensor, floating point, of one dtype
        Rows of vectors, e.g. of shape (N, D) or (D,); the shapes broadcast together.
    p : float, default=2.0
        The norm's order (``inf`` for the largest difference, 0 for the count of non-zero ones).
    eps : float, default=1e-6
        Added to each difference (PyTorch's way of keeping the gradient finite at x1 = x2).
    keepdim : bool, default=False
        Keep the reduced last axis with size 1.

    Returns
    -------
    Tensor of the broadcast shape without its last axis (with it, of size 1, for ``keepdim``)

    Raises
    ------
    TypeError
        For non-tensors, non-floating or mismatched dtypes, or a non-number ``p`` or ``eps``.
    ValueError
        For shapes that do not broadcast, or a negative ``p``.

    Examples
    --------
    >>> import xpnet
    >>> xpnet.pairwise_distance(xpnet.tensor([[0.0, 0.0]]), xpnet.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    op = "pairwise_distance"
    _two_float_tensors(op, x1, x2)
    p = _positive_number(op, "p", p)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{op}: eps must be a number, got {type(eps).__name__}")
    if not isinstance(keepdim, bool):
        raise TypeError(f"{op}: keepdim must be a bool, got {type(keepdim).__name__}")
    from .arithmetic import sub
    from .linalg import norm
    difference = sub(x1, x2) + float(eps)
    if difference.ndim == 0:  # PyTorch reduces a 0-d difference as one element
        return norm(difference, p)
    return norm(difference, p, dim=-1, keepdim=keepdim)
