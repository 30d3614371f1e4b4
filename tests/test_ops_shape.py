"""Shape and layout ops: reshape, permute, squeeze, expand, flip, concat/stack/split, pad."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

# id -> (xpnet function, torch function, input shapes)
CASES = {
    "reshape": (lambda x: xpnet.reshape(x, (4, 6)), lambda t: t.reshape(4, 6), [(2, 3, 4)]),
    "reshape_minus_one": (lambda x: xpnet.reshape(x, (-1, 2)), lambda t: t.reshape(-1, 2),
                          [(2, 3, 4)]),
    "reshape_zero_d": (lambda x: xpnet.reshape(x, (1, 1)), lambda t: t.reshape(1, 1), [()]),
    "permute": (lambda x: xpnet.permute(x, (2, 0, 1)), lambda t: t.permute(2, 0, 1),
                [(2, 3, 4)]),
    "permute_negative": (lambda x: xpnet.permute(x, (-1, 0, -2)), lambda t: t.permute(-1, 0, -2),
                         [(2, 3, 4)]),
    "swapaxes": (lambda x: xpnet.swapaxes(x, 0, 2), lambda t: torch.transpose(t, 0, 2),
                 [(2, 3, 4)]),
    "flatten": (xpnet.flatten, lambda t: torch.flatten(t), [(2, 3, 4)]),
    "flatten_1_2": (lambda x: xpnet.flatten(x, 1, 2), lambda t: torch.flatten(t, 1, 2),
                    [(2, 3, 4)]),
    "squeeze": (xpnet.squeeze, lambda t: torch.squeeze(t), [(2, 1, 3, 1)]),
    "squeeze_axis": (lambda x: xpnet.squeeze(x, 1), lambda t: torch.squeeze(t, 1), [(2, 1, 3, 1)]),
    "squeeze_axes": (lambda x: xpnet.squeeze(x, (1, -1, 0)), lambda t: torch.squeeze(t, (1, -1, 0)),
                     [(2, 1, 3, 1)]),
    "unsqueeze_0": (lambda x: xpnet.unsqueeze(x, 0), lambda t: torch.unsqueeze(t, 0), [(2, 3)]),
    "unsqueeze_last": (lambda x: xpnet.unsqueeze(x, -1), lambda t: torch.unsqueeze(t, -1),
                       [(2, 3)]),
    "expand": (lambda x: xpnet.expand(x, (2, -1, 4)), lambda t: t.expand(2, -1, 4), [(3, 1)]),
    "broadcast_to": (lambda x: xpnet.broadcast_to(x, (2, 3, 4)),
                     lambda t: torch.broadcast_to(t, (2, 3, 4)), [(3, 1)]),
    "flip": (xpnet.flip, lambda t: torch.flip(t, (0, 1, 2)), [(2, 3, 4)]),
    "flip_axis": (lambda x: xpnet.flip(x, -1), lambda t: torch.flip(t, (-1,)), [(2, 3, 4)]),
    "flip_axes": (lambda x: xpnet.flip(x, (0, 2)), lambda t: torch.flip(t, (0, 2)), [(2, 3, 4)]),
    "concat": (lambda *xs: xpnet.concat(xs), lambda *ts: torch.cat(ts), [(2, 3), (1, 3), (2, 3)]),
    "concat_axis_1": (lambda *xs: xpnet.concat(xs, axis=-1), lambda *ts: torch.cat(ts, dim=-1),
                      [(2, 3), (2, 1)]),
    "stack": (lambda *xs: xpnet.stack(xs), lambda *ts: torch.stack(ts), [(2, 3), (2, 3)]),
    "stack_last": (lambda *xs: xpnet.stack(xs, axis=-1), lambda *ts: torch.stack(ts, dim=-1),
                   [(2, 3), (2, 3), (2, 3)]),
    "split_size": (lambda x: xpnet.split(x, 2), lambda t: torch.split(t, 2), [(5, 3)]),
    "split_sections": (lambda x: xpnet.split(x, [1, 0, 3], axis=1),
                       lambda t: torch.split(t, [1, 0, 3], dim=1), [(2, 4)]),
    "chunk": (lambda x: xpnet.chunk(x, 3, axis=1), lambda t: torch.chunk(t, 3, dim=1), [(2, 5)]),
    "chunk_uneven": (lambda x: xpnet.chunk(x, 4), lambda t: torch.chunk(t, 4), [(5,)]),
    "pad_constant": (lambda x: F.pad(x, (1, 2, 0, 1, 1, 0), value=0.5),
                     lambda t: TF.pad(t, (1, 2, 0, 1, 1, 0), value=0.5), [(2, 3, 4)]),
    "pad_constant_last": (lambda x: F.pad(x, (2, 1)), lambda t: TF.pad(t, (2, 1)), [(2, 3, 4)]),
}
PAD_MODES = ["reflect", "replicate", "circular"]
for _mode in PAD_MODES:
    for _pad in [(1, 2), (1, 1, 2, 0)]:
        # torch pads (C, W) / (C, H, W) inputs in these modes; the same 3-D input serves both.
        CASES[f"pad_{_mode}_{len(_pad) // 2}d"] = (
            lambda x, m=_mode, p=_pad: F.pad(x, p, mode=m),
            lambda t, m=_mode, p=_pad: TF.pad(t, p, mode=m), [(2, 3, 4)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_matches_torch(backend, name):
    fn, torch_fn, shapes = CASES[name]
    check_forward(backend, fn, torch_fn, random_arrays(*shapes))


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_gradcheck(backend, name):
    fn, _, shapes = CASES[name]
    gradcheck(fn, random_arrays(*shapes))


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_grads_match_torch(backend, name):
    fn, torch_fn, shapes = CASES[name]
    check_grads(backend, fn, torch_fn, random_arrays(*shapes))


METHODS = {
    "reshape": (lambda x: x.reshape(4, 6), lambda x: xpnet.reshape(x, (4, 6))),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: xpnet.permute(x, (2, 0, 1))),
    "transpose": (lambda x: x.transpose(0, 1), lambda x: xpnet.swapaxes(x, 0, 1)),
    "mT": (lambda x: x.mT, lambda x: xpnet.swapaxes(x, -1, -2)),
    "expand": (lambda x: x.expand(5, 2, 3, 4), lambda x: xpnet.broadcast_to(x, (5, 2, 3, 4))),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_tensor_method_matches_function(backend, name):
    method, function = METHODS[name]
    (x,) = to_xpnet(*random_arrays((2, 3, 4)))
    got = method(x)
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), function(x).numpy())


def test_split_pieces_share_one_backward(backend):
    (x,) = to_xpnet(np.arange(10.0).reshape(5, 2))
    first, second, third = xpnet.split(x, 2)
    (first.sum() + 3.0 * third.sum()).backward()
    assert_on_device(x.grad, backend)
    assert_close(x.grad, np.array([[1.0, 1.0]] * 2 + [[0.0, 0.0]] * 2 + [[3.0, 3.0]]))


# -- round trips (hypothesis) -----------------------------------------------------------------

_SETTINGS = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
_SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)


@st.composite
def _shape_and_permutation(draw):
    shape = draw(_SHAPES)
    return shape, tuple(draw(st.permutations(range(len(shape)))))


@st.composite
def _shape_and_same_size_shape(draw):
    shape = draw(_SHAPES)
    target = list(draw(st.permutations(shape)))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@_SETTINGS
@given(case=_shape_and_permutation())
def test_permute_round_trip_restores_tensor(backend, case):
    shape, axes = case
    (a,) = random_arrays(shape)
    (x,) = to_xpnet(a)
    moved = xpnet.permute(x, axes)
    back = xpnet.permute(moved, tuple(np.argsort(axes)))
    np.testing.assert_array_equal(moved.numpy(), np.transpose(a, axes))
    assert_on_device(back, backend)
    np.testing.assert_array_equal(back.numpy(), a)


@_SETTINGS
@given(case=_shape_and_same_size_shape())
def test_reshape_round_trip_restores_tensor(backend, case):
    shape, target = case
    (a,) = random_arrays(shape)
    (x,) = to_xpnet(a)
    moved = xpnet.reshape(x, target)
    back = xpnet.reshape(moved, shape)
    np.testing.assert_array_equal(moved.numpy(), np.reshape(a, target))
    assert_on_device(back, backend)
    np.testing.assert_array_equal(back.numpy(), a)


@_SETTINGS
@given(case=_shape_and_permutation())
def test_permute_grads_match_torch(backend, case):
    shape, axes = case
    check_grads(backend, lambda x: xpnet.permute(x, axes), lambda t: t.permute(axes),
                random_arrays(shape))


# -- results stay where the inputs are --------------------------------------------------------

def test_concat_refuses_tensors_on_two_devices():
    a = xpnet.tensor(np.ones((2, 3)), backend="array_api_strict")
    b = xpnet.tensor(np.ones((2, 3)), backend="array_api_strict:device1")
    with pytest.raises(ValueError, match="concat: tensors are on different backends/devices: "
                                         "array_api_strict and array_api_strict:device1"):
        xpnet.concat([a, b])


# -- bad input --------------------------------------------------------------------------------

def _x(shape=(2, 3, 4)):
    return to_xpnet(*random_arrays(shape))[0]


def test_reshape_rejects_size_mismatch(backend):
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3, 4\) "
                                         r"\(24 elements\) into \(5, 5\)"):
        xpnet.reshape(_x(), (5, 5))


def test_reshape_rejects_two_unknown_sizes(backend):
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .* into \(-1, -1\)"):
        xpnet.reshape(_x(), (-1, -1))


@pytest.mark.parametrize("axes", [(0, 0, 1), (0, 1)], ids=str)
def test_permute_rejects_non_permutation(backend, axes):
    with pytest.raises(ValueError, match=re.escape(
            f"permute: axes {axes} are not a permutation of the 3 axes of a tensor of shape "
            f"(2, 3, 4)")):
        xpnet.permute(_x(), axes)


BAD_AXIS = {
    "permute": lambda x: xpnet.permute(x, (0, 1, 3)),
    "swapaxes": lambda x: xpnet.swapaxes(x, 0, 3),
    "flatten": lambda x: xpnet.flatten(x, 0, 3),
    "squeeze": lambda x: xpnet.squeeze(x, 3),
    "unsqueeze": lambda x: xpnet.unsqueeze(x, 5),
    "flip": lambda x: xpnet.flip(x, -4),
    "concat": lambda x: xpnet.concat([x, x], axis=3),
    "stack": lambda x: xpnet.stack([x, x], axis=5),
    "split": lambda x: xpnet.split(x, 1, axis=3),
    "chunk": lambda x: xpnet.chunk(x, 2, axis=-4),
}


@pytest.mark.parametrize("name", sorted(BAD_AXIS))
def test_shape_op_rejects_out_of_range_axis(backend, name):
    with pytest.raises(ValueError, match=rf"{name}: axis -?\d is out of range for a \d-D tensor"):
        BAD_AXIS[name](_x())


def test_concat_rejects_shape_mismatch(backend):
    with pytest.raises(ValueError, match=r"concat: tensor 1 has shape \(2, 4\), expected 2-D with "
                                         r"all sizes but axis 0 equal to those of \(2, 3\)"):
        xpnet.concat([_x((2, 3)), _x((2, 4))])


def test_concat_rejects_zero_d(backend):
    with pytest.raises(ValueError, match="concat: zero-dimensional tensors cannot be concatenated"):
        xpnet.concat([_x(()), _x(())])


def test_stack_rejects_shape_mismatch(backend):
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3, 2\), expected \(2, 3\)"):
        xpnet.stack([_x((2, 3)), _x((3, 2))])


def test_broadcast_to_rejects_incompatible_shape(backend):
    with pytest.raises(ValueError,
                       match=r"broadcast_to: cannot broadcast shape \(3, 2\) to \(3, 4\)"):
        xpnet.broadcast_to(_x((3, 2)), (3, 4))


def test_expand_rejects_too_few_sizes(backend):
    with pytest.raises(ValueError, match=r"expand: 1 sizes given for a 2-D tensor \(3, 2\)"):
        xpnet.expand(_x((3, 2)), (2,))


def test_split_rejects_sections_not_summing_to_axis(backend):
    with pytest.raises(ValueError, match=r"split: sections \[1, 2\] must be non-negative and sum "
                                         r"to the size of axis 1 \(4\)"):
        xpnet.split(_x((2, 4)), [1, 2], axis=1)


def test_split_rejects_non_positive_size(backend):
    with pytest.raises(ValueError, match="split: split size must be positive, got 0"):
        xpnet.split(_x((2, 4)), 0)


def test_chunk_rejects_non_positive_count(backend):
    with pytest.raises(ValueError, match="chunk: chunks must be positive, got 0"):
        xpnet.chunk(_x((2, 4)), 0)


@pytest.mark.parametrize("pad", [(1,), (1, 1, 1, 1, 1, 1, 1, 1)], ids=["odd", "too_many"])
def test_pad_rejects_bad_sizes(backend, pad):
    with pytest.raises(ValueError, match=r"pad: expected an even number of pad sizes covering at "
                                         r"most 3 axes, got .* for shape \(2, 3, 4\)"):
        F.pad(_x(), pad)


def test_pad_rejects_negative_sizes(backend):
    with pytest.raises(ValueError,
                       match=r"pad: negative pad sizes are not supported, got \(1, -1\)"):
        F.pad(_x(), (1, -1))


def test_pad_rejects_unknown_mode(backend):
    with pytest.raises(ValueError, match="pad: unknown mode 'wrap'; expected one of constant, "
                                         "reflect, replicate, circular"):
        F.pad(_x(), (1, 1), mode="wrap")


def test_pad_rejects_reflect_wider_than_axis(backend):
    with pytest.raises(ValueError, match=r"pad: reflect padding \(4, 0\) must be smaller than the "
                                         r"size 4 of axis 2"):
        F.pad(_x(), (4, 0), mode="reflect")
