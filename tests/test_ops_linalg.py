"""Matrix products (xpnet/ops/linalg.py): 1-D operands and batch broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck, to_torch

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 2)),
    ((3, 4), (2, 4, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 2, 3), (2, 1, 3, 2)),
]


def _torch_matmul(a, b):
    return torch.matmul(a, b)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_matches_torch(backend, shapes):
    check_forward(backend, xpnet.matmul, _torch_matmul, random_arrays(*shapes))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_gradcheck(backend, shapes):
    gradcheck(xpnet.matmul, random_arrays(*shapes))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_grads_match_torch(backend, shapes):
    check_grads(backend, xpnet.matmul, _torch_matmul, random_arrays(*shapes))


@pytest.mark.parametrize("needs", [(True, False), (False, True)], ids=["a_only", "b_only"])
def test_matmul_grads_for_one_operand_match_torch(backend, needs):
    arrays = random_arrays((2, 1, 3, 4), (5, 4, 2))
    xs, ts = to_xpnet(*arrays), to_torch(*arrays)
    for x, t, need in zip(xs, ts, needs):
        x.requires_grad_(need)
        t.requires_grad_(need)
    (xs[0] @ xs[1]).sum().backward()
    (ts[0] @ ts[1]).sum().backward()
    for x, t in zip(xs, ts):
        if t.grad is None:
            assert x.grad is None
        else:
            assert_on_device(x.grad, backend)
            assert_close(x.grad, t.grad)


def test_matmul_operator_matches_function(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (3, 4)))
    got = a @ b
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), xpnet.matmul(a, b).numpy())


# -- bad input --------------------------------------------------------------------------------

def test_matmul_rejects_inner_size_mismatch(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (4, 5)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\): "
                                         r"3 != 4"):
        xpnet.matmul(a, b)


def test_matmul_rejects_vector_size_mismatch(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (2,)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(2,\): "
                                         r"3 != 2"):
        a @ b


def test_matmul_rejects_unbroadcastable_batches(backend):
    a, b = to_xpnet(*random_arrays((2, 3, 4), (3, 4, 5)))
    with pytest.raises(ValueError, match=r"matmul: batch shapes \(2,\) and \(3,\) of operands "
                                         r"\(2, 3, 4\) and \(3, 4, 5\) do not broadcast"):
        xpnet.matmul(a, b)


def test_matmul_rejects_zero_d(backend):
    a, b = to_xpnet(*random_arrays((), (3,)))
    with pytest.raises(ValueError, match=r"matmul: both operands need at least one axis, got "
                                         r"shapes \(\) and \(3,\); use \* for scalars"):
        xpnet.matmul(a, b)


def test_matmul_rejects_non_tensor(backend):
    (a,) = to_xpnet(*random_arrays((2, 3)))
    with pytest.raises(TypeError, match="matmul: expected two Tensors, got Tensor and list"):
        xpnet.matmul(a, [[1.0], [2.0], [3.0]])
