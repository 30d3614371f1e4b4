"""xpnet.data as torch.utils.data: data sets, samplers, collation and DataLoader, compared with
torch on identical inputs wherever the result is deterministic, by properties where it is
random."""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np
import pytest

import xpnet
from xpnet.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, DistributedSampler,
    IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, default_convert,
    get_worker_info, random_split,
)
from xpnet.data.collate import collate, default_collate_fn_map

from .conftest import assert_on_backend

torch = pytest.importorskip("torch")
td = torch.utils.data

Point = collections.namedtuple("Point", "x y")


def show(obj):
    """A comparable picture of a batch: container types, and dtype name, shape and values of
    every tensor (xpnet's or torch's)."""
    if isinstance(obj, (xpnet.Tensor, torch.Tensor)):
        return ("tensor", str(obj.dtype).rsplit(".", 1)[-1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, collections.abc.Mapping):
        return (type(obj).__name__, {key: show(value) for key, value in obj.items()})
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [show(item) for item in obj])
    return (type(obj).__name__, obj)


def tensors_in(obj):
    if isinstance(obj, xpnet.Tensor):
        yield obj
    elif isinstance(obj, collections.abc.Mapping):
        for value in obj.values():
            yield from tensors_in(value)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from tensors_in(item)


def error_of(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return type(exc)
    return None


X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10, dtype=np.int64)


def tensor_datasets():
    """The same TensorDataset in xpnet (active backend) and in torch."""
    return (TensorDataset(xpnet.tensor(X), xpnet.tensor(Y)),
            td.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)))


def stream_class(module, n=7, with_len=True):
    """An IterableDataset subclass of ``module`` yielding 0..n-1 (with or without __len__)."""
    namespace = {"__iter__": lambda self: iter(range(n))}
    if with_len:
        namespace["__len__"] = lambda self: n
    return type("Stream", (module.IterableDataset,), namespace)


# -- data sets ----------------------------------------------------------------------------------

def test_concat_dataset_indexes_like_torch():
    parts = [list(range(3)), [], list(range(10, 14)), ["a"]]
    ours, theirs = ConcatDataset(parts), td.ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes == [3, 3, 7, 8]
    assert ConcatDataset.cumsum(parts) == td.ConcatDataset.cumsum(parts)
    assert len(ours) == len(theirs) == 8
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    for bad in (-9, 8):
        assert error_of(lambda: ours[bad]) is error_of(lambda: theirs[bad])
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        ours[-9]
    with pytest.raises(IndexError, match="ConcatDataset: index 8 is out of range for length 8"):
        ours[8]


def test_concat_dataset_errors():
    # torch raises AssertionError for both; xpnet says which argument is wrong and how.
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="does not support IterableDataset.*ChainDataset"):
        ConcatDataset([[1], stream_class(xpnet.data)()])


def test_adding_datasets_concatenates_or_chains():
    class Items(Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    both = Items([1, 2]) + Items([3])
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(3)] == [1, 2, 3]
    chained = stream_class(xpnet.data, 2)() + stream_class(xpnet.data, 3)()
    reference = stream_class(td, 2)() + stream_class(td, 3)()
    assert isinstance(chained, ChainDataset)
    assert list(chained) == list(reference) == [0, 1, 0, 1, 2]
    assert len(chained) == len(reference) == 5
    with pytest.raises(TypeError, match="ChainDataset: only supports IterableDataset"):
        list(ChainDataset([[1, 2]]))


def test_base_classes_behave_like_torch():
    for call in (lambda m: m.Dataset()[0], lambda m: len(m.Dataset()),
                 lambda m: m.IterableDataset(), lambda m: iter(m.Sampler())):
        assert error_of(lambda: call(xpnet.data)) is error_of(lambda: call(td))

    class Lengths(Sampler[int]):  # subscripted as in typed torch code
        def __iter__(self):
            return iter([2, 0])

    class Rows(Dataset[tuple]):
        def __getitem__(self, i):
            return (i,)

    assert list(Lengths()) == [2, 0] and Rows()[3] == (3,)
    assert issubclass(IterableDataset, Dataset)


def test_subset_matches_torch():
    data = [f"s{i}" for i in range(10)]
    indices = [7, 2, 9, 0]
    ours, theirs = Subset(data, indices), td.Subset(data, indices)
    assert len(ours) == len(theirs) == 4
    assert [ours[i] for i in range(-4, 4)] == [theirs[i] for i in range(-4, 4)]
    assert ours.__getitems__([3, 0, 1]) == theirs.__getitems__([3, 0, 1]) == ["s0", "s7", "s2"]
    nested = Subset(Subset(data, indices), [1, 2])
    assert [nested[0], nested[1]] == ["s2", "s9"]
    assert nested.__getitems__([1, 0]) == ["s9", "s2"]

    def overrides_getitem_only(module):
        class Mine(module.Subset):
            def __getitem__(self, idx):
                return 0
        return Mine(data, indices)

    assert error_of(lambda: overrides_getitem_only(xpnet.data)) is NotImplementedError
    assert error_of(lambda: overrides_getitem_only(td)) is NotImplementedError


def test_stack_dataset_matches_torch():
    a, b = list(range(4)), list("wxyz")
    for args, kwargs in [((a, b), {}), ((), {"n": a, "c": b})]:
        ours, theirs = StackDataset(*args, **kwargs), td.StackDataset(*args, **kwargs)
        assert len(ours) == len(theirs) == 4
        assert [ours[i] for i in range(4)] == [theirs[i] for i in range(4)]
        assert ours.__getitems__([2, 0]) == theirs.__getitems__([2, 0])
    for args, kwargs in [((a, b[:2]), {}), ((), {}), ((a,), {"c": b})]:
        assert error_of(lambda: StackDataset(*args, **kwargs)) is ValueError
        assert error_of(lambda: td.StackDataset(*args, **kwargs)) is ValueError


# -- random_split -------------------------------------------------------------------------------

@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]), (10, [1 / 3] * 3), (7, [0.1] * 10),
    (101, [0.8, 0.1, 0.1]), (5, [5, 0]),
])
def test_random_split_sizes_match_torch_and_partition(n, lengths):
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = random_split(range(n), lengths, generator=xpnet.Generator(0))
    with warnings.catch_warnings(record=True) as torch_warned:
        warnings.simplefilter("always")
        theirs = td.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert len(ours_warned) == len(torch_warned)  # one warning per empty split
    assert all(isinstance(s, Subset) for s in ours)
    assert sorted(i for s in ours for i in s) == list(range(n))


def test_random_split_is_reproducible_with_a_generator():
    def split(seed):
        return [list(s) for s in random_split(range(50), [0.5, 0.5],
                                              generator=xpnet.Generator(seed))]

    assert split(1) == split(1)
    assert split(1) != split(2)
    xpnet.manual_seed(4)
    first = [list(s) for s in random_split(range(50), [25, 25])]  # the global generator
    xpnet.manual_seed(4)
    assert [list(s) for s in random_split(range(50), [25, 25])] == first


@pytest.mark.parametrize("lengths", [[2, 2], [0.5, 0.6], [1.5, -0.5]])
def test_random_split_errors_match_torch(lengths):
    ours = error_of(lambda: random_split(range(5), lengths))
    assert ours is ValueError
    assert error_of(lambda: td.random_split(range(5), lengths)) is ours
    # torch accepts a negative length when the sum fits (and returns odd subsets).
    with pytest.raises(ValueError, match="random_split: lengths must be non-negative ints"):
        random_split(range(5), [6, -1])
    with pytest.raises(TypeError, match="random_split: generator must be an xpnet.Generator"):
        random_split(range(5), [2, 3], generator=torch.Generator())


# -- samplers -----------------------------------------------------------------------------------

def test_sequential_sampler_matches_torch():
    ours, theirs = SequentialSampler(range(6)), td.SequentialSampler(range(6))
    assert list(ours) == list(theirs) == list(range(6))
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (2, 5), (0, 2)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = td.BatchSampler(td.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    # any iterable of indices, even one without a length
    assert list(BatchSampler(iter(range(n)), batch_size, drop_last)) == list(theirs)


@pytest.mark.parametrize("call", [
    lambda m: m.BatchSampler(range(3), 0, False), lambda m: m.BatchSampler(range(3), 2.0, False),
    lambda m: m.BatchSampler(range(3), True, False), lambda m: m.BatchSampler(range(3), 2, 1),
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler(range(3), num_samples=1.5), lambda m: m.RandomSampler([]),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
    lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
])
def test_sampler_argument_errors_match_torch(call):
    ours = error_of(lambda: call(xpnet.data))
    assert ours in (TypeError, ValueError)
    assert ours is error_of(lambda: call(td))


def test_sampler_errors_name_the_sampler():
    with pytest.raises(ValueError, match="BatchSampler: batch_size must be a positive int, got "
                                         "batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(TypeError, match="RandomSampler: replacement must be True or False"):
        RandomSampler(range(3), replacement="yes")
    with pytest.raises(TypeError, match="RandomSampler: generator must be an xpnet.Generator"):
        RandomSampler(range(3), generator=torch.Generator())
    # torch raises these from multinomial at the first iter; xpnet at construction.
    for weights in ([1.0, -1.0], [0.0, 0.0], [1.0, math.inf], [math.nan, 1.0]):
        with pytest.raises(ValueError, match="WeightedRandomSampler: weights must be finite and "
                                             "non-negative with a positive sum"):
            WeightedRandomSampler(weights, 2)
    with pytest.raises(ValueError, match="cannot draw num_samples=3 without replacement from 2"):
        WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)


def test_random_sampler_gives_a_fresh_reproducible_permutation_each_epoch():
    sampler = RandomSampler(range(20), generator=xpnet.Generator(5))
    epochs = [list(sampler) for _ in range(3)]
    assert all(sorted(e) == list(range(20)) for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    again = RandomSampler(range(20), generator=xpnet.Generator(5))
    assert [list(again) for _ in range(3)] == epochs
    assert len(sampler) == 20
    xpnet.manual_seed(1)  # without a generator: a seed from the global one each epoch
    unseeded = [list(RandomSampler(range(20))) for _ in range(2)]
    xpnet.manual_seed(1)
    assert [list(RandomSampler(range(20))) for _ in range(2)] == unseeded
    assert unseeded[0] != unseeded[1]


def test_random_sampler_num_samples_and_replacement():
    g = xpnet.Generator(0)
    longer = list(RandomSampler(range(5), num_samples=12, generator=g))
    # whole permutations, then part of one (torch's rule)
    assert len(longer) == 12
    assert sorted(longer[:5]) == sorted(longer[5:10]) == list(range(5))
    assert len(set(longer[10:])) == 2
    shorter = RandomSampler(range(50), num_samples=10, generator=g)
    assert len(shorter) == 10 and len(set(shorter)) == 10
    with_replacement = list(RandomSampler(range(5), replacement=True, num_samples=400,
                                          generator=g))
    assert len(with_replacement) == 400 and set(with_replacement) == set(range(5))
    assert list(RandomSampler(range(3), replacement=True, generator=g)).__len__() == 3
    data = list(range(4))
    grows = RandomSampler(data, generator=g)
    data.append(4)  # the length is read at every epoch, as torch's
    assert len(grows) == 5 and sorted(grows) == list(range(5))


def test_subset_random_sampler_permutes_its_indices():
    indices = [10, 3, 7, 42, 5]
    sampler = SubsetRandomSampler(indices, generator=xpnet.Generator(2))
    epochs = [list(sampler) for _ in range(4)]
    assert all(sorted(e) == sorted(indices) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1
    assert [list(SubsetRandomSampler(indices, generator=xpnet.Generator(2)))
            for _ in range(1)] == epochs[:1]
    assert len(sampler) == len(td.SubsetRandomSampler(indices)) == 5


def test_weighted_sampler_frequencies_follow_the_weights():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    draws = list(WeightedRandomSampler(weights, 20000, generator=xpnet.Generator(0)))
    assert len(draws) == 20000
    frequencies = np.bincount(draws, minlength=5) / 20000
    # The standard error of each frequency is at most sqrt(0.25 / 20000) = 0.0035; 0.015 is
    # over four of them, and the seed is fixed.
    np.testing.assert_allclose(frequencies, np.array(weights) / 10, atol=0.015)
    assert frequencies[4] == 0


def test_weighted_sampler_without_replacement():
    weights = xpnet.tensor([1.0, 2.0, 3.0, 4.0, 0.0])  # a Tensor works as well as a list
    sampler = WeightedRandomSampler(weights, 4, replacement=False, generator=xpnet.Generator(1))
    assert sampler.weights.dtype is xpnet.float64 and len(sampler) == 4
    epochs = [list(sampler) for _ in range(3000)]
    assert all(sorted(epoch) == [0, 1, 2, 3] for epoch in epochs)  # each positive one once
    firsts = [epoch[0] for epoch in epochs]
    # The first draw is proportional to the weights; standard error <= 0.009, tolerance 0.04.
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 3000, [0.1, 0.2, 0.3, 0.4],
                               atol=0.04)
    again = WeightedRandomSampler(weights, 4, replacement=False, generator=xpnet.Generator(1))
    assert [list(again) for _ in range(3)] == epochs[:3]  # same seed, same draws


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 4, False),
                                                     (12, 4, False)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_distributed_sampler_shares(n, replicas, drop_last, shuffle):
    shares = [DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=3,
                                 drop_last=drop_last) for rank in range(replicas)]
    reference = [td.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                       drop_last=drop_last) for rank in range(replicas)]
    assert [len(s) for s in shares] == [len(s) for s in reference]
    drawn = [list(s) for s in shares]
    if not shuffle:
        assert drawn == [list(s) for s in reference]
    every = sorted(i for share in drawn for i in share)
    if drop_last:
        assert len(set(every)) == len(every)  # no index twice
    else:
        assert set(every) == set(range(n))  # every index at least once
    for s in shares:
        s.set_epoch(1)
    if shuffle and n > 2:
        assert [list(s) for s in shares] != drawn
    with pytest.raises(ValueError, match=r"invalid rank 3; rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)


# -- collation ----------------------------------------------------------------------------------

COLLATE_CASES = {
    "ints": [1, 2, 3], "floats": [1.0, 2.5], "mixed numbers": [1, 2.5], "bools": [True, False],
    "strings": ["a", "b"], "bytes": [b"a", b"b"], "tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2], [3, 4]], "dicts": [{"a": 1, "b": (1.0, "s")}, {"a": 2, "b": (2.0, "t")}],
    "ordered dicts": [collections.OrderedDict(z=1, a=2), collections.OrderedDict(z=3, a=4)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)], "ranges": [range(2), range(2)],
    "numpy scalars": [np.float32(1), np.float32(2)],
    "numpy mixed scalars": [np.float64(1), np.float32(2)],
    "numpy bools": [np.bool_(True), np.bool_(False)],
    "numpy arrays": [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
    "numpy 0-d": [np.array(1.5), np.array(2.5)],
    "numpy strings": [np.str_("a"), np.str_("b")],
    "nested": [{"x": [np.ones(2, np.float32), 1]}, {"x": [np.zeros(2, np.float32), 2]}],
}


@pytest.mark.parametrize("case", COLLATE_CASES)
def test_default_collate_matches_torch(backend, case):
    batch = COLLATE_CASES[case]
    got = default_collate(batch)
    assert show(got) == show(td.default_collate(batch))
    for t in tensors_in(got):
        assert_on_backend(t, backend)


def test_default_collate_stacks_tensors(backend):
    rows = [np.arange(3, dtype=np.float32) + i for i in range(4)]
    got = default_collate([(xpnet.tensor(r), i) for i, r in enumerate(rows)])
    want = td.default_collate([(torch.from_numpy(r), i) for i, r in enumerate(rows)])
    assert show(got) == show(want)
    assert_on_backend(got[0], backend)


def test_default_collate_gives_the_default_float_without_float64():
    with xpnet.use_backend("array_api_strict:no_float64"):
        assert default_collate([1.0, 2.0]).dtype is xpnet.float32


@pytest.mark.parametrize("batch, error, match", [
    ([(1, 2), (3,)], RuntimeError, "each element in list of batch should be of equal size"),
    ([object(), object()], TypeError, "batch must contain tensors, numpy arrays, numbers"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "batch must contain tensors.*found <U1"),
    ([np.zeros(2), np.zeros(3)], RuntimeError, "stack expects each array to be equal size"),
])
def test_default_collate_errors_match_torch(batch, error, match):
    with pytest.raises(error, match="default_collate: " + match):
        default_collate(batch)
    with pytest.raises(error):
        td.default_collate(batch)


def test_default_collate_refuses_ragged_tensors_as_torch():
    with pytest.raises(RuntimeError, match=r"equal size, but got \(2,\) at entry 0 and \(3,\) "
                                           r"at entry 1"):
        default_collate([xpnet.zeros(2), xpnet.zeros(3)])
    with pytest.raises(RuntimeError):
        td.default_collate([torch.zeros(2), torch.zeros(3)])


@pytest.mark.parametrize("sample", [
    np.float32(1), np.array([1.0, 2.0]), (np.array(1), 2), 3, "x", [1, np.array(2)],
    {"a": np.int64(3)}, Point(np.array(0), 1), np.array(["a"]), range(3),
])
def test_default_convert_matches_torch(backend, sample):
    got = default_convert(sample)
    assert show(got) == show(td.default_convert(sample))
    for t in tensors_in(got):
        assert_on_backend(t, backend)
    t = xpnet.ones(2)
    assert default_convert(t) is t


def test_collate_takes_a_custom_map():
    class Box:
        def __init__(self, v):
            self.v = v

    def boxes(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    custom = {**default_collate_fn_map, Box: boxes}
    assert show(collate([(Box(1), 1.0), (Box(2), 2.0)], collate_fn_map=custom)) == \
        ("list", [("int", 3), ("tensor", "float64", (2,), [1.0, 2.0])])


# -- DataLoader over a TensorDataset ------------------------------------------------------------

LOADER_CASES = {
    "default": {}, "batches": {"batch_size": 4}, "drop_last": {"batch_size": 4, "drop_last": True},
    "one batch": {"batch_size": 32}, "unbatched": {"batch_size": None},
    "sampler": {"batch_size": 3, "sampler": [9, 0, 3, -1, 4]},
    "unbatched sampler": {"batch_size": None, "sampler": [2, -3]},
    "batch_sampler": {"batch_sampler": [[0, 1], [5], [9, 2, 3]]},
    "shuffle False": {"batch_size": 3, "shuffle": False},
}


@pytest.mark.parametrize("case", LOADER_CASES)
def test_loader_matches_torch_in_order(backend, case):
    ours_ds, torch_ds = tensor_datasets()
    ours, theirs = DataLoader(ours_ds, **LOADER_CASES[case]), td.DataLoader(
        torch_ds, **LOADER_CASES[case])
    batches = list(ours)
    assert [show(b) for b in batches] == [show(b) for b in theirs]
    assert len(ours) == len(theirs) == len(batches)
    for b in batches:
        for t in tensors_in(b):
            assert_on_backend(t, backend)


def test_loader_attributes_match_torch():
    ours_ds, torch_ds = tensor_datasets()
    for kwargs in ({}, {"batch_size": 4, "shuffle": True, "drop_last": True},
                   {"batch_size": None}, {"batch_sampler": [[0, 1]]}):
        ours, theirs = DataLoader(ours_ds, **kwargs), td.DataLoader(torch_ds, **kwargs)
        for name in ("batch_size", "drop_last", "num_workers", "pin_memory", "timeout",
                     "prefetch_factor", "persistent_workers", "worker_init_fn"):
            assert getattr(ours, name) == getattr(theirs, name), name
        for name in ("sampler", "batch_sampler", "collate_fn"):
            assert type(getattr(ours, name)).__name__ == type(getattr(theirs, name)).__name__
        assert ours.dataset is ours_ds and ours.generator is None
        assert ours.collate_fn is (default_collate if ours.batch_sampler is not None
                                   else default_convert)
    g = xpnet.Generator(0)
    loader = DataLoader(ours_ds, shuffle=True, generator=g)
    assert loader.generator is g and loader.sampler.generator is g
    assert DataLoader(ours_ds, num_workers=2).prefetch_factor == 2


def test_loader_attributes_are_frozen_as_in_torch():
    loader = DataLoader(tensor_datasets()[0])
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after "
                                             f"DataLoader is initialized"):
            setattr(loader, name, None)
    loader.collate_fn = default_convert  # others may change, as in torch
    assert show(next(iter(loader))) == show(td.DataLoader(
        tensor_datasets()[1], collate_fn=td.default_convert).__iter__().__next__())


def _per_sample(batch):
    return default_collate(batch)  # a different function: the loader takes the generic path


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 4}, {"batch_size": 3, "shuffle": True, "seed": 0},
    {"batch_size": 2, "sampler": [4, -1, 0, -10, 9]}, {"batch_sampler": [[1], [0, 0, 2]]},
])
def test_fast_gather_path_equals_the_per_sample_path(backend, kwargs, monkeypatch):
    X_t, y_t = xpnet.tensor(X), xpnet.tensor(Y)
    ones = xpnet.ones(10, dtype=xpnet.float64)
    gathers = []
    original = TensorDataset.gather
    monkeypatch.setattr(TensorDataset, "gather",
                        lambda self, index: gathers.append(1) or original(self, index))
    for ds in (TensorDataset(X_t, y_t, ones), Subset(TensorDataset(X_t, y_t), list(range(10))),
               TensorDataset(y_t)):
        gathers.clear()
        fast = list(DataLoader(ds, **kwargs))
        assert len(gathers) == len(fast)  # one gather per batch: the fast path ran
        slow = list(DataLoader(ds, collate_fn=_per_sample, **kwargs))
        assert len(gathers) == len(fast)
        assert [show(b) for b in fast] == [show(b) for b in slow]
        for f, s in zip(fast, slow):
            assert type(f) is type(s) is list
            for a, b in zip(tensors_in(f), tensors_in(s)):
                assert a.backend == b.backend == xpnet.backend.load(backend).name


def test_fast_path_leaves_what_it_cannot_take_to_the_per_sample_path():
    ds = TensorDataset(*(xpnet.tensor(a) for a in (X, Y)))
    with pytest.raises(IndexError):
        list(DataLoader(ds, sampler=[0, 10], batch_size=2))
    with pytest.raises(IndexError):
        list(td.DataLoader(tensor_datasets()[1], sampler=[0, 10], batch_size=2))
    # NumPy integers index row by row, as the generic path does.
    got = list(DataLoader(ds, sampler=[np.int64(3), np.int64(1)], batch_size=2))
    assert show(got) == show(list(td.DataLoader(tensor_datasets()[1], sampler=[3, 1],
                                                 batch_size=2)))


def test_loader_shuffles_the_same_whatever_num_workers():
    ds = tensor_datasets()[0]

    def labels(**kwargs):
        loader = DataLoader(ds, batch_size=3, shuffle=True, generator=xpnet.Generator(9),
                            **kwargs)
        return [[yb.tolist() for _, yb in loader] for _ in range(2)]

    plain = labels()
    assert plain == labels(num_workers=4) == labels(num_workers=2, persistent_workers=True)
    assert plain[0] != plain[1]


# -- DataLoader over other data sets ------------------------------------------------------------

GENERIC_DATASETS = {
    "ints": lambda: list(range(7)),
    "dicts": lambda: [{"a": i, "b": float(i), "s": f"s{i}"} for i in range(5)],
    "tuples with text": lambda: [(i, f"s{i}") for i in range(5)],
    "numpy rows": lambda: [np.full(2, i, dtype=np.float32) for i in range(5)],
    "namedtuples": lambda: [Point(np.float32(i), i) for i in range(5)],
}


@pytest.mark.parametrize("name", GENERIC_DATASETS)
@pytest.mark.parametrize("batch_size", [2, None])
def test_loader_collates_generic_datasets_like_torch(backend, name, batch_size):
    data = GENERIC_DATASETS[name]()
    ours, theirs = DataLoader(data, batch_size=batch_size), td.DataLoader(data,
                                                                          batch_size=batch_size)
    batches = list(ours)
    assert [show(b) for b in batches] == [show(b) for b in theirs]
    assert len(ours) == len(theirs)
    for b in batches:
        for t in tensors_in(b):
            assert_on_backend(t, backend)


def test_loader_over_combined_tensor_datasets_matches_torch(backend):
    def combined(module, make):
        whole = module.TensorDataset(make(X), make(Y))
        return module.ConcatDataset([module.Subset(whole, [8, 1, 5]),
                                     module.TensorDataset(make(X[:4]), make(Y[:4])),
                                     module.StackDataset(make(X), make(Y))])

    ours = DataLoader(combined(xpnet.data, xpnet.tensor), batch_size=4)
    theirs = td.DataLoader(combined(td, torch.from_numpy), batch_size=4)
    batches = list(ours)
    assert [show(b) for b in batches] == [show(b) for b in theirs]
    for t in tensors_in(batches):
        assert_on_backend(t, backend)


def test_loader_calls_getitems_once_per_batch():
    class Batched(Dataset):
        calls = 0

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("the loader should use __getitems__")

        def __getitems__(self, indices):
            Batched.calls += 1
            return [float(i) for i in indices]

    assert [b.tolist() for b in DataLoader(Batched(), batch_size=2)] == [[0.0, 1.0], [2.0, 3.0],
                                                                         [4.0]]
    assert Batched.calls == 3


@pytest.mark.parametrize("kwargs", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": None}, {"batch_size": 7}, {"batch_size": 10}])
@pytest.mark.parametrize("with_len", [True, False])
def test_loader_reads_an_iterable_dataset_like_torch(backend, kwargs, with_len):
    ours = DataLoader(stream_class(xpnet.data, with_len=with_len)(), **kwargs)
    theirs = td.DataLoader(stream_class(td, with_len=with_len)(), **kwargs)
    batches = list(ours)
    assert [show(b) for b in batches] == [show(b) for b in theirs]
    for t in tensors_in(batches):
        assert_on_backend(t, backend)
    if with_len:
        assert len(ours) == len(theirs)
    else:  # no __len__: TypeError from len(), as in torch
        assert error_of(lambda: len(ours)) is error_of(lambda: len(theirs)) is TypeError


def _mutual_exclusions():
    def ints(m):
        return list(range(5))

    def stream(m):
        return stream_class(m)()

    yield "sampler with shuffle", lambda m: m.DataLoader(ints(m), sampler=[0], shuffle=True)
    for kw in ({"batch_size": 2}, {"shuffle": True}, {"sampler": [0]}, {"drop_last": True}):
        yield f"batch_sampler with {kw}", lambda m, kw=kw: m.DataLoader(
            ints(m), batch_sampler=[[0]], **kw)
    yield "None with drop_last", lambda m: m.DataLoader(ints(m), batch_size=None,
                                                        drop_last=True)
    yield "stream with shuffle", lambda m: m.DataLoader(stream(m), shuffle=True)
    yield "stream with sampler", lambda m: m.DataLoader(stream(m), sampler=[0])
    yield "stream with batch_sampler", lambda m: m.DataLoader(stream(m), batch_sampler=[[0]])
    yield "negative num_workers", lambda m: m.DataLoader(ints(m), num_workers=-1)
    yield "negative timeout", lambda m: m.DataLoader(ints(m), timeout=-1)
    yield "prefetch without workers", lambda m: m.DataLoader(ints(m), prefetch_factor=2)
    yield "negative prefetch", lambda m: m.DataLoader(ints(m), num_workers=1, prefetch_factor=-1)
    yield "persistent without workers", lambda m: m.DataLoader(ints(m), persistent_workers=True)
    yield "context without workers", lambda m: m.DataLoader(ints(m),
                                                            multiprocessing_context="spawn")
    yield "unknown start method", lambda m: m.DataLoader(ints(m), num_workers=1,
                                                         multiprocessing_context="teleport")
    yield "zero batch_size", lambda m: m.DataLoader(ints(m), batch_size=0)
    yield "bool batch_size", lambda m: m.DataLoader(ints(m), batch_size=True)
    yield "int drop_last", lambda m: m.DataLoader(ints(m), drop_last=1)


@pytest.mark.parametrize("call", [c for _, c in _mutual_exclusions()],
                         ids=[name for name, _ in _mutual_exclusions()])
def test_loader_argument_errors_match_torch(call):
    ours = error_of(lambda: call(xpnet.data))
    assert ours is ValueError
    assert error_of(lambda: call(td)) is ours


@pytest.mark.parametrize("kwargs, match", [
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"persistent_workers": True}, r"persistent_workers option needs num_workers > 0"),
])
def test_loader_errors_name_the_loader(kwargs, match):
    with pytest.raises(ValueError, match="DataLoader: " + match):
        DataLoader(list(range(5)), **kwargs)
    with pytest.raises(TypeError, match="DataLoader: num_workers must be an int"):
        DataLoader(list(range(5)), num_workers=1.5)

    class NoLength:
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="DataLoader: dataset must have __len__ and __getitem__"):
        DataLoader(NoLength())  # the default sampler needs the length...
    assert [b.tolist() for b in DataLoader(NoLength(), sampler=[4, 2])] == [[4], [2]]  # ...this not
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified "
                                         "shuffle option, but got shuffle=True"):
        DataLoader(stream_class(xpnet.data)(), shuffle=True)


def test_loader_shuffle_takes_truthy_values_as_torch():
    assert len(DataLoader(list(range(4)), shuffle=1, generator=xpnet.Generator(0))) == 4
    assert isinstance(DataLoader(list(range(4)), shuffle=1).sampler, RandomSampler)
    assert isinstance(td.DataLoader(list(range(4)), shuffle=1).sampler, td.RandomSampler)


# -- workers (all in this process) --------------------------------------------------------------

class _Shards(IterableDataset):
    """torch's example: each worker reads its share of [start, end)."""

    def __init__(self, start, end):
        self.start, self.end = start, end
        self.seen = []

    def __iter__(self):
        info = get_worker_info()
        self.seen.append(None if info is None else (info.id, info.num_workers))
        if info is None:
            return iter(range(self.start, self.end))
        share = math.ceil((self.end - self.start) / info.num_workers)
        first = self.start + info.id * share
        return iter(range(first, min(first + share, self.end)))


def test_workers_are_one_worker_in_this_process():
    calls = []

    def init(worker_id):
        info = get_worker_info()
        calls.append((worker_id, info.id, info.num_workers, info.dataset is data))

    data = _Shards(3, 10)
    loader = DataLoader(data, batch_size=3, num_workers=4, worker_init_fn=init)
    epochs = [[b.tolist() for b in loader] for _ in range(2)]
    assert epochs == [[[3, 4, 5], [6, 7, 8], [9]]] * 2  # every sample once, in order
    assert calls == [(0, 0, 1, True)] * 2  # worker_init_fn(0) at the start of each epoch
    assert data.seen == [(0, 1)] * 2
    assert get_worker_info() is None  # only while the loader fetches
    calls.clear()
    persistent = DataLoader(data, batch_size=3, num_workers=2, worker_init_fn=init,
                            persistent_workers=True)
    for _ in range(3):
        list(persistent)
    assert len(calls) == 1  # persistent workers start once


def test_without_workers_there_is_no_worker_info():
    calls = []
    data = _Shards(0, 4)
    assert [b.tolist() for b in DataLoader(data, batch_size=2, worker_init_fn=calls.append)] == \
        [[0, 1], [2, 3]]
    assert calls == [] and data.seen == [None]


def test_loader_iterator_has_a_length():
    it = iter(DataLoader(list(range(7)), batch_size=3))
    assert len(it) == 3 and iter(it) is it
    assert next(it).tolist() == [0, 1, 2]


# -- the surface --------------------------------------------------------------------------------

TORCH_SIGNATURES = ["DataLoader", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
                    "BatchSampler", "SequentialSampler", "DistributedSampler", "Subset",
                    "ConcatDataset", "ChainDataset", "StackDataset", "TensorDataset",
                    "random_split", "default_collate", "default_convert", "get_worker_info"]


@pytest.mark.parametrize("name", TORCH_SIGNATURES)
def test_signatures_match_torch(name):
    import inspect

    def params(obj):
        return [(p.name, p.kind, None if isinstance(p.default, (torch.Generator, xpnet.Generator))
                 else p.default) for p in inspect.signature(obj).parameters.values()]

    ours, theirs = params(getattr(xpnet.data, name)), params(getattr(td, name))
    assert ours[:len(theirs)] == theirs  # xpnet may add keyword-only extras (DataLoader's seed)


@pytest.mark.parametrize("submodule", ["dataset", "sampler", "dataloader"])
def test_submodules_follow_torch_layout(submodule):
    import importlib

    ours = importlib.import_module(f"xpnet.data.{submodule}")
    theirs = importlib.import_module(f"torch.utils.data.{submodule}")
    for name in theirs.__all__:
        assert getattr(ours, name) is getattr(xpnet.data, name), name
    alias = importlib.import_module(f"xpnet.utils.data.{submodule}")
    assert alias is ours


def test_distributed_sampler_needs_replicas_without_a_process_group():
    try:
        import xpnet.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
            DistributedSampler(range(4))
    else:
        pytest.skip("xpnet.distributed exists; its own tests cover the default group")
