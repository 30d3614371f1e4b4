"""xpnet.nn.init and the layers' default initialisation: PyTorch's formulas and distributions.

Statistical checks use 1e5 draws from a fixed seed, so they are deterministic; each tolerance is
stated in standard errors beside it, so a real change of scale (1%+) fails and noise cannot.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import xpnet
import xpnet.nn as nn
from xpnet.nn import init

from .op_checks import assert_on_device

try:  # the oracle; tests that need it skip through _torch()
    import torch
except ImportError:
    torch = None


def _torch():
    return pytest.importorskip("torch")


def _normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _ks_one_sample(values, cdf):
    """Kolmogorov-Smirnov distance between the values' empirical CDF and ``cdf``."""
    x = np.sort(values.ravel())
    n = x.size
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def _ks_two_sample(a, b):
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                         - np.searchsorted(b, grid, side="right") / b.size))


def _ks_limit(n, m=None):
    # The KS critical value at significance 1e-3: c = sqrt(-ln(5e-4) / 2) = 1.95.
    return 1.95 * math.sqrt(1 / n + (0 if m is None else 1 / m))


def _draw(fn, shape, dtype="float64", **kwargs):
    t = xpnet.empty(*shape, dtype=dtype, **kwargs)
    assert fn(t) is t
    return t


# -- calculate_gain ----------------------------------------------------------------------------

GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
         ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
         ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
         ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1), ("leaky_relu", 3.5),
         ("selu", None), ("linear", 7.0)]


@pytest.mark.parametrize(("nonlinearity", "param"), GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = _torch()
    want = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(want, rel=1e-15)


def test_calculate_gain_rejects_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("slope", [True, "0.1"])
def test_calculate_gain_rejects_a_slope_that_is_not_a_number(slope):
    with pytest.raises(ValueError, match="calculate_gain: negative_slope .* is not a number"):
        init.calculate_gain("leaky_relu", slope)


# -- default initialisation of layers ----------------------------------------------------------

@pytest.mark.parametrize("in_features", [1, 3, 10])
def test_linear_default_init_stays_within_one_over_sqrt_in_features(backend, in_features):
    layer = nn.Linear(in_features, 50)
    bound = 1 / math.sqrt(in_features)
    for p in (layer.weight, layer.bias):
        assert_on_device(p, backend)
        assert p.dtype is xpnet.float32
        assert np.all(np.abs(p.numpy()) <= bound)


def test_linear_default_weight_is_uniform_with_torchs_bound():
    layer = nn.Linear(400, 250, dtype="float64")
    w = layer.weight.numpy()
    bound = 1 / math.sqrt(400)
    assert np.all(np.abs(w) <= bound)
    # 1e5 uniform draws: the std's standard error is 0.14%, so 1% is 7 standard errors; the
    # chance that the largest |w| is below 0.999 bound is 0.9995^1e5 ~ 1e-22.
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert np.abs(w).max() > 0.999 * bound
    assert _ks_one_sample(w, lambda x: (x + bound) / (2 * bound)) < _ks_limit(w.size)


def test_linear_default_bias_is_uniform_with_torchs_bound():
    bias = nn.Linear(16, 20_000, dtype="float64").bias.numpy()
    assert np.all(np.abs(bias) <= 0.25)
    assert _ks_one_sample(bias, lambda x: (x + 0.25) / 0.5) < _ks_limit(bias.size)


def test_linear_default_init_has_torchs_distribution():
    torch = _torch()
    torch.manual_seed(0)
    twin = torch.nn.Linear(400, 250)
    layer = nn.Linear(400, 250)
    assert _ks_two_sample(layer.weight.numpy(), twin.weight.detach().numpy()) < _ks_limit(1e5, 1e5)
    twin, layer = torch.nn.Linear(16, 20_000), nn.Linear(16, 20_000)
    assert _ks_two_sample(layer.bias.numpy(), twin.bias.detach().numpy()) \
        < _ks_limit(2e4, 2e4)


def test_linear_reset_parameters_is_reproducible_with_a_generator():
    a, b = nn.Linear(5, 3), nn.Linear(5, 3)
    a.reset_parameters(generator=xpnet.Generator(4))
    b.reset_parameters(generator=xpnet.Generator(4))
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(getattr(a, name).numpy(), getattr(b, name).numpy())


def test_linear_without_input_features_outputs_its_zero_bias(backend):
    # torch's bound for fan_in 0 is 0, and initialising a zero-element weight is a no-op.
    layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0)
    np.testing.assert_array_equal(layer(xpnet.zeros(2, 0)).numpy(), np.zeros((2, 3)))


def test_prelu_default_init_is_a_quarter(backend):
    layer = nn.PReLU()
    assert layer.weight.shape == (1,)
    assert_on_device(layer.weight, backend)
    assert layer.weight.dtype is xpnet.float32
    np.testing.assert_array_equal(layer.weight.numpy(), [0.25])


def test_prelu_per_channel_init_matches_torch(backend):
    torch = _torch()
    layer = nn.PReLU(4, init=0.1, dtype="float64")
    assert layer.weight.dtype is xpnet.float64
    assert_on_device(layer.weight, backend)
    want = torch.nn.PReLU(4, init=0.1, dtype=torch.float64).weight.detach().numpy()
    np.testing.assert_array_equal(layer.weight.numpy(), want)


# -- uniform_, normal_ and the deterministic fills ------------------------------------------------

def test_uniform_fills_the_interval_uniformly():
    w = _draw(lambda t: init.uniform_(t, -2.0, 3.0), (250, 400)).numpy()
    assert w.min() >= -2.0 and w.max() < 3.0
    # Standard error of the mean: 5 / sqrt(12 * 1e5) = 0.0046; 0.03 is 6.5 of them.
    assert w.mean() == pytest.approx(0.5, abs=0.03)
    assert _ks_one_sample(w, lambda x: (x + 2.0) / 5.0) < _ks_limit(w.size)


def test_normal_has_the_requested_mean_and_std():
    w = _draw(lambda t: init.normal_(t, 1.0, 2.0), (250, 400)).numpy()
    # 1e5 draws: standard errors 0.0063 (mean) and 0.22% (std); 0.04 and 1.5% are ~6 of them.
    assert w.mean() == pytest.approx(1.0, abs=0.04)
    assert w.std() == pytest.approx(2.0, rel=0.015)
    assert _ks_one_sample(w, lambda x: _normal_cdf((x - 1.0) / 2.0)) < _ks_limit(w.size)


def test_constant_zeros_and_ones(backend):
    np.testing.assert_array_equal(_draw(lambda t: init.constant_(t, -1.5), (2, 3)).numpy(), -1.5)
    np.testing.assert_array_equal(_draw(init.zeros_, (2, 3)).numpy(), 0.0)
    np.testing.assert_array_equal(_draw(init.ones_, (4,)).numpy(), 1.0)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_matches_numpy(backend, shape):
    t = _draw(init.eye_, shape)
    assert_on_device(t, backend)
    np.testing.assert_array_equal(t.numpy(), np.eye(*shape))


# -- fan-based initialisers --------------------------------------------------------------------

CONV = (64, 32, 7, 7)  # fan_in = 32 * 49 = 1568, fan_out = 64 * 49 = 3136
DENSE = (250, 400)     # fan_in = 400, fan_out = 250

# name -> (xpnet call, torch call given torch.nn.init, shape, distribution, its scale): the
# bound of a uniform or the std of a normal, written out from the papers' formulas.
FAN_INITS = {
    "xavier_uniform": (init.xavier_uniform_, lambda ti: ti.xavier_uniform_, DENSE,
                       "uniform", math.sqrt(6 / 650)),
    "xavier_uniform_gain_relu_conv": (
        lambda t: init.xavier_uniform_(t, gain=math.sqrt(2)),
        lambda ti: lambda t: ti.xavier_uniform_(t, gain=math.sqrt(2)), CONV,
        "uniform", math.sqrt(2) * math.sqrt(6 / (1568 + 3136))),
    "xavier_normal_gain_2": (lambda t: init.xavier_normal_(t, gain=2.0),
                             lambda ti: lambda t: ti.xavier_normal_(t, gain=2.0), DENSE,
                             "normal", 2 * math.sqrt(2 / 650)),
    "kaiming_uniform": (init.kaiming_uniform_, lambda ti: ti.kaiming_uniform_, DENSE,
                        "uniform", math.sqrt(2) * math.sqrt(3 / 400)),
    "kaiming_uniform_a_sqrt5": (  # Linear's default: 1 / sqrt(fan_in)
        lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
        lambda ti: lambda t: ti.kaiming_uniform_(t, a=math.sqrt(5)), DENSE,
        "uniform", 1 / math.sqrt(400)),
    "kaiming_uniform_fan_out_relu_conv": (
        lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
        lambda ti: lambda t: ti.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), CONV,
        "uniform", math.sqrt(2) * math.sqrt(3 / 3136)),
    "kaiming_normal_relu": (lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
                            lambda ti: lambda t: ti.kaiming_normal_(t, nonlinearity="relu"),
                            DENSE, "normal", math.sqrt(2) / math.sqrt(400)),
    "kaiming_normal_fan_out_tanh": (
        lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
        lambda ti: lambda t: ti.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"), DENSE,
        "normal", (5 / 3) / math.sqrt(250)),
    "kaiming_normal_leaky_0.2_fan_out_conv": (
        lambda t: init.kaiming_normal_(t, a=0.2, mode="fan_out"),
        lambda ti: lambda t: ti.kaiming_normal_(t, a=0.2, mode="fan_out"), CONV,
        "normal", math.sqrt(2 / 1.04) / math.sqrt(3136)),
    "kaiming_normal_linear": (lambda t: init.kaiming_normal_(t, nonlinearity="linear"),
                              lambda ti: lambda t: ti.kaiming_normal_(t, nonlinearity="linear"),
                              DENSE, "normal", 1 / math.sqrt(400)),
}


@pytest.mark.parametrize("name", list(FAN_INITS))
def test_fan_init_has_the_formulas_scale(name):
    fn, _, shape, kind, scale = FAN_INITS[name]
    w = _draw(fn, shape).numpy()
    n = w.size  # 1e5 (DENSE) or 100,352 (CONV)
    if kind == "uniform":
        assert np.all(np.abs(w) <= scale)
        assert np.abs(w).max() > 0.999 * scale  # misses with chance 0.9995^1e5 ~ 1e-22
        std = scale / math.sqrt(3)
        assert _ks_one_sample(w, lambda x: (x + scale) / (2 * scale)) < _ks_limit(n)
    else:
        std = scale
        assert _ks_one_sample(w, lambda x: _normal_cdf(x / scale)) < _ks_limit(n)
    # Standard errors: 0.0032 std (mean), <= 0.22% (std); the tolerances are ~6 of them.
    assert abs(w.mean()) < 0.02 * std
    assert w.std() == pytest.approx(std, rel=0.015)


@pytest.mark.parametrize("name", list(FAN_INITS))
def test_fan_init_has_torchs_distribution(name):
    torch = _torch()
    fn, torch_fn, shape, _, _ = FAN_INITS[name]
    w = _draw(fn, shape).numpy()
    torch.manual_seed(0)
    want = torch_fn(torch.nn.init)(torch.empty(shape, dtype=torch.float64)).numpy()
    assert _ks_two_sample(w, want) < _ks_limit(w.size, want.size)


# -- orthogonal_ and sparse_ ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 6), (6, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(backend, shape, gain, dtype):
    t = _draw(lambda t: init.orthogonal_(t, gain=gain), shape, dtype)
    assert_on_device(t, backend)
    assert t.dtype.name == dtype and t.shape == shape
    w = t.numpy().astype(np.float64).reshape(shape[0], -1)  # trailing axes flattened
    product = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(product, gain**2 * np.eye(min(w.shape)), atol=tol * gain**2)


def test_orthogonal_matrices_differ_between_draws():
    a = _draw(init.orthogonal_, (4, 4)).numpy()
    b = _draw(init.orthogonal_, (4, 4)).numpy()
    assert not np.allclose(a, b)


SPARSE_CASES = [(10, 7, 0.25), (20, 5, 0.1), (7, 4, 0.5), (10, 3, 0.3), (8, 3, 0.0), (8, 3, 1.0)]


@pytest.mark.parametrize(("rows", "cols", "sparsity"), SPARSE_CASES)
def test_sparse_zeroes_ceil_sparsity_times_rows_in_every_column(backend, rows, cols, sparsity):
    t = _draw(lambda t: init.sparse_(t, sparsity), (rows, cols))
    assert_on_device(t, backend)
    zeros = (t.numpy() == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, math.ceil(sparsity * rows))
    if torch is not None:  # the same count as torch, float rounding of sparsity * rows included
        want = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity)
        np.testing.assert_array_equal(zeros, (want == 0).sum(dim=0).numpy())


def test_sparse_zero_rows_are_chosen_per_column():
    w = _draw(lambda t: init.sparse_(t, 0.5), (20, 30)).numpy()
    patterns = {tuple(np.flatnonzero(w[:, j] == 0)) for j in range(w.shape[1])}
    assert len(patterns) > 1


def test_sparse_nonzeros_have_the_requested_std():
    w = _draw(lambda t: init.sparse_(t, 0.3, std=0.05), (1000, 100)).numpy()
    nonzero = w[w != 0]
    assert nonzero.size == 70_000
    # 7e4 normal draws: standard error of the std 0.27%; 1.5% is 5.6 of them.
    assert nonzero.std() == pytest.approx(0.05, rel=0.015)
    assert abs(nonzero.mean()) < 0.02 * 0.05


# -- every backend, reproducibility ------------------------------------------------------------

RANDOM_INITS = {
    "uniform_": lambda t, **k: init.uniform_(t, -1.0, 2.0, **k),
    "normal_": lambda t, **k: init.normal_(t, 0.5, 2.0, **k),
    "xavier_uniform_": lambda t, **k: init.xavier_uniform_(t, gain=1.5, **k),
    "xavier_normal_": lambda t, **k: init.xavier_normal_(t, **k),
    "kaiming_uniform_": lambda t, **k: init.kaiming_uniform_(t, a=0.1, **k),
    "kaiming_normal_": lambda t, **k: init.kaiming_normal_(t, mode="fan_out", **k),
    "orthogonal_": lambda t, **k: init.orthogonal_(t, gain=0.5, **k),
    "sparse_": lambda t, **k: init.sparse_(t, 0.4, std=0.2, **k),
    "trunc_normal_": lambda t, **k: init.trunc_normal_(t, 0.1, 0.5, -0.3, 0.8, **k),
}
ALL_INITS = {**RANDOM_INITS, "constant_": lambda t: init.constant_(t, 0.3),
             "zeros_": init.zeros_, "ones_": init.ones_, "eye_": init.eye_}


@pytest.mark.parametrize("name", list(ALL_INITS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_fills_in_place_on_the_tensors_backend(backend, name, dtype):
    t = xpnet.empty(6, 4, dtype=dtype)
    with xpnet.use_backend("numpy"):  # the tensor's backend counts, not the active one
        xpnet.manual_seed(2)
        assert ALL_INITS[name](t) is t
    assert_on_device(t, backend)
    assert t.dtype.name == dtype and t.shape == (6, 4)
    # One seed gives the same numbers on every backend.
    reference = xpnet.empty(6, 4, dtype=dtype, backend="numpy")
    xpnet.manual_seed(2)
    ALL_INITS[name](reference)
    tol = 1e-6 if dtype == "float32" else 1e-13  # QR (orthogonal_) rounds per library
    np.testing.assert_allclose(t.numpy(), reference.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(ALL_INITS))
def test_init_keeps_a_parameter_a_leaf_that_requires_grad(backend, name):
    p = nn.Parameter(xpnet.zeros(6, 4))
    assert ALL_INITS[name](p) is p
    assert isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


@pytest.mark.parametrize("name", list(RANDOM_INITS))
def test_init_is_reproducible_with_manual_seed(name):
    fn = RANDOM_INITS[name]
    xpnet.manual_seed(7)
    first = fn(xpnet.empty(6, 4)).numpy()
    xpnet.manual_seed(7)
    np.testing.assert_array_equal(fn(xpnet.empty(6, 4)).numpy(), first)
    assert not np.array_equal(fn(xpnet.empty(6, 4)).numpy(), first)


@pytest.mark.parametrize("name", list(RANDOM_INITS))
def test_init_with_a_generator_is_reproducible_and_leaves_the_default_alone(name):
    fn = RANDOM_INITS[name]
    state = xpnet.default_generator.get_state()
    first = fn(xpnet.empty(6, 4), generator=xpnet.Generator(7)).numpy()
    second = fn(xpnet.empty(6, 4), generator=xpnet.Generator(7)).numpy()
    np.testing.assert_array_equal(first, second)
    assert xpnet.default_generator.get_state() == state


# -- bad input ---------------------------------------------------------------------------------

FAN_BASED = {"xavier_uniform_": init.xavier_uniform_, "xavier_normal_": init.xavier_normal_,
             "kaiming_uniform_": init.kaiming_uniform_, "kaiming_normal_": init.kaiming_normal_}


@pytest.mark.parametrize("name", list(FAN_BASED))
def test_fan_based_init_rejects_a_1d_tensor(name):
    message = f"{name}: fan in and fan out need a tensor of at least 2 dimensions, got shape (5,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        FAN_BASED[name](xpnet.zeros(5))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_rejects_an_unknown_mode(name):
    t = xpnet.zeros(3, 4)
    message = f"{name}: mode must be 'fan_in' or 'fan_out', got 'fan_avg'"
    with pytest.raises(ValueError, match=message):
        FAN_BASED[name](t, mode="fan_avg")
    np.testing.assert_array_equal(t.numpy(), 0.0)  # nothing written


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_rejects_an_unknown_nonlinearity(name):
    with pytest.raises(ValueError, match=f"{name}: unsupported nonlinearity 'swish'"):
        FAN_BASED[name](xpnet.zeros(3, 4), nonlinearity="swish")


@pytest.mark.parametrize("sparsity", [-0.1, 1.5])
def test_sparse_rejects_sparsity_out_of_range(sparsity):
    t = xpnet.zeros(4, 3)
    with pytest.raises(ValueError,
                       match=re.escape(f"sparse_: sparsity must be in [0, 1], got {sparsity}")):
        init.sparse_(t, sparsity)
    np.testing.assert_array_equal(t.numpy(), 0.0)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda t: init.sparse_(t, 0.5), "sparse_: expected a 2-D tensor, got shape (2, 3, 4)"),
    (init.eye_, "eye_: expected a 2-D tensor, got shape (2, 3, 4)"),
])
def test_2d_only_init_rejects_other_shapes(fn, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(xpnet.zeros(2, 3, 4))


def test_orthogonal_rejects_a_1d_tensor():
    with pytest.raises(ValueError, match=re.escape("orthogonal_: expected at least 2 dimensions")):
        init.orthogonal_(xpnet.zeros(5))


@pytest.mark.parametrize("name", list(ALL_INITS))
def test_init_rejects_an_integer_tensor(name):
    with pytest.raises(TypeError, match="expected a floating-point tensor, got int64"):
        ALL_INITS[name](xpnet.zeros(6, 4, dtype="int64"))


@pytest.mark.parametrize("name", list(ALL_INITS))
@pytest.mark.parametrize("value", [np.zeros((6, 4)), [[0.0] * 4] * 6], ids=["ndarray", "list"])
def test_init_rejects_what_is_not_a_tensor(name, value):
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor, got {type(value).__name__}"):
        ALL_INITS[name](value)


# -- trunc_normal_ -----------------------------------------------------------------------------

def _upper_tail(z):
    """P(Z > z) for a standard normal Z, accurate far in the tail."""
    return 0.5 * np.vectorize(math.erfc)(np.asarray(z, dtype=np.float64) / math.sqrt(2))


def _truncated_normal_moments(mean, std, a, b):
    """Mean and variance of N(mean, std^2) truncated to [a, b] (Johnson et al., 1994)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    if alpha + beta < 0:  # in the lower tail: the mirror image keeps the digits
        flipped_mean, var = _truncated_normal_moments(-mean, std, -b, -a)
        return -flipped_mean, var
    mass = float(_upper_tail(alpha) - _upper_tail(beta))
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi) if math.isfinite(z) else 0.0
    shift = (pdf(alpha) - pdf(beta)) / mass
    spread = ((alpha * pdf(alpha) if math.isfinite(alpha) else 0.0)
              - (beta * pdf(beta) if math.isfinite(beta) else 0.0)) / mass
    return mean + std * shift, std * std * (1 + spread - shift * shift)


TRUNCATIONS = [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
               (0.0, 1.0, 5.0, 6.0), (0.0, 1.0, -30.0, -29.0), (1.0, 1.0, -0.5, 100.0),
               (0.0, 1.0, -1e-3, 1e-3)]


@pytest.mark.parametrize("mean, std, a, b", TRUNCATIONS)
def test_trunc_normal_has_the_exact_truncated_distribution(mean, std, a, b):
    # 1e5 draws: each moment within 5 standard errors, the KS distance at significance 1e-3 —
    # including bounds 5-6 and 29-30 std from the mean, where erfinv-based sampling degrades.
    n = 100_000
    w = _draw(lambda t: init.trunc_normal_(t, mean, std, a, b), (n,)).numpy()
    assert w.min() >= a and w.max() <= b
    want_mean, want_var = _truncated_normal_moments(mean, std, a, b)
    assert abs(w.mean() - want_mean) < 5 * math.sqrt(want_var / n)
    assert abs(w.var() - want_var) < 5 * want_var * math.sqrt(2 / n)
    # sign = -1 mirrors a lower-tail interval, so the tail probabilities keep their digits.
    sign = -1.0 if a + b < 2 * mean else 1.0
    alpha, beta = sorted((sign * (a - mean) / std, sign * (b - mean) / std))
    tail_alpha, tail_beta = _upper_tail(alpha), _upper_tail(beta)
    mirrored = sign * (w - mean) / std
    cdf = lambda z: (tail_alpha - _upper_tail(z)) / (tail_alpha - tail_beta)
    assert _ks_one_sample(mirrored, cdf) < _ks_limit(n)


@pytest.mark.parametrize("mean, std, a, b", TRUNCATIONS[:3])
def test_trunc_normal_has_torchs_distribution(mean, std, a, b):
    # Where PyTorch's erfinv-based sampler is accurate (bounds near the mean), the two samples
    # have one distribution: two-sample KS at significance 1e-3, bounds and means.
    torch = _torch()
    n = 100_000
    w = _draw(lambda t: init.trunc_normal_(t, mean, std, a, b), (n,)).numpy()
    torch.manual_seed(0)
    theirs = torch.nn.init.trunc_normal_(torch.empty(n, dtype=torch.float64), mean, std, a,
                                         b).numpy()
    assert theirs.min() >= a and theirs.max() <= b
    assert _ks_two_sample(w, theirs) < _ks_limit(n, n)
    assert abs(w.mean() - theirs.mean()) < 5 * theirs.std() * math.sqrt(2 / n)
    assert w.std() == pytest.approx(theirs.std(), rel=5 * math.sqrt(1 / n))


def test_trunc_normal_defaults_are_torchs(backend):
    w = init.trunc_normal_(xpnet.empty(2000))
    assert w.dtype is xpnet.float32
    assert_on_device(w, backend)
    values = w.numpy()
    assert values.min() >= -2.0 and values.max() <= 2.0 and values.std() > 0.8


def test_trunc_normal_with_equal_bounds_fills_the_bound():
    np.testing.assert_array_equal(init.trunc_normal_(xpnet.empty(5), a=0.5, b=0.5).numpy(), 0.5)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"std": 0.0}, ValueError, "trunc_normal_: std must be positive, got 0.0"),
    ({"a": 1.0, "b": -1.0}, ValueError, "trunc_normal_: expected a <= b, got a=1.0, b=-1.0"),
    ({"a": 40.0, "b": 41.0}, ValueError, "lies more than 37 standard deviations from the mean"),
    ({"mean": "0"}, TypeError, "trunc_normal_: mean must be a number, got str"),
])
def test_trunc_normal_rejects_bad_arguments(kwargs, error, message):
    t = xpnet.zeros(3)
    with pytest.raises(error, match=re.escape(message)):
        init.trunc_normal_(t, **kwargs)
    np.testing.assert_array_equal(t.numpy(), 0.0)  # nothing written
