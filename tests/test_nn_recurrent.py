"""Recurrent layers (ops/recurrent.py, functional/recurrent.py, nn/recurrent.py, nn/utils/rnn.py)
against torch.nn.RNN/GRU/LSTM and their cells with the same weights, gradcheck on every backend,
variable lengths, truncated BPTT, bad input, and the NumPy fast path against its twin."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import xpnet
from xpnet import nn
from xpnet.nn.utils import rnn as rnn_utils

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device

torch = pytest.importorskip("torch")

KINDS = ["RNN", "RNN-relu", "GRU", "LSTM"]


def _modules(kind, *args, dtype="float64", **options):
    """(xpnet module, torch module) of the same kind, with torch's weights loaded into ours."""
    name, _, nonlinearity = kind.partition("-")
    if nonlinearity:
        options["nonlinearity"] = nonlinearity
    theirs = getattr(torch.nn, name)(*args, **options)
    theirs = theirs.double() if dtype == "float64" else theirs
    ours = getattr(nn, name)(*args, dtype=dtype, **options)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _states(h):
    return h if isinstance(h, tuple) else (h,)


def _compare(ours, theirs, x_np, hx_np=None, lengths=None, rtol=1e-10, atol=1e-12, seed=1):
    """Run both on the same input (and initial state), compare the output, the final states
    and the gradients of the input, the initial states and every parameter."""
    x = xpnet.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    hx = thx = None
    if hx_np is not None:
        hx = tuple(xpnet.tensor(a, requires_grad=True) for a in hx_np)
        thx = tuple(torch.tensor(a, requires_grad=True) for a in hx_np)
    lstm = isinstance(theirs, torch.nn.LSTM)
    unpack = (lambda s: s) if lstm else (lambda s: None if s is None else s[0])
    if lengths is None:
        out, h = ours(x, unpack(hx))
        tout, th = theirs(tx, unpack(thx))
    else:
        out, h = ours(x, unpack(hx), lengths=lengths)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            tx, torch.tensor(lengths), batch_first=theirs.batch_first, enforce_sorted=False)
        tout, th = theirs(packed, unpack(thx))
        tout, _ = torch.nn.utils.rnn.pad_packed_sequence(
            tout, batch_first=theirs.batch_first, total_length=x_np.shape[1 if theirs.batch_first
                                                                              else 0])
    results, expected = (out, *_states(h)), (tout, *_states(th))
    for got, want in zip(results, expected):
        assert_on_device(got, xpnet.backend.active().name)
        assert_close(got, want, rtol=rtol, atol=atol)
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=tuple(w.shape)).astype(x_np.dtype) for w in expected]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(expected, weights)).backward()
    sum((t * xpnet.tensor(w)).sum() for t, w in zip(results, weights)).backward()
    assert_close(x.grad, tx.grad, rtol=rtol, atol=atol)
    for got, want in zip(hx or (), thx or ()):
        assert_close(got.grad, want.grad, rtol=rtol, atol=atol)
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(ours_params[name].grad, p.grad, rtol=rtol, atol=atol)


# Every layer count and direction of every kind, with the four yes/no options (batch_first,
# bias, initial states, variable lengths) cycling through all 16 combinations across cases.
_OPTIONS = list(itertools.product([False, True], repeat=4))
_CASES = [(kind, layers, bidirectional, *_OPTIONS[(k * 6 + j) % 16])
          for k, kind in enumerate(KINDS)
          for j, (layers, bidirectional) in enumerate(itertools.product([1, 2, 3], [False, True]))]


@pytest.mark.parametrize("kind, layers, bidirectional, batch_first, bias, initial, ragged",
                         _CASES)
def test_layers_match_torch_in_float64(backend, kind, layers, bidirectional, batch_first, bias,
                                       initial, ragged):
    steps, batch, size, hidden = 5, 3, 4, 3
    ours, theirs = _modules(kind, size, hidden, num_layers=layers, bias=bias,
                            batch_first=batch_first, bidirectional=bidirectional)
    shape = (batch, steps, size) if batch_first else (steps, batch, size)
    (x,) = random_arrays(shape, seed=layers)
    hx = None
    if initial:
        count = layers * (2 if bidirectional else 1)
        hx = random_arrays(*[(count, batch, hidden)] * (2 if kind == "LSTM" else 1), seed=9)
    _compare(ours, theirs, x, hx, lengths=[5, 2, 4] if ragged else None)


def test_all_option_combinations_are_covered():
    assert {case[3:] for case in _CASES} == set(_OPTIONS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fast", [True, False])
def test_layers_match_torch_in_float32(backend, kind, fast):
    xpnet.use_fast_paths(fast)
    ours, theirs = _modules(kind, 6, 5, num_layers=2, bidirectional=True, dtype="float32")
    (x,) = random_arrays((7, 4, 6), dtype=np.float32)
    _compare(ours, theirs, x, lengths=[7, 3, 5, 1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_matches_torch(backend, kind):
    ours, theirs = _modules(kind, 4, 3, num_layers=2)
    (x,) = random_arrays((6, 4))
    hx = random_arrays(*[(2, 3)] * (2 if kind == "LSTM" else 1), seed=2)
    _compare(ours, theirs, x, hx)


@pytest.mark.parametrize("kind", ["RNNCell", "RNNCell-relu", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(backend, kind, batched, bias):
    name, _, nonlinearity = kind.partition("-")
    options = {"nonlinearity": nonlinearity} if nonlinearity else {}
    theirs = getattr(torch.nn, name)(4, 3, bias=bias, **options).double()
    ours = getattr(nn, name)(4, 3, bias=bias, dtype="float64", **options)
    ours.load_state_dict(theirs.state_dict())
    lstm = name == "LSTMCell"
    x_np, h_np, c_np = random_arrays((5, 4) if batched else (4,), *[(5, 3) if batched else (3,)] * 2)
    for with_state in (False, True):
        x, tx = xpnet.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        states = [xpnet.tensor(a, requires_grad=True) for a in (h_np, c_np)]
        tstates = [torch.tensor(a, requires_grad=True) for a in (h_np, c_np)]
        hx = (tuple(states) if lstm else states[0]) if with_state else None
        thx = (tuple(tstates) if lstm else tstates[0]) if with_state else None
        got, want = _states(ours(x, hx)), _states(theirs(tx, thx))
        for g, w in zip(got, want):
            assert_close(g, w)
        sum(w.sum() * (k + 1) for k, w in enumerate(want)).backward()
        sum(g.sum() * (k + 1) for k, g in enumerate(got)).backward()
        assert_close(x.grad, tx.grad)
        if with_state:
            for s, t in zip(states, tstates[:len(got)]):
                assert_close(s.grad, t.grad)
        for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == tn
            assert_close(p.grad, tp.grad)
            p.grad = None
        theirs.zero_grad()


def test_parameter_names_shapes_and_init_follow_torch():
    ours = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    bound = 1 / 20 ** 0.5
    values = np.concatenate([p.numpy().ravel() for p in ours.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.std() == pytest.approx(bound / 3 ** 0.5, rel=0.05)  # U(-k, k)
    assert repr(ours) == "LSTM(10, 20, num_layers=2, bidirectional=True)"
    assert len(ours.all_weights) == 4 and len(ours.all_weights[0]) == 4


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(backend, kind):
    """Finite differences through a stacked bidirectional layer with ragged lengths and given
    initial states, float64: every input, state and parameter."""
    name, _, nonlinearity = kind.partition("-")
    options = {"nonlinearity": nonlinearity} if nonlinearity else {}
    layer = getattr(nn, name)(2, 2, num_layers=2, bidirectional=True, dtype="float64",
                              **options)
    x, h, c = (xpnet.tensor(a, requires_grad=True)
               for a in random_arrays((4, 3, 2), (4, 3, 2), (4, 3, 2), low=-1, high=1))
    params = list(layer.parameters())
    function = getattr(xpnet.functional, layer.mode)

    def run(x, h, c, *weights):
        out, state = function(x, (h, c) if name == "LSTM" else h, list(weights), num_layers=2,
                              bidirectional=True, lengths=[4, 1, 3])
        return (out, *_states(state))

    assert xpnet.gradcheck(run, (x, h, c if name == "LSTM" else c.detach(), *params))


@pytest.mark.parametrize("kind", KINDS)
def test_padding_changes_neither_state_nor_gradients(backend, kind):
    """A padded batch gives each sequence the results it gets alone, whatever the padding
    holds, and the padding gets zero gradient."""
    ours, _ = _modules(kind, 3, 4, num_layers=2, bidirectional=True)
    lengths = [6, 2, 4]
    (x_np,) = random_arrays((6, 3, 3))
    x = xpnet.tensor(x_np, requires_grad=True)
    out, h = ours(x, lengths=lengths)
    loss = out.sum() + sum((s * s).sum() for s in _states(h))
    loss.backward()
    padded_grads = {n: p.grad.numpy() for n, p in ours.named_parameters()}
    grad_x = x.grad.numpy()
    total = {n: 0 for n in padded_grads}
    for b, n in enumerate(lengths):
        ours.zero_grad()
        xb = xpnet.tensor(x_np[:n, b:b + 1], requires_grad=True)
        ob, hb = ours(xb)
        for got, want in zip(_states(h), _states(hb)):
            assert_close(got[:, b:b + 1], want)
        assert_close(out[:n, b:b + 1], ob)
        assert not np.any(out.numpy()[n:, b])
        ((ob.sum() + sum((s * s).sum() for s in _states(hb)))).backward()
        assert_close(grad_x[:n, b:b + 1], xb.grad)
        assert not np.any(grad_x[n:, b])
        for name, p in ours.named_parameters():
            total[name] = total[name] + p.grad.numpy()
    for name in total:
        np.testing.assert_allclose(padded_grads[name], total[name], rtol=1e-10, atol=1e-12)


def test_packed_sequences_match_torch(backend):
    ours, theirs = _modules("LSTM", 3, 4, num_layers=2, bidirectional=True)
    seqs = random_arrays((2, 3), (5, 3), (4, 3))
    xs = [xpnet.tensor(s, requires_grad=True) for s in seqs]
    packed = rnn_utils.pack_sequence(xs, enforce_sorted=False)
    tseqs = [torch.tensor(s, requires_grad=True) for s in seqs]
    tpacked = torch.nn.utils.rnn.pack_sequence(tseqs, enforce_sorted=False)
    assert_close(packed.data, tpacked.data)
    assert packed.batch_sizes.tolist() == tpacked.batch_sizes.tolist()
    assert packed.sorted_indices.tolist() == tpacked.sorted_indices.tolist()
    assert packed.unsorted_indices.tolist() == tpacked.unsorted_indices.tolist()
    out, (h, c) = ours(packed)
    tout, (th, tc) = theirs(tpacked)
    assert isinstance(out, rnn_utils.PackedSequence)
    assert out.sorted_indices.tolist() == tout.sorted_indices.tolist()
    for got, want in ((out.data, tout.data), (h, th), (c, tc)):
        assert_close(got, want)
    padded, lengths = rnn_utils.pad_packed_sequence(out, batch_first=True, padding_value=-1.0)
    tpadded, tlengths = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=True,
                                                               padding_value=-1.0)
    assert_close(padded, tpadded)
    assert lengths.tolist() == tlengths.tolist()
    (padded.sum() + h.sum()).backward()
    (tpadded.sum() + th.sum()).backward()
    for x, tx in zip(xs, tseqs):  # through the packing, back to the original sequences
        assert_close(x.grad, tx.grad)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad, tp.grad)


def test_pad_and_unpad_sequence_match_torch(backend):
    seqs = random_arrays((2, 3), (5, 3), (4, 3))
    for batch_first, side in itertools.product([False, True], ["right", "left"]):
        got = rnn_utils.pad_sequence([xpnet.tensor(s) for s in seqs], batch_first=batch_first,
                                     padding_value=7.0, padding_side=side)
        want = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                               batch_first=batch_first, padding_value=7.0,
                                               padding_side=side)
        assert_close(got, want)
    padded = rnn_utils.pad_sequence([xpnet.tensor(s) for s in seqs])
    for got, want in zip(rnn_utils.unpad_sequence(padded, [2, 5, 4]), seqs):
        assert_close(got, want)


def test_truncated_bptt_stops_gradients_at_the_detached_state(backend):
    """Chunked training: carrying the detached state gives the second chunk exactly the
    gradients of a run that starts from that state as a constant."""
    ours, _ = _modules("LSTM", 3, 4, num_layers=2)
    (x_np,) = random_arrays((10, 2, 3))
    _, (h, c) = ours(xpnet.tensor(x_np[:5]))
    state = (h.detach(), c.detach())
    out, _ = ours(xpnet.tensor(x_np[5:]), state)
    out.sum().backward()
    chunked = [p.grad.numpy() for p in ours.parameters()]
    ours.zero_grad()
    constant = tuple(xpnet.tensor(s.numpy()) for s in state)
    ours(xpnet.tensor(x_np[5:]), constant)[0].sum().backward()
    for got, p in zip(chunked, ours.parameters()):
        np.testing.assert_array_equal(got, p.grad.numpy())
    assert not state[0].requires_grad


def test_dropout_acts_between_layers_in_training_only():
    layer = nn.GRU(3, 4, num_layers=2, dropout=1.0, dtype="float64")
    (x_np,) = random_arrays((5, 2, 3))
    x = xpnet.tensor(x_np)
    train_out, _ = layer(x)
    # With every activation between the layers dropped, the top layer sees zeros.
    top = nn.GRU(4, 4, dtype="float64")
    top.load_state_dict({k.replace("_l1", "_l0"): v for k, v in layer.state_dict().items()
                         if "_l1" in k})
    assert_close(train_out, top(xpnet.zeros(5, 2, 4, dtype="float64"))[0])
    layer.eval()
    _, theirs = _modules("GRU", 3, 4, num_layers=2, dropout=1.0)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in layer.state_dict().items()})
    theirs.eval()
    assert_close(layer(x)[0], theirs(torch.tensor(x_np))[0])


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ragged", [False, True])
def test_numpy_fast_path_matches_the_twin(kind, ragged):
    """The NumPy kernels against the standard-only twins: outputs, states and gradients."""
    xpnet.use_backend("numpy")
    ours, _ = _modules(kind, 5, 6, num_layers=2, bidirectional=True)
    x_np, h_np, c_np = random_arrays((7, 4, 5), (4, 4, 6), (4, 4, 6))
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast):
            ours.zero_grad()
            x = xpnet.tensor(x_np, requires_grad=True)
            hx = xpnet.tensor(h_np, requires_grad=True)
            cx = xpnet.tensor(c_np, requires_grad=True)
            state = (hx, cx) if kind == "LSTM" else hx
            out, h = ours(x, state, lengths=[7, 2, 5, 6] if ragged else None)
            (out.sum() * 2 + sum((s * s).sum() for s in _states(h))).backward()
            results.append([out.numpy(), *(s.numpy() for s in _states(h)), x.grad.numpy(),
                            hx.grad.numpy(), *[p.grad.numpy() for p in ours.parameters()]]
                           + ([cx.grad.numpy()] if kind == "LSTM" else []))
    for fast, twin in zip(*results):
        np.testing.assert_allclose(fast, twin, rtol=1e-11, atol=1e-13)


def test_one_graph_node_per_layer_both_directions_in_it():
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    out, _ = layer(xpnet.randn(50, 2, 3))
    nodes, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in nodes:
            continue
        nodes.add(node)
        stack.extend(p[1] for p in node.parents if p is not None)
    names = [type(n).__name__ for n in nodes]
    assert names.count("RecurrentLayer") == 2
    assert len(nodes) < 20  # nothing per time step


@pytest.mark.parametrize("call, message", [
    (lambda m: m(xpnet.randn(5, 2, 4)), "expected input.size(-1) == input_size = 3, got input "
                                        "of shape (5, 2, 4)"),
    (lambda m: m(xpnet.randn(5, 3)[None, None, ...]), "expected input of 3 dimensions"),
    (lambda m: m(xpnet.randn(5, 2, 3), (xpnet.randn(1, 2, 4), xpnet.randn(2, 2, 4))),
     "expected h_0 of shape (2, 2, 4) (num_layers * num_directions, batch, hidden_size), got "
     "(1, 2, 4)"),
    (lambda m: m(xpnet.randn(5, 2, 3), xpnet.randn(2, 2, 4)), "hx must be a tuple (h_0, c_0)"),
    (lambda m: m(xpnet.randn(5, 2, 3), lengths=[6, 2]),
     "lengths must be in [1, seq_len = 5], got 6"),
    (lambda m: m(xpnet.randn(5, 2, 3), lengths=[5, 0]), "lengths must be in [1, seq_len = 5], got 0"),
    (lambda m: m(xpnet.randn(5, 2, 3), lengths=[5]),
     "lengths must hold one int per sequence of the batch (2)"),
    (lambda m: m(xpnet.randn(5, 2, 3, dtype="float64")), "input dtype float64 does not match"),
])
def test_bad_input_names_expected_and_received(call, message):
    layer = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        call(layer)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.GRU(0, 4), "input_size must be a positive int, got 0"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity must be 'tanh' or 'relu'"),
    (lambda: nn.LSTM(3, 4, num_layers=2, dropout=1.5), "dropout must be a number in [0, 1]"),
    (lambda: nn.LSTM(3, 4, proj_size=2), "proj_size=2 is not supported"),
    (lambda: nn.LSTMCell(3, 4)(xpnet.randn(2, 5)), "expected input of shape (batch, 3)"),
    (lambda: nn.GRUCell(3, 4)(xpnet.randn(2, 3), xpnet.randn(3, 4)),
     "expected h of shape (2, 4), got (3, 4)"),
    (lambda: rnn_utils.pack_padded_sequence(xpnet.randn(4, 2, 3), [2, 4]),
     "lengths must be sorted in decreasing order when enforce_sorted=True"),
    (lambda: rnn_utils.pack_padded_sequence(xpnet.randn(4, 2, 3), [5, 4]),
     "every length must be in [1, 4] (the padded length), got 5"),
])
def test_bad_construction_and_cell_input(make, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=re.escape(message)):
        make()


@pytest.mark.parametrize("kind", KINDS)
def test_no_grad_forward_equals_the_recorded_one_and_torch(kind):
    """Under no_grad the kernels keep nothing for backward (the tiled LSTM one step's gates):
    the same numbers as a forward that records, and as torch's, float32, both directions."""
    ours, theirs = _modules(kind, 20, 32, num_layers=2, bidirectional=True, dtype="float32")
    x_np = np.random.default_rng(5).standard_normal((9, 16, 20)).astype(np.float32)
    x = xpnet.tensor(x_np)
    recorded, h_recorded = ours(x)
    with xpnet.no_grad():
        out, h = ours(x)
    assert not out.requires_grad
    for a, b in zip((out, *_states(h)), (recorded, *_states(h_recorded))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with torch.no_grad():
        want, h_want = theirs(torch.from_numpy(x_np))
    for a, b in zip((out, *_states(h)), (want, *_states(h_want))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
