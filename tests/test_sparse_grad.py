"""Row-sparse gradients (``sparse=True`` embeddings): their layout and accumulation, the code
that handles gradients (zero_grad, clipping, diagnostics, autograd.grad), and the optimizers
that apply them, step by step against torch."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet import nn, optim
from xpnet.autograd import RowSparseGrad
from xpnet.nn.utils import clip_grad_norm_, clip_grad_value_, gradient_norms

from .conftest import assert_close, assert_on_backend

torch = pytest.importorskip("torch")

V, D = 12, 3
# One batch of lookups per step; rows repeat within a step and some rows are never looked up.
STEPS = [np.array([[1, 4, 4], [7, 1, 0]]), np.array([[4, 9, 9], [9, 2, 4]]),
         np.array([[11, 0, 0], [5, 5, 1]]), np.array([[1, 4, 4], [8, 8, 3]])]
WEIGHT = np.random.default_rng(0).uniform(-1, 1, (V, D))
TARGET = np.random.default_rng(1).uniform(-1, 1, (2, 3, D))


def _loss(lib, out):
    # Nonlinear in the looked-up rows, so the trajectories depend on every earlier step.
    target = xpnet.tensor(TARGET) if lib is xpnet else torch.from_numpy(TARGET)
    return (out.tanh() * target).sum() + 0.3 * (out ** 2).sum()


def _ours_loss(weight, idx, sparse=True, **kwargs):
    out = F.embedding(xpnet.tensor(idx), weight, sparse=sparse, **kwargs)
    return (out.tanh() * xpnet.tensor(TARGET)).sum() + 0.3 * (out ** 2).sum()


def _torch_loss(weight, idx, sparse=True, **kwargs):
    out = torch.nn.functional.embedding(torch.from_numpy(idx), weight, sparse=sparse, **kwargs)
    return (torch.tanh(out) * torch.from_numpy(TARGET)).sum() + 0.3 * (out ** 2).sum()


def _pair():
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    theirs = torch.tensor(WEIGHT, requires_grad=True)
    return ours, theirs


# -- the gradient object ------------------------------------------------------------------------

def test_sparse_gradient_holds_the_looked_up_rows_and_densifies_to_torchs(backend):
    ours, theirs = _pair()
    _ours_loss(ours, STEPS[0]).backward()
    _torch_loss(theirs, STEPS[0]).backward()
    g = ours.grad
    assert isinstance(g, RowSparseGrad) and g.is_sparse and not g.is_coalesced()
    assert g.shape == (V, D) and g.nnz == STEPS[0].size and g.backend == xpnet.backend.load(
        backend).name
    # Uncoalesced, one row per lookup in input order, as torch's.
    np.testing.assert_array_equal(g.indices().numpy(), theirs.grad._indices().numpy()[0])
    assert_close(g.values(), theirs.grad._values())
    dense = g.to_dense()
    assert_on_backend(dense, backend)
    assert_close(dense, theirs.grad.to_dense())
    c = g.coalesce()
    assert c.is_coalesced() and c.nnz == len(np.unique(STEPS[0]))
    np.testing.assert_array_equal(c.indices().numpy(), np.unique(STEPS[0]))
    assert_close(c.to_dense(), theirs.grad.to_dense())


def test_padding_rows_and_max_norm_match_torch_with_sparse_gradients(backend):
    ours, theirs = _pair()
    _ours_loss(ours, STEPS[0], padding_idx=4, max_norm=0.7).backward()
    _torch_loss(theirs, STEPS[0], padding_idx=4, max_norm=0.7).backward()
    assert 4 not in ours.grad.indices().numpy()  # padding lookups leave no row, as in torch
    np.testing.assert_array_equal(ours.grad.indices().numpy(), theirs.grad._indices().numpy()[0])
    assert_close(ours.grad.to_dense(), theirs.grad.to_dense())
    assert_close(ours, theirs.detach())  # the same rows renormalised


def test_scale_grad_by_freq_matches_torch(backend):
    # torch refuses scale_grad_by_freq with sparse=True; ours allows it, and densified it must
    # equal torch's dense gradient.
    ours, theirs = _pair()
    _torch_loss(theirs, STEPS[1], sparse=False, scale_grad_by_freq=True).backward()
    for sparse in (True, False):
        ours.grad = None
        _ours_loss(ours, STEPS[1], sparse=sparse, scale_grad_by_freq=True).backward()
        assert_close(ours.grad.to_dense() if sparse else ours.grad, theirs.grad)


def test_two_sparse_uses_concatenate_and_a_dense_use_densifies(backend):
    ours, theirs = _pair()
    (_ours_loss(ours, STEPS[0]) + _ours_loss(ours, STEPS[1])).backward()
    (_torch_loss(theirs, STEPS[0]) + _torch_loss(theirs, STEPS[1])).backward()
    assert isinstance(ours.grad, RowSparseGrad) and ours.grad.nnz == 2 * STEPS[0].size
    assert_close(ours.grad.to_dense(), theirs.grad.to_dense())
    # A second backward adds to the sparse gradient; one through a dense op makes it dense.
    _ours_loss(ours, STEPS[2]).backward()
    _torch_loss(theirs, STEPS[2]).backward()
    assert ours.grad.nnz == 3 * STEPS[0].size
    assert_close(ours.grad.to_dense(), theirs.grad.to_dense())
    (ours ** 3).sum().backward()
    (theirs ** 3).sum().backward()
    assert isinstance(ours.grad, xpnet.Tensor)
    assert_close(ours.grad, theirs.grad.to_dense())


def test_dense_then_sparse_in_one_graph_is_dense(backend):
    ours, theirs = _pair()
    (_ours_loss(ours, STEPS[0]) + (ours * ours).sum()).backward()
    (_torch_loss(theirs, STEPS[0]) + (theirs * theirs).sum()).backward()
    assert isinstance(ours.grad, xpnet.Tensor)
    assert_close(ours.grad, theirs.grad)


def test_a_sparse_gradient_into_a_non_leaf_weight_is_densified(backend):
    # The weight is computed (w * 2), so its gradient flows on through mul's backward.
    ours, theirs = _pair()
    _ours_loss(ours * 2.0, STEPS[0]).backward()
    _torch_loss(theirs * 2.0, STEPS[0]).backward()
    assert isinstance(ours.grad, xpnet.Tensor)  # torch keeps it sparse through mul; we do not
    assert_close(ours.grad, theirs.grad.to_dense())


def test_autograd_grad_and_gradcheck_see_the_dense_gradient(backend):
    ours, theirs = _pair()
    (g,) = xpnet.autograd.grad(_ours_loss(ours, STEPS[0]), ours)
    _torch_loss(theirs, STEPS[0], sparse=False).backward()
    assert isinstance(g, xpnet.Tensor)
    assert_close(g, theirs.grad)
    small = xpnet.tensor(WEIGHT[:5], requires_grad=True)
    idx = xpnet.tensor([[1, 3, 1], [0, 1, 4]])
    assert xpnet.gradcheck(lambda w: F.embedding(idx, w, sparse=True), [small])


def test_zero_grad_keeps_an_empty_sparse_gradient(backend):
    emb = nn.Embedding(V, D, sparse=True)
    opt = optim.SGD(emb.parameters(), lr=0.1)
    emb(xpnet.tensor(STEPS[0])).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert isinstance(emb.weight.grad, RowSparseGrad) and emb.weight.grad.nnz == 0
    assert not np.any(emb.weight.grad.to_dense().numpy())
    before = emb.weight.numpy()
    opt.step()  # an empty sparse gradient changes nothing
    np.testing.assert_array_equal(emb.weight.numpy(), before)
    emb(xpnet.tensor(STEPS[0])).sum().backward()
    emb.zero_grad(set_to_none=False)
    assert emb.weight.grad.nnz == 0
    emb.zero_grad()
    assert emb.weight.grad is None


def test_clip_grad_norm_counts_sparse_rows_as_their_dense_values(backend):
    # torch cannot clip sparse gradients (no vector_norm for SparseCPU): compare with its dense
    # run of the same model.
    ours, theirs = _pair()
    bias = xpnet.tensor([0.5, -2.0], dtype="float64", requires_grad=True)
    theirs_bias = torch.tensor([0.5, -2.0], dtype=torch.float64, requires_grad=True)
    (_ours_loss(ours, STEPS[0]) + _ours_loss(ours, STEPS[1]) + (bias ** 2).sum()).backward()
    (_torch_loss(theirs, STEPS[0], sparse=False) + _torch_loss(theirs, STEPS[1], sparse=False)
     + (theirs_bias ** 2).sum()).backward()
    for norm_type in (2.0, 1.0, float("inf")):
        total = clip_grad_norm_([ours, bias], 1.5, norm_type)
        want = torch.nn.utils.clip_grad_norm_([theirs, theirs_bias], 1.5, norm_type)
        assert_close(total, want)
        assert isinstance(ours.grad, RowSparseGrad)
        # Coalescing would wait for a device: there the rows stay as backward made them.
        assert ours.grad.is_coalesced() or not ours.grad._backend.on_host
        assert_close(ours.grad.to_dense(), theirs.grad)
        assert_close(bias.grad, theirs_bias.grad)


def test_clip_grad_value_clamps_the_summed_rows(backend):
    ours, theirs = _pair()
    _ours_loss(ours, STEPS[0]).backward()
    _torch_loss(theirs, STEPS[0], sparse=False).backward()
    clip_grad_value_([ours], 0.8)
    torch.nn.utils.clip_grad_value_([theirs], 0.8)
    assert isinstance(ours.grad, RowSparseGrad)
    assert_close(ours.grad.to_dense(), theirs.grad)


def test_moving_a_module_moves_a_sparse_gradient_as_dense():
    emb = nn.Embedding(V, D, sparse=True)
    emb(xpnet.tensor(STEPS[0])).sum().backward()
    dense = emb.weight.grad.to_dense().numpy()
    emb.double()
    assert isinstance(emb.weight.grad, xpnet.Tensor) and emb.weight.grad.dtype is xpnet.float64
    np.testing.assert_array_equal(emb.weight.grad.numpy(), dense)


def test_gradient_norms_of_a_sparse_embedding(backend):
    model = nn.Sequential(nn.Embedding(V, D, sparse=True), nn.Linear(D, 2)).double()
    model(xpnet.tensor(STEPS[0])).sum().backward()
    emb = model[0].weight
    dense = emb.grad.to_dense().numpy()
    for norm_type in (2.0, float("inf")):
        got = gradient_norms(model, norm_type, per="parameter")["0.weight"]
        assert got == pytest.approx(np.linalg.norm(dense.ravel(), norm_type), rel=1e-12)


# -- optimizers ---------------------------------------------------------------------------------

OPTIMIZERS = [  # (ours, torch, kwargs, torch gets sparse gradients)
    ("SGD", "SGD", {"lr": 0.1}, True),
    ("SGD", "SGD", {"lr": 0.05, "maximize": True}, True),
    # Momentum and weight decay move every row: xpnet densifies (torch refuses sparse plus
    # weight decay), so the reference is torch's dense run.
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, False),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, True),
    ("Adagrad", "Adagrad", {"lr": 0.1}, True),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3,
                            "eps": 1e-6, "maximize": True}, True),
    # torch's Adam refuses sparse gradients; ours applies SparseAdam's lazy step.
    ("Adam", "SparseAdam", {"lr": 0.05}, True),
    ("SparseAdam", "SparseAdam", {"lr": 0.05}, True),
    ("SparseAdam", "SparseAdam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-4,
                                  "maximize": True}, True),
]


@pytest.mark.parametrize("ours_name, torch_name, kwargs, torch_sparse", OPTIMIZERS,
                         ids=[f"{a}-{i}" for i, (a, *_r) in enumerate(OPTIMIZERS)])
def test_sparse_trajectory_matches_torch(backend, ours_name, torch_name, kwargs, torch_sparse):
    ours, theirs = _pair()
    opt = getattr(optim, ours_name)([ours], **kwargs)
    extra = {} if torch_name == "SparseAdam" else {"foreach": False}
    torch_opt = getattr(torch.optim, torch_name)([theirs], **kwargs, **extra)
    sign = -1 if kwargs.get("maximize") else 1
    for idx in STEPS:
        opt.zero_grad()
        (sign * _ours_loss(ours, idx)).backward()
        assert isinstance(ours.grad, RowSparseGrad)
        opt.step()
        torch_opt.zero_grad()
        (sign * _torch_loss(theirs, idx, sparse=torch_sparse)).backward()
        # Opting out explicitly silences torch's warning that the checks are off by default.
        with torch.sparse.check_sparse_tensor_invariants(enable=False):
            torch_opt.step()
        assert_close(ours, theirs.detach(), rtol=1e-10, atol=1e-12)
    assert_on_backend(ours, backend)
    for key in ("exp_avg", "exp_avg_sq", "sum"):
        if key in torch_opt.state[theirs]:
            assert_close(opt.state[ours][key], torch_opt.state[theirs][key])


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam", "SparseAdam"])
def test_sparse_step_changes_only_the_looked_up_rows(backend, name):
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    opt = getattr(optim, name)([ours], lr=0.1)
    before, table = ours.numpy(), ours.array
    _ours_loss(ours, STEPS[0]).backward()
    opt.step()
    after = ours.numpy()
    # NumPy and torch write the rows into the table; the standard has no integer-array
    # assignment, so array_api_strict gets a new array (the `add_to_rows` twin).
    in_place = xpnet.fast_paths_enabled() and xpnet.backend.load(backend).family in (
        "numpy", "torch")
    assert (ours.array is table) == in_place
    touched = np.unique(STEPS[0])
    untouched = np.setdiff1d(np.arange(V), touched)
    np.testing.assert_array_equal(after[untouched], before[untouched])
    assert np.all(np.any(after[touched] != before[touched], axis=1))
    for value in opt.state[ours].values():
        if isinstance(value, xpnet.Tensor):  # untouched rows' moments / sums stay at zero
            assert not np.any(value.numpy()[untouched])


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam", "SparseAdam"])
def test_a_sparse_step_allocates_nothing_of_the_tables_size(name):
    """The sparse path must never build a (num_embeddings, dim) array: tracemalloc sees every
    NumPy allocation, and a dense gradient here would be 12.8 MB against rows of 4 KB."""
    vocabulary, dim = 100_000, 16
    with xpnet.use_backend("numpy"), xpnet.use_fast_paths(True):
        emb = nn.Embedding(vocabulary, dim, sparse=True).double()
        opt = getattr(optim, name)(emb.parameters(), lr=0.01)
        rng = np.random.default_rng(0)
        batches = [xpnet.tensor(rng.integers(0, vocabulary, (4, 8))) for _ in range(3)]

        def step(idx):
            opt.zero_grad()
            emb(idx).pow(2).sum().backward()
            opt.step()

        step(batches[0])  # the first step makes the optimizer's (dense) state
        table = emb.weight.array
        tracemalloc.start()
        try:
            for idx in batches[1:]:
                step(idx)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert emb.weight.array is table  # updated in place, not rebuilt
    dense_bytes = vocabulary * dim * 8
    assert peak < dense_bytes / 50, f"peak {peak} bytes during sparse steps"


def test_optimizers_without_a_sparse_update_refuse_before_writing():
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    other = xpnet.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    _ours_loss(ours, STEPS[0]).backward()
    (other ** 2).sum().backward()
    cases = [
        (optim.RMSprop([other, ours], lr=0.1), "RMSprop does not support"),
        (optim.Adagrad([other, ours], lr=0.1, weight_decay=0.1),
         r"Adagrad cannot combine with weight_decay=0\.1"),
        (optim.Adam([other, ours], lr=0.1, amsgrad=True), "Adam cannot combine with amsgrad"),
        (optim.AdamW([other, ours], lr=0.1), r"AdamW cannot combine with weight_decay=0\.01"),
    ]
    for opt, message in cases:
        with pytest.raises(RuntimeError, match=r"step: a parameter of shape \(12, 3\) has a "
                                               r"sparse gradient .*" + message):
            opt.step()
        np.testing.assert_array_equal(other.numpy(), [1.0, 2.0])  # nothing was written
    with pytest.raises(RuntimeError, match="SparseAdam.step: a parameter of shape \\(2,\\) has "
                                           "a dense gradient; .* use Adam"):
        optim.SparseAdam([ours, other]).step()
    np.testing.assert_array_equal(ours.numpy(), WEIGHT)


def test_sparse_adam_state_dict_is_a_snapshot():
    # Sparse steps write the state in place, so state_dict must copy it.
    ours = xpnet.tensor(WEIGHT, requires_grad=True)
    opt = optim.SparseAdam([ours], lr=0.1)
    for idx in STEPS[:2]:
        opt.zero_grad()
        _ours_loss(ours, idx).backward()
        opt.step()
        if idx is STEPS[0]:
            saved = opt.state_dict()
            first = saved["state"][0]["exp_avg"].numpy()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), first)
    assert saved["state"][0]["step"] == 1
    clone = optim.SparseAdam([xpnet.tensor(WEIGHT, requires_grad=True)], lr=0.1)
    clone.load_state_dict(saved)
    assert clone.state[clone.param_groups[0]["params"][0]]["step"] == 1


def test_sparse_adam_checks_its_hyperparameters():
    w = xpnet.tensor(WEIGHT, requires_grad=True)
    with pytest.raises(ValueError, match=r"SparseAdam: eps must be > 0, got 0"):
        optim.SparseAdam([w], eps=0)
    with pytest.raises(ValueError, match=r"SparseAdam: betas\[1\] must be in \[0, 1\), got 1"):
        optim.SparseAdam([w], betas=(0.9, 1))


def test_embedding_layer_with_sparse_true_trains_like_torchs():
    ours = nn.Embedding(V, D, padding_idx=0, sparse=True).double()
    theirs = torch.nn.Embedding(V, D, padding_idx=0, sparse=True).double()
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.numpy())})
    opt, torch_opt = optim.SparseAdam(ours.parameters(), lr=0.1), torch.optim.SparseAdam(
        theirs.parameters(), lr=0.1)
    for idx in STEPS:
        opt.zero_grad()
        _loss(xpnet, ours(xpnet.tensor(idx))).backward()
        opt.step()
        torch_opt.zero_grad()
        _loss(torch, theirs(torch.from_numpy(idx))).backward()
        torch_opt.step()
    assert_close(ours.weight, theirs.weight.detach())
    assert "sparse=True" in repr(ours)


@pytest.mark.parametrize("layer", [nn.Embedding, nn.EmbeddingBag])
def test_from_pretrained_copies_the_vectors_and_freezes_them(backend, layer):
    vectors = xpnet.tensor(WEIGHT)
    frozen = layer.from_pretrained(vectors)
    assert not frozen.weight.requires_grad and frozen.weight.array is not vectors.array
    assert_close(frozen.weight, WEIGHT)
    assert_on_backend(frozen.weight, backend)
    tuned = layer.from_pretrained(vectors, freeze=False, sparse=True, padding_idx=2)
    assert tuned.weight.requires_grad and tuned.sparse and tuned.padding_idx == 2
    assert_close(tuned.weight, WEIGHT)  # the padding row keeps its pretrained values
    theirs = getattr(torch.nn, layer.__name__).from_pretrained(torch.from_numpy(WEIGHT))
    # 2-D input: lookups for Embedding, bags of three for EmbeddingBag.
    assert_close(frozen(xpnet.tensor(STEPS[0])), theirs(torch.from_numpy(STEPS[0])))
    with pytest.raises(ValueError, match=r"from_pretrained: embeddings must be a 2-D "
                                         r"floating-point Tensor, got \(12,\)"):
        layer.from_pretrained(xpnet.tensor(WEIGHT[:, 0]))


def test_sparse_steps_do_not_reach_a_module_loaded_from_the_same_state_dict():
    # Sparse steps write rows in place, so load_state_dict must copy (as torch's does).
    source = nn.Embedding(V, D, sparse=True)
    target = nn.Embedding(V, D, sparse=True)
    target.load_state_dict(source.state_dict())
    before = source.weight.numpy()
    opt = optim.SGD(target.parameters(), lr=0.5)
    target(xpnet.tensor(STEPS[0])).sum().backward()
    opt.step()
    np.testing.assert_array_equal(source.weight.numpy(), before)
    assert np.any(target.weight.numpy() != before)
