"""Max and average pooling over one or two spatial axes with numba (the ``fast`` extra), for the
NumPy fast paths ``max_pool_*`` / ``avg_pool_*`` in numpy_kernels.py; ``available`` is False
without numba, and those fall back to their NumPy forms.

One pass over the input: each output element scans its window and keeps the first maximum, a
NaN winning as in the twin and PyTorch's CPU kernel, padding never winning; backward adds each
gradient to the input element its window chose. At (32, 64, 32, 32) float32, 2x2, one thread:
3.9 ms forward where the strided NumPy form took 9.7 ms and PyTorch 9.3-10.0 ms; forward +
backward 7.2 ms against PyTorch's 11.0 ms. Any stride,
padding and dilation; planes are shared among `numpy_threads.thread_count` threads
(`numpy_threads.run_compiled`).

Average pooling sums each window's in-input elements in the twin's order (padding adds
nothing) and divides by PyTorch's divisor for that position; backward adds ``g / divisor`` to
the window. At (32, 64, 32, 32) float32, 2x2, one thread: forward 3.4 ms in the twin's NumPy
form, 0.77 here (PyTorch 3.8), forward + backward 13.8 -> 1.8 ms (PyTorch 8.4); the twin's
form also ran on one thread where PyTorch uses two.
"""

from __future__ import annotations

import numpy as np

from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

available = numba is not None
_PLANES_PER_BLOCK = 64


if available:
    @compiled
    def _forward_planes(x, geometry, best, arg, start, stop):
        kh, kw, sh, sw, ph, pw, dh, dw = geometry
        height, width = x.shape[1], x.shape[2]
        for b in range(start, stop):
            for i in range(best.shape[1]):
                for j in range(best.shape[2]):
                    m = x[b, 0, 0]
                    k = 0
                    seen = False
                    for u in range(kh):
                        r = i * sh - ph + u * dh
                        if r < 0 or r >= height:
                            continue
                        for v in range(kw):
                            c = j * sw - pw + v * dw
                            if c < 0 or c >= width:
                                continue
                            value = x[b, r, c]
                            if not seen or value > m or value != value:
                                m = value
                                k = u * kw + v
                                seen = True
                    best[b, i, j] = m
                    arg[b, i, j] = k

    @compiled
    def _backward_planes(g, arg, geometry, grad, start, stop):
        kh, kw, sh, sw, ph, pw, dh, dw = geometry
        for b in range(start, stop):
            for i in range(g.shape[1]):
                for j in range(g.shape[2]):
                    k = arg[b, i, j]
                    r = i * sh - ph + (k // kw) * dh
                    grad[b, r, j * sw - pw + (k % kw) * dw] += g[b, i, j]


    # Row by row: for each window offset (u, v), one strided pass over the output row's valid
    # columns (LLVM vectorises it), rather than a window loop per output element with its
    # bounds tests (3.2 -> 1.0 ms forward at (32, 64, 32, 32), 2x2). Each output still adds
    # its window in the twin's order, row-major over the offsets.
    @compiled
    def _columns(v, sw, pw, width, out_width):
        """The output columns j whose input column j * sw - pw + v lies in [0, width)."""
        lo = max(0, -(-(pw - v) // sw))
        hi = min(out_width, (width - 1 + pw - v) // sw + 1)
        return lo, max(lo, hi)

    # The 2x2 window of stride 2 inside the input, the commonest by far, has loops of its own:
    # with the window's size and stride constants, LLVM vectorises the row (0.55 ms for the
    # forward above, where the general loops take 2.4 ms: their strides are variables).
    @compiled
    def _avg_forward_2x2(x, divisor, out, start, stop):
        for b in range(start, stop):
            for i in range(out.shape[1]):
                row, top, bottom = out[b, i], x[b, 2 * i], x[b, 2 * i + 1]
                for j in range(out.shape[2]):
                    total = top[2 * j] + top[2 * j + 1] + bottom[2 * j] + bottom[2 * j + 1]
                    row[j] = total / divisor[i, j]

    @compiled
    def _avg_backward_2x2(g, divisor, grad, start, stop):
        for b in range(start, stop):
            for i in range(g.shape[1]):
                row, top, bottom = g[b, i], grad[b, 2 * i], grad[b, 2 * i + 1]
                for j in range(g.shape[2]):
                    share = row[j] / divisor[i, j]
                    top[2 * j] = share
                    top[2 * j + 1] = share
                    bottom[2 * j] = share
                    bottom[2 * j + 1] = share

    @compiled
    def _avg_forward_planes(x, geometry, divisor, out, start, stop):
        kh, kw, sh, sw, ph, pw = geometry
        height, width = x.shape[1], x.shape[2]
        out_width = out.shape[2]
        for b in range(start, stop):
            for i in range(out.shape[1]):
                row = out[b, i]
                row[:] = 0
                for u in range(kh):
                    r = i * sh - ph + u
                    if r < 0 or r >= height:
                        continue
                    line = x[b, r]
                    for v in range(kw):
                        lo, hi = _columns(v, sw, pw, width, out_width)
                        for j in range(lo, hi):
                            row[j] += line[j * sw - pw + v]
                for j in range(out_width):
                    row[j] /= divisor[i, j]

    @compiled
    def _avg_backward_planes(g, geometry, divisor, grad, start, stop):
        kh, kw, sh, sw, ph, pw = geometry
        height, width = grad.shape[1], grad.shape[2]
        out_width = g.shape[2]
        share = np.empty(out_width, dtype=g.dtype)
        for b in range(start, stop):
            for i in range(g.shape[1]):
                for j in range(out_width):
                    share[j] = g[b, i, j] / divisor[i, j]
                for u in range(kh):
                    r = i * sh - ph + u
                    if r < 0 or r >= height:
                        continue
                    line = grad[b, r]
                    for v in range(kw):
                        lo, hi = _columns(v, sw, pw, width, out_width)
                        for j in range(lo, hi):
                            line[j * sw - pw + v] += share[j]


    # Their planes in blocks on threads (numpy_threads.run_compiled).

    @parallel
    def _forward_planes_blocks(x, geometry, best, arg, bounds):
        for i in numba.prange(bounds.shape[0]):
            _forward_planes(x, geometry, best, arg, bounds[i, 0], bounds[i, 1])

    @parallel
    def _backward_planes_blocks(g, arg, geometry, grad, bounds):
        for i in numba.prange(bounds.shape[0]):
            _backward_planes(g, arg, geometry, grad, bounds[i, 0], bounds[i, 1])

    @parallel
    def _avg_forward_2x2_blocks(x, divisor, out, bounds):
        for i in numba.prange(bounds.shape[0]):
            _avg_forward_2x2(x, divisor, out, bounds[i, 0], bounds[i, 1])

    @parallel
    def _avg_backward_2x2_blocks(g, divisor, grad, bounds):
        for i in numba.prange(bounds.shape[0]):
            _avg_backward_2x2(g, divisor, grad, bounds[i, 0], bounds[i, 1])

    @parallel
    def _avg_forward_planes_blocks(x, geometry, divisor, out, bounds):
        for i in numba.prange(bounds.shape[0]):
            _avg_forward_planes(x, geometry, divisor, out, bounds[i, 0], bounds[i, 1])

    @parallel
    def _avg_backward_planes_blocks(g, geometry, divisor, grad, bounds):
        for i in numba.prange(bounds.shape[0]):
            _avg_backward_planes(g, geometry, divisor, grad, bounds[i, 0], bounds[i, 1])


def _planes(x_shape, kernel, stride, padding, dilation):
    """(planes, height, width) and the 2-D geometry of a 1-D or 2-D pooling."""
    if len(kernel) == 1:
        geometry = (1, kernel[0], 1, stride[0], 0, padding[0], 1, dilation[0])
        return (-1, 1, x_shape[-1]), tuple(int(n) for n in geometry)
    geometry = (kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1],
                dilation[0], dilation[1])
    return (-1, x_shape[-2], x_shape[-1]), tuple(int(n) for n in geometry)


def _blocks(planes):
    """Blocks of `_PLANES_PER_BLOCK` planes (`numpy_threads.block_bounds`); one on one thread."""
    if thread_count() <= 1:
        return block_bounds(planes, 1)
    return block_bounds(planes, -(-planes // _PLANES_PER_BLOCK))


def max_pool_forward(x, kernel, stride, padding, dilation, out_sizes):
    shape, geometry = _planes(x.shape, kernel, stride, padding, dilation)
    x3 = np.ascontiguousarray(x).reshape(shape)
    out_shape = (x3.shape[0], 1 if len(kernel) == 1 else out_sizes[0], out_sizes[-1])
    best = np.empty(out_shape, dtype=x.dtype)
    arg = np.empty(out_shape, dtype=np.int32)
    if x3.shape[0] and x3.size:
        run_compiled(_forward_planes_blocks, (x3, geometry, best, arg), _blocks(x3.shape[0]))
    lead = x.shape[:x.ndim - len(kernel)]
    return best.reshape(*lead, *out_sizes), arg.reshape(*lead, *out_sizes)


def max_pool_backward(g, arg, in_shape, kernel, stride, padding, dilation):
    shape, geometry = _planes(in_shape, kernel, stride, padding, dilation)
    grad = np.zeros(in_shape, dtype=g.dtype)
    grad3 = grad.reshape(shape)
    out_shape = (grad3.shape[0], 1 if len(kernel) == 1 else g.shape[-2], g.shape[-1])
    g3 = np.ascontiguousarray(g).reshape(out_shape)
    arg3 = np.ascontiguousarray(arg).reshape(out_shape)
    if grad3.shape[0] and g3.size:
        run_compiled(_backward_planes_blocks, (g3, arg3, geometry, grad3),
                     _blocks(grad3.shape[0]))
    return grad


def _avg_geometry(x_shape, kernel, stride, padding, out_sizes, divisor, dtype):
    """(planes, height, width), the 2-D geometry and the divisor as an (out_h, out_w) array."""
    shape, geometry = _planes(x_shape, kernel, stride, padding, (1,) * len(kernel))
    out_2d = (1 if len(kernel) == 1 else out_sizes[0], out_sizes[-1])
    d = np.asarray(divisor, dtype=dtype)  # a number, or (out_w,) / (out_h, out_w) lists
    divisors = np.ascontiguousarray(np.broadcast_to(d.reshape(out_2d) if d.ndim else d, out_2d))
    return shape, geometry[:6], out_2d, divisors


def _is_2x2(geometry, plane_shape, out_2d):
    """Whether the windows are 2x2 of stride 2, unpadded, each inside the input."""
    return geometry == (2, 2, 2, 2, 0, 0) and 2 * out_2d[0] <= plane_shape[-2] \
        and 2 * out_2d[1] <= plane_shape[-1]


def avg_pool_forward(x, kernel, stride, padding, out_sizes, divisor):
    shape, geometry, out_2d, divisors = _avg_geometry(x.shape, kernel, stride, padding,
                                                      out_sizes, divisor, x.dtype)
    x3 = np.ascontiguousarray(x).reshape(shape)
    out = np.empty((x3.shape[0], *out_2d), dtype=x.dtype)
    if x3.shape[0] and out.size:
        if _is_2x2(geometry, x3.shape, out_2d):
            blocks, args = _avg_forward_2x2_blocks, (x3, divisors, out)
        else:
            blocks, args = _avg_forward_planes_blocks, (x3, geometry, divisors, out)
        run_compiled(blocks, args, _blocks(x3.shape[0]))
    return out.reshape(*x.shape[:x.ndim - len(kernel)], *out_sizes)


def avg_pool_backward(g, in_shape, kernel, stride, padding, out_sizes, divisor):
    shape, geometry, out_2d, divisors = _avg_geometry(in_shape, kernel, stride, padding,
                                                      out_sizes, divisor, g.dtype)
    tiled = _is_2x2(geometry, shape[1:], out_2d)
    # The 2x2 loop writes every input element that a window covers: only the rest needs zeros.
    grad = np.empty(in_shape, dtype=g.dtype) if tiled else np.zeros(in_shape, dtype=g.dtype)
    grad3 = grad.reshape(shape)
    g3 = np.ascontiguousarray(g).reshape(grad3.shape[0], *out_2d)
    if tiled:
        grad3[:, 2 * out_2d[0]:] = 0
        grad3[:, :, 2 * out_2d[1]:] = 0
        blocks, args = _avg_backward_2x2_blocks, (g3, divisors, grad3)
    else:
        blocks, args = _avg_backward_planes_blocks, (g3, geometry, divisors, grad3)
    if grad3.shape[0] and g3.size:
        run_compiled(blocks, args, _blocks(grad3.shape[0]))
    return grad
