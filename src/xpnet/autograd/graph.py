"""The backward pass: an iterative walk of the graph in dependency order.

No recursion, so a chain of any length works; each node runs once, after every consumer of its
outputs has sent its gradient. An edge (see `Function._link`) is ``(leaf, None, 0)`` for a leaf
tensor or ``(None, node, output_index)`` for a tensor made by ``node``.
"""

from __future__ import annotations

from . import anomaly
from .hooks import apply_grad_hooks
from .sparse import RowSparseGrad, accumulate_grad, dense_array
from .tensor import Tensor

__all__ = ["run_backward", "grad", "backward"]

_FREED = ("backward: trying to backward through the graph a second time; the values saved for "
          "it were freed by the first backward. Pass retain_graph=True to the first "
          ".backward() call to keep them.")


def _edge(t: Tensor):
    return (t, None, 0) if t.grad_fn is None else (None, t.grad_fn, t._out_index)


def _edge_key(edge):
    leaf, fn, index = edge
    return id(leaf) if fn is None else (id(fn), index)


def _root_grad(t: Tensor, g):
    if g is None:
        if t.numel() != 1:
            raise RuntimeError(f"backward: grad can be omitted only for one-element tensors, "
                               f"got shape {t.shape}; pass grad= of that shape")
        return t._backend.xp.ones_like(t.array)
    if isinstance(g, Tensor):
        if g._backend is not t._backend:
            raise ValueError(f"backward: grad is on {g._backend.name}, the tensor on {t._backend.name}")
        g = g.array
    else:
        g = t._backend.asarray(g, dtype=t.dtype)
    if tuple(g.shape) != t.shape:
        raise ValueError(f"backward: grad has shape {tuple(g.shape)}, expected {t.shape}")
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
    t.grad = accumulate_grad(t.grad, g, t._backend)


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


def run_backward(roots, grads, retain_graph=False, capture=None):
    """Backpropagate ``grads`` from ``roots``.

    With ``capture`` (a sequence of tensors), their gradients are returned instead of being
    accumulated into ``.grad``.
    """
    for r in roots:
        if not r.requires_grad:
            raise RuntimeError("backward: tensor does not require grad and has no grad_fn; "
                               "was it made under no_grad() or from tensors that do not require "
                               "grad?")
    seeds = [_root_grad(r, g) for r, g in zip(roots, grads)]
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
        slots[index] = g if slots[index] is None else slots[index] + g
        return fn

    for r, g in zip(roots, seeds):
        fn = deliver(_edge(r), g)
        if fn is not None and consumers[fn] == 0 and fn not in ready:
            ready.append(fn)
    while ready:
        node = ready.pop()
        slots = pending.pop(node)
        xp = node.xp
        for i, s in enumerate(slots):
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
            if g.dtype != want_dtype:
                g = xp.astype(g, want_dtype)
            if tuple(g.shape) != tuple(want_shape):
                raise RuntimeError(f"internal error: {node!r} returned a gradient of shape "
                                   f"{tuple(g.shape)} for an input of shape {tuple(want_shape)}")
            fn = deliver(edge, g)
            if fn is not None:
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


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
    grad_outputs : sequence, optional
        Gradient for each output (None for one-element outputs).
    retain_graph : bool, default=False
    allow_unused : bool, default=False
        Return None for an input the outputs do not depend on instead of raising.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    result = run_backward(outputs, tuple(grad_outputs), retain_graph=retain_graph, capture=inputs)
    if not allow_unused:
        for i, g in enumerate(result):
            if g is None:
                raise RuntimeError(f"grad: input {i} was not used to compute the outputs; "
                                   f"pass allow_unused=True to get None for it")
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad``, as PyTorch's
    ``torch.autograd.backward``: ``backward([a, b], [ga, gb])`` is ``a.backward(ga)`` and
    ``b.backward(gb)`` in one walk of the graph.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
    grad_tensors : Tensor, sequence, or None
        Gradient for each tensor (None for one-element tensors).
    retain_graph : bool, optional
        Keep the graph for another backward (default False).
    """
    if create_graph:
        raise NotImplementedError("autograd.backward: create_graph=True (higher-order "
                                  "gradients) is not supported by xpnet's autograd")
    if inputs is not None:
        raise NotImplementedError("autograd.backward: inputs= is not supported; use "
                                  "xpnet.autograd.grad(outputs, inputs) to get chosen gradients")
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"autograd.backward: got {len(grad_tensors)} grad_tensors for "
                         f"{len(tensors)} tensors")
    run_backward(tensors, grad_tensors, retain_graph=bool(retain_graph))
