"""Module backward hooks as PyTorch's: register_full_backward_hook sees (grad_input,
grad_output) and may replace grad_input; register_full_backward_pre_hook may replace
grad_output; handles remove them; forward hooks still see the real inputs."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close

torch = pytest.importorskip("torch")


def _model_with_hooks(lib, record):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))

    def keep(module, grad_input, grad_output):
        record.append(("tanh", [None if g is None else g.detach().numpy().copy()
                                for g in grad_input],
                       [g.detach().numpy().copy() for g in grad_output]))

    model[1].register_full_backward_hook(keep)
    model[2].register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] * 2,))
    model[1].register_full_backward_hook(lambda module, gi, go: (gi[0] * 0.5,))
    model[0].register_full_backward_hook(lambda module, gi, go: record.append(("first", gi)))
    return model


def test_backward_hooks_see_and_replace_gradients_as_torchs():
    ours_seen, theirs_seen = [], []
    ours, theirs = _model_with_hooks(xpnet, ours_seen), _model_with_hooks(torch, theirs_seen)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (ours(xpnet.tensor(x)) ** 2).sum().backward()
    with pytest.warns(UserWarning):  # torch warns when no input of a hooked module needs grad
        (theirs(torch.tensor(x)) ** 2).sum().backward()
    for (name, gi, go), (tname, tgi, tgo) in zip(ours_seen[:1], theirs_seen[:1]):
        assert name == tname == "tanh"
        for a, b in zip(gi + go, tgi + tgo):
            assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert ours_seen[1][0] == "first" and ours_seen[1][1] == (None,) == theirs_seen[1][1]
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=1e-6)


def test_hooks_on_a_module_with_several_inputs_and_outputs():
    class Pair(xpnet.nn.Module):
        def forward(self, a, b, scale):
            return a * scale, a * b

    module, calls = Pair(), []
    module.register_full_backward_hook(lambda m, gi, go: calls.append((len(gi), len(go), gi[1])))
    seen_args = []
    module.register_forward_hook(lambda m, args, out: seen_args.append(len(args)))
    a = xpnet.tensor([1.0, 2.0], requires_grad=True)
    b = xpnet.tensor([3.0, 4.0])  # needs no gradient: None in grad_input
    u, v = module(a, b, 2.0)
    (u + v).sum().backward()
    assert calls == [(2, 2, None)] and seen_args == [3]
    assert a.grad.tolist() == [5.0, 6.0]


def test_a_removed_backward_hook_stops_and_bad_returns_are_refused():
    layer = xpnet.nn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    x = xpnet.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == [1]
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(ValueError, match="register_full_backward_hook: the hook returned 2 "
                                         "gradients, expected 1"):
        layer(x).sum().backward()
