"""numba_transpose (backend/kernels/numba_transpose.py), the recurrent loops' transpose: its
16 x 16 blocks of vector shuffles (float32) and element by element (other dtypes, strided
rows) against NumPy's ``.T``, with the edges past the last full block, row ranges, and
outputs that are strided views."""

from __future__ import annotations

import numpy as np
import pytest

from xpnet.backend.kernels import numba_transpose

pytestmark = pytest.mark.skipif(numba_transpose.numba is None,
                                reason="numba not installed (the fast extra)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows, batch, first, last", [
    (1024, 32, 0, 1024),  # an LSTM step's gate gradients: whole blocks only
    (16, 16, 0, 16),      # one block
    (40, 48, 3, 37),      # a range that starts inside a block, with edge rows
    (64, 33, 16, 48),     # an edge column
    (7, 5, 0, 7),         # smaller than a block
    (32, 16, 8, 8),       # no rows
])
def test_rows_match_numpy_and_touch_nothing_else(dtype, rows, batch, first, last):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, batch)).astype(dtype)
    wide = np.full((batch, rows + 10), np.nan, dtype=dtype)
    out = wide[:, 5:5 + rows]  # a strided view, as the LSTM's forward writes into
    numba_transpose.transpose_rows(out, a, first, last)
    np.testing.assert_array_equal(out[:, first:last], a[first:last].T)
    written = np.zeros(wide.shape, dtype=bool)
    written[:, 5 + first:5 + last] = True
    assert np.isnan(wide[~written]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_whole_transpose_and_strided_rows(dtype):
    """`transpose`; a source whose rows are not unit-strided goes element by element."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((48, 32)).astype(dtype)
    out = np.empty((32, 48), dtype=dtype)
    numba_transpose.transpose(out, a)
    np.testing.assert_array_equal(out, a.T)
    strided = rng.standard_normal((48, 64)).astype(dtype)[:, ::2]
    numba_transpose.transpose(out, strided)
    np.testing.assert_array_equal(out, strided.T)


def test_shuffled_blocks_match_the_python_form():
    """A float32 block through the shuffles against `block_in_python`, NaN and signed zeros
    included (a transpose moves bits, it computes nothing)."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((32, 32)).astype(np.float32)
    a[3, 7], a[9, 1], a[20, 30] = np.nan, -0.0, np.inf
    want = np.zeros((32, 32), dtype=np.float32)
    for row in (0, 16):
        for column in (0, 16):
            numba_transpose.block_in_python(a, row, column, want)
    got = np.zeros_like(want)
    numba_transpose.transpose(got, a)
    assert got.tobytes() == want.tobytes() == np.ascontiguousarray(a.T).tobytes()
