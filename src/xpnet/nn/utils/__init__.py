"""Training utilities: gradient clipping, penalties, diagnostics."""
