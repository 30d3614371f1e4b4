"""Helpers shared by the op families: broadcasting undo, axis handling, operand promotion."""

from __future__ import annotations

import numbers

from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor

SCALAR_TYPES = (bool, int, float)


def sum_to_shape(xp, g, shape):
    """Sum a broadcast gradient back down to ``shape`` (undo broadcasting)."""
    if g.shape == shape:  # the common case, without building tuples (per-op cost)
        return g
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return xp.reshape(g, shape)


class AxisError(IndexError, ValueError):
    """An axis (dim) out of range: PyTorch's IndexError, and a ValueError as for the other bad
    values (NumPy's ``AxisError`` is both as well)."""


def normalize_axis(op, axis, ndim):
    """A non-negative axis, or an `AxisError` naming the op and the valid range."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r}")
    n = max(ndim, 1)  # a 0-d tensor has one axis to name, as in PyTorch
    if not -n <= axis < n:
        raise AxisError(f"{op}: axis {axis} is out of range for a {ndim}-D tensor (expected "
                        f"to be in range of [{-n}, {n - 1}], but got {axis})")
    return axis % n


def normalize_axes(op, axis, ndim):
    """A sorted tuple of distinct non-negative axes; None means all."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    out = tuple(sorted(normalize_axis(op, a, ndim) for a in axes))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return out


def check_broadcast(op, *shapes):
    """A ValueError naming the op and the shapes unless they broadcast together.

    The backends' own errors differ (PyTorch raises RuntimeError) and do not name the op.
    """
    for sizes in zip(*(s[::-1] for s in shapes)):
        if len({n for n in sizes if n != 1}) > 1:
            raise ValueError(f"{op}: cannot broadcast shapes "
                             f"{' and '.join(str(tuple(s)) for s in shapes)}")


def axis_arg(op, axis, dim, default=None):
    """The axis from the standard's ``axis=`` or PyTorch's ``dim=`` (the same thing; giving both
    is a TypeError), or ``default`` when neither is given. Resolved once, at the public entry."""
    if dim is None:
        return default if axis is None else axis
    if axis is not None:
        raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; they name the same "
                        f"parameter (dim is PyTorch's spelling), give one")
    return dim


def torch_axis_aliases(op, axis, keepdims, dim, keepdim):
    """Accept PyTorch's ``dim``/``keepdim`` as well as the standard's ``axis``/``keepdims``."""
    axis = axis_arg(op, axis, dim)
    if keepdim is not None:
        if keepdims not in (None, False) and keepdims != keepdim:
            raise TypeError(f"{op}: got both keepdims={keepdims!r} and keepdim={keepdim!r}; "
                            f"they name the same parameter, give one")
        keepdims = keepdim
    return axis, bool(keepdims)


def is_scalar(x) -> bool:
    return isinstance(x, SCALAR_TYPES) or (isinstance(x, numbers.Number) and not isinstance(x, Tensor)
                                           and not hasattr(x, "shape"))


def as_tensor_on(x, backend) -> Tensor:
    """A constant Tensor on ``backend`` from a Tensor, list or array (scalars stay as they are)."""
    if isinstance(x, Tensor):
        return x
    from xpnet.creation import tensor
    return tensor(x, backend=backend)


def _float_of(t: Tensor, other_dtype=None):
    dtype = other_dtype if other_dtype is not None else _dt.get_default_dtype()
    return t.astype(dtype)


def promote_operands(op, a, b):
    """Make a binary op's operands legal for the standard, with PyTorch's promotion.

    Returns ``(a, b)`` where each is a Tensor or a Python scalar. The standard refuses an integer
    array with a Python float and mixed integer/float arrays; PyTorch promotes the integer side to
    the (default) float dtype, and so do we. Python scalars never widen a float tensor.
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._backend is b._backend and a.array.dtype == b.array.dtype:  # common case, cheap
            return a, b
        ka, kb = a.dtype.kind, b.dtype.kind
        if ka != kb:
            fa, fb = a.dtype.is_floating_point, b.dtype.is_floating_point
            if "complex floating" in (ka, kb):  # never drop an imaginary part
                complex_dtype = a.dtype if ka == "complex floating" else b.dtype
                return a.astype(complex_dtype), b.astype(complex_dtype)
            if fa and not fb:
                b = b.astype(a.dtype)
            elif fb and not fa:
                a = a.astype(b.dtype)
            elif ka == "bool":
                a = a.astype(b.dtype)
            elif kb == "bool":
                b = b.astype(a.dtype)
        return a, b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    t, s, t_first = (a, b, True) if isinstance(a, Tensor) else (b, a, False)
    if type(s) is float and t.array.dtype in t._backend.inexact_dtypes:  # common, kept cheap
        return a, b
    if not is_scalar(s):
        s = as_tensor_on(s, t._backend)
        return promote_operands(op, *((t, s) if t_first else (s, t)))
    s = _python_scalar(s)
    kind = t.dtype.kind
    if isinstance(s, float) and kind not in ("real floating", "complex floating"):
        t = _float_of(t)
    elif isinstance(s, int) and not isinstance(s, bool) and kind == "bool":
        t = t.astype(_dt.int64)
    return (t, s) if t_first else (s, t)


def _python_scalar(s):
    """NumPy scalars as Python ones (the standard only mixes arrays with Python scalars)."""
    if isinstance(s, SCALAR_TYPES) and type(s) in SCALAR_TYPES:
        return s
    if isinstance(s, bool) or type(s).__name__ in ("bool_", "bool"):
        return bool(s)
    if isinstance(s, numbers.Integral):
        return int(s)
    if isinstance(s, numbers.Real):
        return float(s)
    return complex(s)
