"""The fused batch- and group-norm kernels (ops/normalization.py's twins, the numba fast paths in
backend/kernels/numba_norms.py): each fast path against its twin on the same inputs, in
training and evaluation, with and without the affine part, in float32 and float64, on one and
two threads, over odd shapes; then the layers with fast paths on and off."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
import xpnet.nn as nn
from xpnet.backend.kernels import fast_path_families, get_kernel

# name: (input shape, weight and bias?, mean offset); batch norm views (N, C, *) as (N, C, L).
BATCH_CASES = {
    "2d": ((3, 5, 4, 7), True, 0.0),
    "2d no affine": ((2, 3, 3, 3), False, 0.0),
    "1d (N, C)": ((9, 6), True, 0.0),  # L = 1: the column kernel
    "1d (N, C), many rows": ((150, 5), True, 0.0),  # sums over several _COLUMN_ROWS chunks
    "1d (N, C, L)": ((4, 5, 11), True, 0.0),
    "one channel": ((7, 1, 3), True, 0.0),
    "large mean": ((8, 3, 17), True, 1e4),  # one-pass E[x^2] - E[x]^2 would lose every digit
    "large mean (N, C)": ((64, 3), True, 1e4),
}
GROUP_CASES = {  # name: (input shape, groups, weight and bias?, mean offset)
    "2d": ((3, 6, 4, 5), 3, True, 0.0),
    "no affine": ((2, 4, 7), 2, False, 0.0),
    "one group": ((2, 5, 3, 3), 1, True, 0.0),
    "a group per channel": ((3, 4, 9), 4, True, 0.0),
    "(N, C)": ((5, 6), 3, True, 0.0),
    "large mean": ((2, 4, 33), 2, True, 1e4),
}


def _tolerance(dtype, offset):
    if dtype == "float64":
        return dict(rtol=1e-9, atol=1e-9)
    if offset:  # 1e4 + N(0, 1) holds the noise to ~1e-3 in float32
        return dict(rtol=1e-3, atol=5e-3)
    return dict(rtol=1e-4, atol=1e-4)


def _assert_all_close(results, dtype, offset):
    for got, want in zip(*results):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == want.dtype
            assert got.shape == want.shape
            np.testing.assert_allclose(np.asarray(got), np.asarray(want),
                                       **_tolerance(dtype, offset))


@pytest.fixture
def small_blocks(monkeypatch):
    """Split even tiny inputs among threads, so two threads really run blocks."""
    from xpnet.backend.kernels import numba_norms
    monkeypatch.setattr(numba_norms, "_MIN_PARALLEL_SIZE", 0)


def _inputs(shape, affine, offset, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * 2 + offset).astype(dtype)
    g = rng.normal(size=shape).astype(dtype)
    c = shape[1]
    params = ((rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)) if affine
              else (None, None))
    return x, g, params


@pytest.mark.parametrize("family", fast_path_families("batch_norm_forward"))
@pytest.mark.parametrize("case", list(BATCH_CASES))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_fast_paths_match_the_twin(family, case, training, dtype, threads,
                                              small_blocks):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    shape, affine, offset = BATCH_CASES[case]
    x, g, (weight, bias) = _inputs(shape, affine, offset, dtype, seed=1)
    three = (shape[0], shape[1], int(np.prod(shape[2:])))
    b = xpnet.backend.load(family)
    x3, g3 = b.asarray(x.reshape(three)), b.asarray(g.reshape(three))
    w, bb = (None if a is None else b.asarray(a) for a in (weight, bias))
    if training:
        mean = rstd = None
    else:  # running statistics near the batch's, as after some training
        rng = np.random.default_rng(2)
        mean = b.asarray((x.reshape(three).mean(axis=(0, 2)) + rng.normal(size=shape[1]) * 0.1)
                         .astype(dtype))
        rstd = b.asarray(rng.uniform(0.3, 2.0, size=shape[1]).astype(dtype))
    results = []
    for fast in (True, False):
        forward = get_kernel("batch_norm_forward", b, fast_paths=fast)
        backward = get_kernel("batch_norm_backward", b, fast_paths=fast)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            out, m, var, r = forward(b.xp, x3, w, bb, mean, rstd, eps=1e-5)
            grads = backward(b.xp, g3, x3, w, m, r, training=training,
                             need=(True, affine, affine))
            only_params = backward(b.xp, g3, x3, w, m, r, training=training,
                                   need=(False, True, True))
        results.append((out, m, var, r, *grads, *only_params))
    assert get_kernel("batch_norm_forward", b, fast_paths=True) is not \
        get_kernel("batch_norm_forward", b, fast_paths=False)
    _assert_all_close(results, dtype, offset)


@pytest.mark.parametrize("family", fast_path_families("group_norm_forward"))
@pytest.mark.parametrize("case", list(GROUP_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_group_norm_fast_paths_match_the_twin(family, case, dtype, threads, small_blocks):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    shape, groups, affine, offset = GROUP_CASES[case]
    x, g, (weight, bias) = _inputs(shape, affine, offset, dtype, seed=3)
    three = (shape[0], shape[1], int(np.prod(shape[2:])))
    b = xpnet.backend.load(family)
    x3, g3 = b.asarray(x.reshape(three)), b.asarray(g.reshape(three))
    w, bb = (None if a is None else b.asarray(a) for a in (weight, bias))
    results = []
    for fast in (True, False):
        forward = get_kernel("group_norm_forward", b, fast_paths=fast)
        backward = get_kernel("group_norm_backward", b, fast_paths=fast)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            out, mean, rstd = forward(b.xp, x3, w, bb, groups=groups, eps=1e-5)
            grads = backward(b.xp, g3, x3, w, mean, rstd, groups=groups,
                             need=(True, affine, affine))
            only_params = backward(b.xp, g3, x3, w, mean, rstd, groups=groups,
                                   need=(False, True, True))
        results.append((out, mean, rstd, *grads, *only_params))
    _assert_all_close(results, dtype, offset)


def test_empty_batch_in_evaluation_takes_the_twin():
    b = xpnet.backend.load("numpy")
    x = np.zeros((0, 3, 4), dtype="float32")
    mean, rstd = np.zeros(3, dtype="float32"), np.ones(3, dtype="float32")
    out, *_ = get_kernel("batch_norm_forward", b)(b.xp, x, None, None, mean, rstd, eps=1e-5)
    assert out.shape == (0, 3, 4)


# -- the layers, fast paths on and off -------------------------------------------------------

LAYERS = {  # name: (make the layer, input shape)
    "BatchNorm1d (N, C)": (lambda: nn.BatchNorm1d(6), (10, 6)),
    "BatchNorm1d (N, C, L)": (lambda: nn.BatchNorm1d(4, affine=False), (5, 4, 7)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 6)),
    "BatchNorm2d no running stats": (lambda: nn.BatchNorm2d(3, track_running_stats=False),
                                     (2, 3, 4, 4)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 6), (3, 6, 4, 5)),
    "GroupNorm no affine": (lambda: nn.GroupNorm(3, 6, affine=False), (2, 6, 9)),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(4, affine=True), (3, 4, 9)),
    "InstanceNorm2d tracking": (lambda: nn.InstanceNorm2d(3, track_running_stats=True),
                                (2, 3, 5, 4)),
}


def _run_layer(name, dtype, fast, training):
    make, shape = LAYERS[name]
    xpnet.manual_seed(0)
    layer = make().to(dtype=getattr(xpnet, dtype))
    rng = np.random.default_rng(5)
    for p in layer.parameters():
        with xpnet.no_grad():
            p.copy_(xpnet.tensor(rng.uniform(-1.5, 1.5, size=p.shape).astype(dtype)))
    x = xpnet.tensor((rng.normal(size=shape) * 3 + 1).astype(dtype), requires_grad=True)
    grad = xpnet.tensor(rng.normal(size=shape).astype(dtype))
    with xpnet.use_fast_paths(fast):
        layer.train()
        layer(x)  # one step to move the running statistics
        layer.train(training)
        out = layer(x)
        out.backward(grad)
    buffers = [b.numpy() for b in layer.buffers() if b.dtype.is_floating_point]
    return [out.numpy(), x.grad.numpy(), *(p.grad.numpy() for p in layer.parameters()),
            *buffers]


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_match_with_fast_paths_on_and_off(name, training, dtype):
    fast, twin = (_run_layer(name, dtype, f, training) for f in (True, False))
    tol = _tolerance(dtype, 0.0)
    assert len(fast) == len(twin)
    for got, want in zip(fast, twin):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol)


def test_batch_norm_of_a_large_mean_keeps_its_precision():
    # Channels of 1e4 + N(0, 1) in float32: the output is the standardised noise.
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(16, 3, 64))
    layer = nn.BatchNorm1d(3, affine=False)
    y = layer(xpnet.tensor((noise + 1e4).astype("float32"))).numpy()
    want = ((noise - noise.mean(axis=(0, 2), keepdims=True))
            / noise.std(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(y, want, atol=5e-3)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * (1e4 + noise.mean(axis=(0, 2))),
                               rtol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
def test_run_shared_runs_every_block_once_and_raises_a_block_error(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels.numpy_threads import run_shared
    seen = []
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        run_shared(seen.append, list(range(50)))
        assert sorted(seen) == list(range(50))

        def fail_on_seven(block):
            if block == 7:
                raise ValueError("block 7")
        with pytest.raises(ValueError, match="block 7"):
            run_shared(fail_on_seven, list(range(20)))
