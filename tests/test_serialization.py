"""Whole Modules through xpnet.save / xpnet.load (xpnet/io.py) and the class allowlist of
xpnet.serialization: rebuilt without pickle and without calling __init__, the same outputs,
parameter sharing and training; weights_only refusals; what save refuses."""

from __future__ import annotations

import io
import json
import pickle
import sys

import numpy as np
import pytest

import xpnet
import xpnet.serialization as serialization
from xpnet import nn, optim
from xpnet.serialization import ClassNotAllowedError

from .conftest import assert_on_backend

safetensors_numpy = pytest.importorskip("safetensors.numpy")


class TiedNet(nn.Module):
    """Weight tying, a submodule under two names, buffers of both kinds, a frozen parameter
    and plain attributes of every kind a module may hold."""

    inits = 0  # how often __init__ ran: load must never run it

    def __init__(self, vocab=6, dim=4):
        super().__init__()
        TiedNet.inits += 1
        self.embed = nn.Embedding(vocab, dim)
        self.block = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.Tanh())
        self.again = self.block
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.embed.weight
        self.temperature = nn.Parameter(xpnet.tensor(2.0), requires_grad=False)
        self.register_buffer("calls", xpnet.tensor(0))
        self.register_buffer("cache", xpnet.zeros(dim), persistent=False)
        self.config = {"vocab": vocab, "sizes": (dim, dim), "names": ["a", "b"], "none": None,
                       "dtype": xpnet.float32, "ratio": 0.5, "inf": float("inf")}

    def forward(self, tokens):
        h = self.again(self.block(self.embed(tokens)))
        return self.head(h) / self.temperature


def _trained_net():
    xpnet.manual_seed(0)
    net = TiedNet()
    net(xpnet.tensor([1, 2, 3, 0]))  # batch statistics move the running buffers
    net.block[1].eval()
    return net


def _save(obj):
    buffer = io.BytesIO()
    xpnet.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _params(model):
    return {name: p.numpy() for name, p in model.named_parameters()}


# -- round trips ---------------------------------------------------------------------------------

def test_a_model_round_trips_with_its_structure(backend, tmp_path):
    net = _trained_net()
    path = tmp_path / "model.pt"
    xpnet.save(net, path)
    inits = TiedNet.inits
    with serialization.safe_globals([TiedNet]):
        got = xpnet.load(path)
    assert TiedNet.inits == inits  # __init__ never ran
    assert type(got) is TiedNet and type(got.block[1]) is nn.BatchNorm1d
    assert got.head.weight is got.embed.weight and got.again is got.block
    assert [m.training for m in got.modules()] == [m.training for m in net.modules()]
    assert got.config == net.config and got.config["sizes"] == (4, 4)
    assert type(got.temperature) is nn.Parameter and not got.temperature.requires_grad
    assert got._non_persistent == {"cache"} and "cache" not in got.state_dict()
    assert [n for n, _ in got.named_parameters()] == [n for n, _ in net.named_parameters()]
    want_sd, got_sd = net.state_dict(), got.state_dict()
    assert list(got_sd) == list(want_sd)
    for key in want_sd:
        assert_on_backend(got_sd[key], backend)
        assert got_sd[key].dtype is want_sd[key].dtype
        np.testing.assert_array_equal(got_sd[key].numpy(), want_sd[key].numpy())
    tokens = xpnet.tensor([0, 5, 2])
    np.testing.assert_array_equal(got(tokens).detach().numpy(), net(tokens).detach().numpy())


def test_a_loaded_model_trains_like_the_original(backend):
    net = _trained_net()
    got = xpnet.load(_save(net), weights_only=False)
    tokens, target = xpnet.tensor([1, 4, 0, 2]), xpnet.tensor([0, 1, 2, 3])
    for model in (net, got):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            loss = nn.functional.cross_entropy(model(tokens), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for name, value in _params(net).items():
        np.testing.assert_array_equal(_params(got)[name], value)
    assert got.head.weight is got.embed.weight  # the tie survived the steps


def test_parameter_sharing_comes_back_as_from_torch_load():
    torch = pytest.importorskip("torch")

    def tied(module):
        model = module.ModuleDict({"embed": module.Embedding(6, 4),
                                   "head": module.Linear(4, 6, bias=False)})
        model["head"].weight = model["embed"].weight
        model["also"] = model["head"]
        return model

    buffer = io.BytesIO()
    torch.save(tied(torch.nn), buffer)
    buffer.seek(0)
    from_torch = torch.load(buffer, weights_only=False)  # our own model: trusted
    got = xpnet.load(_save(tied(nn)))
    for model in (from_torch, got):
        assert model["head"].weight is model["embed"].weight and model["also"] is model["head"]
    assert [n for n, _ in got.named_parameters()] == \
        [n for n, _ in from_torch.named_parameters()]
    assert list(got.state_dict()) == list(from_torch.state_dict())


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(8, 3)), (2, 1, 4, 4)),
    (lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
    (lambda: xpnet.models.LeNet5(num_classes=3, input_size=16), (1, 1, 16, 16)),
])
def test_xpnet_layers_load_without_allowlisting(backend, make, shape):
    model = make().eval()
    got = xpnet.load(_save(model))  # weights_only=True: xpnet's own classes are allowed
    assert type(got) is type(model)
    x = xpnet.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    want, out = model(x), got(x)
    if isinstance(want, tuple):  # LSTM: (output, (h, c))
        want, out = want[0], out[0]
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())


def test_a_model_moves_with_map_location(tmp_path):
    path = tmp_path / "dev1.pt"
    with xpnet.use_backend("array_api_strict:device1"):
        model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
        xpnet.save({"model": model, "epoch": 7}, path)
    with xpnet.use_backend("numpy"):
        checkpoint = xpnet.load(path, map_location="cpu")
        got = checkpoint["model"]
        for t in list(got.parameters()) + list(got.buffers()):
            assert_on_backend(t, "numpy")
        assert checkpoint["epoch"] == 7
        assert got(xpnet.ones(4, 3)).shape == (4, 2)


# -- weights_only and the allowlist --------------------------------------------------------------

def test_weights_only_refuses_a_class_it_does_not_know():
    buffer = _save({"model": _trained_net()})
    with pytest.raises(ClassNotAllowedError) as info:
        xpnet.load(buffer)
    message = str(info.value)
    for part in ("'tests.test_serialization:TiedNet'", "weights_only=False",
                 "add_safe_globals([TiedNet])", "state_dict()"):
        assert part in message
    # torch raises pickle.UnpicklingError here; xpnet's bad-file errors are ValueErrors
    assert isinstance(info.value, pickle.UnpicklingError) and isinstance(info.value, ValueError)
    buffer.seek(0)
    assert type(xpnet.load(buffer, weights_only=False)["model"]) is TiedNet


def test_add_get_and_clear_safe_globals():
    serialization.clear_safe_globals()
    try:
        serialization.add_safe_globals([TiedNet, TiedNet, np.ndarray])
        assert serialization.get_safe_globals() == [TiedNet, np.ndarray]
        serialization.get_safe_globals().clear()  # a copy
        assert len(serialization.get_safe_globals()) == 2
        assert type(xpnet.load(_save(_trained_net()))) is TiedNet
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(ClassNotAllowedError):
        xpnet.load(_save(_trained_net()))


def test_safe_globals_context_restores_the_list():
    serialization.add_safe_globals([np.ndarray])
    try:
        with serialization.safe_globals([TiedNet]):
            assert serialization.get_safe_globals() == [np.ndarray, TiedNet]
            xpnet.load(_save(_trained_net()))
        assert serialization.get_safe_globals() == [np.ndarray]
    finally:
        serialization.clear_safe_globals()


@pytest.mark.parametrize("entries, message", [
    ("TiedNet", "expected a list of classes, got str"),
    ([3], "expected classes .* got int 3"),
    ([(TiedNet, 3)], r"must be \(class, 'module:QualifiedName'\)"),
])
def test_bad_safe_globals_are_refused(entries, message):
    with pytest.raises(TypeError, match=message):
        serialization.add_safe_globals(entries)
    assert serialization.get_safe_globals() == []


def _renamed(buffer, old, new):
    """The file in ``buffer`` with its structure naming class ``new`` instead of ``old``."""
    raw = buffer.getvalue()
    (length,) = np.frombuffer(raw[:8], dtype="<u8")
    header = json.loads(raw[8:8 + int(length)])
    metadata = header.pop("__metadata__")
    metadata["xpnet.structure"] = metadata["xpnet.structure"].replace(old, new)
    arrays = safetensors_numpy.load(raw)
    return io.BytesIO(safetensors_numpy.save(arrays, metadata=metadata))


def test_a_moved_class_loads_through_a_named_safe_global():
    moved = _renamed(_save(_trained_net()), "tests.test_serialization:TiedNet",
                     "old_project.models:TiedNet")
    with pytest.raises(ModuleNotFoundError, match="cannot find the module of class "
                                                  "'old_project.models:TiedNet'"):
        xpnet.load(moved, weights_only=False)
    moved.seek(0)
    with serialization.safe_globals([(TiedNet, "old_project.models.TiedNet")]):
        assert type(xpnet.load(moved)) is TiedNet


def test_a_missing_class_says_what_to_do():
    gone = _renamed(_save(_trained_net()), ":TiedNet", ":GoneNet")
    with pytest.raises(AttributeError, match="cannot find class 'tests.test_serialization:"
                                             "GoneNet'.*define or import it"):
        xpnet.load(gone, weights_only=False)


@pytest.mark.parametrize("path", ["builtins:dict", "os:system", "collections:OrderedDict",
                                  "xpnet.nn.functional:relu", "xpnet.optim:SGD"])
def test_only_module_subclasses_are_ever_rebuilt(path):
    file = _renamed(_save(nn.Identity()), "xpnet.nn.module:Identity", path)
    for weights_only in (False, True):
        file.seek(0)
        with pytest.raises(ClassNotAllowedError, match=f"names '{path}' as a module class|"
                                                       f"class '{path}', which weights_only"):
            xpnet.load(file, weights_only=weights_only)


def test_weights_only_never_imports_the_module_a_file_names(tmp_path, monkeypatch):
    (tmp_path / "xpnet_probe_module.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('imported').touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    file = _renamed(_save(nn.Identity()), "xpnet.nn.module:Identity",
                    "xpnet_probe_module:Identity")
    with pytest.raises(ClassNotAllowedError, match="weights_only=True does not rebuild"):
        xpnet.load(file)
    assert not (tmp_path / "imported").exists() and "xpnet_probe_module" not in sys.modules


@pytest.mark.parametrize("old, new, message", [
    ('"training":true', '"training":1', "bad module entry"),
    ('"parameters":[["weight",{"parameter"', '"parameters":[["weight",{"tensor"',
     "parameter 'weight' of 'xpnet.nn.linear:Linear' is a Tensor"),
    ('"xpnet.nn.linear:Linear"', '"Linear"', "bad module class 'Linear'"),
    ('"xpnet.nn.linear:Linear"', '".linear:Linear"', "bad module class '.linear:Linear'"),
    ('"xpnet.nn.linear:Linear"', '"xpnet:"', "bad module class 'xpnet:'"),
    ('"attributes":[', '"attributes":[["_parameters",{}],', "bad attribute item"),
])
def test_a_damaged_module_entry_is_refused(old, new, message):
    file = _renamed(_save(nn.Linear(2, 2)), old, new)
    with pytest.raises(ValueError, match="is damaged: " + message):
        xpnet.load(file)


# -- what save refuses -----------------------------------------------------------------------------

class _WithFunction(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = lambda x: x


def test_save_refuses_a_module_holding_a_function(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), _WithFunction())
    with pytest.raises(TypeError, match=r"save: cannot encode a function at obj\.1\.act: .*"
                                        r"save model\.state_dict\(\) instead"):
        xpnet.save(model, tmp_path / "m.pt")


@pytest.mark.parametrize("attach, where", [
    (lambda m: setattr(m, "log", open(__file__)), r"a TextIOWrapper at obj\[0\]\.log"),
    (lambda m: m.register_forward_hook(lambda *a: None), r"at obj\[0\]\._forward_hooks\[\d+\]"),
    (lambda m: setattr(m, "opt", optim.SGD(m.parameters(), lr=0.1)),
     r"optimizer itself \(SGD at obj\[0\]\.opt\).*optimizer.state_dict\(\)"),
])
def test_save_refuses_unencodable_module_attributes_naming_them(tmp_path, attach, where):
    layer = nn.Linear(2, 2)
    attach(layer)
    try:
        with pytest.raises(TypeError, match="save: .*" + where):
            xpnet.save([layer], tmp_path / "m.pt")
    finally:
        if hasattr(layer, "log"):
            layer.log.close()
    assert not (tmp_path / "m.pt").exists()


def test_serialization_names_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
                 "safe_globals"):
        assert hasattr(torch.serialization, name) and hasattr(serialization, name)
    assert serialization.save is xpnet.save and serialization.load is xpnet.load
