"""Resampling and pixel shuffles (ops/interpolate.py, functional/vision.py, nn/upsampling.py)
against torch.nn.functional.interpolate / pixel_shuffle / pixel_unshuffle and torch's layers,
with gradcheck on every backend."""

from __future__ import annotations

import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
from xpnet.nn.upsampling import (
    PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d,
)
from xpnet.ops import interpolate as interpolate_op

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

_RANKS = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,),
          "bicubic": (4,), "trilinear": (5,), "area": (3, 4)}


def _torch_gradient_is_its_forwards(mode, x_shape, options):
    """False where torch's backward is not the gradient of its own forward (torch 2.13; its
    gradcheck fails there too), with a scale factor (not recomputed): legacy nearest on 1-D and
    3-D input with an axis whose size stays or doubles, and bicubic keeping every size. xpnet
    gives the adjoint of the forward there (see xpnet/ops/interpolate.py)."""
    factors = options.get("scale_factor")
    if factors is None or options.get("recompute_scale_factor"):
        return True
    factors = factors if isinstance(factors, tuple) else (factors,) * (len(x_shape) - 2)
    sizes = [(n, int(n * f)) for n, f in zip(x_shape[2:], factors)]
    if mode == "bicubic":
        return not all(n == out for n, out in sizes)
    return mode != "nearest" or len(x_shape) == 4 or not any(out in (n, 2 * n)
                                                             for n, out in sizes)


def _compare(backend, mode, x_shape, options, seed=0):
    x = random_arrays(x_shape, seed=seed)[0]
    fn = lambda t: F.interpolate(t, mode=mode, **options)  # noqa: E731
    torch_fn = lambda t: TF.interpolate(t, mode=mode, **options)  # noqa: E731
    check_forward(backend, fn, torch_fn, [x])
    if _torch_gradient_is_its_forwards(mode, x_shape, options):
        check_grads(backend, fn, torch_fn, [x])


@st.composite
def interpolate_cases(draw):
    """A mode, an input shape of its rank, and size or scale_factor (non-integer ratios
    included), align_corners and recompute_scale_factor."""
    mode = draw(st.sampled_from(sorted(_RANKS)))
    rank = draw(st.sampled_from(_RANKS[mode]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(rank - 2))
    options = {}
    if draw(st.booleans()):
        size = tuple(draw(st.integers(1, 9)) for _ in spatial)
        options["size"] = size if len(size) > 1 or draw(st.booleans()) else size[0]
    else:
        factors = tuple(draw(st.floats(0.3, 3.2).filter(lambda f, n=n: int(n * f) >= 1))
                        for n in spatial)
        options["scale_factor"] = factors
        options["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        options["align_corners"] = draw(st.sampled_from([None, False, True]))
    return mode, (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial), options


def _maps(path):
    """Short axes go through dense matrices; 'taps' forces the gather/scatter of long ones."""
    return mock.patch.object(interpolate_op, "_DENSE_ENTRIES", 0 if path == "taps" else 1 << 19)


@pytest.mark.parametrize("path", ["dense", "taps"])
@settings(max_examples=40, deadline=None)
@given(case=interpolate_cases())
def test_interpolate_matches_torch_over_modes_sizes_and_scales(path, case):
    with xpnet.use_backend("numpy"), _maps(path):
        _compare("numpy", *case)


FIXED = {
    "nearest 2x": ("nearest", (2, 2, 3, 4), {"scale_factor": 2}),
    "nearest 1-d 1.7": ("nearest", (2, 2, 5), {"scale_factor": 1.7}),
    "nearest down to size": ("nearest", (1, 2, 7, 5), {"size": (3, 4)}),
    "nearest-exact 2.5": ("nearest-exact", (1, 2, 3, 4), {"scale_factor": (2.5, 1.5)}),
    "linear": ("linear", (2, 2, 5), {"size": 8}),
    "linear align_corners": ("linear", (2, 2, 5), {"scale_factor": 1.5, "align_corners": True}),
    "bilinear 0.6": ("bilinear", (1, 2, 5, 6), {"scale_factor": (0.6, 1.7)}),
    "bilinear align_corners": ("bilinear", (1, 2, 3, 4), {"size": (5, 7),
                                                          "align_corners": True}),
    "bicubic": ("bicubic", (1, 1, 4, 5), {"scale_factor": 1.6}),
    "trilinear": ("trilinear", (1, 1, 2, 3, 3), {"size": (3, 4, 2)}),
    "area": ("area", (1, 2, 6, 5), {"size": (4, 3)}),
}


@pytest.mark.parametrize("path", ["dense", "taps"])
@pytest.mark.parametrize("name", list(FIXED))
def test_interpolate_matches_torch_on_every_backend(backend, name, path):
    with _maps(path):
        _compare(backend, *FIXED[name], seed=1)


@pytest.mark.parametrize("name", list(FIXED))
def test_interpolate_gradcheck(backend, name):
    mode, x_shape, options = FIXED[name]
    with _maps("dense" if "linear" in mode else "taps"):
        gradcheck(lambda t: F.interpolate(t, mode=mode, **options),
                  random_arrays((1, 1, *x_shape[2:]), seed=2))


def test_interpolate_keeps_float32_on_the_inputs_device(backend):
    x = xpnet.randn(2, 3, 4, 5, requires_grad=True)
    out = F.interpolate(x, scale_factor=1.5, mode="bilinear")
    assert out.shape == (2, 3, 6, 7) and out.dtype is xpnet.float32
    assert_on_device(out, backend)
    out.sum().backward()
    assert x.grad.dtype is xpnet.float32
    assert_on_device(x.grad, backend)


def test_interpolate_gradient_is_the_adjoint_where_torch_1d_nearest_is_not(backend):
    # torch 2.13: upsample_nearest1d samples 3 -> 3 with scale 1/1.3 (sources 0, 0, 1) but its
    # backward copies (sources 0, 1, 2); xpnet follows the forward and differentiates it.
    x = xpnet.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    out = F.interpolate(x, scale_factor=1.3)
    assert out.tolist() == [[[1.0, 1.0, 2.0]]]
    out.backward(xpnet.tensor([[[1.0, 10.0, 100.0]]]))
    assert x.grad.tolist() == [[[11.0, 100.0, 0.0]]]


def test_bicubic_keeping_the_size_with_a_scale_factor_matches_torch_and_gradchecks(backend):
    # torch's forward resamples with 1 / 1.25 here, its backward copies (torch 2.13).
    options = {"scale_factor": (1.0, 1.25), "mode": "bicubic"}
    x = random_arrays((1, 1, 2, 2), seed=5)[0]
    check_forward(backend, lambda t: F.interpolate(t, **options),
                  lambda t: TF.interpolate(t, **options), [x])
    gradcheck(lambda t: F.interpolate(t, **options), [x])


# -- layers ------------------------------------------------------------------------------------

LAYERS = {
    "Upsample": (lambda m: m.Upsample(scale_factor=2), (2, 2, 3, 4)),
    "Upsample size bilinear": (lambda m: m.Upsample(size=(5, 7), mode="bilinear"),
                               (1, 2, 3, 4)),
    "Upsample tuple linear": (lambda m: m.Upsample(scale_factor=(1.5,), mode="linear",
                                                   align_corners=True), (2, 2, 4)),
    "Upsample recompute": (lambda m: m.Upsample(scale_factor=1.7, mode="bicubic",
                                                recompute_scale_factor=True), (1, 1, 4, 4)),
    "UpsamplingNearest2d": (lambda m: m.UpsamplingNearest2d(scale_factor=3), (1, 2, 2, 3)),
    "UpsamplingBilinear2d": (lambda m: m.UpsamplingBilinear2d(size=(4, 5)), (1, 2, 3, 3)),
    "PixelShuffle": (lambda m: m.PixelShuffle(2), (2, 8, 3, 2)),
    "PixelShuffle batch axes": (lambda m: m.PixelShuffle(3), (2, 1, 9, 2, 2)),
    "PixelShuffle unbatched": (lambda m: m.PixelShuffle(2), (4, 2, 3)),
    "PixelUnshuffle": (lambda m: m.PixelUnshuffle(2), (2, 3, 4, 6)),
}


class _XpnetModules:
    PixelShuffle, PixelUnshuffle, Upsample = PixelShuffle, PixelUnshuffle, Upsample
    UpsamplingBilinear2d, UpsamplingNearest2d = UpsamplingBilinear2d, UpsamplingNearest2d


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(backend, name):
    build, shape = LAYERS[name]
    x = random_arrays(shape, seed=3)[0]
    check_forward(backend, build(_XpnetModules), build(torch.nn), [x])
    check_grads(backend, build(_XpnetModules), build(torch.nn), [x])


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_repr_matches_torch(name):
    build, _ = LAYERS[name]
    assert repr(build(_XpnetModules)) == repr(build(torch.nn))


@pytest.mark.parametrize("fn, shape", [(lambda t: F.pixel_shuffle(t, 2), (1, 4, 2, 3)),
                                       (lambda t: F.pixel_unshuffle(t, 2), (1, 1, 4, 2))])
def test_pixel_shuffle_gradcheck(backend, fn, shape):
    gradcheck(fn, random_arrays(shape, seed=4))


def test_pixel_unshuffle_inverts_pixel_shuffle(backend):
    x = xpnet.randn(2, 18, 4, 5)
    assert xpnet.equal(F.pixel_unshuffle(F.pixel_shuffle(x, 3), 3), x)


# -- bad input ---------------------------------------------------------------------------------

def _x(*shape):
    return xpnet.zeros(*shape)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.interpolate(_x(1, 1, 4), size=3, scale_factor=2), ValueError,
     "interpolate: give only one of size and scale_factor"),
    (lambda: F.interpolate(_x(1, 1, 4)), ValueError,
     "interpolate: either size or scale_factor must be given"),
    (lambda: F.interpolate(_x(1, 1, 4, 4), size=(3, 4, 5)), ValueError,
     "interpolate: expected size with one entry per spatial axis (2) of the input, whose "
     "spatial shape is (4, 4); got size=(3, 4, 5)"),
    (lambda: F.interpolate(_x(1, 1, 4, 4), scale_factor=(2,)), ValueError,
     "interpolate: expected scale_factor with one entry per spatial axis (2)"),
    (lambda: F.interpolate(_x(1, 1, 4), size=2.5), TypeError,
     "interpolate: size must be an int or a tuple of 1 ints, got 2.5"),
    (lambda: F.interpolate(_x(1, 1, 4), scale_factor="2"), TypeError,
     "interpolate: scale_factor must be a number or a tuple of 1 numbers, got '2'"),
    (lambda: F.interpolate(_x(1, 1, 4), scale_factor=0.1), ValueError,
     "interpolate: input and output sizes must be positive, got input of spatial shape (4,) "
     "and output (0,)"),
    (lambda: F.interpolate(_x(1, 1, 4), size=3, recompute_scale_factor=True), ValueError,
     "interpolate: recompute_scale_factor is not meaningful with an explicit size"),
    (lambda: F.interpolate(_x(1, 1, 4, 4), size=3, mode="linear"), ValueError,
     "interpolate: mode='linear' needs a 3-D input, got shape (1, 1, 4, 4)"),
    (lambda: F.interpolate(_x(1, 1, 4), size=3, mode="bilinear"), ValueError,
     "interpolate: mode='bilinear' needs a 4-D input, got shape (1, 1, 4)"),
    (lambda: F.interpolate(_x(1, 4), size=3), ValueError,
     "interpolate: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, "
     "got shape (1, 4)"),
    (lambda: F.interpolate(_x(1, 1, 4), size=3, mode="cubic"), ValueError,
     "interpolate: mode must be one of 'nearest', 'nearest-exact', 'linear', 'bilinear', "
     "'bicubic', 'trilinear', 'area', got 'cubic'"),
    (lambda: F.interpolate(_x(1, 1, 4), size=3, align_corners=False), ValueError,
     "interpolate: align_corners can only be set with the interpolating modes linear, "
     "bilinear, bicubic, trilinear; got mode='nearest'"),
    (lambda: F.interpolate(_x(1, 1, 4, 4), size=3, mode="bilinear", antialias=True),
     NotImplementedError, "interpolate: antialias=True is not supported"),
    (lambda: F.interpolate(xpnet.zeros(1, 1, 4, dtype="int64"), size=3), TypeError,
     "interpolate: input must be floating point, got int64"),
    (lambda: F.pixel_shuffle(_x(1, 6, 2, 2), 2), ValueError,
     "pixel_shuffle: the channel axis (size 6, input of shape (1, 6, 2, 2)) must be divisible "
     "by upscale_factor**2 = 4"),
    (lambda: F.pixel_shuffle(_x(4, 2), 2), ValueError,
     "pixel_shuffle: expected an input of at least 3 dimensions (*, C, H, W), got shape (4, 2)"),
    (lambda: F.pixel_shuffle(_x(1, 4, 2, 2), 0), ValueError,
     "pixel_shuffle: upscale_factor must be a positive int, got 0"),
    (lambda: F.pixel_unshuffle(_x(1, 1, 4, 3), 2), ValueError,
     "pixel_unshuffle: the height and width (input of shape (1, 1, 4, 3)) must be divisible "
     "by downscale_factor = 2"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_upsample_stores_scale_factors_as_floats_like_torch():
    assert Upsample(scale_factor=2).scale_factor == 2.0
    assert Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    assert Upsample(size=4).scale_factor is None
    assert_close(Upsample(size=(2, 2), mode="area")(xpnet.ones(1, 1, 4, 4)),
                 np.ones((1, 1, 2, 2)))
