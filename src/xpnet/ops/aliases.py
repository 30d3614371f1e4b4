"""PyTorch's second names for existing ops (``multiply``, ``greater``, ``concatenate``,
``swapdims``...), ``rsub``, the in-place comparisons (``eq_``... cast back to the tensor's
dtype) and Tensor queries (``is_signed``, ``nbytes``, ``retains_grad``...).

Each alias is the very function it names or a one-line wrapper with PyTorch's parameter names,
so gradients and errors are those of the original.
"""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor

from .arithmetic import mul, neg, sub
from .logic import eq, ge, gt, le, lt, ne
from .shape import concat, transpose
from .unary import abs as _abs

__all__ = ["multiply", "subtract", "negative", "positive", "absolute", "greater",
           "greater_equal", "less", "less_equal", "not_equal", "concatenate", "swapdims", "rsub",
           "is_signed", "is_nonzero", "is_same_size"]

# PyTorch has these only on Tensor; bound in autograd/methods.py, kept out of the top-level
# namespace.
TENSOR_METHODS = ("pin_memory", "share_memory_", "eq_", "ne_", "lt_", "le_", "gt_",
                  "ge_", "greater_", "greater_equal_", "less_", "less_equal_", "not_equal_")
TENSOR_PROPERTIES = ("is_cpu", "nbytes", "itemsize", "retains_grad")


def _tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


# -- second names ------------------------------------------------------------------------------

def multiply(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.mul` (``input * other``) under NumPy's name, as ``torch.multiply``."""
    return mul(input, other)


def subtract(input, other, *, alpha=1):  # noqa: A002 - PyTorch's names
    """`xpnet.sub` (``input - alpha * other``) under NumPy's name, as ``torch.subtract``."""
    return sub(input, other, alpha=alpha)


def negative(input):  # noqa: A002 - PyTorch's name
    """`xpnet.neg` (``-input``) under NumPy's name, as ``torch.negative``."""
    return neg(input)


def positive(input):  # noqa: A002 - PyTorch's name
    """``+input``: the tensor itself (``torch.positive``); refused for bool tensors, as there.

    Raises
    ------
    TypeError
        A bool tensor.
    """
    _tensor("positive", "input", input)
    if input.dtype.kind == "bool":
        raise TypeError("positive: not defined for bool tensors (as in PyTorch)")
    return input


def absolute(input):  # noqa: A002 - PyTorch's name
    """`xpnet.abs` under NumPy's name, as ``torch.absolute``."""
    return _abs(input)


def greater(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.gt` (``input > other``) under NumPy's name, as ``torch.greater``."""
    return gt(input, other)


def greater_equal(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.ge` (``input >= other``) under NumPy's name, as ``torch.greater_equal``."""
    return ge(input, other)


def less(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.lt` (``input < other``) under NumPy's name, as ``torch.less``."""
    return lt(input, other)


def less_equal(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.le` (``input <= other``) under NumPy's name, as ``torch.less_equal``."""
    return le(input, other)


def not_equal(input, other):  # noqa: A002 - PyTorch's names
    """`xpnet.ne` (``input != other``) under NumPy's name, as ``torch.not_equal``."""
    return ne(input, other)


# NumPy's name for cat; the same function (axis= or PyTorch's dim=, default 0).
concatenate = concat


def swapdims(input, dim0, dim1):  # noqa: A002 - PyTorch's names
    """`xpnet.transpose` under another of PyTorch's names (``torch.swapdims``)."""
    return transpose(input, dim0, dim1)


def rsub(input, other, alpha=1):  # noqa: A002 - PyTorch's names
    """``other - alpha * input`` (``sub`` with the operands reversed), as ``torch.rsub``;
    ``other`` may be a Python scalar."""
    return sub(other, input, alpha=alpha)


# -- in-place comparisons ----------------------------------------------------------------------

def _compare_in_place(name, compare):
    def method(self, other):
        _tensor(name, "self", self)
        # 1 where true, 0 where false, in this tensor's own dtype (PyTorch's eq_ and friends).
        return self._assign(name, compare(self, other).astype(self.dtype))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"In-place `xpnet.{compare.__name__}`: this tensor holds 1 where the "
                      f"comparison with ``other`` holds and 0 elsewhere, in its own dtype; "
                      f"returns self.")
    return method


eq_ = _compare_in_place("eq_", eq)
ne_ = _compare_in_place("ne_", ne)
lt_ = _compare_in_place("lt_", lt)
le_ = _compare_in_place("le_", le)
gt_ = _compare_in_place("gt_", gt)
ge_ = _compare_in_place("ge_", ge)
greater_ = _compare_in_place("greater_", gt)
greater_equal_ = _compare_in_place("greater_equal_", ge)
less_ = _compare_in_place("less_", lt)
less_equal_ = _compare_in_place("less_equal_", le)
not_equal_ = _compare_in_place("not_equal_", ne)


# -- Tensor-only methods -----------------------------------------------------------------------

def pin_memory(self, device=None):
    """This tensor itself: page-locked host memory speeds up CUDA copies from PyTorch's CPU
    tensors, but xpnet's host arrays are NumPy's, which CuPy copies as they are."""
    return self


def share_memory_(self):
    """This tensor itself: PyTorch moves storage to shared memory for worker processes;
    xpnet's data loading does not pass tensors between processes through it."""
    return self


# -- queries -----------------------------------------------------------------------------------

def is_signed(input):  # noqa: A002 - PyTorch's name
    """Whether the dtype holds negative numbers: signed integers and floating types, not
    unsigned integers or bool (``torch.is_signed``)."""
    _tensor("is_signed", "input", input)
    return input.dtype.kind in ("signed integer", "real floating", "complex floating")


def is_nonzero(input):  # noqa: A002 - PyTorch's name
    """Whether the single element of a one-element tensor is not zero (``torch.is_nonzero``).

    Raises
    ------
    ValueError
        A tensor of other than one element.
    """
    _tensor("is_nonzero", "input", input)
    if input.numel() != 1:
        raise ValueError(f"is_nonzero: expected a tensor of exactly one element, got shape "
                         f"{input.shape}; use .any() or .all()")
    return input.item() != 0


def is_same_size(input, other):  # noqa: A002 - PyTorch's names
    """Whether two tensors have the same shape (``torch.is_same_size``)."""
    _tensor("is_same_size", "input", input)
    _tensor("is_same_size", "other", other)
    return input.shape == other.shape


def is_cpu(self):
    """Whether the values live in host memory (``device.type == 'cpu'``)."""
    return self.device.type == "cpu"


def nbytes(self):
    """Bytes the elements take: ``numel() * element_size()``."""
    return self.numel() * self.element_size()


def itemsize(self):
    """Bytes per element (``element_size()``)."""
    return self.element_size()


def retains_grad(self):
    """Whether ``retain_grad()`` was called on this non-leaf tensor (always False on leaves)."""
    node = self.grad_fn
    return node is not None and node.retained is not None and \
        node.retained.get(self._out_index) is self
