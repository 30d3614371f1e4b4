"""Statistics of samples: quantile, nanquantile, cov, corrcoef (PyTorch's names and rules).

A quantile is one or two order statistics: the input is ranked with the standard's stable
``argsort``, the one or two ranks the interpolation needs are picked from the input itself with
`TakeAlong` (so the gradient goes to exactly those elements, PyTorch's rule) and blended by the
fractional part of the rank, through which a tensor ``q`` gets PyTorch's gradient too. cov and
corrcoef are compositions of differentiable ops.
"""

from __future__ import annotations

import numbers
import warnings

from xpnet import dtypes as _dt
from xpnet.autograd.function import Function, check_same_backend
from xpnet.autograd.tensor import Tensor

from ._util import normalize_axis
from .sorting import TakeAlong

__all__ = ["quantile", "nanquantile", "cov", "corrcoef"]

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class Lerp(Function):
    """``start + weight * (end - start)`` in PyTorch's two-sided form (exact at both ends); the
    gradients are ``1 - weight``, ``weight`` and, for ``weight``, ``end - start``."""

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = ctx.xp
        step = end - start
        ctx.save_for_backward(step, weight)
        return xp.where(weight < 0.5, start + weight * step, end - step * (1 - weight))

    @staticmethod
    def backward(ctx, g):
        step, weight = ctx.saved_tensors
        grad_weight = g * step if ctx.needs_input_grad[2] else None
        return g * (1 - weight), g * weight, grad_weight


class RankWeight(Function):
    """The interpolation weight ``q * scale + offset`` (the fractional part of each rank) as a
    function of ``q``, shape ``(*lead, k)`` from q's (k,) or (): the gradient PyTorch gives q
    with linear interpolation. Masked ranks (rows with a NaN, rows of NaNs only) were set to a
    constant: they pass no gradient, NaN included."""

    @staticmethod
    def forward(ctx, q, scale, offset, masked):
        xp = ctx.xp
        ctx.q_shape = tuple(q.shape)
        ctx.save_for_backward(scale, masked)
        return xp.reshape(q, (1,) * (scale.ndim - 1) + (-1,)) * scale + offset

    @staticmethod
    def backward(ctx, g):
        scale, masked = ctx.saved_tensors
        xp = ctx.xp
        g = xp.where(masked, xp.zeros_like(g), g * scale)
        g = xp.sum(g, axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return xp.reshape(g, ctx.q_shape), None, None, None


# -- quantile ----------------------------------------------------------------------------------

def _check_float_input(op, input):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype not in (_dt.float32, _dt.float64):
        raise TypeError(f"{op}: input must be float32 or float64, got {input.dtype.name}; "
                        f"convert with .float() or .double()")


def _check_q(op, input, q):  # noqa: A002
    """(q as a Tensor or float, whether one quantile is asked for); values checked."""
    if isinstance(q, Tensor):
        check_same_backend(op, [input, q])
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a number or a 0-D or 1-D tensor, got a tensor of "
                             f"shape {q.shape}")
        if q.dtype is not input.dtype:
            raise TypeError(f"{op}: q must have the input's dtype {input.dtype.name}, got "
                            f"{q.dtype.name}")
        values = q.tolist()
        values, scalar = ([values], True) if q.ndim == 0 else (values, False)
    elif isinstance(q, numbers.Real) and not isinstance(q, bool):
        q = float(q)
        values, scalar = [q], True
    else:
        raise TypeError(f"{op}: q must be a number or a Tensor, got {type(q).__name__}")
    outside = [v for v in values if not 0 <= v <= 1]
    if outside:
        raise ValueError(f"{op}: q must be in the range [0, 1], got {outside[0]}")
    return q, scalar


def _quantile(op, input, q, dim, keepdim, interpolation, ignore_nan):  # noqa: A002
    _check_float_input(op, input)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {', '.join(INTERPOLATIONS)}, got "
                         f"{interpolation!r}")
    q, scalar = _check_q(op, input, q)
    if input.numel() == 0:
        raise ValueError(f"{op}: input must be non-empty, got shape {input.shape}")
    from .repeat import movedim
    from .shape import reshape

    if dim is None:
        x, axis = reshape(input, (-1,)), 0
        out_shape = (1,) * input.ndim if keepdim else ()
    else:
        axis = normalize_axis(op, dim, input.ndim)
        x = input if input.ndim else reshape(input, (1,))
        rest = x.shape[:axis] + x.shape[axis + 1:]
        out_shape = () if input.ndim == 0 else (
            x.shape[:axis] + (1,) + x.shape[axis + 1:] if keepdim else rest)
    moved = x if axis == x.ndim - 1 else movedim(x, axis, -1)
    values = _order_statistics(moved, q, interpolation, ignore_nan)
    if moved.ndim > 1:
        values = movedim(values, -1, 0)
    return reshape(values, out_shape if scalar else (values.shape[0], *out_shape))


def _order_statistics(x, q, interpolation, ignore_nan):
    """The quantiles ``q`` (a float or a Tensor) of each row of ``x`` along its last axis: shape
    ``(*lead, k)`` for k quantiles."""
    xp, device = x._backend.xp, x._backend.device
    a = x.array
    n, lead = a.shape[-1], tuple(a.shape[:-1])
    q_array = (q.array if isinstance(q, Tensor)
               else xp.asarray(q, dtype=a.dtype, device=device))
    q_row = xp.reshape(q_array, (1,) * len(lead) + (-1,))
    out_shape = lead + (q_row.shape[-1],)
    order = xp.argsort(a, axis=-1, stable=True)  # NaN sorts last
    nans = xp.sum(xp.astype(xp.isnan(a), a.dtype), axis=-1, keepdims=True)
    if ignore_nan:
        scale = n - nans - 1
        ranks = q_row * scale
        # A row of NaNs only: rank 0, which is a NaN.
        masked = ranks < 0
        ranks = xp.where(masked, xp.zeros_like(ranks), ranks)
    else:
        # A row holding a NaN points at its last rank, a NaN: the quantile is NaN.
        masked = nans > 0
        scale = xp.where(masked, xp.zeros_like(nans), xp.ones_like(nans) * (n - 1))
        last = xp.full(out_shape, n - 1, dtype=a.dtype, device=device)
        ranks = xp.where(masked, last, q_row * (n - 1))
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # half to even, as PyTorch
    axis = len(lead)
    below = xp.floor(ranks)
    index = xp.take_along_axis(order, xp.astype(below, xp.int64), axis=-1)
    values = TakeAlong.apply(x, index, axis, out_shape)
    if interpolation not in ("linear", "midpoint"):
        return values
    index = xp.take_along_axis(order, xp.astype(xp.ceil(ranks), xp.int64), axis=-1)
    upper = TakeAlong.apply(x, index, axis, out_shape)
    if interpolation == "midpoint":
        weight = xp.full(out_shape, 0.5, dtype=a.dtype, device=device)
    elif isinstance(q, Tensor) and q.requires_grad:
        offset = xp.where(masked, ranks, xp.zeros_like(ranks)) - below
        weight = RankWeight.apply(q, scale, offset, xp.broadcast_to(masked, out_shape))
    else:
        weight = ranks - below
    return Lerp.apply(values, upper, weight)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):  # noqa: A002
    """The ``q``-th quantiles of ``input`` along ``dim`` (of all its elements when None), as
    ``torch.quantile``.

    With ``n`` values in a row, quantile ``q`` sits at rank ``q * (n - 1)`` of the sorted row;
    between two ranks ``i < rank < j``, ``interpolation`` decides: ``'linear'`` blends the two
    values by the fractional part, ``'lower'``/``'higher'`` take rank ``i``/``j``,
    ``'midpoint'`` their mean and ``'nearest'`` the closer rank (ties to the even one). A row
    holding a NaN gives NaN (see `nanquantile`).

    Parameters
    ----------
    input : Tensor, float32 or float64
    q : float or Tensor
        In [0, 1]; a 0-D or 1-D tensor of ``input``'s dtype for several quantiles at once.
    dim : int, optional
        The axis to reduce; None flattens the input first.
    keepdim : bool, default=False
        Keep the reduced axis (every axis when ``dim`` is None) with size 1.
    interpolation : {'linear', 'lower', 'higher', 'midpoint', 'nearest'}, default='linear'

    Returns
    -------
    Tensor
        ``input``'s shape without ``dim`` (size 1 with ``keepdim``); with a 1-D ``q`` of
        length k, an extra first axis of size k. The gradient goes to the one or two elements
        each quantile is made of, weighted as in the interpolation, and (linear interpolation
        only, as PyTorch) to a tensor ``q`` that requires grad.

    Raises
    ------
    TypeError
        For an input that is not float32/float64, or a tensor ``q`` of another dtype.
    ValueError
        For ``q`` outside [0, 1] or of more than one axis, an empty input, or an unknown
        interpolation.
    """
    if out is not None:
        raise TypeError("quantile: out= is not supported; use the returned tensor")
    return _quantile("quantile", input, q, dim, bool(keepdim), interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear",  # noqa: A002
                out=None):
    """`quantile` ignoring NaNs: each row's quantiles over its other values (NaN for a row of
    NaNs only), as ``torch.nanquantile``. Parameters, returns and errors as `quantile`."""
    if out is not None:
        raise TypeError("nanquantile: out= is not supported; use the returned tensor")
    return _quantile("nanquantile", input, q, dim, bool(keepdim), interpolation,
                     ignore_nan=True)


# -- cov, corrcoef -----------------------------------------------------------------------------

def _observations(op, input):  # noqa: A002
    """``input`` as a float (variables, observations) matrix."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim > 2:
        raise ValueError(f"{op}: expected input to have two or fewer dimensions, got shape "
                         f"{input.shape}")
    if input.dtype is _dt.bool or input.dtype.kind == "complex floating":
        raise TypeError(f"{op}: input must be a real number tensor, got {input.dtype.name}")
    from .shape import reshape
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    return x if x.dtype.is_floating_point else x.astype(_dt.get_default_dtype())


def _weights(input, name, w, n, integral):  # noqa: A002
    if w is None:
        return None
    if not isinstance(w, Tensor):
        raise TypeError(f"cov: {name} must be a Tensor or None, got {type(w).__name__}")
    check_same_backend("cov", [input, w])
    if w.ndim > 1:
        raise ValueError(f"cov: expected {name} to have one or fewer dimensions, got shape "
                         f"{w.shape}")
    if w.numel() != n:
        raise ValueError(f"cov: expected {name} to have one weight per observation ({n}), got "
                         f"{w.numel()}")
    kind_ok = w.dtype.is_integer if integral else w.dtype.is_floating_point
    if not kind_ok:
        expected = "an integer" if integral else "a floating"
        raise TypeError(f"cov: {name} must have {expected} dtype, got {w.dtype.name}")
    if n and w.min().item() < 0:
        raise ValueError(f"cov: {name} cannot be negative, got a minimum of {w.min().item()}")
    from .shape import reshape
    return reshape(w, (-1,))


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """Covariance matrix of the variables in the rows of ``input`` (observations in columns), as
    ``torch.cov`` and ``numpy.cov``.

    With weights ``w = fweights * aweights`` (either may be absent), the weighted mean of each
    row is ``avg = sum(w * x) / sum(w)`` and ``cov = (x - avg) @ (w * (x - avg)).T / f`` where
    ``f = sum(w) - correction * sum(w * aweights) / sum(w)`` (``sum(w) - correction`` without
    aweights; ``n - correction`` without weights).

    Parameters
    ----------
    input : Tensor of shape (variables, observations), (observations,) or ()
        Integer inputs are converted to the default float dtype.
    correction : int, default=1
        Subtracted from the number of observations (1: Bessel's unbiased estimate, 0: the
        maximum-likelihood one).
    fweights : Tensor of shape (observations,), integer, optional
        How many times each observation occurs.
    aweights : Tensor of shape (observations,), floating, optional
        Observation weights (importance).

    Returns
    -------
    Tensor of shape (variables, variables), or 0-D for a single variable
        Differentiable in ``input`` and ``aweights``. When ``f <= 0`` a UserWarning is issued and
        the entries are infinite or NaN, as in PyTorch.

    Raises
    ------
    TypeError
        For a bool or complex input, weights of the wrong kind, or a non-int correction.
    ValueError
        For an input of more than two axes, weights of the wrong length or negative, or
        weights summing to zero.
    """
    op = "cov"
    x = _observations(op, input)
    if isinstance(correction, bool) or not isinstance(correction, numbers.Integral):
        raise TypeError(f"{op}: correction must be an int, got {type(correction).__name__}")
    from .linalg import matmul
    from .reduce import mean, sum
    from .shape import squeeze, transpose

    n = x.shape[1]
    fweights = _weights(input, "fweights", fweights, n, integral=True)
    aweights = _weights(input, "aweights", aweights, n, integral=False)
    w = fweights if aweights is None else aweights if fweights is None else fweights * aweights
    if w is None:
        avg = mean(x, 1, keepdim=True)
        factor = n - correction
    else:
        total = sum(w)
        if total.item() == 0:
            raise ValueError(f"{op}: the weights sum to zero, so the mean is undefined")
        avg = sum(x * w, 1, keepdim=True) / total
        if correction == 0:
            factor = total
        elif aweights is None:
            factor = total - correction
        else:
            factor = total - correction * sum(w * aweights) / total
    value = factor if isinstance(factor, numbers.Number) else factor.item()
    if value <= 0:
        warnings.warn(f"{op}: degrees of freedom <= 0 (correction={correction} with "
                      f"{n} observations); the result is infinite or NaN", UserWarning,
                      stacklevel=2)
        factor = 0 if isinstance(factor, numbers.Number) else factor.clip(0, None)
    centered = x - avg
    weighted = centered if w is None else centered * w
    product = matmul(centered, transpose(weighted, 0, 1))
    return squeeze(product / factor)


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the variables in the rows of ``input``, as
    ``torch.corrcoef``: ``cov[i, j] / sqrt(cov[i, i] * cov[j, j])``, clipped to [-1, 1].

    Parameters
    ----------
    input : Tensor of shape (variables, observations), (observations,) or ()

    Returns
    -------
    Tensor of shape (variables, variables), or 0-D for a single variable
        A constant variable gives NaN in its row and column (0 / 0), as in PyTorch.

    Raises
    ------
    TypeError, ValueError
        As `cov`.
    """
    _observations("corrcoef", input)  # errors name corrcoef rather than cov
    from .arithmetic import clip
    from .repeat import diagonal
    from .shape import unsqueeze
    from .unary import sqrt

    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = sqrt(diagonal(c))
    c = c / unsqueeze(stddev, 1)
    c = c / unsqueeze(stddev, 0)
    return clip(c, -1, 1)
