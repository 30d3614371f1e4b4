"""xpnet.data: TensorDataset, DataLoader, train_test_split, digits, toy sets and preprocessing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import xpnet
from xpnet.data import (
    PCA, ZCA, DataLoader, Dataset, Standardizer, TensorDataset, load_digits, make_circles,
    make_moons, make_spirals, make_xor, train_test_split,
)

from .conftest import assert_close, assert_on_backend


def _xy(n=10):
    return xpnet.arange(n * 3, dtype=xpnet.float32).reshape(n, 3), xpnet.arange(n)


# -- TensorDataset ------------------------------------------------------------------------------

def test_tensor_dataset_indexes_rows(backend):
    X, y = _xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    row, label = ds[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 2
    assert_on_backend(row, backend)


@pytest.mark.parametrize("args, error, match", [
    ((), ValueError, "TensorDataset: expected at least one tensor"),
    ((xpnet.zeros(3, 2), xpnet.zeros(4)), ValueError,
     r"same size in the first dimension, got shapes \(3, 2\), \(4,\)"),
    ((xpnet.zeros(3), [1, 2, 3]), TypeError, "argument 1 must be a Tensor, got list"),
    ((xpnet.tensor(1.0),), ValueError, "argument 0 is 0-d"),
])
def test_tensor_dataset_errors(args, error, match):
    with pytest.raises(error, match=match):
        TensorDataset(*args)


# -- DataLoader ---------------------------------------------------------------------------------

def _labels(loader):
    return [yb.tolist() for _, yb in loader]


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_loader_batches_in_order(backend, drop_last, sizes):
    X, y = _xy()
    loader = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(batches) == len(sizes)
    assert [xb.shape for xb, _ in batches] == [(n, 3) for n in sizes]
    for xb, yb in batches:
        assert_on_backend(xb, backend)
        assert_on_backend(yb, backend)
        assert xb.dtype is xpnet.float32 and yb.dtype is xpnet.int64
    assert sum(_labels(loader), []) == list(range(sum(sizes)))
    assert_close(batches[1][0], X.numpy()[4:8])


def test_loader_shuffles_reproducibly_and_freshly_each_epoch(backend):
    X, y = _xy(20)
    a = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, seed=7)
    b = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, seed=7)
    epochs_a = [_labels(a) for _ in range(3)]
    assert epochs_a == [_labels(b) for _ in range(3)]  # same seed, same batches, epoch by epoch
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]  # a fresh order every epoch
    for epoch in epochs_a:
        assert sorted(sum(epoch, [])) == list(range(20))
    for xb, yb in a:  # rows stay paired with their labels
        assert_close(xb, 3 * yb.numpy()[:, None].astype(np.float32) + np.arange(3))
    with xpnet.use_backend("numpy"):  # the same order on every backend
        X, y = _xy(20)
        assert _labels(DataLoader(TensorDataset(X, y), 6, shuffle=True, seed=7)) == epochs_a[0]


def test_loader_shuffle_follows_the_global_seed_or_a_generator():
    ds = TensorDataset(*_xy(12))
    xpnet.manual_seed(3)
    first = _labels(DataLoader(ds, 5, shuffle=True))
    xpnet.manual_seed(3)
    assert _labels(DataLoader(ds, 5, shuffle=True)) == first
    g = xpnet.Generator(3)
    assert _labels(DataLoader(ds, 5, shuffle=True, generator=g)) == \
        _labels(DataLoader(ds, 5, shuffle=True, seed=3))


def test_loader_keeps_each_tensor_on_its_backend():
    X = xpnet.arange(8, dtype=xpnet.float32, backend="numpy")
    y = xpnet.arange(8, backend="array_api_strict:device1")
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), 3, shuffle=True, seed=0)))
    assert_on_backend(xb, "numpy")
    assert_on_backend(yb, "array_api_strict:device1")
    assert xb.tolist() == [float(v) for v in yb.tolist()]


class _Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return xpnet.tensor([float(i), float(i * i)]), i


def test_loader_collates_a_map_style_dataset(backend):
    batches = list(DataLoader(_Squares(), batch_size=2, shuffle=True, seed=1))
    assert [xb.shape for xb, _ in batches] == [(2, 2), (2, 2), (1, 2)]
    for xb, yb in batches:
        assert_on_backend(xb, backend)
        assert yb.dtype is xpnet.int64
        assert_close(xb, np.stack([yb.numpy(), yb.numpy() ** 2], axis=1).astype(np.float32))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive int or None, got 0"),
    (dict(batch_size=2.0), ValueError, "batch_size must be a positive int"),
    (dict(drop_last=1), ValueError, "drop_last must be True or False"),  # torch's type
    (dict(seed=1, generator=xpnet.Generator(1)), ValueError, "give seed or generator, not both"),
    (dict(seed=-1), ValueError, "seed must be a non-negative int"),
    (dict(generator=1), TypeError, "generator must be an xpnet.Generator"),
])
def test_loader_errors(kwargs, error, match):
    with pytest.raises(error, match="DataLoader: " + match):
        DataLoader(TensorDataset(*_xy()), **kwargs)
    with pytest.raises(TypeError, match="dataset must have __getitem__"):
        DataLoader(iter([1, 2]))


# -- train/test split and the digits ------------------------------------------------------------

def test_split_partitions_the_rows_reproducibly(backend):
    X, y = _xy(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 3) and X_test.shape == (5, 3)
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(20))
    assert_close(X_test, X.numpy()[y_test.numpy()])
    assert_on_backend(X_test, backend)
    again = train_test_split(X, y, test_size=5, seed=0)
    assert again[3].tolist() == y_test.tolist()
    assert train_test_split(X, y, seed=1)[3].tolist() != y_test.tolist()


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    with xpnet.use_backend("numpy"):
        return load_digits()


def test_digits_are_the_uci_set(digits):
    X, y = digits
    assert X.shape == (1797, 64) and X.dtype is xpnet.float32
    assert y.shape == (1797,) and y.dtype is xpnet.int64
    assert X.min().item() == 0.0 and X.max().item() == 16.0
    assert np.bincount(y.numpy()).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_load_on_the_requested_backend():
    pytest.importorskip("sklearn")
    X, y = load_digits(dtype="float64", backend="array_api_strict:device1")
    assert_on_backend(X, "array_api_strict:device1")
    assert X.dtype is xpnet.float64 and y.dtype is xpnet.int64


def test_digits_without_scikit_learn_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'xpnet\[examples\]'"):
        load_digits()


def test_stratified_split_keeps_class_shares(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, seed=0)
    assert X_test.shape == (360, 64) and X_train.shape == (1437, 64)
    share = np.bincount(y.numpy()) * 360 / 1797
    assert np.all(np.abs(np.bincount(y_test.numpy(), minlength=10) - share) < 1)
    assert len(set(y_test.numpy()[:20].tolist())) > 3  # the classes are interleaved


@pytest.mark.parametrize("test_size, match", [
    (1.5, r"a float test_size must lie in \(0, 1\)"), (0, "test_size=0 gives 0 test samples"),
    (20, "test_size=20 gives 20 test samples of 20"), ("0.5", "test_size must be a float"),
])
def test_split_errors(test_size, match):
    with pytest.raises((ValueError, TypeError), match="train_test_split: " + match):
        train_test_split(*_xy(20), test_size=test_size)
    with pytest.raises(ValueError, match=r"stratify must be a Tensor of shape \(20,\)"):
        train_test_split(*_xy(20), stratify=xpnet.zeros(3))


# -- toy sets -----------------------------------------------------------------------------------

MAKERS = [make_moons, make_circles, make_spirals, make_xor]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("n", [101, 200])
def test_toy_sets_are_balanced_2d_classification_sets(backend, make, n):
    X, y = make(n, noise=0.1, seed=0)
    assert X.shape == (n, 2) and X.dtype is xpnet.float32
    assert y.shape == (n,) and y.dtype is xpnet.int64
    assert_on_backend(X, backend)
    assert_on_backend(y, backend)
    counts = np.bincount(y.numpy())
    assert counts.tolist() in ([n // 2, n - n // 2], [n - n // 2, n // 2])
    with xpnet.use_backend("numpy"):  # one seed, the same set on every backend
        X_ref, y_ref = make(n, noise=0.1, seed=0)
    assert_close(X, X_ref.numpy(), rtol=1e-5, atol=1e-6)
    assert y.tolist() == y_ref.tolist()


@pytest.mark.parametrize("make", MAKERS)
def test_toy_sets_follow_seed_and_generator(make):
    X, y = make(50, noise=0.1, seed=3)
    assert_close(make(50, noise=0.1, seed=3)[0], X.numpy(), rtol=0, atol=0)
    assert not np.allclose(make(50, noise=0.1, seed=4)[0].numpy(), X.numpy())
    assert_close(make(50, noise=0.1, generator=xpnet.Generator(3))[0], X.numpy(), rtol=0, atol=0)
    X64, _ = make(50, noise=0.1, seed=3, dtype="float64")
    assert X64.dtype is xpnet.float64


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(40, noise=0.0, shuffle=False, seed=0)
    assert y.tolist() == [0] * 20 + [1] * 20
    pts = X.numpy().astype(np.float64)
    np.testing.assert_allclose(np.hypot(*pts[:20].T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(pts[20:, 0] - 1, pts[20:, 1] - 0.5), 1, atol=1e-6)
    assert np.all(pts[:20, 1] >= -1e-6) and np.all(pts[20:, 1] <= 0.5 + 1e-6)


def test_circle_noise_has_the_requested_spread():
    X, y = make_circles(4000, noise=0.05, factor=0.5, seed=0, dtype="float64")
    radius = np.hypot(*X.numpy().T)
    labels = y.numpy()
    for k, r in enumerate((1.0, 0.5)):
        residual = radius[labels == k] - r
        assert abs(residual.mean()) < 0.01
        assert 0.045 < residual.std() < 0.055  # radial part of isotropic noise of std 0.05


def test_xor_labels_are_the_sign_disagreement():
    X, y = make_xor(100, seed=0)
    pts = X.numpy()
    assert y.tolist() == (pts[:, 0] * pts[:, 1] < 0).astype(int).tolist()
    assert np.all(np.abs(pts) <= 1)


def test_spirals_with_more_arms():
    X, y = make_spirals(300, n_classes=3, seed=0)
    assert np.bincount(y.numpy()).tolist() == [100, 100, 100]
    radius = np.hypot(*X.numpy().T)
    assert radius.min() >= 0.1 - 1e-6 and radius.max() <= 1 + 1e-6


@pytest.mark.parametrize("call, match", [
    (lambda: make_moons(1), r"make_moons: n_samples must be an int >= 2"),
    (lambda: make_xor(10, noise=-0.1), "make_xor: noise must be a non-negative number"),
    (lambda: make_circles(10, factor=1.5), r"make_circles: factor must lie in \(0, 1\)"),
    (lambda: make_spirals(10, n_classes=0), "make_spirals: n_classes must be a positive int"),
    (lambda: make_moons(10, dtype="int64"), "make_moons: dtype must be a floating dtype"),
])
def test_toy_set_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# -- preprocessing against scikit-learn ---------------------------------------------------------

def _train_test():
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((5, 5))
    train = rng.standard_normal((200, 5)) @ mixing * [1, 2, 3, 4, 5] + [1, -2, 0, 3, 10]
    test = rng.standard_normal((30, 5)) @ mixing + 1
    return train, test


def test_standardizer_matches_scikit_learn(backend):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    train, test = _train_test()
    train[:, 2] = 0.1  # a constant feature
    ref = preprocessing.StandardScaler().fit(train)
    scaler = Standardizer().fit(xpnet.tensor(train))
    for attr in ("mean_", "var_", "scale_"):
        assert_close(getattr(scaler, attr), getattr(ref, attr), rtol=1e-12, atol=1e-12)
    got = scaler.transform(xpnet.tensor(test))
    assert_on_backend(got, backend)
    assert_close(got, ref.transform(test), rtol=1e-10, atol=1e-12)
    assert_close(scaler.inverse_transform(got), test, rtol=1e-10, atol=1e-12)
    assert_close(Standardizer(with_mean=False).fit_transform(xpnet.tensor(train)),
                 preprocessing.StandardScaler(with_mean=False).fit_transform(train), rtol=1e-10)


def test_standardizer_maps_constant_float32_features_to_zero(digits):
    X, _ = digits
    Z = Standardizer().fit_transform(X).numpy()
    constant = X.numpy().std(axis=0) == 0
    assert constant.any() and np.all(np.isfinite(Z)) and np.all(Z[:, constant] == 0)
    np.testing.assert_allclose(Z[:, ~constant].std(axis=0), 1, rtol=1e-4)


def _align_signs(got, want):
    """Flip columns of ``got`` to agree in sign with ``want`` (components are defined up to it)."""
    return got * np.sign(np.sum(got * want, axis=0))


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_matches_scikit_learn(backend, whiten):
    decomposition = pytest.importorskip("sklearn.decomposition")
    train, test = _train_test()
    ref = decomposition.PCA(n_components=3, whiten=whiten, svd_solver="full").fit(train)
    pca = PCA(3, whiten=whiten).fit(xpnet.tensor(train))
    for attr in ("mean_", "explained_variance_", "explained_variance_ratio_", "singular_values_"):
        assert_close(getattr(pca, attr), getattr(ref, attr), rtol=1e-10, atol=1e-12)
    assert_close(_align_signs(pca.components_.numpy().T, ref.components_.T).T, ref.components_,
                 rtol=1e-8, atol=1e-10)
    got = pca.transform(xpnet.tensor(test))
    assert_on_backend(got, backend)
    want = ref.transform(test)
    assert_close(_align_signs(got.numpy(), want), want, rtol=1e-8, atol=1e-10)
    assert_close(pca.inverse_transform(got), ref.inverse_transform(want), rtol=1e-8, atol=1e-10)
    if whiten:  # unit variance on the training data
        np.testing.assert_allclose(pca.transform(xpnet.tensor(train)).numpy().var(axis=0, ddof=1),
                                   1, rtol=1e-10)


def test_pca_with_all_components_inverts_exactly(backend):
    train, test = _train_test()
    pca = PCA().fit(xpnet.tensor(train))
    assert pca.components_.shape == (5, 5)
    assert_close(pca.inverse_transform(pca.transform(xpnet.tensor(test))), test, rtol=1e-10,
                 atol=1e-10)


def test_zca_whitens_training_data(backend):
    train, test = _train_test()
    zca = ZCA(eps=1e-10).fit(xpnet.tensor(train))
    Z = zca.transform(xpnet.tensor(train))
    assert_on_backend(Z, backend)
    np.testing.assert_allclose(np.cov(Z.numpy(), rowvar=False), np.eye(5), atol=1e-8)
    W = zca.whitening_.numpy()
    np.testing.assert_allclose(W, W.T, atol=1e-12)
    # The reference: C^(-1/2) from NumPy's eigh; applied to test data with the training mean.
    lam, u = np.linalg.eigh(np.cov(train, rowvar=False))
    want = (test - train.mean(axis=0)) @ (u / np.sqrt(lam + 1e-10)) @ u.T
    test_t = xpnet.tensor(test)
    assert_close(zca.transform(test_t), want, rtol=1e-8, atol=1e-10)
    assert_close(zca.inverse_transform(zca.transform(test_t)), test, rtol=1e-10, atol=1e-10)


def test_zca_eps_regularises_a_singular_covariance(digits):
    X, _ = digits
    Z = ZCA(eps=0.1).fit_transform(X.astype("float64")).numpy()
    assert np.all(np.isfinite(Z))
    # Whitened covariance U diag(lam / (lam + eps)) U.T: below the identity, never blown up.
    lam, u = np.linalg.eigh(np.cov(X.numpy().astype(np.float64), rowvar=False))
    lam = np.clip(lam, 0, None)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), (u * (lam / (lam + 0.1))) @ u.T,
                               atol=1e-8)


@pytest.mark.parametrize("make", [Standardizer, PCA, ZCA])
def test_transform_errors(make):
    name = make.__name__
    with pytest.raises(RuntimeError, match=f"{name}.transform: call fit first"):
        make().transform(xpnet.zeros(2, 3))
    fitted = make().fit(xpnet.randn(10, 3))
    with pytest.raises(ValueError, match=rf"{name}.transform: expected 3 features, got shape"):
        fitted.transform(xpnet.zeros(2, 4))
    with pytest.raises(ValueError, match=f"{name}.transform: X is on backend 'array_api_strict'"):
        fitted.transform(xpnet.zeros(2, 3, backend="array_api_strict"))
    with pytest.raises(ValueError, match=rf"{name}.fit: expected a 2-D tensor"):
        make().fit(xpnet.zeros(3))
    with pytest.raises(TypeError, match=f"{name}.fit: expected a Tensor"):
        make().fit([[1.0]])


def test_pca_component_count_errors():
    with pytest.raises(ValueError, match="PCA: n_components must be a positive int or None"):
        PCA(0)
    with pytest.raises(ValueError, match=r"PCA.fit: n_components=4 exceeds .* = 3"):
        PCA(4).fit(xpnet.randn(10, 3))
    with pytest.raises(ValueError, match="ZCA: eps must be a non-negative number"):
        ZCA(eps=-1)
