"""`Module`, the base of every layer, and the containers Sequential, ModuleList, ModuleDict."""

from __future__ import annotations

import functools
import itertools
import numbers
from collections import OrderedDict, namedtuple

from xpnet import dtypes as _dt
from xpnet.autograd import anomaly, grad_mode
from xpnet.autograd.tensor import Tensor, _unshare
from xpnet.backend import device as _device

from .parameter import Parameter

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models, with PyTorch's semantics.

    Assigning a `Parameter`, a Module or (through `register_buffer`) a Tensor to an attribute
    registers it: `parameters`, `state_dict`, `to` and `train`/`eval` then reach it.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} has no forward(); subclasses define it")

    def __call__(self, *args, **kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        d = self.__dict__
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            from .backward_hooks import wrap_call
            forward = functools.partial(wrap_call, self, self.forward)
            call_args = (args, kwargs)
            kwargs_ = {}
        else:
            forward, call_args, kwargs_ = self.forward, args, kwargs
        if anomaly._enabled:
            anomaly.layer_stack.append(self._layer_name())
            try:
                out = forward(*call_args, **kwargs_)
            finally:
                anomaly.layer_stack.pop()
        else:
            out = forward(*call_args, **kwargs_)
        for hook in tuple(self._forward_hooks.values()):
            replaced = hook(self, args, out)
            if replaced is not None:
                out = replaced
        return out

    def _layer_name(self):
        name = self.__dict__.get("_qualified_name")
        return f"{name} ({type(self).__name__})" if name else type(self).__name__

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward; a non-None return replaces
        the output. Returns a handle whose ``remove()`` unregisters it."""
        return _HookHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when backward has computed the
        gradients of this module's inputs (one entry per positional tensor input, None where
        none is needed) from those of its outputs; a returned tuple replaces grad_input.
        Returns a removable handle."""
        return _HookHandle(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook):
        """Call ``hook(module, grad_output)`` when the gradients of this module's outputs are
        known, before they flow into it; a returned tuple replaces them. Returns a removable
        handle."""
        return _HookHandle(self._backward_pre_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, inputs)`` before every forward; a non-None return replaces the
        inputs. Returns a handle whose ``remove()`` unregisters it."""
        return _HookHandle(self._forward_pre_hooks, hook)

    def name_modules(self):
        """Label every submodule with its qualified name (``layers.0``), which anomaly mode and
        the diagnostics use in their messages; returns self."""
        for name, m in self.named_modules():
            object.__setattr__(m, "_qualified_name", name or type(self).__name__)
        return self

    # -- registration --------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            if name not in params:  # a replaced parameter keeps its place in state_dict
                self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            if name not in modules:
                self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} "
                                f"(a Parameter or None is expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule {name!r} "
                                f"(a Module or None is expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r} "
                                f"(a Tensor or None is expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if any(name in r for r in (self._parameters, self._buffers, self._modules)):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name, param):
        """Add a parameter (or None, keeping the name as an absent parameter)."""
        _check_name("register_parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got "
                            f"{type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is state but not learnable (running statistics, class weights).

        Persistent buffers are in `state_dict`; all buffers follow `to`.
        """
        _check_name("register_buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        _check_name("add_module", name, self)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got "
                            f"{type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix=""):
        """(qualified name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def _all_named_modules(self, prefix=""):
        """Like named_modules, but a module reachable by two paths comes under both."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(qualified name, Parameter) pairs; a parameter shared by two modules comes once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters (to None, or to zeros)."""
        for p in self.parameters():
            if p.grad is not None and not set_to_none and getattr(p.grad, "is_sparse", False):
                p.grad.zero_()  # a sparse gradient with no rows
            elif p.grad is not None:
                p.grad = None if set_to_none else Tensor._make(
                    p._backend.xp.zeros_like(p.grad.array), p._backend)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self, prefix="", keep_vars=False):
        """An ordered dict of qualified name -> Tensor for parameters and persistent buffers.

        The tensors share memory with the module's (detached unless ``keep_vars``).
        """
        out = OrderedDict()
        # No de-duplication: a module registered under two names appears under both, as in
        # PyTorch, so each name's load finds its values.
        for module_name, module in self._all_named_modules(prefix.rstrip(".")):
            base = f"{module_name}." if module_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[base + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[base + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into parameters and buffers (keeping their identity, dtype and backend).

        Values may be Tensors of any backend, NumPy arrays or arrays of any supported library
        (or numbers, nested lists of them); they are cast to each parameter's dtype, as PyTorch
        does. With ``strict``, missing and unexpected keys are errors; shape mismatches always
        are. All checks run before anything is written.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``.

        Raises
        ------
        TypeError
            ``state_dict`` is not a mapping; a value is not a Tensor, an array or numbers (a
            str, None...); or complex values are loaded into a real parameter or buffer (which
            would drop their imaginary parts; PyTorch only warns). The message names the key.
        KeyError
            Missing or unexpected keys (with ``strict``) and nothing else wrong: a
            `StateDictKeyError`, also a ValueError (xpnet's error before) and the RuntimeError
            PyTorch raises.
        ValueError
            A shape mismatch (the message lists the key problems too).
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: state_dict must be a mapping of name -> tensor, "
                            f"got {type(state_dict).__name__}")
        targets = self.state_dict(keep_vars=True)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        converted = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = _as_tensor_like(key, state_dict[key], target)
            if value.shape != target.shape:
                problems.append(f"shape mismatch for {key!r}: the module has {target.shape}, "
                                f"the state dict {value.shape}")
                continue
            converted[key] = value
        if problems:
            message = f"load_state_dict for {type(self).__name__}: " + "; ".join(problems)
            if converted.keys() == {k for k in targets if k in state_dict}:  # only key problems
                raise StateDictKeyError(message)
            raise ValueError(message)
        with grad_mode.no_grad():
            for key, value in converted.items():
                # A copy, as PyTorch's: sparse optimizer steps write parameters' rows in place,
                # which must not reach the module the state dict came from.
                targets[key]._set_array(value._backend.xp.asarray(value.array, copy=True))
        return IncompatibleKeys(missing, unexpected)

    def to(self, *args, **kwargs):
        """Move parameters and buffers to a device or backend and/or cast the floating ones to
        a dtype, in place, as PyTorch's ``Module.to``: ``model.to("cuda")``,
        ``model.to(xpnet.float64)``, ``model.to(device, dtype)``, ``model.to(tensor)``, or the
        keywords ``device``, ``dtype``, ``backend``. Parameter objects stay the same, so
        optimizers keep working; returns self."""
        target, dtype, _ = _device.parse_to(f"{type(self).__name__}.to", args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"{type(self).__name__}.to: dtype must be floating point, got "
                            f"{dtype!r}")

        def convert(t):
            out = t
            if target is not None and out._backend is not target:
                out = Tensor._make(target.asarray(out._backend.to_numpy(out.array)), target)
            if dtype is not None and out.dtype.is_floating_point and out.dtype is not dtype:
                out = Tensor._make(out._backend.xp.astype(out.array, out._backend.dtype(dtype)),
                                   out._backend)
            return out

        for t in itertools.chain(self.parameters(), self.buffers()):
            new = convert(t)
            if new is not t:
                # New values on another device or in another dtype, as PyTorch's `.to`:
                # tensors that shared the old ones (an earlier `p.data`) keep them.
                _unshare(t)
            t.array, t._backend = new.array, new._backend
            if t.grad is not None:
                # A sparse gradient moves as its dense form (rare: a move between steps).
                g = convert(t.grad.to_dense() if getattr(t.grad, "is_sparse", False) else t.grad)
                t.grad = g
        return self

    def cpu(self):
        """Move each parameter and buffer to its library's CPU device (numpy for CuPy), as
        `Tensor.cpu` does; returns self."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            target = _device.cpu_backend_of(t._backend)
            if target is not t._backend:
                self.to(target)
                break
        return self

    def cuda(self, device=None):
        """Move parameters and buffers to a CUDA GPU (``device``: a number or ``"cuda:N"``);
        raises `BackendUnavailableError` where no GPU can be used."""
        if isinstance(device, int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        return self.to("cuda" if device is None else device)

    def type(self, dst_type):
        """Cast floating parameters and buffers to ``dst_type``; returns self."""
        return self.to(dtype=dst_type)

    def half(self):
        raise TypeError(f"{type(self).__name__}.half: xpnet has no float16 dtype yet; keep "
                        f"float32 or use .double()")

    def double(self):
        return self.to(dtype=_dt.float64)

    def float(self):
        return self.to(dtype=_dt.float32)

    # -- repr ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One line of constructor arguments for the repr; layers override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        name = type(self).__name__
        if not self._modules and "\n" not in extra:
            return f"{name}({extra})"
        return name + "(\n  " + "\n  ".join(lines) + "\n)"


class _HookHandle:
    _next_id = 0

    def __init__(self, registry, hook):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        self._registry, self.id = registry, _HookHandle._next_id
        _HookHandle._next_id += 1
        registry[self.id] = hook

    def remove(self):
        self._registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _check_name(op, name, module):
    if not isinstance(name, str):
        raise TypeError(f"{op}: name must be a str, got {type(name).__name__}")
    if not name or "." in name:
        raise ValueError(f"{op}: name must be non-empty and contain no '.', got {name!r}")
    if name in module.__dict__ and not any(
            name in r for r in (module._parameters, module._buffers, module._modules)):
        raise KeyError(f"{op}: attribute {name!r} already exists")


class StateDictKeyError(KeyError, ValueError, RuntimeError):
    """Missing or unexpected keys in `Module.load_state_dict`: a KeyError (the issue's error
    for missing keys), a ValueError (what xpnet raised before) and a RuntimeError (what PyTorch
    raises), so code written for any of them catches it."""

    def __str__(self):
        # KeyError's own str() is the repr of its argument (quotes around the sentence).
        return str(self.args[0]) if self.args else ""


def _as_tensor_like(key, value, target):
    """A Tensor with the target's backend and dtype, from any accepted state-dict value: a
    Tensor, an array of a supported library, or numbers (nested lists of them)."""
    from xpnet.creation import tensor
    expected = f"load_state_dict: the value for {key!r} must be a Tensor or an array"
    if isinstance(value, Tensor):
        t = value
    elif isinstance(value, (list, tuple, numbers.Number)):
        try:
            kind = tensor(value).dtype.kind
            # Straight to the parameter's dtype: a list of Python floats must not pass through
            # float32 on its way into a float64 parameter.
            t = tensor(value, dtype=target.dtype if kind != "complex floating" else None,
                       backend=target._backend)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{expected} (or numbers), got a {type(value).__name__} that is "
                            f"not one ({error})") from None
    else:
        try:
            t = Tensor(value)  # an array of a supported backend, wrapped as it is
        except TypeError:
            raise TypeError(f"{expected}, got {type(value).__name__}") from None
    if t.dtype.kind == "complex floating" and target.dtype.kind != "complex floating":
        # PyTorch warns and keeps the real parts; a silent loss of values is refused here.
        raise TypeError(f"load_state_dict: {key!r} holds {t.dtype.name} values; the module's "
                        f"{key!r} is {target.dtype.name} and would drop the imaginary parts "
                        f"(load .real explicitly if that is meant)")
    if t._backend is not target._backend:
        t = Tensor._make(target._backend.asarray(t._backend.to_numpy(t.array)), target._backend)
    if t.dtype is not target.dtype:
        t = Tensor._make(t._backend.xp.astype(t.array, target.array.dtype), t._backend)
    return t


# -- containers ----------------------------------------------------------------------------------

class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Also accepts one OrderedDict of name -> module.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                _check_entry("Sequential", f"the module named {name!r}", m)
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                _check_entry("Sequential", f"argument {i}", m)
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_list_index("Sequential", index, len(items))][1]

    def append(self, module):
        _check_entry("Sequential.append", "module", module)
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (it has no forward of its own)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self._extend("ModuleList", modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        values = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(values[index])
        return values[_list_index("ModuleList", index, len(values))]

    def __setitem__(self, index, module):
        key = list(self._modules)[_list_index("ModuleList", index, len(self._modules))]
        _check_entry("ModuleList", f"the entry at index {index}", module)
        self.add_module(key, module)
        self._modules[key] = module

    def append(self, module):
        _check_entry("ModuleList.append", "module", module)
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        return self._extend("ModuleList.extend", modules)

    def _extend(self, op, modules):
        if isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
            raise TypeError(f"{op}: modules must be an iterable of Modules, got "
                            f"{type(modules).__name__}")
        modules = list(modules)
        start = len(self._modules)
        for i, m in enumerate(modules):
            _check_entry(op, f"the entry at index {start + i}", m)
        for m in modules:
            self.add_module(str(len(self._modules)), m)
        return self

    def insert(self, index, module):
        _check_entry("ModuleList.insert", "module", module)
        values = list(self._modules.values())
        values.insert(index, module)
        self._modules.clear()
        for m in values:
            self.append(m)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self._update("ModuleDict", modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self._set("ModuleDict", key, module)

    def _set(self, op, key, module):
        if not isinstance(key, str):
            raise TypeError(f"{op}: keys must be str (module names), got "
                            f"{type(key).__name__} {key!r}")
        _check_entry(op, f"the value for key {key!r}", module)
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        self._update("ModuleDict.update", modules)

    def _update(self, op, modules):
        if hasattr(modules, "items"):
            items = list(modules.items())
        elif isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
            raise TypeError(f"{op}: modules must be a mapping or an iterable of (name, module) "
                            f"pairs, got {type(modules).__name__}")
        else:
            items = list(modules)
            for i, pair in enumerate(items):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(f"{op}: element {i} of modules must be a (name, module) "
                                    f"pair, got {type(pair).__name__} {pair!r}")
        for key, m in items:
            self._set(op, key, m)


def _check_entry(op, where, module):
    """A container's entry: a Module, or None as PyTorch allows (a placeholder)."""
    if module is not None and not isinstance(module, Module):
        raise TypeError(f"{op}: {where} must be a Module (or None), got "
                        f"{type(module).__name__}")


def _list_index(op, index, n):
    if not isinstance(index, int):
        raise TypeError(f"{op}: indices must be ints or slices, got {type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"{op}: index {index} is out of range for length {n}")
    return index % n


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
