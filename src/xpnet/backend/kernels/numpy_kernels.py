"""NumPy fast paths; each is compared with its twin in tests/test_kernels.py."""

from __future__ import annotations

import numpy as np

from . import register_fast

try:  # SciPy comes with scikit-learn (the examples extra); without it the twin serves.
    from scipy import special as _scipy_special
except ImportError:
    _scipy_special = None


@register_fast("scatter_add", "numpy")
def scatter_add(xp, index, values, size):
    if values.ndim == 1 and values.dtype.kind == "f":
        # bincount is a single pass in C; it sums in float64, which is also the more accurate.
        return np.bincount(index, weights=values, minlength=size).astype(values.dtype, copy=False)
    out = np.zeros((size, *values.shape[1:]), dtype=values.dtype)
    np.add.at(out, index, values)
    return out


if _scipy_special is not None:
    @register_fast("erf", "numpy")
    def erf(xp, x):
        return _scipy_special.erf(x)
