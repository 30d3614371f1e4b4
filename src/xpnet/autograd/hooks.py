"""Hooks on tensors: ``register_hook`` (see or replace a gradient as backward computes it) and
``register_post_accumulate_grad_hook`` (run once a leaf's ``.grad`` for this backward is
complete), with PyTorch's handles whose ``remove()`` unregisters them."""

from __future__ import annotations

import itertools

__all__ = ["RemovableHandle", "TensorHooks"]

_ids = itertools.count()


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it; also a context
    manager that removes it on exit (PyTorch's ``torch.utils.hooks.RemovableHandle``)."""

    def __init__(self, registry, hook):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        self._registry, self.id = registry, next(_ids)
        registry[self.id] = hook

    def remove(self):
        self._registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class TensorHooks:
    """The hooks of one tensor: ``grad`` hooks ``fn(grad) -> grad or None`` and, for leaves,
    ``post`` hooks ``fn(tensor)`` run after ``.grad`` is accumulated."""

    __slots__ = ("grad", "post")

    def __init__(self):
        self.grad, self.post = {}, {}

    def __bool__(self):
        return bool(self.grad or self.post)


def apply_grad_hooks(hooks, grad, backend, shape):
    """Run ``fn(grad)`` hooks in registration order; a returned tensor replaces the gradient."""
    from .sparse import RowSparseGrad
    from .tensor import Tensor
    for hook in tuple(hooks.values()):
        value = grad if isinstance(grad, RowSparseGrad) else Tensor._make(grad, backend)
        replaced = hook(value)
        if replaced is None:
            continue
        if isinstance(replaced, RowSparseGrad):
            grad = replaced
            continue
        if not isinstance(replaced, Tensor):
            raise TypeError(f"register_hook: a hook must return a Tensor or None, got "
                            f"{type(replaced).__name__}")
        if replaced.shape != tuple(shape):
            raise ValueError(f"register_hook: a hook returned a gradient of shape "
                             f"{replaced.shape} for a tensor of shape {tuple(shape)}")
        if replaced._backend is not backend:
            raise ValueError(f"register_hook: a hook returned a gradient on "
                             f"{replaced._backend.name}, the tensor is on {backend.name}")
        if replaced.dtype is not value.dtype:
            # PyTorch refuses too ("hook has changed the type of value"): the leaf's .grad
            # would otherwise leave its dtype, and an optimizer step with it.
            from .tensor import GradDtypeError
            raise GradDtypeError(f"register_hook: a hook returned a gradient of dtype "
                                 f"{replaced.dtype.name} for a gradient of dtype "
                                 f"{value.dtype.name}")
        grad = replaced.array
    return grad
