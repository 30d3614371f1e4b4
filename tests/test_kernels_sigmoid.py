"""The sigmoid kernel: the NumPy fast path (scipy's expit for small arrays, 1 / (1 + exp(-x))
in place for large ones) against the standard-only twin, and against torch, at the extremes."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend.kernels import fast_path_families, get_kernel

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("family", fast_path_families("sigmoid"))
@pytest.mark.parametrize("size", [0, 4, 5000])  # below and above the expit threshold
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scipy", [True, False])
def test_sigmoid_fast_paths_match_the_twin_and_torch(family, size, dtype, scipy, monkeypatch):
    if family == "numpy":
        from xpnet.backend.kernels import numpy_kernels
        if not scipy:
            monkeypatch.setattr(numpy_kernels, "_expit", False)
        elif numpy_kernels._expit is False:
            pytest.skip("scipy is not installed")
    rng = np.random.default_rng(0)
    extremes = np.array([-1e4, -800, -100, -88, -30, -1, 0, 1, 30, 88, 100, 800, 1e4])
    x = np.concatenate([extremes, rng.normal(scale=20, size=size)])
    x = x.astype(dtype)
    b = xpnet.backend.load(family)
    fast = np.asarray(get_kernel("sigmoid", b, fast_paths=True)(b.xp, b.asarray(x)))
    twin = np.asarray(get_kernel("sigmoid", b, fast_paths=False)(b.xp, b.asarray(x)))
    want = torch.sigmoid(torch.from_numpy(x)).numpy()
    assert fast.dtype == twin.dtype == np.dtype(dtype)
    tiny = np.finfo(dtype).tiny  # below it the fast path may give 0 for a subnormal value
    np.testing.assert_allclose(fast, twin, rtol=4 * np.finfo(dtype).eps, atol=tiny)
    np.testing.assert_allclose(fast, want, rtol=4 * np.finfo(dtype).eps, atol=tiny)
    assert np.all((fast >= 0) & (fast <= 1))
