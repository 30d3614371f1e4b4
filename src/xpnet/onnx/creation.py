"""Exporters of tensors made inside ``forward`` with sizes read from the inputs:
``zeros``/``ones``/``full``/``empty`` (and their ``_like`` and ``new_`` forms) become
``ConstantOfShape``, ``arange`` becomes ``Range``, and ``tril``/``triu`` become ``Trilu``, so a
causal mask or a position index follows the sequence length. With only static sizes they stay
constants."""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor

from ._dims import Dim, dim_add, dim_floordiv, dim_sub, lift
from ._registry import function


def _sizes(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        d = lift(s)
        out.append(int(s) if d is None else d)
    return out


def _filled(value):
    def export(g, out, *shape, **kwargs):
        g.bind(out, g.constant_of_shape(_sizes(shape), value, out.dtype.name), _sizes(shape))
    return export


function("xpnet.creation:zeros")(_filled(0))
function("xpnet.creation:ones")(_filled(1))
function("xpnet.creation:empty")(_filled(0))


@function("xpnet.creation:full", accepts=lambda shape, fill_value, *a, **k:
          not isinstance(fill_value, Tensor))
def _full(g, out, shape, fill_value, *args, **kwargs):
    dims = _sizes((shape,) if not isinstance(shape, (tuple, list)) else (tuple(shape),))
    g.bind(out, g.constant_of_shape(dims, fill_value, out.dtype.name), dims)


def _like(value):
    def export(g, out, x, *args, **kwargs):
        dims = g.dims(x)
        g.bind(out, g.constant_of_shape(dims, value, out.dtype.name), dims)
    return export


function("xpnet.creation:zeros_like")(_like(0))
function("xpnet.creation:ones_like")(_like(1))
function("xpnet.creation:empty_like")(_like(0))


@function("xpnet.creation:full_like", accepts=lambda x, fill_value, *a, **k:
          not isinstance(fill_value, Tensor))
def _full_like(g, out, x, fill_value, *args, **kwargs):
    dims = g.dims(x)
    g.bind(out, g.constant_of_shape(dims, fill_value, out.dtype.name), dims)


def _new(value):
    def export(g, out, x, *size, **kwargs):
        dims = _sizes(size)
        g.bind(out, g.constant_of_shape(dims, value, out.dtype.name), dims)
    return export


function("xpnet.creation:new_zeros")(_new(0))
function("xpnet.creation:new_ones")(_new(1))
function("xpnet.creation:new_empty")(_new(0))


@function("xpnet.creation:new_full", accepts=lambda x, size, fill_value, **k:
          not isinstance(fill_value, Tensor))
def _new_full(g, out, x, size, fill_value, **kwargs):
    dims = _sizes((size,) if not isinstance(size, (tuple, list)) else (tuple(size),))
    g.bind(out, g.constant_of_shape(dims, fill_value, out.dtype.name), dims)


@function("xpnet.creation:arange", accepts=lambda *a, **k: all(
    isinstance(v, (int, float)) for v in a[:3]))
def _arange(g, out, start, stop=None, step=1, *args, **kwargs):
    dt = out.dtype.name
    if stop is None:
        start, stop = 0, start
    bounds = []
    for v in (start, stop, step):
        d = lift(v)
        if isinstance(d, Dim):
            t = g.squeeze(g.dim_tensor(d), [0])
            bounds.append(t if dt == "int64" else g.cast(t, dt))
        else:
            bounds.append(g.scalar(v, dt))
    name = g.op("Range", bounds)
    lo, hi = lift(start), lift(stop)
    if lo is not None and hi is not None and isinstance(step, int):
        length = dim_sub(hi, lo)
        if step != 1:
            length = dim_floordiv(dim_add(length, step - 1), step)
        dims = [length] if (length if not isinstance(length, Dim) else length.value) == \
            out.shape[0] else [g.new_symbol(name, 0, out.shape[0])]
    else:
        dims = [g.new_symbol(name, 0, out.shape[0])]
    g.bind(out, name, dims)


def _triangle(upper):
    def export(g, out, x, diagonal=0):
        g.need_opset("triu and tril (ONNX Trilu)", 14)
        name = g.op("Trilu", [g.value(x), g.scalar(int(diagonal), "int64")], upper=int(upper))
        g.bind(out, name, g.dims(x))
    return export


function("xpnet.ops.repeat:tril")(_triangle(False))
function("xpnet.ops.repeat:triu")(_triangle(True))
