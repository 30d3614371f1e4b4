"""PyTorch's ``torch.backends`` switches, which scripts set before training
(``torch.backends.cudnn.benchmark = True``). They tune libraries xpnet does not use: CuPy 14
has no cuDNN, and convolutions run as im2col + matrix products on every backend, which are
deterministic. So the switches are accepted and recorded, and change nothing; the
``is_available`` questions answer truthfully. (The array library is chosen with
`xpnet.use_backend`, not here.)
"""

from __future__ import annotations

import sys
import types

__all__ = ["cudnn", "mps"]


def _submodule(name, doc, **attrs):
    module = types.ModuleType(f"{__name__}.{name}", doc)
    module.__dict__.update(attrs)
    sys.modules[module.__name__] = module
    return module


cudnn = _submodule(
    "cudnn", "cuDNN switches (accepted; xpnet does not use cuDNN).",
    enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
    is_available=lambda: False, version=lambda: None)

mps = _submodule(
    "mps", "Apple's Metal devices, which xpnet does not run on.",
    is_available=lambda: False, is_built=lambda: False)
