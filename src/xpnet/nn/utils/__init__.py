"""Training utilities: gradient clipping, penalties, diagnostics."""

from .diagnostics import dead_relu_fraction, diagnostics_report, gradient_norms  # noqa: E402
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .regularization import l1_penalty
from . import rnn
from .weight_norm import remove_weight_norm, weight_norm
