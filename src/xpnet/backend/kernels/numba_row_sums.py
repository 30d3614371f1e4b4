"""Sums of table rows picked by index, kept in vector registers: `sum_rows` writes
``out[b] = share * sum(scale[i] * table[index[i]])`` over entries ``start..end-1`` (entries
equal to ``padding`` left out), for the embedding bags (`numba_embedding_bag`).

Why: numba's loop over a bag's rows adds each row (or group of four rows) into the output row
in memory, a load and a store of the sums each time, since LLVM cannot keep them in registers
while the output might share memory with the table. PyTorch's EmbeddingBag (FBGEMM) keeps a
bag's sums in registers. Here an LLVM intrinsic does so for four 64-byte vectors of columns at
a time (64 float32 or 32 float64 columns), adding the entries' rows one after the other, as
FBGEMM does. Vocabulary 50,000, dim 128, 8,192 Zipf lookups in 512 mean bags, float32, one
thread, AMD EPYC (Zen 4), one process: 108-111 us -> 80-83 us (PyTorch 100-105); the same
with every index in 16 rows (no memory traffic): 90 -> 54 us (PyTorch 70). Vectors are
generic LLVM IR, lowered to what the CPU has (two 256-bit registers each on AVX2).
"""

from __future__ import annotations

from .numba_jit import compiled

try:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
except ImportError:  # the library works without the fast extra
    numba = None

_VECTOR_BYTES = 64  # one 512-bit register
_WIDE = 4  # vectors summed at once: 4 of the 32 vector registers (AVX-512), or 8 of 16 (AVX2)


def sum_rows_in_python(table, index, scale, weighted, padding, start, end, share, out, b):
    """What `sum_rows` does, one column at a time (the tests' reference)."""
    for j in range(table.shape[1]):
        total = table.dtype.type(0)
        for i in range(start, end):
            k = index[i]
            if k != padding:
                total += scale[i] * table[k, j] if weighted else table[k, j]
        out[b, j] = total * share


if numba is not None:
    def _row_sums_intrinsic(weighted):
        """An intrinsic ``(table, index, scale, padding, start, end, out, b, share)``: what
        `sum_rows` says, with or without (``weighted``) the scales. All in LLVM IR, columns
        in groups of _WIDE vectors, then single vectors, then one at a time (vectors of one
        lane): numba code around the vector loop, even a branch not taken, cost 8-10 us of
        the 54 in the timing above."""

        @intrinsic
        def row_sums(typingctx, table, index, scale, padding, start, end, out, b, share):
            if not (isinstance(table, types.Array) and table.layout == "C" and table.ndim == 2
                    and isinstance(out, types.Array) and out.layout == "C" and out.ndim == 2
                    and out.dtype == table.dtype and isinstance(index, types.Array)
                    and isinstance(index.dtype, types.Integer)):
                return None
            sig = types.void(table, index, scale, types.intp, types.intp, types.intp, out,
                             types.intp, table.dtype)

            def codegen(context, builder, signature, args):
                table_t, index_t, scale_t, _, _, _, out_t = signature.args[:7]
                table, index, scale, padding, start, end, out, b, share = args
                table = context.make_array(table_t)(context, builder, table)
                index = context.make_array(index_t)(context, builder, index)
                scale = context.make_array(scale_t)(context, builder, scale)
                out = context.make_array(out_t)(context, builder, out)
                element = context.get_data_type(table_t.dtype)
                intp = start.type
                lanes = _VECTOR_BYTES // context.get_abi_sizeof(element)

                def constant(value):
                    return ir.Constant(intp, value)

                def columns(column, vectors, lanes):
                    """out[b, column:column + vectors * lanes], in vectors of ``lanes``."""
                    vector = ir.VectorType(element, lanes)

                    def splat(value):
                        one = builder.insert_element(ir.Constant(vector, None), value,
                                                     ir.Constant(ir.IntType(32), 0))
                        return builder.shuffle_vector(
                            one, ir.Constant(vector, None),
                            ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes))

                    def vector_at(pointer, v):
                        return builder.bitcast(builder.gep(pointer, [constant(v * lanes)]),
                                               vector.as_pointer())

                    # Slots at the function's entry: LLVM keeps them in registers (mem2reg).
                    sums = [cgutils.alloca_once(builder, vector) for _ in range(vectors)]
                    for slot in sums:
                        builder.store(ir.Constant(vector, [ir.Constant(element, 0)] * lanes),
                                      slot)
                    fused = cgutils.get_or_insert_function(
                        builder.module, ir.FunctionType(vector, [vector] * 3),
                        f"llvm.fmuladd.v{lanes}{element.intrinsic_name}")
                    with cgutils.for_range(builder, builder.sub(end, start)) as loop:
                        i = builder.add(start, loop.index)
                        k = builder.load(cgutils.get_item_pointer(
                            context, builder, index_t, index, [i], wraparound=False))
                        k = context.cast(builder, k, index_t.dtype, types.intp)
                        with cgutils.if_likely(builder, builder.icmp_signed("!=", k, padding)):
                            row = cgutils.get_item_pointer(context, builder, table_t, table,
                                                           [k, column], wraparound=False)
                            if weighted:
                                factor = splat(builder.load(cgutils.get_item_pointer(
                                    context, builder, scale_t, scale, [i], wraparound=False)))
                            for v, slot in enumerate(sums):
                                value = builder.load(vector_at(row, v), align=1)
                                if weighted:
                                    total = builder.call(fused,
                                                         [factor, value, builder.load(slot)])
                                else:
                                    total = builder.fadd(builder.load(slot), value)
                                builder.store(total, slot)
                    target = cgutils.get_item_pointer(context, builder, out_t, out,
                                                      [b, column], wraparound=False)
                    factor = splat(share)
                    for v, slot in enumerate(sums):
                        builder.store(builder.fmul(builder.load(slot), factor),
                                      vector_at(target, v), align=1)

                dim = cgutils.unpack_tuple(builder, table.shape)[1]
                wide = _WIDE * lanes
                wide_end = builder.mul(builder.sdiv(dim, constant(wide)), constant(wide))
                with cgutils.for_range_slice(builder, constant(0), wide_end,
                                             constant(wide)) as (column, _):
                    columns(column, _WIDE, lanes)
                vector_end = builder.mul(builder.sdiv(dim, constant(lanes)), constant(lanes))
                with cgutils.for_range_slice(builder, wide_end, vector_end,
                                             constant(lanes)) as (column, _):
                    columns(column, 1, lanes)
                with cgutils.for_range_slice(builder, vector_end, dim,
                                             constant(1)) as (column, _):
                    columns(column, 1, 1)
                return context.get_dummy_value()

            return sig, codegen

        return row_sums

    _row_sums, _weighted_row_sums = _row_sums_intrinsic(False), _row_sums_intrinsic(True)

    @compiled(inline="always")
    def sum_rows(table, index, scale, weighted, padding, start, end, share, out, b):
        """out[b] = share * the sum of table[index[i]] (times scale[i] when ``weighted``) over
        entries start..end-1 whose index is not ``padding``, summed entry after entry; table
        and out C-ordered. Vectors of columns in registers."""
        if weighted:
            _weighted_row_sums(table, index, scale, padding, start, end, out, b, share)
        else:
            _row_sums(table, index, scale, padding, start, end, out, b, share)
