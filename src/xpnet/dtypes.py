"""Backend-independent dtype objects: ``xpnet.float32`` means the same thing on every backend.

Each backend has its own dtype objects (``array_api_strict.float32`` is not ``numpy.float32``),
so the public API speaks in these and each backend translates them (`Backend.dtype`).
"""

from __future__ import annotations

import builtins
import math

__all__ = [
    "DType", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
    "get_default_dtype", "set_default_dtype", "as_dtype", "finfo", "iinfo",
    "pi", "e", "inf", "nan",
]

# PyTorch's constants (torch.pi...): plain Python floats.
pi, e, inf, nan = math.pi, math.e, math.inf, math.nan


class DType:
    """A dtype name shared by every backend, with its kind and width in bits."""

    __slots__ = ("name", "kind", "bits")

    def __init__(self, name: str, kind: str, bits: int):
        self.name, self.kind, self.bits = name, kind, bits

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "real floating"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("signed integer", "unsigned integer")

    def __repr__(self) -> str:
        return f"xpnet.{self.name}"

    def __reduce__(self):  # copy/deepcopy keep the singleton
        return (as_dtype, (self.name,))


bool = DType("bool", "bool", 8)  # noqa: A001 - mirrors the standard's name
int8 = DType("int8", "signed integer", 8)
int16 = DType("int16", "signed integer", 16)
int32 = DType("int32", "signed integer", 32)
int64 = DType("int64", "signed integer", 64)
uint8 = DType("uint8", "unsigned integer", 8)
uint16 = DType("uint16", "unsigned integer", 16)
uint32 = DType("uint32", "unsigned integer", 32)
uint64 = DType("uint64", "unsigned integer", 64)
float32 = DType("float32", "real floating", 32)
float64 = DType("float64", "real floating", 64)
complex64 = DType("complex64", "complex floating", 64)
complex128 = DType("complex128", "complex floating", 128)

ALL = {d.name: d for d in (bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
                           float32, float64, complex64, complex128)}

# PyTorch's other names for the same dtypes (torch.int is int32 there, torch.long int64).
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
TORCH_ALIASES = {"float": float32, "double": float64, "long": int64, "int": int32,
                 "short": int16, "cfloat": complex64, "cdouble": complex128}
_ALIASES = {**TORCH_ALIASES, "bool_": bool}

# PyTorch's legacy tensor type names (t.type(), torch.LongTensor).
_LEGACY = {"FloatTensor": float32, "DoubleTensor": float64, "LongTensor": int64,
           "IntTensor": int32, "ShortTensor": int16, "CharTensor": int8, "ByteTensor": uint8,
           "BoolTensor": bool}


def legacy_type_name(dtype) -> str:
    """``'FloatTensor'`` for float32 and so on (``'Tensor'`` where PyTorch has no name)."""
    for name, dt in _LEGACY.items():
        if dt is dtype:
            return name
    return "Tensor"


def from_legacy_type_name(name: str):
    """The dtype of ``'torch.LongTensor'``, ``'xpnet.FloatTensor'`` or ``'LongTensor'``."""
    short_name = name.rsplit(".", 1)[-1]
    if short_name not in _LEGACY:
        raise TypeError(f"type: unknown tensor type {name!r}; expected one of "
                        f"{', '.join(_LEGACY)} or a dtype")
    return _LEGACY[short_name]

_default_float = float32


def as_dtype(dtype, op=None) -> DType:
    """Accept an xpnet DType, its name ('float64') or any object whose str() names one.

    ``op``, the public call's name, starts the error message when given.
    """
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, type) and dtype.__name__ in ALL:  # python's bool, or numpy scalar types
        return ALL[dtype.__name__]
    if dtype is builtins.float:  # PyTorch reads Python's float as float64, int as int64
        return float64
    if dtype is builtins.int:
        return int64
    name = str(dtype).rsplit(".", 1)[-1]
    found = ALL.get(name) or _ALIASES.get(name)
    if found is None:
        where = f"{op}: " if op else ""
        raise TypeError(f"{where}unknown dtype {dtype!r}; expected one of {', '.join(ALL)}")
    return found


def get_default_dtype() -> DType:
    """The floating dtype used where none is given (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used for Python floats and random/float factories."""
    global _default_float
    dtype = as_dtype(dtype, "set_default_dtype")
    if not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating dtype (float32 or float64), "
                        f"got {dtype!r}")
    _default_float = dtype


# -- finfo / iinfo -----------------------------------------------------------------------------

# (bits, mantissa bits, smallest and largest exponent) of the IEEE 754 binary formats.
_IEEE = {32: (23, -126, 127), 64: (52, -1022, 1023)}


class finfo:  # noqa: N801 - PyTorch's (and NumPy's) name
    """Limits of a floating dtype, as ``torch.finfo``: ``finfo()`` describes the default float
    dtype; a complex dtype is described by its real part's.

    Its fields: ``bits``; ``eps``, the gap between 1.0 and the next representable number;
    ``max`` and ``min``, the largest and the most negative finite numbers; ``tiny`` and
    ``smallest_normal``, two names for the smallest positive normal number; ``resolution``,
    ``10 ** -precision`` for the decimal digits the format carries; ``dtype``, the (real)
    dtype's name, ``'float32'`` or ``'float64'``.

    Raises
    ------
    TypeError
        For an integer or bool dtype (use `iinfo`).
    """

    def __init__(self, type=None):  # noqa: A002 - PyTorch's parameter name
        dtype = get_default_dtype() if type is None else as_dtype(type, "finfo")
        if dtype.kind == "complex floating":
            dtype = float32 if dtype.bits == 64 else float64
        if not dtype.is_floating_point:
            raise TypeError(f"finfo: expected a floating dtype, got {dtype!r}; use "
                            f"xpnet.iinfo for integer dtypes")
        mantissa, lowest, highest = _IEEE[dtype.bits]
        self.bits, self.dtype = dtype.bits, dtype.name
        self.eps = 2.0 ** -mantissa
        self.max = (2.0 - self.eps) * 2.0 ** highest
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** lowest
        self.resolution = 10.0 ** -builtins.int(mantissa * math.log10(2))

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's (and NumPy's) name
    """Limits of an integer dtype, as ``torch.iinfo``: fields ``bits``, ``max`` and ``min``
    (the largest and the smallest value, ints) and ``dtype`` (its name, e.g. ``'int64'``).

    Raises
    ------
    TypeError
        For a floating, complex or bool dtype.
    """

    def __init__(self, type):  # noqa: A002 - PyTorch's parameter name
        dtype = as_dtype(type, "iinfo")
        if not dtype.is_integer:
            hint = "; use xpnet.finfo for floating dtypes" if dtype.kind != "bool" else ""
            raise TypeError(f"iinfo: expected an integer dtype, got {dtype!r}{hint}")
        self.bits, self.dtype = dtype.bits, dtype.name
        if dtype.kind == "signed integer":
            self.min, self.max = -(2 ** (dtype.bits - 1)), 2 ** (dtype.bits - 1) - 1
        else:
            self.min, self.max = 0, 2 ** dtype.bits - 1

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
