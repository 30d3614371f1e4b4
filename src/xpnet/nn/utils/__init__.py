"""Training utilities: gradient clipping, penalties, diagnostics."""

from .diagnostics import dead_relu_fraction, diagnostics_report, gradient_norms  # noqa: E402
