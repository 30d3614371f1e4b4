"""Generic twins: kernels written against the Array API standard only (no array-library imports).

They run on any backend and are the reference every fast path is tested against.
"""

from __future__ import annotations

import functools
import itertools
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


@register_generic("gather_scale_scatter_add")
def gather_scale_scatter_add(xp, source, gather_index, scatter_index, scale, size):
    """``out[scatter_index[i], :] += scale[i] * source[gather_index[i], :]`` into zeros of shape
    ``(size, source.shape[1])``.

    An embedding bag in one step each way: forward gathers weight rows and sums them into
    bags (gather by word, scatter by bag); backward gathers the bags' gradients and sums them
    into the words' rows (gather by bag, scatter by word). Fast paths avoid the (n, dim)
    intermediate this twin builds.
    """
    rows = xp.take(source, gather_index, axis=0) * xp.reshape(scale, (-1, 1))
    return scatter_add(xp, scatter_index, rows, size)


@register_generic("add_to_rows")
def add_to_rows(xp, target, index, values):
    """``target`` with ``values[i, ...]`` added to row ``index[i]`` (repeated rows accumulate).

    The row-sparse optimizer updates and embedding renormalisation use it to change only the
    rows a lookup touched. Fast paths write into ``target`` and return it (as PyTorch's
    ``index_add_``), so a large table is never copied; the standard has no integer-array
    assignment, so this twin returns a new array. Callers use only the result.
    """
    return target + scatter_add(xp, index, values, target.shape[0])


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


# -- convolution -------------------------------------------------------------------------------
# Shared by every conv kernel: x of shape (N, C, *spatial), weight (O, C / groups, *kernel),
# ``stride`` and ``dilation`` one int per spatial axis, ``padding`` one (before, after) pair per
# spatial axis (asymmetric for padding='same' with an even kernel, as in PyTorch).

def conv_output_size(size, kernel, stride, padding, dilation):
    """Spatial output shape: floor((size + before + after - dilation * (kernel - 1) - 1) /
    stride) + 1 per axis."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(size, kernel, stride, padding, dilation))


def conv_kernel_offsets(kernel):
    """Every kernel position, in the row-major order of the weight's trailing axes."""
    return list(itertools.product(*(range(k) for k in kernel)))


def conv_window(offset, out_size, stride, dilation):
    """The slices of a padded input that kernel position ``offset`` reads, one per spatial axis."""
    return tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                 for i, m, s, d in zip(offset, out_size, stride, dilation))


def _im2col(xp, x, kernel, out_size, stride, padding, dilation):
    """(N, C, *spatial) -> columns of shape (N, C, prod(kernel), *out_size): one strided slice of
    the zero-padded input per kernel position."""
    if any(lo or hi for lo, hi in padding):
        padded_shape = (*x.shape[:2], *(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding)))
        padded = xp.zeros(padded_shape, dtype=x.dtype, device=array_api_compat.device(x))
        padded[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], padding)))] = x
    else:
        padded = x
    return xp.stack([padded[(..., *conv_window(offset, out_size, stride, dilation))]
                     for offset in conv_kernel_offsets(kernel)], axis=2)


@register_generic("conv_forward")
def conv_forward(xp, x, weight, bias, *, stride, padding, dilation, groups):
    """Cross-correlation (PyTorch's convolution) of x with weight, plus bias.

    im2col then one batched matmul over (batch, group): the columns of group g hold its
    C / groups channels times every kernel position, matching the weight's row-major layout.
    """
    n, channels = x.shape[:2]
    out_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    out_size = conv_output_size(x.shape[2:], kernel, stride, padding, dilation)
    cols = _im2col(xp, x, kernel, out_size, stride, padding, dilation)
    cols = xp.reshape(cols, (n, groups, (channels // groups) * math.prod(kernel),
                             math.prod(out_size)))
    w = xp.reshape(weight, (1, groups, out_channels // groups, cols.shape[2]))
    out = xp.reshape(xp.matmul(w, cols), (n, out_channels, *out_size))
    if bias is not None:
        out = out + xp.reshape(bias, (out_channels, *(1 for _ in out_size)))
    return out


@register_generic("conv_backward")
def conv_backward(xp, grad_out, x, weight, *, stride, padding, dilation, groups,
                  need_input=True, need_weight=True):
    """Gradients of `conv_forward` with respect to x and weight (None where not needed).

    grad_weight = grad_out @ columns.T summed over the batch; grad_x = col2im(weight.T @
    grad_out), which adds each kernel position's slice back where im2col took it from. The
    columns are recomputed rather than kept from forward: they are prod(kernel) times the input.
    """
    n, channels = x.shape[:2]
    out_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    out_size = tuple(grad_out.shape[2:])
    width = (channels // groups) * math.prod(kernel)
    g = xp.reshape(grad_out, (n, groups, out_channels // groups, math.prod(out_size)))
    w = xp.reshape(weight, (1, groups, out_channels // groups, width))
    grad_x = grad_weight = None
    if need_weight:
        cols = _im2col(xp, x, kernel, out_size, stride, padding, dilation)
        cols = xp.reshape(cols, (n, groups, width, math.prod(out_size)))
        grad_weight = xp.reshape(xp.sum(xp.matmul(g, xp.matrix_transpose(cols)), axis=0),
                                 weight.shape)
    if need_input:
        grad_cols = xp.reshape(xp.matmul(xp.matrix_transpose(w), g),
                               (n, channels, math.prod(kernel), *out_size))
        grad_x = _col2im(xp, grad_cols, x.shape, kernel, out_size, stride, padding, dilation)
    return grad_x, grad_weight


def _col2im(xp, cols, shape, kernel, out_size, stride, padding, dilation):
    """The adjoint of `_im2col`: columns (N, C, prod(kernel), *out_size) added back where
    im2col read them, into zeros of shape (N, C, *spatial); the padding is cut off."""
    padded_shape = (*shape[:2], *(m + lo + hi for m, (lo, hi) in zip(shape[2:], padding)))
    padded = xp.zeros(padded_shape, dtype=cols.dtype, device=array_api_compat.device(cols))
    # Slice assignment, not scatter: within one kernel position the windows never overlap.
    for i, offset in enumerate(conv_kernel_offsets(kernel)):
        window = (..., *conv_window(offset, out_size, stride, dilation))
        padded[window] = padded[window] + cols[:, :, i, ...]
    return padded[(..., *(slice(lo, lo + m) for m, (lo, _) in zip(shape[2:], padding)))]


@register_generic("conv_transpose_forward")
def conv_transpose_forward(xp, x, weight, bias, *, output_size, stride, padding, dilation,
                           groups):
    """Transposed convolution of x (N, C_in, *in_size) with weight (C_in, C_out / groups,
    *kernel), plus bias: the input gradient of `conv_forward`, x in the output gradient's place.

    ``output_size`` is the spatial shape of the result, a convolution of which (same options)
    has exactly ``in_size``; each input pixel spreads ``weight`` over its window (weight.T @ x,
    then col2im).
    """
    n, in_channels = x.shape[:2]
    kernel, in_size = tuple(weight.shape[2:]), tuple(x.shape[2:])
    out_channels = weight.shape[1] * groups
    width = weight.shape[1] * math.prod(kernel)
    g = xp.reshape(x, (n, groups, in_channels // groups, math.prod(in_size)))
    w = xp.reshape(weight, (1, groups, in_channels // groups, width))
    cols = xp.reshape(xp.matmul(xp.matrix_transpose(w), g),
                      (n, out_channels, math.prod(kernel), *in_size))
    out = _col2im(xp, cols, (n, out_channels, *output_size), kernel, in_size, stride, padding,
                  dilation)
    if bias is not None:
        out = out + xp.reshape(bias, (out_channels, *(1 for _ in in_size)))
    return out
