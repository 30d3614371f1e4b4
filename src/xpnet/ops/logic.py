"""Comparisons, logical and bitwise ops, and predicates: ``eq``..``ge``, ``logical_*``,
``bitwise_*``, ``isnan``/``isfinite``/``isinf``..., ``isclose``, ``allclose`` and ``equal``.

None is differentiable: each gives a bool Tensor (bitwise ops: the inputs' dtype) or,
for ``allclose`` and ``equal``, a Python bool. Two operands broadcast and promote as in
`xpnet.ops.arithmetic`, and either may be a Python scalar.
"""

from __future__ import annotations

import math
import numbers

from xpnet import dtypes
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor

from .arithmetic import _operands, _paired_arrays

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isfinite",
           "isnan", "isinf", "isposinf", "isneginf", "isreal", "isclose", "allclose", "equal"]


def _compare(op_name, xp_name):
    def compare(a, b):
        a, b = _operands(op_name, a, b)
        t = a if isinstance(a, Tensor) else b
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a._backend is not b._backend:
            check_same_backend(op_name, (a, b))
        da = a.array if isinstance(a, Tensor) else a
        db = b.array if isinstance(b, Tensor) else b
        return Tensor._make(getattr(t._backend.xp, xp_name)(da, db), t._backend)
    compare.__name__ = op_name
    compare.__doc__ = f"Elementwise ``{xp_name}`` as a bool Tensor (not differentiable)."
    return compare


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")


# Tensor.__eq__ and Tensor.__ne__ (bound in xpnet/autograd/methods.py; not in __all__). They call
# eq and ne through this module's globals, which xpnet.onnx's tracer patches.
#
# As PyTorch's ``==`` and ``!=``: an operand that is no tensor, number or list of numbers ("a",
# None, an object) is not comparable elementwise, so the operator returns NotImplemented and
# Python falls back to identity: ``t == "a"`` is False and ``t != "a"`` True. The functions
# ``xpnet.eq(t, "a")`` and ``t.eq("a")`` still raise TypeError, as ``torch.eq`` does.

def eq_operator(self, other):
    """``self == other``: `eq`, or NotImplemented for an operand `eq` refuses by type."""
    try:
        return eq(self, other)
    except TypeError:
        if isinstance(other, Tensor):
            raise
        return NotImplemented


def ne_operator(self, other):
    """``self != other``: `ne`, or NotImplemented for an operand `ne` refuses by type."""
    try:
        return ne(self, other)
    except TypeError:
        if isinstance(other, Tensor):
            raise
        return NotImplemented


def _truth(xp, t):
    """Nonzero as True: PyTorch's logical ops take tensors of any dtype."""
    return t.array if t.dtype.kind == "bool" else xp.not_equal(t.array, 0)


def _logical(op_name, xp_name):
    def logical(input, other):  # noqa: A002 - PyTorch's names
        a, b, backend = _paired_arrays(op_name, input, other)
        xp = backend.xp
        return Tensor._make(getattr(xp, xp_name)(_truth(xp, a), _truth(xp, b)), backend)
    logical.__name__ = logical.__qualname__ = op_name
    logical.__doc__ = (f"Elementwise ``{xp_name}`` of the inputs' truth values (nonzero is "
                       f"True, any dtype), as a bool Tensor (not differentiable).")
    return logical


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")


def logical_not(input):  # noqa: A002 - PyTorch's name
    """True where the input is zero (any dtype), as a bool Tensor."""
    xp = input._backend.xp
    return Tensor._make(xp.logical_not(_truth(xp, input)), input._backend)


def _check_bitwise(op, *tensors):
    for t in tensors:
        if not (t.dtype.is_integer or t.dtype.kind == "bool"):
            raise TypeError(f"{op}: expected integer or bool tensors, got {t.dtype.name}")


def _bitwise(op_name, xp_name):
    def bitwise(input, other):  # noqa: A002 - PyTorch's names
        a, b, backend = _paired_arrays(op_name, input, other)
        _check_bitwise(op_name, a, b)
        return Tensor._make(getattr(backend.xp, xp_name)(a.array, b.array), backend)
    bitwise.__name__ = bitwise.__qualname__ = op_name
    bitwise.__doc__ = (f"Elementwise ``{xp_name}`` of integer or bool tensors (on bools, the "
                       f"logical operation), broadcast; either may be a Python int or bool.")
    return bitwise


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(input):  # noqa: A002 - PyTorch's name
    """Bitwise inversion of an integer tensor; logical not of a bool one (PyTorch's ``~``)."""
    _check_bitwise("bitwise_not", input)
    return Tensor._make(input._backend.xp.bitwise_invert(input.array), input._backend)


# -- predicates (bool results, not differentiable) ---------------------------------------------

def _predicate(op_name, test, otherwise):
    """``test(xp, array)`` for floating tensors; integer and bool ones are never nan or
    infinite, so they get ``otherwise`` everywhere."""
    def predicate(input):  # noqa: A002 - PyTorch's name
        if not isinstance(input, Tensor):
            raise TypeError(f"{op_name}: expected a Tensor, got {type(input).__name__}")
        xp, array = input._backend.xp, input.array
        if input.dtype.kind in ("real floating", "complex floating"):
            return Tensor._make(test(xp, array), input._backend)
        fill = xp.ones_like if otherwise else xp.zeros_like
        return Tensor._make(fill(array, dtype=xp.bool), input._backend)
    predicate.__name__ = predicate.__qualname__ = op_name
    return predicate


isnan = _predicate("isnan", lambda xp, a: xp.isnan(a), False)
isnan.__doc__ = "True where the value is NaN (a bool Tensor)."
isfinite = _predicate("isfinite", lambda xp, a: xp.isfinite(a), True)
isfinite.__doc__ = "True where the value is neither NaN nor infinite (a bool Tensor)."
isinf = _predicate("isinf", lambda xp, a: xp.isinf(a), False)
isinf.__doc__ = "True where the value is +inf or -inf (a bool Tensor)."
isposinf = _predicate("isposinf", lambda xp, a: xp.equal(a, math.inf), False)
isposinf.__doc__ = "True where the value is +inf (a bool Tensor)."
isneginf = _predicate("isneginf", lambda xp, a: xp.equal(a, -math.inf), False)
isneginf.__doc__ = "True where the value is -inf (a bool Tensor)."
isreal = _predicate("isreal", lambda xp, a: (
    xp.imag(a) == 0 if xp.isdtype(a.dtype, "complex floating")
    else xp.ones_like(a, dtype=xp.bool)), True)
isreal.__doc__ = "True where the imaginary part is zero (everywhere for a real tensor)."


# -- closeness and equality -------------------------------------------------------------------

def _tolerance(op, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"{op}: {name} must be >= 0, got {value}")
    return float(value)


def _isclose(op, input, other, rtol, atol, equal_nan):  # noqa: A002
    rtol, atol = _tolerance(op, "rtol", rtol), _tolerance(op, "atol", atol)
    a, b, backend = _paired_arrays(op, input, other)
    xp, x, y = backend.xp, a.array, b.array
    equal = xp.equal(x, y)  # also equal infinities, whose difference is nan
    close = equal
    floating = a.dtype.kind in ("real floating", "complex floating") or \
        b.dtype.kind in ("real floating", "complex floating")
    if equal_nan and floating:
        close = xp.logical_or(close, xp.logical_and(xp.isnan(x), xp.isnan(y)))
    if rtol == 0 and atol == 0:
        return close, backend
    if floating:
        # Equal operands differ by 0; so inf - inf (a nan, and a warning on NumPy) never runs.
        zero = xp.zeros_like(equal, dtype=x.dtype)
        error = xp.abs(xp.where(equal, zero, x) - xp.where(equal, zero, y))
    else:
        # PyTorch measures integer distances in the default float dtype; the larger minus the
        # smaller cannot wrap around for unsigned integers.
        default = backend.dtype(dtypes.get_default_dtype())
        if a.dtype.kind == "bool":
            x, y = xp.astype(x, default), xp.astype(y, default)
            error = xp.abs(x - y)
        else:
            error = xp.astype(xp.where(x >= y, x - y, y - x), default)
            y = xp.astype(y, default)
    within = xp.logical_and(xp.isfinite(error), error <= atol + rtol * xp.abs(y))
    return xp.logical_or(close, within), backend


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Where ``|input - other| <= atol + rtol * |other|``, elementwise (a bool Tensor).

    Parameters
    ----------
    input, other : Tensor or scalar
        Broadcast together; dtypes are promoted (PyTorch asks for equal dtypes).
    rtol, atol : float, default=1e-05, 1e-08
        Relative and absolute tolerance, both >= 0.
    equal_nan : bool, default=False
        Count two NaNs as close.

    Returns
    -------
    Tensor
        bool, of the broadcast shape. Equal infinities are close; an infinity is never close
        to a finite value.

    Raises
    ------
    ValueError
        For a negative tolerance or shapes that do not broadcast.
    """
    close, backend = _isclose("isclose", input, other, rtol, atol, equal_nan)
    return Tensor._make(close, backend)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Whether `isclose` holds everywhere, as a Python bool."""
    close, backend = _isclose("allclose", input, other, rtol, atol, equal_nan)
    return bool(backend.xp.all(close))


def equal(input, other):  # noqa: A002 - PyTorch's names
    """Whether two tensors have the same shape and the same values, as a Python bool (dtypes
    are promoted, as in PyTorch; NaN equals nothing)."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"equal: {name} must be a Tensor, got {type(t).__name__}")
    if input.shape != other.shape:
        return False
    a, b, backend = _paired_arrays("equal", input, other)
    return bool(backend.xp.all(backend.xp.equal(a.array, b.array)))
