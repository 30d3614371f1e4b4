"""`DataLoader`: mini-batches from a data set, reshuffled every epoch."""

from __future__ import annotations

import math
import numbers

import xpnet
from xpnet.autograd.tensor import Tensor

from .dataset import TensorDataset, resolve_generator

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples):
    """One batch from a list of samples: Tensors are stacked, numbers become a Tensor, tuples,
    lists and dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        return xpnet.stack(samples)
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, numbers.Number):
        return xpnet.tensor(list(samples))
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    f"expected Tensor, number, tuple, list or dict (or pass collate_fn)")


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")


class DataLoader:
    """Iterate over a data set in batches, as PyTorch's ``DataLoader``.

    A `TensorDataset` is batched by gathering rows with one index tensor per batch, on each
    tensor's own backend; other data sets are indexed sample by sample and collated.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__len__`` and ``__getitem__``.
    batch_size : int, default=1
    shuffle : bool, default=False
        Draw a fresh order at the start of every epoch (every ``iter(loader)``).
    drop_last : bool, default=False
        Skip the last batch when it would be smaller than ``batch_size``.
    seed : int, optional
    generator : xpnet.Generator, optional
        Source of the shuffles: two loaders with the same seed give the same batches, epoch
        after epoch. Default: the global generator (`xpnet.manual_seed`).
    collate_fn : callable, optional
        Turns a list of samples into a batch (default `default_collate`); not used for a
        `TensorDataset`.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(xpnet.arange(10).reshape(5, 2), xpnet.arange(5))
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
    [[0, 1], [2, 3], [4]]
    >>> len(DataLoader(ds, batch_size=2, drop_last=True))
    2
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, *, seed=None,
                 generator=None, collate_fn=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        _check_bool("shuffle", shuffle)
        _check_bool("drop_last", drop_last)
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator = resolve_generator("DataLoader", seed, generator)
        self.collate_fn = default_collate if collate_fn is None else collate_fn

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self, n, backend):
        if self.shuffle:
            return xpnet.randperm(n, backend=backend, generator=self.generator)
        return xpnet.arange(n, backend=backend)

    def __iter__(self):
        n = len(self.dataset)
        stops = range(self.batch_size, self.batch_size * len(self) + 1, self.batch_size)
        if isinstance(self.dataset, TensorDataset):
            order = self._order(n, self.dataset.tensors[0]._backend)
            for stop in stops:
                yield self.dataset.gather(order[stop - self.batch_size:min(stop, n)])
        else:
            order = self._order(n, "numpy").tolist()
            for stop in stops:
                samples = [self.dataset[i] for i in order[stop - self.batch_size:stop]]
                yield self.collate_fn(samples)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
