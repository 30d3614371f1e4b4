"""Run by tests/test_distributed_mpi.py as ``mpiexec -n 3 python -m mpi4py uneven.py``.

100 samples over 3 ranks: DistributedSampler pads to 102 (34 per rank, every sample seen) or,
with drop_last, trims to 99 (33 each, none twice); set_epoch reshuffles the same way on every
rank; and a DataLoader with the sampler trains a DistributedDataParallel model with
SyncBatchNorm for an epoch, the short last batches included, to equal weights on every rank.
Each rank reports (report.py) what it saw.
"""

from __future__ import annotations

import collections

import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.data import DataLoader, TensorDataset
from xpnet.nn.parallel import DistributedDataParallel
from xpnet.utils.data.distributed import DistributedSampler

from report import report  # noqa: I001 - this folder, on sys.path

dist.init_process_group("mpi", timeout=60)
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 3, world
N = 100


def gathered(sampler):
    """Every rank's indices, in rank order (all ranks have the same number)."""
    mine = xpnet.tensor(list(sampler), dtype=xpnet.int64)
    everyone = [xpnet.zeros_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)
    return [t.tolist() for t in everyone]


result = {"rank": rank}
sampler = DistributedSampler(range(N), seed=7)
shares = gathered(sampler)
counts = collections.Counter(i for share in shares for i in share)
result["padded"] = {"per_rank": [len(s) for s in shares], "distinct": len(counts),
                    "total": sum(counts.values()), "twice": sorted(i for i, c in counts.items()
                                                                  if c == 2)}
sampler.set_epoch(1)
reshuffled = gathered(sampler)
result["set_epoch_changes_order"] = reshuffled != shares
trimmed = gathered(DistributedSampler(range(N), seed=7, drop_last=True))
flat = [i for share in trimmed for i in share]
result["drop_last"] = {"per_rank": [len(s) for s in trimmed], "distinct": len(set(flat)),
                       "total": len(flat)}

# One epoch of training through a DataLoader: 34 samples per rank in batches of 8, the last 2.
g = xpnet.Generator(0)
data = TensorDataset(xpnet.randn(N, 6, generator=g), xpnet.randint(0, 2, (N,), generator=g))
sampler = DistributedSampler(data, seed=1)
loader = DataLoader(data, batch_size=8, sampler=sampler)
xpnet.manual_seed(rank)
model = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(
    nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))))
opt = xpnet.optim.SGD(model.parameters(), lr=0.1)
sizes = []
for epoch in range(2):
    sampler.set_epoch(epoch)
    for x, y in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sizes.append(x.shape[0])
result["batch_sizes"] = sizes
weights = xpnet.cat([p.detach().reshape(-1) for p in model.parameters()])
everyone = [xpnet.zeros_like(weights) for _ in range(world)]
dist.all_gather(everyone, weights)
result["weights_differ_by"] = max((t - weights).abs().max().item() for t in everyone)
report(result)
