"""Sorting and ranking (xpnet/ops/sorting.py, xpnet/ops/counting.py): values, indices and
gradients against PyTorch.

Inputs where indices are compared have no ties (a shuffled range); tie rules are tested
separately, where PyTorch documents or consistently shows one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet

from .conftest import BACKENDS, assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPE = (3, 4, 5)


def _distinct(shape, seed=0):
    """Values without ties, so indices are unambiguous."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(int(np.prod(shape)))).reshape(shape) * 0.25 - 3.0


def _both(fn, torch_fn):
    """The pair as tuples (named tuples compare field by field)."""
    return (lambda *x: tuple(fn(*x)), lambda *t: tuple(torch_fn(*t)))


def _values(fn, torch_fn):
    return (lambda *x: fn(*x)[0], lambda *t: torch_fn(*t)[0])


# -- sort, argsort, msort ----------------------------------------------------------------------

@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_matches_torch(backend, dim, descending):
    fn = lambda x: xpnet.sort(x, dim, descending)  # noqa: E731
    torch_fn = lambda t: torch.sort(t, dim, descending)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [_distinct(SHAPE)])
    check_grads(backend, *_values(fn, torch_fn), [_distinct(SHAPE)])


def test_sort_gradcheck(backend):
    gradcheck(lambda x: xpnet.sort(x, 1, descending=True).values, [_distinct((2, 3, 2))])


def test_sort_returns_named_tuple_on_device(backend):
    (x,) = to_xpnet(_distinct((2, 3)))
    out = xpnet.sort(x)
    assert type(out).__name__ == "sort" and out._fields == ("values", "indices")
    values, indices = out
    assert indices.dtype is xpnet.int64 and not indices.requires_grad
    assert_on_device(values, backend)
    assert_on_device(indices, backend)


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_input_order_of_ties_as_torch(backend, descending):
    x = np.array([[1.0, 2.0, 1.0, 2.0, 0.0, 1.0], [3.0, 3.0, 3.0, 1.0, 1.0, 3.0]])
    fn = lambda x: xpnet.sort(x, stable=True, descending=descending)  # noqa: E731
    torch_fn = lambda t: torch.sort(t, stable=True, descending=descending)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [x])
    check_grads(backend, *_values(fn, torch_fn), [x])


@pytest.mark.parametrize("descending", [False, True])
def test_sort_puts_nan_where_torch_does(backend, descending):
    x = np.array([1.0, np.nan, 3.0, np.nan, 0.0])
    check_forward(backend, *_both(lambda x: xpnet.sort(x, descending=descending),
                                  lambda t: torch.sort(t, descending=descending)), [x])


def test_sort_of_integers_and_bools_matches_torch(backend):
    for x in (np.array([[3, 1, 2], [0, 5, 4]]), np.array([True, False, True, False])):
        check_forward(backend, *_both(lambda x: xpnet.sort(x, stable=True),
                                      lambda t: torch.sort(t, stable=True)), [x])


def test_sort_of_zero_d_matches_torch(backend):
    check_forward(backend, *_both(lambda x: xpnet.sort(x, 0), lambda t: torch.sort(t, 0)),
                  [np.array(2.5)])


def test_argsort_and_msort_match_torch(backend):
    x = _distinct(SHAPE)
    check_forward(backend, lambda x: xpnet.argsort(x, 1, True),
                  lambda t: torch.argsort(t, 1, True), [x])
    check_forward(backend, xpnet.msort, torch.msort, [x])
    check_grads(backend, xpnet.msort, torch.msort, [x])


def test_sort_accepts_axis_keyword(backend):
    (x,) = to_xpnet(_distinct(SHAPE))
    np.testing.assert_array_equal(xpnet.sort(x, axis=1).indices.numpy(),
                                  xpnet.sort(x, dim=1).indices.numpy())


@pytest.mark.parametrize("backend_name", BACKENDS[:4])
@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_sort_and_topk_match_torch_over_shapes(backend_name, shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    descending = data.draw(st.booleans())
    x = _distinct(tuple(shape), seed=data.draw(st.integers(0, 100)))
    with xpnet.use_backend(backend_name):
        check_forward(backend_name, *_both(lambda x: xpnet.sort(x, dim, descending),
                                           lambda t: torch.sort(t, dim, descending)), [x])
        fn = lambda x: xpnet.topk(x, k, dim, descending)  # noqa: E731
        torch_fn = lambda t: torch.topk(t, k, dim, descending)  # noqa: E731
        check_forward(backend_name, *_both(fn, torch_fn), [x])
        check_grads(backend_name, *_values(fn, torch_fn), [x])


# -- topk, kthvalue ----------------------------------------------------------------------------

@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k, dim", [(1, 0), (3, -1), (4, 1), (0, 2)], ids=str)
def test_topk_matches_torch(backend, k, dim, largest):
    fn = lambda x: xpnet.topk(x, k, dim, largest)  # noqa: E731
    torch_fn = lambda t: torch.topk(t, k, dim, largest)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [_distinct(SHAPE)])
    check_grads(backend, *_values(fn, torch_fn), [_distinct(SHAPE)])


def test_topk_gradcheck(backend):
    gradcheck(lambda x: xpnet.topk(x, 2, largest=False).values, [_distinct((2, 3, 4))])


def test_topk_values_with_ties_match_torch(backend):
    x = np.array([[1.0, 2.0, 1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    check_forward(backend, lambda x: xpnet.topk(x, 3).values, lambda t: torch.topk(t, 3).values,
                  [x])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("k, dim", [(1, 0), (2, -1), (4, 1)], ids=str)
def test_kthvalue_matches_torch(backend, k, dim, keepdim):
    fn = lambda x: xpnet.kthvalue(x, k, dim, keepdim)  # noqa: E731
    torch_fn = lambda t: torch.kthvalue(t, k, dim, keepdim)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [_distinct(SHAPE)])
    check_grads(backend, *_values(fn, torch_fn), [_distinct(SHAPE)])


def test_kthvalue_gradcheck(backend):
    gradcheck(lambda x: xpnet.kthvalue(x, 2, 0).values, [_distinct((3, 2))])


def test_kthvalue_values_with_ties_match_torch(backend):
    # Which tied index torch returns is unspecified (its quickselect's), so values only.
    x = np.array([2.0, 1.0, 2.0, 1.0, 2.0])
    for k in range(1, 6):
        check_forward(backend, lambda x: xpnet.kthvalue(x, k).values,
                      lambda t: torch.kthvalue(t, k).values, [x])


# -- median, nanmedian, mode -------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_everything_matches_torch(backend, name, shape):
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_forward(backend, fn, torch_fn, [_distinct(shape)])
    check_grads(backend, fn, torch_fn, [_distinct(shape)])


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_everything_shares_gradient_among_ties_as_torch(backend, name):
    x = np.array([1.0, 3.0, 3.0, 3.0, 0.0, 4.0])
    fn, torch_fn = getattr(xpnet, name), getattr(torch, name)
    check_grads(backend, fn, torch_fn, [x])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_with_dim_matches_torch(backend, name, dim, keepdim):
    fn = lambda x: getattr(xpnet, name)(x, dim, keepdim)  # noqa: E731
    torch_fn = lambda t: getattr(torch, name)(t, dim, keepdim)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [_distinct(SHAPE)])
    check_grads(backend, *_values(fn, torch_fn), [_distinct(SHAPE)])


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_gradcheck(backend, name):
    gradcheck(lambda x: getattr(xpnet, name)(x, 1).values, [_distinct((2, 4))])
    gradcheck(getattr(xpnet, name), [_distinct((2, 3))])


def test_median_with_nan_matches_torch(backend):
    x = np.array([[1.0, np.nan, 3.0, np.nan, 0.0], [4.0, 2.0, 1.0, 0.0, np.nan],
                  [1.0, 2.0, 5.0, 3.0, 4.0]])
    check_forward(backend, *_both(lambda x: xpnet.median(x, 1), lambda t: torch.median(t, 1)),
                  [x])
    check_forward(backend, xpnet.median, torch.median, [x])


def test_nanmedian_skips_nan_as_torch(backend):
    x = np.array([[1.0, np.nan, 3.0, np.nan, 0.0], [np.nan, 2.0, np.nan, 1.0, 5.0],
                  [1.0, 2.0, 5.0, 3.0, 4.0]])
    check_forward(backend, *_both(lambda x: xpnet.nanmedian(x, 1),
                                  lambda t: torch.nanmedian(t, 1)), [x])
    check_forward(backend, xpnet.nanmedian, torch.nanmedian, [x])
    # A row of NaN only: the value NaN (torch's index for it is unspecified).
    all_nan = np.array([[np.nan, np.nan], [1.0, np.nan]])
    check_forward(backend, lambda x: xpnet.nanmedian(x, 1).values,
                  lambda t: torch.nanmedian(t, 1).values, [all_nan])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_mode_matches_torch(backend, dim, keepdim):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(6, 7)).astype(np.float64)
    fn = lambda x: xpnet.mode(x, dim, keepdim)  # noqa: E731
    torch_fn = lambda t: torch.mode(t, dim, keepdim)  # noqa: E731
    check_forward(backend, *_both(fn, torch_fn), [x])
    check_grads(backend, *_values(fn, torch_fn), [x])


def test_mode_takes_smallest_value_and_last_index_as_torch(backend):
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 3.0], [5.0, 1.0, 5.0, 1.0, 1.0, 5.0],
                  [4.0, 4.0, 7.0, 7.0, 7.0, 4.0], [9.0, 8.0, 7.0, 6.0, 5.0, 4.0]])
    check_forward(backend, *_both(xpnet.mode, torch.mode), [x])
    check_forward(backend, *_both(xpnet.mode, torch.mode), [x.astype(np.int64)])


def test_mode_gradcheck(backend):
    gradcheck(lambda x: xpnet.mode(x, 0).values, [_distinct((3, 2))])


# -- unique ------------------------------------------------------------------------------------

UNIQUE_INPUTS = {
    "ints": np.array([[3, 1, 2], [1, 3, 3], [0, 2, 1]]),
    "floats": np.array([2.5, -1.0, 2.5, 0.0, -1.0, 7.0]),
    "bools": np.array([True, False, True]),
}


@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["plain", "inverse", "counts", "both"])
@pytest.mark.parametrize("name", sorted(UNIQUE_INPUTS))
def test_unique_matches_torch(backend, name, flags):
    inverse, counts = flags
    x = UNIQUE_INPUTS[name]
    check_forward(backend, lambda x: xpnet.unique(x, return_inverse=inverse, return_counts=counts),
                  lambda t: torch.unique(t, return_inverse=inverse, return_counts=counts), [x])


@pytest.mark.parametrize("dim", [0, 1])
def test_unique_with_dim_matches_torch(backend, dim):
    x = np.array([[1, 2, 1, 2], [0, 1, 0, 1], [1, 2, 1, 2], [0, 0, 0, 0]])
    check_forward(backend, lambda x: xpnet.unique(x, True, True, True, dim),
                  lambda t: torch.unique(t, True, True, True, dim), [x])


@pytest.mark.parametrize("dim", [None, 0, 1], ids=str)
def test_unique_consecutive_matches_torch(backend, dim):
    x = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 1, 1, 2], [1, 1, 2, 2]])
    check_forward(backend,
                  lambda x: xpnet.unique_consecutive(x, True, True, dim),
                  lambda t: torch.unique_consecutive(t, True, True, dim), [x])


def test_unique_of_empty_matches_torch(backend):
    x = np.zeros((0,), dtype=np.int64)
    check_forward(backend, lambda x: xpnet.unique(x, return_inverse=True, return_counts=True),
                  lambda t: torch.unique(t, return_inverse=True, return_counts=True), [x])


# -- bincount, histc, searchsorted, bucketize --------------------------------------------------

@pytest.mark.parametrize("weights_dtype", [None, np.float32, np.float64, np.int64], ids=str)
@pytest.mark.parametrize("minlength", [0, 9])
def test_bincount_matches_torch(backend, minlength, weights_dtype):
    x = np.array([0, 2, 2, 5, 1, 2])
    if weights_dtype is None:
        check_forward(backend, lambda x: xpnet.bincount(x, minlength=minlength),
                      lambda t: torch.bincount(t, minlength=minlength), [x])
        return
    w = np.array([0.5, 1.0, -2.0, 3.0, 1.0, 0.25]).astype(weights_dtype)
    if weights_dtype is np.int64:
        w = np.array([1, 2, 3, 4, 5, 6])
    check_forward(backend, lambda x, w: xpnet.bincount(x, w, minlength),
                  lambda t, w: torch.bincount(t, w, minlength), [x, w], rtol=1e-6)


def test_bincount_of_empty_matches_torch(backend):
    x = np.zeros((0,), dtype=np.int64)
    check_forward(backend, lambda x: xpnet.bincount(x, minlength=3),
                  lambda t: torch.bincount(t, minlength=3), [x])


@pytest.mark.parametrize("bins, lo, hi", [(4, 0, 3), (3, 0, 0), (10, -1.5, 2.0), (5, 2, 2)],
                         ids=str)
def test_histc_matches_torch(backend, bins, lo, hi):
    x = np.array([1.0, 2.0, 1.0, 4.0, 7.0, -1.0, 0.3, 3.0, 2.0])
    check_forward(backend, lambda x: xpnet.histc(x, bins, lo, hi),
                  lambda t: torch.histc(t, bins, lo, hi), [x])


def test_histc_of_constant_widens_the_range_as_torch(backend):
    check_forward(backend, lambda x: xpnet.histc(x, 4), lambda t: torch.histc(t, 4),
                  [np.array([2.0, 2.0])])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_matches_torch(backend, right):
    seq = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    values = np.array([[0.0, 2.0, 2.5], [5.0, 6.0, 1.0]])
    check_forward(backend, lambda s, v: xpnet.searchsorted(s, v, right=right),
                  lambda s, v: torch.searchsorted(s, v, right=right), [seq, values])
    side = "right" if right else "left"
    check_forward(backend, lambda s, v: xpnet.searchsorted(s, v, side=side, out_int32=True),
                  lambda s, v: torch.searchsorted(s, v, side=side, out_int32=True), [seq, values])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_of_rows_matches_torch(backend, right):
    seq = np.array([[1.0, 2.0, 2.0, 4.0], [0.0, 0.0, 3.0, 9.0]])
    values = np.array([[2.0, 0.5, 4.0], [0.0, 3.0, 10.0]])
    check_forward(backend, lambda s, v: xpnet.searchsorted(s, v, right=right),
                  lambda s, v: torch.searchsorted(s, v, right=right), [seq, values])


def test_searchsorted_with_sorter_and_scalar_match_torch(backend):
    seq = np.array([3.0, 1.0, 2.0, 5.0])
    sorter = np.array([1, 2, 0, 3])
    values = np.array([2.5, 0.0, 5.0])
    check_forward(backend, lambda s, v, i: xpnet.searchsorted(s, v, sorter=i),
                  lambda s, v, i: torch.searchsorted(s, v, sorter=i), [seq, values, sorter])
    check_forward(backend, lambda s: xpnet.searchsorted(s, 2), lambda s: torch.searchsorted(s, 2),
                  [np.array([1, 2, 3])])


@pytest.mark.parametrize("right", [False, True])
def test_bucketize_matches_torch(backend, right):
    boundaries = np.array([1.0, 3.0, 5.0, 7.0])
    x = np.array([[1.0, 6.0, 9.0], [3.0, 0.0, 5.0]])
    check_forward(backend, lambda x, b: xpnet.bucketize(x, b, right=right),
                  lambda x, b: torch.bucketize(x, b, right=right), [x, boundaries])


# -- methods -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args", [("sort", (1,)), ("argsort", ()), ("topk", (2,)),
                                        ("kthvalue", (2, 0)), ("median", (1,)), ("mode", ()),
                                        ("nanmedian", ()), ("msort", ()), ("unique", ())],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_tensor_methods_match_torch(backend, name, args):
    x = _distinct((3, 4))
    fn = lambda x: getattr(x, name)(*args)  # noqa: E731
    check_forward(backend, fn, fn, [x])


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: xpnet.topk(x, 5), ValueError,
     r"topk: k=5 is out of range for dimension 1 of size 4 \(shape \(3, 4\)\)"),
    (lambda x: xpnet.topk(x, 1.5), TypeError, "topk: k must be an int, got float"),
    (lambda x: xpnet.kthvalue(x, 0), ValueError,
     r"kthvalue: k=0 is out of range for dimension 1 of size 4; expected 1 <= k <= 4"),
    (lambda x: xpnet.sort(x, 2), ValueError, "sort: axis 2 is out of range for a 2-D tensor"),
    (lambda x: xpnet.sort(x, 0, axis=1), TypeError, "sort: got both axis=1 and dim=0"),
    (lambda x: xpnet.median(x, keepdim=True), TypeError, "median: keepdim needs a dim"),
    (lambda x: xpnet.sort([1.0]), TypeError, "sort: input must be a Tensor, got list"),
    (lambda x: xpnet.bincount(x), TypeError,
     r"bincount: input must be a 1-D integer tensor, got float64 of shape \(3, 4\)"),
    (lambda x: xpnet.histc(x, 0), ValueError, "histc: bins must be positive, got 0"),
    (lambda x: xpnet.searchsorted(x, x, side="middle"), ValueError,
     "searchsorted: side must be 'left' or 'right', got 'middle'"),
    (lambda x: xpnet.searchsorted(x, x[:, :2][:1, :]), ValueError,
     r"searchsorted: input must have the leading shape \(3,\)"),
    (lambda x: xpnet.bucketize(x, x), ValueError,
     r"bucketize: boundaries must be 1-D, got shape \(3, 4\)"),
])
def test_bad_input_raises_clear_errors(backend, call, error, message):
    (x,) = to_xpnet(_distinct((3, 4)))
    with pytest.raises(error, match=message):
        call(x)


def test_bincount_rejects_negative_values(backend):
    (x,) = to_xpnet(np.array([1, -2, 0]))
    with pytest.raises(ValueError, match="bincount: input must be non-negative, got -2"):
        xpnet.bincount(x)


def test_mode_rejects_empty_dim(backend):
    (x,) = to_xpnet(np.zeros((2, 0)))
    with pytest.raises(ValueError, match=r"mode: cannot reduce over an empty axis"):
        xpnet.mode(x)


def test_results_are_not_differentiable_where_torch_is_not(backend):
    (x,) = to_xpnet(*random_arrays((5,)))
    for out in (xpnet.argsort(x), xpnet.sort(x).indices, xpnet.unique(x),
                xpnet.searchsorted(xpnet.sort(x).values, x), xpnet.histc(x, 3)):
        assert not out.requires_grad
    assert_close(xpnet.sort(x).values, np.sort(x.numpy()))
