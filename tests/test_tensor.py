"""Making tensors, their metadata, leaving the backend, dtypes, RNG reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, assert_on_backend


def test_python_floats_give_the_default_float32(backend):
    t = xpnet.tensor([[1.0, 2], [3, 4]])
    assert t.dtype is xpnet.float32 and t.dtype == xpnet.float32
    assert t.shape == (2, 2) and t.ndim == 2 and t.numel() == 4
    assert_on_backend(t, backend)


def test_python_ints_and_bools_infer_int64_and_bool(backend):
    assert xpnet.tensor([1, 2, 3]).dtype is xpnet.int64
    assert xpnet.tensor([True, False]).dtype is xpnet.bool


def test_numpy_arrays_keep_their_dtype(backend):
    for np_dtype, ours in ((np.float64, xpnet.float64), (np.int32, xpnet.int32),
                           (np.float32, xpnet.float32), (np.uint8, xpnet.uint8)):
        t = xpnet.tensor(np.arange(4).astype(np_dtype))
        assert t.dtype is ours
        assert_on_backend(t, backend)


def test_explicit_dtype_wins(backend):
    assert xpnet.tensor([1, 2], dtype=xpnet.float64).dtype is xpnet.float64
    assert xpnet.tensor(np.ones(2), dtype="float32").dtype is xpnet.float32


def test_set_default_dtype_changes_floats_and_factories():
    xpnet.set_default_dtype(xpnet.float64)
    assert xpnet.tensor([1.5]).dtype is xpnet.float64
    assert xpnet.zeros(2).dtype is xpnet.float64 and xpnet.randn(2).dtype is xpnet.float64
    with pytest.raises(TypeError, match="expected a floating dtype"):
        xpnet.set_default_dtype(xpnet.int32)


def test_arrays_of_the_active_backend_are_accepted(backend):
    b = xpnet.backend.active()
    arr = b.xp.asarray([1.0, 2.0], dtype=b.xp.float64, device=b.device)
    t = xpnet.tensor(arr)
    assert t.dtype is xpnet.float64
    assert_close(t, [1.0, 2.0])
    assert xpnet.as_tensor(arr).array is arr  # as_tensor shares memory


def test_tensor_copies_its_input():
    a = np.zeros(3)
    t = xpnet.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 0


def test_unsupported_data_is_refused():
    with pytest.raises(TypeError, match="cannot make a tensor from a str"):
        xpnet.tensor(["a"])
    with pytest.raises(TypeError, match="expected an array of a supported backend"):
        xpnet.Tensor([1, 2])


def test_factories_on_every_backend(backend):
    cases = {
        "zeros": (xpnet.zeros(2, 3), np.zeros((2, 3))),
        "ones": (xpnet.ones((2, 3)), np.ones((2, 3))),
        "full": (xpnet.full((2,), 7.0), np.full(2, 7.0)),
        "eye": (xpnet.eye(3), np.eye(3)),
        "arange": (xpnet.arange(5), np.arange(5)),
        "arange_float": (xpnet.arange(0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25)),
        "linspace": (xpnet.linspace(0, 1, 5), np.linspace(0, 1, 5)),
    }
    for name, (got, want) in cases.items():
        assert_on_backend(got, backend)
        assert_close(got, want, rtol=1e-6)
    assert xpnet.arange(5).dtype is xpnet.int64 and xpnet.arange(0.0, 1.0, 0.5).dtype is xpnet.float32
    x = xpnet.ones(2, 3, dtype="float64", requires_grad=True)
    for like in (xpnet.zeros_like(x), xpnet.ones_like(x), xpnet.full_like(x, 2.0),
                 xpnet.rand_like(x), xpnet.randn_like(x), xpnet.empty_like(x)):
        assert like.shape == (2, 3) and like.dtype is xpnet.float64 and not like.requires_grad
        assert_on_backend(like, backend)
    assert xpnet.zeros(2, requires_grad=True).requires_grad


def test_numpy_copies_from_any_backend(backend):
    t = xpnet.tensor([[1.0, 2.0]], requires_grad=True)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0, 0] = 99
    assert t.numpy()[0, 0] == 1.0
    assert t.tolist() == [[1.0, 2.0]]


def test_item_and_python_conversions(backend):
    assert xpnet.tensor([[2.5]]).item() == 2.5
    assert isinstance(xpnet.tensor(3).item(), int)
    assert xpnet.tensor(True).item() is True
    assert float(xpnet.tensor(1.5)) == 1.5 and int(xpnet.tensor(4)) == 4
    with pytest.raises(ValueError, match=r"item: only one-element tensors .* got shape \(2,\)"):
        xpnet.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="truth value of a tensor of shape"):
        bool(xpnet.tensor([1.0, 2.0]))


def test_repr_shows_values_dtype_backend_and_grad():
    assert repr(xpnet.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(xpnet.tensor([1.0], dtype="float64", requires_grad=True)) == \
        "tensor([1.], dtype=float64, requires_grad=True)"
    y = xpnet.tensor([1.0], requires_grad=True) * 2
    assert "grad_fn=<MulBackward>" in repr(y)
    with xpnet.use_backend("array_api_strict:device1"):
        assert "backend='array_api_strict:device1'" in repr(xpnet.ones(1))


def test_to_moves_between_backends_and_gradients_come_back():
    x = xpnet.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = x.to(backend="array_api_strict:device1")
    assert y.backend == "array_api_strict:device1"
    (y * y).sum().backward()
    assert x.grad.backend == "numpy"
    assert_close(x.grad, [2.0, 4.0])


def test_astype_is_differentiable_and_casts_the_gradient_back():
    x = xpnet.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype is xpnet.float32
    assert_close(x.grad, [3.0, 3.0])


def test_manual_seed_makes_random_ops_reproducible(backend):
    xpnet.manual_seed(123)
    a = (xpnet.randn(5).numpy(), xpnet.rand(3).numpy(), xpnet.randint(0, 10, (4,)).numpy(),
         xpnet.randperm(6).numpy())
    xpnet.manual_seed(123)
    b = (xpnet.randn(5).numpy(), xpnet.rand(3).numpy(), xpnet.randint(0, 10, (4,)).numpy(),
         xpnet.randperm(6).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], xpnet.randn(5).numpy())


def test_same_seed_gives_identical_numbers_on_every_backend(backend):
    xpnet.manual_seed(7)
    here = xpnet.randn(4, 3, dtype="float64").numpy()
    with xpnet.use_backend("numpy"):
        xpnet.manual_seed(7)
        reference = xpnet.randn(4, 3, dtype="float64").numpy()
    np.testing.assert_array_equal(here, reference)


def test_a_separate_generator_does_not_disturb_the_default_one():
    xpnet.manual_seed(1)
    first = xpnet.rand(3).numpy()
    xpnet.manual_seed(1)
    gen = xpnet.Generator(99)
    xpnet.rand(3, generator=gen)
    np.testing.assert_array_equal(xpnet.rand(3).numpy(), first)


def test_manual_seed_rejects_bad_seeds():
    with pytest.raises(ValueError, match="manual_seed: seed must be a non-negative int, got -1"):
        xpnet.manual_seed(-1)
    with pytest.raises(TypeError, match="manual_seed: seed must be a non-negative int, got "
                                        "float 2.5"):
        xpnet.manual_seed(2.5)


def test_python_operators(backend):
    a = xpnet.tensor([1.0, 2.0, 4.0], dtype="float64")
    assert_close(a + 1, [2, 3, 5])
    assert_close(1 - a, [0, -1, -3])
    assert_close(2 * a, [2, 4, 8])
    assert_close(1 / a, [1, 0.5, 0.25])
    assert_close(a ** 2, [1, 4, 16])
    assert_close(2 ** a, [2, 4, 16])
    assert_close(-a, [-1, -2, -4])
    assert_close(abs(-a), [1, 2, 4])
    assert_close(a @ a, 21.0)
    assert_close(a[1:], [2, 4])


def test_comparisons_give_bool_tensors_outside_the_graph(backend):
    a = xpnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, want in ((a > 1.5, [False, True, True]), (a == 2.0, [False, True, False]),
                         (a <= 2, [True, True, False]), (a != a, [False, False, False])):
        assert result.dtype is xpnet.bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), want)
    np.testing.assert_array_equal(((a > 1) & (a < 3)).numpy(), [False, True, False])
    np.testing.assert_array_equal((~(a > 1)).numpy(), [True, False, False])


def test_integer_tensors_promote_like_pytorch(backend):
    i = xpnet.tensor([1, 2, 3])
    assert (i + 1).dtype is xpnet.int64
    assert (i * 0.5).dtype is xpnet.float32
    assert (i / 2).dtype is xpnet.float32
    assert (i + xpnet.tensor([0.5, 0.5, 0.5], dtype="float64")).dtype is xpnet.float64
    assert_close(i / 2, [0.5, 1.0, 1.5])


def test_float32_stays_float32_with_python_scalars(backend):
    x = xpnet.tensor([1.0, 2.0])
    for y in (x + 1.5, 2.5 * x, x / 3.0, x ** 2.0, xpnet.maximum(x, 0.0), x.clip(0.0, 1.0)):
        assert y.dtype is xpnet.float32
