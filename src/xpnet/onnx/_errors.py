"""The exporter's error (importable without the onnx package)."""

from __future__ import annotations

__all__ = ["ExportError"]


class ExportError(RuntimeError):
    """A model, layer or op that `xpnet.onnx.export` cannot express in ONNX (the message names
    it, and the opset when a newer one would do)."""
