"""Pooling (xpnet.ops.pool, xpnet.functional.pooling, xpnet.nn.pooling) and Dropout2d against
torch.nn.functional, with gradcheck on every backend."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
import xpnet.nn as nn
from xpnet.nn.dropout import Dropout2d
from xpnet.nn.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

_SETTINGS = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- a grid of shapes, kernels, strides and paddings (hypothesis) ------------------------------

@st.composite
def _window_case(draw, dims, dilation):
    """(input shape, keyword arguments) that torch accepts for a pooling over ``dims`` axes."""
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if dilation else (1,) * dims
    span = tuple((k - 1) * e + 1 for k, e in zip(kernel, dil))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    # Sizes from one short of the window (padding may make up for it) to a few windows long.
    size = tuple(draw(st.integers(max(1, s - 2 * p), s + 5)) for s, p in zip(span, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    options = {"kernel_size": kernel, "stride": stride, "padding": padding,
               "ceil_mode": draw(st.booleans())}
    # A dilated window may see only padding; xpnet refuses that (tested below) and torch
    # corrupts memory.
    assume(all(_touches_input(n, k, s, p, e) for n, k, s, p, e
               in zip(size, kernel, stride, padding, dil)))
    if dilation:
        options["dilation"] = dil
    return shape, options


def _touches_input(n, k, s, p, e):
    """Every window along an axis holds an input element (ceil mode's extra one included)."""
    span = (k - 1) * e + 1
    out = -(-(n + 2 * p - span) // s) + 1
    return all(any(0 <= i * s - p + j * e < n for j in range(k)) for i in range(out))


def _pool_input(shape, seed, ties):
    x = random_arrays(shape, seed=seed)[0]
    # Rounded values tie often: the gradient must go to the first maximum as in torch.
    return np.round(x) if ties else x


POOLS = {
    "max_pool1d": (F.max_pool1d, TF.max_pool1d, 1, True),
    "max_pool2d": (F.max_pool2d, TF.max_pool2d, 2, True),
    "avg_pool1d": (F.avg_pool1d, TF.avg_pool1d, 1, False),
    "avg_pool2d": (F.avg_pool2d, TF.avg_pool2d, 2, False),
}


@st.composite
def _pool_case(draw):
    name = draw(st.sampled_from(sorted(POOLS)))
    fn, torch_fn, dims, is_max = POOLS[name]
    shape, options = draw(_window_case(dims, dilation=is_max))
    if not is_max:
        options["count_include_pad"] = draw(st.booleans())
    ties = is_max and draw(st.booleans())
    return name, shape, options, ties, draw(st.integers(0, 2**16))


@_SETTINGS
@given(case=_pool_case())
def test_pool_matches_torch_over_a_grid(backend, case):
    name, shape, options, ties, seed = case
    fn, torch_fn, _, _ = POOLS[name]
    x = _pool_input(shape, seed, ties)
    check_forward(backend, lambda t: fn(t, **options), lambda t: torch_fn(t, **options), [x])
    check_grads(backend, lambda t: fn(t, **options), lambda t: torch_fn(t, **options), [x])


@st.composite
def _adaptive_case(draw):
    dims = draw(st.sampled_from([1, 2]))
    size = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    # Output sizes above the input's are allowed (windows then repeat elements), as is None.
    out = tuple(draw(st.one_of(st.integers(1, n + 2), st.none())) for n in size)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    return dims, shape, out if dims == 2 else out[0], draw(st.integers(0, 2**16))


@_SETTINGS
@given(case=_adaptive_case())
def test_adaptive_avg_pool_matches_torch_over_a_grid(backend, case):
    dims, shape, out, seed = case
    fn, torch_fn = ((F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d) if dims == 1 else
                    (F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d))
    if dims == 1 and out is None:
        out = shape[-1]
    x = random_arrays(shape, seed=seed)[0]
    check_forward(backend, lambda t: fn(t, out), lambda t: torch_fn(t, out), [x])
    check_grads(backend, lambda t: fn(t, out), lambda t: torch_fn(t, out), [x])


# -- particular cases ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(POOLS))
def test_pool_accepts_input_without_a_batch_axis(backend, name):
    fn, torch_fn, dims, _ = POOLS[name]
    x = random_arrays((3,) + (5,) * dims, seed=1)[0]
    options = {"kernel_size": 3, "stride": 2, "padding": 1}
    check_forward(backend, lambda t: fn(t, **options), lambda t: torch_fn(t, **options), [x])
    check_grads(backend, lambda t: fn(t, **options), lambda t: torch_fn(t, **options), [x])


def test_max_pool_routes_the_gradient_to_the_first_of_tied_maxima(backend):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[0, 0, 2, 1] = 1.0
    t = xpnet.tensor(x, requires_grad=True)
    F.max_pool2d(t, 2, stride=1).sum().backward()
    # The four windows holding (1, 1) have it as their first maximum (row-major order); (1, 2)
    # and (2, 1) are the first maximum of two more windows each; the last window holds only
    # zeros and sends its gradient to its first element, (2, 2).
    expected = np.array([[0.0, 0.0, 0.0, 0.0],
                         [0.0, 4.0, 2.0, 0.0],
                         [0.0, 2.0, 1.0, 0.0],
                         [0.0, 0.0, 0.0, 0.0]])
    tx = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(tx, 2, stride=1).sum().backward()
    assert_close(tx.grad[0, 0], expected, rtol=0, atol=0)
    assert_close(t.grad, tx.grad, rtol=0, atol=0)


def test_max_pool_overlapping_windows_accumulate_the_gradient(backend):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    t = xpnet.tensor(x, requires_grad=True)
    F.max_pool2d(t, 3, stride=1, padding=1).sum().backward()
    expected = np.zeros((1, 1, 3, 3))
    # Of the nine windows, four hold the global maximum 8; the others' maxima are 4, 5 and 7.
    expected[0, 0, 1, 1], expected[0, 0, 1, 2], expected[0, 0, 2, 1] = 1.0, 2.0, 2.0
    expected[0, 0, 2, 2] = 4.0
    assert_close(t.grad, expected, rtol=0, atol=0)
    tx = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(tx, 3, stride=1, padding=1).sum().backward()
    assert_close(t.grad, tx.grad, rtol=0, atol=0)


def test_max_pool_padding_never_wins_over_minus_inf_input(backend):
    x = np.full((1, 1, 3), -np.inf)
    x[0, 0, 2] = 1.0
    for fn, torch_fn in ((F.max_pool1d, TF.max_pool1d),):
        check_forward(backend, lambda t: fn(t, 2, 1, 1), lambda t: torch_fn(t, 2, 1, 1), [x])
        check_grads(backend, lambda t: fn(t, 2, 1, 1), lambda t: torch_fn(t, 2, 1, 1), [x])


def test_max_pool_propagates_nan_as_torch(backend):
    x = random_arrays((1, 2, 6), seed=2)[0]
    x[0, 0, 1] = np.nan
    check_forward(backend, lambda t: F.max_pool1d(t, 3, 2, 1),
                  lambda t: TF.max_pool1d(t, 3, 2, 1), [x])


def test_avg_pool2d_divisor_override_matches_torch(backend):
    x = random_arrays((2, 3, 5, 4), seed=3)[0]
    options = {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5}
    check_forward(backend, lambda t: F.avg_pool2d(t, **options),
                  lambda t: TF.avg_pool2d(t, **options), [x])
    check_grads(backend, lambda t: F.avg_pool2d(t, **options),
                lambda t: TF.avg_pool2d(t, **options), [x])


def test_max_over_time_is_the_maximum_over_the_last_axis(backend):
    x = random_arrays((3, 4, 7), seed=4)[0]
    check_forward(backend, F.max_over_time, lambda t: t.amax(dim=-1), [x])
    check_grads(backend, F.max_over_time, lambda t: t.amax(dim=-1), [x])


def test_float32_pooling_keeps_float32_on_the_backend(backend):
    x = xpnet.randn(2, 3, 6, 6)
    for out in (F.max_pool2d(x, 2, padding=1), F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                F.adaptive_avg_pool2d(x, (4, 3))):
        assert out.dtype is xpnet.float32
        assert_on_device(out, backend)


# -- gradcheck on every backend ------------------------------------------------------------------

GRADCHECKS = {
    "max_pool1d": (lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), (2, 2, 8)),
    "max_pool2d": (lambda t: F.max_pool2d(t, (3, 2), 1, (1, 0)), (1, 2, 5, 4)),
    "max_pool2d_dilated": (lambda t: F.max_pool2d(t, 2, 1, dilation=2), (1, 2, 5, 5)),
    "avg_pool1d": (lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True), (2, 2, 8)),
    "avg_pool2d": (lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False), (1, 2, 4, 5)),
    "adaptive_avg_pool1d": (lambda t: F.adaptive_avg_pool1d(t, 4), (2, 2, 7)),
    "adaptive_avg_pool2d": (lambda t: F.adaptive_avg_pool2d(t, (3, 2)), (1, 2, 5, 7)),
    "max_over_time": (F.max_over_time, (2, 3, 6)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_pool_gradcheck(backend, name):
    fn, shape = GRADCHECKS[name]
    gradcheck(fn, random_arrays(shape, seed=5))


# -- modules -------------------------------------------------------------------------------------

MODULES = {
    "MaxPool1d": (lambda: MaxPool1d(3, 2, 1), lambda: torch.nn.MaxPool1d(3, 2, 1), (2, 3, 9)),
    "MaxPool2d": (lambda: MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 6, 5)),
    "MaxPool2d_ceil": (lambda: MaxPool2d(3, 2, ceil_mode=True),
                       lambda: torch.nn.MaxPool2d(3, 2, ceil_mode=True), (2, 3, 6, 5)),
    "AvgPool1d": (lambda: AvgPool1d(4, 3, 2, count_include_pad=False),
                  lambda: torch.nn.AvgPool1d(4, 3, 2, count_include_pad=False), (2, 3, 9)),
    "AvgPool2d": (lambda: AvgPool2d((2, 3), padding=(1, 1)),
                  lambda: torch.nn.AvgPool2d((2, 3), padding=(1, 1)), (2, 3, 6, 5)),
    "AdaptiveAvgPool1d": (lambda: AdaptiveAvgPool1d(4), lambda: torch.nn.AdaptiveAvgPool1d(4),
                          (2, 3, 9)),
    "AdaptiveAvgPool2d": (lambda: AdaptiveAvgPool2d((None, 2)),
                          lambda: torch.nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 6, 5)),
    "AdaptiveAvgPool2d_global": (lambda: AdaptiveAvgPool2d(1),
                                 lambda: torch.nn.AdaptiveAvgPool2d(1), (2, 3, 6, 5)),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_pooling_module_matches_torch(backend, name):
    make, make_torch, shape = MODULES[name]
    x = random_arrays(shape, seed=6)[0]
    check_forward(backend, make(), make_torch(), [x])
    check_grads(backend, make(), make_torch(), [x])


def test_pooling_module_repr():
    assert repr(MaxPool2d(3, 2)) == ("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(AdaptiveAvgPool2d((5, 7))) == "AdaptiveAvgPool2d(output_size=(5, 7))"


# -- bad input -----------------------------------------------------------------------------------

def test_pool_rejects_a_kernel_larger_than_the_padded_input(backend):
    message = "max_pool2d: kernel_size (3, 3) is larger than the padded input (2, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.max_pool2d(xpnet.zeros(1, 1, 2, 2), 3, padding=(0, 1))
    with pytest.raises(ValueError, match=re.escape("avg_pool1d: kernel_size (5,) is larger")):
        nn.Sequential(AvgPool1d(5))(xpnet.zeros(1, 1, 4))


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d])
def test_pool_rejects_padding_above_half_the_kernel(backend, fn):
    message = f"{fn.__name__}: padding (2, 2) must be at most half of kernel_size (3, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(xpnet.zeros(1, 1, 8, 8), 3, padding=2)


def test_max_pool_bounds_padding_by_the_undilated_kernel_as_torch(backend):
    message = "max_pool1d: padding (2,) must be at most half of kernel_size (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.max_pool1d(xpnet.zeros(1, 1, 8), 3, padding=2, dilation=2)


def test_max_pool_rejects_a_dilated_window_of_only_padding(backend):
    message = ("max_pool1d: window 0 along spatial axis 0 holds only padding (input of shape "
               "(1, 3, 1)")
    with pytest.raises(ValueError, match=re.escape(message)):
        F.max_pool1d(xpnet.zeros(1, 3, 1), 2, 1, 1, dilation=2)


@pytest.mark.parametrize("options, message", [
    ({"kernel_size": 0}, "kernel_size must be a positive int or a tuple of 2 such ints, got 0"),
    ({"kernel_size": (2, 2, 2)}, "kernel_size must be a positive int or a tuple of 2"),
    ({"kernel_size": 2, "stride": 0}, "stride must be a positive int"),
    ({"kernel_size": 2, "padding": -1}, "padding must be a non-negative int"),
])
def test_pool_rejects_bad_sizes(backend, options, message):
    with pytest.raises(ValueError, match=re.escape(f"max_pool2d: {message}")):
        F.max_pool2d(xpnet.zeros(1, 1, 4, 4), **options)


def test_pool_rejects_the_wrong_rank(backend):
    message = "avg_pool2d: expected a 3-D or 4-D input (N, C, H, W), got shape (4, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.avg_pool2d(xpnet.zeros(4, 4), 2)
    with pytest.raises(TypeError, match="max_pool1d: input must be floating point, got int64"):
        F.max_pool1d(xpnet.tensor([[[1, 2, 3]]]), 2)


def test_adaptive_pool_rejects_bad_output_sizes(backend):
    message = "adaptive_avg_pool2d: output_size must hold positive ints (or None), got (0, 2)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.adaptive_avg_pool2d(xpnet.zeros(1, 1, 4, 4), (0, 2))
    with pytest.raises(ValueError, match=re.escape("output_size must be an int or a tuple of 2")):
        F.adaptive_avg_pool2d(xpnet.zeros(1, 1, 4, 4), (1, 2, 3))


# -- Dropout2d -----------------------------------------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(backend):
    p, n, c = 0.3, 400, 50
    x_np = random_arrays((n, c, 2, 3), seed=7, low=1.0, high=2.0)[0]  # nonzero: 0 iff dropped
    x = xpnet.tensor(x_np, requires_grad=True)
    out = Dropout2d(p)(x)
    assert_on_device(out, backend)
    grad_out = random_arrays(x_np.shape, seed=8)[0]
    out.backward(xpnet.tensor(grad_out))
    y = out.numpy()
    dropped = y == 0
    per_channel = dropped.reshape(n, c, -1)
    assert np.all(per_channel.all(axis=2) | ~per_channel.any(axis=2))  # all or none of a map
    # Binomial(20000, 0.3) / 20000 has std 0.0032; 0.02 is > 6 sigma.
    assert abs(per_channel[..., 0].mean() - p) < 0.02
    np.testing.assert_allclose(y[~dropped], x_np[~dropped] / (1 - p), rtol=1e-12)
    grad = x.grad.numpy()
    np.testing.assert_array_equal(grad[dropped], 0.0)
    np.testing.assert_allclose(grad[~dropped], grad_out[~dropped] / (1 - p), rtol=1e-12)


def test_dropout2d_is_the_identity_in_eval_mode_and_with_p_0(backend):
    x_np = random_arrays((2, 3, 4, 4), seed=9)[0]
    assert_close(Dropout2d(0.5).eval()(xpnet.tensor(x_np)), x_np, rtol=0, atol=0)
    assert_close(F.dropout2d(xpnet.tensor(x_np), 0.0), x_np, rtol=0, atol=0)
    assert_close(F.dropout2d(xpnet.tensor(x_np), 1.0), np.zeros_like(x_np), rtol=0, atol=0)


def test_dropout2d_rejects_bad_p_and_input_that_is_not_4d(backend):
    with pytest.raises(ValueError, match=re.escape("Dropout2d: p must be in [0, 1], got 1.5")):
        Dropout2d(1.5)
    message = "dropout2d: expected a 4-D input (N, C, H, W), got shape (3, 4, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.dropout2d(xpnet.zeros(3, 4, 4))


# -- adaptive max pooling ------------------------------------------------------------------------

def _adaptive_max_pair(dims):
    if dims == 1:
        return F.adaptive_max_pool1d, TF.adaptive_max_pool1d
    return F.adaptive_max_pool2d, TF.adaptive_max_pool2d


@_SETTINGS
@given(case=_adaptive_case(), ties=st.booleans())
def test_adaptive_max_pool_matches_torch_over_a_grid(case, ties):
    dims, shape, out, seed = case
    fn, torch_fn = _adaptive_max_pair(dims)
    if dims == 1 and out is None:
        out = shape[-1]
    # Rounded values tie often: the first maximum of a window wins, as in torch.
    x = _pool_input(shape, seed, ties)
    with xpnet.use_backend("numpy"):
        check_forward("numpy", lambda t: fn(t, out, return_indices=True),
                      lambda t: torch_fn(t, out, return_indices=True), [x])
        check_grads("numpy", lambda t: fn(t, out), lambda t: torch_fn(t, out), [x])


ADAPTIVE_MAX = {
    "1d": (1, (2, 3, 7), 3),
    "1d upsampling": (1, (2, 2, 3), 5),
    "2d": (2, (2, 2, 7, 5), (3, 2)),
    "2d None": (2, (1, 2, 5, 6), (None, 4)),
    "2d global": (2, (2, 3, 4, 5), 1),
    "2d unbatched": (2, (3, 5, 5), (2, 3)),
}


@pytest.mark.parametrize("name", list(ADAPTIVE_MAX))
def test_adaptive_max_pool_matches_torch_on_every_backend(backend, name):
    dims, shape, out = ADAPTIVE_MAX[name]
    fn, torch_fn = _adaptive_max_pair(dims)
    x = _pool_input(shape, 3, ties=True)
    check_forward(backend, lambda t: fn(t, out, True), lambda t: torch_fn(t, out, True), [x])
    check_grads(backend, lambda t: fn(t, out), lambda t: torch_fn(t, out), [x])


@pytest.mark.parametrize("name", ["1d upsampling", "2d"])
def test_adaptive_max_pool_gradcheck(backend, name):
    dims, shape, out = ADAPTIVE_MAX[name]
    gradcheck(lambda t: _adaptive_max_pair(dims)[0](t, out), random_arrays(shape, seed=4))


def test_adaptive_max_pool_takes_the_last_nan_as_torch(backend):
    x = random_arrays((1, 2, 4, 4), seed=5)[0]
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 3, 3] = np.nan
    check_forward(backend, lambda t: F.adaptive_max_pool2d(t, (2, 1), True),
                  lambda t: TF.adaptive_max_pool2d(t, (2, 1), True), [x])


ADAPTIVE_MAX_MODULES = {
    "AdaptiveMaxPool1d": (lambda m: m.AdaptiveMaxPool1d(4), (2, 3, 9)),
    "AdaptiveMaxPool2d": (lambda m: m.AdaptiveMaxPool2d((3, None), return_indices=True),
                          (2, 3, 6, 5)),
}


@pytest.mark.parametrize("name", sorted(ADAPTIVE_MAX_MODULES))
def test_adaptive_max_pool_module_matches_torch(backend, name):
    build, shape = ADAPTIVE_MAX_MODULES[name]
    x = random_arrays(shape, seed=6)[0]
    check_forward(backend, build(nn), build(torch.nn), [x])
    assert repr(build(nn)) == repr(build(torch.nn))


def test_adaptive_max_pool_rejects_bad_output_sizes(backend):
    message = "adaptive_max_pool1d: output_size must hold positive ints (or None), got 0"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.adaptive_max_pool1d(xpnet.zeros(1, 1, 4), 0)
    message = "adaptive_max_pool2d: expected a 3-D or 4-D input (N, C, H, W), got shape (4,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.adaptive_max_pool2d(xpnet.zeros(4), 2)
