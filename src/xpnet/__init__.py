"""xpnet: deep learning written once against the Python Array API standard.

The same autograd, layers and optimizers run on NumPy (CPU), CuPy (NVIDIA GPUs), and, for
testing, array_api_strict and PyTorch's CPU arrays. Choose with ``XPNET_BACKEND`` or
`use_backend`.

>>> import xpnet
>>> x = xpnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from xpnet.autograd import (  # noqa: I001 - autograd first: it binds Tensor's operators
    Function, Tensor, enable_grad, gradcheck, is_grad_enabled, no_grad,
)
from xpnet import autograd, data, functional, models, nn, ops, optim
from xpnet.backend import (
    BackendUnavailableError, fast_paths_enabled, get_backend, get_namespace, set_backend,
    use_backend, use_fast_paths,
)
from xpnet.backend.random import Generator, default_generator, manual_seed
from xpnet.creation import (
    arange, as_tensor, empty, empty_like, eye, full, full_like, linspace, ones, ones_like, rand,
    rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from xpnet.dtypes import (
    DType, bool, complex64, complex128, float32, float64, get_default_dtype, int8, int16, int32,
    int64, set_default_dtype, uint8, uint16, uint32, uint64,
)
from xpnet.io import load, save
from xpnet.ops import (
    abs, add, all, any, argmax, argmin, broadcast_to, cat, chunk, clip, concat, cos, div, exp,
    expand, expm1, flatten, flip, isfinite, isnan, log, log1p, logsumexp, matmul, max, maximum,
    mean, min, minimum, mul, neg, permute, pow, reshape, sigmoid, sign, sin, split, sqrt, square,
    squeeze, stack, std, sub, sum, swapaxes, take, tanh, unsqueeze, var, where,
)

clamp = clip
transpose = swapaxes

# Resolve XPNET_BACKEND now, so a bad name or a missing GPU fails at import, not mid-training.
from xpnet import backend as _backend_module  # noqa: E402

_backend_module.active()

__version__ = "0.1.0.dev0"

__all__ = [
    "BackendUnavailableError", "DType", "Function", "Generator", "Tensor", "abs", "add", "all",
    "any", "arange", "argmax", "argmin", "as_tensor", "autograd", "bool", "broadcast_to", "cat",
    "data", "models", "nn", "optim",
    "chunk", "clamp", "clip", "complex128", "complex64", "concat", "cos", "default_generator",
    "div", "empty", "empty_like", "enable_grad", "exp", "expand", "expm1", "eye",
    "fast_paths_enabled", "flatten", "flip", "float32", "float64", "full", "full_like",
    "functional", "get_backend", "get_default_dtype", "get_namespace", "gradcheck", "int16",
    "int32", "int64", "int8", "is_grad_enabled", "isfinite", "isnan", "linspace", "load", "log",
    "log1p", "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mul", "neg", "no_grad", "ones", "ones_like", "ops", "permute", "pow", "rand", "rand_like",
    "randint", "randn", "randn_like", "randperm", "reshape", "save", "set_backend",
    "set_default_dtype", "sigmoid", "sign", "sin", "split", "sqrt", "square", "squeeze", "stack",
    "std", "sub", "sum", "swapaxes", "take", "tanh", "tensor", "transpose", "uint16", "uint32",
    "uint64", "uint8", "unsqueeze", "use_backend", "use_fast_paths", "var", "where", "zeros",
    "zeros_like",
]
