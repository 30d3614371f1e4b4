"""The erf kernel: its standard-only twin against math.erf, each fast path against the twin, and
`xpnet.ops.erf` against torch.special.erf with gradcheck on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
import xpnet.functional as F
from xpnet.backend import load
from xpnet.backend.kernels import fast_path_families, get_kernel
from xpnet.dtypes import as_dtype

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

# The twin switches from the series to the continued fraction at |x| = 2; beyond ~6 erf rounds
# to +-1; huge values must not overflow (warnings are errors here).
SPECIAL = [0.0, -0.0, 2.0, np.nextafter(2.0, 3.0), np.nextafter(2.0, 1.0), -2.0, 1e-30, -1e-30,
           26.0, -26.0, np.inf, -np.inf, np.nan]
HUGE = {"float64": [1e300, -1e300, 5e-324], "float32": [3e38, -3e38, 1e-45]}
TOLERANCE = {"float64": 1e-14, "float32": 1e-6}  # absolute error against math.erf


def _grid(dtype):
    return np.concatenate([np.linspace(-8.0, 8.0, 4001), SPECIAL, HUGE[dtype]]).astype(dtype)


def _run(kernel, backend, x):
    b = load(backend)
    return xpnet.Tensor(kernel(b.xp, b.asarray(x)))


def _check_against_math_erf(got, x, dtype):
    assert got.dtype is as_dtype(dtype)
    want = np.array([math.erf(float(v)) for v in x])
    y = got.numpy().astype(np.float64)
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(y), nan)
    assert np.max(np.abs(y[~nan] - want[~nan])) < TOLERANCE[dtype]
    zero = x == 0
    np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(x[zero]))  # erf(-0.0) = -0.0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_erf_twin_matches_math_erf_on_every_backend(backend, dtype):
    x = _grid(dtype)
    got = _run(get_kernel("erf", load(backend), fast_paths=False), backend, x)
    assert_on_device(got, backend)
    _check_against_math_erf(got, x, dtype)


@pytest.mark.parametrize("family", fast_path_families("erf"))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_erf_fast_paths_match_the_twin(family, dtype):
    b = load(family)
    fast = get_kernel("erf", b, fast_paths=True)
    twin = get_kernel("erf", b, fast_paths=False)
    assert fast is not twin
    x = _grid(dtype)
    got, want = _run(fast, family, x), _run(twin, family, x)
    assert got.dtype is want.dtype is as_dtype(dtype)
    # Each is within TOLERANCE of math.erf, so of each other within twice that.
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=2 * TOLERANCE[dtype])
    _check_against_math_erf(got, x, dtype)


def _erf_inputs():
    # Both sides of the switch at |x| = 2 and the saturated tails.
    return [np.array([-5.0, -2.5, -2.0, -1.0, -1e-3, 0.0, 0.3, 1.9, 2.1, 3.0, 6.5])]


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "twin"])
def test_erf_matches_torch(backend, fast):
    with xpnet.use_fast_paths(fast):
        check_forward(backend, xpnet.ops.erf, lambda t: torch.special.erf(t), _erf_inputs())
        check_grads(backend, xpnet.ops.erf, lambda t: torch.special.erf(t), _erf_inputs())


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "twin"])
def test_erf_gradcheck(backend, fast):
    with xpnet.use_fast_paths(fast):
        gradcheck(xpnet.ops.erf, random_arrays((3, 4), seed=3, low=-3.0, high=3.0))


def test_erf_keeps_float32(backend):
    out = xpnet.ops.erf(xpnet.tensor([-1.0, 0.5], dtype="float32"))
    assert_on_device(out, backend)
    assert out.dtype is xpnet.float32
    assert_close(out, np.array([math.erf(-1.0), math.erf(0.5)]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "twin"])
def test_exact_gelu_through_either_erf_matches_torch(backend, fast):
    with xpnet.use_fast_paths(fast):
        check_forward(backend, F.gelu, lambda t: torch.nn.functional.gelu(t), _erf_inputs())
        check_grads(backend, F.gelu, lambda t: torch.nn.functional.gelu(t), _erf_inputs())
