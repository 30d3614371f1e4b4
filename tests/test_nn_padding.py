"""Padding layers (nn/padding.py) against torch.nn's: values, gradients, reprs and errors on
every backend, and gradcheck."""

from __future__ import annotations

import re

import pytest

import xpnet
from xpnet.nn import padding as xpnet_padding

from .conftest import random_arrays
from .op_checks import check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")

LAYERS = {
    "ZeroPad1d": (lambda m: m.ZeroPad1d(2), (2, 3, 4)),
    "ZeroPad1d tuple": (lambda m: m.ZeroPad1d((0, 3)), (3, 4)),
    "ZeroPad2d": (lambda m: m.ZeroPad2d((1, 2, 0, 3)), (2, 2, 3, 4)),
    "ZeroPad2d crop": (lambda m: m.ZeroPad2d((-1, 2, 1, -2)), (1, 2, 4, 4)),
    "ConstantPad1d": (lambda m: m.ConstantPad1d((2, 1), 3.5), (2, 2, 3)),
    "ConstantPad2d": (lambda m: m.ConstantPad2d(1, -1.0), (2, 3, 3)),
    "ConstantPad2d 5-D": (lambda m: m.ConstantPad2d((0, 1, 2, 0), 2), (1, 2, 2, 3, 3)),
    "ReflectionPad1d": (lambda m: m.ReflectionPad1d((3, 1)), (2, 2, 4)),
    "ReflectionPad2d": (lambda m: m.ReflectionPad2d((1, 2, 2, 0)), (2, 2, 3, 4)),
    "ReflectionPad2d unbatched": (lambda m: m.ReflectionPad2d(1), (2, 3, 3)),
    "ReplicationPad1d": (lambda m: m.ReplicationPad1d(3), (2, 2, 2)),
    "ReplicationPad2d": (lambda m: m.ReplicationPad2d((0, 2, 3, 1)), (1, 2, 3, 3)),
    "CircularPad1d": (lambda m: m.CircularPad1d((1, 3)), (2, 2, 3)),
    "CircularPad2d": (lambda m: m.CircularPad2d((2, 1, 1, 3)), (2, 1, 3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_padding_layer_matches_torch(backend, name):
    build, shape = LAYERS[name]
    x = random_arrays(shape, seed=0)[0]
    check_forward(backend, build(xpnet_padding), build(torch.nn), [x])
    check_grads(backend, build(xpnet_padding), build(torch.nn), [x])


@pytest.mark.parametrize("name", list(LAYERS))
def test_padding_layer_repr_and_padding_match_torch(name):
    build, _ = LAYERS[name]
    layer, twin = build(xpnet_padding), build(torch.nn)
    assert repr(layer) == repr(twin)
    assert layer.padding == twin.padding


@pytest.mark.parametrize("name", ["ZeroPad2d crop", "ReflectionPad2d", "ReplicationPad1d",
                                  "CircularPad2d"])
def test_padding_gradcheck(backend, name):
    build, shape = LAYERS[name]
    gradcheck(build(xpnet_padding), random_arrays((1, *shape[1:]), seed=1))


def test_padding_layers_are_in_torch_nn_families():
    from xpnet.nn.modules import padding

    assert padding.ReflectionPad2d is xpnet.nn.ReflectionPad2d is xpnet_padding.ReflectionPad2d


@pytest.mark.parametrize("call, error, message", [
    (lambda: xpnet_padding.ZeroPad2d((1, 2)), TypeError,
     "ZeroPad2d: padding must be an int or a tuple of 4 ints, got (1, 2)"),
    (lambda: xpnet_padding.ReflectionPad1d(1.5), TypeError,
     "ReflectionPad1d: padding must be an int or a tuple of 2 ints, got 1.5"),
    (lambda: xpnet_padding.ConstantPad1d(1, "zero"), TypeError,
     "ConstantPad1d: value must be a number, got 'zero'"),
    (lambda: xpnet_padding.ReflectionPad2d(3)(xpnet.zeros(1, 1, 3, 5)), ValueError,
     "ReflectionPad2d: padding (3, 3) must be smaller than the size 3 of axis 2 (input of shape "
     "(1, 1, 3, 5))"),
    (lambda: xpnet_padding.CircularPad1d((4, 0))(xpnet.zeros(1, 3)), ValueError,
     "CircularPad1d: padding (4, 0) wraps around axis 1 (size 3) more than once"),
    (lambda: xpnet_padding.ReplicationPad2d(1)(xpnet.zeros(3, 3)), ValueError,
     "ReplicationPad2d: expected a 3-D (unbatched) or 4-D input, got shape (3, 3)"),
    (lambda: xpnet_padding.ReplicationPad1d(-1)(xpnet.zeros(2, 3)), ValueError,
     "ReplicationPad1d: negative padding is only supported by the constant padding layers"),
    (lambda: xpnet_padding.ZeroPad1d((-2, -1))(xpnet.zeros(2, 3)), ValueError,
     "ZeroPad1d: padding (-2, -1) crops all of axis 1 (size 3)"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
