"""Loss functions with PyTorch's names and semantics (``torch.nn.functional``).

Every loss takes ``reduction``: 'mean' (the default), 'sum' or 'none' (the elementwise losses).
Arguments are checked here, before any work, so a loss module and its function raise the same
errors. The primitives are in `xpnet.ops.loss`. One module per family: regression,
classification, distribution and margin losses, and the checks they share.
"""

from __future__ import annotations

from .classification import (binary_cross_entropy, binary_cross_entropy_with_logits,
                             cross_entropy, nll_loss)
from .distribution import gaussian_nll_loss, kl_div, poisson_nll_loss
from .margin import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                     multi_margin_loss, multilabel_soft_margin_loss, soft_margin_loss,
                     triplet_margin_loss)
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "huber_loss", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
           "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "kl_div",
           "margin_ranking_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
           "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss"]

# One public module, as torch.nn.functional's losses are one: the functions name it (in the
# API docs) rather than the file of their family.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
