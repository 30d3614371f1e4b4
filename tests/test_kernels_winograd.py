"""The Winograd convolution path (backend/kernels/numba_winograd.py, F(4x4, 3x3) and F(4, 3))
against the standard-only twins and torch: odd sizes, tiles crossing the edges, padding 0-2
(even one-sided), batch 1, channel counts that are multiples of nothing, with and without
bias, non-contiguous inputs, blocks of one tile row and of many, one and two threads, and
each gradient alone.

Tolerance: Winograd's float32 error is larger than a direct sum's (the transforms scale
values up and down by up to 8). Against a float64 result, max |error| / max |result| measured
up to 1.0e-6 on these shapes (outputs and both gradients), 2.4e-6 to 4.4e-6 for 64 to 256
channels at 32x32 (the twins' float32 direct sums: ~3e-7). The checks allow 2e-5 of the
largest magnitude, 5x the worst measured; a wrong coefficient in a transform gives errors of
1e-2 and more (checked by breaking one coefficient of `_bt`, `_at`, `_a` and `_b` in turn:
50, 49, 49 and 19 of the tests failed, every case each transform takes part in)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend.kernels import get_kernel, numba_winograd, numpy_kernels

pytestmark = pytest.mark.skipif(not numba_winograd.available,
                                reason="numba or scipy is not installed")

TOLERANCE = 2e-5  # of the largest magnitude; see the module docstring

# name: (x shape, out channels, padding pairs)
CASES = {
    "2-D, padding 1": ((2, 5, 9, 11), 7, ((1, 1), (1, 1))),
    "2-D, no padding": ((3, 6, 10, 13), 4, ((0, 0), (0, 0))),
    "2-D, padding 2": ((2, 3, 7, 6), 5, ((2, 2), (2, 2))),
    "2-D, one-sided padding": ((2, 4, 8, 9), 3, ((0, 1), (2, 0))),
    "2-D, batch 1, odd channels": ((1, 17, 13, 6), 19, ((1, 1), (1, 1))),
    "2-D, one output row": ((2, 4, 3, 21), 5, ((0, 0), (1, 1))),
    "2-D, tall": ((1, 3, 37, 5), 2, ((1, 1), (0, 0))),
    "1-D": ((3, 7, 17), 5, ((0, 0),)),
    "1-D, padding 1": ((2, 9, 23), 6, ((1, 1),)),
    "1-D, padding 2, short": ((4, 3, 3), 2, ((2, 2),)),
    "1-D, one-sided padding": ((2, 5, 12), 11, ((2, 0),)),
}


def _options(case):
    x_shape, _, padding = CASES[case]
    dims = len(x_shape) - 2
    return {"stride": (1,) * dims, "padding": padding, "dilation": (1,) * dims, "groups": 1}


def _arrays(case, seed=0):
    x_shape, out_channels, _ = CASES[case]
    rng = np.random.default_rng(seed)
    w_shape = (out_channels, x_shape[1], *(3,) * (len(x_shape) - 2))
    x, w, b = (rng.uniform(-1, 1, s).astype(np.float32)
               for s in (x_shape, w_shape, (out_channels,)))
    return x, w, b


def _run(fast, x, w, b, grad, options, need=(True, True)):
    backend = xpnet.backend.load("numpy")
    forward = get_kernel("conv_forward", backend, fast_paths=fast)
    backward = get_kernel("conv_backward", backend, fast_paths=fast)
    out = forward(np, x, w, b, **options)
    return (out, *backward(np, grad, x, w, need_input=need[0], need_weight=need[1], **options))


@pytest.fixture
def winograd_everywhere(monkeypatch):
    """Small shapes take the Winograd path too."""
    monkeypatch.setattr(numpy_kernels, "_MIN_WINOGRAD_CHANNELS", 1)
    monkeypatch.setattr(numpy_kernels, "_MIN_WINOGRAD_SIZE", {1: 1, 2: 1})


def _assert_close(got, want):
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == np.float32 and got.shape == want.shape
    scale = max(float(np.max(np.abs(want))), 1e-30)
    assert float(np.max(np.abs(got - want))) <= TOLERANCE * scale


def _reference(x, w, b, grad, options):
    """The twins in float64 on the same (float32) numbers."""
    return _run(False, *(a.astype(np.float64) for a in (x, w, b, grad)), options)


def _grad_for(x, w, b, options, seed=1):
    backend = xpnet.backend.load("numpy")
    out = get_kernel("conv_forward", backend, fast_paths=False)(np, x, w, b, **options)
    return np.random.default_rng(seed).uniform(-1, 1, out.shape).astype(np.float32)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("block_bytes", [1, 1 << 30], ids=["row_blocks", "one_block"])
@pytest.mark.parametrize("case", list(CASES))
def test_winograd_matches_the_twins(case, block_bytes, threads, winograd_everywhere,
                                    monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(numba_winograd, "_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(numba_winograd, "_WEIGHT_BLOCK_BYTES", block_bytes)
    x, w, b = _arrays(case)
    options = _options(case)
    g = numpy_kernels._geometry(x.shape, x.itemsize, w.shape, **options)
    assert numpy_kernels._conv_path(g, x.dtype) == "winograd"
    grad = _grad_for(x, w, b, options)
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        got = _run(True, x, w, b, grad, options)
    for a, e in zip(got, _reference(x, w, b, grad, options)):
        _assert_close(a, e)


@pytest.mark.parametrize("case", ["2-D, padding 1", "1-D, padding 1"])
def test_winograd_matches_torch(case, winograd_everywhere):
    """Forward, input and weight gradients against torch in float64 (the bias gradient
    is not a kernel's: ops/conv.py sums the output gradient)."""
    torch = pytest.importorskip("torch")
    x, w, b = _arrays(case, seed=2)
    options = _options(case)
    grad = _grad_for(x, w, b, options, seed=3)
    got = _run(True, x, w, b, grad, options)
    tx, tw, tb = (torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x, w, b))
    conv = torch.nn.functional.conv2d if x.ndim == 4 else torch.nn.functional.conv1d
    padding = tuple(lo for lo, _ in options["padding"])
    out = conv(tx, tw, tb, padding=padding)
    out.backward(torch.from_numpy(grad.astype(np.float64)))
    for a, e in zip(got, (out, tx.grad, tw.grad)):
        _assert_close(a, e.detach().numpy())


@pytest.mark.parametrize("case", ["2-D, padding 1", "1-D, padding 1"])
@pytest.mark.parametrize("need", [(True, False), (False, True)])
def test_winograd_backward_computes_only_what_is_needed(need, case, winograd_everywhere):
    x, w, b = _arrays(case)
    options = _options(case)
    grad = _grad_for(x, w, b, options)
    got = _run(True, x, w, b, grad, options, need)
    want = _reference(x, w, b, grad, options)
    for a, e, needed in zip(got[1:], want[1:], need):
        if needed:
            _assert_close(a, e)
        else:
            assert a is None


def test_no_bias_and_non_contiguous_inputs(winograd_everywhere):
    x, w, _ = _arrays("2-D, batch 1, odd channels")
    options = _options("2-D, batch 1, odd channels")
    grad = _grad_for(x, w, None, options)
    views = (np.asfortranarray(x), np.asfortranarray(w), np.asfortranarray(grad))
    wide = np.zeros((x.shape[0], x.shape[1], x.shape[2], 2 * x.shape[3]), np.float32)
    wide[..., ::2] = x  # a strided view as well
    for x_view in (views[0], wide[..., ::2]):
        got = _run(True, x_view, views[1], None, views[2], options)
        for a, e in zip(got, _reference(x, w, np.zeros(w.shape[0], np.float32), grad,
                                        options)):
            _assert_close(a, e)


def test_results_do_not_share_the_scratch_buffers(winograd_everywhere):
    x, w, b = _arrays("1-D")
    options = _options("1-D")
    grad = _grad_for(x, w, b, options)
    first = _run(True, x, w, b, grad, options)
    kept = [a.copy() for a in first]
    _run(True, 2 * x, 3 * w, b, 2 * grad, options)
    for a, k in zip(first, kept):
        np.testing.assert_array_equal(a, k)


def test_the_transforms_are_f43_and_the_written_out_ones_match():
    """transforms() satisfies the identity for its points (it asserts it), and the
    hand-written 1-D transforms in the kernels are its B^T, A^T, A and B."""
    at, g, bt = numba_winograd.transforms()
    assert at.shape == (4, 6) and g.shape == (6, 3) and bt.shape == (6, 6)
    eye6, eye4 = np.eye(6, dtype=np.float32), np.eye(4, dtype=np.float32)
    written_bt = np.array([numba_winograd._bt(*row) for row in eye6]).T
    written_at = np.array([numba_winograd._at(*row) for row in eye6]).T
    written_a = np.array([numba_winograd._a(*row) for row in eye4]).T
    written_b = np.array([numba_winograd._b(*row) for row in eye6]).T
    np.testing.assert_allclose(written_bt, bt, atol=1e-6)
    np.testing.assert_allclose(written_b, bt.T, atol=1e-6)
    np.testing.assert_allclose(written_at, at, atol=1e-6)
    np.testing.assert_allclose(written_a, at.T, atol=1e-6)
    # A correlation of 4 outputs from 6 inputs through the transforms, in float64.
    rng = np.random.default_rng(4)
    d, k = rng.standard_normal(6), rng.standard_normal(3)
    np.testing.assert_allclose(at @ ((g @ k) * (bt @ d)), np.correlate(d, k, "valid"),
                               rtol=1e-12)


def test_which_convolutions_take_winograd():
    def path(x_shape, w_shape, dtype=np.float32, stride=1, padding=1, dilation=1, groups=1):
        dims = len(x_shape) - 2
        g = numpy_kernels._geometry(x_shape, np.dtype(dtype).itemsize, w_shape,
                                    (stride,) * dims, ((padding, padding),) * dims,
                                    (dilation,) * dims, groups)
        return numpy_kernels._conv_path(g, np.dtype(dtype))

    assert path((2, 32, 16, 16), (32, 32, 3, 3)) == "winograd"
    assert path((2, 48, 40), (40, 48, 3)) == "winograd"
    assert path((2, 32, 16, 16), (32, 32, 3, 3), np.float64) == "offsets"  # gradchecks: exact
    assert path((2, 32, 16, 16), (32, 32, 3, 3), stride=2) == "offsets"
    assert path((2, 32, 16, 16), (32, 32, 3, 3), dilation=2) == "offsets"
    assert path((2, 32, 16, 16), (32, 16, 3, 3), groups=2) == "offsets"
    assert path((2, 32, 16, 16), (32, 32, 3, 3), padding=3) == "offsets"
    assert path((2, 32, 16, 16), (32, 32, 5, 5)) == "offsets"
    assert path((2, 16, 16, 16), (32, 16, 3, 3)) == "offsets"  # too few channels to pay
    assert path((2, 32, 8, 16), (32, 32, 3, 3)) == "offsets"  # too small
    assert path((2, 32, 30), (32, 32, 3)) == "offsets"
    assert path((2, 32, 4, 4, 4), (32, 32, 3, 3, 3)) == "offsets"  # 3-D


def test_functional_conv2d_takes_winograd_and_matches_torch():
    """Through F.conv2d and autograd (the bias gradient included), on a shape that takes
    the path by default."""
    torch = pytest.importorskip("torch")
    import xpnet.functional as F
    x, w, b = (np.random.default_rng(5).uniform(-1, 1, s).astype(np.float32)
               for s in ((2, 32, 12, 11), (40, 32, 3, 3), (40,)))
    g = numpy_kernels._geometry(x.shape, 4, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert numpy_kernels._conv_path(g, np.float32) == "winograd"
    with xpnet.use_backend("numpy"):
        tensors = [xpnet.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = F.conv2d(*tensors, padding=1)
        out.sum().backward()
        got = [out.numpy()] + [t.grad.numpy() for t in tensors]
    refs = [torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x, w, b)]
    want = torch.nn.functional.conv2d(*refs, padding=1)
    want.sum().backward()
    for a, e in zip(got, [want] + [r.grad for r in refs]):
        _assert_close(a, e.detach().numpy())


@pytest.mark.parametrize("threads", [1, 2])
def test_an_empty_batch(threads, winograd_everywhere):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    for case in ("2-D, padding 1", "1-D, padding 1"):
        x, w, b = _arrays(case)
        x = x[:0]
        options = _options(case)
        grad = _grad_for(x, w, b, options)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            got = _run(True, x, w, b, grad, options)
        for a, e in zip(got, _reference(x, w, b, grad, options)):
            assert a.shape == e.shape and a.dtype == np.float32
            np.testing.assert_array_equal(a, e)
