"""Every fast path against its generic standard-only twin, and the twin against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# A Zipf-like draw: a few rows take most of the indices, as word lookups do.
ZIPF_INDEX = np.minimum(np.random.default_rng(5).zipf(1.3, 2000) - 1, 499)


@pytest.mark.parametrize("scipy", [True, False], ids=["csr product", "sorted reduceat"])
@pytest.mark.parametrize("shape", [(2000, 16), (2000,), (2000, 2, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_scatter_add_with_and_without_scipy_matches_the_twin(monkeypatch, scipy, shape,
                                                                   dtype):
    from xpnet.backend.kernels import numpy_kernels

    if not scipy:  # the path a NumPy-only install takes
        monkeypatch.setattr(numpy_kernels, "_scipy_sparse", None)
    elif numpy_kernels._scipy_sparse is None:
        pytest.fail("scipy is a test dependency (the examples extra) and must be importable")
    values = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    b = load("numpy")
    for index in (ZIPF_INDEX, ZIPF_INDEX.astype(np.int32), ZIPF_INDEX[:0]):
        part = values[:index.shape[0]]
        got = numpy_kernels.scatter_add(np, index, part, 500)
        want = get_kernel("scatter_add", b, fast_paths=False)(np, index, part, 500)
        assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   atol=1e-5 if dtype == "float32" else 1e-12)


GATHER_SCATTER_CASES = {  # name: (gather index, scatter index, source rows, size)
    "bags forward (scatter sorted)": (np.array([3, 1, 3, 0, 4, 4]), np.array([0, 0, 1, 1, 1, 3]),
                                      5, 4),
    "bags backward (gather sorted)": (np.array([0, 0, 1, 1, 1, 3]), np.array([3, 1, 3, 0, 4, 4]),
                                      4, 5),
    "neither sorted": (np.array([2, 0, 2, 1]), np.array([1, 1, 0, 1]), 3, 2),
    "empty": (np.array([], dtype=np.int64), np.array([], dtype=np.int64), 3, 2),
}


# Every fast path, and NumPy's once more as a NumPy-only install runs it (no SciPy).
GATHER_SCATTER_PATHS = [(family, True) for family in fast_path_families(
    "gather_scale_scatter_add")] + [("numpy", False)]


@pytest.mark.parametrize("family, scipy", GATHER_SCATTER_PATHS,
                         ids=[f"{f}{'' if s else ' without scipy'}"
                              for f, s in GATHER_SCATTER_PATHS])
@pytest.mark.parametrize("case", list(GATHER_SCATTER_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gather_scale_scatter_add_fast_paths_match_the_twin(monkeypatch, family, scipy, case,
                                                            dtype):
    from xpnet.backend.kernels import numpy_kernels

    if not scipy:
        monkeypatch.setattr(numpy_kernels, "_scipy_sparse", None)
    gather, scatter, rows, size = GATHER_SCATTER_CASES[case]
    rng = np.random.default_rng(8)
    source = rng.standard_normal((rows, 3)).astype(dtype)
    scale = rng.uniform(0.5, 2, gather.shape[0]).astype(dtype)
    b = load(family)
    args = (b.xp, b.asarray(source), b.asarray(gather, dtype="int64"),
            b.asarray(scatter, dtype="int64"), b.asarray(scale), size)
    got = xpnet.Tensor(get_kernel("gather_scale_scatter_add", b, fast_paths=True)(*args))
    want = xpnet.Tensor(get_kernel("gather_scale_scatter_add", b, fast_paths=False)(*args))
    assert got.dtype is want.dtype is as_dtype(dtype) and got.shape == want.shape == (size, 3)
    assert_close(got, want.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-6)
    expected = np.zeros((size, 3))
    for g, s_, c in zip(gather, scatter, scale):
        expected[s_] += c * source[g]
    assert_close(want, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(GATHER_SCATTER_CASES))
def test_compiled_scatters_give_scipys_bits(monkeypatch, threads, dtype, case):
    """Large outputs take numba_embedding_bag.scatter_rows (here every output, in blocks of
    the table's rows at two threads): the same bits as SciPy's products, which sum each row
    in the same order, for scatter_add and gather_scale_scatter_add; an output still held is
    never handed out again."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numba_embedding_bag, numpy_kernels

    if numba_embedding_bag.numba is None:
        pytest.skip("numba not installed (the fast extra)")
    gather, scatter, rows, size = GATHER_SCATTER_CASES[case]
    rng = np.random.default_rng(9)
    source = rng.standard_normal((rows, 3)).astype(dtype)
    scale = rng.uniform(-2, 2, gather.shape[0]).astype(dtype)
    values = source[gather]

    def both():
        return (numpy_kernels.scatter_add(np, scatter, values, size),
                numpy_kernels.gather_scale_scatter_add(np, source, gather, scatter, scale, size))

    monkeypatch.setattr(numpy_kernels, "_COMPILED_SCATTER_FROM", 1 << 62)
    want = both()
    monkeypatch.setattr(numpy_kernels, "_COMPILED_SCATTER_FROM", 0)
    monkeypatch.setattr(numba_embedding_bag, "_PARALLEL_FROM", 0)
    monkeypatch.setattr(numba_embedding_bag, "_NUMBA_PARALLEL_FROM", 0)
    calls = []
    real = numba_embedding_bag.scatter_rows
    monkeypatch.setattr(numba_embedding_bag, "scatter_rows",
                        lambda *args: calls.append(1) or real(*args))
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        got = both()
        kept = [g.copy() for g in got]
        again = both()
    assert len(calls) == 4
    for g, w, k, a in zip(got, want, kept, again):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes() == a.tobytes()
        assert g.tobytes() == k.tobytes() and not np.shares_memory(g, a)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 40), n=st.integers(0, 60), width=st.integers(1, 5),
       seed=st.integers(0, 2**16), float32=st.booleans())
def test_numpy_scatter_kernels_match_their_twins_on_random_input(size, n, width, seed, float32):
    """Any sizes, heavy repeats included: scatter_add, gather_scale_scatter_add (both index
    orders) and add_to_rows on NumPy against the standard-only twins."""
    rng = np.random.default_rng(seed)
    dtype = np.float32 if float32 else np.float64
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if float32 else {"rtol": 1e-12, "atol": 1e-12}
    b = load("numpy")
    index = rng.integers(0, size, n)
    values = rng.standard_normal((n, width)).astype(dtype)

    def both(name, *args):
        fast = get_kernel(name, b, fast_paths=True)(np, *args)
        twin = get_kernel(name, b, fast_paths=False)(np, *args)
        assert fast.dtype == twin.dtype == dtype and fast.shape == twin.shape
        np.testing.assert_allclose(fast, twin, **tolerance)

    both("scatter_add", index, values, size)
    source = rng.standard_normal((size, width)).astype(dtype)
    scale = rng.uniform(-2, 2, n).astype(dtype)
    bags = np.sort(rng.integers(0, 7, n))
    both("gather_scale_scatter_add", source, index, bags, scale, 7)  # bag forward
    bag_grads = rng.standard_normal((7, width)).astype(dtype)
    both("gather_scale_scatter_add", bag_grads, bags, index, scale, size)  # bag backward
    both("gather_scale_scatter_add", source, index, index[::-1].copy(), scale, size)
    target = rng.standard_normal((size, width)).astype(dtype)
    fast = get_kernel("add_to_rows", b, fast_paths=True)(np, target.copy(), index, values)
    twin = get_kernel("add_to_rows", b, fast_paths=False)(np, target, index, values)
    np.testing.assert_allclose(fast, twin, **tolerance)


ADD_TO_ROWS_CASES = {
    "2-D": (np.array([4, 0, 2]), (6, 3)),
    "coalesced": (np.array([0, 2, 5]), (6, 3)),
    "repeated rows": (np.array([4, 0, 4, 2, 0, 4]), (6, 3)),
    "3-D": (np.array([1, 0]), (3, 2, 2)),
    "empty index": (np.array([], dtype=np.int64), (4, 3)),
}


@pytest.mark.parametrize("family", fast_path_families("add_to_rows"))
@pytest.mark.parametrize("case", list(ADD_TO_ROWS_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_to_rows_fast_paths_match_the_twin_and_write_in_place(family, case, dtype):
    index, shape = ADD_TO_ROWS_CASES[case]
    rng = np.random.default_rng(7)
    target = rng.standard_normal(shape).astype(dtype)
    rows = rng.standard_normal((index.shape[0], *shape[1:])).astype(dtype)
    b = load(family)
    fast = get_kernel("add_to_rows", b, fast_paths=True)
    twin = get_kernel("add_to_rows", b, fast_paths=False)
    assert fast is not twin
    want = twin(b.xp, b.asarray(target), b.asarray(index, dtype="int64"), b.asarray(rows))
    fast_target = b.asarray(target, copy=True)
    got = fast(b.xp, fast_target, b.asarray(index, dtype="int64"), b.asarray(rows))
    assert got is fast_target  # the table is updated where it lies, not copied
    assert_close(xpnet.Tensor(got), xpnet.Tensor(want).numpy(), rtol=1e-6, atol=1e-6)
    expected = target.astype(np.float64)
    np.add.at(expected, index, rows)
    assert_close(xpnet.Tensor(want), expected, rtol=1e-6, atol=1e-6)


def test_add_to_rows_on_a_read_only_numpy_array_copies_it():
    target = np.zeros((3, 2))
    target.flags.writeable = False
    fast = get_kernel("add_to_rows", load("numpy"), fast_paths=True)
    out = fast(np, target, np.array([1]), np.ones((1, 2)))
    assert out is not target and not target.any()
    np.testing.assert_array_equal(out, [[0, 0], [1, 1], [0, 0]])


def test_add_to_rows_twin_runs_on_every_backend(backend):
    b = load(backend)
    target = b.asarray(np.arange(8.0).reshape(4, 2))
    out = get_kernel("add_to_rows", b, fast_paths=False)(
        b.xp, target, b.asarray([3, 1], dtype="int64"), b.asarray([[1.0, 1.0], [2.0, 2.0]]))
    assert_close(xpnet.Tensor(out), [[0, 1], [4, 5], [4, 5], [7, 8]])
    assert xpnet.Tensor(out).backend == b.name


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
    "overlapping, padded": ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1)),
    "dilated, padded, uneven": ((2, 2, 9, 8), (3, 2), (2, 1), (1, 1), (2, 1)),
    "1-D padded, strided": ((3, 2, 10), (4,), (3,), (2,), (1,)),
}


@pytest.mark.parametrize("case", list(MAX_POOL_CASES))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("numba", [True, False])  # the numba kernel, or the NumPy forms
@pytest.mark.parametrize("threads", [1, 2])
def test_max_pool_fast_path_matches_the_twin(case, ties, numba, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numba_pool
    from xpnet.functional.pooling import max_pool1d, max_pool2d

    if numba and not numba_pool.available:
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(numba_pool, "available", numba)
    monkeypatch.setattr(numba_pool, "_PLANES_PER_BLOCK", 2)  # several blocks on 2 threads
    shape, kernel, stride, padding, dilation = MAX_POOL_CASES[case]
    values = np.random.default_rng(2).standard_normal(shape)
    if ties:
        values = np.round(values)  # many equal maxima: the first one must win in both
    pool = max_pool2d if len(kernel) == 2 else max_pool1d
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), threadpoolctl.threadpool_limits(threads, "blas"):
            x = xpnet.tensor(values, requires_grad=True)
            out = pool(x, kernel, stride, padding, dilation)
            upstream = np.random.default_rng(3).standard_normal(out.shape)
            out.backward(xpnet.tensor(upstream))
            results.append((out.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # Overlapping windows add their gradients in another order.
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14, atol=1e-15)


AVG_POOL_CASES = {
    # name: (input shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    "tiled 2x2": ((2, 3, 8, 6), (2, 2), (2, 2), (0, 0), False, True, None),
    "2x2, odd sizes": ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0), False, True, None),
    "2x2, odd sizes, ceil mode": ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0), True, False, None),
    "overlapping, padded, counts without padding": (
        (2, 3, 7, 7), (3, 3), (2, 2), (1, 1), False, False, None),
    "uneven, ceil mode": ((2, 2, 9, 8), (3, 2), (2, 1), (1, 1), True, False, None),
    "divisor override": ((1, 2, 6, 5), (2, 3), (1, 2), (1, 1), False, True, 5),
    "1-D padded, strided, counts without padding": (
        (3, 2, 10), (4,), (3,), (2,), True, False, None),
    "1-D tiled": ((2, 3, 9), (3,), (3,), (0,), False, True, None),
}


@pytest.mark.parametrize("case", list(AVG_POOL_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("numba", [True, False])  # the numba kernel, or the twin's form
@pytest.mark.parametrize("threads", [1, 2])
def test_avg_pool_fast_path_matches_the_twin(case, dtype, numba, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numba_pool
    from xpnet.functional.pooling import avg_pool1d, avg_pool2d

    if numba and not numba_pool.available:
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(numba_pool, "available", numba)
    monkeypatch.setattr(numba_pool, "_PLANES_PER_BLOCK", 2)  # several blocks on 2 threads
    shape, kernel, stride, padding, ceil_mode, include_pad, override = AVG_POOL_CASES[case]
    values = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    pool = avg_pool2d if len(kernel) == 2 else avg_pool1d
    options = dict(ceil_mode=ceil_mode, count_include_pad=include_pad)
    if override is not None:
        options["divisor_override"] = override
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), threadpoolctl.threadpool_limits(threads, "blas"):
            x = xpnet.tensor(values, requires_grad=True)
            out = pool(x, kernel, stride, padding, **options)
            upstream = np.random.default_rng(6).standard_normal(out.shape).astype(dtype)
            out.backward(xpnet.tensor(upstream))
            results.append((out.numpy(), x.grad.numpy()))
    # The same sums in the same order, divided by the same divisors: equal to the bit.
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # Overlapping windows add their gradients in another order.
    tolerance = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("numba", [True, False])
def test_max_pool_fast_path_lets_nan_win_as_the_twin(numba, monkeypatch):
    from xpnet.backend.kernels import numba_pool
    from xpnet.functional.pooling import max_pool2d

    if numba and not numba_pool.available:
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(numba_pool, "available", numba)
    values = np.random.default_rng(4).standard_normal((1, 1, 4, 4))
    values[0, 0, 1, 1] = np.nan
    values[0, 0, 2, 2:] = [np.nan, 7.0]  # a NaN before the window's largest number
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast):
            x = xpnet.tensor(values, requires_grad=True)
            out = max_pool2d(x, 2)
            out.sum().backward()
            results.append((out.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.isnan(results[0][0][0, 0, 0, 0]) and np.isnan(results[0][0][0, 0, 1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_backward_fast_path_matches_the_twin(dtype, layout, threads, monkeypatch):
    """The fast path passes g where the output is positive and 0 elsewhere (NaN and -0.0
    outputs included), on one thread and split among two."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numba_activation

    monkeypatch.setattr(numba_activation, "_MIN_PARALLEL_SIZE", 16)  # several blocks
    rng = np.random.default_rng(7)
    values = rng.standard_normal((37, 29)).astype(dtype)
    values[3, :5] = [np.nan, -0.0, 0.0, np.inf, -np.inf]
    upstream = rng.standard_normal((37, 29)).astype(dtype)
    if layout == "transposed":
        values, upstream = values.T, upstream.T
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), threadpoolctl.threadpool_limits(threads, "blas"):
            x = xpnet.tensor(values, requires_grad=True)
            out = xpnet.nn.functional.relu(x)
            out.backward(xpnet.tensor(upstream))
            results.append((out.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][1][3, 0] == 0 and results[0][1][3, 3] == upstream[3, 3]


ADD_CASES = {
    "large, same shape": ((600, 700), (600, 700), "float32", "float32"),
    "large, float64": ((300, 1000), (300, 1000), "float64", "float64"),
    "large, broadcast row": ((600, 700), (700,), "float32", "float32"),
    "large, mixed dtypes": ((600, 700), (600, 700), "float32", "float64"),
    "large, transposed": ((700, 600), (600, 700), "float32", "float32"),
    "small": ((3, 4), (3, 4), "float32", "float32"),
}


@pytest.mark.parametrize("case", list(ADD_CASES))
@pytest.mark.parametrize("threads", [1, 2])
def test_add_fast_path_matches_the_twin(case, threads, request):
    """The sum behind ``+`` and the gradients autograd adds: large same-shape sums are shared
    among the threads into reused memory, the rest go to NumPy, and every one equals the
    twin's (bit for bit: the same additions) and owns its memory."""
    if threads == 2:
        request.getfixturevalue("two_threads")
    a_shape, b_shape, a_dtype, b_dtype = ADD_CASES[case]
    rng = np.random.default_rng(3)
    a = rng.standard_normal(a_shape).astype(a_dtype)
    b = rng.standard_normal(b_shape).astype(b_dtype)
    if case == "large, transposed":
        a = a.T
    numpy_backend = load("numpy")
    fast = get_kernel("add", numpy_backend, fast_paths=True)
    assert fast is not get_kernel("add", numpy_backend, fast_paths=False)
    got = fast(np, a, b)
    np.testing.assert_array_equal(got, get_kernel("add", numpy_backend, fast_paths=False)(
        np, a, b))
    assert got.dtype == np.result_type(a, b)
    assert not np.shares_memory(got, a) and not np.shares_memory(got, b)
    # An output still held is never handed out again.
    again = fast(np, b if b.shape == a.shape else a, a)
    assert not np.shares_memory(again, got)


def test_residual_add_and_gradient_sums_match_torch_on_large_tensors(two_threads):
    """A residual block at sizes where the sums are shared among threads: the output and the
    input's gradient, summed from two paths (in autograd's queue, then in the leaf's .grad),
    equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((512, 640)).astype(np.float32)
    w_np = (rng.standard_normal((640, 640)) / 25).astype(np.float32)
    g_np = rng.standard_normal((512, 640)).astype(np.float32)
    x = xpnet.tensor(x_np, requires_grad=True)
    h = x * 2
    out = h + xpnet.tanh(h @ xpnet.tensor(w_np)) + x
    out.backward(xpnet.tensor(g_np))
    tx = torch.tensor(x_np, requires_grad=True)
    th = tx * 2
    tout = th + torch.tanh(th @ torch.tensor(w_np)) + tx
    tout.backward(torch.tensor(g_np))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
