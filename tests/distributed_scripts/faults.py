"""Run by tests/test_distributed_mpi.py as ``mpiexec -n 2 python -m mpi4py faults.py MODE``;
each mode must end the whole job with a non-zero exit within seconds, not hang.

- ``raise``: rank 1 raises while rank 0 waits in a barrier (with a 10-minute timeout); under
  ``python -m mpi4py`` the exception aborts the job, and its traceback is printed.
- ``uneven``: each rank trains on its own slice of an uneven data set without
  DistributedSampler, so rank 0 has one batch more; its last backward waits for a gradient
  all-reduce rank 1 never starts, and fails after XPNET_DIST_TIMEOUT seconds.
"""

from __future__ import annotations

import sys

import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.nn.parallel import DistributedDataParallel

mode = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()

if mode == "raise":
    if rank == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.barrier(timeout=600)
elif mode == "uneven":
    g = xpnet.Generator(0)
    x, y = xpnet.randn(36, 4, generator=g), xpnet.randint(0, 2, (36,), generator=g)
    mine = slice(0, 20) if rank == 0 else slice(20, 36)  # 5 batches of 4 against 4
    dist.barrier(timeout=120)  # line the ranks up first: the group's timeout is short
    model = DistributedDataParallel(nn.Linear(4, 2))
    for start in range(mine.start, mine.stop, 4):
        nn.functional.cross_entropy(model(x[start:start + 4]), y[start:start + 4]).backward()
    print(f"rank {rank} finished its batches", flush=True)
else:
    raise ValueError(f"unknown mode {mode!r}")
