"""Data (torch's ``torch.utils.data``, which ``xpnet.utils.data`` aliases): data sets,
samplers, `DataLoader` and collation, plus generated and shipped data and preprocessing.

The submodules follow torch's layout: ``dataset`` (Dataset, TensorDataset, Subset,
random_split...), ``sampler`` (RandomSampler, BatchSampler...) and ``dataloader``
(DataLoader, default_collate...); ``collate`` holds the collate functions.

>>> import xpnet
>>> from xpnet.data import DataLoader, TensorDataset, make_moons
>>> X, y = make_moons(64, noise=0.1, seed=0)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=0)
>>> [tuple(xb.shape) for xb, yb in loader]
[(16, 2), (16, 2), (16, 2), (16, 2)]
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
    random_split, train_test_split,
)
from .datasets import load_digits
from .preprocessing import PCA, ZCA, Standardizer
from .sampler import (
    BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
    SubsetRandomSampler, WeightedRandomSampler,
)
from .toy import make_circles, make_moons, make_spirals, make_xor

__all__ = [
    # torch.utils.data
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
    "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split",
    # xpnet's own
    "PCA", "Standardizer", "ZCA", "load_digits", "make_circles", "make_moons", "make_spirals",
    "make_xor", "train_test_split",
]

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.data", "torch.utils.data")
