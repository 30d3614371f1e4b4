"""Named tuples that ops returning several tensors give back, as PyTorch's ``torch.return_types``.

``values, indices = xpnet.sort(x)`` unpacks; ``xpnet.max(x, 1).values`` and ``xpnet.max(x, 1)[0]``
read one field. Each type is a `collections.namedtuple`, so it compares, indexes and prints as a
tuple would, with its field names.
"""

from __future__ import annotations

import collections

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
           "cummin", "aminmax"]


def _values_indices(name):
    cls = collections.namedtuple(name, ["values", "indices"])
    cls.__module__ = __name__
    cls.__doc__ = (f"What `xpnet.{name}` returns: ``values`` (a Tensor) and the ``indices`` of "
                   f"those values in the input (an int64 Tensor of the same shape).")
    return cls


max = _values_indices("max")  # noqa: A001 - PyTorch's name
min = _values_indices("min")  # noqa: A001 - PyTorch's name
sort = _values_indices("sort")
topk = _values_indices("topk")
kthvalue = _values_indices("kthvalue")
median = _values_indices("median")
nanmedian = _values_indices("nanmedian")
mode = _values_indices("mode")
cummax = _values_indices("cummax")
cummin = _values_indices("cummin")

aminmax = collections.namedtuple("aminmax", ["min", "max"])
aminmax.__module__ = __name__
aminmax.__doc__ = ("What `xpnet.aminmax` returns: the smallest (``min``) and largest (``max``) "
                   "values.")
