"""`numpy_threads.run_compiled`: a numba block loop on numba's own threads where its OpenMP or
TBB layer serves, else on the team, else in the caller; the same rows and results on every
path, and a forked child of a process that ran numba's GNU OpenMP threads still runs kernels
(numba would terminate it if they ran there)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

numba = pytest.importorskip("numba")
threadpoolctl = pytest.importorskip("threadpoolctl")
from xpnet.backend.kernels import numba_linear, numba_layer_norm, numpy_threads  # noqa: E402
from xpnet.backend.kernels.numba_jit import compiled, parallel  # noqa: E402


@compiled
def _mark_rows(owner, value, start, stop):
    for i in range(start, stop):
        owner[i] += value


@parallel
def _mark_blocks(owner, value, bounds):
    for i in numba.prange(bounds.shape[0]):
        _mark_rows(owner, value, bounds[i, 0], bounds[i, 1])


@pytest.fixture(params=["numba threads", "team"])
def path(request, monkeypatch, two_threads):
    """Each way `run_compiled` may run blocks at two threads."""
    if request.param == "team":
        monkeypatch.setattr(numpy_threads, "_numba_setter", False)
        assert not numpy_threads.numba_threads_serve(2)
        return request.param
    monkeypatch.setattr(numpy_threads, "_team_hot", lambda threads: False)
    if not numpy_threads.numba_threads_serve(2):
        pytest.skip("numba's threads do not serve here (its workqueue layer, whose threads "
                    "sleep between calls, or XPNET_NUMBA_THREADS=0): run_compiled uses the "
                    "team instead")
    return request.param


@pytest.mark.parametrize("rows, parts", [(1, 1), (7, 2), (100, 4), (1000, 7), (5, 5)])
def test_every_row_once(path, rows, parts):
    owner = np.zeros(rows, dtype=np.int64)
    for round_ in range(1, 4):
        numpy_threads.run_compiled(_mark_blocks, (owner, 1), numpy_threads.block_bounds(rows,
                                                                                        parts))
        np.testing.assert_array_equal(owner, round_)


def test_block_bounds_cover_the_rows_in_order():
    bounds = numpy_threads.block_bounds(10, 3)
    assert bounds.tolist() == [[0, 3, 0], [3, 6, 1], [6, 10, 2]]
    assert bounds.dtype == np.int64 and not bounds.flags.writeable
    assert numpy_threads.block_bounds(10, 3) is bounds  # made once per size


def test_one_thread_runs_in_the_caller(monkeypatch):
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert not numpy_threads.numba_threads_serve()
        monkeypatch.setattr(numpy_threads, "run_shared", None)  # would raise if called
        owner = np.zeros(50, dtype=np.int64)
        numpy_threads.run_compiled(_mark_blocks, (owner, 2), numpy_threads.block_bounds(50, 4))
        np.testing.assert_array_equal(owner, 2)


def test_one_block_calls_the_row_kernel_directly(monkeypatch):
    """With ``kernel=``, a single block is ``kernel(*args, start, stop)``, not the loop's
    Python form; several blocks on one thread still go through the loop."""
    calls = []

    def kernel(owner, value, start, stop):
        calls.append((start, stop))
        _mark_rows(owner, value, start, stop)

    owner = np.zeros(9, dtype=np.int64)
    monkeypatch.setattr(_mark_blocks, "py_func", None)  # would raise if called
    numpy_threads.run_compiled(_mark_blocks, (owner, 3), numpy_threads.block_bounds(9, 1),
                               kernel=kernel)
    assert calls == [(0, 9)] and all(type(v) is int for v in calls[0])
    np.testing.assert_array_equal(owner, 3)
    monkeypatch.undo()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        numpy_threads.run_compiled(_mark_blocks, (owner, 1), numpy_threads.block_bounds(9, 3),
                                   kernel=kernel)
    assert calls == [(0, 9)]  # the loop called the compiled rows, not this kernel
    np.testing.assert_array_equal(owner, 4)


def test_a_team_used_in_the_last_20_ms_keeps_the_blocks(two_threads, monkeypatch):
    numpy_threads.run_shared(lambda block: None, [0, 1, 2, 3])  # the team has just run
    assert not numpy_threads.numba_threads_serve(2)

    def refuse(threads):
        raise AssertionError("numba's threads were asked for while the team is hot")
    monkeypatch.setattr(numpy_threads, "_numba_threads", refuse)
    owner = np.zeros(64, dtype=np.int64)
    numpy_threads.run_compiled(_mark_blocks, (owner, 1), numpy_threads.block_bounds(64, 4))
    np.testing.assert_array_equal(owner, 1)


def test_relu_backward_bias_equals_on_every_path(path):
    # No fastmath in this loop: the gradient is exact on every path; the sums add in blocks.
    rng = np.random.default_rng(0)
    g = rng.standard_normal((1024, 512)).astype(np.float32)
    out = np.maximum(rng.standard_normal((1024, 512)).astype(np.float32), 0)
    grad, sums = numba_linear.relu_backward_bias(g, out)
    np.testing.assert_array_equal(grad, np.where(out > 0, g, 0))
    np.testing.assert_allclose(sums, grad.sum(axis=0, dtype=np.float64), rtol=1e-4, atol=2e-3)


def test_layer_norm_on_every_path_matches_float64(path):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2048, 256)) * 3 + 5).astype(np.float32)
    w, b = rng.standard_normal(256).astype(np.float32), rng.standard_normal(256).astype(np.float32)
    out, mean, rstd = numba_layer_norm.layer_norm_forward(np, x, w, b, eps=1e-5)
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5) * w + b
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)
    # backward's weight and bias gradients are summed per block, then across blocks
    g = rng.standard_normal(x.shape).astype(np.float32)
    _, grad_w, grad_b = numba_layer_norm.layer_norm_backward(np, g, x, w, mean, rstd,
                                                             need=(True, True, True))
    xhat = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(grad_w, (g * xhat).sum(0), rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(grad_b, g.sum(0, dtype=np.float64), rtol=1e-4, atol=2e-3)


def test_a_forked_child_runs_kernels_after_the_parent_used_numbas_threads(tmp_path):
    script = tmp_path / "fork.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        import numpy as np, threadpoolctl, xpnet
        from xpnet.backend.kernels import numpy_threads
        with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
            x = xpnet.tensor(np.random.default_rng(0).standard_normal((4096, 256))
                             .astype(np.float32))
            norm = xpnet.nn.LayerNorm(256)
            parent = norm(x).numpy()
            print("served", numpy_threads.numba_threads_serve(2), flush=True)
            pid = os.fork()
            if pid == 0:
                child = norm(x).numpy()
                os._exit(0 if np.allclose(child, parent, rtol=1e-5, atol=1e-5) else 3)
            _, status = os.waitpid(pid, 0)
            print("child", os.waitstatus_to_exitcode(status), flush=True)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "child 0" in result.stdout, (result.stdout, result.stderr)


def test_embedding_lookups_and_bags_equal_numpys_on_every_path(path):
    from xpnet.backend.kernels import numba_embedding_bag as bags
    rng = np.random.default_rng(2)
    table = rng.standard_normal((5000, 64)).astype(np.float32)
    index = rng.integers(0, 5000, 4096)
    np.testing.assert_array_equal(bags.take_rows(np, table, index), table[index])
    starts = np.arange(0, 4096, 8)
    out = bags.embedding_bag_forward(np, table, index, starts, None, mean=False,
                                     padding_idx=None, backend=None, save=False)[0]
    np.testing.assert_allclose(out, table[index].reshape(512, 8, 64).sum(1), rtol=1e-5,
                               atol=1e-5)


def test_direct_convolution_on_every_path_equals_one_thread(path):
    # LeNet's conv1 shape: the samples go to numba's threads in blocks, the batch padded once
    import xpnet
    import xpnet.nn.functional as F
    rng = np.random.default_rng(3)
    x = xpnet.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    w = xpnet.tensor(rng.standard_normal((6, 1, 5, 5)).astype(np.float32))
    b = xpnet.tensor(rng.standard_normal(6).astype(np.float32))
    got = F.conv2d(x, w, b).numpy()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        want = F.conv2d(x, w, b).numpy()
    np.testing.assert_array_equal(got, want)
