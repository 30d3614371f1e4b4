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
    Function, Tensor, enable_grad, gradcheck, inference_mode, is_grad_enabled, no_grad,
    set_grad_enabled,
)
from xpnet.autograd.tensor import Size
from xpnet import autograd, data, functional, models, nn, ops, optim
from xpnet import accelerator, backends, cuda, serialization, utils
from xpnet import distributed  # torch.distributed's names; mpi4py only at init_process_group
from xpnet import onnx  # torch.onnx.export; the onnx package is imported only when it is called
from xpnet.backend import (
    BackendUnavailableError, fast_paths_enabled, get_backend, get_namespace, set_backend,
    use_backend, use_fast_paths,
)
from xpnet.backend.checks import eager_checks_enabled, use_eager_checks
from xpnet.backend.device import device
from xpnet.backend.random import Generator, default_generator, manual_seed
from xpnet.creation import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, arange, as_tensor,
    bernoulli, empty, empty_like, eye, from_numpy, full, full_like, is_floating_point, is_tensor,
    linspace, multinomial, numel, ones, ones_like, rand, rand_like, randint, randn, randn_like,
    randperm, tensor, zeros, zeros_like,
)
from xpnet.dtypes import (
    DType, bool, cdouble, cfloat, complex64, complex128, double, e, finfo, float, float32,
    float64, get_default_dtype, iinfo, inf, int, int8, int16, int32, int64, long, nan, pi,
    set_default_dtype, short, uint8, uint16, uint32, uint64,
)
from xpnet.io import load, save
from xpnet import random, settings
from xpnet.random import get_rng_state, initial_seed, seed, set_rng_state
from xpnet.settings import (
    are_deterministic_algorithms_enabled, get_num_interop_threads, get_num_threads,
    get_printoptions, is_deterministic_algorithms_warn_only_enabled, set_num_interop_threads,
    set_num_threads, set_printoptions, use_deterministic_algorithms,
)
from xpnet.ops import *  # noqa: F403 - every op family's public functions
from xpnet.ops import __all__ as _ops_all
from xpnet.ops import return_types

clamp = clip  # noqa: F405

# Every Tensor method is bound by now: the PyTorch ones still missing raise a helpful error.
from xpnet._missing import install_stubs as _install_stubs  # noqa: E402

_install_stubs(Tensor, "torch.Tensor")

# Resolve XPNET_BACKEND now, so a bad name or a missing GPU fails at import, not mid-training.
from xpnet import backend as _backend_module  # noqa: E402

_backend_module.active()

__version__ = "0.1.0.dev0"

# Ops that are plumbing rather than user functions stay in xpnet.ops only.
_INTERNAL_OPS = {"astype", "getitem", "setitem", "move_to_backend", "linear", "embedding"}

__all__ = sorted({
    "BackendUnavailableError", "DType", "Function", "Generator", "Tensor", "accelerator",
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor", "Size",
    "bernoulli", "cdouble", "cfloat", "double", "float", "from_numpy", "inference_mode", "int",
    "is_floating_point", "is_tensor", "long", "multinomial", "numel", "set_grad_enabled",
    "backends", "return_types", "serialization", "short", "utils", "distributed",
    "arange", "as_tensor", "autograd", "bool", "clamp", "complex128", "complex64", "cuda", "data",
    "default_generator", "device", "empty", "empty_like", "enable_grad", "eye",
    "fast_paths_enabled", "float32", "float64", "full", "full_like", "functional", "get_backend",
    "get_default_dtype", "get_namespace", "gradcheck", "int16", "int32", "int64", "int8",
    "is_grad_enabled", "linspace", "load", "manual_seed", "models", "nn", "no_grad", "ones",
    "ones_like", "ops", "optim", "rand", "rand_like", "randint", "randn", "randn_like",
    "randperm", "save", "set_backend", "set_default_dtype", "tensor", "transpose", "uint16",
    "uint32", "uint64", "uint8", "use_backend", "use_fast_paths", "zeros", "zeros_like",
    "finfo", "iinfo", "pi", "e", "inf", "nan", "random", "settings", "seed", "initial_seed",
    "get_rng_state", "set_rng_state", "set_printoptions", "get_printoptions", "set_num_threads",
    "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "eager_checks_enabled", "use_eager_checks",
    *(name for name in _ops_all if name not in _INTERNAL_OPS),
})

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet", "torch")
