"""Differentiable primitives, one family per file, and the functions users call on Tensors.

Each family module lists its public functions in ``__all__``; this package re-exports them all,
and `xpnet` re-exports them at the top level (PyTorch's ``torch.gather``, ``torch.sort``...).
"""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .arithmetic import *  # noqa: F403
from .arithmetic import __all__ as _arithmetic
from .embedding import embedding
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .reduce import *  # noqa: F403
from .reduce import __all__ as _reduce
from .shape import *  # noqa: F403
from .shape import __all__ as _shape
from .special import *  # noqa: F403
from .special import __all__ as _special
from .unary import *  # noqa: F403
from .unary import __all__ as _unary

__all__ = sorted({"embedding", *_activation, *_arithmetic, *_indexing, *_linalg, *_reduce,
                  *_shape, *_special, *_unary})
