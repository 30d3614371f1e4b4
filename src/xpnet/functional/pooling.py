"""Pooling functions with PyTorch's names, signatures and semantics (``torch.nn.functional``).

Inputs are (N, C, L) / (N, C, H, W), or the same without the batch axis. Arguments are checked
here, before any work, so a pooling module and its function raise the same errors. The
primitives are in `xpnet.ops.pool`.
"""

from __future__ import annotations

import itertools
import math
import numbers

from xpnet import ops
from xpnet.autograd import grad_mode
from xpnet.autograd.tensor import Tensor
from xpnet.ops.pool import AdaptiveAvgPool, AvgPool, MaxPool, adaptive_bounds, pool_output_size

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "max_over_time", "max_pool1d",
           "max_pool2d"]


def _int_tuple(op, name, value, d, minimum):
    """``value`` (an int or d ints) as a d-tuple of ints >= minimum: TypeError for anything but
    ints, ValueError for a wrong count or a value below ``minimum``."""
    what = "positive" if minimum == 1 else "non-negative"
    message = f"{op}: {name} must be a {what} int or a tuple of {d} such ints, got {value!r}"
    if isinstance(value, numbers.Integral):
        values = (value,) * d
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(message)
    else:
        values = tuple(value)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        raise TypeError(message)
    if len(values) != d or any(v < minimum for v in values):
        raise ValueError(message)
    return tuple(int(v) for v in values)


def _check_input(op, x, d):
    """Whether ``x`` has a batch axis; an error unless it is a floating (N, C, *spatial) or
    (C, *spatial) tensor with d non-empty spatial axes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {x.dtype.name}")
    if x.ndim not in (d + 1, d + 2):
        layout = "(N, C, L)" if d == 1 else "(N, C, H, W)"
        raise ValueError(f"{op}: expected a {d + 1}-D or {d + 2}-D input {layout}, got shape "
                         f"{x.shape}")
    if any(n < 1 for n in x.shape[-d:]):
        raise ValueError(f"{op}: cannot pool an input with an empty spatial axis, shape "
                         f"{x.shape}")
    return x.ndim == d + 2


def _window_args(op, x, d, kernel_size, stride, padding, ceil_mode, dilation=1):
    """Checked (kernel, stride, padding, dilation, out_sizes) for a sliding-window pool."""
    kernel = _int_tuple(op, "kernel_size", kernel_size, d, 1)
    # PyTorch takes an empty stride as "the kernel size" too.
    if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0):
        stride = kernel
    else:
        stride = _int_tuple(op, "stride", stride, d, 1)
    padding = _int_tuple(op, "padding", padding, d, 0)
    dilation = _int_tuple(op, "dilation", dilation, d, 1)
    # PyTorch bounds the padding by the kernel size, dilated or not.
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    span = tuple((k - 1) * e + 1 for k, e in zip(kernel, dilation))
    extent = f"kernel_size {kernel}" if span == kernel else f"the dilated kernel size {span}"
    spatial = x.shape[-d:]
    out = tuple(pool_output_size(n, k, s, p, bool(ceil_mode), e)
                for n, k, s, p, e in zip(spatial, kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        padded = tuple(n + 2 * p for n, p in zip(spatial, padding))
        raise ValueError(f"{op}: {extent} is larger than the padded input {padded} (input of "
                         f"shape {x.shape}, padding {padding})")
    if span != kernel:
        _check_windows_touch_input(op, x, kernel, stride, padding, dilation, out)
    return kernel, stride, padding, dilation, out


def _check_windows_touch_input(op, x, kernel, stride, padding, dilation, out):
    # A dilated window can step over a short input and see only padding; PyTorch's CPU kernel
    # then corrupts memory (torch 2.13, max_pool1d(x of length 1, 2, 1, 1, dilation=2)).
    for axis, (n, k, s, p, e, o) in enumerate(zip(x.shape[-len(kernel):], kernel, stride,
                                                   padding, dilation, out)):
        for i in range(o):
            if not any(0 <= i * s - p + j * e < n for j in range(k)):
                raise ValueError(f"{op}: window {i} along spatial axis {axis} holds only "
                                 f"padding (input of shape {x.shape}, kernel_size {kernel}, "
                                 f"stride {stride}, padding {padding}, dilation {dilation})")


def _batched(fn, x, batched):
    if batched:
        return fn(x)
    return ops.squeeze(fn(ops.unsqueeze(x, 0)), 0)


def _max_pool(op, d, x, kernel_size, stride, padding, dilation, ceil_mode):
    batched = _check_input(op, x, d)
    args = _window_args(op, x, d, kernel_size, stride, padding, ceil_mode, dilation)
    return _batched(lambda t: MaxPool.apply(t, *args), x, batched)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over sliding windows of the last axis: (N, C, L) -> (N, C, L_out).

    Parameters
    ----------
    x : Tensor of shape (N, C, L) or (C, L)
    kernel_size : int
        Window length.
    stride : int, optional
        Step between windows; default ``kernel_size``.
    padding : int, default=0
        Implicit -inf on both ends, at most ``kernel_size // 2``.
    dilation : int, default=1
        Step between the elements of a window.
    ceil_mode : bool, default=False
        Round the output length up, so a last partial window is kept.

    Returns
    -------
    Tensor of shape (N, C, L_out)
        ``L_out = floor((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``
        (ceil in ceil mode). The gradient goes to the first maximum of each window, as in
        PyTorch.

    Raises
    ------
    ValueError
        For a bad size, a padding above half the kernel or a window longer than the padded input.
    """
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over sliding windows of the last two axes: (N, C, H, W) -> (N, C, H_out, W_out).

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or (height, width)
    pairs; otherwise as `max_pool1d`, per axis.

    Examples
    --------
    >>> import xpnet
    >>> x = xpnet.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode)


def _avg_divisor(spatial, kernel, stride, padding, out, count_include_pad):
    """PyTorch's divisor per output position: the window's size within the padded input
    (``count_include_pad``) or within the input; one number where all are equal."""
    per_axis = []
    for n, k, s, p, o in zip(spatial, kernel, stride, padding, out):
        counts = []
        for i in range(o):
            start = i * s - p
            end = min(start + k, n + p)
            if not count_include_pad:
                start, end = max(start, 0), min(end, n)
            counts.append(end - start)
        per_axis.append(counts)
    if all(len(set(c)) == 1 for c in per_axis):
        return math.prod(c[0] for c in per_axis)
    if len(per_axis) == 1:
        return [float(c) for c in per_axis[0]]
    rows, cols = per_axis
    return [[float(r * c) for c in cols] for r in rows]


def _avg_pool(op, d, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override=None):
    batched = _check_input(op, x, d)
    kernel, stride, padding, _, out = _window_args(op, x, d, kernel_size, stride, padding,
                                                   ceil_mode)
    if divisor_override is None:
        divisor = _avg_divisor(x.shape[-d:], kernel, stride, padding, out, count_include_pad)
    elif isinstance(divisor_override, bool) or not isinstance(divisor_override,
                                                              numbers.Integral):
        raise TypeError(f"{op}: divisor_override must be a positive int or None, got "
                        f"{type(divisor_override).__name__} {divisor_override!r}")
    elif divisor_override > 0:
        divisor = int(divisor_override)
    else:
        raise ValueError(f"{op}: divisor_override must be a positive int or None, got "
                         f"{divisor_override!r}")
    return _batched(lambda t: AvgPool.apply(t, kernel, stride, padding, out, divisor), x, batched)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of the last axis: (N, C, L) -> (N, C, L_out).

    Arguments as `max_pool1d` (without dilation); the padding is zeros. ``count_include_pad``
    divides by the window's length including padding (PyTorch's default), else by its
    elements inside the input.
    """
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of the last two axes: (N, C, H, W) -> (N, C, H_out, W_out).

    Arguments as `max_pool2d` (without dilation), ``count_include_pad`` as in `avg_pool1d`;
    ``divisor_override``, when given, divides every window's sum instead.
    """
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_sizes(op, d, x, output_size):
    if output_size is None or isinstance(output_size, numbers.Integral):
        sizes = (output_size,) * d
    elif isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__iter__"):
        raise TypeError(f"{op}: output_size must be an int or a tuple of {d}, got "
                        f"{type(output_size).__name__} {output_size!r}")
    else:
        sizes = tuple(output_size)
    if len(sizes) != d:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {d}, got "
                         f"{output_size!r}")
    # None keeps that axis's input size, as in PyTorch.
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[-d:]))
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in sizes):
        raise TypeError(f"{op}: output_size must hold positive ints (or None), got "
                        f"{output_size!r}")
    if any(s < 1 for s in sizes):
        raise ValueError(f"{op}: output_size must hold positive ints (or None), got "
                         f"{output_size!r}")
    return tuple(int(s) for s in sizes)


def _adaptive(op, d, x, output_size):
    batched = _check_input(op, x, d)
    sizes = _adaptive_sizes(op, d, x, output_size)
    return _batched(lambda t: AdaptiveAvgPool.apply(t, sizes), x, batched)


def adaptive_avg_pool1d(x, output_size):
    """Average over ``output_size`` windows covering the last axis: (N, C, L) -> (N, C, out).

    Window i spans ``[floor(i * L / out), ceil((i + 1) * L / out))``, as in PyTorch.
    """
    return _adaptive("adaptive_avg_pool1d", 1, x, output_size)


def adaptive_avg_pool2d(x, output_size):
    """Average over an ``output_size`` grid of windows covering the last two axes:
    (N, C, H, W) -> (N, C, H_out, W_out).

    ``output_size`` is an int or an (H_out, W_out) pair whose entries may be None (keep that
    size). Windows as in `adaptive_avg_pool1d`, per axis; ``output_size=1`` is global average
    pooling.
    """
    return _adaptive("adaptive_avg_pool2d", 2, x, output_size)


def _window_taps(spatial, sizes):
    """(positions, taps): for each output cell in row-major order, the flat in-plane positions
    of its adaptive window in row-major order, each window padded to ``taps`` entries by
    repeating its last position (a repeat never changes which position wins)."""
    axes = [adaptive_bounds(n, out) for n, out in zip(spatial, sizes)]
    widths = [max(end - start for start, end in bounds) for bounds in axes]
    strides = [math.prod(spatial[i + 1:]) for i in range(len(spatial))]
    per_axis = [[[min(start + k, end - 1) * stride for k in range(width)]
                 for start, end in bounds]
                for bounds, width, stride in zip(axes, widths, strides)]
    positions = []
    for cells in itertools.product(*per_axis):
        positions.extend(sum(parts) for parts in itertools.product(*cells))
    return positions, math.prod(widths)


def _adaptive_argmax(t, sizes):
    """In-plane positions (N, C, *sizes) of each adaptive window's maximum, as PyTorch's CPU
    kernel picks it: the first maximum in row-major order, or the last NaN if there is one."""
    xp, device = t._backend.xp, t._backend.device
    n, c, *spatial = t.shape
    positions, taps = _window_taps(spatial, sizes)
    cells = math.prod(sizes)
    plane = xp.reshape(t.array, (n * c, math.prod(spatial)))
    where = xp.asarray(positions, dtype=xp.int64, device=device)
    values = xp.reshape(xp.take(plane, where, axis=1), (n * c, cells, taps))
    best = xp.argmax(values, axis=2)
    nan = xp.isnan(values)
    if bool(xp.any(nan)):
        last_nan = taps - 1 - xp.argmax(xp.astype(xp.flip(nan, axis=2), xp.int8), axis=2)
        best = xp.where(xp.any(nan, axis=2), last_nan, best)
    cell = xp.arange(cells, dtype=xp.int64, device=device) * taps
    chosen = xp.take(where, xp.reshape(best + cell, (-1,)), axis=0)
    return xp.reshape(chosen, (n, c, *sizes))


def _adaptive_max(op, d, x, output_size, return_indices):
    batched = _check_input(op, x, d)
    sizes = _adaptive_sizes(op, d, x, output_size)
    t = x if batched else ops.unsqueeze(x, 0)
    with grad_mode.no_grad():
        index = _adaptive_argmax(t, sizes)
    xp, device = t._backend.xp, t._backend.device
    n, c, *spatial = t.shape
    plane = math.prod(spatial)
    # One gather from the flat input: its backward sends each window's gradient to its maximum.
    offsets = xp.reshape(xp.arange(n * c, dtype=xp.int64, device=device) * plane,
                         (n, c, *(1 for _ in sizes)))
    out = ops.reshape(ops.take(ops.reshape(t, (-1,)), xp.reshape(index + offsets, (-1,)),
                               axis=0), (n, c, *sizes))
    indices = Tensor._make(index, t._backend)
    if not batched:
        out, indices = ops.squeeze(out, 0), ops.squeeze(indices, 0)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Maximum over ``output_size`` windows covering the last axis: (N, C, L) -> (N, C, out).

    Window i spans ``[floor(i * L / out), ceil((i + 1) * L / out))``, as in PyTorch; the
    gradient goes to the window's first maximum (its last NaN, if any).

    Parameters
    ----------
    input : Tensor of shape (N, C, L) or (C, L)
    output_size : int or tuple of 1 int (None keeps L)
    return_indices : bool, default=False
        Also return the int64 positions (along L) of the maxima.

    Returns
    -------
    Tensor of shape (N, C, out), or (values, indices) with ``return_indices``
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Maximum over an ``output_size`` grid of windows covering the last two axes:
    (N, C, H, W) -> (N, C, H_out, W_out).

    ``output_size`` is an int or an (H_out, W_out) pair whose entries may be None (keep that
    size); windows as `adaptive_max_pool1d`, per axis. ``return_indices`` also returns the
    int64 positions of the maxima in each flattened H * W plane (PyTorch's, which
    ``max_unpool2d`` reads).

    Examples
    --------
    >>> import xpnet
    >>> x = xpnet.arange(16.0).reshape(1, 1, 4, 4)
    >>> values, indices = adaptive_max_pool2d(x, 2, return_indices=True)
    >>> values.tolist(), indices.tolist()
    ([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[5, 7], [13, 15]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def max_over_time(x):
    """Max-over-time pooling for text (Collobert et al., 2011; Kim, 2014): the maximum over the
    last axis, (N, C, L) -> (N, C).

    Tied maxima share the gradient evenly (as `xpnet.ops.max` and PyTorch's ``amax``).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"max_over_time: expected a Tensor, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"max_over_time: expected a non-empty last (time) axis, got shape "
                         f"{x.shape}")
    return ops.max(x, axis=-1)
