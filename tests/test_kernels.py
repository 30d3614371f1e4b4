"""Every fast path against its generic standard-only twin, and the twin against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import load
from xpnet.backend.kernels import fast_path_families, get_kernel
from xpnet.dtypes import as_dtype

from .conftest import assert_close


def _scatter_reference(index, values, size):
    out = np.zeros((size, *values.shape[1:]), dtype=np.float64)
    for i, row in zip(index, values):
        out[i] += row
    return out


SCATTER_CASES = {
    "repeated rows": (np.array([0, 3, 3, 6, 0, 3]), (6, 4), 7),
    "1-D values": (np.array([2, 2, 2, 0, 1]), (5,), 4),
    "3-D values": (np.array([1, 0, 1]), (3, 2, 2), 3),
    "empty index": (np.array([], dtype=np.int64), (0, 3), 5),
    "untouched rows": (np.array([4]), (1, 2), 9),
}


@pytest.mark.parametrize("case", list(SCATTER_CASES))
def test_scatter_add_twin_matches_a_loop_on_every_backend(backend, case):
    index, shape, size = SCATTER_CASES[case]
    values = np.random.default_rng(0).standard_normal(shape)
    b = load(backend)
    twin = get_kernel("scatter_add", b, fast_paths=False)
    out = twin(b.xp, b.asarray(index, dtype="int64"), b.asarray(values), size)
    assert_close(xpnet.Tensor(out), _scatter_reference(index, values, size))
    assert xpnet.Tensor(out).backend == b.name  # stayed on the input's device


@pytest.mark.parametrize("family", fast_path_families("scatter_add"))
@pytest.mark.parametrize("case", list(SCATTER_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scatter_add_fast_paths_match_the_twin(family, case, dtype):
    index, shape, size = SCATTER_CASES[case]
    values = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    b = load(family)
    args = (b.xp, b.asarray(index, dtype="int64"), b.asarray(values), size)
    fast = get_kernel("scatter_add", b, fast_paths=True)
    twin = get_kernel("scatter_add", b, fast_paths=False)
    assert fast is not twin
    got, want = xpnet.Tensor(fast(*args)), xpnet.Tensor(twin(*args))
    assert got.dtype is want.dtype is as_dtype(dtype)
    assert_close(got, want.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-6)


def test_float32_twin_accumulates_in_float64_where_the_device_has_it():
    # 10,000 small values after one large one: a float32 running sum would lose them.
    index = np.zeros(10_001, dtype=np.int64)
    index[0] = 1
    values = np.full((10_001, 1), 1e-3, dtype=np.float32)
    values[0] = 1e6
    b = load("array_api_strict")
    out = get_kernel("scatter_add", b, fast_paths=False)(
        b.xp, b.asarray(index), b.asarray(values), 2)
    assert xpnet.Tensor(out).numpy()[0, 0] == pytest.approx(10.0, rel=1e-5)


def test_gather_backward_is_the_same_with_and_without_fast_paths(backend):
    index = [0, 2, 2, 2, 1, 0]
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast):
            w = xpnet.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
            (w[index] * xpnet.arange(24.0, dtype="float64").reshape(6, 4)).sum().backward()
            results.append(w.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    expected = np.zeros((3, 4))
    weights = np.arange(24.0).reshape(6, 4)
    for row, i in enumerate(index):
        expected[i] += weights[row]
    np.testing.assert_allclose(results[0], expected)


MAX_POOL_CASES = {
    # name: (input shape, kernel, stride, padding, dilation)
    "tiled 2x2": ((2, 3, 8, 6), (2, 2), (2, 2), (0, 0), (1, 1)),
    "tiled 1-D": ((2, 3, 9), (3,), (3,), (0,), (1,)),
    "overlapping (twin inside)": ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1)),
}


@pytest.mark.parametrize("case", list(MAX_POOL_CASES))
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_fast_path_matches_the_twin(case, ties):
    from xpnet.functional.pooling import max_pool1d, max_pool2d

    shape, kernel, stride, padding, dilation = MAX_POOL_CASES[case]
    values = np.random.default_rng(2).standard_normal(shape)
    if ties:
        values = np.round(values)  # many equal maxima: the first one must win in both
    pool = max_pool2d if len(kernel) == 2 else max_pool1d
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast):
            x = xpnet.tensor(values, requires_grad=True)
            out = pool(x, kernel, stride, padding, dilation)
            upstream = np.random.default_rng(3).standard_normal(out.shape)
            out.backward(xpnet.tensor(upstream))
            results.append((out.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_max_pool_fast_path_defers_nan_windows_to_the_twin():
    from xpnet.functional.pooling import max_pool2d

    values = np.random.default_rng(4).standard_normal((1, 1, 4, 4))
    values[0, 0, 1, 1] = np.nan
    outs = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast):
            outs.append(max_pool2d(xpnet.tensor(values), 2).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert np.isnan(outs[0][0, 0, 0, 0])
