"""NumPy's BLAS for compiled loops: its OpenBLAS's ``cblas_?gemm`` as a ctypes function that
numba code calls directly, and the row blocks in which OpenBLAS multiplies without packing.

Why: a recurrent layer makes one small product per time step, and from Python each costs a
NumPy call (~1 us, more once the step's data has pushed the interpreter out of the caches)
on top of the kernel calls around it; a loop over time compiled with numba makes the same
BLAS calls with no Python in between (the forward of an RNN layer, 128 -> 256, seq 35, batch
32, float32, one thread: 2.30 -> 2.01 ms). NumPy's wheels bundle OpenBLAS as
``scipy_openblas64_``, whose ILP64 CBLAS symbols carry a ``64_`` suffix; with any other BLAS
`gemm` gives None and callers keep their NumPy loop.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from . import numpy_threads

# CBLAS's enums (cblas.h).
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

_SYMBOLS = {np.dtype(np.float32): ("scipy_cblas_sgemm64_", "cblas_sgemm64_"),
            np.dtype(np.float64): ("scipy_cblas_dgemm64_", "cblas_dgemm64_")}
_SCALARS = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
_found = {}
_lock = threading.Lock()

# OpenBLAS's SkylakeX kernels (which its Cooperlake and SapphireRapids builds include) multiply
# small untransposed operands without packing them when M*N*K <= 1e6
# (kernel/x86_64/sgemm_small_kernel_permit_skylakex.c). Packing the weights costs a fifth of
# an RNN's per-step product: (1024, 256) @ (256, 32) float32 148 -> 120 us in 9 blocks of 120
# rows, (256, 1024) @ (1024, 32) 150 -> 135 us in blocks of 24, (256, 256) @ (256, 32)
# 46 -> 37 us in blocks of 88, on one thread.
SMALL_PRODUCT = 10 ** 6
_SMALL_KERNEL_CORES = {"skylakex", "cooperlake", "sapphirerapids"}


def _numpy_openblas():
    """threadpoolctl's controller of the OpenBLAS NumPy loaded, or None."""
    controller = numpy_threads._blas()
    if controller is None:
        return None
    libs = [lib for lib in controller.lib_controllers
            if lib.internal_api == "openblas" and "numpy" in lib.filepath]
    return libs[0] if len(libs) == 1 else None


def gemm(dtype):
    """``?gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`` of
    NumPy's OpenBLAS for ``dtype`` (pointers as integers, ``arr.ctypes.data``), or None."""
    dtype = np.dtype(dtype)
    with _lock:
        if dtype not in _found:
            _found[dtype] = _load(dtype)
    return _found[dtype]


def _load(dtype):
    lib = _numpy_openblas()
    if lib is None or dtype not in _SYMBOLS:
        return None
    try:
        handle = ctypes.CDLL(lib.filepath)
    except OSError:
        return None
    index, scalar, pointer = ctypes.c_int64, _SCALARS[dtype], ctypes.c_uint64
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index,
                                 index, scalar, pointer, index, pointer, index, scalar,
                                 pointer, index)
    for name in _SYMBOLS[dtype]:
        if hasattr(handle, name):
            return prototype((name, handle))
    return None


def small_kernels():
    """Whether NumPy's BLAS has the small-matrix kernels (`SMALL_PRODUCT`)."""
    if "small" not in _found:
        lib = _numpy_openblas()
        _found["small"] = lib is not None and str(
            getattr(lib, "architecture", "")).lower() in _SMALL_KERNEL_CORES
    return _found["small"]


def row_blocks(rows, inner, columns):
    """(start, stop) rows of an (rows, inner) @ (inner, columns) product, as an (n, 2) int64
    array: blocks the small kernels take on one BLAS thread, else the whole product (those
    kernels run on one thread only)."""
    blocks = [(0, rows)]
    if inner * columns and numpy_threads.thread_count() == 1 and small_kernels():
        limit = SMALL_PRODUCT // (inner * columns)
        if 8 <= limit < rows:
            count = -(-rows // limit)
            size = -(-rows // count)
            size += -size % 8  # whole SIMD rows
            if size > limit:
                size -= 8
            blocks = [(r, min(r + size, rows)) for r in range(0, rows, size)]
    return np.array(blocks, dtype=np.int64).reshape(-1, 2)


class Product:
    """``out[...] = a @ b`` for a fixed (M, K) ``a`` and ``out`` (M, N), from Python: NumPy
    calls, one per `row_blocks` block."""

    def __init__(self, a, out, blocks):
        if len(blocks) > 1:
            a = np.ascontiguousarray(a)  # a transposed `a` would leave the small kernels
        self.pairs = [(a[start:stop], out[start:stop]) for start, stop in blocks.tolist()]

    def __call__(self, b):
        for a, out in self.pairs:
            np.matmul(a, b, out=out)
