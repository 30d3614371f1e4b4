"""NumPy fast paths; each is compared with its twin in tests/test_kernels.py."""

from __future__ import annotations

import functools
import itertools
import math
import threading

import numpy as np

from . import register_fast
from . import numba_activation, numba_conv, numba_linear, numba_pool, numba_winograd
from . import numpy_buffers, numpy_threads
from . import twins as _twins

try:  # SciPy comes with scikit-learn (the examples extra); without it the twin serves.
    from scipy import special as _scipy_special
    from scipy import sparse as _scipy_sparse
except ImportError:
    _scipy_special = _scipy_sparse = None


@register_fast("scatter_add", "numpy")
def scatter_add(xp, index, values, size):
    if values.ndim == 1 and values.dtype.kind == "f":
        # bincount is a single pass in C; it sums in float64, which is also the more accurate.
        return np.bincount(index, weights=values, minlength=size).astype(values.dtype, copy=False)
    n = index.shape[0]
    rows = values.reshape(n, math.prod(values.shape[1:]))
    if _numba_embedding_bag.numba is not None and values.dtype in (np.float32, np.float64) \
            and size * rows.shape[1] >= _COMPILED_SCATTER_FROM:
        out = _numba_embedding_bag.scatter_rows(rows, index, size)
    elif _scipy_sparse is not None and values.dtype in (np.float32, np.float64):
        out = _scatter_add_csc(index, rows, size)
    else:
        out = _scatter_add_sorted(index, rows, size)
    return out.reshape((size, *values.shape[1:]))


# Outputs of this many elements or more go to numba_embedding_bag.scatter_rows (its zeroing
# shared among threads, its memory reused); smaller ones to SciPy, whose zeroing is short.
_COMPILED_SCATTER_FROM = 1 << 20


def _scatter_add_csc(index, rows, size):
    """The scatter as a product with the (size, n) 0/1 matrix whose column i has its one in row
    index[i]. In CSC form that matrix needs no sorting (column i holds one entry, index[i]), and
    SciPy's CSC-times-dense kernel is the scatter loop itself, in C: for each i, out[index[i]]
    += rows[i] (vocabulary 50,000, dim 128, 8,192 Zipf indices, float32: about 1.1 ms, against
    1.6 ms for the CSR form, which must sort, and 10 ms for np.add.at)."""
    n = index.shape[0]
    selector = _scipy_sparse.csc_matrix(
        (np.ones(n, dtype=rows.dtype), index, np.arange(n + 1, dtype=index.dtype)),
        shape=(size, n))
    return np.ascontiguousarray(selector @ rows)


def _scatter_add_sorted(index, rows, size):
    """Without SciPy (or for integer values): sort, sum each run of equal indices with
    np.add.reduceat and write the sums once per distinct row (3x faster than np.add.at)."""
    out = np.zeros((size, rows.shape[1]), dtype=rows.dtype)
    if index.shape[0] == 0:
        return out
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_index[1:] != sorted_index[:-1])))
    out[sorted_index[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


@register_fast("gather_scale_scatter_add", "numpy")
def gather_scale_scatter_add(xp, source, gather_index, scatter_index, scale, size):
    if _numba_embedding_bag.numba is not None and source.dtype in (np.float32, np.float64) \
            and source.ndim == 2 and size * source.shape[1] >= _COMPILED_SCATTER_FROM:
        return _numba_embedding_bag.scatter_rows(source, scatter_index, size, gather_index,
                                                 scale)
    if _scipy_sparse is None or source.dtype not in (np.float32, np.float64):
        return scatter_add(xp, scatter_index, source[gather_index] * scale[:, None], size)
    # The map is the (size, len(source)) matrix with scale[i] at (scatter_index[i],
    # gather_index[i]); SciPy's sparse-times-dense kernels then do the gathers, the scaling and
    # the sums in one pass, without the (n, dim) rows. Bags are contiguous, so one of the two
    # indices is sorted and gives the compressed layout directly: CSR when the scatter index is
    # sorted (bag forward: each output row reads its entries), CSC when the gather index is
    # (bag backward: each bag's column scatters into the word rows).
    shape = (size, source.shape[0])
    data = scale.astype(source.dtype, copy=False)
    if _is_sorted(scatter_index):
        indptr = _indptr(scatter_index, size)
        matrix = _scipy_sparse.csr_matrix((data, gather_index, indptr), shape=shape)
    elif _is_sorted(gather_index):
        indptr = _indptr(gather_index, source.shape[0])
        matrix = _scipy_sparse.csc_matrix((data, scatter_index, indptr), shape=shape)
    else:
        matrix = _scipy_sparse.coo_matrix((data, (scatter_index, gather_index)), shape=shape)
    return np.ascontiguousarray(matrix @ source)


def _is_sorted(index):
    return index.shape[0] < 2 or bool(np.all(index[1:] >= index[:-1]))


def _indptr(sorted_index, size):
    """Compressed-row pointers of a sorted index: where each of 0..size-1 starts, and the end."""
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_index, minlength=size), out=indptr[1:])
    return indptr


@register_fast("add_to_rows", "numpy")
def add_to_rows(xp, target, index, values):
    if not target.flags.writeable:  # e.g. a parameter loaded from a read-only buffer
        target = target.copy()
    # A buffered fancy-index add keeps only one of repeated rows' values, so repeats are summed
    # first; coalesced (strictly increasing) indices, the optimizers' case, skip the sort.
    if index.shape[0] > 1 and not bool(np.all(index[1:] > index[:-1])):
        index, inverse = np.unique(index, return_inverse=True)
        values = scatter_add(xp, inverse, values, index.shape[0])
    target[index] += values
    return target


if _scipy_special is not None:
    @register_fast("erf", "numpy")
    def erf(xp, x):
        return _scipy_special.erf(x)


# -- convolution -------------------------------------------------------------------------------
# The batch goes through in blocks whose columns fit in cache (`_COLUMN_BLOCK_BYTES`): each
# block's im2col writes, GEMMs and col2im then run on cached data. Whole-batch columns are
# prod(kernel) times the input (75 MB for N=32, 64 channels, 32x32, 3x3) and im2col and col2im
# become memory-bound: 42 ms forward and 87 ms backward against 33 and 71 ms in blocks of one
# or two samples (OpenBLAS, one thread). The loop runs ceil(N / block) times, never per pixel.
#
# Layout: the zero-padded input is one flat row per (sample, channel), split into stride phases:
# phase r of an axis with stride s holds the padded positions r, r + s, r + 2s... (one phase
# without a stride). Output o reads padded position s * o + dilation * k = s * (o + q) + r, that
# is position o + q of phase r, so every kernel position k reads one phase at a fixed offset
# with unit steps, whatever the stride. The output grid is taken "wide": rows of the whole phase
# width, whose last columns are junk. Each kernel position's columns are then one contiguous run
# of the row: im2col and col2im are one contiguous copy or add per position, not a strided one
# per row of pixels (col2im of a DCGAN layer's 8x8 outputs, stride 2, 16 samples of 64
# channels: 1.1 ms against 2.0 ms). The junk columns are dropped from the output and zeroed in
# the output gradient, so they add nothing.

_COLUMN_BLOCK_BYTES = 4 << 20
_workspace = threading.local()


def _scratch(slot, shape, dtype):
    """A per-thread buffer reused across calls, for temporaries that die inside one kernel call
    (fresh ones are page-faulted in on every call). Never return one of these."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = getattr(_workspace, slot, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
        setattr(_workspace, slot, buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)


class _ConvGeometry:
    """Shapes and offsets of one convolution in the flat phase layout, and its batch blocks."""

    def __init__(self, x_shape, itemsize, weight_shape, stride, padding, dilation, groups):
        self.n, self.channels = x_shape[:2]
        self.size = tuple(x_shape[2:])
        self.out_channels, self.kernel = weight_shape[0], tuple(weight_shape[2:])
        self.groups, self.stride, self.padding, self.dilation = groups, stride, padding, dilation
        padded = tuple(m + lo + hi for m, (lo, hi) in zip(self.size, padding))
        self.out_size = _twins.conv_output_size(self.size, self.kernel, stride, padding,
                                                dilation)
        # Each phase holds ceil(padded / stride) positions per axis (the last ones may be
        # beyond the padding: they stay zero).
        self.phase = tuple(-(-p // s) for p, s in zip(padded, stride))
        self.plane = math.prod(self.phase)
        self.row = math.prod(stride) * self.plane
        phase_strides = [math.prod(self.phase[i + 1:]) for i in range(len(self.size))]
        stride_strides = [math.prod(stride[i + 1:]) for i in range(len(self.size))]
        self.offsets = []
        for offset in _twins.conv_kernel_offsets(self.kernel):
            q, r = zip(*(divmod(k * d, s) for k, d, s in zip(offset, dilation, stride)))
            self.offsets.append(self.plane * sum(a * b for a, b in zip(r, stride_strides))
                                + sum(a * b for a, b in zip(q, phase_strides)))
        self.grid = (self.out_size[0], *self.phase[1:])
        self.run = math.prod(self.grid)
        # The wide grid of the last kernel positions runs past the row by up to this much.
        self.tail = max(0, max(self.offsets) + self.run - self.row)
        self.width = (self.channels // groups) * math.prod(self.kernel)
        sample_bytes = self.channels * len(self.offsets) * self.run * itemsize
        self.block = max(1, min(self.n, _COLUMN_BLOCK_BYTES // max(sample_bytes, 1)))

    def blocks(self):
        return [slice(start, min(start + self.block, self.n))
                for start in range(0, self.n, self.block)]

    def phases(self):
        """Per stride phase: (index into the phase view, index into the unpadded input)."""
        pairs = []
        for r in itertools.product(*(range(s) for s in self.stride)):
            inside, source = [], []
            for r_i, s, m, (lo, _) in zip(r, self.stride, self.size, self.padding):
                first = (r_i - lo) % s  # the first input position in this phase
                count = len(range(first, m, s))
                start = (first + lo) // s
                inside.append(slice(start, start + count))
                source.append(slice(first, None, s))
            pairs.append(((slice(None), slice(None), *r, *inside), (..., *source)))
        return pairs

    def phase_view(self, flat):
        return flat[:, :, :self.row].reshape(flat.shape[0], self.channels, *self.stride,
                                             *self.phase)


def _geometry(x_shape, itemsize, weight_shape, stride, padding, dilation, groups):
    """The geometry of a convolution, made once per shape and options (its Python took
    ~40 us a call, most of LeNet's 0.5 ms forward's margin). Read-only once made."""
    return _cached_geometry(x_shape, itemsize, weight_shape, stride, padding, dilation, groups,
                            _COLUMN_BLOCK_BYTES)


@functools.lru_cache(maxsize=128)
def _cached_geometry(*args):
    return _ConvGeometry(*args[:-1])


def _pad_into(geometry, x):
    """x zero-padded into scratch as flat phase rows (n, C, row + tail)."""
    g = geometry
    flat = _scratch("conv_padded", (x.shape[0], g.channels, g.row + g.tail), x.dtype)
    flat.fill(0)
    view = g.phase_view(flat)
    for inside, source in g.phases():
        view[inside] = x[source]
    return flat


def _im2col(geometry, x):
    """Columns in scratch, shape (n, groups, C / groups * prod(kernel), prod(grid))."""
    g = geometry
    flat = _pad_into(g, x)
    cols = _scratch("conv_cols", (x.shape[0], g.channels, len(g.offsets), g.run), x.dtype)
    for i, offset in enumerate(g.offsets):
        cols[:, :, i] = flat[:, :, offset:offset + g.run]
    return cols.reshape(x.shape[0], g.groups, g.width, g.run)


def _col2im(geometry, grad_cols, grad_x):
    """Add each kernel position's columns back where `_im2col` read them, into grad_x."""
    g = geometry
    n = grad_x.shape[0]
    grad_cols = grad_cols.reshape(n, g.channels, len(g.offsets), g.run)
    flat = _scratch("conv_padded", (n, g.channels, g.row + g.tail), grad_cols.dtype)
    flat.fill(0)
    for i, offset in enumerate(g.offsets):
        flat[:, :, offset:offset + g.run] += grad_cols[:, :, i]
    view = g.phase_view(flat)
    for inside, source in g.phases():
        grad_x[source] = view[inside]


def _on_grid(geometry, values):
    """(n, O, *out_size) -> (n, groups, O / groups, prod(grid)), zero on the junk columns."""
    g = geometry
    shape = (values.shape[0], g.groups, g.out_channels // g.groups, g.run)
    if tuple(g.grid) == tuple(g.out_size):
        return np.ascontiguousarray(values).reshape(shape)
    wide = _scratch("conv_grad_grid", (values.shape[0], g.out_channels, *g.grid), values.dtype)
    for axis in range(1, len(g.grid)):  # the junk: past the output along the wide axes
        wide[(..., *(slice(None),) * (axis - 1), slice(g.out_size[axis], None),
              *(slice(None),) * (len(g.grid) - axis - 1))] = 0
    wide[(..., *(slice(0, m) for m in g.out_size))] = values
    return wide.reshape(shape)


# With numba and scipy (numba_conv.py), most convolutions skip im2col: one GEMM per kernel
# position reads the padded rows where they lie (K = C / groups each). One thread,
# float32, ms, xpnet then torch in the same run (a loaded 2-core machine): conv2d
# 32x64x32x32 3x3 pad 1 forward 67.7 by im2col -> 24.2 / 15.7-24, forward+backward
# 187 -> 73.9 / 67.5; conv1d 64x128x50 width 3 forward 6.7 -> 2.6 / 2.5, forward+backward
# 23.1 -> 7.5 / 7.2. Few channels per group make each GEMM too thin: then a direct numba loop
# runs the forward while the products are few (LeNet's conv1, 1 -> 6 channels, 5x5:
# 1.0 ms by im2col -> 0.39 / 0.56), and im2col the rest.
#
# Float32 3x3 and width-3 kernels of stride 1 take Winograd (numba_winograd.py) instead
# where it measured faster than the offsets path, forward and backward, one thread (time
# ratios): 32x32 with 64 channels 0.55 (the conv2d above: forward 21-26 -> 11.8-12.3 ms,
# forward+backward 68-81 -> 36-39, torch 15-24 and 58-73 in the same runs), 16x16 with 32
# 0.64, 12x12 with 64 0.75, 10x10 with 64 0.88, 14x14 with 128 0.98, 8x8 1.45-1.55 (tiles of
# 4 on 8 outputs: a third of the products are edge waste), 7x7 with 256 1.9, 32x32 with 16
# channels 1.0; 1-D, length 50-100 with 32-256 channels 0.8-0.95 (the conv1d above:
# forward 2.6-3.0 -> 2.0-2.3, forward+backward 7.4-8.1 -> 5.8-6.5, torch 2.3-2.5 and
# 6.8-7.4), length 20 1.1.
_MIN_OFFSET_CHANNELS = 8
_MAX_DIRECT_PRODUCTS = 256  # (C / groups) * prod(kernel) * O
_MIN_WINOGRAD_CHANNELS = 32
_MIN_WINOGRAD_SIZE = {1: 40, 2: 10}  # output size along every axis, by spatial axes


def _conv_path(geometry, dtype=np.float32):
    """'winograd' (numba_winograd.py; float32 3x3 or width-3 kernels, stride 1), 'offsets'
    (numba_conv's GEMM per kernel position), 'direct' (its loop; forward only) or
    'im2col'."""
    g = geometry
    if not numba_conv.available:
        return "im2col"
    if (dtype == np.float32 and numba_winograd.available and numba_winograd.applies(g)
            and min(g.channels, g.out_channels) >= _MIN_WINOGRAD_CHANNELS
            and min(g.out_size) >= _MIN_WINOGRAD_SIZE[len(g.out_size)]):
        return "winograd"
    if g.channels // g.groups >= _MIN_OFFSET_CHANNELS:
        return "offsets"
    return "direct" if g.width * g.out_channels <= _MAX_DIRECT_PRODUCTS else "im2col"


@register_fast("conv_forward", "numpy")
def conv_forward(xp, x, weight, bias, *, stride, padding, dilation, groups):
    g = _geometry(x.shape, x.itemsize, weight.shape, stride, padding, dilation, groups)
    path = _conv_path(g, x.dtype)
    if path == "winograd":
        return numba_winograd.forward(x, weight, bias, padding)
    if path == "offsets":
        return numba_conv.forward(g, x, weight, bias)
    if path == "direct":
        return numba_conv.direct_forward(g, lambda block: _pad_into(g, block), x, weight, bias)
    w = weight.reshape(1, groups, g.out_channels // groups, g.width)
    out = np.empty((g.n, g.out_channels, *g.out_size), dtype=x.dtype)
    for block in g.blocks():
        cols = _im2col(g, x[block])
        n = cols.shape[0]
        if tuple(g.grid) != tuple(g.out_size):
            grid_out = _scratch("conv_grid_out", (n, g.out_channels, *g.grid), x.dtype)
            np.matmul(w, cols, out=grid_out.reshape(n, groups, -1, cols.shape[-1]))
            np.copyto(out[block], grid_out[(..., *(slice(0, m) for m in g.out_size))])
        else:
            np.matmul(w, cols, out=out[block].reshape(n, groups, -1, cols.shape[-1]))
    if bias is not None:
        out += bias.reshape(-1, *(1 for _ in g.out_size))
    return out


@register_fast("conv_backward", "numpy")
def conv_backward(xp, grad_out, x, weight, *, stride, padding, dilation, groups,
                  need_input=True, need_weight=True):
    g = _geometry(x.shape, x.itemsize, weight.shape, stride, padding, dilation, groups)
    path = _conv_path(g, x.dtype)
    if path == "winograd" and x.ndim == 3:
        return numba_winograd.backward_1d(grad_out, x, weight, padding, need_input,
                                          need_weight)
    if path == "winograd":
        return (numba_winograd.input_grad(grad_out, weight, padding) if need_input else None,
                numba_winograd.weight_grad(grad_out, x, weight.shape, padding)
                if need_weight else None)
    if path == "offsets":
        return numba_conv.backward(g, grad_out, x, weight, need_input, need_weight)
    w_t = _weight_t(g, weight)
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_input else None
    # Accumulated as (groups, width, O / groups): cols @ grad.T runs 10% faster than
    # grad @ cols.T with OpenBLAS here; transposed once at the end.
    grad_weight_t = np.zeros((groups, g.width, g.out_channels // groups), dtype=x.dtype)
    for block in g.blocks():
        grad = _on_grid(g, grad_out[block])
        n = grad.shape[0]
        if need_weight:
            cols = _im2col(g, x[block])
            per_sample = np.matmul(cols, grad.transpose(0, 1, 3, 2))
            grad_weight_t += per_sample[0] if n == 1 else per_sample.sum(axis=0)
        if need_input:
            # The columns' buffer is free again once their grad_weight part is done.
            _input_grad(g, w_t, grad, grad_x[block])
    grad_weight = None
    if need_weight:
        grad_weight = np.ascontiguousarray(grad_weight_t.transpose(0, 2, 1)).reshape(weight.shape)
    return grad_x, grad_weight


def _weight_t(geometry, weight):
    """weight (O, C / groups, *kernel) as (1, groups, C / groups * prod(kernel), O / groups)."""
    g = geometry
    return weight.reshape(1, g.groups, g.out_channels // g.groups, g.width).transpose(0, 1, 3, 2)


def _input_grad(geometry, w_t, grad, grad_x):
    """col2im(w_t @ grad) into grad_x, for one block; grad as `_on_grid` gives it."""
    grad_cols = _scratch("conv_cols", (grad.shape[0], geometry.groups, geometry.width,
                                       grad.shape[-1]), grad.dtype)
    np.matmul(w_t, grad, out=grad_cols)
    _col2im(geometry, grad_cols, grad_x)


@register_fast("conv_transpose_forward", "numpy")
def conv_transpose_forward(xp, x, weight, bias, *, output_size, stride, padding, dilation,
                           groups):
    # The geometry is that of the convolution whose input gradient this is: its input has the
    # transposed convolution's output shape, its output gradient is x.
    out_shape = (x.shape[0], weight.shape[1] * groups, *output_size)
    g = _geometry(out_shape, x.itemsize, weight.shape, stride, padding, dilation, groups)
    w_t = _weight_t(g, weight)
    out = np.empty(out_shape, dtype=x.dtype)
    for block in g.blocks():
        _input_grad(g, w_t, _on_grid(g, x[block]), out[block])
    if bias is not None:
        out += bias.reshape(-1, *(1 for _ in output_size))
    return out


# -- max pooling -------------------------------------------------------------------------------
# With numba (the fast extra), 1-D and 2-D pooling of any geometry runs numba_pool's one-pass
# kernel. Without it: the common case, windows that tile the input exactly (kernel == stride, no padding, no
# dilation, no NaN), as reshaped views: each kernel offset is one strided view, compared and
# merged in place, and the backward writes each offset's share straight into its view of the
# gradient. Everything else goes to the generic twin (positions are stored the same way).

def _tiles(x_shape, kernel, stride, padding, dilation, out_sizes):
    d = len(kernel)
    return (tuple(kernel) == tuple(stride) and not any(padding)
            and all(e == 1 for e in dilation)
            and all(o * k == n for o, k, n in zip(out_sizes, kernel, x_shape[-d:])))


def _tiled_view(a, kernel):
    """(..., n1, n2) -> (..., n1/k1, k1, n2/k2, k2) without copying."""
    lead = a.shape[:-len(kernel)]
    shape = list(lead)
    for n, k in zip(a.shape[-len(kernel):], kernel):
        shape += [n // k, k]
    return a.reshape(shape)


def _offset_index(ndim_lead, offset):
    """Index of one kernel offset in a tiled view: (..., :, o1, :, o2)."""
    key = [slice(None)] * ndim_lead
    for o in offset:
        key += [slice(None), o]
    return tuple(key)


@register_fast("max_pool_forward", "numpy")
def max_pool_forward(xp, x, kernel, stride, padding, dilation, out_sizes, device):
    from . import _generic
    if numba_pool.available and len(kernel) <= 2:
        return numba_pool.max_pool_forward(x, kernel, stride, padding, dilation, out_sizes)
    if not _tiles(x.shape, kernel, stride, padding, dilation, out_sizes) or np.isnan(x).any():
        return _generic["max_pool_forward"](xp, x, kernel, stride, padding, dilation,
                                            out_sizes, device)
    tiled = _tiled_view(x, kernel)
    lead = x.ndim - len(kernel)
    offsets = list(itertools.product(*(range(k) for k in kernel)))
    best = tiled[_offset_index(lead, offsets[0])].copy()
    arg = np.zeros(best.shape, dtype=np.int32)
    take = np.empty(best.shape, dtype=bool)
    for k, offset in enumerate(offsets[1:], start=1):
        v = tiled[_offset_index(lead, offset)]
        np.greater(v, best, out=take)  # strictly greater: the first maximum stays
        np.copyto(arg, k, where=take)
        np.maximum(best, v, out=best)
    return best, arg


@register_fast("max_pool_backward", "numpy")
def max_pool_backward(xp, g, arg, in_shape, kernel, stride, padding, dilation, out_sizes,
                      device):
    from . import _generic
    if numba_pool.available and len(kernel) <= 2:
        return numba_pool.max_pool_backward(g, arg, in_shape, kernel, stride, padding, dilation)
    if not _tiles(in_shape, kernel, stride, padding, dilation, out_sizes):
        return _generic["max_pool_backward"](xp, g, arg, in_shape, kernel, stride, padding,
                                             dilation, out_sizes, device)
    grad = np.empty(in_shape, dtype=g.dtype)
    tiled = _tiled_view(grad, kernel)
    lead = len(in_shape) - len(kernel)
    for k, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
        np.multiply(g, arg == k, out=tiled[_offset_index(lead, offset)])
    return grad


@register_fast("avg_pool_forward", "numpy")
def avg_pool_forward(xp, x, kernel, stride, padding, out_sizes, divisor, device):
    from . import _generic
    if numba_pool.available and len(kernel) <= 2:
        return numba_pool.avg_pool_forward(x, kernel, stride, padding, out_sizes, divisor)
    return _generic["avg_pool_forward"](xp, x, kernel, stride, padding, out_sizes, divisor,
                                        device)


@register_fast("avg_pool_backward", "numpy")
def avg_pool_backward(xp, g, in_shape, kernel, stride, padding, out_sizes, divisor, device):
    from . import _generic
    if numba_pool.available and len(kernel) <= 2:
        return numba_pool.avg_pool_backward(g, in_shape, kernel, stride, padding, out_sizes,
                                            divisor)
    return _generic["avg_pool_backward"](xp, g, in_shape, kernel, stride, padding, out_sizes,
                                         divisor, device)


@register_fast("relu_backward", "numpy")
def relu_backward(xp, g, out):
    from . import _generic
    if numba_activation.available and g.shape == out.shape and g.dtype == out.dtype \
            and g.flags.c_contiguous and out.flags.c_contiguous:
        return numba_activation.relu_backward(g, out)
    return _generic["relu_backward"](xp, g, out)


@register_fast("bias_relu", "numpy")
def bias_relu(xp, out, bias):
    from . import _generic
    if numba_linear.available and out.ndim == 2 and out.flags.c_contiguous \
            and (bias is None or bias.dtype == out.dtype):
        return numba_linear.bias_relu_(out, bias)
    return _generic["bias_relu"](xp, out, bias)


@register_fast("matmul", "numpy")
def matmul(xp, a, b):
    if a.ndim != 2 or b.ndim != 2:
        return np.matmul(a, b)
    return numpy_threads.matmul(a, b, out=numpy_buffers.large(np.result_type(a, b),
                                                              (a.shape[0], b.shape[1])))


# Same-shape sums of at least this many elements (1 MB of float32) are large: their output
# comes from reused memory where it is large enough (numpy_buffers.large) and the sum is shared
# among the threads. A Transformer encoder layer's two residual adds, (4096, 256) float32, took
# 3.7 ms of its forward+backward at two threads, 1.4 ms shared (2.2 ms at one thread, alone in
# reused memory); a (4,) add pays ~0.15 us for the dispatch.
_LARGE_ADD = 1 << 18
_ADD_BLOCKS_PER_THREAD = 2


@register_fast("add", "numpy")
def add(xp, a, b):
    # The tiny-tensor path first: two checks before NumPy's add.
    if type(a) is np.ndarray and a.size >= _LARGE_ADD and type(b) is np.ndarray \
            and a.shape == b.shape and a.dtype == b.dtype and a.flags.c_contiguous \
            and b.flags.c_contiguous:
        return _large_add(a, b)
    return np.add(a, b)


def _large_add(a, b):
    out = numpy_buffers.empty(a.dtype, a.shape)
    threads = numpy_threads.thread_count()
    if threads <= 1:
        return np.add(a, b, out=out)
    flat_a, flat_b, flat_out = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    parts = _ADD_BLOCKS_PER_THREAD * threads
    cuts = [a.size * i // parts for i in range(parts + 1)]

    def work(i):
        block = slice(cuts[i], cuts[i + 1])
        np.add(flat_a[block], flat_b[block], out=flat_out[block])

    numpy_threads.run_shared(work, range(parts), threads)
    return out


@register_fast("bias_add", "numpy")
def bias_add(xp, out, bias):
    if numba_linear.available and out.ndim == 2 and out.flags.c_contiguous \
            and bias.dtype == out.dtype:
        return numba_linear.bias_add_(out, bias)
    out += bias
    return out


@register_fast("relu_backward_bias", "numpy")
def relu_backward_bias(xp, g, out):
    from . import _generic
    if numba_linear.available and g.ndim == 2 and g.shape == out.shape \
            and g.dtype == out.dtype and g.flags.c_contiguous and out.flags.c_contiguous:
        return numba_linear.relu_backward_bias(g, out)
    return _generic["relu_backward_bias"](xp, g, out)


from . import word2vec_kernels as _word2vec_kernels  # noqa: E402,F401  (registers its fast paths)


from . import numpy_recurrent as _numpy_recurrent  # noqa: E402,F401  (registers its kernels)
from . import numpy_attention as _numpy_attention  # noqa: E402,F401  (registers its kernels)
from . import numba_layer_norm as _numba_layer_norm  # noqa: E402,F401  (registers its kernels)
from . import numba_norms as _numba_norms  # noqa: E402,F401  (registers its kernels)
from . import numba_optim as _numba_optim  # noqa: E402,F401  (registers its kernels)
from . import numba_embedding_bag as _numba_embedding_bag  # noqa: E402,F401  (registers)
from . import numpy_views as _numpy_views  # noqa: E402,F401  (registers its kernels)


# -- sigmoid ----------------------------------------------------------------------------------
# The twin makes seven array calls (abs, negative, exp, add, divide, multiply, where): 5.2 us on
# a (4,) tensor against tanh's 1.8, and 28 ms on 1M float32 values. scipy's expit is one ufunc
# (0.5 us on (4,)) but not vectorised (5.5 ms on 1M); 1 / (1 + exp(-x)) in place is 2.1 ms on
# 1M, exact wherever the result is a normal float (exp(-x) overflowing to inf gives 0, as it
# should). Tiny arrays take expit when SciPy is there; the rest the in-place form.
_EXPIT_BELOW = 4096
_expit = None


@register_fast("sigmoid", "numpy")
def sigmoid(xp, x):
    global _expit
    if x.size < _EXPIT_BELOW:
        if _expit is None:
            try:
                from scipy.special import expit as _expit
            except ImportError:
                _expit = False
        if _expit:
            return _expit(x)
    with np.errstate(over="ignore"):
        out = np.negative(x)
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)
