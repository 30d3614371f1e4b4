"""Products and norms: matmul and PyTorch's mm/bmm/mv/dot/outer/inner, the add*-products,
kron, cross, and norm (tensordot and einsum are in `xpnet.ops.einsum`).

Only `Matmul`, `Linear` and the norms are primitives; the rest are compositions of matmul,
permute, reshape, take and sum, so their gradients come from those.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor
from xpnet.backend.kernels import get_kernel, register_generic

from ._util import check_broadcast, normalize_axes, normalize_axis, promote_operands, sum_to_shape

__all__ = ["matmul", "linear", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner",
           "addmm", "addmv", "baddbmm", "addbmm", "kron", "cross", "norm"]


class Matmul(Function):
    """``a @ b`` with the standard's rules: 1-D operands are promoted to a row / column and the
    leading (batch) axes broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _product(ctx, a, b)

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
            grad_a = xp.reshape(sum_to_shape(xp, _product(ctx, g, xp.matrix_transpose(b2)),
                                             a2.shape), a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = xp.reshape(sum_to_shape(xp, _product(ctx, xp.matrix_transpose(a2), g),
                                             b2.shape), b.shape)
        return grad_a, grad_b


def _product(ctx, a, b):
    """``a @ b``; two matrices through the ``matmul`` kernel, as Linear's products."""
    if a.ndim == 2 and b.ndim == 2:
        return ctx.backend.kernels.matmul(ctx.xp, a, b)
    return ctx.xp.matmul(a, b)


def matmul(input, other):  # noqa: A002 - PyTorch's names
    """Matrix product with batch broadcasting (``input @ other``)."""
    a, b = input, other
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        for name, value in (("input", a), ("other", b)):
            if not isinstance(value, Tensor):
                raise TypeError(f"matmul: {name} must be a Tensor, got "
                                f"{type(value).__name__} {_short_repr(value)}")
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


def _short_repr(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Linear(Function):
    """``x @ weight.T + bias`` over the last axis, as one node: one GEMM forward, two backward
    (leading axes are folded into one batch axis, so the weight gradient is a single GEMM).
    With ``relu`` the node is ``relu(x @ weight.T + bias)``: the bias and the ReLU are one pass
    over the fresh product (the ``bias_relu`` kernel), and backward reads the signs from the
    output, as ReLU's own node does."""

    @staticmethod
    def forward(ctx, x, weight, bias, *, relu=False):
        xp = ctx.xp
        lead = x.shape[:-1]
        x2 = xp.reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
        out = ctx.backend.kernels.matmul(xp, x2, xp.matrix_transpose(weight))
        if relu:
            out = get_kernel("bias_relu", ctx.backend)(xp, out, bias)
            ctx.save_for_backward(x2, weight, out)
        else:
            if bias is not None:  # into the fresh product: no second (N, out_features) array
                out = ctx.backend.kernels.bias_add(xp, out, bias)
            ctx.save_for_backward(x2, weight)
        ctx.lead = lead
        ctx.has_bias = bias is not None
        ctx.relu = relu
        return xp.reshape(out, (*lead, weight.shape[0])) if x.ndim != 2 else out

    @staticmethod
    def backward(ctx, g):
        x2, weight, *activation = ctx.saved_tensors
        xp = ctx.xp
        g2 = xp.reshape(g, (-1, weight.shape[0])) if g.ndim != 2 else g
        need_x, need_w, need_b = ctx.needs_input_grad
        need_b = need_b and ctx.has_bias
        grad_x = grad_w = grad_b = None
        if ctx.relu and need_b:  # the bias gradient summed in the same pass
            g2, grad_b = get_kernel("relu_backward_bias", ctx.backend)(xp, g2, activation[0])
        elif ctx.relu:
            g2 = get_kernel("relu_backward", ctx.backend)(xp, g2, activation[0])
        elif need_b:
            grad_b = xp.sum(g2, axis=0)
        product = ctx.backend.kernels.matmul
        if need_x:
            grad_x = product(xp, g2, weight)
            if len(ctx.lead) != 1:
                grad_x = xp.reshape(grad_x, (*ctx.lead, weight.shape[1]))
        if need_w:
            grad_w = product(xp, xp.matrix_transpose(g2), x2)
        return grad_x, grad_w, grad_b


@register_generic("matmul")
def matmul_kernel(xp, a, b):
    """``a @ b`` of two 2-D arrays (the products of `Linear` and of a matrix `matmul`); a fast
    path may share it among threads."""
    return xp.matmul(a, b)


@register_generic("bias_relu")
def bias_relu_kernel(xp, out, bias):
    """``relu(out + bias)`` for a fresh 2-D product ``out`` (features last) and a bias of its
    features, or None; a fast path may write the result over ``out``."""
    if bias is not None:
        out += bias
    return xp.maximum(out, 0)


@register_generic("bias_add")
def bias_add_kernel(xp, out, bias):
    """``out + bias`` for a fresh 2-D product ``out`` and a bias of its features, written over
    ``out``."""
    out += bias
    return out


@register_generic("relu_backward_bias")
def relu_backward_bias_kernel(xp, g, out):
    """ReLU's input gradient from its 2-D output (``g`` where ``out > 0``, else 0) and that
    gradient's column sums (the bias gradient of `linear_relu`)."""
    grad = g * xp.astype(out > 0, g.dtype)
    return grad, xp.sum(grad, axis=0)


def linear(x, weight, bias=None):
    """Affine map over the last axis: ``x @ weight.T + bias``.

    Parameters
    ----------
    x : Tensor of shape ``(*, in_features)``
    weight : Tensor of shape (out_features, in_features)
    bias : Tensor of shape (out_features,), optional
    """
    _check_linear("linear", x, weight, bias)
    return Linear.apply(x, weight, bias)


def linear_relu(x, weight, bias=None):
    """``relu(linear(x, weight, bias))`` as one node (see `Linear`): what a feed-forward block
    such as the Transformer layers' runs when nothing sits between the two. Arguments are
    `linear`'s."""
    _check_linear("linear_relu", x, weight, bias)
    return Linear.apply(x, weight, bias, relu=True)


def _check_linear(op, x, weight, bias):
    for name, t in (("x", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"{op}: expected x.shape[-1] == weight.shape[1] ({weight.shape[1]}), "
                         f"got x of shape {x.shape}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        got = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},), got {got}")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: x, weight and bias must share a dtype, got "
                        f"{', '.join(sorted(d.name for d in dtypes))}")


# -- PyTorch's fixed-shape products --------------------------------------------------------------

def _operands(op, names, tensors, ndims):
    """Check each operand is a Tensor with the expected number of axes."""
    for name, t, ndim in zip(names, tensors, ndims):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if ndim is not None and t.ndim != ndim:
            raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {t.shape}")


def _inner_sizes(op, a, b, k_a, k_b):
    if k_a != k_b:
        raise ValueError(f"{op}: cannot multiply shapes {a.shape} and {b.shape}: {k_a} != {k_b}")


def mm(input, mat2):  # noqa: A002 - PyTorch's name
    """Matrix product of two 2-D tensors: (n, m) @ (m, p) -> (n, p), no broadcasting."""
    _operands("mm", ("input", "mat2"), (input, mat2), (2, 2))
    _inner_sizes("mm", input, mat2, input.shape[1], mat2.shape[0])
    return Matmul.apply(*promote_operands("mm", input, mat2))


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p), equal batch sizes."""
    _operands("bmm", ("input", "mat2"), (input, mat2), (3, 3))
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {input.shape} and {mat2.shape}")
    _inner_sizes("bmm", input, mat2, input.shape[2], mat2.shape[1])
    return Matmul.apply(*promote_operands("bmm", input, mat2))


def mv(input, vec):  # noqa: A002
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    _operands("mv", ("input", "vec"), (input, vec), (2, 1))
    _inner_sizes("mv", input, vec, input.shape[1], vec.shape[0])
    return Matmul.apply(*promote_operands("mv", input, vec))


def dot(input, tensor):  # noqa: A002
    """Inner product of two 1-D tensors of the same size (a 0-d tensor)."""
    _operands("dot", ("input", "tensor"), (input, tensor), (1, 1))
    if input.shape != tensor.shape:
        raise ValueError(f"dot: expected 1-D tensors of the same size, got {input.shape} and "
                         f"{tensor.shape}")
    return Matmul.apply(*promote_operands("dot", input, tensor))


def vdot(input, other):  # noqa: A002
    """``dot(conj(input), other)``; for real tensors (the ones supported) the same as `dot`."""
    _operands("vdot", ("input", "other"), (input, other), (1, 1))
    if "complex floating" in (input.dtype.kind, other.dtype.kind):
        raise TypeError("vdot: complex tensors are not supported yet")
    if input.shape != other.shape:
        raise ValueError(f"vdot: expected 1-D tensors of the same size, got {input.shape} and "
                         f"{other.shape}")
    return Matmul.apply(*promote_operands("vdot", input, other))


def outer(input, vec2):  # noqa: A002
    """Outer product of two 1-D tensors: (n,) and (m,) -> (n, m)."""
    from .arithmetic import mul
    from .shape import reshape
    _operands("outer", ("input", "vec2"), (input, vec2), (1, 1))
    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


def ger(input, vec2):  # noqa: A002
    """Alias of `outer` (PyTorch's older name)."""
    return outer(input, vec2)


def inner(input, other):  # noqa: A002
    """Sum of products over the last axes: shape ``input.shape[:-1] + other.shape[:-1]``;
    a 0-d operand multiplies."""
    from .arithmetic import mul
    from .einsum import tensordot
    _operands("inner", ("input", "other"), (input, other), (None, None))
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise ValueError(f"inner: last axes differ: {input.shape} and {other.shape}")
    return tensordot(input, other, ([-1], [-1]))


def _add_scaled(op, input, product, beta, alpha):
    """``beta * input + alpha * product``; beta == 0 ignores input (NaN and all), as PyTorch."""
    from .arithmetic import add, mul
    for name, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    check_broadcast(op, input.shape, product.shape)
    if len(input.shape) > len(product.shape) or any(
            a != b and a != 1 for a, b in zip(input.shape[::-1], product.shape[::-1])):
        raise ValueError(f"{op}: input of shape {input.shape} does not broadcast to the "
                         f"product's shape {product.shape}")
    out = product if alpha == 1 else mul(product, alpha)
    if beta == 0:
        return out
    return add(input if beta == 1 else mul(input, beta), out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D mat1, mat2; input broadcasts to the
    product's shape."""
    return _add_scaled("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled("addmv", input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``: (b, n, m), (b, m, p) -> (n, p)."""
    from .shape import permute, reshape
    _operands("addbmm", ("batch1", "batch2"), (batch1, batch2), (3, 3))
    if batch1.shape[0] != batch2.shape[0]:
        raise ValueError(f"addbmm: batch sizes differ: {batch1.shape} and {batch2.shape}")
    _inner_sizes("addbmm", batch1, batch2, batch1.shape[2], batch2.shape[1])
    b, n, m = batch1.shape
    # The sum over the batch is one GEMM: (n, b*m) @ (b*m, p).
    left = reshape(permute(batch1, (1, 0, 2)), (n, b * m))
    right = reshape(batch2, (b * m, batch2.shape[2]))
    return _add_scaled("addbmm", input, matmul(left, right), beta, alpha)


# -- kron, cross ---------------------------------------------------------------------------------

def kron(input, other):  # noqa: A002
    """Kronecker product: block ``(i, j, ...)`` of the result is ``input[i, j, ...] * other``;
    shape ``input.shape * other.shape`` (the shorter shape padded with leading ones)."""
    from .arithmetic import mul
    from .shape import reshape
    _operands("kron", ("input", "other"), (input, other), (None, None))
    ndim = max(input.ndim, other.ndim)
    shape_a = (1,) * (ndim - input.ndim) + input.shape
    shape_b = (1,) * (ndim - other.ndim) + other.shape
    # Interleave: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); the product is
    # (a0, b0, a1, b1, ...), and merging each pair gives the blocks.
    a = reshape(input, tuple(n for s in shape_a for n in (s, 1)))
    b = reshape(other, tuple(n for s in shape_b for n in (1, s)))
    return reshape(mul(a, b), tuple(m * n for m, n in zip(shape_a, shape_b)))


def cross(input, other, dim=None, *, axis=None):  # noqa: A002
    """Cross product of 3-vectors along ``dim`` (broadcasting the other axes).

    ``dim=None`` takes the first axis of size 3, as ``torch.cross`` does (PyTorch deprecates
    relying on it; ``torch.linalg.cross`` defaults to -1).
    """
    from ._util import axis_arg
    from .arithmetic import mul, sub
    from .shape import broadcast_to, concat
    _operands("cross", ("input", "other"), (input, other), (None, None))
    dim = axis_arg("cross", axis, dim)
    check_broadcast("cross", input.shape, other.shape)
    ndim = max(input.ndim, other.ndim)
    shape = tuple(max(m, n) for m, n in zip((1,) * (ndim - input.ndim) + input.shape,
                                            (1,) * (ndim - other.ndim) + other.shape))
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no axis of size 3 in the shape {shape}; give dim")
    dim = normalize_axis("cross", dim, ndim)
    if shape[dim] != 3:
        raise ValueError(f"cross: dim {dim} must have size 3, got shape {shape}")
    a, b = promote_operands("cross", broadcast_to(input, shape), broadcast_to(other, shape))
    lead = (slice(None),) * dim

    def part(t, i):
        return t[(*lead, slice(i, i + 1), ...)]

    a0, a1, a2 = (part(a, i) for i in range(3))
    b0, b1, b2 = (part(b, i) for i in range(3))
    return concat([sub(mul(a1, b2), mul(a2, b1)), sub(mul(a2, b0), mul(a0, b2)),
                   sub(mul(a0, b1), mul(a1, b0))], dim)


# -- norms ---------------------------------------------------------------------------------------

class VectorNorm(Function):
    """``(sum |x|**p) ** (1/p)`` over ``axes``; p = inf / -inf is the largest / smallest |x|,
    p = 0 the count of non-zeros. Gradients as PyTorch's: zero where the norm is zero (p > 1),
    where x is zero (p < 1) and everywhere for p = 0; shared evenly among ties for +-inf."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, p):
        xp = ctx.xp
        magnitude = xp.abs(x)
        if p == math.inf:
            out = xp.max(magnitude, axis=axes, keepdims=True)
        elif p == -math.inf:
            out = xp.min(magnitude, axis=axes, keepdims=True)
        elif p == 0:
            out = xp.sum(xp.astype(magnitude != 0, x.dtype), axis=axes, keepdims=True)
        elif p == 1:
            out = xp.sum(magnitude, axis=axes, keepdims=True)
        elif p == 2:
            out = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=True))
        else:
            out = xp.sum(magnitude ** p, axis=axes, keepdims=True) ** (1 / p)
        ctx.p, ctx.axes, ctx.kept = p, axes, tuple(out.shape)
        ctx.save_for_backward(x, out)
        return out if keepdims else xp.reshape(out, tuple(
            n for i, n in enumerate(x.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        g = xp.reshape(g, ctx.kept)
        zero = xp.zeros_like(x)
        if p == 0:
            return zero, None, None, None
        sign = xp.sign(x)
        if p == 1:
            return sign * g, None, None, None
        magnitude = xp.abs(x)
        if p in (math.inf, -math.inf):
            hit = xp.logical_or(magnitude == norm, xp.isnan(magnitude))
            hit = xp.astype(hit, x.dtype)
            return sign * hit * (g / xp.sum(hit, axis=ctx.axes, keepdims=True)), None, None, None
        norm_zero = norm == 0
        safe_norm = xp.where(norm_zero, xp.ones_like(norm), norm)
        if p == 2:
            return xp.where(norm_zero, zero, x * (g / safe_norm)), None, None, None
        x_zero = x == 0
        safe = xp.where(x_zero, xp.ones_like(x), magnitude)
        # |x|**(p-1) is infinite at x = 0 for p < 1; PyTorch defines the gradient there as 0.
        scaled = xp.where(x_zero, zero, sign * safe ** (p - 1))
        grad = scaled * g / safe_norm ** (p - 1)
        return xp.where(norm_zero, zero, grad), None, None, None


class NuclearNorm(Function):
    """Sum of the singular values of the matrices over the last two axes; its gradient is
    ``U @ Vh`` from the thin SVD."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        u, s, vh = xp.linalg.svd(x, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return xp.sum(s, axis=-1)

    @staticmethod
    def backward(ctx, g):
        u, vh = ctx.saved_tensors
        return ctx.xp.matmul(u, vh) * g[..., None, None]


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None, *, axis=None,  # noqa: A002
         keepdims=None):
    """Vector or matrix norm, as ``torch.norm``.

    Parameters
    ----------
    input : Tensor, floating point
    p : {'fro', 'nuc'} or float, default='fro'
        A number: the vector p-norm ``(sum |x|**p) ** (1/p)`` over ``dim`` (``inf``: largest
        ``|x|``, ``-inf``: smallest, ``0``: number of non-zeros). ``'fro'``: the 2-norm over
        ``dim`` (at most two axes). ``'nuc'``: the sum of singular values of the matrices over
        the two axes ``dim`` (the last two when None, which needs a 2-D input).
    dim : int or tuple of ints, optional
        Axes to reduce; every axis when None (flattened: ``norm(A, 2)`` of a matrix is its
        Frobenius norm, not its spectral norm, as in PyTorch).
    keepdim : bool, default=False
    dtype : xpnet dtype, optional
        Cast the input to it first.

    Returns
    -------
    Tensor

    Raises
    ------
    TypeError
        For integer inputs (as PyTorch; pass ``dtype=`` or convert first).
    ValueError
        For an unknown string ``p``, or 'fro' over more than two axes.
    """
    from ._util import torch_axis_aliases
    from .shape import permute, reshape
    if not isinstance(input, Tensor):
        raise TypeError(f"norm: input must be a Tensor, got {type(input).__name__}")
    if out is not None:
        raise TypeError("norm: out= is not supported; use the returned tensor")
    dim, keepdim = torch_axis_aliases("norm", axis, keepdims, dim, keepdim or None)
    if dtype is not None:
        input = input.astype(dtype)
    if not input.dtype.is_floating_point:
        raise TypeError(f"norm: expected a floating-point tensor, got {input.dtype.name}; pass "
                        f"dtype=xpnet.float32 or convert with .float()")
    axes = normalize_axes("norm", dim, input.ndim)
    if isinstance(p, str):
        if p == "fro":
            if dim is not None and isinstance(dim, (tuple, list)) and len(dim) > 2:
                raise ValueError(f"norm: p='fro' takes at most two axes, got dim={dim}")
            return VectorNorm.apply(input, axes, keepdim, 2)
        if p != "nuc":
            raise ValueError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
        if len(axes) != 2:
            raise ValueError(f"norm: p='nuc' needs exactly two axes (dim=(i, j), or a 2-D "
                             f"input), got dim={dim} for shape {input.shape}")
        rest = [i for i in range(input.ndim) if i not in axes]
        out = NuclearNorm.apply(permute(input, rest + list(axes)))
        if keepdim:
            out = reshape(out, tuple(1 if i in axes else n for i, n in enumerate(input.shape)))
        return out
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"norm: p must be 'fro', 'nuc' or a number, got {type(p).__name__}")
    if p in (math.inf, -math.inf) and any(input.shape[a] == 0 for a in axes):
        raise ValueError(f"norm: p={p} of an empty axis is undefined (shape {input.shape})")
    return VectorNorm.apply(input, axes, keepdim, float(p))
