"""Gradient clipping (xpnet/nn/utils/clip_grad.py): the same norms and gradients as PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from xpnet.nn.utils import clip_grad_norm_, clip_grad_value_

from .conftest import assert_close, assert_on_backend, random_arrays

SHAPES = [(3, 4), (5,), ()]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _with_grads(grads, dtype="float64"):
    params = []
    for g in grads:
        p = xpnet.zeros(g.shape, dtype=dtype, requires_grad=True)
        p.grad = xpnet.tensor(g, dtype=dtype)
        params.append(p)
    return params


def _torch_with_grads(torch, grads):
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [1, 2.0, 3.5, math.inf, "inf"])
def test_clip_grad_norm_matches_torch(torch, backend, norm_type, max_norm):
    grads = random_arrays(*SHAPES, seed=3)
    params = _with_grads(grads)
    t_params = _torch_with_grads(torch, grads)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type, foreach=False)
    assert isinstance(total, xpnet.Tensor) and total.shape == ()
    assert_on_backend(total, backend)
    assert_close(total, want, rtol=1e-13, atol=0)
    for p, t in zip(params, t_params):
        assert_on_backend(p.grad, backend)
        assert_close(p.grad, t.grad, rtol=1e-13, atol=1e-15)


def test_clip_grad_norm_bounds_the_norm_and_keeps_grad_identity():
    params = _with_grads(random_arrays(*SHAPES, seed=4))
    grads = [p.grad for p in params]
    before = clip_grad_norm_(params, 1.0).item()
    after = clip_grad_norm_(params, 1.0).item()
    assert before > 1.0 and after == pytest.approx(1.0, rel=1e-5)
    assert all(p.grad is g for p, g in zip(params, grads))


def test_clip_grad_norm_skips_params_without_grad_and_takes_one_tensor():
    (g,) = random_arrays((4,), seed=5)
    w = _with_grads([g])[0]
    idle = xpnet.zeros(3, requires_grad=True)
    total = clip_grad_norm_([w, idle], 0.1)
    assert idle.grad is None and total.item() == pytest.approx(np.linalg.norm(g))
    assert clip_grad_norm_(w, 0.1).item() == pytest.approx(0.1, rel=1e-4)
    assert clip_grad_norm_([idle], 1.0).item() == 0.0


def test_clip_grad_norm_mixed_dtypes_keep_each_gradients_dtype():
    a, b = random_arrays((3,), (2,), seed=6)
    params = _with_grads([a], "float32") + _with_grads([b], "float64")
    total = clip_grad_norm_(params, 0.5)
    assert total.dtype is xpnet.float64
    assert params[0].grad.dtype is xpnet.float32 and params[1].grad.dtype is xpnet.float64
    assert total.item() == pytest.approx(np.linalg.norm(np.concatenate([a, b])), rel=1e-6)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_error_if_nonfinite(torch, bad):
    a, b = random_arrays((3,), (2,), seed=7)
    b[1] = bad
    params = _with_grads([a, b])
    with pytest.raises(RuntimeError, match=r"^clip_grad_norm_: the total norm of order 2.0 of the "
                                           r"gradients is not finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), a)  # left as they were
    t_params = _torch_with_grads(torch, [a, b])
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(t_params, 1.0, error_if_nonfinite=True)
    # Without the check both scale by the non-finite norm, to the same values (inf * 0 is nan,
    # which NumPy reports as a warning).
    with np.errstate(invalid="ignore"):
        total = clip_grad_norm_(params, 1.0)
    want = torch.nn.utils.clip_grad_norm_(t_params, 1.0, foreach=False)
    np.testing.assert_array_equal(total.numpy(), want.numpy())
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("clip_value", [0.0, 0.7, 5])
def test_clip_grad_value_matches_torch(torch, backend, clip_value):
    grads = random_arrays(*SHAPES, seed=8)
    params = _with_grads(grads)
    t_params = _torch_with_grads(torch, grads)
    assert clip_grad_value_(params, clip_value) is None
    torch.nn.utils.clip_grad_value_(t_params, clip_value, foreach=False)
    for p, t in zip(params, t_params):
        assert_on_backend(p.grad, backend)
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("call, error, match", [
    (lambda p: clip_grad_norm_(p, -1.0), ValueError,
     r"^clip_grad_norm_: max_norm must be >= 0, got -1.0$"),
    (lambda p: clip_grad_norm_(p, "1"), TypeError,
     r"^clip_grad_norm_: max_norm must be a real number, got str$"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), ValueError,
     r"^clip_grad_norm_: norm_type must be > 0 \(or inf\), got 0.0$"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type="two"), TypeError,
     r"^clip_grad_norm_: norm_type must be a number or 'inf', got 'two'$"),
    (lambda p: clip_grad_norm_(p + [3.0], 1.0), TypeError,
     r"^clip_grad_norm_: parameters must be Tensors, got float at position 1$"),
    (lambda p: clip_grad_value_(p, -0.5), ValueError,
     r"^clip_grad_value_: clip_value must be >= 0, got -0.5$"),
    (lambda p: clip_grad_value_(p, None), TypeError,
     r"^clip_grad_value_: clip_value must be a real number, got NoneType$"),
])
def test_bad_arguments_raise_clear_errors(call, error, match):
    params = _with_grads(random_arrays((2,), seed=9))
    with pytest.raises(error, match=match):
        call(params)
