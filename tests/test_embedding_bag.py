"""nn.EmbeddingBag / F.embedding_bag against torch.nn.functional.embedding_bag, on every
backend: forward, gradients of the weight and of per_sample_weights, gradcheck, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet import nn
from xpnet.autograd import RowSparseGrad

from .conftest import assert_close, assert_on_backend

torch = pytest.importorskip("torch")

V, D = 10, 3
WEIGHT = np.random.default_rng(0).uniform(-1, 1, (V, D))
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 0, 9, 4])
BAGS = {  # name: (input, offsets, include_last_offset); repeats, empty bags, a one-index bag
    "offsets": (FLAT, np.array([0, 2, 2, 5, 9]), False),
    "last offset": (FLAT, np.array([0, 3, 3, 10]), True),
    "2-D": (FLAT.reshape(2, 5), None, False),
    "empty input": (np.array([], dtype=np.int64), np.array([0, 0]), False),
}
OPTIONS = {
    "plain": {},
    "padding": {"padding_idx": 4},
    "max_norm": {"max_norm": 0.8},
    "freq": {"scale_grad_by_freq": True},
    "sparse": {"sparse": True, "padding_idx": 2},
}


def _torch_bags_by_hand(weight, bags, mode, scale_grad_by_freq):
    """torch's F.embedding, then each bag reduced in a loop: the reference for
    scale_grad_by_freq, which torch 2.13's CPU embedding_bag gets wrong when an index that
    occurs once sorts after a repeated one (pytorch/pytorch#190063)."""
    x, offsets, last = bags
    rows = torch.nn.functional.embedding(torch.from_numpy(x.reshape(-1)), weight,
                                         scale_grad_by_freq=scale_grad_by_freq)
    if offsets is None:
        offsets = np.arange(0, x.size, x.shape[1])
    ends = list(offsets[1:]) + ([] if last else [x.size])
    starts = offsets[:-1] if last else offsets
    reduce = torch.sum if mode == "sum" else torch.mean
    return torch.stack([reduce(rows[a:b], 0) if b > a else rows[:0].sum(0)
                        for a, b in zip(starts, ends)])


def _run(lib, weight, bags, mode, psw=None, **options):
    x, offsets, last = bags
    if lib is torch and options.get("scale_grad_by_freq"):
        return _torch_bags_by_hand(weight, bags, mode, **options)
    if lib is xpnet:
        out = F.embedding_bag(xpnet.tensor(x), weight, None if offsets is None
                              else xpnet.tensor(offsets), mode=mode, per_sample_weights=psw,
                              include_last_offset=last, **options)
    else:
        out = torch.nn.functional.embedding_bag(
            torch.from_numpy(x), weight, None if offsets is None else torch.from_numpy(offsets),
            mode=mode, per_sample_weights=psw, include_last_offset=last, **options)
    return out


@pytest.mark.parametrize("bags", list(BAGS))
@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_forward_and_weight_gradient_match_torch(backend, bags, mode, option):
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    theirs = torch.tensor(WEIGHT, requires_grad=True)
    out = _run(xpnet, ours, BAGS[bags], mode, **OPTIONS[option])
    want = _run(torch, theirs, BAGS[bags], mode, **OPTIONS[option])
    assert_close(out, want)
    assert_on_backend(out, backend)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    (out * xpnet.tensor(upstream)).sum().backward()
    (want * torch.from_numpy(upstream)).sum().backward()
    if OPTIONS[option].get("sparse"):
        assert isinstance(ours.grad, RowSparseGrad)
        np.testing.assert_array_equal(ours.grad.indices().numpy(),
                                      theirs.grad._indices().numpy()[0])
        assert_close(ours.grad.to_dense(), theirs.grad.to_dense())
    else:
        assert_close(ours.grad, theirs.grad)
    assert_close(ours, theirs.detach())  # max_norm renormalised the same rows


TIES = np.array([[1.0, 5.0], [1.0, 2.0], [3.0, 5.0], [0.0, -1.0], [2.0, 2.0]])


@pytest.mark.parametrize("bags", list(BAGS))
@pytest.mark.parametrize("option", ["plain", "padding", "max_norm"])
def test_max_mode_matches_torch(backend, bags, option):
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    theirs = torch.tensor(WEIGHT, requires_grad=True)
    out = _run(xpnet, ours, BAGS[bags], "max", **OPTIONS[option])
    want = _run(torch, theirs, BAGS[bags], "max", **OPTIONS[option])
    assert_close(out, want)
    assert_on_backend(out, backend)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    (out * xpnet.tensor(upstream)).sum().backward()
    (want * torch.from_numpy(upstream)).sum().backward()
    assert_close(ours.grad, theirs.grad)


def test_max_mode_breaks_ties_towards_the_first_entry_and_skips_padding(backend):
    # Bag 0 ties on column 1 (rows 0 and 2) and on column 0 with padding; bag 1 is empty;
    # the long bag 3 needs several doubling steps.
    x = np.array([0, 1, 2, 3, 4, 4, 1, 0, 2, 4, 3])
    offsets = np.array([0, 3, 3, 4])
    for padding_idx in (None, 2, 3):
        ours = xpnet.tensor(TIES, requires_grad=True)
        theirs = torch.tensor(TIES, requires_grad=True)
        out = F.embedding_bag(xpnet.tensor(x), ours, xpnet.tensor(offsets), mode="max",
                              padding_idx=padding_idx)
        want = torch.nn.functional.embedding_bag(torch.from_numpy(x), theirs,
                                                 torch.from_numpy(offsets), mode="max",
                                                 padding_idx=padding_idx)
        assert_close(out, want)
        out.sum().backward()
        want.sum().backward()
        assert_close(ours.grad, theirs.grad)


def test_max_mode_gradcheck(backend):
    weight = xpnet.tensor(WEIGHT[:6], requires_grad=True)  # distinct values: no ties
    x, offsets = xpnet.tensor([1, 2, 4, 5, 4, 3, 2, 0]), xpnet.tensor([0, 2, 2, 5])
    assert xpnet.gradcheck(lambda w: F.embedding_bag(x, w, offsets, mode="max"), [weight])


@pytest.mark.parametrize("bags", ["offsets", "2-D"])
def test_per_sample_weights_and_their_gradient_match_torch(backend, bags):
    shape = BAGS[bags][0].shape
    psw = np.random.default_rng(2).uniform(0.5, 2, shape)
    ours, theirs = xpnet.tensor(WEIGHT, requires_grad=True), torch.tensor(WEIGHT,
                                                                           requires_grad=True)
    ours_psw = xpnet.tensor(psw, requires_grad=True)
    theirs_psw = torch.tensor(psw, requires_grad=True)
    out = _run(xpnet, ours, BAGS[bags], "sum", ours_psw, padding_idx=4)
    want = _run(torch, theirs, BAGS[bags], "sum", theirs_psw, padding_idx=4)
    assert_close(out, want)
    (out.tanh()).sum().backward()
    (torch.tanh(want)).sum().backward()
    assert_close(ours.grad, theirs.grad)
    assert_close(ours_psw.grad, theirs_psw.grad)


def test_gradcheck(backend):
    weight = xpnet.tensor(WEIGHT[:6], requires_grad=True)
    x, offsets = xpnet.tensor([1, 2, 4, 5, 4, 3, 2, 0]), xpnet.tensor([0, 2, 2, 5])
    psw = xpnet.tensor(np.linspace(0.5, 1.5, 8), requires_grad=True)
    assert xpnet.gradcheck(lambda w: F.embedding_bag(x, w, offsets, mode="mean"), [weight])
    assert xpnet.gradcheck(lambda w: F.embedding_bag(x, w, offsets, mode="mean", padding_idx=3),
                           [weight])
    assert xpnet.gradcheck(
        lambda w, p: F.embedding_bag(x, w, offsets, mode="sum", per_sample_weights=p),
        [weight, psw])


def test_layer_matches_torchs_layer():
    ours = nn.EmbeddingBag(V, D, mode="sum", padding_idx=1, include_last_offset=True).double()
    theirs = torch.nn.EmbeddingBag(V, D, mode="sum", padding_idx=1,
                                   include_last_offset=True).double()
    assert not np.any(ours.weight.numpy()[1])  # the padding row starts at zero, as in torch
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.numpy())})
    x, offsets, _ = BAGS["last offset"]
    out = ours(xpnet.tensor(x), xpnet.tensor(offsets))
    assert_close(out, theirs(torch.from_numpy(x), torch.from_numpy(offsets)))
    assert repr(ours) == ("EmbeddingBag(10, 3, padding_idx=1, mode='sum', "
                          "include_last_offset=True)")


def test_bad_input_is_refused_with_clear_errors():
    w = xpnet.tensor(WEIGHT)
    x = xpnet.tensor(FLAT)

    def bag(*args, **kwargs):
        return F.embedding_bag(*args, **kwargs)

    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0 .*got 1"):
        bag(x, w, xpnet.tensor([1, 4]))
    with pytest.raises(ValueError, match=r"offsets must not decrease, got offsets\[1\] = 5 > "
                                         r"offsets\[2\] = 3"):
        bag(x, w, xpnet.tensor([0, 5, 3]))
    with pytest.raises(ValueError, match=r"offsets must be <= len\(input\) \(10\), got "
                                         r"offsets\[-1\] = 11"):
        bag(x, w, xpnet.tensor([0, 11]))
    with pytest.raises(ValueError, match=r"include_last_offset=True the last offset .* must "
                                         r"equal len\(input\) \(10\), got 7"):
        bag(x, w, xpnet.tensor([0, 7]), include_last_offset=True)
    with pytest.raises(ValueError, match="offsets must be a 1-D integer Tensor, got float32"):
        bag(x, w, xpnet.tensor([0.0, 1.0]))
    with pytest.raises(IndexError, match=r"embedding_bag: indices must be in \[0, 10\) "
                                         r"\(num_embeddings\), got values in \[0, 10\]"):
        bag(xpnet.tensor([0, 10]), w, xpnet.tensor([0]))
    with pytest.raises(ValueError, match="1-D input needs offsets"):
        bag(x, w)
    with pytest.raises(ValueError, match=r"offsets must be None for 2-D input"):
        bag(x.reshape(2, 5), w, xpnet.tensor([0]))
    with pytest.raises(ValueError, match=r"input must be 1-D .* or 2-D .*got shape \(1, 2, 5\)"):
        bag(x.reshape(1, 2, 5), w)
    with pytest.raises(ValueError, match="mode must be one of 'sum', 'mean', 'max', got 'min'"):
        bag(x, w, xpnet.tensor([0]), mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for "
                                                  "mode='sum'"):
        bag(x, w, xpnet.tensor([0]), per_sample_weights=xpnet.tensor(np.ones(10)))
    with pytest.raises(ValueError, match=r"per_sample_weights must have the shape of input "
                                         r"\(10,\), got \(9,\)"):
        bag(x, w, xpnet.tensor([0]), mode="sum", per_sample_weights=xpnet.tensor(np.ones(9)))
    with pytest.raises(TypeError, match="embedding_bag: indices must be integers, got float64"):
        bag(xpnet.tensor(WEIGHT[0]), w, xpnet.tensor([0]))
    with pytest.raises(ValueError, match=r"mode='max' supports neither sparse=True nor "
                                         r"scale_grad_by_freq=True"):
        bag(x, w, xpnet.tensor([0]), mode="max", sparse=True)
    with pytest.raises(ValueError, match=r"EmbeddingBag: mode must be 'sum', 'mean' or 'max'"):
        nn.EmbeddingBag(4, 2, mode="median")
