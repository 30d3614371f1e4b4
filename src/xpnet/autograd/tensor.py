"""`Tensor`: a backend array with the bookkeeping for reverse-mode autodiff."""

from __future__ import annotations

import copy
import math
import weakref

from xpnet import backend as _backends
from xpnet.backend import checks as _checks
from xpnet.backend import device as _device
from xpnet import dtypes as _dt

__all__ = ["GradDtypeError", "GradMismatchError", "Size", "Tensor"]


class GradMismatchError(ValueError, RuntimeError):
    """A gradient that does not fit its tensor (another shape, the tensor itself, one left out
    for a tensor of several elements), or an input of `xpnet.autograd.grad` outside the graph:
    a ValueError, xpnet's error for wrong values, and a RuntimeError, what PyTorch raises, so
    code written for either catches it."""


class GradDtypeError(TypeError, RuntimeError):
    """A gradient of a dtype its tensor cannot take: a TypeError, xpnet's error for wrong types,
    and a RuntimeError, what PyTorch raises."""


class Tensor:
    """An array of the active (or given) backend that can record operations for `backward`.

    Make tensors with `xpnet.tensor` and the factories (`xpnet.zeros`, `xpnet.randn`...);
    ``Tensor(array)`` wraps an array of a supported backend as it is.

    Attributes
    ----------
    array : array
        The backend array (numpy.ndarray, cupy.ndarray, array_api_strict Array, torch.Tensor).
    requires_grad : bool
        Whether operations on this tensor are recorded for differentiation.
    grad_fn : Function or None
        The node that produced this tensor (None for leaves).
    """

    # _shared: None, or the list of weak references to the tensors sharing this one's values
    # (made by .data and .detach()); an in-place update rebinds them all.
    # _hooks: None, or the TensorHooks of a leaf (register_hook on a non-leaf goes to its node).
    # _grad: the slot behind the checked `grad` property; autograd and the optimizers write it
    # directly (their gradients fit by construction).
    __slots__ = ("array", "_grad", "requires_grad", "grad_fn", "_backend", "_out_index",
                 "_shared", "_hooks", "__weakref__")
    # NumPy scalars and arrays on the left of an operator defer to Tensor's reflected methods.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False):
        backend = _backends.backend_of_array(data)
        if backend is None:
            raise TypeError(f"Tensor: expected an array of a supported backend "
                            f"({', '.join(_backends.FAMILIES)}), got {type(data).__name__}; "
                            f"use xpnet.tensor(...) for lists and scalars")
        if data.dtype not in backend._from_xp:  # float16, object...: refused here, not later
            from xpnet.creation import _array_dtype
            _array_dtype(type(self).__name__, backend, data, None)  # raises the TypeError
        self.array, self._backend = data, backend
        self._grad = self.grad_fn = self._shared = self._hooks = None
        self._out_index = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, backend, grad_fn=None, index=0):
        t = object.__new__(cls)
        if backend.fix_output is not None and type(data) is not backend.array_type:
            data = backend.fix_output(data)
        t.array, t._backend, t._grad, t.grad_fn = data, backend, None, grad_fn
        t._out_index, t._shared, t._hooks = index, None, None
        t.requires_grad = grad_fn is not None
        return t

    # -- metadata ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> _dt.DType:
        return self._backend.xpnet_dtype(self.array.dtype)

    @property
    def device(self) -> _device.device:
        """Where the values live, in PyTorch's terms (``device(type='cpu')``, ``cuda:0``...);
        it equals its string (``t.device == "cpu"``) and names this exact backend."""
        return _device.device_of_backend(self._backend)

    @property
    def is_cuda(self) -> bool:
        return self._backend.family == "cupy"

    @property
    def backend(self) -> str:
        """Name of the backend holding the data, e.g. 'numpy' or 'cupy:0'."""
        return self._backend.name

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        """Accumulated gradient of a leaf that requires grad, after `backward`: a Tensor, or a
        `xpnet.autograd.RowSparseGrad` for the weight of a ``sparse=True`` embedding; None until
        a backward reaches this tensor.

        Assigning checks the value as PyTorch does, so that an optimizer step never meets a
        gradient it cannot apply: None, or a Tensor (or `RowSparseGrad`) of this tensor's
        shape, dtype and backend.

        Raises
        ------
        TypeError
            The value is neither None nor a Tensor (a NumPy array, a list...).
        GradMismatchError (a ValueError and a RuntimeError)
            Another shape, or the tensor itself.
        GradDtypeError (a TypeError and a RuntimeError)
            Another dtype.
        ValueError
            Another backend or device.
        """
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    def size(self, dim=None):
        """The shape as an `xpnet.Size`, or the length of axis ``dim`` (negative counts from
        the end), as PyTorch's ``size``."""
        if dim is None:
            return Size(self.array.shape)
        shape = self.shape
        if (isinstance(dim, bool) or not isinstance(dim, int)
                or not -len(shape) <= dim < max(len(shape), 1)):
            raise IndexError(f"Tensor.size: dim {dim!r} is out of range for a {len(shape)}-D "
                             f"tensor (expected an int in [{-len(shape)}, {len(shape) - 1}])")
        return shape[dim] if shape else 1

    def numel(self) -> int:
        return math.prod(self.shape)

    nelement = numel

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.array.ndim

    ndimension = dim

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.bits // 8

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.kind == "complex floating"

    def get_device(self) -> int:
        """The GPU number for a CUDA tensor, -1 on the CPU (PyTorch's convention)."""
        index = self.device.index
        return index if isinstance(index, int) else -1

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        # Without it Python would iterate through __getitem__, and a 0-d tensor would give
        # an iterator that fails only when used.
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # -- leaving the graph / the backend ------------------------------------------------------
    def numpy(self):
        """A NumPy copy of the values, from any backend or device."""
        return self._backend.to_numpy(self.array)

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t), matplotlib and friends read tensors as PyTorch's CPU tensors are read.
        # On numpy the array itself is shared unless a copy is asked for; from another backend
        # or device the values come through the host, which is a copy.
        if self._backend.family == "numpy" and not copy:
            out = self.array
        else:
            if copy is False:
                raise ValueError(f"__array__: a {self._backend.name} tensor cannot be viewed as "
                                 f"a NumPy array without a copy")
            out = self.numpy()
        return out if dtype is None else out.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python scalar.

        A synchronisation: a data check still pending on the tensor's device raises here."""
        if self.numel() != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python scalar, "
                             f"got shape {self.shape}")
        if _checks._pending:
            _checks.report(self._backend)
        value = self._backend.xp.reshape(self.array, ())
        kind = self.dtype.kind
        if kind == "bool":
            return bool(value)
        if kind.endswith("integer"):
            return int(value)
        if kind == "complex floating":
            return complex(value)
        return float(value)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             f"use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        if not self.dtype.is_integer or self.numel() != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got "
                            f"{self.dtype.name} of shape {self.shape}")
        return int(self.item())

    def detach(self) -> Tensor:
        """The same values, cut from the graph (requires_grad=False); an in-place update of
        either tensor shows in the other, as in PyTorch."""
        out = Tensor._make(self.array, self._backend)
        _share(self, out)
        return out

    @property
    def data(self) -> Tensor:
        """The values as a tensor that records no gradients and shares them with this one.

        ``p.data.add_(g, alpha=-lr)``, ``w.data.uniform_(-a, a)`` and ``p.data.copy_(q)``
        change ``p`` and are never recorded, as in PyTorch. The backend array itself is
        ``.array``.
        """
        return self.detach()

    @data.setter
    def data(self, value):
        # PyTorch: p.data = t makes p hold t's values (shape and dtype may change); tensors that
        # shared p's old values keep them.
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}; assign "
                            f"a backend array to .array instead")
        _unshare(self)
        self.array, self._backend = value.array, value._backend
        _share(value, self)

    def _set_array(self, array):
        """Rebind this tensor, and every tensor sharing its values, to ``array`` (the one way
        in-place updates write)."""
        shared = self._shared
        if shared is None:
            self.array = array
            return
        for ref in shared:
            t = ref()
            if t is not None:
                t.array = array

    def requires_grad_(self, requires_grad=True) -> Tensor:
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.kind == "complex floating"):
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, "
                            f"got {self.dtype.name}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: cannot turn off gradients of a non-leaf tensor; "
                               "use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` for this non-leaf tensor during backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node.retained is None:
                node.retained = {}
            node.retained[self._out_index] = self
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever backward computes this tensor's gradient; a returned
        tensor replaces the gradient (for the rest of the walk, and in ``.grad``). On a leaf the
        hook sees the total gradient of the backward call, once. Returns a handle whose
        ``remove()`` unregisters the hook."""
        from .hooks import RemovableHandle, TensorHooks
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        node = self.grad_fn
        if node is None:
            if self._hooks is None:
                self._hooks = TensorHooks()
            return RemovableHandle(self._hooks.grad, hook)
        if node.hooks is None:
            node.hooks = {}
        return RemovableHandle(node.hooks.setdefault(self._out_index, {}), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` once this leaf's ``.grad`` holds the gradient of a backward
        call (optimizer-in-backward and gradient communication start here). Returns a
        removable handle."""
        from .hooks import RemovableHandle, TensorHooks
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors have "
                               "their .grad accumulated; register_hook sees a non-leaf's")
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: the tensor does not "
                               "require grad")
        if self._hooks is None:
            self._hooks = TensorHooks()
        return RemovableHandle(self._hooks.post, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Parameters
        ----------
        gradient : Tensor, array, (nested) list of numbers, or None
            Gradient with respect to this tensor, of its shape (cast to its dtype, as PyTorch
            does); may be omitted for one-element tensors.
        retain_graph : bool, optional
            Keep the graph so backward can run through it again (default False).
        create_graph, inputs
            PyTorch's; not supported (see `xpnet.autograd.backward`).

        Raises
        ------
        TypeError
            ``gradient`` is not a Tensor, an array or numbers; or it is complex for a real
            tensor (a `GradDtypeError`, also a RuntimeError as in PyTorch).
        ValueError
            ``gradient`` has another shape (a `GradMismatchError`, also a RuntimeError as in
            PyTorch) or is on another backend or device.
        """
        from .graph import run_backward_checked
        run_backward_checked("backward", (self,), (gradient,), ("gradient",), retain_graph,
                             create_graph, inputs)

    def to(self, *args, **kwargs) -> Tensor:
        """This tensor on another device or backend and/or in another dtype, as PyTorch's ``to``.

        ``t.to("cuda")``, ``t.to(xpnet.float64)``, ``t.to("cpu", xpnet.float64)``,
        ``t.to(other)`` (its device and dtype), and the keywords ``device``, ``dtype``,
        ``backend`` (an xpnet backend name) and ``copy``. A move copies through the host and is
        differentiable; with nothing to change, ``self`` is returned (unless ``copy=True``).
        """
        target, dtype, copy = _device.parse_to("Tensor.to", args, kwargs)
        out = self
        if target is not None and target is not self._backend:
            out = _ops.move_to_backend(out, target)
        if dtype is not None:
            out = _ops.astype(out, dtype)
        if copy and out is self:
            out = _ops.clone(self)
        return out

    def cpu(self) -> Tensor:
        """This tensor on the CPU: itself if already there; from CuPy, on numpy; from another
        array_api_strict device, on its CPU device."""
        target = _device.cpu_backend_of(self._backend)
        return self if target is self._backend else _ops.move_to_backend(self, target)

    def cuda(self, device=None) -> Tensor:
        """This tensor on a CUDA GPU (``device``: a number or ``"cuda:N"``; default the current
        one); raises `BackendUnavailableError` where no GPU can be used."""
        if device is None:
            device = "cuda"
        elif isinstance(device, int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        return self.to(device)

    def astype(self, dtype) -> Tensor:
        return _ops.astype(self, dtype)

    def type(self, dtype=None):
        """Without an argument, the type name (``'xpnet.FloatTensor'``); with a dtype (or a
        PyTorch type name such as ``'torch.LongTensor'``), this tensor in that dtype."""
        if dtype is None:
            return f"xpnet.{_dt.legacy_type_name(self.dtype)}"
        return self.astype(_dt.from_legacy_type_name(dtype) if isinstance(dtype, str)
                           and dtype.endswith("Tensor") else dtype)

    def type_as(self, other) -> Tensor:
        return self.astype(other.dtype)

    # PyTorch's dtype shorthands (int() is int32 there, long() int64).
    def float(self): return self.astype(_dt.float32)
    def double(self): return self.astype(_dt.float64)
    def long(self): return self.astype(_dt.int64)
    def int(self): return self.astype(_dt.int32)
    def short(self): return self.astype(_dt.int16)
    def char(self): return self.astype(_dt.int8)
    def byte(self): return self.astype(_dt.uint8)
    def bool(self): return self.astype(_dt.bool)

    def half(self):
        raise TypeError("Tensor.half: xpnet has no float16 dtype yet; keep float32 "
                        "(.float()) or use float64 (.double())")

    bfloat16 = half

    def __format__(self, spec):
        # PyTorch formats one-element tensors as their number (f"{loss:.4f}"); others only with
        # an empty spec.
        if self.numel() == 1 and self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} for a tensor of shape "
                            f"{self.shape}; format one element (t.item()) or use str(t)")
        return str(self)

    def __repr__(self):
        values = _backends.format_array(self._backend, self.array)
        extra = []
        if self.dtype is not _dt.get_default_dtype() and self.dtype is not _dt.int64 \
                and self.dtype is not _dt.bool:
            extra.append(f"dtype={self.dtype.name}")
        if self._backend.name != "numpy":
            extra.append(f"backend={self._backend.name!r}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([values] + extra) + ")"

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        # copy.deepcopy(model.state_dict()) and deepcopy(model) as in PyTorch: new values, the
        # same backend, requires_grad and class (a Parameter stays one); a graph node cannot be
        # copied, as in PyTorch.
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only tensors created by the user (graph leaves) can "
                               "be deep-copied; .detach() a computed tensor first")
        out = object.__new__(type(self))
        out.array = self._backend.xp.asarray(self.array, copy=True)
        out._backend, out.grad_fn, out._out_index = self._backend, None, 0
        out._shared = out._hooks = None
        out.requires_grad = self.requires_grad
        memo[id(self)] = out
        out._grad = None if self._grad is None else copy.deepcopy(self._grad, memo)
        return out

    # No __getattr__: defining one slows every attribute read of every tensor. The PyTorch
    # names xpnet lacks get descriptors that raise instead (xpnet._missing.install_stubs).

    # -- operators: all defined in xpnet.ops -------------------------------------------------
    # ``x + y``, ``x * y``, ``x[i]``... are the ops functions themselves (bound in methods.py: a
    # call less per op); the reflected forms swap the operands here.
    def __radd__(self, other): return _ops.add(other, self)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __pos__(self): return self
    # &, |, ^, ~, //, % and their in-place forms are bound in methods.py (bitwise on integers,
    # logical on bools, as PyTorch).

    # -- in-place updates ---------------------------------------------------------------------
    # The standard forbids writing into arrays in general (and strict refuses integer-array
    # setitem), and the graph may have saved this tensor's array for backward. So an in-place
    # update computes the result out of place and rebinds this tensor to it: saved arrays stay
    # valid, and code written for PyTorch (`w -= lr * w.grad` under no_grad) works as there.
    def _assign(self, op, result):
        from . import grad_mode
        if result.shape != self.shape:
            raise ValueError(f"{op}: the result has shape {result.shape}; an in-place update "
                             f"cannot change the tensor's shape {self.shape}")
        if grad_mode._enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be updated in "
                               f"place while gradients are recorded; do it under xpnet.no_grad()")
        if result.dtype is not self.dtype:
            same_kind = result.dtype.kind == self.dtype.kind or (
                self.dtype.is_floating_point and result.dtype.kind != "complex floating")
            if not same_kind:
                raise TypeError(f"{op}: the result has dtype {result.dtype.name}, which cannot "
                                f"be stored in place in a {self.dtype.name} tensor")
            result = result.astype(self.dtype)
        self._set_array(result.array)
        if result.grad_fn is not None:
            self.grad_fn, self._out_index, self.requires_grad = result.grad_fn, result._out_index, True
        elif self.grad_fn is not None:  # under no_grad a non-leaf becomes a plain leaf
            self.grad_fn = None
        return self

    def __iadd__(self, other): return self._assign("+=", _ops.add(self, other))
    def __isub__(self, other): return self._assign("-=", _ops.sub(self, other))
    def __imul__(self, other): return self._assign("*=", _ops.mul(self, other))
    def __itruediv__(self, other): return self._assign("/=", _ops.div(self, other))
    def __ipow__(self, other): return self._assign("**=", _ops.pow(self, other))

    def contiguous(self, memory_format=None):
        """Itself: xpnet tensors have no strides to make contiguous (the backends' arrays are
        laid out by their libraries)."""
        return self

    def is_contiguous(self, memory_format=None) -> bool:
        return True

    def detach_(self):
        """Cut this tensor from the graph in place (it becomes a leaf); returns self."""
        self.grad_fn, self.requires_grad = None, False
        return self

    @property
    def T(self):
        if self.ndim != 2:
            raise ValueError(f"T: expected a 2-D tensor, got {self.ndim}-D; use .mT or .permute()")
        return _ops.permute(self, (1, 0))

    @property
    def mT(self):
        return _ops.swapaxes(self, -1, -2)

    # -- methods: thin forwards to xpnet.ops -------------------------------------------------
    def reshape(self, *shape): return _ops.reshape(self, _shape_args(shape))
    def view(self, *shape): return _ops.shape._reshape("view", self, _shape_args(shape))
    def expand(self, *shape): return _ops.expand(self, _shape_args(shape))

    def permute(self, *dims, **kwargs):
        """Reorder the axes: ``t.permute(2, 0, 1)`` or ``t.permute((2, 0, 1))``."""
        return _ops.permute(self, _shape_args(dims) if dims else None, **kwargs)

    def flip(self, *dims, **kwargs):
        """Reverse along the given axes: ``t.flip(0)``, ``t.flip((0, 1))``, ``t.flip(dims=[1])``."""
        return _ops.flip(self, _shape_args(dims) if dims else None, **kwargs)



class Size(tuple):
    """A tensor's shape, as PyTorch's ``torch.Size``: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self):
        return f"xpnet.Size({list(self)})"

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out


def _share(source, other):
    """Make ``other`` share ``source``'s values from now on (see `Tensor._set_array`)."""
    group = source._shared
    if group is None:
        group = source._shared = [weakref.ref(source)]
    elif len(group) >= 8 and len(group) & (len(group) - 1) == 0:
        # `p.data` in every step adds a member; drop the dead ones when the list doubles.
        group[:] = [ref for ref in group if ref() is not None]
    group.append(weakref.ref(other))
    other._shared = group


def _unshare(t):
    group = t._shared
    if group is not None:
        group[:] = [ref for ref in group if ref() is not None and ref() is not t]
        t._shared = None


def _check_assigned_grad(t, g):
    """Raise unless ``g`` may be ``t.grad`` (see `Tensor.grad`); None is handled by the caller."""
    if not isinstance(g, Tensor):
        from .sparse import RowSparseGrad  # sparse imports this module
        if type(g) is not RowSparseGrad:
            raise TypeError(f"Tensor.grad: assigned grad expected to be a Tensor or None but got "
                            f"grad of type {type(g).__name__}")
    elif g is t:
        raise GradMismatchError("Tensor.grad: a tensor cannot be its own grad")
    if g._backend is not t._backend:
        from .function import check_same_backend  # function imports this module
        check_same_backend("Tensor.grad", (t, g))
    if tuple(g.shape) != t.shape:
        raise GradMismatchError(f"Tensor.grad: assigned grad has shape {tuple(g.shape)}, but the "
                                f"tensor has shape {t.shape}; they must be the same")
    if g.dtype is not t.dtype:
        raise GradDtypeError(f"Tensor.grad: assigned grad has dtype {g.dtype.name}, but the "
                             f"tensor has dtype {t.dtype.name}; convert it with "
                             f".to({t.dtype.name}) first")


def _shape_args(args):
    """Accept both f(2, 3) and f((2, 3)), as torch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


from xpnet import ops as _ops  # noqa: E402  (ops import Tensor; bound after the class exists)
