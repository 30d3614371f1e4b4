"""PyTorch's ``torch.utils`` paths. ``xpnet.utils.data`` is `xpnet.data` itself (datasets,
samplers, DataLoader), submodules included: ``from xpnet.utils.data import DataLoader``."""

from xpnet._alias import alias_package

data = alias_package(f"{__name__}.data", "xpnet.data")

__all__ = ["data"]
