"""Layout helpers (xpnet/ops/layout.py) against PyTorch: splits, stacks, atleast_Nd, rot90,
broadcasting, meshgrid, cartesian_prod, combinations, block_diag, Tensor.unfold and the
in-place shape changes.

Every case runs on every backend: values and gradients against torch on the same inputs, and
a float64 gradcheck; random shapes for tensor_split, unfold, rot90 and meshgrid through
hypothesis.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")

_SETTINGS = settings(max_examples=10, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _x(*shapes):
    return random_arrays(*shapes)


def _same(fn):
    return fn, fn


def _lib(x):
    """The module whose functions take x: xpnet for xpnet tensors, else torch."""
    return xpnet if isinstance(x, xpnet.Tensor) else torch


def _index(x, values):
    return _lib(x).tensor(values)


# id -> (xpnet function, torch function, arrays); one callable serves both.
CASES = {
    "ravel": (*_same(lambda x: _lib(x).ravel(x)), _x((2, 3))),
    "ravel_method_0d": (*_same(lambda x: x.ravel()), [np.array(1.5)]),
    "unflatten": (*_same(lambda x: _lib(x).unflatten(x, 1, (2, 2))), _x((3, 4))),
    "unflatten_method_inferred": (*_same(lambda x: x.unflatten(-1, (-1, 2, 1))), _x((3, 4))),
    "tensor_split_sections": (*_same(lambda x: _lib(x).tensor_split(x, 3, dim=1)), _x((2, 5))),
    "tensor_split_indices": (*_same(lambda x: x.tensor_split([1, 4])), _x((5, 2))),
    "tensor_split_negative_and_past_end": (*_same(lambda x: x.tensor_split([-2, 9], 1)),
                                           _x((2, 5))),
    "tensor_split_decreasing": (*_same(lambda x: x.tensor_split((3, 1), dim=0)), _x((5,))),
    "tensor_split_tensor_sections": (*_same(lambda x: x.tensor_split(_index(x, 2))), _x((5,))),
    "tensor_split_tensor_indices": (*_same(lambda x: x.tensor_split(_index(x, [2]), 1)),
                                    _x((2, 5))),
    "hsplit_1d": (*_same(lambda x: _lib(x).hsplit(x, 2)), _x((4,))),
    "hsplit_2d_indices": (*_same(lambda x: x.hsplit([1, 3])), _x((2, 4))),
    "vsplit": (*_same(lambda x: x.vsplit(2)), _x((4, 3))),
    "dsplit": (*_same(lambda x: _lib(x).dsplit(x, [1])), _x((2, 1, 3))),
    "split_with_sizes": (*_same(lambda x: x.split_with_sizes([1, 0, 3], 1)), _x((2, 4))),
    "split_with_sizes_function": (*_same(lambda x: _lib(x).split_with_sizes(x, [2, 1])),
                                  _x((3, 2))),
    "hstack_1d_and_0d": (*_same(lambda x, y: _lib(x).hstack([x, y])), _x((3,), ())),
    "hstack_2d": (*_same(lambda x, y: _lib(x).hstack((x, y))), _x((2, 1), (2, 3))),
    "vstack": (*_same(lambda x, y: _lib(x).vstack([x, y])), _x((3,), (2, 3))),
    "row_stack": (*_same(lambda x, y: _lib(x).row_stack([x, y])), _x((3,), (3,))),
    "dstack": (*_same(lambda x, y: _lib(x).dstack([x, y])), _x((2, 3), (2, 3, 2))),
    "dstack_1d": (*_same(lambda x, y: _lib(x).dstack([x, y])), _x((3,), (3,))),
    "column_stack": (*_same(lambda x, y, z: _lib(x).column_stack([x, y, z])),
                     _x((2,), (2, 3), (2, 1))),
    "column_stack_0d": (*_same(lambda x, y: _lib(x).column_stack([x, y])), _x((), ())),
    "atleast_1d": (*_same(lambda x: _lib(x).atleast_1d(x)), _x(())),
    "atleast_2d_several": (*_same(lambda x, y, z: _lib(x).atleast_2d(x, y, z)),
                           _x((), (3,), (2, 1, 2))),
    "atleast_3d_list": (*_same(lambda x, y, z: _lib(x).atleast_3d([x, y, z])),
                        _x((), (3,), (2, 3))),
    "rot90": (*_same(lambda x: _lib(x).rot90(x)), _x((2, 3))),
    "rot90_method_negative": (*_same(lambda x: x.rot90(-1, (1, 2))), _x((2, 3, 4))),
    "rot90_half_turn": (*_same(lambda x: x.rot90(2, [-1, 0])), _x((2, 3, 4))),
    "rot90_three_quarters": (*_same(lambda x: _lib(x).rot90(x, 7, dims=(1, 0))), _x((2, 3))),
    "rot90_full_turn": (*_same(lambda x: _lib(x).rot90(x, 4)), _x((2, 3))),
    "broadcast_tensors": (*_same(lambda x, y, z: _lib(x).broadcast_tensors(x, y, z)),
                          _x((2, 1), (3,), ())),
    "meshgrid_ij": (*_same(lambda x, y, z: _lib(x).meshgrid(x, y, z, indexing="ij")),
                    _x((2,), (3,), ())),
    "meshgrid_xy_list": (*_same(lambda x, y, z: _lib(x).meshgrid([x, y, z], indexing="xy")),
                         _x((2,), (3,), (4,))),
    "cartesian_prod": (*_same(lambda x, y, z: _lib(x).cartesian_prod(x, y, z)),
                       _x((2,), (3,), (2,))),
    "cartesian_prod_one": (*_same(lambda x: _lib(x).cartesian_prod(x)), _x((3,))),
    "combinations": (*_same(lambda x: _lib(x).combinations(x)), _x((4,))),
    "combinations_r3": (*_same(lambda x: _lib(x).combinations(x, r=3)), _x((5,))),
    "combinations_with_replacement": (
        *_same(lambda x: _lib(x).combinations(x, 2, with_replacement=True)), _x((3,))),
    "block_diag": (*_same(lambda x, y, z: _lib(x).block_diag(x, y, z)), _x((), (2,), (2, 3))),
    "unfold_overlapping": (*_same(lambda x: x.unfold(1, 3, 1)), _x((2, 5, 2))),
    "unfold_gaps": (*_same(lambda x: x.unfold(-1, 2, 3)), _x((2, 7))),
    "unfold_first_axis": (*_same(lambda x: x.unfold(0, 2, 2)), _x((5, 3))),
    "unfold_0d": (*_same(lambda x: x.unfold(0, 1, 2)), [np.array(0.5)]),
}
EMPTY_OUTPUT = set()


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


EDGE_CASES = {
    "combinations_r0": lambda x: _lib(x).combinations(x, r=0),
    "combinations_r_past_length": lambda x: _lib(x).combinations(x, r=4),
    "unfold_empty_windows": lambda x: x.unfold(0, 0, 2),
    "tensor_split_more_sections_than_elements": lambda x: x.tensor_split(5),
    "tensor_split_empty_indices": lambda x: x.tensor_split([]),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_match_torch(backend, name):
    fn = EDGE_CASES[name]
    check_forward(backend, fn, fn, _x((3,)))


def test_stacks_promote_dtypes_as_torch(backend):
    a, b = np.ones((2, 1), np.float32), np.arange(2).reshape(2, 1)
    for name in ("hstack", "vstack", "dstack", "column_stack"):
        got = getattr(xpnet, name)([xpnet.tensor(a), xpnet.tensor(b)])
        want = getattr(torch, name)([torch.tensor(a), torch.tensor(b)])
        assert got.dtype.name == str(want.dtype).removeprefix("torch.")
        assert_close(got, want)
    got = xpnet.block_diag(xpnet.tensor(b), xpnet.tensor(a))
    want = torch.block_diag(torch.tensor(b), torch.tensor(a))
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")
    assert_close(got, want)


def test_block_diag_of_nothing_is_an_empty_row(backend):
    got = xpnet.block_diag()
    assert got.shape == tuple(torch.block_diag().shape) == (1, 0)
    assert_on_device(got, backend)


def test_combinations_of_integers_match_torch(backend):
    got = xpnet.combinations(xpnet.tensor([3, 1, 4, 1]), 3, with_replacement=True)
    want = torch.combinations(torch.tensor([3, 1, 4, 1]), 3, with_replacement=True)
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_meshgrid_without_indexing_warns_as_torch_and_uses_ij(backend):
    x, y = xpnet.arange(2), xpnet.arange(3)
    with pytest.warns(UserWarning, match="meshgrid: in an upcoming release, it will be "
                                         "required to pass the indexing argument"):
        got = xpnet.meshgrid(x, y)
    with warnings.catch_warnings():  # torch warns once per process (TORCH_WARN_ONCE)
        warnings.simplefilter("ignore", UserWarning)
        want = torch.meshgrid(torch.arange(2), torch.arange(3))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_broadcast_shapes_match_torch():
    cases = [((2, 1), (3,), 1), ((0,), (1,)), (4,), (), ((1, 2), [3, 1, 1], xpnet.Size([2]))]
    for shapes in cases:
        got = xpnet.broadcast_shapes(*shapes)
        want = torch.broadcast_shapes(*(tuple(s) if isinstance(s, xpnet.Size) else s
                                        for s in shapes))
        assert isinstance(got, xpnet.Size)
        assert tuple(got) == tuple(want)


def test_tensor_split_pieces_are_views_joined_by_gradients(backend):
    # Decreasing indices overlap; each piece's gradient lands on its own elements.
    x = xpnet.tensor(np.arange(5.0), requires_grad=True)
    pieces = x.tensor_split([4, 1])
    assert [p.shape for p in pieces] == [(4,), (0,), (4,)]
    sum(p.sum() for p in pieces).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 2, 2, 1])


# -- in-place shape changes ----------------------------------------------------------------------

INPLACE = {
    "squeeze_": (lambda y: y.squeeze_(), (2, 1, 3)),
    "squeeze_dim": (lambda y: y.squeeze_(1), (2, 1, 3)),
    "squeeze_dims": (lambda y: y.squeeze_((0, 2)), (1, 3, 1)),
    "unsqueeze_": (lambda y: y.unsqueeze_(-1), (2, 3)),
    "t_": (lambda y: y.t_(), (2, 3)),
    "t_1d": (lambda y: y.t_(), (3,)),
    "transpose_": (lambda y: y.transpose_(0, 2), (2, 3, 4)),
    "swapaxes_": (lambda y: y.swapaxes_(1, -1), (2, 3, 4)),
    "swapdims_": (lambda y: y.swapdims_(0, 1), (2, 3)),
}


def _in_place(change):
    def fn(x):
        y = x * 2
        assert change(y) is y
        return y * y
    return fn


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_shape_change_matches_torch(backend, name):
    change, shape = INPLACE[name]
    fn = _in_place(change)
    check_forward(backend, fn, fn, _x(shape))
    check_grads(backend, fn, fn, _x(shape))
    gradcheck(fn, _x(shape))


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_shape_change_refused_on_a_leaf_that_requires_grad(backend, name):
    change, shape = INPLACE[name]
    x = xpnet.tensor(_x(shape)[0], requires_grad=True)
    op = name.split("_")[0] + "_"
    with pytest.raises(RuntimeError, match=f"{op}: a leaf tensor that requires grad cannot be "
                                           f"reshaped in place"):
        change(x)
    assert x.shape == shape


def test_inplace_shape_change_of_a_leaf_under_no_grad(backend):
    x = xpnet.tensor(_x((2, 3))[0], requires_grad=True)
    with xpnet.no_grad():
        assert x.t_() is x
    assert x.shape == (3, 2) and x.is_leaf and x.requires_grad
    (x.sum() * 2).backward()
    assert x.grad.shape == (3, 2)


def test_inplace_shape_change_leaves_data_views_their_shape(backend):
    # PyTorch: a view keeps its own shape when its base is transposed in place.
    (a,) = _x((2, 3))
    x = xpnet.tensor(a)
    view = x.data
    x.t_()
    assert x.shape == (3, 2) and view.shape == (2, 3)
    assert_close(x, a.T)
    assert_close(view, a)
    x.unsqueeze_(0)
    assert x.shape == (1, 3, 2)
    assert_on_device(x, backend)


def test_unchanged_squeeze_keeps_sharing(backend):
    x = xpnet.ones(2, 3)
    view = x.data
    x.squeeze_()
    x.mul_(3)
    assert_close(view, np.full((2, 3), 3.0))


# -- hypothesis: random shapes -------------------------------------------------------------------

_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@_SETTINGS
@given(shape=_shapes, data=st.data(), seed=st.integers(0, 2**16))
def test_tensor_split_over_random_shapes(backend, shape, data, seed):
    (a,) = random_arrays(shape, seed=seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    spec = data.draw(st.one_of(st.integers(1, 6),
                               st.lists(st.integers(-6, 6), max_size=4)))
    split = _same(lambda x: x.tensor_split(spec, dim))
    check_forward(backend, *split, [a])
    check_grads(backend, *split, [a])


@_SETTINGS
@given(shape=_shapes, data=st.data(), seed=st.integers(0, 2**16))
def test_unfold_over_random_shapes(backend, shape, data, seed):
    (a,) = random_arrays(shape, seed=seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(0, shape[dim]))
    step = data.draw(st.integers(1, 4))
    unfold = _same(lambda x: x.unfold(dim, size, step))
    check_forward(backend, *unfold, [a])
    check_grads(backend, *unfold, [a])


@_SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple), data=st.data(),
       k=st.integers(-5, 5), seed=st.integers(0, 2**16))
def test_rot90_over_random_shapes(backend, shape, data, k, seed):
    (a,) = random_arrays(shape, seed=seed)
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2,
                              unique_by=lambda d: d % ndim))
    rot = _same(lambda x: x.rot90(k, dims))
    check_forward(backend, *rot, [a])
    check_grads(backend, *rot, [a])


@_SETTINGS
@given(lengths=st.lists(st.integers(0, 3), min_size=1, max_size=3),
       indexing=st.sampled_from(["ij", "xy"]), seed=st.integers(0, 2**16))
def test_meshgrid_over_random_lengths(backend, lengths, indexing, seed):
    arrays = random_arrays(*((n,) for n in lengths), seed=seed)
    grid = _same(lambda *xs: _lib(xs[0]).meshgrid(*xs, indexing=indexing))
    check_forward(backend, *grid, arrays)
    check_grads(backend, *grid, arrays)


# -- bad input -----------------------------------------------------------------------------------

def _xp(shape=(2, 3)):
    return xpnet.tensor(_x(shape)[0])


BAD = {
    "unflatten_product": (lambda: _xp().unflatten(1, (2, 2)), ValueError,
                          r"unflatten: sizes \(2, 2\) do not multiply up to the size 3 of "
                          r"dimension 1"),
    "unflatten_empty": (lambda: xpnet.unflatten(_xp(), 1, ()), ValueError,
                        "unflatten: sizes must be non-empty"),
    "unflatten_two_free": (lambda: _xp().unflatten(1, (-1, -1)), ValueError,
                           "unflatten: sizes .* may hold at most one -1"),
    "unflatten_int_sizes": (lambda: _xp().unflatten(1, 3), TypeError,
                            "unflatten: sizes must be a tuple or list of ints, got int"),
    "tensor_split_0d": (lambda: xpnet.tensor(1.0).tensor_split(2), ValueError,
                        "tensor_split: expected a tensor with at least 1 dimension, got a 0-d"),
    "tensor_split_zero_sections": (lambda: _xp().tensor_split(0), ValueError,
                                   "tensor_split: the number of sections must be positive, "
                                   "got 0"),
    "tensor_split_float": (lambda: _xp().tensor_split(1.5), TypeError,
                           "tensor_split: indices_or_sections must be an int, a sequence of "
                           "ints or an integer Tensor, got float"),
    "tensor_split_float_tensor": (lambda: _xp().tensor_split(xpnet.tensor([1.0])), TypeError,
                                  "tensor_split: indices_or_sections must be an integer "
                                  "Tensor, got float32"),
    "tensor_split_2d_tensor": (lambda: _xp().tensor_split(xpnet.tensor([[1]])), ValueError,
                               r"tensor_split: an indices_or_sections Tensor must be 0-D or "
                               r"1-D, got shape \(1, 1\)"),
    "tensor_split_dim": (lambda: _xp().tensor_split(2, 2), ValueError,
                         "tensor_split: axis 2 is out of range for a 2-D tensor"),
    "hsplit_uneven": (lambda: _xp().hsplit(2), ValueError,
                      "hsplit: cannot split dimension 1 of size 3 into 2 equal sections"),
    "hsplit_0d": (lambda: xpnet.tensor(1.0).hsplit(1), ValueError,
                  "hsplit: expected a tensor with at least 1 dimension, got 0"),
    "vsplit_1d": (lambda: _xp((4,)).vsplit(2), ValueError,
                  "vsplit: expected a tensor with at least 2 dimensions, got 1"),
    "dsplit_2d": (lambda: _xp().dsplit(1), ValueError,
                  "dsplit: expected a tensor with at least 3 dimensions, got 2"),
    "split_with_sizes_sum": (lambda: _xp().split_with_sizes([1, 1], 1), ValueError,
                             r"split_with_sizes: split_sizes \[1, 1\] must be non-negative and "
                             r"sum exactly to 3, the size of dimension 1"),
    "split_with_sizes_int": (lambda: _xp().split_with_sizes(3, 1), TypeError,
                             "split_with_sizes: split_sizes must be a tuple or list of ints, "
                             "got int"),
    "hstack_tensor": (lambda: xpnet.hstack(_xp()), TypeError,
                      "hstack: tensors must be a sequence of Tensors, got Tensor"),
    "vstack_empty": (lambda: xpnet.vstack([]), ValueError,
                     "vstack: expected a non-empty sequence of Tensors"),
    "dstack_not_tensor": (lambda: xpnet.dstack([_xp(), 1.0]), TypeError,
                          r"dstack: tensors\[1\] must be a Tensor, got float"),
    "atleast_1d_number": (lambda: xpnet.atleast_1d(3), TypeError,
                          "atleast_1d: each input must be a Tensor, got int"),
    "rot90_1d": (lambda: _xp((3,)).rot90(), ValueError,
                 "rot90: expected a tensor with at least 2 dimensions, got 1"),
    "rot90_one_dim": (lambda: _xp().rot90(1, (0,)), ValueError,
                      r"rot90: dims must be a pair of axes, got \(0,\)"),
    "rot90_same_dims": (lambda: _xp().rot90(1, (0, -2)), ValueError,
                        r"rot90: dims must be two different axes, got \(0, -2\)"),
    "rot90_float_k": (lambda: _xp().rot90(1.0), TypeError, "rot90: k must be an int, got float"),
    "broadcast_shapes": (lambda: xpnet.broadcast_shapes((2,), (3, 1), (4,)), ValueError,
                         r"broadcast_shapes: shapes \(2,\), \(3, 1\), \(4,\) cannot be "
                         r"broadcast together \(sizes \[2, 4\] meet in one dimension\)"),
    "broadcast_shapes_negative": (lambda: xpnet.broadcast_shapes((-1,)), ValueError,
                                  "broadcast_shapes: shapes cannot have negative sizes"),
    "broadcast_shapes_type": (lambda: xpnet.broadcast_shapes("ab"), TypeError,
                              "broadcast_shapes: each shape must be an int or a sequence of "
                              "ints, got str"),
    "broadcast_tensors": (lambda: xpnet.broadcast_tensors(_xp(), _xp((2,))), ValueError,
                          r"broadcast_tensors: shapes \(2, 3\), \(2,\) cannot be broadcast"),
    "broadcast_tensors_type": (lambda: xpnet.broadcast_tensors(_xp(), 2), TypeError,
                               r"broadcast_tensors: tensors\[1\] must be a Tensor, got int"),
    "meshgrid_indexing": (lambda: xpnet.meshgrid(_xp((2,)), indexing="yx"), ValueError,
                          "meshgrid: indexing must be 'ij' or 'xy', got 'yx'"),
    "meshgrid_2d": (lambda: xpnet.meshgrid(_xp(), indexing="ij"), ValueError,
                    r"meshgrid: expected 0-D or 1-D tensors, got tensors\[0\] of shape"),
    "meshgrid_empty": (lambda: xpnet.meshgrid(indexing="ij"), ValueError,
                       "meshgrid: expected at least one tensor"),
    "meshgrid_dtypes": (lambda: xpnet.meshgrid(_xp((2,)), xpnet.arange(3), indexing="ij"),
                        TypeError, "meshgrid: expected tensors of one dtype, got float64, "
                                   "int64"),
    "cartesian_prod_2d": (lambda: xpnet.cartesian_prod(_xp((2,)), _xp()), ValueError,
                          r"cartesian_prod: expected 1-D tensors, got tensors\[1\] of shape "
                          r"\(2, 3\)"),
    "cartesian_prod_none": (lambda: xpnet.cartesian_prod(), ValueError,
                            "cartesian_prod: expected at least one tensor"),
    "combinations_2d": (lambda: xpnet.combinations(_xp()), ValueError,
                        r"combinations: expected a 1-D tensor, got shape \(2, 3\)"),
    "combinations_negative_r": (lambda: xpnet.combinations(_xp((3,)), -1), ValueError,
                                "combinations: r must be non-negative, got -1"),
    "block_diag_3d": (lambda: xpnet.block_diag(_xp(), _xp((1, 1, 1))), ValueError,
                      r"block_diag: expected 0-D, 1-D or 2-D tensors, got tensors\[1\] of "
                      r"shape \(1, 1, 1\)"),
    "unfold_size": (lambda: _xp().unfold(1, 4, 1), ValueError,
                    r"unfold: size must be in \[0, 3\] \(the size of dimension 1\), got 4"),
    "unfold_negative_size": (lambda: _xp().unfold(1, -1, 1), ValueError,
                             r"unfold: size must be in \[0, 3\]"),
    "unfold_step": (lambda: _xp().unfold(1, 2, 0), ValueError,
                    "unfold: step must be positive, got 0"),
    "unfold_dimension": (lambda: _xp().unfold(2, 1, 1), ValueError,
                         "unfold: axis 2 is out of range for a 2-D tensor"),
    "squeeze_dim": (lambda: _xp().squeeze_(3), ValueError,
                    "squeeze: axis 3 is out of range for a 2-D tensor"),
    "t_3d": (lambda: _xp((1, 2, 3)).t_(), ValueError,
             "t: expects a tensor with at most 2 dimensions"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_a_clear_error(name):
    fn, error, message = BAD[name]
    with pytest.raises(error, match=message):
        fn()
