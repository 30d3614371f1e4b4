"""Neural-network building blocks: Module, Parameter, layers, losses, init.

Names and behaviour follow ``torch.nn``: ``nn.Linear``, ``nn.Sequential``, ``state_dict()``...
"""

from . import functional, init, utils
from .activation import (
    ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, RReLU, Sigmoid, Softmax, Softplus, Tanh,
)
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding, EmbeddingBag
from .linear import Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from .module import Flatten, Identity, Module, ModuleDict, ModuleList, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "Dropout2d", "GroupNorm", "LayerNorm", "MaxPool1d", "MaxPool2d",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
    "SmoothL1Loss",
    "NLLLoss", "Dropout", "Embedding", "EmbeddingBag", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "Module",
    "ModuleDict", "ModuleList", "PReLU", "Parameter", "RReLU", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Softplus", "Tanh", "RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell", "functional", "init", "utils",
]

from . import modules  # noqa: E402 - PyTorch's family paths (xpnet.nn.modules.conv...)

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.nn", "torch.nn")
