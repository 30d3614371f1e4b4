"""Statistics and distances (xpnet/ops/statistics.py, xpnet/ops/distance.py): quantile,
nanquantile, cov, corrcoef, cdist and dist against PyTorch, values and gradients, and gradcheck.

Quantile inputs have no ties (a shuffled range), so the elements a quantile is made of, and
with them the gradient, are the same in both libraries.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
from xpnet import ops

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


def _distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(math.prod(shape))).reshape(shape) * 0.37 - 4.0


# -- quantile, nanquantile ---------------------------------------------------------------------

@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (1, False), (-1, True)])
def test_quantile_matches_torch(backend, interpolation, dim, keepdim):
    q = np.array([0.0, 0.25, 0.5, 0.77, 1.0])
    fn = lambda x, q: ops.quantile(x, q, dim, keepdim, interpolation=interpolation)  # noqa: E731
    torch_fn = lambda t, q: torch.quantile(t, q, dim, keepdim,  # noqa: E731
                                           interpolation=interpolation)
    arrays = [_distinct((3, 4, 5)), q]
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_of_a_python_float_matches_torch(backend, interpolation):
    fn = lambda x: x.quantile(0.3, dim=0, interpolation=interpolation)  # noqa: E731
    torch_fn = lambda t: torch.quantile(t, 0.3, dim=0, interpolation=interpolation)  # noqa: E731
    check_forward(backend, fn, torch_fn, [_distinct((6, 2))])
    check_grads(backend, fn, torch_fn, [_distinct((6, 2))])


def test_quantile_float32_matches_torch(backend):
    x = _distinct((4, 7)).astype(np.float32)
    q = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    check_forward(backend, lambda x, q: ops.quantile(x, q, 1),
                  lambda t, q: torch.quantile(t, q, 1), [x, q], rtol=1e-6, atol=1e-6)


def test_nearest_rounds_half_to_even_as_torch(backend):
    # ranks 0.5, 1.5, 2.5, 3.5 of five values: 0, 2, 2, 4
    q = np.array([0.125, 0.375, 0.625, 0.875])
    check_forward(backend, lambda x, q: ops.quantile(x, q, interpolation="nearest"),
                  lambda t, q: torch.quantile(t, q, interpolation="nearest"),
                  [np.arange(5.0), q])


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_and_nanquantile_treat_nan_as_torch(backend, interpolation):
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [4.0, 1.0, 2.0, 3.0]])
    q = np.array([0.0, 0.4, 1.0])
    for name in ("quantile", "nanquantile"):
        check_forward(backend,
                      lambda x, q: getattr(ops, name)(x, q, 1, interpolation=interpolation),
                      lambda t, q: getattr(torch, name)(t, q, 1, interpolation=interpolation),
                      [x, q])
    # rows with a value to pick: the gradient goes to the same elements (one NaN per row)
    fn = lambda x: ops.nanquantile(x, 0.4, 1, interpolation=interpolation)  # noqa: E731
    torch_fn = lambda t: torch.nanquantile(t, 0.4, 1, interpolation=interpolation)  # noqa: E731
    check_grads(backend, fn, torch_fn, [np.delete(x, 1, axis=0)])


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), max_size=3), data=st.data(),
       keepdim=st.booleans(), interpolation=st.sampled_from(INTERPOLATIONS),
       vector_q=st.booleans())
def test_quantile_shapes_match_torch(shape, data, keepdim, interpolation, vector_q):
    ndim = len(shape)
    dim = data.draw(st.one_of(st.none(), st.integers(-max(ndim, 1), max(ndim, 1) - 1)))
    q = np.array([0.1, 0.5, 0.95]) if vector_q else np.array(0.4)
    fn = lambda x, q: ops.quantile(x, q, dim, keepdim, interpolation=interpolation)  # noqa: E731
    torch_fn = lambda t, q: torch.quantile(t, q, dim, keepdim,  # noqa: E731
                                           interpolation=interpolation)
    with xpnet.use_backend("numpy"):
        check_forward("numpy", fn, torch_fn, [_distinct(tuple(shape)), q])


def test_quantile_of_a_0d_tensor_and_an_empty_q(backend):
    (x,) = to_xpnet(np.array(2.5))
    for kwargs in ({}, {"dim": 0}, {"dim": 0, "keepdim": True}):
        out = ops.quantile(x, 0.3, **kwargs)
        assert out.shape == () and out.item() == 2.5
    (y, q) = to_xpnet(_distinct((2, 3)), np.zeros(0))
    out = ops.quantile(y, q, dim=1)
    assert out.shape == (0, 2)
    assert_on_device(out, backend)


@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "lower"])
def test_quantile_gradcheck(backend, interpolation):
    q = np.array([0.2, 0.55])  # ranks 0.8 and 2.2: no rank at an integer, where it is a kink
    gradcheck(lambda x: ops.quantile(x, xpnet.tensor(q), 1, interpolation=interpolation),
              [_distinct((2, 5, 3))])
    gradcheck(lambda x: ops.nanquantile(x, 0.7, interpolation=interpolation),
              [_distinct((3, 4))])


def test_quantile_gradcheck_in_q(backend):
    x = _distinct((2, 5, 3))
    q = np.array([0.2, 0.55])
    gradcheck(lambda q: ops.quantile(xpnet.tensor(x), q, 1), [q])
    x[0, 1, 0] = np.nan  # that row's ranks scale with its 4 other values
    gradcheck(lambda q: ops.nanquantile(xpnet.tensor(x), q, 1), [q])


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_gradient_in_q_skips_nan_rows_as_torch(backend, name):
    x = np.array([[1.0, np.nan, 3.0, 2.0, 5.0], [1.5, 2.0, 3.0, 4.0, 5.0],
                  [np.nan, 1.0, 0.0, 2.5, 4.0]])
    q = np.array([0.3, 0.6])
    fn = lambda x, q: getattr(ops, name)(x, q, 1)  # noqa: E731
    torch_fn = lambda t, q: getattr(torch, name)(t, q, 1)  # noqa: E731
    check_grads(backend, fn, torch_fn, [x, q])


def test_quantile_errors():
    x = xpnet.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"quantile: q must be in the range \[0, 1\], got 1.5"):
        ops.quantile(x, 1.5)
    with pytest.raises(ValueError, match=r"nanquantile: q must be in the range \[0, 1\], got -0.1"):
        ops.nanquantile(x, xpnet.tensor([0.5, -0.1]))
    with pytest.raises(TypeError, match="quantile: q must have the input's dtype float32, got "
                                        "float64"):
        ops.quantile(x, xpnet.tensor([0.5], dtype="float64"))
    with pytest.raises(ValueError, match=r"q must be a number or a 0-D or 1-D tensor, got a "
                                         r"tensor of shape \(1, 1\)"):
        ops.quantile(x, xpnet.tensor([[0.5]]))
    with pytest.raises(TypeError, match="quantile: q must be a number or a Tensor, got list"):
        ops.quantile(x, [0.5])
    with pytest.raises(TypeError, match="quantile: input must be float32 or float64, got int64"):
        ops.quantile(xpnet.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match=r"quantile: input must be non-empty, got shape \(0, 2\)"):
        ops.quantile(xpnet.zeros((0, 2)), 0.5, dim=1)
    with pytest.raises(ValueError, match="interpolation must be one of linear, lower, higher, "
                                         "midpoint, nearest, got 'cubic'"):
        ops.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(ValueError, match="quantile: axis 2 is out of range for a 2-D tensor"):
        ops.quantile(x, 0.5, dim=2)


# -- cov, corrcoef -----------------------------------------------------------------------------

COV_CASES = {
    "plain": {},
    "ml": {"correction": 0},
    "correction2": {"correction": 2},
    "fweights": {"fweights": np.array([1, 3, 0, 2, 1])},
    "aweights": {"aweights": np.array([0.5, 1.5, 0.2, 1.0, 2.0])},
    "both": {"fweights": np.array([1, 3, 1, 2, 1]),
             "aweights": np.array([0.5, 1.5, 0.2, 1.0, 2.0]), "correction": 1},
    "both_ml": {"fweights": np.array([2, 1, 1, 2, 1]),
                "aweights": np.array([0.5, 1.5, 0.2, 1.0, 2.0]), "correction": 0},
}


def _cov_pair(kwargs):
    """cov(input, aweights) on both sides, fweights and correction as constants."""
    fweights, correction = kwargs.get("fweights"), kwargs.get("correction", 1)

    def fn(x, *aw):
        fw = None if fweights is None else xpnet.tensor(fweights)
        return ops.cov(x, correction=correction, fweights=fw, aweights=aw[0] if aw else None)

    def torch_fn(t, *aw):
        fw = None if fweights is None else torch.tensor(fweights)
        return torch.cov(t, correction=correction, fweights=fw, aweights=aw[0] if aw else None)

    return fn, torch_fn


@pytest.mark.parametrize("case", sorted(COV_CASES))
def test_cov_matches_torch(backend, case):
    kwargs = COV_CASES[case]
    fn, torch_fn = _cov_pair(kwargs)
    arrays = random_arrays((3, 5))
    if "aweights" in kwargs:
        arrays.append(kwargs["aweights"])
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)  # aweights' gradient included


@pytest.mark.parametrize("shape", [(5,), (1, 5), (4, 6)])
def test_cov_and_corrcoef_shapes_match_torch(backend, shape):
    for name in ("cov", "corrcoef"):
        check_forward(backend, getattr(ops, name), getattr(torch, name), random_arrays(shape))
        check_grads(backend, getattr(ops, name), getattr(torch, name), random_arrays(shape),
                    atol=1e-10)


def test_cov_and_corrcoef_of_integers_are_default_float_as_torch(backend):
    x = np.array([[0, 1, 2], [2, 1, 3]])
    check_forward(backend, ops.cov, torch.cov, [x])
    check_forward(backend, ops.corrcoef, torch.corrcoef, [x])


def test_cov_and_corrcoef_are_tensor_methods():
    (x,) = to_xpnet(*random_arrays((2, 4)))
    assert_close(x.cov(correction=0), ops.cov(x, correction=0).numpy())
    assert_close(x.corrcoef(), ops.corrcoef(x).numpy())


def test_cov_and_corrcoef_gradcheck(backend):
    aweights = np.array([0.5, 1.5, 0.2, 1.0])
    gradcheck(lambda x, a: ops.cov(x, fweights=xpnet.tensor([1, 2, 1, 3]), aweights=a),
              [*random_arrays((2, 4)), aweights])
    gradcheck(ops.corrcoef, random_arrays((3, 5)))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_cov_warns_when_degrees_of_freedom_run_out():
    with pytest.warns(UserWarning, match=r"cov: degrees of freedom <= 0 \(correction=3 with 2 "
                                         r"observations\)"):
        out = ops.cov(xpnet.tensor([[1.0, 2.0], [3.0, 5.0]]), correction=3)
    assert np.all(np.isinf(out.numpy()))


def test_cov_errors():
    x = xpnet.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=r"cov: expected input to have two or fewer dimensions, "
                                         r"got shape \(1, 2, 3\)"):
        ops.cov(xpnet.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"corrcoef: expected input to have two or fewer"):
        ops.corrcoef(xpnet.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match="cov: input must be a real number tensor, got bool"):
        ops.cov(xpnet.tensor([True, False]))
    with pytest.raises(TypeError, match="cov: correction must be an int, got float"):
        ops.cov(x, correction=1.5)
    with pytest.raises(TypeError, match="cov: fweights must have an integer dtype, got float32"):
        ops.cov(x, fweights=xpnet.tensor([1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="cov: aweights must have a floating dtype, got int64"):
        ops.cov(x, aweights=xpnet.tensor([1, 2, 0]))
    with pytest.raises(ValueError, match=r"cov: expected fweights to have one weight per "
                                         r"observation \(3\), got 2"):
        ops.cov(x, fweights=xpnet.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"cov: expected aweights to have one or fewer "
                                         r"dimensions, got shape \(1, 3\)"):
        ops.cov(x, aweights=xpnet.tensor([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="cov: fweights cannot be negative, got a minimum of -2"):
        ops.cov(x, fweights=xpnet.tensor([1, -2, 0]))
    with pytest.raises(ValueError, match="cov: the weights sum to zero"):
        ops.cov(x, fweights=xpnet.tensor([0, 0, 0]))


# -- cdist, dist -------------------------------------------------------------------------------

P_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]


def _with_coincident_points(a, b):
    """Row 0 of each batch of ``a`` equal to row 0 of ``b``: a zero distance."""
    a = a.copy()
    a[..., 0, :] = b[..., 0, :]
    return a, b


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 1, 4, 3), (3, 5, 3))],
                         ids=["2d", "batched"])
def test_cdist_matches_torch(backend, p, shapes):
    a, b = random_arrays(*shapes)
    if len(shapes[0]) == len(shapes[1]):
        a, b = _with_coincident_points(a, b)  # PyTorch's gradient at zero distance
    fn = lambda x1, x2: ops.cdist(x1, x2, p)  # noqa: E731
    torch_fn = lambda t1, t2: torch.cdist(t1, t2, p)  # noqa: E731
    check_forward(backend, fn, torch_fn, [a, b])
    check_grads(backend, fn, torch_fn, [a, b])


@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), data=st.data(),
       rows=st.tuples(st.integers(0, 4), st.integers(1, 4)), features=st.integers(0, 3),
       p=st.sampled_from(P_VALUES))
def test_cdist_broadcasts_batches_as_torch(batch, data, rows, features, p):
    # each side keeps a batch axis or makes it 1, and may drop leading axes
    keep = [data.draw(st.tuples(st.booleans(), st.booleans())) for _ in batch]
    batch1 = [n if k1 else 1 for n, (k1, _) in zip(batch, keep)]
    batch2 = [n if k2 else 1 for n, (_, k2) in zip(batch, keep)][data.draw(st.integers(0, 1)):]
    a, b = random_arrays((*batch1, rows[0], features), (*batch2, rows[1], features))
    fn = lambda x1, x2: ops.cdist(x1, x2, p)  # noqa: E731
    torch_fn = lambda t1, t2: torch.cdist(t1, t2, p)  # noqa: E731
    with xpnet.use_backend("numpy"):
        check_forward("numpy", fn, torch_fn, [a, b])
        if a.size and b.size and p != 0:
            check_grads("numpy", fn, torch_fn, [a, b])


@pytest.mark.parametrize("shapes, mode", [
    (((30, 3), (4, 3)), "use_mm_for_euclid_dist_if_necessary"),  # P > 25: products
    (((5, 3), (6, 3)), "use_mm_for_euclid_dist"),
    (((2, 5, 3), (2, 6, 3)), "donot_use_mm_for_euclid_dist"),
])
def test_cdist_compute_modes_match_torch(backend, shapes, mode):
    a, b = _with_coincident_points(*random_arrays(*shapes, seed=3))
    fn = lambda x1, x2: ops.cdist(x1, x2, compute_mode=mode)  # noqa: E731
    torch_fn = lambda t1, t2: torch.cdist(t1, t2, compute_mode=mode)  # noqa: E731
    # The product form loses about half the digits of a near-zero distance (in both).
    check_forward(backend, fn, torch_fn, [a, b], atol=1e-7)
    check_grads(backend, fn, torch_fn, [a, b], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist_gradcheck(backend, p):
    gradcheck(lambda x1, x2: ops.cdist(x1, x2, p), random_arrays((2, 3, 2), (1, 4, 2), seed=2))


def test_cdist_gradcheck_of_the_product_form(backend):
    gradcheck(lambda x1, x2: ops.cdist(x1, x2, compute_mode="use_mm_for_euclid_dist"),
              random_arrays((3, 2), (4, 2), seed=5))


def test_cdist_of_empty_sets_and_features(backend):
    x1, x2 = to_xpnet(np.zeros((0, 3)), np.ones((5, 3)))
    assert ops.cdist(x1, x2).shape == (0, 5)
    y1, y2 = to_xpnet(np.zeros((3, 0)), np.zeros((5, 0)))
    for p in (2.0, math.inf):
        out = ops.cdist(y1, y2, p)
        assert_close(out, np.zeros((3, 5)))
        assert_on_device(out, backend)


def test_cdist_errors():
    a, b = xpnet.ones((3, 4)), xpnet.ones((5, 4))
    with pytest.raises(ValueError, match=r"cdist: x1 must have at least 2 axes \(points, "
                                         r"features\), got shape \(4,\)"):
        ops.cdist(xpnet.ones(4), b)
    with pytest.raises(ValueError, match=r"cdist: x1 and x2 must have the same number of "
                                         r"columns, got shapes \(3, 4\) and \(5, 3\)"):
        ops.cdist(a, xpnet.ones((5, 3)))
    with pytest.raises(ValueError, match="cdist: p must be non-negative, got -1"):
        ops.cdist(a, b, p=-1)
    with pytest.raises(TypeError, match="cdist: x1 must be floating point, got int64"):
        ops.cdist(xpnet.ones((3, 4), dtype="int64"), b)
    with pytest.raises(TypeError, match="cdist: x1 and x2 must have the same dtype, got float32 "
                                        "and float64"):
        ops.cdist(a, xpnet.ones((5, 4), dtype="float64"))
    with pytest.raises(ValueError, match=r"cdist: cannot broadcast shapes \(2,\) and \(3,\)"):
        ops.cdist(xpnet.ones((2, 3, 4)), xpnet.ones((3, 5, 4)))
    with pytest.raises(ValueError, match="cdist: compute_mode must be one of"):
        ops.cdist(a, b, compute_mode="fast")
    with pytest.raises(TypeError, match="cdist: p must be a number, got str"):
        ops.cdist(a, b, p="2")


@pytest.mark.parametrize("p", [0, 1, 2, 3.5, math.inf, -math.inf])
def test_dist_matches_torch(backend, p):
    a, b = random_arrays((3, 4), (4,))
    fn = lambda x, y: ops.dist(x, y, p)  # noqa: E731
    torch_fn = lambda t, u: torch.dist(t, u, p)  # noqa: E731
    check_forward(backend, fn, torch_fn, [a, b])
    if p == 0:  # a count: PyTorch records no gradient, xpnet a zero one
        x, y = to_xpnet(a, b)
        assert not np.any(xpnet.autograd.grad(fn(x, y), [x])[0].numpy())
        return
    check_grads(backend, fn, torch_fn, [a, b])
    check_grads(backend, fn, torch_fn, [a, a])  # zero distance


def test_dist_is_a_tensor_method_and_gradchecks(backend):
    gradcheck(lambda x, y: x.dist(y, 3), random_arrays((2, 3), (2, 3)))


def test_dist_errors():
    with pytest.raises(TypeError, match="dist: input must be floating point, got int64"):
        ops.dist(xpnet.tensor([1, 2]), xpnet.tensor([0, 1]))
    with pytest.raises(TypeError, match="dist: p must be a number, got str"):
        ops.dist(xpnet.ones(2), xpnet.ones(2), p="fro")
    with pytest.raises(ValueError, match=r"dist: cannot broadcast shapes \(2,\) and \(3,\)"):
        ops.dist(xpnet.ones(2), xpnet.ones(3))
    with pytest.raises(TypeError, match="dist: other must be a Tensor, got list"):
        ops.dist(xpnet.ones(2), [1.0, 2.0])
