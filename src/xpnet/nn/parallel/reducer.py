"""`Reducer`: DistributedDataParallel's gradient buckets, all-reduced while backward runs.

The parameters are cut into buckets in reverse registration order (roughly the order backward
finishes them), each at most ``bucket_cap_mb`` (the first 1 MiB, so communication starts
early), one dtype and device per bucket. A post-accumulate-grad hook on every parameter marks
it ready; when a bucket is complete it is flattened and its all-reduce started (non-blocking),
and the buckets are started strictly in order so that every rank issues the same sequence of
collectives. The last bucket to start waits for all of them and writes the averaged gradients
back, so ``.grad`` is final when backward returns.

Parameters the forward pass did not use (found by walking the graph from the outputs) are
ready from the start and contribute zeros, so every rank sends the same buckets whatever its
data did. Each bucket carries one extra number per parameter, 1 where the rank had a gradient:
a parameter no rank used keeps ``.grad`` None, as it would in one process.

Row-sparse gradients (``sparse=True`` embeddings) are not densified: each has a bucket of its
own, whose rows and row indices are all-gathered (the counts first) and concatenated, which
is the sum over ranks in `RowSparseGrad`'s layout.
"""

from __future__ import annotations

import time
import weakref

from xpnet.autograd.sparse import RowSparseGrad, dense_array
from xpnet.autograd.tensor import Tensor

__all__ = ["Reducer", "used_leaves"]

FIRST_BUCKET_BYTES = 1 << 20
WHAT = "DistributedDataParallel gradient all-reduce"


def _tensors(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def used_leaves(outputs):
    """ids of the leaf tensors the graph of ``outputs`` (tensors, nested in lists, tuples and
    dicts) reaches; iterative, each node once."""
    used, seen, stack = set(), set(), []
    for t in _tensors(outputs):
        if t.grad_fn is None:
            if t.requires_grad:
                used.add(id(t))
        else:
            stack.append(t.grad_fn)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.parents:
            if edge is None:
                continue
            leaf, fn, _ = edge
            if fn is None:
                used.add(id(leaf))
            else:
                stack.append(fn)
    return used


class _Bucket:
    """Parameters reduced together; ``waiting`` counts those whose gradient has not arrived."""

    def __init__(self, params):
        self.params = params
        self.backend = params[0]._backend
        self.ready, self.waiting, self.pending = [], 0, None

    def reset(self, used):
        self.ready = [id(p) not in used for p in self.params]
        self.waiting = self.ready.count(False)
        self.pending = None

    def bytes(self):
        return sum(p.numel() * p.element_size() for p in self.params)


class _DenseBucket(_Bucket):
    def seal(self):
        """Called once the bucket holds all its parameters."""
        self.numels = [p.numel() for p in self.params]
        self.total = sum(self.numels)

    def launch(self, group):
        # Where the parameters are now (a model moved after wrapping is followed).
        self.backend = self.params[0]._backend
        self.native = self.params[0].array.dtype
        xp, device = self.backend.xp, self.backend.device
        parts, flags = [], []
        for p, n in zip(self.params, self.numels):
            g = p.grad
            if g is None:
                parts.append(xp.zeros((n,), dtype=self.native, device=device))
                flags.append(0.0)
            else:
                parts.append(xp.reshape(dense_array(g) if isinstance(g, RowSparseGrad)
                                        else g.array, (-1,)))
                flags.append(1.0)
        parts.append(xp.asarray(flags, dtype=self.native, device=device))
        self.pending = group.start_all_reduce(self.backend, xp.concat(parts), "sum")

    def write(self, world):
        xp = self.backend.xp
        flat = self.pending.result()
        had = self.backend.to_numpy(flat[self.total:]).tolist()
        values = flat[:self.total]
        if world > 1:
            values = values / world
        offset = 0
        for p, n, count in zip(self.params, self.numels, had):
            # Views into one array, as PyTorch's gradient_as_bucket_view; xpnet's in-place
            # updates rebind, so writing one gradient never changes another.
            p.grad = None if count == 0 else Tensor._make(
                xp.reshape(values[offset:offset + n], p.shape), self.backend)
            offset += n
        self.pending = None


class _SparseBucket(_Bucket):
    """One ``sparse=True`` embedding weight: rows all-gathered, never densified."""

    def launch(self, group):
        (p,) = self.params
        self.backend = p._backend
        xp, device = self.backend.xp, self.backend.device
        g = p.grad
        if g is None:
            index = xp.zeros((0,), dtype=xp.int64, device=device)
            values = xp.zeros((0, *p.shape[1:]), dtype=p.array.dtype, device=device)
        elif isinstance(g, RowSparseGrad):
            index, values = xp.astype(g.index_data, xp.int64), g.values_data
        else:  # a dense gradient (set by hand): every row
            index = xp.arange(p.shape[0], dtype=xp.int64, device=device)
            values = g.array
        self.local = (index, values)
        counts = xp.asarray([index.shape[0], int(g is not None)], dtype=xp.int64, device=device)
        self.pending = group.start_all_gather(self.backend, counts)

    def start_rows(self, group):
        table = self.backend.to_numpy(self.pending.result()).tolist()
        self.counts = [row[0] for row in table]
        self.any = any(row[1] for row in table)
        index, values = self.local
        self.rows = (group.start_all_gather_rows(self.backend, index, self.counts),
                     group.start_all_gather_rows(self.backend, values, self.counts))
        return self.rows

    def write(self, world):
        (p,) = self.params
        if not self.any:
            p.grad = None
        else:
            index, values = (pending.result() for pending in self.rows)
            p.grad = RowSparseGrad(index, values / world if world > 1 else values, p.shape,
                                   self.backend)
        self.pending = self.rows = self.local = None


def build_buckets(params, sparse_ids, cap_bytes):
    """Buckets over ``params`` in reverse order, per (device, dtype), capped in bytes."""
    buckets, open_buckets, closed = [], {}, set()
    for p in reversed(params):
        if id(p) in sparse_ids:
            buckets.append(_SparseBucket([p]))
            continue
        key = (p._backend.name, p.dtype.name)
        bucket = open_buckets.get(key)
        if bucket is None:
            bucket = open_buckets[key] = _DenseBucket([p])
            buckets.append(bucket)
        else:
            bucket.params.append(p)
        limit = cap_bytes if key in closed else min(cap_bytes, FIRST_BUCKET_BYTES)
        if bucket.bytes() >= limit:
            del open_buckets[key]
            closed.add(key)
    for index, bucket in enumerate(buckets):
        bucket.index = index
        if isinstance(bucket, _DenseBucket):
            bucket.seal()
    return buckets


class Reducer:
    """Averages the gradients of ``params`` over the ranks of ``group`` during backward.

    Attributes
    ----------
    buckets : list
    comm_seconds : float
        Time spent in gradient communication (flattening, starting, waiting, writing back),
        summed over steps; the rest of backward overlaps with it.
    """

    def __init__(self, params, names, group, cap_bytes, sparse_ids):
        self.group, self.world = group, group.size()
        self.buckets = build_buckets(list(params), sparse_ids, cap_bytes)
        self._where = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self._names = {id(p): n for n, p in zip(names, params)}
        self._active = self._fired = False
        self._next = 0
        self.comm_seconds = 0.0
        me = weakref.ref(self)

        def hook(p):
            reducer = me()
            if reducer is not None:
                reducer._grad_ready(p)
        self._handles = [p.register_post_accumulate_grad_hook(hook) for p in params]

    def remove_hooks(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __del__(self):
        self.remove_hooks()

    # -- one iteration ----------------------------------------------------------------------
    def prepare(self, outputs):
        """Called by forward: expect the gradients of the parameters ``outputs`` depend on."""
        if self._active and self._fired:
            raise RuntimeError(
                "DistributedDataParallel: the previous backward did not produce gradients for "
                "every parameter the forward pass used, so its reduction never finished. Make "
                "the loss depend on all of the forward's outputs (xpnet looks for unused "
                "parameters from the outputs), and call backward once per forward.")
        used = used_leaves(outputs)
        for bucket in self.buckets:
            bucket.reset(used)
        # Nothing starts here, not even buckets nobody used: a forward that no backward
        # follows (an evaluation with gradients on, on one rank) must not communicate.
        self._active, self._fired, self._next = True, False, 0

    def cancel(self):
        """A forward without gradient sync (no_sync, no_grad): forget a prepared iteration that
        no hook has started."""
        if not self._fired:
            self._active = False

    def _grad_ready(self, p):
        if not self._active:
            return
        bucket, i = self._where[id(p)]
        if bucket.ready[i]:
            if self._next > bucket.index:
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {self._names.get(id(p), '?')!r} got a "
                    f"gradient after its bucket had been reduced: it is used outside the "
                    f"wrapped module's forward outputs (e.g. directly in the loss), or backward "
                    f"ran twice for one forward. Use it inside the module's forward.")
            return  # counted as unused but not launched yet: its gradient is read at launch
        bucket.ready[i] = True
        bucket.waiting -= 1
        self._fired = True
        if self.buckets[self._next].waiting == 0:  # this bucket, or unused ones before it
            self._launch_ready()
        else:
            # MPI advances non-blocking collectives only inside MPI calls.
            for b in self.buckets[:self._next]:
                if b.pending is not None:
                    b.pending.test()

    def _launch_ready(self):
        start = time.perf_counter()
        buckets = self.buckets
        while self._next < len(buckets) and buckets[self._next].waiting == 0:
            buckets[self._next].launch(self.group)
            self._next += 1
        if self._next == len(buckets):
            self._finish()
        self.comm_seconds += time.perf_counter() - start

    def _finish(self):
        group = self.group
        group.wait([b.pending for b in self.buckets], WHAT)
        sparse = [b for b in self.buckets if isinstance(b, _SparseBucket)]
        if sparse:
            group.wait([p for b in sparse for p in b.start_rows(group)], WHAT)
        for bucket in self.buckets:
            bucket.write(self.world)
        self._active = self._fired = False
