"""Samplers: the order in which a `DataLoader` visits a map-style data set (torch's
``torch.utils.data.sampler``).

A sampler is any iterable of indices (or, for a batch sampler, of lists of indices); `__len__`
is optional but `len(DataLoader)` needs it. Random samplers draw on the host from an
`xpnet.Generator` (the stand-in for ``torch.Generator``), so one seed gives the same order on
every backend.
"""

from __future__ import annotations

import itertools
import math
import numbers
from typing import Generic, TypeVar

import xpnet
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import Generator, default_generator

__all__ = ["BatchSampler", "DistributedSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

T_co = TypeVar("T_co", covariant=True)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_generator(op, generator):
    """``generator`` unchanged when it is None or an `xpnet.Generator`; TypeError otherwise."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be an xpnet.Generator or None, got "
                        f"{type(generator).__name__}")
    return generator


def randperm_list(n, generator):
    """A random permutation of range(n) as a Python list (``generator`` None: the global one)."""
    return xpnet.randperm(n, backend="numpy", generator=generator or default_generator).tolist()


def fresh_generator():
    """A Generator seeded from the global one, as torch's samplers do when given none: each
    epoch draws one seed, so `xpnet.manual_seed` makes the whole run reproducible."""
    seed = xpnet.randint(0, 2**63 - 1, (), backend="numpy", generator=default_generator).item()
    return Generator(seed)


class Sampler(Generic[T_co]):
    """Base class of samplers: an iterable over indices of a data set (or over lists of them).

    Subclasses define ``__iter__`` and, where the length is known, ``__len__``. Typed like
    torch's (``Sampler[int]``, ``Sampler[list[int]]``).

    Parameters
    ----------
    data_source : ignored, optional
        Accepted so that subclasses written for torch < 2.2 (``super().__init__(data_source)``)
        still work; torch 2.13 takes no argument here.
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """Indices 0, 1, ..., len(data_source) - 1, in that order, every epoch.

    Parameters
    ----------
    data_source : Sized
        The data set (only its length is read, at each ``iter``).
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a fresh permutation every epoch, or draws with replacement.

    Parameters
    ----------
    data_source : Sized
        The data set (its length is read at each ``iter``).
    replacement : bool, default=False
        Draw each index independently and uniformly (indices may repeat).
    num_samples : int, optional
        How many indices one epoch yields; default ``len(data_source)``. Without replacement
        and more than ``len(data_source)``, whole permutations follow each other (then part of
        one), as torch's.
    generator : xpnet.Generator, optional
        Source of the order. Default: a generator seeded from the global one at each epoch
        (so `xpnet.manual_seed` makes the order reproducible).

    Raises
    ------
    TypeError
        ``replacement`` not a bool.
    ValueError
        ``num_samples`` (or the length of ``data_source`` when it is None) not a positive int.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import RandomSampler
    >>> order = list(RandomSampler(range(5), generator=xpnet.Generator(0)))
    >>> sorted(order)
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = check_generator("RandomSampler", generator)
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be True or False, got "
                            f"replacement={replacement!r}")
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got "
                             f"num_samples={self.num_samples!r}")

    @property
    def num_samples(self):
        """Indices per epoch: the ``num_samples`` given, else the data set's current length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, count = len(self.data_source), self.num_samples
        generator = self.generator if self.generator is not None else fresh_generator()
        if self.replacement:
            yield from xpnet.randint(0, n, (count,), backend="numpy",
                                     generator=generator).tolist()
            return
        for _ in range(count // n):
            yield from randperm_list(n, generator)
        if count % n:
            yield from randperm_list(n, generator)[:count % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a fresh random order every epoch (without replacement).

    Parameters
    ----------
    indices : sequence
        The indices to yield (any values: they are passed to the data set as they are).
    generator : xpnet.Generator, optional
        Source of the order; default the global generator (`xpnet.manual_seed`).
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = check_generator("SubsetRandomSampler", generator)

    def __iter__(self):
        for i in randperm_list(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices 0..len(weights)-1 drawn with probability proportional to ``weights``.

    Parameters
    ----------
    weights : sequence of float or Tensor of shape (K,)
        Non-negative, finite, not all zero; they need not sum to one. Stored as a float64
        Tensor on the host (the ``numpy`` backend) in ``self.weights``.
    num_samples : int
        How many indices one epoch yields.
    replacement : bool, default=True
        Without replacement an index is drawn at most once per epoch, each draw proportional to
        the weights of the indices left (torch's ``multinomial``).
    generator : xpnet.Generator, optional
        Source of the draws; default the global generator.

    Raises
    ------
    ValueError
        ``num_samples`` not a positive int, ``replacement`` not a bool, ``weights`` not 1-D,
        negative, infinite or NaN, summing to zero, or (without replacement) with fewer
        non-zero entries than ``num_samples``. torch raises the last ones from ``multinomial``
        at the first ``iter``; here they come at construction.

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import WeightedRandomSampler
    >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=xpnet.Generator(0)))
    >>> draws
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive int, got "
                             f"num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement must be True or False, got "
                             f"replacement={replacement!r}")
        weights = xpnet.tensor(weights.detach() if isinstance(weights, Tensor) else weights,
                               dtype=xpnet.float64, backend="numpy")
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-D sequence, got shape "
                             f"{tuple(weights.shape)}")
        bad = ~xpnet.isfinite(weights) | (weights < 0)
        if bool(bad.any()):
            i = int(xpnet.argmax(bad.to(xpnet.int8)).item())
            raise ValueError(f"WeightedRandomSampler: weights must be finite and non-negative "
                             f"with a positive sum, got {weights[i].item()!r} at index {i}")
        if weights.shape[0] == 0 or weights.sum().item() <= 0:
            raise ValueError(f"WeightedRandomSampler: weights must be finite and non-negative "
                             f"with a positive sum, got {weights.shape[0]} weights summing to "
                             f"{weights.sum().item()!r}")
        positive = int((weights > 0).sum().item())
        if not replacement and num_samples > positive:
            raise ValueError(f"WeightedRandomSampler: cannot draw num_samples={num_samples} "
                             f"without replacement from {positive} non-zero weights")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = check_generator("WeightedRandomSampler", generator)

    def __iter__(self):
        generator = self.generator or default_generator
        # The weights live on the numpy backend, so ``.array`` is the host array the
        # Generator's choice expects as ``p``.
        p = (self.weights / self.weights.sum()).array
        draws = generator.choice(xpnet.backend.load("numpy"), self.weights.shape[0],
                                 self.num_samples, p=p, replace=self.replacement)
        yield from Tensor._make(draws, xpnet.backend.load("numpy")).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group the indices of another sampler into lists of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler or iterable
        The indices to group.
    batch_size : int
        Indices per list (positive).
    drop_last : bool
        Skip the last list when it would be shorter than ``batch_size``.

    Raises
    ------
    ValueError
        ``batch_size`` not a positive int or ``drop_last`` not a bool (torch's types).

    Examples
    --------
    >>> from xpnet.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    >>> list(BatchSampler(range(7), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last must be True or False, got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def _process_group(op, what):
    """World size or rank of `xpnet.distributed`'s default group, for DistributedSampler."""
    from xpnet import distributed
    if not distributed.is_initialized():
        raise ValueError(f"{op}: {what} was not given and the default process group has not "
                         f"been initialized; call xpnet.distributed.init_process_group() first, "
                         f"or pass num_replicas and rank")
    return distributed.get_world_size() if what == "num_replicas" else distributed.get_rank()


class DistributedSampler(Sampler[int]):
    """Each of ``num_replicas`` processes gets its own share of the indices, as torch's
    ``torch.utils.data.distributed.DistributedSampler``.

    Every rank draws the same permutation (seeded with ``seed + epoch``), pads it by repeating
    its start to a multiple of ``num_replicas`` (or trims it with ``drop_last``), and takes every
    ``num_replicas``-th index from position ``rank``; so all ranks see equally many samples and
    nobody waits at a collective.

    Parameters
    ----------
    dataset : Sized
    num_replicas : int, optional
        Default: the world size of `xpnet.distributed`.
    rank : int, optional
        Default: this process's rank in `xpnet.distributed`.
    shuffle : bool, default=True
    seed : int, default=0
        Must be the same on every rank.
    drop_last : bool, default=False
        Trim the tail instead of padding it.

    Raises
    ------
    ValueError
        ``rank`` outside [0, num_replicas - 1], or ``num_replicas`` or ``rank`` not given
        before `xpnet.distributed.init_process_group`.

    Examples
    --------
    Ten samples over three ranks, unshuffled: the indices are padded with the first two to 12,
    and each rank takes every third one.

    >>> from xpnet.data import DistributedSampler
    >>> shares = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
    ...           for r in range(3)]
    >>> shares
    [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    >>> [len(DistributedSampler(range(10), 3, r, drop_last=True)) for r in range(3)]
    [3, 3, 3]

    In a data-parallel script, pass it to the DataLoader and call `set_epoch` each epoch::

        sampler = DistributedSampler(dataset)          # world size and rank from the group
        loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)                   # a new order, the same on every rank
            for x, y in loader: ...
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None:
            num_replicas = _process_group("DistributedSampler", "num_replicas")
        if rank is None:
            rank = _process_group("DistributedSampler", "rank")
        if not _is_int(num_replicas) or num_replicas <= 0:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}; rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.seed, self.drop_last = 0, shuffle, seed, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = randperm_list(n, Generator(self.seed + self.epoch))
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif indices:
            # Repeat the start (several times over for tiny data sets) up to total_size.
            repeats = math.ceil(self.total_size / len(indices))
            indices = (indices * repeats)[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use the permutation of ``epoch`` next (call before each epoch when shuffling)."""
        self.epoch = epoch
