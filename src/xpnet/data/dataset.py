"""Data sets (torch's ``torch.utils.data.dataset``): the map-style `Dataset` and its
combinators, `IterableDataset` streams, `random_split`, and xpnet's seeded `train_test_split`."""

from __future__ import annotations

import bisect
import collections.abc
import math
import numbers
import operator
import warnings
from typing import Generic, TypeVar

import xpnet
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import Generator, default_generator

from .sampler import check_generator, randperm_list

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split", "train_test_split"]

T_co = TypeVar("T_co", covariant=True)


def resolve_generator(op, seed, generator):
    """The Generator to draw from: ``generator``, a new one seeded with ``seed``, or the default."""
    if seed is not None and generator is not None:
        raise ValueError(f"{op}: give seed or generator, not both")
    if generator is not None:
        if not isinstance(generator, Generator):
            raise TypeError(f"{op}: generator must be an xpnet.Generator, got "
                            f"{type(generator).__name__}")
        return generator
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"{op}: seed must be a non-negative int, got {seed!r}")
        return Generator(int(seed))
    return default_generator


def check_tensors(op, tensors):
    """At least one Tensor, none 0-d, all with the same first dimension."""
    if not tensors:
        raise ValueError(f"{op}: expected at least one tensor, got none")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument {i} must be a Tensor, got {type(t).__name__}; "
                            f"convert with xpnet.tensor(...)")
        if t.ndim == 0:
            raise ValueError(f"{op}: argument {i} is 0-d; every tensor needs a first (sample) "
                             f"dimension")
    if len({t.shape[0] for t in tensors}) > 1:
        raise ValueError(f"{op}: all tensors must have the same size in the first dimension, "
                         f"got shapes {', '.join(str(t.shape) for t in tensors)}")


class Dataset(Generic[T_co]):
    """A map-style data set: samples fetched by key, ``dataset[index]``.

    Subclasses define ``__getitem__`` and usually ``__len__`` (the default samplers of
    `DataLoader` need it; this base class has none, as torch's). They may define
    ``__getitems__(indices)`` returning a list of samples, which `DataLoader` then calls once
    per batch. ``a + b`` is ``ConcatDataset([a, b])``. Typed like torch's (``Dataset[Tensor]``).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (subclasses "
                                  f"of Dataset should implement __getitem__)")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], collections.abc.Iterable):
    """A data set read as a stream: subclasses define ``__iter__`` (and may define ``__len__``).

    `DataLoader` takes its samples in the order ``__iter__`` gives them, so it refuses
    ``shuffle`` and samplers for it. ``a + b`` is ``ChainDataset([a, b])``.

    Examples
    --------
    >>> from xpnet.data import DataLoader, IterableDataset
    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Samples are rows of tensors sharing their first dimension: ``ds[i] == (X[i], y[i])``.

    `DataLoader` batches it with one gather per tensor and batch (see `gather`) instead of
    stacking rows one by one; the batches are the same.

    Parameters
    ----------
    *tensors : Tensor
        At least one; each of shape (N, ...) with the same N. They may live on any backend.

    Raises
    ------
    TypeError
        An argument is not a Tensor.
    ValueError
        No tensor, a 0-d tensor, or first dimensions that differ (torch raises an
        AssertionError for the last).

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import TensorDataset
    >>> ds = TensorDataset(xpnet.zeros(5, 3), xpnet.arange(5))
    >>> len(ds), ds[1][1]
    (5, tensor(1))
    """

    def __init__(self, *tensors):
        check_tensors("TensorDataset", tensors)
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def gather(self, index):
        """The batch at integer positions ``index`` (a 1-D int64 Tensor) as a tuple of Tensors.

        The index moves to each tensor's backend when it is not already there.
        """
        moved = {index._backend: index}
        batch = []
        for t in self.tensors:
            if t._backend not in moved:
                moved[t._backend] = index.to(t._backend)
            batch.append(xpnet.take(t, moved[t._backend], axis=0))
        return tuple(batch)

    def _collated_rows(self, indices):
        """``default_collate([self[i] for i in indices])`` by gathering, or None (see
        `batch_rows`)."""
        n = len(self)
        if not indices or not all(type(i) is int for i in indices):
            return None
        low, high = min(indices), max(indices)
        if low < -n or high >= n:
            return None  # the per-sample path raises the IndexError that names the index
        if low < 0:
            indices = [i + n if i < 0 else i for i in indices]
        index = xpnet.tensor(indices, dtype=xpnet.int64, backend=self.tensors[0]._backend)
        # default_collate turns the tuple samples into a list.
        return list(self.gather(index))


def batch_rows(dataset):
    """A shortcut for `DataLoader`: a function ``indices -> batch`` that returns exactly
    ``default_collate([dataset[i] for i in indices])`` with one gather per tensor, or None when
    ``dataset`` has none. The function itself returns None for a batch it cannot take (indices
    that are not Python ints or are out of range), which then goes the per-sample way."""
    kind = type(dataset)
    if isinstance(dataset, TensorDataset) and kind.__getitem__ is TensorDataset.__getitem__ \
            and getattr(kind, "__getitems__", None) is None:
        return dataset._collated_rows
    if isinstance(dataset, Subset) and kind.__getitem__ is Subset.__getitem__ \
            and kind.__getitems__ is Subset.__getitems__:
        inner = batch_rows(dataset.dataset)
        if inner is not None:
            indices = dataset.indices
            return lambda batch: inner([indices[i] for i in batch])
    return None


class StackDataset(Dataset):
    """Samples of several equally long data sets side by side: a tuple (positional arguments)
    or a dict (keyword arguments) per index.

    Parameters
    ----------
    *args : Dataset
        Samples become ``(args[0][i], args[1][i], ...)``.
    **kwargs : Dataset
        Samples become ``{key: kwargs[key][i], ...}``.

    Raises
    ------
    ValueError
        Both or neither of args and kwargs given, or data sets of different lengths.

    Examples
    --------
    >>> from xpnet.data import StackDataset
    >>> StackDataset(image=[10, 11], label=[0, 1])[1]
    {'image': 11, 'label': 1}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give data sets as positional arguments (tuple "
                             "samples) or as keyword arguments (dict samples), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one data set should be passed")
        parts = list(args) if args else list(kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between data sets, got lengths "
                             f"{lengths}")
        self._length = lengths[0]
        self.datasets = tuple(args) if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        def column(d):
            if callable(getattr(d, "__getitems__", None)):
                items = d.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(f"StackDataset: nested data set's output size mismatch; "
                                     f"expected {len(indices)}, got {len(items)}")
                return items
            return [d[i] for i in indices]

        if isinstance(self.datasets, dict):
            columns = {key: column(d) for key, d in self.datasets.items()}
            return [{key: columns[key][j] for key in columns} for j in range(len(indices))]
        return list(zip(*(column(d) for d in self.datasets)))

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Several map-style data sets one after the other.

    Parameters
    ----------
    datasets : iterable of Dataset
        At least one; none may be an `IterableDataset` (use `ChainDataset`).

    Attributes
    ----------
    datasets : list of Dataset
    cumulative_sizes : list of int
        Running totals of the lengths: index ``i`` lies in the first data set whose total
        exceeds it.

    Raises
    ------
    ValueError
        No data set given (torch raises an AssertionError).
    TypeError
        An `IterableDataset` among them (torch raises an AssertionError).

    Examples
    --------
    >>> from xpnet.data import ConcatDataset
    >>> ds = ConcatDataset([[1, 2, 3], [4, 5]])
    >>> ds.cumulative_sizes, ds[3], ds[-1]
    ([3, 5], 4, 5)
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the lengths of ``sequence``'s items."""
        totals, total = [], 0
        for d in sequence:
            total += len(d)
            totals.append(total)
        return totals

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: does not support IterableDataset (data set "
                                f"{i}); use ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        try:
            idx = operator.index(idx)
        except TypeError:
            raise TypeError(f"ConcatDataset: index must be an int, got "
                            f"{type(idx).__name__}") from None
        if idx < 0:
            if -idx > n:
                # torch's type here: ValueError, not IndexError.
                raise ValueError(f"ConcatDataset: absolute value of index should not exceed "
                                 f"dataset length ({n}), got {idx}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several `IterableDataset` streams one after the other, chained lazily.

    Parameters
    ----------
    datasets : iterable of IterableDataset
        Checked when iterated (as torch does): a map-style one raises TypeError then (torch
        raises an AssertionError).
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def _checked(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: only supports IterableDataset, got "
                                f"{type(d).__name__}")
            yield d

    def __iter__(self):
        for d in self._checked():
            yield from d

    def __len__(self):
        return sum(len(d) for d in self._checked())


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(ds, idx)[i] == ds[idx[i]]``.

    Parameters
    ----------
    dataset : Dataset
    indices : sequence
        Keys into ``dataset``, in the order the subset visits them.

    Raises
    ------
    NotImplementedError
        A subclass overrides ``__getitem__`` but not ``__getitems__`` (which `DataLoader`
        prefers), as in torch.

    Examples
    --------
    >>> from xpnet.data import Subset
    >>> sub = Subset(["a", "b", "c", "d"], [3, 0])
    >>> len(sub), sub[0], sub[-1]
    (2, 'd', 'a')
    """

    def __init__(self, dataset, indices):
        kind = type(self)
        if kind.__getitem__ is not Subset.__getitem__ and kind.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{kind.__name__} overrides __getitem__ but not __getitems__; DataLoader calls "
                f"__getitems__, so define it too, e.g. "
                f"def __getitems__(self, indices): return [self[i] for i in indices]")
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        keys = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(keys)
        return [self.dataset[k] for k in keys]

    def __len__(self):
        return len(self.indices)


def _split_lengths(lengths, n):
    """Integer lengths from ``lengths``: ints as given, or fractions summing to 1."""
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__"):
        raise TypeError(f"random_split: lengths must be a sequence of ints or of fractions, got "
                        f"{type(lengths).__name__} {lengths!r}")
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise TypeError(f"random_split: lengths must hold ints or fractions, got "
                            f"{type(length).__name__} {length!r} at index {i}")
    total = sum(lengths)
    if lengths and math.isclose(total, 1) and total <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1, "
                                 f"got {fraction}")
            counts.append(math.floor(n * fraction))
        # torch's rule: the samples the floors leave over go one each to the splits in order,
        # round-robin from the first.
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                              f"result in an empty dataset", UserWarning, stacklevel=3)
        return counts
    if not all(isinstance(length, numbers.Integral) for length in lengths):
        raise ValueError(f"random_split: lengths must be ints summing to the length of the "
                         f"dataset ({n}) or fractions summing to 1, got {lengths} (sum "
                         f"{total:.6g})")
    for i, length in enumerate(lengths):
        if length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints (or fractions "
                             f"summing to 1), got {length!r} at index {i}")
    if total != n:
        raise ValueError(f"random_split: sum of input lengths ({total}) does not equal the "
                         f"length of the input dataset ({n})")
    return [int(length) for length in lengths]


def random_split(dataset, lengths, generator=default_generator):
    """Split a data set at random into non-overlapping `Subset` s of the given lengths.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__len__`` and ``__getitem__``.
    lengths : sequence of int or of float
        Lengths summing to ``len(dataset)``, or fractions summing to 1: each split gets
        ``floor(fraction * len(dataset))`` samples and the samples left over go one each to
        the splits in order, round-robin (torch's rule; a split of length 0 warns).
    generator : xpnet.Generator, default=xpnet.default_generator
        Source of the permutation.

    Returns
    -------
    list of Subset
        One per length, together a permutation of ``range(len(dataset))``.

    Raises
    ------
    ValueError
        Lengths that do not sum to ``len(dataset)``, negative lengths, fractions that do not
        sum to 1, or a fraction outside [0, 1].
    TypeError
        ``lengths`` not a sequence of numbers, or ``generator`` not an `xpnet.Generator`.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import random_split
    >>> train, val = random_split(range(10), [0.7, 0.3], generator=xpnet.Generator(0))
    >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
    (7, 3, True)
    """
    check_generator("random_split", generator)
    counts = _split_lengths(lengths, len(dataset))
    order = randperm_list(sum(counts), generator)
    splits, start = [], 0
    for count in counts:
        splits.append(Subset(dataset, order[start:start + count]))
        start += count
    return splits


def _n_test(test_size, n):
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"train_test_split: test_size must be a float in (0, 1) or an int, got "
                        f"{type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0 < test_size < 1:
        n_test = math.ceil(test_size * n)  # scikit-learn rounds the test share up
    else:
        raise ValueError(f"train_test_split: a float test_size must lie in (0, 1), got {test_size}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"train_test_split: test_size={test_size} gives {n_test} test samples of "
                         f"{n}; both parts need at least one")
    return n_test


def _stratified_test_positions(labels, n_test, test_size, generator):
    """Test positions with each label's share of ``n_test`` (largest remainders round up).

    As scikit-learn, refuses a class of one member and a test or train part too small to hold
    every class.
    """
    by_label = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    n = len(labels)
    op = "train_test_split"
    few = sorted(label for label, members in by_label.items() if len(members) < 2)
    if few:
        raise ValueError(f"{op}: the least populated class in stratify ({few[0]!r}) has only 1 "
                         f"member, which is too few; every class needs at least 2 members, one "
                         f"for each part (classes with too few: {few[:10]})")
    k = len(by_label)
    if n_test < k:
        raise ValueError(f"{op}: test_size={test_size} gives {n_test} test samples, fewer than "
                         f"the {k} classes in stratify; each class needs one in each part")
    if n - n_test < k:
        raise ValueError(f"{op}: test_size={test_size} leaves {n - n_test} training samples, "
                         f"fewer than the {k} classes in stratify; each class needs one in each "
                         f"part")
    groups = [by_label[label] for label in sorted(by_label)]
    quotas = [len(g) * n_test / n for g in groups]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(groups)), key=lambda k: (counts[k] - quotas[k], -len(groups[k]), k))
    for k in order[:n_test - sum(counts)]:
        counts[k] += 1
    test = []
    for group, count in zip(groups, counts):
        test.extend(group[j] for j in randperm_list(len(group), generator)[:count])
    return test


def train_test_split(*tensors, test_size=0.25, stratify=None, seed=None, generator=None):
    """Split tensors along their first dimension into random train and test parts.

    Parameters
    ----------
    *tensors : Tensor
        Of shape (N, ...) with the same N (any backends).
    test_size : float in (0, 1) or int, default=0.25
        Fraction of samples (rounded up) or number of samples for the test part.
    stratify : Tensor of shape (N,), optional
        Class labels: each class gets its share of the test part (within one sample). Every
        class needs at least 2 members, and each part at least one sample per class.
    seed : int, optional
    generator : xpnet.Generator, optional
        Source of randomness; default the global one (`xpnet.manual_seed`).

    Returns
    -------
    list of Tensor
        ``[a_train, a_test, b_train, b_test, ...]``, as scikit-learn's.

    Raises
    ------
    TypeError
        For arguments that are not Tensors, a ``test_size`` that is not a number, or a
        ``stratify`` that is not a Tensor.
    ValueError
        For tensors of different lengths, a ``test_size`` that leaves a part empty, a
        ``stratify`` of another shape, a class with one member, or fewer test or train samples
        than classes (as scikit-learn's).

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import train_test_split
    >>> X, y = xpnet.zeros(10, 2), xpnet.tensor([0, 1] * 5)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, seed=0)
    >>> X_train.shape, sorted(y_test.tolist())
    ((8, 2), [0, 1])
    """
    check_tensors("train_test_split", tensors)
    data = TensorDataset(*tensors)
    n = len(data)
    n_test = _n_test(test_size, n)
    g = resolve_generator("train_test_split", seed, generator)
    if stratify is not None:
        if not isinstance(stratify, Tensor):
            raise TypeError(f"train_test_split: stratify must be a Tensor of shape ({n},), got "
                            f"{type(stratify).__name__}; convert labels with xpnet.tensor(...)")
        if stratify.shape != (n,):
            raise ValueError(f"train_test_split: stratify must be a Tensor of shape ({n},), got "
                             f"shape {stratify.shape}")
        test = _stratified_test_positions(stratify.tolist(), n_test, test_size, g)
        in_test = set(test)
        train = [i for i in range(n) if i not in in_test]
        # Shuffle each part: both are sorted by class so far.
        test = [test[j] for j in randperm_list(len(test), g)]
        train = [train[j] for j in randperm_list(len(train), g)]
    else:
        order = randperm_list(n, g)
        test, train = order[:n_test], order[n_test:]
    backend = data.tensors[0]._backend
    train_batch = data.gather(xpnet.tensor(train, dtype=xpnet.int64, backend=backend))
    test_batch = data.gather(xpnet.tensor(test, dtype=xpnet.int64, backend=backend))
    return [part for pair in zip(train_batch, test_batch) for part in pair]
