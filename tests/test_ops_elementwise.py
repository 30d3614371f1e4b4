"""PyTorch's elementwise math and comparisons beyond the basics (xpnet/ops/elementwise.py, and
the rounding, trigonometric, division, bitwise and closeness functions of xpnet/ops/unary.py,
xpnet/ops/arithmetic.py and xpnet/ops/logic.py), compared with torch on identical inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None


def _uniform(low, high, shape=(3, 4), seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _both_signs(low, high, shape=(3, 4), seed=0):
    """|x| in [low, high] with alternating signs (keeps away from 0 and its kink)."""
    x = _uniform(low, high, shape, seed)
    return np.where(np.arange(x.size).reshape(shape) % 2, x, -x)


@dataclass
class Case:
    fn: Callable
    torch_fn: Callable
    inputs: Callable  # () -> list of NumPy float64 arrays, inside the smooth domain
    grads: bool = True  # torch defines a gradient to compare with
    finite_differences: bool | None = None  # gradcheck it (default: when grads)


def _same(name):
    """xpnet.<name> against torch.<name>."""
    return dict(fn=getattr(xpnet, name), torch_fn=lambda *t: getattr(torch, name)(*t))


def _unary(name, low, high, **kw):
    return Case(**_same(name), inputs=lambda: [_uniform(low, high)], **kw)


def _binary(name, a, b, **kw):
    """``a`` of shape (3, 4) and ``b`` of shape (4,) (broadcast), each from a (low, high) range
    or from a function of the shape."""
    def make(spec, shape, seed):
        return spec(shape, seed) if callable(spec) else _uniform(*spec, shape=shape, seed=seed)
    return Case(**_same(name), inputs=lambda: [make(a, (3, 4), 0), make(b, (4,), 1)], **kw)


def _nonzero(shape, seed):
    return _both_signs(0.5, 2.0, shape, seed)


CASES = {
    # rounding: gradient zero, as torch
    "floor": _unary("floor", -3, 3),
    "ceil": _unary("ceil", -3, 3),
    "round": _unary("round", -3, 3),
    "round_decimals": Case(lambda x: xpnet.round(x, decimals=2),
                           lambda t: torch.round(t, decimals=2), lambda: [_uniform(-3, 3)]),
    "round_negative_decimals": Case(lambda x: xpnet.round(x, decimals=-1),
                                    lambda t: torch.round(t, decimals=-1),
                                    lambda: [_uniform(-300, 300)]),
    "trunc": _unary("trunc", -3, 3),
    "fix": _unary("fix", -3, 3),
    "frac": _unary("frac", -3, 3),
    "sign": _unary("sign", -3, 3),
    # torch's gradient of sgn is a ZeroTensor, which has no NumPy view to compare with
    "sgn": _unary("sgn", -3, 3, grads=False, finite_differences=True),
    # powers, logarithms, trigonometric and hyperbolic functions
    "rsqrt": _unary("rsqrt", 0.2, 3),
    "reciprocal": Case(**_same("reciprocal"), inputs=lambda: [_both_signs(0.3, 3)]),
    "log2": _unary("log2", 0.1, 3),
    "log10": _unary("log10", 0.1, 3),
    "exp2": _unary("exp2", -3, 3),
    "tan": _unary("tan", -1.4, 1.4),
    "asin": _unary("asin", -0.9, 0.9),
    "arcsin": _unary("arcsin", -0.9, 0.9),
    "acos": _unary("acos", -0.9, 0.9),
    "atan": _unary("atan", -3, 3),
    "sinh": _unary("sinh", -2, 2),
    "cosh": _unary("cosh", -2, 2),
    "asinh": _unary("asinh", -3, 3),
    "acosh": _unary("acosh", 1.1, 4),
    "atanh": _unary("atanh", -0.9, 0.9),
    "arctanh": _unary("arctanh", -0.9, 0.9),
    "logit": _unary("logit", 0.05, 0.95),
    "logit_eps": Case(lambda x: xpnet.logit(x, eps=0.2), lambda t: torch.logit(t, eps=0.2),
                      lambda: [_uniform(0.02, 0.98)]),
    "erfc": _unary("erfc", -3, 6),
    "erfinv": _unary("erfinv", -0.99, 0.99),
    "nan_to_num": Case(**_same("nan_to_num"),
                       inputs=lambda: [np.array([1.5, np.nan, np.inf, -np.inf, -2.0])]),
    "nan_to_num_given": Case(lambda x: xpnet.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0),
                             lambda t: torch.nan_to_num(t, nan=1.0, posinf=9.0, neginf=-9.0),
                             lambda: [np.array([1.5, np.nan, np.inf, -np.inf, -2.0])]),
    # division and remainders
    "div_trunc": Case(lambda a, b: xpnet.div(a, b, rounding_mode="trunc"),
                      lambda a, b: torch.div(a, b, rounding_mode="trunc"),
                      lambda: [_uniform(-5, 5), _nonzero((4,), 1)]),
    "div_floor": Case(lambda a, b: xpnet.div(a, b, rounding_mode="floor"),
                      lambda a, b: torch.div(a, b, rounding_mode="floor"),
                      lambda: [_uniform(-5, 5), _nonzero((4,), 1)]),
    "true_divide": _binary("true_divide", (-2, 2), _nonzero),
    "floor_divide": _binary("floor_divide", (-5, 5), _nonzero, grads=False),
    "remainder": _binary("remainder", (-5, 5), _nonzero),
    "fmod": _binary("fmod", (-5, 5), _nonzero),
    "remainder_scalar": Case(lambda x: xpnet.remainder(x, -1.5),
                             lambda t: torch.remainder(t, -1.5), lambda: [_uniform(-5, 5)]),
    "remainder_scalar_dividend": Case(lambda x: xpnet.remainder(5.5, x),
                                      lambda t: torch.remainder(5.5, t),
                                      lambda: [_both_signs(0.7, 2)], grads=False,
                                      finite_differences=True),  # torch: no derivative
    "fmod_scalar": Case(lambda x: xpnet.fmod(x, 1.5), lambda t: torch.fmod(t, 1.5),
                        lambda: [_uniform(-5, 5)]),
    # two-argument math
    "atan2": _binary("atan2", (-2, 2), (-2, 2)),
    "arctan2": _binary("arctan2", (-2, 2), (-2, 2)),
    "hypot": _binary("hypot", (-2, 2), (-2, 2)),
    "logaddexp": _binary("logaddexp", (-3, 3), (-3, 3)),
    "logaddexp2": _binary("logaddexp2", (-3, 3), (-3, 3)),
    "xlogy": _binary("xlogy", (-2, 2), (0.1, 3)),
    "xlogy_scalar": Case(lambda y: xpnet.xlogy(2.5, y), lambda t: torch.xlogy(2.5, t),
                         lambda: [_uniform(0.1, 3)]),
    "copysign": _binary("copysign", _nonzero, (-2, 2)),
    "fmax": _binary("fmax", (-2, 2), (-2, 2)),
    "fmin": _binary("fmin", (-2, 2), (-2, 2)),
    "float_power": _binary("float_power", (0.5, 2), (-2, 2)),
    "float_power_scalar": Case(lambda x: xpnet.float_power(x, 3), lambda t: torch.float_power(t, 3),
                               lambda: [_uniform(-2, 2)]),
    "heaviside": Case(**_same("heaviside"), grads=False,
                      inputs=lambda: [np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5]]),
                                      np.array([0.25, 0.5, 0.75])]),
    "lerp": Case(**_same("lerp"), inputs=lambda: [_uniform(-2, 2), _uniform(-2, 2, (4,), 1),
                                                 _uniform(-0.5, 1.5, (3, 1), 2)]),
    "lerp_scalar_weight": Case(lambda a, b: xpnet.lerp(a, b, 0.75),
                               lambda a, b: torch.lerp(a, b, 0.75),
                               lambda: [_uniform(-2, 2), _uniform(-2, 2, (4,), 1)]),
    "clamp_min": _binary("clamp_min", (-2, 2), (-1, 1)),
    "clamp_max": _binary("clamp_max", (-2, 2), (-1, 1)),
    "clamp_min_scalar": Case(lambda x: xpnet.clamp_min(x, 0.5), lambda t: torch.clamp_min(t, 0.5),
                             lambda: [_uniform(-2, 2)]),
    "clamp_max_scalar": Case(lambda x: xpnet.clamp_max(x, 0.5), lambda t: torch.clamp_max(t, 0.5),
                             lambda: [_uniform(-2, 2)]),
}
DIFFERENTIABLE = sorted(name for name, case in CASES.items() if case.grads)
# (Inputs with non-finite values have no finite differences.)
GRADCHECKED = sorted(name for name, case in CASES.items() if not name.startswith("nan_to_num")
                     and (case.grads if case.finite_differences is None
                          else case.finite_differences))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(backend, name):
    case = CASES[name]
    check_forward(backend, case.fn, case.torch_fn, case.inputs())


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_grads_match_torch(backend, name):
    case = CASES[name]
    check_grads(backend, case.fn, case.torch_fn, case.inputs())


@pytest.mark.parametrize("name", GRADCHECKED)
def test_gradcheck(backend, name):
    gradcheck(CASES[name].fn, CASES[name].inputs())


@pytest.mark.parametrize("name", ["floor_divide", "heaviside"])
def test_gradient_torch_leaves_undefined(backend, name):
    # floor_divide: zero, as div(rounding_mode='floor'); heaviside: zero for the input, and
    # ``values`` shows through where the input is 0.
    a, b = to_xpnet(np.array([-1.5, 0.0, 2.5]), np.array([2.0, 0.5, 3.0]))
    getattr(xpnet, name)(a, b).sum().backward()
    assert_close(a.grad, np.zeros(3))
    assert_close(b.grad, np.zeros(3) if name == "floor_divide" else np.array([0.0, 1.0, 0.0]))


# -- dtypes for integer, bool and float inputs: torch's ------------------------------------------

UNARY_NAMES = ["floor", "ceil", "round", "trunc", "frac", "sign", "sgn", "signbit", "rsqrt",
               "reciprocal", "log2", "exp2", "tan", "asin", "atanh", "logit", "erfc", "erfinv",
               "nan_to_num", "isinf", "isposinf", "isneginf", "isreal", "isnan", "isfinite",
               "bitwise_not", "logical_not"]
BINARY_NAMES = ["remainder", "fmod", "floor_divide", "true_divide", "atan2", "xlogy",
                "copysign", "fmax", "fmin", "heaviside", "float_power", "logical_xor",
                "logical_and", "bitwise_and", "bitwise_or", "bitwise_xor", "isclose", "maximum"]
# Where torch refuses integer inputs but the math is defined, xpnet computes in the default float.
LENIENT = {"hypot", "logaddexp", "logaddexp2"}
# No zero among the integers: torch raises ZeroDivisionError where NumPy warns.
SAMPLES = {"int64": np.array([3, -2, 1, 5]), "bool": np.array([True, False, True, False]),
           "float32": np.array([0.5, -1.5, 0.0, 2.25], dtype=np.float32),
           "uint8": np.array([3, 1, 7, 200], dtype=np.uint8)}


@pytest.fixture
def strict_device1():
    """The dtype tables run on array_api_strict's second device only: the backend that refuses
    what the standard leaves out (bool arithmetic, mixed kinds) and arrays left on the default
    device. The oracle comparisons above cover every backend."""
    with xpnet.use_backend("array_api_strict:device1"):
        yield


def _check_dtype_like_torch(fn, torch_fn, arrays):
    try:
        want = torch_fn(*(torch.from_numpy(a) for a in arrays))
    except (RuntimeError, TypeError):
        with pytest.raises(TypeError):
            fn(*to_xpnet(*arrays))
        return
    with np.errstate(all="ignore"):  # reciprocal of 0, log of negatives, bool division...
        got = fn(*to_xpnet(*arrays))
    assert_on_device(got, "array_api_strict:device1")
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")
    assert_close(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_dtype_matches_torch(strict_device1, name, kind):
    pytest.importorskip("torch")
    _check_dtype_like_torch(getattr(xpnet, name), getattr(torch, name), [SAMPLES[kind]])


@pytest.mark.parametrize("kinds", [("int64", "int64"), ("bool", "bool"), ("float32", "float32"),
                                   ("int64", "float32"), ("uint8", "int64"), ("bool", "int64")],
                         ids="-".join)
@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_dtype_matches_torch(strict_device1, name, kinds):
    pytest.importorskip("torch")
    arrays = [SAMPLES[kind] for kind in kinds]
    if name in ("isclose", "heaviside") and kinds[0] != kinds[1]:
        # torch asks for equal dtypes; xpnet promotes, and gets torch's same-dtype answer.
        tensors = [torch.from_numpy(a) for a in arrays]
        promoted = torch.promote_types(*(t.dtype for t in tensors))
        got = getattr(xpnet, name)(*to_xpnet(*arrays))
        want = getattr(torch, name)(*(t.to(promoted) for t in tensors))
        assert got.dtype.name == str(want.dtype).removeprefix("torch.")
        assert_close(got, want)
        return
    _check_dtype_like_torch(getattr(xpnet, name), getattr(torch, name), arrays)


@pytest.mark.parametrize("name", sorted(LENIENT))
def test_integer_inputs_give_the_default_float_where_torch_refuses(backend, name):
    a, b = to_xpnet(np.array([1, 2, 3]), np.array([2, 0, 1]))
    out = getattr(xpnet, name)(a, b)
    assert out.dtype is xpnet.get_default_dtype()
    want = getattr(torch, name)(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 0.0, 1.0]))
    assert_close(out, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_integers_returns_a_copy(backend, name):
    (x,) = to_xpnet(np.array([3, -2, 7]))
    out = getattr(xpnet, name)(x)
    out += 1
    assert_close(x, np.array([3, -2, 7]))
    assert_on_device(out, backend)


# -- special points: torch's conventions ---------------------------------------------------------

def test_round_halves_to_even_as_torch(backend):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.25, 0.125, 2.675, 15.0, 25.0, -35.0])
    for decimals in (0, 1, 2, -1):
        check_forward(backend, lambda t: xpnet.round(t, decimals=decimals),
                      lambda t: torch.round(t, decimals=decimals), [x], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide", "div_trunc"])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_sign_rules_match_torch(backend, name, dtype):
    a = np.array([-7, 7, -7, 7, 0, 6, -6], dtype=dtype)
    b = np.array([3, 3, -3, -3, 2, -3, 3], dtype=dtype)
    fn, torch_fn = ((CASES[name].fn, CASES[name].torch_fn) if name in CASES
                    else (getattr(xpnet, name), getattr(torch, name)))
    check_forward(backend, fn, torch_fn, [a, b], rtol=0, atol=0)


def test_fmod_of_signed_zero_and_infinity_matches_torch(backend):
    a, b = np.array([-0.0, -2.0, 5.5, np.inf, 3.0]), np.array([1.0, 1.0, np.inf, 2.0, -np.inf])
    with np.errstate(invalid="ignore"):
        check_forward(backend, xpnet.fmod, torch.fmod, [a, b], rtol=0, atol=0)
        out = xpnet.fmod(*to_xpnet(a, b)).numpy()
    assert np.signbit(out[:2]).all()


SPECIAL_POINTS = {
    # xlogy(0, y) is 0 (y = 0 too) unless y is nan, with d/dx = 0 there
    "xlogy": [np.array([0.0, 0.0, 0.0, 2.0, 1.5]), np.array([0.0, 1.0, np.nan, 0.5, 2.0])],
    # both gradients 0 at the origin
    "atan2": [np.array([0.0, 1.0, -1.0]), np.array([0.0, 0.0, -2.0])],
    # nan is ignored; ties give the gradient to input
    "fmax": [np.array([1.0, np.nan, 2.0, np.nan, 3.0]), np.array([1.0, 2.0, np.nan, np.nan, 0.5])],
    "fmin": [np.array([1.0, np.nan, 2.0, np.nan, 3.0]), np.array([1.0, 2.0, np.nan, np.nan, 0.5])],
    # the sign's gradient is 0, and the magnitude's is 0 at 0
    "copysign": [np.array([0.0, -0.0, 2.0, -3.0]), np.array([-1.0, 1.0, -0.0, 2.0])],
    # finite gradients beside infinite operands
    "logaddexp": [np.array([-np.inf, np.inf, 1.0, -np.inf]), np.array([0.5, 0.5, -np.inf, -np.inf])],
    "logaddexp2": [np.array([-np.inf, np.inf, 1.0, 3.0]), np.array([0.5, 0.5, -np.inf, 3.0])],
    # eps clamps: gradient 0 outside [eps, 1 - eps], kept on its edges
    "logit_eps": [np.array([0.1, 0.2, 0.5, 0.8, 0.9])],
    # the limits at +-1 and the tails
    "erfinv": [np.array([-1.0, 1.0, 1 - 1e-15, -1 + 1e-12, 1e-300, 0.0])],
    "erfc": [np.array([-np.inf, -30.0, 0.0, 2.0, 9.0, 26.0, 30.0, np.inf])],
    "nan_to_num": [np.array([np.nan, np.inf, -np.inf, 0.0])],
}


@pytest.mark.parametrize("name", sorted(SPECIAL_POINTS))
def test_values_at_special_points_match_torch(backend, name):
    fn, torch_fn = (CASES[name].fn, CASES[name].torch_fn) if name in CASES else _same(name).values()
    with np.errstate(all="ignore"):
        check_forward(backend, fn, torch_fn, SPECIAL_POINTS[name], rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", sorted(set(SPECIAL_POINTS) - {"erfc"}))
def test_grads_at_special_points_match_torch(backend, name):
    fn, torch_fn = (CASES[name].fn, CASES[name].torch_fn) if name in CASES else _same(name).values()
    with np.errstate(all="ignore"):
        check_grads(backend, fn, torch_fn, SPECIAL_POINTS[name])


def test_logit_without_eps_matches_torch_at_the_ends(backend):
    with np.errstate(all="ignore"):
        check_forward(backend, xpnet.logit, torch.logit, [np.array([0.0, 1.0, 0.5, 1.5])])
        check_grads(backend, xpnet.logit, torch.logit, [np.array([0.0, 1.0, 0.5, 1.5])])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfc_and_erfinv_keep_their_digits_as_torch(backend, dtype):
    # Where erfc is tiny (not 1 - erf) and erfinv near +-1 (where erf's digits run out).
    tiny = np.finfo(dtype).eps
    x = np.linspace(0.3, 9.0 if dtype == np.float32 else 26.0, 200).astype(dtype)
    y = np.concatenate([1 - np.logspace(np.log10(tiny), -0.5, 100),
                        np.logspace(-30, -1, 20)]).astype(dtype)
    rtol = 4 * float(tiny)
    check_forward(backend, xpnet.erfc, torch.erfc, [x], rtol=rtol, atol=0)
    check_forward(backend, xpnet.erfinv, torch.erfinv, [y], rtol=rtol, atol=0)


def test_sgn_of_complex_matches_torch(backend):
    z = np.array([3 + 4j, -1 + 0.5j, 0j, -2 + 0j])
    weights = np.array([1 + 2j, 0.5 - 1j, 1 + 1j, -1 + 0.5j])
    (zx,) = to_xpnet(z)
    zx.requires_grad_()
    zt = torch.tensor(z, requires_grad=True)
    out, want = xpnet.sgn(zx), torch.sgn(zt)
    assert_close(out, want)
    (got_grad,) = xpnet.autograd.grad([out], [zx], [xpnet.tensor(weights)])
    (want_grad,) = torch.autograd.grad(want, zt, torch.tensor(weights))
    assert_on_device(got_grad, backend)
    assert_close(got_grad, want_grad)


# -- predicates, closeness and equality ----------------------------------------------------------

@pytest.mark.parametrize("name", ["isinf", "isposinf", "isneginf", "isreal", "signbit"])
def test_predicate_matches_torch(backend, name):
    x = np.array([0.0, -0.0, -1.5, np.inf, -np.inf, np.nan, 2.0])
    check_forward(backend, getattr(xpnet, name), getattr(torch, name), [x])


def test_isreal_of_complex_matches_torch(backend):
    check_forward(backend, xpnet.isreal, torch.isreal, [np.array([1 + 0j, 1j, -2.5 + 0j])])


def test_predicates_are_not_differentiable(backend):
    (x,) = to_xpnet(np.array([1.0, -np.inf]))
    assert not any(getattr(xpnet, name)(x).requires_grad
                   for name in ("isinf", "isposinf", "isneginf", "isreal", "signbit"))


ISCLOSE_CASES = {
    "default": ({}, np.array([1.0, 1.0, np.inf, np.inf, np.nan, 0.0, 1e-9]),
                np.array([1.0 + 1e-6, 1.1, np.inf, -np.inf, np.nan, 1e-9, 0.0])),
    "equal_nan": ({"equal_nan": True}, np.array([np.nan, np.nan, 1.0]),
                  np.array([np.nan, 1.0, 1.0])),
    "tolerances": ({"rtol": 0.1, "atol": 0.5}, np.array([1.0, 10.0, -3.0]),
                   np.array([1.6, 11.0, -2.0])),
    "exact": ({"rtol": 0.0, "atol": 0.0}, np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-15])),
    "integers": ({"rtol": 0.3, "atol": 0.0}, np.array([1, 10, 200], dtype=np.uint8),
                 np.array([2, 9, 100], dtype=np.uint8)),
}


@pytest.mark.parametrize("name", sorted(ISCLOSE_CASES))
def test_isclose_matches_torch(backend, name):
    options, a, b = ISCLOSE_CASES[name]
    check_forward(backend, lambda x, y: xpnet.isclose(x, y, **options),
                  lambda x, y: torch.isclose(x, y, **options), [a, b])


@pytest.mark.parametrize("name", sorted(ISCLOSE_CASES))
def test_allclose_matches_torch(backend, name):
    options, a, b = ISCLOSE_CASES[name]
    got = xpnet.allclose(*to_xpnet(a, b), **options)
    assert type(got) is bool
    assert got == torch.allclose(torch.from_numpy(a), torch.from_numpy(b), **options)


EQUAL_CASES = {
    "same": (np.array([1.0, 2.0]), np.array([1.0, 2.0]), True),
    "different value": (np.array([1.0, 2.0]), np.array([1.0, 2.5]), False),
    "nan": (np.array([np.nan]), np.array([np.nan]), False),
    "other shape": (np.array([1.0, 1.0]), np.array([1.0]), False),
    "other dtype": (np.array([1, 2]), np.array([1.0, 2.0]), True),
}


@pytest.mark.parametrize("name", sorted(EQUAL_CASES))
def test_equal_matches_torch(backend, name):
    a, b, expected = EQUAL_CASES[name]
    got = xpnet.equal(*to_xpnet(a, b))
    assert type(got) is bool and got is expected
    assert torch.equal(torch.from_numpy(a), torch.from_numpy(b)) is expected


# -- operators, methods and in-place forms -------------------------------------------------------

OPERATORS = {
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "invert": lambda a, b: ~a, "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b,
    "rand": lambda a, b: 6 & a, "ror": lambda a, b: 6 | a, "rxor": lambda a, b: 6 ^ a,
    "rfloordiv": lambda a, b: 7 // b, "rmod": lambda a, b: 7 % b,
}


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float64])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operator_matches_torch(backend, name, dtype):
    a = np.array([5, -3, 0, 12]).astype(dtype)
    b = np.array([2, 4, -3, 5]).astype(dtype)
    op = OPERATORS[name]
    xs = to_xpnet(a, b, requires_grad=False)
    try:
        want = op(*(torch.from_numpy(v) for v in (a, b)))
    except (RuntimeError, TypeError):
        with pytest.raises(TypeError):
            op(*xs)
        return
    got = op(*xs)
    assert_on_device(got, backend)
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")
    assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("symbol", ["&=", "|=", "^=", "//=", "%="])
def test_inplace_operator_matches_torch(backend, symbol):
    code = f"x {symbol} y"
    x, y = to_xpnet(np.array([5, -3, 12]), np.array([2, 4, 5]))
    before = x
    exec(code)  # noqa: S102 - the operator under test
    xt, yt = torch.tensor([5, -3, 12]), torch.tensor([2, 4, 5])
    exec(code.replace("x", "xt").replace("y", "yt"))  # noqa: S102
    assert_close(before, xt, rtol=0, atol=0)


INPLACE = {
    "floor_": ((), {}), "round_": ((), {"decimals": 1}), "frac_": ((), {}), "exp2_": ((), {}),
    "atan2_": ((np.array([0.5, -1.0, 2.0]),), {}), "remainder_": ((1.5,), {}),
    "fmod_": ((-1.5,), {}), "clamp_min_": ((0.0,), {}), "clamp_max_": ((0.0,), {}),
    "lerp_": ((np.array([1.0, 2.0, 3.0]), 0.25), {}), "copysign_": ((-1.0,), {}),
    "nan_to_num_": ((), {"nan": 2.0}), "xlogy_": ((2.0,), {}), "hypot_": ((np.array([1.0, 0.5, 2.0]),), {}),
    "sgn_": ((), {}), "neg_": ((), {}), "sin_": ((), {}), "abs_": ((), {}),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_method_matches_torch(backend, name):
    args, kwargs = INPLACE[name]
    x = np.array([1.25, -2.75, 0.5])
    (t,) = to_xpnet(x, requires_grad=False)
    targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    xargs = [xpnet.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    assert getattr(t, name)(*xargs, **kwargs) is t
    want = getattr(torch.from_numpy(x.copy()), name)(*targs, **kwargs)
    assert_on_device(t, backend)
    assert_close(t, want)


def test_inplace_on_an_integer_tensor_refuses_a_float_result(backend):
    (x,) = to_xpnet(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="reciprocal_: the result has dtype float32"):
        x.reciprocal_()


@pytest.mark.parametrize("name", ["atan2", "hypot", "remainder", "xlogy", "fmax", "copysign",
                                  "logaddexp", "float_power"])
def test_method_is_the_function(backend, name):
    a, b = to_xpnet(_uniform(0.5, 2), _uniform(0.5, 2, (4,), 1))
    got, want = getattr(a, name)(b), getattr(xpnet, name)(a, b)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_div_method_takes_rounding_mode(backend):
    a, b = to_xpnet(np.array([7, -7]), np.array([2, 2]))
    assert_close(a.div(b, rounding_mode="trunc"), np.array([3, -3]), rtol=0, atol=0)
    assert_close(a.div(b, rounding_mode="floor"), np.array([3, -4]), rtol=0, atol=0)


# -- errors --------------------------------------------------------------------------------------

def _int_tensor():
    return xpnet.tensor([1, 2, 3])


def _float_tensor():
    return xpnet.tensor([1.5, -2.0])


ERRORS = {
    "round decimals of ints": (lambda: xpnet.round(_int_tensor(), decimals=1), TypeError,
                               "round: decimals=1 needs a floating-point tensor, got int64"),
    "round decimals type": (lambda: xpnet.round(_float_tensor(), decimals=1.5), TypeError,
                            "round: decimals must be an int, got float"),
    "floor of bool": (lambda: xpnet.floor(xpnet.tensor([True])), TypeError,
                      "floor: expected a real floating-point or integer tensor, got bool"),
    "frac of ints": (lambda: xpnet.frac(_int_tensor()), TypeError,
                     "frac: expected a floating-point tensor, got int64"),
    "sign of complex": (lambda: xpnet.sign(xpnet.tensor([1j])), TypeError,
                        "sign: complex tensors are not supported .* use sgn"),
    "rounding mode": (lambda: xpnet.div(_float_tensor(), 2.0, rounding_mode="round"), ValueError,
                      "div: rounding_mode must be None, 'trunc' or 'floor', got 'round'"),
    "remainder of bools": (lambda: xpnet.remainder(xpnet.tensor([True]), xpnet.tensor([True])),
                           TypeError, "remainder: not defined for bool tensors"),
    "bitwise of floats": (lambda: xpnet.bitwise_and(_float_tensor(), 1), TypeError,
                          "bitwise_and: expected integer or bool tensors, got float32"),
    "invert of floats": (lambda: ~_float_tensor(), TypeError,
                         "bitwise_not: expected integer or bool tensors, got float32"),
    "lerp of ints": (lambda: xpnet.lerp(_int_tensor(), _int_tensor(), 0.5), TypeError,
                     "lerp: expected floating-point tensors, got int64"),
    "lerp weight": (lambda: xpnet.lerp(_float_tensor(), _float_tensor(), "half"), TypeError,
                    "lerp: weight must be a float or a Tensor, got str"),
    "lerp shapes": (lambda: xpnet.lerp(_float_tensor(), _float_tensor(), xpnet.ones(3)),
                    ValueError, r"lerp: cannot broadcast shapes \(2,\) and \(2,\) and \(3,\)"),
    "negative rtol": (lambda: xpnet.isclose(_float_tensor(), _float_tensor(), rtol=-1), ValueError,
                      "isclose: rtol must be >= 0, got -1"),
    "atol type": (lambda: xpnet.allclose(_float_tensor(), _float_tensor(), atol="0"), TypeError,
                  "allclose: atol must be a real number, got str"),
    "equal of a list": (lambda: xpnet.equal(_float_tensor(), [1.5, -2.0]), TypeError,
                        "equal: other must be a Tensor, got list"),
    "clamp_min of None": (lambda: xpnet.clamp_min(_float_tensor(), None), TypeError,
                          "clamp_min: min must be a number or a Tensor, got None"),
    "nan_to_num of complex": (lambda: xpnet.nan_to_num(xpnet.tensor([1j])), TypeError,
                              "nan_to_num: complex tensors are not supported"),
    "nan_to_num value": (lambda: xpnet.nan_to_num(_float_tensor(), nan="0"), TypeError,
                         "nan_to_num: nan must be a real number, got str"),
    "logit eps": (lambda: xpnet.logit(_float_tensor(), eps="small"), TypeError,
                  "logit: eps must be a float or None, got str"),
    "fmax of complex": (lambda: xpnet.fmax(xpnet.tensor([1j]), xpnet.tensor([1j])), TypeError,
                        "fmax: complex tensors have no order"),
    "scalars only": (lambda: xpnet.atan2(1.0, 2.0), TypeError,
                     "atan2: expected at least one Tensor, got float and float"),
    "broadcast": (lambda: xpnet.hypot(xpnet.ones(2), xpnet.ones(3)), ValueError,
                  r"hypot: cannot broadcast shapes \(2,\) and \(3,\)"),
    "not a tensor": (lambda: xpnet.tan([1.0]), TypeError, "tan: expected a Tensor, got list"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_raises(backend, name):
    make, error, message = ERRORS[name]
    with pytest.raises(error, match=message):
        make()
