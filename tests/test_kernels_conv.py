"""The NumPy convolution fast paths (backend/kernels/numpy_kernels.py's conv section and
numba_conv.py) against the standard-only twins: each of the three paths forced in turn (a GEMM
per kernel position, the direct numba loop, im2col), over strides, dilations, groups, odd
paddings, 1-3 spatial axes, float32 and float64, one and two threads, blocks of one sample and
of several, without bias, and only the gradients asked for."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import xpnet
from xpnet.backend.kernels import get_kernel, numba_conv, numpy_kernels

needs_compiled = pytest.mark.skipif(not numba_conv.available,
                                    reason="numba or scipy is not installed")

# name: (x shape, weight shape, options)
CASES = {
    "2-D, padding 1": ((3, 9, 6, 7), (5, 9, 3, 3),
                       {"stride": (1, 1), "padding": ((1, 1), (1, 1)), "dilation": (1, 1),
                        "groups": 1}),
    "2-D, odd padding, dilation": ((2, 8, 7, 9), (6, 8, 3, 2),
                                   {"stride": (1, 1), "padding": ((1, 2), (0, 1)),
                                    "dilation": (2, 1), "groups": 1}),
    "2-D, strided, groups": ((2, 16, 8, 7), (6, 8, 3, 3),
                             {"stride": (2, 3), "padding": ((1, 1), (2, 2)), "dilation": (1, 1),
                              "groups": 2}),
    "2-D, odd channels a group": ((2, 3, 6, 6), (9, 1, 2, 3),
                                  {"stride": (1, 2), "padding": ((0, 1), (1, 0)),
                                   "dilation": (1, 1), "groups": 3}),
    "1-D": ((4, 10, 11), (7, 10, 3), {"stride": (1,), "padding": ((2, 1),), "dilation": (3,),
                                      "groups": 1}),
    "1-D, strided, groups": ((3, 12, 13), (6, 4, 2), {"stride": (3,), "padding": ((0, 0),),
                                                       "dilation": (1,), "groups": 3}),
    "1-D, one channel": ((5, 1, 12), (4, 1, 5), {"stride": (1,), "padding": ((0, 0),),
                                                  "dilation": (1,), "groups": 1}),
    "1-D, padding beyond the kernel": ((3, 8, 6), (5, 8, 2), {"stride": (1,),
                                                            "padding": ((3, 2),),
                                                            "dilation": (1,), "groups": 1}),
    "3-D, padding 1": ((2, 8, 3, 4, 5), (4, 8, 3, 3, 3),
                       {"stride": (1, 1, 1), "padding": ((1, 1),) * 3, "dilation": (1, 1, 1),
                        "groups": 1}),
    "3-D": ((2, 8, 4, 5, 4), (3, 8, 2, 3, 2),
            {"stride": (1, 2, 1), "padding": ((1, 0), (1, 1), (0, 1)), "dilation": (1, 1, 2),
             "groups": 1}),
}

PATHS = {
    # (_MIN_OFFSET_CHANNELS, _MAX_DIRECT_PRODUCTS) that send every case down one path
    "offsets": (1, 0),
    "direct": (1 << 30, 1 << 30),
    "im2col": (1 << 30, 0),
}


def _arrays(case, dtype, seed=0):
    x_shape, w_shape, options = CASES[case]
    rng = np.random.default_rng(seed)
    x, w, b = (rng.uniform(-1, 1, s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1]))
    return x, w, b, options


def _run(fast, x, w, b, grad_seed, options, need=(True, True)):
    backend = xpnet.backend.load("numpy")
    forward = get_kernel("conv_forward", backend, fast_paths=fast)
    backward = get_kernel("conv_backward", backend, fast_paths=fast)
    out = forward(np, x, w, b, **options)
    grad = np.random.default_rng(grad_seed).uniform(-1, 1, out.shape).astype(x.dtype)
    grads = backward(np, grad, x, w, need_input=need[0], need_weight=need[1], **options)
    return out, *grads


def _force(monkeypatch, path):
    minimum, most = PATHS[path]
    monkeypatch.setattr(numpy_kernels, "_MIN_OFFSET_CHANNELS", minimum)
    monkeypatch.setattr(numpy_kernels, "_MAX_DIRECT_PRODUCTS", most)


def _assert_close(got, want, dtype):
    tol = 2e-5 if dtype == np.float32 else 1e-11
    assert got.dtype == want.dtype == dtype
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", [pytest.param(p, marks=needs_compiled if p != "im2col" else ())
                                  for p in PATHS])
@pytest.mark.parametrize("case", list(CASES))
def test_conv_fast_paths_match_the_twins(case, path, dtype, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _force(monkeypatch, path)
    # Several samples a block, and blocks of one: the samples side by side in the rows.
    monkeypatch.setattr(numba_conv, "_BLOCK_COLUMNS", 1 if threads == 2 else 1 << 20)
    monkeypatch.setattr(numba_conv, "_DIRECT_SHARE_FROM", 0)  # the direct loop's blocks shared
    x, w, b, options = _arrays(case, dtype)
    g = numpy_kernels._geometry(x.shape, x.itemsize, w.shape, **options)
    assert numpy_kernels._conv_path(g) == path
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        got = _run(True, x, w, b, 1, options)
    want = _run(False, x, w, b, 1, options)
    for a, e in zip(got, want):
        _assert_close(a, np.asarray(e), dtype)


@needs_compiled
@pytest.mark.parametrize("need", [(True, False), (False, True)])
def test_offsets_backward_computes_only_what_is_needed(need, monkeypatch):
    _force(monkeypatch, "offsets")
    x, w, b, options = _arrays("2-D, strided, groups", np.float64)
    got = _run(True, x, w, b, 2, options, need)
    want = _run(False, x, w, b, 2, options)
    for a, e, needed in zip(got[1:], want[1:], need):
        if needed:
            _assert_close(a, np.asarray(e), np.float64)
        else:
            assert a is None


@needs_compiled
@pytest.mark.parametrize("path", ["offsets", "direct"])
def test_no_bias_and_strided_inputs(path, monkeypatch):
    _force(monkeypatch, path)
    x, w, _, options = _arrays("2-D, padding 1", np.float32)
    x_view = np.asfortranarray(x)  # not C-contiguous
    got = _run(True, x_view, w, None, 3, options)
    want = _run(False, x, w, None, 3, options)
    for a, e in zip(got, want):
        _assert_close(a, np.asarray(e), np.float32)


@needs_compiled
@pytest.mark.parametrize("path", ["offsets", "direct"])
def test_results_do_not_share_the_scratch_buffers(path, monkeypatch):
    _force(monkeypatch, path)
    x, w, b, options = _arrays("1-D", np.float64)
    first = _run(True, x, w, b, 4, options)
    kept = [a.copy() for a in first]
    _run(True, 2 * x, w, b, 4, options)
    for a, k in zip(first, kept):
        np.testing.assert_array_equal(a, k)


@needs_compiled
def test_lines_share_their_padding_where_they_can():
    """The compact layout (numba_conv._compact) for stride 1 and padding within the
    kernel's reach, the phase layout otherwise."""
    layouts = {}
    for case in CASES:
        x, w, _, options = _arrays(case, np.float32)
        g = numpy_kernels._geometry(x.shape, x.itemsize, w.shape, **options)
        layouts[case] = numba_conv._compact(g) is not None
    assert layouts["2-D, padding 1"] and layouts["3-D, padding 1"] and layouts["1-D"]
    assert not layouts["1-D, padding beyond the kernel"] and not layouts["3-D"]


def test_the_benchmark_shapes_take_the_compiled_paths():
    if not numba_conv.available:
        pytest.skip("numba or scipy is not installed")
    one = ((1, 1), (1, 1))
    # float32 3x3 / width-3 convolutions take Winograd (numba_winograd.py), float64 the
    # exact GEMM per kernel position.
    for x_shape, w_shape, padding, path in [((32, 64, 32, 32), (64, 64, 3, 3), one, "winograd"),
                                            ((64, 1, 28, 28), (6, 1, 5, 5), ((0, 0),) * 2,
                                             "direct"),
                                            ((64, 128, 50), (100, 128, 3), ((0, 0),),
                                             "winograd")]:
        dims = len(x_shape) - 2
        g = numpy_kernels._geometry(x_shape, 4, w_shape, (1,) * dims, padding, (1,) * dims, 1)
        assert numpy_kernels._conv_path(g, np.float32) == path
        g = numpy_kernels._geometry(x_shape, 8, w_shape, (1,) * dims, padding, (1,) * dims, 1)
        assert numpy_kernels._conv_path(g, np.float64) == path.replace("winograd", "offsets")


def test_scipy_blas_limit_leaves_numpys_blas_alone_through_a_symlinked_environment(
        two_threads, tmp_path, monkeypatch):
    """The convolution loops hold scipy's BLAS at one thread and leave NumPy's, whose count
    says how many threads they share blocks among. With the environment reached through a
    symlink (a symlinked venv), NumPy's BLAS was held too, and every block then ran on one
    thread: a 2-thread conv2d forward+backward took 44-50 ms instead of 25."""
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("scipy.linalg")  # loads scipy's own BLAS where it has one
    from xpnet.backend.kernels import numba_conv, numpy_threads

    real_site = pathlib.Path(np.__file__).resolve().parents[1]
    link = tmp_path / "site-packages"
    link.symlink_to(real_site, target_is_directory=True)
    monkeypatch.setattr(np, "__file__", str(link / "numpy" / "__init__.py"))
    monkeypatch.setattr(numba_conv, "_scipy_blas", None)  # asked again, through the link
    before = numpy_threads.thread_count()
    with numba_conv._scipy_blas_limit():
        assert numpy_threads.thread_count() == before == 2
    monkeypatch.setattr(numba_conv, "_scipy_blas", None)  # not kept for later tests
