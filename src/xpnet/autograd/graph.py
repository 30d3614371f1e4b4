"""The backward pass: an iterative walk of the graph in dependency order.

No recursion, so a chain of any length works; each node runs once, after every consumer of its
outputs has sent its gradient. An edge (see `Function._link`) is ``(leaf, None, 0)`` for a leaf
tensor or ``(None, node, output_index)`` for a tensor made by ``node``.
"""

from __future__ import annotations

import numbers

from xpnet.backend import backend_of_array, is_numpy_array

from . import anomaly
from .hooks import apply_grad_hooks
from .sparse import RowSparseGrad, accumulate_grad, dense_array
from .tensor import GradDtypeError, GradMismatchError, Tensor

__all__ = ["run_backward", "grad", "backward"]

_FREED = ("backward: trying to backward through the graph a second time; the values saved for "
          "it were freed by the first backward. Pass retain_graph=True to the first "
          ".backward() call to keep them.")


def _edge(t: Tensor):
    return (t, None, 0) if t.grad_fn is None else (None, t.grad_fn, t._out_index)


def _edge_key(edge):
    leaf, fn, index = edge
    return id(leaf) if fn is None else (id(fn), index)


def _root_grad(op, param, t: Tensor, g):
    """The seed gradient of root ``t``: a backend array of its shape, dtype and backend, from
    what the user passed as ``param`` of ``op`` (checked here, before any work starts)."""
    backend = t._backend
    if g is None:
        if t.numel() != 1:
            raise GradMismatchError(f"{op}: grad can be omitted only for one-element tensors, "
                                    f"got shape {t.shape}; pass {param} of that shape")
        return backend.xp.ones_like(t.array)
    if isinstance(g, Tensor):
        if g._backend is not backend:
            raise ValueError(f"{op}: {param} is on {g._backend.name}, the tensor on "
                             f"{backend.name}; move it with .to({backend.name!r}) first")
        g = g.array
    elif isinstance(g, (list, tuple, numbers.Number)) or is_numpy_array(g):
        # xpnet also takes numbers and NumPy arrays (PyTorch takes only Tensors).
        try:
            g = backend.asarray(g)
            backend.xpnet_dtype(g.dtype)
        except (TypeError, ValueError, KeyError) as error:
            raise TypeError(f"{op}: {param} must hold numbers in a rectangular (nested) list, "
                            f"as a Tensor does ({error})") from None
    else:
        owner = backend_of_array(g) if hasattr(g, "dtype") else None
        if owner is None:
            raise TypeError(f"{op}: {param} must be a Tensor, an array or None, got "
                            f"{type(g).__name__}")
        if owner is not backend:
            raise ValueError(f"{op}: {param} is on {owner.name}, the tensor on {backend.name}; "
                             f"move it with .to({backend.name!r}) first")
    if tuple(g.shape) != t.shape:
        raise GradMismatchError(f"{op}: mismatch in shape of {param}: grad has shape "
                                f"{tuple(g.shape)}, expected {t.shape} (the tensor's shape)")
    if g.dtype != t.array.dtype:
        # Cast to the tensor's dtype, as PyTorch does; a complex gradient of a real tensor
        # would lose its imaginary part, which PyTorch refuses too.
        if backend.xpnet_dtype(g.dtype).kind == "complex floating" and not t.is_complex():
            raise GradDtypeError(f"{op}: {param} has dtype {backend.xpnet_dtype(g.dtype).name}; "
                                 f"expected a real gradient for the {t.dtype.name} tensor")
        g = backend.xp.astype(g, t.array.dtype)
    return g


def _count_consumers(roots):
    """Nodes reachable from the roots, each with how many edges into it the walk will deliver,
    and the hooked leaves, each with how many gradients it will receive (a leaf's hooks run
    once, on the total)."""
    consumers = {}
    hooked = {}  # id(leaf) -> [leaf, deliveries left, gradient so far]

    def count_leaf(leaf):
        entry = hooked.get(id(leaf))
        if entry is None:
            hooked[id(leaf)] = [leaf, 1, None]
        else:
            entry[1] += 1

    stack = []
    for r in roots:
        fn = r.grad_fn
        if fn is None:
            if r._hooks:
                count_leaf(r)
        elif fn not in consumers:
            consumers[fn] = 0
            stack.append(fn)
    while stack:
        node = stack.pop()
        if node.freed:
            raise RuntimeError(_FREED)
        for edge in node.parents:
            if edge is None:
                continue
            fn = edge[1]
            if fn is None:
                if edge[0]._hooks:
                    count_leaf(edge[0])
                continue
            if fn in consumers:
                consumers[fn] += 1
            else:
                consumers[fn] = 1
                stack.append(fn)
    return consumers, hooked


def _accumulate(t: Tensor, g):
    # The unchecked slot: the gradient fits by construction (see the dtype cast in run_backward).
    t._grad = accumulate_grad(t._grad, g, t._backend)


def _finish_hooked_leaf(entry):
    """All of a hooked leaf's gradient has arrived: hooks, then .grad, then post hooks."""
    leaf, _, total = entry
    g = total.array if isinstance(total, Tensor) else total  # an array or a RowSparseGrad
    hooks = leaf._hooks
    if hooks.grad:
        g = apply_grad_hooks(hooks.grad, g, leaf._backend, leaf.shape)
    _accumulate(leaf, g)
    for hook in tuple(hooks.post.values()):
        hook(leaf)


def run_backward(roots, grads, retain_graph=False, capture=None, op="backward", params=None):
    """Backpropagate ``grads`` from ``roots``.

    With ``capture`` (a sequence of tensors), their gradients are returned instead of being
    accumulated into ``.grad``. ``op`` and ``params`` (one name per gradient) name what the
    user called in error messages.
    """
    for r in roots:
        if not r.requires_grad:
            raise RuntimeError(f"{op}: tensor does not require grad and has no grad_fn; "
                               "was it made under no_grad() or from tensors that do not require "
                               "grad?")
    if params is None:
        params = [f"grad[{i}]" for i in range(len(roots))]
    seeds = [_root_grad(op, name, r, g) for r, g, name in zip(roots, grads, params)]
    # raises before any gradient is written if the graph was freed
    consumers, hooked = _count_consumers(roots)
    captured = None if capture is None else {_edge_key(_edge(t)): None for t in capture}
    pending = {}
    ready = []

    def deliver(edge, g):
        """Hand gradient g to an edge; returns the node it feeds, if any."""
        leaf, fn, index = edge
        if captured is not None:
            key = _edge_key(edge)
            if key in captured:
                captured[key] = g if captured[key] is None else captured[key] + g
        if fn is None:
            if captured is None:
                entry = hooked.get(id(leaf)) if hooked else None
                if entry is None:
                    _accumulate(leaf, g)
                else:
                    entry[2] = accumulate_grad(entry[2], g, leaf._backend)
                    entry[1] -= 1
                    if entry[1] == 0:
                        _finish_hooked_leaf(entry)
            return None
        slots = pending.get(fn)
        if slots is None:
            slots = pending[fn] = [None] * len(fn.out_meta)
        if slots[index] is not None:  # the gradients of one output, summed
            g = fn.backend.kernels.add(fn.xp, slots[index], g)
        slots[index] = g
        return fn

    for r, g in zip(roots, seeds):
        fn = deliver(_edge(r), g)
        if fn is not None and consumers[fn] == 0 and fn not in ready:
            ready.append(fn)
    while ready:
        node = ready.pop()
        slots = pending.pop(node)
        xp = node.xp
        # Most nodes have one output, its gradient, no hooks and nothing retained: no loop.
        plain = len(slots) == 1 and slots[0] is not None and node.hooks is None \
            and node.retained is None
        for i, s in () if plain else enumerate(slots):
            if s is None:  # an output nobody used: its gradient is zero
                shape, dtype = node.out_meta[i]
                slots[i] = xp.zeros(shape, dtype=dtype, device=node.backend.device)
            if node.hooks is not None and node.hooks.get(i):
                slots[i] = apply_grad_hooks(node.hooks[i], slots[i], node.backend,
                                            node.out_meta[i][0])
            # retain_grad sees the gradient after the hooks, as in PyTorch.
            if node.retained is not None and i in node.retained and captured is None:
                _accumulate(node.retained[i], slots[i])
        in_grads = node.backward(node, *slots)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if anomaly._enabled:
            anomaly.check(xp, [g.values_data if type(g) is RowSparseGrad else g for g in in_grads],
                          "the gradient of input", f"{type(node).__name__} backward",
                          node.__dict__.get("layer", "unknown (recorded outside anomaly mode)"))
        edges = node.parents
        if not retain_graph:
            node.release()
        for edge, g in zip(edges, in_grads):
            if edge is None or g is None:
                continue
            leaf, fn, index = edge
            if type(g) is RowSparseGrad:
                # Row-sparse gradients (sparse=True lookups) stay sparse only on their way into
                # a leaf's .grad; a node's backward and autograd.grad get them dense.
                if fn is None and captured is None:
                    if g.values_data.dtype != leaf.array.dtype:
                        g = g.with_values(xp.astype(g.values_data, leaf.array.dtype))
                    deliver(edge, g)
                    continue
                g = dense_array(g)
            want_shape, want_dtype = (leaf.array.shape, leaf.array.dtype) if fn is None \
                else fn.out_meta[index]
            # `is not` first: dtype and shape almost always match, and comparing NumPy dtypes or
            # building tuples costs more than the identity test (this runs once per edge).
            if g.dtype is not want_dtype and g.dtype != want_dtype:
                g = xp.astype(g, want_dtype)
            if g.shape != want_shape and tuple(g.shape) != tuple(want_shape):
                raise RuntimeError(f"internal error: {node!r} returned a gradient of shape "
                                   f"{tuple(g.shape)} for an input of shape {tuple(want_shape)}")
            if fn is None or captured is not None:
                fn = deliver(edge, g)
                if fn is None:
                    continue
            else:  # deliver's node case, inline: it runs once per edge
                slots = pending.get(fn)
                if slots is None:
                    slots = pending[fn] = [None] * len(fn.out_meta)
                slots[index] = g if slots[index] is None else slots[index] + g
            consumers[fn] -= 1
            if consumers[fn] == 0:
                ready.append(fn)
    if captured is not None:
        out = []
        for t in capture:
            g = captured[_edge_key(_edge(t))]
            out.append(None if g is None else Tensor._make(g, t._backend))
        return out
    return None


def _as_sequence(op, name, value, count):
    """``value`` (None, one item, or a sequence) as a tuple of ``count`` items."""
    if value is None:
        return (None,) * count
    if isinstance(value, Tensor) or not isinstance(value, (list, tuple)):
        value = (value,)
    value = tuple(value)
    if len(value) != count:
        raise ValueError(f"{op}: got {len(value)} {name} for {count} tensors")
    return value


def _tensors(op, name, value):
    """``value`` (a Tensor, or an iterable of them such as ``model.parameters()``) as a tuple
    of Tensors."""
    if isinstance(value, (Tensor, str, bytes)) or not hasattr(value, "__iter__"):
        value = (value,)
    value = tuple(value)
    for i, t in enumerate(value):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name}[{i}] must be a Tensor, got {type(t).__name__}")
    return value


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
    grad_outputs : sequence, optional
        Gradient for each output (None for one-element outputs), of its shape.
    retain_graph : bool, default=False
    allow_unused : bool, default=False
        Return None for an input the outputs do not depend on instead of raising.

    Raises
    ------
    TypeError, ValueError
        A gradient of the wrong type, shape or backend, as `Tensor.backward`; an input that
        does not require grad or (without ``allow_unused``) that the outputs do not depend on
        (a `GradMismatchError`, also the RuntimeError PyTorch raises).
    """
    op = "autograd.grad"
    outputs = _tensors(op, "outputs", outputs)
    inputs = _tensors(op, "inputs", inputs)
    grad_outputs = _as_sequence(op, "grad_outputs", grad_outputs, len(outputs))
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise GradMismatchError(f"{op}: input {i} does not require grad (inputs[{i}] "
                                    f"must be a tensor that requires grad)")
    result = run_backward(outputs, grad_outputs, retain_graph=retain_graph, capture=inputs,
                          op=op, params=[f"grad_outputs[{i}]" for i in range(len(outputs))])
    if not allow_unused:
        for i, g in enumerate(result):
            if g is None:
                raise GradMismatchError(f"{op}: input {i} was not used to compute the outputs "
                                        f"(inputs[{i}] is not in their graph); pass "
                                        f"allow_unused=True to get None for it")
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad``, as PyTorch's
    ``torch.autograd.backward``: ``backward([a, b], [ga, gb])`` is ``a.backward(ga)`` and
    ``b.backward(gb)`` in one walk of the graph.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
    grad_tensors : Tensor, sequence, or None
        Gradient for each tensor (None for one-element tensors), of its shape.
    retain_graph : bool, optional
        Keep the graph for another backward (default False).

    Raises
    ------
    TypeError, ValueError
        A gradient of the wrong type, shape or backend, as `Tensor.backward`.
    """
    op = "autograd.backward"
    tensors = _tensors(op, "tensors", tensors)
    grad_tensors = _as_sequence(op, "grad_tensors", grad_tensors, len(tensors))
    params = [f"grad_tensors[{i}]" for i in range(len(tensors))]
    run_backward_checked(op, tensors, grad_tensors, params, retain_graph, create_graph, inputs)


def run_backward_checked(op, tensors, grads, params, retain_graph, create_graph, inputs):
    """`run_backward` after refusing PyTorch's options xpnet lacks (``Tensor.backward`` and
    `backward` share it; ``op`` and ``params`` name what the user called)."""
    if create_graph:
        raise NotImplementedError(f"{op}: create_graph=True (higher-order gradients) is not "
                                  f"supported by xpnet's autograd")
    if inputs is not None:
        raise NotImplementedError(f"{op}: inputs= is not supported; use "
                                  f"xpnet.autograd.grad(outputs, inputs) to get chosen gradients")
    run_backward(tensors, grads, retain_graph=bool(retain_graph), op=op, params=params)
