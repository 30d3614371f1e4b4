"""Data: data sets, mini-batch loading, generated and shipped data, preprocessing.

>>> import xpnet
>>> from xpnet.data import DataLoader, TensorDataset, make_moons
>>> X, y = make_moons(64, noise=0.1, seed=0)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=0)
>>> [tuple(xb.shape) for xb, yb in loader]
[(16, 2), (16, 2), (16, 2), (16, 2)]
"""

from .dataset import Dataset, TensorDataset, train_test_split
from .datasets import load_digits
from .loader import DataLoader, default_collate
from .preprocessing import PCA, ZCA, Standardizer
from .toy import make_circles, make_moons, make_spirals, make_xor

__all__ = [
    "DataLoader", "Dataset", "PCA", "Standardizer", "TensorDataset", "ZCA", "default_collate",
    "load_digits", "make_circles", "make_moons", "make_spirals", "make_xor", "train_test_split",
]
