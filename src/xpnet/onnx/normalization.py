"""Exporters of the normalisation layers: BatchNorm (``BatchNormalization`` with the running
statistics), LayerNorm (``LayerNormalization``, opset 17), GroupNorm and InstanceNorm."""

from __future__ import annotations

from xpnet import nn
from xpnet.ops import normalization as _normalization

from ._registry import layer, optional, primitive
from .reduce import standardize_nodes


def _affine(g, name, weight, bias, dt, shape):
    """``name * weight + bias`` with the parameters reshaped to ``shape`` (constants)."""
    if weight is not None:
        name = g.op("Mul", [name, g.op("Reshape", [g.value(weight, dt), g.ints(shape)])])
    if bias is not None:
        name = g.op("Add", [name, g.op("Reshape", [g.value(bias, dt), g.ints(shape)])])
    return name


def _per_channel(g, t, n, dt, fill):
    return g.value(t, dt) if t is not None else g.const([fill] * n, dt)


@layer(nn.BatchNorm1d, nn.BatchNorm2d, optional("xpnet.nn:SyncBatchNorm"),
       when=lambda m: m.running_mean is not None)
def _batch_norm(g, module, out, x):
    dt = out.dtype.name
    c = module.num_features
    v = g.value(x, dt)
    two_d = x.ndim == 2
    if two_d:  # (N, C): BatchNormalization wants (N, C, ...)
        v = g.unsqueeze(v, [2])
    name = g.op("BatchNormalization",
                [v, _per_channel(g, module.weight, c, dt, 1.0),
                 _per_channel(g, module.bias, c, dt, 0.0), g.value(module.running_mean, dt),
                 g.value(module.running_var, dt)], epsilon=float(module.eps))
    if two_d:
        name = g.squeeze(name, [2])
    g.bind(out, name, g.dims(x))


def _layer_norm_nodes(g, x, normalized_shape, weight, bias, eps, dt):
    """``LayerNormalization`` (opset 17), or the standardisation and affine nodes before it."""
    k = len(normalized_shape)
    v = g.value(x, dt)
    if g.opset >= 17:
        size = 1
        for n in normalized_shape:
            size *= n
        scale = g.value(weight, dt) if weight is not None else \
            g.const([1.0] * size, dt, normalized_shape)
        inputs = [v, scale] + ([g.value(bias, dt)] if bias is not None else [])
        return g.op("LayerNormalization", inputs, axis=-k, epsilon=float(eps))
    axes = list(range(x.ndim - k, x.ndim))
    name = standardize_nodes(g, v, axes, eps, dt)
    return _affine(g, name, weight, bias, dt, list(normalized_shape))


@layer(nn.LayerNorm)
def _layer_norm(g, module, out, x):
    name = _layer_norm_nodes(g, x, module.normalized_shape, module.weight, module.bias,
                             module.eps, out.dtype.name)
    g.bind(out, name, g.dims(x))


@primitive(_normalization.LayerNorm)  # F.layer_norm called in a traced forward
def _layer_norm_primitive(g, out, x, weight, bias, ndim, eps):
    name = _layer_norm_nodes(g, x, tuple(x.shape[x.ndim - ndim:]), weight, bias, eps,
                             out.dtype.name)
    g.bind(out, name, g.dims(x))


@primitive(_normalization.BatchNorm)  # F.batch_norm (or a layer without running statistics)
def _batch_norm_primitive(g, out, x, weight, bias, mean, rstd, eps, stats=None):
    dt = out.dtype.name
    v = g.value(x, dt)
    shape = [x.shape[1]] + [1] * (x.ndim - 2)
    if mean is None:  # the batch's statistics, over every axis but 1
        name = standardize_nodes(g, v, [0] + list(range(2, x.ndim)), eps, dt)
    else:  # running statistics, constants of the graph: (x - mean) * rstd
        centered = g.op("Sub", [v, g.op("Reshape", [g.value(mean, dt), g.ints(shape)])])
        name = g.op("Mul", [centered, g.op("Reshape", [g.value(rstd, dt), g.ints(shape)])])
    g.bind(out, _affine(g, name, weight, bias, dt, shape), g.dims(x))


@primitive(_normalization.GroupNorm)  # F.group_norm / F.instance_norm in a traced forward
def _group_norm_primitive(g, out, x, weight, bias, groups, eps, stats=None):
    dt = out.dtype.name
    v = g.value(x, dt)
    # (N, C, *) -> (N, G, rest): each group standardised per sample, then back.
    grouped = g.op("Reshape", [v, g.ints([0, groups, -1])])
    name = standardize_nodes(g, grouped, [2], eps, dt)
    name = g.op("Reshape", [name, g.op("Shape", [v])])
    name = _affine(g, name, weight, bias, dt, [x.shape[1]] + [1] * (x.ndim - 2))
    g.bind(out, name, g.dims(x))


@layer(nn.GroupNorm)
def _group_norm(g, module, out, x):
    dt = out.dtype.name
    v = g.value(x, dt)
    # (N, C, *) -> (N, G, rest): each group standardised per sample, then back.
    grouped = g.op("Reshape", [v, g.ints([0, module.num_groups, -1])])
    name = standardize_nodes(g, grouped, [2], module.eps, dt)
    name = g.op("Reshape", [name, g.op("Shape", [v])])
    name = _affine(g, name, module.weight, module.bias, dt,
                   [module.num_channels] + [1] * (x.ndim - 2))
    g.bind(out, name, g.dims(x))


_InstanceNorm1d = optional("xpnet.nn:InstanceNorm1d")
_InstanceNorm2d = optional("xpnet.nn:InstanceNorm2d")


@layer(_InstanceNorm1d, _InstanceNorm2d)
def _instance_norm(g, module, out, x):
    dt = out.dtype.name
    c = module.num_features
    v = g.value(x, dt)
    unbatched = x.ndim == module._spatial + 1
    if unbatched:
        v = g.unsqueeze(v, [0])
    weight = _per_channel(g, module.weight, c, dt, 1.0)
    bias = _per_channel(g, module.bias, c, dt, 0.0)
    if module.track_running_stats and module.running_mean is not None:
        # Eval mode with running statistics: a per-channel map, as BatchNorm's.
        name = g.op("BatchNormalization", [v, weight, bias, g.value(module.running_mean, dt),
                                           g.value(module.running_var, dt)],
                    epsilon=float(module.eps))
    else:
        name = g.op("InstanceNormalization", [v, weight, bias], epsilon=float(module.eps))
    if unbatched:
        name = g.squeeze(name, [0])
    g.bind(out, name, g.dims(x))
