"""The bilinear map of `xpnet.nn.Bilinear`: ``y_k = x1^T W_k x2 + b_k``."""

from __future__ import annotations

from xpnet import ops
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor

__all__ = ["bilinear"]


def bilinear(input1, input2, weight, bias=None):
    """Bilinear map ``y[..., k] = sum_ij input1[..., i] weight[k, i, j] input2[..., j] + bias[k]``,
    as ``torch.nn.functional.bilinear``.

    Computed as one matrix product and a product-sum, through a temporary of shape
    ``(N, out_features, min(in1, in2))`` for N rows.

    Parameters
    ----------
    input1 : Tensor of shape ``(*, in1_features)``
    input2 : Tensor of shape ``(*, in2_features)``
        The same leading shape ``*`` as ``input1`` (no broadcasting, as PyTorch).
    weight : Tensor of shape (out_features, in1_features, in2_features)
    bias : Tensor of shape (out_features,), optional

    Returns
    -------
    Tensor of shape ``(*, out_features)``

    Raises
    ------
    TypeError
        For non-tensor arguments or a non-floating input.
    ValueError
        For leading shapes that differ, or sizes that do not match the weight's or the bias's.

    Examples
    --------
    >>> import xpnet, xpnet.functional as F
    >>> F.bilinear(xpnet.tensor([1.0, 2.0]), xpnet.tensor([3.0]), xpnet.ones((1, 2, 1)))
    tensor([9.])
    """
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
    if not input1.dtype.is_floating_point:
        raise TypeError(f"{op}: input1 must be floating point, got {input1.dtype.name}")
    check_same_backend(op, [t for t in (input1, input2, weight, bias) if t is not None])
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must have shape (out_features, in1_features, "
                         f"in2_features), got {weight.shape}")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.ndim != input2.ndim or input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"{op}: input1 and input2 must have the same leading shape (*, in1) "
                         f"and (*, in2), got {input1.shape} and {input2.shape}")
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ValueError(f"{op}: inputs of shapes {input1.shape} and {input2.shape} do not match "
                         f"weight of shape {weight.shape}: expected last sizes {in1} and {in2}")
    if bias is not None and bias.shape != (out_features,):
        raise ValueError(f"{op}: bias must have shape ({out_features},), got {bias.shape}")
    lead = input1.shape[:-1]
    x1, x2 = ops.reshape(input1, (-1, in1)), ops.reshape(input2, (-1, in2))
    # Contract the larger input side by a matrix product; the smaller one in the product-sum.
    if in2 <= in1:
        w = ops.reshape(ops.permute(weight, (1, 0, 2)), (in1, out_features * in2))
        partial = ops.reshape(ops.matmul(x1, w), (-1, out_features, in2))
        out = ops.sum(partial * ops.unsqueeze(x2, 1), dim=-1)
    else:
        w = ops.reshape(ops.permute(weight, (2, 0, 1)), (in2, out_features * in1))
        partial = ops.reshape(ops.matmul(x2, w), (-1, out_features, in1))
        out = ops.sum(partial * ops.unsqueeze(x1, 1), dim=-1)
    if bias is not None:
        out = out + bias
    return ops.reshape(out, (*lead, out_features))
