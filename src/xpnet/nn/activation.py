"""Activation layers; each calls its function in `xpnet.nn.functional`."""

from __future__ import annotations

import numbers
import reprlib
import warnings

from xpnet import creation
from xpnet import functional as F
from xpnet.dtypes import get_default_dtype
from xpnet.functional._checks import int_arg

from .module import Module
from .parameter import Parameter

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "RReLU", "ELU", "Softplus", "GELU",
           "Softmax", "LogSoftmax", "SiLU", "Mish", "Hardtanh", "ReLU6", "Hardswish",
           "Hardsigmoid", "LogSigmoid", "Softsign", "Tanhshrink", "SELU", "CELU", "GLU", "Softmin",
           "Threshold", "Hardshrink", "Softshrink"]


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


def _inplace_repr(inplace):
    return ", inplace=True" if inplace else ""


def _check_inplace(layer, inplace):
    if not isinstance(inplace, bool):
        raise TypeError(f"{layer}: inplace must be True or False, got {inplace!r}")
    return inplace


# Numeric hyper-parameters are type-checked when the layer is built, not at its first forward
# (PyTorch stores anything and fails there); the value is kept as given (ints, floats and NumPy
# scalars; the repr shows it as PyTorch's does). Values that no input could make valid (CELU's
# alpha=0) are refused then too; the rest by the functions at forward, as in PyTorch.

def _number(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{layer}: {name} must be a number, got {type(value).__name__} "
                        f"{reprlib.repr(value)}")
    return value


def _dim(layer, dim, optional=True):
    if (dim is None and optional) or (isinstance(dim, numbers.Integral)
                                      and not isinstance(dim, bool)):
        return dim
    expected = "an int or None" if optional else "an int"
    raise TypeError(f"{layer}: dim must be {expected}, got {type(dim).__name__} {dim!r}")


class ReLU(Module):
    """``max(x, 0)``; with ``inplace=True`` the input tensor itself holds the result (PyTorch's
    memory saving; here it only rebinds the input, see `xpnet.Tensor.relu_`)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _check_inplace("ReLU", inplace)

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace).lstrip(", ")


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = _check_inplace("LeakyReLU", inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"


class PReLU(Module):
    """Leaky ReLU with a learned slope: one for all channels, or ``num_parameters`` (one per
    channel on axis 1), initialised to ``init`` (He et al., 2015)."""

    def __init__(self, num_parameters=1, init=0.25, *, dtype=None, backend=None):
        super().__init__()
        num_parameters = int_arg("PReLU", "num_parameters", num_parameters)
        self.num_parameters, self.init = int(num_parameters), _number("PReLU", "init", init)
        dtype = dtype or get_default_dtype()
        self.weight = Parameter(creation.full((num_parameters,), float(init), dtype=dtype,
                                              backend=backend))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: random slopes in U(lower, upper) in training, their mean in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = _number("RReLU", "lower", lower), _number("RReLU", "upper", upper)
        self.inplace = _check_inplace("RReLU", inplace)

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, training=self.training, inplace=self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_repr(self.inplace)}"


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = _number("ELU", "alpha", alpha)
        self.inplace = _check_inplace("ELU", inplace)

    def forward(self, x):
        return F.elu(x, self.alpha, inplace=self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = _number("Softplus", "beta", beta)
        self.threshold = _number("Softplus", "threshold", threshold)

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = _dim("Softmax", dim)

    def forward(self, x):
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = _dim("LogSoftmax", dim)

    def forward(self, x):
        return F.log_softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


# -- more of torch.nn's activations: reprs as PyTorch's ----------------------------------------

class _InplaceActivation(Module):
    """A layer whose only argument is ``inplace`` (shown in the repr only when True)."""

    _function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _check_inplace(type(self).__name__, inplace)

    def forward(self, x):
        return type(self)._function(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SiLU(_InplaceActivation):
    """``x * sigmoid(x)``; see `xpnet.functional.silu`."""

    _function = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))``; see `xpnet.functional.mish`."""

    _function = staticmethod(F.mish)


class SELU(_InplaceActivation):
    """Scaled ELU; see `xpnet.functional.selu`."""

    _function = staticmethod(F.selu)


class Hardswish(_InplaceActivation):
    """``x * hardsigmoid(x)``; see `xpnet.functional.hardswish`. Its repr never shows
    ``inplace``, as PyTorch's."""

    _function = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class Hardsigmoid(_InplaceActivation):
    """Piecewise-linear sigmoid; see `xpnet.functional.hardsigmoid`. Its repr never shows
    ``inplace``, as PyTorch's."""

    _function = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``; see `xpnet.functional.hardtanh`.

    Parameters
    ----------
    min_val, max_val : float, default=-1.0 and 1.0
        ``max_val`` must be greater than ``min_val``.
    inplace : bool, default=False
    min_value, max_value : float, optional
        PyTorch's deprecated names of ``min_val`` and ``max_val`` (they warn).
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        name = type(self).__name__
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        _number(name, "min_val", min_val)
        _number(name, "max_val", max_val)
        if not max_val > min_val:
            raise ValueError(f"{name}: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val = min_val, max_val
        self.inplace = _check_inplace(name, inplace)

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, inplace=self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``; see `xpnet.functional.relu6`."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    """``log(sigmoid(x))``, exact for every finite x; see `xpnet.functional.logsigmoid`."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, x):
        return F.softsign(x)


class Tanhshrink(Module):
    """``x - tanh(x)``."""

    def forward(self, x):
        return F.tanhshrink(x)


class CELU(Module):
    """Continuously differentiable ELU; see `xpnet.functional.celu`."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = _number("CELU", "alpha", alpha)
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (the input is divided by it)")
        self.inplace = _check_inplace("CELU", inplace)

    def forward(self, x):
        return F.celu(x, self.alpha, inplace=self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class GLU(Module):
    """Gated linear unit over axis ``dim``; see `xpnet.functional.glu`."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = _dim("GLU", dim, optional=False)

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` over axis ``dim``; see `xpnet.functional.softmin`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _dim("Softmin", dim)

    def forward(self, x):
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Threshold(Module):
    """``x`` where greater than ``threshold``, else ``value``; see
    `xpnet.functional.threshold`."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = _number("Threshold", "threshold", threshold)
        self.value = _number("Threshold", "value", value)
        self.inplace = _check_inplace("Threshold", inplace)

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, inplace=self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace)}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0; see `xpnet.functional.hardshrink`."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = _number("Hardshrink", "lambd", lambd)

    def forward(self, x):
        return F.hardshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """Shrink towards 0 by ``lambd``; see `xpnet.functional.softshrink`."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = _number("Softshrink", "lambd", lambd)
        if lambd < 0:
            raise ValueError(f"Softshrink: lambd must be non-negative, got {lambd}")

    def forward(self, x):
        return F.softshrink(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)
