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


# -- gather, scatter, masks and index assignment (ops/scatter.py) --------------------------------

# -- repeat, roll, narrow, triangles and diagonals (ops/repeat.py) ------------------------------

# -- sorting, ranking and cumulative ops (ops/sorting.py, ops/cumulative.py) -------------------

# -- reductions and products (ops/reduce.py, ops/linalg.py) ------------------------------------

# -- elementwise math and comparisons (ops/unary.py, ops/arithmetic.py) ------------------------
