"""The default process group: `init_process_group`, `destroy_process_group` and the questions
about it (`get_rank`, `get_world_size`...), with PyTorch's names and signatures.

mpi4py is imported by ``init_process_group("mpi" | "nccl")`` only (importing it starts MPI), so
``import xpnet`` never needs it.
"""

from __future__ import annotations

import datetime
import importlib.util
import numbers
import os

from xpnet.backend import comm as _host

from .engine import Pending, ProcessGroup, make_nccl

__all__ = ["default_pg_timeout", "destroy_process_group", "get_backend", "get_rank",
           "get_world_size", "init_process_group", "is_available", "is_initialized",
           "is_mpi_available", "is_nccl_available"]

# PyTorch's default: how long a collective waits for the other ranks.
default_pg_timeout = datetime.timedelta(minutes=30)
TIMEOUT_ENV = "XPNET_DIST_TIMEOUT"
BACKENDS = ("mpi", "nccl", "local")

_state = {"group": None}


def is_available() -> bool:
    """Whether xpnet.distributed can be used: always True (the ``"local"`` backend needs
    nothing; `is_mpi_available` and `is_nccl_available` tell about the others)."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py is installed (``pip install 'xpnet[mpi]'``); does not start MPI."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """Whether NCCL can be used: CuPy with NCCL and a CUDA GPU (never raises)."""
    return is_mpi_available() and _host.nccl_unusable_reason() is None


def is_initialized() -> bool:
    """Whether `init_process_group` has run (and `destroy_process_group` not since)."""
    return _state["group"] is not None


def resolve_group(op, group=None) -> ProcessGroup:
    """``group``, or the default group; ValueError when there is none (PyTorch's type)."""
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"{op}: group must be a ProcessGroup or None, got "
                            f"{type(group).__name__}")
        return group
    default = _state["group"]
    if default is None:
        raise ValueError(f"{op}: the default process group has not been initialized; call "
                         f"xpnet.distributed.init_process_group() first")
    return default


def get_rank(group=None) -> int:
    """This process's rank, 0 .. world_size - 1.

    Raises
    ------
    ValueError
        When the process group has not been initialized.
    """
    return resolve_group("get_rank", group).rank()


def get_world_size(group=None) -> int:
    """The number of processes in the group.

    Raises
    ------
    ValueError
        When the process group has not been initialized.
    """
    return resolve_group("get_world_size", group).size()


def get_backend(group=None) -> str:
    """The group's backend: ``"mpi"``, ``"nccl"`` or ``"local"``."""
    return resolve_group("get_backend", group).backend


def timeout_seconds(op, timeout):
    """``timeout`` (timedelta, seconds or None) in seconds; None: ``XPNET_DIST_TIMEOUT``, else
    PyTorch's 30 minutes."""
    if timeout is None:
        text = os.environ.get(TIMEOUT_ENV)
        if text is None or not text.strip():
            return default_pg_timeout.total_seconds()
        try:
            seconds = float(text)
        except ValueError:
            raise ValueError(f"{op}: {TIMEOUT_ENV} must be a number of seconds, got "
                             f"{text!r}") from None
        where = f"{TIMEOUT_ENV}={text!r}"
    elif isinstance(timeout, datetime.timedelta):
        seconds, where = timeout.total_seconds(), f"timeout={timeout!r}"
    elif isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
        seconds, where = float(timeout), f"timeout={timeout!r}"
    else:
        raise TypeError(f"{op}: timeout must be a datetime.timedelta, a number of seconds or "
                        f"None, got {type(timeout).__name__}")
    if not seconds > 0 or seconds != seconds:
        raise ValueError(f"{op}: the timeout must be positive, got {where}")
    return seconds


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's processes into the default process group (PyTorch's signature).

    Start the job with MPI, one process per rank (``mpiexec -n 4 python -m mpi4py train.py``;
    ``-m mpi4py`` makes an exception in one rank end the whole job), then call this once in
    each process before any collective.

    Parameters
    ----------
    backend : {"mpi", "nccl", "local"} or None
        ``"mpi"``: collectives through MPI on host memory (CuPy arrays are staged through the
        host). ``"nccl"``: CuPy arrays through NCCL on the GPUs, one GPU per rank (the rank's
        index on its machine unless ``device_id``); MPI still starts the job. ``"local"``: a
        single process, without MPI. PyTorch's CPU backend name ``"gloo"`` means ``"mpi"``.
        None: ``"mpi"`` when mpi4py is installed, else ``"local"``.
    init_method : None or "env://"
        Accepted for PyTorch scripts: the MPI launcher already tells each process its rank.
    timeout : datetime.timedelta or float, optional
        How long a collective waits for the other ranks before raising `DistBackendError`.
        Default: the environment variable ``XPNET_DIST_TIMEOUT`` (seconds), else 30 minutes.
    world_size, rank : int, default=-1
        Checked against what MPI says when given.
    store, group_name, pg_options
        PyTorch's rendezvous options: ``store`` must be None; the others are ignored.
    device_id : int or device, optional
        The GPU of this rank for ``"nccl"``.

    Raises
    ------
    RuntimeError
        Already initialized; mpi4py missing; NCCL unusable or fewer GPUs than ranks on a
        machine.
    ValueError
        An unknown backend, or ``world_size``/``rank`` that contradict the launcher.
    """
    op = "init_process_group"
    if is_initialized():
        raise RuntimeError(f"{op}: trying to initialize the default process group twice; call "
                           f"destroy_process_group() first")
    name = _backend_name(op, backend)
    seconds = timeout_seconds(op, timeout)
    if init_method not in (None, "env://"):
        raise ValueError(f"{op}: init_method={init_method!r} is not supported; xpnet takes the "
                         f"ranks from the MPI launcher (mpiexec), so leave it None")
    if store is not None:
        raise ValueError(f"{op}: store= is not supported; xpnet takes the ranks from the MPI "
                         f"launcher (mpiexec)")
    for arg, value in (("world_size", world_size), ("rank", rank)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{op}: {arg} must be an int, got {type(value).__name__}")
    if name == "local":
        if world_size not in (-1, 1) or rank not in (-1, 0):
            raise ValueError(f"{op}: the 'local' backend is one process (world_size=1, rank=0), "
                             f"got world_size={world_size}, rank={rank}; start the job with "
                             f"mpiexec and backend='mpi' for more")
        _state["group"] = ProcessGroup("local", 0, 1, seconds)
        return
    mpi = _import_mpi(op, name)
    comm = mpi.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size != -1 and world_size != size or rank != -1 and rank != me:
        comm.Free()
        raise ValueError(f"{op}: world_size={world_size}, rank={rank} contradict the MPI launcher"
                         f" (world size {size}, this is rank {me}); leave them at -1")
    nccl, device_index = None, None
    if name == "nccl":
        try:
            device_index = _nccl_device(op, comm, mpi, me, size, seconds, device_id)
            nccl = make_nccl(comm, mpi, me, size, device_index, seconds)
        except BaseException:
            comm.Free()
            raise
    _state["group"] = ProcessGroup(name, me, size, seconds, comm, mpi, nccl, device_index)


def _backend_name(op, backend):
    if backend is None:
        return "mpi" if is_mpi_available() else "local"
    if not isinstance(backend, str):
        raise TypeError(f"{op}: backend must be a str or None, got {type(backend).__name__}")
    name = backend.strip().lower()
    if name == "gloo":  # PyTorch's CPU backend: scripts ported as they are run on MPI
        name = "mpi"
    if name not in BACKENDS:
        raise ValueError(f"{op}: unknown backend {backend!r}; expected one of "
                         f"{', '.join(map(repr, BACKENDS))} (or 'gloo', which means 'mpi')")
    return name


def _import_mpi(op, name):
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"{op}: backend {name!r} needs mpi4py and an MPI ({e}); install them "
                           f"with: pip install 'xpnet[mpi]' (mpi4py and the MPICH wheel), or use "
                           f"backend='local' for one process") from None
    return MPI


def _nccl_device(op, comm, mpi, rank, size, seconds, device_id):
    """This rank's GPU (its index among the ranks on its machine, or ``device_id``), after every
    rank has confirmed it has one: a refusal on one machine stops all, not only that one."""
    from xpnet import cuda
    from xpnet.backend.device import device as _device

    # Collective: every rank splits, whether or not it can use NCCL itself.
    local = comm.Split_type(mpi.COMM_TYPE_SHARED)
    local_rank, local_size = local.Get_rank(), local.Get_size()
    local.Free()
    problem = _host.nccl_unusable_reason()
    if problem is None:
        count = cuda.device_count()
        if device_id is None:
            index = local_rank
        elif isinstance(device_id, numbers.Integral) and not isinstance(device_id, bool):
            index = int(device_id)
        else:
            index = _device(device_id).index or 0
        if device_id is None and local_size > count:
            problem = (f"{local_size} ranks run on this machine but it has {count} GPU(s); "
                       f"NCCL needs a GPU of its own for each rank (it refuses two ranks on one "
                       f"GPU): start at most {count} ranks per machine, or use backend='mpi'")
        elif not 0 <= index < count:
            problem = f"device_id={device_id!r} is not one of this machine's {count} GPU(s)"
    flag = _host.host_int64([0 if problem is None else 1])
    worst = _host.host_empty(1, "int64")
    request = comm.Iallreduce(flag, worst, mpi.MAX)
    ProcessGroup("mpi", rank, size, seconds, comm, mpi).wait(
        [Pending(request.Test, None, (flag, worst))], op)
    if problem is not None:
        raise RuntimeError(f"{op}(backend='nccl') on rank {rank}: {problem}")
    if int(worst.tolist()[0]):
        raise RuntimeError(f"{op}(backend='nccl'): another rank cannot use NCCL (its error says "
                           f"why); this rank stops too")
    cuda.set_device(index)
    return index


def destroy_process_group(group=None):
    """Release the default process group (or ``group``); `init_process_group` may then run
    again. Collectives still in flight are abandoned."""
    pg = resolve_group("destroy_process_group", group)
    pg._free()
    if pg is _state["group"]:
        _state["group"] = None

