"""Reverse-mode automatic differentiation: Tensor, Function, backward, no_grad, gradcheck."""

# tensor first: it binds the ops, which import Function from an already-loaded tensor module.
from .tensor import Tensor  # noqa: I001
from . import methods  # noqa: F401  (binds the ops' PyTorch-named Tensor methods)
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .graph import backward, grad
from .variable import Variable
from .sparse import RowSparseGrad

__all__ = ["Function", "GradcheckError", "RowSparseGrad", "Tensor", "Variable", "backward",
           "detect_anomaly", "enable_grad", "grad", "gradcheck", "inference_mode",
           "is_anomaly_enabled", "is_grad_enabled", "no_grad", "set_detect_anomaly",
           "set_grad_enabled"]

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.autograd", "torch.autograd")
