"""Pickle-free save/load (xpnet/io.py): round trips on every backend, a real safetensors file,
refusal of foreign or damaged files, and atomic writes."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest

import xpnet

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
    """Equal structure and container types; tensors with equal values, dtype and shape."""
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
        assert not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    else:
        assert got == want


@pytest.mark.parametrize("load_on", LOAD_ON)
def test_flat_state_dict_round_trips_across_backends(backend, tmp_path, load_on):
    sd = {name: xpnet.tensor(a) for name, a in _arrays().items()}
    sd["fc.weight"].requires_grad_(True)
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
    got = xpnet.load(path, backend=load_on)
    _assert_same(got, sd, load_on)  # int keys stay ints, betas a tuple, None stays None
    assert list(got["state"]) == [0, 1]
    assert got["param_groups"][0]["betas"] == (0.9, 0.999)
    assert got["param_groups"][0]["eps"] == 1e-8 and got["state"][1]["step"] == 3


def test_load_defaults_to_the_active_backend(backend, tmp_path):
    with xpnet.use_backend("numpy"):
        xpnet.save({"w": xpnet.ones(2)}, tmp_path / "w.safetensors")
    assert_on_backend(xpnet.load(tmp_path / "w.safetensors")["w"], backend)


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
        assert f.metadata()["format"] == "xpnet"


def test_leaves_and_keys_that_json_cannot_spell_round_trip(tmp_path):
    obj = {"nan": float("nan"), "inf": float("inf"), "-inf": -float("inf"),
           # keys that look like the encoding's own tags, and a tensor-name collision
           "tensor": "x", "dict": [1, [2, (3,)]], "tuple": (), "float": {"nan": None},
           "a/b": xpnet.ones(1), "a": {"b": xpnet.zeros(1)}, -1: "negative key", np.int64(5): 5,
           "np_scalar": np.float32(0.5), "np_int": np.int64(2), "empty": {}}
    xpnet.save(obj, tmp_path / "odd.safetensors")
    got = xpnet.load(tmp_path / "odd.safetensors")
    assert np.isnan(got.pop("nan")) and np.isnan(obj.pop("nan"))
    assert got["np_scalar"] == 0.5 and type(got["np_int"]) is int
    assert got["a/b"].tolist() == [1.0] and got["a"]["b"].tolist() == [0.0]
    assert got.keys() == obj.keys()
    assert got["float"] == {"nan": None} and got["empty"] == {}
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


class _Holder:
    def state_dict(self):
        return {}


@pytest.mark.parametrize("obj, where", [
    ({"state": {0: {"momentum": object()}}}, r"a object at obj\['state'\]\[0\]\['momentum'\]"),
    ({"groups": [{"p": {1, 2}}]}, r"a set at obj\['groups'\]\[0\]\['p'\]"),
    ({"w": b"bytes"}, r"a bytes at obj\['w'\]"),
    ({"z": 1 + 2j}, r"a complex at obj\['z'\]"),
    ({1.5: 0}, r"dict keys must be str or int, got float key 1.5 at obj"),
    ({"d": {(0, 1): 0}}, r"got tuple key \(0, 1\) at obj\['d'\]"),
    ({"raw": np.zeros(2)}, r"a ndarray at obj\['raw'\]"),
    ({"c": xpnet.zeros(2, dtype="complex128")}, r"complex128 \(at obj\['c'\]\)"),
    (_Holder(), r"a _Holder at obj; .*pass its .state_dict\(\)"),
])
def test_save_refuses_what_it_cannot_encode_before_writing(tmp_path, obj, where):
    with pytest.raises(TypeError, match=r"save: .*" + where):
        xpnet.save(obj, tmp_path / "x.safetensors")
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


def test_load_refuses_a_pickle_without_running_it(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(ValueError, match="load: .* is not an xpnet file"):
        xpnet.load(path)
    assert _executed == []


def test_load_refuses_a_torch_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="is not an xpnet file"):
        xpnet.load(path)


def _safetensors_bytes(header: dict, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("payload", [
    b"",
    b"\x08\x00\x00\x00\x00\x00\x00\x00not json",
    struct.pack("<Q", 1 << 40) + b"{}",  # a header longer than the file
    _safetensors_bytes({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
])
def test_load_refuses_a_wrong_header(tmp_path, payload):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="is not an xpnet file"):
        xpnet.load(path)


def test_load_refuses_a_safetensors_file_from_elsewhere(tmp_path):
    path = tmp_path / "hf.safetensors"
    safetensors_numpy.save_file({"w": np.ones(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="was not written by xpnet.save .*format='pt'"):
        xpnet.load(path)


@pytest.mark.parametrize("structure, message", [
    (json.dumps({"tensor": "missing"}), "names a tensor 'missing' that the file does not hold"),
    (json.dumps({"pickle": "gASVAAAAAAAAAAB9lC4="}), "unknown structure tag 'pickle'"),
    (json.dumps({"dict": [[1.5, 0]]}), "bad dict item"),
    (json.dumps({"dict": [], "tuple": []}), "unexpected structure entry"),
    ("gASVAAAAAAAAAAB9lC4=", "its structure is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|not valid JSON"),
    (json.dumps([]), r"tensors \['w'\] are not part of the saved structure"),
])
def test_load_refuses_a_damaged_structure(tmp_path, structure, message):
    path = tmp_path / "damaged.safetensors"
    safetensors_numpy.save_file({"w": np.ones(2)}, str(path), metadata={
        "format": "xpnet", "version": "1", "xpnet.structure": structure})
    with pytest.raises(ValueError, match="is damaged: .*" + message):
        xpnet.load(path)


def test_load_refuses_a_newer_format_version(tmp_path):
    path = tmp_path / "future.safetensors"
    safetensors_numpy.save_file({}, str(path), metadata={
        "format": "xpnet", "version": "99", "xpnet.structure": "{}"})
    with pytest.raises(ValueError, match="format version '99'.*upgrade xpnet"):
        xpnet.load(path)


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
