"""PyTorch's second names, rsub, Tensor.add/sub/mul/div/take, the in-place comparisons and the
Tensor queries (xpnet/ops/aliases.py), against PyTorch on every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")


def _x(*shapes):
    return random_arrays(*shapes)


def _same(fn):
    return fn, fn


def _lib(x):
    return xpnet if isinstance(x, xpnet.Tensor) else torch


def _index(x, values):
    return _lib(x).tensor(values)


# id -> (xpnet function, torch function, arrays): differentiable ones.
CASES = {
    "multiply": (*_same(lambda x, y: _lib(x).multiply(x, y)), _x((2, 3), (3,))),
    "multiply_method_scalar": (*_same(lambda x: x.multiply(2.5)), _x((2, 3))),
    "subtract_alpha": (*_same(lambda x, y: _lib(x).subtract(x, y, alpha=3)), _x((2, 3), (3,))),
    "subtract_method": (*_same(lambda x, y: x.subtract(y, alpha=-0.5)), _x((2, 3), (2, 1))),
    "negative": (*_same(lambda x: _lib(x).negative(x)), _x((2, 3))),
    "negative_method": (*_same(lambda x: x.negative()), _x((2, 3))),
    "positive": (*_same(lambda x: _lib(x).positive(x) * 1), _x((2, 3))),
    "absolute": (*_same(lambda x: _lib(x).absolute(x)), _x((2, 3))),
    "absolute_method": (*_same(lambda x: x.absolute()), _x((2, 3))),
    "concatenate_axis": (*_same(lambda x, y: _lib(x).concatenate([x, y], axis=1)),
                         _x((2, 3), (2, 1))),
    "concatenate_dim": (*_same(lambda x, y: _lib(x).concatenate((x, y), dim=0)),
                        _x((2, 3), (1, 3))),
    "swapdims": (*_same(lambda x: _lib(x).swapdims(x, 0, 2)), _x((2, 3, 4))),
    "swapdims_method": (*_same(lambda x: x.swapdims(-1, 1)), _x((2, 3, 4))),
    "swapaxes_method": (*_same(lambda x: x.swapaxes(0, 1)), _x((2, 3))),
    "rsub": (*_same(lambda x, y: _lib(x).rsub(x, y)), _x((2, 3), (3,))),
    "rsub_alpha": (*_same(lambda x, y: _lib(x).rsub(x, y, alpha=2)), _x((2, 3), (2, 3))),
    # torch takes alpha positionally only after a number
    "rsub_scalar_alpha_positional": (*_same(lambda x: _lib(x).rsub(x, 1.5, -2)), _x((2, 3))),
    "add_method_alpha": (*_same(lambda x, y: x.add(y, alpha=2)), _x((2, 3), (3,))),
    "sub_method_alpha": (*_same(lambda x, y: x.sub(y, alpha=0.5)), _x((2, 3), (2, 3))),
    "mul_method": (*_same(lambda x, y: x.mul(y)), _x((2, 3), (2, 1))),
    "div_method": (*_same(lambda x, y: x.div(y)), _x((2, 3), (3,))),
    "broadcast_to_method": (*_same(lambda x: x.broadcast_to((4, 2, 3))), _x((2, 1))),
    "take_method": (*_same(lambda x: x.take(_index(x, [[0, 5], [-1, 0]]))), _x((2, 3))),
    "take_method_0d_index": (*_same(lambda x: x.take(_index(x, 4))), _x((2, 3))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_forward(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads_match_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(backend, name):
    fn, _, arrays = CASES[name]
    gradcheck(fn, arrays)


def test_aliases_are_the_functions_they_name():
    assert xpnet.concatenate is xpnet.concat
    assert xpnet.Tensor.add is xpnet.add and xpnet.Tensor.sub is xpnet.sub
    assert xpnet.Tensor.mul is xpnet.mul and xpnet.Tensor.div is xpnet.div


def test_positive_returns_the_tensor_itself(backend):
    x = xpnet.ones(3)
    assert xpnet.positive(x) is x and x.positive() is x


COMPARISONS = ["greater", "greater_equal", "less", "less_equal", "not_equal"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_aliases_match_torch(backend, name):
    a, b = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), np.array([2.0, 2.0, 2.0])
    for other, t_other in ((xpnet.tensor(b), torch.tensor(b)), (2.0, 2.0)):
        got = getattr(xpnet, name)(xpnet.tensor(a), other)
        want = getattr(torch, name)(torch.tensor(a), t_other)
        assert got.dtype is xpnet.bool
        assert_on_device(got, backend)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        got = getattr(xpnet.tensor(a), name)(other)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_div_method_rounding_modes_match_torch(backend):
    a, b = np.array([7, -7, 5]), np.array([2, 2, -3])
    for mode in ("trunc", "floor"):
        got = xpnet.tensor(a).div(xpnet.tensor(b), rounding_mode=mode)
        want = torch.tensor(a).div(torch.tensor(b), rounding_mode=mode)
        assert got.dtype is xpnet.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = xpnet.tensor(a).div(2)
    assert_close(got, torch.tensor(a).div(2))


# -- in-place forms -----------------------------------------------------------------------------

INPLACE_ARITHMETIC = {
    "multiply_": lambda x, y: x.multiply_(y),
    "subtract_": lambda x, y: x.subtract_(y, alpha=2),
    "negative_": lambda x, y: x.negative_(),
    "absolute_": lambda x, y: x.absolute_(),
    "divide_": lambda x, y: x.divide_(y),
    "divide_floor": lambda x, y: x.divide_(y, rounding_mode="floor"),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ARITHMETIC))
def test_inplace_arithmetic_aliases_match_torch(backend, name):
    change = INPLACE_ARITHMETIC[name]
    a, b = _x((2, 3), (3,))

    def fn(x, y):
        z = x * 1
        assert change(z, y) is z
        return z
    check_forward(backend, fn, fn, [a, b])
    if name != "divide_floor":
        check_grads(backend, fn, fn, [a, b])


IN_PLACE_COMPARISONS = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_",
                        "less_", "less_equal_", "not_equal_"]


@pytest.mark.parametrize("name", IN_PLACE_COMPARISONS)
def test_inplace_comparisons_keep_the_dtype_as_torch(backend, name):
    a, b = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), np.array([2.0, 2.0, 1.0])
    for dtype in (np.float32, np.int64):
        x, t = xpnet.tensor(a.astype(dtype)), torch.tensor(a.astype(dtype))
        shared = x.data
        other, t_other = xpnet.tensor(b.astype(dtype)), torch.tensor(b.astype(dtype))
        assert getattr(x, name)(other) is x
        getattr(t, name)(t_other)
        assert x.dtype.name == str(t.dtype).removeprefix("torch.")
        assert_on_device(x, backend)
        np.testing.assert_array_equal(x.numpy(), t.numpy())
        np.testing.assert_array_equal(shared.numpy(), t.numpy())
    x, t = xpnet.tensor(a), torch.tensor(a)
    getattr(x, name)(2)
    getattr(t, name)(2)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_inplace_comparison_refused_on_a_leaf_that_requires_grad(backend):
    x = xpnet.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="eq_: a leaf tensor that requires grad"):
        x.eq_(1)


def test_inplace_comparison_cannot_broadcast_the_tensor(backend):
    with pytest.raises(ValueError, match=r"lt_: the result has shape \(2, 2\); an in-place "
                                         r"update cannot change the tensor's shape \(2,\)"):
        xpnet.ones(2).lt_(xpnet.ones(2, 2))


# -- queries ------------------------------------------------------------------------------------

def test_queries_match_torch(backend):
    for dtype in (np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_):
        a = np.ones((2, 3), dtype=dtype)
        x, t = xpnet.tensor(a), torch.tensor(a)
        assert x.is_signed() == t.is_signed() == xpnet.is_signed(x)
        assert x.nbytes == t.nbytes and x.itemsize == t.itemsize
    x, t = xpnet.ones(2, 3), torch.ones(2, 3)
    assert x.is_same_size(xpnet.zeros(2, 3)) and xpnet.is_same_size(x, xpnet.zeros(2, 3))
    assert not x.is_same_size(xpnet.zeros(3, 2))
    for value in (0.0, 2.5, -1.0):
        assert xpnet.tensor([[value]]).is_nonzero() == torch.tensor([[value]]).is_nonzero()
    assert xpnet.tensor(3).is_nonzero() and not xpnet.is_nonzero(xpnet.tensor(False))
    assert x.is_cpu == (backend != "array_api_strict:device1")
    assert t.is_cpu


def test_pin_memory_and_share_memory_return_the_tensor(backend):
    x = xpnet.ones(3)
    assert x.pin_memory() is x and x.share_memory_() is x


def test_retains_grad_matches_torch(backend):
    x, t = xpnet.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    y, u = x * 2, t * 2
    assert x.retains_grad == t.retains_grad == False  # noqa: E712
    assert y.retains_grad == u.retains_grad == False  # noqa: E712
    y.retain_grad()
    u.retain_grad()
    assert y.retains_grad and u.retains_grad
    y.sum().backward()
    assert y.retains_grad


# -- bad input ----------------------------------------------------------------------------------

BAD = {
    "positive_bool": (lambda: xpnet.positive(xpnet.tensor([True])), TypeError,
                      "positive: not defined for bool tensors"),
    "positive_list": (lambda: xpnet.positive([1.0]), TypeError,
                      "positive: input must be a Tensor, got list"),
    "is_nonzero_many": (lambda: xpnet.ones(2).is_nonzero(), ValueError,
                        r"is_nonzero: expected a tensor of exactly one element, got shape "
                        r"\(2,\)"),
    "is_nonzero_empty": (lambda: xpnet.ones(0).is_nonzero(), ValueError,
                         "is_nonzero: expected a tensor of exactly one element"),
    "is_same_size_other": (lambda: xpnet.ones(2).is_same_size((2,)), TypeError,
                           "is_same_size: other must be a Tensor, got tuple"),
    "is_signed_number": (lambda: xpnet.is_signed(1), TypeError,
                         "is_signed: input must be a Tensor, got int"),
    "take_float_index": (lambda: xpnet.ones(2, 3).take(xpnet.ones(2)), IndexError,
                         "take: index arrays must be integers or bools, got float32"),
    "take_bool_index": (lambda: xpnet.ones(2, 3).take(xpnet.ones(2) > 0), TypeError,
                        "take: index must hold integers, got bool"),
    "take_out_of_range": (lambda: xpnet.ones(2, 3).take(xpnet.tensor([6])), IndexError,
                          "take: index out of range for axis 0 of size 6"),
    "subtract_shapes": (lambda: xpnet.subtract(xpnet.ones(2), xpnet.ones(3)), ValueError,
                        r"sub: cannot broadcast shapes \(2,\) and \(3,\)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_a_clear_error(name):
    fn, error, message = BAD[name]
    with pytest.raises(error, match=message):
        fn()
