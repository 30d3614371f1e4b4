"""Losses (xpnet/functional/loss/, xpnet/ops/loss.py, xpnet/nn/loss.py) against PyTorch's
functions and modules, gradient checks on every backend, numerics at the edges, and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.functional as F
from xpnet.nn import loss as nn_loss

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

REDUCTIONS = ("mean", "sum", "none")


@pytest.fixture(autouse=True, scope="module")
def _torch_on_one_thread():
    # The oracle's inputs are tiny: with its thread pool on a busy machine every torch call here
    # waited ~10 ms for threads (60 ms per test instead of 4).
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

MODULES = {
    "mse_loss": "MSELoss", "l1_loss": "L1Loss", "huber_loss": "HuberLoss",
    "nll_loss": "NLLLoss", "cross_entropy": "CrossEntropyLoss",
    "binary_cross_entropy": "BCELoss", "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}


# -- inputs (NumPy float64; the same numbers go to xpnet and to torch) ------------------------

def _regression(shape=(3, 4)):
    return random_arrays(shape, shape, seed=1)


def _probabilities(shape=(3, 4)):
    # Inputs and targets away from 0 and 1, so finite differences stay inside [0, 1].
    return random_arrays(shape, shape, seed=2, low=0.1, high=0.9)


def _logits_and_labels(shape=(3, 4)):
    x, = random_arrays(shape, seed=3, low=-3.0, high=3.0)
    t = (np.random.default_rng(4).uniform(size=shape) < 0.5).astype(np.float64)
    return [x, t]


def _class_indices(shape, ignore=(), seed=5):
    """Logits of ``shape`` and int64 class targets (class axis 1, or 0 when 1-D); the flat
    positions in ``ignore`` hold the given ignore value: ``ignore = ((position, value), ...)``."""
    x, = random_arrays(shape, seed=seed, low=-3.0, high=3.0)
    axis = 0 if len(shape) == 1 else 1
    target_shape = shape[:axis] + shape[axis + 1:]
    t = np.random.default_rng(seed + 1).integers(0, shape[axis], size=target_shape)
    flat = t.reshape(-1)
    for position, value in ignore:
        flat[position] = value
    return [x, flat.reshape(target_shape).astype(np.int64)]


def _class_probabilities(shape, seed=7):
    x, z = random_arrays(shape, shape, seed=seed, low=-3.0, high=3.0)
    axis = 0 if len(shape) == 1 else 1
    p = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    return [x, p]


CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5, 0.25])
K_WEIGHT = CLASS_WEIGHT[:3]
ELEMENT_WEIGHT = np.array([1.0, 0.5, 2.0, 0.0])

# name -> (function name, keyword arguments (arrays become tensors), inputs)
CONFIGS = {
    "mse": ("mse_loss", {}, _regression),
    "l1": ("l1_loss", {}, _regression),
    "huber": ("huber_loss", {}, _regression),
    "huber_delta_0.5": ("huber_loss", {"delta": 0.5}, _regression),
    "nll": ("nll_loss", {}, lambda: _class_indices((4, 5), ignore=((1, -100),))),
    "nll_weight": ("nll_loss", {"weight": CLASS_WEIGHT},
                   lambda: _class_indices((4, 5), ignore=((2, -100),))),
    "nll_ignore_index_2": ("nll_loss", {"ignore_index": 2, "weight": CLASS_WEIGHT},
                           lambda: _class_indices((6, 5), ignore=((0, 2), (3, 2)))),
    "nll_kdim": ("nll_loss", {"weight": K_WEIGHT},
                 lambda: _class_indices((2, 3, 2, 2), ignore=((5, -100),))),
    "nll_1d": ("nll_loss", {"weight": CLASS_WEIGHT}, lambda: _class_indices((5,))),
    "ce": ("cross_entropy", {}, lambda: _class_indices((4, 5), ignore=((1, -100),))),
    "ce_weight": ("cross_entropy", {"weight": CLASS_WEIGHT},
                  lambda: _class_indices((4, 5), ignore=((2, -100),))),
    "ce_smoothing": ("cross_entropy", {"label_smoothing": 0.1},
                     lambda: _class_indices((4, 5), ignore=((0, -100),))),
    "ce_smoothing_weight_ignore_3": (
        "cross_entropy", {"label_smoothing": 0.3, "weight": CLASS_WEIGHT, "ignore_index": 3},
        lambda: _class_indices((6, 5), ignore=((1, 3), (4, 3)))),
    "ce_kdim": ("cross_entropy", {"weight": K_WEIGHT, "label_smoothing": 0.2},
                lambda: _class_indices((2, 3, 2, 2), ignore=((3, -100),))),
    "ce_1d": ("cross_entropy", {"label_smoothing": 0.1}, lambda: _class_indices((5,))),
    "ce_probabilities": ("cross_entropy", {}, lambda: _class_probabilities((4, 5))),
    "ce_probabilities_weight": ("cross_entropy", {"weight": CLASS_WEIGHT},
                                lambda: _class_probabilities((4, 5))),
    "ce_probabilities_smoothing": ("cross_entropy", {"label_smoothing": 0.2},
                                   lambda: _class_probabilities((4, 5))),
    "ce_probabilities_kdim": ("cross_entropy", {"weight": K_WEIGHT, "label_smoothing": 0.1},
                              lambda: _class_probabilities((2, 3, 2, 2))),
    "ce_probabilities_1d": ("cross_entropy", {"weight": CLASS_WEIGHT},
                            lambda: _class_probabilities((5,))),
    "bce": ("binary_cross_entropy", {}, _probabilities),
    "bce_weight": ("binary_cross_entropy", {"weight": ELEMENT_WEIGHT}, _probabilities),
    "bce_logits": ("binary_cross_entropy_with_logits", {}, _logits_and_labels),
    "bce_logits_weight": ("binary_cross_entropy_with_logits", {"weight": ELEMENT_WEIGHT},
                          _logits_and_labels),
    "bce_logits_pos_weight": ("binary_cross_entropy_with_logits",
                              {"pos_weight": np.array([1.0, 3.0, 0.5, 2.0])}, _logits_and_labels),
    "bce_logits_both_soft": ("binary_cross_entropy_with_logits",
                             {"weight": np.array([[2.0], [1.0], [0.5]]),
                              "pos_weight": np.array([1.0, 3.0, 0.5, 2.0])},
                             lambda: [_logits_and_labels()[0], _probabilities()[1]]),
}
CASES = [(name, reduction) for name in CONFIGS for reduction in REDUCTIONS]


def _xpnet_kwargs(kwargs):
    return {k: xpnet.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _torch_kwargs(kwargs):
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _functions(name, reduction):
    """(xpnet function, torch function, inputs) for a config."""
    fname, kwargs, inputs = CONFIGS[name]
    kwargs = {**kwargs, "reduction": reduction}
    return (lambda x, t: getattr(F, fname)(x, t, **_xpnet_kwargs(kwargs)),
            lambda x, t: getattr(TF, fname)(x, t, **_torch_kwargs(kwargs)),
            inputs())


def _modules(name, reduction):
    """(xpnet module, torch module, inputs) for a config."""
    fname, kwargs, inputs = CONFIGS[name]
    kwargs = {**kwargs, "reduction": reduction}
    module = getattr(nn_loss, MODULES[fname])(**_xpnet_kwargs(kwargs))
    torch_module = getattr(torch.nn, MODULES[fname])(**_torch_kwargs(kwargs))
    return module, torch_module, inputs()


# -- against PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, reduction", CASES)
def test_loss_matches_torch_function(backend, name, reduction):
    fn, torch_fn, arrays = _functions(name, reduction)
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name, reduction", CASES)
def test_loss_module_matches_torch_module(name, reduction):
    # The modules only forward to the functions tested above on every backend; NumPy suffices.
    pytest.importorskip("torch")
    with xpnet.use_backend("numpy"):
        module, torch_module, arrays = _modules(name, reduction)
        check_forward("numpy", module, torch_module, arrays)
        check_grads("numpy", module, torch_module, arrays)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loss_gradcheck(backend, name):
    fname, kwargs, inputs = CONFIGS[name]
    arrays = inputs()
    # Class indices: 'mean' and its weighted denominator; otherwise 'none', every output.
    reduction = "mean" if arrays[1].dtype.kind == "i" else "none"
    gradcheck(lambda x, t: getattr(F, fname)(x, t, reduction=reduction, **_xpnet_kwargs(kwargs)),
              arrays)


WEIGHT_GRADIENT_CASES = {
    "nll": lambda x, t, w, r: F.nll_loss(x, t, weight=w, reduction=r),
    "ce_smoothing": lambda x, t, w, r: F.cross_entropy(x, t, weight=w, reduction=r,
                                                       label_smoothing=0.2),
    "ce_probabilities": lambda x, p, w, r: F.cross_entropy(x, p, weight=w, reduction=r),
    "bce": lambda x, t, w, r: F.binary_cross_entropy(x, t, weight=w, reduction=r),
    "bce_logits": lambda x, t, w, r: F.binary_cross_entropy_with_logits(x, t, weight=w,
                                                                         reduction=r),
    "bce_logits_pos_weight": lambda x, t, w, r: F.binary_cross_entropy_with_logits(
        x, t, pos_weight=w, reduction=r),
}


@pytest.mark.parametrize("name", list(WEIGHT_GRADIENT_CASES))
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_weight_gradcheck(backend, name, reduction):
    # PyTorch has no gradient for weight or pos_weight; here they are differentiable.
    fn = WEIGHT_GRADIENT_CASES[name]
    if name in ("nll", "ce_smoothing"):
        x, t = _class_indices((5, 5), ignore=((1, -100),))
        w = CLASS_WEIGHT
    elif name == "ce_probabilities":
        x, t = _class_probabilities((4, 5))
        w = CLASS_WEIGHT
    else:
        x, t = _probabilities() if name == "bce" else _logits_and_labels()
        w = np.array([1.0, 0.5, 2.0, 3.0])
    target = xpnet.tensor(t)
    gradcheck(lambda x, w: fn(x, target, w, reduction), [x, w])


# -- numerics at the edges ---------------------------------------------------------------------

BIG_LOGITS = np.array([-1e4, -1e4, -800.0, 0.0, 800.0, 1e4, 1e4])
BIG_TARGETS = np.array([0.0, 1.0, 1.0, 0.5, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_bce_with_logits_is_exact_at_huge_logits(backend, reduction, pos_weight):
    def fn(x):
        pw = None if pos_weight is None else xpnet.tensor(np.full(7, pos_weight))
        return F.binary_cross_entropy_with_logits(x, xpnet.tensor(BIG_TARGETS), pos_weight=pw,
                                                  reduction=reduction)

    def torch_fn(x):
        pw = None if pos_weight is None else torch.full((7,), pos_weight, dtype=torch.float64)
        return TF.binary_cross_entropy_with_logits(x, torch.from_numpy(BIG_TARGETS),
                                                   pos_weight=pw, reduction=reduction)

    (x,) = to_xpnet(BIG_LOGITS)
    loss = fn(x)
    loss.sum().backward()
    assert np.all(np.isfinite(loss.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    check_forward(backend, fn, torch_fn, [BIG_LOGITS])
    check_grads(backend, fn, torch_fn, [BIG_LOGITS])


def test_bce_with_logits_at_huge_logits_values(backend):
    loss = F.binary_cross_entropy_with_logits(xpnet.tensor(BIG_LOGITS), xpnet.tensor(BIG_TARGETS),
                                              reduction="none")
    np.testing.assert_allclose(loss.numpy()[[0, 1, 5, 6]], [0.0, 1e4, 1e4, 0.0], atol=1e-12)


def test_bce_clamps_log_at_minus_100_like_torch(backend):
    # x = 0 or 1 against the opposite label: -log(0) is clamped to 100; the input gradient is
    # PyTorch's (x - t) / max(x (1 - x), 1e-12).
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25])
    for reduction in REDUCTIONS:
        def fn(x, reduction=reduction):
            return F.binary_cross_entropy(x, xpnet.tensor(t), reduction=reduction)

        def torch_fn(x, reduction=reduction):
            return TF.binary_cross_entropy(x, torch.from_numpy(t), reduction=reduction)

        check_forward(backend, fn, torch_fn, [x])
        check_grads(backend, fn, torch_fn, [x])


def test_bce_target_gradient_is_that_of_the_clamped_loss(backend):
    # PyTorch's target gradient log(1 - x) - log(x) is infinite at x = 0; ours is finite.
    x = xpnet.tensor(np.array([0.0, 1.0, 0.5]))
    t = xpnet.tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)
    F.binary_cross_entropy(x, t, reduction="sum").backward()
    assert_close(t.grad, np.array([100.0, -100.0, 0.0]))


@pytest.mark.parametrize(("fname", "label_smoothing"),
                         [("nll_loss", 0.0), ("cross_entropy", 0.0), ("cross_entropy", 0.1)])
def test_every_target_ignored_gives_nan_mean_and_zero_gradient(backend, fname, label_smoothing):
    extra = {"label_smoothing": label_smoothing} if label_smoothing else {}
    x, t = _class_indices((3, 4), ignore=((0, -100), (1, -100), (2, -100)))
    for weight in (None, CLASS_WEIGHT[:4]):
        def fn(x, weight=weight):
            w = None if weight is None else xpnet.tensor(weight)
            return getattr(F, fname)(x, xpnet.tensor(t), weight=w, **extra)

        def torch_fn(x, weight=weight):
            w = None if weight is None else torch.from_numpy(weight)
            return getattr(TF, fname)(x, torch.from_numpy(t), weight=w, **extra)

        check_forward(backend, fn, torch_fn, [x], atol=0)
        assert math.isnan(fn(xpnet.tensor(x)).item())
        check_grads(backend, fn, torch_fn, [x])


def test_losses_keep_float32(backend):
    x = xpnet.randn((4, 5))
    t = xpnet.tensor([0, 4, 2, -100])
    for loss in (F.cross_entropy(x, t), F.cross_entropy(x, t, label_smoothing=0.1),
                 F.cross_entropy(x, F.softmax(x, axis=1)), F.mse_loss(x, x * 2),
                 F.binary_cross_entropy_with_logits(x, (x > 0).astype("float32"))):
        assert loss.dtype is xpnet.float32
        assert_on_device(loss, backend)


def test_integer_targets_are_accepted(backend):
    x, t = _class_indices((4, 5))
    x = xpnet.tensor(x)
    want = F.cross_entropy(x, xpnet.tensor(t)).item()
    assert F.cross_entropy(x, xpnet.tensor(t.astype(np.int32))).item() == pytest.approx(want)
    labels = xpnet.tensor(np.array([[0, 1], [1, 1]]))  # 0/1 labels as integers for the BCE
    logits = xpnet.tensor(np.array([[0.5, -1.0], [2.0, 0.0]]))
    assert F.binary_cross_entropy_with_logits(logits, labels).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, labels.astype("float64")).item())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), n_classes=st.integers(1, 5), extra=st.sampled_from([(), (2,), (1, 3)]),
       label_smoothing=st.sampled_from([0.0, 0.25, 1.0]), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 2**16))
def test_class_indices_equal_one_hot_probabilities(n, n_classes, extra, label_smoothing,
                                                   reduction, seed):
    x, t = _class_indices((n, n_classes, *extra), seed=seed)
    one_hot = np.moveaxis(np.eye(n_classes)[t], -1, 1)
    x = xpnet.tensor(x)
    by_index = F.cross_entropy(x, xpnet.tensor(t), reduction=reduction,
                               label_smoothing=label_smoothing)
    by_probability = F.cross_entropy(x, xpnet.tensor(one_hot), reduction=reduction,
                                     label_smoothing=label_smoothing)
    assert_close(by_index, by_probability.numpy())


# -- bad input ---------------------------------------------------------------------------------

def _t(a):
    return xpnet.tensor(np.asarray(a))


LOSS_CALLS = {
    "mse_loss": lambda **k: F.mse_loss(_t([1.0, 2.0]), _t([1.0, 0.0]), **k),
    "l1_loss": lambda **k: F.l1_loss(_t([1.0, 2.0]), _t([1.0, 0.0]), **k),
    "huber_loss": lambda **k: F.huber_loss(_t([1.0, 2.0]), _t([1.0, 0.0]), **k),
    "nll_loss": lambda **k: F.nll_loss(_t([[0.0, 1.0]]), _t([1]), **k),
    "cross_entropy": lambda **k: F.cross_entropy(_t([[0.0, 1.0]]), _t([1]), **k),
    "binary_cross_entropy": lambda **k: F.binary_cross_entropy(_t([0.5]), _t([1.0]), **k),
    "binary_cross_entropy_with_logits":
        lambda **k: F.binary_cross_entropy_with_logits(_t([0.5]), _t([1.0]), **k),
}


@pytest.mark.parametrize("fname", list(LOSS_CALLS))
@pytest.mark.parametrize("reduction", ["avg", "Mean", None])
def test_unknown_reduction(fname, reduction):
    with pytest.raises(ValueError, match=rf"{fname}: unknown reduction {reduction!r}; expected "
                                         r"'mean', 'sum' or 'none'"):
        LOSS_CALLS[fname](reduction=reduction)


def test_module_raises_the_functions_error():
    with pytest.raises(ValueError, match="cross_entropy: unknown reduction 'avg'"):
        nn_loss.CrossEntropyLoss(reduction="avg")(_t([[0.0, 1.0]]), _t([1]))


@pytest.mark.parametrize("fname", ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
                                   "binary_cross_entropy_with_logits"])
def test_elementwise_losses_refuse_mismatched_shapes(fname):
    x = _t(np.full((3, 1), 0.5))
    with pytest.raises(ValueError, match=rf"{fname}: target of shape \(3,\) must have the "
                                         r"input's shape \(3, 1\)"):
        getattr(F, fname)(x, _t(np.full(3, 0.5)))


@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("x_shape, t_shape", [((4, 5), (3,)), ((4, 5), (4, 1)),
                                              ((2, 3, 4), (2, 3)), ((5,), (1,))])
def test_class_index_target_of_wrong_shape(fname, x_shape, t_shape):
    x = _t(np.zeros(x_shape))
    expected = x_shape[:1] + x_shape[2:] if len(x_shape) > 1 else ()
    with pytest.raises(ValueError, match=rf"{fname}: expected target of shape "
                                         rf"{re.escape(str(expected))} for input of shape "
                                         rf"{re.escape(str(x_shape))}.*got "
                                         rf"{re.escape(str(t_shape))}"):
        getattr(F, fname)(x, _t(np.zeros(t_shape, dtype=np.int64)))


@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("bad", [5, 7, -1, -101])
def test_class_index_out_of_range(backend, fname, bad):
    x = xpnet.zeros((3, 5))
    with pytest.raises(IndexError, match=rf"{fname}: target {bad} is out of range; class indices "
                                         r"must lie in \[0, 4\] \(or equal ignore_index=-100\)"):
        # .item(): on a device the check reports at the next synchronisation
        getattr(F, fname)(x, xpnet.tensor([0, bad, -100])).item()


def test_ignore_index_may_lie_outside_the_classes():
    x = xpnet.zeros((2, 3))
    assert F.nll_loss(x, xpnet.tensor([7, 1]), ignore_index=7).item() == 0.0
    with pytest.raises(IndexError, match=r"target -100 is out of range.*ignore_index=7"):
        F.nll_loss(x, xpnet.tensor([-100, 1]), ignore_index=7)


def test_float_target_of_the_wrong_shape_is_not_class_indices():
    with pytest.raises(TypeError, match=r"cross_entropy: target must hold integer class indices "
                                        r"of shape \(4,\) for input of shape \(4, 5\), got "
                                        r"float32 of shape \(4,\); class probabilities need a "
                                        r"floating-point target of the input's shape"):
        F.cross_entropy(xpnet.zeros((4, 5)), xpnet.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match=r"nll_loss: target must hold integer class indices"):
        F.nll_loss(xpnet.zeros((4, 5)), xpnet.zeros((4, 3)))


def test_integer_target_of_the_input_shape_is_not_probabilities():
    with pytest.raises(TypeError, match=r"cross_entropy: a target of the input's shape \(2, 3\) "
                                        r"holds class probabilities and must be floating point, "
                                        r"got int64"):
        F.cross_entropy(xpnet.zeros((2, 3)), xpnet.tensor([[0, 1, 0], [1, 0, 0]]))


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.5, math.nan, "0.1"])
def test_label_smoothing_outside_unit_interval(label_smoothing):
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be a number in "
                                         r"\[0, 1\], got"):
        F.cross_entropy(xpnet.zeros((2, 3)), xpnet.tensor([0, 1]), label_smoothing=label_smoothing)


@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
def test_class_weight_of_wrong_shape(fname):
    with pytest.raises(ValueError, match=rf"{fname}: weight must have one entry per class, shape "
                                         r"\(3,\), got \(4,\)"):
        getattr(F, fname)(xpnet.zeros((2, 3)), xpnet.tensor([0, 1]), weight=xpnet.ones(4))


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_bce_weights_must_broadcast_to_the_input(name):
    with pytest.raises(ValueError, match=rf"binary_cross_entropy_with_logits: {name} of shape "
                                         r"\(2, 3, 4\) must broadcast to the input's shape "
                                         r"\(3, 4\)"):
        F.binary_cross_entropy_with_logits(xpnet.zeros((3, 4)), xpnet.zeros((3, 4)),
                                           **{name: xpnet.ones((2, 3, 4))})
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(3,\) must "
                                         r"broadcast"):
        F.binary_cross_entropy(xpnet.zeros((3, 4)), xpnet.zeros((3, 4)), weight=xpnet.ones(3))


@pytest.mark.parametrize("name, x, t, bad", [("input", [0.5, 1.5], [0.0, 1.0], "1.5"),
                                             ("input", [-0.5, 0.5], [0.0, 1.0], "-0.5"),
                                             ("input", [math.nan, 0.5], [0.0, 1.0], "nan"),
                                             ("target", [0.5, 0.5], [0.0, 2.0], "2")])
def test_bce_values_outside_unit_interval(backend, name, x, t, bad):
    with pytest.raises(ValueError, match=rf"binary_cross_entropy: {name} values must lie in "
                                         rf"\[0, 1\], got {bad}$"):
        F.binary_cross_entropy(xpnet.tensor(x), xpnet.tensor(t)).item()  # a synchronisation


@pytest.mark.parametrize("delta", [0.0, -1.0, "1"])
def test_huber_delta_must_be_positive(delta):
    with pytest.raises(ValueError, match=rf"huber_loss: delta must be a positive number, got "
                                         rf"{re.escape(repr(delta))}"):
        F.huber_loss(xpnet.zeros(2), xpnet.zeros(2), delta=delta)


def test_arguments_must_be_tensors():
    with pytest.raises(TypeError, match=r"mse_loss: target must be a Tensor, got list"):
        F.mse_loss(xpnet.zeros(2), [0.0, 0.0])
    with pytest.raises(TypeError, match=r"cross_entropy: weight must be a Tensor or None, got "
                                        r"list"):
        F.cross_entropy(xpnet.zeros((2, 3)), xpnet.tensor([0, 1]), weight=[1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match=r"nll_loss: ignore_index must be an int, got float"):
        F.nll_loss(xpnet.zeros((2, 3)), xpnet.tensor([0, 1]), ignore_index=-100.0)
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: weight must be a Tensor or None, got "
                                        r"list"):
        nn_loss.CrossEntropyLoss(weight=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"BCEWithLogitsLoss: pos_weight must be a Tensor or None"):
        nn_loss.BCEWithLogitsLoss(pos_weight=2.0)


def test_input_must_be_floating_point_with_a_class_axis():
    with pytest.raises(TypeError, match=r"cross_entropy: input must be floating point, got int64"):
        F.cross_entropy(xpnet.tensor([[1, 2]]), xpnet.tensor([0]))
    with pytest.raises(ValueError, match=r"nll_loss: input must have a class axis.*got a 0-d"):
        F.nll_loss(xpnet.tensor(1.0), xpnet.tensor(0))


def test_backends_must_not_mix():
    x = xpnet.zeros((2, 3), backend="numpy")
    t = xpnet.tensor([0, 1], backend="array_api_strict")
    with pytest.raises(ValueError, match=r"cross_entropy: tensors are on different backends"):
        F.cross_entropy(x, t)


# -- modules -----------------------------------------------------------------------------------

def test_class_weights_are_buffers_in_the_state_dict():
    w = xpnet.tensor([1.0, 2.0, 3.0])
    assert list(nn_loss.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn_loss.NLLLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn_loss.BCELoss(weight=w).state_dict()) == ["weight"]
    assert list(nn_loss.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    assert list(nn_loss.BCEWithLogitsLoss(w, pos_weight=w).state_dict()) == ["weight",
                                                                             "pos_weight"]
    assert list(nn_loss.CrossEntropyLoss().state_dict()) == []
    assert nn_loss.CrossEntropyLoss().weight is None
    assert list(nn_loss.MSELoss().parameters()) == []


def test_module_to_moves_the_weights(backend):
    module = nn_loss.CrossEntropyLoss(weight=xpnet.tensor([1.0, 2.0, 3.0], backend="numpy"))
    module.to(backend=backend)
    assert_on_device(module.weight, backend)
    loss = module(xpnet.zeros((2, 3)), xpnet.tensor([0, 2]))
    assert_on_device(loss, backend)
    assert loss.item() == pytest.approx(math.log(3))


def test_module_reprs_are_torchs():
    torch = pytest.importorskip("torch")
    for name, args, kwargs in [("MSELoss", (), {}), ("L1Loss", ("sum",), {}),
                               ("HuberLoss", (), {"delta": 0.5}),
                               ("SmoothL1Loss", (), {"beta": 0.5}),
                               ("NLLLoss", (), {"ignore_index": 0}),
                               ("CrossEntropyLoss", (), {"label_smoothing": 0.1}),
                               ("BCELoss", (), {"reduction": "none"}),
                               ("BCEWithLogitsLoss", (), {})]:
        if args:  # torch's first positional argument is the deprecated size_average
            ours, theirs = getattr(nn_loss, name)(*args), getattr(torch.nn, name)(reduction=args[0])
        else:
            ours, theirs = getattr(nn_loss, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        assert repr(ours) == repr(theirs)


def test_functional_namespaces_export_the_losses():
    import xpnet.nn.functional as NF
    for fname in MODULES:
        assert getattr(F, fname) is getattr(NF, fname)
        assert fname in F.__all__
