"""Convolution as one GEMM per kernel position, read straight from the padded input: numba
loops calling scipy's BLAS (sgemm/dgemm with leading dimensions and beta), for the NumPy fast
paths ``conv_forward`` / ``conv_backward`` in numpy_kernels.py. ``available`` is False without
numba or scipy; those kernels then keep their im2col form.

Layout (numpy_kernels.py's phase layout, with the samples of a block side by side): the padded
input is one flat row per channel holding each sample's phase row in turn, so kernel position
k's columns for the whole block are the row from ``offsets[k]`` on, a (C, N) matrix with the
row length as leading dimension. BLAS reads it where it lies: no im2col copy. Forward
accumulates ``W_k (O, C) @ X_k`` over k (beta = 1) into a wide (O, N) grid; backward takes
``G @ X_k.T`` for the weight gradient and adds ``W_k.T @ G`` back at offset k for the input
gradient (col2im without the columns). Columns between samples and past the output are junk:
dropped from the output, zero in the output gradient.

With stride 1 the lines of the last axis share their padding (`_compact`), which cuts the
junk columns. A small direct loop (`_direct`) runs forwards with few channels per group.

Figures (float32, one thread, ms, quiet moments of a shared 2-core machine): conv2d
32x64x32x32 3x3 pad 1 forward ~24 where the GEMMs alone take ~19.5 (OpenBLAS at ~130 GFLOP/s
on these shapes; 9 GEMMs of K = 64 run as fast as one of K = 576), the pad and the copy out
~2.5 (memory-bound); torch's oneDNN 16-24. The GEMMs are the floor here: beating torch's best
needs fewer products, not less copying, and numba_winograd.py does that for float32 3x3 and
width-3 kernels of stride 1 (conv2d above: forward 11.3-13.5 ms); this path keeps float64 (the
gradchecks: Winograd's rounding is coarser), other kernels, strides, dilations and groups, and
convolutions too small for Winograd to pay (numpy_kernels._conv_path). Blocks of samples are
shared among `numpy_threads.thread_count` threads, each GEMM single-threaded (scipy's BLAS
held at one thread meanwhile): at two threads this beat OpenBLAS's own threads by far on a
loaded machine.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from . import numpy_threads
from .numba_jit import compiled, parallel

try:
    import numba
    from llvmlite import binding
    from numba.extending import get_cython_function_address
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS that the loops call)
except ImportError:  # the library works without them
    numba = None

available = numba is not None


if available:
    # Bound by symbol name, not as a ctypes pointer, so that the compiled loops can be cached
    # (numba refuses to cache a function holding a pointer). Every argument is a pointer,
    # passed as an address (intp: the same register on the C ABI).
    for _name in ("sgemm", "dgemm"):
        binding.add_symbol(f"xpnet_scipy_{_name}",
                           get_cython_function_address("scipy.linalg.cython_blas", _name))
    _signature = numba.types.void(*(numba.types.intp,) * 13)
    _sgemm = numba.types.ExternalFunction("xpnet_scipy_sgemm", _signature)
    _dgemm = numba.types.ExternalFunction("xpnet_scipy_dgemm", _signature)

    @compiled
    def _gemm(trans_a, trans_b, m, n, k, a, a_at, lda, b, b_at, ldb, beta, c, c_at, ldc,
              ints, scalars, flags):
        """Row-major c[c_at:] (m x n, ldc) = op(a[a_at:]) @ op(b[b_at:]) + beta * c, on flat
        arrays of one dtype; op transposes when trans_*. Fortran BLAS is column-major: it
        computes c.T = op(b).T @ op(a).T, so a and b swap places. Fortran takes every
        argument by address: ints (6 int32), scalars (2 of c's dtype) and flags (2 uint8)
        hold them, made by the caller, which keeps them alive through the call (numba frees
        an array after its last use, and the last use of an array made here would be taking
        its address, before the call)."""
        ints[0], ints[1], ints[2], ints[3], ints[4], ints[5] = n, m, k, ldb, lda, ldc
        scalars[0], scalars[1] = 1, beta
        flags[0] = 84 if trans_b else 78  # 'T' or 'N'
        flags[1] = 84 if trans_a else 78
        size = c.itemsize
        i = ints.ctypes.data
        s = scalars.ctypes.data
        f = flags.ctypes.data
        args = (f, f + 1, i, i + 4, i + 8, s, b.ctypes.data + size * b_at, i + 12,
                a.ctypes.data + size * a_at, i + 16, s + size, c.ctypes.data + size * c_at,
                i + 20)
        if size == 4:
            _sgemm(*args)
        else:
            _dgemm(*args)

    @compiled
    def _gemm_arguments(like):
        return np.empty(6, np.int32), np.empty(2, like.dtype), np.empty(2, np.uint8)

    @compiled
    def _forward(flat, ld, weight, offsets, wide, ldw, columns, groups):
        """wide[g] (O/g, columns) = sum_k weight[g, k] @ flat[g rows, offsets[k]:]."""
        kernel, o_g, c_g = weight.shape[1], weight.shape[2], weight.shape[3]
        w = weight.ravel()
        ints, scalars, flags = _gemm_arguments(weight)
        for g in range(groups):
            for k in range(kernel):
                _gemm(False, False, o_g, columns, c_g, w, (g * kernel + k) * o_g * c_g, c_g,
                      flat, g * c_g * ld + offsets[k], ld, 0.0 if k == 0 else 1.0,
                      wide, g * o_g * ldw, ldw, ints, scalars, flags)

    @compiled
    def _weight_grad(flat, ld, grad, ldw, offsets, grad_weight, columns, groups):
        """grad_weight[g, k] (O/g, C/g) += grad[g] @ flat[g rows, offsets[k]:].T."""
        kernel, o_g, c_g = grad_weight.shape[1], grad_weight.shape[2], grad_weight.shape[3]
        gw = grad_weight.ravel()
        ints, scalars, flags = _gemm_arguments(grad_weight)
        for g in range(groups):
            for k in range(kernel):
                _gemm(False, True, o_g, c_g, columns, grad, g * o_g * ldw, ldw,
                      flat, g * c_g * ld + offsets[k], ld, 1.0,
                      gw, (g * kernel + k) * o_g * c_g, c_g, ints, scalars, flags)

    @compiled
    def _input_grad(grad, ldw, weight, offsets, grad_flat, ld, columns, groups):
        """grad_flat[g rows, offsets[k]:] += weight[g, k].T @ grad[g], for every k."""
        kernel, o_g, c_g = weight.shape[1], weight.shape[2], weight.shape[3]
        w = weight.ravel()
        ints, scalars, flags = _gemm_arguments(weight)
        for g in range(groups):
            for k in range(kernel):
                _gemm(True, False, c_g, columns, o_g, w, (g * kernel + k) * o_g * c_g, c_g,
                      grad, g * o_g * ldw, ldw, 1.0,
                      grad_flat, g * c_g * ld + offsets[k], ld, ints, scalars, flags)


    @compiled
    def _grid_out(wide, row, starts, bias, out, s0, n):
        """out[s0 + s, o, r, :] = wide[o, s * row + starts[r]:][:width] (+ bias[o]): the
        output rows of the wide grid, out as (N, O, rows, width). NumPy's strided copy with
        the bias broadcast took 18 ms of a 130 ms conv2d forward here; this loop under 1."""
        channels, width = out.shape[1], out.shape[3]
        for s in range(n):
            for o in range(channels):
                add = bias[o] if bias.shape[0] else 0
                for r in range(starts.shape[0]):
                    at = s * row + starts[r]
                    for j in range(width):
                        out[s0 + s, o, r, j] = wide[o, at + j] + add

    @compiled
    def _grid_in(grad, row, starts, wide, s0, n):
        """The inverse of `_grid_out` without bias: grad (N, O, rows, width) into the wide
        grid (O, n * row), every other (junk) column zero."""
        channels, width = grad.shape[1], grad.shape[3]
        wide[...] = 0
        for s in range(n):
            for o in range(channels):
                for r in range(starts.shape[0]):
                    at = s * row + starts[r]
                    for j in range(width):
                        wide[o, at + j] = grad[s0 + s, o, r, j]

    @compiled
    def _scatter(x, s0, n, row, bases, cols, unit, flat):
        """x[s0:s0 + n] (N, C, rows, width) zero-padded into flat phase rows (C, ld): input
        row r's element j goes to s * row + bases[r] + cols[j] (unit: cols[j] = cols[0] + j).
        Element loops: a slice a line took 2.3 ms of conv2d's forward, these 1.4 (memory-bound:
        x is 8 MB); zeroing only the gaps between lines saved nothing measurable."""
        flat[...] = 0
        channels, rows, width = x.shape[1], x.shape[2], x.shape[3]
        first = cols[0]
        for s in range(n):
            for c in range(channels):
                for r in range(rows):
                    at = s * row + bases[r]
                    if unit:
                        at += first
                        for j in range(width):
                            flat[c, at + j] = x[s0 + s, c, r, j]
                    else:
                        for j in range(width):
                            flat[c, at + cols[j]] = x[s0 + s, c, r, j]

    @compiled
    def _gather(flat, s0, n, row, bases, cols, unit, x):
        """The inverse of `_scatter`: x[s0:s0 + n] from the flat phase rows."""
        channels, rows, width = x.shape[1], x.shape[2], x.shape[3]
        first = cols[0]
        for s in range(n):
            for c in range(channels):
                for r in range(rows):
                    at = s * row + bases[r]
                    if unit:
                        at += first
                        for j in range(width):
                            x[s0 + s, c, r, j] = flat[c, at + j]
                    else:
                        for j in range(width):
                            x[s0 + s, c, r, j] = flat[c, at + cols[j]]

    @compiled
    def _forward_range(x, first, stop, size, weight, offsets, layout, starts, bias,
                       flat_buffer, wide_buffer, out, groups):
        """Samples first:stop of the forward, `size` at a time: pad, a GEMM per kernel
        position, rows out. layout = (row, run, tail, bases, cols, unit)."""
        row, run, tail, bases, cols, unit = layout
        channels, out_channels = x.shape[1], out.shape[1]
        s0 = first
        while s0 < stop:
            n = min(size, stop - s0)
            ld = n * row + tail
            flat = flat_buffer[:channels * ld].reshape((channels, ld))
            _scatter(x, s0, n, row, bases, cols, unit, flat)
            wide = wide_buffer[:out_channels * n * row].reshape((out_channels, n * row))
            _forward(flat_buffer, ld, weight, offsets, wide_buffer, n * row,
                     (n - 1) * row + run, groups)
            _grid_out(wide, row, starts, bias, out, s0, n)
            s0 += n

    @compiled
    def _backward_range(grad_out, x, first, stop, size, weight, offsets, layout, starts,
                        flat_buffer, wide_buffer, grad_weight, grad_x, groups):
        """Samples first:stop of the backward: the output gradient into the wide grid, the
        weight gradient added to grad_weight (when it has elements), the input gradient
        written to grad_x (when it has elements)."""
        row, run, tail, bases, cols, unit = layout
        channels, out_channels = x.shape[1], grad_out.shape[1]
        s0 = first
        while s0 < stop:
            n = min(size, stop - s0)
            ld = n * row + tail
            columns = (n - 1) * row + run
            flat = flat_buffer[:channels * ld].reshape((channels, ld))
            wide = wide_buffer[:out_channels * n * row].reshape((out_channels, n * row))
            _grid_in(grad_out, row, starts, wide, s0, n)
            if grad_weight.size:
                _scatter(x, s0, n, row, bases, cols, unit, flat)
                _weight_grad(flat_buffer, ld, wide_buffer, n * row, offsets, grad_weight,
                             columns, groups)
            if grad_x.size:
                flat[...] = 0
                _input_grad(wide_buffer, n * row, weight, offsets, flat_buffer, ld, columns,
                            groups)
                _gather(flat, s0, n, row, bases, cols, unit, grad_x)
            s0 += n

    @compiled
    def _direct(flat, weight, offsets, run, starts, bias, out):
        """A convolution with few input channels per group, without BLAS: output channels
        two at a time accumulate weight * (the input row from each kernel position's offset)
        over their wide grid, then its rows go out. flat (n, C, row + tail), weight
        (O, C / groups, positions), out (n, O, rows, width). LeNet's conv1 (64 x 1 x 28 x 28,
        5x5 -> 6), one thread: 0.82 ms by im2col and a GEMM per sample, 0.6 ms one channel and
        position a pass, 0.47 four positions, 0.40 two channels, 0.38 with the rows copied
        out element by element (not slices); torch 0.47-0.58."""
        n, channels = flat.shape[0], flat.shape[1]
        out_channels, c_g, kernel = weight.shape
        o_g = out_channels // (channels // c_g)
        rows, width = out.shape[2], out.shape[3]
        acc = np.empty((2, run), flat.dtype)
        a0, a1 = acc[0], acc[1]
        for s in range(n):
            for o in range(out_channels):
                if (o % o_g) % 2:
                    continue  # the second of a pair
                # The pair's second channel; a group's odd last channel pairs with itself.
                u = o + 1 if (o + 1) % o_g else o
                a0[:] = bias[o] if bias.shape[0] else 0
                a1[:] = bias[u] if bias.shape[0] else 0
                first = (o // o_g) * c_g
                for c in range(c_g):
                    # Four kernel positions a pass: one load and store of each accumulator
                    # per four products. The sources are slices, so that the loops have no
                    # index to wrap around (which kept them from vectorising: 1.75 ms).
                    row_in = flat[s, first + c]
                    k = 0
                    while k + 4 <= kernel:
                        s0 = row_in[offsets[k]:offsets[k] + run]
                        s1 = row_in[offsets[k + 1]:offsets[k + 1] + run]
                        s2 = row_in[offsets[k + 2]:offsets[k + 2] + run]
                        s3 = row_in[offsets[k + 3]:offsets[k + 3] + run]
                        v0, v1 = weight[o, c, k], weight[o, c, k + 1]
                        v2, v3 = weight[o, c, k + 2], weight[o, c, k + 3]
                        w0, w1 = weight[u, c, k], weight[u, c, k + 1]
                        w2, w3 = weight[u, c, k + 2], weight[u, c, k + 3]
                        for p in range(run):
                            x0, x1, x2, x3 = s0[p], s1[p], s2[p], s3[p]
                            a0[p] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3
                            a1[p] += w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3
                        k += 4
                    while k < kernel:
                        s0 = row_in[offsets[k]:offsets[k] + run]
                        v0, w0 = weight[o, c, k], weight[u, c, k]
                        for p in range(run):
                            a0[p] += v0 * s0[p]
                            a1[p] += w0 * s0[p]
                        k += 1
                for r in range(rows):
                    at = starts[r]
                    for j in range(width):  # not slices: see `_scatter`
                        out[s, o, r, j] = a0[at + j]
                        out[s, u, r, j] = a1[at + j]


    @parallel
    def _direct_blocks(flat, weight, offsets, run, starts, bias, out, bounds):
        for i in numba.prange(bounds.shape[0]):
            first, stop = bounds[i, 0], bounds[i, 1]
            _direct(flat[first:stop], weight, offsets, run, starts, bias, out[first:stop])


_scipy_blas = None


def _scipy_blas_limit():
    """A context holding scipy's BLAS at one thread while the loops run (they share blocks
    among threads themselves, as many as NumPy's BLAS may use: that one is left alone, for
    `numpy_threads.thread_count` reads it), or a no-op without threadpoolctl. Where scipy's
    BLAS is NumPy's (one library: conda), it is left as it is. Asking costs a few us; the
    limit itself ~50 us, 2% of the text conv1d's forward, so it is set only when needed."""
    global _scipy_blas
    if _scipy_blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _scipy_blas = False
        else:
            controller = ThreadpoolController().select(user_api="blas")
            # Both sides resolved: threadpoolctl gives the library's real path, and NumPy's
            # may be reached through a symlink (a symlinked venv), where holding "scipy's"
            # BLAS held NumPy's too, and every loop then ran on one thread.
            numpy_dir = os.path.dirname(os.path.dirname(os.path.realpath(np.__file__)))
            controller.lib_controllers = [
                lib for lib in controller.lib_controllers
                if not os.path.realpath(lib.filepath).startswith(
                    (os.path.join(numpy_dir, "numpy.libs"), os.path.join(numpy_dir, "numpy")))]
            _scipy_blas = controller if controller.lib_controllers else False
    if not _scipy_blas or all(lib.num_threads == 1 for lib in _scipy_blas.lib_controllers):
        return contextlib.nullcontext()
    return _scipy_blas.limit(limits=1)


# Samples per block: enough columns for BLAS to run at speed (below ~1,000 columns its
# packing dominates), few enough that a block's rows stay in cache.
_BLOCK_COLUMNS = 1024
_BLOCK_BYTES = 1 << 20
# Below this many multiply-adds `_direct` runs on one thread: each block's padding runs in
# Python under the GIL, so the threads hand it back and forth. LeNet's conv1 (1 -> 6 channels,
# 28x28, 5x5: 100k a sample), 2 threads against 1, forward medians (ms): 64 samples 0.43 /
# 0.37, 128 0.80 / 0.78, 192 1.05 / 1.12, 256 1.20 / 1.46.
_DIRECT_SHARE_FROM = 1 << 24
# Where numba's threads serve (`numpy_threads.run_compiled`), the whole batch is padded at once
# and its samples go to them in blocks, with no GIL hand-off, from this many multiply-adds, as
# long as the padded batch is at most _DIRECT_PADDED_BYTES (beyond, blocks are padded one at a
# time as above, to stay in cache).
_DIRECT_NUMBA_SHARE_FROM = 1 << 21
_DIRECT_PADDED_BYTES = 1 << 23
_workspace = threading.local()


def _scratch(slot, shape, dtype):
    """A per-thread buffer reused across calls (see numpy_kernels._scratch)."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buffer = getattr(_workspace, slot, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
        setattr(_workspace, slot, buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)


def _block_size(geometry):
    g = geometry
    row = _layout(g)[0][0]
    per_sample = row * max(g.channels, g.out_channels) * 4
    size = max(1, min(-(-_BLOCK_COLUMNS // row), _BLOCK_BYTES // per_sample, g.n))
    return -(-g.n // -(-g.n // size))  # the same size for all blocks, give or take one


def _tasks(n, size, threads):
    """Sample ranges (first, stop), whole blocks of `size` each: one at one thread, else
    about two a thread, so that a late thread holds no one up."""
    if threads <= 1:
        return [(0, n)]
    blocks = -(-n // size)
    per_task = max(1, -(-blocks // (2 * threads)))
    return [(i, min(i + per_task * size, n)) for i in range(0, n, per_task * size)]


def _weight_by_offset(geometry, weight):
    """(O, C/groups, *kernel) -> (groups, prod(kernel), O/groups, C/groups), contiguous."""
    g = geometry
    w = weight.reshape(g.groups, g.out_channels // g.groups, g.channels // g.groups, -1)
    return np.ascontiguousarray(w.transpose(0, 3, 1, 2))


def _layout(geometry, compact=True):
    """(row, run, tail, bases, cols, unit) for the loops, the output rows' starts and the
    kernel positions' offsets; made once and kept on the (cached) geometry. An input
    element's place in its sample's flat row is a sum of one term per axis, so it is
    bases[row of the leading axes] + cols[last-axis index]. `compact`: see `_compact`."""
    g = geometry
    key = "compiled_layout" if compact else "phase_layout"
    kept = getattr(g, key, None)
    if kept is None:
        kept = (_compact(g) if compact else None) or _phase_layout(g)
        setattr(g, key, kept)
    return kept


def _phase_layout(geometry):
    """numpy_kernels' phase layout, every axis padded on both sides."""
    g = geometry
    plane_strides = [g.plane * int(np.prod(g.stride[i + 1:])) for i in range(len(g.size))]
    phase_strides = [int(np.prod(g.phase[i + 1:])) for i in range(len(g.size))]
    terms = []
    for m, s, (lo, _), a, b in zip(g.size, g.stride, g.padding, plane_strides, phase_strides):
        q, r = np.divmod(np.arange(m, dtype=np.int64) + lo, s)
        terms.append(r * a + q * b)
    positions = np.arange(g.run, dtype=np.int64).reshape(g.grid)
    starts = positions[(*(slice(0, m) for m in g.out_size[:-1]), 0)]
    return _assemble(g.row, g.run, g.tail, terms, starts, g.offsets)


def _compact(geometry):
    """A stride-1 layout whose lines (last axis) share their padding: each line is
    p = max(before, after) zeros then the data, so a line's right padding is the next
    line's left one. The wide grid's junk columns drop from before + after to p a line:
    conv2d at 32x32, padding 1: 1,056 columns a sample for 1,024 outputs instead of 1,088,
    3% off every GEMM. None where it does not apply (strides, or an output line longer
    than the line: padding beyond the kernel's reach)."""
    g = geometry
    lo, hi = g.padding[-1]
    p = max(lo, hi)
    reach = g.dilation[-1] * (g.kernel[-1] - 1)
    if any(s != 1 for s in g.stride) or p == 0 or min(lo, hi) > reach:
        return None
    line = g.size[-1] + p
    lead = [m + a + b for m, (a, b) in zip(g.size[:-1], g.padding[:-1])]
    strides = [int(np.prod(lead[i + 1:])) * line for i in range(len(lead))] + [1]
    row = int(np.prod(lead)) * line
    run = g.out_size[0] * strides[0]
    offsets = [sum(k * d * s for k, d, s in zip(offset, g.dilation, strides)) + p - lo
               for offset in _kernel_positions(g.kernel)]
    tail = max(0, max(offsets) + run - row)
    terms = [(np.arange(m, dtype=np.int64) + a) * s
             for m, (a, _), s in zip(g.size[:-1], g.padding[:-1], strides)]
    terms.append(np.arange(g.size[-1], dtype=np.int64) + p)
    starts = np.zeros(1, dtype=np.int64)
    for m, s in zip(g.out_size[:-1], strides):
        starts = (starts[:, None] + np.arange(m, dtype=np.int64)[None, :] * s).reshape(-1)
    return _assemble(row, run, tail, terms, starts, offsets)


def _kernel_positions(kernel):
    return np.stack(np.meshgrid(*(np.arange(k) for k in kernel), indexing="ij"),
                    axis=-1).reshape(-1, len(kernel)).tolist()


def _assemble(row, run, tail, terms, starts, offsets):
    bases = np.zeros(1, dtype=np.int64)
    for term in terms[:-1]:
        bases = (bases[:, None] + term[None, :]).reshape(-1)
    cols = np.ascontiguousarray(terms[-1], dtype=np.int64)
    unit = bool(np.all(np.diff(cols) == 1))
    return ((int(row), int(run), int(tail), bases, cols, unit),
            np.ascontiguousarray(np.asarray(starts, dtype=np.int64).reshape(-1)),
            np.asarray(offsets, dtype=np.int64))


def _rows(a, geometry):
    """(n, C, *spatial) as (n, C, rows, width), contiguous (a copy only if a is not)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1, a.shape[-1])


def _threads():
    return numpy_threads.thread_count()


def _buffers(geometry, size, dtype):
    g = geometry
    row, _, tail = _layout(g)[0][:3]
    flat = _scratch("flat", (g.channels * (size * row + tail),), dtype)
    wide = _scratch("wide", (g.out_channels * size * row,), dtype)
    return flat, wide


def forward(geometry, x, weight, bias):
    g = geometry
    w = _weight_by_offset(g, weight)
    layout, starts, offsets = _layout(g)
    out = np.empty((g.n, g.out_channels, *g.out_size), dtype=x.dtype)
    b = np.zeros(0, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias)
    x_rows, out_rows = _rows(x, g), out.reshape(g.n, g.out_channels, -1, g.out_size[-1])
    size = _block_size(g)

    def work(task):
        flat, wide = _buffers(g, size, x.dtype)
        _forward_range(x_rows, task[0], task[1], size, w, offsets, layout, starts, b,
                       flat, wide, out_rows, g.groups)

    with _scipy_blas_limit():
        numpy_threads.run_shared(work, _tasks(g.n, size, _threads()))
    return out


def direct_forward(geometry, flat_of, x, weight, bias):
    """The forward by `_direct`; flat_of(x block) gives its padded rows (n, C, row + tail).
    Where numba's threads serve, the batch is padded once and its samples shared among them
    (LeNet's conv1, 2 threads, in asv_benchmarks/conv_vs_torch.py: 0.32-0.36 -> 0.22-0.23 ms,
    PyTorch 0.22-0.28); else blocks are padded and run one at a time, on the team from
    `_DIRECT_SHARE_FROM`."""
    g = geometry
    w = np.ascontiguousarray(weight.reshape(g.out_channels, g.channels // g.groups, -1))
    _, starts, offsets = _layout(g, compact=False)  # `flat_of` pads as numpy_kernels does
    out = np.empty((g.n, g.out_channels, *g.out_size), dtype=x.dtype)
    out_rows = out.reshape(g.n, g.out_channels, -1, g.out_size[-1])
    b = np.zeros(0, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias)
    size = max(1, min(g.n, _BLOCK_BYTES // (g.channels * (g.row + g.tail) * x.itemsize)))
    work_size = g.n * g.out_channels * w.shape[1] * w.shape[2] * g.run  # multiply-adds
    threads = _threads()
    padded = g.n * g.channels * (g.row + g.tail) * x.itemsize
    if threads > 1 and work_size >= _DIRECT_NUMBA_SHARE_FROM and padded <= _DIRECT_PADDED_BYTES \
            and numpy_threads.numba_threads_serve(threads):
        bounds = numpy_threads.block_bounds(g.n, min(g.n, 2 * threads))
        numpy_threads.run_compiled(_direct_blocks, (flat_of(x), w, offsets, g.run, starts, b,
                                                    out_rows), bounds)
        return out
    if work_size < _DIRECT_SHARE_FROM:
        threads = 1
    if threads > 1:
        size = max(1, min(size, g.n // (2 * threads)))
    blocks = [slice(i, min(i + size, g.n)) for i in range(0, g.n, size)]

    def work(block):
        _direct(flat_of(x[block]), w, offsets, g.run, starts, b, out_rows[block])

    numpy_threads.run_shared(work, blocks, threads)
    return out


def backward(geometry, grad_out, x, weight, need_input, need_weight):
    g = geometry
    w = _weight_by_offset(g, weight)
    layout, starts, offsets = _layout(g)
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_input else None
    x_rows, grad_rows = _rows(x, g), _rows(grad_out, g)
    none = np.empty((0, 0, 0, 0), dtype=x.dtype)  # for the gradient not asked for
    grad_x_rows = grad_x.reshape(g.n, g.channels, -1, g.size[-1]) if need_input else none
    size = _block_size(g)
    partials = []  # per task: the weight gradient of its samples

    def work(task):
        flat, wide = _buffers(g, size, x.dtype)
        mine = np.zeros(w.shape, dtype=x.dtype) if need_weight else none
        _backward_range(grad_rows, x_rows, task[0], task[1], size, w, offsets, layout, starts,
                        flat, wide, mine, grad_x_rows, g.groups)
        partials.append(mine)

    with _scipy_blas_limit():
        numpy_threads.run_shared(work, _tasks(g.n, size, _threads()))
    grad_weight = None
    if need_weight:
        total = partials[0] if len(partials) == 1 else sum(partials)
        grad_weight = np.ascontiguousarray(total.transpose(0, 2, 3, 1)).reshape(weight.shape)
    return grad_x, grad_weight
