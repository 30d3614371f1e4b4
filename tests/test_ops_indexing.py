"""Indexing with NumPy's rules, and take (xpnet/ops/indexing.py).

Integer-array gathers with repeated indices check the scatter-add kernel in their backward, with
the fast paths on and off.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPE = (3, 4, 2)
_MASK = np.random.default_rng(5).uniform(size=SHAPE) > 0.5
_MASK_2D = np.array([[True, False, True, True], [False, False, False, True], [True] * 4])


def _same(key):
    """torch indexes the same way as NumPy for this key."""
    return lambda t: t[key]


# id -> (key, the equivalent torch indexing). torch has no negative steps (flip instead) and
# puts an int's axis first where NumPy does not; those cases spell the equivalent out.
KEYS = {
    "int": (1, _same(1)),
    "negative_int": (-1, _same(-1)),
    "ints": ((1, 2), _same((1, 2))),
    "slice": (slice(1, 3), _same(slice(1, 3))),
    "slice_step": ((slice(None), slice(0, 4, 2)), _same((slice(None), slice(0, 4, 2)))),
    "negative_step": (slice(None, None, -1), lambda t: t.flip(0)),
    "negative_step_partial": ((slice(None), slice(3, 0, -2)), lambda t: t[:, 1:4:2].flip(1)),
    "negative_steps_everywhere": ((slice(None, None, -1), slice(-1, -5, -1), slice(None, None, -2)),
                                  lambda t: t.flip((0, 1, 2))[:, :, ::2]),
    "none": (None, _same(None)),
    "none_middle": ((slice(None), None, 1), _same((slice(None), None, 1))),
    "ellipsis_int": ((Ellipsis, 1), _same((Ellipsis, 1))),
    "int_ellipsis": ((0, Ellipsis), _same((0, Ellipsis))),
    "ellipsis_none": ((Ellipsis, None), _same((Ellipsis, None))),
    "int_negative_step_none": ((1, slice(None, None, -2), None),
                               lambda t: t[1, 1::2].flip(0)[:, None]),
    "list_repeated": ([0, 2, 0, 0], _same([0, 2, 0, 0])),
    "numpy_array_repeated": (np.array([2, 2, 1]), lambda t: t[[2, 2, 1]]),
    "negative_indices": ([-1, 0, -1], _same([-1, 0, -1])),
    "index_2d": (np.array([[0, 1], [1, 1]]), lambda t: t[torch.tensor([[0, 1], [1, 1]])]),
    "arrays_adjacent": ((slice(None), [0, 1, 1], [1, 0, 1]),
                        _same((slice(None), [0, 1, 1], [1, 0, 1]))),
    "arrays_non_adjacent": (([0, 1, 1], slice(None), [1, 0, 1]),
                            _same(([0, 1, 1], slice(None), [1, 0, 1]))),
    "arrays_broadcast": ((np.array([[0], [2]]), np.array([1, 3, 1])),
                         lambda t: t[torch.tensor([[0], [2]]), torch.tensor([1, 3, 1])]),
    "int_and_array_adjacent": ((slice(None), 1, [0, 1, 1]), _same((slice(None), 1, [0, 1, 1]))),
    # NumPy: an int is an index array too, so the two (separated) indexed axes go first.
    "int_and_array_non_adjacent": ((1, slice(None), [0, 1, 1]), lambda t: t[1][:, [0, 1, 1]].T),
    "ellipsis_array": ((Ellipsis, [0, 0, 1]), _same((Ellipsis, [0, 0, 1]))),
    "negative_step_and_array": ((slice(None, None, -1), [0, 3]), lambda t: t.flip(0)[:, [0, 3]]),
    "int32_array": (np.array([1, 2], dtype=np.int32), lambda t: t[[1, 2]]),
    "empty_list": ([], _same([])),
    "mask_full": (_MASK, lambda t: t[torch.from_numpy(_MASK)]),
    "mask_first_axis": (np.array([True, False, True]),
                        lambda t: t[torch.tensor([True, False, True])]),
    "mask_list": ([True, False, True], _same([True, False, True])),
    "mask_second_axis": ((slice(None), np.array([True, False, True, True])),
                         lambda t: t[:, torch.tensor([True, False, True, True])]),
    "mask_two_axes": (_MASK_2D, lambda t: t[torch.from_numpy(_MASK_2D)]),
    "mask_trailing_axes": ((slice(None), _MASK[0]),
                           lambda t: t[:, torch.from_numpy(_MASK[0])]),
    "mask_all_false": (np.zeros(3, dtype=bool), lambda t: t[torch.zeros(3, dtype=torch.bool)]),
    "mask_and_int": ((np.array([True, False, True]), 1),
                     lambda t: t[torch.tensor([True, False, True]), 1]),
}


def _getitem(key):
    return lambda x: x[key]


@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem_matches_torch(backend, name):
    key, torch_fn = KEYS[name]
    check_forward(backend, _getitem(key), torch_fn, random_arrays(SHAPE))


@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem_matches_numpy(backend, name):
    key = KEYS[name][0]
    (a,) = random_arrays(SHAPE)
    (x,) = to_xpnet(a)
    got = x[key]
    assert_on_device(got, backend)
    assert_close(got, a[key])


# gradcheck needs at least one output element; the grads test covers the empty results.
@pytest.mark.parametrize("name", sorted(set(KEYS) - {"empty_list", "mask_all_false"}))
def test_getitem_gradcheck(backend, name):
    gradcheck(_getitem(KEYS[name][0]), random_arrays(SHAPE))


@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem_grads_match_torch(backend, name):
    key, torch_fn = KEYS[name]
    check_grads(backend, _getitem(key), torch_fn, random_arrays(SHAPE))


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast_paths", "generic_twin"])
def test_repeated_index_grads_accumulate_as_torch(backend, fast_paths):
    key = (slice(None), [3, 0, 3, 3, 1])
    with xpnet.use_fast_paths(fast_paths):
        check_grads(backend, _getitem(key), _same(key), random_arrays(SHAPE))


def test_getitem_with_tensor_index_matches_list_index(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    index = xpnet.tensor([2, 0, 2])
    got = x[index]
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), x[[2, 0, 2]].numpy())


def test_getitem_with_zero_d_tensor_index_is_an_int(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    got = x[xpnet.tensor(np.array(2))]
    np.testing.assert_array_equal(got.numpy(), x[2].numpy())


# -- take -------------------------------------------------------------------------------------

TAKE_INDEX = np.array([3, 0, 3, -1])


def test_take_matches_torch_index_select(backend):
    check_forward(backend, lambda x: xpnet.take(x, TAKE_INDEX, axis=1),
                  lambda t: torch.index_select(t, 1, torch.tensor(TAKE_INDEX % 4)),
                  random_arrays(SHAPE))


def test_take_gradcheck(backend):
    gradcheck(lambda x: xpnet.take(x, TAKE_INDEX, axis=1), random_arrays(SHAPE))


def test_take_grads_match_torch_index_select(backend):
    check_grads(backend, lambda x: xpnet.take(x, TAKE_INDEX, axis=1),
                lambda t: torch.index_select(t, 1, torch.tensor(TAKE_INDEX % 4)),
                random_arrays(SHAPE))


# -- bad input --------------------------------------------------------------------------------

OUT_OF_RANGE = {
    "int": 3, "negative_int": -4, "second_axis_int": (0, 4), "list": [0, 3],
    "second_axis_list": (slice(None), [4]), "negative_array": np.array([-4]),
    "pair_of_arrays": ([0, 1], [1, 4]),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_RANGE))
def test_getitem_out_of_range_raises_index_error(backend, name):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(IndexError, match=r"getitem: index .*out of range for axis \d of size [34]"):
        x[OUT_OF_RANGE[name]].numpy()  # on a device the check reports at a synchronisation


def test_take_out_of_range_raises_index_error(backend):
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(IndexError, match=r"take: index out of range for axis 1 of size 4 "
                                         r"\(indices span 0..4\)"):
        xpnet.take(x, [0, 4], axis=1).numpy()


# id -> (key, error, message): the message names getitem and what was wrong.
BAD_KEYS = {
    "too_many": ((0, 0, 0, 0), IndexError,
                 r"getitem: too many indices for a tensor of shape \(3, 4, 2\)"),
    "two_ellipses": ((Ellipsis, 0, Ellipsis), IndexError,
                     "getitem: an index can only have a single ellipsis"),
    "float_array": (np.array([0.0, 1.0]), IndexError,
                    "getitem: index arrays must be integers or bools, got float64"),
    "python_bool": (True, IndexError, "getitem: a Python bool index is not supported"),
    "zero_step": (slice(None, None, 0), ValueError, "getitem: slice step cannot be zero"),
    "none_with_array": ((None, [0, 1]), IndexError,
                        "getitem: None cannot be combined with array indices"),
    "unbroadcastable_arrays": (([0, 1], [0, 1, 1]), IndexError,
                               r"getitem: index arrays of shapes \[\(2,\), \(3,\)\] cannot be "
                               r"broadcast together"),
}


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_getitem_rejects_bad_key(backend, name):
    key, error, message = BAD_KEYS[name]
    (x,) = to_xpnet(*random_arrays(SHAPE))
    with pytest.raises(error, match=message):
        x[key]


def test_getitem_rejects_index_on_another_backend():
    x = xpnet.tensor(np.ones(SHAPE), backend="array_api_strict:device1")
    index = xpnet.tensor([0, 1], backend="array_api_strict")
    with pytest.raises(ValueError, match="getitem: index is on array_api_strict, the tensor on "
                                         "array_api_strict:device1"):
        x[index]
