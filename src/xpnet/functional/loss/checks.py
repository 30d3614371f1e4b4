"""The argument checks and reductions that the loss functions share."""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import ops
from xpnet.autograd.function import check_same_backend
from xpnet.autograd.tensor import Tensor
from xpnet.backend.checks import check


_REDUCTIONS = ("mean", "sum", "none")


# -- argument checks ---------------------------------------------------------------------------

def _check_reduction(op, reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; expected 'mean', 'sum' or "
                         f"'none'")


def _check_tensors(op, input, target, **optional):
    """Tensors on one backend and a floating-point input; ``optional`` ones may be None."""
    for name, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    for name, value in optional.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {input.dtype.name}")
    check_same_backend(op, [input, target, *(t for t in optional.values() if t is not None)])


def _check_same_shape(op, input, target):
    # PyTorch broadcasts (with a warning) for mse/l1/huber; a silent (N, 1) - (N,) -> (N, N) is
    # a classic bug, so a mismatch is an error here.
    if target.shape != input.shape:
        raise ValueError(f"{op}: target of shape {target.shape} must have the input's shape "
                         f"{input.shape}; reshape or expand it first")


def _check_broadcasts_to(op, name, t, shape):
    """``t`` (or None) broadcasts to ``shape`` without making it larger."""
    if t is None:
        return
    if t.ndim > len(shape) or any(a not in (1, b) for a, b in zip(t.shape[::-1], shape[::-1])):
        raise ValueError(f"{op}: {name} of shape {t.shape} must broadcast to the input's shape "
                         f"{shape}")


def _as_float_target(target, input):
    """Integer or bool targets (0/1 labels) in the input's dtype; float ones as they are."""
    return target if target.dtype.is_floating_point else target.astype(input.dtype)


def _check_unit_interval(op, name, t):
    backend = t._backend
    xp = backend.xp
    outside = xp.logical_not(xp.logical_and(t.array >= 0, t.array <= 1))  # nan is outside too
    check(backend, (op, name, "[0, 1]"), outside, lambda: (_first_where(xp, outside, t.array),),
          lambda value: ValueError(f"{op}: {name} values must lie in [0, 1], got {value:g}"))


def _class_axis(op, input):
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis: shape (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _class_weight(op, weight, input, n_classes):
    """None, or a weight of shape (C,) in the input's dtype."""
    if weight is None:
        return None
    if weight.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({n_classes},), got "
                         f"{weight.shape}")
    return weight if weight.dtype is input.dtype else weight.astype(input.dtype)


def _class_index_target(op, input, target, ignore_index):
    """An int64 target of the input's shape without the class axis, every value a class index
    or ``ignore_index`` (IndexError otherwise)."""
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise TypeError(f"{op}: ignore_index must be an int, got {type(ignore_index).__name__}")
    axis = _class_axis(op, input)
    n_classes = input.shape[axis]
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if not target.dtype.is_integer:
        # cross_entropy also takes a floating-point target (class probabilities) of the input's
        # shape: a float target of neither shape is a shape problem (torch: RuntimeError).
        probabilities = op == "cross_entropy"
        error = ValueError if probabilities and target.shape != expected else TypeError
        raise error(
            f"{op}: target must hold integer class indices of shape {expected} for input of "
            f"shape {input.shape}, got {target.dtype.name} of shape {target.shape}"
            + ("; class probabilities need a floating-point target of the input's shape"
               if probabilities else ""))
    if target.shape != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{input.shape} (class axis {axis} removed), got {target.shape}")
    if target.dtype.name != "int64":
        target = target.astype("int64")
    backend = target._backend
    xp, t = backend.xp, target.array
    bad = xp.logical_and(t != ignore_index, xp.logical_or(t < 0, t >= n_classes))

    def out_of_range(value):
        return IndexError(f"{op}: target {value} is out of range; class indices must lie in "
                          f"[0, {n_classes - 1}] (or equal ignore_index={ignore_index})")

    if check(backend, (op, "target", n_classes, ignore_index), bad,
             lambda: (_first_where(xp, bad, t),), out_of_range):
        # Reported at the next synchronisation; until then the bad targets are ignored.
        target = Tensor._make(xp.where(bad, xp.asarray(ignore_index, dtype=t.dtype,
                                                       device=backend.device), t), backend)
    return target


def _first_where(xp, bad, values):
    """The entry of ``values`` at the first True of ``bad`` (a 0-d array; any entry if none)."""
    flat = xp.reshape(bad, (-1,))
    return xp.reshape(values, (-1,))[xp.argmax(xp.astype(flat, xp.int8))]


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return ops.sum(loss) if reduction == "sum" else ops.mean(loss)


def _divide_or_nan(total, denominator):
    """``total / denominator`` for 0-d tensors; nan where the denominator is 0 (PyTorch's empty
    mean), without 0/0's warning or a nan gradient."""
    empty = ops.eq(denominator, 0)
    return ops.where(empty, math.nan, total / ops.where(empty, 1.0, denominator))


# -- helpers of the losses below ---------------------------------------------------------------

def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a reduction, with its warning;
    ``reduction`` itself when both are None."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _check_operands(op, floating, other=None):
    """Tensors on one backend; those in ``floating`` (name -> value) floating point and of one
    dtype, those in ``other`` of any dtype."""
    other = other or {}
    for name, value in (*floating.items(), *other.items()):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    dtypes = {}
    for name, value in floating.items():
        if not value.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must be floating point, got {value.dtype.name}")
        dtypes.setdefault(value.dtype, name)
    if len(dtypes) > 1:
        (a, first), (b, second) = list(dtypes.items())[:2]
        raise TypeError(f"{op}: {first} and {second} must have the same dtype, got {a.name} and "
                        f"{b.name}")
    check_same_backend(op, [*floating.values(), *other.values()])


def _check_broadcast(op, **tensors):
    shapes = [t.shape for t in tensors.values()]
    for sizes in zip(*(s[::-1] for s in shapes)):
        if len({n for n in sizes if n != 1}) > 1:
            described = ", ".join(f"{name} {t.shape}" for name, t in tensors.items())
            raise ValueError(f"{op}: the shapes do not broadcast together: {described}")


def _real(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def _flag(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return value
