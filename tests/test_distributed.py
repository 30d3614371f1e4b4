"""xpnet.distributed, DistributedDataParallel, SyncBatchNorm and DistributedSampler in one
process (the "local" backend, and the pieces that need no other rank). Several ranks:
tests/test_distributed_mpi.py."""

from __future__ import annotations

import datetime
import subprocess
import sys
import time

import pytest

import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.data import DataLoader, DistributedSampler, TensorDataset
from xpnet.distributed.collectives import describe, meta
from xpnet.distributed.engine import Pending, ProcessGroup
from xpnet.nn.parallel import DistributedDataParallel
from xpnet.nn.parallel.reducer import FIRST_BUCKET_BYTES, build_buckets, used_leaves
from xpnet.nn.sync_batchnorm import SyncStandardize

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, gradcheck


@pytest.fixture
def local_group():
    dist.init_process_group("local")
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_importing_xpnet_leaves_mpi4py_alone():
    code = "import sys, xpnet; assert 'mpi4py' not in sys.modules; print(xpnet.distributed)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_torch_names_are_there_and_missing_ones_say_so():
    for name in ("init_process_group", "is_available", "is_initialized", "get_rank",
                 "get_world_size", "barrier", "destroy_process_group", "broadcast",
                 "all_reduce", "all_gather", "reduce_scatter", "ReduceOp", "is_mpi_available",
                 "is_nccl_available", "get_backend", "default_pg_timeout"):
        assert hasattr(dist, name), name
    assert {op.name for op in dist.ReduceOp} == {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)
    assert dist.is_available() and not dist.is_initialized()
    with pytest.raises(AttributeError, match="torch.distributed.new_group is not in xpnet"):
        dist.new_group  # noqa: B018
    assert xpnet.nn.parallel.DistributedDataParallel is DistributedDataParallel
    from xpnet.nn.modules.batchnorm import SyncBatchNorm
    assert SyncBatchNorm is nn.SyncBatchNorm
    from xpnet.utils.data.distributed import DistributedSampler as Sampler
    assert Sampler is DistributedSampler


def test_the_local_group_answers_like_one_rank(local_group):
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "local")
    with pytest.raises(RuntimeError, match="initialize the default process group twice"):
        dist.init_process_group("local")
    dist.destroy_process_group()
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="get_rank: the default process group has not been "
                                         "initialized"):
        dist.get_rank()


def test_collectives_on_one_rank_keep_values_and_backend(backend, local_group):
    x = xpnet.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=xpnet.float64)
    for op in dist.ReduceOp:
        t = x.clone()
        assert dist.all_reduce(t, op=op) is None
        assert_close(t, x.numpy())
        assert_on_device(t, backend)
    t = x.clone()
    dist.broadcast(t, src=0)
    assert_close(t, x.numpy())
    gathered = [xpnet.zeros(2, 2, dtype=xpnet.float64)]
    dist.all_gather(gathered, x)
    assert_close(gathered[0], x.numpy())
    assert_on_device(gathered[0], backend)
    out = xpnet.zeros(2, 2, dtype=xpnet.float64)
    dist.reduce_scatter(out, [x], op=dist.ReduceOp.AVG)
    assert_close(out, x.numpy())
    assert_on_device(out, backend)
    work = dist.all_reduce(x.clone(), async_op=True)
    assert work.wait() and work.is_completed()
    assert dist.barrier() is None and dist.barrier(async_op=True).wait()


def test_collectives_check_their_arguments(local_group):
    t = xpnet.zeros(3)
    with pytest.raises(TypeError, match="all_reduce: tensor must be an xpnet Tensor, got list"):
        dist.all_reduce([1.0])
    with pytest.raises(TypeError, match="all_reduce: op must be a ReduceOp"):
        dist.all_reduce(t, op="sum")
    with pytest.raises(TypeError, match="ReduceOp.AVG needs a floating-point tensor, got int64"):
        dist.all_reduce(xpnet.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="bool tensors cannot be reduced"):
        dist.all_reduce(xpnet.tensor([True]))
    with pytest.raises(TypeError, match="async_op must be True or False"):
        dist.all_reduce(t, async_op=1)
    with pytest.raises(ValueError, match=r"broadcast: src must be a rank in \[0, 0\], got 1"):
        dist.broadcast(t, src=1)
    with pytest.raises(ValueError, match="give exactly one of src and group_src"):
        dist.broadcast(t)
    with pytest.raises(ValueError, match="give exactly one of src and group_src"):
        dist.broadcast(t, src=0, group_src=0)
    with pytest.raises(ValueError, match=r"tensor_list must hold one tensor per rank \(1\), "
                                         r"got 2"):
        dist.all_gather([t, t], t)
    with pytest.raises(ValueError, match=r"input_list\[0\] is a float32 tensor of shape \(2,\)"):
        dist.reduce_scatter(t, [xpnet.zeros(2)])
    with pytest.raises(TypeError, match="group must be a ProcessGroup or None, got str"):
        dist.all_reduce(t, group="world")


def test_collectives_need_a_process_group():
    with pytest.raises(ValueError, match="all_reduce: the default process group has not been "
                                         "initialized; call xpnet.distributed."
                                         "init_process_group"):
        dist.all_reduce(xpnet.zeros(2))


def test_init_process_group_checks_its_arguments():
    with pytest.raises(ValueError, match="unknown backend 'ucc'"):
        dist.init_process_group("ucc")
    with pytest.raises(TypeError, match="backend must be a str or None, got int"):
        dist.init_process_group(1)
    with pytest.raises(ValueError, match="'local' backend is one process"):
        dist.init_process_group("local", world_size=2)
    with pytest.raises(ValueError, match="init_method='tcp://10.1.1.20:23456' is not supported"):
        dist.init_process_group("local", init_method="tcp://10.1.1.20:23456")
    with pytest.raises(ValueError, match="store= is not supported"):
        dist.init_process_group("local", store=object())
    with pytest.raises(ValueError, match="the timeout must be positive"):
        dist.init_process_group("local", timeout=datetime.timedelta(0))
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta"):
        dist.init_process_group("local", timeout="10s")
    assert not dist.is_initialized()
    from xpnet.distributed.process_group import _backend_name
    assert _backend_name("init_process_group", "GLOO") == "mpi"  # PyTorch's CPU backend


def test_the_timeout_comes_from_the_argument_then_the_environment(monkeypatch):
    from xpnet.distributed.process_group import timeout_seconds
    monkeypatch.delenv("XPNET_DIST_TIMEOUT", raising=False)
    assert timeout_seconds("op", None) == 1800
    assert timeout_seconds("op", datetime.timedelta(seconds=90)) == 90
    monkeypatch.setenv("XPNET_DIST_TIMEOUT", "2.5")
    assert timeout_seconds("op", None) == 2.5
    assert timeout_seconds("op", 7) == 7
    monkeypatch.setenv("XPNET_DIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="XPNET_DIST_TIMEOUT must be a number of seconds, got "
                                         "'soon'"):
        timeout_seconds("op", None)


def test_a_collective_that_never_finishes_times_out():
    group = ProcessGroup("local", 0, 1, timeout=0.2)
    start = time.monotonic()
    with pytest.raises(dist.DistBackendError, match="all_reduce: timed out after 0.2 s on rank "
                                                    "0 of 1"):
        group.wait([Pending(lambda: False, None)], "all_reduce")
    assert 0.2 <= time.monotonic() - start < 2
    with pytest.raises(dist.DistBackendError, match="barrier: the process group cannot be used "
                                                    "any more: all_reduce timed out"):
        group.check_usable("barrier")


def test_metadata_describes_each_call():
    assert describe(meta("all_reduce", "float32", (3, 4), dist.ReduceOp.MAX)) == \
        "all_reduce(op=ReduceOp.MAX), float32 tensor of shape (3, 4)"
    assert describe(meta("broadcast", "int64", (), root=1)) == \
        "broadcast(src=1), int64 tensor of shape ()"
    assert describe(meta("barrier")) == "barrier()"


# -- DistributedSampler -------------------------------------------------------------------------

@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 4, False),
                                                    (12, 4, True), (7, 2, False)])
def test_distributed_sampler_shares_out_the_indices_as_torch(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data.distributed")
    for rank in range(replicas):
        got = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        want = torch_data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                             drop_last=drop_last)
        assert list(got) == list(want) and len(got) == len(want)


def test_distributed_sampler_shuffles_the_same_way_on_every_rank():
    samplers = [DistributedSampler(range(50), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(50))
    assert [list(s) for s in samplers] == first  # the same epoch: the same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(second[0] + second[1]) == list(range(50))


def test_distributed_sampler_takes_the_group_and_feeds_a_data_loader(local_group):
    data = TensorDataset(xpnet.arange(10.0), xpnet.arange(10))
    sampler = DistributedSampler(data, shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (1, 0)
    loader = DataLoader(data, batch_size=4, sampler=sampler)
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match="num_replicas was not given and the default process "
                                         "group has not been initialized"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match=r"invalid rank 2; rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


# -- DistributedDataParallel on one rank ---------------------------------------------------------

def test_ddp_on_one_rank_is_the_module(backend, local_group):
    xpnet.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model = DistributedDataParallel(module)
    assert model.module is module
    assert [id(p) for p in model.parameters()] == [id(p) for p in module.parameters()]
    assert list(model.state_dict()) == [f"module.{k}" for k in module.state_dict()]
    x = xpnet.randn(5, 3)
    out = model(x)
    assert_close(out, module(x).numpy())
    out.sum().backward()
    grads = [p.grad.numpy() for p in module.parameters()]
    module.zero_grad()
    module(x).sum().backward()
    for p, g in zip(module.parameters(), grads):
        assert_close(p.grad, g)
        assert_on_device(p.grad, backend)
    assert model.require_backward_grad_sync
    with model.no_sync():
        assert not model.require_backward_grad_sync
    assert model.require_backward_grad_sync
    assert repr(model).startswith("DistributedDataParallel(\n  world_size=1, backend='local'")


def test_ddp_checks_its_arguments(local_group):
    with pytest.raises(TypeError, match="module must be an xpnet Module, got function"):
        DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number of MiB, got 0"):
        DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)
    with pytest.raises(TypeError, match="broadcast_buffers must be True or False, got 1"):
        DistributedDataParallel(nn.Linear(2, 2), broadcast_buffers=1)


def test_ddp_needs_a_process_group():
    with pytest.raises(ValueError, match="DistributedDataParallel: the default process group "
                                         "has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))


def test_buckets_run_backwards_per_dtype_within_the_cap():
    xpnet.manual_seed(0)
    big = [nn.Parameter(xpnet.zeros(300_000)) for _ in range(3)]  # 1.2 MB each in float32
    small = nn.Parameter(xpnet.zeros(10, dtype=xpnet.float64))
    sparse = nn.Parameter(xpnet.zeros(20, 3))
    params = [*big, small, sparse]
    buckets = build_buckets(params, {id(sparse)}, cap_bytes=3_000_000)
    position = {id(p): i for i, p in enumerate(params)}
    layout = [[position[id(p)] for p in b.params] for b in buckets]
    # reversed order; the sparse weight alone; float64 apart; the first float32 bucket closes
    # past 1 MiB, the next ones at the cap
    assert layout == [[4], [3], [2], [1, 0]]
    assert buckets[2].bytes() >= FIRST_BUCKET_BYTES
    assert [b.index for b in buckets] == [0, 1, 2, 3]


def test_used_leaves_are_those_the_outputs_reach():
    a, b, c = (nn.Parameter(xpnet.randn(2)) for _ in range(3))
    out = (a * 2 + b).sum()
    assert used_leaves([out, {"x": a}]) == {id(a), id(b)}
    assert used_leaves(c) == {id(c)}
    with xpnet.no_grad():
        assert used_leaves(a * c) == set()


# -- SyncBatchNorm -------------------------------------------------------------------------------

def test_sync_batch_norm_without_a_group_is_batch_norm(backend):
    torch = pytest.importorskip("torch")
    (x,) = random_arrays((6, 3, 4, 5), seed=1)
    xpnet.set_default_dtype(xpnet.float64)
    layer = nn.SyncBatchNorm(3)
    reference = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    xt = xpnet.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    for _ in range(2):
        out, want = layer(xt), reference(tt)
        assert_close(out, want)
        assert_on_device(out, backend)
    (out * out).sum().backward()
    (want * want).sum().backward()
    assert_close(xt.grad, tt.grad)
    assert_close(layer.weight.grad, reference.weight.grad)
    assert_close(layer.running_var, reference.running_var)
    layer.eval()
    reference.eval()
    assert_close(layer(xt), reference(tt))


def test_sync_standardize_over_one_rank_matches_torch_and_gradchecks(backend):
    torch = pytest.importorskip("torch")
    group = ProcessGroup("local", 0, 1, timeout=10)
    (x,) = random_arrays((5, 2, 3), seed=2)
    stats = []
    xt = xpnet.tensor(x, requires_grad=True)
    out = SyncStandardize.apply(xt, (0, 2), 1e-5, group=group, stats=stats)
    want = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True, eps=1e-5)
    assert_close(out, want)
    assert_on_device(out, backend)
    assert stats[2] == 15
    gradcheck(lambda t: SyncStandardize.apply(t, (0, 2), 1e-5, group=group), [x])


def test_convert_sync_batchnorm_keeps_the_parameters_and_buffers():
    inner = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), inner).eval()
    bn, bn1 = model[1], inner[1]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    for old, new in ((bn, model[1]), (bn1, inner[1])):
        assert type(new) is nn.SyncBatchNorm and not new.training
        assert new.weight is old.weight and new.bias is old.bias
        assert new.running_mean is old.running_mean
        assert new.num_batches_tracked is old.num_batches_tracked
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(5, affine=False))
    assert type(single) is nn.SyncBatchNorm and single.weight is None
    with pytest.raises(TypeError, match="convert_sync_batchnorm: expected a Module, got int"):
        nn.SyncBatchNorm.convert_sync_batchnorm(3)


def test_sync_batch_norm_errors():
    with pytest.raises(ValueError, match=r"expected an input of at least 2 axes \(N, C, \*\), "
                                         r"got shape \(4,\)"):
        nn.SyncBatchNorm(4)(xpnet.zeros(4))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.SyncBatchNorm(0)
