"""Exporters of reductions and products: sum, mean, max/min, prod, var, logsumexp, matmul,
the affine map of Linear, the standardisation of the normalisation functions, and embedding
lookups."""

from __future__ import annotations

import importlib
import math


from ._dims import Dim, dim_mul, dim_sub
from ._registry import function, primitive
from ._util import broadcast_dims, reduced_dims

# The modules themselves: xpnet.ops re-exports functions under some of their names.
_embedding = importlib.import_module("xpnet.ops.embedding")
_linalg = importlib.import_module("xpnet.ops.linalg")
_normalization = importlib.import_module("xpnet.ops.normalization")
_reduce = importlib.import_module("xpnet.ops.reduce")


def _axes(axes, ndim):
    if axes is None:
        return tuple(range(ndim))
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(a % ndim for a in axes) if ndim else ()


def _reduction(onnx_op):
    def export(g, out, x, axes, keepdims, *args):
        dims = g.dims(x)
        axes = _axes(axes, len(dims))
        name = g.reduce(onnx_op, g.value(x, out.dtype.name), list(axes), keepdims)
        g.bind(out, name, reduced_dims(dims, axes, keepdims))
    return export


primitive(_reduce.Sum)(_reduction("Sum"))
primitive(_reduce.Mean)(_reduction("Mean"))
primitive(_reduce.Prod)(_reduction("Prod"))


@primitive(_reduce.Extreme)
def _extreme(g, out, x, axes, keepdims, largest):
    _reduction("Max" if largest else "Min")(g, out, x, axes, keepdims)


@primitive(_reduce.LogSumExp)
def _logsumexp(g, out, x, axes, keepdims):
    dt = out.dtype.name
    dims = g.dims(x)
    axes = list(_axes(axes, len(dims)))
    v = g.value(x, dt)
    peak = g.reduce("Max", v, axes, True)
    # Shifted by the maximum so exp cannot overflow; an all -inf slice keeps shift 0.
    peak = g.op("Where", [g.op("IsInf", [peak]), g.scalar(0, dt), peak])
    total = g.reduce("Sum", g.op("Exp", [g.op("Sub", [v, peak])]), axes, True)
    name = g.op("Add", [g.op("Log", [total]), peak])
    if not keepdims:
        name = g.squeeze(name, axes)
    g.bind(out, name, reduced_dims(dims, axes, keepdims))


def _count(g, dims, axes, dt, minus=0):
    """The number of elements over ``axes`` (less ``minus``) as a scalar of dtype ``dt``."""
    n = 1
    for a in axes:
        n = dim_mul(n, dims[a])
    n = dim_sub(n, minus)
    if not isinstance(n, Dim):
        return g.scalar(n, dt)
    return g.cast(g.squeeze(g.dim_tensor(n), [0]), dt)


@primitive(_reduce.Var)
def _var(g, out, x, axes, keepdims, correction):
    dt = out.dtype.name
    dims = g.dims(x)
    axes = list(_axes(axes, len(dims)))
    v = g.value(x, dt)
    centered = g.op("Sub", [v, g.reduce("Mean", v, axes, True)])
    total = g.reduce("Sum", g.op("Mul", [centered, centered]), axes, keepdims)
    name = g.op("Div", [total, _count(g, dims, axes, dt, correction)])
    g.bind(out, name, reduced_dims(dims, axes, keepdims))


def standardize_nodes(g, v, axes, eps, dt):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` with the biased variance."""
    centered = g.op("Sub", [v, g.reduce("Mean", v, list(axes), True)])
    var = g.reduce("Mean", g.op("Mul", [centered, centered]), list(axes), True)
    return g.op("Div", [centered, g.op("Sqrt", [g.op("Add", [var, g.scalar(eps, dt)])])])


@primitive(_normalization.Standardize)
def _standardize(g, out, x, axes, eps, stats=None):
    dt = out.dtype.name
    g.bind(out, standardize_nodes(g, g.value(x, dt), axes, eps, dt), g.dims(x))


# -- products ----------------------------------------------------------------------------------

def matmul_dims(a, b):
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 1:
        return tuple(b[:-2]) + (b[-1],)
    if len(b) == 1:
        return tuple(a[:-1])
    batch = broadcast_dims(a[:-2], b[:-2])
    return batch + (a[-2], b[-1])


@primitive(_linalg.Matmul)
def _matmul(g, out, a, b):
    dt = out.dtype.name
    name = g.op("MatMul", [g.value(a, dt), g.value(b, dt)])
    g.bind(out, name, matmul_dims(g.dims(a), g.dims(b)))


def transposed_weight(g, w):
    """``w.T`` as a value: an initializer for a weight, a Transpose node for a traced one."""
    if g.traced(w):
        return g.op("Transpose", [g.value(w)], perm=[1, 0])
    base = g.param_names.get(id(w.array) if hasattr(w, "array") else id(w))
    host = w._backend.to_numpy(w.array) if hasattr(w, "_backend") else w
    return g.weight(host.T.copy(), (base or "weight") + "_transposed")


def linear_nodes(g, x, w, b, dt):
    """``x @ w.T + b``: one Gemm for 2-D input, else MatMul and Add."""
    xv = g.value(x, dt)
    if len(g.dims(x)) == 2:
        inputs = [xv, g.value(w, dt)] + ([g.value(b, dt)] if b is not None else [])
        return g.op("Gemm", inputs, transB=1)
    name = g.op("MatMul", [xv, transposed_weight(g, w)])
    if b is not None:
        name = g.op("Add", [name, g.value(b, dt)])
    return name


@primitive(_linalg.Linear)
def _linear(g, out, x, w, b, *, relu=False):
    dims = g.dims(x)
    name = linear_nodes(g, x, w, b, out.dtype.name)
    if relu:  # `linear_relu`, the Transformer layers' feed-forward block
        name = g.op("Relu", [name])
    g.bind(out, name, tuple(dims[:-1]) + (w.shape[0],))


@primitive(_embedding.Embedding)
def _embedding_lookup(g, out, weight, indices, padding_idx, scale_grad_by_freq, sparse):
    name = g.op("Gather", [g.value(weight, out.dtype.name), g.value(indices, "int64")], axis=0)
    g.bind(out, name, tuple(g.dims(indices)) + (weight.shape[1],))


@primitive(_linalg.VectorNorm)
def _vector_norm(g, out, x, axes, keepdims, p):
    dt = out.dtype.name
    dims = g.dims(x)
    axes = list(_axes(axes, len(dims)))
    v = g.value(x, dt)
    magnitude = g.op("Abs", [v])
    if p == math.inf:
        name = g.reduce("Max", magnitude, axes, keepdims)
    elif p == -math.inf:
        name = g.reduce("Min", magnitude, axes, keepdims)
    elif p == 0:
        nonzero = g.cast(g.op("Not", [g.op("Equal", [magnitude, g.scalar(0, dt)])]), dt)
        name = g.reduce("Sum", nonzero, axes, keepdims)
    elif p == 1:
        name = g.reduce("Sum", magnitude, axes, keepdims)
    elif p == 2:
        name = g.op("Sqrt", [g.reduce("Sum", g.op("Mul", [v, v]), axes, keepdims)])
    else:
        powered = g.op("Pow", [magnitude, g.scalar(p, dt)])
        name = g.op("Pow", [g.reduce("Sum", powered, axes, keepdims), g.scalar(1 / p, dt)])
    g.bind(out, name, reduced_dims(dims, axes, keepdims))


_distance = importlib.import_module("xpnet.ops.distance")


@primitive(getattr(_distance, "CosineSimilarity", None))
def _cosine_similarity(g, out, x1, x2, axis, eps):
    dt = out.dtype.name
    a, b = g.value(x1, dt), g.value(x2, dt)
    ndim = max(len(g.dims(x1)), len(g.dims(x2)))
    # The axis counts in the broadcast shape: give the shorter input its leading axes.
    if len(g.dims(x1)) < ndim:
        a = g.unsqueeze(a, list(range(ndim - len(g.dims(x1)))))
    if len(g.dims(x2)) < ndim:
        b = g.unsqueeze(b, list(range(ndim - len(g.dims(x2)))))

    def unit(v):
        norm = g.op("Sqrt", [g.reduce("Sum", g.op("Mul", [v, v]), [axis], True)])
        return g.op("Div", [v, g.op("Max", [norm, g.scalar(eps, dt)])])

    name = g.reduce("Sum", g.op("Mul", [unit(a), unit(b)]), [axis], False)
    dims = broadcast_dims(g.dims(x1), g.dims(x2))
    g.bind(out, name, reduced_dims(dims, [axis], False))


# -- index and logical reductions (not primitives: intercepted as functions) -------------------

def _axis_choice(dim, axis):
    return dim if dim is not None else axis


def _arg_extreme(onnx_op):
    def export(g, out, input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
        d = _axis_choice(dim, axis)
        keep = bool(keepdim or keepdims)
        v = g.value(input)
        if g.dtype(input) == "bool":
            v = g.cast(v, "int32")
        dims = g.dims(input)
        if d is None or input.ndim == 0:
            flat = g.op("Reshape", [v, g.ints([-1])])
            name = g.op(onnx_op, [flat], axis=0, keepdims=0)
            out_dims = (1,) * input.ndim if keep and input.ndim else ()
            if out_dims:
                name = g.op("Reshape", [name, g.ints(out_dims)])
        else:
            d %= input.ndim
            name = g.op(onnx_op, [v], axis=d, keepdims=int(keep))
            out_dims = reduced_dims(dims, [d], keep)
        g.bind(out, name, out_dims)
    return export


function("xpnet.ops.reduce:argmax")(_arg_extreme("ArgMax"))
function("xpnet.ops.reduce:argmin")(_arg_extreme("ArgMin"))


def _logical_reduction(onnx_op):
    def export(g, out, input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
        d = _axis_choice(dim, axis)
        keep = bool(keepdim or keepdims)
        dims = g.dims(input)
        axes = list(range(len(dims))) if d is None or d == () else \
            [a % len(dims) for a in ((d,) if isinstance(d, int) else d)]
        v = g.value(input)
        if g.dtype(input) != "bool":
            v = g.op("Not", [g.op("Equal", [v, g.scalar(0, g.dtype(input))])])
        name = g.reduce(onnx_op, g.cast(v, "int32"), axes, keep)
        g.bind(out, g.cast(name, "bool"), reduced_dims(dims, axes, keep))
    return export


function("xpnet.ops.reduce:any")(_logical_reduction("Max"))
function("xpnet.ops.reduce:all")(_logical_reduction("Min"))


def _with_index(largest):
    def export(g, out, input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
        d = dim % input.ndim
        keep = bool(keepdim)
        v = g.value(input)
        values = g.reduce("Max" if largest else "Min", v, [d], keep)
        indices = g.op("ArgMax" if largest else "ArgMin", [v], axis=d, keepdims=int(keep))
        dims = reduced_dims(g.dims(input), [d], keep)
        g.bind(out[0], values, dims)
        g.bind(out[1], indices, dims)
    return export


def _dim_is_an_axis(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """``max(x, dim)`` returns values and indices; the other forms are primitives."""
    return isinstance(dim, int) and not isinstance(dim, bool) and axis is None \
        and getattr(input, "ndim", 0) > 0


function("xpnet.ops.reduce:max", accepts=_dim_is_an_axis)(_with_index(True))
function("xpnet.ops.reduce:min", accepts=_dim_is_an_axis)(_with_index(False))


@primitive(importlib.import_module("xpnet.ops.cumulative").CumSum)
def _cumsum(g, out, x, axis):
    name = g.op("CumSum", [g.value(x, out.dtype.name), g.scalar(axis, "int64")])
    g.bind(out, name, g.dims(x))


def _topk_accepts(input, k, dim=None, largest=True, sorted=True, *, axis=None):  # noqa: A002
    return getattr(input, "ndim", 0) > 0


@function("xpnet.ops.sorting:topk", accepts=_topk_accepts)
def _topk(g, out, input, k, dim=None, largest=True, sorted=True, *, axis=None):  # noqa: A002
    d = _axis_choice(dim, axis)
    d = -1 if d is None else d
    d %= input.ndim
    values, indices = g.op("TopK", [g.value(input), g.ints([int(k)])], outputs=2, axis=d,
                           largest=int(bool(largest)), sorted=int(bool(sorted)))
    dims = list(g.dims(input))
    dims[d] = int(k)
    g.bind(out[0], values, dims)
    g.bind(out[1], indices, dims)


@function("xpnet.functional.encoding:one_hot")
def _one_hot(g, out, tensor, num_classes=-1):
    depth = int(out.shape[-1])
    name = g.op("OneHot", [g.value(tensor, "int64"), g.ints([depth]),
                           g.const([0, 1], out.dtype.name)], axis=-1)
    g.bind(out, name, tuple(g.dims(tensor)) + (depth,))
