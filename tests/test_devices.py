"""PyTorch's devices as views of backends: xpnet.device, xpnet.cuda, xpnet.accelerator, and
``to``/``cpu``/``cuda``/``device=`` on tensors, factories and modules."""

from __future__ import annotations

import pytest

import xpnet
import xpnet.nn as nn
from xpnet.backend import BackendUnavailableError, cupy_unusable_reason

NO_GPU = cupy_unusable_reason() is not None
needs_no_gpu = pytest.mark.skipif(not NO_GPU, reason="checks the behaviour without a GPU")


@pytest.mark.parametrize("text, kind, index, shown", [
    ("cpu", "cpu", None, "cpu"), ("cuda", "cuda", None, "cuda"), ("cuda:1", "cuda", 1, "cuda:1"),
    ("CUDA:0", "cuda", 0, "cuda:0"), ("cupy:2", "cuda", 2, "cuda:2"), (" cpu ", "cpu", None, "cpu"),
])
def test_device_strings_parse_as_torch_names_them(text, kind, index, shown):
    d = xpnet.device(text)
    assert (d.type, d.index, str(d)) == (kind, index, shown)
    assert d == shown and d == xpnet.device(shown) and hash(d) == hash(xpnet.device(shown))


def test_device_matches_torch_for_type_index_and_repr():
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cuda",), ("cuda:3",), ("cuda", 2)]:
        ours, theirs = xpnet.device(*args), torch.device(*args)
        assert (ours.type, ours.index, str(ours)) == (theirs.type, theirs.index, str(theirs))
        assert repr(ours) == repr(theirs)
    assert xpnet.device("cuda") != xpnet.device("cuda:0")  # as torch: no index is not index 0
    assert xpnet.device("cpu") != "cuda" and xpnet.device("cuda:1") != "cuda:2"


@pytest.mark.parametrize("bad, error, match", [
    ("cuda:x", ValueError, "invalid device string 'cuda:x'"),
    ("gpu", ValueError, "unknown device 'gpu'"),
    ("mps", ValueError, "PyTorch's 'mps' devices have no backend here"),
    ("cpu:1", ValueError, "the CPU has only index 0"),
    (2.5, TypeError, "expected a device string"),
])
def test_bad_devices_raise_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        xpnet.device(bad)


def test_device_index_twice_is_refused():
    with pytest.raises(ValueError, match="already has an index"):
        xpnet.device("cuda:0", 1)


def test_a_tensor_device_is_a_device_equal_to_its_string(backend):
    t = xpnet.ones(2)
    assert isinstance(t.device, xpnet.device)
    expected = "array_api_strict:device1" if backend == "array_api_strict:device1" else "cpu"
    assert t.device == expected and str(t.device) == expected
    assert t.device.backend.name == t.backend  # the exact backend it came from
    assert not t.is_cuda and t.get_device() == -1


def test_factories_take_device_and_refuse_a_conflicting_backend(backend):
    for make in (lambda **k: xpnet.zeros(2, 3, **k), lambda **k: xpnet.ones(2, **k),
                 lambda **k: xpnet.full((2,), 1.5, **k), lambda **k: xpnet.arange(3, **k),
                 lambda **k: xpnet.randn(2, **k), lambda **k: xpnet.randint(0, 5, (2,), **k),
                 lambda **k: xpnet.tensor([1.0, 2.0], **k), lambda **k: xpnet.eye(2, **k),
                 lambda **k: xpnet.linspace(0, 1, 3, **k), lambda **k: xpnet.randperm(3, **k)):
        t = make(device="cpu")
        assert t.device == "cpu" or t.backend == "array_api_strict"
    with pytest.raises(ValueError, match="zeros: backend='numpy' and device='cuda' name"):
        xpnet.zeros(2, backend="numpy", device="cuda")


def test_cpu_follows_the_active_cpu_backend():
    for name, expected in [("numpy", "numpy"), ("array_api_strict", "array_api_strict"),
                           ("array_api_strict:device1", "array_api_strict"), ("torch", "torch")]:
        pytest.importorskip("torch") if name == "torch" else None
        with xpnet.use_backend(name):
            assert xpnet.zeros(1, device="cpu").backend == expected


def test_tensor_to_accepts_torch_forms(backend):
    t = xpnet.ones(2, 3)
    assert t.to("cpu") is t or t.backend == "array_api_strict:device1"
    assert t.to(xpnet.float32) is t
    assert t.to(xpnet.float64).dtype is xpnet.float64
    assert t.to(float).dtype is xpnet.float64 and t.to(int).dtype is xpnet.int64
    assert t.to(dtype=xpnet.int32).dtype is xpnet.int32
    other = xpnet.zeros(1, dtype=xpnet.float64, backend="numpy")
    moved = t.to(other)
    assert (moved.backend, moved.dtype) == ("numpy", xpnet.float64)
    copied = t.to(t.device, copy=True)
    assert copied is not t and copied.tolist() == t.tolist()
    with pytest.raises(TypeError, match="Tensor.to: expected a device"):
        t.to([1])
    with pytest.raises(TypeError, match="unexpected keyword argument 'devise'"):
        t.to(devise="cpu")


def test_moving_between_devices_is_differentiable():
    x = xpnet.tensor([1.0, 2.0], requires_grad=True, backend="array_api_strict:device1")
    y = x.cpu() * 3
    assert y.backend == "array_api_strict"
    y.sum().backward()
    assert x.grad.backend == "array_api_strict:device1" and x.grad.tolist() == [3.0, 3.0]


def test_module_to_takes_devices_dtypes_and_tensors():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    assert model.to("cpu") is model and model.to(xpnet.float64) is model
    assert weight.dtype is xpnet.float64 and model[1].running_mean.dtype is xpnet.float64
    assert model[1].num_batches_tracked.dtype is xpnet.int64  # only floating tensors are cast
    model.float()
    assert weight.dtype is xpnet.float32
    model.to(xpnet.zeros(1, backend="array_api_strict:device1", dtype=xpnet.float64))
    assert weight.backend == "array_api_strict:device1" and weight.dtype is xpnet.float64
    assert model[0].weight is weight  # the same Parameter object: optimizers keep working
    with xpnet.use_backend("array_api_strict"):
        model.cpu()
    assert weight.backend == "array_api_strict"
    with pytest.raises(TypeError, match="Sequential.to: dtype must be floating point"):
        model.to(xpnet.int64)


@needs_no_gpu
def test_without_a_gpu_cuda_questions_answer_and_uses_raise():
    assert xpnet.cuda.is_available() is False and xpnet.cuda.device_count() == 0
    assert xpnet.accelerator.is_available() is False
    assert xpnet.accelerator.current_accelerator() is None
    assert xpnet.accelerator.device_count() == 0
    assert xpnet.accelerator.current_device_index() == -1
    xpnet.cuda.manual_seed(0)  # accepted, as PyTorch does without a GPU
    xpnet.cuda.manual_seed_all(0)
    d = xpnet.device("cuda")  # naming the device is fine
    assert str(d) == "cuda"
    with pytest.raises(BackendUnavailableError, match="backend 'cupy' is unavailable"):
        xpnet.zeros(2, device="cuda")
    with pytest.raises(BackendUnavailableError, match="backend 'cupy' is unavailable"):
        xpnet.ones(2).cuda()
    with pytest.raises(BackendUnavailableError, match="backend 'cupy' is unavailable"):
        nn.Linear(2, 2).to(d)
    for call in (xpnet.cuda.current_device, xpnet.cuda.synchronize,
                 lambda: xpnet.cuda.set_device(0)):
        with pytest.raises(BackendUnavailableError, match="no CUDA GPU can be used"):
            call()


def test_the_usual_device_line_of_a_script_runs_on_the_cpu():
    device = xpnet.device("cuda" if xpnet.cuda.is_available() else "cpu")
    model = nn.Linear(2, 1).to(device)
    x = xpnet.randn(4, 2).to(device)
    assert model(x).device == device


@pytest.mark.gpu
@pytest.mark.skipif(NO_GPU, reason=f"cupy backend unavailable: {cupy_unusable_reason()}")
def test_cuda_devices_are_cupy_backends():
    assert xpnet.cuda.is_available() and xpnet.cuda.device_count() >= 1
    t = xpnet.ones(2, device="cuda")
    assert t.backend == "cupy:0" and t.device == "cuda:0" and t.is_cuda
    assert t.cpu().backend == "numpy"
    xpnet.cuda.synchronize()
    assert xpnet.accelerator.current_accelerator() == xpnet.device("cuda")
