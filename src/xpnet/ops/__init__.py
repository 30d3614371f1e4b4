"""Differentiable primitives, one family per file, and the functions users call on Tensors."""

from .activation import (
    elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh,
)
from .arithmetic import (
    add, clip, div, eq, ge, gt, isfinite, isnan, le, logical_and, logical_not, logical_or, lt,
    maximum, minimum, mul, ne, neg, pow, sub, where,
)
from .embedding import embedding
from .indexing import getitem, take
from .linalg import linear, matmul
from .reduce import all, any, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .special import erf
from .shape import (
    broadcast_to, cat, chunk, concat, expand, flatten, flip, pad, permute, reshape, split, squeeze,
    stack, swapaxes, unsqueeze,
)
from .unary import abs, astype, cos, exp, expm1, log, log1p, move_to_backend, sign, sin, sqrt, square

__all__ = [
    "abs", "add", "all", "any", "argmax", "argmin", "astype", "broadcast_to", "cat", "chunk",
    "clip", "concat", "cos", "div", "elu", "embedding", "eq", "erf", "exp", "expand", "expm1", "flatten", "flip", "ge",
    "gelu", "getitem", "gt", "isfinite", "isnan", "le", "leaky_relu", "linear", "log", "log1p", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logsumexp", "lt", "matmul", "max", "maximum",
    "mean", "min", "minimum", "move_to_backend", "mul", "ne", "neg", "pad", "permute", "pow",
    "relu", "reshape", "sigmoid", "sign", "sin", "softmax", "softplus", "split", "sqrt", "square",
    "squeeze", "stack", "std", "sub", "sum", "swapaxes", "take", "tanh", "unsqueeze", "var",
    "where",
]
