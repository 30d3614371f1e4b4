"""Transposed convolutions (ops/conv_transpose.py, functional/conv.py, nn/conv.py and the
``conv_transpose_forward`` kernel) against torch.nn.functional.conv_transpose1d/2d and
torch.nn.ConvTranspose1d/2d, gradcheck on every backend, and the NumPy fast path against its
standard-only twin."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
from xpnet.backend import load
from xpnet.backend.kernels import get_kernel, numpy_kernels
from xpnet.nn.conv import ConvTranspose1d, ConvTranspose2d

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _functions(dims):
    if dims == 1:
        return F.conv_transpose1d, TF.conv_transpose1d
    return F.conv_transpose2d, TF.conv_transpose2d


@st.composite
def transpose_cases(draw):
    """Shapes and options of one valid transposed convolution: 1 or 2 spatial axes, groups,
    stride, padding, output_padding (below the stride or the dilation) and dilation."""
    dims = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation))
    size = tuple(draw(st.integers(1, 5)) for _ in range(dims))
    # Padding up to what still leaves an output of at least one position.
    padding = tuple(draw(st.integers(0, max(0, ((n - 1) * s + d * (k - 1) + o) // 2)))
                    for n, s, d, k, o in zip(size, stride, dilation, kernel, output_padding))
    n = draw(st.integers(1, 2))
    options = {"stride": stride, "padding": padding, "output_padding": output_padding,
               "dilation": dilation, "groups": groups}
    return dims, (n, in_channels, *size), (in_channels, out_channels // groups, *kernel), \
        draw(st.booleans()), options


def _compare_with_torch(backend, dims, x_shape, w_shape, bias, options, seed=0):
    """Forward and the input, weight and bias gradients (float64) against torch."""
    shapes = [x_shape, w_shape] + ([(w_shape[1] * options.get("groups", 1),)] if bias else [])
    arrays = random_arrays(*shapes, seed=seed)
    fn, torch_fn = _functions(dims)
    check_forward(backend, lambda *a: fn(*a, **options), lambda *a: torch_fn(*a, **options),
                  arrays)
    check_grads(backend, lambda *a: fn(*a, **options), lambda *a: torch_fn(*a, **options),
                arrays)


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "twins"])
@settings(max_examples=25, deadline=None)
@given(case=transpose_cases())
def test_conv_transpose_matches_torch_over_shapes_and_options(fast, case):
    with xpnet.use_backend("numpy"), xpnet.use_fast_paths(fast):
        _compare_with_torch("numpy", *case)


FIXED_CASES = {
    "dcgan k4 s2 p1": (2, (2, 2, 3, 3), (2, 2, 4, 4), True, {"stride": 2, "padding": 1}),
    "options": (2, (2, 4, 4, 3), (4, 2, 3, 2), True,
                {"stride": (2, 1), "padding": (1, 0), "output_padding": (1, 0),
                 "dilation": (1, 2), "groups": 2}),
    # output_padding >= stride (allowed below the dilation): the input is extended with zeros
    "output_padding past the stride": (2, (1, 2, 3, 4), (2, 3, 2, 3), False,
                                       {"stride": (1, 2), "output_padding": (1, 1),
                                        "dilation": (2, 2), "padding": (0, 1)}),
    "1-d depthwise": (1, (2, 3, 5), (3, 1, 3), True, {"stride": 3, "padding": 1, "groups": 3}),
    "1-d stride 1": (1, (2, 2, 6), (2, 4, 3), False, {"padding": 2}),
}


@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_conv_transpose_matches_torch_on_every_backend(backend, case):
    _compare_with_torch(backend, *FIXED_CASES[case], seed=1)


@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_conv_transpose_gradcheck(backend, case):
    dims, x_shape, w_shape, bias, options = FIXED_CASES[case]
    shapes = [(1, *x_shape[1:]), w_shape] + ([(w_shape[1] * options.get("groups", 1),)]
                                            if bias else [])
    fn = _functions(dims)[0]
    gradcheck(lambda *a: fn(*a, **options), random_arrays(*shapes, seed=2))


def test_float32_conv_transpose_stays_float32_on_the_inputs_device(backend):
    x, w, b = (xpnet.randn(*s) for s in ((2, 3, 4, 4), (3, 5, 4, 4), (5,)))
    for t in (x, w, b):
        t.requires_grad_()
    out = F.conv_transpose2d(x, w, b, stride=2, padding=1)
    assert out.shape == (2, 5, 8, 8) and out.dtype is xpnet.float32
    assert_on_device(out, backend)
    out.sum().backward()
    for t in (x, w, b):
        assert t.grad.dtype is xpnet.float32
        assert_on_device(t.grad, backend)


def test_unbatched_input_gives_unbatched_output(backend):
    x, w = random_arrays((3, 5), (3, 2, 3), seed=3)
    got = F.conv_transpose1d(xpnet.tensor(x), xpnet.tensor(w), stride=2)
    assert got.shape == (2, 11)
    assert_close(got, TF.conv_transpose1d(torch.tensor(x), torch.tensor(w), stride=2))


def test_only_the_needed_gradients_are_computed():
    x, w = (xpnet.tensor(a) for a in random_arrays((2, 2, 4, 4), (2, 3, 3, 3), seed=4))
    w.requires_grad_()
    F.conv_transpose2d(x, w, stride=2).sum().backward()
    assert x.grad is None and w.grad is not None


# -- the kernel: NumPy fast path against the twin ----------------------------------------------

KERNEL_CASES = {
    # (x shape, weight shape, options); output_size is a convolution's input size
    "strided": ((3, 4, 5, 4), (4, 3, 4, 3), {"stride": (2, 2), "padding": ((1, 1), (0, 0)),
                                             "dilation": (1, 1), "groups": 1}),
    "wide grid, groups": ((2, 6, 5, 6), (6, 2, 3, 2), {"stride": (1, 1),
                                                       "padding": ((1, 1), (0, 0)),
                                                       "dilation": (1, 2), "groups": 3}),
    "1-D": ((2, 3, 7), (3, 4, 3), {"stride": (3,), "padding": ((2, 2),), "dilation": (2,),
                                   "groups": 1}),
}


def _kernel_output_size(x_shape, w_shape, options):
    return tuple((n - 1) * s - lo - hi + d * (k - 1) + 1 for n, k, s, (lo, hi), d in zip(
        x_shape[2:], w_shape[2:], options["stride"], options["padding"], options["dilation"]))


@pytest.mark.parametrize("block_bytes", [1, 1 << 30], ids=["sample_blocks", "one_block"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(KERNEL_CASES))
def test_numpy_conv_transpose_kernel_matches_the_twin(case, dtype, block_bytes, monkeypatch):
    monkeypatch.setattr(numpy_kernels, "_COLUMN_BLOCK_BYTES", block_bytes)
    x_shape, w_shape, options = KERNEL_CASES[case]
    groups = options["groups"]
    x, w, b = random_arrays(x_shape, w_shape, (w_shape[1] * groups,), seed=5, dtype=dtype)
    backend = load("numpy")
    size = _kernel_output_size(x_shape, w_shape, options)
    fast = get_kernel("conv_transpose_forward", backend, fast_paths=True)
    twin = get_kernel("conv_transpose_forward", backend, fast_paths=False)
    assert fast is numpy_kernels.conv_transpose_forward and twin is not fast
    got = fast(np, x, w, b, output_size=size, **options)
    want = twin(np, x, w, b, output_size=size, **options)
    assert got.dtype == want.dtype == dtype
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {}
    assert_close(got, np.asarray(want), **tol)
    # The result owns its memory (no scratch buffer is handed out).
    kept = got.copy()
    fast(np, 2 * x, w, b, output_size=size, **options)
    np.testing.assert_array_equal(got, kept)


def test_conv_transpose_kernel_twin_runs_on_every_backend(backend):
    x_shape, w_shape, options = KERNEL_CASES["strided"]
    x, w, b = random_arrays(x_shape, w_shape, (w_shape[1],), seed=6)
    b_ = load(backend)
    twin = get_kernel("conv_transpose_forward", b_, fast_paths=False)
    size = _kernel_output_size(x_shape, w_shape, options)
    out = twin(b_.xp, *(b_.asarray(a) for a in (x, w, b)), output_size=size, **options)
    want = TF.conv_transpose2d(*map(torch.tensor, (x, w, b)), stride=2, padding=(1, 0))
    assert_close(xpnet.Tensor(out), want)


# -- layers ------------------------------------------------------------------------------------

LAYERS = {
    "ConvTranspose2d": (lambda m: m.ConvTranspose2d(3, 4, 3), (2, 3, 4, 5)),
    "ConvTranspose2d dcgan": (lambda m: m.ConvTranspose2d(4, 2, 4, 2, 1, bias=False),
                              (2, 4, 3, 3)),
    "ConvTranspose2d options": (lambda m: m.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3),
                                                            padding=(1, 0),
                                                            output_padding=(1, 2), groups=2,
                                                            dilation=(1, 2)), (1, 4, 3, 4)),
    "ConvTranspose1d": (lambda m: m.ConvTranspose1d(2, 3, 5, stride=2, padding=2,
                                                    output_padding=1), (2, 2, 6)),
}


class _XpnetModules:
    ConvTranspose1d, ConvTranspose2d = ConvTranspose1d, ConvTranspose2d


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


@pytest.mark.parametrize("output_size", [(7, 10), [1, 4, 8, 12], (8, 11)])
def test_forward_output_size_picks_the_output_padding_as_torch(backend, output_size):
    layer = ConvTranspose2d(3, 4, 3, stride=(2, 3), padding=1).double()
    twin = torch.nn.ConvTranspose2d(3, 4, 3, stride=(2, 3), padding=1).double()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    x = random_arrays((1, 3, 4, 4), seed=9)[0]
    out = layer(xpnet.tensor(x), output_size=output_size)
    assert_close(out, twin(torch.tensor(x), output_size=output_size))


def test_torch_conv_transpose_state_dict_loads_and_outputs_agree(backend):
    torch.manual_seed(0)
    twin = torch.nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2).double()
    layer = ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2).double()
    assert layer.weight.shape == (6, 2, 4, 4)
    result = layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = random_arrays((2, 6, 5, 3), seed=10)[0]
    assert_close(layer(xpnet.tensor(x)), twin(torch.tensor(x)))


def test_default_init_is_torchs_uniform_bound():
    # kaiming_uniform_(a=sqrt(5)) and the bias draw U(-b, b), b = 1 / sqrt(fan_in), where
    # fan_in is weight.shape[1] * prod(kernel) = out_channels / groups * prod(kernel).
    layer = ConvTranspose2d(200, 20, 3, groups=2)
    bound = 1 / math.sqrt(10 * 9)
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    assert layer.weight.shape == (200, 10, 3, 3) and layer.bias.shape == (20,)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


# -- bad input ---------------------------------------------------------------------------------

def _args(x_shape=(1, 4, 5, 5), w_shape=(4, 3, 3, 3)):
    return xpnet.zeros(*x_shape), xpnet.zeros(*w_shape)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv_transpose2d(*_args((1, 3, 5, 5))), ValueError,
     "conv_transpose2d: expected input with weight.shape[0] = 4 channels, got input of shape "
     "(1, 3, 5, 5) (3 channels)"),
    (lambda: F.conv_transpose2d(*_args(), groups=3), ValueError,
     "conv_transpose2d: in_channels (weight.shape[0] = 4) must be divisible by groups (3)"),
    (lambda: F.conv_transpose2d(*_args(), stride=2, output_padding=2), ValueError,
     "conv_transpose2d: output_padding must be smaller than either stride or dilation on each "
     "axis, got output_padding=(2, 2), stride=(2, 2), dilation=(1, 1)"),
    (lambda: F.conv_transpose2d(*_args((1, 4, 2, 2)), padding=3), ValueError,
     "conv_transpose2d: input of spatial size (2, 2) gives an output of size (-2, -2)"),
    (lambda: F.conv_transpose2d(*_args(), padding="same"), ValueError,
     "conv_transpose2d: padding must be an int or a tuple of 2 ints, got 'same'"),
    (lambda: F.conv_transpose2d(*_args(), stride=0), ValueError,
     "conv_transpose2d: stride must be positive, got 0"),
    (lambda: F.conv_transpose2d(*_args(), output_padding=(1, 2, 3)), TypeError,
     "conv_transpose2d: output_padding must be an int or a tuple of 2 ints, got (1, 2, 3)"),
    (lambda: F.conv_transpose2d(*_args(), xpnet.zeros(4)), ValueError,
     "conv_transpose2d: expected bias of shape (weight.shape[1] * groups,) = (3,), got (4,)"),
    (lambda: F.conv_transpose2d(*_args((4, 5)),), ValueError,
     "conv_transpose2d: expected input of 3 (unbatched) or 4 (batched) dimensions, got shape "
     "(4, 5)"),
    (lambda: F.conv_transpose1d(xpnet.zeros(1, 4, 5), np.zeros((4, 3, 3))), TypeError,
     "conv_transpose1d: weight must be a Tensor, got ndarray"),
    (lambda: F.conv_transpose1d(xpnet.zeros(1, 4, 5), xpnet.zeros(4, 3, 3, dtype="float64")),
     TypeError, "conv_transpose1d: input, weight and bias must share a dtype"),
    (lambda: ConvTranspose2d(4, 6, 3, padding_mode="reflect"), ValueError,
     "ConvTranspose2d: only padding_mode='zeros' is supported, got 'reflect'"),
    (lambda: ConvTranspose2d(4, 6, 3, groups=4), ValueError,
     "ConvTranspose2d: in_channels (4) and out_channels (6) must both be divisible by groups"),
    (lambda: ConvTranspose1d(4, 6, 3, output_padding=-1), ValueError,
     "ConvTranspose1d: output_padding must be non-negative, got -1"),
    (lambda: ConvTranspose2d(4, 6, 3, stride=2)(xpnet.zeros(1, 4, 5, 5), output_size=(1, 13)),
     ValueError, "ConvTranspose2d: requested an output size of (1, 13), but valid sizes range "
                 "from (11, 11) to (12, 12)"),
    (lambda: ConvTranspose2d(4, 6, 3)(xpnet.zeros(1, 4, 5, 5), output_size=(7,)), ValueError,
     "ConvTranspose2d: for 4-D input, output_size must have 2 or 4 elements, got (7,)"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
