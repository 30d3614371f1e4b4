"""PyTorch's module paths give xpnet's own objects; names PyTorch has and xpnet lacks say so;
and the places where PyTorch is lenient and nothing is lost behave as there."""

from __future__ import annotations

import importlib

import pytest

import xpnet
import xpnet.nn as nn
import xpnet.nn.functional as F

from .conftest import assert_close, random_arrays
from .op_checks import check_forward, check_grads, gradcheck

# torch path (with torch replaced by xpnet) -> the xpnet module it must be.
PATHS = {
    "xpnet.utils.data": "xpnet.data",
    "xpnet.nn.functional": "xpnet.nn.functional",
    "xpnet.nn.init": "xpnet.nn.init",
    "xpnet.nn.utils": "xpnet.nn.utils",
    "xpnet.nn.utils.rnn": "xpnet.nn.utils.rnn",
    "xpnet.optim.lr_scheduler": "xpnet.optim.lr_scheduler",
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_torch_paths_are_xpnets_own_modules(path):
    assert importlib.import_module(path) is importlib.import_module(PATHS[path])


def test_utils_data_submodules_are_the_same_objects():
    import xpnet.data.dataset
    import xpnet.utils.data.dataset
    from xpnet.utils.data import DataLoader, TensorDataset
    assert xpnet.utils.data.dataset is xpnet.data.dataset
    assert DataLoader is xpnet.data.DataLoader and TensorDataset is xpnet.data.TensorDataset


def test_every_layer_family_holds_the_layers_torch_puts_there():
    torch = pytest.importorskip("torch")
    import pkgutil
    families = [m.name for m in pkgutil.iter_modules(torch.nn.modules.__path__)
                if not m.name.startswith("_")]
    assert {"conv", "rnn", "loss", "batchnorm", "container", "linear"} <= set(families)
    for family in families:
        ours = importlib.import_module(f"xpnet.nn.modules.{family}")
        theirs = importlib.import_module(f"torch.nn.modules.{family}")
        for name in getattr(theirs, "__all__", ()):
            if hasattr(nn, name):
                assert getattr(ours, name) is getattr(nn, name), (family, name)
            else:
                with pytest.raises(AttributeError, match="is not in xpnet yet"):
                    getattr(ours, name)
    from xpnet.nn.modules import Linear
    from xpnet.nn.modules.conv import Conv2d
    from xpnet.nn.modules.linear import Identity
    assert Linear is nn.Linear and Conv2d is nn.Conv2d and Identity is nn.Identity


@pytest.mark.parametrize("owner, name, torch_path", [
    (xpnet, "stft", "torch.stft"), (nn, "LazyLinear", "torch.nn.LazyLinear"),
    (F, "grid_sample", "torch.nn.functional.grid_sample"),
    (xpnet.optim, "Adafactor", "torch.optim.Adafactor"),
    (xpnet.optim.lr_scheduler, "SequentialLR", "torch.optim.lr_scheduler.SequentialLR"),
])
def test_a_torch_name_xpnet_lacks_says_so_and_points_to_the_guide(owner, name, torch_path):
    torch = pytest.importorskip("torch")
    module_path, _, attr = torch_path.rpartition(".")
    assert hasattr(importlib.import_module(module_path), attr)  # torch really has it
    with pytest.raises(AttributeError, match=f"PyTorch's {torch_path} is not in xpnet yet.*"
                                             f"Coming from PyTorch"):
        getattr(owner, name)


def test_a_tensor_method_xpnet_lacks_says_so():
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'stft': "
                                             "PyTorch's torch.Tensor.stft is not in xpnet yet"):
        xpnet.zeros(2).stft  # noqa: B018
    with pytest.raises(AttributeError, match="^'Tensor' object has no attribute 'nonsense'$"):
        xpnet.zeros(2).nonsense  # noqa: B018
    with pytest.raises(AttributeError, match="^module 'xpnet' has no attribute 'nonsense'$"):
        xpnet.nonsense  # noqa: B018
    assert not hasattr(xpnet.zeros(1), "is_sparse")


# -- PyTorch is lenient here, and nothing is lost -----------------------------------------------

def test_steplr_reads_a_whole_float_step_size_as_torch_does():
    torch = pytest.importorskip("torch")
    lrs = {}
    for lib in (xpnet, torch):
        p = [lib.nn.Parameter(lib.zeros(1))]
        opt = lib.optim.SGD(p, lr=1.0)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2.0, gamma=0.5)
        seen = []
        for _ in range(6):
            seen.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        lrs[lib.__name__] = seen
    assert lrs["xpnet"] == lrs["torch"] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    opt = xpnet.optim.SGD([nn.Parameter(xpnet.zeros(1))], lr=1.0)
    with pytest.raises(TypeError, match="StepLR: step_size must be an int, got float"):
        xpnet.optim.lr_scheduler.StepLR(opt, step_size=2.5)


def test_dropout2d_on_rows_drops_elements_with_a_warning_as_torch():
    torch = pytest.importorskip("torch")
    x = xpnet.ones(64, 32)
    with pytest.warns(UserWarning, match="dropout2d: received a 2-D"):
        out = nn.Dropout2d(0.5)(x)
    values = out.numpy()
    assert set(values.ravel().tolist()) == {0.0, 2.0}
    # Elementwise: rows are mixed, unlike whole-channel dropout.
    assert ((values == 0).any(axis=1) & (values == 2).any(axis=1)).mean() > 0.9
    with pytest.warns(UserWarning):
        theirs = torch.nn.Dropout2d(0.5)(torch.ones(64, 32))
    assert abs((values == 0).mean() - (theirs.numpy() == 0).mean()) < 0.05
    with pytest.warns(UserWarning, match="dropout2d: received a 2-D"):  # as torch, in eval too
        assert nn.Dropout2d(0.5).eval()(x) is x


@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_l1_loss_matches_torch(backend, beta, reduction):
    torch = pytest.importorskip("torch")
    arrays = random_arrays((4, 5), (4, 5), seed=3)

    def ours(x, y):
        return F.smooth_l1_loss(x, y, reduction=reduction, beta=beta)

    def theirs(x, y):
        return torch.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta)

    check_forward(backend, ours, theirs, arrays)
    check_grads(backend, ours, theirs, arrays)
    if beta:
        gradcheck(ours, arrays)
    layer = nn.SmoothL1Loss(reduction=reduction, beta=beta)
    x, y = (xpnet.tensor(a) for a in arrays)
    assert_close(layer(x, y), theirs(*(torch.tensor(a) for a in arrays)))


def test_smooth_l1_loss_refuses_a_negative_beta():
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be a non-negative number"):
        F.smooth_l1_loss(xpnet.zeros(2), xpnet.zeros(2), beta=-1.0)


# -- old and auxiliary spellings real scripts still use -----------------------------------------

def test_variable_and_autograd_backward_match_torch():
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (xpnet, torch):
        a = lib.autograd.Variable(lib.tensor([1.0, 2.0], dtype=lib.float64), requires_grad=True)
        b = a * 2
        c = (a * a).sum()
        lib.autograd.backward([b, c], [lib.tensor([1.0, -1.0], dtype=lib.float64), None])
        results[lib.__name__] = a.grad.tolist()
    assert results["xpnet"] == results["torch"] == [4.0, 2.0]
    with pytest.raises(TypeError, match="Variable: expected a Tensor, got list"):
        xpnet.autograd.Variable([1.0])
    with pytest.raises(ValueError, match="autograd.backward: got 2 grad_tensors for 1 tensors"):
        xpnet.autograd.backward(xpnet.ones(1, requires_grad=True) * 2, [None, None])


@pytest.mark.parametrize("name", ["uniform", "normal", "constant", "xavier_uniform",
                                  "xavier_normal", "kaiming_uniform", "kaiming_normal",
                                  "orthogonal", "sparse"])
def test_init_names_without_underscore_warn_and_work_as_torchs(name):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(name, ())
    deprecated = getattr(nn.init, name)
    with pytest.warns(FutureWarning, match=f"nn.init.{name} is deprecated in favor of "
                                           f"nn.init.{name}_"):
        got = deprecated(xpnet.empty(4, 6), *args, generator=xpnet.Generator(3)) \
            if name != "constant" else deprecated(xpnet.empty(4, 6), *args)
    kwargs = {} if name == "constant" else {"generator": xpnet.Generator(3)}
    want = getattr(nn.init, name + "_")(xpnet.empty(4, 6), *args, **kwargs)
    assert_close(got, want.numpy(), rtol=0, atol=0)


def test_clip_grad_norm_without_underscore_warns_and_clips():
    p = nn.Parameter(xpnet.tensor([3.0, 4.0]))
    p.grad = xpnet.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm is deprecated"):
        total = nn.utils.clip_grad_norm([p], 1.0)
    assert abs(total.item() - 5.0) < 1e-6 and abs(p.grad.norm().item() - 1.0) < 1e-5


def test_backends_switches_are_accepted_and_truthful():
    torch = pytest.importorskip("torch")
    import xpnet.backends.cudnn
    for name in ("enabled", "benchmark", "deterministic"):
        assert getattr(xpnet.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    xpnet.backends.cudnn.benchmark = True  # what scripts do; nothing to tune here
    assert xpnet.backends.cudnn.benchmark is True
    xpnet.backends.cudnn.benchmark = False
    assert xpnet.backends.mps.is_available() is False and not xpnet.backends.cudnn.is_available()


def test_random_fills_with_integers_in_range(backend):
    t = xpnet.zeros(200)
    assert t.random_(3, 7, generator=xpnet.Generator(0)) is t
    assert set(t.tolist()) == {3.0, 4.0, 5.0, 6.0}
    ints = xpnet.zeros(50, dtype=xpnet.int64).random_(4)
    assert ints.dtype is xpnet.int64 and set(ints.tolist()) <= {0, 1, 2, 3}
    with pytest.raises(TypeError, match="random_: give the upper bound"):
        xpnet.zeros(2).random_()


def test_tensor_has_no_getattr_hook():
    # A class-level __getattr__ makes CPython take its slow path for every attribute read of
    # every tensor (measured: +0.3 us per tiny op); the missing names are descriptors instead.
    assert "__getattr__" not in vars(xpnet.Tensor)
    assert isinstance(vars(xpnet.Tensor)["stft"], xpnet._missing._Missing)
