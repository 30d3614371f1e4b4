"""Scans along one axis: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff.

cumsum and cumprod use the standard's ``cumulative_sum`` / ``cumulative_prod``. The standard has
no running maximum or log-add scan, so cummax/cummin and logcumsumexp run a Hillis-Steele scan:
log2(n) whole-array steps, each combining every element with the one ``2**k`` before it.
"""

from __future__ import annotations

import math

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function

from . import return_types
from ._util import axis_arg, normalize_axis
from .sorting import _select, _tensor

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"]


def _reverse_cumsum(xp, a, axis):
    """``sum(a[j] for j >= i)`` along ``axis``."""
    return xp.flip(xp.cumulative_sum(xp.flip(a, axis=axis), axis=axis), axis=axis)


def _shifted(a, axis, step):
    """(later, earlier): ``a[i]`` and ``a[i - step]`` for every ``i >= step`` along ``axis``."""
    lead = (slice(None),) * axis
    return a[(*lead, slice(step, None), ...)], a[(*lead, slice(None, a.shape[axis] - step), ...)]


def _head(a, axis, step):
    return a[((slice(None),) * axis + (slice(0, step), ...))]


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return ctx.xp.cumulative_sum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return _reverse_cumsum(ctx.xp, g, ctx.axis), None


class CumProd(Function):
    """Running product. Its gradient without zeros is ``reverse_cumsum(g * out) / x``; that
    divides by zero where x has zeros, so each row is split at its first zero (PyTorch's
    cumprod_backward does the same): before it the formula holds; at it, the gradient is the
    reverse cumsum of ``g`` times the running product with that zero replaced by one; after it,
    every product the element enters also holds the first zero, so the gradient is zero."""

    @staticmethod
    def forward(ctx, x, axis):
        out = ctx.xp.cumulative_prod(x, axis=axis)
        ctx.axis = axis
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        zero = x == 0
        zeros_so_far = xp.cumulative_sum(xp.astype(zero, xp.int32), axis=axis)
        before = zeros_so_far == 0
        one = xp.ones_like(x)
        grad = _reverse_cumsum(xp, g * out, axis) / xp.where(before, x, one)
        if not bool(xp.any(zero)):
            return grad, None
        first_zero = xp.logical_and(zero, zeros_so_far == 1)
        skipped = xp.cumulative_prod(xp.where(first_zero, one, x), axis=axis)
        at_zero = _reverse_cumsum(xp, g * skipped, axis)
        nothing = xp.zeros_like(grad)
        return xp.where(before, grad, xp.where(first_zero, at_zero, nothing)), None


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, axis):
        out = _logcumsumexp(ctx.xp, x, axis)
        ctx.axis = axis
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # grad_k = sum_{j >= k} g_j exp(x_k - out_j). Summing exp terms of mixed sign directly
        # overflows or cancels; instead the positive and negative parts of g each become a
        # reverse log-cumsum-exp of log|g_j| - out_j (PyTorch's approach), then exp(x_k + .).
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        minus_inf = xp.full_like(g, -math.inf)

        def log_part(mask):
            safe = xp.where(mask, xp.abs(g), xp.ones_like(g))
            logs = xp.where(mask, xp.log(safe) - out, minus_inf)
            scanned = xp.flip(_logcumsumexp(xp, xp.flip(logs, axis=axis), axis), axis=axis)
            return xp.exp(x + scanned)

        return log_part(g > 0) - log_part(g < 0), None


def _logcumsumexp(xp, x, axis):
    out, n, step = x, x.shape[axis], 1
    while step < n:
        later, earlier = _shifted(out, axis, step)
        out = xp.concat([_head(out, axis, step), xp.logaddexp(later, earlier)], axis=axis)
        step *= 2
    return out


def _running_extreme(xp, device, a, axis, largest):
    """(values, indices) of the running maximum (minimum) along ``axis``.

    Equal values move the index to the later one and NaN counts as larger than everything
    (as PyTorch's cummax/cummin): combining an earlier (value, index) with a later one keeps the
    later unless the earlier is strictly better. That choice is associative, so the scan may
    combine partial results in any grouping.
    """
    n = a.shape[axis]
    shape = [1] * a.ndim
    shape[axis] = n
    index = xp.broadcast_to(xp.reshape(xp.arange(n, dtype=xp.int64, device=device),
                                       tuple(shape)), tuple(a.shape))
    values = a
    is_float = xp.isdtype(a.dtype, "real floating")
    better = xp.greater if largest else xp.less
    step = 1
    while step < n:
        later, earlier = _shifted(values, axis, step)
        later_index, earlier_index = _shifted(index, axis, step)
        keep_earlier = better(earlier, later)
        if is_float:
            keep_earlier = xp.logical_and(
                xp.logical_or(keep_earlier, xp.isnan(earlier)), xp.logical_not(xp.isnan(later)))
        values = xp.concat([_head(values, axis, step),
                            xp.where(keep_earlier, earlier, later)], axis=axis)
        index = xp.concat([_head(index, axis, step),
                           xp.where(keep_earlier, earlier_index, later_index)], axis=axis)
        step *= 2
    return index


# -- user-facing functions -------------------------------------------------------------------

def _scan_args(op, input, dim, axis):
    _tensor(op, "input", input)
    dim = axis_arg(op, axis, dim)
    if dim is None:
        raise TypeError(f"{op}: missing the dim to scan along (dim=int)")
    axis = normalize_axis(op, dim, input.ndim)
    if input.ndim == 0:
        from .shape import reshape
        return reshape(input, (1,)), 0, True
    return input, axis, False


def _scan_dtype(op, x, dtype):
    """PyTorch's dtype rule for cumsum/cumprod: cast to ``dtype`` when given; bool and integer
    inputs otherwise accumulate in int64."""
    if dtype is not None:
        return x.astype(_dt.as_dtype(dtype))
    if x.dtype.kind == "bool" or x.dtype.is_integer:
        return x.astype(_dt.int64)
    return x


def _restore(out, zero_d):
    if zero_d:
        from .shape import reshape
        return reshape(out, ())
    return out


def cumsum(input, dim=None, *, dtype=None, axis=None):  # noqa: A002
    """Running sum along ``dim``: ``out[i] = input[0] + ... + input[i]``.

    Parameters
    ----------
    input : Tensor
    dim : int
        The axis to scan along (required; ``axis=`` is the same parameter).
    dtype : xpnet dtype, optional
        Cast the input to it first. Default: input's dtype, int64 for bool and integers.

    Returns
    -------
    Tensor of input's shape
    """
    x, axis, zero_d = _scan_args("cumsum", input, dim, axis)
    x = _scan_dtype("cumsum", x, dtype)
    return _restore(CumSum.apply(x, axis), zero_d)


def cumprod(input, dim=None, *, dtype=None, axis=None):  # noqa: A002
    """Running product along ``dim``: ``out[i] = input[0] * ... * input[i]``; the gradient is
    exact where the input holds zeros (one or several), as PyTorch's. Arguments as `cumsum`."""
    x, axis, zero_d = _scan_args("cumprod", input, dim, axis)
    x = _scan_dtype("cumprod", x, dtype)
    return _restore(CumProd.apply(x, axis), zero_d)


def _cum_extreme(op, input, dim, axis, largest):
    x, axis, zero_d = _scan_args(op, input, dim, axis)
    if x.shape[axis] == 0:
        index = x._backend.xp.zeros(x.shape, dtype=x._backend.xp.int64, device=x._backend.device)
    else:
        index = _running_extreme(x._backend.xp, x._backend.device, x.array, axis, largest)
    kind = return_types.cummax if largest else return_types.cummin
    return _select(x, index, axis, True, zero_d, kind)


def cummax(input, dim=None, *, axis=None):  # noqa: A002
    """Running maximum along ``dim`` and the index where it was reached.

    Returns
    -------
    return_types.cummax
        ``values`` and ``indices`` (int64) of input's shape. At equal values the index moves to
        the later element; NaN propagates (as PyTorch). The gradient of ``values`` goes to the
        element at ``indices``.
    """
    return _cum_extreme("cummax", input, dim, axis, True)


def cummin(input, dim=None, *, axis=None):  # noqa: A002
    """Running minimum along ``dim`` and its index; the rules of `cummax`."""
    return _cum_extreme("cummin", input, dim, axis, False)


def logcumsumexp(input, dim=None, *, axis=None):  # noqa: A002
    """``log(cumsum(exp(input), dim))`` without overflow or underflow (a scan of logaddexp)."""
    x, axis, zero_d = _scan_args("logcumsumexp", input, dim, axis)
    if not x.dtype.is_floating_point:
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {x.dtype.name}")
    return _restore(LogCumSumExp.apply(x, axis), zero_d)


def diff(input, n=1, dim=None, prepend=None, append=None, *, axis=None):  # noqa: A002
    """``n``-th forward difference along ``dim``: ``out[i] = input[i + 1] - input[i]``, repeated.

    Parameters
    ----------
    input : Tensor with at least one axis
    n : int, default=1
        How many times to difference.
    dim : int, default=-1
    prepend, append : Tensor, optional
        Concatenated before / after ``input`` along ``dim`` first (same shape off ``dim``).

    Returns
    -------
    Tensor
        ``n`` shorter along ``dim``; bool inputs give ``input[i + 1] != input[i]`` (as
        PyTorch). Differentiable (a composition of slicing and subtraction).
    """
    from .arithmetic import sub
    from .logic import ne
    from .shape import concat
    _tensor("diff", "input", input)
    dim = axis_arg("diff", axis, dim, -1)
    if input.ndim == 0:
        raise ValueError("diff: expected a tensor with at least one axis, got a 0-d tensor")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    axis = normalize_axis("diff", dim, input.ndim)
    parts = []
    for name, extra in (("prepend", prepend), ("input", input), ("append", append)):
        if extra is None:
            continue
        _tensor("diff", name, extra)
        if extra.ndim != input.ndim or any(
                a != b for i, (a, b) in enumerate(zip(extra.shape, input.shape)) if i != axis):
            raise ValueError(f"diff: {name} of shape {extra.shape} does not match input "
                             f"{input.shape} off dim {axis}")
        parts.append(extra)
    out = concat(parts, axis) if len(parts) > 1 else input
    lead = (slice(None),) * axis
    for _ in range(n):
        if out.shape[axis] == 0:
            break
        later, earlier = out[(*lead, slice(1, None), ...)], out[(*lead, slice(None, -1), ...)]
        out = ne(later, earlier) if out.dtype.kind == "bool" else sub(later, earlier)
    return out
