"""A float32 product for the recurrent loops: ``c (M, N) = a (M, K) @ b (K, N)`` with ``a``
packed once per call, in register tiles of 8 rows by 32 (or 16) columns written as LLVM
vector code, for AVX-512 machines.

Why: a recurrent layer multiplies the same weights by a (K, batch) state at every step. BLAS
repacks the weights at each call (OpenBLAS's small-matrix kernels skip the packing, but read
the weights with a row stride); here they are packed once per call, 8 rows interleaved by
k (`pack`), so a tile reads 32 contiguous bytes per k, and the state (K, 32) stays in L1
while every tile of rows passes over it. Each tile keeps its 8 x 2 accumulators in zmm
registers: per k, 2 loads of the state, 8 broadcasts of weights, 16 FMAs, which LLVM
schedules without spills. One thread, float32, (M, K) @ (K, 32), CPU time on the busy
2-core Sapphire Rapids:

==========================  =====================  ==========  ===========
product                     OpenBLAS (row blocks)  MKL (torch)  these tiles
==========================  =====================  ==========  ===========
(1024, 256) @ (256, 32)     97.6 us                99.1 us     86-88 us
(256, 1024) @ (1024, 32)    117-141 us             97.9 us     86-91 us
(1024, 128) @ (128, 32)     (52 us, bulk / 35)     --          43.5 us
==========================  =====================  ==========  ===========

K goes in chunks of `_DEPTH` rows of ``b`` (32 KB at 32 columns), so that the state chunk
stays in L1: (1024, 512) @ (512, 32) took 202 us in one pass, ~175 in two. 4 rows a tile
left the FMA units waiting (106 us), 16 rows spilled (137 us); unpacked weights (a 4 kB
stride between k) took 124 us.

Only float32 (the compiled recurrent loops' dtype), rows in multiples of 8 and columns in
multiples of 16: `usable` says whether a shape qualifies; callers keep BLAS otherwise.
Without AVX-512 the 16-lane vectors would be split in two and the 16 accumulators spill, so
`available` is false there.
"""

from __future__ import annotations

import functools

import numpy as np

from . import numba_transpose
from .numba_jit import compiled

try:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
except ImportError:  # the library works without the fast extra
    numba = None

ROWS = 8  # rows of a tile (of the packed weights)
_LANES = 16  # float32 lanes of a zmm register
_DEPTH = 256  # rows of b per pass over the tiles


@functools.cache
def available():
    """Whether the tiles run here: numba installed and an AVX-512 CPU (asked once: the query
    takes 0.3 ms)."""
    if numba is None:
        return False
    try:
        import llvmlite.binding as llvm
        return bool(llvm.get_host_cpu_features().get("avx512f", False))
    except Exception:  # an llvmlite without the query: keep BLAS
        return False


def usable(rows, columns, dtype):
    """Whether ``product`` takes an (rows, K) @ (K, columns) product of ``dtype``."""
    return (dtype == np.float32 and rows > 0 and rows % ROWS == 0 and columns > 0
            and columns % _LANES == 0 and available())


def pack(a, out=None):
    """(M, K) -> (M / 8, K, 8): the 8 rows of each tile interleaved by k, C-ordered (into
    ``out`` if given). Compiled: NumPy's strided copy took 0.2 ms for an LSTM's two weights
    (128 -> 256), 4% of its forward."""
    rows, depth = a.shape
    if out is None:
        out = np.empty((rows // ROWS, depth, ROWS), dtype=np.float32)
    _pack(a, out)
    return out


if numba is not None:
    _F32 = ir.FloatType()
    _VECTOR = ir.VectorType(_F32, _LANES)

    def _tile_intrinsic(vectors, accumulate):
        """An intrinsic ``tile(a, a_at, b, b_at, ldb, c, c_at, ldc, depth)``: c's 8 x 16*vectors
        block at c_at (row stride ldc) = (accumulate: +=) the packed block at a_at, depth k's
        by 8 rows, times depth rows of b from b_at (row stride ldb); offsets in elements."""

        @intrinsic
        def tile(typingctx, a, a_at, b, b_at, ldb, c, c_at, ldc, depth):
            for array in (a, b, c):
                if not isinstance(array, types.Array) or array.dtype != types.float32:
                    return None
            sig = types.void(a, types.intp, b, types.intp, types.intp, c, types.intp,
                             types.intp, types.intp)

            def codegen(context, builder, signature, args):
                a, a_at, b, b_at, ldb, c, c_at, ldc, depth = args
                data = [context.make_array(t)(context, builder, v).data
                        for t, v in ((signature.args[0], a), (signature.args[2], b),
                                     (signature.args[5], c))]
                a_p, b_p, c_p = (builder.gep(p, [at]) for p, at in zip(data, (a_at, b_at, c_at)))
                index = a_at.type
                vector_p = _VECTOR.as_pointer()
                fma = cgutils.get_or_insert_function(
                    builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 3), "llvm.fma.v16f32")

                def c_slot(r, v):
                    at = builder.add(builder.mul(ir.Constant(index, r), ldc),
                                     ir.Constant(index, v * _LANES))
                    return builder.bitcast(builder.gep(c_p, [at]), vector_p)

                zero = ir.Constant(_VECTOR, [0.0] * _LANES)
                accs = [[cgutils.alloca_once_value(
                    builder, builder.load(c_slot(r, v), align=4) if accumulate else zero)
                    for v in range(vectors)] for r in range(ROWS)]
                undef = ir.Constant(_VECTOR, ir.Undefined)
                lane0 = ir.Constant(ir.IntType(32), 0)
                splat = ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES)
                with cgutils.for_range(builder, depth) as loop:
                    k = loop.index
                    b_row = builder.gep(b_p, [builder.mul(k, ldb)])
                    b_vectors = [builder.load(builder.bitcast(
                        builder.gep(b_row, [ir.Constant(index, v * _LANES)]), vector_p), align=4)
                        for v in range(vectors)]
                    a_row = builder.gep(a_p, [builder.mul(k, ir.Constant(index, ROWS))])
                    for r in range(ROWS):
                        weight = builder.load(builder.gep(a_row, [ir.Constant(index, r)]), align=4)
                        weights = builder.shuffle_vector(
                            builder.insert_element(undef, weight, lane0), undef, splat)
                        for v in range(vectors):
                            builder.store(builder.call(fma, [weights, b_vectors[v],
                                                             builder.load(accs[r][v])]),
                                          accs[r][v])
                for r in range(ROWS):
                    for v in range(vectors):
                        builder.store(builder.load(accs[r][v]), c_slot(r, v), align=4)
                return context.get_dummy_value()

            return sig, codegen

        return tile

    _tile_32 = _tile_intrinsic(2, False)
    _tile_32_add = _tile_intrinsic(2, True)
    _tile_16 = _tile_intrinsic(1, False)
    _tile_16_add = _tile_intrinsic(1, True)

    @compiled
    def product(packed, b, c, tile_start, tile_stop, accumulate):
        """c[8 i:8 i + 8] (=, or += if accumulate) the packed rows' tiles i in
        tile_start..tile_stop-1 @ b; packed (M / 8, K, 8), b (K, N), c (M, N), all C-ordered,
        N a multiple of 16."""
        depth, columns = b.shape
        ldc = c.shape[1]
        if depth == 0 and not accumulate:
            c[tile_start * ROWS:tile_stop * ROWS] = 0
        for k0 in range(0, depth, _DEPTH):
            k_count = min(_DEPTH, depth - k0)
            add = accumulate or k0 > 0
            for i in range(tile_start, tile_stop):
                a_at = (i * depth + k0) * ROWS
                c_row = i * ROWS * ldc
                for n in range(0, columns - 31, 32):
                    if add:
                        _tile_32_add(packed, a_at, b, k0 * columns + n, columns, c, c_row + n,
                                     ldc, k_count)
                    else:
                        _tile_32(packed, a_at, b, k0 * columns + n, columns, c, c_row + n, ldc,
                                 k_count)
                if columns % 32:
                    n = columns - 16
                    if add:
                        _tile_16_add(packed, a_at, b, k0 * columns + n, columns, c, c_row + n,
                                     ldc, k_count)
                    else:
                        _tile_16(packed, a_at, b, k0 * columns + n, columns, c, c_row + n, ldc,
                                 k_count)

    @compiled
    def _pack(a, out):
        """Each tile's (8, K) rows transposed to (K, 8): in 8 x 8 blocks of vector shuffles
        (`numba_transpose`) where a's rows are unit-strided (an LSTM's two weights, 128 ->
        256: 77 -> 57 us), else element by element (a transposed view, whose tile rows
        are contiguous pieces already)."""
        tiles, depth = out.shape[0], out.shape[1]
        size = a.itemsize
        full = depth // ROWS * ROWS if a.strides[1] == size else 0
        lda = a.strides[0] // size
        for i in range(tiles):
            for k in range(0, full, ROWS):
                numba_transpose.shuffled_block_8(a, i * ROWS * lda + k, lda, out,
                                                 (i * depth + k) * ROWS, ROWS)
            for k in range(full, depth):
                for r in range(ROWS):
                    out[i, k, r] = a[i * ROWS + r, k]
