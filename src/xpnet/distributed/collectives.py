"""Collectives on tensors with PyTorch's names and signatures: `all_reduce`, `broadcast`,
`all_gather`, `reduce_scatter`, `barrier`, and `ReduceOp`.

Each one first checks, with one small all-reduce of integers, that every rank called the same
collective with the same op, root, dtype and shape (a ValueError naming each rank's call
otherwise), then moves the data: NumPy arrays through MPI's buffers, CuPy arrays through NCCL
(backend "nccl") or the host. The result is written the xpnet way: the tensor is rebound to
new values (as an in-place op), so arrays saved for backward are never overwritten.

With ``async_op=True`` a collective returns a `Work` whose ``wait()`` finishes it.
"""

from __future__ import annotations

import enum
import numbers

from xpnet import dtypes as _dt
from xpnet.autograd import grad_mode
from xpnet.autograd.tensor import Tensor

from .engine import ProcessGroup
from .process_group import resolve_group, timeout_seconds

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "reduce_scatter"]


class ReduceOp(enum.Enum):
    """How `all_reduce` and `reduce_scatter` combine the ranks' values (PyTorch's names)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class Work:
    """A collective started with ``async_op=True``: ``wait()`` finishes it (and writes its
    result into the tensors), as PyTorch's ``Work``."""

    def __init__(self, group, pendings, finish, what, outputs):
        self._group, self._pendings, self._finish = group, pendings, finish
        self._what, self._outputs, self._done = what, outputs, False

    def wait(self, timeout=None):
        """Block until the collective has finished on this rank; returns True.

        Parameters
        ----------
        timeout : datetime.timedelta or float, optional
            Default: the process group's.

        Raises
        ------
        DistBackendError
            When the other ranks do not join within the timeout.
        """
        if not self._done:
            seconds = None if timeout is None else timeout_seconds("Work.wait", timeout)
            self._group.wait(self._pendings, self._what, seconds)
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Whether it has finished (without blocking); finished results are written then."""
        if not self._done and all(p.test() for p in self._pendings):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self):
        """The output tensors (after `wait`)."""
        self.wait()
        return list(self._outputs)

    def _complete(self):
        self._finish()
        self._done = True


# -- metadata: which collective, op, root, dtype, shape -------------------------------------------

_KINDS = ("all_reduce", "broadcast", "all_gather", "reduce_scatter", "barrier",
          "SyncBatchNorm statistics", "SyncBatchNorm gradient sums")
_OPS = [op for op in ReduceOp]
_DTYPES = list(_dt.ALL)


def meta(kind, dtype=None, shape=None, op=None, root=-1):
    """The integers `ProcessGroup.agree` compares for one call (``dtype`` a name)."""
    head = [_KINDS.index(kind), -1 if op is None else _OPS.index(op), root]
    if dtype is None:
        return head
    shape = tuple(shape)
    return head + [_DTYPES.index(dtype), len(shape), *shape]


def describe(row):
    """One rank's call, in words, from its `meta` integers."""
    kind = _KINDS[row[0]] if 0 <= row[0] < len(_KINDS) else f"collective #{row[0]}"
    args = []
    if row[1] >= 0:
        args.append(f"op=ReduceOp.{_OPS[row[1]].name}")
    if row[2] >= 0:
        args.append(f"src={row[2]}")
    text = f"{kind}({', '.join(args)})"
    if len(row) > 3:
        dims = row[5:5 + row[4]]
        text += f", {_DTYPES[row[3]]} tensor of shape {tuple(dims)}"
    return text


# -- argument checks ---------------------------------------------------------------------------

def _check_tensor(op, name, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be an xpnet Tensor, got {type(t).__name__}")


def _check_op(op, reduce_op, tensor):
    if not isinstance(reduce_op, ReduceOp):
        raise TypeError(f"{op}: op must be a ReduceOp (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX), "
                        f"got {reduce_op!r}")
    if tensor.dtype is _dt.bool:
        raise TypeError(f"{op}: bool tensors cannot be reduced; convert to int32 first")
    if reduce_op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        raise TypeError(f"{op}: ReduceOp.AVG needs a floating-point tensor, got "
                        f"{tensor.dtype.name}; use ReduceOp.SUM and divide")
    return "sum" if reduce_op is ReduceOp.AVG else reduce_op.value


def _check_list(op, name, tensors, like, size):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: {name} must be a list of {size} tensors, got "
                        f"{type(tensors).__name__}")
    if len(tensors) != size:
        raise ValueError(f"{op}: {name} must hold one tensor per rank ({size}), got "
                         f"{len(tensors)}")
    for i, t in enumerate(tensors):
        _check_tensor(op, f"{name}[{i}]", t)
        if t.shape != like.shape or t.dtype is not like.dtype or t._backend is not like._backend:
            raise ValueError(f"{op}: {name}[{i}] is a {t.dtype.name} tensor of shape {t.shape} "
                             f"on {t._backend.name}; expected {like.dtype.name} of shape "
                             f"{like.shape} on {like._backend.name}, as the tensor")


def _check_async(op, async_op):
    if not isinstance(async_op, bool):
        raise TypeError(f"{op}: async_op must be True or False, got {async_op!r}")


def _rebind(tensor, array):
    with grad_mode.no_grad():
        tensor._set_array(array)


def _run(group, pendings, finish, what, async_op, outputs):
    work = Work(group, pendings, finish, what, outputs)
    if async_op:
        return work
    work.wait()
    return None


def _average(group, array):
    return array / group.size() if group.size() > 1 else array


# -- collectives -------------------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` elementwise over all ranks; every rank gets the result in ``tensor``.

    Parameters
    ----------
    tensor : Tensor
        Same shape and dtype on every rank; rebound to the result.
    op : ReduceOp, default=ReduceOp.SUM
        SUM, AVG (floating point only), PRODUCT, MIN or MAX.
    group : ProcessGroup, optional
        Default: the default process group.
    async_op : bool, default=False
        Return a `Work` to ``wait()`` on instead of finishing now.

    Returns
    -------
    Work or None

    Raises
    ------
    ValueError
        The ranks disagree on the collective, op, dtype or shape (every rank raises).
    DistBackendError
        Another rank did not join within the group's timeout.

    Examples
    --------
    >>> import xpnet
    >>> import xpnet.distributed as dist
    >>> dist.init_process_group("local")
    >>> t = xpnet.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.AVG)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    what = "all_reduce"
    _check_tensor(what, "tensor", tensor)
    engine_op = _check_op(what, op, tensor)
    _check_async(what, async_op)
    pg = resolve_group(what, group)
    pg.check_usable(what)
    pg.agree(what, meta(what, tensor.dtype.name, tensor.shape, op), describe)
    pending = pg.start_all_reduce(tensor._backend, tensor.array, engine_op)

    def finish():
        result = pending.result()
        _rebind(tensor, _average(pg, result) if op is ReduceOp.AVG else result)
    return _run(pg, [pending], finish, what, async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank.

    Parameters
    ----------
    tensor : Tensor
        Same shape and dtype on every rank; rebound to rank ``src``'s values.
    src : int
        The rank whose values everyone gets.
    group : ProcessGroup, optional
    async_op : bool, default=False
    group_src : int, optional
        ``src`` as a rank of ``group`` (the same thing for the default group); give one of
        the two.

    Raises
    ------
    ValueError
        ``src`` missing or out of range, or ranks that disagree.
    """
    what = "broadcast"
    _check_tensor(what, "tensor", tensor)
    _check_async(what, async_op)
    pg = resolve_group(what, group)
    if (src is None) == (group_src is None):
        raise ValueError(f"{what}: give exactly one of src and group_src, got src={src!r}, "
                         f"group_src={group_src!r}")
    root = src if src is not None else group_src
    if isinstance(root, bool) or not isinstance(root, numbers.Integral) \
            or not 0 <= root < pg.size():
        raise ValueError(f"{what}: src must be a rank in [0, {pg.size() - 1}], got {root!r}")
    root = int(root)
    pg.check_usable(what)
    pg.agree(what, meta(what, tensor.dtype.name, tensor.shape, root=root), describe)
    pending = pg.start_broadcast(tensor._backend, tensor.array, root)

    def finish():
        if pg.rank() != root:
            _rebind(tensor, pending.result())
    return _run(pg, [pending], finish, what, async_op, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor``, in rank order, into ``tensor_list`` on every rank.

    Parameters
    ----------
    tensor_list : list of Tensor
        One tensor per rank, each of ``tensor``'s shape, dtype and backend; ``tensor_list[r]``
        is rebound to rank r's values.
    tensor : Tensor
        This rank's contribution (same shape and dtype on every rank).
    group : ProcessGroup, optional
    async_op : bool, default=False

    Raises
    ------
    ValueError
        A list of the wrong length or shapes, or ranks that disagree.
    """
    what = "all_gather"
    _check_tensor(what, "tensor", tensor)
    _check_async(what, async_op)
    pg = resolve_group(what, group)
    _check_list(what, "tensor_list", tensor_list, tensor, pg.size())
    pg.check_usable(what)
    pg.agree(what, meta(what, tensor.dtype.name, tensor.shape), describe)
    pending = pg.start_all_gather(tensor._backend, tensor.array)

    def finish():
        stacked = pending.result()
        for r, t in enumerate(tensor_list):
            _rebind(t, stacked[r, ...])
    return _run(pg, [pending], finish, what, async_op, list(tensor_list))


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[r]`` over the ranks into ``output`` of rank r.

    Parameters
    ----------
    output : Tensor
        Rebound to this rank's block of the reduction.
    input_list : list of Tensor
        One block per rank, each of ``output``'s shape, dtype and backend.
    op : ReduceOp, default=ReduceOp.SUM
    group : ProcessGroup, optional
    async_op : bool, default=False

    Raises
    ------
    ValueError
        A list of the wrong length or shapes, or ranks that disagree.
    """
    what = "reduce_scatter"
    _check_tensor(what, "output", output)
    engine_op = _check_op(what, op, output)
    _check_async(what, async_op)
    pg = resolve_group(what, group)
    _check_list(what, "input_list", input_list, output, pg.size())
    pg.check_usable(what)
    pg.agree(what, meta(what, output.dtype.name, output.shape, op), describe)
    xp = output._backend.xp
    stacked = xp.stack([t.array for t in input_list], axis=0)
    pending = pg.start_reduce_scatter(output._backend, stacked, engine_op)

    def finish():
        result = pending.result()
        _rebind(output, _average(pg, result) if op is ReduceOp.AVG else result)
    return _run(pg, [pending], finish, what, async_op, [output])


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached this call.

    Parameters
    ----------
    group : ProcessGroup, optional
    async_op : bool, default=False
    device_ids : ignored
        Accepted for PyTorch scripts (NCCL's device list).
    timeout : datetime.timedelta or float, optional
        Default: the process group's.

    Raises
    ------
    DistBackendError
        When some rank does not arrive within the timeout.
    """
    what = "barrier"
    _check_async(what, async_op)
    pg = resolve_group(what, group)
    seconds = None if timeout is None else timeout_seconds(what, timeout)
    pg.check_usable(what)
    pg.agree(what, meta(what), describe, timeout=seconds)
    pending = pg.start_barrier()
    work = Work(pg, [pending], lambda: None, what, [])
    if async_op:
        return work
    work.wait(seconds)
    return None


# -- on backend arrays, for SyncBatchNorm ------------------------------------------------------

def all_gather_array(group: ProcessGroup, backend, array, kind):
    """Every rank's ``array`` stacked (``(size, *array.shape)``), metadata-checked as ``kind``."""
    group.check_usable(kind)
    group.agree(kind, meta(kind, backend.xpnet_dtype(array.dtype).name, array.shape), describe)
    pending = group.start_all_gather(backend, array)
    group.wait([pending], kind)
    return pending.result()


def all_reduce_array(group: ProcessGroup, backend, array, kind):
    """The sum over ranks of ``array``, metadata-checked as ``kind``."""
    group.check_usable(kind)
    group.agree(kind, meta(kind, backend.xpnet_dtype(array.dtype).name, array.shape), describe)
    pending = group.start_all_reduce(backend, array, "sum")
    group.wait([pending], kind)
    return pending.result()
