"""Exporters of convolutions (``Conv``, ``ConvTranspose``; the reflect, replicate and circular
padding modes are a ``Pad`` first, see `xpnet.onnx.shape`) and pooling (``MaxPool``,
``AveragePool``, adaptive averages as means or products with averaging matrices, adaptive
maxima as ``ReduceMax`` per window)."""

from __future__ import annotations

import importlib

from xpnet import nn
from xpnet.functional.pooling import _avg_divisor

from ._dims import Dim, dim_add, dim_floordiv, dim_mul, value_of
from ._errors import ExportError
from ._registry import layer, optional, primitive, transparent

# The modules themselves: xpnet.ops re-exports functions under some of their names.
_conv = importlib.import_module("xpnet.ops.conv")
_pool = importlib.import_module("xpnet.ops.pool")


def window_dim(g, size, kernel, stride, lo, hi, dilation, out_size, name, axis):
    """The output size of a sliding window: a formula of a dynamic input size, else static."""
    if not isinstance(size, Dim):
        return out_size
    # floor((size + lo + hi - dilation * (kernel - 1) - 1) / stride) + 1
    d = dim_add(size, lo + hi - dilation * (kernel - 1) - 1)
    if stride != 1:
        d = dim_floordiv(d, stride)
    d = dim_add(d, 1)
    if value_of(d) != out_size:
        return g.new_symbol(name, axis, out_size)
    return d


@primitive(_conv.Conv)
def _convolution(g, out, x, weight, bias, stride, pads, dilation, groups):
    dt = out.dtype.name
    k = len(stride)
    inputs = [g.value(x, dt), g.value(weight, dt)]
    if bias is not None:
        inputs.append(g.value(bias, dt))
    name = g.op("Conv", inputs, kernel_shape=list(weight.shape[2:]), strides=list(stride),
                pads=[lo for lo, _ in pads] + [hi for _, hi in pads], dilations=list(dilation),
                group=int(groups))
    dims = g.dims(x)
    spatial = [window_dim(g, dims[2 + i], weight.shape[2 + i], stride[i], pads[i][0],
                          pads[i][1], dilation[i], out.shape[2 + i], name, 2 + i)
               for i in range(k)]
    g.bind(out, name, [dims[0], int(weight.shape[0]), *spatial])


_ConvTranspose = optional("xpnet.ops.conv_transpose:ConvTranspose")


@primitive(_ConvTranspose)
def _conv_transpose(g, out, x, weight, bias, stride, padding, dilation, groups, output_size):
    dt = out.dtype.name
    k = len(stride)
    kernel = weight.shape[2:]
    dims = g.dims(x)
    in_size = [value_of(d) for d in dims[2:]]
    default = [(n - 1) * s - 2 * p[0] + e * (kk - 1) + 1
               for n, s, p, e, kk in zip(in_size, stride, padding, dilation, kernel)]
    output_padding = [int(o) - d for o, d in zip(output_size, default)]
    inputs = [g.value(x, dt), g.value(weight, dt)]
    if bias is not None:
        inputs.append(g.value(bias, dt))
    name = g.op("ConvTranspose", inputs, kernel_shape=list(kernel), strides=list(stride),
                pads=[p[0] for p in padding] + [p[1] for p in padding],
                dilations=list(dilation), group=int(groups), output_padding=output_padding)
    spatial = []
    for i in range(k):
        size = dims[2 + i]
        if isinstance(size, Dim):
            d = dim_add(dim_mul(dim_add(size, -1), stride[i]),
                        -2 * padding[i][0] + dilation[i] * (kernel[i] - 1) + output_padding[i]
                        + 1)
        else:
            d = int(output_size[i])
        spatial.append(d)
    g.bind(out, name, [dims[0], int(weight.shape[1] * groups), *spatial])


# -- pooling ----------------------------------------------------------------------------------

def _pool_context(kind):
    """The pooling layer being traced, when the primitive comes from one."""
    def current(g):
        m = g.current_module()
        return m if isinstance(m, kind) else None
    return current


_max_layer = _pool_context((nn.MaxPool1d, nn.MaxPool2d))
_avg_layer = _pool_context((nn.AvgPool1d, nn.AvgPool2d))


def _pool_dims(g, x, name, kernel, stride, padding, dilation, out_sizes, ceil_mode, out):
    dims = list(g.dims(x))
    d = len(kernel)
    for i in range(d):
        axis = len(dims) - d + i
        if ceil_mode and isinstance(dims[axis], Dim):
            dims[axis] = g.new_symbol(name, axis, int(out.shape[axis]))
        else:
            dims[axis] = window_dim(g, dims[axis], kernel[i], stride[i], padding[i], padding[i],
                                    dilation[i], int(out_sizes[i]), name, axis)
    return dims


def _ceil_mode(x, kernel, stride, padding, dilation, out_sizes, layer_module):
    if layer_module is not None:
        return bool(layer_module.ceil_mode)
    spatial = x.shape[-len(kernel):]
    floor = [_pool.pool_output_size(n, k, s, p, False, e)
             for n, k, s, p, e in zip(spatial, kernel, stride, padding, dilation)]
    return list(floor) != list(out_sizes)


@primitive(_pool.MaxPool)
def _max_pool(g, out, x, kernel, stride, padding, dilation, out_sizes):
    ceil_mode = _ceil_mode(x, kernel, stride, padding, dilation, out_sizes, _max_layer(g))
    name = g.op("MaxPool", [g.value(x)], kernel_shape=list(kernel), strides=list(stride),
                pads=list(padding) * 2, dilations=list(dilation), ceil_mode=int(ceil_mode))
    g.bind(out, name, _pool_dims(g, x, name, kernel, stride, padding, dilation, out_sizes,
                                 ceil_mode, out))


@primitive(_pool.AvgPool)
def _avg_pool(g, out, x, kernel, stride, padding, out_sizes, divisor):
    dt = out.dtype.name
    ones = (1,) * len(kernel)
    module = _avg_layer(g)
    ceil_mode = _ceil_mode(x, kernel, stride, padding, ones, out_sizes, module)
    spatial = tuple(x.shape[-len(kernel):])
    window = 1
    for k in kernel:
        window *= k
    override = None
    if module is not None:
        include = bool(module.count_include_pad)
        override = getattr(module, "divisor_override", None)
    elif not isinstance(divisor, (int, float)):
        include = _same(divisor, _avg_divisor(spatial, kernel, stride, padding, out_sizes, True))
    else:
        include = True
        if divisor != window and divisor != _avg_divisor(spatial, kernel, stride, padding,
                                                         out_sizes, False):
            override = divisor
    if not any(padding):
        include = True  # the same numbers; ONNX's default spelling
    if override is None and not _same(divisor, _avg_divisor(
            spatial, kernel, stride, padding, out_sizes, include)):
        raise ExportError("ONNX export: this average pooling's divisors (ceil_mode windows "
                          "past the padding) have no ONNX AveragePool equivalent")
    name = g.op("AveragePool", [g.value(x, dt)], kernel_shape=list(kernel),
                strides=list(stride), pads=list(padding) * 2, ceil_mode=int(ceil_mode),
                count_include_pad=int(include))
    if override is not None:
        name = g.op("Mul", [name, g.scalar(window / override, dt)])
    g.bind(out, name, _pool_dims(g, x, name, kernel, stride, padding, ones, out_sizes,
                                 ceil_mode, out))


def _same(a, b):
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return float(a) == float(b)
        return False
    return [list(r) if isinstance(r, list) else r for r in a] == \
        [list(r) if isinstance(r, list) else r for r in b]


@primitive(_pool.AdaptiveAvgPool)
def _adaptive_avg_pool(g, out, x, out_sizes):
    dt = out.dtype.name
    dims = list(g.dims(x))
    d = len(out_sizes)
    name = g.value(x, dt)
    for i, size in enumerate(out_sizes):
        axis = len(dims) - d + i
        n = dims[axis]
        if size == 1:
            name = g.reduce("Mean", name, [axis], True)
        elif isinstance(n, Dim):
            raise ExportError(f"ONNX export: adaptive average pooling to {tuple(out_sizes)} over "
                              f"the dynamic axis {axis} (size {g.describe(n)}) has windows that "
                              f"depend on the size; pool to 1 or keep that axis static")
        elif n == size:
            continue
        else:
            # An (n, size) matrix of window averages: one MatMul per axis, as xpnet does.
            values = [0.0] * (n * size)
            for j, (start, end) in enumerate(_pool.adaptive_bounds(n, size)):
                for r in range(start, end):
                    values[r * size + j] = 1.0 / (end - start)
            matrix = g.const(values, dt, [n, size])
            if axis == len(dims) - 1:
                name = g.op("MatMul", [name, matrix])
            else:
                moved = list(range(len(dims)))
                moved[axis], moved[-1] = moved[-1], moved[axis]
                name = g.transpose(g.op("MatMul", [g.transpose(name, moved), matrix]), moved)
        dims[axis] = size
    g.bind(out, name, dims)


_AdaptiveMaxPool1d = optional("xpnet.nn:AdaptiveMaxPool1d")
_AdaptiveMaxPool2d = optional("xpnet.nn:AdaptiveMaxPool2d")


@layer(_AdaptiveMaxPool1d, _AdaptiveMaxPool2d)
def _adaptive_max_pool(g, module, out, x):
    """Maxima over adaptive windows: ReduceMax for an output size of 1, else one ReduceMax
    per window of a static axis."""
    kind = type(module).__name__
    if module.return_indices:
        raise ExportError(f"ONNX export: {kind} with return_indices=True is not supported")
    dims = list(g.dims(x))
    d = 1 if isinstance(module, _AdaptiveMaxPool1d) else 2
    sizes = tuple(out.shape[-d:])
    name = g.value(x, out.dtype.name)
    for i, size in enumerate(sizes):
        axis = len(dims) - d + i
        n = dims[axis]
        if size == 1:
            name = g.reduce("Max", name, [axis], True)
        elif isinstance(n, Dim):
            raise ExportError(f"ONNX export: {kind} to {sizes} over the dynamic axis {axis} "
                              f"(size {g.describe(n)}) has windows that depend on the size; "
                              f"pool to 1 or keep that axis static")
        elif n != size:
            windows = [g.reduce("Max", g.slice(name, [start], [end], [axis]), [axis], True)
                       for start, end in _pool.adaptive_bounds(n, size)]
            name = g.op("Concat", windows, axis=axis)
        dims[axis] = size
    g.bind(out, name, dims)


transparent(nn.Conv1d, nn.Conv2d, optional("xpnet.nn:ConvTranspose1d"),
            optional("xpnet.nn:ConvTranspose2d"), nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d,
            nn.AvgPool2d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d,
            optional("xpnet.nn.conv:ConvTranspose1d"), optional("xpnet.nn.conv:ConvTranspose2d"))
