"""User-facing differentiable functions, PyTorch's ``torch.nn.functional`` style.

``import xpnet.functional as F``. Layers (issue: nn toolkit) call these, so a layer and its
function raise the same errors.
"""

from xpnet.ops import (
    elu, leaky_relu, log_softmax, logsumexp, pad, relu, sigmoid, softmax, softplus, tanh,
)

__all__ = ["elu", "leaky_relu", "log_softmax", "logsumexp", "pad", "relu", "sigmoid", "softmax",
           "softplus", "tanh"]
