"""Module backward hooks (PyTorch's ``register_full_backward_hook`` and
``register_full_backward_pre_hook``): two identity nodes around the module's forward catch the
gradient of its outputs and of its inputs as backward passes them."""

from __future__ import annotations

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Tensor

__all__ = ["wrap_call"]


class _State:
    """What one call knows: which tensor inputs need gradients (``slots``: for each positional
    tensor argument, whether it does), and what the output node learned (grad_output) for the
    input node to report."""

    __slots__ = ("module", "grad_output", "slots")

    def __init__(self, module, slots):
        self.module, self.grad_output, self.slots = module, None, slots


def _as_tensors(arrays, backend):
    return tuple(None if a is None else Tensor._make(a, backend) for a in arrays)


def _replacement(name, replaced, expected):
    if replaced is None:
        return None
    replaced = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
    if len(replaced) != expected:
        raise ValueError(f"{name}: the hook returned {len(replaced)} gradients, expected "
                         f"{expected}")
    return replaced


def _run_backward_hooks(state, grads, backend):
    """Call the hooks with grad_input (one entry per positional tensor argument, None where it
    needs no gradient, as PyTorch); returns the gradients of the inputs that need them."""
    module = state.module
    received = iter(_as_tensors(grads, backend))
    grad_input = tuple(next(received) if needs else None for needs in state.slots)
    grad_output = _as_tensors(state.grad_output, backend)
    for hook in tuple(module._backward_hooks.values()):
        replaced = _replacement("register_full_backward_hook",
                                hook(module, grad_input, grad_output), len(grad_input))
        if replaced is not None:
            grad_input = replaced
    return tuple(None if g is None else g.array
                 for g, needs in zip(grad_input, state.slots) if needs)


class _HookOutputs(Function):
    """Identity on the module's outputs; backward records (and lets pre-hooks replace) the
    gradient of the outputs."""

    @staticmethod
    def forward(ctx, state, *outputs):
        ctx.state = state
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        state, module = ctx.state, ctx.state.module
        grad_output = _as_tensors(grads, ctx.backend)
        for hook in tuple(module._backward_pre_hooks.values()):
            replaced = _replacement("register_full_backward_pre_hook", hook(module, grad_output),
                                    len(grad_output))
            if replaced is not None:
                grad_output = replaced
        state.grad_output = tuple(None if g is None else g.array for g in grad_output)
        if not any(state.slots):  # no input needs a gradient: report them (None) now
            _run_backward_hooks(state, (), ctx.backend)
        return (None, *state.grad_output)


class _HookInputs(Function):
    """Identity on the inputs that need gradients; backward reports grad_input to the hooks."""

    @staticmethod
    def forward(ctx, state, *inputs):
        ctx.state = state
        return inputs

    @staticmethod
    def backward(ctx, *grads):
        return (None, *_run_backward_hooks(ctx.state, grads, ctx.backend))


def wrap_call(module, forward, args, kwargs):
    """``forward(*args, **kwargs)`` with the module's backward hooks attached."""
    tensor_args = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    slots = tuple(args[i].requires_grad for i in tensor_args)
    state = _State(module, slots)
    needing = [i for i in tensor_args if args[i].requires_grad]
    if needing:
        args = list(args)
        for i, w in zip(needing, _HookInputs.apply(state, *(args[i] for i in needing))):
            args[i] = w
    out = forward(*args, **kwargs)
    outputs = (out,) if isinstance(out, Tensor) else out
    if not isinstance(outputs, (tuple, list)):
        return out
    positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:
        return out  # nothing flows back through this call
    result = list(outputs)
    for i, h in zip(positions, _HookOutputs.apply(state, *(outputs[i] for i in positions))):
        result[i] = h
    if isinstance(out, Tensor):
        return result[0]
    if hasattr(out, "_fields"):  # a named tuple keeps its type
        return type(out)(*result)
    return tuple(result) if isinstance(out, tuple) else result
