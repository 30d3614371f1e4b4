"""Activation functions (the differentiable primitives live in `xpnet.ops.activation`)."""

from xpnet.ops import elu, leaky_relu, log_softmax, logsumexp, relu, sigmoid, softmax, softplus, tanh

__all__ = ["elu", "leaky_relu", "log_softmax", "logsumexp", "relu", "sigmoid", "softmax",
           "softplus", "tanh"]
