"""Run by tests/test_distributed_mpi.py as ``mpiexec -n 2 python -m mpi4py collectives.py``.

Every rank checks the collectives' values on each CPU backend, their errors when the ranks
disagree, and finally that a collective only rank 0 calls ends in a timeout error. Each rank
reports (report.py) what it checked; an assertion error aborts the job (non-zero exit).
"""

from __future__ import annotations

import time

import numpy as np

import xpnet
import xpnet.distributed as dist
from xpnet.distributed import ReduceOp

from report import report  # noqa: I001 - this folder, on sys.path

TIMEOUT = 2.0  # for the last check; until then a generous one (a busy machine is slow)
dist.init_process_group("mpi", timeout=120)
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2, world
checked = []


def close(t, want):
    np.testing.assert_allclose(t.numpy(), np.asarray(want, dtype=t.numpy().dtype), rtol=1e-12)


def expect_error(kind, match, fn):
    try:
        fn()
    except kind as e:
        assert match in str(e), f"{match!r} not in {e}"
        return str(e)
    raise AssertionError(f"{kind.__name__} not raised")


for backend in ("numpy", "array_api_strict:device1", "torch"):
    with xpnet.use_backend(backend):
        mine = [[1.0 + rank, -2.0 * rank], [3.0, rank + 0.5]]  # rank 0 and rank 1's values
        both = [[[1.0, 0.0], [3.0, 0.5]], [[2.0, -2.0], [3.0, 1.5]]]
        a, b = (np.array(v) for v in both)
        for op, want in ((ReduceOp.SUM, a + b), (ReduceOp.AVG, (a + b) / 2),
                         (ReduceOp.MAX, np.maximum(a, b)), (ReduceOp.MIN, np.minimum(a, b)),
                         (ReduceOp.PRODUCT, a * b)):
            t = xpnet.tensor(mine, dtype=xpnet.float64)
            shared = t.data  # shares the values: the result must reach it too
            dist.all_reduce(t, op=op)
            close(t, want)
            close(shared, want)
            assert t.backend == xpnet.backend.load(backend).name and t.dtype is xpnet.float64
        t = xpnet.tensor([rank + 1, 10 * rank], dtype=xpnet.int64)
        dist.all_reduce(t)
        assert t.tolist() == [3, 10] and t.dtype is xpnet.int64
        t = xpnet.tensor([1.0 + rank], dtype=xpnet.float32)
        dist.all_reduce(t, op=ReduceOp.AVG)
        assert t.dtype is xpnet.float32 and t.tolist() == [1.5]
        # non-contiguous input, 0-d and empty tensors
        t = xpnet.tensor(mine, dtype=xpnet.float64).T
        dist.all_reduce(t)
        close(t, (a + b).T)
        t = xpnet.tensor(float(rank), dtype=xpnet.float64)
        dist.all_reduce(t)
        assert t.shape == () and t.item() == 1.0
        t = xpnet.zeros(0, 3, dtype=xpnet.float64)
        dist.all_reduce(t)
        assert t.shape == (0, 3)
        # broadcast from either rank
        for src in (0, 1):
            t = xpnet.tensor(mine, dtype=xpnet.float64)
            dist.broadcast(t, src=src)
            close(t, both[src])
        t = xpnet.tensor(mine, dtype=xpnet.float64)
        dist.broadcast(t, group_src=1)
        close(t, both[1])
        # all_gather, reduce_scatter
        out = [xpnet.zeros(2, 2, dtype=xpnet.float64) for _ in range(world)]
        dist.all_gather(out, xpnet.tensor(mine, dtype=xpnet.float64))
        close(out[0], both[0])
        close(out[1], both[1])
        blocks = [xpnet.tensor([10.0 * rank + r, 1.0]) for r in range(world)]
        out = xpnet.zeros(2)
        dist.reduce_scatter(out, blocks)
        close(out, [10.0 + 2 * rank, 2.0])
        dist.reduce_scatter(out, blocks, op=ReduceOp.AVG)
        close(out, [5.0 + rank, 1.0])
        # async work
        t = xpnet.tensor(mine, dtype=xpnet.float64)
        work = dist.all_reduce(t, async_op=True)
        assert work.wait() is True and work.is_completed()
        close(t, a + b)
        assert work.result()[0] is t
        checked.append(f"values on {backend}")

assert dist.barrier() is None
assert dist.barrier(async_op=True).wait()
checked.append("barrier")

# Disagreements are a ValueError on every rank, naming each rank's call.
text = expect_error(ValueError, "shape (3,)", lambda: dist.all_reduce(xpnet.zeros(3 + rank)))
assert "rank 0: all_reduce(op=ReduceOp.SUM), float32 tensor of shape (3,)" in text, text
assert "rank 1: all_reduce(op=ReduceOp.SUM), float32 tensor of shape (4,)" in text, text
expect_error(ValueError, "float64", lambda: dist.all_reduce(
    xpnet.zeros(3, dtype=xpnet.float64 if rank else xpnet.float32)))
expect_error(ValueError, "rank 1: broadcast(src=0)", lambda: (
    dist.all_reduce(xpnet.zeros(3)) if rank == 0 else dist.broadcast(xpnet.zeros(3), 0)))
expect_error(ValueError, "op=ReduceOp.MAX", lambda: dist.all_reduce(
    xpnet.zeros(3), op=ReduceOp.MAX if rank else ReduceOp.SUM))
expect_error(ValueError, "src=1", lambda: dist.broadcast(xpnet.zeros(3), src=rank))
expect_error(ValueError, "barrier()", lambda: (
    dist.barrier() if rank == 0 else dist.all_reduce(xpnet.zeros(1))))
checked.append("disagreements")
# ...and the group still works after them.
t = xpnet.ones(2)
dist.all_reduce(t)
assert t.tolist() == [2.0, 2.0]

# A collective only rank 0 calls: a timeout error after TIMEOUT seconds, not a hang.
dist.destroy_process_group()
dist.init_process_group("mpi", timeout=TIMEOUT)
elapsed = None
if rank == 0:
    start = time.monotonic()
    message = expect_error(dist.DistBackendError, f"timed out after {TIMEOUT:g} s",
                           lambda: dist.all_reduce(xpnet.ones(2)))
    elapsed = time.monotonic() - start
    assert "XPNET_DIST_TIMEOUT" in message
    expect_error(dist.DistBackendError, "cannot be used any more", dist.barrier)
    checked.append("timeout")
report({"rank": rank, "checked": checked, "timeout_elapsed": elapsed})
