"""`numpy_threads.run_shared` / `run_blocks`: every block once, errors raised in the caller, no
deadlock when two Python threads (or a block) call in at once, and no hang at exit."""

import subprocess
import sys
import threading
import time

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")
from xpnet.backend.kernels import numpy_threads  # noqa: E402


@pytest.mark.parametrize("runner", ["run_shared", "run_blocks"])
def test_every_block_once_many_calls(two_threads, runner):
    run = getattr(numpy_threads, runner)
    for count in (2, 3, 8, 50):
        for _ in range(20):
            seen = []
            run(seen.append, list(range(count)))
            assert sorted(seen) == list(range(count))


def test_a_block_error_reaches_the_caller_after_every_block(two_threads):
    done = []

    def work(block):
        time.sleep(0.001)
        done.append(block)
        if block == 3:
            raise KeyError("block 3")
    with pytest.raises(KeyError, match="block 3"):
        numpy_threads.run_shared(work, list(range(8)))
    assert sorted(done) == list(range(8))
    # and the team still works afterwards
    seen = []
    numpy_threads.run_shared(seen.append, list(range(8)))
    assert sorted(seen) == list(range(8))


def test_two_python_threads_at_once_do_not_deadlock(two_threads):
    errors, results = [], {}

    def caller(name):
        try:
            for round_ in range(200):
                seen = []
                numpy_threads.run_shared(
                    lambda block: (time.sleep(0) if block % 3 else None, seen.append(block)),
                    list(range(6)))
                assert sorted(seen) == list(range(6)), (name, round_, seen)
            results[name] = True
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=caller, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "run_shared deadlocked"
    assert not errors, errors
    assert sorted(results) == ["a", "b", "c"]


def test_a_block_that_calls_run_shared_runs_its_blocks_itself(two_threads):
    inner = []

    def outer(block):
        numpy_threads.run_shared(lambda b: inner.append((block, b)), [0, 1, 2])
    numpy_threads.run_shared(outer, [0, 1, 2, 3])
    assert sorted(inner) == [(a, b) for a in range(4) for b in range(3)]


def test_exit_does_not_wait_for_the_helpers():
    code = ("import threadpoolctl, time\n"
            "threadpoolctl.threadpool_limits(limits=2, user_api='blas')\n"
            "from xpnet.backend.kernels import numpy_threads as t\n"
            "t.run_shared(lambda b: time.sleep(0.001), list(range(8)))\n"
            "print('done')\n")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert time.perf_counter() - started < 60


# -- matmul: large products on the team, the BLAS on one thread -----------------------------------

@pytest.fixture
def split_small_products(monkeypatch):
    """Small products split as large ones are (blocks of 4 rows or columns at least)."""
    monkeypatch.setattr(numpy_threads, "_MATMUL_SPLIT_FROM", 1)
    monkeypatch.setattr(numpy_threads, "_MATMUL_MIN_SIDE", 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((37, 9), (9, 11)), ((11, 9), (9, 37)), ((64, 3), (3, 64))],
                         ids=["by rows", "by columns", "square"])
def test_matmul_on_the_team_equals_numpys(two_threads, split_small_products, dtype, shapes):
    """Each block is the same BLAS product over the same k, so the result is NumPy's to the bit;
    transposed operands and a strided ``out`` included; the BLAS's thread count is restored."""
    import numpy as np

    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    want = np.matmul(a, b)
    np.testing.assert_array_equal(numpy_threads.matmul(a, b), want)
    np.testing.assert_array_equal(
        numpy_threads.matmul(np.ascontiguousarray(a.T).T, np.asfortranarray(b)), want)
    wide = np.zeros((want.shape[0], want.shape[1] + 5), dtype=dtype)
    got = numpy_threads.matmul(a, b, out=wide[:, 2:-3])
    assert got.base is wide or got.base is wide.base
    np.testing.assert_array_equal(wide[:, 2:-3], want)
    assert not wide[:, :2].any() and not wide[:, -3:].any()
    assert numpy_threads.thread_count() == 2


def test_matmul_splits_among_the_team(two_threads, split_small_products, monkeypatch):
    import numpy as np

    seen = []
    original = np.matmul

    def spy(a, b, out=None):
        seen.append((threading.get_ident(), a.shape, numpy_threads.thread_count()))
        return original(a, b, out=out)
    monkeypatch.setattr(numpy_threads.np, "matmul", spy)
    numpy_threads.matmul(np.ones((40, 6)), np.ones((6, 5)))
    assert len(seen) == 2 and {shape for _, shape, _ in seen} == {(20, 6)}  # one a thread
    assert {count for _, _, count in seen} == {1}  # each block on a one-thread BLAS


def test_matmul_inside_a_block_runs_as_numpys(two_threads, split_small_products):
    """The team is busy with the outer blocks: the inner products are whole NumPy calls."""
    import numpy as np

    a, b = np.arange(48.0).reshape(8, 6), np.arange(30.0).reshape(6, 5)
    results = {}
    numpy_threads.run_shared(lambda i: results.__setitem__(i, numpy_threads.matmul(a, b)),
                             [0, 1, 2])
    for i in range(3):
        np.testing.assert_array_equal(results[i], a @ b)


def test_thread_count_follows_every_way_of_setting_the_blas_threads():
    import xpnet

    blas = numpy_threads._blas()  # the libraries it found (a BLAS loaded later is not asked)
    if blas is None or not blas.lib_controllers:
        pytest.skip("threadpoolctl finds no BLAS in this process")

    def threadpoolctls_own():
        return max(lib.get_num_threads() or 1 for lib in blas.lib_controllers)

    start = numpy_threads.thread_count()
    assert start == threadpoolctls_own()
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert numpy_threads.thread_count() == threadpoolctls_own() == 1
    assert numpy_threads.thread_count() == start
    before = xpnet.get_num_threads()
    try:
        xpnet.set_num_threads(2)
        assert numpy_threads.thread_count() == threadpoolctls_own() == 2
    finally:
        xpnet.set_num_threads(before)
