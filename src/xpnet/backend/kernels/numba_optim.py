"""NumPy fast paths of the optimizer steps ``adam_update`` (Adam, AdamW, AMSGrad),
``sgd_update`` (momentum, Nesterov) and ``sparse_adam_step`` with numba (the ``fast`` extra;
without numba nothing is registered and the twins in `xpnet.optim.adam` / `xpnet.optim.sgd`
run).

Why compiled: a step is memory-bound, and the twins make one NumPy pass per operator (plain Adam:
thirteen, each allocating an array of the parameter's size); PyTorch's CPU step makes seven in
place. Here each element is read once, and the new parameter and state are written in the
same pass. The arithmetic is the twin's, operation for operation, in the arrays' dtype
(hyperparameters rounded to it first, as NumPy rounds Python floats), without fastmath (no
contraction into FMAs, no reordering): the results equal the twin's bit for bit here.

Where the results go:

- the parameter: always a new array. Its old one may be held by a retained graph or a
  `.data` alias, so the optimizer rebinds the parameter (`store`), as with the twin.
- the state (``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``, ``momentum_buffer``): written
  in place, in the arrays the caller passes, which must belong to the optimizer alone (see
  `Adam._update` and `SGD._update` for why theirs do). As PyTorch's state tensors, they change
  under anyone who reached into ``optimizer.state`` for them. Arrays the loop cannot write
  (another dtype or layout, read-only) are replaced by new ones, which the caller stores.

Figures, one thread, 2-core machine shared with other jobs (min over 200 steps): Adam on the
670k float32 parameters of a 784-512-512-10 MLP: twin 2.4 ms, PyTorch 1.5-1.6 ms, this
kernel 0.6 ms (0.28-0.30 ms of it the (512, 784) weight, where a NumPy copy of it takes 0.09
ms; writing the state where it was read rather than into new arrays: 0.39 -> 0.28 ms, the
new lines need not be fetched first). SGD with momentum, the same parameters: twin 1.0 ms,
PyTorch 0.58 ms, this kernel 0.49 ms; Nesterov with weight decay: 1.7, 1.2, 0.50 ms.

``sparse_adam_step`` (SparseAdam, and Adam on sparse gradients) writes the touched rows in
place and shares them among threads (see _SHARE_FROM). The dense steps are not split among
threads: at 2 threads, sharing an array between the caller and a worker of the `numpy_threads`
pool measured slower in the median than one thread at every size tried (Adam, medians: 400k
elements 0.33-0.35 ms split against 0.28-0.29; 1.6M: 1.3-4.9 against 1.2; 6.4M: 19-21 against
17-19), on this machine whose second core other jobs keep busy.
"""

from __future__ import annotations

import math

import numpy as np

from . import register_fast
# no fastmath: FMAs and reordered sums would part from the twin
from .numba_jit import compiled, parallel
from .numpy_threads import block_bounds, run_compiled, thread_count

try:
    import numba
except ImportError:  # the library works without the extra
    numba = None

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Below this many elements (rows x dim) a sparse step runs on one thread. Rows of width 128
# from Zipf lookups, float32, 2 threads against 1 (medians, ms): 600 rows 0.071 / 0.090, 3,308
# rows 0.36 / 0.47, 9,543 rows 0.69 / 1.05 (a row's moments and value are read and written
# at random places, so a second core adds memory requests in flight).
_SHARE_FROM = 1 << 16


def _row_blocks(rows, width):
    """(first row, stop row) blocks of equal size, one per thread."""
    return block_bounds(rows, 1 if rows * width < _SHARE_FROM else thread_count())


def _flat(a, dtype):
    """``a`` as a C-contiguous 1-D array of ``dtype`` (a view when it already is one)."""
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def _in_dtype(dtype, *values):
    """``values`` rounded to ``dtype``, as NumPy rounds a Python float meeting an array, in a
    tuple: numba keeps a tuple's items in registers, where it reloads an array's items at
    every element once the loop writes arrays that might overlap it (SGD, 400k float32:
    8.4 -> 0.23 ms)."""
    return tuple(np.array(values, dtype=dtype))


def _writable(a, dtype):
    """``a`` if the loop can write it in place (C-contiguous, writeable, ``dtype``), else a
    C-contiguous copy: the array to hand back, and its flat view for the loop."""
    if a.dtype != dtype or not (a.flags.c_contiguous and a.flags.writeable):
        a = np.array(a, dtype=dtype, order="C")
    return a, a.reshape(-1)


# Each loop has its own function for the arrays it writes: LLVM vectorizes a loop only after
# checking at run time that no written array overlaps another array, and a stand-in for an
# array a flag leaves unused would have to be one of them (the check then fails, and the loop
# runs one element at a time). Loop-invariant flags cost nothing measurable (0.30 ms at 400k
# float32 with or without maximize, weight decay, decoupling). Indices start at 0: one that
# may be negative (range(start, stop) with a run-time start) gets numba's wraparound, which
# turns the vector loads into gathers (1.0 -> 0.4 ms at 400k). LLVM inlines the per-element
# helpers (the same 0.30 ms as with numba's inline="always").
if numba is not None:
    @compiled
    def _adam_moments(p, g, m, v, c, f):
        """The decayed parameter and the new moments of one element (before the maximum)."""
        # c (constants, in the arrays' dtype): lerp weight, 1 - lerp weight, beta2, 1 - beta2,
        # weight_decay, 1 - lr * weight_decay, sqrt(bias correction 2), eps, -step size.
        # f (flags): maximize, coupled decay, decoupled decay, lerp's small-weight form.
        if f[0]:
            g = -g
        if f[2]:
            p = p * c[5]
        elif f[1]:
            g = g + c[4] * p
        if f[3]:  # lerp, in PyTorch's two forms (optimizer.lerp)
            m = m + c[0] * (g - m)
        else:
            m = g - (g - m) * c[1]
        v = c[2] * v + c[3] * g * g
        return p, m, v

    @compiled
    def _adam_param(p, m, v, c):
        denom = np.sqrt(v) / c[6] + c[7]
        return p + (c[8] * m) / denom

    @compiled
    def _adam_elements(param, grad, exp_avg, exp_avg_sq, out_param, c, f):
        for i in range(param.size):
            p, m, v = _adam_moments(param[i], grad[i], exp_avg[i], exp_avg_sq[i], c, f)
            exp_avg[i] = m
            exp_avg_sq[i] = v
            out_param[i] = _adam_param(p, m, v, c)

    @compiled
    def _amsgrad_elements(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, out_param, c, f):
        for i in range(param.size):
            p, m, v = _adam_moments(param[i], grad[i], exp_avg[i], exp_avg_sq[i], c, f)
            exp_avg[i] = m
            exp_avg_sq[i] = v
            top = max_exp_avg_sq[i]
            if not (top > v or top != top):  # np.maximum's rule: a NaN on either side wins
                top = v
            max_exp_avg_sq[i] = top
            out_param[i] = _adam_param(p, m, top, c)

    @compiled
    def _sgd_grad(p, g, c, f):
        # c: lr, momentum, 1 - dampening, weight_decay; f: maximize, weight decay, a buffer
        # to start from (else it starts as the gradient), nesterov.
        if f[0]:
            g = -g
        if f[1]:
            g = g + c[3] * p
        return g

    @compiled
    def _sgd_momentum_elements(param, grad, buffer, out_param, c, f):
        for i in range(param.size):
            p = param[i]
            g = _sgd_grad(p, grad[i], c, f)
            b = c[1] * buffer[i] + c[2] * g if f[2] else g
            buffer[i] = b
            g = g + c[1] * b if f[3] else b
            out_param[i] = p - c[0] * g

    @compiled
    def _sgd_elements(param, grad, out_param, c, f):
        for i in range(param.size):
            p = param[i]
            out_param[i] = p - c[0] * _sgd_grad(p, grad[i], c, f)

    def _fits(*arrays):
        """Whether the arrays are NumPy float32/float64 arrays of one dtype and shape."""
        first = arrays[0]
        if type(first) is not np.ndarray or first.dtype not in _FLOATS:
            return False
        return all(type(a) is np.ndarray and a.dtype == first.dtype and a.shape == first.shape
                   for a in arrays[1:])

    @register_fast("adam_update", "numpy")
    def adam_update(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1,
                    beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
        """The twin's step, with the state written in place (see the module's docstring)."""
        states = (exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
        if not _fits(param, grad, *states):  # float16, or arrays of another kind: the twin
            from . import _generic
            return _generic["adam_update"](
                xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=lr, beta1=beta1,
                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        dtype = param.dtype
        weight = 1 - beta1
        constants = _in_dtype(
            dtype, weight, 1 - weight, beta2, 1 - beta2, weight_decay, 1 - lr * weight_decay,
            (1 - beta2**step) ** 0.5, eps, -(lr / (1 - beta1**step)))
        flags = (bool(maximize), weight_decay != 0 and not decoupled_weight_decay,
                 weight_decay != 0 and decoupled_weight_decay, abs(weight) < 0.5)
        out_param = np.empty(param.shape, dtype)
        exp_avg, flat_avg = _writable(exp_avg, dtype)
        exp_avg_sq, flat_avg_sq = _writable(exp_avg_sq, dtype)
        flat_param, flat_grad = _flat(param, dtype), _flat(grad, dtype)
        flat_out = out_param.reshape(-1)
        if amsgrad:
            max_exp_avg_sq, flat_max = _writable(max_exp_avg_sq, dtype)
            _amsgrad_elements(flat_param, flat_grad, flat_avg, flat_avg_sq, flat_max, flat_out,
                              constants, flags)
        else:
            _adam_elements(flat_param, flat_grad, flat_avg, flat_avg_sq, flat_out, constants,
                           flags)
        return out_param, exp_avg, exp_avg_sq, max_exp_avg_sq

    @register_fast("sgd_update", "numpy")
    def sgd_update(xp, param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay,
                   nesterov, maximize):
        """The twin's step, with the momentum buffer written in place (see the module's
        docstring); the first one is a new array."""
        has_buffer = momentum_buffer is not None and momentum != 0
        if not _fits(param, grad, *((momentum_buffer,) if has_buffer else ())):
            from . import _generic
            return _generic["sgd_update"](
                xp, param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        dtype = param.dtype
        constants = _in_dtype(dtype, lr, momentum, 1 - dampening, weight_decay)
        flags = (bool(maximize), weight_decay != 0, has_buffer, bool(nesterov))
        out_param = np.empty(param.shape, dtype)
        flat_param, flat_grad = _flat(param, dtype), _flat(grad, dtype)
        flat_out = out_param.reshape(-1)
        if momentum == 0:
            _sgd_elements(flat_param, flat_grad, flat_out, constants, flags)
            return out_param, momentum_buffer
        if has_buffer:
            momentum_buffer, flat_buffer = _writable(momentum_buffer, dtype)
        else:
            momentum_buffer = np.empty(param.shape, dtype)
            flat_buffer = momentum_buffer.reshape(-1)
        _sgd_momentum_elements(flat_param, flat_grad, flat_buffer, flat_out, constants, flags)
        return out_param, momentum_buffer

    # The lazy step of SparseAdam (and Adam on sparse gradients): the twin gathers the rows'
    # moments, makes a dozen NumPy passes over the (nnz, dim) rows for the increments and scatters
    # three of them back; here each touched row is read and written once, in place. Rows are
    # distinct (the gradient is coalesced), so blocks of them go to different threads
    # (`numpy_threads.run_compiled`) without two writing one row.

    @compiled
    def _sparse_adam_rows(param, exp_avg, exp_avg_sq, index, grad, c, maximize, first, stop):
        # c (in the arrays' dtype): 1 - beta1, 1 - beta2, eps, -step size; the twin's
        # operations in its order (sparse_adam_update, then the increments added).
        for i in range(first, stop):
            row = index[i]
            p, m, v, g = param[row], exp_avg[row], exp_avg_sq[row], grad[i]
            for j in range(g.shape[0]):
                gj = -g[j] if maximize else g[j]
                m_delta = (gj - m[j]) * c[0]
                v_delta = (gj * gj - v[j]) * c[1]
                m_new = m_delta + m[j]
                v_new = v_delta + v[j]
                p[j] = p[j] + c[3] * (m_new / (np.sqrt(v_new) + c[2]))
                m[j] = m_new
                v[j] = v_new

    @parallel
    def _sparse_adam_blocks(param, exp_avg, exp_avg_sq, index, grad, c, maximize, bounds):
        for i in numba.prange(bounds.shape[0]):
            _sparse_adam_rows(param, exp_avg, exp_avg_sq, index, grad, c, maximize,
                              bounds[i, 0], bounds[i, 1])

    def _in_place(*arrays):
        """Whether the loop can write the arrays where they are."""
        return all(a.flags.c_contiguous and a.flags.writeable for a in arrays)

    @register_fast("sparse_adam_step", "numpy")
    def sparse_adam_step(xp, param, exp_avg, exp_avg_sq, index, grad, valid, step, *, lr,
                         beta1, beta2, eps, maximize, backend):
        """The twin's step, every row written in place (as the twin's `add_to_rows` does)."""
        if (valid is not None or param.ndim < 1 or not _fits(param, exp_avg, exp_avg_sq)
                or type(grad) is not np.ndarray or grad.dtype != param.dtype
                or not _in_place(param, exp_avg, exp_avg_sq)):
            from . import _generic
            return _generic["sparse_adam_step"](
                xp, param, exp_avg, exp_avg_sq, index, grad, valid, step, lr=lr, beta1=beta1,
                beta2=beta2, eps=eps, maximize=maximize, backend=backend)
        shape = (param.shape[0], math.prod(param.shape[1:]))
        table = [a.reshape(shape) for a in (param, exp_avg, exp_avg_sq)]
        index = np.ascontiguousarray(index)
        grad = np.ascontiguousarray(grad).reshape(index.shape[0], shape[1])
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        constants = _in_dtype(param.dtype, 1 - beta1, 1 - beta2, eps, -step_size)
        run_compiled(_sparse_adam_blocks, (*table, index, grad, constants, bool(maximize)),
                     _row_blocks(index.shape[0], grad.shape[1]))
        return param, exp_avg, exp_avg_sq
