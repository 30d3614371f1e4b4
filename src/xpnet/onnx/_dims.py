"""Symbolic sizes for the exporter: `Dim` (a size that depends on a dynamic axis) and `SymInt`
(the int that ``x.shape`` / ``x.size()`` return for such an axis while a model is traced).

A `Dim` is a monomial ``coeff * prod(atom ** power)`` with its value in the example run. An atom
is a symbol (an axis whose size is only known at run time, e.g. the batch axis of an input) or a
sum, difference or floor quotient of two sizes that does not simplify to a monomial. Sizes that
do not depend on any dynamic axis stay plain ints. The graph builder turns a `Dim` back into
ONNX nodes (``Shape`` -> ``Gather`` -> ``Mul``...) where a graph needs the size at run time.
"""

from __future__ import annotations

import numbers

__all__ = ["Dim", "SymInt", "dim_add", "dim_floordiv", "dim_mul", "dim_sub", "lift", "wrap"]


class Dim:
    """A size that depends on dynamic axes: ``coeff * prod(atom ** power)``, worth ``value``
    in the traced run. Immutable and hashable; two Dims are equal when their formulas are."""

    __slots__ = ("coeff", "atoms", "value")

    def __init__(self, coeff, atoms, value):
        self.coeff, self.atoms, self.value = coeff, atoms, value

    @classmethod
    def symbol(cls, key, value):
        return cls(1, ((("sym", key, value), 1),), value)

    @property
    def key(self):
        return (self.coeff, self.atoms)

    def __eq__(self, other):
        return isinstance(other, Dim) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def is_symbol(self):
        """The symbol's key when this is exactly one symbol (coefficient 1, power 1)."""
        if self.coeff == 1 and len(self.atoms) == 1 and self.atoms[0][1] == 1 \
                and self.atoms[0][0][0] == "sym":
            return self.atoms[0][0][1]
        return None

    def __repr__(self):
        return f"Dim({describe(self)}={self.value})"


def describe(d, names=None):
    """A readable formula (``batch*seq``, ``2*batch``), for dim_param names and messages."""
    if not isinstance(d, Dim):
        return str(d)
    parts = [] if d.coeff == 1 else [str(d.coeff)]
    for atom, power in d.atoms:
        text = _describe_atom(atom, names)
        parts.extend([text] * power)
    return "*".join(parts) or "1"


def _describe_atom(atom, names):
    kind = atom[0]
    if kind == "sym":
        return (names or {}).get(atom[1], f"s{atom[1]}")
    symbol = {"add": "+", "sub": "-", "floordiv": "//"}[kind]
    return f"({describe(atom[1], names)}{symbol}{describe(atom[2], names)})"


def value_of(d):
    return d.value if isinstance(d, Dim) else int(d)


def atom_value(atom):
    """The traced run's value of one atom of a Dim."""
    kind = atom[0]
    if kind == "sym":
        return atom[2]
    a, b = value_of(atom[1]), value_of(atom[2])
    return a + b if kind == "add" else a - b if kind == "sub" else a // b


def units(d):
    """A Dim's atoms, each repeated by its power."""
    return [atom for atom, power in d.atoms for _ in range(power)]


def monomial(coeff, atoms):
    """coeff * prod(atoms) (atoms repeated for powers) as a Dim or an int."""
    powers = {}
    for atom in atoms:
        powers[atom] = powers.get(atom, 0) + 1
    value = coeff
    for atom in atoms:
        value *= atom_value(atom)
    return _monomial(coeff, powers, value)


def _monomial(coeff, powers, value):
    if coeff == 0:
        return 0
    atoms = tuple(sorted(((a, p) for a, p in powers.items() if p), key=repr))
    if not atoms:
        return coeff
    return Dim(coeff, atoms, value)


def dim_mul(a, b):
    if not isinstance(a, Dim) and not isinstance(b, Dim):
        return a * b
    powers = {}
    coeff = 1
    for d in (a, b):
        if isinstance(d, Dim):
            coeff *= d.coeff
            for atom, p in d.atoms:
                powers[atom] = powers.get(atom, 0) + p
        else:
            coeff *= d
    return _monomial(coeff, powers, value_of(a) * value_of(b))


def _atom(kind, a, b, value):
    return Dim(1, (((kind, a, b), 1),), value)


def dim_add(a, b):
    if not isinstance(a, Dim) and not isinstance(b, Dim):
        return a + b
    if isinstance(a, Dim) and isinstance(b, Dim) and a.atoms == b.atoms:
        return _monomial(a.coeff + b.coeff, dict(a.atoms), a.value + b.value)
    if not isinstance(a, Dim) and a == 0:
        return b
    if not isinstance(b, Dim) and b == 0:
        return a
    return _atom("add", a, b, value_of(a) + value_of(b))


def dim_sub(a, b):
    if not isinstance(a, Dim) and not isinstance(b, Dim):
        return a - b
    if isinstance(a, Dim) and isinstance(b, Dim) and a.atoms == b.atoms:
        return _monomial(a.coeff - b.coeff, dict(a.atoms), a.value - b.value)
    if not isinstance(b, Dim) and b == 0:
        return a
    return _atom("sub", a, b, value_of(a) - value_of(b))


def dim_floordiv(a, b):
    if not isinstance(a, Dim) and not isinstance(b, Dim):
        return a // b
    value = value_of(a) // value_of(b)
    if isinstance(a, Dim):
        # An exact division of monomials stays a monomial: (batch * 8) // 2 = 4 * batch.
        num_powers = dict(a.atoms)
        den_coeff, den_powers = (b.coeff, dict(b.atoms)) if isinstance(b, Dim) else (b, {})
        if den_coeff and a.coeff % den_coeff == 0 and all(
                num_powers.get(atom, 0) >= p for atom, p in den_powers.items()):
            for atom, p in den_powers.items():
                num_powers[atom] -= p
            return _monomial(a.coeff // den_coeff, num_powers, value)
    return _atom("floordiv", a, b, value)


def lift(x):
    """The size behind ``x`` (a Dim or an int), or None when ``x`` is not an integer."""
    if isinstance(x, SymInt):
        return x.dim
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    return None


def wrap(d):
    """A SymInt for a Dim; an int for a static size."""
    return SymInt(d) if isinstance(d, Dim) else d


class SymInt(int):
    """An int that remembers which symbolic size it is. ``x.size(0)`` returns one for a dynamic
    axis while a model is traced for export, so that ``x.view(x.size(0), -1)`` exports a
    reshape that follows the batch size instead of the example's. Arithmetic with ints and
    other SymInts keeps the formula; everything else sees the example's value."""

    def __new__(cls, dim):
        self = int.__new__(cls, dim.value)
        self.dim = dim
        return self

    def _binary(self, other, fn, reflected=False):
        o = lift(other)
        if o is None:
            return NotImplemented
        return wrap(fn(o, self.dim) if reflected else fn(self.dim, o))

    def __add__(self, other):
        return self._binary(other, dim_add)

    def __radd__(self, other):
        return self._binary(other, dim_add, True)

    def __sub__(self, other):
        return self._binary(other, dim_sub)

    def __rsub__(self, other):
        return self._binary(other, dim_sub, True)

    def __mul__(self, other):
        return self._binary(other, dim_mul)

    def __rmul__(self, other):
        return self._binary(other, dim_mul, True)

    def __floordiv__(self, other):
        return self._binary(other, dim_floordiv)

    def __rfloordiv__(self, other):
        return self._binary(other, dim_floordiv, True)

    def __neg__(self):
        return wrap(dim_mul(self.dim, -1))

    def __pos__(self):
        return self

    def __index__(self):
        return int.__int__(self)

    def __int__(self):
        return int.__int__(self)

    def __reduce__(self):  # pickles (and copies) as the plain int
        return (int, (int(self),))
