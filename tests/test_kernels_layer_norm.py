"""The fused layer-norm kernels (ops/normalization.py's twins, the numba fast path in
backend/kernels/numba_layer_norm.py): the fast path against the twin, with and without the
affine part, on one and two threads, and where the row mean dwarfs its spread."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend.kernels import fast_path_families, get_kernel

CASES = {  # name: (rows, width, weight and bias?, mean offset)
    "affine": (70, 33, True, 0.0),
    "no affine": (5, 8, False, 0.0),
    "one column": (4, 1, True, 0.0),
    "no rows": (0, 6, True, 0.0),
    "large mean": (9, 64, True, 1e4),  # one-pass E[x^2] - E[x]^2 would lose every digit
}


@pytest.mark.parametrize("family", fast_path_families("layer_norm_forward"))
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_layer_norm_fast_paths_match_the_twin(family, case, dtype, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if family == "numpy":  # small blocks, so that several run (on two threads)
        from xpnet.backend.kernels import numba_layer_norm
        monkeypatch.setattr(numba_layer_norm, "_ROWS_PER_BLOCK", 8)
    rows, width, affine, offset = CASES[case]
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(rows, width)) + offset).astype(dtype)
    g = rng.normal(size=(rows, width)).astype(dtype)
    weight, bias = ((rng.normal(size=width).astype(dtype), rng.normal(size=width).astype(dtype))
                    if affine else (None, None))
    b = xpnet.backend.load(family)
    args = [None if a is None else b.asarray(a) for a in (x, weight, bias)]
    results = []
    for fast in (True, False):
        forward = get_kernel("layer_norm_forward", b, fast_paths=fast)
        backward = get_kernel("layer_norm_backward", b, fast_paths=fast)
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            out, mean, rstd = forward(b.xp, *args, eps=1e-5)
            grads = backward(b.xp, b.asarray(g), args[0], args[1], mean, rstd,
                             need=(True, affine, affine))
        results.append((out, mean, rstd, *grads))
    assert get_kernel("layer_norm_forward", b, fast_paths=True) is not \
        get_kernel("layer_norm_forward", b, fast_paths=False)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    if dtype == "float32" and offset:  # 1e4 + N(0, 1) holds the noise to ~1e-3 in float32
        tol = dict(rtol=1e-3, atol=5e-3)
    for got, want in zip(*results):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == want.dtype
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), **tol)


def test_layer_norm_of_a_large_mean_keeps_its_precision():
    # Rows of 1e4 + N(0, 1) in float32: the output is the standardised noise.
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(16, 128))
    x = xpnet.tensor((noise + 1e4).astype("float32"))
    y = xpnet.nn.functional.layer_norm(x, (128,)).numpy()
    want = (noise - noise.mean(1, keepdims=True)) / noise.std(1, keepdims=True)
    np.testing.assert_allclose(y, want, atol=5e-3)
