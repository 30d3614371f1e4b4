"""Gather, scatter, masks and index assignment (xpnet/ops/scatter.py, xpnet/ops/assign.py),
against PyTorch.

Every case runs on every backend: values and gradients against torch on the same inputs, and
a float64 gradcheck. Repeated indices are in most cases, so the scatter-add kernel, the
last-write-wins rule and the segmented scans are all exercised.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")

SHAPE = (3, 4, 2)
_rng = np.random.default_rng(7)
# gather/scatter index along dim 1 with repeats; smaller than SHAPE on axis 2 as torch allows.
IDX_DIM1 = _rng.integers(0, 4, size=(3, 5, 1))
IDX_DIM0 = _rng.integers(0, 3, size=(2, 4, 2))
IDX_LAST = _rng.integers(0, 2, size=(3, 4, 3))
ROWS = np.array([3, 0, 3, 1])  # index_* along dim 1, repeated
UNIQUE_ROWS = np.array([2, 0])
MASK = _rng.uniform(size=SHAPE) > 0.5
ROW_MASK = np.array([[True], [False], [True]])[..., None]  # (3, 1, 1), broadcasts to SHAPE
_SETTINGS = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _x(*extra):
    return random_arrays(SHAPE, *extra)


def _distinct(*shapes, seed=3):
    """Arrays with no ties anywhere (amax/amin gradients are only smooth away from ties)."""
    sizes = [int(np.prod(s)) for s in shapes]
    values = np.random.default_rng(seed).permutation(sum(sizes)) / 7.0 - 3.0
    out, start = [], 0
    for s, n in zip(shapes, sizes):
        out.append(values[start:start + n].reshape(s))
        start += n
    return out


# id -> (xpnet function, torch function, arrays). The same callable serves both when only the
# method names are involved (xpnet's Tensor methods are torch's).
def _same(fn):
    return fn, fn


CASES = {
    "gather_dim1": (*_same(lambda x, i: x.gather(1, i)), [*_x(), IDX_DIM1]),
    "gather_dim0": (*_same(lambda x, i: x.gather(0, i)), [*_x(), IDX_DIM0]),
    "gather_negative_dim": (*_same(lambda x, i: x.gather(-1, i)), [*_x(), IDX_LAST]),
    "gather_function_dim_keyword": (lambda x, i: xpnet.gather(x, dim=1, index=i),
                                     lambda x, i: torch.gather(x, dim=1, index=i),
                                     [*_x(), IDX_DIM1]),
    "gather_0d": (*_same(lambda x, i: x.gather(0, i)), [np.array(1.5), np.array(0)]),
    "take_along_dim": (*_same(lambda x, i: x.take_along_dim(i, dim=1)),
                       [*_x(), _rng.integers(-4, 4, size=(3, 2, 2))]),
    "take_along_dim_broadcast": (*_same(lambda x, i: x.take_along_dim(i, 1)),
                                 [*random_arrays((3, 4, 1)), _rng.integers(0, 4, (1, 2, 2))]),
    "take_along_dim_flat": (*_same(lambda x, i: x.take_along_dim(i)),
                            [*_x(), np.array([[0, 23], [23, 5]])]),
    "scatter_src": (*_same(lambda x, i, s: x.scatter(1, i, s)),
                    [*_x(), _rng.permuted(np.tile(np.arange(4), (3, 2, 1)).transpose(0, 2, 1),
                                          axis=1)[:, :3, :], *random_arrays((3, 3, 2))]),
    "scatter_src_larger": (*_same(lambda x, i, s: x.scatter(0, i, s)),
                           [*_x(), np.array([[[1, 0]], [[0, 2]]]), *random_arrays((2, 4, 2))]),
    "scatter_value": (*_same(lambda x, i: x.scatter(1, i, 2.5)), [*_x(), IDX_DIM1]),
    "scatter_value_keyword": (lambda x, i: xpnet.scatter(x, 1, i, value=-1.0),
                              lambda x, i: torch.scatter(x, 1, i, value=-1.0), [*_x(), IDX_DIM1]),
    "scatter_add": (*_same(lambda x, i, s: x.scatter_add(1, i, s)),
                    [*_x(), IDX_DIM1, *random_arrays((3, 5, 1))]),
    "scatter_add_dim0": (*_same(lambda x, i, s: x.scatter_add(0, i, s)),
                         [*_x(), IDX_DIM0, *random_arrays((2, 4, 2))]),
    "index_select": (*_same(lambda x, i: x.index_select(1, i)), [*_x(), ROWS]),
    "index_select_0d_index": (*_same(lambda x, i: x.index_select(0, i)), [*_x(), np.array(2)]),
    "index_add": (*_same(lambda x, i, s: x.index_add(1, i, s, alpha=2.0)),
                  [*_x(), ROWS, *random_arrays((3, 4, 2))]),
    "index_add_dim0": (*_same(lambda x, i, s: x.index_add(0, i, s)),
                       [*_x(), np.array([2, 2]), *random_arrays((2, 4, 2))]),
    "index_copy": (*_same(lambda x, i, s: x.index_copy(1, i, s)),
                   [*_x(), UNIQUE_ROWS, *random_arrays((3, 2, 2))]),
    "index_fill": (*_same(lambda x, i: x.index_fill(1, i, -7.0)), [*_x(), np.array([-1, 0, 3])]),
    "index_fill_tensor_value": (*_same(lambda x, i, v: x.index_fill(2, i, v)),
                                [*_x(), np.array([1]), np.array(0.25)]),
    "masked_fill": (*_same(lambda x, m: x.masked_fill(m, 3.0)), [*_x(), MASK]),
    "masked_fill_broadcast": (*_same(lambda x, m: x.masked_fill(m, 0.5)), [*_x(), ROW_MASK]),
    "masked_fill_tensor_value": (*_same(lambda x, m, v: x.masked_fill(m, v)),
                                 [*_x(), MASK, np.array(-0.5)]),
    "masked_select": (*_same(lambda x, m: x.masked_select(m)), [*_x(), MASK]),
    "masked_select_broadcast": (lambda x, m: xpnet.masked_select(x, m),
                                lambda x, m: torch.masked_select(x, m),
                                [*random_arrays((3, 1, 2)), MASK]),
    "masked_scatter": (*_same(lambda x, m, s: x.masked_scatter(m, s)),
                       [*_x(), MASK, *random_arrays((5, 6))]),
    "masked_scatter_broadcast": (*_same(lambda x, m, s: x.masked_scatter(m, s)),
                                 [*_x(), ROW_MASK, *random_arrays((16,))]),
    "index_put": (*_same(lambda x, i, j, v: x.index_put((i, j), v)),
                  [*_x(), np.array([0, 2, 1]), np.array([3, 1, 1]), *random_arrays((3, 2))]),
    "index_put_accumulate": (*_same(lambda x, i, v: x.index_put((i,), v, accumulate=True)),
                             [*_x(), np.array([2, 0, 2]), *random_arrays((3, 4, 2))]),
}
_REDUCE_X, _REDUCE_SRC = _distinct(SHAPE, (3, 5, 1))
for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    for _self in (True, False):
        CASES[f"scatter_reduce_{_reduce}_{'with' if _self else 'without'}_self"] = (
            *_same(lambda x, i, s, r=_reduce, inc=_self: x.scatter_reduce(1, i, s, r,
                                                                          include_self=inc)),
            [_REDUCE_X, IDX_DIM1, _REDUCE_SRC])

# torch's backward of a src larger than the index returns a gradient of the index's shape and
# fails; ours pads it with zeros (checked by gradcheck).
NO_TORCH_GRADS = {"scatter_src_larger"}
# Repeated positions of a last-write-wins write: the overwritten value's true derivative is 0,
# but PyTorch (and xpnet) give it the position's gradient, so finite differences disagree.
DUPLICATE_WRITES = {"list_repeated", "array_2d", "arrays_repeated_scalar"}



@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_forward(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_TORCH_GRADS))
def test_grads_match_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(backend, name):
    fn, _, arrays = CASES[name]
    gradcheck(fn, arrays)


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast_paths", "generic_twin"])
def test_gather_grads_accumulate_with_and_without_fast_paths(backend, fast_paths):
    fn, torch_fn, arrays = CASES["gather_dim1"]
    with xpnet.use_fast_paths(fast_paths):
        check_grads(backend, fn, torch_fn, arrays)


def test_scatter_reduce_amax_ties_share_the_gradient_as_torch(backend):
    x = np.array([1.0, 5.0, 2.0, 0.0])
    src = np.array([5.0, 3.0, 2.0, 2.0])
    index = np.array([1, 1, 2, 2])
    for include_self in (True, False):
        def fn(x, s, i=index, inc=include_self):
            i = xpnet.tensor(i) if isinstance(x, xpnet.Tensor) else torch.tensor(i)
            return x.scatter_reduce(0, i, s, "amax", include_self=inc)
        check_forward(backend, fn, fn, [x, src])
        check_grads(backend, fn, fn, [x, src])


def test_scatter_reduce_prod_with_zeros_matches_torch(backend):
    def fn(x, s):
        i = xpnet.tensor([1, 1, 2, 2, 2]) if isinstance(x, xpnet.Tensor) else \
            torch.tensor([1, 1, 2, 2, 2])
        return x.scatter_reduce(0, i, s, "prod")
    arrays = [np.array([1.0, 5.0, 2.0, 0.5]), np.array([0.0, 3.0, 2.0, 0.0, 4.0])]
    check_forward(backend, fn, fn, arrays)
    check_grads(backend, fn, fn, arrays)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_on_integers_matches_torch(backend, reduce):
    x = np.array([-1, 4, 0, 7])
    src = np.array([-3, -4, 5, 2, 9])
    index = np.array([0, 0, 1, 1, 1])
    for include_self in (True, False):
        got = xpnet.tensor(x).scatter_reduce(0, xpnet.tensor(index), xpnet.tensor(src), reduce,
                                             include_self=include_self)
        want = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(src), reduce,
                                              include_self=include_self)
        assert got.dtype is xpnet.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_scatter_last_write_wins(backend):
    x = xpnet.zeros(4, dtype="float64")
    got = x.scatter(0, xpnet.tensor([1, 3, 1, 1]), xpnet.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(got.numpy(), [0.0, 4.0, 0.0, 2.0])


def test_empty_index_returns_a_copy(backend):
    x = xpnet.tensor(np.ones((2, 3)))
    empty = xpnet.zeros(2, 0, dtype="int64")
    for out in (x.scatter(1, empty, 5.0), x.scatter_add(1, empty, xpnet.zeros(2, 0)),
                x.index_add(0, xpnet.tensor([], dtype="int64"), xpnet.zeros(0, 3)),
                x.gather(1, empty)):
        assert out is not x
        assert_on_device(out, backend)
    assert x.gather(1, empty).shape == (2, 0)


def test_masked_fill_keeps_integer_dtype_and_truncates_as_torch(backend):
    mask = np.array([True, False, True])
    got = xpnet.tensor([1, 2, 3]).masked_fill(xpnet.tensor(mask), 2.7)
    want = torch.tensor([1, 2, 3]).masked_fill(torch.tensor(mask), 2.7)
    assert got.dtype is xpnet.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# -- setitem -----------------------------------------------------------------------------------

_SET_MASK_2D = np.array([[True, False, True, True], [False, False, False, True], [True] * 4])

# id -> (key, value shape or None for a Python scalar, the same assignment in torch when it
# differs: torch has no negative steps, which index lists express).
SET_KEYS = {
    "int": (1, (4, 2), None),
    "negative_int_scalar": (-1, None, None),
    "ints": ((1, 2), (2,), None),
    "slice_broadcast_leading_ones": (slice(1, 3), (1, 1, 4, 2), None),
    "slice_step": ((slice(None), slice(0, 4, 2)), (2,), None),
    "none": ((None, 1), (1, 4, 2), None),
    "ellipsis": ((Ellipsis, 0), (3, 4), None),
    "full": (Ellipsis, (4, 1), None),
    "negative_step": (slice(None, None, -1), (3, 4, 2), [2, 1, 0]),
    "negative_step_partial": ((slice(None), slice(3, 0, -2)), (3, 2, 2),
                              (slice(None), [3, 1])),
    "list_repeated": ([0, 2, 0], (3, 4, 2), None),
    "arrays": (([0, 1, 1], [1, 0, 3]), (3, 2), None),
    "arrays_repeated_scalar": (([0, 0], [1, 1]), None, None),
    "arrays_non_adjacent": (([0, 2], slice(None), [1, 0]), (2, 4), None),
    "array_2d": (np.array([[0, 2], [1, 2]]), (2, 2, 4, 2), None),
    "mask": (MASK, None, None),
    "mask_values": (MASK, (int(MASK.sum()),), None),
    "mask_first_axis": (np.array([True, False, True]), (4, 2), None),
    "mask_two_axes": (_SET_MASK_2D, (2,), None),
    "mask_and_int": ((np.array([True, False, True]), 1), (2, 2), None),
    "empty_list": ([], None, None),
}


def _setitem_case(name):
    key, value_shape, torch_key = SET_KEYS[name]
    torch_key = key if torch_key is None else torch_key

    def ours(x, v=1.25):
        y = x * 1  # a non-leaf: the assignment is recorded
        y[key] = v
        return y

    def theirs(x, v=1.25):
        y = x.clone()
        k = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in torch_key) \
            if isinstance(torch_key, tuple) else (torch.tensor(torch_key)
                                                   if isinstance(torch_key, np.ndarray)
                                                   else torch_key)
        y[k] = v
        return y

    arrays = _x() if value_shape is None else _x(value_shape)
    return ours, theirs, arrays


@pytest.mark.parametrize("name", sorted(SET_KEYS))
def test_setitem_matches_torch(backend, name):
    check_forward(backend, *_setitem_case(name))


@pytest.mark.parametrize("name", sorted(SET_KEYS))
def test_setitem_grads_match_torch(backend, name):
    check_grads(backend, *_setitem_case(name))


@pytest.mark.parametrize("name", sorted(set(SET_KEYS) - {"empty_list"} - DUPLICATE_WRITES))
def test_setitem_gradcheck(backend, name):
    ours, _, arrays = _setitem_case(name)
    gradcheck(ours, arrays)


def test_setitem_casts_the_value_to_the_tensor_dtype(backend):
    x = xpnet.zeros(2, 3, dtype="int32")
    x[0, 1:] = 2.9
    x[1] = xpnet.tensor([1.5, -2.5, 3.0])
    assert x.dtype is xpnet.int32
    np.testing.assert_array_equal(x.numpy(), [[0, 2, 2], [1, -2, 3]])


def test_setitem_with_a_zero_d_tensor_index(backend):
    x = xpnet.zeros(3, dtype="float64")
    x[xpnet.tensor(1)] = 5.0
    np.testing.assert_array_equal(x.numpy(), [0.0, 5.0, 0.0])


def test_setitem_augmented_assignment_through_a_mask(backend):
    (a,) = _x()
    x = xpnet.tensor(a)
    x[x > 0] += 1
    want = a.copy()
    want[want > 0] += 1
    assert_close(x, want)


def test_setitem_is_seen_through_data_and_detach(backend):
    x = xpnet.tensor(np.zeros(4))
    views = (x.data, x.detach())
    x[1:3] = 7.0
    for v in views:
        np.testing.assert_array_equal(v.numpy(), [0.0, 7.0, 7.0, 0.0])


def test_setitem_chain_of_writes_on_a_non_leaf_matches_torch(backend):
    def fn(x, v):
        y = x * 2
        y[0, :, 1] = v[0]
        y[[2, 2], [1, 3]] = v[1:3]
        y[y > 1] = v[3]
        return y.sum(1) if isinstance(y, xpnet.Tensor) else y.sum(1)
    arrays = _x((6,))
    check_forward(backend, fn, fn, arrays)
    check_grads(backend, fn, fn, arrays)


def test_setitem_refused_on_a_leaf_that_requires_grad(backend):
    x = xpnet.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        x[0] = 1.0
    with xpnet.no_grad():
        x[0] = 1.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 0.0, 0.0])


@_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       count=st.integers(0, 6), seed=st.integers(0, 2**16))
def test_setitem_integer_arrays_over_random_shapes(backend, shape, count, seed):
    """Random integer-array keys (repeats included) on random shapes, against NumPy's own
    assignment (last write wins for both) and torch's gradients."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    axes = rng.integers(1, len(shape) + 1)
    key = tuple(rng.integers(-n, n, count) for n in shape[:axes])
    (a, v) = random_arrays(shape, (count,) + shape[axes:], seed=seed)
    x = xpnet.tensor(a)
    x[tuple(xpnet.tensor(k) for k in key)] = xpnet.tensor(v)
    want = a.copy()
    want[key] = v
    assert_close(x, want)

    def fn(x, v):
        y = x * 1
        y[tuple((xpnet.tensor(k) if isinstance(x, xpnet.Tensor) else torch.tensor(k))
                for k in key)] = v
        return y
    check_grads(backend, fn, fn, [a, v])


# -- hypothesis: gather and scatter over random shapes -------------------------------------------

@st.composite
def _gather_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    dim = draw(st.integers(-ndim, ndim - 1))
    index_shape = tuple(draw(st.integers(0 if d == dim % ndim else 1, n + (d == dim % ndim)))
                        for d, n in enumerate(shape))
    seed = draw(st.integers(0, 2**16))
    return shape, dim, index_shape, seed


@_SETTINGS
@given(case=_gather_case())
def test_gather_and_scatter_over_random_shapes(backend, case):
    shape, dim, index_shape, seed = case
    rng = np.random.default_rng(seed)
    index = rng.integers(0, shape[dim], index_shape)
    x, src = random_arrays(shape, index_shape, seed=seed)

    def fns(method):
        def fn(x, i, *rest):
            return getattr(x, method)(dim, i, *rest)
        return fn
    check_forward(backend, fns("gather"), fns("gather"), [x, index])
    check_grads(backend, fns("gather"), fns("gather"), [x, index])
    check_forward(backend, fns("scatter_add"), fns("scatter_add"), [x, index, src])
    check_grads(backend, fns("scatter_add"), fns("scatter_add"), [x, index, src])
    for reduce in ("mean", "amax"):
        def fn(x, i, s, r=reduce):
            return x.scatter_reduce(dim, i, s, r, include_self=False)
        check_forward(backend, fn, fn, [x, index, src])


# -- in-place forms ----------------------------------------------------------------------------

# id -> (method name, arguments after self as a function of the backend's tensors)
INPLACE = {
    "masked_fill_": lambda: (xpnet.tensor(MASK), 2.0),
    "scatter_": lambda: (1, xpnet.tensor(IDX_DIM1), 0.5),
    "scatter_add_": lambda: (1, xpnet.tensor(IDX_DIM1), xpnet.tensor(np.ones((3, 5, 2)))),
    "scatter_reduce_": lambda: (1, xpnet.tensor(IDX_DIM1), xpnet.tensor(np.ones((3, 5, 2))),
                                "amax"),
    "index_add_": lambda: (1, xpnet.tensor(ROWS), xpnet.tensor(np.ones((3, 4, 2)))),
    "index_fill_": lambda: (0, xpnet.tensor([1]), -1.0),
    "index_copy_": lambda: (1, xpnet.tensor(UNIQUE_ROWS), xpnet.tensor(np.ones((3, 2, 2)))),
    "masked_scatter_": lambda: (xpnet.tensor(MASK), xpnet.tensor(np.arange(24.0))),
    "index_put_": lambda: ((xpnet.tensor([0, 2]),), xpnet.tensor(np.ones((4, 2)))),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_returns_self_and_updates_shared_values(backend, name):
    (a,) = _x()
    x = xpnet.tensor(a)
    data, detached = x.data, x.detach()
    args = INPLACE[name]()
    want = getattr(torch.tensor(a), name)(*(torch.from_numpy(v.numpy()) if isinstance(
        v, xpnet.Tensor) else (tuple(torch.from_numpy(w.numpy()) for w in v)
                               if isinstance(v, tuple) else v) for v in args))
    assert getattr(x, name)(*args) is x
    assert_on_device(x, backend)
    for t in (x, data, detached):
        assert_close(t, want)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_refused_on_a_leaf_that_requires_grad(backend, name):
    x = xpnet.tensor(_x()[0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        getattr(x, name)(*INPLACE[name]())


def test_inplace_scatter_on_a_non_leaf_matches_torch(backend):
    def fn(x, i, s):
        y = x * 2
        y.scatter_(1, i, s)
        y.masked_fill_(y > 1, 0.0)
        return y
    arrays = [*_x(), IDX_DIM1, *random_arrays((3, 5, 1), seed=2)]
    check_forward(backend, fn, fn, arrays)
    check_grads(backend, fn, fn, arrays)


# -- bad input ---------------------------------------------------------------------------------

def _t(a):
    return xpnet.tensor(np.asarray(a))


BAD = {
    "gather_out_of_range": (lambda x: x.gather(1, _t(np.full((3, 1, 2), 4))), IndexError,
                            r"gather: index out of range for dimension 1 of size 4: expected "
                            r"values in \[0, 4\), got values from 4 to 4"),
    "gather_negative": (lambda x: x.gather(1, _t(np.full((3, 1, 2), -1))), IndexError,
                        r"gather: index out of range for dimension 1 of size 4"),
    "gather_ndim": (lambda x: x.gather(1, _t([0, 1])), ValueError,
                    r"gather: index must have as many dimensions as input \(3\), got shape "
                    r"\(2,\)"),
    "gather_too_large": (lambda x: x.gather(1, _t(np.zeros((4, 1, 2), dtype=np.int64))),
                         ValueError, r"gather: index of shape \(4, 1, 2\) must be no larger "
                                     r"than input of shape \(3, 4, 2\)"),
    "gather_float_index": (lambda x: x.gather(1, _t(np.zeros((3, 1, 2)))), TypeError,
                           "gather: index must have an integer dtype, got float64"),
    "gather_bad_dim": (lambda x: x.gather(3, _t(np.zeros((3, 1, 2), dtype=np.int64))),
                       ValueError, "gather: axis 3 is out of range for a 3-D tensor"),
    "gather_index_type": (lambda x: x.gather(1, "0"), TypeError,
                          "gather: index must be a Tensor of integers, got str"),
    "scatter_src_too_small": (lambda x: x.scatter(1, _t(np.zeros((3, 2, 2), dtype=np.int64)),
                                                  xpnet.ones(3, 1, 2)),
                              ValueError, r"scatter: index of shape \(3, 2, 2\) must be no "
                                          r"larger than src"),
    "scatter_missing_src": (lambda x: xpnet.scatter(x, 1, _t(IDX_DIM1)), TypeError,
                            "scatter: expected src"),
    "scatter_reduce_name": (lambda x: x.scatter_reduce(1, _t(IDX_DIM1), xpnet.ones(3, 5, 2),
                                                       "max"),
                            ValueError, "scatter_reduce: reduce must be one of 'sum', 'prod', "
                                        "'mean', 'amax', 'amin', got 'max'"),
    "index_select_2d": (lambda x: x.index_select(0, _t([[0]])), ValueError,
                        r"index_select: index must be 1-D or 0-d, got shape \(1, 1\)"),
    "index_select_negative": (lambda x: x.index_select(0, _t([-1])), IndexError,
                              r"index_select: index out of range for dimension 0 of size 3"),
    "index_add_source_shape": (lambda x: x.index_add(1, _t([0]), xpnet.ones(3, 2, 2)),
                               ValueError, r"index_add: source must have shape \(3, 1, 2\)"),
    "index_copy_out_of_range": (lambda x: x.index_copy(0, _t([3]), xpnet.ones(1, 4, 2)),
                                IndexError, "index_copy: index out of range for dimension 0"),
    "masked_fill_not_bool": (lambda x: x.masked_fill(_t(np.ones(SHAPE)), 0.0), TypeError,
                             "masked_fill: mask must have dtype bool, got float64"),
    "masked_fill_shape": (lambda x: x.masked_fill(_t(np.ones((4, 4, 2), bool)), 0.0),
                          ValueError, r"masked_fill: mask of shape \(4, 4, 2\) cannot be "
                                      r"broadcast to input's shape \(3, 4, 2\)"),
    "masked_fill_vector_value": (lambda x: x.masked_fill(_t(MASK), xpnet.ones(2)), ValueError,
                                 r"masked_fill: value must be a number or a 0-d Tensor, got a "
                                 r"Tensor of shape \(2,\)"),
    "masked_fill_value_type": (lambda x: x.masked_fill(_t(MASK), "a"), TypeError,
                               "masked_fill: value must be a number or a 0-d Tensor, got str"),
    "masked_scatter_short": (lambda x: x.masked_scatter(_t(MASK), xpnet.ones(2)), ValueError,
                             rf"masked_scatter: mask has {int(MASK.sum())} True entries but "
                             rf"source has only 2 elements"),
    "take_along_dim_ndim": (lambda x: x.take_along_dim(_t([0]), 1), ValueError,
                            r"take_along_dim: indices must have as many dimensions as input"),
    "setitem_out_of_range": (lambda x: x.__setitem__((0, 4), 1.0), IndexError,
                             "setitem: index 4 is out of range for axis 1 of size 4"),
    "setitem_array_out_of_range": (lambda x: x.__setitem__([3], 1.0), IndexError,
                                   "setitem: index out of range for axis 0 of size 3"),
    "setitem_too_many": (lambda x: x.__setitem__((0, 0, 0, 0), 1.0), IndexError,
                         r"setitem: too many indices for a tensor of shape \(3, 4, 2\)"),
    "setitem_value_shape": (lambda x: x.__setitem__(0, xpnet.ones(3)), ValueError,
                            r"setitem: cannot assign a value of shape \(3,\) to a selection of "
                            r"shape \(4, 2\)"),
    "setitem_value_type": (lambda x: x.__setitem__(0, "a"), TypeError,
                           "setitem: value must be a Tensor or a number, got str"),
    "index_put_indices_type": (lambda x: x.index_put(_t([0]), 1.0), TypeError,
                               "index_put: indices must be a tuple of Tensors, got Tensor"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises(backend, name):
    fn, error, message = BAD[name]
    x = xpnet.tensor(_x()[0])
    with pytest.raises(error, match=message):
        fn(x)
        x.numpy()  # on a device an index check reports at the next synchronisation


def test_index_on_another_backend_is_refused():
    x = xpnet.tensor(np.ones(3), backend="numpy")
    index = xpnet.tensor([0], backend="array_api_strict")
    with pytest.raises(ValueError, match="index_select: index is on array_api_strict, the "
                                         "tensor on numpy"):
        x.index_select(0, index)


def test_top_level_names_and_methods_are_bound():
    for name in ("gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
                 "index_add", "index_fill", "index_copy", "index_put", "masked_fill",
                 "masked_select", "masked_scatter", "take_along_dim"):
        assert getattr(xpnet, name) is getattr(xpnet.Tensor, name)
    assert xpnet.Tensor.__setitem__ is xpnet.ops.setitem
