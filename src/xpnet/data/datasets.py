"""Real data sets that ship inside installed packages (nothing is downloaded)."""

from __future__ import annotations

import xpnet
from xpnet import dtypes as _dt

__all__ = ["load_digits"]


def load_digits(*, dtype=None, backend=None):
    """The UCI handwritten digits: 1,797 images of 8x8 pixels, ten classes.

    The data come from the copy bundled with scikit-learn (``sklearn.datasets.load_digits``).

    Parameters
    ----------
    dtype : floating dtype, optional
        Dtype of the features; default the default float dtype (float32).
    backend : str, optional
        Default: the active backend.

    Returns
    -------
    X : Tensor of shape (1797, 64)
        Pixel intensities 0..16 as given (row-major 8x8 images), not rescaled.
    y : Tensor of shape (1797,), int64
        The digit, 0..9 (about 180 of each).

    Raises
    ------
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> from xpnet.data import load_digits, train_test_split
    >>> X, y = load_digits()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, seed=0)
    >>> X_train.shape, X_test.shape
    ((1347, 64), (450, 64))
    """
    dtype = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"load_digits: dtype must be a floating dtype, got {dtype.name}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as e:
        raise ImportError(f"load_digits: the digits data ship with scikit-learn, which is not "
                          f"installed ({e}); install it with: pip install 'xpnet[examples]'") from e
    bunch = sklearn_load_digits()
    X = xpnet.tensor(bunch.data, dtype=dtype, backend=backend)
    y = xpnet.tensor(bunch.target, dtype=xpnet.int64, backend=backend)
    return X, y
