"""Feature preprocessing fitted on training data: `Standardizer`, `PCA` and `ZCA` whitening.

Each has scikit-learn's interface: ``fit(X)`` learns statistics from X of shape
(n_samples, n_features), ``transform(X)`` applies them (to training or test data),
``fit_transform(X)`` does both and ``inverse_transform(Z)`` undoes the transform. Statistics stay
on X's backend; decompositions use the backend's own ``linalg`` (the Array API linalg extension).
The statistics are never differentiated; `transform` is, with respect to X.
"""

from __future__ import annotations

import numbers

import xpnet
from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor

__all__ = ["Standardizer", "PCA", "ZCA"]

_EPS = {32: 2.0 ** -23, 64: 2.0 ** -52}  # machine epsilon of float32 / float64


def _check_eps(op, eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")
    return float(eps)


class _Transform:
    """fit_transform, and the input checks shared by the transforms."""

    _fitted_attribute = "mean_"

    def fit_transform(self, X):
        """`fit` on X, then `transform` it."""
        return self.fit(X).transform(X)

    def _input(self, method, X, min_samples=1):
        """X as a 2-D floating Tensor; after fit, also on the fitted backend and width."""
        op = f"{type(self).__name__}.{method}"
        if not isinstance(X, Tensor):
            raise TypeError(f"{op}: expected a Tensor of shape (n_samples, n_features), got "
                            f"{type(X).__name__}")
        if X.ndim != 2:
            raise ValueError(f"{op}: expected a 2-D tensor (n_samples, n_features), got shape "
                             f"{X.shape}")
        if X.shape[0] < min_samples:
            raise ValueError(f"{op}: expected at least {min_samples} samples, got {X.shape[0]}")
        if not X.dtype.is_floating_point:
            X = X.astype(_dt.get_default_dtype())
        if method == "fit":
            return X.detach()
        mean = getattr(self, self._fitted_attribute, None)
        if mean is None:
            raise RuntimeError(f"{op}: call fit first")
        if X._backend is not mean._backend:
            raise ValueError(f"{op}: X is on backend {X.backend!r} but the transform was fitted "
                             f"on {mean.backend!r}; move it with X.to({mean.backend!r})")
        return X

    def _check_width(self, method, Z, width):
        if Z.shape[1] != width:
            raise ValueError(f"{type(self).__name__}.{method}: expected {width} features, got "
                             f"shape {Z.shape}")


class Standardizer(_Transform):
    """Remove the mean and scale to unit variance, per feature (scikit-learn's StandardScaler).

    ``Z = (X - mean_) / scale_`` with the training mean and standard deviation (``correction=0``).
    Constant features get ``scale_ = 1``, so they map to 0 instead of dividing by zero.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the mean (otherwise ``mean_`` is zero).
    with_std : bool, default=True
        Divide by the standard deviation (otherwise ``scale_`` is one).

    Attributes
    ----------
    mean_ : Tensor of shape (n_features,)
    var_ : Tensor of shape (n_features,)
    scale_ : Tensor of shape (n_features,)

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import Standardizer
    >>> scaler = Standardizer().fit(xpnet.tensor([[0.0, 5.0], [2.0, 5.0]]))
    >>> scaler.transform(xpnet.tensor([[4.0, 5.0]]))
    tensor([[3., 0.]])
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)
        self.mean_ = self.var_ = self.scale_ = None

    def fit(self, X):
        """Learn per-feature mean and scale from X of shape (n_samples, n_features)."""
        X = self._input("fit", X)
        n = X.shape[0]
        mean = X.mean(axis=0)
        var = X.var(axis=0, correction=0)
        # A constant feature's variance is rounding error, bounded as in scikit-learn's
        # _is_constant_feature (Chan, Golub & LeVeque, "Algorithms for computing the sample
        # variance", 1983); treat anything under the bound as exactly constant.
        eps = _EPS[X.dtype.bits]
        constant = var <= n * eps * var + (n * eps * mean) ** 2
        self.var_ = xpnet.where(constant, 0.0, var)
        self.scale_ = xpnet.where(constant, 1.0, xpnet.sqrt(var)) if self.with_std \
            else xpnet.ones_like(var)
        self.mean_ = mean if self.with_mean else xpnet.zeros_like(mean)
        return self

    def transform(self, X):
        """``(X - mean_) / scale_``."""
        X = self._input("transform", X)
        self._check_width("transform", X, self.mean_.shape[0])
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        """``Z * scale_ + mean_``."""
        Z = self._input("inverse_transform", Z)
        self._check_width("inverse_transform", Z, self.mean_.shape[0])
        return Z * self.scale_ + self.mean_


class PCA(_Transform):
    """Principal component analysis: project centred data on its top ``n_components`` directions.

    Computed from the SVD of the centred training data, ``X - mean_ = U S Vt``: the components
    are the rows of Vt, signed so that each one's largest-magnitude entry is positive (as
    scikit-learn's PCA does), and ``explained_variance_ = S**2 / (n_samples - 1)``.

    Parameters
    ----------
    n_components : int, optional
        How many components to keep; default all, ``min(n_samples, n_features)``.
    whiten : bool, default=False
        Divide the projections by ``sqrt(explained_variance_ + eps)``, giving them unit variance.
    eps : float, default=0.0
        Added to the variances before whitening; raise it when components of (near) zero
        variance are kept.

    Attributes
    ----------
    mean_ : Tensor of shape (n_features,)
    components_ : Tensor of shape (n_components, n_features)
    explained_variance_ : Tensor of shape (n_components,)
    explained_variance_ratio_ : Tensor of shape (n_components,)
    singular_values_ : Tensor of shape (n_components,)

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.data import PCA
    >>> X = xpnet.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    >>> PCA(1).fit(X).explained_variance_ratio_
    tensor([1.])
    """

    def __init__(self, n_components=None, *, whiten=False, eps=0.0):
        if n_components is not None and (isinstance(n_components, bool)
                                         or not isinstance(n_components, numbers.Integral)
                                         or n_components < 1):
            raise ValueError(f"PCA: n_components must be a positive int or None, got "
                             f"{n_components!r}")
        self.n_components, self.whiten = n_components, bool(whiten)
        self.eps = _check_eps("PCA", eps)
        self.mean_ = self.components_ = self.explained_variance_ = None
        self.explained_variance_ratio_ = self.singular_values_ = None

    def fit(self, X):
        """Learn the mean and principal components of X of shape (n_samples, n_features)."""
        X = self._input("fit", X, min_samples=2)
        n, d = X.shape
        k = min(n, d) if self.n_components is None else self.n_components
        if k > min(n, d):
            raise ValueError(f"PCA.fit: n_components={k} exceeds min(n_samples, n_features) = "
                             f"{min(n, d)} for X of shape {X.shape}")
        mean = X.mean(axis=0)
        backend = X._backend
        _, s, vt = backend.xp.linalg.svd((X - mean).array, full_matrices=False)
        s, vt = Tensor._make(s, backend)[:k], Tensor._make(vt, backend)[:k, :]
        positive = vt.max(axis=1) >= -vt.min(axis=1)  # is the largest |entry| positive?
        self.components_ = vt * (2 * positive.astype(vt.dtype) - 1)[:, None]
        variance = s * s / (n - 1)
        total = (X - mean).square().sum() / (n - 1)
        self.mean_, self.singular_values_ = mean, s
        self.explained_variance_ = variance
        self.explained_variance_ratio_ = variance / total
        return self

    def transform(self, X):
        """Projections ``(X - mean_) @ components_.T`` of shape (n_samples, n_components)."""
        X = self._input("transform", X)
        self._check_width("transform", X, self.mean_.shape[0])
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z = Z / xpnet.sqrt(self.explained_variance_ + self.eps)
        return Z

    def inverse_transform(self, Z):
        """Points in feature space with projections Z (exact when all components are kept)."""
        Z = self._input("inverse_transform", Z)
        self._check_width("inverse_transform", Z, self.components_.shape[0])
        if self.whiten:
            Z = Z * xpnet.sqrt(self.explained_variance_ + self.eps)
        return Z @ self.components_ + self.mean_


class ZCA(_Transform):
    """ZCA ("Mahalanobis") whitening: decorrelate features to unit variance, staying as close to
    the original features as possible.

    With the training covariance ``C = U diag(lam) U.T`` (``correction=1``), the whitening matrix is
    ``W = U diag(1 / sqrt(lam + eps)) U.T`` and ``Z = (X - mean_) @ W``, so the covariance of
    the whitened training data is ``U diag(lam / (lam + eps)) U.T``: the identity up to ``eps``
    (Bell & Sejnowski, "The independent components of natural scenes are edge filters", 1997;
    Kessy, Lewin & Strimmer, "Optimal whitening and decorrelation", 2018).

    Parameters
    ----------
    eps : float, default=1e-5
        Regulariser added to the eigenvalues; it bounds the gain on directions of tiny variance
        (noise, or constant features). Pick it relative to the data's variance scale.

    Attributes
    ----------
    mean_ : Tensor of shape (n_features,)
    whitening_ : Tensor of shape (n_features, n_features)
        ``W`` above (symmetric).
    unwhitening_ : Tensor of shape (n_features, n_features)
        Its inverse, ``U diag(sqrt(lam + eps)) U.T``.
    """

    def __init__(self, eps=1e-5):
        self.eps = _check_eps("ZCA", eps)
        self.mean_ = self.whitening_ = self.unwhitening_ = None

    def fit(self, X):
        """Learn the mean and whitening matrix of X of shape (n_samples, n_features)."""
        X = self._input("fit", X, min_samples=2)
        n = X.shape[0]
        mean = X.mean(axis=0)
        centred = X - mean
        covariance = (centred.T @ centred) / (n - 1)
        backend = X._backend
        lam, u = backend.xp.linalg.eigh(covariance.array)
        # Rounding can leave eigenvalues of a singular covariance slightly negative.
        lam, u = xpnet.clip(Tensor._make(lam, backend), 0.0), Tensor._make(u, backend)
        root = xpnet.sqrt(lam + self.eps)
        self.mean_ = mean
        self.whitening_ = (u / root) @ u.T
        self.unwhitening_ = (u * root) @ u.T
        return self

    def transform(self, X):
        """``(X - mean_) @ whitening_``."""
        X = self._input("transform", X)
        self._check_width("transform", X, self.mean_.shape[0])
        return (X - self.mean_) @ self.whitening_

    def inverse_transform(self, Z):
        """``Z @ unwhitening_ + mean_``."""
        Z = self._input("inverse_transform", Z)
        self._check_width("inverse_transform", Z, self.mean_.shape[0])
        return Z @ self.unwhitening_ + self.mean_
