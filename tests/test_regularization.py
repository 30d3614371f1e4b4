"""The L1 penalty (xpnet/nn/utils/regularization.py): value and gradient equal PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.nn.utils import l1_penalty

from .conftest import assert_close, assert_on_backend, random_arrays


def test_l1_penalty_value_and_gradient_match_torch(backend):
    torch = pytest.importorskip("torch")
    arrays = random_arrays((3, 4), (4,), seed=2)
    arrays[1][0] = 0.0  # the subgradient at 0 is 0, as in PyTorch
    params = [xpnet.tensor(a, requires_grad=True) for a in arrays]
    t_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    penalty = l1_penalty(params, 0.05)
    want = 0.05 * sum(p.abs().sum() for p in t_params)
    assert penalty.shape == ()
    assert_on_backend(penalty, backend)
    assert_close(penalty, want, rtol=1e-14, atol=0)
    penalty.backward()
    want.backward()
    for p, t in zip(params, t_params):
        assert_close(p.grad, t.grad, rtol=0, atol=0)


def test_l1_penalty_takes_one_tensor_and_a_zero_weight():
    w = xpnet.tensor([1.0, -2.0], requires_grad=True)
    assert l1_penalty(w, 0.5).item() == 1.5
    l1_penalty(w, 0).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("args, error, match", [
    (([xpnet.ones(2)], -0.1), ValueError, r"^l1_penalty: weight must be >= 0, got -0.1$"),
    (([xpnet.ones(2)], "0.1"), TypeError, r"^l1_penalty: weight must be a real number, got str$"),
    (([], 0.1), ValueError, r"^l1_penalty: got no parameters to penalize$"),
    (([xpnet.ones(2), [1.0]], 0.1), TypeError,
     r"^l1_penalty: parameters must be Tensors, got list at position 1$"),
])
def test_bad_arguments_raise_clear_errors(args, error, match):
    with pytest.raises(error, match=match):
        l1_penalty(*args)
