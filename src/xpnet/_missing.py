"""AttributeErrors that tell a PyTorch name xpnet lacks apart from a typo.

``xpnet.foo`` where ``torch.foo`` exists says so and points to the "Coming from PyTorch" page;
anything else is Python's usual message. The list of PyTorch's names ships with xpnet
(_torch_names.json, written by tools/torch_names.py) and is read on the first miss only.
"""

from __future__ import annotations

import functools
import json
import pathlib

GUIDE = ("see 'Coming from PyTorch' in the xpnet docs (docs/coming_from_pytorch.rst) for what "
         "maps one to one, what differs, and what is not there yet")


@functools.cache
def _torch_names():
    path = pathlib.Path(__file__).with_name("_torch_names.json")
    return {key: frozenset(value) for key, value in json.loads(path.read_text()).items()
            if isinstance(value, list)}


def error(owner: str, torch_module: str, name: str) -> AttributeError:
    """The AttributeError for ``<owner>.<name>``; ``torch_module`` is PyTorch's counterpart
    (``"torch.nn"``, ``"torch.Tensor"``...)."""
    if name.startswith("__") or name not in _torch_names().get(torch_module, ()):
        if owner.startswith("'"):  # an instance: Python's wording
            return AttributeError(f"{owner} object has no attribute {name!r}")
        return AttributeError(f"module {owner!r} has no attribute {name!r}")
    subject = f"{owner} object" if owner.startswith("'") else f"module {owner!r}"
    return AttributeError(f"{subject} has no attribute {name!r}: PyTorch's {torch_module}.{name} "
                          f"is not in xpnet yet; {GUIDE}")


class _Missing:
    """A class attribute standing for a PyTorch name the class lacks: reading it raises `error`
    (so ``hasattr`` is False). A descriptor instead of ``__getattr__``, which would slow every
    attribute read of the class's instances."""

    __slots__ = ("owner", "torch_name", "name")

    def __init__(self, owner, torch_name, name):
        self.owner, self.torch_name, self.name = owner, torch_name, name

    def __get__(self, instance, cls=None):
        raise error(f"'{self.owner}'", self.torch_name, self.name)


def install_stubs(cls, torch_name: str):
    """Give ``cls`` a raising stand-in for each public attribute of ``torch_name`` (e.g.
    ``"torch.Tensor"``) it does not have; call it after every method has been bound."""
    for name in _torch_names().get(torch_name, ()):
        if not hasattr(cls, name):
            setattr(cls, name, _Missing(cls.__name__, torch_name, name))


def module_getattr(owner: str, torch_module: str):
    """A module-level ``__getattr__`` raising `error` (PEP 562)."""
    def __getattr__(name):
        raise error(owner, torch_module, name)
    return __getattr__
