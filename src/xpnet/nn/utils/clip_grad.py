"""Gradient clipping: rescale all gradients to a maximum total norm, or clamp each value."""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet.autograd.sparse import RowSparseGrad
from xpnet.autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grad_norm"]


def _as_list(fn, parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameters must be Tensors, got {type(p).__name__} at "
                            f"position {i}")
    return params


def _check_real(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__}")


def _set_grad(p, array):
    if isinstance(p.grad, RowSparseGrad):
        p.grad = p.grad.with_values(array)
        return
    fix = p.grad._backend.fix_output
    p.grad._set_array(array if fix is None else fix(array))


def _grad_array(p):
    """The array the clipping reads: the gradient, or a sparse gradient's rows (coalesced, so
    each entry is one entry of the dense gradient; ``p.grad`` is replaced by that form)."""
    if isinstance(p.grad, RowSparseGrad):
        p.grad = p.grad.coalesce()
        return p.grad.values_data
    return p.grad.array


def _norm_array(p):
    """`_grad_array`, except that on a device a sparse gradient stays as it is and its rows are
    summed in fixed-size, zero-padded slots (`RowSparseGrad._rows_once`), which changes no
    norm and, unlike coalescing, reads nothing back from the device."""
    if isinstance(p.grad, RowSparseGrad) and not p.grad._backend.on_host:
        return p.grad._rows_once().values_data
    return _grad_array(p)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Rescale the gradients so that their total norm is at most ``max_norm``, in place.

    Sparse gradients (`xpnet.autograd.RowSparseGrad`) count with their dense values and stay
    sparse (coalesced on the CPU backends; on a GPU they keep their rows, since coalescing
    would wait for the device).

    The total norm is the ``norm_type``-norm of all gradients seen as one vector. Every gradient
    is multiplied by :math:`\min(1, \mathrm{max\_norm} / (\mathrm{total\_norm} + 10^{-6}))`, as
    PyTorch's ``torch.nn.utils.clip_grad_norm_`` does (Pascanu et al., 2013, "On the difficulty
    of training recurrent neural networks"). Parameters without a gradient are skipped.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped.
    max_norm : float
        Largest allowed total norm (>= 0).
    norm_type : float or 'inf', default=2.0
        Order of the norm (> 0); ``math.inf`` (or ``'inf'``) for the largest absolute value.
    error_if_nonfinite : bool, default=False
        Raise, leaving the gradients unchanged, if the total norm is nan or infinite.

    Returns
    -------
    Tensor of shape ()
        The total norm of the gradients before clipping (0.0 on the active backend if no
        parameter has a gradient).

    Raises
    ------
    RuntimeError
        If ``error_if_nonfinite`` and the total norm is not finite.

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(10.)
    """
    fn = "clip_grad_norm_"
    params = _as_list(fn, parameters)
    _check_real(fn, "max_norm", max_norm)
    if not max_norm >= 0:
        raise ValueError(f"{fn}: max_norm must be >= 0, got {max_norm}")
    try:
        norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: norm_type must be a number or 'inf', got {norm_type!r}") from None
    if not norm_type > 0:
        raise ValueError(f"{fn}: norm_type must be > 0 (or inf), got {norm_type}")
    with_grad = [p for p in params if p.grad is not None]
    grads = [p.grad for p in with_grad]
    if not grads:
        from xpnet.creation import tensor
        return tensor(0.0)
    backend = grads[0]._backend
    for g in grads:
        if g._backend is not backend:
            raise ValueError(f"{fn}: all gradients must be on one backend, got {backend.name} "
                             f"and {g._backend.name}")
    xp = backend.xp
    # The norm of the per-tensor norms is the norm of all entries at once, for every order.
    norms = [xp.linalg.vector_norm(_norm_array(p), ord=norm_type) for p in with_grad]
    dtype = xp.result_type(*norms) if len(norms) > 1 else norms[0].dtype
    total = xp.linalg.vector_norm(xp.stack([xp.astype(n, dtype) for n in norms]), ord=norm_type)
    total_norm = Tensor._make(total, backend)
    if error_if_nonfinite and not math.isfinite(total_norm.item()):
        raise RuntimeError(f"{fn}: the total norm of order {norm_type} of the gradients is not "
                           f"finite ({total_norm.item()}), so they cannot be clipped; pass "
                           f"error_if_nonfinite=False to scale them by it anyway")
    # Always multiply (by at most 1) rather than branch on the norm: no device-to-host sync.
    coef = xp.clip(max_norm / (total + 1e-6), max=1.0)
    for p in with_grad:
        g = p.grad.values_data if isinstance(p.grad, RowSparseGrad) else p.grad.array
        _set_grad(p, g * xp.astype(coef, g.dtype))  # linear: repeated rows need no summing
    return total_norm


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry to ``[-clip_value, clip_value]``, in place.

    A sparse gradient is coalesced first (each dense entry is clamped once) and stays sparse.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped; those without a gradient are skipped.
    clip_value : float
        Largest allowed absolute value (>= 0).

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([3.0, -4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_value_([w], 1.0)
    >>> w.grad
    tensor([ 1., -1.])
    """
    fn = "clip_grad_value_"
    params = _as_list(fn, parameters)
    _check_real(fn, "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{fn}: clip_value must be >= 0, got {clip_value}")
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            xp = p.grad._backend.xp
            _set_grad(p, xp.clip(_grad_array(p), -clip_value, clip_value))


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Deprecated PyTorch spelling of `clip_grad_norm_` (warns, then calls it)."""
    warnings.warn("nn.utils.clip_grad_norm is deprecated in favor of nn.utils.clip_grad_norm_ "
                  "(as in PyTorch)", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)
