"""Encodings of class indices: `one_hot`, as ``torch.nn.functional.one_hot``."""

from __future__ import annotations

import numbers

from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor

__all__ = ["one_hot"]


def one_hot(tensor, num_classes=-1):
    """Class indices as one-hot rows: ``out[..., c] = 1`` where ``tensor[...] == c``, else 0.

    Parameters
    ----------
    tensor : Tensor of dtype int64 and any shape ``(*)``
        Class indices in ``[0, num_classes)``.
    num_classes : int, default=-1
        The number of classes; -1 takes ``tensor.max() + 1``.

    Returns
    -------
    Tensor of dtype int64 and shape ``(*, num_classes)``
        On ``tensor``'s backend; not differentiable (indices have no gradient).

    Raises
    ------
    TypeError
        For a tensor that is not int64 (convert with ``.long()``) or a non-int
        ``num_classes``.
    ValueError
        For a negative index, an index ``>= num_classes``, a ``num_classes`` below -1, or
        an empty tensor without a positive ``num_classes`` (nothing to count the classes from).

    Examples
    --------
    >>> import xpnet
    >>> import xpnet.nn.functional as F
    >>> F.one_hot(xpnet.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    op = "one_hot"
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: tensor must be a Tensor, got {type(tensor).__name__}")
    if tensor.dtype is not _dt.int64:
        raise TypeError(f"{op}: tensor must hold int64 class indices, got {tensor.dtype.name}; "
                        f"convert with .long()")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"{op}: num_classes must be an int, got {type(num_classes).__name__}")
    num_classes = int(num_classes)
    if num_classes < -1:
        raise ValueError(f"{op}: num_classes must be -1 (infer) or non-negative, got "
                         f"{num_classes}")
    xp, backend = tensor._backend.xp, tensor._backend
    indices = tensor.array
    if tensor.numel() == 0:
        if num_classes <= 0:  # PyTorch refuses 0 here too
            raise ValueError(f"{op}: cannot infer num_classes from an empty tensor (shape "
                             f"{tensor.shape}); pass a positive num_classes")
    else:
        smallest, largest = int(tensor.min().item()), int(tensor.max().item())
        if smallest < 0:
            raise ValueError(f"{op}: class values must be non-negative, got {smallest}")
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise ValueError(f"{op}: class values must be smaller than num_classes="
                             f"{num_classes}, got {largest}")
    classes = xp.arange(num_classes, dtype=indices.dtype, device=backend.device)
    hot = xp.expand_dims(indices, axis=-1) == classes
    return Tensor._make(xp.astype(hot, xp.int64), backend)
