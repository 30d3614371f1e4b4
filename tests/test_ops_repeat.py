"""Repeat, roll, narrow, triangles and diagonals (xpnet/ops/repeat.py), against PyTorch.

Every case runs on every backend: values and gradients against torch on the same inputs, and
a float64 gradcheck; random shapes for repeat/tile/roll/repeat_interleave through hypothesis.
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
_SETTINGS = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _x(shape=SHAPE):
    return random_arrays(shape)


def _same(fn):
    return fn, fn


def _lib(x):
    """The module whose functions take x: xpnet for xpnet tensors, else torch."""
    return xpnet if isinstance(x, xpnet.Tensor) else torch


def _index(x, values):
    return _lib(x).tensor(values)


# id -> (xpnet function, torch function, arrays); one callable serves both where the method
# and function names are torch's.
CASES = {
    "narrow": (*_same(lambda x: x.narrow(1, -3, 2)), _x()),
    "narrow_function": (*_same(lambda x: _lib(x).narrow(x, dim=2, start=1, length=1)), _x()),
    "narrow_tensor_start": (*_same(lambda x: x.narrow(0, _index(x, 1), 2)), _x()),
    "select": (*_same(lambda x: x.select(-1, 1)), _x()),
    "select_negative_index": (*_same(lambda x: x.select(0, -3)), _x()),
    "unbind": (*_same(lambda x: x.unbind(1)), _x()),
    "unbind_function": (*_same(lambda x: _lib(x).unbind(x, dim=-1)), _x()),
    "movedim": (*_same(lambda x: x.movedim((0, 1), (2, 0))), _x()),
    "moveaxis": (*_same(lambda x: _lib(x).moveaxis(x, -1, 0)), _x()),
    "repeat": (*_same(lambda x: x.repeat(2, 1, 3)), _x()),
    "repeat_tuple_extra_dims": (*_same(lambda x: x.repeat((2, 1, 1, 2))), _x()),
    "repeat_zero": (*_same(lambda x: x.repeat(1, 0, 2)), _x()),
    "repeat_0d": (*_same(lambda x: x.repeat(3, 2)), [np.array(1.5)]),
    "tile_fewer_dims": (*_same(lambda x: x.tile(2)), _x()),
    "tile_function": (*_same(lambda x: _lib(x).tile(x, (2, 1, 1, 2))), _x()),
    "repeat_interleave_int": (*_same(lambda x: x.repeat_interleave(2, dim=1)), _x()),
    "repeat_interleave_flat": (*_same(lambda x: _lib(x).repeat_interleave(x, 3)), _x()),
    "repeat_interleave_tensor": (*_same(lambda x: x.repeat_interleave(_index(x, [2, 0, 3]),
                                                                     dim=0, output_size=5)),
                                 _x()),
    "repeat_interleave_one_element_tensor": (
        *_same(lambda x: x.repeat_interleave(_index(x, [2]), dim=-1)), _x()),
    "roll": (*_same(lambda x: x.roll((1, -2), (0, 1))), _x()),
    "roll_flat": (*_same(lambda x: x.roll(5)), _x()),
    "roll_function_large_shift": (*_same(lambda x: _lib(x).roll(x, shifts=-7, dims=1)), _x()),
    "tril": (*_same(lambda x: x.tril()), _x((4, 3))),
    "tril_batched_offset": (*_same(lambda x: x.tril(1)), _x((2, 3, 4))),
    "triu": (*_same(lambda x: x.triu()), _x((3, 4))),
    "triu_negative_offset": (*_same(lambda x: _lib(x).triu(x, diagonal=-1)), _x((2, 4, 3))),
    "diag_vector": (*_same(lambda x: _lib(x).diag(x)), _x((3,))),
    "diag_vector_offset": (*_same(lambda x: x.diag(-2)), _x((3,))),
    "diag_matrix": (*_same(lambda x: x.diag()), _x((3, 4))),
    "diag_matrix_offset": (*_same(lambda x: x.diag(diagonal=2)), _x((3, 4))),
    "diagonal": (*_same(lambda x: x.diagonal()), _x()),
    "diagonal_offset_dims": (*_same(lambda x: x.diagonal(1, 2, 0)), _x()),
    "diagonal_negative_offset": (*_same(lambda x: _lib(x).diagonal(x, offset=-1, dim1=-2,
                                                                    dim2=-1)), _x()),
    "diag_embed": (*_same(lambda x: _lib(x).diag_embed(x)), _x((2, 3))),
    "diag_embed_offset_dims": (*_same(lambda x: x.diag_embed(1, 0, 2)), _x((2, 3))),
    "diag_embed_negative_offset": (*_same(lambda x: x.diag_embed(-2, 2, 1)), _x((2, 3))),
    "trace": (*_same(lambda x: x.trace()), _x((3, 4))),
    "fliplr": (*_same(lambda x: x.fliplr()), _x()),
    "flipud": (*_same(lambda x: _lib(x).flipud(x)), _x()),
}
EMPTY_OUTPUT = {"repeat_zero"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_forward(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads_match_torch(backend, name):
    fn, torch_fn, arrays = CASES[name]
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(set(CASES) - EMPTY_OUTPUT))
def test_gradcheck(backend, name):
    fn, _, arrays = CASES[name]
    gradcheck(fn, arrays)


EDGE_CASES = {
    "narrow_empty": lambda x: x.narrow(1, 4, 0),
    "diagonal_beyond_the_matrix": lambda x: x.diagonal(5),
    "diagonal_of_empty": lambda x: x[:0].diagonal(),
    "roll_empty": lambda x: x[:, :0].roll(1, 0),
    "roll_0d": lambda x: x[0, 0, 0].roll(3),
    "repeat_interleave_zero_counts": lambda x: x.repeat_interleave(_index(x, [0, 0, 0]), dim=0),
    "tile_empty": lambda x: x[:0].tile(2, 1),
    "unbind_size_one": lambda x: x[:1].unbind(0),
    "movedim_same": lambda x: x.movedim(1, 1),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_match_torch(backend, name):
    fn = EDGE_CASES[name]
    check_forward(backend, fn, fn, _x())
    check_grads(backend, fn, fn, _x())


def test_unbind_of_an_empty_axis_is_empty(backend):
    assert xpnet.zeros(2, 0).unbind(1) == ()


def test_trace_of_integers_is_int64(backend):
    got = xpnet.tensor(np.arange(12, dtype=np.int32).reshape(3, 4)).trace()
    want = torch.arange(12, dtype=torch.int32).reshape(3, 4).trace()
    assert got.dtype is xpnet.int64 and want.dtype == torch.int64
    assert got.item() == want.item()


def test_repeat_interleave_of_counts_alone(backend):
    got = xpnet.repeat_interleave(xpnet.tensor([2, 0, 1, 3]))
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(),
                                  torch.repeat_interleave(torch.tensor([2, 0, 1, 3])).numpy())


@pytest.mark.parametrize("fn_name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (3, 5, 1), (4, 2, -1), (0, 3, 0),
                                              (2, 4, 9), (4, 3, -9)])
def test_triangle_indices_match_torch(backend, fn_name, row, col, offset):
    got = getattr(xpnet, fn_name)(row, col, offset)
    want = getattr(torch, fn_name)(row, col, offset)
    assert_on_device(got, backend)
    assert got.dtype is xpnet.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_triangle_indices_take_dtype_and_device(backend):
    got = xpnet.tril_indices(3, 4, dtype=xpnet.int32, device="cpu")
    assert got.dtype is xpnet.int32
    assert got.device == "cpu"
    np.testing.assert_array_equal(got.numpy(),
                                  torch.tril_indices(3, 4, dtype=torch.int32).numpy())


def test_tril_indices_select_the_lower_triangle(backend):
    (a,) = _x((4, 4))
    x = xpnet.tensor(a)
    rows, cols = xpnet.tril_indices(4, 4)
    assert_close(x[rows, cols], a[np.tril_indices(4)])


# -- in-place forms ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_inplace_returns_self_and_updates_shared_values(backend, name):
    (a,) = _x((3, 4))
    x = xpnet.tensor(a)
    data, detached = x.data, x.detach()
    assert getattr(x, name)(1) is x
    want = getattr(torch.tensor(a), name)(1)
    assert_on_device(x, backend)
    for t in (x, data, detached):
        assert_close(t, want)


@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_inplace_on_a_non_leaf_matches_torch(backend, name):
    def fn(x):
        y = x * 3
        getattr(y, name)(-1)
        return y
    check_forward(backend, fn, fn, _x((4, 3)))
    check_grads(backend, fn, fn, _x((4, 3)))


def test_inplace_refused_on_a_leaf_that_requires_grad(backend):
    x = xpnet.tensor(_x((3, 3))[0], requires_grad=True)
    with pytest.raises(RuntimeError, match="tril_: a leaf tensor that requires grad"):
        x.tril_()


# -- hypothesis: random shapes -----------------------------------------------------------------

_shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)


@_SETTINGS
@given(shape=_shapes, reps=st.lists(st.integers(0, 3), min_size=0, max_size=4),
       seed=st.integers(0, 2**16))
def test_repeat_and_tile_over_random_shapes(backend, shape, reps, seed):
    (a,) = random_arrays(shape, seed=seed)
    tile = _same(lambda x: x.tile(tuple(reps)))
    check_forward(backend, *tile, [a])
    check_grads(backend, *tile, [a])
    if len(reps) >= len(shape):
        repeat = _same(lambda x: x.repeat(tuple(reps)))
        check_forward(backend, *repeat, [a])
        check_grads(backend, *repeat, [a])


@_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       data=st.data(), seed=st.integers(0, 2**16))
def test_roll_and_repeat_interleave_over_random_shapes(backend, shape, data, seed):
    (a,) = random_arrays(shape, seed=seed)
    ndim = len(shape)
    dims = tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                                    unique_by=lambda d: d % ndim)))
    shifts = tuple(data.draw(st.integers(-9, 9)) for _ in dims)
    roll = _same(lambda x: x.roll(shifts, dims))
    check_forward(backend, *roll, [a])
    check_grads(backend, *roll, [a])
    dim = dims[0]
    counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[dim], max_size=shape[dim]))
    interleave = _same(lambda x: x.repeat_interleave(_index(x, counts), dim=dim))
    check_forward(backend, *interleave, [a])
    check_grads(backend, *interleave, [a])


# -- bad input ---------------------------------------------------------------------------------

BAD = {
    "narrow_start": (lambda x: x.narrow(1, 5, 0), IndexError,
                     r"narrow: start out of range: expected a value in \[-4, 4\] for dimension "
                     r"1 of size 4, got 5"),
    "narrow_length": (lambda x: x.narrow(1, 3, 2), ValueError,
                      r"narrow: start \(3\) \+ length \(2\) must lie within dimension 1 of size "
                      r"4"),
    "narrow_float_start": (lambda x: x.narrow(1, 1.0, 2), TypeError,
                           "narrow: start must be an int, got float"),
    "select_index": (lambda x: x.select(1, 4), IndexError,
                     "select: index 4 is out of range for dimension 1 of size 4"),
    "select_dim": (lambda x: x.select(3, 0), ValueError,
                   "select: axis 3 is out of range for a 3-D tensor"),
    "unbind_0d": (lambda x: x[0, 0, 0].unbind(), ValueError, "unbind: cannot unbind a 0-d"),
    "movedim_lengths": (lambda x: x.movedim((0, 1), 2), ValueError,
                        "movedim: source and destination must have the same number of axes"),
    "movedim_repeated": (lambda x: x.movedim((0, 0), (1, 2)), ValueError,
                         "movedim: repeated axis in source"),
    "repeat_too_few": (lambda x: x.repeat(2, 2), ValueError,
                       r"repeat: expected at least 3 sizes \(one per dimension\), got 2: "
                       r"\(2, 2\)"),
    "repeat_negative": (lambda x: x.repeat(1, -1, 1), ValueError,
                        r"repeat: repeats must be non-negative, got \(1, -1, 1\)"),
    "tile_type": (lambda x: x.tile(2.0), TypeError, "tile: dims must be an int, got float"),
    "repeat_interleave_negative": (lambda x: x.repeat_interleave(-1), ValueError,
                                   "repeat_interleave: repeats must be non-negative, got -1"),
    "repeat_interleave_counts": (lambda x: x.repeat_interleave(_index(x, [1, 2]), dim=0),
                                 ValueError, r"repeat_interleave: repeats must be an int or "
                                             r"1-D with one count per slice along dim 0 \(3\), "
                                             r"got shape \(2,\)"),
    "repeat_interleave_negative_counts": (
        lambda x: x.repeat_interleave(_index(x, [1, -2, 1]), dim=0), ValueError,
        "repeat_interleave: repeats must be non-negative"),
    "repeat_interleave_output_size": (lambda x: x.repeat_interleave(2, dim=0, output_size=5),
                                      ValueError, "repeat_interleave: output_size=5 does not "
                                                  "match the repeated length 6"),
    "repeat_interleave_float_counts": (lambda x: x.repeat_interleave(xpnet.ones(3), dim=0),
                                       TypeError, "repeat_interleave: repeats must have an "
                                                  "integer dtype, got float32"),
    "roll_lengths": (lambda x: x.roll((1, 2), 0), ValueError,
                     r"roll: shifts and dims must have the same length, got \(1, 2\) and 0"),
    "roll_flat_tuple": (lambda x: x.roll((1, 2)), ValueError,
                        "roll: with dims=None, shifts must be a single int"),
    "tril_1d": (lambda x: x[0, 0].tril(), ValueError,
                "tril: expected a tensor of at least 2 dimensions, got 1"),
    "triu_diagonal_type": (lambda x: x.triu(0.5), TypeError,
                           "triu: diagonal must be an int, got float"),
    "diag_3d": (lambda x: x.diag(), ValueError,
                r"diag: expected a 1-D or 2-D tensor, got 3-D of shape \(3, 4, 2\)"),
    "diagonal_same_dims": (lambda x: x.diagonal(0, 1, -2), ValueError,
                           "diagonal: dim1 and dim2 must differ, both are 1"),
    "diag_embed_0d": (lambda x: x[0, 0, 0].diag_embed(), ValueError,
                      "diag_embed: expected a tensor of at least 1 dimension, got 0"),
    "trace_3d": (lambda x: x.trace(), ValueError, "trace: expected a 2-D tensor, got 3-D"),
    "fliplr_1d": (lambda x: x[0, 0].fliplr(), ValueError,
                  "fliplr: expected a tensor of at least 2 dimensions, got 1"),
    "not_a_tensor": (lambda x: xpnet.roll([1, 2], 1), TypeError,
                     "roll: input must be a Tensor, got list"),
    "tril_indices_dtype": (lambda x: xpnet.tril_indices(3, 3, dtype=xpnet.float32), TypeError,
                           "tril_indices: dtype must be an integer dtype, got float32"),
    "triu_indices_negative": (lambda x: xpnet.triu_indices(-1, 3), ValueError,
                              "triu_indices: row and col must be non-negative, got -1 and 3"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises(backend, name):
    fn, error, message = BAD[name]
    x = xpnet.tensor(_x()[0])
    with pytest.raises(error, match=message):
        fn(x)


def test_top_level_names_and_methods_are_bound():
    for name in ("narrow", "select", "unbind", "movedim", "moveaxis", "repeat_interleave",
                 "roll", "tril", "triu", "diag", "diagonal", "diag_embed", "trace", "fliplr",
                 "flipud"):
        assert getattr(xpnet, name) is getattr(xpnet.Tensor, name)
    assert xpnet.Tensor.repeat is xpnet.repeat and xpnet.Tensor.tile is xpnet.tile
