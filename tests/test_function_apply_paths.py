"""`Function.apply_one` / `apply_two` (the hot ops' shortcut past apply's general loop) give
what `apply` gives: the same values, the same graph, the same gradients, in every mode."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.ops.activation import Sigmoid, Tanh
from xpnet.ops.arithmetic import Add, Mul, Neg, Sub
from xpnet.ops.unary import Exp, Log, Sqrt

from .conftest import assert_close

UNARY = [Sigmoid, Tanh, Exp, Log, Sqrt, Neg]
BINARY = [Add, Sub, Mul]


def _leaf(backend, seed, requires_grad):
    values = np.random.default_rng(seed).uniform(0.5, 2.0, (3, 4))
    return xpnet.tensor(values, backend=backend, requires_grad=requires_grad)


def _inputs(backend, how):
    """Two tensors (leaves, a non-leaf made by a recorded op, or leaves needing no grad) and
    the leaves that need a gradient."""
    a, b = _leaf(backend, 0, how != "none"), _leaf(backend, 1, how == "both")
    leaves = [t for t in (a, b) if t.requires_grad]
    if how == "non-leaf":
        a = a * 1.5
    return a, b, leaves


def _run(cls, fast, backend, how, mode):
    a, b, leaves = _inputs(backend, how)
    args = (a,) if cls in UNARY else (a, b)
    call = (cls.apply_one if len(args) == 1 else cls.apply_two) if fast else cls.apply
    if mode == "no_grad":
        with xpnet.no_grad():
            out = call(*args)
    elif mode == "anomaly":
        with xpnet.autograd.detect_anomaly():
            out = call(*args)
    else:
        out = call(*args)
    grads = None
    if out.requires_grad:
        (out * out).sum().backward()
        grads = [None if t.grad is None else t.grad.numpy() for t in leaves]
    return out, grads


@pytest.mark.parametrize("mode", ["grad", "no_grad", "anomaly"])
@pytest.mark.parametrize("how", ["none", "first", "both", "non-leaf"])
@pytest.mark.parametrize("cls", UNARY + BINARY, ids=lambda c: c.__name__)
def test_shortcut_equals_apply(backend, cls, how, mode):
    want, want_grads = _run(cls, False, backend, how, mode)
    got, got_grads = _run(cls, True, backend, how, mode)
    assert_close(got, want.numpy())
    assert got.requires_grad == want.requires_grad
    assert type(got.grad_fn) is type(want.grad_fn)
    assert got._backend is want._backend
    if want.grad_fn is not None:
        assert [None if e is None else e[1:] for e in got.grad_fn.parents] == \
            [None if e is None else e[1:] for e in want.grad_fn.parents]
        assert tuple(got.grad_fn.needs_input_grad) == tuple(want.grad_fn.needs_input_grad)
    assert (got_grads is None) == (want_grads is None)
    for g, w in zip(got_grads or (), want_grads or ()):
        assert (g is None) == (w is None)  # a unary op leaves b's gradient unset
        if w is not None:
            assert_close(g, w)


def test_second_operand_alone_needs_grad(backend):
    """apply_two with only ``b`` requiring grad: its edge alone, and a gradient for it alone."""
    a, b = _leaf(backend, 0, False), _leaf(backend, 1, True)
    out = Mul.apply_two(a, b)
    assert out.grad_fn.parents[0] is None and out.grad_fn.parents[1][0] is b
    out.sum().backward()
    assert a.grad is None
    assert_close(b.grad, a.numpy())


def test_anomaly_still_names_the_op_with_the_shortcut():
    x = xpnet.tensor([-1.0, 4.0], requires_grad=True)
    with np.errstate(invalid="ignore"), xpnet.autograd.detect_anomaly(), \
            pytest.raises(RuntimeError, match="(?i)sqrt"):
        xpnet.sqrt(x)
