"""numba_row_sums.sum_rows, the embedding bags' sums held in vector registers, against its loop
in Python (``sum_rows_in_python``, run as Python): widths below one vector, of whole vectors
and with columns left over, float32 and float64, weighted or not, int32 and int64 indices,
padding entries, an empty range and a range that ends the input."""

from __future__ import annotations

import numpy as np
import pytest

row_sums = pytest.importorskip("xpnet.backend.kernels.numba_row_sums")
if row_sums.numba is None:
    pytest.skip("numba not installed (the fast extra)", allow_module_level=True)


# float32 lanes are 16 (a group 64), float64 8 (a group 32): widths around both.
@pytest.mark.parametrize("width", [1, 5, 8, 16, 19, 32, 64, 85, 128, 131])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("padding", [-1, 4])
@pytest.mark.parametrize("entries", [(3, 3), (2, 30), (25, 37)])
def test_sum_rows_matches_its_loop_in_python(width, dtype, weighted, index_dtype, padding,
                                             entries):
    rng = np.random.default_rng(width)
    table = rng.standard_normal((20, width)).astype(dtype)
    index = rng.integers(0, 20, 37).astype(index_dtype)
    index[[5, 6, 20]] = 4  # padding entries where padding is 4
    scale = rng.uniform(0.5, 2.0, 37).astype(dtype)
    share = dtype(0.25)
    start, end = entries
    got = np.full((3, width), np.nan, dtype=dtype)
    want = got.copy()
    row_sums.sum_rows(table, index, scale, weighted, padding, start, end, share, got, 1)
    row_sums.sum_rows_in_python(table, index, scale, weighted, padding, start, end, share, want,
                                1)
    # Entry after entry in both; the weighted products may fuse with the sums (FMA) compiled.
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol)
    assert np.isnan(got[[0, 2]]).all()  # no other row written
    if not weighted:  # adds alone round the same in any vector width
        np.testing.assert_array_equal(got[1], want[1])
