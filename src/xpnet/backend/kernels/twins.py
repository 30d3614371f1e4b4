"""Generic twins: kernels written against the Array API standard only (no array-library imports).

They run on any backend and are the reference every fast path is tested against.
"""

from __future__ import annotations

import functools
import math

import array_api_compat

from . import register_generic


@functools.cache
def _has_float64(xp, device) -> bool:
    info = xp.__array_namespace_info__()
    return "float64" in info.dtypes(device=device, kind="real floating")


@register_generic("scatter_add")
def scatter_add(xp, index, values, size):
    """``out[index[i], ...] += values[i, ...]`` into zeros of shape ``(size, *values.shape[1:])``.

    Repeated indices accumulate. The standard has no scatter (and array-api-extra's ``at().add``
    drops duplicates), so: sort the rows by index, take a running sum, and difference it at each
    index's first and last position. Deterministic, O(N log N + (N + size) * D).
    """
    device = array_api_compat.device(values)
    n = index.shape[0]
    rest = tuple(values.shape[1:])
    width = math.prod(rest)
    flat = xp.reshape(values, (n, width))
    order = xp.argsort(index, stable=True)
    sorted_index = xp.take(index, order)
    sorted_rows = xp.take(flat, order, axis=0)
    out_dtype = values.dtype
    # A float32 running sum loses the small rows beside large partial sums; accumulate in float64
    # where the device has it.
    if out_dtype == xp.float32 and _has_float64(xp, device):
        sorted_rows = xp.astype(sorted_rows, xp.float64)
    csum = xp.cumulative_sum(sorted_rows, axis=0, include_initial=True)  # (n + 1, width)
    rows = xp.arange(size, dtype=index.dtype, device=device)
    lo = xp.searchsorted(sorted_index, rows, side="left")
    hi = xp.searchsorted(sorted_index, rows, side="right")
    out = xp.take(csum, hi, axis=0) - xp.take(csum, lo, axis=0)
    if out.dtype != out_dtype:
        out = xp.astype(out, out_dtype)
    return xp.reshape(out, (size, *rest))


_ERF_SERIES_TERMS = 40  # |x| <= 2: relative error ~1e-15 (checked against math.erf)
_ERFC_FRACTION_TERMS = 60  # |x| > 2: relative error of erfc ~4e-15


@register_generic("erf")
def erf(xp, x):
    """The error function, which the standard lacks, from two standard-only expansions.

    |x| <= 2: erf(x) = 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (2n+1)!! (all terms positive, no
    cancellation). |x| > 2: erfc(x) = e^(-x^2) / (sqrt(pi) (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))))
    evaluated bottom-up. Abramowitz & Stegun 7.1.6 and 7.1.14.
    """
    a = xp.abs(x)
    small = a <= 2
    s = xp.where(small, a, xp.zeros_like(a))
    s2 = s * s
    term = s
    total = s
    for n in range(1, _ERF_SERIES_TERMS):
        term = term * (2 * s2) / (2 * n + 1)
        total = total + term
    erf_small = (2 / math.sqrt(math.pi)) * xp.exp(-s2) * total
    # From |x| ~ 6 on, 1 - erfc(x) rounds to 1 even in float64; clipping at 10 keeps big * big
    # finite (no overflow warning) for huge and infinite x.
    big = xp.where(small, xp.full_like(a, 2.0), xp.minimum(a, xp.full_like(a, 10.0)))
    fraction = big
    for k in range(_ERFC_FRACTION_TERMS, 0, -1):
        fraction = big + (k / 2) / fraction
    erfc_big = xp.exp(-big * big) / (math.sqrt(math.pi) * fraction)
    out = xp.where(small, erf_small, 1 - erfc_big)
    return xp.copysign(out, x)  # odd, and erf(-0.0) is -0.0 as in math.erf
