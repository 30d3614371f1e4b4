"""`linear_relu` (Linear and ReLU as one node, the ``bias_relu`` kernel) against torch and its
twin, and the Transformer layers' use of it: the same numbers as the unfused block, and the
unfused block wherever a user could tell the difference (hooks, dropout, another module)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.ops.linalg import linear_relu

from .conftest import random_arrays
from .op_checks import check_forward, check_grads, gradcheck

SHAPES = [((5, 3), (4, 3), (4,)), ((2, 6, 3), (4, 3), (4,)), ((3,), (2, 3), (2,)),
          ((5, 3), (4, 3), None)]


def _torch_linear_relu(x, w, b=None):
    import torch
    return torch.relu(torch.nn.functional.linear(x, w, b))


def _arrays(shapes):
    return random_arrays(*[s for s in shapes if s is not None])


@pytest.fixture
def small_blocks(monkeypatch):
    """numba's kernels, with small arrays split into blocks (and the products among threads,
    numpy_threads.matmul) as large ones are; gives threadpoolctl, to set the thread count."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from xpnet.backend.kernels import numba_linear, numpy_threads

    if not numba_linear.available:
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(numba_linear, "_MIN_PARALLEL_SIZE", 16)
    monkeypatch.setattr(numpy_threads, "_MATMUL_SPLIT_FROM", 1)
    monkeypatch.setattr(numpy_threads, "_MATMUL_MIN_SIDE", 4)
    return threadpoolctl


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_linear_relu_matches_torch(backend, shapes):
    check_forward(backend, linear_relu, _torch_linear_relu, _arrays(shapes))
    check_grads(backend, linear_relu, _torch_linear_relu, _arrays(shapes))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_linear_relu_gradcheck(backend, shapes):
    gradcheck(linear_relu, _arrays(shapes))


def test_linear_relu_errors_name_the_call():
    x = xpnet.ones(2, 3)
    with pytest.raises(ValueError, match=r"linear_relu: expected x.shape\[-1\]"):
        linear_relu(x, xpnet.ones(4, 5))
    with pytest.raises(ValueError, match=r"linear_relu: bias must have shape \(4,\)"):
        linear_relu(x, xpnet.ones(4, 3), xpnet.ones(5))
    with pytest.raises(TypeError, match="linear_relu: weight must be a Tensor, got list"):
        linear_relu(x, [[1.0] * 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bias_relu_fast_path_matches_the_twin(dtype, threads, with_bias, small_blocks):
    """Equal to the bit, NaN, infinities and -0.0 included, on one thread and in row blocks
    shared by two."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 5)).astype(dtype)
    weight = rng.standard_normal((29, 5)).astype(dtype)
    bias = rng.standard_normal(29).astype(dtype) if with_bias else None
    x[3] = [np.nan, 0, 0, 0, 0]
    weight[7] = [np.inf, 0, 0, 0, 0]
    weight[8] = 0.0  # a zero row: the product is +-0, the output 0 or the bias's ReLU
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), small_blocks.threadpool_limits(threads, "blas"):
            tensors = [xpnet.tensor(a) for a in (x, weight, bias) if a is not None]
            results.append(linear_relu(*tensors).numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert np.isnan(results[0][3]).all() and (results[0] >= 0)[~np.isnan(results[0])].all()


@pytest.mark.parametrize("threads", [1, 2])
def test_linear_bias_add_fast_path_matches_the_twin(threads, small_blocks):
    """Linear's bias add, on NumPy's add or in row blocks on two threads: equal to the bit."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 19, 5), (23, 5), (23,))]
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), small_blocks.threadpool_limits(threads, "blas"):
            results.append(xpnet.nn.functional.linear(*map(xpnet.tensor, arrays)).numpy())
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_backward_bias_fast_path_matches_the_twin(dtype, threads, small_blocks):
    """The input gradient equal to the bit (NaN outputs, whose gradient is 0, included); the
    bias gradient, summed by row blocks and then across them, to rounding."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((41, 6)).astype(dtype)
    weight = rng.standard_normal((23, 6)).astype(dtype)
    bias = rng.standard_normal(23).astype(dtype)
    upstream = rng.standard_normal((41, 23)).astype(dtype)
    x[2] = [np.nan, 0, 0, 0, 0, 0]
    results = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), small_blocks.threadpool_limits(threads, "blas"):
            tensors = [xpnet.tensor(a, requires_grad=True) for a in (x, weight, bias)]
            linear_relu(*tensors).backward(xpnet.tensor(upstream))
            results.append([t.grad.numpy() for t in tensors])
    (fast_x, fast_w, fast_b), (twin_x, twin_w, twin_b) = results
    np.testing.assert_array_equal(fast_x, twin_x)
    np.testing.assert_array_equal(fast_w, twin_w)
    tolerance = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(fast_b, twin_b, rtol=tolerance, atol=tolerance)
    assert np.isnan(fast_w).any() and not np.isnan(fast_b).any()


def _layers(cls, **options):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(8, 2, 16, dtype=torch.float64, **options)
    ours = getattr(xpnet.nn, cls)(8, 2, 16, dtype="float64", **options)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _inputs(cls):
    rng = np.random.default_rng(1)
    shapes = [(5, 3, 8)] if cls == "TransformerEncoderLayer" else [(5, 3, 8), (4, 3, 8)]
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
@pytest.mark.parametrize("mode", ["train, dropout 0", "eval, dropout 0.5"])
def test_fused_feed_forward_matches_torch(cls, mode):
    """The fused block runs (linear_relu's node is in the graph) and gives torch's outputs and
    gradients."""
    import torch

    ours, theirs = _layers(cls, dropout=0.0 if mode.startswith("train") else 0.5)
    if mode.startswith("eval"):
        ours.eval(), theirs.eval()
    arrays = _inputs(cls)
    xs = [xpnet.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    hidden = []
    ours.linear2.register_forward_pre_hook(lambda m, args: hidden.append(args[0]))
    out, tout = ours(*xs), theirs(*ts)
    assert type(hidden[0].grad_fn).__name__ == "Linear"  # one node, no ReLU node after it
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    for x, t in zip(xs + list(ours.parameters()), ts + list(theirs.parameters())):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("blocker", ["linear1 forward hook", "dropout forward pre-hook",
                                     "dropout on", "gelu", "anomaly mode"])
def test_the_unfused_block_runs_where_a_user_could_tell(blocker):
    ours, _ = _layers("TransformerEncoderLayer", dropout=0.0,
                      activation="gelu" if blocker == "gelu" else "relu")
    seen = []
    if blocker == "linear1 forward hook":
        ours.linear1.register_forward_hook(lambda m, args, out: seen.append(out))
    elif blocker == "dropout forward pre-hook":
        ours.dropout.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    elif blocker == "dropout on":
        ours.dropout.p = 0.5
    hidden = []
    ours.linear2.register_forward_pre_hook(lambda m, args: hidden.append(args[0]))
    x = xpnet.tensor(_inputs("TransformerEncoderLayer")[0], requires_grad=True)
    if blocker == "anomaly mode":
        with xpnet.autograd.detect_anomaly():
            ours(x)
    else:
        ours(x)
    assert type(hidden[0].grad_fn).__name__ != "Linear"
    if blocker.endswith("hook"):
        assert len(seen) == 1


def test_large_products_reuse_memory_only_once_free(monkeypatch):
    """Linear's products above numpy_buffers._LARGE_BYTES come from reused memory: an output
    still held is never handed out again, and one let go is reused (no fresh pages)."""
    from xpnet.backend.kernels import numpy_buffers

    monkeypatch.setattr(numpy_buffers, "_BLOCKS", [])
    monkeypatch.setattr(numpy_buffers, "_STARTS", [])
    monkeypatch.setattr(numpy_buffers, "_LARGE_BYTES", 64)
    rng = np.random.default_rng(2)
    x, weight = (xpnet.tensor(rng.standard_normal(s)) for s in ((9, 4), (7, 4)))
    with xpnet.use_fast_paths(True):
        first = xpnet.nn.functional.linear(x, weight)
        kept = first.numpy().copy()
        second = xpnet.nn.functional.linear(x * 2, weight)
        assert not np.shares_memory(first.numpy(), second.numpy())
        np.testing.assert_array_equal(first.numpy(), kept)
        np.testing.assert_allclose(second.numpy(), 2 * kept, rtol=1e-12)
        address = first.numpy().ctypes.data
        del first
        third = xpnet.nn.functional.linear(x, weight)
        assert third.numpy().ctypes.data == address
        np.testing.assert_array_equal(third.numpy(), kept)
    assert numpy_buffers.large("float64", (2, 3)) is None  # 48 bytes: NumPy's own
