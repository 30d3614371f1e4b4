"""One `backend` fixture over every backend that can run here.

numpy and array_api_strict always; array_api_strict on its second device ('device1'), which
catches arrays created without ``device=``; torch when installed; cupy when importable and a CUDA
device is present (otherwise skipped with the reason).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import xpnet
from xpnet.backend import cupy_unusable_reason


def _backend_params():
    yield "numpy"
    yield "array_api_strict"
    yield "array_api_strict:device1"
    has_torch = importlib.util.find_spec("torch") is not None
    yield pytest.param("torch", marks=pytest.mark.skipif(
        not has_torch, reason="torch not installed (pip install torch==2.13.0)"))
    why = cupy_unusable_reason()
    yield pytest.param("cupy", marks=[pytest.mark.gpu, pytest.mark.skipif(
        why is not None, reason=f"cupy backend unavailable: {why}")])


BACKENDS = list(_backend_params())


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of a backend, made active for the test (restored afterwards)."""
    with xpnet.use_backend(request.param):
        yield request.param


@pytest.fixture(scope="session", autouse=True)
def _torch_on_one_thread():
    """torch as an oracle runs tiny ops; its thread pool only adds wake-ups on a busy 2-core
    machine (measured: ~15x slower per oracle call in the loss tests)."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def _blas_on_one_thread():
    """NumPy's BLAS on one thread too: the tests multiply small matrices, for which a second
    thread only adds wake-ups on a busy 2-core machine (measured: one epoch of the word-level
    language model script took 8.9 s with the default threads, 1.8 s with one)."""
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def two_threads():
    """NumPy's BLAS, and so the fast paths' thread count, at two threads for one test (the
    session runs at one); skips where the BLAS cannot be given two."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numpy_threads
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if numpy_threads.thread_count() < 2:
            pytest.skip("the BLAS cannot be given two threads here")
        yield


@pytest.fixture
def joins_as_views(monkeypatch):
    """A list that records, for each call of NumPy's ``concat_chunks`` fast path (a split's
    backward) during the test, whether the join came back as a view of the first chunk."""
    from xpnet.backend import kernels

    fast = kernels.get_kernel("concat_chunks", xpnet.backend.load("numpy"), fast_paths=True)
    views = []

    def spy(xp, arrays, axis):
        out = fast(xp, arrays, axis)
        views.append(bool(np.shares_memory(out, arrays[0])))
        return out

    monkeypatch.setitem(kernels._fast, ("concat_chunks", "numpy"), spy)
    kernels.forget_resolved()
    yield views
    monkeypatch.undo()
    kernels.forget_resolved()


@pytest.fixture(autouse=True)
def _seed_and_defaults():
    """Every test starts from the same seed, default dtype float32 and fast paths as configured."""
    xpnet.manual_seed(0)
    previous_dtype = xpnet.get_default_dtype()
    previous_fast = xpnet.fast_paths_enabled()
    previous_eager = xpnet.eager_checks_enabled()
    yield
    xpnet.set_default_dtype(previous_dtype)
    xpnet.use_fast_paths(previous_fast)
    xpnet.use_eager_checks(previous_eager)
    # A device-side check a test left unreported must not surface in the next test.
    xpnet.backend.checks.discard_pending()


def random_arrays(*shapes, seed=0, dtype=np.float64, low=-2.0, high=2.0):
    """NumPy arrays for oracle comparisons (the same numbers go to xpnet and to torch)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def to_xpnet(*arrays, requires_grad=True):
    """Tensors on the active backend from NumPy arrays (float arrays require grad)."""
    return [xpnet.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def assert_close(got, want, rtol=1e-10, atol=1e-12):
    """Compare an xpnet Tensor (any backend) or array-like with a NumPy/torch reference."""
    got = got.numpy() if isinstance(got, xpnet.Tensor) else np.asarray(got)
    if hasattr(want, "detach"):
        want = want.detach().numpy()
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != expected {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def assert_on_backend(t, backend_name):
    """The tensor stayed on the backend the test runs on, and its array on that device."""
    import array_api_compat

    expected = xpnet.backend.load(backend_name)
    assert t.backend == expected.name, (t.backend, backend_name)
    assert xpnet.backend.backend_of_array(t.array) is expected, \
        f"array of {t.backend} tensor lives on {array_api_compat.device(t.array)}"
