"""Tensor methods that are PyTorch's names for functions of `xpnet.ops`: ``t.gather(1, i)`` is
``xpnet.gather(t, 1, i)``.

Each op family binds its functions here, one line per family, so `tensor.py` stays small and a
method can never drift from its function (it *is* the function: the tensor is its first
argument). Methods whose meaning differs from the function of the same name live in tensor.py.
"""

from __future__ import annotations

from xpnet import creation, ops
from xpnet.ops import inplace

from .tensor import Tensor


def bind(*names):
    """Make each ``xpnet.ops`` function ``name`` the Tensor method ``name``."""
    for name in names:
        setattr(Tensor, name, getattr(ops, name))


def _inplace_method(name, fn):
    def method(self, *args, **kwargs):
        return self._assign(name + "_", fn(self, *args, **kwargs))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = (f"In-place `xpnet.{name}`: computed out of place, then this tensor (and "
                      f"every tensor sharing its values, such as ``.data``) holds the result; "
                      f"returns self.")
    return method


def bind_inplace(*names):
    """Make ``name_`` the in-place form of the ``xpnet.ops`` function ``name`` (PyTorch's
    trailing underscore), through `Tensor._assign`: same shape, dtype kept, recorded by autograd
    like any op, refused on a leaf that requires grad while gradients are recorded."""
    for name in names:
        setattr(Tensor, name + "_", _inplace_method(name, getattr(ops, name)))


# -- the core: views, copies, compound updates, tensors made from a tensor -------------------------
bind("clone", "addcmul", "addcdiv", "view_as", "reshape_as", "expand_as", "t", "transpose",
     "flatten", "squeeze", "unsqueeze", "split", "chunk", "softmax", "log_softmax", "eq", "ne",
     "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan", "isfinite",
     "maximum", "minimum", "where", "exp", "log", "sqrt", "abs", "neg", "sign", "sigmoid", "tanh",
     "relu", "clip", "matmul")
Tensor.clamp = ops.clip
bind_inplace("add", "sub", "mul", "div", "addcmul", "addcdiv", "clip", "exp", "log", "sqrt",
             "abs", "neg", "sigmoid", "tanh", "relu", "pow")
Tensor.clamp_ = Tensor.clip_
Tensor.fill_, Tensor.zero_, Tensor.copy_ = inplace.fill_, inplace.zero_, inplace.copy_
for _name in ("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "uniform_",
              "normal_", "random_", "multinomial", "bernoulli"):
    setattr(Tensor, _name, getattr(creation, _name))

# -- gather, scatter, masks and index assignment (ops/scatter.py, ops/assign.py) -----------------
bind("gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
     "index_fill", "index_copy", "index_put", "masked_fill", "masked_select", "masked_scatter",
     "take_along_dim")
bind_inplace("scatter", "scatter_add", "scatter_reduce", "index_add", "index_fill", "index_copy",
             "index_put", "masked_fill", "masked_scatter")
Tensor.__setitem__ = ops.setitem

# -- repeat, roll, narrow, triangles and diagonals (ops/repeat.py) ------------------------------
bind("narrow", "select", "unbind", "movedim", "moveaxis", "repeat", "repeat_interleave", "tile",
     "roll", "tril", "triu", "diag", "diagonal", "diag_embed", "trace", "fliplr", "flipud")
bind_inplace("tril", "triu")

# -- sorting, ranking and cumulative ops (ops/sorting.py, ops/counting.py, ops/cumulative.py) ---
bind("sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
     "unique_consecutive", "bincount", "histc", "cumsum", "cumprod", "cummax", "cummin",
     "logcumsumexp", "diff")
bind_inplace("cumsum", "cumprod")

# -- reductions and products (ops/reduce.py, ops/linalg.py) ------------------------------------
# max/min/sum/... replace tensor.py's forwards with the functions themselves (same behaviour).
bind("sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax",
     "argmax", "argmin", "var", "std", "logsumexp", "count_nonzero", "any", "all", "mm", "bmm",
     "mv", "dot", "vdot", "outer", "ger", "inner", "addmm", "addmv", "baddbmm", "addbmm", "kron",
     "cross", "norm")
bind_inplace("addmm", "addmv", "baddbmm", "addbmm")

# -- elementwise math and comparisons (ops/unary.py, ops/arithmetic.py, ops/logic.py) ----------
_ELEMENTWISE = ("floor", "ceil", "round", "trunc", "fix", "frac", "rsqrt", "reciprocal", "log2",
                "log10", "exp2", "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan",
                "atan2", "arctan2", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh", "atanh",
                "arctanh", "logit", "erf", "erfc", "erfinv", "sign", "sgn", "copysign", "neg",
                "remainder", "fmod", "floor_divide", "true_divide", "hypot", "xlogy", "lerp",
                "float_power", "nan_to_num", "heaviside", "clamp_min", "clamp_max", "logical_and",
                "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
                "bitwise_xor", "bitwise_not", "exp", "log", "sqrt", "sin", "cos", "abs", "square",
                "expm1", "log1p", "pow")
bind(*_ELEMENTWISE, "div", "divide", "signbit", "logaddexp", "logaddexp2", "fmax", "fmin",
     "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "isnan", "isfinite", "isinf",
     "isposinf", "isneginf", "isreal", "isclose", "allclose", "equal")
bind_inplace(*_ELEMENTWISE)


# The forward operators are the functions themselves (their first parameter is the tensor).
for _name, _fn in (("add", ops.add), ("sub", ops.sub), ("mul", ops.mul), ("truediv", ops.div),
                   ("pow", ops.pow), ("matmul", ops.matmul), ("neg", ops.neg), ("abs", ops.abs),
                   ("lt", ops.lt), ("le", ops.le), ("gt", ops.gt), ("ge", ops.ge),
                   ("getitem", ops.getitem)):
    setattr(Tensor, f"__{_name}__", _fn)


def _operator(fn, reflected=False):
    if reflected:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


def _inplace_operator(symbol, fn):
    return lambda self, other: self._assign(symbol, fn(self, other))


# PyTorch's operators: & | ^ ~ are bitwise on integers and logical on bools (floats refused);
# // rounds down and % takes the divisor's sign, as in Python.
for _symbol, _name, _fn in (("&", "and", ops.bitwise_and), ("|", "or", ops.bitwise_or),
                            ("^", "xor", ops.bitwise_xor), ("//", "floordiv", ops.floor_divide),
                            ("%", "mod", ops.remainder)):
    setattr(Tensor, f"__{_name}__", _operator(_fn))
    setattr(Tensor, f"__r{_name}__", _operator(_fn, reflected=True))
    setattr(Tensor, f"__i{_name}__", _inplace_operator(_symbol + "=", _fn))
Tensor.__invert__ = ops.bitwise_not
# == and != with a str, None or another object: False and True, as PyTorch (ops/logic.py).
Tensor.__eq__, Tensor.__ne__ = ops.logic.eq_operator, ops.logic.ne_operator

# -- layout, aliases and index queries (ops/layout.py, ops/aliases.py, ops/counting.py) ----------
# unfold, squeeze_, eq_... exist in PyTorch only as Tensor methods: their modules list
# them in TENSOR_METHODS (and Tensor properties in TENSOR_PROPERTIES), outside ``__all__``.
from xpnet.ops import aliases as _aliases, layout as _layout  # noqa: E402

bind("ravel", "unflatten", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes",
     "rot90", "add", "sub", "mul", "multiply", "subtract", "negative", "positive", "absolute",
     "greater", "greater_equal", "less", "less_equal", "not_equal", "swapaxes", "swapdims",
     "broadcast_to", "is_signed", "is_nonzero", "is_same_size", "nonzero", "argwhere", "take")
bind_inplace("multiply", "subtract", "negative", "absolute", "divide")
for _module in (_layout, _aliases):
    for _name in _module.TENSOR_METHODS:
        setattr(Tensor, _name, getattr(_module, _name))
for _name in _aliases.TENSOR_PROPERTIES:
    setattr(Tensor, _name, property(getattr(_aliases, _name)))

# -- statistics and distances (ops/statistics.py, ops/distance.py) ------------------------------
bind("quantile", "nanquantile", "cov", "corrcoef", "dist")

# -- activations beyond the core ones (ops/activation.py) ----------------------------------------
bind("hardshrink")
