"""User-facing differentiable functions, PyTorch's ``torch.nn.functional`` style, one family per
file. ``import xpnet.nn.functional as F`` gives the same functions; layers call these, so a layer
and its function raise the same errors.
"""

from xpnet.ops import pad

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .bilinear import *  # noqa: F403
from .bilinear import __all__ as _bilinear
from .attention import *  # noqa: F403
from .attention import __all__ as _attention
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .distance import *  # noqa: F403
from .distance import __all__ as _distance
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .embedding import *  # noqa: F403
from .embedding import __all__ as _embedding
from .encoding import *  # noqa: F403
from .encoding import __all__ as _encoding
from .linear import *  # noqa: F403
from .linear import __all__ as _linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .pooling import *  # noqa: F403
from .pooling import __all__ as _pooling
from .recurrent import *  # noqa: F403
from .recurrent import __all__ as _recurrent
from .vision import *  # noqa: F403
from .vision import __all__ as _vision

__all__ = ["pad", *_activation, *_bilinear, *_distance, *_attention, *_conv, *_dropout, *_embedding, *_encoding, *_linear, *_loss,
           *_normalization, *_pooling, *_recurrent, *_vision]

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.functional", "torch.nn.functional")
