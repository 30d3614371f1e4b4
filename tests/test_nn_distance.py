"""Two-input layers: cosine_similarity and pairwise_distance (xpnet/ops/distance.py) with
CosineSimilarity and PairwiseDistance (xpnet/nn/distance.py), and F.bilinear with
nn.Bilinear (xpnet/functional/bilinear.py, xpnet/nn/linear.py), against PyTorch: values,
gradients (PyTorch's eps rules included), broadcasting, init, state dicts and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
import xpnet.nn as nn

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None


# -- cosine_similarity ---------------------------------------------------------------------------

# (x1 shape, x2 shape, dim)
COSINE_CASES = [((4, 5), (4, 5), 1), ((4, 5), (4, 5), 0), ((4, 5), (5,), 1), ((2, 3, 4), (3, 1), 1),
                ((2, 3, 4), (2, 3, 4), -1), ((5,), (5,), 0), ((3, 1), (1, 4), 0)]


@pytest.mark.parametrize("shape1, shape2, dim", COSINE_CASES)
def test_cosine_similarity_matches_torch(backend, shape1, shape2, dim):
    arrays = random_arrays(shape1, shape2, seed=1)
    fn = lambda a, b: F.cosine_similarity(a, b, dim=dim)  # noqa: E731
    torch_fn = lambda a, b: TF.cosine_similarity(a, b, dim=dim)  # noqa: E731
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("shape1, shape2, dim", COSINE_CASES[:4])
def test_cosine_similarity_gradcheck(backend, shape1, shape2, dim):
    gradcheck(lambda a, b: F.cosine_similarity(a, b, dim), random_arrays(shape1, shape2, seed=2))


def test_cosine_similarity_eps_rule_is_torchs_for_tiny_and_zero_vectors(backend):
    # Each norm is clamped at eps on its own, outside the graph: values stay in [-1, 1], a zero
    # vector gives 0, and below eps the gradient is PyTorch's (not the derivative of the clamp).
    x1 = np.array([[1e-9, 2e-9, -1e-9], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [3e-9, 0.0, 1.0]])
    x2 = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2e-9, 1e-9, 0.0]])
    for eps in (1e-8, 0.5):
        fn = lambda a, b, eps=eps: F.cosine_similarity(a, b, eps=eps)  # noqa: E731
        torch_fn = lambda a, b, eps=eps: TF.cosine_similarity(a, b, eps=eps)  # noqa: E731
        check_forward(backend, fn, torch_fn, [x1, x2])
        check_grads(backend, fn, torch_fn, [x1, x2], rtol=1e-9)


def test_cosine_similarity_of_parallel_vectors_is_one(backend):
    x = xpnet.tensor([[1.0, 2.0, 3.0]], dtype=xpnet.float64)
    assert_close(F.cosine_similarity(x, 2 * x), np.array([1.0]), rtol=1e-15)
    assert_close(xpnet.cosine_similarity(x, -x), np.array([-1.0]), rtol=1e-15)


def test_cosine_similarity_keeps_float32_and_the_device(backend):
    out = F.cosine_similarity(xpnet.randn(3, 4), xpnet.randn(3, 4))
    assert out.dtype is xpnet.float32
    assert_on_device(out, backend)


# -- pairwise_distance ---------------------------------------------------------------------------

# (x1 shape, x2 shape, p, keepdim)
PAIRWISE_CASES = [((4, 5), (4, 5), 2.0, False), ((4, 5), (4, 5), 1.0, True),
                  ((4, 5), (5,), 3.0, False), ((5,), (5,), 2.0, False),
                  ((2, 3, 4), (3, 4), 2.0, True), ((4, 5), (1, 5), 0.5, False),
                  ((4, 5), (4, 5), math.inf, False), ((4, 5), (4, 5), 0.0, False)]


@pytest.mark.parametrize("shape1, shape2, p, keepdim", PAIRWISE_CASES)
def test_pairwise_distance_matches_torch(backend, shape1, shape2, p, keepdim):
    arrays = random_arrays(shape1, shape2, seed=3)
    fn = lambda a, b: F.pairwise_distance(a, b, p=p, keepdim=keepdim)  # noqa: E731
    torch_fn = lambda a, b: TF.pairwise_distance(a, b, p=p, keepdim=keepdim)  # noqa: E731
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_pairwise_distance_gradcheck(backend, p):
    gradcheck(lambda a, b: F.pairwise_distance(a, b, p), random_arrays((3, 4), (3, 4), seed=4))


def test_pairwise_distance_of_equal_rows_is_eps_times_the_norm_of_ones(backend):
    # eps is added to each difference, as PyTorch's: |eps * 1|_p, with a finite gradient.
    x = np.array([[1.0, 2.0, 3.0]])
    for p in (1.0, 2.0, math.inf):
        fn = lambda a, b, p=p: F.pairwise_distance(a, b, p)  # noqa: E731
        torch_fn = lambda a, b, p=p: TF.pairwise_distance(a, b, p)  # noqa: E731
        check_forward(backend, fn, torch_fn, [x, x.copy()], rtol=1e-9)
        check_grads(backend, fn, torch_fn, [x, x.copy()], rtol=1e-9)


def test_pairwise_distance_of_0d_tensors_is_torchs(backend):
    check_forward(backend, F.pairwise_distance, TF.pairwise_distance,
                  [np.array(1.0), np.array(3.0)])


@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), features=st.integers(1, 4),
       ones=st.lists(st.booleans(), min_size=3, max_size=3), dim_choice=st.integers(0, 9),
       p=st.sampled_from([1.0, 2.0, 3.0]), keepdim=st.booleans())
def test_distances_broadcast_like_torch(batch, features, ones, dim_choice, p, keepdim):
    shape1 = (*batch, features)
    # The second input drops leading axes or has size 1 where ``ones`` says so.
    shape2 = tuple(1 if one else n for n, one in zip(shape1, ones))[-len(shape1) + dim_choice % 2:]
    arrays = random_arrays(shape1, shape2 or (features,), seed=dim_choice)
    dim = dim_choice % len(shape1) - len(shape1)
    with xpnet.use_backend("numpy"):
        check_forward("numpy", lambda a, b: F.cosine_similarity(a, b, dim),
                      lambda a, b: TF.cosine_similarity(a, b, dim), arrays)
        check_grads("numpy", lambda a, b: F.cosine_similarity(a, b, dim),
                    lambda a, b: TF.cosine_similarity(a, b, dim), arrays)
        check_forward("numpy", lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                      lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), arrays)
        check_grads("numpy", lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                    lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), arrays)


def test_distance_modules_match_torch_modules():
    arrays = random_arrays((4, 5), (4, 5), seed=5)
    pairs = [(nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
             (nn.CosineSimilarity(dim=0, eps=0.1), torch.nn.CosineSimilarity(dim=0, eps=0.1)),
             (nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
             (nn.PairwiseDistance(1.0, 1e-3, True), torch.nn.PairwiseDistance(1.0, 1e-3, True))]
    with xpnet.use_backend("numpy"):
        for module, torch_module in pairs:
            assert repr(module) == repr(torch_module)
            check_forward("numpy", module, torch_module, arrays)
            check_grads("numpy", module, torch_module, arrays)
    assert nn.PairwiseDistance(3.0).norm == torch.nn.PairwiseDistance(3.0).norm == 3.0


def test_distance_names():
    import xpnet.nn.functional as NF
    from xpnet.nn.modules import distance
    assert F.cosine_similarity is NF.cosine_similarity is xpnet.cosine_similarity
    assert F.pairwise_distance is NF.pairwise_distance is xpnet.pairwise_distance
    assert distance.CosineSimilarity is nn.CosineSimilarity
    assert distance.PairwiseDistance is nn.PairwiseDistance


def test_distance_bad_arguments():
    x = xpnet.randn(3, 4)
    with pytest.raises(TypeError, match="cosine_similarity: x2 must be a Tensor, got list"):
        F.cosine_similarity(x, [1.0])
    with pytest.raises(TypeError, match="cosine_similarity: x1 and x2 must have the same dtype"):
        F.cosine_similarity(x, x.double())
    with pytest.raises(TypeError, match="pairwise_distance: x1 must be floating point, got int64"):
        F.pairwise_distance(xpnet.tensor([1, 2]), xpnet.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"cosine_similarity: cannot broadcast shapes \(3, 4\) and "
                                         r"\(2, 4\)"):
        F.cosine_similarity(x, xpnet.randn(2, 4))
    with pytest.raises(ValueError, match="cosine_similarity: axis 2 is out of range"):
        F.cosine_similarity(x, x, dim=2)
    with pytest.raises(ValueError, match="cosine_similarity: x1 and x2 must have at least one"):
        F.cosine_similarity(xpnet.tensor(1.0), xpnet.tensor(2.0), dim=0)
    with pytest.raises(ValueError, match="cosine_similarity: eps must be non-negative"):
        F.cosine_similarity(x, x, eps=-1.0)
    with pytest.raises(ValueError, match="pairwise_distance: p must be non-negative, got -1"):
        F.pairwise_distance(x, x, p=-1)
    with pytest.raises(TypeError, match="pairwise_distance: keepdim must be a bool"):
        F.pairwise_distance(x, x, keepdim=1)


# -- bilinear ------------------------------------------------------------------------------------

# (leading shape, in1, in2, out, bias): in1 > in2 and in1 < in2 take the two contraction orders.
BILINEAR_CASES = [((5,), 3, 2, 4, True), ((5,), 2, 3, 4, False), ((), 3, 4, 2, True),
                  ((2, 3), 4, 4, 3, True), ((0,), 2, 3, 4, True)]


@pytest.mark.parametrize("lead, in1, in2, out, bias", BILINEAR_CASES)
def test_bilinear_function_matches_torch(backend, lead, in1, in2, out, bias):
    shapes = [(*lead, in1), (*lead, in2), (out, in1, in2)] + ([(out,)] if bias else [])
    arrays = random_arrays(*shapes, seed=6)
    check_forward(backend, F.bilinear, TF.bilinear, arrays)
    check_grads(backend, F.bilinear, TF.bilinear, arrays)


@pytest.mark.parametrize("lead, in1, in2, out, bias", BILINEAR_CASES[:4])
def test_bilinear_gradcheck(backend, lead, in1, in2, out, bias):
    shapes = [(*lead, in1), (*lead, in2), (out, in1, in2)] + ([(out,)] if bias else [])
    gradcheck(F.bilinear, random_arrays(*shapes, seed=7))


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_layer_with_torchs_weights_matches_torch(backend, bias):
    torch_layer = torch.nn.Bilinear(3, 4, 2, bias=bias).double()
    layer = nn.Bilinear(3, 4, 2, bias=bias, dtype=xpnet.float64)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.load_state_dict({k: v.numpy() for k, v in torch_layer.state_dict().items()})
    x1, x2 = random_arrays((6, 3), (6, 4), seed=8)
    a, b = to_xpnet(x1, x2)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    got, want = layer(a, b), torch_layer(ta, tb)
    assert_on_device(got, backend)
    assert_close(got, want)
    got.sum().backward()
    want.sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)
    for (name, p), (_, tp) in zip(layer.named_parameters(), torch_layer.named_parameters()):
        assert_close(p.grad, tp.grad), name


def test_bilinear_repr_and_attributes_are_torchs():
    for args in ((2, 3, 4), (2, 3, 4, False)):
        layer, torch_layer = nn.Bilinear(*args), torch.nn.Bilinear(*args)
        assert repr(layer) == repr(torch_layer)
        assert layer.weight.shape == tuple(torch_layer.weight.shape)
        assert (layer.in1_features, layer.in2_features, layer.out_features) == args[:3]


def test_bilinear_init_is_uniform_within_one_over_sqrt_in1_features():
    # 24,000 weights from U(-b, b), b = 1/sqrt(9): the std is b/sqrt(3) (standard error ~0.5%).
    layer = nn.Bilinear(9, 40, 60, dtype=xpnet.float64)
    bound = 1 / 3
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 0.01
    torch_w = torch.nn.Bilinear(9, 40, 60).weight.detach().numpy()
    assert w.std() == pytest.approx(torch_w.std(), rel=0.03)


def test_bilinear_init_is_reproducible_with_a_generator():
    g1, g2 = xpnet.Generator().manual_seed(3), xpnet.Generator().manual_seed(3)
    a, b = nn.Bilinear(2, 3, 4), nn.Bilinear(2, 3, 4)
    a.reset_parameters(generator=g1)
    b.reset_parameters(generator=g2)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())


def test_bilinear_on_the_requested_backend_and_family():
    from xpnet.nn.modules import linear
    layer = nn.Bilinear(2, 3, 4, backend="array_api_strict:device1")
    assert_on_device(layer.weight, "array_api_strict:device1")
    assert linear.Bilinear is nn.Bilinear
    import xpnet.nn.functional as NF
    assert NF.bilinear is F.bilinear


def test_bilinear_bad_arguments():
    w = xpnet.randn(4, 2, 3)
    with pytest.raises(ValueError, match=r"bilinear: input1 and input2 must have the same leading"):
        F.bilinear(xpnet.randn(5, 2), xpnet.randn(1, 3), w)
    with pytest.raises(ValueError, match=r"bilinear: inputs of shapes \(5, 3\) and \(5, 3\) do not "
                                         r"match weight of shape \(4, 2, 3\)"):
        F.bilinear(xpnet.randn(5, 3), xpnet.randn(5, 3), w)
    with pytest.raises(ValueError, match=r"bilinear: bias must have shape \(4,\), got \(3,\)"):
        F.bilinear(xpnet.randn(5, 2), xpnet.randn(5, 3), w, xpnet.randn(3))
    with pytest.raises(ValueError, match="bilinear: weight must have shape"):
        F.bilinear(xpnet.randn(5, 2), xpnet.randn(5, 3), xpnet.randn(2, 3))
    with pytest.raises(TypeError, match="bilinear: input2 must be a Tensor, got list"):
        F.bilinear(xpnet.randn(5, 2), [1.0], w)
    with pytest.raises(ValueError, match="Bilinear: in2_features must be a non-negative int"):
        nn.Bilinear(2, -3, 4)
