"""A compiled transpose for the recurrent loops: ``out[:, first:last] = a[first:last].T``,
float32 in 16 x 16 blocks of LLVM vector shuffles, any other dtype element by element.

Why: each step of a recurrent layer's loop writes its state (H, B) transposed into the output
(B, H), and each step back its gate gradients (G*H, B) into the (T*B, G*H) operand of the
weight gradients. numba's loop over elements reads one column at a time and stays scalar:
15.5-17 us for a (1024, 32) float32 block, 30% of an LSTM step back at the recurrent
benchmark's shapes. A block of 16 rows is loaded as 16 vectors, transposed in registers by
four rounds of two-vector shuffles (round s swaps the off-diagonal s x s blocks of each 2s x
2s block), and stored as 16 vectors: 4.4-8.8 us, as the machine's load varied (a plain copy
of the same bytes: 2.7 us).
The shuffles are generic LLVM IR, lowered to whatever vector instructions the CPU has.
"""

from __future__ import annotations

from .numba_jit import compiled

try:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic, overload
except ImportError:  # the library works without the fast extra
    numba = None

_LANES = 16  # float32 lanes of a 512-bit vector: a block is _LANES x _LANES


def _round_masks(s, lanes=16):
    """The two shuffles of round ``s`` for rows i and i + s (i's bit s clear) of a block of
    ``lanes``: lanes in groups of 2s, where the first row keeps the first s lanes of each
    group of both rows and the second row the last s (indices of ``shufflevector(row_i,
    row_i+s)``: ``lanes`` and up are row i+s's)."""
    first, second = [], []
    for lane in range(lanes):
        group, p = divmod(lane, 2 * s)
        base = group * 2 * s
        first.append(base + p if p < s else lanes + base + p - s)
        second.append(base + s + p if p < s else lanes + base + p)
    return first, second


def block_in_python(a, row, column, out):
    """What each block of `blocks` does: out[column:column + 16, row:row + 16] = the transpose
    of a[row:row + 16, column:column + 16] (compiled, it serves dtypes other than float32 and
    strided rows; the tests compare it with the shuffles)."""
    for i in range(_LANES):
        for j in range(_LANES):
            out[column + j, row + i] = a[row + i, column + j]


if numba is not None:
    _F32 = ir.FloatType()

    def _shuffled_block_intrinsic(lanes):
        """An intrinsic ``(a, a_at, lda, out, out_at, ldo)``: out (``lanes`` rows from out_at,
        row stride ldo) = the transpose of a's ``lanes`` x ``lanes`` float32 block at a_at (row
        stride lda); offsets and strides in elements, rows unit-strided."""
        vector = ir.VectorType(_F32, lanes)
        mask = ir.VectorType(ir.IntType(32), lanes)
        rounds = [lanes >> k for k in range(1, lanes.bit_length())]  # 16: 8, 4, 2, 1

        @intrinsic
        def shuffled_block(typingctx, a, a_at, lda, out, out_at, ldo):
            for array in (a, out):
                if not isinstance(array, types.Array) or array.dtype != types.float32:
                    return None
            sig = types.void(a, types.intp, types.intp, out, types.intp, types.intp)

            def codegen(context, builder, signature, args):
                a, a_at, lda, out, out_at, ldo = args
                a_p = builder.gep(
                    context.make_array(signature.args[0])(context, builder, a).data, [a_at])
                o_p = builder.gep(
                    context.make_array(signature.args[3])(context, builder, out).data, [out_at])
                index, vector_p = a_at.type, vector.as_pointer()

                def row(pointer, i, stride):
                    at = builder.gep(pointer, [builder.mul(ir.Constant(index, i), stride)])
                    return builder.bitcast(at, vector_p)

                rows = [builder.load(row(a_p, i, lda), align=4) for i in range(lanes)]
                for s in rounds:
                    first, second = (ir.Constant(mask, m) for m in _round_masks(s, lanes))
                    new = list(rows)
                    for i in range(lanes):
                        if not i & s:
                            new[i] = builder.shuffle_vector(rows[i], rows[i + s], first)
                            new[i + s] = builder.shuffle_vector(rows[i], rows[i + s], second)
                    rows = new
                for j in range(lanes):
                    builder.store(rows[j], row(o_p, j, ldo), align=4)
                return context.get_dummy_value()

            return sig, codegen

        return shuffled_block

    _shuffled_block = _shuffled_block_intrinsic(_LANES)
    # 8 x 8 (8-lane vectors): numba_gemm's packing, whose tiles are 8 rows wide.
    shuffled_block_8 = _shuffled_block_intrinsic(8)

    _elementwise = compiled(block_in_python)

    def blocks(out, a, first, last, columns):
        """The 16 x 16 blocks of rows first..last-1 and columns 0..columns-1 (multiples of 16
        apart), each as `block_in_python` says; compiled only (through the overload below)."""
        raise NotImplementedError("numba_transpose.blocks runs compiled only")

    @compiled
    def _elementwise_blocks(out, a, first, last, columns):
        for column in range(0, columns, _LANES):
            for row in range(first, last, _LANES):
                _elementwise(a, row, column, out)

    @overload(blocks)
    def _blocks_overload(out, a, first, last, columns):
        if a.dtype != types.float32 or out.dtype != types.float32:
            return lambda out, a, first, last, columns: _elementwise_blocks(out, a, first, last,
                                                                            columns)

        def shuffled(out, a, first, last, columns):
            size = a.itemsize
            if a.strides[1] != size or out.strides[1] != size:
                _elementwise_blocks(out, a, first, last, columns)
                return
            lda, ldo = a.strides[0] // size, out.strides[0] // size
            for column in range(0, columns, _LANES):
                for row in range(first, last, _LANES):
                    _shuffled_block(a, row * lda + column, lda, out, column * ldo + row, ldo)
        return shuffled

    @compiled
    def transpose_rows(out, a, first, last):
        """out[:, first:last] = a[first:last].T; a (R, B), out (B, R) (strided views too).
        Blocks of 16 x 16 where they fit, the edges element by element."""
        batch = a.shape[1]
        full_rows = first + (last - first) // _LANES * _LANES
        full_columns = batch // _LANES * _LANES
        blocks(out, a, first, full_rows, full_columns)
        for b in range(batch):  # the edges: rows past the last block, columns past it
            for r in range(full_rows if b < full_columns else first, last):
                out[b, r] = a[r, b]

    @compiled
    def transpose(out, a):
        """out (B, R) = a (R, B)."""
        transpose_rows(out, a, 0, a.shape[0])
