"""`numpy_threads.run_shared` / `run_blocks`: every block once, errors raised in the caller, no
deadlock when two Python threads (or a block) call in at once, and no hang at exit."""

import subprocess
import sys
import threading
import time

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")
from xpnet.backend.kernels import numpy_threads  # noqa: E402


@pytest.fixture
def two_threads():
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if numpy_threads.thread_count() < 2:
            pytest.skip("the BLAS cannot be given two threads here")
        yield


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
