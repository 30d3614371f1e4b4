"""Collation (torch's ``torch.utils.data._utils.collate``): `default_collate` turns a list of
samples into a batch, `default_convert` turns NumPy arrays inside one sample into Tensors, and
`collate` with a ``collate_fn_map`` (`default_collate_fn_map` extended) collates other types.
"""

from __future__ import annotations

import collections.abc
import copy
from typing import Any

import xpnet
from xpnet import backend as _backends
from xpnet.autograd.tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]


_COLLATE_TYPES = "tensors, numpy arrays, numbers, dicts or lists"


def _is_numpy(obj):
    # Only the backend package may import NumPy; NumPy's arrays and scalars say where they
    # come from, and string scalars (np.str_, np.bytes_) count as Python strings.
    kind = type(obj)
    return kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_")


def _is_text_or_object_array(obj):
    # NumPy arrays of bytes, str or objects (dtype kinds S, U, O) have no tensor form.
    return getattr(getattr(obj, "dtype", None), "kind", None) in ("S", "U", "O")


def _host_stack(batch):
    """NumPy arrays or scalars of equal shape stacked on the host, then moved to the active
    backend in one transfer (torch: ``torch.stack([torch.as_tensor(b) for b in batch])``)."""
    shapes = {tuple(getattr(b, "shape", ())) for b in batch}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each array to be equal size, got "
                           f"shapes {sorted(shapes)}")
    host = _backends.load("numpy").xp.stack(list(batch))
    return xpnet.as_tensor(host)


def _stack_tensors(batch):
    first = batch[0]
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: sample {i} is a {type(t).__name__} where sample 0 "
                            f"is a Tensor")
        if t.shape != first.shape:
            # torch's type for this (its stack raises RuntimeError).
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {first.shape} at entry 0 and {t.shape} at entry {i}")
    return xpnet.stack(list(batch))


def _float_tensor(batch):
    # torch collates Python floats to float64; a device without float64 gets the default float.
    dtype = xpnet.float64 if _backends.active().supports_float64 else None
    return xpnet.tensor(list(batch), dtype=dtype)


def _rebuild(sample, items):
    """A container like ``sample`` (a mapping or sequence) holding ``items`` instead: the same
    type where it can be rebuilt, else a dict or list (torch's rules, including tuple -> list)."""
    mapping = isinstance(sample, collections.abc.Mapping)
    try:
        if isinstance(sample, (collections.abc.MutableMapping, collections.abc.MutableSequence)):
            # A copy keeps whatever else the container carries (defaultdict's factory...).
            clone = copy.copy(sample)
            if mapping:
                clone.update(items)
            else:
                for i, item in enumerate(items):
                    clone[i] = item
            return clone
        return type(sample)(items)
    except TypeError:  # no copy/update/__setitem__, or a constructor that takes no iterable
        return dict(items) if mapping else list(items)


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples, asking ``collate_fn_map`` first (torch's extensible collate).

    Parameters
    ----------
    batch : list
        Samples of one structure.
    collate_fn_map : dict, optional
        ``{type or tuple of types: fn}``; ``fn(batch, *, collate_fn_map)`` collates a batch
        whose first sample has that type (exact type first, then ``isinstance`` in the map's
        order). Containers (mappings, named tuples, sequences) are walked here and their
        fields collated with the same map.

    Returns
    -------
    The batch.

    Raises
    ------
    RuntimeError
        Sequence samples of different lengths.
    TypeError
        A sample type neither the map nor the containers cover.
    """
    elem = batch[0]
    if collate_fn_map is not None:
        kind = type(elem)
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for types, fn in collate_fn_map.items():
            if isinstance(elem, types):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        items = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                 for key in elem}
        return _rebuild(elem, items)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(collate(field, collate_fn_map=collate_fn_map)
                            for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence) and not isinstance(elem, (str, bytes)):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size, got lengths {[len(sample) for sample in batch]}")
        # Fields go on as tuples (so strings inside come back as tuples, as in torch).
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild(elem, fields)
    raise TypeError(f"default_collate: batch must contain {_COLLATE_TYPES}; found "
                    f"{type(elem)}")


def _collate_numpy(batch, *, collate_fn_map=None):
    if _is_text_or_object_array(batch[0]):
        raise TypeError(f"default_collate: batch must contain {_COLLATE_TYPES}; found "
                        f"{batch[0].dtype}")
    return _host_stack(batch)


class _NumpyMeta(type):
    def __instancecheck__(cls, obj):
        return _is_numpy(obj)


class _NumpyArrayOrScalar(metaclass=_NumpyMeta):
    """``isinstance(x, _NumpyArrayOrScalar)``: x is a NumPy array or number scalar (the key
    of `default_collate_fn_map` that stands for NumPy's types)."""


default_collate_fn_map: dict[Any, Any] = {
    Tensor: lambda batch, *, collate_fn_map=None: _stack_tensors(batch),
    _NumpyArrayOrScalar: _collate_numpy,
    float: lambda batch, *, collate_fn_map=None: _float_tensor(batch),
    int: lambda batch, *, collate_fn_map=None: xpnet.tensor(list(batch)),
    str: lambda batch, *, collate_fn_map=None: batch,
    bytes: lambda batch, *, collate_fn_map=None: batch,
}


def default_collate(batch):
    """Turn a list of samples into one batch, as torch's ``default_collate``.

    ============================  =========================================================
    first sample                  batch
    ============================  =========================================================
    Tensor                        stacked along a new first axis (its backend)
    NumPy array / NumPy scalar    a Tensor of the stacked values (same dtype, active backend)
    float                         float64 Tensor (the default float on a device without it)
    int (bool)                    int64 (bool) Tensor, or the default float if floats mix in
    str, bytes                    the list unchanged
    Mapping                       same mapping type, each key collated
    namedtuple                    same namedtuple type, each field collated
    tuple, other Sequence         a list (tuple) or the same sequence type of collated fields
    ============================  =========================================================

    Parameters
    ----------
    batch : list
        Samples of one structure.

    Returns
    -------
    The batch, nested as the samples are.

    Raises
    ------
    RuntimeError
        Tensors, arrays or sequences of unequal sizes (torch's type).
    TypeError
        Any other sample type, or NumPy arrays of strings or objects.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import default_collate
    >>> xb, yb = default_collate([(xpnet.zeros(2), 0), (xpnet.ones(2), 1)])
    >>> xb.shape, yb
    ((2, 2), tensor([0, 1]))
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Turn NumPy arrays and scalars into Tensors inside a sample and leave the rest as it is;
    the collate function of a `DataLoader` with ``batch_size=None`` (torch's
    ``default_convert``).

    Tensors, numbers and strings stay as they are (NumPy string and object arrays too);
    mappings, named tuples and sequences are converted field by field, a tuple becoming a list.

    Examples
    --------
    >>> from xpnet.data import default_convert
    >>> default_convert((1, "a"))
    [1, 'a']
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        return data if _is_text_or_object_array(data) else xpnet.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
