"""Pickle-free save/load (xpnet/io.py): round trips on every backend, paths and file objects,
map_location, optimizer and scheduler checkpoints that resume training exactly, plain
safetensors files, refusal of PyTorch, foreign or damaged files, errors, and atomic writes.

Whole Modules and the class allowlist are in test_serialization.py."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct

import numpy as np
import pytest

import xpnet
from xpnet import optim
from xpnet.backend import cupy_unusable_reason
from xpnet.optim import lr_scheduler

from .conftest import assert_on_backend

safetensors_numpy = pytest.importorskip("safetensors.numpy")

LOAD_ON = ["numpy", "array_api_strict:device1"]


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "fc.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "fc.bias": rng.standard_normal(4),  # float64
        "bn.num_batches_tracked": np.asarray(7, dtype=np.int64),  # 0-d
        "embedding.counts": rng.integers(-5, 5, size=(2, 3)),  # int64
        "mask": np.asarray([True, False, True]),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


def _adam_state(t):
    """An optimizer state dict shaped like PyTorch's Adam.state_dict()."""
    return {
        "state": {
            0: {"step": t(np.asarray(3.0, dtype=np.float32)),
                "exp_avg": t(np.full((3, 4), 0.5, dtype=np.float32)),
                "exp_avg_sq": t(np.full((3, 4), 0.25, dtype=np.float32))},
            1: {"step": 3, "exp_avg": t(np.arange(4.0)), "exp_avg_sq": t(np.ones(4))},
        },
        "param_groups": [{
            "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
            "maximize": False, "foreach": None, "fused": None, "name": "body",
            "params": [0, 1],
        }],
    }


def _assert_same(got, want, backend_name):
    """Equal structure and container types; tensors with equal values, dtype, shape and
    requires_grad, on ``backend_name``; NumPy arrays as NumPy arrays."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            assert type(key) is type(next(k for k in got if k == key))
            _assert_same(got[key], want[key], backend_name)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w, backend_name)
    elif isinstance(want, xpnet.Tensor):
        assert_on_backend(got, backend_name)
        assert got.dtype is want.dtype and got.shape == want.shape
        assert got.requires_grad == want.requires_grad and got.is_leaf
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    else:
        assert got == want


def _round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    xpnet.save(obj, buffer)
    buffer.seek(0)
    return xpnet.load(buffer, **load_kwargs)


def _structure(f):
    with open(f, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(length))
    return json.loads(header["__metadata__"]["xpnet.structure"])


# -- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("load_on", LOAD_ON)
def test_flat_state_dict_round_trips_across_backends(backend, tmp_path, load_on):
    sd = {name: xpnet.tensor(a) for name, a in _arrays().items()}
    sd["fc.weight"].requires_grad_(True)  # kept, as torch.load keeps it
    path = tmp_path / "model.safetensors"
    xpnet.save(sd, path)
    got = xpnet.load(path, backend=load_on)
    _assert_same(got, sd, load_on)
    assert got["bn.num_batches_tracked"].shape == ()
    assert [got[k].dtype for k in ("fc.weight", "fc.bias", "embedding.counts", "mask")] == \
        [xpnet.float32, xpnet.float64, xpnet.int64, xpnet.bool]


@pytest.mark.parametrize("load_on", LOAD_ON)
def test_optimizer_state_dict_round_trips_across_backends(backend, tmp_path, load_on):
    sd = _adam_state(xpnet.tensor)
    path = tmp_path / "optim.safetensors"
    xpnet.save(sd, path)
    got = xpnet.load(path, map_location=load_on)
    _assert_same(got, sd, load_on)  # int keys stay ints, betas a tuple, None stays None
    assert list(got["state"]) == [0, 1]
    assert got["param_groups"][0]["betas"] == (0.9, 0.999)
    assert got["param_groups"][0]["eps"] == 1e-8 and got["state"][1]["step"] == 3


def test_load_defaults_to_the_active_backend(backend, tmp_path):
    with xpnet.use_backend("numpy"):
        xpnet.save({"w": xpnet.ones(2)}, tmp_path / "w.safetensors")
    assert_on_backend(xpnet.load(tmp_path / "w.safetensors")["w"], backend)


def test_file_objects_round_trip(backend, tmp_path):
    sd = {name: xpnet.tensor(a) for name, a in _arrays().items()}
    _assert_same(_round_trip(sd), sd, backend)
    path = tmp_path / "ckpt.pt"  # torch's habits: any suffix, open(...) in binary mode
    with open(path, "wb") as f:
        xpnet.save(sd, f)
    with open(path, "rb") as f:
        _assert_same(xpnet.load(f), sd, backend)
    _assert_same(xpnet.load(path), sd, backend)


def test_several_saves_into_one_stream_load_in_turn():
    buffer = io.BytesIO()
    xpnet.save({"epoch": 1, "w": xpnet.zeros(2)}, buffer)
    xpnet.save([xpnet.ones(3)], buffer)
    buffer.seek(0)
    assert xpnet.load(buffer)["epoch"] == 1
    assert xpnet.load(buffer)[0].tolist() == [1.0, 1.0, 1.0]
    assert buffer.read() == b""


def test_numpy_arrays_come_back_as_numpy_arrays(backend):
    rng = np.random.default_rng(1)
    arrays = {"f32": rng.standard_normal((2, 3)).astype(np.float32),
              "f16": np.asarray([0.5, -2.0], dtype=np.float16), "scalar": np.asarray(3),
              "bool": np.asarray([True, False]), "u8": np.arange(4, dtype=np.uint8),
              "c64": np.asarray([1 + 2j], dtype=np.complex64),
              "c128": np.asarray([[1 + 2j, -3.5j]]), "empty": np.zeros((0, 2)),
              "transposed": np.arange(6.0).reshape(2, 3).T, "strided": np.arange(10)[::3]}
    got = _round_trip(arrays)
    _assert_same(got, arrays, backend)
    assert all(type(a) is np.ndarray and a.flags.writeable for a in got.values())


def test_transposed_and_strided_tensors_keep_their_values(backend):
    # safetensors.numpy.save writes a non-C-ordered array's memory as if it were C-ordered.
    base = xpnet.tensor(np.arange(12.0).reshape(3, 4))
    got = _round_trip({"t": base.T, "s": base[:, ::2]})
    np.testing.assert_array_equal(got["t"].numpy(), np.arange(12.0).reshape(3, 4).T)
    np.testing.assert_array_equal(got["s"].numpy(), np.arange(12.0).reshape(3, 4)[:, ::2])


def test_complex128_tensors_round_trip(backend):
    t = xpnet.tensor(np.asarray([1 + 2j, -0.5j]))
    got = _round_trip({"c": t})["c"]
    assert got.dtype is xpnet.complex128 and got.numpy().tolist() == [1 + 2j, -0.5j]


def test_tensors_keep_requires_grad_parameters_and_identity(backend):
    from xpnet.nn import Parameter
    leaf = xpnet.ones(2, requires_grad=True)
    made = leaf * 2  # not a leaf: it loads as a leaf requiring grad, as in torch
    frozen = Parameter(xpnet.zeros(3), requires_grad=False)
    got = _round_trip({"same": [leaf, leaf], "made": made, "p": Parameter(xpnet.ones(1)),
                       "frozen": frozen})
    assert got["same"][0] is got["same"][1] and got["same"][0].requires_grad
    assert got["made"].requires_grad and got["made"].is_leaf
    assert got["made"].tolist() == [2.0, 2.0]
    assert type(got["p"]) is Parameter and got["p"].requires_grad
    assert type(got["frozen"]) is Parameter and not got["frozen"].requires_grad


def _torch_like_shape(obj, tensor_types, array_type):
    """The structure of a loaded object, tensors as (dtype name, shape, requires_grad), so that
    what torch.load and xpnet.load give can be compared."""
    if isinstance(obj, dict):
        return (type(obj).__name__, [(k, _torch_like_shape(v, tensor_types, array_type))
                                     for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_torch_like_shape(v, tensor_types, array_type)
                                     for v in obj])
    if isinstance(obj, tensor_types):
        return ("tensor", str(obj.dtype).rsplit(".", 1)[-1], tuple(obj.shape),
                obj.requires_grad, obj.tolist())
    if isinstance(obj, array_type):
        return ("ndarray", str(obj.dtype), obj.shape, obj.tolist())
    return (type(obj).__name__, obj)


def test_the_same_structure_comes_back_as_from_torch_load():
    torch = pytest.importorskip("torch")

    def build(tensor):
        shared = tensor(np.asarray([1.0, 2.0]), True)
        return collections.OrderedDict([
            ("weights", {"a": tensor(np.ones((2, 2), np.float32), False), "shared": shared}),
            ("again", [shared, (shared, None)]), ("numpy", np.arange(3)),
            ("counts", collections.Counter({3: 2, 1: 1})), ("inf", float("inf")),
            (0, {"z": 1 + 2j, "flag": True, "text": "é", "big": 2**70, "t": (1, [2.5])}),
        ])

    want = build(lambda a, rg: torch.tensor(a, requires_grad=rg))
    buffer = io.BytesIO()
    torch.save(want, buffer)
    buffer.seek(0)
    from_torch = torch.load(buffer, weights_only=False)  # our own data: trusted
    got = _round_trip(build(lambda a, rg: xpnet.tensor(a, requires_grad=rg)))
    assert _torch_like_shape(got, xpnet.Tensor, np.ndarray) == \
        _torch_like_shape(from_torch, torch.Tensor, np.ndarray)
    assert (got["again"][0] is got["weights"]["shared"]) == \
        (from_torch["again"][0] is from_torch["weights"]["shared"]) is True


def test_dtypes_devices_and_odd_numbers_round_trip():
    obj = {"dtype": xpnet.float64, "dtypes": (xpnet.int32, xpnet.bool), "cpu": xpnet.device("cpu"),
           "cuda1": xpnet.device("cuda:1"), "z": complex(float("nan"), -1.5), "minus0": -0.0}
    got = _round_trip(obj)
    assert got["dtype"] is xpnet.float64 and got["dtypes"] == (xpnet.int32, xpnet.bool)
    assert got["cpu"] == xpnet.device("cpu") and got["cuda1"] == "cuda:1"
    assert np.isnan(got["z"].real) and got["z"].imag == -1.5
    assert str(got["minus0"]) == "-0.0"


def test_file_is_a_plain_safetensors_file(tmp_path):
    path = tmp_path / "both.safetensors"
    arrays = _arrays()
    xpnet.save({**{k: xpnet.tensor(a) for k, a in arrays.items()},
                "optimizer": _adam_state(xpnet.tensor)}, path)
    raw = safetensors_numpy.load_file(str(path))
    for name, a in arrays.items():  # a flat state dict keeps its names
        np.testing.assert_array_equal(raw[name], a)
        assert raw[name].dtype == a.dtype
    np.testing.assert_array_equal(raw["optimizer/state/0/exp_avg"], np.full((3, 4), 0.5))
    from safetensors import safe_open
    with safe_open(str(path), framework="np") as f:
        assert f.metadata()["format"] == "xpnet" and f.metadata()["version"] == "2"


def test_leaves_and_keys_that_json_cannot_spell_round_trip(tmp_path):
    obj = {"nan": float("nan"), "inf": float("inf"), "-inf": -float("inf"),
           # keys that look like the encoding's own tags, and a tensor-name collision
           "tensor": "x", "dict": [1, [2, (3,)]], "tuple": (), "float": {"nan": None},
           "ref": {"ref": 0}, "module": {"module": {}},
           "a/b": xpnet.ones(1), "a": {"b": xpnet.zeros(1)}, -1: "negative key", np.int64(5): 5,
           "np_scalar": np.float32(0.5), "np_int": np.int64(2), "np_bool": np.bool_(True),
           "empty": {}}
    xpnet.save(obj, tmp_path / "odd.safetensors")
    got = xpnet.load(tmp_path / "odd.safetensors")
    assert np.isnan(got.pop("nan")) and np.isnan(obj.pop("nan"))
    assert got["np_scalar"] == 0.5 and type(got["np_int"]) is int and got["np_bool"] is True
    assert got["a/b"].tolist() == [1.0] and got["a"]["b"].tolist() == [0.0]
    assert got.keys() == obj.keys()
    assert got["float"] == {"nan": None} and got["empty"] == {} and got["ref"] == {"ref": 0}
    assert {k: v for k, v in got.items() if not isinstance(v, (xpnet.Tensor, dict))} == \
        {k: float(v) if isinstance(v, np.floating) else v for k, v in obj.items()
         if not isinstance(v, (xpnet.Tensor, dict))}


def test_an_optimizer_without_state_round_trips(tmp_path):
    sd = {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1, 2]}]}
    xpnet.save(sd, tmp_path / "fresh.safetensors")
    assert xpnet.load(tmp_path / "fresh.safetensors") == sd


def test_a_single_tensor_round_trips(tmp_path):
    xpnet.save(xpnet.tensor(2.5), tmp_path / "t.safetensors")
    assert xpnet.load(tmp_path / "t.safetensors").item() == 2.5


def test_version_1_files_still_load(tmp_path):
    path = tmp_path / "v1.safetensors"
    safetensors_numpy.save_file({"w": np.ones(2, np.float32)}, str(path), metadata={
        "format": "xpnet", "version": "1",
        "xpnet.structure": json.dumps({"dict": [["w", {"tensor": "w"}], ["step", 3]]})})
    got = xpnet.load(path)
    assert got["w"].tolist() == [1.0, 1.0] and got["step"] == 3 and not got["w"].requires_grad


# -- map_location ---------------------------------------------------------------------------------

def test_map_location_cpu_brings_device_tensors_to_the_active_cpu_backend(tmp_path):
    path = tmp_path / "dev1.safetensors"
    with xpnet.use_backend("array_api_strict:device1"):
        xpnet.save({"w": xpnet.ones(2), "n": xpnet.tensor(3)}, path)
    assert _structure(path)["dict"][0][1]["tensor"]["device"] == "array_api_strict:device1"
    with xpnet.use_backend("numpy"):
        got = xpnet.load(path, map_location="cpu")
    assert_on_backend(got["w"], "numpy")
    with xpnet.use_backend("array_api_strict:device1"):
        assert_on_backend(xpnet.load(path, map_location="cpu")["w"], "array_api_strict")


@pytest.mark.parametrize("where, expected", [
    ("numpy", "numpy"), ("array_api_strict:device1", "array_api_strict:device1"),
    (xpnet.device("cpu"), "numpy"), (xpnet.backend.load("array_api_strict"), "array_api_strict"),
])
def test_map_location_takes_devices_and_backend_names(backend, where, expected):
    if isinstance(where, xpnet.device) and backend != "numpy":
        expected = "torch" if backend == "torch" else "array_api_strict"  # "cpu" follows
    got = _round_trip({"w": xpnet.ones(2)}, map_location=where)
    assert_on_backend(got["w"], expected)


def test_map_location_dict_remaps_saved_devices(tmp_path):
    path = tmp_path / "two.safetensors"
    with xpnet.use_backend("array_api_strict:device1"):
        on_device1 = xpnet.ones(2)
    xpnet.save({"host": xpnet.zeros(2), "dev": on_device1}, path)  # numpy active
    got = xpnet.load(path, map_location={"array_api_strict:device1": "cpu"})
    assert_on_backend(got["dev"], "numpy")
    assert_on_backend(got["host"], "numpy")  # unlisted: back where it was saved
    got = xpnet.load(path, map_location={xpnet.device("cpu"): "array_api_strict:device1"})
    assert_on_backend(got["host"], "array_api_strict:device1")
    assert_on_backend(got["dev"], "array_api_strict:device1")  # saved there
    got = xpnet.load(path, map_location={"cpu": "array_api_strict:device1"}, backend="numpy")
    assert_on_backend(got["dev"], "numpy")  # backend= places what the dict does not


def _file_saved_on_cuda(path):
    """A file as a GPU machine writes it: a tensor saved from cuda:1."""
    entry = {"id": 0, "name": "w", "device": "cuda:1", "requires_grad": False}
    safetensors_numpy.save_file({"w": np.arange(3.0)}, str(path), metadata={
        "format": "xpnet", "version": "2",
        "xpnet.structure": json.dumps({"dict": [["w", {"tensor": entry}]]})})


@pytest.mark.skipif(cupy_unusable_reason() is None, reason="a GPU is usable here")
def test_loading_onto_cuda_without_a_gpu_is_refused(tmp_path):
    path = tmp_path / "gpu.safetensors"
    _file_saved_on_cuda(path)
    with pytest.raises(xpnet.BackendUnavailableError, match="load: cannot load onto 'cuda'"):
        xpnet.load(path, map_location="cuda")
    with pytest.raises(xpnet.BackendUnavailableError,
                       match=r"saved on 'cuda:1'.*map_location=\{'cuda:1': 'cpu'\}"):
        xpnet.load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(xpnet.BackendUnavailableError, match="cuda:1"):
        xpnet.load(path, map_location={"cuda:1": "cuda:0"})
    got = xpnet.load(path, map_location={"cuda:1": "cpu"})
    assert got["w"].tolist() == [0.0, 1.0, 2.0]
    assert_on_backend(xpnet.load(path)["w"], "numpy")  # None: the active backend


def test_a_callable_map_location_is_refused():
    buffer = io.BytesIO()
    xpnet.save({"w": xpnet.ones(1)}, buffer)
    for fn in (lambda storage, location: storage, print):
        buffer.seek(0)
        with pytest.raises(TypeError, match="map_location functions are not supported.*'cpu'"):
            xpnet.load(buffer, map_location=fn)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(map_location=0), TypeError, "map_location must be None, a device string.*got int"),
    (dict(map_location="gpu"), ValueError, "unknown device 'gpu'"),
    (dict(map_location={"cuda:1": "tpu"}), ValueError, r"map_location \{'cuda:1': 'tpu'\}"),
    (dict(map_location="array_api_strict:device1", backend="numpy"), ValueError,
     "name different places"),
    (dict(weights_only="yes"), TypeError, "weights_only must be True or False"),
])
def test_bad_load_arguments_are_refused(kwargs, error, message):
    buffer = io.BytesIO()
    xpnet.save({"w": xpnet.ones(1)}, buffer)
    buffer.seek(0)
    with pytest.raises(error, match=message):
        xpnet.load(buffer, **kwargs)


# -- optimizers and schedulers resume exactly -----------------------------------------------------

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "SGD-dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3),
    "Adam": lambda ps: optim.Adam(ps, lr=0.02, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.02, betas=(0.8, 0.95)),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda ps: optim.Adadelta(ps, lr=1.0, weight_decay=0.01),
}


def _model():
    from xpnet import nn
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _train(model, opt, steps, first, sched=None, metrics=None):
    """``steps`` steps on fixed data; returns the learning rates and the parameters after."""
    lrs = []
    for i in range(first, first + steps):
        rng = np.random.default_rng(i)
        x = xpnet.tensor(rng.standard_normal((5, 3)).astype(np.float32))
        target = xpnet.tensor(rng.standard_normal((5, 2)).astype(np.float32))
        loss = ((model(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step(metrics[i]) if metrics is not None else sched.step()
        lrs.append([group["lr"] for group in opt.param_groups])
    return lrs, [p.numpy() for p in model.parameters()]


def _resume_matches_uninterrupted(make_opt, make_sched=None, metrics=None):
    xpnet.manual_seed(1)
    model = _model()
    opt = make_opt(model.parameters())
    sched = make_sched(opt) if make_sched else None
    _train(model, opt, 3, 0, sched, metrics)
    buffer = io.BytesIO()
    xpnet.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
                **({"scheduler": sched.state_dict()} if sched else {})}, buffer)
    want = _train(model, opt, 4, 3, sched, metrics)

    xpnet.manual_seed(2)  # other initial weights: everything must come from the file
    model = _model()
    opt = make_opt(model.parameters())
    sched = make_sched(opt) if make_sched else None
    buffer.seek(0)
    checkpoint = xpnet.load(buffer)
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optimizer"])
    if sched:
        sched.load_state_dict(checkpoint["scheduler"])
    got = _train(model, opt, 4, checkpoint["epoch"], sched, metrics)
    assert got[0] == want[0]
    for g, w in zip(got[1], want[1]):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_optimizer_resumes_exactly_from_its_saved_state(backend, name):
    _resume_matches_uninterrupted(OPTIMIZERS[name])


class _Warmup:
    """A callable object: LambdaLR saves its attributes (a plain function it skips, as torch)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULERS = {
    "StepLR": dict(step_size=2, gamma=0.5),
    "MultiStepLR": dict(milestones=[1, 4, 4], gamma=0.5),
    "ExponentialLR": dict(gamma=0.9),
    "CosineAnnealingLR": dict(T_max=3, eta_min=0.001),
    "ReduceLROnPlateau": dict(patience=0, factor=0.5, cooldown=1),
    "LambdaLR": dict(lr_lambda=lambda epoch: 0.9 ** epoch),
    "LambdaLR-object": dict(lr_lambda=_Warmup(5)),
    "MultiplicativeLR": dict(lr_lambda=lambda epoch: 0.9),
    "OneCycleLR": dict(max_lr=0.5, total_steps=10),
    "CyclicLR": dict(base_lr=0.01, max_lr=0.1, step_size_up=2),
    "LinearLR": dict(start_factor=0.5, total_iters=4),
    "ConstantLR": dict(factor=0.5, total_iters=2),
    "PolynomialLR": dict(total_iters=5, power=2.0),
    "CosineAnnealingWarmRestarts": dict(T_0=2, T_mult=2),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_a_scheduler_resumes_exactly_from_its_saved_state(name):
    cls = vars(lr_scheduler).get(name.split("-")[0])  # vars: no "not in xpnet yet" hook
    if cls is None:
        pytest.skip(f"xpnet.optim.lr_scheduler has no {name} yet")
    metrics = [1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85] if name == "ReduceLROnPlateau" else None
    _resume_matches_uninterrupted(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda opt: cls(opt, **SCHEDULERS[name]), metrics)


def test_scheduler_state_dicts_keep_their_types():
    opt = optim.SGD([xpnet.zeros(2, requires_grad=True)], lr=0.1)
    sd = lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 5]).state_dict()
    got = _round_trip(sd)
    assert type(got["milestones"]) is collections.Counter and got == sd
    sd = lr_scheduler.ReduceLROnPlateau(opt).state_dict()
    assert _round_trip(sd) == sd  # best and mode_worse are infinite


def test_a_scheduler_resumes_on_another_backend():
    with xpnet.use_backend("array_api_strict:device1"):
        _resume_matches_uninterrupted(lambda ps: optim.Adam(ps, lr=0.01),
                                      lambda opt: lr_scheduler.StepLR(opt, 2, gamma=0.5))


# -- plain safetensors files ----------------------------------------------------------------------

def test_a_safetensors_file_from_pytorch_loads_as_a_state_dict(backend, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    torch.manual_seed(0)
    reference = torch.nn.Linear(3, 2)
    path = tmp_path / "converted.safetensors"
    save_file(reference.state_dict(), str(path), metadata={"format": "pt"})
    sd = xpnet.load(path)
    assert sorted(sd) == ["bias", "weight"] and sd["weight"].dtype is xpnet.float32
    assert_on_backend(sd["weight"], backend)
    layer = xpnet.nn.Linear(3, 2)
    layer.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), reference.weight.detach().numpy())
    np.testing.assert_allclose(layer(xpnet.tensor(x)).detach().numpy(),
                               reference(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)


def test_a_plain_safetensors_file_keeps_its_order_and_widens_float16(tmp_path):
    path = tmp_path / "hf.safetensors"
    safetensors_numpy.save_file({"z": np.ones(2, np.float16), "a": np.arange(3, dtype=np.int8),
                                 "m": np.zeros((2, 2), np.float64)}, str(path))
    sd = xpnet.load(path, map_location="array_api_strict:device1")
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        order = [k for k in json.loads(f.read(length)) if k != "__metadata__"]
    assert list(sd) == order
    assert sd["z"].dtype is xpnet.float32 and sd["z"].tolist() == [1.0, 1.0]
    assert sd["a"].dtype is xpnet.int8
    assert_on_backend(sd["m"], "array_api_strict:device1")


def test_a_bfloat16_file_is_refused_with_how_to_convert(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(tmp_path / "bf.safetensors"))
    with pytest.raises(ValueError, match=r"tensor 'w' of dtype 'BF16'.*v.float\(\)"):
        xpnet.load(tmp_path / "bf.safetensors")


# -- refusing to encode ---------------------------------------------------------------------------

class _Holder:
    def state_dict(self):
        return {}


def _strict_array():
    import array_api_strict
    return array_api_strict.zeros(2)


@pytest.mark.parametrize("make, where", [
    (lambda: {"state": {0: {"momentum": object()}}},
     r"a object at obj\['state'\]\[0\]\['momentum'\]"),
    (lambda: {"groups": [{"p": {1, 2}}]}, r"a set at obj\['groups'\]\[0\]\['p'\]"),
    (lambda: {"w": b"bytes"}, r"a bytes at obj\['w'\]"),
    (lambda: {"fn": len}, r"a builtin_function_or_method at obj\['fn'\]"),
    (lambda: {1.5: 0}, r"dict keys must be str or int, got float key 1.5 at obj"),
    (lambda: {"d": {(0, 1): 0}}, r"got tuple key \(0, 1\) at obj\['d'\]"),
    (lambda: {"raw": np.asarray(["a"])}, r"NumPy array of dtype <U1 at obj\['raw'\]"),
    (lambda: {"obj": np.asarray([None])}, r"NumPy array of dtype object at obj\['obj'\]"),
    (lambda: [_strict_array()], r"raw Array array at obj\[0\]; wrap it"),
    (lambda: _Holder(), r"a _Holder at obj; .*pass its .state_dict\(\)"),
])
def test_save_refuses_what_it_cannot_encode_before_writing(tmp_path, make, where):
    with pytest.raises(TypeError, match=r"save: .*" + where):
        xpnet.save(make(), tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_refuses_an_optimizer_and_a_scheduler_itself(tmp_path):
    opt = optim.Adam([xpnet.zeros(2, requires_grad=True)])
    with pytest.raises(TypeError, match=r"optimizer itself \(Adam at obj\['optimizer'\]\).*"
                                        r"optimizer.state_dict\(\)"):
        xpnet.save({"optimizer": opt}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match=r"scheduler itself \(StepLR at obj\).*"
                                        r"scheduler.state_dict\(\)"):
        xpnet.save(lr_scheduler.StepLR(opt, 2), tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_structure_containing_itself(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(TypeError, match=r"save: the object contains itself at obj\['a'\]\[0\]"):
        xpnet.save(loop, tmp_path / "x.safetensors")


# -- refusing foreign and damaged files ---------------------------------------------------------

_executed = []


def _record_execution():
    _executed.append(True)
    return {}


class _Payload:
    def __reduce__(self):  # unpickling this would call _record_execution
        return (_record_execution, ())


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_load_refuses_a_pickle_without_running_it(tmp_path, protocol):
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload(), protocol=protocol))
    with pytest.raises(ValueError, match="load: .* is a pickle.*never unpickles.*save_file"):
        xpnet.load(path)
    assert _executed == []


@pytest.mark.parametrize("zipped", [True, False])
def test_load_refuses_a_torch_checkpoint_and_says_how_to_convert_it(tmp_path, zipped):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipped)
    kind = "is a PyTorch checkpoint" if zipped else "is a pickle"
    with pytest.raises(ValueError, match=f"{kind}.*never unpickles.*safetensors.torch import "
                                         f"save_file"):
        xpnet.load(path)
    with open(path, "rb") as f, pytest.raises(ValueError, match=kind):
        xpnet.load(f)


def test_load_refuses_an_npz_archive(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.ones(2))
    with pytest.raises(ValueError, match=r"zip archive \(an .npz file\?\).*numpy.load"):
        xpnet.load(path)


def _safetensors_bytes(header: dict, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("payload, message", [
    (b"", "not a safetensors file .*0 bytes long"),
    (b"\x08\x00\x00\x00\x00\x00\x00\x00not json", "not a safetensors file .*not JSON"),
    (struct.pack("<Q", 1 << 40) + b"{}", "not a safetensors file .*header length"),
    (struct.pack("<Q", 50) + b"{}", "not a safetensors file .*cut off after 2 of 50"),
    (_safetensors_bytes([1]), "not a safetensors file .*not a JSON object"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
                        b"\0" * 8), "damaged: it is cut off"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}},
                        b"\0" * 8), "damaged"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [2]}}), "bad entry for tensor 'w'"),
])
def test_load_refuses_a_wrong_header(tmp_path, payload, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="load: .*bad.safetensors.*" + message):
        xpnet.load(path)


@pytest.mark.parametrize("structure, message", [
    (json.dumps({"tensor": "missing"}), "names a tensor 'missing' that the file does not hold"),
    (json.dumps({"pickle": "gASVAAAAAAAAAAB9lC4="}), "unknown structure tag 'pickle'"),
    (json.dumps({"dict": [[1.5, 0]]}), "bad dict item"),
    (json.dumps({"dict": [], "tuple": []}), "unexpected structure entry"),
    (json.dumps({"ref": 3}), "reference to object 3"),
    (json.dumps([{"ndarray": {"id": 0, "name": "w"}}, {"ndarray": {"id": 0, "name": "w"}}]),
     "repeated object id 0"),
    (json.dumps({"tensor": {"id": 0, "name": "w", "device": "cpu"}}), "bad tensor entry"),
    (json.dumps({"tensor": {"id": 0, "name": "w", "device": "cpu", "requires_grad": True,
                            "dtype": "complex64"}}), "not a complex128 pair array"),
    (json.dumps({"dtype": "float16"}), "unknown structure tag 'dtype'"),
    (json.dumps({"dtype": ["float32"]}), "unknown structure tag 'dtype'"),
    (json.dumps([{"tensor": "w"}, {"tensor": "w"}]), "tensor 'w' is named by two entries"),
    ("gASVAAAAAAAAAAB9lC4=", "its structure is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|not valid JSON"),
    (json.dumps([]), r"tensors \['w'\] are not part of the saved structure"),
])
def test_load_refuses_a_damaged_structure(tmp_path, structure, message):
    path = tmp_path / "damaged.safetensors"
    safetensors_numpy.save_file({"w": np.ones(2)}, str(path), metadata={
        "format": "xpnet", "version": "2", "xpnet.structure": structure})
    with pytest.raises(ValueError, match="is damaged: .*" + message):
        xpnet.load(path)


def test_load_refuses_a_newer_format_version(tmp_path):
    path = tmp_path / "future.safetensors"
    safetensors_numpy.save_file({}, str(path), metadata={
        "format": "xpnet", "version": "99", "xpnet.structure": "{}"})
    with pytest.raises(ValueError, match="format version '99'.*upgrade xpnet"):
        xpnet.load(path)


# -- errors about the file itself -----------------------------------------------------------------

def test_missing_files_and_directories_keep_the_path(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(FileNotFoundError, match="load: .*missing.safetensors") as info:
        xpnet.load(missing)
    assert info.value.filename == str(missing)
    with pytest.raises(IsADirectoryError) as info:
        xpnet.load(tmp_path)
    assert info.value.filename == str(tmp_path)
    with pytest.raises(IsADirectoryError, match="save: ") as info:
        xpnet.save({}, tmp_path)
    assert info.value.filename == str(tmp_path)
    target = tmp_path / "no" / "such" / "dir.safetensors"
    with pytest.raises(FileNotFoundError, match="save: ") as info:
        xpnet.save({}, target)
    assert info.value.filename == str(target)


def test_permission_errors_keep_the_path(tmp_path, monkeypatch):
    # As root (CI containers) chmod does not stop anyone; make the OS refuse instead.
    target = tmp_path / "locked.safetensors"
    xpnet.save({}, target)

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match="save: Permission denied") as info:
        xpnet.save({}, target)
    assert info.value.filename == str(target)  # not the temporary file's name
    monkeypatch.undo()
    monkeypatch.setattr(xpnet.io, "open", refuse, raising=False)
    with pytest.raises(PermissionError, match="load: Permission denied") as info:
        xpnet.load(target)
    assert info.value.filename == str(target)


def test_text_mode_file_objects_are_refused(tmp_path):
    with open(tmp_path / "t.txt", "w") as f, \
            pytest.raises(TypeError, match="open in text mode; open it in binary mode.*'wb'"):
        xpnet.save({}, f)
    xpnet.save({}, tmp_path / "t.txt")
    with open(tmp_path / "t.txt", encoding="latin-1") as f, \
            pytest.raises(TypeError, match="open in text mode; open it in binary mode.*'rb'"):
        xpnet.load(f)
    with pytest.raises(TypeError, match="text mode"):
        xpnet.load(io.StringIO("{}"))


@pytest.mark.parametrize("call", [lambda: xpnet.save({}, 3), lambda: xpnet.load(3.5)])
def test_f_must_be_a_path_or_a_binary_file_object(call):
    with pytest.raises(TypeError, match="f must be a path .* or a binary file object"):
        call()


# -- atomic writes ------------------------------------------------------------------------------

def _old_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    xpnet.save({"w": xpnet.ones(3)}, path)
    return path, path.read_bytes()


def test_a_failure_while_encoding_leaves_the_old_file(tmp_path):
    path, before = _old_file(tmp_path)

    class Exploding(xpnet.Tensor):
        def numpy(self):
            raise RuntimeError("device lost")

    bad = Exploding(np.zeros(2))
    with pytest.raises(RuntimeError, match="device lost"):
        xpnet.save({"w": xpnet.zeros(3), "v": bad}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("fail_in", ["fsync", "replace"])
def test_a_failure_midway_through_writing_leaves_the_old_file(tmp_path, monkeypatch, fail_in):
    path, before = _old_file(tmp_path)
    written = []
    real_fsync, real_replace = os.fsync, os.replace

    def failing_fsync(fd):
        if os.fstat(fd).st_size > 0 and fail_in == "fsync":  # the new bytes are on their way
            written.append(os.fstat(fd).st_size)
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    def failing_replace(src, dst):
        written.append(os.path.getsize(src))
        raise KeyboardInterrupt  # not even a BaseException may leave the temporary file

    monkeypatch.setattr(os, "fsync", failing_fsync)
    if fail_in == "replace":
        monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError if fail_in == "fsync" else KeyboardInterrupt):
        xpnet.save({"w": xpnet.zeros(1000)}, path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert written and written[0] > 4000  # it failed after writing the new content
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]
    assert xpnet.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_save_replaces_an_existing_file(tmp_path):
    path, _ = _old_file(tmp_path)
    xpnet.save({"w": xpnet.zeros(2)}, str(path))
    assert xpnet.load(path)["w"].tolist() == [0.0, 0.0]
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_has_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        xpnet.save({}, tmp_path / "p.safetensors")
    finally:
        os.umask(umask)
    assert (tmp_path / "p.safetensors").stat().st_mode & 0o777 == 0o644
