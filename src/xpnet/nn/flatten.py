"""`Unflatten`, the inverse of `Flatten` (PyTorch's ``nn.modules.flatten``; `Flatten` itself
lives in `xpnet.nn.module`)."""

from __future__ import annotations

from xpnet import ops

from .module import Module

__all__ = ["Unflatten"]


class Unflatten(Module):
    """Expand axis ``dim`` of the input into the axes ``unflattened_size``.

    ``(N, C*H*W) -> (N, C, H, W)`` with ``Unflatten(1, (C, H, W))``; see `xpnet.unflatten`.

    Parameters
    ----------
    dim : int
        The axis to expand (negative counts from the end). Named dimensions (a str) are not
        supported.
    unflattened_size : tuple or list of int (an `xpnet.Size` too)
        The new axes' sizes; their product is the size of axis ``dim``, and one may be -1.

    Raises
    ------
    TypeError
        For a ``dim`` that is not an int, or sizes that are not a tuple or list of ints.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> nn.Unflatten(1, (2, 3))(xpnet.zeros(4, 6)).shape
    (4, 2, 3)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dimensions (a str dim) are not supported; give "
                            "the axis as an int")
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        for position, size in enumerate(unflattened_size):
            if isinstance(size, bool) or not isinstance(size, int):
                raise TypeError(f"Unflatten: unflattened_size must hold ints, got "
                                f"{type(size).__name__} at position {position}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return ops.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
