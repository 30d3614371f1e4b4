"""`Function`: a differentiable primitive as a forward/backward pair on raw backend arrays."""

from __future__ import annotations

from . import anomaly, grad_mode
from .tensor import Tensor

__all__ = ["Function", "check_same_backend"]

_new = object.__new__
_NEEDS_FIRST = (True,)


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

    ``forward(ctx, *args, **kwargs)`` receives the inputs and returns an output or a tuple of
    outputs; ``backward(ctx, *grad_outputs)`` receives one gradient per output and returns one
    gradient (or None) per positional argument of forward. ``ctx`` is the instance: it carries
    ``xp`` and ``backend``, ``needs_input_grad`` and ``save_for_backward``/``saved_tensors``. An
    instance is one node of the graph; ``MyFunction.apply(*args)`` runs it.

    What forward and backward see depends on ``arrays``: xpnet's own primitives (classes defined
    in the xpnet package) get backend arrays, the standard-only way; a class defined elsewhere
    gets Tensors that record nothing, as PyTorch's ``torch.autograd.Function`` does, so a custom
    function written for PyTorch (``input.clamp(min=0)``, ``grad_output * ...``) runs unchanged.
    Set ``arrays = True`` on a class of your own to work on the arrays.
    """

    # "shapes" (the broadcasting ops' operand shapes) is a slot too: most ops set nothing else,
    # and a slot spares them creating the instance __dict__ (per-op cost).
    __slots__ = ("xp", "backend", "needs_input_grad", "parents", "out_meta", "retained", "hooks",
                 "_saved", "freed", "shapes", "__dict__")

    differentiable = True
    # Where the outputs live; forward may set it on ctx (only a move between backends does).
    out_backend = None
    # True: forward/backward work on backend arrays; None: decided per class (see the docstring).
    arrays = None
    # The value alone, ``compute(backend, *arrays, **kwargs) -> array``, for a call that records
    # nothing (no_grad, or no input requires grad): no ctx is made and nothing is saved. The
    # hottest one-output ops define it (a (4,) add under no_grad: 1.6 -> 0.9 us, PyTorch's 0.86);
    # None: forward runs, with a ctx that is then dropped.
    compute = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.arrays is None:
            cls.arrays = cls.__module__.split(".")[0] == "xpnet"
        if not cls.arrays:
            # PyTorch-style: wrap the user's pair once, at class creation, so the array path
            # that xpnet's primitives take through apply() and backward stays untouched.
            if "forward" in cls.__dict__:
                cls.forward = staticmethod(_tensor_forward(cls.__dict__["forward"]))
            if "backward" in cls.__dict__:
                cls.backward = staticmethod(_tensor_backward(cls.__dict__["backward"]))

    # PyTorch's ctx methods that a custom function may call; xpnet's graph needs none of them:
    # outputs are never modified in place behind autograd's back, and an unused output's
    # gradient arrives as zeros.
    def mark_dirty(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass

    @classmethod
    def apply(cls, *args, **kwargs):
        # Runs once per op, so it is kept to one plain loop, attribute reads and no helper calls
        # on the common path (asv_benchmarks/overhead_vs_torch.py measures it: a (4,) add costs
        # about 1.6 us here against 0.9 us in PyTorch).
        backend = None
        arrays = []
        needs = []
        # The graph's edge to each input that needs a gradient (see _link), made here in the
        # one loop over the arguments: the leaf tensor itself (its .grad is written), or the
        # node that made it and which output it was.
        edges = []
        any_needs = False
        for a in args:
            if isinstance(a, Tensor):
                b = a._backend
                if backend is None:
                    backend = b
                elif b is not backend:
                    check_same_backend(cls.__name__.lower(),
                                       [t for t in args if isinstance(t, Tensor)])
                arrays.append(a.array)
                if a.requires_grad:
                    needs.append(True)
                    any_needs = True
                    fn = a.grad_fn
                    edges.append((a, None, 0) if fn is None else (None, fn, a._out_index))
                    continue
            else:
                arrays.append(a)
            needs.append(False)
            edges.append(None)
        if backend is None:
            raise TypeError(f"{cls.__name__.lower()}: expected at least one Tensor argument")
        record = any_needs and grad_mode._enabled and cls.differentiable
        if not record and cls.compute is not None and not anomaly._enabled:
            out = cls.compute(backend, *arrays, **kwargs)
            if backend.fix_output is not None and type(out) is not backend.array_type:
                out = backend.fix_output(out)
            t = _new(Tensor)  # Tensor._make without its call: the hottest path of all
            t.array, t._backend, t._grad, t.grad_fn = out, backend, None, None
            t._out_index, t._shared, t._hooks, t.requires_grad = 0, None, None, False
            return t
        ctx = cls()
        ctx.xp = backend.xp
        ctx.backend = backend
        ctx.needs_input_grad = needs
        ctx._saved = ()
        return ctx._outputs(cls.forward(ctx, *arrays, **kwargs), backend, edges, record)

    # The hot unary and binary ops (sigmoid, tanh, exp..., add, mul...) call these rather than
    # apply once they have checked their operands: the same result without apply's general loop
    # and its lists. A (4,) sigmoid under no_grad: 0.99 -> 0.55 us (CPU time).

    @classmethod
    def apply_one(cls, x):
        """`apply(x)` for one Tensor ``x`` and no keywords."""
        backend = x._backend
        if x.requires_grad and grad_mode._enabled and cls.differentiable:
            if anomaly._enabled:
                return cls.apply(x)
            ctx = cls()
            ctx.xp = backend.xp
            ctx.backend = backend
            ctx.needs_input_grad = _NEEDS_FIRST
            ctx._saved = ()
            fn = x.grad_fn
            edges = [(x, None, 0) if fn is None else (None, fn, x._out_index)]
            return ctx._outputs(cls.forward(ctx, x.array), backend, edges, True)
        if cls.compute is None or anomaly._enabled:
            return cls.apply(x)
        return _untracked(cls.compute(backend, x.array), backend)

    @classmethod
    def apply_two(cls, a, b):
        """`apply(a, b)` for two Tensors of one backend and no keywords."""
        backend = a._backend
        if (a.requires_grad or b.requires_grad) and grad_mode._enabled and cls.differentiable:
            if anomaly._enabled:
                return cls.apply(a, b)
            ctx = cls()
            ctx.xp = backend.xp
            ctx.backend = backend
            ctx._saved = ()
            if a.requires_grad:
                fn = a.grad_fn
                edge_a = (a, None, 0) if fn is None else (None, fn, a._out_index)
            else:
                edge_a = None
            if b.requires_grad:
                fn = b.grad_fn
                edge_b = (b, None, 0) if fn is None else (None, fn, b._out_index)
            else:
                edge_b = None
            ctx.needs_input_grad = (edge_a is not None, edge_b is not None)
            return ctx._outputs(cls.forward(ctx, a.array, b.array), backend, [edge_a, edge_b],
                                True)
        if cls.compute is None or anomaly._enabled:
            return cls.apply(a, b)
        return _untracked(cls.compute(backend, a.array, b.array), backend)

    def _outputs(ctx, out, backend, edges, record):
        """The Tensors of forward's ``out``, linked into the graph when ``record``."""
        if record and type(out) is not tuple and ctx.out_backend is None \
                and (backend.fix_output is None or type(out) is backend.array_type) \
                and not anomaly._enabled:
            # The commonest recorded call, one output array: _link and Tensor._make in line.
            ctx.parents = edges
            ctx.out_meta = [(out.shape, out.dtype)]
            ctx.retained = ctx.hooks = None
            ctx.freed = False
            t = _new(Tensor)
            t.array, t._backend, t._grad, t.grad_fn = out, backend, None, ctx
            t._out_index, t._shared, t._hooks, t.requires_grad = 0, None, None, True
            return t
        if anomaly._enabled:
            ctx.layer = anomaly.current_layer()
            anomaly.check(ctx.xp, out if type(out) is tuple else (out,), "output",
                          type(ctx).__name__, ctx.layer)
        if ctx.out_backend is not None:
            backend = ctx.out_backend
        if type(out) is tuple:
            if not record:
                return tuple(Tensor._make(o, backend) for o in out)
            ctx._link(edges, out)
            return tuple(Tensor._make(o, backend, ctx, i) for i, o in enumerate(out))
        if record:
            ctx._link(edges, (out,))
        return Tensor._make(out, backend, ctx if record else None, 0)

    def _link(self, edges, outputs):
        # Non-leaf inputs are not held, only their nodes, so their data is freed unless a
        # backward really saved it. A plain loop: this runs once per recorded op, and on
        # Python 3.11 a comprehension or a generator is a call of its own.
        self.parents = edges
        out_meta = []
        for o in outputs:
            out_meta.append((o.shape, o.dtype))
        self.out_meta = out_meta
        self.retained = self.hooks = None
        self.freed = False

    def save_for_backward(self, *arrays):
        """Keep values for backward (arrays in xpnet's primitives, Tensors in a PyTorch-style
        function); ``saved_tensors`` gives them back."""
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


def _untracked(out, backend):
    """A Tensor holding ``out`` with no graph (`apply_one` / `apply_two` without one)."""
    if backend.fix_output is not None and type(out) is not backend.array_type:
        out = backend.fix_output(out)
    t = _new(Tensor)
    t.array, t._backend, t._grad, t.grad_fn = out, backend, None, None
    t._out_index, t._shared, t._hooks, t.requires_grad = 0, None, None, False
    return t


def _function_of(f):
    return f.__func__ if isinstance(f, (staticmethod, classmethod)) else f


def _is_array(value):
    from xpnet.backend import backend_of_array
    return not isinstance(value, (Tensor, int, float, bool, str, bytes, type(None))) \
        and backend_of_array(value) is not None


def _unwrap(op, value):
    if value is None or not isinstance(value, Tensor):
        if value is not None and not isinstance(value, (int, float)):
            raise TypeError(f"{op} must return Tensors (or None), got {type(value).__name__}")
        return value
    return value.array


def _tensor_forward(user_forward):
    """A PyTorch-style forward as the array forward apply() calls: the input arrays become
    Tensors that record nothing, the returned Tensors become arrays again."""
    fn = _function_of(user_forward)

    def forward(ctx, *args, **kwargs):
        backend = ctx.backend
        wrapped = [Tensor._make(a, backend) if _is_array(a) else a for a in args]
        with grad_mode.no_grad():
            out = fn(ctx, *wrapped, **kwargs)
        name = f"{type(ctx).__name__}.forward"
        if isinstance(out, tuple):
            return tuple(_unwrap(name, o) for o in out)
        return _unwrap(name, out)
    forward.__name__, forward.__doc__ = fn.__name__, fn.__doc__
    return forward


def _tensor_backward(user_backward):
    fn = _function_of(user_backward)

    def backward(ctx, *grads):
        backend = ctx.backend
        with grad_mode.no_grad():
            out = fn(ctx, *(Tensor._make(g, backend) for g in grads))
        name = f"{type(ctx).__name__}.backward"
        if isinstance(out, tuple):
            return tuple(_unwrap(name, o) for o in out)
        return _unwrap(name, out)
    backward.__name__, backward.__doc__ = fn.__name__, fn.__doc__
    return backward
