"""The array-library side of `xpnet.distributed`: host buffers for MPI, NCCL for CuPy.

MPI (through mpi4py's upper-case, buffer-protocol methods) reads and writes contiguous host
memory, so every backend's array is handed over as a 1-D C-contiguous NumPy array: the array
itself (or a view of it) for a contiguous NumPy array, a host copy otherwise (CuPy, torch,
array_api_strict). Results come back as fresh arrays of the backend, never written into an
array a tensor already holds (xpnet's in-place updates rebind, see `Tensor._set_array`).

NCCL (CuPy's ``cupy.cuda.nccl``) reduces CuPy arrays on the GPU; a collective is enqueued on the
current stream and an event recorded after it says when it is done, so the caller can poll
with a deadline instead of blocking forever.
"""

from __future__ import annotations

import functools

import numpy as np

from .registry import cupy_unusable_reason

__all__ = ["NcclCommunicator", "from_host", "host_empty", "host_flat", "host_int64",
           "nccl_unusable_reason"]


def host_flat(backend, array):
    """The values of ``array`` as a 1-D C-contiguous NumPy array (no copy when ``array`` is a
    contiguous NumPy array: then only read it, e.g. as a send buffer)."""
    if backend.family == "numpy":
        return np.ravel(array)  # a view when contiguous, else a contiguous copy
    return np.ravel(backend.to_numpy(array))


def host_empty(n, dtype_name):
    """An uninitialised 1-D NumPy array of ``n`` elements of the named dtype (``"float64"``)."""
    return np.empty(int(n), dtype=np.dtype(dtype_name))


def host_int64(values):
    """A 1-D int64 NumPy array of ``values`` (metadata and counts)."""
    return np.asarray(values, dtype=np.int64).reshape(-1)


def from_host(backend, host, shape):
    """A new array of ``backend`` with the values of the 1-D NumPy array ``host``, in ``shape``
    (the caller hands over ``host``: it is not reused)."""
    a = host.reshape(shape)
    if backend.family == "numpy":
        return a
    return backend.asarray(a)


# -- NCCL ----------------------------------------------------------------------------------------

@functools.cache
def nccl_unusable_reason() -> str | None:
    """Why NCCL cannot run here (None when it can). Never raises; probed once."""
    why = cupy_unusable_reason()
    if why is not None:
        return why
    try:
        from cupy.cuda import nccl
        if not getattr(nccl, "available", True):
            return "CuPy was built without NCCL (cupy.cuda.nccl.available is False)"
        nccl.get_version()
    except Exception as e:  # ImportError, or the NCCL library failing to load
        return f"CuPy cannot load NCCL ({type(e).__name__}: {e})"
    return None


def _nccl_dtype(nccl, dtype):
    table = {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
             "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8,
             "int8": nccl.NCCL_INT8, "uint32": nccl.NCCL_UINT32, "uint64": nccl.NCCL_UINT64}
    name = np.dtype(dtype).name
    if name not in table:
        raise TypeError(f"NCCL cannot reduce {name} arrays; use one of {', '.join(table)}")
    return table[name]


class _Enqueued:
    """A collective enqueued on a stream: the CUDA event recorded after it, and the buffers it
    reads and writes, held until it is done (a copy freed early could be reused by CuPy's
    memory pool while NCCL still reads it on another stream)."""

    __slots__ = ("event", "keep")

    def __init__(self, event, keep):
        self.event, self.keep = event, keep


class NcclCommunicator:
    """One rank's NCCL communicator on one GPU (``device_index``), made from the unique id that
    rank 0 drew with `unique_id` and sent to every rank.

    With ``own_stream`` the collectives run on a stream of their own, after the work queued so
    far on the current stream: two communicators whose collectives the ranks interleave
    differently (gradient buckets against SyncBatchNorm's statistics) then cannot block each
    other behind one stream.
    """

    def __init__(self, size, uid, rank, device_index, own_stream=False):
        import cupy
        from cupy.cuda import nccl
        self._nccl, self._cupy, self.device_index = nccl, cupy, int(device_index)
        with cupy.cuda.Device(self.device_index):
            self._comm = nccl.NcclCommunicator(int(size), tuple(int(c) for c in uid), int(rank))
            self._side = cupy.cuda.Stream(non_blocking=True) if own_stream else None

    @staticmethod
    def unique_id():
        """A fresh NCCL unique id as a list of 128 small ints (rank 0 draws it)."""
        from cupy.cuda import nccl
        return list(nccl.get_unique_id())

    def _op(self, op):
        return {"sum": self._nccl.NCCL_SUM, "product": self._nccl.NCCL_PROD,
                "max": self._nccl.NCCL_MAX, "min": self._nccl.NCCL_MIN}[op]

    def _run(self, launch, array, out_shape):
        """Enqueue ``launch(send, stream_ptr) -> recv``; (recv in ``out_shape``, `_Enqueued`)."""
        cupy = self._cupy
        with cupy.cuda.Device(self.device_index):
            send = cupy.ascontiguousarray(array).reshape(-1)
            current = cupy.cuda.get_current_stream()
            stream = current
            if self._side is not None:
                # The inputs are written by work queued on the current stream.
                ready = cupy.cuda.Event(disable_timing=True)
                ready.record(current)
                self._side.wait_event(ready)
                stream = self._side
            recv = launch(send, stream.ptr)
            done = cupy.cuda.Event(disable_timing=True)
            done.record(stream)
            return recv.reshape(out_shape), _Enqueued(done, (send, recv))

    def all_reduce(self, array, op):
        """(result, event): the elementwise ``op`` ("sum", "product", "max", "min") over ranks."""
        def launch(send, stream):
            recv = self._cupy.empty_like(send)
            self._comm.allReduce(send.data.ptr, recv.data.ptr, send.size,
                                 _nccl_dtype(self._nccl, send.dtype), self._op(op), stream)
            return recv
        return self._run(launch, array, array.shape)

    def broadcast(self, array, root):
        """(result, event): ``array`` of rank ``root`` on every rank."""
        def launch(send, stream):
            recv = self._cupy.empty_like(send)
            self._comm.broadcast(send.data.ptr, recv.data.ptr, send.size,
                                 _nccl_dtype(self._nccl, send.dtype), int(root), stream)
            return recv
        return self._run(launch, array, array.shape)

    def all_gather(self, array, size):
        """(result of shape (size, *array.shape), event)."""
        def launch(send, stream):
            recv = self._cupy.empty((size * send.size,), dtype=send.dtype)
            self._comm.allGather(send.data.ptr, recv.data.ptr, send.size,
                                 _nccl_dtype(self._nccl, send.dtype), stream)
            return recv
        return self._run(launch, array, (size, *array.shape))

    def reduce_scatter(self, stacked, op):
        """(this rank's block of the reduction of ``stacked`` (shape (size, *block)), event)."""
        def launch(send, stream):
            count = send.size // stacked.shape[0]
            recv = self._cupy.empty((count,), dtype=send.dtype)
            self._comm.reduceScatter(send.data.ptr, recv.data.ptr, count,
                                     _nccl_dtype(self._nccl, send.dtype), self._op(op), stream)
            return recv
        return self._run(launch, stacked, stacked.shape[1:])

    @staticmethod
    def done(enqueued):
        """Whether the collective has finished (then its buffers are let go)."""
        if enqueued.keep is not None and enqueued.event.done:
            enqueued.keep = None
        return enqueued.keep is None

    def abort(self):
        """Tear the communicator down without waiting for the other ranks (after a timeout)."""
        self._comm.abort()

    def destroy(self):
        self._comm.destroy()
