"""Bad input names the call the user made (issue 14): arithmetic with a str operand, softmax's dim,
KeyedVectors.doesnt_match, scheduler arguments, activation layers' hyper-parameters, undecodable
corpus files, XPNET_BACKEND, train_test_split, files that are folders, and the debris of saves
killed mid-write. Each exception type is the one torch, gensim or scikit-learn raises."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xpnet
import xpnet.functional as F
from xpnet import nn
from xpnet.backend import BackendUnavailableError, cupy_unusable_reason
from xpnet.data import train_test_split
from xpnet.optim import SGD, lr_scheduler
from xpnet.word2vec import FileDecodeError, KeyedVectors, LineSentence, Word2Vec

torch = pytest.importorskip("torch")


# -- 1. arithmetic with an operand that is not a number ------------------------------------------

OPERATORS = [
    (lambda t: t - "a", r"^sub: other must be a Tensor or a number.*, got str 'a'$"),
    (lambda t: "a" - t, r"^sub: input must be a Tensor or a number.*, got str 'a'$"),
    (lambda t: t + None, r"^add: other must be .*, got NoneType None$"),
    (lambda t: t * ["a"], r"^mul: other must be .*, got list \['a'\]$"),
    (lambda t: t / "a", r"^div: other must be .*, got str 'a'$"),
    (lambda t: t // "a", r"^floor_divide: other must be .*, got str 'a'$"),
    (lambda t: t % "a", r"^remainder: other must be .*, got str 'a'$"),
    (lambda t: t ** "a", r"^pow: exponent must be .*, got str 'a'$"),
    (lambda t: t < "a", r"^lt: other must be"),
]


@pytest.mark.parametrize("call, match", OPERATORS)
def test_operators_name_the_op_and_the_bad_operand(call, match):
    with pytest.raises(TypeError, match=match):
        call(xpnet.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):  # torch's type too
        call(torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("call, match", [
    (lambda t: xpnet.sub(t, "a"), r"^sub: other must be"),
    (lambda t: xpnet.fmod(t, "a"), r"^fmod: other must be"),
    (lambda t: xpnet.maximum(t, "a"), r"^maximum: other must be"),
    (lambda t: xpnet.where(t > 1, t, "a"), r"^where: other must be"),
    (lambda t: xpnet.add(t, 1, alpha="a"), r"^add: alpha must be a number, got str 'a'$"),
    (lambda t: xpnet.clamp(t, "a"), r"^clip: min must be a number, a Tensor or None, got str"),
    (lambda t: xpnet.clamp(t, 0, [1]), r"^clip: max must be a number, a Tensor or None, got "),
])
def test_arithmetic_functions_name_the_op_and_the_bad_operand(call, match):
    with pytest.raises(TypeError, match=match):
        call(xpnet.tensor([1.0, 2.0]))


def test_where_names_the_shapes_that_do_not_broadcast():
    t = xpnet.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^where: cannot broadcast condition of shape \(2,\), "
                                         r"input of shape \(2,\), other of shape \(3,\)$"):
        xpnet.where(t > 1, t, xpnet.ones(3))


def test_arithmetic_still_takes_numbers_and_lists_of_numbers():
    t = xpnet.tensor([1.0, 2.0])
    assert (t - [1, 1]).tolist() == [0.0, 1.0]
    assert (t - np.float32(1)).tolist() == [0.0, 1.0]
    assert xpnet.sub(t, 1, alpha=2).tolist() == [-1.0, 0.0]


# -- 2. softmax's dim ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", [("softmax", {"dim": 5}), ("log_softmax", {"dim": 5}),
                                          ("softmin", {"dim": 5}), ("softmax", {"axis": -3}),
                                          ("log_softmax", {"axis": 2})])
def test_softmax_names_itself_and_the_valid_dims(name, kwargs):
    # "dim", PyTorch's word, also when the standard's axis= was used.
    x = xpnet.randn(2, 3)
    (value,) = kwargs.values()
    with pytest.raises(IndexError, match=rf"^{name}: dim {value} is out of range for a 2-D "
                                         rf"tensor \(expected to be in range of \[-2, 1\], "
                                         rf"but got {value}\)$"):
        getattr(F, name)(x, **kwargs)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\]"):
        getattr(torch.nn.functional, name)(torch.randn(2, 3), value)


def test_softmax_dim_errors_on_methods_layers_and_zero_d_tensors():
    x = xpnet.randn(2, 3)
    with pytest.raises(IndexError, match=r"^softmax: dim 5 is out of range"):
        x.softmax(5)
    with pytest.raises(IndexError, match=r"^log_softmax: dim 2 .*\[-2, 1\]"):
        nn.LogSoftmax(dim=2)(x)
    with pytest.raises(IndexError, match=r"^softmax: dim 1 .*0-D tensor .*\[-1, 0\]"):
        F.softmax(xpnet.tensor(1.0), dim=1)
    assert F.softmax(xpnet.tensor(1.0), dim=0).item() == 1.0  # as torch


def test_glu_dim_out_of_range_is_an_index_error_as_torch():
    with pytest.raises(IndexError, match=r"^glu: axis 5 is out of range .*\[-2, 1\]"):
        F.glu(xpnet.randn(2, 4), 5)


@pytest.mark.parametrize("dim", ["a", 1.0, True])
def test_softmax_dim_must_be_an_int(dim):
    with pytest.raises(TypeError, match=r"^softmax: dim must be an int, got "):
        F.softmax(xpnet.randn(2, 3), dim=dim)
    with pytest.raises(TypeError, match=r"^Softmax: dim must be an int or None, got "):
        nn.Softmax(dim=dim)


# -- 3. KeyedVectors.doesnt_match ----------------------------------------------------------------

def _kv():
    kv = KeyedVectors(3)
    kv.add_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    return kv


def test_doesnt_match_names_itself():
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    g = gensim_kv.KeyedVectors(3)
    g.add_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError):  # gensim's type
        g.doesnt_match([])
    with pytest.raises(ValueError, match=r"^doesnt_match: words is empty"):
        _kv().doesnt_match([])
    with pytest.raises(ValueError, match=r"^doesnt_match: none of the words \['x', 'y'\]"):
        _kv().doesnt_match(["x", "y"])
    with pytest.raises(ValueError, match=r"^rank_by_centrality: words is empty"):
        _kv().rank_by_centrality([])


# -- 4. scheduler arguments ----------------------------------------------------------------------

def _opt():
    return SGD([xpnet.zeros(3, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize("metrics, error, match", [
    (xpnet.ones(3), ValueError, r"a number or a one-element tensor, got a tensor of shape \(3,\)"),
    (np.ones(2), ValueError, r"a number or a one-element tensor, got an array of shape \(2,\)"),
    ("a", TypeError, r"a number or a one-element tensor, got str 'a'"),
    (None, TypeError, r"a number or a one-element tensor, got NoneType"),
    ([1.0], TypeError, r"a number or a one-element tensor, got list"),
])
def test_reduce_lr_on_plateau_step_names_metrics(metrics, error, match):
    sched = lr_scheduler.ReduceLROnPlateau(_opt())
    with pytest.raises(error, match=r"^ReduceLROnPlateau.step: metrics must be " + match):
        sched.step(metrics)
    assert sched.last_epoch == 0  # refused before anything changed


def test_reduce_lr_on_plateau_takes_one_element_tensors_and_numpy_scalars():
    sched = lr_scheduler.ReduceLROnPlateau(_opt())
    for m in (xpnet.tensor([2.0]), xpnet.tensor(1.5), np.float32(1.0), 1, float("nan")):
        sched.step(m)
    assert sched.best == 1.0


def test_other_scheduler_arguments_name_the_scheduler():
    with pytest.raises(TypeError, match=r"^MultiStepLR: milestones must be an iterable of ints, "
                                        r"got int"):
        lr_scheduler.MultiStepLR(_opt(), 3)
    sched = lr_scheduler.LambdaLR(_opt(), lambda epoch: 1.0)
    sched.lr_lambdas = [lambda epoch: "a"]
    with pytest.raises(TypeError, match=r"^LambdaLR: lr_lambda\(1\) must return a number, "
                                        r"got str"):
        sched.step()
    with pytest.raises(TypeError, match=r"^StepLR.step: epoch must be an int or None, got str"):
        lr_scheduler.StepLR(_opt(), 2).step("a")


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, 2, gamma=0.5),
    lambda m, o: m.MultiStepLR(o, [2, 5, 5], gamma=0.5),
    lambda m, o: m.ExponentialLR(o, gamma=0.9),
    lambda m, o: m.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
    lambda m, o: m.LambdaLR(o, lambda epoch: 1 / (epoch + 1)),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"])
def test_step_with_an_epoch_uses_the_closed_form_and_warns_as_torch(make):
    # torch's deprecated step(epoch): last_epoch = epoch, the rate from the closed form.
    theirs = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=0.1)
    got, want = make(lr_scheduler, _opt()), make(torch.optim.lr_scheduler, theirs)
    theirs.step()
    for epoch in (3, 7, 4, 5):
        with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
            got.step(epoch)
        with pytest.warns(UserWarning):
            want.step(epoch)
        assert got.last_epoch == want.last_epoch == epoch
        assert got.get_last_lr() == pytest.approx(want.get_last_lr(), rel=1e-12)


def test_reduce_lr_on_plateau_takes_torchs_deprecated_epoch():
    sched = lr_scheduler.ReduceLROnPlateau(_opt())
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(1.0, 7)
    assert sched.last_epoch == 7


# -- 5. activation layers check their hyper-parameters when built ---------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: nn.LeakyReLU("a"), r"^LeakyReLU: negative_slope must be a number, got str 'a'$"),
    (lambda: nn.ELU(alpha=None), r"^ELU: alpha must be a number, got NoneType"),
    (lambda: nn.CELU("a"), r"^CELU: alpha must be a number"),
    (lambda: nn.Hardtanh("a"), r"^Hardtanh: min_val must be a number"),
    (lambda: nn.Hardtanh(max_val="a"), r"^Hardtanh: max_val must be a number"),
    (lambda: nn.Softplus(beta="a"), r"^Softplus: beta must be a number"),
    (lambda: nn.Softplus(threshold="a"), r"^Softplus: threshold must be a number"),
    (lambda: nn.Threshold("a", 0.0), r"^Threshold: threshold must be a number"),
    (lambda: nn.Threshold(0.0, [1]), r"^Threshold: value must be a number, got list"),
    (lambda: nn.RReLU("a"), r"^RReLU: lower must be a number"),
    (lambda: nn.RReLU(upper="a"), r"^RReLU: upper must be a number"),
    (lambda: nn.Hardshrink("a"), r"^Hardshrink: lambd must be a number"),
    (lambda: nn.Softshrink("a"), r"^Softshrink: lambd must be a number"),
    (lambda: nn.PReLU(init="a"), r"^PReLU: init must be a number"),
    (lambda: nn.PReLU("a"), r"^PReLU: num_parameters must be a positive int, got str"),
    (lambda: nn.LeakyReLU(True), r"^LeakyReLU: negative_slope must be a number, got bool"),
    (lambda: nn.GLU(dim="a"), r"^GLU: dim must be an int, got str"),
    (lambda: nn.Softmin(dim=1.5), r"^Softmin: dim must be an int or None, got float"),
])
def test_activation_layers_refuse_non_numbers_when_built(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: nn.PReLU(0), r"^PReLU: num_parameters must be a positive int, got 0"),
    (lambda: nn.CELU(0), r"^CELU: alpha must not be 0"),
    (lambda: nn.Softshrink(-1), r"^Softshrink: lambd must be non-negative, got -1"),
])
def test_activation_layers_refuse_impossible_values_when_built(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_activation_layers_take_ints_floats_and_numpy_scalars():
    x = xpnet.tensor([-2.0, 0.5])
    assert nn.LeakyReLU(1)(x).tolist() == [-2.0, 0.5]
    assert nn.ELU(np.float32(1.0))(x).tolist() == pytest.approx([np.expm1(-2.0), 0.5])
    assert nn.Hardtanh(np.int64(-1), 1)(x).tolist() == [-1.0, 0.5]
    assert repr(nn.LeakyReLU(1)) == repr(torch.nn.LeakyReLU(1))  # kept as given


@pytest.mark.parametrize("call, match", [
    (lambda x: F.leaky_relu(x, "a"), r"^leaky_relu: negative_slope must be a number, got str"),
    (lambda x: F.elu(x, "a"), r"^elu: alpha must be a number, got str"),
    (lambda x: F.softplus(x, "a"), r"^softplus: beta must be a number, got str"),
    (lambda x: F.softplus(x, 1.0, "a"), r"^softplus: threshold must be a number, got str"),
    (lambda x: F.rrelu(x, "a"), r"^rrelu: lower must be a number, got str"),
])
def test_activation_functions_refuse_non_numbers(call, match):
    with pytest.raises(TypeError, match=match):
        call(xpnet.randn(3))


# -- 6. an undecodable corpus_file ----------------------------------------------------------------

def test_undecodable_corpus_file_names_the_call_the_file_the_line_and_the_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"hello world\nun caf\xe9 noir\n")
    with pytest.raises(UnicodeDecodeError) as info:
        Word2Vec(corpus_file=path, min_count=1, vector_size=4, workers=1)
    error = info.value
    assert isinstance(error, FileDecodeError)
    assert str(error).startswith(f"Word2Vec: corpus_file: {path}: line 2, byte offset 18: ")
    assert error.line == 2 and error.byte_offset == 18 and error.filename == str(path)


# -- 7. XPNET_BACKEND ----------------------------------------------------------------------------

def test_a_bad_xpnet_backend_names_the_environment_variable():
    env = {**os.environ, "XPNET_BACKEND": "garbage"}
    done = subprocess.run([sys.executable, "-c", "import xpnet"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: environment variable XPNET_BACKEND='garbage': unknown "
                           "backend 'garbage'; expected one of numpy, array_api_strict"), last
    assert "unset XPNET_BACKEND for numpy" in last


def test_a_bad_device_in_xpnet_backend_names_the_environment_variable(monkeypatch):
    monkeypatch.setattr(xpnet.backend, "_active", None)
    monkeypatch.setenv("XPNET_BACKEND", "cupy:x")
    with pytest.raises(ValueError, match=r"^environment variable XPNET_BACKEND='cupy:x': "
                                         r"unknown backend 'cupy:x'"):
        xpnet.backend.active()


@pytest.mark.skipif(cupy_unusable_reason() is None, reason="cupy runs here")
def test_an_unavailable_backend_from_the_environment_keeps_its_type(monkeypatch):
    monkeypatch.setattr(xpnet.backend, "_active", None)
    monkeypatch.setenv("XPNET_BACKEND", "cupy")
    with pytest.raises(BackendUnavailableError, match=r"^environment variable "
                                                      r"XPNET_BACKEND='cupy': backend 'cupy' is "
                                                      r"unavailable"):
        xpnet.backend.active()


# -- 8. train_test_split ----------------------------------------------------------------------

def _xy(labels):
    y = xpnet.tensor(labels)
    return xpnet.zeros(len(labels), 2), y


def test_stratified_split_refuses_a_class_with_one_member_as_scikit_learn():
    sklearn = pytest.importorskip("sklearn.model_selection")
    labels = [0] * 9 + [1]
    with pytest.raises(ValueError, match="least populated class"):
        sklearn.train_test_split(np.zeros((10, 2)), np.array(labels), stratify=np.array(labels))
    X, y = _xy(labels)
    with pytest.raises(ValueError, match=r"^train_test_split: the least populated class in "
                                         r"stratify \(1\) has only 1 member, which is too few; "
                                         r"every class needs at least 2"):
        train_test_split(X, y, stratify=y, seed=0)


@pytest.mark.parametrize("test_size, match", [
    (1, r"test_size=1 gives 1 test samples, fewer than the 2 classes in stratify"),
    (9, r"test_size=9 leaves 1 training samples, fewer than the 2 classes in stratify"),
])
def test_stratified_split_needs_every_class_in_both_parts(test_size, match):
    X, y = _xy([0, 1] * 5)
    with pytest.raises(ValueError, match=r"^train_test_split: " + match):
        train_test_split(X, y, stratify=y, test_size=test_size, seed=0)


def test_stratify_must_be_a_tensor():
    X, y = _xy([0, 1] * 5)
    with pytest.raises(TypeError, match=r"^train_test_split: stratify must be a Tensor of shape "
                                        r"\(10,\), got list"):
        train_test_split(X, y, stratify=[0, 1] * 5)


# -- 9. files that are folders, missing or unreadable -----------------------------------------

def _refuse_reading(monkeypatch):
    # As root chmod stops no one: make the OS refuse instead.
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", os.fspath(path))
    for module in (xpnet.io, xpnet.files):  # load's open, and readable_file's
        monkeypatch.setattr(module, "open", refuse, raising=False)


LOADERS = {  # the name each error starts with: the function the user called
    "load": xpnet.load,
    "KeyedVectors.load": KeyedVectors.load,
    "KeyedVectors.load(mmap)": lambda path: KeyedVectors.load(path, mmap="r"),
    "Word2Vec.load": Word2Vec.load,
    "load_word2vec_format": KeyedVectors.load_word2vec_format,
    "LineSentence": LineSentence,
    "Word2Vec: corpus_file": lambda path: Word2Vec(corpus_file=path),
}


@pytest.mark.parametrize("label", list(LOADERS))
def test_loaders_name_the_path_of_a_folder_a_missing_or_an_unreadable_file(tmp_path, label,
                                                                           monkeypatch):
    loader = LOADERS[label]
    name = label.replace("(mmap)", "")
    with pytest.raises(IsADirectoryError, match=rf"^\[Errno 21\] {name}: Is a directory") as info:
        loader(tmp_path)
    assert info.value.filename == str(tmp_path)
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError, match=rf"^\[Errno 2\] {name}: No such file") as info:
        loader(missing)
    assert info.value.filename == str(missing)
    present = tmp_path / "present.bin"
    present.write_bytes(b"x")
    _refuse_reading(monkeypatch)
    with pytest.raises(PermissionError, match=rf"^\[Errno 13\] {name}: Permission denied") as info:
        loader(present)
    assert info.value.filename == str(present)


# -- 11. saves killed mid-write -------------------------------------------------------------------

def _debris(path):
    return sorted(glob.glob(os.path.join(glob.escape(str(path.parent)),
                                         f".{glob.escape(path.name)}.xpnet-tmp-*")))


_STALLED_SAVE = textwrap.dedent("""
    import os, sys, time
    import xpnet

    def stall(fd):  # the new bytes are written; hold the file open until killed
        print("writing", flush=True)
        time.sleep(600)

    os.fsync = stall
    xpnet.save({"w": xpnet.full((1_000_000,), 2.0)}, sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and pid checks are POSIX")
def test_a_killed_save_leaves_the_old_file_and_the_next_save_removes_its_debris(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    xpnet.save({"w": xpnet.ones(3)}, path)
    child = subprocess.Popen([sys.executable, "-c", _STALLED_SAVE, str(path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        debris = _debris(path)
        assert len(debris) == 1 and f"-{child.pid}-" in os.path.basename(debris[0])
        assert os.path.getsize(debris[0]) > 4_000_000  # the whole new content, never renamed
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert _debris(path) == debris  # SIGKILL leaves it behind
    assert xpnet.load(path)["w"].tolist() == [1.0, 1.0, 1.0]  # atomic: the old content
    xpnet.save({"w": xpnet.zeros(2)}, path)
    assert _debris(path) == []
    assert sorted(os.listdir(tmp_path)) == [path.name]
    assert xpnet.load(path)["w"].tolist() == [0.0, 0.0]


@pytest.mark.skipif(os.name != "posix", reason="pid checks are POSIX")
def test_a_live_writers_temporary_file_and_other_targets_debris_are_kept(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = xpnet.files.temporary_name(str(path), sleeper.pid)
        with open(live, "wb") as f:
            f.write(b"in progress")
        xpnet.save({"w": xpnet.ones(2)}, path)
        assert os.path.exists(live)  # its writer is alive: not debris
    finally:
        sleeper.kill()
        sleeper.wait()
    other = xpnet.files.temporary_name(str(tmp_path / "other.safetensors"), sleeper.pid)
    with open(other, "wb") as f:
        f.write(b"another target's debris")
    xpnet.save({"w": xpnet.ones(2)}, path)
    assert not os.path.exists(live)  # its writer has died since
    assert os.path.exists(other)  # only the target's own debris goes


@pytest.mark.skipif(os.name != "posix", reason="pid checks are POSIX")
def test_word2vec_saves_clean_their_debris_too(tmp_path):
    kv = _kv()
    path = tmp_path / "vectors.txt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = xpnet.files.temporary_name(str(path), dead.pid)
    with open(stale, "wb") as f:
        f.write(b"half a file")
    kv.save_word2vec_format(path)
    assert not os.path.exists(stale)
    assert KeyedVectors.load_word2vec_format(path).index_to_key == ["a", "b", "c"]
