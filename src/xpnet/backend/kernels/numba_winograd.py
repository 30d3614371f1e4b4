"""Winograd minimal filtering F(4x4, 3x3) (2-D) and F(4, 3) (1-D) for float32 convolutions
with 3-wide kernels, stride 1, dilation 1, one group and padding of at most 2 a side, for
numpy_kernels.py's ``conv_forward`` / ``conv_backward``. ``available`` is False without numba
or scipy (numba_conv's binding to scipy's BLAS).

F(4, 3) computes 4 outputs of a 3-tap correlation from a tile of 6 inputs with 6 products
instead of 12: V = B^T d, U = G g, y = A^T (U * V). In 2-D the transforms nest (V = B^T d B,
U = G g G^T, Y = A^T M A) and the sum over input channels of the element-wise products is, for
each of the 36 tile positions xi, one GEMM M_xi (O, tiles) = U_xi (O, C) @ V_xi (C, tiles):
4x fewer products than a direct convolution (2x in 1-D). numba_conv's GEMMs run near
OpenBLAS's peak already, so fewer products were the only way below torch (oneDNN's direct
convolution runs at ~160 GFLOP/s here).

F(4x4) rather than F(2x2): conv2d 32x64x32x32 3x3 pad 1 needs 1.07 GFLOP of GEMMs with F(2x2)
(2.25x fewer than direct), 0.68 with F(4x4) (4x fewer, plus the junk tiles below), and
F(2x2)'s transforms move 4 values an output against 2.25. A first version with both (generic
transforms, small blocks) spent 6.9 and 6.2 ms in the GEMMs; F(2x2) was not carried further.
F(4x4)'s float32 error is larger and depends on the interpolation points: max |error| /
max |output| against float64 was 3e-7 for torch and F(2x2), 8e-6 (C = 64) to 1.3e-5
(C = 256) with the usual points (0, 1, -1, 2, -2), 2.4e-6 to 4.4e-6 with (0, 1, -1, 1/2, -2),
which `transforms` uses (tests/test_kernels_winograd.py: 1e-6 on its shapes; the benchmark's
conv2d 2.1e-6 forward, 2.8e-6 input and 2.3e-6 weight gradient).

Layout. Tiles are numbered sample by sample, tile row by tile row, each tile row holding
`tile_cols + 1` tiles, the last one junk: then in a block of tile rows, tile t's window starts
at 4t of one long staged row (a row of each tile row's data, one after the other), and every
pass below is one loop over all the tiles of a block (a loop a tile row, 8 tiles at 32 wide,
ran its scalar remainder). The junk costs 1 / (tile_cols + 1) of the GEMMs (1/9 at 32 wide).
A block, per input channel (`_input_block`):

- B^T down the columns of each tile row's 6 input rows, read from x in place
  (`_in_vertical`; tile rows at the edges through a zero-padded copy, `_edge_rows`), into 6
  staged rows; then B^T along them (`_in_row`): 36 values a tile into V (C, 36, STRIDE);

then the 36 GEMMs through numba_conv's binding, each single-threaded, into M (O, 36, STRIDE),
and per output channel A^T along the rows (`_out_row`) and down the columns with the bias
(`_out_vertical`), straight into the output. STRIDE is a compile-time constant, so that the
values each pass stores lie at constant distances and LLVM vectorises it; what else that took
is written at the passes. Blocks are shared among `numpy_threads.thread_count` threads.
Scratch: (C + O) * 36 * STRIDE floats a thread (4.3 MB for 64 -> 64 channels).

Backward: the input gradient of a stride-1 convolution is a stride-1 convolution of the output
gradient, padded by 2 - padding, with the kernel flipped and its channels swapped: the same
forward. The weight gradient is the forward's transpose in the Winograd domain: dU_xi (O, C) =
sum over tiles of dM_xi (O, tiles) @ V_xi (C, tiles).T, with dM = A dY A^T the output
gradient's 4x4 tiles transformed (junk tiles zero), then dg = G^T dU G. In 1-D both gradients
come from one transform of the output gradient (`backward_1d`): the input gradient is
dV_xi = U_xi^T @ dM_xi taken back by B and summed where the tiles overlap (conv1d 64x128x50:
backward 4.4 -> 3.9 ms at one thread, 3.5 -> 2.7 at two). In 2-D that sum crosses tile rows,
and so blocks and threads; not done.

conv2d 32x64x32x32 3x3 pad 1, float32, one thread, ms: forward 21-26 by numba_conv, 11.3-13.5
here (torch 14.5-15 on a quiet machine); at two threads 13.4 -> 8.9 (one process, no
torch). Each pass alone, over all blocks: the GEMMs 6.0-6.2 (~115 GFLOP/s), B^T with reading
x 1.9-2.1, A^T with writing the output 2.2-2.4; together another ~2.5 (V and M spill from L2
between the passes).
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

from . import numba_conv
from .numba_jit import compiled

available = numba_conv.available

# F(M, 3): M outputs a tile from ALPHA inputs.
M = 4
ALPHA = M + 2
# The most tiles a block, a compile-time constant (see the docstring), and the distance
# between a block's staged rows. 232 floats (928 bytes: the 36 rows of a tile's values fall
# on different cache sets; at a power of two they thrashed L1) take 25 tile rows at 32 wide:
# conv2d's forward 12.5-12.8 ms against 13.3-13.8 with room for 58 (rows of V and M half
# used), its weight gradient 13.7-14.0 against 12.9-13.2 at 58 rows.
STRIDE = 232
ROW = M * STRIDE + 16
POINTS = (0.0, 1.0, -1.0, 0.5, -2.0)


@functools.lru_cache(maxsize=None)
def transforms(m=M, points=POINTS):
    """(A^T (m, alpha), G (alpha, 3), B^T (alpha, alpha)) of F(m, 3), float64, from the
    finite interpolation points (the last point is infinity): A^T evaluates polynomials at
    the points, G evaluates the filter there and divides by the Lagrange denominators, and
    B^T is solved for from the identity itself, sum_j A^T[i, j] G[j, k] B^T[j, l] =
    (l == i + k) for every output i, tap k and input l."""
    r = 3
    alpha = m + r - 1
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (alpha - 1,):
        raise ValueError(f"transforms: F({m}, 3) needs {alpha - 1} finite points, got {points}")
    at = np.zeros((m, alpha))
    at[:, :-1] = p[None, :] ** np.arange(m)[:, None]
    at[m - 1, -1] = 1.0
    g = np.zeros((alpha, r))
    for j in range(alpha - 1):
        g[j] = p[j] ** np.arange(r) / np.prod([p[j] - p[l] for l in range(alpha - 1) if l != j])
    g[-1, -1] = 1.0
    system = np.einsum("ij,jk->ikj", at, g).reshape(m * r, alpha)
    want = np.zeros((m, r, alpha))
    for i in range(m):
        for k in range(r):
            want[i, k, i + k] = 1.0
    bt = np.linalg.lstsq(system, want.reshape(m * r, alpha), rcond=None)[0]
    bt[np.abs(bt) < 1e-12] = 0.0
    assert np.allclose(np.einsum("ij,jk,jl->ikl", at, g, bt), want, atol=1e-9)
    return at, g, bt


if available:
    _gemm = numba_conv._gemm
    _gemm_arguments = numba_conv._gemm_arguments

    @compiled
    def _product(a, b, trans_b, out):
        """out (m, n) = a (m, k) @ b (k, n), or b.T when trans_b, all float64 and contiguous:
        the filter transforms, through scipy's dgemm (held at one thread by the callers).
        Not NumPy's matmul: its threads, woken by this product at two threads, went on
        spinning through the blocks and took a core from them (conv2d's forward ran no
        faster at two threads than at one)."""
        ints, scalars, flags = _gemm_arguments(out)
        m, k = a.shape
        n = out.shape[1]
        _gemm(False, trans_b, m, n, k, a.ravel(), 0, k, b.ravel(), 0, b.shape[1], 0.0,
              out.ravel(), 0, n, ints, scalars, flags)

    # The 1-D transforms of F(4, 3) with the points (0, 1, -1, 1/2, -2), written out (a test
    # checks them against `transforms`). The constants are float32: float64 ones made LLVM
    # convert every value there and back.
    _HALF, _QUARTER, _EIGHTH = np.float32(0.5), np.float32(0.25), np.float32(0.125)
    _ONE_HALF, _TWO, _TWO_HALF = np.float32(1.5), np.float32(2.0), np.float32(2.5)
    _FOUR, _EIGHT = np.float32(4.0), np.float32(8.0)

    @compiled
    def _bt(d0, d1, d2, d3, d4, d5):
        """B^T d: an input tile to the Winograd domain."""
        return (d0 - _ONE_HALF * d1 - _TWO * d2 + _ONE_HALF * d3 + d4,
                -d1 + _HALF * d2 + _TWO_HALF * d3 + d4,
                d1 - _TWO_HALF * d2 + _HALF * d3 + d4,
                -_TWO * d1 - d2 + _TWO * d3 + d4,
                _HALF * d1 - d2 - _HALF * d3 + d4,
                d1 - _ONE_HALF * d2 - _TWO * d3 + _ONE_HALF * d4 + d5)

    @compiled
    def _at(m0, m1, m2, m3, m4, m5):
        """A^T m: products back to 4 outputs."""
        return (m0 + m1 + m2 + m3 + m4,
                m1 - m2 + _HALF * m3 - _TWO * m4,
                m1 + m2 + _QUARTER * m3 + _FOUR * m4,
                m1 - m2 + _EIGHTH * m3 - _EIGHT * m4 + m5)

    @compiled
    def _a(g0, g1, g2, g3):
        """A g: 4 output gradients to the Winograd domain (the transpose of `_at`)."""
        return (g0,
                g0 + g1 + g2 + g3,
                g0 - g1 + g2 - g3,
                g0 + _HALF * g1 + _QUARTER * g2 + _EIGHTH * g3,
                g0 - _TWO * g1 + _FOUR * g2 - _EIGHT * g3,
                g3)

    @compiled
    def _b(v0, v1, v2, v3, v4, v5):
        """B v: back from the Winograd domain to a tile's 6 inputs (the transpose of `_bt`;
        the input gradient of the 1-D backward)."""
        return (v0,
                -_ONE_HALF * v0 - v1 + v2 - _TWO * v3 + _HALF * v4 + v5,
                -_TWO * v0 + _HALF * v1 - _TWO_HALF * v2 - v3 - v4 - _ONE_HALF * v5,
                _ONE_HALF * v0 + _TWO_HALF * v1 + _HALF * v2 + _TWO * v3 - _HALF * v4
                - _TWO * v5,
                v0 + v1 + v2 + v3 + v4 + _ONE_HALF * v5,
                v5)

    # Passes over all the tiles of a block, one 1-D transform each: a loop with 4-6 loads
    # and stores at constant distances vectorises; one doing a whole 2-D transform (36 loads
    # and stores) did not ("too many SCEV assumptions"). `step`s are constants at every call.

    @compiled
    def _load6(a, at, step):
        return (a[at], a[at + step], a[at + 2 * step], a[at + 3 * step], a[at + 4 * step],
                a[at + 5 * step])

    @compiled
    def _store6(a, at, step, v):
        a[at] = v[0]
        a[at + step] = v[1]
        a[at + 2 * step] = v[2]
        a[at + 3 * step] = v[3]
        a[at + 4 * step] = v[4]
        a[at + 5 * step] = v[5]

    @compiled
    def _store4(a, at, step, v):
        a[at] = v[0]
        a[at + step] = v[1]
        a[at + 2 * step] = v[2]
        a[at + 3 * step] = v[3]

    @compiled
    def _window(staged, p):
        """A tile's 6 inputs at p of a staged row (4 apart from the next tile's)."""
        return (staged[p], staged[p + 1], staged[p + 2], staged[p + 3], staged[p + 4],
                staged[p + 5])

    @compiled
    def _in_row(staged, row, tiles, dst, at, step):
        """dst[at + b step + t] = B^T (the window at 4t of the staged row)."""
        src, out = staged[row:], dst[at:]
        for t in range(tiles):
            _store6(out, t, step, _bt(*_window(src, M * t)))

    @compiled
    def _out_row(src, at, tiles, staged, row):
        """staged[row + 4t + b] = A^T (src[at + b' STRIDE + t] over b')[b]."""
        a, out = src[at:], staged[row:]
        for t in range(tiles):
            _store4(out, M * t, 1, _at(*_load6(a, t, STRIDE)))

    @compiled
    def _grad_row(staged, row, tiles, dst, at, step):
        """dst[at + b step + t] = A (the 4 staged values at row + 4t)[b]."""
        a, out = staged[row:], dst[at:]
        for t in range(tiles):
            p = M * t
            _store6(out, t, step, _a(a[p], a[p + 1], a[p + 2], a[p + 3]))

    @compiled
    def _stage_row(x, c, first, stop, left, per_row, staged):
        """1-D: sample s's row of channel c at (s - first) per_row + left of `staged`, for the
        samples first:stop of x (N, C, 1, L). What lies left and right of each row stays as
        it is: zero, for the callers zero `staged` once and every block writes the same
        columns."""
        width = x.shape[3]
        for s in range(first, stop):
            at = (s - first) * per_row + left
            for q in range(width):
                staged[at + q] = x[s, c, 0, q]

    @compiled
    def _unstage_row(staged, o, first, stop, per_row, add, out):
        """1-D: the inverse of `_stage_row` for the output (no offset), adding `add`."""
        width = out.shape[3]
        for s in range(first, stop):
            at = (s - first) * per_row
            for q in range(width):
                out[s, o, 0, q] = staged[at + q] + add

    @compiled
    def _in_vertical(x, s, c, y0, dst):
        """B^T down the 6 rows of x[s, c] from y0 on, for every column: dst[a ROW + q] =
        (B^T rows)[a, q]. Reads x itself: fused with the staging (rows outside x: see
        `_edge_rows`)."""
        for q in range(x.shape[3]):
            _store6(dst, q, ROW, _bt(x[s, c, y0, q], x[s, c, y0 + 1, q], x[s, c, y0 + 2, q],
                                     x[s, c, y0 + 3, q], x[s, c, y0 + 4, q],
                                     x[s, c, y0 + 5, q]))

    @compiled
    def _grad_vertical(g, s, o, y0, dst):
        """A down the 4 rows of g[s, o] from y0 on, for every column: dst[a ROW + q] =
        (A rows)[a, q]."""
        for q in range(g.shape[3]):
            _store6(dst, q, ROW, _a(g[s, o, y0, q], g[s, o, y0 + 1, q], g[s, o, y0 + 2, q],
                                    g[s, o, y0 + 3, q]))

    @compiled
    def _edge_rows(x, s, c, y0, rows, edge):
        """edge[0, 0, a] = x[s, c, y0 + a] for a < rows, zero where that is outside x: the
        tile rows at the edges go through this copy, the others read x in place (a select
        between a row and zero in the loop kept it from vectorising)."""
        height, width = x.shape[2], x.shape[3]
        for a in range(rows):
            y = y0 + a
            if 0 <= y < height:
                for q in range(width):
                    edge[0, 0, a, q] = x[s, c, y, q]
            else:
                for q in range(width):
                    edge[0, 0, a, q] = 0

    @compiled
    def _out_vertical(src, s, o, y0, add, out):
        """out[s, o, y0 + a, q] = (A^T down the 6 rows src[a ROW + q])[a] + add, for the
        rows inside out."""
        height, width = out.shape[2], out.shape[3]
        if y0 + M <= height:
            for q in range(width):
                y = _at(src[q], src[q + ROW], src[q + 2 * ROW], src[q + 3 * ROW],
                        src[q + 4 * ROW], src[q + 5 * ROW])
                out[s, o, y0, q] = y[0] + add
                out[s, o, y0 + 1, q] = y[1] + add
                out[s, o, y0 + 2, q] = y[2] + add
                out[s, o, y0 + 3, q] = y[3] + add
        else:
            for q in range(width):
                y = _at(src[q], src[q + ROW], src[q + 2 * ROW], src[q + 3 * ROW],
                        src[q + 4 * ROW], src[q + 5 * ROW])
                for a in range(height - y0):
                    out[s, o, y0 + a, q] = y[a] + add

    @compiled
    def _input_block(x, two_d, r0, r1, tile_rows, tile_cols, top, left, staged, edge, v):
        """V of tile rows r0:r1 of x into v (C, P, STRIDE): 2-D, B^T down the columns of
        each tile row's 6 input rows (`_in_vertical`), then B^T along the staged rows
        (`_in_row`), over all the block's tiles; 1-D, the rows staged then `_in_row`."""
        channels = x.shape[1]
        per_row = M * (tile_cols + 1)
        tiles = (r1 - r0) * (tile_cols + 1)
        positions = ALPHA * ALPHA if two_d else ALPHA
        for c in range(channels):
            at = c * positions * STRIDE
            if two_d:
                for r in range(r0, r1):
                    s = r // tile_rows
                    i = r - s * tile_rows
                    y0 = M * i - top
                    dst = staged[(r - r0) * per_row + left:]
                    if y0 >= 0 and y0 + ALPHA <= x.shape[2]:
                        _in_vertical(x, s, c, y0, dst)
                    else:
                        _edge_rows(x, s, c, y0, ALPHA, edge)
                        _in_vertical(edge, 0, 0, 0, dst)
                for a in range(ALPHA):
                    _in_row(staged, a * ROW, tiles, v, at + 6 * a * STRIDE, STRIDE)
            else:
                _stage_row(x, c, r0, r1, left, per_row, staged)
                _in_row(staged, 0, tiles, v, at, STRIDE)

    @compiled
    def _forward_range(x, first, stop, rows, tile_rows, tile_cols, top, left, u, bias,
                       staged_in, staged_out, edge, v, mt, out):
        """Tile rows first:stop of the forward, `rows` a block; u (P, O, C) with P = 36
        (2-D) or 6 (1-D); v and mt (C or O, P, STRIDE) flat."""
        channels, out_channels = x.shape[1], out.shape[1]
        positions = u.shape[0]
        two_d = positions == ALPHA * ALPHA
        per_row = M * (tile_cols + 1)
        ints, scalars, flags = _gemm_arguments(u)
        uf = u.ravel()
        staged_in[:] = 0
        r0 = first
        while r0 < stop:
            r1 = min(stop, r0 + rows)
            tiles = (r1 - r0) * (tile_cols + 1)
            _input_block(x, two_d, r0, r1, tile_rows, tile_cols, top, left, staged_in, edge,
                         v)
            for p in range(positions):
                _gemm(False, False, out_channels, tiles, channels, uf,
                      p * out_channels * channels, channels, v, p * STRIDE,
                      positions * STRIDE, 0.0, mt, p * STRIDE, positions * STRIDE,
                      ints, scalars, flags)
            for o in range(out_channels):
                at = o * positions * STRIDE
                add = bias[o] if bias.shape[0] else np.float32(0)
                if two_d:
                    # A^T along each of the 6 rows of the tiles, then down the columns.
                    for a in range(ALPHA):
                        _out_row(mt, at + 6 * a * STRIDE, tiles, staged_out, a * ROW)
                    for r in range(r0, r1):
                        s = r // tile_rows
                        i = r - s * tile_rows
                        _out_vertical(staged_out[(r - r0) * per_row:], s, o, M * i, add,
                                      out)
                else:
                    _out_row(mt, at, tiles, staged_out, 0)
                    _unstage_row(staged_out, o, r0, r1, per_row, add, out)
            r0 = r1

    @compiled
    def _weight_grad_range(x, grad, first, stop, rows, tile_rows, tile_cols, top, left,
                           staged_in, staged_grad, edge_in, edge_grad, v, dm, du):
        """Tile rows first:stop of the weight gradient in the Winograd domain, added to du
        (P, O, C): dU_p += dM_p @ V_p.T."""
        channels, out_channels = x.shape[1], grad.shape[1]
        positions = du.shape[0]
        two_d = positions == ALPHA * ALPHA
        per_row = M * (tile_cols + 1)
        ints, scalars, flags = _gemm_arguments(du)
        duf = du.ravel()
        staged_in[:] = 0
        staged_grad[:] = 0
        r0 = first
        while r0 < stop:
            r1 = min(stop, r0 + rows)
            tiles = (r1 - r0) * (tile_cols + 1)
            _input_block(x, two_d, r0, r1, tile_rows, tile_cols, top, left, staged_in,
                         edge_in, v)
            for o in range(out_channels):
                at = o * positions * STRIDE
                if two_d:
                    for r in range(r0, r1):
                        s = r // tile_rows
                        i = r - s * tile_rows
                        dst = staged_grad[(r - r0) * per_row:]
                        if M * i + M <= grad.shape[2]:
                            _grad_vertical(grad, s, o, M * i, dst)
                        else:
                            _edge_rows(grad, s, o, M * i, M, edge_grad)
                            _grad_vertical(edge_grad, 0, 0, 0, dst)
                    for a in range(ALPHA):
                        _grad_row(staged_grad, a * ROW, tiles, dm, at + 6 * a * STRIDE,
                                  STRIDE)
                else:
                    _stage_row(grad, o, r0, r1, 0, per_row, staged_grad)
                    _grad_row(staged_grad, 0, tiles, dm, at, STRIDE)
            for p in range(positions):
                _gemm(False, True, out_channels, channels, tiles, dm, p * STRIDE,
                      positions * STRIDE, v, p * STRIDE, positions * STRIDE, 1.0,
                      duf, p * out_channels * channels, channels, ints, scalars, flags)
            r0 = r1


if available:
    @compiled
    def _overlap_row(dv, at, tiles, staged):
        """staged[4t + k] = sum over the tiles whose windows cover 4t + k of (B dV)[k'],
        dV of tile t at dv[at + 1 + b STRIDE + t] and dv[at + b STRIDE] zero: a tile's last 2
        inputs are the next tile's first 2, so each tile writes its own 4 and reads the
        previous tile's values (no store lands twice: the loop vectorises)."""
        a, out = dv[at:], staged[:]
        for t in range(tiles):
            e = _b(*_load6(a, t + 1, STRIDE))
            f = _b(*_load6(a, t, STRIDE))
            _store4(out, M * t, 1, (e[0] + f[4], e[1] + f[5], e[2], e[3]))

    @compiled
    def _backward_1d_range(x, grad, first, stop, rows, tile_cols, left, u, need_input,
                           staged_in, staged_grad, v, dm, du, grad_x):
        """Samples first:stop of the 1-D backward: dM = A dY once for both gradients; the
        weight gradient dU_p += dM_p @ V_p.T (when du has elements), the input gradient
        dV_p = U_p.T @ dM_p taken back by B and added up where the tiles overlap, into
        grad_x (when need_input). u (6, O, C); dv reuses v, one column on (see
        `_overlap_row`)."""
        channels, out_channels = x.shape[1], grad.shape[1]
        positions = ALPHA
        per_row = M * (tile_cols + 1)
        ints, scalars, flags = _gemm_arguments(u)
        uf, duf = u.ravel(), du.ravel()
        staged_in[:] = 0
        staged_grad[:] = 0
        r0 = first
        while r0 < stop:
            r1 = min(stop, r0 + rows)
            tiles = (r1 - r0) * (tile_cols + 1)
            for o in range(out_channels):
                _stage_row(grad, o, r0, r1, 0, per_row, staged_grad)
                _grad_row(staged_grad, 0, tiles, dm, o * positions * STRIDE, STRIDE)
            if du.size:
                for c in range(channels):
                    _stage_row(x, c, r0, r1, left, per_row, staged_in)
                    _in_row(staged_in, 0, tiles, v, c * positions * STRIDE, STRIDE)
                for p in range(positions):
                    _gemm(False, True, out_channels, channels, tiles, dm, p * STRIDE,
                          positions * STRIDE, v, p * STRIDE, positions * STRIDE, 1.0,
                          duf, p * out_channels * channels, channels, ints, scalars, flags)
            if need_input:
                for p in range(positions):
                    _gemm(True, False, channels, tiles, out_channels, uf,
                          p * out_channels * channels, channels, dm, p * STRIDE,
                          positions * STRIDE, 0.0, v, p * STRIDE + 1, positions * STRIDE,
                          ints, scalars, flags)
                # The sums go to the second staged row: the first must keep the zeros
                # around x's rows for the next block.
                summed = staged_in[ROW:]
                for c in range(channels):
                    at = c * positions * STRIDE
                    for p in range(positions):
                        v[at + p * STRIDE] = 0
                    _overlap_row(v, at, tiles, summed)
                    for s in range(r0, r1):
                        src = (s - r0) * per_row + left
                        for q in range(x.shape[3]):
                            grad_x[s, c, 0, q] = summed[src + q]
            r0 = r1


# Bytes of V and M a block (V and dM for the weight gradient), at most STRIDE tiles. conv2d
# 32x64x32x32, one thread, ms, by tile rows a block (9 tiles each): forward 15.4 at 6 rows
# (V and M in L2), 14.0 at 8-12, 13.4-13.6 at 16-25 (GEMMs of more columns run faster, more
# than V and M spilling from L2 costs); the weight gradient, whose GEMMs sum over the tiles,
# 16.5 at 6 rows, 15.9 at 25 and 13.9 at 58 (with a larger STRIDE).
_BLOCK_BYTES = 4 << 20
_WEIGHT_BLOCK_BYTES = 16 << 20


def applies(geometry):
    """Whether a convolution takes this path: float32 is checked by the caller; here 1 or 2
    spatial axes, 3-wide kernels (1-D: width 3), stride 1, dilation 1, one group, padding
    0-2 a side (the input gradient pads by 2 - padding), and rows of tiles that fit a block."""
    g = geometry
    if len(g.kernel) not in (1, 2) or any(k != 3 for k in g.kernel) or g.groups != 1:
        return False
    if any(s != 1 for s in g.stride) or any(d != 1 for d in g.dilation):
        return False
    if any(not 0 <= p <= 2 for pair in g.padding for p in pair):
        return False
    # One tile row (and its junk tile) must fit a block, here and in the input gradient.
    return max(-(-g.out_size[-1] // M), -(-g.size[-1] // M)) + 1 <= STRIDE


class _Plan:
    """Tiles and blocks of one convolution, x (N, C, H, W) as 2-D (1-D: H = 1, no padding
    along it); padding ((top, bottom), (left, right))."""

    def __init__(self, x_shape, out_channels, padding, two_d, block_bytes):
        self.n, self.channels, self.height, self.width = x_shape
        self.out_channels = out_channels
        (self.top, bottom), (self.left, right) = padding
        self.two_d = two_d
        self.out_height = self.height + self.top + bottom - (2 if two_d else 0)
        self.out_width = self.width + self.left + right - 2
        self.positions = ALPHA * ALPHA if two_d else ALPHA
        self.tile_rows = -(-self.out_height // M) if two_d else 1
        self.tile_cols = -(-self.out_width // M)
        self.total_rows = self.n * self.tile_rows
        per_tile = self.positions * (self.channels + out_channels) * 4
        per_row = (self.tile_cols + 1) * per_tile
        self.rows = max(1, min(self.total_rows, STRIDE // (self.tile_cols + 1),
                               block_bytes // per_row))


@functools.lru_cache(maxsize=64)
def _plan(*args):
    return _Plan(*args)


def _as_2d(a):
    """(N, C, L) -> (N, C, 1, L); (N, C, H, W) as it is; C-contiguous float32 either way."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a.reshape(a.shape[0], a.shape[1], 1, a.shape[2]) if a.ndim == 3 else a


def _pairs(padding):
    """numpy_kernels' padding pairs as ((top, bottom), (left, right))."""
    return ((0, 0), tuple(padding[0])) if len(padding) == 1 else tuple(map(tuple, padding))


def _tasks(plan, threads):
    """(ranges of tile rows, rows a block): one range at one thread, else one block a range,
    as many blocks as a multiple of the threads, of even sizes (blocks of the plan's size
    came 11 to conv2d, 75, 75, 75 and 31 rows a task: one thread idled a fifth of the
    time)."""
    total, rows = plan.total_rows, plan.rows
    if threads <= 1 or total == 0:
        return [(0, total)], rows
    blocks = -(-total // rows)
    blocks = -(-blocks // threads) * threads
    rows = -(-total // blocks)
    return [(i, min(i + rows, total)) for i in range(0, total, rows)], rows


_workspace = threading.local()


def _buffers(plan):
    """A thread's scratch, carved from one buffer kept between calls (see
    numpy_kernels._scratch): staged rows (2 sets), zero-padded edge rows for the input and
    the output gradient, and the (C, P, STRIDE) and (O, P, STRIDE) blocks. One look-up, not
    one a buffer: 70 us of the 2 ms conv1d forward went to six."""
    p = plan
    sizes = (ALPHA * ROW, ALPHA * ROW, ALPHA * p.width, ALPHA * p.out_width,
             p.channels * p.positions * STRIDE, p.out_channels * p.positions * STRIDE)
    total = sum(sizes)
    buffer = getattr(_workspace, "buffer", None)
    if buffer is None or buffer.shape[0] < total:
        buffer = _workspace.buffer = np.empty(total, dtype=np.float32)
    parts, at = [], 0
    for size in sizes:
        parts.append(buffer[at:at + size])
        at += size
    staged_a, staged_b, edge_in, edge_grad, v, other = parts
    return (staged_a, staged_b, edge_in.reshape(1, 1, ALPHA, p.width),
            edge_grad.reshape(1, 1, ALPHA, p.out_width), v, other)


@functools.lru_cache(maxsize=None)
def _kernel_map(two_d, transposed=False):
    """(P, taps) float64, contiguous: U = this @ g for a kernel g flattened, G (x) G in 2-D,
    G in 1-D; or its transpose."""
    _, g, _ = transforms()
    k = np.kron(g, g) if two_d else g
    return np.ascontiguousarray(k.T if transposed else k)


def _filter_transform(weight, two_d):
    """U (P, O, C) = G g G^T (2-D) or G g (1-D) for every (o, c), as one product in float64
    (an einsum over the three factors took 1.8 ms for 64 x 64 3x3 filters)."""
    o, c = weight.shape[:2]
    k = _kernel_map(two_d)
    u = np.empty((k.shape[0], o * c), dtype=np.float64)
    _product(k, weight.reshape(o * c, -1).astype(np.float64), True, u)
    return u.astype(np.float32).reshape(-1, o, c)


def forward(x, weight, bias, padding):
    """conv(x, weight) + bias for x (N, C, *spatial) float32, as `applies` allows."""
    from .numpy_threads import run_shared, thread_count
    two_d = x.ndim == 4
    x4 = _as_2d(x)
    p = _plan(x4.shape, weight.shape[0], _pairs(padding), two_d, _BLOCK_BYTES)
    out = np.empty((p.n, p.out_channels, p.out_height, p.out_width), dtype=np.float32)
    b = np.zeros(0, np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)

    tasks, rows = _tasks(p, thread_count())

    def work(task):
        staged_in, staged_out, edge, _, v, mt = _buffers(p)
        _forward_range(x4, task[0], task[1], rows, p.tile_rows, p.tile_cols, p.top, p.left,
                       u, b, staged_in, staged_out, edge, v, mt, out)

    with numba_conv._scipy_blas_limit():
        u = _filter_transform(weight, two_d)
        run_shared(work, tasks)
    return out if two_d else out.reshape(p.n, p.out_channels, p.out_width)


def input_grad(grad_out, weight, padding):
    """The input gradient: a convolution of grad_out, padded by 2 - padding, with the kernel
    flipped and its two channel axes swapped."""
    flipped = np.ascontiguousarray(np.flip(weight, axis=tuple(range(2, weight.ndim)))
                                   .swapaxes(0, 1))
    return forward(grad_out, flipped, None, [(2 - lo, 2 - hi) for lo, hi in padding])


def weight_grad(grad_out, x, weight_shape, padding):
    """The weight gradient, (O, C, *kernel) float32."""
    from .numpy_threads import run_shared, thread_count
    two_d = x.ndim == 4
    x4, g4 = _as_2d(x), _as_2d(grad_out)
    p = _plan(x4.shape, weight_shape[0], _pairs(padding), two_d, _WEIGHT_BLOCK_BYTES)
    partials = []
    tasks, rows = _tasks(p, thread_count())

    def work(task):
        staged_in, staged_grad, edge_in, edge_grad, v, dm = _buffers(p)
        du = np.zeros((p.positions, p.out_channels, p.channels), dtype=np.float32)
        _weight_grad_range(x4, g4, task[0], task[1], rows, p.tile_rows, p.tile_cols, p.top,
                           p.left, staged_in, staged_grad, edge_in, edge_grad, v, dm, du)
        partials.append(du)

    with numba_conv._scipy_blas_limit():
        run_shared(work, tasks)
    du = partials[0] if len(partials) == 1 else sum(partials)
    # dg = G^T dU G for every (o, c): the transpose of `_filter_transform`'s product.
    dw = np.empty((math.prod(weight_shape[2:]), p.out_channels * p.channels), np.float64)
    with numba_conv._scipy_blas_limit():
        _product(_kernel_map(two_d, True), du.reshape(p.positions, -1).astype(np.float64),
                 False, dw)
    return np.ascontiguousarray(dw.T, dtype=np.float32).reshape(weight_shape)


def backward_1d(grad_out, x, weight, padding, need_input, need_weight):
    """Both gradients of a 1-D convolution from one transform of the output gradient (the
    2-D input gradient is a forward of its own: `input_grad`). Returns (grad_x, grad_w)."""
    from .numpy_threads import run_shared, thread_count
    x4, g4 = _as_2d(x), _as_2d(grad_out)
    p = _plan(x4.shape, weight.shape[0], _pairs(padding), False, _WEIGHT_BLOCK_BYTES)
    grad_x = np.empty(x4.shape, dtype=np.float32) if need_input else None
    none = np.empty((0, 0, 0, 0), dtype=np.float32)
    partials = []
    tasks, rows = _tasks(p, thread_count())
    rows = min(rows, (STRIDE - 1) // (p.tile_cols + 1))  # dV sits one column on

    def work(task):
        staged_in, staged_grad, _, _, v, dm = _buffers(p)
        du = (np.zeros((p.positions, p.out_channels, p.channels), dtype=np.float32)
              if need_weight else np.empty((0, 0, 0), dtype=np.float32))
        _backward_1d_range(x4, g4, task[0], task[1], rows, p.tile_cols, p.left, u,
                           need_input, staged_in, staged_grad, v, dm, du,
                           grad_x if need_input else none)
        partials.append(du)

    with numba_conv._scipy_blas_limit():
        u = _filter_transform(weight, False)
        run_shared(work, tasks)
        grad_w = None
        if need_weight:
            du = partials[0] if len(partials) == 1 else sum(partials)
            dw = np.empty((3, p.out_channels * p.channels), np.float64)
            _product(_kernel_map(False, True), du.reshape(p.positions, -1).astype(np.float64),
                     False, dw)
            grad_w = np.ascontiguousarray(dw.T, dtype=np.float32).reshape(weight.shape)
    return (grad_x.reshape(x.shape) if need_input else None), grad_w
