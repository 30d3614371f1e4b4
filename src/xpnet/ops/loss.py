"""Loss primitives: negative log-likelihood, Huber, binary cross-entropy (on probabilities and
on logits) and Kullback-Leibler divergence.

The user-facing losses in `xpnet.functional.loss` validate their arguments and build on these;
the squared and absolute errors and the cross-entropies are composites of other ops.
"""

from __future__ import annotations

import math

from xpnet.autograd.function import Function

from ._util import sum_to_shape

__all__ = ["NLL", "Huber", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "KLDiv"]

# The floor PyTorch puts under x * (1 - x) in the gradient of binary cross-entropy: its 1e-12
# is a float32 constant, so the gradient at x = 0 or 1 is -+1.000000004e12, not 1e12.
_BCE_EPSILON = 9.999999960041972e-13


def _class_last(xp, x, n_classes):
    """``x`` of shape (C,), (N, C) or (N, C, d1, ...) as rows of shape (M, C)."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return xp.reshape(x, (1, n_classes))
    return xp.reshape(xp.moveaxis(x, 1, -1), (-1, n_classes))


def _class_back(xp, rows, shape):
    """Undo `_class_last`: rows of shape (M, C) back to ``shape``."""
    if len(shape) == 2:
        return rows
    if len(shape) == 1:
        return xp.reshape(rows, shape)
    moved = xp.reshape(rows, (shape[0], *shape[2:], shape[1]))
    return xp.moveaxis(moved, -1, 1)


class NLL(Function):
    """``-weight[t] * input[t]`` along the class axis (1, or 0 for 1-D input), reduced.

    ``target`` is an int64 array of the input's shape without the class axis, its values already
    checked to be class indices or ``ignore_index``; ignored targets contribute nothing and weigh
    nothing. 'mean' divides by the total weight of the targets not ignored (nan when it is 0), as
    PyTorch. ``weight`` is None or of shape (C,) and gets a gradient too.
    """

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        xp = ctx.xp
        n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
        rows = _class_last(xp, input, n_classes)
        t = xp.reshape(target, (-1,))
        valid = t != ignore_index
        safe = xp.where(valid, t, xp.zeros_like(t))
        # One flat gather, O(M): position i * C + t_i of the (M, C) rows.
        flat_index = xp.arange(t.shape[0], dtype=t.dtype, device=ctx.backend.device) * n_classes
        picked = xp.take(xp.reshape(rows, (-1,)), flat_index + safe)
        zero = xp.zeros_like(picked)
        picked = xp.where(valid, picked, zero)  # ignored rows may hold -inf: never multiply it
        if weight is None:
            w = xp.astype(valid, picked.dtype)
        else:
            w = xp.where(valid, xp.take(weight, safe), zero)
        losses = -(picked * w)
        ctx.in_shape, ctx.n_classes, ctx.reduction = tuple(input.shape), n_classes, reduction
        if reduction == "none":
            ctx.save_for_backward(safe, valid, picked, w)
            return xp.reshape(losses, tuple(target.shape))
        total = xp.sum(losses)
        if reduction == "sum":
            ctx.save_for_backward(safe, valid, picked, w)
            return total
        total_weight = xp.sum(w)
        empty = total_weight == 0
        safe_weight = xp.where(empty, xp.ones_like(total_weight), total_weight)
        out = xp.where(empty, xp.full_like(total, math.nan), total / safe_weight)
        ctx.save_for_backward(safe, valid, picked, w, safe_weight, out)
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        safe, valid, picked, w = ctx.saved_tensors[:4]
        if ctx.reduction == "none":
            coef = xp.reshape(g, (-1,))
        elif ctx.reduction == "sum":
            coef = xp.broadcast_to(g, picked.shape)
        else:
            # No total weight (every target ignored): PyTorch's gradient is 0, not nan.
            coef = xp.broadcast_to(g / ctx.saved_tensors[4], picked.shape)
        classes = xp.arange(ctx.n_classes, dtype=safe.dtype, device=ctx.backend.device)
        onehot = xp.reshape(safe, (-1, 1)) == xp.reshape(classes, (1, -1))
        grad_input = grad_weight = None
        if ctx.needs_input_grad[0]:
            values = xp.reshape(-(w * coef), (-1, 1))
            rows = xp.where(onehot, values, xp.zeros_like(values))
            grad_input = _class_back(xp, rows, ctx.in_shape)
        if ctx.needs_input_grad[2]:
            if ctx.reduction == "mean":
                # d(S / W)/dw_c sums (-input[t] - out) / W over the targets of class c.
                out = ctx.saved_tensors[5]
                per_row = xp.where(valid, (-picked - out) * coef, xp.zeros_like(picked))
            else:
                per_row = -picked * coef
            per_row = xp.reshape(per_row, (-1, 1))
            grad_weight = xp.sum(xp.where(onehot, per_row, xp.zeros_like(per_row)), axis=0)
        return grad_input, None, grad_weight, None, None


class Huber(Function):
    """Elementwise ``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, for
    ``d = input - target`` of one shape; the gradient is ``clip(d, -delta, delta)``."""

    @staticmethod
    def forward(ctx, input, target, delta):
        xp = ctx.xp
        d = input - target
        size = xp.abs(d)
        ctx.save_for_backward(d)
        ctx.delta = delta
        return xp.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        grad = g * ctx.xp.clip(d, -ctx.delta, ctx.delta)
        need_input, need_target = ctx.needs_input_grad[:2]
        return grad if need_input else None, -grad if need_target else None, None


def _clamped_log(xp, p):
    """``max(log(p), -100)`` for p in [0, 1], as PyTorch's BCE, without log(0)'s warning."""
    positive = p > 0
    logs = xp.log(xp.where(positive, p, xp.ones_like(p)))
    return xp.clip(xp.where(positive, logs, xp.full_like(p, -100.0)), -100.0, None)


class BinaryCrossEntropy(Function):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` for probabilities ``x``, each log clamped
    at -100 (PyTorch's choice: the loss stays finite at x = 0 or 1).

    The input gradient is PyTorch's ``(x - t) / max(x (1 - x), 1e-12)``; the target gradient is
    that of the clamped loss, ``log(1 - x) - log(x)``.
    """

    @staticmethod
    def forward(ctx, input, target):
        xp = ctx.xp
        log_x = _clamped_log(xp, input)
        log_rest = _clamped_log(xp, 1 - input)
        ctx.save_for_backward(input, target, log_x, log_rest)
        return (target - 1) * log_rest - target * log_x

    @staticmethod
    def backward(ctx, g):
        x, t, log_x, log_rest = ctx.saved_tensors
        xp = ctx.xp
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_input = g * (x - t) / xp.clip((1 - x) * x, _BCE_EPSILON, None)
        if ctx.needs_input_grad[1]:
            grad_target = g * (log_rest - log_x)
        return grad_input, grad_target


class BinaryCrossEntropyWithLogits(Function):
    """Elementwise ``(1 - t) x - (1 + (p - 1) t) log(sigmoid(x))`` for logits ``x``, targets ``t``
    of the same shape and ``p = pos_weight`` (None: 1) broadcasting to that shape.

    ``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))`` never overflows, so logits of +-1e4 give
    exact losses and gradients.
    """

    @staticmethod
    def forward(ctx, input, target, pos_weight):
        xp = ctx.xp
        z = xp.exp(-xp.abs(input))
        log_sigmoid = xp.clip(input, None, 0.0) - xp.log1p(z)
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        ctx.save_for_backward(input, target, pos_weight, z, log_sigmoid)
        return (1 - target) * input - scale * log_sigmoid

    @staticmethod
    def backward(ctx, g):
        x, t, pos_weight, z, log_sigmoid = ctx.saved_tensors
        xp = ctx.xp
        grad_input = grad_target = grad_pos_weight = None
        if ctx.needs_input_grad[0]:
            r = 1 / (1 + z)
            sigmoid = xp.where(x >= 0, r, z * r)
            if pos_weight is None:
                grad_input = g * (sigmoid - t)
            else:
                grad_input = g * ((1 + (pos_weight - 1) * t) * sigmoid - pos_weight * t)
        if ctx.needs_input_grad[1]:
            grad_target = -g * x if pos_weight is None \
                else -g * (x + (pos_weight - 1) * log_sigmoid)
        if ctx.needs_input_grad[2]:
            grad_pos_weight = sum_to_shape(xp, -g * t * log_sigmoid, pos_weight.shape)
        return grad_input, grad_target, grad_pos_weight


class KLDiv(Function):
    """Elementwise ``t (log t - x)`` for log-probabilities ``x`` and probabilities ``t`` (0 where
    t = 0, nan where t < 0, as PyTorch's ``xlogy``), or ``exp(t) (t - x)`` for log-probability
    targets; ``x`` and ``t`` broadcast together.

    Gradients: ``-t`` (``-exp(t)``) for the input; ``log t + 1 - x`` (``exp(t) (t - x + 1)``)
    for the target, nan at t = 0 as PyTorch's (the derivative of ``t log t`` is infinite there).
    """

    @staticmethod
    def forward(ctx, input, target, log_target):
        xp = ctx.xp
        ctx.log_target, ctx.shapes = log_target, (tuple(input.shape), tuple(target.shape))
        if log_target:
            e = xp.exp(target)
            ctx.save_for_backward(input, target, e)
            return e * (target - input)
        positive = target > 0
        # log of a placeholder 1 where t <= 0: no log(0) warning from the discarded branch.
        log_t = xp.log(xp.where(positive, target, xp.ones_like(target)))
        entropy = xp.where(positive, target * log_t,
                           xp.where(target == 0, xp.zeros_like(target),
                                    xp.full_like(target, math.nan)))
        ctx.save_for_backward(input, target, log_t, positive)
        return entropy - target * input

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        shape_input, shape_target = ctx.shapes
        grad_input = grad_target = None
        if ctx.log_target:
            x, t, e = ctx.saved_tensors
            if ctx.needs_input_grad[0]:
                grad_input = sum_to_shape(xp, -g * e, shape_input)
            if ctx.needs_input_grad[1]:
                grad_target = sum_to_shape(xp, g * e * (t - x + 1), shape_target)
            return grad_input, grad_target, None
        x, t, log_t, positive = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            grad_input = sum_to_shape(xp, -g * t, shape_input)
        if ctx.needs_input_grad[1]:
            slope = xp.where(positive, log_t + 1 - x, xp.full_like(log_t + x, math.nan))
            grad_target = sum_to_shape(xp, g * slope, shape_target)
        return grad_input, grad_target, None
