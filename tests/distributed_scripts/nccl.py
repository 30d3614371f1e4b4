"""Run by tests/test_distributed_mpi.py on a machine with a GPU, as
``mpiexec -n 1 python -m mpi4py nccl.py`` (NCCL refuses two ranks on one GPU, so one GPU
gives one rank; each extra GPU allows one more).

The collectives on CuPy tensors through NCCL, and a DistributedDataParallel training step on
the GPU against the same step in one process without communication. Each rank reports its results (report.py).
"""

from __future__ import annotations


import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.nn.parallel import DistributedDataParallel

from report import report  # noqa: I001 - this folder, on sys.path

dist.init_process_group("nccl", timeout=60)
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.get_backend() == "nccl"
device = f"cuda:{rank}"
result = {"rank": rank, "world": world}
with xpnet.use_backend(f"cupy:{rank}"):
    t = xpnet.tensor([1.0 + rank, 2.0], dtype=xpnet.float64)
    dist.all_reduce(t)
    assert t.backend.startswith("cupy")
    result["all_reduce"] = t.tolist()
    t = xpnet.tensor([1.0 + rank, 2.0], dtype=xpnet.float64)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    result["avg"] = t.tolist()
    out = [xpnet.zeros(2, dtype=xpnet.float64) for _ in range(world)]
    dist.all_gather(out, xpnet.tensor([rank, rank + 0.5], dtype=xpnet.float64))
    result["all_gather"] = [o.tolist() for o in out]
    t = xpnet.tensor([float(rank)], dtype=xpnet.float64)
    dist.broadcast(t, src=0)
    result["broadcast"] = t.tolist()
    dist.barrier()

    xpnet.set_default_dtype(xpnet.float64)
    g = xpnet.Generator(0)
    x, y = xpnet.randn(8 * world, 5, generator=g), xpnet.randint(0, 3, (8 * world,), generator=g)
    xpnet.manual_seed(0)
    single = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
    nn.functional.cross_entropy(single(x), y).backward()
    xpnet.manual_seed(0)
    model = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(
        nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))))
    mine = slice(8 * rank, 8 * rank + 8)
    nn.functional.cross_entropy(model(x[mine, ...]), y[mine]).backward()
    result["ddp_grad_diff"] = max((p.grad - q.grad).abs().max().item()
                                  for p, q in zip(model.parameters(), single.parameters()))
dist.destroy_process_group()
report(result)
