"""Parameter initialisation, in place, with PyTorch's names, defaults and formulas.

Each function fills a Tensor's values (under no_grad, keeping the object) and returns it. Random
ones take ``generator=`` (default: the one `xpnet.manual_seed` seeds).
"""

from __future__ import annotations

import math
import numbers
import warnings

from xpnet import dtypes as _dt
from xpnet.autograd import grad_mode
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import default_generator

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "sparse_", "trunc_normal_"]


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of weights feeding ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2))
    with slope ``param`` (default 0.01); selu: 3/4.
    """
    return _gain("calculate_gain", nonlinearity, param, "param")


def _gain(op, nonlinearity, param, param_name):
    """`calculate_gain`, its errors naming ``op`` (the init function called) and its parameter
    (``a`` for the kaiming functions); ValueErrors, as PyTorch's."""
    linear = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"{op}: negative_slope {param_name}={param!r} is not a number "
                             f"(leaky_relu's negative slope)")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = sorted(linear | {"tanh", "relu", "leaky_relu", "selu"})
    raise ValueError(f"{op}: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(map(repr, known))}")


def _fans(op, tensor):
    _check(op, tensor)
    if tensor.ndim < 2:
        raise ValueError(f"{op}: fan in and fan out need a tensor of at least 2 dimensions, "
                         f"got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, data):
    with grad_mode.no_grad():
        tensor._set_array(data)
    return tensor


def _check(op, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point tensor, got {tensor.dtype.name}")


def _number(op, name, value, minimum=None):
    """``value`` checked to be a real number (TypeError), at least ``minimum`` (ValueError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    if minimum is not None and not value >= minimum:
        kind = "non-negative" if minimum == 0 else f">= {minimum}"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return value


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b).

    Raises
    ------
    TypeError
        For a non-tensor or non-floating tensor, or bounds that are not numbers.
    ValueError
        For ``a > b`` (PyTorch raises RuntimeError).
    """
    _check("uniform_", tensor)
    _number("uniform_", "a", a)
    _number("uniform_", "b", b)
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a!r}, b={b!r}")
    g = generator or default_generator
    return _fill(tensor, g.uniform(tensor._backend, tensor.shape, tensor.dtype, a, b))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2).

    Raises
    ------
    TypeError
        For a non-tensor or non-floating tensor, or ``mean`` or ``std`` not a number.
    ValueError
        For ``std < 0`` (PyTorch raises RuntimeError).
    """
    _check("normal_", tensor)
    _number("normal_", "mean", mean)
    _number("normal_", "std", std, minimum=0)
    g = generator or default_generator
    return _fill(tensor, g.normal(tensor._backend, tensor.shape, tensor.dtype, mean, std))


def constant_(tensor, val):
    """Fill ``tensor`` with ``val`` in place (no gradient is recorded); returns it."""
    _check("constant_", tensor)
    if isinstance(val, Tensor):
        if val.numel() != 1:
            raise ValueError(f"constant_: val must be a number or a one-element Tensor, got a "
                             f"Tensor of shape {val.shape}")
        val = val.item()
    if not isinstance(val, numbers.Number):
        raise TypeError(f"constant_: val must be a number, got {type(val).__name__} {val!r}")
    xp = tensor._backend.xp
    return _fill(tensor, xp.full(tensor.shape, val, dtype=tensor.array.dtype,
                                 device=tensor._backend.device))


def zeros_(tensor):
    """Fill ``tensor`` with zeros in place; returns it."""
    _check("zeros_", tensor)
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill ``tensor`` with ones in place; returns it."""
    _check("ones_", tensor)
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    _check("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tensor.shape}")
    xp = tensor._backend.xp
    return _fill(tensor, xp.eye(*tensor.shape, dtype=tensor.array.dtype,
                                device=tensor._backend.device))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    _number("xavier_uniform_", "gain", gain, minimum=0)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans("xavier_normal_", tensor)
    _number("xavier_normal_", "gain", gain, minimum=0)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(op, tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(op, tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = _gain(op, nonlinearity, a, "a")
    # fan 0 means no elements (Linear(0, n)): nothing to draw, as torch's no-op for empty tensors.
    return gain / math.sqrt(fan) if fan > 0 else 0.0


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(-b, b) with b = gain * sqrt(3 / fan), gain from ``nonlinearity``
    (negative slope ``a`` for leaky_relu)."""
    bound = math.sqrt(3.0) * _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix from the QR decomposition of a Gaussian
    one, signs fixed so the result is uniformly distributed; trailing axes are flattened."""
    _check("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected at least 2 dimensions, got shape {tensor.shape}")
    _number("orthogonal_", "gain", gain)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    g = generator or default_generator
    backend = tensor._backend
    xp = backend.xp
    flat = g.normal(backend, (rows, cols), tensor.dtype)
    if rows < cols:
        flat = xp.matrix_transpose(flat)
    q, r = xp.linalg.qr(flat)
    # Multiply each column by the sign of r's diagonal: makes the decomposition unique.
    q = q * xp.sign(xp.linalg.diagonal(r))
    if rows < cols:
        q = xp.matrix_transpose(q)
    return _fill(tensor, xp.reshape(q * gain, tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Martens (2010): each column of a 2-D tensor gets ``ceil(sparsity * rows)`` zeros at random
    rows; the other entries are N(0, std^2)."""
    _check("sparse_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: expected a 2-D tensor, got shape {tensor.shape}")
    _number("sparse_", "sparsity", sparsity)
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    _number("sparse_", "std", std, minimum=0)
    rows, cols = tensor.shape
    zeros_per_column = math.ceil(sparsity * rows)
    g = generator or default_generator
    backend = tensor._backend
    xp = backend.xp
    values = g.normal(backend, (rows, cols), tensor.dtype, 0.0, std)
    # A random rank of each row within its column; the lowest ranks become zeros.
    ranks = xp.argsort(xp.argsort(g.random(backend, (rows, cols), _dt.float64), axis=0), axis=0)
    return _fill(tensor, xp.where(ranks < zeros_per_column, xp.zeros_like(values), values))


# Winitzki's approximation of erfinv (relative error < 2e-3), the start of Halley's iteration.
_WINITZKI_A = 0.147
_HALLEY_STEPS = 4
_SMALLEST_NORMAL = 2.2250738585072014e-308


def _erfcinv(y):
    """The x >= 0 with erfc(x) = y, for a float64 Tensor y in (0, 1], to float64 precision also
    where y is tiny (erfinv(1 - y) would lose every digit of y below 1e-16)."""
    from xpnet import ops
    # log(1 - a^2) for a = 1 - y, computed from y itself.
    log_term = ops.log(y) + ops.log(2 - y)
    t = 2 / (math.pi * _WINITZKI_A) + log_term / 2
    x = ops.sqrt(ops.clamp_min(ops.sqrt(t * t - log_term / _WINITZKI_A) - t, 0.0))
    for _ in range(_HALLEY_STEPS):
        # Newton's step f/f' for f = erfc(x) - y, f' = -2/sqrt(pi) exp(-x^2); f''/f' = -2x.
        newton = (y - ops.erfc(x)) * (math.sqrt(math.pi) / 2) * ops.exp(x * x)
        x = x - newton / (1 + x * newton)
    return x


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) truncated to [a, b] (as ``torch.nn.init.trunc_normal_``).

    Exact inverse-CDF sampling in float64: uniform numbers between the normal CDF at the two
    bounds, mapped back through the inverse CDF. The bound farther from the mean is mapped from
    the upper tail by symmetry and the inverse CDF uses ``erfc``, so bounds far from the mean
    (a = 5 std, b = 6 std) keep their exact distribution, where PyTorch's ``erfinv`` in the
    tensor's dtype degrades.

    Parameters
    ----------
    tensor : Tensor, floating point
    mean : float, default=0.0
    std : float, default=1.0
        Must be positive.
    a, b : float, default=-2.0 and 2.0
        The bounds, in the tensor's units (not in standard deviations); ``a <= b``.
    generator : xpnet.Generator, optional

    Returns
    -------
    Tensor
        ``tensor``, filled.

    Raises
    ------
    TypeError
        For a non-tensor or non-floating tensor, or non-number arguments.
    ValueError
        For ``std <= 0``, ``a > b``, or bounds both more than about 37 standard deviations on
        one side of the mean (the normal CDF underflows in float64 there).

    Examples
    --------
    >>> import xpnet
    >>> from xpnet import nn
    >>> w = nn.init.trunc_normal_(xpnet.empty(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    from xpnet import ops
    op = "trunc_normal_"
    _check(op, tensor)
    for name, value in (("mean", mean), ("std", std), ("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    if not std > 0:
        raise ValueError(f"{op}: std must be positive, got {std}")
    if not a <= b:
        raise ValueError(f"{op}: expected a <= b, got a={a}, b={b}")
    alpha, beta = (a - mean) / std, (b - mean) / std
    # Sample standardised values from the side where the CDF holds the digits: the lower tail.
    flip = alpha + beta > 0
    low, high = (-beta, -alpha) if flip else (alpha, beta)
    cdf_low, cdf_high = (0.5 * math.erfc(-z / math.sqrt(2)) for z in (low, high))
    if cdf_high == 0:
        raise ValueError(f"{op}: [a, b] = [{a}, {b}] lies more than 37 standard deviations from "
                         f"the mean {mean}; the truncated normal cannot be sampled in float64")
    g = generator or default_generator
    backend = tensor._backend
    with grad_mode.no_grad():
        u = Tensor._make(g.uniform(backend, tensor.shape, _dt.float64, cdf_low, cdf_high),
                         backend)
        u = ops.clamp_min(u, _SMALLEST_NORMAL)  # cdf_low may have underflowed to 0
        upper = ops.gt(u, 0.5)
        # Phi^-1(u) = -sqrt(2) erfcinv(2u) below 1/2, +sqrt(2) erfcinv(2 (1 - u)) above (1 - u
        # is exact there).
        z = math.sqrt(2) * _erfcinv(2 * ops.where(upper, 1 - u, u))
        z = ops.where(upper, z, -z)
        values = mean + std * (-z if flip else z)
        values = ops.clip(values, float(a), float(b))  # rounding must not leave [a, b]
        return _fill(tensor, values.astype(tensor.dtype).array)


def _deprecated(name):
    current = globals()[name + "_"]

    def alias(*args, **kwargs):
        warnings.warn(f"nn.init.{name} is deprecated in favor of nn.init.{name}_ (as in PyTorch)",
                      FutureWarning, stacklevel=2)
        return current(*args, **kwargs)
    alias.__name__ = name
    alias.__doc__ = f"Deprecated PyTorch spelling of `{name}_` (warns, then calls it)."
    return alias


# PyTorch still accepts the old names without the underscore, with a FutureWarning.
uniform = _deprecated("uniform")
normal = _deprecated("normal")
constant = _deprecated("constant")
xavier_uniform = _deprecated("xavier_uniform")
xavier_normal = _deprecated("xavier_normal")
kaiming_uniform = _deprecated("kaiming_uniform")
kaiming_normal = _deprecated("kaiming_normal")
orthogonal = _deprecated("orthogonal")
sparse = _deprecated("sparse")

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.nn.init", "torch.nn.init")
