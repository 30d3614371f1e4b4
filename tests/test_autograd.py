"""The autograd engine: accumulation, graph freeing, deep chains, no_grad, grad(), gradcheck."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import xpnet
from xpnet.autograd import Function, GradcheckError, gradcheck

from .conftest import assert_close, assert_on_backend


def test_gradients_accumulate_across_backward_calls(backend):
    x = xpnet.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert_close(x.grad, [2 + 3, -4 + 3, 6 + 3])
    assert_on_backend(x.grad, backend)


def test_a_chain_of_ten_thousand_ops_backpropagates_without_recursion_error():
    x = xpnet.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_second_backward_through_a_freed_graph_raises_clearly():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*"
                                           r"retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy()
    y.backward()
    assert_close(x.grad, 2 * first)


def test_freed_graph_error_comes_before_any_gradient_is_written():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()  # frees exp's node
    x.grad = None
    y = (h * x).sum()  # a new product node reaching the freed exp node
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    assert x.grad is None


def test_saved_arrays_are_released_after_backward():
    x = xpnet.tensor(np.ones(1000), requires_grad=True)
    h = x.exp()
    saved = weakref.ref(h.grad_fn.saved_tensors[0])
    y = h.sum()
    del h
    y.backward()
    gc.collect()
    assert saved() is None


def test_intermediate_inputs_are_not_kept_alive_by_the_graph():
    x = xpnet.tensor(np.ones(10), requires_grad=True)
    h = x + 1  # add saves nothing, so nothing but h itself holds h's data
    ref = weakref.ref(h.array)
    y = (h + 1).sum()
    del h
    gc.collect()
    assert ref() is None
    y.backward()
    assert_close(x.grad, np.ones(10))


def test_no_grad_records_nothing_and_restores():
    x = xpnet.tensor([1.0], requires_grad=True)
    with xpnet.no_grad():
        y = x * 2
        assert not xpnet.is_grad_enabled()
        with xpnet.enable_grad():
            z = x * 2
    assert xpnet.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_works_as_a_decorator():
    @xpnet.no_grad()
    def evaluate(t):
        return t * 3

    assert not evaluate(xpnet.tensor([1.0], requires_grad=True)).requires_grad


def test_backward_of_a_non_scalar_needs_grad():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad can be omitted only for one-element tensors, "
                                           r"got shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(xpnet.tensor([1.0, 10.0]))
    assert_close(x.grad, [2.0, 20.0])


def test_backward_grad_of_wrong_shape_is_refused():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected \(2,\)"):
        (x * 2).backward([1.0, 1.0, 1.0])


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        xpnet.tensor([1.0]).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got int64"):
        xpnet.tensor([1, 2], requires_grad=True)


def test_shared_subexpression_gets_both_contributions(backend):
    x = xpnet.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    h = x.tanh()
    y = (h * h + h).sum()  # h feeds three uses
    y.backward()
    t = np.tanh([0.5, -1.5])
    assert_close(x.grad, (2 * t + 1) * (1 - t * t))


def test_detach_cuts_the_graph():
    x = xpnet.tensor([2.0], requires_grad=True)
    y = (x * x.detach()).sum()
    y.backward()
    assert_close(x.grad, [2.0])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert_close(h.grad, [6.0, 12.0])
    assert_close(x.grad, [18.0, 36.0])


def test_grad_returns_gradients_without_touching_dot_grad(backend):
    x = xpnet.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = xpnet.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    h = x * w
    gx, gh = xpnet.autograd.grad((h * h).sum(), [x, h])
    assert_close(gx, [2 * 3 * 3 * 1, 2 * 4 * 4 * 2])
    assert_close(gh, [6.0, 16.0])
    assert x.grad is None and w.grad is None


def test_grad_refuses_unused_inputs_unless_allowed():
    x = xpnet.tensor([1.0], requires_grad=True)
    unused = xpnet.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        xpnet.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
    gx, gu = xpnet.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_unused_output_of_a_multi_output_op_gets_zero_gradient(backend):
    x = xpnet.tensor(np.arange(6.0), requires_grad=True)
    first, _second, third = x.split(2)
    (first.sum() + 2 * third.sum()).backward()
    assert_close(x.grad, [1, 1, 0, 0, 2, 2])


def test_gradient_dtype_follows_the_input_dtype():
    a = xpnet.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    b = xpnet.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is xpnet.float32 and b.grad.dtype is xpnet.float64


class _WrongSquare(Function):
    """x**2 with a deliberately wrong derivative (x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


def test_gradcheck_catches_a_wrong_backward(backend):
    x = xpnet.randn(3, dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=r"Jacobian mismatch for input 0 of shape \(3,\)"):
        gradcheck(_WrongSquare.apply, [x])
    assert gradcheck(_WrongSquare.apply, [x], raise_exception=False) is False


def test_gradcheck_accepts_a_right_backward_and_leaves_inputs_alone(backend):
    x = xpnet.randn(2, 3, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: (t * t).sum(axis=0), [x])
    assert x.grad is None


def test_gradcheck_needs_float64():
    x = xpnet.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32; finite differences need float64"):
        gradcheck(lambda t: t * 2, [x])


def test_gradcheck_with_several_outputs_and_a_non_tensor_argument(backend):
    x = xpnet.randn(4, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t, k: tuple(p * k for p in t.split(2)), [x, 3.0])


def test_in_place_update_under_no_grad_keeps_a_trainable_leaf(backend):
    w = xpnet.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with xpnet.no_grad():
        w -= 0.5 * w.grad
    assert w.requires_grad and w.is_leaf
    assert_close(w, [0.0, 0.0])
    assert_on_backend(w, backend)
    w.grad = None
    (w + 1).sum().backward()
    assert_close(w.grad, [1.0, 1.0])


def test_in_place_update_of_a_leaf_needing_grad_is_refused_while_recording():
    w = xpnet.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad cannot be "
                                           r"updated in place.*no_grad"):
        w += 1


def test_in_place_update_of_an_intermediate_is_recorded():
    x = xpnet.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    h = x * 3
    saved_by_mul = x * h  # saved h's old array for backward
    h *= h  # h := (3x)^2
    (h.sum() + saved_by_mul.sum()).backward()
    # d/dx [9x^2 + 3x^2] = 24x
    assert_close(x.grad, [24.0, 48.0])


def test_in_place_update_keeps_shape_and_dtype():
    a = xpnet.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\+=: the result has shape \(4, 2, 3\); an in-place "
                                         r"update cannot change the tensor's shape \(2, 3\)"):
        a += xpnet.ones(4, 2, 3)
    i = xpnet.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\*=: the result has dtype float32, which cannot be "
                                        r"stored in place in a int64 tensor"):
        i *= 0.5
    a += xpnet.ones(3, dtype="float64")
    assert a.dtype is xpnet.float32


def test_zero_fill_and_copy(backend):
    t = xpnet.ones(2, 2)
    assert_close(t.zero_(), np.zeros((2, 2)))
    assert_close(t.fill_(3.0), np.full((2, 2), 3.0))
    assert_close(t.copy_([1.0, 2.0]), [[1.0, 2.0], [1.0, 2.0]])
    assert_on_backend(t, backend)
