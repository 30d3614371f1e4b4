"""The losses beyond the core ones (xpnet/functional/loss/, xpnet/ops/loss.py,
xpnet/nn/loss.py): KLDivLoss, PoissonNLLLoss, GaussianNLLLoss, CosineEmbeddingLoss,
MarginRankingLoss, TripletMarginLoss, MultiLabelSoftMarginLoss, HingeEmbeddingLoss,
SoftMarginLoss and MultiMarginLoss, against PyTorch's functions and modules in every reduction,
gradient checks on every backend, kinks, numerics at the edges and bad arguments."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
import xpnet.nn as nn

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

REDUCTIONS = ("mean", "sum", "none")
RNG = np.random.default_rng


# -- inputs (NumPy float64; the same numbers go to xpnet and to torch) ---------------------------

def _log_probabilities(shape, seed):
    (z,) = random_arrays(shape, seed=seed)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _kl(target_shape=(4, 5), log_target=False):
    target = _log_probabilities(target_shape, 2)
    return [_log_probabilities((4, 5), 1), target if log_target else np.exp(target)]


def _signs(shape, seed, dtype=np.float64):
    return np.where(RNG(seed).uniform(size=shape) < 0.5, -1, 1).astype(dtype)


def _poisson(log_input):
    low, high = (-2.0, 2.0) if log_input else (0.1, 3.0)
    (x,) = random_arrays((4, 5), seed=3, low=low, high=high)
    # Counts away from 0 (where PyTorch's target gradient is nan) and on both sides of 1.
    (t,) = random_arrays((4, 5), seed=4, low=0.2, high=5.0)
    return [x, t]


def _gaussian(var_shape):
    x, t = random_arrays((4, 3), (4, 3), seed=5)
    (var,) = random_arrays(var_shape, seed=6, low=0.2, high=2.0)
    return [x, t, var]


def _pairs(shape=(4, 5), target_dtype=np.int64):
    x1, x2 = random_arrays(shape, shape, seed=7)
    return [x1, x2, _signs(shape[:-1], 8, target_dtype)]


def _triplets(shape=(4, 5)):
    return random_arrays(shape, shape, shape, seed=9)


def _labels(shape=(4, 5)):
    (x,) = random_arrays(shape, seed=10, low=-3.0, high=3.0)
    return [x, (RNG(11).uniform(size=shape) < 0.5).astype(np.float64)]


def _classes(shape=(4, 5), target_shape=None):
    (x,) = random_arrays(shape, seed=12)
    target_shape = shape[:-1] if target_shape is None else target_shape
    return [x, RNG(13).integers(0, shape[-1], size=target_shape).astype(np.int64)]


WEIGHT5 = np.array([0.5, 2.0, 1.0, 1.5, 0.25])

# name -> (function, module, keyword arguments (arrays become tensors), inputs)
CONFIGS = {
    "kl": ("kl_div", "KLDivLoss", {}, _kl),
    "kl_log_target": ("kl_div", "KLDivLoss", {"log_target": True}, lambda: _kl(log_target=True)),
    "kl_broadcast_target": ("kl_div", "KLDivLoss", {}, lambda: _kl((1, 5))),
    "poisson": ("poisson_nll_loss", "PoissonNLLLoss", {}, lambda: _poisson(True)),
    "poisson_rates_full": ("poisson_nll_loss", "PoissonNLLLoss",
                           {"log_input": False, "full": True}, lambda: _poisson(False)),
    "poisson_full_eps": ("poisson_nll_loss", "PoissonNLLLoss",
                         {"full": True, "eps": 0.1}, lambda: _poisson(True)),
    "gaussian": ("gaussian_nll_loss", "GaussianNLLLoss", {}, lambda: _gaussian((4, 3))),
    "gaussian_var_per_row": ("gaussian_nll_loss", "GaussianNLLLoss", {"full": True},
                             lambda: _gaussian((4,))),
    "gaussian_var_last_1": ("gaussian_nll_loss", "GaussianNLLLoss", {},
                            lambda: _gaussian((4, 1))),
    "gaussian_var_first_1": ("gaussian_nll_loss", "GaussianNLLLoss", {"eps": 0.5},
                             lambda: _gaussian((1, 3))),
    "cosine_embedding": ("cosine_embedding_loss", "CosineEmbeddingLoss", {"margin": 0.2}, _pairs),
    "cosine_embedding_1d": ("cosine_embedding_loss", "CosineEmbeddingLoss", {},
                            lambda: _pairs((5,))),
    "margin_ranking": ("margin_ranking_loss", "MarginRankingLoss", {"margin": 0.3},
                       lambda: _pairs((6, 1), np.float64)[:2] + [_signs((6, 1), 14)]),
    "margin_ranking_broadcast": ("margin_ranking_loss", "MarginRankingLoss", {},
                                 lambda: random_arrays((6,), (1,), seed=15) + [_signs((6,), 16)]),
    "triplet": ("triplet_margin_loss", "TripletMarginLoss", {}, _triplets),
    "triplet_p1_swap": ("triplet_margin_loss", "TripletMarginLoss",
                        {"p": 1.0, "swap": True, "margin": 2.0}, _triplets),
    "triplet_p3_1d": ("triplet_margin_loss", "TripletMarginLoss", {"p": 3.0, "eps": 0.0},
                      lambda: _triplets((5,))),
    "multilabel": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {}, _labels),
    "multilabel_weight": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
                          {"weight": WEIGHT5}, _labels),
    "multilabel_1d": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {},
                      lambda: _labels((5,))),
    "hinge": ("hinge_embedding_loss", "HingeEmbeddingLoss", {"margin": 0.5},
              lambda: random_arrays((4, 5), seed=17) + [_signs((4, 5), 18, np.int64)]),
    "soft_margin": ("soft_margin_loss", "SoftMarginLoss", {},
                    # An integer target: PyTorch's soft_margin_loss refuses a target gradient.
                    lambda: random_arrays((4, 5), seed=19) + [_signs((4, 5), 20, np.int64)]),
    "multi_margin": ("multi_margin_loss", "MultiMarginLoss", {}, _classes),
    "multi_margin_p2_weight": ("multi_margin_loss", "MultiMarginLoss",
                               {"p": 2, "margin": 0.5, "weight": WEIGHT5}, _classes),
    "multi_margin_1d": ("multi_margin_loss", "MultiMarginLoss", {},
                        lambda: _classes((5,), ())),
}


def _reductions(name):
    return REDUCTIONS + (("batchmean",) if CONFIGS[name][0] == "kl_div" else ())


CASES = [(name, reduction) for name in CONFIGS for reduction in _reductions(name)]


def _xpnet_kwargs(kwargs):
    return {k: xpnet.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _torch_kwargs(kwargs):
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _warns_if_kl_mean(name, reduction):
    """PyTorch's kl_div warns for reduction='mean'; so does ours (both are caught here)."""
    if CONFIGS[name][0] == "kl_div" and reduction == "mean":
        return pytest.warns(UserWarning, match="'batchmean' divides only by the batch size")
    return contextlib.nullcontext()


# -- against PyTorch -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, reduction", CASES)
def test_loss_matches_torch_function(backend, name, reduction):
    fname, _, kwargs, inputs = CONFIGS[name]
    kwargs = {**kwargs, "reduction": reduction}

    def fn(*tensors):
        return getattr(F, fname)(*tensors, **_xpnet_kwargs(kwargs))

    def torch_fn(*tensors):
        return getattr(TF, fname)(*tensors, **_torch_kwargs(kwargs))

    with _warns_if_kl_mean(name, reduction):
        check_forward(backend, fn, torch_fn, inputs())
        check_grads(backend, fn, torch_fn, inputs())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loss_gradcheck(backend, name):
    fname, _, kwargs, inputs = CONFIGS[name]
    gradcheck(lambda *t: getattr(F, fname)(*t, reduction="none", **_xpnet_kwargs(kwargs)),
              inputs())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loss_module_matches_torch_module(name):
    # The modules forward to the functions tested above on every backend; NumPy suffices.
    fname, module_name, kwargs, inputs = CONFIGS[name]
    reduction = "batchmean" if fname == "kl_div" else "sum"
    kwargs = {**kwargs, "reduction": reduction}
    weight = kwargs.pop("weight", None)
    extra = {} if weight is None else {"weight": weight}
    with xpnet.use_backend("numpy"):
        module = getattr(nn, module_name)(**_xpnet_kwargs({**kwargs, **extra}))
        torch_module = getattr(torch.nn, module_name)(**_torch_kwargs({**kwargs, **extra}))
        assert repr(module) == repr(torch_module)
        assert list(module.state_dict()) == list(torch_module.state_dict())
        check_forward("numpy", module, torch_module, inputs())
        check_grads("numpy", module, torch_module, inputs())


def test_gaussian_nll_takes_a_number_as_var(backend):
    x, t, _ = _gaussian((4, 3))
    for var in (1.5, 2):
        check_forward(backend, lambda a, b: F.gaussian_nll_loss(a, b, var, full=True),
                      lambda a, b: TF.gaussian_nll_loss(a, b, float(var), full=True), [x, t])
        check_grads(backend, lambda a, b: F.gaussian_nll_loss(a, b, var, reduction="none"),
                    lambda a, b: TF.gaussian_nll_loss(a, b, float(var), reduction="none"), [x, t])


def test_gaussian_nll_clamps_var_outside_the_graph_as_torch(backend):
    # Variances below eps: the value uses eps, the gradient passes through as if unclamped.
    x, t, _ = _gaussian((4, 3))
    var = np.array([1e-9, 0.0, 0.5, 1e-7])
    for reduction in REDUCTIONS:
        fn = lambda a, b, v, r=reduction: F.gaussian_nll_loss(a, b, v, reduction=r)  # noqa: E731
        torch_fn = lambda a, b, v, r=reduction: TF.gaussian_nll_loss(a, b, v,  # noqa: E731
                                                                     reduction=r)
        check_forward(backend, fn, torch_fn, [x, t, var])
        check_grads(backend, fn, torch_fn, [x, t, var])


@pytest.mark.parametrize("fname, kwargs", [
    ("kl_div", {}), ("poisson_nll_loss", {}), ("cosine_embedding_loss", {}),
    ("margin_ranking_loss", {}), ("hinge_embedding_loss", {}), ("soft_margin_loss", {}),
    ("triplet_margin_loss", {}), ("multilabel_soft_margin_loss", {}), ("multi_margin_loss", {}),
])
@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True)])
def test_deprecated_size_average_and_reduce_warn_and_reduce_as_torch(fname, kwargs,
                                                                      size_average, reduce):
    name = next(n for n, c in CONFIGS.items() if c[0] == fname)
    arrays = CONFIGS[name][3]()
    legacy = {"size_average": size_average, "reduce": reduce}
    with xpnet.use_backend("numpy"), pytest.warns(UserWarning, match="size_average and reduce"):
        check_forward("numpy", lambda *t: getattr(F, fname)(*t, **legacy),
                      lambda *t: getattr(TF, fname)(*t, **legacy), arrays)


def test_deprecated_arguments_of_modules_set_the_reduction():
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        module = nn.SoftMarginLoss(size_average=False)
    assert module.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none' instead"):
        assert nn.PoissonNLLLoss(True, False, None, 1e-8, False).reduction == "none"


def test_kl_div_batchmean_of_0d_input_is_the_sum(backend):
    check_forward(backend, lambda a, b: F.kl_div(a, b, reduction="batchmean"),
                  lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
                  [np.array(-0.5), np.array(0.3)])


def test_losses_keep_float32_and_the_device(backend):
    x, y, z = (xpnet.randn(4, 5) for _ in range(3))
    labels = xpnet.tensor(_signs((4,), 1, np.int64))
    losses = [
        F.kl_div(F.log_softmax(x, dim=1), F.softmax(y, dim=1), reduction="batchmean"),
        F.poisson_nll_loss(x, y.abs(), full=True), F.gaussian_nll_loss(x, y, z.abs()),
        F.cosine_embedding_loss(x, y, labels), F.margin_ranking_loss(x, y, z.sign()),
        F.triplet_margin_loss(x, y, z), F.multilabel_soft_margin_loss(x, (y > 0).float()),
        F.hinge_embedding_loss(x, z.sign()), F.soft_margin_loss(x, z.sign()),
        F.multi_margin_loss(x, xpnet.tensor([0, 4, 2, 1])),
    ]
    for loss in losses:
        assert loss.dtype is xpnet.float32
        assert_on_device(loss, backend)


# -- kinks and numerics at the edges -------------------------------------------------------------

def test_hinges_have_torchs_gradient_at_the_kink(backend):
    # clamp_min passes the gradient where its argument is exactly 0 (margin ranking, hinge
    # embedding, triplet); the multi-margin hinge does not (PyTorch's strict z > 0).
    cases = [
        (lambda a, b: F.margin_ranking_loss(a, b, xpnet.tensor([1.0, -1.0]), margin=1.0,
                                            reduction="sum"),
         lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor([1.0, -1.0]), margin=1.0,
                                             reduction="sum"),
         [np.array([1.0, 0.0]), np.array([0.0, 1.0])]),
        (lambda a: F.hinge_embedding_loss(a, xpnet.tensor([-1.0, -1.0]), reduction="sum"),
         lambda a: TF.hinge_embedding_loss(a, torch.tensor([-1.0, -1.0]), reduction="sum"),
         [np.array([1.0, 0.0])]),
        (lambda a: F.multi_margin_loss(a, xpnet.tensor([0]), reduction="sum"),
         lambda a: TF.multi_margin_loss(a, torch.tensor([0]), reduction="sum"),
         [np.array([[1.0, 0.0, 0.5]])]),
        (lambda a: F.multi_margin_loss(a, xpnet.tensor([0]), p=2, reduction="sum"),
         lambda a: TF.multi_margin_loss(a, torch.tensor([0]), p=2, reduction="sum"),
         [np.array([[1.0, 0.0, 0.5]])]),
    ]
    for fn, torch_fn, arrays in cases:
        check_forward(backend, fn, torch_fn, arrays)
        check_grads(backend, fn, torch_fn, arrays)


def test_soft_margin_is_finite_where_torchs_overflows(backend):
    x = xpnet.tensor(np.array([-1e4, 1e4, 0.5]), requires_grad=True)
    loss = F.soft_margin_loss(x, xpnet.tensor([1.0, 1.0, -1.0]), reduction="none")
    loss.sum().backward()
    assert_close(loss, np.array([1e4, 0.0, math.log1p(math.exp(0.5))]))
    assert_close(x.grad, np.array([-1.0, 0.0, 1 / (1 + math.exp(-0.5))]))


def test_kl_div_is_zero_where_the_target_is_zero(backend):
    x = np.array([[-1.0, -2.0, -0.5]])
    t = np.array([[0.0, 0.3, 0.7]])
    fn = lambda a: F.kl_div(a, xpnet.tensor(t), reduction="sum")  # noqa: E731
    torch_fn = lambda a: TF.kl_div(a, torch.from_numpy(t), reduction="sum")  # noqa: E731
    check_forward(backend, fn, torch_fn, [x])
    check_grads(backend, fn, torch_fn, [x])


def test_kl_div_target_gradient_at_zero_is_nan_as_torchs(backend):
    t = xpnet.tensor(np.array([0.0, 0.5]), requires_grad=True)
    F.kl_div(xpnet.tensor(np.array([-1.0, -1.0])), t, reduction="sum").backward()
    assert math.isnan(t.grad.numpy()[0]) and math.isfinite(t.grad.numpy()[1])


def test_poisson_full_adds_stirling_only_above_one(backend):
    x = np.array([0.5, 1.0, 2.0, 0.3])
    t = np.array([0.0, 1.0, 3.0, 7.0])
    fn = lambda a: F.poisson_nll_loss(a, xpnet.tensor(t), full=True,  # noqa: E731
                                      reduction="none")
    torch_fn = lambda a: TF.poisson_nll_loss(a, torch.from_numpy(t), full=True,  # noqa: E731
                                             reduction="none")
    check_forward(backend, fn, torch_fn, [x])
    check_grads(backend, fn, torch_fn, [x])
    stirling = [0.0, 0.0] + [n * math.log(n) - n + 0.5 * math.log(2 * math.pi * n)
                             for n in (3.0, 7.0)]
    assert_close(fn(xpnet.tensor(x)), np.exp(x) - t * x + np.array(stirling))


# -- shape grids ---------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 5), p=st.sampled_from([1, 2]),
       weighted=st.booleans(), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 99))
def test_class_losses_over_shapes_match_torch(n, c, p, weighted, reduction, seed):
    (x,) = random_arrays((n, c), seed=seed)
    labels = RNG(seed).integers(0, c, size=n)
    multi_hot = (RNG(seed + 1).uniform(size=(n, c)) < 0.5).astype(np.float64)
    w = RNG(seed + 2).uniform(0.5, 2.0, size=c) if weighted else None
    with xpnet.use_backend("numpy"):
        xw = None if w is None else xpnet.tensor(w)
        tw = None if w is None else torch.from_numpy(w)
        check_forward("numpy", lambda a: F.multi_margin_loss(a, xpnet.tensor(labels), p, 0.7, xw,
                                                             reduction=reduction),
                      lambda a: TF.multi_margin_loss(a, torch.from_numpy(labels), p, 0.7, tw,
                                                     reduction=reduction), [x])
        check_grads("numpy", lambda a: F.multi_margin_loss(a, xpnet.tensor(labels), p, 0.7, xw,
                                                           reduction=reduction),
                    lambda a: TF.multi_margin_loss(a, torch.from_numpy(labels), p, 0.7, tw,
                                                   reduction=reduction), [x])
        check_forward("numpy", lambda a, t: F.multilabel_soft_margin_loss(a, t, xw,
                                                                          reduction=reduction),
                      lambda a, t: TF.multilabel_soft_margin_loss(a, t, tw, reduction=reduction),
                      [x, multi_hot])
        check_grads("numpy", lambda a, t: F.multilabel_soft_margin_loss(a, t, xw,
                                                                        reduction=reduction),
                    lambda a, t: TF.multilabel_soft_margin_loss(a, t, tw, reduction=reduction),
                    [x, multi_hot])


@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(3,), (2, 3), (4, 1)]), ones=st.sampled_from([0, 1, 2]),
       p=st.sampled_from([1.0, 2.0, 3.0]), swap=st.booleans(), seed=st.integers(0, 99))
def test_triplet_broadcasting_matches_torch(shape, ones, p, swap, seed):
    # One of the three inputs has size 1 along its first axis (broadcast against the others).
    shapes = [shape] * 3
    shapes[ones] = (1,) + shape[1:]
    arrays = random_arrays(*shapes, seed=seed)
    with xpnet.use_backend("numpy"):
        check_forward("numpy", lambda a, b, c: F.triplet_margin_loss(a, b, c, p=p, swap=swap,
                                                                     reduction="none"),
                      lambda a, b, c: TF.triplet_margin_loss(a, b, c, p=p, swap=swap,
                                                             reduction="none"), arrays)
        check_grads("numpy", lambda a, b, c: F.triplet_margin_loss(a, b, c, p=p, swap=swap),
                    lambda a, b, c: TF.triplet_margin_loss(a, b, c, p=p, swap=swap), arrays)


# -- names and bad arguments ---------------------------------------------------------------------

def test_loss_names():
    import xpnet.nn.functional as NF
    from xpnet.nn.modules import loss
    for name in CONFIGS.values():
        assert getattr(NF, name[0]) is getattr(F, name[0])
        assert getattr(loss, name[1]) is getattr(nn, name[1])


BAD = [
    (lambda: F.kl_div(xpnet.randn(2, 3), xpnet.rand(2, 3), reduction="avg"), ValueError,
     "kl_div: unknown reduction 'avg'"),
    (lambda: F.kl_div(xpnet.randn(2, 3), xpnet.rand(3, 2), reduction="sum"), ValueError,
     r"kl_div: the shapes do not broadcast together: input \(2, 3\), target \(3, 2\)"),
    (lambda: F.kl_div(xpnet.randn(2), xpnet.rand(2), reduction="sum", log_target=1), TypeError,
     "kl_div: log_target must be True or False"),
    (lambda: F.poisson_nll_loss(xpnet.tensor([1, 2]), xpnet.rand(2)), TypeError,
     "poisson_nll_loss: input must be floating point, got int64"),
    (lambda: F.gaussian_nll_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), xpnet.rand(3, 4)),
     ValueError, r"gaussian_nll_loss: var of shape \(3, 4\) does not fit input of shape \(4, 3\)"),
    (lambda: F.gaussian_nll_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), -xpnet.rand(4, 3)),
     ValueError, "gaussian_nll_loss: var has negative entries"),
    (lambda: F.gaussian_nll_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), -1.0), ValueError,
     "gaussian_nll_loss: var must be non-negative, got -1.0"),
    (lambda: F.gaussian_nll_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), "1"), TypeError,
     "gaussian_nll_loss: var must be a Tensor or None, got str"),
    (lambda: F.cosine_embedding_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), xpnet.ones(4, 1)),
     ValueError, "cosine_embedding_loss: target must be 0-d or 1-d"),
    (lambda: F.cosine_embedding_loss(xpnet.randn(4, 3), xpnet.randn(4, 3), xpnet.tensor(1)),
     ValueError, r"cosine_embedding_loss: a 0-d target needs 1-d inputs, got inputs of shapes"),
    (lambda: F.margin_ranking_loss(xpnet.randn(4), xpnet.randn(4), xpnet.ones(4, 1)),
     ValueError, "margin_ranking_loss: input1, input2 and target must have the same number of"),
    (lambda: F.margin_ranking_loss(xpnet.randn(4), xpnet.randn(4), xpnet.ones(4), margin="1"),
     TypeError, "margin_ranking_loss: margin must be a number, got str"),
    (lambda: F.triplet_margin_loss(*(xpnet.randn(2, 3) for _ in range(3)), margin=0.0),
     ValueError, "triplet_margin_loss: margin must be greater than 0, got 0.0"),
    (lambda: F.triplet_margin_loss(xpnet.randn(2, 3), xpnet.randn(2, 3), xpnet.randn(3)),
     ValueError, "triplet_margin_loss: anchor, positive and negative must have the same number"),
    (lambda: F.triplet_margin_loss(xpnet.randn(2, 3), xpnet.randn(2, 3), xpnet.randn(2, 3)
                                   .double()),
     TypeError, "triplet_margin_loss: anchor and negative must have the same dtype"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError,
     "TripletMarginLoss: expected margin to be greater than 0, got -1.0"),
    (lambda: F.multilabel_soft_margin_loss(xpnet.randn(4, 3), xpnet.ones(4, 2)), ValueError,
     r"multilabel_soft_margin_loss: target of shape \(4, 2\) must broadcast to the input's"),
    (lambda: F.multilabel_soft_margin_loss(xpnet.tensor(1.0), xpnet.tensor(1.0)), ValueError,
     "multilabel_soft_margin_loss: input must have a label axis"),
    (lambda: F.hinge_embedding_loss(xpnet.randn(4, 3), xpnet.ones(2)), ValueError,
     r"hinge_embedding_loss: the shapes do not broadcast together: input \(4, 3\), target \(2,\)"),
    (lambda: F.soft_margin_loss([1.0], xpnet.ones(2)), TypeError,
     "soft_margin_loss: input must be a Tensor, got list"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 3), xpnet.tensor([0, 3])), IndexError,
     r"multi_margin_loss: target 3 is out of range; class indices must lie in \[0, 2\]"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 3), xpnet.tensor([0, 1]), p=3), ValueError,
     "multi_margin_loss: only p == 1 and p == 2 are supported, got 3"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 3), xpnet.tensor([0.0, 1.0])), TypeError,
     "multi_margin_loss: target must hold integer class indices, got float32"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 3), xpnet.tensor([0, 1, 2])), ValueError,
     r"multi_margin_loss: expected a target of 2 class indices .* got shape \(3,\)"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 3), xpnet.tensor([0, 1]), weight=xpnet.ones(2)),
     ValueError, r"multi_margin_loss: weight must have one entry per class, shape \(3,\)"),
    (lambda: F.multi_margin_loss(xpnet.randn(2, 0), xpnet.tensor([0, 1])), ValueError,
     r"multi_margin_loss: input must be of shape \(N, C\) or \(C,\) with C > 0"),
    (lambda: nn.MultiMarginLoss(p=0), ValueError, "MultiMarginLoss: only p == 1 and p == 2"),
    (lambda: nn.MultiLabelSoftMarginLoss(weight=[1.0, 2.0]), TypeError,
     "MultiLabelSoftMarginLoss: weight must be a Tensor or None, got list"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
