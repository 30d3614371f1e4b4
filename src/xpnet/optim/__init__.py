"""Optimizers and learning-rate schedulers, with PyTorch's names, defaults and state layout.

Each optimizer's maths is a pure function of arrays (`xpnet.optim.sgd.sgd_update`,
`xpnet.optim.adam.adam_update`...), written once against the Array API standard; the classes
validate hyperparameters, keep per-parameter state and save/load it in PyTorch's layout.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "SparseAdam",
           "lr_scheduler"]
__all__ += ["ASGD", "Adamax", "LBFGS", "NAdam", "RAdam", "Rprop"]

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.optim", "torch.optim")
