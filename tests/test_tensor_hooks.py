"""Tensor hooks as PyTorch's: register_hook on leaves and non-leaves (see or replace a
gradient), the order against retain_grad, removal, and post-accumulate-grad hooks."""

from __future__ import annotations

import pytest

import xpnet

from .conftest import assert_close, random_arrays

torch = pytest.importorskip("torch")


def _run(lib, a, w):
    """A small graph where x is used twice and h has a hook that rescales its gradient."""
    x = lib.tensor(a, requires_grad=True)
    weight = lib.tensor(w, requires_grad=True)
    seen = {"x": [], "h": []}
    x.register_hook(lambda g: seen["x"].append(g.detach().numpy().copy()))
    h = x @ weight
    h.register_hook(lambda g: seen["h"].append(g.detach().numpy().copy()))
    h.register_hook(lambda g: g * 3)
    h.retain_grad()
    loss = (h * h).sum() + (x * x).sum()
    loss.backward()
    return x, weight, h, seen


def test_hooks_see_and_replace_gradients_as_torchs(backend):
    a, w = random_arrays((3, 4), (4, 2))
    ours, theirs = _run(xpnet, a, w), _run(torch, a, w)
    for got, want in zip(ours[:3], theirs[:3]):
        assert_close(got.grad, want.grad)  # h.grad is after the hooks, as torch
    for key in ("x", "h"):
        assert len(ours[3][key]) == len(theirs[3][key]) == 1  # a leaf's hook runs once
        assert_close(ours[3][key][0], theirs[3][key][0])


def test_a_removed_hook_no_longer_runs():
    x = xpnet.ones(2, requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [1] and x.grad.tolist() == [4.0, 4.0]
    with x.register_hook(lambda g: g * 0) as scoped:
        (x * 2).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]  # the zeroed gradient added nothing
    scoped.remove()  # removing twice is harmless


def test_post_accumulate_grad_hooks_run_once_the_grad_is_complete():
    p = xpnet.nn.Parameter(xpnet.tensor([1.0, 2.0]))
    seen = []
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((p * p).sum() + (p * 3).sum()).backward()  # two contributions, one call with their sum
    assert seen == [[5.0, 7.0]]
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tseen = []
    tp.register_post_accumulate_grad_hook(lambda t: tseen.append(t.grad.tolist()))
    ((tp * tp).sum() + (tp * 3).sum()).backward()
    assert seen == tseen


def test_hooks_on_sparse_embedding_gradients_see_the_row_sparse_gradient():
    emb = xpnet.nn.Embedding(10, 3, sparse=True)
    seen = []
    emb.weight.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.is_sparse))
    emb(xpnet.tensor([1, 2, 1])).sum().backward()
    assert seen == [True]


def test_hook_errors_are_clear():
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor "
                                           "that does not require grad"):
        xpnet.ones(2).register_hook(lambda g: g)
    x = xpnet.ones(2, requires_grad=True)
    x.register_hook(lambda g: xpnet.ones(3))
    with pytest.raises(ValueError, match=r"a hook returned a gradient of shape \(3,\)"):
        (x * 2).sum().backward()
    y = xpnet.ones(2, requires_grad=True)
    y.register_hook(lambda g: "nope")
    with pytest.raises(TypeError, match="a hook must return a Tensor or None, got str"):
        (y * 2).sum().backward()
    with pytest.raises(RuntimeError, match="only leaf tensors have their .grad accumulated"):
        (xpnet.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
