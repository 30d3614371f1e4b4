"""`RowSparseGrad`: the gradient of a lookup table, as the rows that were looked up.

An embedding of a 50,000-word vocabulary looked up at a few thousand positions has a gradient
that is zero almost everywhere. ``F.embedding(..., sparse=True)`` hands back only the rows it
touched (PyTorch's ``sparse=True``); the optimizers that know the layout update just those rows.

The layout is PyTorch's sparse COO with one sparse axis (rows) and dense trailing axes:
``index_data`` of shape ``(nnz,)`` and ``values_data`` of shape ``(nnz, *shape[1:])``. Indices may
repeat until `coalesce` sums them, so accumulation is a concatenation.
"""

from __future__ import annotations

import math

from xpnet import dtypes as _dt

from .tensor import Tensor

__all__ = ["RowSparseGrad", "accumulate_grad", "dense_array"]


class RowSparseGrad:
    """A gradient of shape ``shape`` that is zero outside the rows ``index_data``.

    Made by backward (``weight.grad`` after ``F.embedding(..., sparse=True)``), not by users.

    Parameters
    ----------
    index_data : array of shape (nnz,), integer
        Row of each entry of ``values_data``; repeats add up.
    values_data : array of shape ``(nnz, *shape[1:])``
        The rows' gradients, on the same backend and device.
    shape : tuple of int
        The shape of the dense gradient (the weight's shape).
    backend : Backend
    coalesced : bool, default=False
        Whether the indices are known to be sorted and distinct.

    Attributes
    ----------
    is_sparse : bool
        Always True (Tensor-like code tells the two apart by it, as in PyTorch).
    """

    # _valid: None, or (from `_rows_once` on a device) a bool mask of the entries that are rows;
    # the others are zero padding.
    __slots__ = ("index_data", "values_data", "shape", "_backend", "_coalesced", "_valid")
    is_sparse = True
    requires_grad = False
    grad_fn = None

    def __init__(self, index_data, values_data, shape, backend, coalesced=False):
        self.index_data, self.values_data = index_data, values_data
        self.shape, self._backend, self._coalesced = tuple(shape), backend, coalesced
        self._valid = None

    # -- metadata ----------------------------------------------------------------------------
    @property
    def dtype(self) -> _dt.DType:
        return self._backend.xpnet_dtype(self.values_data.dtype)

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def device(self):
        return self._backend.device

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nnz(self) -> int:
        """Number of stored rows (repeats counted until `coalesce`)."""
        return self.index_data.shape[0]

    def numel(self) -> int:
        return math.prod(self.shape)

    def is_coalesced(self) -> bool:
        return self._coalesced

    def indices(self) -> Tensor:
        """The stored row indices, shape (nnz,)."""
        return Tensor._make(self.index_data, self._backend)

    def values(self) -> Tensor:
        """The stored rows, shape ``(nnz, *shape[1:])``."""
        return Tensor._make(self.values_data, self._backend)

    # -- conversions -------------------------------------------------------------------------
    def coalesce(self) -> RowSparseGrad:
        """The same gradient with sorted, distinct indices (repeated rows summed)."""
        if self._coalesced:
            return self
        xp = self._backend.xp
        unique, inverse = xp.unique_inverse(self.index_data)
        values = _scatter_add(self._backend, inverse, self.values_data, unique.shape[0])
        return RowSparseGrad(unique, values, self.shape, self._backend, coalesced=True)

    def _rows_once(self) -> RowSparseGrad:
        """This gradient with every row stored once, for the optimizers' updates, which are not
        linear in the gradient.

        On a host backend that is `coalesce`. On a device, `coalesce`'s unique would read the
        number of distinct rows back to the host to size its result (a synchronisation); here
        the sums stay in ``nnz`` slots, sorted by row, and the slots past the last distinct row
        hold zeros and repeat the last row. ``_valid`` marks the real ones: an update masks
        the padding's increments (they add zero to that last row).
        """
        if self._backend.on_host or self._coalesced:
            return self.coalesce()
        xp, device = self._backend.xp, self._backend.device
        n = self.index_data.shape[0]
        if n == 0:
            return RowSparseGrad(self.index_data, self.values_data, self.shape, self._backend,
                                 coalesced=True)
        order = xp.argsort(self.index_data, stable=True)
        rows = xp.take(self.index_data, order)
        first = xp.concat([xp.ones((1,), dtype=xp.bool, device=device), rows[1:] != rows[:-1]])
        slot = xp.cumulative_sum(xp.astype(first, rows.dtype)) - 1  # distinct row number
        values = _scatter_add(self._backend, slot, xp.take(self.values_data, order, axis=0), n)
        slots = xp.arange(n, dtype=slot.dtype, device=device)
        starts = xp.clip(xp.searchsorted(slot, slots), max=n - 1)  # where each slot's row begins
        padded = RowSparseGrad(xp.take(rows, starts), values, self.shape, self._backend)
        padded._valid = slots <= slot[-1:]
        return padded

    def to_dense(self) -> Tensor:
        """The dense gradient as a Tensor of shape ``shape``."""
        return Tensor._make(dense_array(self), self._backend)

    def numpy(self):
        """A NumPy copy of the dense gradient (for inspection; it is ``shape``-sized)."""
        return self.to_dense().numpy()

    def with_values(self, values_data) -> RowSparseGrad:
        """Same rows, new values (e.g. scaled by gradient clipping)."""
        out = RowSparseGrad(self.index_data, values_data, self.shape, self._backend,
                            self._coalesced)
        out._valid = self._valid
        return out

    def zero_(self) -> RowSparseGrad:
        """Drop every stored row (an all-zero gradient), as PyTorch's ``zero_`` on sparse."""
        self.index_data = self.index_data[:0]
        self.values_data = self.values_data[:0, ...]
        self._coalesced, self._valid = True, None
        return self

    # -- arithmetic: what gradient accumulation and clipping need ------------------------------
    def __add__(self, other):
        """sparse + sparse concatenates the rows; sparse + dense is dense."""
        if isinstance(other, RowSparseGrad):
            _check_same(self, other)
            xp = self._backend.xp
            return RowSparseGrad(xp.concat([self.index_data, other.index_data]),
                                 xp.concat([self.values_data, other.values_data], axis=0),
                                 self.shape, self._backend)
        if isinstance(other, Tensor):
            _check_same(self, other)
            return Tensor._make(_add_rows_to_dense(self, other.array), self._backend)
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, scalar):
        if isinstance(scalar, (Tensor, RowSparseGrad)):
            return NotImplemented
        return self.with_values(self.values_data * scalar)

    __rmul__ = __mul__

    def __neg__(self):
        return self.with_values(-self.values_data)

    def __repr__(self):
        return (f"RowSparseGrad(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype.name}, "
                f"backend={self.backend!r})")


def _check_same(a, b):
    if tuple(a.shape) != tuple(b.shape) or a._backend is not b._backend:
        raise ValueError(f"RowSparseGrad: cannot add a gradient of shape {tuple(b.shape)} on "
                         f"{b._backend.name} to one of shape {a.shape} on {a._backend.name}")


def _scatter_add(backend, index, values, size):
    from xpnet.backend.kernels import get_kernel
    return get_kernel("scatter_add", backend)(backend.xp, index, values, size)


def _add_rows_to_dense(sparse, dense):
    # A new array: the dense gradient may be shared (with retain_graph, or with the user).
    scattered = _scatter_add(sparse._backend, sparse.index_data, sparse.values_data,
                             sparse.shape[0])
    return dense + scattered


def dense_array(grad):
    """The backend array of a gradient, densifying a `RowSparseGrad`."""
    if isinstance(grad, RowSparseGrad):
        return _scatter_add(grad._backend, grad.index_data, grad.values_data, grad.shape[0])
    return grad


def accumulate_grad(existing, new, backend):
    """``existing + new`` for gradients held in ``.grad`` (Tensor, RowSparseGrad or None);
    ``new`` is a backend array or a RowSparseGrad."""
    if isinstance(new, RowSparseGrad):
        if existing is None or isinstance(existing, RowSparseGrad):
            return new if existing is None else existing + new
        return Tensor._make(_add_rows_to_dense(new, existing.array), backend)
    if existing is None:
        return Tensor._make(new, backend)
    if isinstance(existing, RowSparseGrad):
        return Tensor._make(_add_rows_to_dense(existing, new), backend)
    return Tensor._make(backend.kernels.add(backend.xp, existing.array, new), backend)
