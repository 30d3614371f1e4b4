"""`DistributedDataParallel`: one model replica per process, gradients averaged in backward.

As PyTorch's ``torch.nn.parallel.DistributedDataParallel``: wrapping broadcasts rank 0's
parameters and buffers to every rank (so all start equal), each forward broadcasts the buffers
again in training (``broadcast_buffers``), and backward averages the gradients over the ranks
in buckets that start communicating while backward is still running (see `Reducer`). Every
rank therefore takes the same optimizer step from the gradient of the whole global batch.
"""

from __future__ import annotations

import contextlib
import numbers
import zlib

from xpnet.autograd import grad_mode
from xpnet.distributed.engine import ProcessGroup
from xpnet.distributed.process_group import resolve_group

from ..module import Module
from ..parameter import Parameter
from .reducer import Reducer

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model, train as usual.

    ``DistributedDataParallel(model)`` after `xpnet.distributed.init_process_group`, on every
    rank. Each rank feeds its own share of the data (`DistributedSampler`); after
    ``loss.backward()`` every parameter's ``.grad`` is the average over the ranks, so with a
    per-rank mean loss one step on R ranks with batch B each is one step with batch R * B.

    Parameters
    ----------
    module : Module
        The model; the same architecture on every rank (checked when wrapping).
    device_ids, output_device, dim
        Accepted for PyTorch scripts; xpnet does not move the module (put it on the rank's
        device first, ``model.to(f"cuda:{rank}")``).
    broadcast_buffers : bool, default=True
        Copy rank 0's buffers (batch-norm running statistics) to every rank at the start of
        each forward in training mode. (Forwards in eval mode do not communicate, so rank 0
        may evaluate alone.)
    init_sync : bool, default=True
        Broadcast rank 0's parameters and buffers when wrapping.
    process_group : ProcessGroup, optional
        Default: the default group.
    bucket_cap_mb : float, default=25
        Size of a gradient bucket in MiB (the first bucket is at most 1 MiB).
    find_unused_parameters : bool, default=False
        Accepted for PyTorch scripts: xpnet always finds the parameters a forward did not use
        (walking the graph from the outputs is cheap) and gives them zero gradients on that
        rank, so every rank sends the same buckets; a parameter no rank used keeps ``.grad``
        None.
    check_reduction, gradient_as_bucket_view, static_graph
        Accepted for PyTorch scripts. Gradients are always views of the reduced bucket.

    Attributes
    ----------
    module : Module
        The wrapped model (save ``ddp.module.state_dict()`` for a checkpoint without the
        ``module.`` prefix).
    require_backward_grad_sync : bool
        False inside `no_sync`.

    Raises
    ------
    TypeError
        ``module`` not a Module, or an argument of the wrong type.
    ValueError
        No process group, a bad ``bucket_cap_mb``, or models that differ between ranks.

    Notes
    -----
    Every rank must call forward and backward the same number of times (the collectives
    inside must match); a rank left waiting raises `xpnet.distributed.DistBackendError` after
    the group's timeout. Parameters used only outside the module's forward outputs (e.g. added
    to the loss directly) cannot be reduced and raise an error.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=25,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        op = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{op}: module must be an xpnet Module, got {type(module).__name__}")
        for name, flag in (("broadcast_buffers", broadcast_buffers), ("init_sync", init_sync),
                           ("find_unused_parameters", find_unused_parameters),
                           ("check_reduction", check_reduction),
                           ("gradient_as_bucket_view", gradient_as_bucket_view),
                           ("static_graph", static_graph)):
            if not isinstance(flag, bool):
                raise TypeError(f"{op}: {name} must be True or False, got {flag!r}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, numbers.Real) \
                or not bucket_cap_mb > 0:
            raise ValueError(f"{op}: bucket_cap_mb must be a positive number of MiB, got "
                             f"{bucket_cap_mb!r}")
        group = resolve_group(op, process_group)
        group.check_usable(op)
        self.module = module
        self.process_group = group
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.bucket_bytes_cap = int(bucket_cap_mb * 1024 * 1024)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        # Gradients and buffers travel on communicators of their own: their collectives start
        # from hooks, in an order that need not match the model's own (SyncBatchNorm).
        self._sync_group = group._dup(own_stream=True) if group.size() > 1 else group
        if group.size() > 1:
            _check_same_model(self._sync_group, module)
            if init_sync:
                with grad_mode.no_grad():
                    _broadcast_tensors(self._sync_group,
                                       [p for _, p in module.named_parameters()]
                                       + [b for _, b in module.named_buffers()],
                                       f"{op}: broadcasting the parameters")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        sparse = {id(m.weight) for m in module.modules()
                  if getattr(m, "sparse", False) is True
                  and isinstance(getattr(m, "weight", None), Parameter)}
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], self._sync_group,
                               self.bucket_bytes_cap, sparse)

    def forward(self, *inputs, **kwargs):
        """The wrapped module's forward; in training, buffers first come from rank 0."""
        world = self.process_group.size()
        if world > 1 and self.training and self.broadcast_buffers \
                and self.require_forward_param_sync:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                with grad_mode.no_grad():
                    _broadcast_tensors(self._sync_group, buffers,
                                       "DistributedDataParallel: broadcasting the buffers")
        out = self.module(*inputs, **kwargs)
        if world > 1:
            if grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
                self.reducer.prepare(out)
            else:
                self.reducer.cancel()
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally: forwards and backwards inside do not communicate; the
        first backward after it averages the sum (gradient accumulation over micro-batches).

        Examples
        --------
        >>> import xpnet, xpnet.nn as nn
        >>> import xpnet.distributed as dist
        >>> from xpnet.nn.parallel import DistributedDataParallel
        >>> dist.init_process_group("local")
        >>> ddp = DistributedDataParallel(nn.Linear(3, 1))
        >>> x = xpnet.randn(8, 3)
        >>> with ddp.no_sync():
        ...     ddp(x[:4]).sum().backward()     # kept on this rank
        >>> ddp(x[4:]).sum().backward()         # averaged over the ranks, with the above
        >>> dist.destroy_process_group()
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return f"world_size={self.process_group.size()}, backend={self.process_group.backend!r}"


def _check_same_model(group: ProcessGroup, module):
    """Every rank wraps a model with the same parameters and buffers (names, shapes, dtypes)."""
    layout = [f"{n}:{t.dtype.name}:{t.shape}" for n, t in module.named_parameters()]
    layout += [f"{n}:{t.dtype.name}:{t.shape}" for n, t in module.named_buffers()]
    n_params = sum(1 for _ in module.parameters())
    n_buffers = sum(1 for _ in module.buffers())
    numel = sum(p.numel() for p in module.parameters())
    crc = zlib.crc32(";".join(layout).encode())

    def describe(row):
        return (f"{row[0]} parameters ({row[2]:,} elements) and {row[1]} buffers, layout "
                f"checksum {row[3]:08x}")
    group.agree("DistributedDataParallel", [n_params, n_buffers, numel, crc], describe,
                "the wrapped models differ between ranks (build the same model, with the same "
                "parameter names, shapes and dtypes, on every rank)")


def _broadcast_tensors(group: ProcessGroup, tensors, what, root=0):
    """Rank ``root``'s values of ``tensors`` on every rank, one flat broadcast per device and
    dtype."""
    groups = {}
    for t in tensors:
        groups.setdefault((t._backend.name, t.dtype.name), []).append(t)
    started = []
    for members in groups.values():
        backend = members[0]._backend
        xp = backend.xp
        flat = xp.concat([xp.reshape(t.array, (-1,)) for t in members])
        started.append((members, group.start_broadcast(backend, flat, root)))
    group.wait([pending for _, pending in started], what)
    if group.rank() == root:
        return
    for members, pending in started:
        flat, offset = pending.result(), 0
        xp = members[0]._backend.xp
        for t in members:
            n = t.numel()
            t._set_array(xp.reshape(flat[offset:offset + n], t.shape))
            offset += n
