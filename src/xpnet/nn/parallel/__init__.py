"""``xpnet.nn.parallel``: PyTorch's ``torch.nn.parallel`` path of `DistributedDataParallel`
(data parallelism across processes, on `xpnet.distributed`)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
