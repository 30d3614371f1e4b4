"""`ProcessGroup`: the ranks of a job and the collectives between them, on backend arrays.

Three engines sit behind one interface:

- ``local``: one process; every collective is the identity (for tests and notebooks).
- ``mpi``: mpi4py's non-blocking, buffer-protocol (upper-case) calls on host memory:
  ``Iallreduce``, ``Ibcast``, ``Iallgather(v)``, ``Ireduce_scatter_block``, ``Ibarrier``. Arrays
  of other backends are staged through NumPy (`xpnet.backend.comm`); nothing is pickled.
- ``nccl``: CuPy arrays through ``cupy.cuda.nccl`` on the GPU, with MPI for everything else
  (setting NCCL up, metadata, host arrays).

Every collective starts as a `Pending` and is finished by `ProcessGroup.wait`, which polls it
against a deadline: a rank that never joins (uneven data, a crash elsewhere) becomes a
`DistBackendError` after ``timeout`` seconds instead of a hang. Before a user-facing collective
the ranks compare a few integers (which collective, op, root, dtype, shape) with one small
all-reduce (`ProcessGroup.agree`), so a mismatch is a clear ValueError on every rank rather than
a hang or garbage.
"""

from __future__ import annotations

import os
import time
import zlib

from xpnet.backend import comm as _host

__all__ = ["DistBackendError", "DistError", "Pending", "ProcessGroup"]


class DistError(RuntimeError):
    """Base class of xpnet.distributed's errors (PyTorch's ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed or timed out in the communication backend; the process group cannot
    be used afterwards (PyTorch's ``torch.distributed.DistBackendError``)."""


# Shown as xpnet.distributed.DistBackendError in tracebacks, where users import them from.
DistError.__module__ = DistBackendError.__module__ = "xpnet.distributed"


class Pending:
    """A started collective: ``test()`` says whether it finished, ``result()`` then gives its
    array. ``keep`` holds the buffers MPI reads and writes until then."""

    __slots__ = ("test", "result", "keep")

    def __init__(self, test, result, keep=()):
        self.test, self.result, self.keep = test, result, keep


def _true():
    return True


def done(value):
    """A `Pending` that has already finished with ``value``."""
    return Pending(_true, lambda: value)


# Agreement metadata is padded to a fixed length, so every rank's vector has the same size.
_META_LEN = 16
_SPIN_S = 1e-3     # poll flat out this long (a collective between ready ranks is quick) ...
_YIELD_S = 1.0     # ... then yield the core between polls until this, then sleep 1 ms.
# Yielding matters when ranks share cores: a spinning rank would take the time slice of the
# rank it waits for.
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


class ProcessGroup:
    """The ranks taking part in collectives, and how they talk (PyTorch's ``ProcessGroup``).

    Made by `xpnet.distributed.init_process_group` (the default group), not by users.

    Attributes
    ----------
    backend : str
        ``"mpi"``, ``"nccl"`` or ``"local"``.
    timeout : float
        Seconds a collective may wait for the other ranks.
    """

    def __init__(self, backend, rank, size, timeout, comm=None, mpi=None, nccl=None,
                 device_index=None):
        self.backend, self.timeout = backend, float(timeout)
        self._rank, self._size = int(rank), int(size)
        self._comm, self._mpi, self._nccl = comm, mpi, nccl
        self._device_index = device_index
        self._broken = None  # why the group cannot be used any more (after a timeout)

    def rank(self) -> int:
        """This process's rank in the group, 0 .. size() - 1."""
        return self._rank

    def size(self) -> int:
        """The number of processes in the group."""
        return self._size

    def name(self) -> str:
        return self.backend

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, rank={self._rank}, size={self._size})"

    # -- life cycle ----------------------------------------------------------------------------
    def _dup(self, own_stream=False):
        """A group of the same ranks on communicators of its own (collective: every rank calls
        it), so its collectives never have to be ordered against this group's."""
        if self._comm is None:
            return ProcessGroup(self.backend, self._rank, self._size, self.timeout)
        comm = self._comm.Dup()
        nccl = None
        if self._nccl is not None:
            nccl = make_nccl(comm, self._mpi, self._rank, self._size, self._device_index,
                             self.timeout, own_stream=own_stream)
        return ProcessGroup(self.backend, self._rank, self._size, self.timeout, comm, self._mpi,
                            nccl, self._device_index)

    def _free(self):
        if self._nccl is not None:
            if self._broken:
                self._nccl.abort()
            else:
                self._nccl.destroy()
            self._nccl = None
        if self._comm is not None:
            if not self._broken:  # a communicator with a collective stuck in it is left alone
                self._comm.Free()
            self._comm = None
        self._broken = self._broken or "it was destroyed (destroy_process_group)"

    def check_usable(self, what):
        if self._broken:
            raise DistBackendError(f"{what}: the process group cannot be used any more: "
                                   f"{self._broken}")

    # -- waiting -------------------------------------------------------------------------------
    def wait(self, pendings, what, timeout=None):
        """Poll ``pendings`` until all have finished; DistBackendError after ``timeout`` seconds
        (default: the group's) with ranks still missing."""
        left = [p for p in pendings if not p.test()]
        if not left:
            return
        limit = self.timeout if timeout is None else float(timeout)
        start = time.monotonic()
        while True:
            left = [p for p in left if not p.test()]
            if not left:
                return
            elapsed = time.monotonic() - start
            if elapsed < _SPIN_S:
                continue
            if elapsed > limit:
                self._timed_out(what, limit)
            # MPI advances a non-blocking collective only inside MPI calls, so the polls go on;
            # past the first moments a late peer is likely, so the core is shared.
            if elapsed < _YIELD_S:
                _yield()
            else:
                time.sleep(1e-3)

    def _timed_out(self, what, limit):
        self._broken = (f"{what} timed out after {limit:g} s on rank {self._rank} of "
                        f"{self._size}")
        if self._nccl is not None:
            self._nccl.abort()
        raise DistBackendError(
            f"{what}: timed out after {limit:g} s on rank {self._rank} of {self._size}, waiting "
            f"for ranks that did not join the same collective. A rank that skipped it (more "
            f"batches on some ranks: use DistributedSampler, which gives every rank the same "
            f"number), raised, or exited leaves the others waiting. The limit is "
            f"init_process_group(timeout=...) or the XPNET_DIST_TIMEOUT environment variable "
            f"(seconds); this process group cannot be used any more.")

    # -- agreement -------------------------------------------------------------------------------
    def agree(self, what, meta, describe, problem=None, timeout=None):
        """Check that every rank passed the same ``meta`` (a list of ints); if not, a ValueError
        on every rank: ``what``, ``problem`` and ``describe(meta)`` of each rank. ``timeout``:
        seconds to wait for the others (default: the group's)."""
        if self._size == 1:
            return
        self.check_usable(what)
        meta = _fixed_length(meta)
        # One MAX all-reduce of (meta, -meta) gives the largest and the smallest of each entry.
        both = _host.host_int64(meta + [-m for m in meta])
        out = _host.host_empty(2 * _META_LEN, "int64")
        request = self._comm.Iallreduce(both, out, self._mpi.MAX)
        self.wait([Pending(request.Test, None, (both, out))], what, timeout)
        values = out.tolist()
        if all(values[i] == -values[_META_LEN + i] for i in range(_META_LEN)):
            return
        mine = _host.host_int64(meta)
        rows = _host.host_empty(_META_LEN * self._size, "int64")
        request = self._comm.Iallgather(mine, rows)
        self.wait([Pending(request.Test, None, (mine, rows))], what)
        rows = rows.tolist()
        lines = [f"rank {r}: {describe(_unpad(rows[r * _META_LEN:(r + 1) * _META_LEN]))}"
                 for r in range(self._size)]
        problem = problem or ("the ranks called collectives that do not match; every rank "
                              "must make the same calls with tensors of the same shape and dtype")
        raise ValueError(f"{what}: {problem}. " + "; ".join(lines))

    # -- collectives on arrays ---------------------------------------------------------------
    def _on_gpu(self, backend):
        return self._nccl is not None and backend.family == "cupy"

    def _mpi_op(self, op):
        return {"sum": self._mpi.SUM, "product": self._mpi.PROD, "max": self._mpi.MAX,
                "min": self._mpi.MIN}[op]

    def _start(self, request, result, keep):
        return Pending(request.Test, result, keep)

    def start_all_reduce(self, backend, array, op):
        """``op`` ("sum", "product", "max", "min") elementwise over the ranks' ``array``."""
        if self._size == 1:
            return done(array)
        if self._on_gpu(backend):
            out, event = self._nccl.all_reduce(array, op)
            return Pending(lambda: self._nccl.done(event), lambda: out)
        shape, name = tuple(array.shape), backend.xpnet_dtype(array.dtype).name
        send = _host.host_flat(backend, array)
        recv = _host.host_empty(send.shape[0], name)
        request = self._comm.Iallreduce(send, recv, self._mpi_op(op))
        return self._start(request, lambda: _host.from_host(backend, recv, shape), (send, recv))

    def start_broadcast(self, backend, array, root):
        """Rank ``root``'s ``array`` on every rank."""
        if self._size == 1:
            return done(array)
        if self._on_gpu(backend):
            out, event = self._nccl.broadcast(array, root)
            return Pending(lambda: self._nccl.done(event), lambda: out)
        shape, name = tuple(array.shape), backend.xpnet_dtype(array.dtype).name
        if self._rank == root:
            buffer = _host.host_flat(backend, array)  # only read
            result = lambda: array  # noqa: E731
        else:
            buffer = _host.host_empty(_numel(shape), name)
            result = lambda: _host.from_host(backend, buffer, shape)  # noqa: E731
        request = self._comm.Ibcast(buffer, root=root)
        return self._start(request, result, (buffer,))

    def start_all_gather(self, backend, array):
        """Every rank's ``array``, stacked: shape ``(size, *array.shape)``."""
        shape = (self._size, *array.shape)
        if self._size == 1:
            return done(backend.xp.reshape(array, shape))
        if self._on_gpu(backend):
            out, event = self._nccl.all_gather(array, self._size)
            return Pending(lambda: self._nccl.done(event), lambda: out)
        name = backend.xpnet_dtype(array.dtype).name
        send = _host.host_flat(backend, array)
        recv = _host.host_empty(send.shape[0] * self._size, name)
        request = self._comm.Iallgather(send, recv)
        return self._start(request, lambda: _host.from_host(backend, recv, shape), (send, recv))

    def start_all_gather_rows(self, backend, array, counts):
        """The ranks' ``array`` of shape ``(counts[rank], *rest)`` concatenated along axis 0
        (``counts`` from an earlier all-gather, the same on every rank)."""
        rest = tuple(array.shape[1:])
        total = sum(counts)
        if self._size == 1:
            return done(array)
        if self._on_gpu(backend):
            return self._gather_rows_padded(backend, array, counts)
        row = _numel(rest)
        name = backend.xpnet_dtype(array.dtype).name
        send = _host.host_flat(backend, array)
        recv = _host.host_empty(total * row, name)
        sizes = [c * row for c in counts]
        offsets = [sum(sizes[:r]) for r in range(self._size)]
        request = self._comm.Iallgatherv(send, [recv, (sizes, offsets)])
        return self._start(request, lambda: _host.from_host(backend, recv, (total, *rest)),
                           (send, recv))

    def _gather_rows_padded(self, backend, array, counts):
        # NCCL has no all-gather of different sizes: pad every rank's rows to the largest count.
        xp = backend.xp
        most = max(counts)
        pad = most - array.shape[0]
        if pad:
            array = xp.concat([array, xp.zeros((pad, *array.shape[1:]), dtype=array.dtype,
                                               device=backend.device)], axis=0)
        out, event = self._nccl.all_gather(array, self._size)

        def result():
            return xp.concat([out[r, :counts[r], ...] for r in range(self._size)], axis=0)
        return Pending(lambda: self._nccl.done(event), result)

    def start_reduce_scatter(self, backend, stacked, op):
        """Block ``rank`` of the elementwise ``op`` over the ranks' ``stacked`` (shape
        ``(size, *block)``)."""
        if self._size == 1:
            return done(stacked[0, ...])
        if self._on_gpu(backend):
            out, event = self._nccl.reduce_scatter(stacked, op)
            return Pending(lambda: self._nccl.done(event), lambda: out)
        block = tuple(stacked.shape[1:])
        name = backend.xpnet_dtype(stacked.dtype).name
        send = _host.host_flat(backend, stacked)
        recv = _host.host_empty(_numel(block), name)
        request = self._comm.Ireduce_scatter_block(send, recv, self._mpi_op(op))
        return self._start(request, lambda: _host.from_host(backend, recv, block), (send, recv))

    def start_barrier(self):
        if self._size == 1:
            return done(None)
        return self._start(self._comm.Ibarrier(), lambda: None, ())


def _numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _fixed_length(meta):
    meta = [int(m) for m in meta]
    if len(meta) > _META_LEN - 1:  # fold a long tail (tensors of many axes) into a checksum
        tail = ",".join(map(str, meta[_META_LEN - 2:])).encode()
        meta = meta[:_META_LEN - 2] + [zlib.crc32(tail)]
    return [len(meta)] + meta + [0] * (_META_LEN - 1 - len(meta))


def _unpad(row):
    return row[1:1 + row[0]]


def make_nccl(comm, mpi, rank, size, device_index, timeout, own_stream=False):
    """An NCCL communicator for the ranks of the MPI communicator ``comm`` (collective): rank 0
    draws the unique id and MPI broadcasts it."""
    uid = _host.host_int64(_host.NcclCommunicator.unique_id() if rank == 0 else [0] * 128)
    request = comm.Ibcast(uid, root=0)
    group = ProcessGroup("mpi", rank, size, timeout, comm, mpi)
    group.wait([Pending(request.Test, None, (uid,))], "init_process_group(backend='nccl')")
    return _host.NcclCommunicator(size, uid.tolist(), rank, device_index, own_stream=own_stream)
