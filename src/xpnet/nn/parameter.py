"""`Parameter`: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor, _share

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad and is registered by the Module it is assigned to.

    Parameters
    ----------
    data : Tensor or backend array
        The initial values (shared, not copied).
    requires_grad : bool, default=True
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            self.array, self._backend = data.array, data._backend
            self.grad = self.grad_fn = self._shared = self._hooks = None
            _share(data, self)  # as in PyTorch, the parameter and the tensor share values
            self._out_index = 0
            self.requires_grad = False
            if requires_grad:
                self.requires_grad_(True)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
