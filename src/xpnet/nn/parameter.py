"""`Parameter`: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from xpnet import backend as _backends
from xpnet.autograd.tensor import Tensor, _share

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad and is registered by the Module it is assigned to.

    Parameters
    ----------
    data : Tensor or backend array, optional
        The initial values (shared, not copied); None gives an empty float tensor, as in
        PyTorch.
    requires_grad : bool, default=True

    Raises
    ------
    TypeError
        When ``data`` is neither a Tensor, a backend array nor None (wrap lists and numbers
        with ``xpnet.tensor`` first).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from xpnet import creation
            data = creation.empty(0)
        if isinstance(data, Tensor):
            self.array, self._backend = data.array, data._backend
            self.grad = self.grad_fn = self._shared = self._hooks = None
            _share(data, self)  # as in PyTorch, the parameter and the tensor share values
            self._out_index = 0
            self.requires_grad = False
            if requires_grad:
                self.requires_grad_(True)
        else:
            if _backends.backend_of_array(data) is None:
                raise TypeError(f"Parameter: data must be a Tensor or an array of a supported "
                                f"backend ({', '.join(_backends.FAMILIES)}), got "
                                f"{type(data).__name__}; wrap lists and numbers with "
                                f"xpnet.tensor(...)")
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
