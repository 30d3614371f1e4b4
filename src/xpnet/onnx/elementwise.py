"""Exporters of elementwise primitives: arithmetic, unary math, activations, casts, comparisons
and logical ops."""

from __future__ import annotations

import importlib

import math

from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor

from ._registry import function, optional, primitive
from ._util import broadcast_dims

# The modules themselves: xpnet.ops re-exports functions under some of their names.
_activation = importlib.import_module("xpnet.ops.activation")
_arithmetic = importlib.import_module("xpnet.ops.arithmetic")
_scatter = importlib.import_module("xpnet.ops.scatter")
_special = importlib.import_module("xpnet.ops.special")
_unary = importlib.import_module("xpnet.ops.unary")


def _bind_elementwise(g, out, name, *operands):
    g.bind(out, name, broadcast_dims(*(g.dims(x) for x in operands)))


def _binary(onnx_op):
    def export(g, out, a, b):
        dtype = out.dtype.name
        name = g.op(onnx_op, [g.value(a, dtype), g.value(b, dtype)])
        _bind_elementwise(g, out, name, a, b)
    return export


primitive(_arithmetic.Add)(_binary("Add"))
primitive(_arithmetic.Sub)(_binary("Sub"))
primitive(_arithmetic.Mul)(_binary("Mul"))
primitive(_arithmetic.Div)(_binary("Div"))
primitive(_arithmetic.Maximum)(_binary("Max"))
primitive(_arithmetic.Minimum)(_binary("Min"))


@primitive(_arithmetic.Pow)
def _pow(g, out, a, b):
    dtype = out.dtype.name
    if not isinstance(b, (Tensor,)) and not hasattr(b, "shape") and b == 2:
        x = g.value(a, dtype)
        name = g.op("Mul", [x, x])  # exact, as x * x
    else:
        name = g.op("Pow", [g.value(a, dtype), g.value(b, dtype)])
    _bind_elementwise(g, out, name, a, b)


@primitive(_arithmetic.Where)
def _where(g, out, cond, a, b):
    dtype = out.dtype.name
    name = g.op("Where", [g.value(cond, "bool"), g.value(a, dtype), g.value(b, dtype)])
    _bind_elementwise(g, out, name, cond, a, b)


@primitive(_arithmetic.Clip)
def _clip(g, out, x, lo, hi):
    dtype = out.dtype.name
    bounds = ["" if v is None else g.value(v, dtype) for v in (lo, hi)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    g.bind(out, g.op("Clip", [g.value(x, dtype), *bounds]), g.dims(x))


@primitive(_scatter.Fill)
def _fill(g, out, x, mask, value):
    dtype = out.dtype.name
    name = g.op("Where", [g.value(mask, "bool"), g.value(value, dtype), g.value(x, dtype)])
    _bind_elementwise(g, out, name, x, mask)


def _unary_op(onnx_op):
    def export(g, out, x, *args, **kwargs):
        g.bind(out, g.op(onnx_op, [g.value(x, out.dtype.name)]), g.dims(x))
    return export


for _cls, _op in ((_arithmetic.Neg, "Neg"), (_unary.Abs, "Abs"), (_unary.Exp, "Exp"),
                  (_unary.Log, "Log"), (_unary.Sqrt, "Sqrt"), (_unary.Sin, "Sin"),
                  (_unary.Cos, "Cos"), (_unary.Tan, "Tan"), (_unary.Asin, "Asin"),
                  (_unary.Acos, "Acos"), (_unary.Atan, "Atan"), (_unary.Sinh, "Sinh"),
                  (_unary.Cosh, "Cosh"), (_unary.Asinh, "Asinh"), (_unary.Acosh, "Acosh"),
                  (_unary.Atanh, "Atanh"), (_unary.Reciprocal, "Reciprocal"),
                  (_unary.Floor, "Floor"), (_unary.Ceil, "Ceil"), (_unary.Sign, "Sign"),
                  (_unary.Clone, "Identity"), (_special.Erf, "Erf"),
                  (_activation.Sigmoid, "Sigmoid"), (_activation.Tanh, "Tanh")):
    primitive(_cls)(_unary_op(_op))


def _composite(build):
    """An exporter from ``build(g, x, dtype) -> name``, for ops made of several nodes."""
    def export(g, out, x, *args, **kwargs):
        dtype = out.dtype.name
        g.bind(out, build(g, g.value(x, dtype), dtype), g.dims(x))
    return export


primitive(_unary.Square)(_composite(lambda g, x, dt: g.op("Mul", [x, x])))
primitive(_unary.Rsqrt)(_composite(lambda g, x, dt: g.op("Reciprocal", [g.op("Sqrt", [x])])))
primitive(_unary.Log1p)(_composite(
    lambda g, x, dt: g.op("Log", [g.op("Add", [x, g.scalar(1, dt)])])))
primitive(_unary.Expm1)(_composite(
    lambda g, x, dt: g.op("Sub", [g.op("Exp", [x]), g.scalar(1, dt)])))
primitive(_unary.Log2)(_composite(
    lambda g, x, dt: g.op("Div", [g.op("Log", [x]), g.scalar(math.log(2.0), dt)])))
primitive(_unary.Log10)(_composite(
    lambda g, x, dt: g.op("Div", [g.op("Log", [x]), g.scalar(math.log(10.0), dt)])))
primitive(_unary.Exp2)(_composite(lambda g, x, dt: g.op("Pow", [g.scalar(2, dt), x])))


@primitive(_unary.Trunc)
def _trunc(g, out, x):
    dt = out.dtype.name
    v = g.value(x, dt)
    # Towards zero: floor of |x| with x's sign.
    name = g.op("Mul", [g.op("Sign", [v]), g.op("Floor", [g.op("Abs", [v])])])
    g.bind(out, name, g.dims(x))


@primitive(_unary.Round)
def _round(g, out, x, decimals=0):
    dt = out.dtype.name
    v = g.value(x, dt)
    if decimals:
        scale = g.scalar(10.0 ** abs(decimals), dt)
        inner = g.op("Mul" if decimals > 0 else "Div", [v, scale])
        name = g.op("Div" if decimals > 0 else "Mul", [g.op("Round", [inner]), scale])
    else:
        name = g.op("Round", [v])  # ONNX rounds half to even, as xpnet
    g.bind(out, name, g.dims(x))


@primitive(_unary.AsType)
def _astype(g, out, x, *args, **kwargs):
    g.bind(out, g.cast(g.value(x), out.dtype.name), g.dims(x))


# -- activations --------------------------------------------------------------------------------

@primitive(_activation.LeakyRelu)
def _leaky_relu(g, out, x, negative_slope):
    v = g.value(x, out.dtype.name)
    if negative_slope == 0:
        name = g.op("Relu", [v])
    else:
        name = g.op("LeakyRelu", [v], alpha=float(negative_slope))
    g.bind(out, name, g.dims(x))


@primitive(_activation.Elu)
def _elu(g, out, x, alpha):
    g.bind(out, g.op("Elu", [g.value(x, out.dtype.name)], alpha=float(alpha)), g.dims(x))


@primitive(_activation.Softplus)
def _softplus(g, out, x, beta, threshold):
    dt = out.dtype.name
    v = g.value(x, dt)
    scaled = v if beta == 1 else g.op("Mul", [v, g.scalar(beta, dt)])
    soft = g.op("Softplus", [scaled])
    if beta != 1:
        soft = g.op("Div", [soft, g.scalar(beta, dt)])
    # Linear above the threshold, as PyTorch.
    linear = g.op("Greater", [scaled, g.scalar(threshold, dt)])
    g.bind(out, g.op("Where", [linear, v, soft]), g.dims(x))


@primitive(_activation.Gelu)
def _gelu(g, out, x, approximate):
    dt = out.dtype.name
    g.bind(out, gelu_nodes(g, g.value(x, dt), dt, approximate), g.dims(x))


def gelu_nodes(g, v, dt, approximate="none"):
    """GELU: ONNX's ``Gelu`` from opset 20, its formula before."""
    if g.opset >= 20:
        return g.op("Gelu", [v], approximate=approximate)
    half = g.op("Mul", [v, g.scalar(0.5, dt)])
    if approximate == "tanh":
        cube = g.op("Mul", [g.op("Mul", [v, v]), v])
        inner = g.op("Add", [v, g.op("Mul", [cube, g.scalar(0.044715, dt)])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dt)])])
    else:
        t = g.op("Erf", [g.op("Mul", [v, g.scalar(1 / math.sqrt(2), dt)])])
    return g.op("Mul", [half, g.op("Add", [t, g.scalar(1, dt)])])


# -- comparisons and logical ops (not primitives: intercepted as functions) --------------------

def _common_dtype(g, a, b):
    kinds = [g.dtype(x) for x in (a, b) if isinstance(x, Tensor) or hasattr(x, "shape")]
    floats = [k for k in kinds if k.startswith("float")]
    if floats:
        return max(floats, key=lambda k: int(k[5:]))
    if any(isinstance(x, float) for x in (a, b)):
        return _dt.get_default_dtype().name
    return kinds[0]


def _compare(onnx_op, negate=False):
    def export(g, out, a, b):
        dtype = _common_dtype(g, a, b)
        name = g.compare(onnx_op, g.value(a, dtype), g.value(b, dtype))
        if negate:
            name = g.op("Not", [name])
        _bind_elementwise(g, out, name, a, b)
    return export


function("xpnet.ops.logic:eq")(_compare("Equal"))
function("xpnet.ops.logic:ne")(_compare("Equal", negate=True))
function("xpnet.ops.logic:lt")(_compare("Less"))
function("xpnet.ops.logic:le")(_compare("LessOrEqual"))
function("xpnet.ops.logic:gt")(_compare("Greater"))
function("xpnet.ops.logic:ge")(_compare("GreaterOrEqual"))


def _truth(g, x):
    """A bool value: nonzero is True (PyTorch's logical ops take any dtype)."""
    if not (isinstance(x, Tensor) or hasattr(x, "shape")):
        return g.scalar(bool(x), "bool")
    dtype = g.dtype(x)
    if dtype == "bool":
        return g.value(x)
    return g.op("Not", [g.op("Equal", [g.value(x), g.scalar(0, dtype)])])


def _logical(onnx_op):
    def export(g, out, a, b):
        _bind_elementwise(g, out, g.op(onnx_op, [_truth(g, a), _truth(g, b)]), a, b)
    return export


function("xpnet.ops.logic:logical_and")(_logical("And"))
function("xpnet.ops.logic:logical_or")(_logical("Or"))
function("xpnet.ops.logic:logical_xor")(_logical("Xor"))


@function("xpnet.ops.logic:logical_not")
def _logical_not(g, out, x):
    g.bind(out, g.op("Not", [_truth(g, x)]), g.dims(x))


@function("xpnet.ops.logic:bitwise_not", accepts=lambda x: x.dtype.kind == "bool")
def _bitwise_not(g, out, x):
    g.bind(out, g.op("Not", [g.value(x, "bool")]), g.dims(x))


@function("xpnet.ops.logic:isnan")
def _isnan(g, out, x):
    if not x.dtype.is_floating_point:
        name = g.op("Not", [g.op("Equal", [g.value(x), g.value(x)])])  # never NaN: all False
    else:
        name = g.op("IsNaN", [g.value(x)])
    g.bind(out, name, g.dims(x))


@function("xpnet.ops.logic:isinf")
def _isinf(g, out, x):
    g.bind(out, g.op("IsInf", [g.value(x)]), g.dims(x))


# -- the activations added with issue 12 (silu, mish, hardtanh...) ----------------------------

@primitive(optional("xpnet.ops.activation:Hardtanh"))
def _hardtanh(g, out, x, min_val, max_val):
    dt = out.dtype.name
    name = g.op("Clip", [g.value(x, dt), g.scalar(min_val, dt), g.scalar(max_val, dt)])
    g.bind(out, name, g.dims(x))


primitive(optional("xpnet.ops.activation:Hardsigmoid"))(_composite(
    lambda g, x, dt: g.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)))
primitive(optional("xpnet.ops.activation:Hardswish"))(_composite(
    lambda g, x, dt: g.op("HardSwish", [x]) if g.opset >= 14 else
    g.op("Mul", [x, g.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)])))
primitive(optional("xpnet.ops.activation:Silu"))(_composite(
    lambda g, x, dt: g.op("Mul", [x, g.op("Sigmoid", [x])])))
primitive(optional("xpnet.ops.activation:LogSigmoid"))(_composite(
    lambda g, x, dt: g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])])))


def _mish(g, x, dt):
    if g.opset >= 18:
        return g.op("Mish", [x])
    return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])])


primitive(optional("xpnet.ops.activation:Mish"))(_composite(_mish))


@primitive(optional("xpnet.ops.activation:ScaledElu"))
def _scaled_elu(g, out, x, alpha, scale, input_scale):
    dt = out.dtype.name
    v = g.value(x, dt)
    if input_scale == 1:
        name = g.op("Selu", [v], alpha=float(alpha), gamma=float(scale))  # SELU's form
    else:
        name = g.op("Celu", [v], alpha=float(alpha)) if dt == "float32" and \
            g.opset >= 12 and abs(input_scale * alpha - 1) < 1e-12 else None
        if name is None:  # scale * where(x > 0, x, alpha * expm1(x * input_scale))
            negative = g.op("Mul", [g.op("Sub", [g.op("Exp", [g.op(
                "Mul", [v, g.scalar(input_scale, dt)])]), g.scalar(1, dt)]), g.scalar(alpha, dt)])
            name = g.op("Where", [g.op("Greater", [v, g.scalar(0, dt)]), v, negative])
        if scale != 1:
            name = g.op("Mul", [name, g.scalar(scale, dt)])
    g.bind(out, name, g.dims(x))


# -- casts and bitwise ops on bools (not primitives when no gradient is recorded) ---------------

@function("xpnet.ops.unary:astype")
def _astype_function(g, out, x, dtype):
    if out is x:
        return
    g.bind(out, g.cast(g.value(x), out.dtype.name), g.dims(x))


def _bitwise(onnx_op, integer_op):
    def export(g, out, a, b):
        if out.dtype.name == "bool":
            name = g.op(onnx_op, [g.value(a, "bool"), g.value(b, "bool")])
        else:
            g.need_opset(f"{integer_op} of integer tensors", 18)
            dtype = out.dtype.name
            name = g.op(integer_op, [g.value(a, dtype), g.value(b, dtype)])
        _bind_elementwise(g, out, name, a, b)
    return export


function("xpnet.ops.logic:bitwise_and")(_bitwise("And", "BitwiseAnd"))
function("xpnet.ops.logic:bitwise_or")(_bitwise("Or", "BitwiseOr"))
function("xpnet.ops.logic:bitwise_xor")(_bitwise("Xor", "BitwiseXor"))


@function("xpnet.ops.logic:isfinite")
def _isfinite(g, out, x):
    if not x.dtype.is_floating_point:
        v = g.value(x)
        name = g.op("Equal", [v, v])  # every integer is finite
    else:
        v = g.value(x)
        name = g.op("Not", [g.op("Or", [g.op("IsNaN", [v]), g.op("IsInf", [v])])])
    g.bind(out, name, g.dims(x))


# -- // and % ---------------------------------------------------------------------------------

def _floor_of_quotient(g, a, b, dt):
    """floor(a / b) in dtype ``dt``: for integers, the truncated quotient moved down where the
    signs differ and the division is inexact (ONNX's integer Div truncates)."""
    if dt.startswith("float"):
        return g.op("Floor", [g.op("Div", [a, b])])
    q = g.op("Div", [a, b])
    inexact = g.op("Not", [g.op("Equal", [g.op("Mul", [q, b]), a])])
    signs_differ = g.op("Xor", [g.op("Less", [a, g.scalar(0, dt)]),
                                g.op("Less", [b, g.scalar(0, dt)])])
    down = g.cast(g.op("And", [inexact, signs_differ]), dt)
    return g.op("Sub", [q, down])


@primitive(_arithmetic.RoundedDiv)
def _rounded_div(g, out, a, b, mode=None):
    dt = out.dtype.name
    va, vb = g.value(a, dt), g.value(b, dt)
    if mode == "floor":
        name = _floor_of_quotient(g, va, vb, dt)
    elif dt.startswith("float"):  # trunc: towards zero
        q = g.op("Div", [va, vb])
        name = g.op("Mul", [g.op("Sign", [q]), g.op("Floor", [g.op("Abs", [q])])])
    else:
        name = g.op("Div", [va, vb])
    _bind_elementwise(g, out, name, a, b)


@primitive(_arithmetic.Remainder)
def _remainder(g, out, a, b):
    """Python's % (the divisor's sign): a - floor(a / b) * b."""
    dt = out.dtype.name
    va, vb = g.value(a, dt), g.value(b, dt)
    name = g.op("Sub", [va, g.op("Mul", [_floor_of_quotient(g, va, vb, dt), vb])])
    _bind_elementwise(g, out, name, a, b)


@primitive(_arithmetic.Fmod)
def _fmod(g, out, a, b):
    """C's fmod (the dividend's sign)."""
    dt = out.dtype.name
    name = g.op("Mod", [g.value(a, dt), g.value(b, dt)], fmod=1)
    _bind_elementwise(g, out, name, a, b)
