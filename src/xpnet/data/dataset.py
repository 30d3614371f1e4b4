"""Map-style data sets (`Dataset`, `TensorDataset`) and a seeded `train_test_split`."""

from __future__ import annotations

import math
import numbers

import xpnet
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import Generator, default_generator

__all__ = ["Dataset", "TensorDataset", "train_test_split"]


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


def _randperm(n, generator):
    return xpnet.randperm(n, backend="numpy", generator=generator).tolist()


class Dataset:
    """A sized collection of samples indexed by position 0..len-1.

    Subclasses define ``__getitem__(index)`` (a sample: a Tensor, number, or a tuple of them)
    and ``__len__``.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are rows of tensors sharing their first dimension: ``ds[i] == (X[i], y[i])``.

    Parameters
    ----------
    *tensors : Tensor
        At least one; each of shape (N, ...) with the same N. They may live on any backend.

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


def _stratified_test_positions(labels, n_test, generator):
    """Test positions with each label's share of ``n_test`` (largest remainders round up)."""
    by_label = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    groups = [by_label[label] for label in sorted(by_label)]
    n = len(labels)
    quotas = [len(g) * n_test / n for g in groups]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(groups)), key=lambda k: (counts[k] - quotas[k], -len(groups[k]), k))
    for k in order[:n_test - sum(counts)]:
        counts[k] += 1
    test = []
    for group, count in zip(groups, counts):
        test.extend(group[j] for j in _randperm(len(group), generator)[:count])
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
        Class labels: each class gets its share of the test part (within one sample).
    seed : int, optional
    generator : xpnet.Generator, optional
        Source of randomness; default the global one (`xpnet.manual_seed`).

    Returns
    -------
    list of Tensor
        ``[a_train, a_test, b_train, b_test, ...]``, as scikit-learn's.

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
        if not isinstance(stratify, Tensor) or stratify.shape != (n,):
            raise ValueError(f"train_test_split: stratify must be a Tensor of shape ({n},), got "
                             f"{getattr(stratify, 'shape', type(stratify).__name__)}")
        test = _stratified_test_positions(stratify.tolist(), n_test, g)
        in_test = set(test)
        train = [i for i in range(n) if i not in in_test]
        # Shuffle each part: both are sorted by class so far.
        test = [test[j] for j in _randperm(len(test), g)]
        train = [train[j] for j in _randperm(len(train), g)]
    else:
        order = _randperm(n, g)
        test, train = order[:n_test], order[n_test:]
    backend = data.tensors[0]._backend
    train_batch = data.gather(xpnet.tensor(train, dtype=xpnet.int64, backend=backend))
    test_batch = data.gather(xpnet.tensor(test, dtype=xpnet.int64, backend=backend))
    return [part for pair in zip(train_batch, test_batch) for part in pair]
