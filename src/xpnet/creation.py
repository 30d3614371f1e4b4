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
           "empty_like", "rand_like", "randn_like"]


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
