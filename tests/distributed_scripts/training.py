"""Run by tests/test_distributed_mpi.py as
``mpiexec -n 2 python -m mpi4py training.py CHECKPOINT_DIR``.

Data-parallel training equals single-process training: on each rank, DistributedDataParallel
with 32 samples per rank is compared with the same model trained in this process on the whole
64-sample batches (float64, several SGD-with-momentum and Adam steps) for an MLP, a CNN with
SyncBatchNorm, an LSTM and a sparse embedding model; then a checkpoint written by rank 0 is
loaded on every rank and training goes on as if uninterrupted; then gradient accumulation with
no_sync, parameters used on one rank only or on none, the gradients on array_api_strict (on
its second device) and torch, and models that differ between ranks.
Each rank reports (report.py) the largest differences; a failed check aborts the job.
"""

from __future__ import annotations

import pathlib
import sys

import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.data import DataLoader, TensorDataset
from xpnet.nn.parallel import DistributedDataParallel
from xpnet.utils.data.distributed import DistributedSampler

from report import report  # noqa: I001 - this folder, on sys.path

xpnet.set_default_dtype(xpnet.float64)
dist.init_process_group("mpi", timeout=60)
rank, world = dist.get_rank(), dist.get_world_size()
PER_RANK, STEPS = 32, 4
checkpoint_dir = pathlib.Path(sys.argv[1])


class LastStep(nn.Module):
    """An LSTM over the sequence, then a linear map of its last output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


class BagOfWords(nn.Module):
    """The mean of sparse-gradient embeddings, then a linear map."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(40, 6, sparse=True)
        self.head = nn.Linear(6, 3)

    def forward(self, tokens):
        return self.head(self.embedding(tokens).mean(axis=1))


def build(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
    if kind == "cnn":
        # No conv bias before batch norm: its true gradient is zero, so Adam (which divides by
        # the gradient's size) would turn rounding noise of 1e-17 into 1e-9 steps.
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                             nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    return LastStep() if kind == "lstm" else BagOfWords()


def dataset(kind, batches=STEPS):
    g = xpnet.Generator(1)
    n = batches * PER_RANK * world
    x = {"mlp": lambda: xpnet.randn(n, 10, generator=g),
         "cnn": lambda: xpnet.randn(n, 1, 8, 8, generator=g) + 0.5,
         "lstm": lambda: xpnet.randn(n, 6, 4, generator=g),
         "embedding": lambda: xpnet.randint(0, 40, (n, 5), generator=g)}[kind]()
    return TensorDataset(x, xpnet.randint(0, 3, (n,), generator=g))


def optimizer(name, params):
    if name == "sgd":
        return xpnet.optim.SGD(params, lr=0.05, momentum=0.9)
    return xpnet.optim.Adam(params, lr=0.01)


def loader(data, parallel, epoch=0):
    # The single process takes the same shuffled order whole: step k of it is the union of
    # the ranks' step k.
    sampler = DistributedSampler(data, num_replicas=world if parallel else 1,
                                 rank=rank if parallel else 0, seed=3)
    sampler.set_epoch(epoch)
    return DataLoader(data, batch_size=PER_RANK * (1 if parallel else world), sampler=sampler)


def wrap(model, **options):
    return DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model), **options)


def train(model, opt, batches):
    loss_fn = nn.CrossEntropyLoss()
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


def state(model):
    module = model.module if isinstance(model, DistributedDataParallel) else model
    return {k: v.numpy() for k, v in module.state_dict().items()}


def max_diff(a, b):
    assert a.keys() == b.keys(), (a.keys(), b.keys())
    return max(float(abs(a[k] - b[k]).max()) if a[k].size else 0.0 for k in a)


diffs = {}
for kind in ("mlp", "cnn", "lstm", "embedding"):
    for opt_name in ("sgd", "adam"):
        data = dataset(kind)
        xpnet.manual_seed(0)
        single = build(kind)
        opt = optimizer(opt_name, single.parameters())
        train(single, opt, loader(data, parallel=False))
        xpnet.manual_seed(rank)  # a different start on each rank: wrapping copies rank 0's
        # Small buckets on the CNN: several buckets in flight while backward runs.
        model = wrap(build(kind), bucket_cap_mb=3e-5 if kind == "cnn" else 25)
        assert len(model.reducer.buckets) > (3 if kind == "cnn" else 0)
        opt = optimizer(opt_name, model.parameters())
        train(model, opt, loader(data, parallel=True))
        if kind == "embedding":  # the reduced gradient stayed sparse
            assert model.module.embedding.weight.grad.is_sparse
        diffs[f"{kind}/{opt_name}"] = max_diff(state(model), state(single))

# A checkpoint written by rank 0 (model and optimizer) goes on on every rank as if uninterrupted.
for kind, opt_name in (("cnn", "adam"), ("mlp", "sgd")):
    data = dataset(kind, batches=2)
    xpnet.manual_seed(0)
    model = wrap(build(kind))
    opt = optimizer(opt_name, model.parameters())
    for epoch in range(2):
        train(model, opt, loader(data, parallel=True, epoch=epoch))
    uninterrupted = state(model)

    xpnet.manual_seed(0)
    model = wrap(build(kind))
    opt = optimizer(opt_name, model.parameters())
    train(model, opt, loader(data, parallel=True, epoch=0))
    path = checkpoint_dir / f"{kind}.safetensors"
    if rank == 0:
        xpnet.save({"model": model.module.state_dict(), "optimizer": opt.state_dict()}, path)
    dist.barrier()
    xpnet.manual_seed(100 + rank)  # fresh weights that differ: only the file can make them equal
    module = nn.SyncBatchNorm.convert_sync_batchnorm(build(kind))
    checkpoint = xpnet.load(path)
    module.load_state_dict(checkpoint["model"])
    opt = optimizer(opt_name, module.parameters())
    opt.load_state_dict(checkpoint["optimizer"])
    model = DistributedDataParallel(module, init_sync=False)  # no broadcast: each rank loaded
    train(model, opt, loader(data, parallel=True, epoch=1))
    diffs[f"checkpoint {kind}/{opt_name}"] = max_diff(state(model), uninterrupted)

# Gradient accumulation: two micro-batches per rank, the first under no_sync.
data = dataset("mlp")
xpnet.manual_seed(0)
single = build("mlp")
opt = optimizer("sgd", single.parameters())
train(single, opt, loader(data, parallel=False))
xpnet.manual_seed(0)
model = wrap(build("mlp"))
opt = optimizer("sgd", model.parameters())
loss_fn = nn.CrossEntropyLoss()
for x, y in loader(data, parallel=True):
    opt.zero_grad()
    with model.no_sync():
        (loss_fn(model(x[:16]), y[:16]) * 0.5).backward()
    (loss_fn(model(x[16:]), y[16:]) * 0.5).backward()
    opt.step()
diffs["no_sync"] = max_diff(state(model), state(single))


class Branches(nn.Module):
    """``a`` always, ``b`` when asked, ``c`` never."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x, use_b):
        out = self.a(x)
        return out + self.b(x) if use_b else out


# b is used on rank 0 only, c on no rank; one bucket per parameter.
g = xpnet.Generator(5)
xs = [xpnet.randn(8, 4, generator=g) for _ in range(world)]
xpnet.manual_seed(0)
single = Branches()
((single(xs[0], True).square().mean() + sum(single(x, False).square().mean() for x in xs[1:]))
 / world).backward()
xpnet.manual_seed(0)
model = DistributedDataParallel(Branches(), bucket_cap_mb=1e-6)
for _ in range(2):  # twice: nothing stale is left from the first iteration
    model.zero_grad()
    model(xs[rank], rank == 0).square().mean().backward()
    if rank == 0:  # a forward on one rank, gradients on, no backward: nothing is sent
        model.eval()
        model(xs[0], True)
        model.train()
assert model.module.c.weight.grad is None and model.module.c.bias.grad is None
diffs["unused parameters"] = max(
    float(abs(p.grad.numpy() - q.grad.numpy()).max())
    for p, q in zip(model.module.parameters(), single.parameters()) if q.grad is not None)


class Mixed(nn.Module):
    """A convolution with batch norm, a sparse embedding, and a layer never used."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 2, 3, bias=False), nn.BatchNorm2d(2)
        self.embedding = nn.Embedding(10, 2, sparse=True)
        self.head, self.unused = nn.Linear(8 + 2, 2), nn.Linear(2, 2)

    def forward(self, x, tokens):
        features = self.bn(self.conv(x)).relu().flatten(1)
        return self.head(xpnet.cat([features, self.embedding(tokens).mean(axis=1)], axis=1))


def dense(grad):
    return grad.to_dense() if getattr(grad, "is_sparse", False) else grad


# The gradients on the other backends, a device other than the default one included.
for backend in ("array_api_strict:device1", "torch"):
    with xpnet.use_backend(backend):
        g = xpnet.Generator(0)
        x = xpnet.randn(16, 3, 4, 4, generator=g)
        tokens = xpnet.randint(0, 10, (16, 3), generator=g)
        y = xpnet.randint(0, 2, (16,), generator=g)
        xpnet.manual_seed(0)
        single = Mixed()
        nn.functional.cross_entropy(single(x, tokens), y).backward()
        xpnet.manual_seed(0)
        model = wrap(Mixed(), bucket_cap_mb=1e-5)
        mine = slice(8 * rank, 8 * rank + 8)
        nn.functional.cross_entropy(model(x[mine, ...], tokens[mine, ...]), y[mine]).backward()
        assert model.module.embedding.weight.grad.is_sparse
        assert model.module.unused.weight.grad is None
        for p in model.parameters():
            assert p.grad is None or p.grad.backend == xpnet.backend.load(backend).name
        diffs[f"{backend} gradients"] = max(
            float(abs(dense(p.grad).numpy() - dense(q.grad).numpy()).max())
            for p, q in zip(model.module.parameters(), single.parameters()) if q.grad is not None)

# Different models on different ranks: a ValueError on every rank, before any training.
try:
    DistributedDataParallel(nn.Linear(4, 2 + rank))
except ValueError as e:
    assert "the wrapped models differ between ranks" in str(e), e
else:
    raise AssertionError("no error for different models")

report({"rank": rank, "max_diff": diffs})
