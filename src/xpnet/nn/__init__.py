"""Neural-network building blocks: Module, Parameter, layers, losses, init.

Names and behaviour follow ``torch.nn``: ``nn.Linear``, ``nn.Sequential``, ``state_dict()``...
"""

from . import functional, init, utils
from .activation import (
    ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, RReLU, Sigmoid, Softmax, Softplus, Tanh,
)
from .activation import (
    CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, ReLU6, SiLU,
    Softmin, Softshrink, Softsign, Tanhshrink, Threshold,
)
from .container import ParameterDict, ParameterList
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout, Dropout2d
from .embedding import Embedding, EmbeddingBag
from .flatten import Unflatten
from .linear import Bilinear, Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from .loss import (
    CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, KLDivLoss, MarginRankingLoss,
    MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss,
)
from .module import Flatten, Identity, Module, ModuleDict, ModuleList, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)
from .pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)

from .conv import ConvTranspose1d, ConvTranspose2d
from .normalization import InstanceNorm1d, InstanceNorm2d
from .sync_batchnorm import SyncBatchNorm
from . import parallel  # PyTorch's nn.parallel path (DistributedDataParallel)
from .padding import (
    CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
    ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d,
)
from .pooling import AdaptiveMaxPool1d, AdaptiveMaxPool2d
from .upsampling import (
    PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d,
)

__all__ = [
    "ConvTranspose1d", "ConvTranspose2d", "InstanceNorm1d", "InstanceNorm2d", "CircularPad1d",
    "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "SyncBatchNorm",
    "CELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid",
    "Mish", "ReLU6", "SiLU", "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold",
    "ParameterDict", "ParameterList", "CosineSimilarity", "PairwiseDistance", "Unflatten",
    "Bilinear", "CosineEmbeddingLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "KLDivLoss",
    "MarginRankingLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PoissonNLLLoss",
    "SoftMarginLoss", "TripletMarginLoss",
    "MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer",
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
