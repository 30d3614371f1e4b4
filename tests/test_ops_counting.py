"""Index queries of xpnet/ops/counting.py against PyTorch: nonzero, argwhere, isin and
unravel_index (unique, bincount, histc and searchsorted are tested in test_ops_sorting.py).

None is differentiable: their outputs are int64 positions or bools.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .op_checks import assert_on_device

torch = pytest.importorskip("torch")


def _both(values, dtype=None):
    a = np.asarray(values, dtype=dtype)
    return xpnet.tensor(a), torch.tensor(a)


def _same_values(got, want):
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype.name == str(w.dtype).removeprefix("torch."), (g.dtype, w.dtype)
        assert g.shape == tuple(w.shape)
        np.testing.assert_array_equal(g.numpy(), w.numpy())


NONZERO_INPUTS = {
    "float_2d": [[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]],
    "bool_3d": np.arange(12).reshape(2, 3, 2) % 3 == 0,
    "int_1d": [0, 4, 0, 0, 7],
    "all_zero": np.zeros((2, 3)),
    "empty": np.zeros((0, 3)),
    "scalar_nonzero": 2.5,
    "scalar_zero": 0,
}


@pytest.mark.parametrize("name", sorted(NONZERO_INPUTS))
def test_nonzero_and_argwhere_match_torch(backend, name):
    x, t = _both(NONZERO_INPUTS[name])
    for got, want in ((xpnet.nonzero(x), torch.nonzero(t)), (x.nonzero(), t.nonzero()),
                      (xpnet.argwhere(x), torch.argwhere(t)), (x.argwhere(), t.argwhere()),
                      (xpnet.nonzero(x, as_tuple=True), torch.nonzero(t, as_tuple=True)),
                      (x.nonzero(as_tuple=True), t.nonzero(as_tuple=True))):
        _same_values(got, want)
        for g in got if isinstance(got, tuple) else (got,):
            assert_on_device(g, backend)


ISIN_CASES = {
    "ints": ([[1, 2, 3], [4, 5, 6]], [[2, 7], [6, 0]]),
    "floats_with_nan": ([1.0, np.nan, 2.5, -0.0], [np.nan, 0.0, 1.0]),
    "int_elements_float_tests": ([1, 2, 3], [1.5, 2.0]),
    "empty_tests": ([1.0, 2.0], np.zeros((0,))),
    "empty_elements": (np.zeros((0, 2)), [1.0]),
    "int32_and_int64": (np.array([1, 2, 3], np.int32), np.array([3, 9], np.int64)),
}


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("name", sorted(ISIN_CASES))
def test_isin_matches_torch(backend, name, invert):
    elements, tests = ISIN_CASES[name]
    (x, t), (y, u) = _both(elements), _both(tests)
    got = xpnet.isin(x, y, invert=invert)
    _same_values(got, torch.isin(t, u, invert=invert))
    assert_on_device(got, backend)
    _same_values(xpnet.isin(x, y, assume_unique=False, invert=invert),
                 torch.isin(t, u, invert=invert))


def test_isin_takes_a_number_on_either_side(backend):
    x, t = _both([[1, 2], [3, 2]])
    _same_values(xpnet.isin(x, 2), torch.isin(t, 2))
    got = xpnet.isin(2, x)
    assert_on_device(got, backend)
    _same_values(got, torch.isin(2, t))
    _same_values(xpnet.isin(5, x, invert=True), torch.isin(5, t, invert=True))


UNRAVEL_CASES = {
    "matrix": ([0, 4, 5, 2], (2, 3)),
    "batched_indices": ([[1, 7], [23, 12]], (2, 3, 4)),
    "int_shape": ([0, 3, 4], 5),
    "list_shape": ([5, 1], [3, 2]),
    "zero_d_index": (7, (3, 4)),
    "out_of_range_wraps_as_torch": ([6, -1, -7, 13], (2, 3)),
    "int32_indices": (np.array([3, 5], np.int32), (2, 3)),
    "empty_shape": ([1], ()),
    "size_one_axes": ([0, 1], (1, 2, 1)),
}


@pytest.mark.parametrize("name", sorted(UNRAVEL_CASES))
def test_unravel_index_matches_torch(backend, name):
    indices, shape = UNRAVEL_CASES[name]
    x, t = _both(indices)
    got = xpnet.unravel_index(x, shape)
    _same_values(got, torch.unravel_index(t, shape))
    for g in got:
        assert_on_device(g, backend)


def test_unravel_index_rebuilds_positions(backend):
    a = np.arange(24).reshape(2, 3, 4)
    x = xpnet.tensor(a)
    flat = xpnet.tensor([0, 9, 17, 23])
    coords = xpnet.unravel_index(flat, x.shape)
    np.testing.assert_array_equal(x[coords].numpy(), [0, 9, 17, 23])


BAD = {
    "nonzero_list": (lambda: xpnet.nonzero([1, 0]), TypeError,
                     "nonzero: input must be a Tensor, got list"),
    "argwhere_number": (lambda: xpnet.argwhere(3), TypeError,
                        "argwhere: input must be a Tensor, got int"),
    "isin_two_numbers": (lambda: xpnet.isin(1, 2), TypeError,
                         "isin: expected elements or test_elements to be a Tensor, got int and "
                         "int"),
    "isin_list": (lambda: xpnet.isin(xpnet.tensor([1]), [1, 2]), TypeError,
                  "isin: test_elements must be a Tensor or a number, got list"),
    "isin_bool": (lambda: xpnet.isin(xpnet.tensor([True]), xpnet.tensor([True])), TypeError,
                  "isin: elements of dtype bool is not supported"),
    "isin_backends": (lambda: xpnet.isin(xpnet.tensor([1]),
                                         xpnet.tensor([1], backend="array_api_strict")),
                      ValueError, "isin: tensors are on different backends/devices: numpy and "
                                  "array_api_strict"),
    "unravel_float_indices": (lambda: xpnet.unravel_index(xpnet.tensor([1.0]), (2, 3)),
                              TypeError, "unravel_index: indices must be an integer Tensor, "
                                         "got float32"),
    "unravel_int_indices": (lambda: xpnet.unravel_index(4, (2, 3)), TypeError,
                            "unravel_index: indices must be a Tensor, got int"),
    "unravel_shape_type": (lambda: xpnet.unravel_index(xpnet.tensor([1]), (2.0, 3)), TypeError,
                           "unravel_index: shape must be an int, got float"),
    "unravel_negative_shape": (lambda: xpnet.unravel_index(xpnet.tensor([1]), (2, -1)),
                               ValueError, r"unravel_index: shape cannot have negative sizes, "
                                           r"got \(2, -1\)"),
    "unravel_zero_shape": (lambda: xpnet.unravel_index(xpnet.tensor([1]), (2, 0)),
                           ValueError, r"unravel_index: shape \(2, 0\) has a zero size"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_a_clear_error(name):
    fn, error, message = BAD[name]
    with pytest.raises(error, match=message):
        fn()
