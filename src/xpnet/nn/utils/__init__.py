"""Training utilities: gradient clipping, penalties, diagnostics."""

from .diagnostics import dead_relu_fraction, diagnostics_report, gradient_norms  # noqa: E402
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from .regularization import l1_penalty
from . import rnn
from .weight_norm import remove_weight_norm, weight_norm

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.nn.utils", "torch.nn.utils")
