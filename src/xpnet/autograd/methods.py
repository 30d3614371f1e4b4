"""Tensor methods that are PyTorch's names for functions of `xpnet.ops`: ``t.gather(1, i)`` is
``xpnet.gather(t, 1, i)``.

Each op family binds its functions here, one line per family, so `tensor.py` stays small and a
method can never drift from its function (it *is* the function: the tensor is its first
argument). Methods whose meaning differs from the function of the same name live in tensor.py.
"""

from __future__ import annotations

from xpnet import ops

from .tensor import Tensor


def bind(*names):
    """Make each ``xpnet.ops`` function ``name`` the Tensor method ``name``."""
    for name in names:
        setattr(Tensor, name, getattr(ops, name))


def _inplace_method(name, fn):
    def method(self, *args, **kwargs):
        return self._assign(name + "_", fn(self, *args, **kwargs))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = (f"In-place `xpnet.{name}`: computed out of place, then this tensor (and "
                      f"every tensor sharing its values, such as ``.data``) holds the result; "
                      f"returns self.")
    return method


def bind_inplace(*names):
    """Make ``name_`` the in-place form of the ``xpnet.ops`` function ``name`` (PyTorch's
    trailing underscore), through `Tensor._assign`: same shape, dtype kept, recorded by autograd
    like any op, refused on a leaf that requires grad while gradients are recorded."""
    for name in names:
        setattr(Tensor, name + "_", _inplace_method(name, getattr(ops, name)))


# -- gather, scatter, masks and index assignment (ops/scatter.py) --------------------------------

# -- repeat, roll, narrow, triangles and diagonals (ops/repeat.py) ------------------------------

# -- sorting, ranking and cumulative ops (ops/sorting.py, ops/cumulative.py) -------------------

# -- reductions and products (ops/reduce.py, ops/linalg.py) ------------------------------------

# -- elementwise math and comparisons (ops/unary.py, ops/arithmetic.py) ------------------------
