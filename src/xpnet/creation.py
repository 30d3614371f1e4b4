"""Making tensors: `tensor` from data, and the factories (zeros, ones, arange, randn...).

Each factory takes ``dtype`` (default: float32, or what `set_default_dtype` set), ``backend``
(default: the active one) and ``requires_grad``; random ones take a ``generator``.
"""

from __future__ import annotations

import numbers

from xpnet import backend as _backends
from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor, _shape_args
from xpnet.backend import device as _device
from xpnet.backend.random import default_generator

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "eye", "arange", "linspace",
           "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "from_numpy", "is_tensor", "numel",
           "is_floating_point", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor",
           "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor",
           "bernoulli", "multinomial"]


def _finish(data, backend, requires_grad):
    t = Tensor._make(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _backend(backend, device=None, op="tensor"):
    if device is None:
        return _backends.active() if backend is None else _backends.load(backend)
    return _device.target_backend(op, backend, device)


def _infer_python_dtype(data):
    """bool, int64 or the default float for nested Python lists/scalars (PyTorch's rule)."""
    kinds = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tensor):
            kinds.add(item.dtype.kind)
        elif isinstance(item, bool) or type(item).__name__ == "bool_":
            kinds.add("bool")
        elif isinstance(item, numbers.Integral):
            kinds.add("int")
        elif isinstance(item, numbers.Real):
            kinds.add("float")
        elif isinstance(item, numbers.Complex):
            kinds.add("complex")
        else:
            raise TypeError(f"tensor: cannot make a tensor from a {type(item).__name__}")
    if "complex" in kinds:
        return _dt.complex64 if _dt.get_default_dtype() is _dt.float32 else _dt.complex128
    if kinds & {"float", "real floating"}:
        return _dt.get_default_dtype()
    if kinds <= {"bool"} and kinds:
        return _dt.bool
    return _dt.int64


def tensor(data, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : Python scalar or (nested) list, NumPy array, Tensor, or array of a supported backend
        NumPy arrays keep their dtype and move to the target backend; arrays of another backend
        (CuPy, array_api_strict, torch) stay on their own backend and device unless ``backend``
        is given.
    dtype : xpnet dtype or name, optional
        Default: inferred (bool, int64, or the default float for Python floats).
    requires_grad : bool, default=False
    backend : str, optional
        Backend name; default the active one (or the array's own).
    device : str or xpnet.device, optional
        PyTorch's way to say where: ``"cpu"`` or ``"cuda[:N]"`` (see `xpnet.device`).
    """
    if isinstance(data, Tensor):
        source, arr = data._backend, data.array
    elif _backends.is_numpy_array(data):
        source, arr = None, data
    else:
        source = _backends.backend_of_array(data)
        arr = data
    target = (_backend(backend, device) if (backend is not None or device is not None
                                            or source is None) else source)
    if source is None and not _backends.is_numpy_array(data):
        inferred = _infer_python_dtype(data) if dtype is None else _dt.as_dtype(dtype)
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            from xpnet.ops import stack
            return _finish(stack([tensor(d, inferred, backend=target) for d in data]).array,
                           target, requires_grad)
        out = target.asarray(data, dtype=inferred)
    elif source is not None and source is not target:
        out = target.asarray(source.to_numpy(arr), dtype=dtype)
    else:
        out = target.asarray(arr, dtype=dtype, copy=True)
    return _finish(out, target, requires_grad)


def as_tensor(data, dtype=None, *, backend=None, device=None) -> Tensor:
    """Like `tensor`, but reuses the memory of an array already on the right backend and dtype."""
    if device is not None:
        backend = _device.target_backend("as_tensor", backend, device)
    if isinstance(data, Tensor) and backend is None and (dtype is None or data.dtype is _dt.as_dtype(dtype)):
        return data
    source = _backends.backend_of_array(data)
    if source is not None and source.family == "numpy" and backend is None:
        source = _backends.active() if _backends.active().family == "numpy" else None
    target = _backend(backend) if (backend is not None or source is None) else source
    if source is target and (dtype is None or target.xpnet_dtype(data.dtype) is _dt.as_dtype(dtype)):
        return Tensor._make(data, target)
    return tensor(data, dtype, backend=backend)


def _float_dtype(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)


def zeros(*shape, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    b = _backend(backend, device, "zeros")
    return _finish(b.xp.zeros(_shape_args(shape), dtype=b.dtype(_float_dtype(dtype)),
                              device=b.device), b, requires_grad)


def ones(*shape, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    b = _backend(backend, device, "ones")
    return _finish(b.xp.ones(_shape_args(shape), dtype=b.dtype(_float_dtype(dtype)),
                             device=b.device), b, requires_grad)


def empty(*shape, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    b = _backend(backend, device, "empty")
    return _finish(b.xp.empty(_shape_args(shape), dtype=b.dtype(_float_dtype(dtype)),
                              device=b.device), b, requires_grad)


def full(shape, fill_value, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (dtype inferred from it when not given)."""
    b = _backend(backend, device, "full")
    dtype = _infer_python_dtype(fill_value) if dtype is None else _dt.as_dtype(dtype)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return _finish(b.xp.full(shape, fill_value, dtype=b.dtype(dtype), device=b.device), b,
                   requires_grad)


def eye(n, m=None, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    b = _backend(backend, device, "eye")
    return _finish(b.xp.eye(n, m, dtype=b.dtype(_float_dtype(dtype)), device=b.device), b,
                   requires_grad)


def arange(start, stop=None, step=1, dtype=None, backend=None, requires_grad=False,
           device=None) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for integer arguments, else the default float."""
    b = _backend(backend, device, "arange")
    if dtype is None:
        dtype = _infer_python_dtype([start, stop if stop is not None else 0, step])
    return _finish(b.xp.arange(start, stop, step, dtype=b.dtype(dtype), device=b.device), b,
                   requires_grad)


def linspace(start, stop, num, dtype=None, backend=None, requires_grad=False, endpoint=True,
             device=None) -> Tensor:
    b = _backend(backend, device, "linspace")
    return _finish(b.xp.linspace(start, stop, num, dtype=b.dtype(_float_dtype(dtype)),
                                 device=b.device, endpoint=endpoint), b, requires_grad)


def rand(*shape, dtype=None, backend=None, generator=None, requires_grad=False,
         device=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    b, g = _backend(backend, device, "rand"), generator or default_generator
    return _finish(g.random(b, _shape_args(shape), _float_dtype(dtype)), b, requires_grad)


def randn(*shape, dtype=None, backend=None, generator=None, requires_grad=False,
         device=None) -> Tensor:
    """Standard normal samples."""
    b, g = _backend(backend, device, "randn"), generator or default_generator
    return _finish(g.normal(b, _shape_args(shape), _float_dtype(dtype)), b, requires_grad)


def randint(low, high=None, size=None, dtype=None, backend=None, generator=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(low, high, size)``, or PyTorch's
    ``randint(high, size)`` with low 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size) "
                            "with size a tuple of ints")
        low, high, size = 0, low, high
    b, g = _backend(backend, device, "randint"), generator or default_generator
    size = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    return _finish(g.integers(b, low, high, size, dtype or _dt.int64), b, requires_grad)


def randperm(n, backend=None, generator=None, device=None, dtype=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    b, g = _backend(backend, device, "randperm"), generator or default_generator
    out = Tensor._make(g.permutation(b, n), b)
    return out if dtype is None else out.astype(dtype)


def _like(name, factory):
    def like(x, dtype=None, requires_grad=False, device=None, **kwargs):
        where = x._backend if device is None else _device.resolve(device)
        return factory(x.shape, dtype=dtype or x.dtype, backend=where,
                       requires_grad=requires_grad, **kwargs)
    like.__name__ = f"{name}_like"
    like.__doc__ = f"`{name}` with the shape, dtype and backend of ``x``."
    return like


zeros_like = _like("zeros", zeros)
ones_like = _like("ones", ones)
empty_like = _like("empty", empty)
rand_like = _like("rand", rand)
randn_like = _like("randn", randn)


def full_like(x, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """`full` with the shape, dtype and backend of ``x``."""
    where = x._backend if device is None else _device.resolve(device)
    return full(x.shape, fill_value, dtype=dtype or x.dtype, backend=where,
                requires_grad=requires_grad)


# -- PyTorch's other ways to make tensors -------------------------------------------------------

def from_numpy(array) -> Tensor:
    """A tensor over a NumPy array: on the numpy backend it shares the array's memory (as
    PyTorch's); on another active backend the values are copied there."""
    if not _backends.is_numpy_array(array) or not hasattr(array, "shape"):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return as_tensor(array)


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an xpnet Tensor (Parameters included)."""
    return isinstance(obj, Tensor)


def numel(x) -> int:
    """The number of elements of ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"numel: expected a Tensor, got {type(x).__name__}")
    return x.numel()


def is_floating_point(x) -> bool:
    if not isinstance(x, Tensor):
        raise TypeError(f"is_floating_point: expected a Tensor, got {type(x).__name__}")
    return x.dtype.is_floating_point


def _new(name, factory):
    def new(x, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        where = x._backend if device is None else _device.resolve(device)
        return factory(*size, **kwargs, dtype=dtype or x.dtype, backend=where,
                       requires_grad=requires_grad)
    new.__name__ = f"new_{name}"
    new.__doc__ = (f"`{name}` with ``x``'s dtype and device unless given (PyTorch's "
                   f"``Tensor.new_{name}``).")
    return new


new_zeros = _new("zeros", zeros)
new_ones = _new("ones", ones)
new_empty = _new("empty", empty)


def new_full(x, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`full` with ``x``'s dtype and device unless given."""
    where = x._backend if device is None else _device.resolve(device)
    return full(size, fill_value, dtype=dtype or x.dtype, backend=where,
                requires_grad=requires_grad)


def new_tensor(x, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`tensor` of ``data`` with ``x``'s dtype and device unless given (a copy)."""
    where = x._backend if device is None else _device.resolve(device)
    return tensor(data, dtype=dtype or x.dtype, backend=where, requires_grad=requires_grad)


def _legacy_constructor(dtype):
    def construct(*args, device=None):
        # PyTorch's torch.LongTensor([1, 2]) copies data; torch.FloatTensor(2, 3) makes an
        # uninitialised tensor of that size (zeros here: xpnet never hands out garbage).
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            return tensor(args[0], dtype=dtype, device=device)
        return zeros(*args, dtype=dtype, device=device)
    construct.__name__ = _dt.legacy_type_name(dtype)
    construct.__doc__ = (f"PyTorch's legacy constructor: ``{construct.__name__}(data)`` copies "
                         f"data, ``{construct.__name__}(*size)`` makes zeros; dtype "
                         f"{dtype.name}.")
    return construct


FloatTensor = _legacy_constructor(_dt.float32)
DoubleTensor = _legacy_constructor(_dt.float64)
LongTensor = _legacy_constructor(_dt.int64)
IntTensor = _legacy_constructor(_dt.int32)
BoolTensor = _legacy_constructor(_dt.bool)
ByteTensor = _legacy_constructor(_dt.uint8)


# -- random values written in place, and random draws from given probabilities --------------

def _check_float(op, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if not t.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point tensor, got {t.dtype.name}")


def uniform_(t, a=0.0, b=1.0, *, generator=None) -> Tensor:
    """Fill ``t`` with U(a, b) samples, in place (never recorded by autograd); returns ``t``."""
    _check_float("uniform_", t)
    g = generator or default_generator
    t._set_array(g.uniform(t._backend, t.shape, t.dtype, a, b))
    return t


def normal_(t, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill ``t`` with N(mean, std^2) samples, in place; returns ``t``."""
    _check_float("normal_", t)
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    g = generator or default_generator
    t._set_array(g.normal(t._backend, t.shape, t.dtype, mean, std))
    return t


def random_(t, from_=0, to=None, *, generator=None) -> Tensor:
    """Fill ``t`` with integers drawn uniformly from [from, to) (PyTorch's ``random_``; with one
    argument, [0, that)); returns ``t``. ``to`` is required: the dtype's full range, PyTorch's
    default, is rarely meant."""
    if not isinstance(t, Tensor):
        raise TypeError(f"random_: expected a Tensor, got {type(t).__name__}")
    if to is None:
        if from_ == 0:
            raise TypeError("random_: give the upper bound, as t.random_(to) or "
                            "t.random_(from, to)")
        from_, to = 0, from_
    g = generator or default_generator
    drawn = g.integers(_backends.load("numpy"), from_, to, t.shape, _dt.int64)
    t._set_array(t._backend.asarray(drawn, dtype=t.dtype))
    return t


def bernoulli(p, *, generator=None) -> Tensor:
    """0/1 samples, 1 with probability ``p`` (a tensor of probabilities), in ``p``'s dtype."""
    _check_float("bernoulli", p)
    values = p.numpy()
    if ((values < 0) | (values > 1)).any():
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    g = generator or default_generator
    u = Tensor._make(g.random(p._backend, p.shape, p.dtype), p._backend)
    return (u < p.detach()).astype(p.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:  # noqa: A002
    """Indices drawn from each row of ``input`` (non-negative weights, 1-D or 2-D), as
    PyTorch's ``multinomial``: int64 of shape (num_samples,) or (rows, num_samples)."""
    _check_float("multinomial", input)
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape "
                         f"{input.shape}")
    rows = input.numpy().reshape(-1, input.shape[-1]).astype("float64")
    if (rows < 0).any() or not (rows.sum(axis=1) > 0).all():
        raise ValueError("multinomial: weights must be non-negative with a positive sum per row")
    n = rows.shape[1]
    if not replacement and num_samples > n:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {n} categories")
    g = generator or default_generator
    drawn = [g.choice(_backends.load("numpy"), n, num_samples, p=(r / r.sum()).tolist(),
                      replace=replacement) for r in rows]
    out = tensor([d.tolist() for d in drawn], dtype=_dt.int64, backend=input._backend)
    return out.reshape(num_samples) if input.ndim == 1 else out
