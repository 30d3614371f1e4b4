"""Scans (xpnet/ops/cumulative.py): cumsum, cumprod, cummax/cummin, logcumsumexp, diff."""

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

SHAPE = (3, 4, 5)
SCANS = ["cumsum", "cumprod", "logcumsumexp"]


def _pair(name, *args, **kwargs):
    return (lambda *x: getattr(xpnet, name)(*x, *args, **kwargs),
            lambda *t: getattr(torch, name)(*t, *args, **kwargs))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", SCANS)
def test_scan_matches_torch(backend, name, dim):
    check_forward(backend, *_pair(name, dim), random_arrays(SHAPE))
    check_grads(backend, *_pair(name, dim=dim), random_arrays(SHAPE))


@pytest.mark.parametrize("name", SCANS)
def test_scan_gradcheck(backend, name):
    gradcheck(_pair(name, 1)[0], random_arrays((2, 3, 2)))


@pytest.mark.parametrize("name", SCANS)
def test_scan_of_zero_d_matches_torch(backend, name):
    check_forward(backend, *_pair(name, 0), [np.array(1.5)])


CUMPROD_ZEROS = {
    "one_zero": np.array([[2.0, 0.0, 3.0, -1.5], [1.5, 2.0, -0.5, 0.0]]),
    "two_zeros": np.array([[0.0, 2.0, 0.0, 3.0], [1.0, 0.0, 0.5, 0.0]]),
    "leading_zero": np.array([[0.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]]),
}


@pytest.mark.parametrize("case", sorted(CUMPROD_ZEROS))
def test_cumprod_gradient_with_zeros_matches_torch(backend, case):
    x = CUMPROD_ZEROS[case]
    check_forward(backend, *_pair("cumprod", 1), [x])
    check_grads(backend, *_pair("cumprod", 1), [x])
    check_grads(backend, *_pair("cumprod", 0), [x])


def test_cumprod_gradcheck_with_a_zero(backend):
    gradcheck(_pair("cumprod", 1)[0], [CUMPROD_ZEROS["one_zero"]])


@pytest.mark.parametrize("dtype", ["int32", "bool", "float32"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_integer_scans_accumulate_in_int64_as_torch(backend, name, dtype):
    x = np.array([[1, 0, 1], [1, 1, 2]]).astype(dtype)
    check_forward(backend, *_pair(name, 1), [x])
    check_forward(backend, *_pair(name, 1, dtype=torch.float64 if torch else None), [x])


def test_cumsum_dtype_argument_keeps_gradient(backend):
    x = random_arrays((2, 3))[0].astype(np.float32)
    check_grads(backend, lambda x: xpnet.cumsum(x, 1, dtype=xpnet.float64),
                lambda t: torch.cumsum(t, 1, dtype=torch.float64), [x], rtol=1e-6)


def test_logcumsumexp_is_exact_over_a_wide_range(backend):
    # A max-shift over the whole row would lose -1000 (exp(-1000 - 0) underflows to 0).
    x = np.array([[-1000.0, 0.0, -1000.0, 1000.0], [-np.inf, -np.inf, 0.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_forward(backend, *_pair("logcumsumexp", 1), [x])
    check_grads(backend, *_pair("logcumsumexp", 1), [x[:1]])


# -- cummax, cummin ----------------------------------------------------------------------------

def _both(name, dim):
    return (lambda x: tuple(getattr(xpnet, name)(x, dim)),
            lambda t: tuple(getattr(torch, name)(t, dim)))


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_match_torch(backend, name, dim):
    x = random_arrays(SHAPE)[0]
    check_forward(backend, *_both(name, dim), [x])
    check_grads(backend, lambda x: getattr(xpnet, name)(x, dim).values,
                lambda t: getattr(torch, name)(t, dim).values, [x])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_ties_and_nan_follow_torch(backend, name):
    x = np.array([[1.0, 3.0, 2.0, 3.0, 0.0, 3.0, 3.0], [1.0, 0.0, 2.0, 0.0, 0.0, -1.0, -1.0],
                  [1.0, np.nan, 2.0, np.nan, 5.0, 0.0, 7.0]])
    check_forward(backend, *_both(name, 1), [x])
    # Ties: the gradient goes to the later index, as torch's.
    check_grads(backend, lambda x: getattr(xpnet, name)(x, 1).values,
                lambda t: getattr(torch, name)(t, 1).values, [x[:2]])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_of_integers_and_zero_d_match_torch(backend, name):
    check_forward(backend, *_both(name, 0), [np.array([3, 1, 4, 1, 5, 9, 2, 6])])
    check_forward(backend, *_both(name, 0), [np.array(2.0)])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_gradcheck(backend, name):
    gradcheck(lambda x: getattr(xpnet, name)(x, 1).values, random_arrays((2, 5)))


def test_cummax_returns_named_tuple_on_device(backend):
    (x,) = to_xpnet(*random_arrays((2, 3)))
    out = xpnet.cummax(x, 1)
    assert type(out).__name__ == "cummax" and out._fields == ("values", "indices")
    assert out.indices.dtype is xpnet.int64
    assert_on_device(out.values, backend)
    assert_on_device(out.indices, backend)


# -- diff --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, dim", [(1, -1), (2, 0), (3, 1), (6, 2)], ids=str)
def test_diff_matches_torch(backend, n, dim):
    check_forward(backend, *_pair("diff", n, dim), random_arrays(SHAPE))
    check_grads(backend, *_pair("diff", n, dim), random_arrays(SHAPE))


def test_diff_with_prepend_append_matches_torch(backend):
    arrays = random_arrays((3, 4), (3, 1), (3, 2))
    fn = lambda x, p, a: xpnet.diff(x, 2, 1, p, a)  # noqa: E731
    torch_fn = lambda x, p, a: torch.diff(x, 2, 1, p, a)  # noqa: E731
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)
    gradcheck(fn, arrays)


def test_diff_of_bools_and_integers_matches_torch(backend):
    check_forward(backend, *_pair("diff"), [np.array([True, True, False, True])])
    check_forward(backend, *_pair("diff"), [np.array([[1, 4, 9], [0, 2, 2]])])


# -- methods, in-place, bad input --------------------------------------------------------------

@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "diff"])
def test_methods_match_functions(backend, name):
    (x,) = to_xpnet(*random_arrays((2, 3)))
    np.testing.assert_array_equal(getattr(x, name)(1).numpy(), getattr(xpnet, name)(x, 1).numpy())


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_inplace_scans_match_torch(backend, name):
    a = random_arrays((2, 3))[0]
    (x,) = to_xpnet(a, requires_grad=False)
    t = torch.tensor(a)
    assert getattr(x, name + "_")(1) is x
    getattr(t, name + "_")(1)
    assert_close(x, t)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: xpnet.cumsum(x), TypeError, r"cumsum: missing the dim to scan along"),
    (lambda x: xpnet.cumprod(x, 2), ValueError, "cumprod: axis 2 is out of range for a 2-D"),
    (lambda x: xpnet.cummax(x, 0, axis=1), TypeError, "cummax: got both axis=1 and dim=0"),
    (lambda x: xpnet.diff(x, -1), ValueError, "diff: n must be a non-negative int, got -1"),
    (lambda x: xpnet.diff(x, 1, 0, append=x[:, :1]), ValueError,
     r"diff: append of shape \(2, 1\) does not match input \(2, 3\) off dim 0"),
    (lambda x: xpnet.logcumsumexp(x.long(), 0), TypeError,
     "logcumsumexp: expected a floating-point tensor, got int64"),
    (lambda x: xpnet.cumsum([1.0], 0), TypeError, "cumsum: input must be a Tensor, got list"),
])
def test_bad_input_raises_clear_errors(backend, call, error, message):
    (x,) = to_xpnet(*random_arrays((2, 3)))
    with pytest.raises(error, match=message):
        call(x)
