"""``xpnet.nn.functional``: the same functions as `xpnet.functional` (PyTorch's spelling)."""

from xpnet.functional import *  # noqa: F403
from xpnet.functional import __all__  # noqa: F401

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.nn.functional", "torch.nn.functional")
