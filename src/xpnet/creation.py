"""Making tensors: `tensor` from data, and the factories (zeros, ones, arange, randn...).

Each factory takes ``dtype`` (default: float32, or what `set_default_dtype` set), ``backend``
(default: the active one) and ``requires_grad``; random ones take a ``generator``.

Every entry checks what it is given before any work: sizes are non-negative ints (NumPy
integers too; bools and floats are refused), data holds numbers in rectangular nesting, arrays
have a dtype xpnet holds. Errors name the call, the parameter and what came.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers

from xpnet import backend as _backends
from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor
from xpnet.backend import device as _device
from xpnet.backend.random import Generator, default_generator

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "eye", "arange", "linspace",
           "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "from_numpy", "is_tensor", "numel",
           "is_floating_point", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor",
           "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor",
           "bernoulli", "multinomial"]


# -- checking what the user passed (once, at the public entry) --------------------------------

_SEQUENCES = (list, tuple, range)
_NUMBER_KINDS = {bool: "bool", int: "int", float: "float", complex: "complex"}
_DTYPE_KINDS = {"bool": "bool", "signed integer": "int", "unsigned integer": "int",
                "real floating": "float", "complex floating": "complex"}
_NESTED = "nested tensors"  # a kind meaning: Tensors or arrays sit inside the sequence
_MAX_SIZE = 2 ** 63 - 1
# NumPy kinds that hold no numbers: object, str, bytes, structured/void, datetime, timedelta.
_NOT_NUMBERS = frozenset("OUSVMm")


@functools.cache
def _host():
    """The numpy Backend (cached: `_backends.load` takes a lock)."""
    return _backends.load("numpy")


def _supported_dtypes() -> str:
    return ", ".join(_dt.ALL)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:24]}... ({len(text)} characters)"


def _number_kind(value):
    """'bool', 'int', 'float' or 'complex' for a number of any library; None otherwise."""
    kind = _NUMBER_KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy.bool
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, numbers.Complex):
        return "complex"
    return None


def _count(op, name, value, position=None):
    """``value`` as a non-negative int (NumPy integers accepted; bools, floats and the rest
    refused)."""
    if type(value) is int and 0 <= value <= _MAX_SIZE:
        return value
    at = "" if position is None else f" at position {position}"
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_") or \
            not isinstance(value, numbers.Integral):
        what = "ints" if position is not None else "an int"
        raise TypeError(f"{op}: {name} must be {what}, got {type(value).__name__} "
                        f"{_show(value)}{at}")
    value = int(value)
    if value < 0:
        what = "non-negative ints" if position is not None else "a non-negative int"
        raise ValueError(f"{op}: {name} must be {what}, got {value}{at}")
    if value > _MAX_SIZE:
        raise ValueError(f"{op}: {name} {_show(value)}{at} is too large (at most 2**63 - 1)")
    return value


def _size_args(op, size, name="size"):
    """The shape of ``f(2, 3)`` or ``f((2, 3))``, checked: non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for n in size:
        if type(n) is not int or not 0 <= n <= _MAX_SIZE:  # slow path: NumPy ints, or explain
            return tuple(_count(op, name, n, i) for i, n in enumerate(size))
    return tuple(size)


def _scalar(op, name, value):
    """(value, kind) of a number argument; a 0-d Tensor gives its value, as in PyTorch."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    kind = _number_kind(value)
    if kind is None:
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} "
                        f"{_show(value)}")
    return value, kind


def _real(op, name, value):
    """(value, kind) of a finite real number argument."""
    value, kind = _scalar(op, name, value)
    if kind == "complex":
        raise TypeError(f"{op}: {name} must be a real number, got {_show(value)}")
    if kind == "float" and not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    return value, kind


def _dtype_of_kinds(kinds):
    """PyTorch's inference: complex > float (the default dtype) > int64 > bool; empty data is
    float."""
    if "complex" in kinds:
        return _dt.complex64 if _dt.get_default_dtype() is _dt.float32 else _dt.complex128
    if "float" in kinds or not kinds - {_NESTED}:
        return _dt.get_default_dtype()
    if "int" in kinds:
        return _dt.int64
    return _dt.bool


def _path(flat, dims):
    """'data[1][0]': where the ``flat``-th element of a uniform nesting of ``dims`` sits."""
    index = []
    for n in reversed(dims):
        flat, i = divmod(flat, n)
        index.append(i)
    return "data" + "".join(f"[{i}]" for i in reversed(index))


def _element_kind(op, value, where):
    """The kind of one element that is not a Python number (the slow path of `_scan`)."""
    kind = _number_kind(value)
    if kind is not None:
        return (kind,)
    if isinstance(value, Tensor):
        return _NESTED, _DTYPE_KINDS[value.dtype.kind]
    source = (_host() if _backends.is_numpy_array(value)
              else _backends.backend_of_array(value))
    if source is not None and hasattr(value, "shape"):
        dtype = _array_dtype(op, source, value, None, where)
        return _NESTED, _DTYPE_KINDS[dtype.kind]
    at = "" if where == "data" else f" at {where}"
    raise TypeError(f"{op}: cannot make a tensor from a {type(value).__name__} "
                    f"({_show(value)}){at}; expected numbers (bool, int, float, complex), "
                    f"(nested) lists of them, Tensors or arrays")


def _scan(op, data):
    """The kinds of the numbers in nested sequences (`_NESTED` among them if Tensors or arrays
    sit inside); raises where the nesting is ragged or an element is not a number.

    One depth at a time, in bulk (``map``), so valid data costs little: PyTorch's rule, the
    first element at each depth fixes the length and whether it holds sequences or numbers.
    """
    if not isinstance(data, _SEQUENCES):
        return set(_element_kind(op, data, "data"))
    kinds, dims, level = set(), [], [data]
    while True:
        n = len(level[0])
        if len(set(map(len, level))) > 1:
            i = next(i for i, s in enumerate(level) if len(s) != n)
            raise ValueError(f"{op}: ragged nested sequence: {_path(i, dims)} has length "
                             f"{len(level[i])}, {_path(0, dims)} has length {n}")
        dims.append(n)
        items = list(itertools.chain.from_iterable(level))
        if not items:
            return kinds
        types = set(map(type, items))
        first = items[0]
        if isinstance(first, _SEQUENCES):
            if not all(issubclass(t, _SEQUENCES) for t in types):
                i = next(i for i, x in enumerate(items) if not isinstance(x, _SEQUENCES))
                raise TypeError(f"{op}: ragged nested sequence: {_path(i, dims)} is "
                                f"{type(items[i]).__name__} {_show(items[i])}, not a sequence "
                                f"like {_path(0, dims)} ({type(first).__name__} of length "
                                f"{len(first)})")
            level = items
            continue
        kinds.update(_NUMBER_KINDS[t] for t in types if t in _NUMBER_KINDS)
        if types.issubset(_NUMBER_KINDS):
            return kinds
        for i, x in enumerate(items):
            if type(x) in _NUMBER_KINDS:
                continue
            if isinstance(x, _SEQUENCES):
                raise TypeError(f"{op}: ragged nested sequence: {_path(i, dims)} is a "
                                f"{type(x).__name__} of length {len(x)}, not a number like "
                                f"{_path(0, dims)} ({_show(first)})")
            kinds.update(_element_kind(op, x, _path(i, dims)))
        return kinds


def _leaves(data, where="data"):
    """(position, value) of every number in nested sequences (for error messages)."""
    if isinstance(data, _SEQUENCES):
        for i, item in enumerate(data):
            yield from _leaves(item, f"{where}[{i}]")
    else:
        yield where, data


def _conversion_error(op, data, dtype, error):
    """The error for data NumPy could not convert to ``dtype`` (an int out of range, nan to an
    integer dtype...), naming the first value that fails."""
    host = _host()
    if dtype.is_integer:
        info = _dt.iinfo(dtype)
        bounds = f"; {dtype.name} holds {info.min} to {info.max}"
    else:
        bounds = ""
    for where, value in _leaves(data):
        try:
            host.asarray(value, dtype=dtype)
        except (OverflowError, ValueError):
            at = "" if where == "data" else f" at {where}"
            return ValueError(f"{op}: cannot convert {_show(value)}{at} to {dtype.name}{bounds}")
    return ValueError(f"{op}: cannot convert the data to {dtype.name}: {error}")


def _array_dtype(op, source, arr, dtype, where="data"):
    """The xpnet dtype of a backend array; None for one xpnet cannot hold (float16,
    longdouble...) that ``dtype`` converts. Raises for the others."""
    try:
        return source.xpnet_dtype(arr.dtype)
    except KeyError:
        pass
    what = f"{type(arr).__module__.split('.')[0]}.{type(arr).__name__}"
    numeric = getattr(arr.dtype, "kind", "f") not in _NOT_NUMBERS
    if numeric and dtype is not None:
        return None
    if not numeric:
        hint = "tensors hold numbers only: convert the values first"
    elif op in ("from_numpy", "Tensor", "Parameter"):  # no dtype= to pass
        hint = "convert it with xpnet.tensor(array, dtype=xpnet.float32), say"
    else:
        hint = "pass dtype= (xpnet.float32 or xpnet.float64, say) to convert it"

    at = "" if where == "data" else f" at {where}"
    raise TypeError(f"{op}: cannot make a tensor from a {what} of dtype {arr.dtype}{at}; xpnet "
                    f"supports {_supported_dtypes()}; {hint}")


def _check_requires_grad(op, dtype, requires_grad):
    if requires_grad is not False and requires_grad is not True:
        raise TypeError(f"{op}: requires_grad must be True or False, got "
                        f"{type(requires_grad).__name__} {_show(requires_grad)}")
    if requires_grad and dtype.kind not in ("real floating", "complex floating"):
        raise TypeError(f"{op}: only floating-point tensors can require gradients, got "
                        f"{dtype.name}; ask for a float (or complex) dtype, or requires_grad=False")


def _no_complex_to_real(op, have, dtype):
    if have == "complex floating" and dtype is not None and dtype.kind != have:
        raise TypeError(f"{op}: cannot convert complex values to {dtype.name} (the imaginary "
                        f"part would be lost); take .real first, or ask for a complex dtype")


def _generator(op, generator):
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be an xpnet.Generator, got "
                        f"{type(generator).__name__}")
    return generator


# -- tensor from data ------------------------------------------------------------------------

def _finish(data, backend, requires_grad):
    t = Tensor._make(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _backend(backend, device=None, op="tensor"):
    if device is None:
        return _backends.active() if backend is None else _backends.load(backend)
    return _device.target_backend(op, backend, device)


def tensor(data, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : Python scalar or (nested) list, NumPy array, Tensor, or array of a supported backend
        NumPy arrays keep their dtype and move to the target backend; arrays of another backend
        (CuPy, array_api_strict, torch) stay on their own backend and device unless ``backend``
        is given. Nested lists must be rectangular.
    dtype : xpnet dtype or name, optional
        Default: inferred as PyTorch does (bool, int64, the default float for Python floats,
        complex for complex numbers; the default float for empty data).
    requires_grad : bool, default=False
    backend : str, optional
        Backend name; default the active one (or the array's own).
    device : str or xpnet.device, optional
        PyTorch's way to say where: ``"cpu"`` or ``"cuda[:N]"`` (see `xpnet.device`).

    Raises
    ------
    TypeError
        For an array of a dtype xpnet does not hold (float16, object, str, datetime64...;
        a numeric one converts when ``dtype`` is given), an element that is not a number,
        complex data with a real ``dtype``, or nesting that mixes sequences and numbers.
    ValueError
        For ragged nesting (the message names the index where lengths differ) or a value out
        of ``dtype``'s range.
    """
    return _tensor("tensor", data, dtype, requires_grad, backend, device)


def _tensor(op, data, dtype, requires_grad, backend, device):
    if dtype is not None:
        dtype = _dt.as_dtype(dtype, op)
    if isinstance(data, Tensor):
        source, arr, have, is_numpy = data._backend, data.array, data.dtype, False
    else:
        is_numpy = _backends.is_numpy_array(data)
        source = _host() if is_numpy else _backends.backend_of_array(data)
        if source is None:
            return _from_python(op, data, dtype, requires_grad, _backend(backend, device, op))
        arr, have = data, _array_dtype(op, source, data, dtype)
        if have is None:  # a dtype xpnet cannot hold, converted as asked on its own backend
            arr = source.xp.astype(arr, source.dtype(dtype))
            have = dtype
    _no_complex_to_real(op, have.kind, dtype)
    _check_requires_grad(op, dtype or have, requires_grad)
    # NumPy data moves to the target backend; other backends' arrays stay where they are.
    stays = backend is None and device is None and not is_numpy
    target = source if stays else _backend(backend, device, op)
    if source is not target and not is_numpy:
        out = target.asarray(source.to_numpy(arr), dtype=dtype)
    else:
        out = target.asarray(arr, dtype=dtype, copy=True)
    return _finish(out, target, requires_grad)


def _from_python(op, data, dtype, requires_grad, target):
    kinds = _scan(op, data)
    dtype = _dtype_of_kinds(kinds) if dtype is None else dtype
    _check_requires_grad(op, dtype, requires_grad)
    if _NESTED in kinds:
        return _stack_nested(op, data, dtype, requires_grad, target)
    if "complex" in kinds:
        _no_complex_to_real(op, "complex floating", dtype)
    # NumPy converts on the host for every backend, so an out-of-range value raises the same
    # error everywhere (torch would wrap -1 into uint8 as 255).
    host = _host()
    try:
        out = host.asarray(data, dtype=dtype)
    except (OverflowError, ValueError) as e:
        raise _conversion_error(op, data, dtype, e) from None
    if target is not host:
        out = target.asarray(out)
    return _finish(out, target, requires_grad)


def _stack_nested(op, data, dtype, requires_grad, target):
    """A sequence holding Tensors or arrays: convert each element, then stack them."""
    if not isinstance(data, _SEQUENCES):
        return _tensor(op, data, dtype, requires_grad, target, None)
    pieces = [_tensor(op, d, dtype, False, target, None) for d in data]
    for i, piece in enumerate(pieces):
        if piece.shape != pieces[0].shape:
            raise ValueError(f"{op}: ragged nested sequence: data[{i}] has shape {piece.shape}, "
                             f"data[0] has shape {pieces[0].shape}")
    from xpnet.ops import stack
    return _finish(stack(pieces).array, target, requires_grad)


def as_tensor(data, dtype=None, *, backend=None, device=None) -> Tensor:
    """Like `tensor`, but reuses the memory of an array already on the right backend and dtype.

    Raises
    ------
    TypeError, ValueError
        As `tensor`.
    """
    return _as_tensor("as_tensor", data, dtype, backend, device)


def _as_tensor(op, data, dtype, backend, device):
    if device is not None:
        backend = _device.target_backend(op, backend, device)
    if dtype is not None:
        dtype = _dt.as_dtype(dtype, op)
    if isinstance(data, Tensor) and backend is None and (dtype is None or data.dtype is dtype):
        return data
    source = _backends.backend_of_array(data)
    if source is not None:
        have = _array_dtype(op, source, data, dtype)
        if source.family == "numpy" and backend is None:
            source = _backends.active() if _backends.active().family == "numpy" else None
        target = _backend(backend) if (backend is not None or source is None) else source
        if source is target and have is not None and (dtype is None or have is dtype):
            return Tensor._make(data, target)
    return _tensor(op, data, dtype, False, backend, None)


# -- factories -------------------------------------------------------------------------------

def _float_dtype(op, dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype, op)


def _constant(fill):
    """The maker of `zeros`, `ones` or `empty` (``fill``: the namespace function's name)."""
    def make(op, size, dtype, backend, device, requires_grad):
        b, dtype = _backend(backend, device, op), _float_dtype(op, dtype)
        _check_requires_grad(op, dtype, requires_grad)
        return _finish(getattr(b.xp, fill)(size, dtype=b.dtype(dtype), device=b.device), b,
                       requires_grad)
    return make


def _random(draw):
    """The maker of `rand` or `randn` (``draw``: the Generator method)."""
    def make(op, size, dtype, backend, device, requires_grad, generator=None):
        b, g, dtype = _backend(backend, device, op), _generator(op, generator), \
            _float_dtype(op, dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"{op}: dtype must be a floating dtype (float32 or float64), got "
                            f"{dtype.name}")
        _check_requires_grad(op, dtype, requires_grad)
        return _finish(getattr(g, draw)(b, size, dtype), b, requires_grad)
    return make


_make_zeros, _make_ones, _make_empty = _constant("zeros"), _constant("ones"), _constant("empty")
_make_rand, _make_randn = _random("random"), _random("normal")

_SIZE_DOC = """
    Parameters
    ----------
    *size : ints, or one tuple or list of ints
        The shape: ``{name}(2, 3)`` or ``{name}((2, 3))``; non-negative ints (NumPy integers
        too; bools and floats are refused).
    dtype : xpnet dtype or name, optional
        Default: the default float dtype (float32 unless `set_default_dtype` changed it).
    backend : str, optional
        Default: the active backend.
    requires_grad : bool, default=False
    device : str or xpnet.device, optional

    Raises
    ------
    TypeError
        For a size that is not an int.
    ValueError
        For a negative size.
"""


def zeros(*size, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    return _make_zeros("zeros", _size_args("zeros", size), dtype, backend, device, requires_grad)


def ones(*size, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    return _make_ones("ones", _size_args("ones", size), dtype, backend, device, requires_grad)


def empty(*size, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    return _make_empty("empty", _size_args("empty", size), dtype, backend, device, requires_grad)


zeros.__doc__ = "A tensor of zeros of the given size.\n" + _SIZE_DOC.format(name="zeros")
ones.__doc__ = "A tensor of ones of the given size.\n" + _SIZE_DOC.format(name="ones")
empty.__doc__ = ("A tensor of the given size whose values are not set (zeros on some "
                 "backends).\n" + _SIZE_DOC.format(name="empty"))


def full(size, fill_value, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it when not given).

    Raises
    ------
    TypeError
        For a size that is not an int, or a ``fill_value`` that is not a number.
    ValueError
        For a negative size, or a ``fill_value`` out of ``dtype``'s range.
    """
    return _full("full", size, fill_value, dtype, backend, requires_grad, device)


def _full(op, size, fill_value, dtype, backend, requires_grad, device):
    size = _size_args(op, (size,))
    fill_value, kind = _scalar(op, "fill_value", fill_value)
    dtype = _dtype_of_kinds({kind}) if dtype is None else _dt.as_dtype(dtype, op)
    _no_complex_to_real(op, "complex floating" if kind == "complex" else kind, dtype)
    _check_requires_grad(op, dtype, requires_grad)
    b = _backend(backend, device, op)
    if kind == "int" and dtype.is_integer:
        info = _dt.iinfo(dtype)
        if not info.min <= fill_value <= info.max:
            raise ValueError(f"{op}: fill_value {_show(fill_value)} is out of range for "
                             f"{dtype.name} ({info.min} to {info.max})")
    try:
        out = b.xp.full(size, fill_value, dtype=b.dtype(dtype), device=b.device)
    except (OverflowError, ValueError, RuntimeError) as e:  # an int too large for a float...
        raise ValueError(f"{op}: cannot fill a {dtype.name} tensor with "
                         f"{_show(fill_value)} ({e})") from None
    return _finish(out, b, requires_grad)


def eye(n, m=None, dtype=None, backend=None, requires_grad=False, device=None) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``).

    Raises
    ------
    TypeError
        For ``n`` or ``m`` not an int.
    ValueError
        For a negative ``n`` or ``m``.
    """
    n = _count("eye", "n", n)
    m = None if m is None else _count("eye", "m", m)
    b, dtype = _backend(backend, device, "eye"), _float_dtype("eye", dtype)
    _check_requires_grad("eye", dtype, requires_grad)
    return _finish(b.xp.eye(n, m, dtype=b.dtype(dtype), device=b.device), b, requires_grad)


def arange(start, stop=None, step=1, dtype=None, backend=None, requires_grad=False,
           device=None) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for integer arguments, else the default float.

    Raises
    ------
    TypeError
        For an argument that is not a number.
    ValueError
        For a zero ``step``, a step that goes away from ``stop`` (as PyTorch), or an infinite or
        nan argument.
    """
    (start, k1), (step, k2) = _real("arange", "start", start), _real("arange", "step", step)
    kinds = {k1, k2}
    if stop is not None:
        stop, k3 = _real("arange", "stop", stop)
        kinds.add(k3)
    if step == 0:
        raise ValueError("arange: step must be nonzero, got 0")
    if stop is not None and (stop - start) * step < 0:  # as PyTorch; NumPy gives an empty range
        raise ValueError(f"arange: step {step} goes away from stop: start={start}, stop={stop}")
    if stop is None and start * step < 0:
        raise ValueError(f"arange: step {step} goes away from stop: start=0, stop={start}")
    dtype = _dtype_of_kinds(kinds) if dtype is None else _dt.as_dtype(dtype, "arange")
    _check_requires_grad("arange", dtype, requires_grad)
    b = _backend(backend, device, "arange")
    return _finish(b.xp.arange(start, stop, step, dtype=b.dtype(dtype), device=b.device), b,
                   requires_grad)


def linspace(start, stop, num, dtype=None, backend=None, requires_grad=False, endpoint=True,
             device=None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (PyTorch's ``steps``; ``stop``
    included unless ``endpoint=False``).

    Raises
    ------
    TypeError
        For ``start`` or ``stop`` not a real number, or ``num`` not an int.
    ValueError
        For a negative ``num``, or an infinite or nan ``start`` or ``stop``.
    """
    start, stop = _real("linspace", "start", start)[0], _real("linspace", "stop", stop)[0]
    num = _count("linspace", "num", num)
    b, dtype = _backend(backend, device, "linspace"), _float_dtype("linspace", dtype)
    _check_requires_grad("linspace", dtype, requires_grad)
    return _finish(b.xp.linspace(start, stop, num, dtype=b.dtype(dtype), device=b.device,
                                 endpoint=endpoint), b, requires_grad)


def rand(*size, dtype=None, backend=None, generator=None, requires_grad=False,
         device=None) -> Tensor:
    """Uniform samples on [0, 1).

    Raises
    ------
    TypeError
        For a size that is not an int, a dtype that is not floating, or a generator that is
        not an `xpnet.Generator`.
    ValueError
        For a negative size.
    """
    return _make_rand("rand", _size_args("rand", size), dtype, backend, device, requires_grad,
                      generator)


def randn(*size, dtype=None, backend=None, generator=None, requires_grad=False,
          device=None) -> Tensor:
    """Standard normal samples.

    Raises
    ------
    TypeError
        For a size that is not an int, a dtype that is not floating, or a generator that is
        not an `xpnet.Generator`.
    ValueError
        For a negative size.
    """
    return _make_randn("randn", _size_args("randn", size), dtype, backend, device,
                       requires_grad, generator)


def randint(low, high=None, size=None, dtype=None, backend=None, generator=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(low, high, size)``, or PyTorch's
    ``randint(high, size)`` with low 0. ``dtype`` (default int64) may be a float or bool dtype,
    as in PyTorch.

    Raises
    ------
    TypeError
        For a missing size, ``low`` or ``high`` not an int, or a size that is not an int.
    ValueError
        For ``low >= high``, bounds out of ``dtype``'s range, or a negative size.
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size) "
                            "with size a tuple of ints")
        low, high, size = 0, low, high
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"randint: {name} must be an int, got {type(value).__name__} "
                            f"{_show(value)}")
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low}, high={high}")
    size = _size_args("randint", (size,))
    dtype = _dt.int64 if dtype is None else _dt.as_dtype(dtype, "randint")
    _check_requires_grad("randint", dtype, requires_grad)
    draw = dtype if dtype.is_integer else _dt.int64
    info = _dt.iinfo(draw)
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"randint: [low, high) = [{low}, {high}) is out of range for "
                         f"{draw.name} ({info.min} to {info.max})")
    b, g = _backend(backend, device, "randint"), _generator("randint", generator)
    out = _finish(g.integers(b, low, high, size, draw), b, False)
    if draw is not dtype:
        out = out.astype(dtype)
    return out.requires_grad_(True) if requires_grad else out


def randperm(n, backend=None, generator=None, device=None, dtype=None) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype`` is given).

    Raises
    ------
    TypeError
        For ``n`` not an int.
    ValueError
        For a negative ``n``.
    """
    n = _count("randperm", "n", n)
    dtype = None if dtype is None else _dt.as_dtype(dtype, "randperm")
    b, g = _backend(backend, device, "randperm"), _generator("randperm", generator)
    out = Tensor._make(g.permutation(b, n), b)
    return out if dtype is None else out.astype(dtype)


def _like(name, make):
    def like(input, dtype=None, requires_grad=False, device=None, **kwargs):  # noqa: A002
        op = f"{name}_like"
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        unknown = set(kwargs) - ({"generator"} if name in ("rand", "randn") else set())
        if unknown:
            raise TypeError(f"{op}: unexpected keyword argument {sorted(unknown)[0]!r}")
        where = input._backend if device is None else _device.resolve(device)
        return make(op, input.shape, dtype or input.dtype, where, None, requires_grad,
                    **kwargs)
    like.__name__ = f"{name}_like"
    like.__doc__ = (f"`{name}` with the shape, dtype and backend of ``input``.\n\n    Raises\n"
                    f"    ------\n    TypeError\n        For an ``input`` that is not a Tensor.\n")
    return like


zeros_like = _like("zeros", _make_zeros)
ones_like = _like("ones", _make_ones)
empty_like = _like("empty", _make_empty)
rand_like = _like("rand", _make_rand)
randn_like = _like("randn", _make_randn)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:  # noqa: A002
    """`full` with the shape, dtype and backend of ``input``.

    Raises
    ------
    TypeError
        For an ``input`` that is not a Tensor, or a ``fill_value`` that is not a number.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"full_like: input must be a Tensor, got {type(input).__name__}")
    where = input._backend if device is None else _device.resolve(device)
    return _full("full_like", input.shape, fill_value, dtype or input.dtype, where,
                 requires_grad, None)


# -- PyTorch's other ways to make tensors -------------------------------------------------------

def from_numpy(array) -> Tensor:
    """A tensor over a NumPy array: on the numpy backend it shares the array's memory (as
    PyTorch's); on another active backend the values are copied there."""
    if not _backends.is_numpy_array(array) or not hasattr(array, "shape"):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return _as_tensor("from_numpy", array, None, None, None)


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


def _new(name, make):
    def new(x, *size, dtype=None, device=None, requires_grad=False):
        op = f"new_{name}"
        where = x._backend if device is None else _device.resolve(device)
        return make(op, _size_args(op, size), dtype or x.dtype, where, None, requires_grad)
    new.__name__ = f"new_{name}"
    new.__doc__ = (f"`{name}` with ``x``'s dtype and device unless given (PyTorch's "
                   f"``Tensor.new_{name}``).")
    return new


new_zeros = _new("zeros", _make_zeros)
new_ones = _new("ones", _make_ones)
new_empty = _new("empty", _make_empty)


def new_full(x, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`full` with ``x``'s dtype and device unless given."""
    where = x._backend if device is None else _device.resolve(device)
    return _full("new_full", size, fill_value, dtype or x.dtype, where, requires_grad, None)


def new_tensor(x, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`tensor` of ``data`` with ``x``'s dtype and device unless given (a copy)."""
    where = x._backend if device is None else _device.resolve(device)
    return _tensor("new_tensor", data, dtype or x.dtype, requires_grad, where, None)


def _legacy_constructor(dtype):
    name = _dt.legacy_type_name(dtype)

    def construct(*args, device=None):
        # PyTorch's torch.LongTensor([1, 2]) copies data; torch.FloatTensor(2, 3) makes an
        # uninitialised tensor of that size (zeros here: xpnet never hands out garbage).
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            if _number_kind(args[0]) is not None:  # 2.5 is neither data nor a size
                raise TypeError(f"{name}: expected data (a sequence or an array) or sizes "
                                f"(ints), got {type(args[0]).__name__} {_show(args[0])}")
            return _tensor(name, args[0], dtype, False, None, device)
        return _make_zeros(name, _size_args(name, args), dtype, None, device, False)
    construct.__name__ = name
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
    a, b = _real("uniform_", "a", a)[0], _real("uniform_", "b", b)[0]
    if a > b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    g = _generator("uniform_", generator)
    t._set_array(g.uniform(t._backend, t.shape, t.dtype, a, b))
    return t


def normal_(t, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill ``t`` with N(mean, std^2) samples, in place; returns ``t``."""
    _check_float("normal_", t)
    mean, std = _real("normal_", "mean", mean)[0], _real("normal_", "std", std)[0]
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    g = _generator("normal_", generator)
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
    for name, value in (("from", from_), ("to", to)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"random_: {name} must be an int, got {type(value).__name__} "
                            f"{_show(value)}")
    if from_ >= to:
        raise ValueError(f"random_: expected from < to, got from={from_}, to={to}")
    if t.dtype.is_integer:
        info = _dt.iinfo(t.dtype)
        if from_ < info.min or to - 1 > info.max:
            raise ValueError(f"random_: [from, to) = [{from_}, {to}) is out of range for "
                             f"{t.dtype.name} ({info.min} to {info.max})")
    g = _generator("random_", generator)
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
    num_samples = _count("multinomial", "num_samples", num_samples)
    if num_samples == 0:
        raise ValueError("multinomial: num_samples must be positive, got 0")
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
