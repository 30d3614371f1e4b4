"""Custom autograd functions written for PyTorch (``torch.autograd.Function`` with Tensor ops in
forward and backward) run unchanged on xpnet; ``arrays = True`` opts into backend arrays."""

from __future__ import annotations

import pytest

import xpnet

from .conftest import assert_close, random_arrays
from .op_checks import check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")


def _legendre(lib):
    """P3(x) = (5x^3 - 3x) / 2 with its derivative by hand, as PyTorch's tutorials write it."""
    class LegendreP3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendreP3


def _clamped(lib):
    """A function with a non-tensor argument, two outputs, and in-place work on a copy."""
    class ClampAndSquare(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, low):
            ctx.low = low
            ctx.save_for_backward(input)
            clamped = input.clamp(min=low)
            return clamped, clamped * clamped

        @staticmethod
        def backward(ctx, grad_clamped, grad_square):
            (input,) = ctx.saved_tensors
            inside = (input >= ctx.low).type(input.dtype)
            grad = (grad_clamped + 2 * input.clamp(min=ctx.low) * grad_square) * inside
            return grad.clone(), None
    return ClampAndSquare


@pytest.mark.parametrize("make", [_legendre, _clamped])
def test_a_torch_style_function_runs_unchanged_and_matches_torch(backend, make):
    (a,) = random_arrays((3, 4))
    ours, theirs = make(xpnet), make(torch)
    args = () if make is _legendre else (-0.5,)
    check_forward(backend, lambda x: ours.apply(x, *args), lambda x: theirs.apply(x, *args), [a])
    check_grads(backend, lambda x: ours.apply(x, *args), lambda x: theirs.apply(x, *args), [a])
    gradcheck(lambda x: ours.apply(x, *args), [a])


def test_the_function_is_a_graph_node_and_composes():
    fn = _legendre(xpnet)
    x = xpnet.tensor([0.5, 2.0], requires_grad=True)
    y = fn.apply(x * 2)
    assert repr(y.grad_fn) == "<LegendreP3Backward>"
    y.sum().backward()
    tx = torch.tensor([0.5, 2.0], requires_grad=True)
    _legendre(torch).apply(tx * 2).sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-6)


def test_arrays_true_hands_backend_arrays_to_the_function(backend):
    class Double(xpnet.autograd.Function):
        arrays = True

        @staticmethod
        def forward(ctx, x):
            assert not isinstance(x, xpnet.Tensor)
            return ctx.xp.multiply(x, 2)

        @staticmethod
        def backward(ctx, g):
            return ctx.xp.multiply(g, 2)

    x = xpnet.ones(3, requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_forward_returning_something_else_is_refused():
    class Bad(xpnet.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return "not a tensor"

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="Bad.forward must return Tensors"):
        Bad.apply(xpnet.ones(2, requires_grad=True))
