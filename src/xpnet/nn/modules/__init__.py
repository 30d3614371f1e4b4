"""``xpnet.nn.modules``: the layers under PyTorch's family paths.

``xpnet.nn.modules.<family>`` exists for every family ``torch.nn.modules`` has (conv, rnn,
loss, batchnorm, container...) and holds the xpnet layers PyTorch files there: the very same
classes as ``xpnet.nn``, so ``from xpnet.nn.modules.conv import Conv2d`` is ``nn.Conv2d``. A layer
PyTorch has and xpnet does not yet raises an AttributeError that says so. Every layer is also
importable from here directly, as from ``torch.nn.modules``.
"""

import sys
import types

from xpnet import nn as _nn
from xpnet._missing import _torch_names, module_getattr

_PREFIX = "torch.nn.modules."


def _family(name, torch_names):
    module = types.ModuleType(f"{__name__}.{name}",
                              f"PyTorch's torch.nn.modules.{name}: xpnet's layers of that family.")
    present = [n for n in torch_names if hasattr(_nn, n)]
    for n in present:
        setattr(module, n, getattr(_nn, n))
    module.__all__ = present
    module.__getattr__ = module_getattr(module.__name__, f"{_PREFIX}{name}")
    sys.modules[module.__name__] = module
    return module


FAMILIES = {key[len(_PREFIX):]: _family(key[len(_PREFIX):], sorted(names))
            for key, names in _torch_names().items() if key.startswith(_PREFIX)}
globals().update(FAMILIES)

from xpnet.nn import *  # noqa: E402,F403 - every layer, as torch.nn.modules exports them
from xpnet.nn import __all__ as _layers  # noqa: E402

__all__ = [name for name in _layers if name not in ("functional", "init", "utils", "modules")]
