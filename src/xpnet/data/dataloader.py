"""`DataLoader` (torch's ``torch.utils.data.dataloader``): batches from a data set, through a
sampler and a collate function, plus `get_worker_info`; `default_collate` and `default_convert`
(from `xpnet.data.collate`) are importable from here too, as in torch.

Loading happens in the calling process. ``num_workers > 0`` is accepted and behaves as one
worker that does all the work in this process (see `DataLoader`), so scripts written for
torch's worker processes run unchanged and give the same batches.
"""

from __future__ import annotations

import itertools
import multiprocessing
import numbers
import threading
from dataclasses import dataclass
from typing import Any

import xpnet

from .collate import default_collate, default_convert
from .dataset import IterableDataset, batch_rows, resolve_generator
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


# -- workers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info` returns while a loader with ``num_workers > 0`` fetches data.

    Attributes
    ----------
    id : int
        Always 0: one worker does the work, in this process.
    num_workers : int
        Always 1.
    seed : int
        Drawn from the global generator at each epoch (torch: its base seed + worker id).
    dataset : Dataset
        The loader's data set itself (torch: the worker's copy).
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_current = threading.local()


def get_worker_info():
    """The `WorkerInfo` of the loader fetching data right now with ``num_workers > 0`` (inside
    ``worker_init_fn``, ``Dataset.__getitem__`` or ``IterableDataset.__iter__``), else None.

    Data sets that split a stream across workers read it and take everything, as worker 0 of 1.
    """
    return getattr(_current, "info", None)


class _AsWorker:
    """Make ``info`` what get_worker_info returns for the duration of a with-block."""

    def __init__(self, info):
        self.info = info

    def __enter__(self):
        self.previous = get_worker_info()
        _current.info = self.info

    def __exit__(self, *exc):
        _current.info = self.previous
        return False


_END = object()  # what a fetch returns when an IterableDataset has no more samples


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the stream decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


# -- DataLoader ---------------------------------------------------------------------------------

class DataLoader:
    """Iterate over a data set in batches, as torch's ``torch.utils.data.DataLoader``.

    Each epoch (each ``iter(loader)``) the sampler gives indices, the batch sampler groups
    them, the data set is indexed (``__getitems__`` when it has one) and ``collate_fn`` makes
    the batch. A `TensorDataset` (or a `Subset` of one) with the default collate is gathered
    with one index per batch and tensor instead, on each tensor's own backend; the batches are
    the same (a list ``[X_batch, y_batch]``, as torch's).

    Loading happens in this process. ``num_workers > 0`` behaves as a single worker that does
    all the work here: ``worker_init_fn(0)`` runs at the start of each epoch (once per loader
    with ``persistent_workers``), and `get_worker_info` reports worker 0 of 1 while data are
    fetched, so a data set that splits itself across workers reads everything once.
    ``pin_memory``, ``timeout``, ``prefetch_factor``, ``multiprocessing_context``,
    ``pin_memory_device`` and ``in_order`` are validated as torch does and have no effect.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        A map-style data set (``__getitem__``, and ``__len__`` unless a sampler is given) or an
        `IterableDataset`.
    batch_size : int or None, default=1
        Samples per batch. None turns batching off: each sample comes on its own, passed
        through ``collate_fn`` (default `default_convert`).
    shuffle : bool, optional
        Draw a fresh order at every epoch (a `RandomSampler`). Not with ``sampler``, nor with
        an IterableDataset.
    sampler : Sampler or iterable, optional
        The indices to visit; excludes ``shuffle``.
    batch_sampler : Sampler or iterable of lists, optional
        The batches of indices; excludes ``batch_size``, ``shuffle``, ``sampler`` and
        ``drop_last``.
    num_workers : int, default=0
        See above: no worker processes are started.
    collate_fn : callable, optional
        List of samples -> batch. Default `default_collate` (`default_convert` without
        batching).
    pin_memory : bool, default=False
    drop_last : bool, default=False
        Skip the last batch when it would be smaller than ``batch_size``.
    timeout : float, default=0
        Non-negative.
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(0)`` when ``num_workers > 0`` (see above).
    multiprocessing_context : str or context, optional
        Only with ``num_workers > 0``.
    generator : xpnet.Generator, optional
        Source of the shuffles: two loaders with the same seed give the same batches, epoch
        after epoch. Default: a seed drawn from the global generator every epoch
        (`xpnet.manual_seed`).
    prefetch_factor : int, optional
        Only with ``num_workers > 0`` (then default 2); non-negative.
    persistent_workers : bool, default=False
        Only with ``num_workers > 0``.
    pin_memory_device : str, default=""
    in_order : bool, default=True
    seed : int, optional
        xpnet's shorthand for ``generator=xpnet.Generator(seed)``.

    Attributes
    ----------
    dataset, batch_size, drop_last, sampler, batch_sampler, num_workers, collate_fn,
    pin_memory, timeout, worker_init_fn, generator, prefetch_factor, persistent_workers
        As given or derived, under torch's names (``batch_size`` is None with a
        ``batch_sampler``). ``dataset``, ``batch_size``, ``batch_sampler``, ``sampler``,
        ``drop_last`` and ``persistent_workers`` cannot be set after construction.

    Raises
    ------
    ValueError
        Arguments that exclude each other (torch's rules), a non-positive ``batch_size``,
        non-bool ``drop_last``, negative ``num_workers``, ``timeout`` or ``prefetch_factor``,
        worker options without workers.
    TypeError
        A data set without ``__getitem__`` (or ``__len__`` when the default sampler needs it),
        or a ``generator`` that is not an `xpnet.Generator`.

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

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")
    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True, seed=None):
        self._check_workers(num_workers, timeout, prefetch_factor, persistent_workers,
                            multiprocessing_context)
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader: worker_init_fn must be callable, got "
                            f"{type(worker_init_fn).__name__}")
        generator = None if seed is None and generator is None else \
            resolve_generator("DataLoader", seed, generator)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle!r}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler!r}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler!r}")
        else:
            shuffle = bool(shuffle)
            if not hasattr(dataset, "__getitem__"):
                raise TypeError(f"DataLoader: dataset must have __getitem__ (a map-style data "
                                f"set) or be an IterableDataset, got {type(dataset).__name__}")
            if sampler is None and batch_sampler is None and not hasattr(dataset, "__len__"):
                raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__ for the "
                                f"default sampler (or pass sampler=), got "
                                f"{type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching "
                                 "and is mutually exclusive with drop_last")
        else:
            if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                    or batch_size <= 0:
                raise ValueError(f"DataLoader: batch_size must be a positive int or None, got "
                                 f"{batch_size!r}")
            if not isinstance(drop_last, bool):
                raise ValueError(f"DataLoader: drop_last must be True or False, got "
                                 f"{drop_last!r}")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._dataset_is_iterable = iterable
        self._worker_info = None
        self._initialized = True

    @staticmethod
    def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers, context):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
            raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got "
                             f"{num_workers}; use num_workers=0 to disable multiprocessing")
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"DataLoader: timeout must be a number, got {timeout!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if prefetch_factor is not None:
            if num_workers == 0:
                raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                                 "multiprocessing; let num_workers > 0 to enable "
                                 "multiprocessing, otherwise set prefetch_factor to None")
            if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor,
                                                                   numbers.Integral):
                raise TypeError(f"DataLoader: prefetch_factor must be an int, got "
                                f"{prefetch_factor!r}")
            if prefetch_factor < 0:
                raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if context is not None:
            if num_workers == 0:
                raise ValueError(f"DataLoader: multiprocessing_context can only be used with "
                                 f"multi-process loading (num_workers > 0), but got "
                                 f"num_workers={num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"DataLoader: multiprocessing_context option should specify "
                                     f"a valid start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
            elif not hasattr(context, "get_start_method"):
                raise TypeError(f"DataLoader: multiprocessing_context option should be a valid "
                                f"context object or a string specifying the start method, but "
                                f"got multiprocessing_context={context!r}")

    def __setattr__(self, name, value):
        if self._initialized and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # What one step of the iterator consumes: a list of indices, or one index.
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_is_iterable:
            n = len(self.dataset)  # TypeError when the stream has no __len__, as in torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def __iter__(self):
        return _LoaderIter(self)

    def _start_worker(self):
        """This epoch's WorkerInfo (None without workers), after worker_init_fn has run."""
        if self.num_workers == 0:
            return None
        if self.persistent_workers and self._worker_info is not None:
            return self._worker_info  # torch starts persistent workers once per loader
        seed = xpnet.randint(0, 2**63 - 1, (), backend="numpy").item()
        info = WorkerInfo(id=0, num_workers=1, seed=seed, dataset=self.dataset)
        if self.worker_init_fn is not None:
            with _AsWorker(info):
                self.worker_init_fn(0)
        self._worker_info = info
        return info

    def _fetcher(self):
        """index (or list of indices) -> batch, or _END when an IterableDataset runs out."""
        dataset, collate_fn = self.dataset, self.collate_fn
        if self._dataset_is_iterable:
            stream, ended = iter(dataset), False

            def fetch(index):
                nonlocal ended
                if ended:
                    return _END
                if not self._auto_collation:
                    sample = next(stream, _END)
                    ended = sample is _END
                    return _END if ended else collate_fn(sample)
                samples = list(itertools.islice(stream, len(index)))
                ended = len(samples) < len(index)
                if not samples or (ended and self.drop_last):
                    return _END
                return collate_fn(samples)
            return fetch
        if not self._auto_collation:
            return lambda index: collate_fn(dataset[index])
        rows = batch_rows(dataset) if collate_fn is default_collate else None
        getitems = getattr(dataset, "__getitems__", None)

        def fetch_batch(indices):
            if rows is not None:
                batch = rows(indices)
                if batch is not None:
                    return batch
            samples = getitems(indices) if getitems else [dataset[i] for i in indices]
            return collate_fn(samples)
        return fetch_batch

    def _batches(self):
        info = self._start_worker()
        with _AsWorker(info):
            fetch = self._fetcher()
        for index in self._index_sampler:
            with _AsWorker(info):
                batch = fetch(index)
            if batch is _END:
                return
            yield batch

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, "
                f"batch_size={self.batch_size}, sampler={type(self.sampler).__name__}, "
                f"drop_last={self.drop_last})")


class _LoaderIter:
    """One epoch of a DataLoader: an iterator of batches with the loader's ``len``."""

    def __init__(self, loader):
        self._loader = loader
        self._batches = loader._batches()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)
