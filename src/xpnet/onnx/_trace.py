"""The recording context: runs a model on example inputs and turns what it computes into ONNX
nodes (see the package docstring for the design).

While it is active it replaces, and afterwards restores, a few entry points of xpnet:
``Module.__call__`` (layers with exporters), ``Function.apply`` (primitives),
``Tensor.shape``/``Tensor.size`` (symbolic sizes as `SymInt`), the public functions registered
with `_registry.function` wherever a module of xpnet or the Tensor class holds them, and the
Tensor methods that turn values into Python numbers (which warn: the graph can only hold them as
constants). Only the thread that called `export` is traced.
"""

from __future__ import annotations

import sys
import threading
import warnings

from xpnet.autograd.function import Function
from xpnet.autograd.tensor import Size, Tensor
from xpnet.nn.module import Module

from . import _registry
from ._dims import Dim, SymInt, wrap
from ._errors import ExportError

_ACTIVE = None  # the Tracer recording now, if any

_ORIGINAL_CALL = Module.__call__
_ORIGINAL_APPLY = Function.__dict__["apply"]
_ORIGINAL_SIZE = Tensor.__dict__["size"]


def _recording():
    """The active tracer when user-level code runs (not inside an op being exported)."""
    tracer = _ACTIVE
    # Other threads that use xpnet meanwhile are not part of the model being exported.
    if tracer is None or tracer.depth or tracer.thread != threading.get_ident():
        return None
    return tracer


def _flat(obj):
    if isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _flat(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _flat(x)
    elif isinstance(obj, slice):
        yield from _flat((obj.start, obj.stop, obj.step))
    else:
        yield obj


class Tracer:
    """Runs ``model`` with the patches in place and records into the builder ``g``."""

    def __init__(self, g, model):
        self.g = g
        self.depth = 0
        self.thread = threading.get_ident()
        self.module_names = {}
        for name, m in model.named_modules():
            self.module_names.setdefault(id(m), name)
        self._patches = []

    # -- relevance ------------------------------------------------------------------------
    def involves(self, args, kwargs=None):
        """Whether a call's arguments hold a traced tensor or a symbolic size."""
        g = self.g
        for x in _flat((args, kwargs or {})):
            if isinstance(x, SymInt):
                return True
            if (isinstance(x, Tensor) or hasattr(x, "shape")) and g.traced(x):
                return True
        return False

    def where(self):
        """The layer being traced, for messages."""
        names = [s for s in self.g.scope if s]
        return f" (in layer {names[-1]!r})" if names else ""

    # -- the wrappers ---------------------------------------------------------------------
    def call_module(self, module, args, kwargs):
        rule, target = _registry.layer_rule(module)
        name = self.module_names.get(id(module), "")
        if rule != "trace" and not self.involves(args, kwargs):
            # Only constants in: the result is a constant of the graph, whatever the layer.
            return _ORIGINAL_CALL(module, *args, **kwargs)
        if rule == "refuse":
            raise ExportError(f"ONNX export: {target}" + (f" (layer {name!r})" if name else ""))
        if rule == "error":
            raise ExportError(
                f"ONNX export: no exporter for layer {target.__name__} "
                f"({target.__module__}.{target.__qualname__})"
                + (f" at {name!r}" if name else "")
                + "; replace it with a supported layer or implement its forward with "
                  "supported ops in a custom Module")
        self.g.scope.append(name)
        self.g.module_stack.append(module)
        try:
            if rule == "trace":
                return _ORIGINAL_CALL(module, *args, **kwargs)
            self.depth += 1
            try:
                out = _ORIGINAL_CALL(module, *args, **kwargs)
                target(self.g, module, out, *args, **kwargs)
            finally:
                self.depth -= 1
            self._check_bound(out, type(module).__name__)
            return out
        finally:
            self.g.scope.pop()
            self.g.module_stack.pop()

    def apply(self, cls, args, kwargs):
        if not self.involves(args):
            return _ORIGINAL_APPLY.__func__(cls, *args, **kwargs)
        exporter = _registry.PRIMITIVES.get(cls)
        if exporter is None:
            raise ExportError(f"ONNX export: no exporter for the op {cls.__name__} "
                              f"({cls.__module__}){self.where()}; it has no ONNX equivalent "
                              f"in xpnet yet")
        self.depth += 1
        try:
            out = _ORIGINAL_APPLY.__func__(cls, *args, **kwargs)
            exporter(self.g, out, *args, **kwargs)
        finally:
            self.depth -= 1
        self._check_bound(out, cls.__name__)
        return out

    def call_function(self, fn, exporter, accepts, args, kwargs):
        if not self.involves(args, kwargs) or (accepts is not None
                                               and not accepts(*args, **kwargs)):
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
            exporter(self.g, out, *args, **kwargs)
        finally:
            self.depth -= 1
        self._check_bound(out, fn.__name__)
        return out

    def _check_bound(self, out, what):
        for t in _flat(out):
            if isinstance(t, Tensor) and not self.g.traced(t):
                raise ExportError(f"internal error: the exporter of {what} left an output "
                                  f"unbound")

    def shape(self, t):
        shape = tuple(t.array.shape)
        value = self.g.lookup(t)
        if value is None:
            return shape
        return tuple(wrap(d) for d in value.dims)

    # -- patching -------------------------------------------------------------------------
    def __enter__(self):
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("xpnet.onnx.export: an export is already running (exports "
                               "cannot be nested or run from two threads)")
        _ACTIVE = self
        try:
            self._patch_entry_points()
            self._patch_functions()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        global _ACTIVE
        for owner, name, old in reversed(self._patches):
            if isinstance(owner, type):
                setattr(owner, name, old)
            else:
                owner[name] = old
        self._patches.clear()
        _ACTIVE = None
        return False

    def _set(self, owner, name, new):
        """Replace ``owner.name`` (a class) or ``owner[name]`` (a module dict), remembering it."""
        if isinstance(owner, type):
            self._patches.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, new)
        else:
            self._patches.append((owner, name, owner[name]))
            owner[name] = new

    def _patch_entry_points(self):
        def module_call(module, *args, **kwargs):
            tracer = _recording()
            if tracer is None:
                return _ORIGINAL_CALL(module, *args, **kwargs)
            return tracer.call_module(module, args, kwargs)

        def apply(cls, *args, **kwargs):
            tracer = _recording()
            if tracer is None:
                return _ORIGINAL_APPLY.__func__(cls, *args, **kwargs)
            return tracer.apply(cls, args, kwargs)

        def shape(t):
            tracer = _recording()
            return tuple(t.array.shape) if tracer is None else tracer.shape(t)

        def size(t, dim=None):
            tracer = _recording()
            if tracer is None:
                return _ORIGINAL_SIZE(t, dim)
            if dim is None:
                return Size(tracer.shape(t))
            _ORIGINAL_SIZE(t, dim)  # its range check and message
            dims = tracer.shape(t)
            return dims[dim] if dims else 1

        self._set(Module, "__call__", module_call)
        self._set(Function, "apply", classmethod(apply))
        # The hot ops' shortcuts past apply (apply_one / apply_two) go through it while tracing.
        self._set(Function, "apply_one", classmethod(lambda cls, x: cls.apply(x)))
        self._set(Function, "apply_two", classmethod(lambda cls, a, b: cls.apply(a, b)))
        self._set(Tensor, "shape", property(shape))
        self._set(Tensor, "size", size)
        for name in ("item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__len__"):
            if name in Tensor.__dict__:
                self._set(Tensor, name, _constant_warning(name, Tensor.__dict__[name]))

    def _patch_functions(self):
        replacements = {}
        for path, exporter, accepts in _registry.FUNCTIONS:
            fn = _registry.resolve(path)
            if fn is None or id(fn) in replacements:
                continue
            replacements[id(fn)] = _function_wrapper(fn, exporter, accepts)
        # Every place that holds the function: module globals (``from .shape import
        # reshape`` bindings included) and Tensor's methods.
        for module_name, module in list(sys.modules.items()):
            if module is None or not (module_name == "xpnet" or module_name.startswith("xpnet.")):
                continue
            if module_name.startswith("xpnet.onnx"):
                continue
            namespace = getattr(module, "__dict__", None)
            if namespace is None:
                continue
            for name, obj in list(namespace.items()):
                if id(obj) in replacements and callable(obj):
                    self._set(namespace, name, replacements[id(obj)])
        for name, obj in list(Tensor.__dict__.items()):
            if id(obj) in replacements and callable(obj):
                self._set(Tensor, name, replacements[id(obj)])
        # Operators bound as closures over the function (autograd/methods.py) call the
        # replacement instead.
        logic = sys.modules["xpnet.ops.logic"]
        for op, fn_name in (("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor")):
            for dunder, reflected in ((f"__{op}__", False), (f"__r{op}__", True)):
                if dunder in Tensor.__dict__:
                    self._set(Tensor, dunder, _operator(logic, fn_name, reflected))


def _operator(module, fn_name, reflected=False):
    if reflected:
        return lambda self, other: getattr(module, fn_name)(other, self)
    return lambda self, other: getattr(module, fn_name)(self, other)


def _constant_warning(name, method):
    """``method`` of Tensor, warning when it turns a traced tensor into a Python value (which
    the graph can only hold as a constant), as PyTorch's TracerWarning."""
    def wrapper(t, *args, **kwargs):
        tracer = _recording()
        if tracer is not None:
            value = tracer.g.lookup(t)
            if name == "__len__":  # a constant only when the first axis is dynamic
                constant = value is not None and bool(value.dims) \
                    and isinstance(value.dims[0], Dim)
            else:
                constant = value is not None
            if constant:
                how = "len()" if name == "__len__" else f"Tensor.{name.strip('_')}()"
                hint = "; use x.size(0)" if name == "__len__" else ""
                warnings.warn(f"xpnet.onnx.export: {how} of a tensor computed from the inputs "
                              f"is a constant of the exported graph: the values of this run "
                              f"are used for every input{hint}", UserWarning, stacklevel=2)
        return method(t, *args, **kwargs)
    wrapper.__name__ = name
    return wrapper


def _function_wrapper(fn, exporter, accepts):
    def wrapper(*args, **kwargs):
        tracer = _recording()
        if tracer is None:
            return fn(*args, **kwargs)
        return tracer.call_function(fn, exporter, accepts, args, kwargs)
    wrapper.__name__ = getattr(fn, "__name__", "wrapper")
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper
