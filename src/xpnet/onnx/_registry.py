"""Where exporters are registered: per primitive (`Function` subclass), per layer class, per
public function, and the layer classes that are traced through.

An exporter gets the `GraphBuilder` ``g``, the traced run's output and the call's arguments:
``fn(g, out, *args, **kwargs)`` for primitives and functions, ``fn(g, module, out, *args,
**kwargs)`` for layers. It emits nodes and binds every output tensor with ``g.bind``.
"""

from __future__ import annotations

import importlib

PRIMITIVES = {}  # Function subclass -> exporter
LAYERS = {}  # Module subclass -> (exporter, when)
TRANSPARENT = set()  # Module subclasses whose forward is traced op by op
FUNCTIONS = []  # ("module:attr", exporter, accepts)


def primitive(*classes):
    """Register the exporter of these `Function` subclasses (None entries are skipped, for
    primitives that only some versions have)."""
    def register(fn):
        for cls in classes:
            if cls is not None:
                PRIMITIVES[cls] = fn
        return fn
    return register


def layer(*classes, when=None):
    """Register the exporter of these layer classes; with ``when``, only for the instances it
    accepts (the others are traced through)."""
    def register(fn):
        for cls in classes:
            if cls is not None:
                LAYERS[cls] = (fn, when)
        return fn
    return register


class Refusal:
    """A layer configuration that cannot be exported, with the reason."""

    def __init__(self, message):
        self.message = message


def refuse(*classes, when, message):
    """Refuse these layers when ``when(module)``, before their forward runs."""
    for cls in classes:
        if cls is not None:
            LAYERS[cls] = (Refusal(message), when)


def transparent(*classes):
    """Trace these layers' forward op by op (their ops have exporters)."""
    for cls in classes:
        if cls is not None:
            TRANSPARENT.add(cls)


def function(*paths, accepts=None):
    """Register the exporter of public functions (``"xpnet.ops.shape:reshape"``) whose
    arguments say more than the primitive they call sees (a -1 or a symbolic size in a
    reshape, a negative slice bound). ``accepts(*args, **kwargs)`` may decline a call, which is
    then traced op by op."""
    def register(fn):
        for path in paths:
            FUNCTIONS.append((path, fn, accepts))
        return fn
    return register


def resolve(path):
    """The object at ``"module:attr"``, or None when that module or name does not exist."""
    module_name, attr = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception:  # noqa: BLE001 - a module another part of xpnet has not written yet
        return None
    return getattr(module, attr, None)


def optional(path):
    """A class that another part of xpnet may not have yet (``"xpnet.nn:SiLU"``), or None."""
    return resolve(path)


def layer_rule(module):
    """``("export", exporter)``, ``("trace", None)``, ``("refuse", message)`` or
    ``("error", cls)`` for a layer."""
    for cls in type(module).__mro__:
        if cls in LAYERS:
            exporter, when = LAYERS[cls]
            if when is not None and not when(module):
                return "trace", None
            if isinstance(exporter, Refusal):
                return "refuse", exporter.message
            return "export", exporter
        if cls in TRANSPARENT:
            return "trace", None
        if "forward" in cls.__dict__:
            # The class whose forward runs: a layer of xpnet.nn needs an exporter (its ops may
            # use sizes an ONNX graph cannot follow); other modules are traced through.
            if cls.__module__.startswith("xpnet.nn"):
                return "error", cls
            return "trace", None
    return "trace", None
