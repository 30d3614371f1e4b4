"""`ParameterList` and `ParameterDict`: containers whose Parameters a Module registers, with
PyTorch's semantics (``torch.nn.modules.container``).

Entries are registered under their index ("0", "1"...) or key, so `named_parameters`,
`state_dict` and `load_state_dict` see them under those names. A Tensor stored in one becomes a
`Parameter` sharing its values, as in PyTorch; other objects are kept as they are, but only
Parameters are learnable state.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from xpnet.autograd.tensor import Tensor

from .module import Module
from .parameter import Parameter

__all__ = ["ParameterDict", "ParameterList"]


def _store(module, name, value):
    """Set entry ``name`` of a container to ``value``, a Tensor made a Parameter."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        value = Parameter(value)
    if isinstance(value, Parameter) and name in module._parameters:
        # In place in the registry: the entry keeps its position in state_dict, as PyTorch's.
        module._parameters[name] = value
        return
    if hasattr(module, name):  # the new value may be of another kind than the old one
        delattr(module, name)
    setattr(module, name, value)


def _entry_repr(key, value, typename):
    """PyTorch's line for one entry: ``(key): Parameter containing: [<type> of size 2x3]``."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    device = f" ({value.device})" if value.device.type == "cuda" else ""
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"  ({key}): {kind} containing: [{typename(value)} of size {size}{device}]"


def _torch_layout_repr(module):
    # PyTorch's Module.__repr__ layout, which puts a multi-line extra_repr on lines of its own.
    extra = module.extra_repr()
    lines = extra.split("\n") if extra else []
    children = [f"({name}): " + repr(m).replace("\n", "\n  ")
                for name, m in module._modules.items()]
    name = type(module).__name__
    if len(lines) == 1 and not children:
        return f"{name}({lines[0]})"
    if not lines and not children:
        return f"{name}()"
    return name + "(\n  " + "\n  ".join(lines + children) + "\n)"


class ParameterList(Module):
    """A list of Parameters registered under "0", "1"... (PyTorch's ``nn.ParameterList``).

    Tensors stored in it become Parameters (sharing their values); other objects are kept as
    they are (only Parameters are learnable state).

    Parameters
    ----------
    values : iterable, optional
        The initial entries.

    Raises
    ------
    TypeError
        From `extend` for a non-iterable (or a Tensor), for an index that is not an int, and
        when called (a container has no forward).
    IndexError
        For an index out of range.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> params = nn.ParameterList([xpnet.zeros(2), nn.Parameter(xpnet.ones(3))])
    >>> params.append(xpnet.zeros(4))
    ParameterList(
        (0): Parameter containing: [xpnet.float32 of size 2]
        (1): Parameter containing: [xpnet.float32 of size 3]
        (2): Parameter containing: [xpnet.float32 of size 4]
    )
    >>> list(params.state_dict())
    ['0', '1', '2']
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, index):
        """The entry's attribute name ("0", "1"...) for a possibly negative index."""
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"ParameterList indices must be integers or slices, got "
                            f"{type(index).__name__}") from None
        if not -self._size <= index < self._size:
            raise IndexError(f"ParameterList index {index} is out of range for length "
                             f"{self._size}")
        return str(index % self._size)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self[i] for i in range(*index.indices(self._size)))
        return getattr(self, self._index(index))

    def __setitem__(self, index, value):
        _store(self, self._index(index), value)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value):
        """Add ``value`` at the end (a Tensor becomes a Parameter); returns self."""
        self._size += 1
        _store(self, str(self._size - 1), value)
        return self

    def extend(self, values):
        """Append each of ``values``; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def insert(self, index, value):
        """Insert ``value`` before position ``index`` (as `list.insert`); returns self."""
        index = operator.index(index)
        entries = list(self)
        entries.insert(index, value)
        for i in range(self._size):
            delattr(self, str(i))
        self._size = 0
        return self.extend(entries)

    def extra_repr(self):
        return "\n".join(_entry_repr(i, value, lambda p: str(p.dtype))
                         for i, value in enumerate(self))

    def __repr__(self):
        return _torch_layout_repr(self)

    def __call__(self, *args, **kwargs):
        raise TypeError("ParameterList should not be called; index it or iterate over it")


class ParameterDict(Module):
    """An ordered dict of Parameters registered under their keys (PyTorch's
    ``nn.ParameterDict``).

    Tensors stored in it become Parameters (sharing their values); other objects are kept as
    they are. As in PyTorch, a plain ``dict`` given to the constructor or to `update` is added
    in sorted key order, an OrderedDict, a ParameterDict or a sequence of pairs in its own order.

    Parameters
    ----------
    parameters : mapping or iterable of (str, value) pairs, optional

    Raises
    ------
    TypeError
        For a key that is not a str, an `update` argument that is not iterable, and when called.
    KeyError
        For a missing key, an empty key, one containing ".", or one naming an attribute of the
        container (``"update"``, ``"training"``...).
    ValueError
        For an `update` pair that does not have two elements.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> params = nn.ParameterDict({"scale": xpnet.ones(3), "shift": xpnet.zeros(3)})
    >>> params
    ParameterDict(
        (scale): Parameter containing: [xpnet.FloatTensor of size 3]
        (shift): Parameter containing: [xpnet.FloatTensor of size 3]
    )
    >>> list(params.state_dict())
    ['scale', 'shift']
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be str, got {type(key).__name__}")
        if not key or "." in key:
            raise KeyError(f"ParameterDict: key must be non-empty and contain no '.', got "
                           f"{key!r}")
        if key not in self._keys and (hasattr(type(self), key) or key in self.__dict__):
            raise KeyError(f"ParameterDict: key {key!r} names an attribute of the container; "
                           f"choose another key")

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._check_key(key)
        self._keys[key] = None
        _store(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """(key, value) pairs, in insertion order."""
        return ((key, self[key]) for key in self._keys)

    def values(self):
        """The values, in insertion order."""
        return (self[key] for key in self._keys)

    def get(self, key, default=None):
        """``self[key]`` if ``key`` is present, else ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """``self[key]``, first set to ``default`` if ``key`` is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        """Remove ``key`` and return its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, value) pair added."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same Parameter objects."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys``, each holding ``default``."""
        return ParameterDict((key, default) for key in keys)

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of (key, value) pairs.

        A plain ``dict`` is added in sorted key order (PyTorch's rule); an OrderedDict, a
        ParameterDict or a sequence of pairs in its own order.
        """
        if not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update: expected a mapping or an iterable of "
                            f"(key, value) pairs, got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, Iterable) or isinstance(pair, (str, Tensor)):
                    raise TypeError(f"ParameterDict.update: element #{j} must be a (key, value) "
                                    f"pair, got {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} has length "
                                     f"{len(pair)}; a (key, value) pair is required")
                pairs.append(pair)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(_entry_repr(key, value, lambda p: p.type()) for key, value in
                         self.items())

    def __repr__(self):
        return _torch_layout_repr(self)

    def __call__(self, *args, **kwargs):
        raise TypeError("ParameterDict should not be called; index it by key")
