"""PyTorch's ``torch.utils.data.distributed`` path: `DistributedSampler` lives in
`xpnet.data.sampler`; data-parallel scripts import it from here."""

from .sampler import DistributedSampler

__all__ = ["DistributedSampler"]
