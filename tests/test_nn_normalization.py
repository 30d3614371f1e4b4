"""Normalisation (xpnet.ops.normalization, xpnet.functional.normalization,
xpnet.nn.normalization) and weight_norm against torch, with gradcheck on every backend."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
import xpnet.nn as nn
from xpnet.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from xpnet.nn.utils import remove_weight_norm, weight_norm

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

_SETTINGS = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _torch_weight_norm(module, **options):
    # torch 2.13 deprecates the old API in favour of parametrizations; its names are what
    # xpnet follows (weight_g, weight_v), so it stays the oracle.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.nn.utils.weight_norm(module, **options)


# -- functions over a grid of shapes (hypothesis) ------------------------------------------------

@st.composite
def _shapes(draw, min_dims=2, max_dims=4):
    n = draw(st.integers(min_dims, max_dims))
    return (draw(st.integers(1, 4)), draw(st.integers(1, 4))) + tuple(
        draw(st.integers(1, 3)) for _ in range(n - 2))


@_SETTINGS
@given(shape=_shapes(), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_training_matches_torch_over_a_grid(backend, shape, affine, seed):
    if np.prod(shape) // shape[1] < 2:
        shape = (shape[0] + 1,) + shape[1:]  # one value per channel is an error in training
    c = shape[1]
    x, w, b = random_arrays(shape, (c,), (c,), seed=seed)
    x = x * 3 + 1  # a mean and a scale far from the normalised ones
    args = [x, w, b] if affine else [x]

    def ours(x, w=None, b=None):
        return F.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    def theirs(x, w=None, b=None):
        return TF.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    check_forward(backend, ours, theirs, args)
    check_grads(backend, ours, theirs, args)


@_SETTINGS
@given(shape=_shapes(), seed=st.integers(0, 2**16))
def test_batch_norm_eval_matches_torch_over_a_grid(backend, shape, seed):
    c = shape[1]
    x, w, b, mean = random_arrays(shape, (c,), (c,), (c,), seed=seed)
    var = random_arrays((c,), seed=seed + 1, low=0.1, high=3.0)[0]

    def ours(x, w, b):
        return F.batch_norm(x, xpnet.tensor(mean), xpnet.tensor(var), w, b, training=False)

    def theirs(x, w, b):
        return TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b, training=False)

    check_forward(backend, ours, theirs, [x, w, b])
    check_grads(backend, ours, theirs, [x, w, b])


@_SETTINGS
@given(shape=_shapes(min_dims=1), k=st.integers(1, 3), affine=st.booleans(),
       seed=st.integers(0, 2**16))
def test_layer_norm_matches_torch_over_a_grid(backend, shape, k, affine, seed):
    normalized = shape[-min(k, len(shape)):]
    x, w, b = random_arrays(shape, normalized, normalized, seed=seed)
    args = [x * 3 + 1, w, b] if affine else [x * 3 + 1]

    def ours(x, w=None, b=None):
        return F.layer_norm(x, normalized, w, b)

    def theirs(x, w=None, b=None):
        return TF.layer_norm(x, normalized, w, b)

    check_forward(backend, ours, theirs, args)
    check_grads(backend, ours, theirs, args)


@_SETTINGS
@given(shape=_shapes(), groups=st.integers(1, 4), affine=st.booleans(),
       seed=st.integers(0, 2**16))
def test_group_norm_matches_torch_over_a_grid(backend, shape, groups, affine, seed):
    shape = (shape[0], shape[1] * groups) + shape[2:]
    if np.prod(shape[2:]) * shape[1] // groups == 1:
        shape += (2,)  # torch refuses one value per group for N == 1 (xpnet gives zeros)
    c = shape[1]
    x, w, b = random_arrays(shape, (c,), (c,), seed=seed)
    args = [x * 3 + 1, w, b] if affine else [x * 3 + 1]

    def ours(x, w=None, b=None):
        return F.group_norm(x, groups, w, b, eps=1e-4)

    def theirs(x, w=None, b=None):
        return TF.group_norm(x, groups, w, b, eps=1e-4)

    check_forward(backend, ours, theirs, args)
    check_grads(backend, ours, theirs, args)


# -- BatchNorm: running statistics, eval mode, state dicts ---------------------------------------

def _batch_norm_pair(layer_cls, num_features, **options):
    ours = layer_cls(num_features, **options).double()
    theirs = getattr(torch.nn, layer_cls.__name__)(num_features, **options).double()
    if ours.affine:
        nn.init.uniform_(ours.weight, 0.5, 1.5)
        nn.init.uniform_(ours.bias, -0.5, 0.5)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _train_steps(backend, ours, theirs, shape, steps, seed):
    """Several training steps (forward and backward) on the same batches; the last outputs and
    input gradients are compared."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.normal(2.0, 3.0, size=shape)
        xs, ts = xpnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = ours(xs), theirs(ts)
        grad = rng.uniform(-1, 1, size=shape)
        out.backward(xpnet.tensor(grad))
        tout.backward(torch.tensor(grad))
        assert_on_device(out, backend)
        assert_on_device(xs.grad, backend)
        assert_close(out, tout)
        assert_close(xs.grad, ts.grad)
    for name, p in ours.named_parameters():
        assert_close(p.grad, dict(theirs.named_parameters())[name].grad)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("layer_cls, shape", [(BatchNorm1d, (6, 3)), (BatchNorm1d, (4, 3, 5)),
                                              (BatchNorm2d, (4, 3, 2, 5))])
def test_batch_norm_running_statistics_follow_torch(backend, layer_cls, shape, momentum):
    ours, theirs = _batch_norm_pair(layer_cls, 3, momentum=momentum)
    _train_steps(backend, ours, theirs, shape, steps=4, seed=0)
    for name in ("running_mean", "running_var"):
        assert_on_device(getattr(ours, name), backend)
        assert_close(getattr(ours, name), getattr(theirs, name))
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4
    assert ours.num_batches_tracked.dtype is xpnet.int64
    # eval mode normalises with the running statistics
    ours.eval(), theirs.eval()
    x = random_arrays(shape, seed=3)[0]
    out = ours(xpnet.tensor(x))
    assert_on_device(out, backend)
    assert_close(out, theirs(torch.tensor(x)))


def test_batch_norm_running_variance_is_unbiased_and_normalisation_biased(backend):
    x = np.array([[1.0], [2.0], [4.0], [9.0]])
    layer = BatchNorm1d(1, momentum=1.0).double()
    out = layer(xpnet.tensor(x)).numpy()
    assert_close(layer.running_var, [np.var(x, ddof=1)])
    assert_close(out, (x - x.mean()) / np.sqrt(np.var(x) + 1e-5))


@pytest.mark.parametrize("options", [{"affine": False}, {"track_running_stats": False},
                                     {"affine": False, "track_running_stats": False}])
def test_batch_norm_options_match_torch_in_training_and_eval(backend, options):
    ours, theirs = _batch_norm_pair(BatchNorm2d, 3, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _train_steps(backend, ours, theirs, (4, 3, 2, 2), steps=2, seed=1)
    ours.eval(), theirs.eval()
    x = random_arrays((4, 3, 2, 2), seed=4)[0]
    assert_close(ours(xpnet.tensor(x)), theirs(torch.tensor(x)))


def test_torch_batch_norm_state_dict_loads_and_evaluates_the_same(backend):
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)).double()
    torch.manual_seed(0)
    for _ in range(3):
        theirs(torch.randn(8, 4, dtype=torch.float64) * 2 + 1)
    theirs.eval()
    ours = nn.Sequential(nn.Linear(4, 3), BatchNorm1d(3)).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert int(ours[1].num_batches_tracked) == 3
    assert_on_device(ours[1].running_var, backend)
    x = random_arrays((5, 4), seed=5)[0]
    assert_close(ours(xpnet.tensor(x)), theirs(torch.tensor(x)))
    # and back: xpnet's state dict loads into torch
    twin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)).double().eval()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert_close(twin(torch.tensor(x)).detach(), theirs(torch.tensor(x)), rtol=0, atol=0)


def test_batch_norm_float32_stays_float32_on_the_backend(backend):
    layer = BatchNorm2d(3)
    out = layer(xpnet.randn(2, 3, 4, 4))
    assert out.dtype is xpnet.float32
    assert layer.running_mean.dtype is xpnet.float32
    assert_on_device(out, backend)
    assert_on_device(layer.running_mean, backend)


# -- LayerNorm and GroupNorm modules --------------------------------------------------------------

MODULES = {
    "LayerNorm": (lambda: LayerNorm(5), lambda: torch.nn.LayerNorm(5), (2, 3, 5)),
    "LayerNorm_2d": (lambda: LayerNorm((3, 5), eps=1e-3),
                     lambda: torch.nn.LayerNorm((3, 5), eps=1e-3), (2, 3, 5)),
    "LayerNorm_no_bias": (lambda: LayerNorm(5, bias=False),
                          lambda: torch.nn.LayerNorm(5, bias=False), (4, 5)),
    "LayerNorm_no_affine": (lambda: LayerNorm(5, elementwise_affine=False),
                            lambda: torch.nn.LayerNorm(5, elementwise_affine=False), (4, 5)),
    "GroupNorm": (lambda: GroupNorm(2, 6), lambda: torch.nn.GroupNorm(2, 6), (2, 6, 3, 2)),
    "GroupNorm_no_affine": (lambda: GroupNorm(3, 6, affine=False),
                            lambda: torch.nn.GroupNorm(3, 6, affine=False), (2, 6, 4)),
    "BatchNorm1d": (lambda: BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (5, 3, 2)),
    "BatchNorm2d": (lambda: BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (2, 3, 2, 3)),
}


def _module_pair(name):
    make, make_torch, shape = MODULES[name]
    ours, theirs = make().double(), make_torch().double()
    for p in ours.parameters():
        nn.init.uniform_(p, -1.5, 1.5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs, shape


@pytest.mark.parametrize("name", sorted(MODULES))
def test_normalization_module_matches_torch(backend, name):
    ours, theirs, shape = _module_pair(name)
    x = random_arrays(shape, seed=6)[0]
    _train_steps(backend, ours, theirs, shape, steps=1, seed=7)
    out = ours(xpnet.tensor(x))
    assert_on_device(out, backend)
    assert_close(out, theirs(torch.tensor(x)))


def test_normalization_module_repr():
    assert repr(BatchNorm2d(4)) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                                    "track_running_stats=True)")
    assert repr(LayerNorm(5)) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True)"
    assert repr(GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"


# -- gradcheck on every backend -------------------------------------------------------------------

GRADCHECKS = {
    "batch_norm_training": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                            [(4, 3, 2), (3,), (3,)]),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(
        x, xpnet.tensor([0.5, -1.0, 0.0]), xpnet.tensor([1.5, 0.5, 2.0]), w, b),
        [(4, 3, 2), (3,), (3,)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [(2, 2, 3), (2, 3), (2, 3)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_normalization_gradcheck(backend, name):
    fn, shapes = GRADCHECKS[name]
    gradcheck(fn, random_arrays(*shapes, seed=8))


def test_batch_norm_updates_running_statistics_on_the_backend(backend):
    mean, var = xpnet.zeros(3, dtype="float64"), xpnet.ones(3, dtype="float64")
    x = random_arrays((5, 3, 2), seed=9)[0]
    F.batch_norm(xpnet.tensor(x), mean, var, training=True, momentum=0.5)
    assert_on_device(mean, backend)
    assert_on_device(var, backend)
    batch = x.transpose(1, 0, 2).reshape(3, -1)
    assert_close(mean, 0.5 * batch.mean(axis=1))
    assert_close(var, 0.5 + 0.5 * batch.var(axis=1, ddof=1))


# -- weight_norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(backend, dim):
    ours = nn.Linear(4, 3).double()
    theirs = torch.nn.Linear(4, 3).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    weight_norm(ours, dim=dim)
    _torch_weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_g",
                                                                    "weight_v"]
    assert ours.weight_g.shape == tuple(theirs.weight_g.shape)
    x = random_arrays((5, 4), seed=10)[0]
    for step in range(2):
        out, tout = ours(xpnet.tensor(x)), theirs(torch.tensor(x))
        assert_on_device(out, backend)
        assert_close(out, tout)
        grad = random_arrays((5, 3), seed=11 + step)[0]
        out.backward(xpnet.tensor(grad))
        tout.backward(torch.tensor(grad))
        for name in ("weight_g", "weight_v", "bias"):
            assert_on_device(getattr(ours, name).grad, backend)
            assert_close(getattr(ours, name).grad, getattr(theirs, name).grad)
        # a change of g reaches the next forward through the pre-hook
        with xpnet.no_grad():
            ours.weight_g.mul_(2.0)
        with torch.no_grad():
            theirs.weight_g.mul_(2.0)


def test_torch_weight_norm_state_dict_loads(backend):
    theirs = _torch_weight_norm(torch.nn.Linear(4, 3).double())
    ours = weight_norm(nn.Linear(4, 3).double())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = random_arrays((2, 4), seed=12)[0]
    assert_close(ours(xpnet.tensor(x)), theirs(torch.tensor(x)))


def test_remove_weight_norm_restores_a_plain_weight(backend):
    layer = weight_norm(nn.Linear(4, 3).double())
    x = xpnet.tensor(random_arrays((2, 4), seed=13)[0])
    before = layer(x).numpy()
    remove_weight_norm(layer)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight"]
    assert not layer._forward_pre_hooks
    assert_close(layer(x), before)
    with pytest.raises(ValueError, match="remove_weight_norm: no weight_norm of 'weight'"):
        remove_weight_norm(layer)


def test_weight_norm_gradcheck(backend):
    layer = weight_norm(nn.Linear(3, 2).double())
    x = xpnet.tensor(random_arrays((4, 3), seed=14)[0])

    def run(g, v):
        layer._parameters.update(weight_g=g, weight_v=v)
        return layer(x)

    g, v = layer.weight_g, layer.weight_v
    try:
        assert xpnet.gradcheck(run, [g.detach().requires_grad_(), v.detach().requires_grad_()])
    finally:
        layer._parameters.update(weight_g=g, weight_v=v)


def test_weight_norm_rejects_a_second_hook_and_a_bad_dim(backend):
    layer = weight_norm(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="weight_norm: 'weight' of Linear already has weight"):
        weight_norm(layer)
    with pytest.raises(ValueError, match=re.escape("weight_norm: dim must be None, -1 or an axis "
                                                   "in [0, 2)")):
        weight_norm(nn.Linear(3, 2), dim=2)
    with pytest.raises(ValueError, match="weight_norm: Linear has no parameter 'kernel'"):
        weight_norm(nn.Linear(3, 2), name="kernel")


# -- bad input -----------------------------------------------------------------------------------

def test_batch_norm_rejects_the_wrong_channel_count(backend):
    message = ("batch_norm: running_mean of shape (4,) does not match the input's channels on "
               "axis 1 (3,) (input of shape (2, 3))")
    with pytest.raises(ValueError, match=re.escape(message)):
        BatchNorm1d(4)(xpnet.zeros(2, 3))
    with pytest.raises(ValueError, match=re.escape("batch_norm: weight of shape (4,)")):
        BatchNorm2d(4, track_running_stats=False)(xpnet.zeros(2, 3, 2, 2))


def test_batch_norm_rejects_the_wrong_rank(backend):
    message = "BatchNorm2d: expected a 4-D input (N, C, H, W), got shape (2, 3, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        BatchNorm2d(3)(xpnet.zeros(2, 3, 4))
    message = "BatchNorm1d: expected a 2-D or 3-D input (N, C) or (N, C, L), got shape (2,"
    with pytest.raises(ValueError, match=re.escape(message)):
        BatchNorm1d(3)(xpnet.zeros(2, 3, 4, 4))


def test_batch_norm_rejects_one_value_per_channel_in_training(backend):
    message = "batch_norm: expected more than 1 value per channel when training, got input of "
    with pytest.raises(ValueError, match=re.escape(message + "shape (1, 3)")):
        BatchNorm1d(3)(xpnet.zeros(1, 3))
    BatchNorm1d(3).eval()(xpnet.zeros(1, 3))  # fine with the running statistics


def test_batch_norm_eval_needs_running_statistics(backend):
    with pytest.raises(ValueError, match="batch_norm: running_mean and running_var are needed"):
        F.batch_norm(xpnet.zeros(2, 3), None, None, training=False)


def test_group_norm_rejects_groups_that_do_not_divide_the_channels(backend):
    message = "GroupNorm: num_channels (6) must be divisible by num_groups (4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        GroupNorm(4, 6)
    message = "group_norm: num_groups=4 must divide the number of channels 6"
    with pytest.raises(ValueError, match=re.escape(message)):
        F.group_norm(xpnet.zeros(2, 6, 3), 4)


def test_layer_norm_rejects_a_shape_mismatch(backend):
    message = ("layer_norm: expected input of shape (*, 4) for normalized_shape=(4,), got shape "
               "(2, 3)")
    with pytest.raises(ValueError, match=re.escape(message)):
        LayerNorm(4)(xpnet.zeros(2, 3))


@pytest.mark.parametrize("options, message", [
    ({"num_features": 0}, "BatchNorm1d: num_features must be a positive int, got 0"),
    ({"num_features": 3, "momentum": 1.5}, "BatchNorm1d: momentum must be in [0, 1] or None"),
])
def test_batch_norm_rejects_bad_arguments(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        BatchNorm1d(**options)


# -- instance normalisation --------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(shape=_shapes(min_dims=3, max_dims=4), affine=st.booleans(), track=st.booleans(),
       seed=st.integers(0, 2**16))
def test_instance_norm_matches_torch_over_a_grid(shape, affine, track, seed):
    if np.prod(shape[2:]) == 1:
        shape += (2,)  # one spatial element is refused (below), as by torch
    c = shape[1]
    x, w, b = random_arrays(shape, (c,), (c,), seed=seed)
    args = [x * 3 + 1, w, b] if affine else [x * 3 + 1]
    stats = {}

    def run(module, x, w=None, b=None):
        mean, var = stats.setdefault(module, (module.zeros(c, dtype=module.float64) + 0.5,
                                              module.ones(c, dtype=module.float64) * 2))
        running = (mean, var) if track else (None, None)
        return module.nn.functional.instance_norm(x, *running, w, b, momentum=0.3, eps=1e-4)

    with xpnet.use_backend("numpy"):
        check_forward("numpy", lambda *a: run(xpnet, *a), lambda *a: run(torch, *a), args)
        check_grads("numpy", lambda *a: run(xpnet, *a), lambda *a: run(torch, *a), args)
        for ours, theirs in zip(stats[xpnet], stats[torch]):
            assert_close(ours, theirs)  # updated twice on each side (one forward per check)


def test_instance_norm_with_running_statistics_matches_torch(backend):
    x, mean, var, w, b = random_arrays((2, 3, 4), (3,), (3,), (3,), (3,), seed=10)
    var = np.abs(var) + 0.5
    check_forward(backend, lambda *a: F.instance_norm(a[0], a[1], a[2], a[3], a[4], False),
                  lambda *a: TF.instance_norm(a[0], a[1], a[2], a[3], a[4], False),
                  [x, mean, var, w, b])
    check_grads(backend, lambda x, w, b: F.instance_norm(
        x, xpnet.tensor(mean), xpnet.tensor(var), w, b, use_input_stats=False),
        lambda x, w, b: TF.instance_norm(x, torch.tensor(mean), torch.tensor(var), w, b,
                                         use_input_stats=False), [x, w, b])


INSTANCE_NORMS = {
    "InstanceNorm1d": ({}, (2, 3, 5)),
    "InstanceNorm1d unbatched tracked": ({"track_running_stats": True}, (3, 6)),
    "InstanceNorm2d affine tracked": ({"affine": True, "track_running_stats": True,
                                       "momentum": 0.3}, (2, 3, 4, 3)),
    "InstanceNorm2d affine no bias": ({"affine": True, "bias": False}, (2, 3, 2, 5)),
    "InstanceNorm2d momentum None": ({"track_running_stats": True, "momentum": None},
                                     (2, 3, 3, 3)),
}


def _instance_norm_pair(name):
    options, shape = INSTANCE_NORMS[name]
    cls = name.split()[0]
    ours = getattr(nn, cls)(3, **options).double()
    theirs = getattr(torch.nn, cls)(3, **options).double()
    for p in ours.parameters():
        nn.init.uniform_(p, 0.5, 1.5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs, shape


@pytest.mark.parametrize("name", list(INSTANCE_NORMS))
def test_instance_norm_module_matches_torch_in_training_and_eval(backend, name):
    ours, theirs, shape = _instance_norm_pair(name)
    _train_steps(backend, ours, theirs, shape, steps=2, seed=11)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)
    ours.eval(), theirs.eval()
    # Eval mode uses the running statistics when kept, the input's otherwise.
    _train_steps(backend, ours, theirs, shape, steps=1, seed=12)


@pytest.mark.parametrize("name", list(INSTANCE_NORMS))
def test_instance_norm_repr_matches_torch(name):
    options, _ = INSTANCE_NORMS[name]
    cls = name.split()[0]
    assert repr(getattr(nn, cls)(3, **options)) == repr(getattr(torch.nn, cls)(3, **options))


def test_instance_norm_gradcheck(backend):
    gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
              random_arrays((2, 2, 3, 2), (2,), (2,), seed=13))


def test_instance_norm_float32_stays_on_the_backend(backend):
    layer = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    out = layer(xpnet.randn(2, 3, 4, 4))
    assert out.dtype is xpnet.float32 and layer.running_var.dtype is xpnet.float32
    assert_on_device(out, backend)
    assert_on_device(layer.running_mean, backend)


def test_instance_norm_without_affine_warns_on_a_channel_mismatch_as_torch():
    with pytest.warns(UserWarning, match=re.escape("InstanceNorm1d: input's size at dim=1 (4) "
                                                   "does not match num_features (3)")):
        out = nn.InstanceNorm1d(3)(xpnet.randn(2, 4, 5))
    assert out.shape == (2, 4, 5)


@pytest.mark.parametrize("call, message", [
    (lambda: F.instance_norm(xpnet.zeros(2, 3, 1)),
     "instance_norm: expected more than 1 spatial element when using input statistics, got "
     "input of shape (2, 3, 1)"),
    (lambda: F.instance_norm(xpnet.zeros(2, 3)),
     "instance_norm: expected an input with at least 3 axes, got shape (2, 3)"),
    (lambda: F.instance_norm(xpnet.zeros(2, 3, 4), use_input_stats=False),
     "instance_norm: running_mean and running_var are needed when use_input_stats is False"),
    (lambda: F.instance_norm(xpnet.zeros(2, 3, 4), weight=xpnet.ones(4)),
     "instance_norm: weight of shape (4,) does not match the input's channels on axis 1 (3,)"),
    (lambda: nn.InstanceNorm1d(3)(xpnet.zeros(1, 3, 4, 4)),
     "InstanceNorm1d: expected a 2-D (unbatched) or 3-D input, got shape (1, 3, 4, 4)"),
    (lambda: nn.InstanceNorm2d(3, affine=True)(xpnet.zeros(1, 4, 4, 4)),
     "InstanceNorm2d: expected input's size at dim=1 to match num_features (3), got shape "
     "(1, 4, 4, 4)"),
    (lambda: nn.InstanceNorm2d(0), "InstanceNorm2d: num_features must be a positive int, got 0"),
    (lambda: nn.InstanceNorm2d(2, momentum=2.0),
     "InstanceNorm2d: momentum must be in [0, 1] or None, got 2.0"),
])
def test_instance_norm_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
