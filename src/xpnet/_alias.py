"""PyTorch's module paths as second names of xpnet's own modules (``xpnet.utils.data`` is
`xpnet.data`), so both paths give the very same objects and ``isinstance`` never depends on
which one a script imported."""

from __future__ import annotations

import importlib
import pkgutil
import sys


def alias_module(alias: str, real: str):
    """Register the module ``real`` under the name ``alias`` as well; returns it."""
    module = importlib.import_module(real)
    sys.modules[alias] = module
    return module


def alias_package(alias: str, real: str):
    """`alias_module` for a package and, recursively, every submodule it has (so that
    ``import <alias>.sub`` finds the same module instead of loading a second copy)."""
    package = alias_module(alias, real)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        name = f"{real}.{info.name}"
        if info.ispkg:
            alias_package(f"{alias}.{info.name}", name)
        else:
            alias_module(f"{alias}.{info.name}", name)
    return package
