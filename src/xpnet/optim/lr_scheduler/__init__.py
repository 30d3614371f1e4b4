"""Learning-rate schedulers: they set ``group["lr"]`` of an optimizer's parameter groups.

The same classes, arguments and values as ``torch.optim.lr_scheduler``: build the scheduler after
the optimizer, call ``optimizer.step()`` then ``scheduler.step()`` once per epoch (or per batch),
and ``ReduceLROnPlateau.step(metric)`` with the monitored value.

>>> import xpnet
>>> from xpnet.optim import SGD
>>> from xpnet.optim.lr_scheduler import StepLR
>>> opt = SGD([xpnet.zeros(3, requires_grad=True)], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step()
...     lrs.append(sched.get_last_lr()[0])
...     sched.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from .base import EPOCH_DEPRECATION_WARNING, LRScheduler  # noqa: F401 (torch's name, for filters)
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .cyclic import CyclicLR, OneCycleLR
from .decay import ConstantLR, ExponentialLR, LinearLR, MultiStepLR, PolynomialLR, StepLR
from .lambdas import LambdaLR, MultiplicativeLR
from .plateau import ReduceLROnPlateau

__all__ = ["ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
           "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "StepLR"]

# One public module, as torch.optim.lr_scheduler: the classes name it (in reprs and the API
# docs) rather than the file of their family.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.optim.lr_scheduler", "torch.optim.lr_scheduler")
