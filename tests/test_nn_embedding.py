"""nn.Embedding / F.embedding against torch.nn.Embedding, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet.nn.embedding import Embedding

from .conftest import assert_close, assert_on_backend

torch = pytest.importorskip("torch")

INDICES = np.array([[0, 2, 2, 7], [9, 0, 5, 2]])  # repeats: the backward must accumulate them


def _pair(padding_idx=None, max_norm=None):
    ours = Embedding(10, 3, padding_idx=padding_idx, max_norm=max_norm).double()
    theirs = torch.nn.Embedding(10, 3, padding_idx=padding_idx, max_norm=max_norm).double()
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.numpy())})
    return ours, theirs


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_forward_and_weight_gradient_match_torch(backend, padding_idx, max_norm):
    ours, theirs = _pair(padding_idx, max_norm)
    out = ours(xpnet.tensor(INDICES))
    expected = theirs(torch.from_numpy(INDICES))
    assert_close(out, expected)
    assert_on_backend(out, backend)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    (out * xpnet.tensor(upstream)).sum().backward()
    (expected * torch.from_numpy(upstream)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad)
    assert_close(ours.weight, theirs.weight.detach())  # max_norm renormalised the same rows


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("indices", [INDICES, INDICES[0], np.array(4)])
def test_lookup_without_a_graph_matches_torch(backend, fast, indices):
    """Under no_grad and with a frozen weight nothing records (Embedding.compute): the same
    rows and shape as torch's, and as the recorded lookup."""
    ours, theirs = _pair()
    want = theirs(torch.from_numpy(indices)).detach()
    with xpnet.use_fast_paths(fast):
        with xpnet.no_grad():
            alone = ours(xpnet.tensor(indices))
        recorded = ours(xpnet.tensor(indices))
        frozen = F.embedding(xpnet.tensor(indices), ours.weight.detach())
    for out in (alone, frozen):
        assert out.grad_fn is None and not out.requires_grad
        assert_close(out, want)
        assert out.shape == recorded.shape == tuple(want.shape)
        assert_on_backend(out, backend)
    assert recorded.grad_fn is not None


def test_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = Embedding(5, 4, padding_idx=2)
    assert not np.any(emb.weight.numpy()[2])
    emb(xpnet.tensor([2, 2, 1])).sum().backward()
    assert not np.any(emb.weight.grad.numpy()[2]) and np.all(emb.weight.grad.numpy()[1] == 1)


def test_gradcheck(backend):
    weight = xpnet.randn(6, 3, dtype="float64", requires_grad=True)
    idx = xpnet.tensor([[1, 5, 1], [0, 1, 3]])
    assert xpnet.gradcheck(lambda w: F.embedding(idx, w), [weight])
    # The padding row's gradient is zero on purpose, so check with one that is not looked up.
    assert xpnet.gradcheck(lambda w: F.embedding(idx, w, padding_idx=4), [weight])


def test_default_init_is_standard_normal():
    weight = Embedding(1000, 100).weight.numpy()
    # 1e5 draws: mean within 5 standard errors (5 * 1/sqrt(1e5) = 0.016) of 0, std within 1%.
    assert abs(weight.mean()) < 0.016 and abs(weight.std() - 1) < 0.01


def test_bad_input_is_refused_with_clear_errors():
    emb = Embedding(4, 2)
    with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 4\) "
                                         r"\(num_embeddings\), got values in \[0, 4\]"):
        emb(xpnet.tensor([0, 4]))
    with pytest.raises(TypeError, match="embedding: indices must be integers, got float32"):
        emb(xpnet.tensor([0.0]))
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must be in \[-4, 4\), got 4"):
        Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="Embedding: embedding_dim must be a positive int"):
        Embedding(4, 0)
