"""Data-parallel training on this machine (xpnet.distributed): scaling from one process to
2 ranks, and the all-reduce bandwidth between 2 ranks.

The numbers come from ``asv_benchmarks/distributed_vs_single.py``, which runs every
configuration in fresh processes (``mpiexec -n 2 python -m mpi4py`` for the ranks); asv tracks
them (``track_``), so a regression in DistributedDataParallel's overlap or in the collectives
shows across commits. Without mpi4py and the mpiexec next to this Python the benchmarks are
skipped.
"""

import importlib.util
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parents[1]
_cache = {}


def _driver():
    if importlib.util.find_spec("mpi4py") is None:
        raise NotImplementedError("mpi4py is not installed: pip install 'xpnet[mpi]'")
    if not (pathlib.Path(sys.executable).parent / "mpiexec").exists():
        raise NotImplementedError(f"no mpiexec next to {sys.executable}")
    sys.path.insert(0, str(HERE))
    try:
        import distributed_vs_single
    finally:
        sys.path.remove(str(HERE))
    return distributed_vs_single


def _measured(key, **options):
    # One measurement per process and configuration, shared by the track_ methods.
    if key not in _cache:
        _cache[key] = _driver().measure(**options)
    return _cache[key]


class DistributedScaling:
    """A training step (Adam, float32, batch 64 per process) of the digits CNN or the
    784-512-512-10 MLP: 2 ranks x 1 thread against 1 process x 1 thread with the same batch
    (weak scaling) and against 1 process x 2 threads with the global batch (strong scaling)."""

    params = [["numpy"], ["cnn", "mlp"]]
    param_names = ["backend", "model"]
    timeout = 600

    def setup(self, backend, model):
        results = _measured(("scaling", model), models=(model,), batch=64, steps=10, warmup=2,
                            sizes=())
        self.run = results["scaling"][model]

    def track_weak_scaling_efficiency(self, backend, model):
        return 100 * self.run["weak_efficiency"]

    track_weak_scaling_efficiency.unit = "%"

    def track_strong_scaling_speedup(self, backend, model):
        return self.run["strong_speedup"]

    track_strong_scaling_speedup.unit = "x"

    def track_gradient_communication_ms(self, backend, model):
        return self.run["2x1"]["comm_ms"]

    track_gradient_communication_ms.unit = "ms"


class AllreduceBandwidth:
    """All-reduce of a float32 buffer between 2 ranks, through xpnet.distributed.all_reduce
    and through mpi4py's Allreduce (the floor xpnet's overhead sits on)."""

    params = [["numpy"], [1, 4, 16, 64]]
    param_names = ["backend", "megabytes"]
    timeout = 600

    def setup(self, backend, megabytes):
        results = _measured(("bandwidth", megabytes), models=(), reps=5, sizes=(megabytes,))
        (self.row,) = results["bandwidth"]

    def track_xpnet_all_reduce_bandwidth(self, backend, megabytes):
        return self.row["xpnet_algbw_GBps"]

    track_xpnet_all_reduce_bandwidth.unit = "GB/s"

    def track_mpi4py_allreduce_bandwidth(self, backend, megabytes):
        return self.row["mpi4py_algbw_GBps"]

    track_mpi4py_allreduce_bandwidth.unit = "GB/s"
