"""Differentiable primitives, one family per file, and the functions users call on Tensors.

Each family module lists its public functions in ``__all__``; this package re-exports them all,
and `xpnet` re-exports them at the top level (PyTorch's ``torch.gather``, ``torch.sort``...).
"""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .aliases import *  # noqa: F403
from .aliases import __all__ as _aliases
from .arithmetic import *  # noqa: F403
from .arithmetic import __all__ as _arithmetic
from .assign import *  # noqa: F403
from .assign import __all__ as _assign
from .compound import *  # noqa: F403
from .compound import __all__ as _compound
from .counting import *  # noqa: F403
from .counting import __all__ as _counting
from .cumulative import *  # noqa: F403
from .cumulative import __all__ as _cumulative
from .distance import *  # noqa: F403
from .distance import __all__ as _distance
from .einsum import *  # noqa: F403
from .einsum import __all__ as _einsum
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .embedding import embedding
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .layout import *  # noqa: F403
from .layout import __all__ as _layout
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .logic import *  # noqa: F403
from .logic import __all__ as _logic
from .reduce import *  # noqa: F403
from .reduce import __all__ as _reduce
from .repeat import *  # noqa: F403
from .repeat import __all__ as _repeat
from .scatter import *  # noqa: F403
from .scatter import __all__ as _scatter
from .shape import *  # noqa: F403
from .shape import __all__ as _shape
from .sorting import *  # noqa: F403
from .sorting import __all__ as _sorting
from .special import *  # noqa: F403
from .special import __all__ as _special
from .statistics import *  # noqa: F403
from .statistics import __all__ as _statistics
from .unary import *  # noqa: F403
from .unary import __all__ as _unary

__all__ = sorted({"embedding", *_activation, *_aliases, *_arithmetic, *_assign, *_compound,
                  *_counting, *_cumulative, *_distance, *_einsum, *_elementwise, *_indexing,
                  *_layout, *_linalg, *_logic, *_reduce, *_repeat, *_scatter, *_shape,
                  *_sorting, *_special, *_statistics, *_unary})
