"""The fused recurrent kernels ``rnn_forward`` / ``rnn_backward`` (and ``*_directions``, both
directions of a layer at once): the NumPy fast path
(backend/kernels/numpy_recurrent.py, which hands float32 to backend/kernels/numba_recurrent.py
and its steps, numba_recurrent_steps.py) against the standard-only twins of ops/recurrent.py,
for LSTM, GRU and both RNNs, with and without padding, the loop over time compiled (BLAS
called from numba) and in Python, the recurrent product whole and in row blocks, the input
projections in one chunk and in several; the rational tanh against NumPy's; NaN in the data
and values in the padding; the reused memory (backend/kernels/numpy_buffers.py)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import nn
from xpnet.backend.kernels import (get_kernel, numba_atomics, numba_gemm, numba_recurrent,
                                   numpy_blas, numpy_buffers, numpy_recurrent)
from xpnet.ops import recurrent as twin

needs_numba = pytest.mark.skipif(numba_recurrent.numba is None,
                                 reason="numba not installed (the fast extra)")

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
LENGTHS = {"full": None, "ragged": [7, 2, 5, 1, 6]}


def _case(mode, dtype, lengths, steps=7, batch=5, features=6, hidden=8, seed=0):
    """({name: array} of rnn_forward's inputs and the output gradients, mask), the same
    numbers in any dtype."""
    rng = np.random.default_rng(seed)
    rows = GATES[mode] * hidden
    arrays = {
        "x": rng.uniform(-2, 2, (steps, batch, features)),
        "h0": rng.uniform(-1, 1, (batch, hidden)),
        "c0": rng.uniform(-1, 1, (batch, hidden)) if mode == "lstm" else None,
        "w_ih": rng.uniform(-0.6, 0.6, (rows, features)),
        "w_hh": rng.uniform(-0.6, 0.6, (rows, hidden)),
        "b_ih": rng.uniform(-0.5, 0.5, rows),
        "b_hh": rng.uniform(-0.5, 0.5, rows),
    }
    grads = {
        "g_out": rng.uniform(-1, 1, (steps, batch, hidden)),
        "g_hn": rng.uniform(-1, 1, (batch, hidden)),
        "g_cn": rng.uniform(-1, 1, (batch, hidden)) if mode == "lstm" else None,
    }
    cast = {k: None if v is None else v.astype(dtype) for k, v in {**arrays, **grads}.items()}
    mask = None
    if lengths is not None:
        mask = (np.arange(steps)[:, None] < np.asarray(lengths)[None, :])[:, :, None]
    return cast, mask


def _run(forward, backward, mode, a, mask):
    """Outputs, final states and every gradient, as a list of arrays (None where absent)."""
    out, h_n, c_n, saved = forward(np, mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                                   a["b_ih"], a["b_hh"], mask, device=None)
    grads = backward(np, mode, saved, a["g_out"], a["g_hn"], a["g_cn"], a["x"], a["w_ih"],
                     a["w_hh"], mask, need_input=True, need_weights=True)
    return [out, h_n, c_n, *grads], saved


def _numba_forward(xp, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, *, device):
    out, h_n, c_n, tape = numba_recurrent.forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask)
    return out, h_n, c_n, tape


def _numba_backward(xp, mode, tape, g_out, g_hn, g_cn, x, w_ih, w_hh, mask, **need):
    return numba_recurrent.backward(tape, g_out, g_hn, g_cn, x, w_ih, w_hh, **need)


def _assert_all_close(got, want, **tol):
    assert len(got) == len(want)
    for name, g, w in zip(["out", "h_n", "c_n", "dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih",
                           "db_hh"], got, want):
        assert (g is None) == (w is None), name
        if g is not None:
            assert g.shape == w.shape, (name, g.shape, w.shape)
            np.testing.assert_allclose(np.asarray(g, dtype=np.float64), w, err_msg=name, **tol)


def _tolerance(dtype):
    # float32 runs the rational tanh (within 6 ulp) and float32 products; float64 the exact
    # tanh, where only the order of the sums differs from the twin's.
    return dict(rtol=2e-5, atol=2e-6) if dtype == "float32" else dict(rtol=1e-11, atol=1e-13)


@needs_numba
@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", list(LENGTHS))
@pytest.mark.parametrize("split", ["whole", "blocks"])
@pytest.mark.parametrize("loop", ["compiled", "numpy"])
def test_numba_steps_match_the_twin(mode, dtype, lengths, split, loop, monkeypatch):
    """numba_recurrent's loops against the twin (computed in float64): the loop over time
    compiled (BLAS called from numba) or in Python (NumPy's products), each product whole
    (two BLAS threads) or in row blocks with one step per input-projection chunk."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if loop == "compiled" and numpy_blas.gemm(dtype) is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS with ILP64 CBLAS symbols")
    if loop == "numpy":
        monkeypatch.setattr(numba_recurrent, "_gemm", lambda *args: None)
    threads = 2
    if split == "blocks":
        threads = 1
        monkeypatch.setattr(numpy_blas, "small_kernels", lambda: True)
        monkeypatch.setattr(numpy_blas, "SMALL_PRODUCT", 8 * 8 * 5)  # 8-row blocks
        monkeypatch.setattr(numba_recurrent, "_CHUNK_BYTES", 1)
    arrays, mask = _case(mode, dtype, LENGTHS[lengths])
    reference, _ = _case(mode, "float64", LENGTHS[lengths])
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        assert len(numpy_blas.row_blocks(32, 8, 5)) == (4 if split == "blocks" else 1)
        got, tape = _run(_numba_forward, _numba_backward, mode, arrays, mask)
    want, _ = _run(twin.rnn_forward, twin.rnn_backward, mode, reference, mask)
    assert all(g is None or g.dtype == dtype for g in got)
    _assert_all_close(got, want, **_tolerance(dtype))


def test_products_in_row_blocks_cover_every_row(monkeypatch):
    monkeypatch.setattr(numpy_blas, "small_kernels", lambda: True)
    monkeypatch.setattr(numpy_blas, "SMALL_PRODUCT", 9 * 11 * 3)  # blocks of <= 9 rows
    monkeypatch.setattr(numpy_blas.numpy_threads, "thread_count", lambda: 1)
    a, b = np.random.default_rng(1).normal(size=(37, 11)), np.ones((11, 3))
    out = np.full((37, 3), np.nan)
    blocks = numpy_blas.row_blocks(37, 11, 3)
    assert len(blocks) > 1 and np.all(blocks[:, 1] - blocks[:, 0] <= 9)
    assert blocks[0, 0] == 0 and blocks[-1, 1] == 37 and np.all(blocks[1:, 0] == blocks[:-1, 1])
    numpy_blas.Product(a.T.T, out, blocks)(b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-14)


@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", list(LENGTHS))
def test_registered_fast_path_matches_the_twin(mode, dtype, lengths):
    """What the numpy backend runs: the numba steps in float32 (when numba is installed),
    the NumPy loop in float64."""
    backend = xpnet.backend.load("numpy")
    fast = (get_kernel("rnn_forward", backend, fast_paths=True),
            get_kernel("rnn_backward", backend, fast_paths=True))
    assert fast[0] is not twin.rnn_forward
    arrays, mask = _case(mode, dtype, LENGTHS[lengths])
    reference, _ = _case(mode, "float64", LENGTHS[lengths])
    got, saved = _run(*fast, mode, arrays, mask)
    want, _ = _run(twin.rnn_forward, twin.rnn_backward, mode, reference, mask)
    compiled = dtype == "float32" and numba_recurrent.numba is not None
    assert isinstance(saved[0], numba_recurrent.Tape) == compiled
    _assert_all_close(got, want, **_tolerance(dtype))


def _directions(forward, backward, mode, a, mask, seeds=(0, 1)):
    """Both directions of a layer through ``rnn_forward_directions``/``_backward_directions``
    kernels: the second on the steps flipped, with weights, states and gradients of its own
    (case ``seeds[1]``). Returns each direction's outputs and gradients as `_run` does."""
    other, _ = _case(mode, a["x"].dtype, None, seed=seeds[1], steps=a["x"].shape[0],
                     batch=a["x"].shape[1], features=a["x"].shape[2], hidden=a["h0"].shape[1])
    other["x"] = a["x"][::-1]
    cases = [(a, mask), (other, None if mask is None else mask[::-1])]
    names = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")
    results = forward(np, mode, [(*(c[k] for k in names), m) for c, m in cases], device=None)
    grads = backward(np, mode, [(saved, c["g_out"], c["g_hn"], c["g_cn"], c["x"], c["w_ih"],
                                 c["w_hh"], m, True, True)
                                for (c, m), (*_, saved) in zip(cases, results)])
    return [[*result[:3], *grad] for result, grad in zip(results, grads)]


@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", list(LENGTHS))
@pytest.mark.parametrize("sizes", [dict(), dict(batch=48, hidden=32, features=20)],
                         ids=["blas", "tiles"])
def test_directions_at_once_match_the_twin(mode, dtype, lengths, sizes, two_threads,
                                           monkeypatch):
    """A bidirectional layer's two directions through the numpy backend's kernels at two
    threads: in float32 with numba they run at once, one on each thread of the kernel team
    (`numpy_threads.run_blocks`), each then on one thread; they match the twins, and each
    direction gives the same bits as when it runs alone on one thread."""
    backend = xpnet.backend.load("numpy")
    fast = [get_kernel(f"rnn_{half}_directions", backend, fast_paths=True)
            for half in ("forward", "backward")]
    assert fast[0] is not twin.rnn_forward_directions
    runs = []
    real_run_blocks = numpy_recurrent.numpy_threads.run_blocks

    def spy(work, blocks):
        runs.append(list(blocks))
        return real_run_blocks(work, blocks)

    monkeypatch.setattr(numpy_recurrent.numpy_threads, "run_blocks", spy)
    ragged = LENGTHS[lengths] and (LENGTHS[lengths] * 10)[:sizes.get("batch", 5)]
    arrays, mask = _case(mode, dtype, ragged, **sizes)
    reference, _ = _case(mode, "float64", ragged, **sizes)
    got = _directions(*fast, mode, arrays, mask)
    want = _directions(twin.rnn_forward_directions, twin.rnn_backward_directions, mode,
                       reference, mask)
    compiled = dtype == "float32" and numba_recurrent.numba is not None
    assert runs == ([[0, 1], [0, 1]] if compiled else [])
    for g, w in zip(got, want):
        for name, g_k, w_k in zip(["out", "h_n", "c_n", "dx", "dh0", "dc0", "dw_ih", "dw_hh",
                                   "db_ih", "db_hh"], g, w):
            assert (g_k is None) == (w_k is None), name
            if g_k is not None:
                assert g_k.dtype == dtype
                scale = max(1, np.abs(w_k).max()) if dtype == "float32" else 1
                np.testing.assert_allclose(g_k, w_k, rtol=_tolerance(dtype)["rtol"],
                                           atol=_tolerance(dtype)["atol"] * scale,
                                           err_msg=name)
    if compiled:
        threadpoolctl = pytest.importorskip("threadpoolctl")
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            alone = _directions(*fast, mode, arrays, mask)
        for g, a in zip(got, alone):
            for g_k, a_k in zip(g, a):
                if g_k is not None:
                    np.testing.assert_array_equal(g_k, a_k)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch, hidden", [(4, 6), (16, 16)], ids=["blas", "tiles"])
def test_bidirectional_stacked_layers_in_float32_match_the_twin(kind, batch, hidden):
    """Whole modules, both directions (the reversed one runs the kernels on flipped views,
    and the tiled LSTM reads its output gradient strided) and ragged lengths, fast paths on
    and off; at batch 16 and hidden 16 the steps run in numba_gemm's tiles where it can."""
    rng = np.random.default_rng(2)
    x_np = rng.uniform(-2, 2, (7, batch, 5)).astype(np.float32)
    results = []
    with xpnet.use_backend("numpy"):
        module = getattr(nn, kind)(5, hidden, num_layers=2, bidirectional=True,
                                   dtype="float32")
        for fast in (True, False):
            with xpnet.use_fast_paths(fast):
                module.zero_grad()
                x = xpnet.tensor(x_np, requires_grad=True)
                out, h = module(x, lengths=([7, 2, 5, 6] * 4)[:batch])
                states = h if isinstance(h, tuple) else (h,)
                (out.sum() * 2 + sum((s * s).sum() for s in states)).backward()
                results.append([out.numpy(), *(s.numpy() for s in states), x.grad.numpy(),
                                *(p.grad.numpy() for p in module.parameters())])
    for fast, reference in zip(*results):
        np.testing.assert_allclose(fast, reference, rtol=2e-5, atol=2e-6)


@needs_numba
def test_float32_activations_follow_numpy():
    """tanh within 6 ulp of float32's (the rational approximation's bound, measured over 7
    million inputs when it was fitted) and sigmoid within 2e-7, read back from the gates an
    LSTM keeps for backward: i, f, o = sigmoid(x) and g = tanh(x) when W_ih is a column of
    ones and W_hh and the biases are zero."""
    values = np.concatenate([np.linspace(-20, 20, 400_001), np.geomspace(1e-30, 1, 2_000),
                             -np.geomspace(1e-30, 1, 2_000), [0.0, 1e30, -1e30, np.inf,
                                                              -np.inf]]).astype(np.float32)
    x = values.reshape(1, -1, 1)
    zeros = np.zeros((values.size, 1), dtype=np.float32)
    _, _, _, tape = numba_recurrent.forward("lstm", x, zeros, zeros,
                                            np.ones((4, 1), np.float32),
                                            np.zeros((4, 1), np.float32), None, None, None)
    i, f, g, o = tape.gates[0]
    exact_tanh = np.tanh(values.astype(np.float64))
    ulp = np.spacing(exact_tanh.astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(g - exact_tanh) / ulp) <= 6
    exact_sigmoid = 0.5 + 0.5 * np.tanh(values.astype(np.float64) / 2)
    for gate in (i, f, o):
        np.testing.assert_allclose(gate, exact_sigmoid, rtol=0, atol=2e-7)
    assert g.dtype == np.float32
    assert np.all(np.abs(g) <= 1) and np.all((i >= 0) & (i <= 1))


@needs_numba
@pytest.mark.parametrize("mode", list(GATES))
def test_nan_propagates_and_padding_does_not_leak(mode):
    """A NaN on a real step reaches that sequence's later outputs (the kernels assume no
    finite-math); values in the padding, even huge ones, change nothing."""
    arrays, mask = _case(mode, "float32", [7, 3, 7, 7, 7])
    clean, _ = _run(_numba_forward, _numba_backward, mode, arrays, mask)
    padded = dict(arrays, x=arrays["x"].copy())
    padded["x"][3:, 1] = 1e30
    padded["x"][5:, 1, 0] = -1e30
    dirty, _ = _run(_numba_forward, _numba_backward, mode, padded, mask)
    _assert_all_close(dirty, [None if c is None else c.astype(np.float64) for c in clean],
                      rtol=0, atol=0)
    poisoned = dict(arrays, x=arrays["x"].copy())
    poisoned["x"][2, 0, 0] = np.nan
    out = numba_recurrent.forward(mode, *(poisoned[k] for k in ("x", "h0", "c0", "w_ih",
                                                                  "w_hh", "b_ih", "b_hh")),
                                  mask)[0]
    assert np.all(np.isnan(out[2:, 0]))
    assert np.all(np.isfinite(out[:, 1:]))


@needs_numba
def test_arrays_in_use_are_never_handed_out_again(monkeypatch):
    """The blocks the loops carve their arrays from come back only once no array of theirs
    is alive: an output kept from one call is not overwritten by the next."""
    monkeypatch.setattr(numpy_buffers, "_BLOCKS", [])
    monkeypatch.setattr(numpy_buffers, "_STARTS", [])
    arrays, _ = _case("lstm", "float32", None)
    args = [arrays[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")]
    out, h_n, c_n, tape = numba_recurrent.forward("lstm", *args, None)
    kept = [a.copy() for a in (out, h_n, c_n, tape.gates, tape.cells)]
    first = tape.gates.ctypes.data
    del tape
    again = numba_recurrent.forward("lstm", *(a * 2 for a in args), None)
    np.testing.assert_array_equal(out, kept[0])
    np.testing.assert_array_equal(h_n, kept[1])
    np.testing.assert_array_equal(c_n, kept[2])
    assert not np.shares_memory(again[0], out)
    assert again[3].gates.ctypes.data == first  # the first tape's block, free again
    del out, h_n, c_n, again
    a, b = numpy_buffers.arrays("float32", (40, 30), (9,))
    address = a.ctypes.data
    del a
    c, = numpy_buffers.arrays("float32", (40, 30))
    assert not np.shares_memory(c, b)  # b still holds the block
    del b, c
    d, _ = numpy_buffers.arrays("float32", (40, 30), (9,))
    assert d.ctypes.data == address  # now it is free again


@needs_numba
@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("sizes", [dict(batch=0), dict(features=0), dict(steps=1)])
def test_empty_and_single_step_shapes_match_the_twin(mode, sizes):
    """No batch or no input features (where BLAS refuses the call and NumPy multiplies), one
    step."""
    arrays, mask = _case(mode, "float32", None, **sizes)
    reference, _ = _case(mode, "float64", None, **sizes)
    got, _ = _run(_numba_forward, _numba_backward, mode, arrays, mask)
    want, _ = _run(twin.rnn_forward, twin.rnn_backward, mode, reference, mask)
    _assert_all_close(got, want, **_tolerance("float32"))


# -- numba_gemm's tiles (AVX-512) in the float32 loops ------------------------------------------

needs_tiles = pytest.mark.skipif(not numba_gemm.available(),
                                 reason="numba_gemm's tiles need numba and an AVX-512 CPU")


@needs_tiles
@pytest.mark.parametrize("shape", [(64, 20, 48), (16, 600, 16), (24, 256, 64), (8, 1, 32)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_tiled_product_matches_numpy(shape, accumulate):
    """Column panels of 32 and 16, K over several passes of _DEPTH rows, a range of tiles,
    accumulating or not; the rows outside the range are left alone."""
    rows, depth, columns = shape
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (rows, depth)).astype(np.float32)
    b = rng.uniform(-1, 1, (depth, columns)).astype(np.float32)
    c = rng.uniform(-1, 1, (rows, columns)).astype(np.float32)
    first, last = (1, rows // 8) if rows > 8 else (0, 1)
    want = c.astype(np.float64)
    block = a[8 * first:8 * last].astype(np.float64) @ b
    want[8 * first:8 * last] = block + want[8 * first:8 * last] if accumulate else block
    numba_gemm.product(numba_gemm.pack(a), b, c, first, last, accumulate)
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-5 * np.sqrt(depth))


@needs_numba
@pytest.mark.parametrize("shape", [(1024, 256), (64, 20), (8, 3), (24, 1)])
@pytest.mark.parametrize("layout", ["C", "transposed view", "Fortran"])
def test_pack_interleaves_each_tiles_rows(shape, layout):
    """pack: rows in 8 x 8 blocks of shuffles where they are unit-strided (K past the last
    full block element by element), element by element otherwise."""
    a = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    want = a.reshape(shape[0] // 8, 8, shape[1]).transpose(0, 2, 1)
    given = {"C": a, "transposed view": np.ascontiguousarray(a.T).T,
             "Fortran": np.asfortranarray(a)}[layout]
    np.testing.assert_array_equal(numba_gemm.pack(given), want)


@needs_tiles
def test_tiled_product_of_no_depth_is_zero():
    c = np.ones((8, 16), dtype=np.float32)
    numba_gemm.product(np.zeros((1, 0, 8), np.float32), np.zeros((0, 16), np.float32), c, 0, 1,
                       False)
    assert not c.any()


@needs_tiles
@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("lengths", ["full", "ragged"])
@pytest.mark.parametrize("threads", [1, 2])
def test_tiled_steps_match_the_twin(mode, lengths, threads):
    """Shapes the tiles take (batch a multiple of 16, hidden of 8): the LSTM's steps forward
    and back in tiles, shared by `threads` threads in blocks of 8 hidden units (GRU and RNN
    multiply in tiles going back, on one thread); the threads change no bit of the result."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    sizes = dict(batch=48, hidden=32, features=20)
    ragged = None if lengths == "full" else [7, 2, 5, 1, 6, 7] * 8
    arrays, mask = _case(mode, "float32", ragged, **sizes)
    reference, _ = _case(mode, "float64", ragged, **sizes)
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        assert numba_recurrent._sharing(32) == ((2, 8) if threads == 2 else (1, 32))
        got, tape = _run(_numba_forward, _numba_backward, mode, arrays, mask)
    assert tape.cells.shape[0] == (8 if mode == "lstm" else 0)
    want, _ = _run(twin.rnn_forward, twin.rnn_backward, mode, reference, mask)
    # float32 sums over 7 x 48 steps and sequences for the weight gradients (the ReLU RNN's
    # reach 20): an error relative to each array's largest value
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6 * max(1, np.abs(w).max()))
    if threads == 2:
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            alone, _ = _run(_numba_forward, _numba_backward, mode, arrays, mask)
        for g, a in zip(got, alone):
            if g is not None:
                np.testing.assert_array_equal(g, a)


@needs_tiles
@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("threads", [1, 2])
def test_forward_without_save_gives_the_same_outputs(mode, threads):
    """``save=False`` (no_grad: no backward will run): the same output and final states to
    the bit, the tiled LSTM keeping one step's gates and two steps' cells instead of every
    step's."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    arrays, mask = _case(mode, "float32", [7, 2, 5, 1, 6, 7] * 8, batch=48, hidden=32,
                         features=20)
    args = [arrays[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")]
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        kept = numba_recurrent.forward(mode, *args, mask)
        light = numba_recurrent.forward(mode, *args, mask, save=False)
    for k, l in zip(kept[:3], light[:3]):
        if k is not None:
            np.testing.assert_array_equal(l, k)
    assert light[3].gates.shape[0] == (1 if mode == "lstm" else 7)
    assert light[3].cells.shape[0] == (2 if mode == "lstm" else 0)
    assert kept[3].gates.shape[0] == 7


@needs_numba
def test_claims_take_each_block_once_from_either_end():
    """numba_atomics.claim: the front end counts up, the back end down, each block once, then
    -1 for both."""
    counters = np.zeros(2 * numba_atomics.ROUND, dtype=np.int64)
    at = numba_atomics.ROUND  # the second round's counters
    order = [numba_atomics.claim(counters, at, 5, front) for front in
             (True, False, False, True, True, False, True)]
    assert order == [0, 4, 3, 1, 2, -1, -1]
    assert not counters[:at].any()
    for _ in range(5):
        numba_atomics.finish(counters, at)
    numba_atomics.wait_round(counters, at, 5, numba_atomics.GIVE_WAY)  # returns: all done


@needs_tiles
@pytest.mark.parametrize("lengths", ["full", "ragged"])
def test_shared_loops_from_the_back_end_match_the_twin(lengths, monkeypatch):
    """The threads' loops as the pool's threads run them (blocks taken from the back end),
    here alone so that the order is known: the same numbers as from the front."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(numba_recurrent, "_share", lambda loop, threads: loop(False))
    sizes = dict(batch=16, hidden=32, features=20)
    ragged = None if lengths == "full" else [7, 2, 5, 1] * 4
    arrays, mask = _case("lstm", "float32", ragged, **sizes)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        got, _ = _run(_numba_forward, _numba_backward, "lstm", arrays, mask)
    monkeypatch.setattr(numba_recurrent, "_share", lambda loop, threads: loop(True))
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        front, _ = _run(_numba_forward, _numba_backward, "lstm", arrays, mask)
    for g, f in zip(got, front):
        np.testing.assert_array_equal(g, f)
    reference, _ = _case("lstm", "float64", ragged, **sizes)
    want, _ = _run(twin.rnn_forward, twin.rnn_backward, "lstm", reference, mask)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6 * max(1, np.abs(w).max()))
