"""Reductions: sum, mean, max/min, var/std, logsumexp, argmax/argmin, any/all (ops/reduce.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPE = (2, 3, 4)
AXES = [None, 0, -1, (0, 2), (-1, 0, 1)]


def _dims(axis, ndim):
    """torch's ``dim`` for our ``axis``: None means every axis."""
    return tuple(range(ndim)) if axis is None else axis


# name -> (xpnet function, torch function); both called as f(x, axis/dim, keepdims/keepdim).
REDUCTIONS = {
    "sum": (xpnet.sum, lambda t, d, k: torch.sum(t, dim=d, keepdim=k)),
    "mean": (xpnet.mean, lambda t, d, k: torch.mean(t, dim=d, keepdim=k)),
    # torch.max(dim) picks one index at ties; amax shares the gradient, as ours does.
    "max": (xpnet.max, lambda t, d, k: torch.amax(t, dim=d, keepdim=k)),
    "min": (xpnet.min, lambda t, d, k: torch.amin(t, dim=d, keepdim=k)),
    "var": (xpnet.var, lambda t, d, k: torch.var(t, dim=d, keepdim=k)),
    "std": (xpnet.std, lambda t, d, k: torch.std(t, dim=d, keepdim=k)),
    "logsumexp": (xpnet.logsumexp, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k)),
}


def _pair(name, axis, keepdims):
    fn, torch_fn = REDUCTIONS[name]
    # axis=: the standard's meaning (max/min give the values only, var's third argument is not
    # keepdims); PyTorch's positional forms are tested below.
    return (lambda x: fn(x, axis=axis, keepdims=keepdims),
            lambda t: torch_fn(t, _dims(axis, t.ndim), keepdims))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_torch(backend, name, axis, keepdims):
    check_forward(backend, *_pair(name, axis, keepdims), random_arrays(SHAPE))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradcheck(backend, name, axis, keepdims):
    gradcheck(_pair(name, axis, keepdims)[0], random_arrays((2, 3, 2)))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_grads_match_torch(backend, name):
    check_grads(backend, *_pair(name, (0, 2), False), random_arrays(SHAPE))


# var and std of one element divide by zero (correction=1).
@pytest.mark.parametrize("name", ["logsumexp", "max", "mean", "min", "sum"])
def test_reduction_of_zero_d_matches_torch(backend, name):
    check_forward(backend, *_pair(name, None, False), [np.array(1.5)])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_accepts_torch_dim_keepdim(backend, name):
    fn = REDUCTIONS[name][0]
    (x,) = to_xpnet(*random_arrays(SHAPE))
    got, want = fn(x, dim=1, keepdim=True), fn(x, axis=1, keepdims=True)
    if name in ("max", "min"):  # with a dim: (values, indices), as torch.max
        got = got.values
    assert got.shape == (2, 1, 4)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("axis", [None, 0, 1], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_extreme_ties_share_gradient_as_torch_amax(backend, name, axis):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 3.0, -1.0, 3.0]])
    check_grads(backend, *_pair(name, axis, False), [-x if name == "min" else x])


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_matches_torch(backend, name, correction):
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis=1, correction=correction),
                  lambda t: getattr(torch, name)(t, dim=1, correction=correction),
                  random_arrays(SHAPE))


@pytest.mark.parametrize("correction", [0, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_gradcheck(backend, name, correction):
    fn = getattr(xpnet, name)
    gradcheck(lambda x: fn(x, axis=(0, 1), correction=correction), random_arrays((2, 3, 2)))


def test_mean_of_integers_gives_default_float(backend):
    (x,) = to_xpnet(np.array([[1, 2], [3, 5]]))
    out = xpnet.mean(x, axis=0)
    assert out.dtype is xpnet.get_default_dtype()
    assert_close(out, np.array([2.0, 3.5], dtype=np.float32))


# -- logsumexp numerics -----------------------------------------------------------------------

def test_logsumexp_is_stable_at_1e4(backend):
    (x,) = to_xpnet(np.array([[1e4, 1e4], [-1e4, -1e4], [1e4, -1e4]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = xpnet.logsumexp(x, axis=1)
        out.sum().backward()
    assert_close(out, np.array([1e4 + np.log(2), -1e4 + np.log(2), 1e4]))
    assert_close(x.grad, np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]]))


def test_logsumexp_of_all_minus_inf_row_is_minus_inf(backend):
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    check_forward(backend, lambda x: xpnet.logsumexp(x, axis=1),
                  lambda t: torch.logsumexp(t, dim=1), [x])


def test_logsumexp_of_all_minus_inf_row_does_not_warn(backend):
    (x,) = to_xpnet(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = xpnet.logsumexp(x, axis=1)
    assert out.numpy()[0] == -np.inf


def test_logsumexp_with_plus_inf_is_plus_inf(backend):
    x = np.array([[np.inf, 0.0], [np.inf, -np.inf]])
    check_forward(backend, lambda x: xpnet.logsumexp(x, axis=1),
                  lambda t: torch.logsumexp(t, dim=1), [x])


# -- non-differentiable reductions ------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 0, -1], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_index_reduction_matches_torch(backend, name, axis, keepdims):
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis, keepdims),
                  lambda t: getattr(torch, name)(t, dim=axis, keepdim=keepdims),
                  random_arrays(SHAPE))


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["any", "all"])
def test_bool_reduction_matches_torch(backend, name, axis, keepdims):
    x = np.array([[[True, False], [True, True], [False, False]]])
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, axis, keepdims),
                  lambda t: getattr(torch, name)(t, dim=_dims(axis, t.ndim), keepdim=keepdims),
                  [x])


@pytest.mark.parametrize("name", ["argmax", "any"])
def test_non_differentiable_reduction_does_not_require_grad(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    out = getattr(xpnet, name)(x > 0 if name == "any" else x, axis=1)
    assert not out.requires_grad
    assert_on_device(out, backend)


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REDUCTIONS) + ["argmax", "argmin", "any", "all"])
def test_reduction_rejects_out_of_range_axis(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(ValueError, match=f"{name}: axis 3 is out of range for a 3-D tensor"):
        getattr(xpnet, name)(x, axis=3)


@pytest.mark.parametrize("name", ["sum", "max", "logsumexp"])
def test_reduction_rejects_repeated_axis(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(ValueError, match=rf"{name}: repeated axis in \(1, -2\)"):
        getattr(xpnet, name)(x, axis=(1, -2))


def test_reduction_rejects_non_integer_axis(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="sum: axis must be an int, got float"):
        xpnet.sum(x, axis=1.0)


@pytest.mark.parametrize("name", ["max", "min"])
def test_extreme_rejects_empty_axis(backend, name):
    (x,) = to_xpnet(np.zeros((2, 0)))
    with pytest.raises(ValueError,
                       match=rf"{name}: cannot reduce over an empty axis \(shape \(2, 0\)"):
        getattr(xpnet, name)(x, axis=1)


def test_reduction_rejects_axis_and_dim_together(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="sum: got both axis=0 and dim=1"):
        xpnet.sum(x, axis=0, dim=1)


# -- max/min with a dim: PyTorch's (values, indices) --------------------------------------------

def _distinct(shape, seed=0):
    """Values without ties (a shuffled range), so indices are unambiguous."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape, dtype=int))).reshape(shape) * 0.25 - 2.0


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_match_torch(backend, name, dim, keepdim):
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: tuple(fn(x, dim, keepdim)),
                  lambda t: tuple(torch_fn(t, dim, keepdim)), [_distinct(SHAPE)])
    check_grads(backend, lambda x: fn(x, dim=dim, keepdim=keepdim).values,
                lambda t: torch_fn(t, dim=dim, keepdim=keepdim).values, [_distinct(SHAPE)])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_gradcheck(backend, name):
    gradcheck(lambda x: getattr(xpnet, name)(x, 1).values, [_distinct((2, 3, 2))])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_at_ties_pick_first_index_as_torch(backend, name):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 3.0, -1.0, 3.0]])
    x = x if name == "max" else -x
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: tuple(fn(x, 1)), lambda t: tuple(torch_fn(t, 1)), [x])
    # The whole gradient goes to the returned index (torch's rule with a dim).
    check_grads(backend, lambda x: fn(x, 1).values, lambda t: torch_fn(t, 1).values, [x])


def test_max_with_dim_returns_named_tuple(backend):
    (x,) = to_xpnet(_distinct((2, 3)))
    out = xpnet.max(x, 1)
    assert type(out).__name__ == "max" and out._fields == ("values", "indices")
    values, indices = out
    assert values is out[0] and indices is out.indices
    assert indices.dtype is xpnet.int64 and not indices.requires_grad
    assert_on_device(values, backend)
    assert_on_device(indices, backend)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_method_with_dim_matches_function(backend, name):
    (x,) = to_xpnet(_distinct((2, 3)))
    got, want = getattr(x, name)(dim=0), getattr(xpnet, name)(x, 0)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_axis_keyword_return_values_only(backend, name):
    (x,) = to_xpnet(_distinct(SHAPE))
    out = getattr(xpnet, name)(x, axis=(0, 2))
    assert isinstance(out, xpnet.Tensor) and out.shape == (3,)
    check_forward(backend, lambda x: getattr(xpnet, name)(x, axis=(0, 2)),
                  lambda t: getattr(torch, "a" + name)(t, dim=(0, 2)), [_distinct(SHAPE)])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_two_tensors_is_elementwise_as_torch(backend, name):
    arrays = random_arrays((2, 3), (3,))
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_zero_d_with_dim_matches_torch(backend, name):
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: tuple(fn(x, 0)), lambda t: tuple(torch_fn(t, 0)),
                  [np.array(1.5)])


def test_max_with_nan_propagates_it_and_its_index_as_torch(backend):
    x = np.array([[1.0, np.nan, 3.0, np.nan], [0.0, 2.0, 1.0, -1.0]])
    check_forward(backend, lambda x: tuple(xpnet.max(x, 1)), lambda t: tuple(torch.max(t, 1)),
                  [x])
    check_forward(backend, xpnet.max, torch.max, [x])


# -- amax/amin, aminmax, argmax/argmin ---------------------------------------------------------

@pytest.mark.parametrize("dim", [(), 1, (0, 2), (-1, 0)], ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_match_torch(backend, name, dim):
    x = np.array([[[1.0, 3.0], [3.0, 0.0], [2.0, 2.0]], [[3.0, -1.0], [0.5, 3.0], [2.0, 1.0]]])
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    for keepdim in (False, True):
        check_forward(backend, lambda x: fn(x, dim, keepdim), lambda t: torch_fn(t, dim, keepdim),
                      [x])
    check_grads(backend, lambda x: fn(x, dim=dim), lambda t: torch_fn(t, dim=dim), [x])


def test_aminmax_matches_torch(backend):
    x = np.array([[1.0, 3.0, 3.0], [0.0, 2.0, 0.0]])
    check_forward(backend, lambda x: tuple(xpnet.aminmax(x, dim=1, keepdim=True)),
                  lambda t: tuple(torch.aminmax(t, dim=1, keepdim=True)), [x])
    check_grads(backend, lambda x: tuple(xpnet.aminmax(x)), lambda t: tuple(torch.aminmax(t)),
                [x])
    out = xpnet.aminmax(to_xpnet(x)[0])
    assert out._fields == ("min", "max")


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_index_reduction_takes_torch_positional_dim_and_first_tie(backend, name):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [0.0, 2.0, 0.0, 2.0]])
    fn = getattr(xpnet, name)
    check_forward(backend, lambda x: fn(x, 1, True),
                  lambda t: getattr(torch, name)(t, 1, True), [x])
    check_forward(backend, lambda x: fn(x, dim=0), lambda t: getattr(torch, name)(t, dim=0), [x])


# -- sum/mean dtype, dim=() --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["int32", "bool", "uint8"])
@pytest.mark.parametrize("name", ["sum", "prod", "nansum"])
def test_integer_sum_and_prod_accumulate_in_int64_as_torch(backend, name, dtype):
    x = np.array([[1, 0, 1], [1, 1, 1]]).astype(dtype)
    check_forward(backend, lambda x: getattr(xpnet, name)(x, 1),
                  lambda t: getattr(torch, name)(t, 1), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "nansum", "nanmean"])
def test_dtype_argument_casts_first_as_torch(backend, name):
    x = random_arrays((2, 3))[0].astype(np.float32)
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: fn(x, 1, dtype=xpnet.float64),
                  lambda t: torch_fn(t, 1, dtype=torch.float64), [x], rtol=1e-6)
    check_grads(backend, lambda x: fn(x, 1, dtype="float64"),
                lambda t: torch_fn(t, 1, dtype=torch.float64), [x], rtol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "std", "count_nonzero",
                                  "nansum", "nanmean", "all"])
def test_empty_dim_tuple_means_what_it_means_in_torch(backend, name):
    x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    check_forward(backend, lambda x: getattr(xpnet, name)(x, dim=()),
                  lambda t: getattr(torch, name)(t, dim=()), [x])


def test_empty_axis_tuple_reduces_nothing_as_the_standard(backend):
    (x,) = to_xpnet(*random_arrays((2, 3)))
    assert xpnet.sum(x, axis=()).shape == (2, 3)


# -- prod --------------------------------------------------------------------------------------

PROD_INPUTS = {
    "no_zero": np.array([[1.5, -2.0, 0.5], [3.0, 1.0, -1.0]]),
    "one_zero": np.array([[1.5, 0.0, 0.5], [3.0, 1.0, -1.0]]),
    "two_zeros": np.array([[0.0, 2.0, 0.0], [0.0, 1.0, -1.0]]),
}


@pytest.mark.parametrize("dim", [None, 0, 1], ids=str)
@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
def test_prod_and_its_gradient_with_zeros_match_torch(backend, case, dim):
    x = PROD_INPUTS[case]
    fn = (lambda x: xpnet.prod(x)) if dim is None else (lambda x: xpnet.prod(x, dim, True))
    torch_fn = (lambda t: torch.prod(t)) if dim is None else (lambda t: torch.prod(t, dim, True))
    check_forward(backend, fn, torch_fn, [x])
    check_grads(backend, fn, torch_fn, [x])


def test_prod_over_several_axes_gradcheck(backend):
    gradcheck(lambda x: xpnet.prod(x, axis=(0, 2)), random_arrays((2, 3, 2)))
    gradcheck(lambda x: xpnet.prod(x, 1), [PROD_INPUTS["one_zero"]])


# -- var/std: unbiased, var_mean, std_mean -----------------------------------------------------

VAR_CALLS = {
    "dim_unbiased": ((1, False), {}),
    "unbiased_only": ((False,), {}),
    "dim_unbiased_keepdim": ((0, True, True), {}),
    "correction": ((1,), {"correction": 0, "keepdim": True}),
    "unbiased_keyword": ((), {"dim": (0, 1), "unbiased": False}),
}


@pytest.mark.parametrize("call", sorted(VAR_CALLS))
@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
def test_var_std_take_torch_argument_forms(backend, name, call):
    args, kwargs = VAR_CALLS[call]
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: fn(x, *args, **kwargs), lambda t: torch_fn(t, *args, **kwargs),
                  random_arrays(SHAPE))


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_grads_match_torch(backend, name):
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_grads(backend, lambda x: fn(x, 1), lambda t: torch_fn(t, 1), random_arrays(SHAPE))
    gradcheck(lambda x: fn(x, (0, 2), correction=0), random_arrays((2, 3, 2)))


def test_var_rejects_unbiased_with_correction(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="var: got both unbiased=True and correction=0"):
        xpnet.var(x, 1, True, correction=0)


# -- nansum, nanmean, count_nonzero, any/all ---------------------------------------------------

NAN_INPUT = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan], [0.5, -1.0, 3.0]])


@pytest.mark.parametrize("dim", [None, 0, 1], ids=str)
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nan_reductions_match_torch(backend, name, dim):
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: fn(x, dim), lambda t: torch_fn(t, dim), [NAN_INPUT])
    # Without the all-NaN row, whose mean is a NaN constant: torch's gradient there is 0/0, ours 0.
    rows = NAN_INPUT[[0, 2]]
    check_grads(backend, lambda x: fn(x, dim), lambda t: torch_fn(t, dim), [rows])


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nan_reductions_gradcheck(backend, name):
    gradcheck(lambda x: getattr(xpnet, name)(x, 1), random_arrays((2, 3)))


@pytest.mark.parametrize("dim", [None, 1, (0, 1)], ids=str)
def test_count_nonzero_matches_torch(backend, dim):
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    check_forward(backend, lambda x: xpnet.count_nonzero(x, dim),
                  lambda t: torch.count_nonzero(t, dim), [x])


@pytest.mark.parametrize("name", ["all", "any"])
def test_bool_reductions_of_numbers_with_dim_match_torch(backend, name):
    x = np.array([[0.0, 1.0, 2.0], [0.5, 3.0, -1.0]])
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, lambda x: fn(x, 1, True), lambda t: torch_fn(t, 1, True), [x])
    check_forward(backend, lambda x: fn(x, dim=(0, 1)), lambda t: torch_fn(t, dim=(0, 1)), [x])


# -- bad input for the PyTorch forms -----------------------------------------------------------

def test_max_rejects_tuple_dim(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match=r"max: dim must be an int .* got tuple; for several "
                                        r"axes use amax\(input, dim\) or max\(input, axis="):
        xpnet.max(x, dim=(0, 1))


def test_max_rejects_dim_and_axis_together(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(TypeError, match="min: got both axis=0 and dim=1"):
        xpnet.min(x, 1, axis=0)


def test_max_of_two_tensors_rejects_keepdim(backend):
    a, b = to_xpnet(*random_arrays((2,), (2,)))
    with pytest.raises(TypeError, match=r"max: with a Tensor second argument"):
        xpnet.max(a, b, True)


def test_max_with_dim_rejects_out_of_range_dim(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(ValueError, match="max: axis 3 is out of range for a 3-D tensor"):
        xpnet.max(x, 3)


def test_reduction_rejects_non_tensor(backend):
    with pytest.raises(TypeError, match="prod: input must be a Tensor, got list"):
        xpnet.prod([1.0, 2.0])
