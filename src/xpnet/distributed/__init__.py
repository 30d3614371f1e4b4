"""``xpnet.distributed``: data-parallel training across processes and machines, with the names
of PyTorch's ``torch.distributed``.

Start one process per rank with MPI (``pip install 'xpnet[mpi]'``)::

    mpiexec -n 4 python -m mpi4py train.py

and in ``train.py``::

    import xpnet.distributed as dist
    from xpnet.nn.parallel import DistributedDataParallel
    from xpnet.utils.data.distributed import DistributedSampler

    dist.init_process_group("mpi")          # "nccl" for CuPy on GPUs, "local" for one process
    model = DistributedDataParallel(model)  # same weights everywhere, gradients averaged
    sampler = DistributedSampler(dataset)   # each rank its own, equally long share

Collectives move NumPy arrays through MPI's buffers (mpi4py's upper-case methods, nothing
pickled) and CuPy arrays through NCCL or the host. Each checks first that all ranks called the
same collective with the same shape and dtype, and waits for the others at most ``timeout``
seconds, so a mistake is an error on every rank, not a hang. Importing xpnet does not import
mpi4py: `init_process_group` does.
"""

from .collectives import (
    ReduceOp, Work, all_gather, all_reduce, barrier, broadcast, reduce_scatter,
)
from .engine import DistBackendError, DistError, ProcessGroup
from .process_group import (
    default_pg_timeout, destroy_process_group, get_backend, get_rank, get_world_size,
    init_process_group, is_available, is_initialized, is_mpi_available, is_nccl_available,
)

__all__ = [
    "DistBackendError", "DistError", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_reduce", "barrier", "broadcast", "default_pg_timeout", "destroy_process_group",
    "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "reduce_scatter",
]

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.distributed", "torch.distributed")
