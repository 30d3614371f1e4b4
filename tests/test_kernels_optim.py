"""The fused dense optimizer steps (the twins in optim/adam.py and optim/sgd.py, the numba fast
paths in backend/kernels/numba_optim.py): every flag combination against the twin, in float32
and float64, over several shapes and layouts; where each result goes (a new parameter array,
state written in place only where the optimizer alone holds it); whole trajectories with and
without fast paths; the sparse Adam step (``sparse_adam_step``) against its twin on one and two
threads, and SparseAdam's trajectory with and without fast paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import xpnet
from xpnet import optim
from xpnet.backend.kernels import fast_path_families, get_kernel

# maximize, weight_decay, amsgrad, decoupled_weight_decay, beta1 (0.3: lerp's other form)
ADAM_FLAGS = list(itertools.product([False, True], [0.0, 0.1], [False, True], [False, True],
                                    [0.9, 0.3]))
# maximize, weight_decay, momentum, dampening, nesterov, a buffer already (else first step)
SGD_FLAGS = [f for f in itertools.product([False, True], [0.0, 0.1], [0.0, 0.9], [0.0, 0.2],
                                          [False, True], [False, True])
             if not (f[4] and (f[2] == 0 or f[3] != 0))]
SHAPES = [(37, 5), (300,), (), (0, 4)]


def _tol(dtype):
    # The fast paths do the twins' operations in the same order, without fastmath: bit for bit
    # here, but a compiler may contract a product and a sum (one rounding).
    return dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-13, atol=1e-15)


def _arrays(rng, shape, dtype, count):
    return [rng.standard_normal(shape).astype(dtype) for _ in range(count)]


def _copies(b, arrays):
    """Fresh backend arrays for each call: the fast paths write the state they get."""
    return [None if a is None else b.asarray(np.array(a, copy=True)) for a in arrays]


def _assert_same(fast, twin, dtype):
    assert len(fast) == len(twin)
    for got, want in zip(fast, twin):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), **_tol(dtype))


def _adam(b, arrays, fast, *, step=3, lr=0.01, beta1=0.9, beta2=0.99, weight_decay=0.0,
          amsgrad=False, maximize=False, decoupled=False):
    return get_kernel("adam_update", b, fast_paths=fast)(
        b.xp, *_copies(b, arrays), step, lr=lr, beta1=beta1, beta2=beta2, eps=1e-8,
        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
        decoupled_weight_decay=decoupled)


def _sgd(b, arrays, fast, *, lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0,
         nesterov=False, maximize=False):
    return get_kernel("sgd_update", b, fast_paths=fast)(
        b.xp, *_copies(b, arrays), lr=lr, momentum=momentum, dampening=dampening,
        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)


@pytest.mark.parametrize("family", fast_path_families("adam_update"))
@pytest.mark.parametrize("flags", ADAM_FLAGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_fast_paths_match_the_twin(family, flags, dtype):
    maximize, weight_decay, amsgrad, decoupled, beta1 = flags
    b = xpnet.backend.load(family)
    rng = np.random.default_rng(4)
    for shape in SHAPES:
        param, grad, exp_avg = _arrays(rng, shape, dtype, 3)
        exp_avg_sq, max_exp_avg_sq = (np.abs(a) for a in _arrays(rng, shape, dtype, 2))
        arrays = [param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None]
        _assert_same(*(_adam(b, arrays, fast, beta1=beta1, weight_decay=weight_decay,
                             amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)
                       for fast in (True, False)), dtype)
    assert get_kernel("adam_update", b, fast_paths=True) is not \
        get_kernel("adam_update", b, fast_paths=False)


@pytest.mark.parametrize("family", fast_path_families("sgd_update"))
@pytest.mark.parametrize("flags", SGD_FLAGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_fast_paths_match_the_twin(family, flags, dtype):
    maximize, weight_decay, momentum, dampening, nesterov, has_buffer = flags
    b = xpnet.backend.load(family)
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        param, grad, buffer = _arrays(rng, shape, dtype, 3)
        arrays = [param, grad, buffer if has_buffer else None]
        _assert_same(*(_sgd(b, arrays, fast, momentum=momentum, dampening=dampening,
                            weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
                       for fast in (True, False)), dtype)


def test_adam_fast_path_takes_strided_and_read_only_arrays():
    # Transposed gradient and state, a read-only state: the loop reads the first and replaces
    # the state arrays it cannot write with new ones, which the caller stores.
    b = xpnet.backend.load("numpy")
    rng = np.random.default_rng(6)
    param = rng.standard_normal((6, 4))
    grad, exp_avg = (rng.standard_normal((4, 6)).T for _ in range(2))
    exp_avg_sq, max_exp_avg_sq = (np.abs(rng.standard_normal((4, 6))).T for _ in range(2))
    exp_avg_sq.flags.writeable = False
    results = []
    for fast in (True, False):
        states = [exp_avg.copy(order="F"), exp_avg_sq, max_exp_avg_sq.copy(order="F")]
        before = [s.copy() for s in states]
        results.append(get_kernel("adam_update", b, fast_paths=fast)(
            b.xp, param, grad, *states, 2, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
            weight_decay=0.0, amsgrad=True, maximize=False, decoupled_weight_decay=False))
        for old, copy in zip(states, before):
            np.testing.assert_array_equal(old, copy)  # not in place: they had to be replaced
    _assert_same(*results, "float64")


@pytest.mark.parametrize("flags", ADAM_FLAGS[::3])
def test_adam_fast_path_keeps_the_twins_nans_and_infinities(flags):
    maximize, weight_decay, amsgrad, decoupled, beta1 = flags
    b = xpnet.backend.load("numpy")
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], dtype=np.float32)
    # Every pairing of a special value in one input with one in another.
    grid = np.stack(np.meshgrid(special, special, indexing="ij")).reshape(2, -1)
    param, grad, exp_avg = grid[0], grid[1], grid[0][::-1]
    exp_avg_sq, max_exp_avg_sq = np.abs(grid[1][::-1]), np.abs(grid[0])
    arrays = [param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None]
    with np.errstate(all="ignore"):  # the twin's NumPy passes warn of inf - inf
        results = [_adam(b, arrays, fast, step=1, lr=0.1, beta1=beta1, beta2=0.999,
                         weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                         decoupled=decoupled) for fast in (True, False)]
    for got, want in zip(*results):
        if got is not None:
            np.testing.assert_array_equal(got, want)  # NaNs in the same places


def test_float16_falls_back_to_the_twin():
    b = xpnet.backend.load("numpy")
    param, grad, buffer = (np.full(3, v, dtype=np.float16) for v in (1.0, 0.5, 0.25))
    new, new_buffer = _sgd(b, [param, grad, buffer], True, lr=0.5, momentum=0.5)
    assert new.dtype == np.float16 and new_buffer.dtype == np.float16
    np.testing.assert_array_equal(new_buffer, np.full(3, 0.625, dtype=np.float16))
    np.testing.assert_array_equal(new, np.full(3, 1 - 0.3125, dtype=np.float16))


OPTIMIZERS = {
    "Adam": lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_steps_give_the_parameter_a_new_array(name, fast):
    # A retained graph or a `.data` alias may hold the parameter's array: a step never writes
    # it. The state may be written in place, but never shares memory with the parameter or
    # the gradient.
    with xpnet.use_fast_paths(fast), xpnet.use_backend("numpy"):
        w = xpnet.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
                         requires_grad=True)
        alias, initial = w.array, w.numpy().copy()  # as a graph saving w would hold it
        opt = OPTIMIZERS[name]([w])
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            old, grad = w.array, w.grad.array
            kept, kept_grad = old.copy(), grad.copy()
            opt.step()
            assert w.array is not old
            np.testing.assert_array_equal(old, kept)
            np.testing.assert_array_equal(grad, kept_grad)
            for value in opt.state[w].values():
                if isinstance(value, xpnet.Tensor):
                    assert not np.shares_memory(value.array, w.array)
                    assert not np.shares_memory(value.array, grad)
        np.testing.assert_array_equal(alias, initial)


def test_sgd_first_buffer_from_the_twin_is_not_the_gradient():
    # The twin's first buffer is the gradient array itself; the fast path then writes the
    # buffer in place, so the optimizer keeps a copy instead.
    w = xpnet.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    with xpnet.use_fast_paths(False):
        (w * w).sum().backward()
        grad = w.grad.array
        opt.step()
    assert not np.shares_memory(opt.state[w]["momentum_buffer"].array, grad)
    kept = grad.copy()
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()  # fast path: the buffer in place
    np.testing.assert_array_equal(grad, kept)


def test_state_written_in_place_stays_private_to_state_dict():
    w = xpnet.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    saved = opt.state_dict()
    snapshot = saved["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), snapshot)
    resumed = optim.Adam([w], lr=0.1)
    resumed.load_state_dict(saved)
    resumed.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), snapshot)


@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.05, betas=(0.3, 0.9), maximize=True),
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, maximize=True),
    lambda ps: optim.SGD(ps, lr=0.05, weight_decay=0.01),
], ids=["Adam amsgrad", "AdamW maximize", "SGD momentum", "SGD nesterov", "SGD plain"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizer_trajectory_is_the_same_without_fast_paths(make, dtype):
    rng = np.random.default_rng(7)
    start = [rng.standard_normal(s).astype(dtype) for s in ((5, 3), (3,))]
    target = rng.standard_normal((5, 3)).astype(dtype)
    finals = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), xpnet.use_backend("numpy"):
            ws = [xpnet.tensor(a, requires_grad=True) for a in start]
            opt = make(ws)
            for _ in range(20):
                opt.zero_grad()
                loss = ((ws[0] + ws[1] - xpnet.tensor(target)) ** 2).sum()
                loss.backward()
                opt.step()
            finals.append([w.numpy() for w in ws])
    for got, want in zip(*finals):
        np.testing.assert_allclose(got, want, **_tol(dtype))


def _sparse_adam(b, arrays, index, grad, fast, *, maximize=False, step=3):
    return get_kernel("sparse_adam_step", b, fast_paths=fast)(
        b.xp, *arrays, b.asarray(index), b.asarray(grad), None, step, lr=0.01, beta1=0.9,
        beta2=0.99, eps=1e-8, maximize=maximize, backend=b)


@pytest.mark.parametrize("family", fast_path_families("sparse_adam_step"))
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_sparse_adam_fast_paths_match_the_twin(family, maximize, dtype, threads, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if family == "numpy":  # blocks even for these few rows, so that two threads share them
        from xpnet.backend.kernels import numba_optim
        monkeypatch.setattr(numba_optim, "_SHARE_FROM", 0)
    b = xpnet.backend.load(family)
    rng = np.random.default_rng(6)
    for shape, index in (((40, 7), [0, 3, 4, 9, 17, 30, 39]), ((12,), [2, 5, 11]),
                         ((6, 2, 3), [1, 4]), ((9, 4), [])):
        param, exp_avg, exp_avg_sq = _arrays(rng, shape, dtype, 3)
        arrays = [param, exp_avg, np.abs(exp_avg_sq)]
        index = np.array(index, dtype=np.int64)
        grad = rng.standard_normal((len(index), *shape[1:])).astype(dtype)
        results = []
        for fast in (True, False):
            given = _copies(b, arrays)
            with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
                got = _sparse_adam(b, given, index, grad, fast, maximize=maximize)
            # Both write the rows where they are, as the optimizers' add_to_rows does.
            assert all(g is a for g, a in zip(got, given))
            results.append(got)
        _assert_same(*results, dtype)
        untouched = np.setdiff1d(np.arange(shape[0]), index)
        for got, start in zip(results[0], arrays):
            np.testing.assert_array_equal(np.asarray(got)[untouched], start[untouched])


def test_sparse_adam_fast_path_takes_read_only_and_strided_state():
    b = xpnet.backend.load("numpy")
    rng = np.random.default_rng(8)
    param, exp_avg, exp_avg_sq = _arrays(rng, (10, 4), "float32", 3)
    exp_avg_sq = np.abs(exp_avg_sq)
    index, grad = np.array([1, 6]), rng.standard_normal((2, 4)).astype("float32")
    read_only = param.copy()
    read_only.flags.writeable = False
    strided = np.asfortranarray(exp_avg)
    got = _sparse_adam(b, [read_only, strided, exp_avg_sq.copy()], index, grad, True)
    want = _sparse_adam(b, [param.copy(), exp_avg.copy(), exp_avg_sq.copy()], index, grad,
                        False)
    _assert_same(got, want, "float32")
    np.testing.assert_array_equal(read_only, param)  # a new array; the read-only one is kept


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_adam_trajectory_is_the_same_without_fast_paths(dtype):
    rng = np.random.default_rng(9)
    start = rng.standard_normal((30, 4)).astype(dtype)
    batches = [rng.integers(0, 30, 12) for _ in range(5)]
    finals = []
    for fast in (True, False):
        with xpnet.use_fast_paths(fast), xpnet.use_backend("numpy"):
            w = xpnet.tensor(start, requires_grad=True)
            opt = optim.SparseAdam([w], lr=0.05)
            for batch in batches:
                opt.zero_grad()
                (xpnet.nn.functional.embedding(xpnet.tensor(batch), w, sparse=True) ** 2
                 ).sum().backward()
                opt.step()
            finals.append(w.numpy())
    # The fast scatter sums a row's repeated lookups in another order than the twin's.
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(*finals, **tol)
