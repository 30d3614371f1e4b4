"""Broadcasting binary arithmetic, where/clip and the comparisons (xpnet/ops/arithmetic.py,
xpnet/ops/logic.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import xpnet

from .conftest import random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

BINARY = {
    "add": (xpnet.add, lambda a, b: torch.add(a, b)),
    "sub": (xpnet.sub, lambda a, b: torch.sub(a, b)),
    "mul": (xpnet.mul, lambda a, b: torch.mul(a, b)),
    "div": (xpnet.div, lambda a, b: torch.div(a, b)),
    "pow": (xpnet.pow, lambda a, b: torch.pow(a, b)),
    "maximum": (xpnet.maximum, lambda a, b: torch.maximum(a, b)),
    "minimum": (xpnet.minimum, lambda a, b: torch.minimum(a, b)),
}
OPERATORS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}
BROADCAST = [((2, 3), (2, 3)), ((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((), (2, 3)),
             ((4,), (3, 1))]


def _operands(name, shape_a, shape_b, seed=0):
    """Inputs in each op's smooth domain: a positive base for pow, a divisor away from zero."""
    a, b = random_arrays(shape_a, shape_b, seed=seed)
    if name == "pow":
        a = np.abs(a) + 0.5
    if name in ("div", "pow"):
        b = np.where(b < 0, b - 0.5, b + 0.5)
    return a, b


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_torch(backend, name, shapes):
    fn, torch_fn = BINARY[name]
    check_forward(backend, fn, torch_fn, _operands(name, *shapes))


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(backend, name, shapes):
    gradcheck(BINARY[name][0], _operands(name, *shapes))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads_match_torch(backend, name):
    fn, torch_fn = BINARY[name]
    check_grads(backend, fn, torch_fn, _operands(name, (3, 1, 4), (2, 4)))


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operator_matches_function(backend, name):
    a, b = to_xpnet(*_operands(name, (2, 3), (3,)))
    got, want = OPERATORS[name](a, b), BINARY[name][0](a, b)
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def _with_scalar(fn, scalar_first):
    return (lambda x: fn(1.5, x)) if scalar_first else (lambda x: fn(x, 1.5))


def _torch_with_scalar(name, scalar_first):
    fn = BINARY[name][1]
    # A 0-d float64 tensor broadcasts exactly as a Python scalar with a float64 tensor.
    return lambda x: (fn(torch.tensor(1.5, dtype=torch.float64), x) if scalar_first
                      else fn(x, torch.tensor(1.5, dtype=torch.float64)))


@pytest.mark.parametrize("scalar_first", [False, True], ids=["tensor_first", "scalar_first"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_scalar_operand_matches_torch(backend, name, scalar_first):
    x = _operands(name, (2, 3), ())[0] if not scalar_first else _operands(name, (), (2, 3))[1]
    check_forward(backend, _with_scalar(BINARY[name][0], scalar_first),
                  _torch_with_scalar(name, scalar_first), [x])


@pytest.mark.parametrize("scalar_first", [False, True], ids=["tensor_first", "scalar_first"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_scalar_operand_gradcheck(backend, name, scalar_first):
    x = _operands(name, (2, 3), ())[0] if not scalar_first else _operands(name, (), (2, 3))[1]
    gradcheck(_with_scalar(BINARY[name][0], scalar_first), [x])


_SETTINGS = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
_SHAPE_PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@_SETTINGS
@given(shapes=_SHAPE_PAIRS, name=st.sampled_from(sorted(BINARY)))
def test_binary_random_broadcast_matches_torch(backend, shapes, name):
    check_forward(backend, BINARY[name][0], BINARY[name][1], _operands(name, *shapes.input_shapes))


@_SETTINGS
@given(shapes=_SHAPE_PAIRS, name=st.sampled_from(sorted(BINARY)))
def test_binary_random_broadcast_grads_match_torch(backend, shapes, name):
    check_grads(backend, BINARY[name][0], BINARY[name][1], _operands(name, *shapes.input_shapes))


def test_binary_shape_mismatch_names_op_and_shapes(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (4,)))
    with pytest.raises(ValueError, match=r"mul: cannot broadcast shapes \(2, 3\) and \(4,\)"):
        a * b


def test_neg_matches_torch(backend):
    check_forward(backend, xpnet.neg, lambda t: torch.neg(t), random_arrays((2, 3)))


def test_neg_gradcheck(backend):
    gradcheck(xpnet.neg, random_arrays((2, 3)))


# -- pow at base zero: PyTorch's conventions ----------------------------------------------------

@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0, 3.0])
def test_pow_scalar_exponent_grad_at_zero_base_matches_torch(backend, exponent):
    base = np.array([0.0, 1.5, -2.0])
    check_grads(backend, lambda x: x ** exponent, lambda x: x ** exponent, [base])


def test_pow_tensor_exponent_grads_at_zero_base_match_torch(backend):
    # 0 ** 0 is constant in the base (torch masks exponent == 0), and d(0 ** y)/dy is 0 for y >= 0.
    base, exponent = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.5, 0.0])
    check_grads(backend, xpnet.pow, lambda a, b: torch.pow(a, b), [base, exponent])


def test_pow_zero_scalar_base_grad_matches_torch(backend):
    exponent = np.array([0.0, 0.5, 2.0])
    check_grads(backend, lambda y: 0.0 ** y, lambda y: torch.pow(0.0, y), [exponent])


# -- maximum / minimum: ties split the gradient -------------------------------------------------

@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_extremum_ties_split_gradient_as_torch(backend, name):
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 3.0]])
    b = np.array([1.0, 0.0, 3.0])  # ties at (0, 0), (0, 2), (1, 2), broadcast over rows
    check_grads(backend, BINARY[name][0], BINARY[name][1], [a, b])


# -- where ------------------------------------------------------------------------------------

def _where_inputs():
    condition = np.array([[True], [False], [True]])
    return [condition, *random_arrays((3, 4), (4,))]


def test_where_matches_torch(backend):
    check_forward(backend, xpnet.where, lambda c, a, b: torch.where(c, a, b), _where_inputs())


def test_where_gradcheck(backend):
    gradcheck(xpnet.where, _where_inputs())


def test_where_grads_match_torch(backend):
    check_grads(backend, xpnet.where, lambda c, a, b: torch.where(c, a, b), _where_inputs())


def test_where_scalar_branch_matches_torch(backend):
    condition, a, _ = _where_inputs()
    check_forward(backend, lambda c, x: xpnet.where(c, x, 0.0),
                  lambda c, x: torch.where(c, x, 0.0), [condition, a])


def test_where_rejects_non_bool_condition(backend):
    condition, a, b = to_xpnet(*random_arrays((3, 4), (3, 4), (3, 4)), requires_grad=False)
    with pytest.raises(TypeError, match="where: condition must have dtype bool, got float64"):
        xpnet.where(condition, a, b)


# -- clip -------------------------------------------------------------------------------------

CLIP_BOUNDS = [(-0.5, 0.5), (None, 0.5), (-0.5, None)]


@pytest.mark.parametrize("bounds", CLIP_BOUNDS, ids=str)
def test_clip_scalar_bounds_matches_torch(backend, bounds):
    check_forward(backend, lambda x: xpnet.clip(x, *bounds), lambda x: torch.clamp(x, *bounds),
                  random_arrays((3, 4)))


@pytest.mark.parametrize("bounds", CLIP_BOUNDS, ids=str)
def test_clip_scalar_bounds_gradcheck(backend, bounds):
    gradcheck(lambda x: xpnet.clip(x, *bounds), random_arrays((3, 4)))


def test_clip_grad_at_bounds_matches_torch(backend):
    # torch passes the gradient where min <= x <= max: the bounds themselves count as inside.
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    check_grads(backend, lambda x: xpnet.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
                [x])


def _clip_tensor_inputs():
    x, low, high = random_arrays((3, 4), (4,), (3, 1), seed=3)
    return [x, low - 1.0, high + 1.0]


def test_clip_tensor_bounds_matches_torch(backend):
    check_forward(backend, xpnet.clip, lambda x, lo, hi: torch.clamp(x, lo, hi),
                  _clip_tensor_inputs())


def test_clip_tensor_bounds_gradcheck(backend):
    gradcheck(xpnet.clip, _clip_tensor_inputs())


def test_clip_tensor_bounds_grads_at_ties_match_torch(backend):
    # x on a bound keeps its gradient (as with scalar bounds); a bound gets it only where it wins.
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    low, high = np.full(5, -0.5), np.full(5, 0.5)
    check_grads(backend, xpnet.clip, lambda x, lo, hi: torch.clamp(x, lo, hi), [x, low, high])


def test_clip_needs_a_bound(backend):
    (x,) = to_xpnet(*random_arrays((3,)))
    with pytest.raises(ValueError, match="clip: at least one of min and max must be given"):
        xpnet.clip(x)


# -- comparisons and logical ops (not differentiable) ----------------------------------------

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


def _with_ties():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return [a, np.array([1.0, 5.0, 3.0])]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_matches_torch(backend, name):
    check_forward(backend, getattr(xpnet.ops, name), lambda a, b: getattr(torch, name)(a, b),
                  _with_ties())


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_is_not_differentiable(backend, name):
    a, b = to_xpnet(*_with_ties())
    assert not getattr(xpnet.ops, name)(a, b).requires_grad


@pytest.mark.parametrize("name", ["logical_and", "logical_or"])
def test_logical_binary_matches_torch(backend, name):
    a, b = np.array([[True, False], [True, True]]), np.array([False, True])
    check_forward(backend, getattr(xpnet.ops, name), lambda a, b: getattr(torch, name)(a, b),
                  [a, b])


@pytest.mark.parametrize("name", ["logical_not", "isfinite", "isnan"])
def test_elementwise_predicate_matches_torch(backend, name):
    x = np.array([0.0, -1.5, np.inf, -np.inf, np.nan]) if name != "logical_not" \
        else np.array([True, False, True])
    check_forward(backend, getattr(xpnet.ops, name), lambda t: getattr(torch, name)(t), [x])
