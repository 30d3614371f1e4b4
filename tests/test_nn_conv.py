"""Convolutions (ops/conv.py, functional/conv.py, nn/conv.py and the conv kernels) against
torch.nn.functional.conv1d/conv2d and torch.nn.Conv1d/Conv2d, gradcheck on every backend, and
the NumPy fast path against its standard-only twin."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
from xpnet.backend import load
from xpnet.backend.kernels import get_kernel, numpy_kernels
from xpnet.nn.conv import Conv1d, Conv2d

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")


def _torch_conv(dims):
    function = torch.nn.functional.conv1d if dims == 1 else torch.nn.functional.conv2d

    def conv(*args, **options):
        with warnings.catch_warnings():
            # padding='same' with an even kernel: torch warns that it copies the input.
            warnings.simplefilter("ignore", UserWarning)
            return function(*args, **options)
    return conv


def _xpnet_conv(dims):
    return F.conv1d if dims == 1 else F.conv2d


@st.composite
def conv_cases(draw):
    """Shapes and options of one valid convolution: 1 or 2 spatial axes, any groups, stride,
    dilation and padding (an int per axis, 'same' with stride 1, or 'valid')."""
    dims = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding_kind = draw(st.sampled_from(["ints", "same", "valid"]))
    if padding_kind == "same" and all(s == 1 for s in stride):
        padding, pads = "same", [d * (k - 1) for k, d in zip(kernel, dilation)]
    elif padding_kind == "valid":
        padding, pads = "valid", [0] * dims
    else:
        padding = tuple(draw(st.integers(0, 3)) for _ in range(dims))
        pads = [2 * p for p in padding]
    # At least the span of the kernel, counting the padding, and at least one element.
    size = tuple(max(1, d * (k - 1) + 1 - p + draw(st.integers(0, 4)))
                 for k, d, p in zip(kernel, dilation, pads))
    n = draw(st.integers(1, 3))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    bias = draw(st.booleans())
    return dims, (n, in_channels, *size), (out_channels, in_channels // groups, *kernel), \
        bias, options


def _compare_with_torch(dims, x_shape, w_shape, bias, options, seed=0):
    """Forward and the input, weight and bias gradients (float64) against torch."""
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    arrays = random_arrays(*shapes, seed=seed)
    check_forward("numpy", lambda *a: _xpnet_conv(dims)(*a, **options),
                  lambda *a: _torch_conv(dims)(*a, **options), arrays)
    check_grads("numpy", lambda *a: _xpnet_conv(dims)(*a, **options),
                lambda *a: _torch_conv(dims)(*a, **options), arrays)


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "twins"])
@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_conv_matches_torch_over_shapes_and_options(fast, case):
    with xpnet.use_backend("numpy"), xpnet.use_fast_paths(fast):
        _compare_with_torch(*case)


FIXED_CASES = {
    "conv2d 3x3 pad 1": (2, (2, 3, 5, 6), (4, 3, 3, 3), True,
                         {"padding": 1}),
    "conv2d strided dilated groups": (2, (2, 4, 7, 6), (6, 2, 3, 2), True,
                                      {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2),
                                       "groups": 2}),
    "conv2d same even kernel": (2, (1, 2, 5, 5), (3, 2, 2, 4), False,
                                {"padding": "same", "dilation": (2, 1)}),
    "conv1d depthwise": (1, (2, 3, 9), (3, 1, 3), True, {"padding": 2, "groups": 3}),
    "conv1d strided valid": (1, (2, 2, 10), (4, 2, 3), True,
                             {"stride": 3, "padding": "valid", "dilation": 2}),
}


@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_conv_matches_torch_on_every_backend(backend, case):
    dims, x_shape, w_shape, bias, options = FIXED_CASES[case]
    arrays = random_arrays(x_shape, w_shape, *([(w_shape[0],)] if bias else []), seed=1)
    check_forward(backend, lambda *a: _xpnet_conv(dims)(*a, **options),
                  lambda *a: _torch_conv(dims)(*a, **options), arrays)
    check_grads(backend, lambda *a: _xpnet_conv(dims)(*a, **options),
                lambda *a: _torch_conv(dims)(*a, **options), arrays)


@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_conv_gradcheck(backend, case):
    dims, x_shape, w_shape, bias, options = FIXED_CASES[case]
    x_shape = (1, *x_shape[1:])  # a small batch keeps finite differences cheap
    arrays = random_arrays(x_shape, w_shape, *([(w_shape[0],)] if bias else []), seed=2)
    gradcheck(lambda *a: _xpnet_conv(dims)(*a, **options), arrays)


def test_float32_conv_stays_float32_on_the_inputs_device(backend):
    x, w, b = (xpnet.randn(*s) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    for t in (x, w, b):
        t.requires_grad_()
    out = F.conv2d(x, w, b, padding=1)
    assert out.dtype is xpnet.float32
    assert_on_device(out, backend)
    out.sum().backward()
    for t in (x, w, b):
        assert t.grad.dtype is xpnet.float32
        assert_on_device(t.grad, backend)


def test_unbatched_input_gives_unbatched_output(backend):
    x, w = random_arrays((3, 7), (2, 3, 3), seed=3)
    got = F.conv1d(xpnet.tensor(x), xpnet.tensor(w), padding=1)
    assert got.shape == (2, 7)
    assert_close(got, torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), padding=1))


def test_only_the_needed_gradients_are_computed():
    x, w = (xpnet.tensor(a) for a in random_arrays((2, 2, 5, 5), (3, 2, 3, 3), seed=4))
    w.requires_grad_()
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


# -- the NumPy fast path against the twin ------------------------------------------------------

KERNEL_CASES = {
    # wide grid (stride 1, 2-D), odd padding and dilation
    "wide": ((3, 4, 7, 9), (6, 4, 3, 2), {"stride": (1, 1), "padding": ((1, 2), (0, 1)),
                                          "dilation": (2, 1), "groups": 1}),
    # exact grid (strided), groups
    "strided": ((2, 6, 8, 7), (4, 3, 3, 3), {"stride": (2, 3), "padding": ((1, 1), (2, 2)),
                                             "dilation": (1, 1), "groups": 2}),
    "1-D": ((3, 4, 11), (4, 4, 3), {"stride": (1,), "padding": ((2, 1),), "dilation": (3,),
                                     "groups": 1}),
    "1-D strided": ((2, 3, 12), (6, 1, 2), {"stride": (3,), "padding": ((0, 0),),
                                             "dilation": (1,), "groups": 3}),
}


def _kernel_pair(case, dtype):
    x_shape, w_shape, options = KERNEL_CASES[case]
    x, w, b = random_arrays(x_shape, w_shape, (w_shape[0],), seed=5, dtype=dtype)
    b_np = load("numpy")
    return b_np, x, w, b, options


@pytest.mark.parametrize("block_bytes", [1, 1 << 30], ids=["sample_blocks", "one_block"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(KERNEL_CASES))
def test_numpy_conv_kernels_match_the_twins(case, dtype, block_bytes, monkeypatch):
    monkeypatch.setattr(numpy_kernels, "_COLUMN_BLOCK_BYTES", block_bytes)
    backend, x, w, b, options = _kernel_pair(case, dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {}
    outs = {}
    for fast in (True, False):
        forward = get_kernel("conv_forward", backend, fast_paths=fast)
        backward = get_kernel("conv_backward", backend, fast_paths=fast)
        out = forward(backend.xp, x, w, b, **options)
        grad = np.random.default_rng(6).uniform(-1, 1, out.shape).astype(dtype)
        outs[fast] = (out, *backward(backend.xp, grad, x, w, **options))
    assert get_kernel("conv_forward", backend, fast_paths=True) is numpy_kernels.conv_forward
    for got, want in zip(outs[True], outs[False]):
        assert got.dtype == want.dtype == dtype
        assert_close(got, np.asarray(want), **tol)


@pytest.mark.parametrize("need_input, need_weight", [(True, False), (False, True)])
def test_numpy_conv_backward_skips_what_is_not_needed(need_input, need_weight):
    backend, x, w, b, options = _kernel_pair("wide", np.float64)
    out = get_kernel("conv_forward", backend, fast_paths=False)(backend.xp, x, w, b, **options)
    grad = np.random.default_rng(6).uniform(-1, 1, out.shape)
    fast = get_kernel("conv_backward", backend, fast_paths=True)
    twin = get_kernel("conv_backward", backend, fast_paths=False)
    got = fast(backend.xp, grad, x, w, need_input=need_input, need_weight=need_weight, **options)
    want = twin(backend.xp, grad, x, w, **options)
    assert (got[0] is None) != need_input and (got[1] is None) != need_weight
    for g, expected in zip(got, want):
        if g is not None:
            assert_close(g, expected)


def test_numpy_conv_results_do_not_share_the_scratch_buffers():
    backend, x, w, b, options = _kernel_pair("wide", np.float64)
    forward = get_kernel("conv_forward", backend, fast_paths=True)
    first = forward(backend.xp, x, w, b, **options)
    kept = first.copy()
    forward(backend.xp, 2 * x, w, b, **options)
    np.testing.assert_array_equal(first, kept)


# -- layers ------------------------------------------------------------------------------------

LAYERS = {
    "conv2d": (lambda m: m.Conv2d(3, 4, 3), (2, 3, 6, 7)),
    "conv2d_options": (lambda m: m.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2),
                                          dilation=(1, 2), groups=2, bias=False), (2, 4, 7, 6)),
    "conv2d_same": (lambda m: m.Conv2d(2, 3, 4, padding="same"), (1, 2, 5, 6)),
    "conv2d_reflect": (lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       (2, 2, 5, 5)),
    "conv2d_circular_same": (lambda m: m.Conv2d(2, 2, 3, padding="same",
                                                padding_mode="circular"), (1, 2, 4, 5)),
    "conv1d": (lambda m: m.Conv1d(3, 5, 3, padding=1), (2, 3, 8)),
    "conv1d_replicate": (lambda m: m.Conv1d(2, 4, 2, stride=2, padding=1, groups=2,
                                            padding_mode="replicate"), (2, 2, 7)),
}


class _XpnetModules:
    Conv1d, Conv2d = Conv1d, Conv2d


def _layer_pair(name):
    """The xpnet layer (float64) and a torch layer holding a copy of its state dict."""
    build, _ = LAYERS[name]
    layer = build(_XpnetModules).double()
    twin = build(torch.nn).double()
    result = twin.load_state_dict({k: torch.tensor(v.numpy())
                                   for k, v in layer.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return layer, twin


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(backend, name):
    layer, twin = _layer_pair(name)
    x = random_arrays(LAYERS[name][1], seed=7)[0]
    xs, ts = xpnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = layer(xs), twin(ts)
    assert_on_device(out, backend)
    assert_close(out, tout)
    grad = np.random.default_rng(8).uniform(-1, 1, tuple(tout.shape))
    out.backward(xpnet.tensor(grad))
    tout.backward(torch.tensor(grad))
    assert_close(xs.grad, ts.grad)
    torch_params = dict(twin.named_parameters())
    assert sorted(torch_params) == sorted(n for n, _ in layer.named_parameters())
    for pname, p in layer.named_parameters():
        assert_on_device(p.grad, backend)
        assert_close(p.grad, torch_params[pname].grad)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_repr_matches_torch(name):
    build, _ = LAYERS[name]
    assert repr(build(_XpnetModules)) == repr(build(torch.nn))


def test_torch_conv2d_state_dict_loads_and_outputs_agree(backend):
    torch.manual_seed(0)
    twin = torch.nn.Conv2d(3, 8, 5, stride=2, padding=2).double()
    layer = Conv2d(3, 8, 5, stride=2, padding=2).double()
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in twin.state_dict().items()}
    result = layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for p in layer.parameters():
        assert_on_device(p, backend)
    x = random_arrays((2, 3, 11, 9), seed=9)[0]
    assert_close(layer(xpnet.tensor(x)), twin(torch.tensor(x)))


@pytest.mark.parametrize("layer_class, shape", [(Conv1d, (100, 30, 3)),
                                                (Conv2d, (100, 10, 3, 3))])
def test_default_init_is_torchs_uniform_bound(layer_class, shape):
    # kaiming_uniform_(a=sqrt(5)) and the bias both draw U(-b, b), b = 1 / sqrt(fan_in).
    layer = layer_class(shape[1] * 2, shape[0], shape[2:], groups=2)
    bound = 1 / math.sqrt(math.prod(shape[1:]))
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    assert layer.weight.shape == shape and layer.bias.shape == (shape[0],)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    # 9000 uniform draws: the extremes lie within 0.1% of the bound with near certainty, and
    # the standard deviation is bound / sqrt(3) within ~2%.
    assert np.abs(weight).max() > 0.99 * bound
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_layer_dtype_and_backend_arguments(backend):
    layer = Conv2d(2, 3, 3, dtype="float64")
    assert layer.weight.dtype is layer.bias.dtype is xpnet.float64
    assert_on_device(layer.weight, backend)


# -- bad input ---------------------------------------------------------------------------------

def _conv2d_args(x_shape=(1, 3, 8, 8), w_shape=(4, 3, 3, 3)):
    return xpnet.zeros(*x_shape), xpnet.zeros(*w_shape)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv2d(*_conv2d_args((1, 4, 8, 8))), ValueError,
     "conv2d: expected input with weight.shape[1] * groups = 3 * 1 = 3 channels, "
     "got input of shape (1, 4, 8, 8) (4 channels)"),
    (lambda: F.conv2d(*_conv2d_args((1, 4, 8, 8), (4, 2, 3, 3)), groups=3), ValueError,
     "conv2d: out_channels (weight.shape[0] = 4) must be divisible by groups (3)"),
    (lambda: F.conv2d(*_conv2d_args((1, 3, 2, 8))), ValueError,
     "conv2d: kernel size (3, 3) with dilation (1, 1) spans (3, 3), larger than the padded "
     "input (2, 8)"),
    (lambda: F.conv2d(*_conv2d_args((1, 3, 8, 8)), dilation=(1, 4)), ValueError,
     "conv2d: kernel size (3, 3) with dilation (1, 4) spans (3, 9), larger than the padded "
     "input (8, 8)"),
    (lambda: F.conv2d(*_conv2d_args((3, 8)),), ValueError,
     "conv2d: expected input of 3 (unbatched) or 4 (batched) dimensions, got shape (3, 8)"),
    (lambda: F.conv2d(*_conv2d_args(w_shape=(4, 3, 3))), ValueError,
     "conv2d: expected weight of 4 dimensions (out_channels, in_channels / groups, kH, kW), "
     "got shape (4, 3, 3)"),
    (lambda: F.conv2d(*_conv2d_args(), stride=0), ValueError,
     "conv2d: stride must be positive, got 0"),
    (lambda: F.conv2d(*_conv2d_args(), dilation=(1, -1)), ValueError,
     "conv2d: dilation must be positive, got (1, -1)"),
    (lambda: F.conv2d(*_conv2d_args(), stride=(1, 2, 3)), TypeError,
     "conv2d: stride must be an int or a tuple of 2 ints, got (1, 2, 3)"),
    (lambda: F.conv2d(*_conv2d_args(), padding=-1), ValueError,
     "conv2d: padding must be non-negative, got -1"),
    (lambda: F.conv2d(*_conv2d_args(), padding="full"), ValueError,
     "conv2d: padding must be 'same', 'valid', an int or a tuple of 2 ints, got 'full'"),
    (lambda: F.conv2d(*_conv2d_args(), padding="same", stride=2), ValueError,
     "conv2d: padding='same' is not supported for strided convolutions, got stride=(2, 2)"),
    (lambda: F.conv2d(*_conv2d_args(), groups=0), ValueError,
     "conv2d: groups must be positive, got 0"),
    (lambda: F.conv2d(*_conv2d_args(), xpnet.zeros(3)), ValueError,
     "conv2d: expected bias of shape (4,), got (3,)"),
    (lambda: F.conv2d(xpnet.zeros(1, 3, 8, 8), xpnet.zeros(4, 3, 3, 3, dtype="float64")),
     TypeError, "conv2d: input, weight and bias must share a dtype, got float32, float64"),
    (lambda: F.conv1d(xpnet.zeros(1, 3, 8), np.zeros((4, 3, 3))), TypeError,
     "conv1d: weight must be a Tensor, got ndarray"),
    (lambda: F.conv1d(xpnet.zeros(1, 2, 8), xpnet.zeros(4, 3, 3)), ValueError,
     "conv1d: expected input with weight.shape[1] * groups = 3 * 1 = 3 channels, "
     "got input of shape (1, 2, 8) (2 channels)"),
    (lambda: Conv2d(4, 6, 3, groups=4), ValueError,
     "Conv2d: in_channels (4) and out_channels (6) must both be divisible by groups (4)"),
    (lambda: Conv2d(0, 6, 3), ValueError, "Conv2d: in_channels must be a positive int, got 0"),
    (lambda: Conv1d(2, 6, 3, padding_mode="mirror"), ValueError,
     "Conv1d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
     "got 'mirror'"),
    (lambda: Conv2d(2, 6, 3, stride=2, padding="same"), ValueError,
     "Conv2d: padding='same' is not supported for strided convolutions, got stride=(2, 2)"),
    (lambda: Conv2d(2, 6, (3, 3, 3)), TypeError,
     "Conv2d: kernel_size must be an int or a tuple of 2 ints, got (3, 3, 3)"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_bad_input_raises_a_clear_error(backend, call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_tensors_on_two_backends_are_refused():
    x = xpnet.zeros(1, 3, 8, 8, backend="numpy")
    w = xpnet.zeros(4, 3, 3, 3, backend="array_api_strict")
    with pytest.raises(ValueError, match="conv: tensors are on different backends"):
        F.conv2d(x, w)
