"""``xpnet.nn.functional``: the same functions as `xpnet.functional` (PyTorch's spelling)."""

from xpnet.functional import *  # noqa: F403
from xpnet.functional import __all__  # noqa: F401
