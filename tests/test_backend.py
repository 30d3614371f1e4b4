"""The backend registry: names, the env var, use_backend, CuPy errors, mixing backends."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import xpnet
from xpnet.backend import BackendUnavailableError, load, registry


def _run_python(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_default_backend_is_numpy_when_env_unset():
    env = {k: v for k, v in os.environ.items() if k != "XPNET_BACKEND"}
    out = subprocess.run([sys.executable, "-c", "import xpnet; print(xpnet.get_backend())"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "numpy", out.stderr


@pytest.mark.parametrize("name", ["array_api_strict", "array_api_strict:device1", "torch"])
def test_env_var_picks_backend_at_import(name):
    if name == "torch":
        pytest.importorskip("torch")
    out = _run_python("import xpnet; t = xpnet.ones(2); print(xpnet.get_backend(), t.backend)",
                      XPNET_BACKEND=name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [name, name]


def test_env_var_with_unknown_name_fails_at_import_listing_valid_names():
    out = _run_python("import xpnet", XPNET_BACKEND="jax")
    assert out.returncode != 0
    assert "unknown backend 'jax'" in out.stderr
    assert "numpy, array_api_strict" in out.stderr and "cupy:N" in out.stderr


def test_unknown_name_raises_value_error_listing_valid_names():
    with pytest.raises(ValueError, match=r"unknown backend 'tensorflow'; expected one of numpy, "
                                         r"array_api_strict.*torch, cupy, cupy:N"):
        xpnet.use_backend("tensorflow")


def test_unknown_strict_device_lists_devices():
    with pytest.raises(ValueError, match=r"array_api_strict has devices CPU_DEVICE, device1"):
        load("array_api_strict:gpu7")


def test_use_backend_as_call_switches_until_changed():
    assert xpnet.get_backend() == "numpy"
    try:
        xpnet.use_backend("array_api_strict")
        assert xpnet.get_backend() == "array_api_strict"
        assert xpnet.zeros(3).backend == "array_api_strict"
    finally:
        xpnet.set_backend("numpy")


def test_use_backend_as_context_manager_restores_previous():
    with xpnet.use_backend("array_api_strict") as b:
        assert b.name == "array_api_strict" and b.xp.__name__ == "array_api_strict"
        with xpnet.use_backend("array_api_strict:device1"):
            assert xpnet.get_backend() == "array_api_strict:device1"
        assert xpnet.get_backend() == "array_api_strict"
    assert xpnet.get_backend() == "numpy"


def test_backend_restored_even_when_block_raises():
    with pytest.raises(KeyError):
        with xpnet.use_backend("array_api_strict"):
            raise KeyError("boom")
    assert xpnet.get_backend() == "numpy"


def test_tensors_keep_their_backend_when_the_active_one_changes():
    with xpnet.use_backend("array_api_strict:device1"):
        t = xpnet.ones(3, requires_grad=True)
    y = (t * 2).sum()  # runs on t's backend although numpy is active now
    assert y.backend == "array_api_strict:device1"
    y.backward()
    assert t.grad.backend == "array_api_strict:device1"


def test_mixing_two_backends_names_both():
    a = xpnet.ones(3)
    with xpnet.use_backend("array_api_strict"):
        b = xpnet.ones(3)
    with pytest.raises(ValueError, match=r"add: tensors are on different backends/devices: "
                                         r"numpy and array_api_strict"):
        a + b


def test_mixing_two_devices_names_both():
    with xpnet.use_backend("array_api_strict"):
        a = xpnet.ones(2, 2)
    with xpnet.use_backend("array_api_strict:device1"):
        b = xpnet.ones(2, 2)
    with pytest.raises(ValueError, match=r"matmul: .*array_api_strict and array_api_strict:device1"):
        a @ b
    with pytest.raises(ValueError, match=r"concat: .*array_api_strict and array_api_strict:device1"):
        xpnet.concat([a, b])


def test_cupy_not_installed_says_so_and_how_to_fix(monkeypatch):
    # Where CuPy is really importable this test is about the other branch (below).
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    registry.cupy_unusable_reason.cache_clear()
    try:
        with pytest.raises(BackendUnavailableError,
                           match=r"backend 'cupy' is unavailable: CuPy is not installed .*"
                                 r"pip install 'xpnet\[gpu\]'"):
            load("cupy:3")
    finally:
        registry.cupy_unusable_reason.cache_clear()


def test_cupy_without_a_device_says_so_and_how_to_fix(monkeypatch):
    # Reproduces what CuPy does on a machine without a driver (TOOLING.md §5): the import
    # succeeds and getDeviceCount raises a RuntimeError subclass.
    import types

    class CUDARuntimeError(RuntimeError):
        pass

    def get_device_count():
        raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    registry.cupy_unusable_reason.cache_clear()
    try:
        with pytest.raises(BackendUnavailableError,
                           match=r"CuPy is installed but no CUDA device is visible "
                                 r"\(CUDARuntimeError: cudaErrorInsufficientDriver.*nvidia-smi"):
            xpnet.use_backend("cupy")
    finally:
        registry.cupy_unusable_reason.cache_clear()
    assert xpnet.get_backend() == "numpy"


def test_bad_cupy_device_name():
    with pytest.raises(ValueError, match=r"cupy device must be a GPU number"):
        load("cupy:first")


def test_fast_path_switch_from_env_and_function():
    out = _run_python("import xpnet; print(xpnet.fast_paths_enabled())", XPNET_FAST_PATHS="0")
    assert out.stdout.strip() == "False", out.stderr
    assert xpnet.fast_paths_enabled() is True or os.environ.get("XPNET_FAST_PATHS") == "0"
    before = xpnet.fast_paths_enabled()
    with xpnet.use_fast_paths(False):
        assert xpnet.fast_paths_enabled() is False
    assert xpnet.fast_paths_enabled() is before


def test_fast_path_env_rejects_garbage():
    out = _run_python("import xpnet", XPNET_FAST_PATHS="maybe")
    assert out.returncode != 0 and "XPNET_FAST_PATHS='maybe': expected 0 or 1" in out.stderr
