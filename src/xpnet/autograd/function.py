"""`Function`: a differentiable primitive as a forward/backward pair on raw backend arrays."""

from __future__ import annotations

from . import anomaly, grad_mode
from .tensor import Tensor

__all__ = ["Function", "check_same_backend"]


def check_same_backend(op: str, tensors) -> object:
    """The one Backend all the tensors share; a clear error if two backends or devices mix."""
    backend = None
    first = None
    for t in tensors:
        if backend is None:
            backend, first = t._backend, t
        elif t._backend is not backend:
            raise ValueError(
                f"{op}: tensors are on different backends/devices: {backend.name} and "
                f"{t._backend.name}; move one with .to(backend={backend.name!r}) first")
    return backend


class Function:
    """Base class of primitives; subclasses define ``forward`` and ``backward`` as staticmethods.

    ``forward(ctx, *args, **kwargs)`` receives backend arrays in place of Tensors (other arguments
    as given) and returns an array or a tuple of arrays. ``backward(ctx, *grad_outputs)`` receives
    one gradient array per output and returns one gradient (or None) per positional argument of
    forward. ``ctx`` is the instance: it carries ``xp`` and ``backend``, ``needs_input_grad`` and
    ``save_for_backward``/``saved_tensors``. An instance is one node of the graph.
    """

    __slots__ = ("xp", "backend", "needs_input_grad", "parents", "out_meta", "retained", "hooks",
                 "_saved", "freed", "__dict__")

    differentiable = True
    # Where the outputs live; forward may set it on ctx (only a move between backends does).
    out_backend = None

    @classmethod
    def apply(cls, *args, **kwargs):
        # Runs once per op: kept to plain loops and attribute reads (see bench_autograd.py).
        backend = None
        arrays = list(args)
        needs = [False] * len(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    check_same_backend(cls.__name__.lower(),
                                       [t for t in args if isinstance(t, Tensor)])
                arrays[i] = a.array
                needs[i] = a.requires_grad
        if backend is None:
            raise TypeError(f"{cls.__name__.lower()}: expected at least one Tensor argument")
        ctx = cls()
        ctx.xp = backend.xp
        ctx.backend = backend
        ctx.needs_input_grad = needs
        ctx._saved = ()
        record = grad_mode._enabled and True in needs and cls.differentiable
        out = cls.forward(ctx, *arrays, **kwargs)
        if anomaly._enabled:
            ctx.layer = anomaly.current_layer()
            anomaly.check(ctx.xp, out if type(out) is tuple else (out,), "output",
                          cls.__name__, ctx.layer)
        if ctx.out_backend is not None:
            backend = ctx.out_backend
        if type(out) is tuple:
            if not record:
                return tuple(Tensor._make(o, backend) for o in out)
            ctx._link(args, needs, out)
            return tuple(Tensor._make(o, backend, ctx, i) for i, o in enumerate(out))
        if not record:
            return Tensor._make(out, backend)
        ctx._link(args, needs, (out,))
        return Tensor._make(out, backend, ctx, 0)

    def _link(self, args, needs, outputs):
        # An edge to each input that needs a gradient: the leaf tensor itself (its .grad is
        # written), or the node that made it and which output it was. Non-leaf inputs are not
        # held, so their data is freed unless a backward really saved it.
        self.parents = tuple(
            None if not need
            else (a, None, 0) if a.grad_fn is None
            else (None, a.grad_fn, a._out_index)
            for a, need in zip(args, needs))
        self.out_meta = tuple((o.shape, o.dtype) for o in outputs)
        self.retained = self.hooks = None
        self.freed = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        return self._saved

    def release(self):
        """Drop what forward kept for backward (called after backward unless retain_graph)."""
        self._saved = None
        self.__dict__.clear()
        self.parents = ()
        self.freed = True

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"
