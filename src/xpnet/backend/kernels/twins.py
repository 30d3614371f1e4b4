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
