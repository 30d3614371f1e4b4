"""`Optimizer`: parameter groups, per-parameter state, ``step``, ``zero_grad`` and state dicts.

Each optimizer writes its maths once, per array, as a pure function of raw backend arrays (its
``*_update`` function); the class validates hyperparameters, keeps state under PyTorch's names and
writes the results back. Updates rebind ``param.array`` (and each state tensor's ``array``), so the
parameter objects a model holds stay the same objects. The one exception is the sparse path
(`_sparse_update`): a row-sparse gradient changes only its rows, written in place where the
backend allows it (the `add_to_rows` kernel), so a step never touches the whole table.
"""

from __future__ import annotations

import collections
import copy
import math
import numbers
import struct

from xpnet import backend as _backends
from xpnet import dtypes as _dt
from xpnet.autograd.grad_mode import enable_grad, no_grad
from xpnet.autograd.sparse import RowSparseGrad
from xpnet.autograd.tensor import GradDtypeError, Tensor
from xpnet.backend.kernels import get_kernel

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of the optimizers: holds parameter groups and per-parameter state.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        The leaf tensors to optimize, or parameter groups: dicts with a ``"params"`` entry and
        any hyperparameters that override ``defaults`` for that group. Named parameters (such
        as ``model.named_parameters()``) keep their names in the group's ``"param_names"``, as
        in PyTorch; then every group must be named.
    defaults : dict
        Hyperparameters for groups that do not set them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: ``"params"`` (a list of tensors) and every hyperparameter.
    state : collections.defaultdict of dict
        Per-parameter state, keyed by the parameter tensor: a dict of tensors and numbers under
        PyTorch's names (``momentum_buffer``, ``exp_avg``, ``step``...), made on the first step
        that parameter has a gradient.
    defaults : dict

    Subclasses set ``_check_group`` (validation of one group's hyperparameters), ``_init_state``
    (the state of a parameter before its first update) and ``_update`` (one parameter's step).
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got a "
                            f"Tensor; pass [tensor]")
        if isinstance(params, (dict, set)):
            raise TypeError(f"{name}: params must be an ordered iterable (a list) of Tensors or "
                            f"of dicts, got a {type(params).__name__}")
        self._check_group(defaults)
        self.defaults = defaults
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"``) with its own hyperparameters.

        Hyperparameters the group leaves out take the optimizer's defaults. Useful to train
        layers that were frozen until now, or to give some layers another learning rate.

        Raises
        ------
        TypeError
            If the group is not a dict or holds something other than floating-point Tensors.
        ValueError
            If a parameter is not a leaf, appears twice, or is already in another group, if some
            parameters are named and others not (in the group or across groups), or if a
            hyperparameter is out of range.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys "
                             f"{sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list); a "
                            f"set's order changes between runs")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: give every parameter of a group a name, or none; got "
                                 f"{len(names)} (name, tensor) pairs among {len(params)} "
                                 f"parameters")
            params = [p[1] for p in params]

        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got "
                                f"{type(p).__name__} at position {i} of the group's params")
            if not p.is_leaf:
                raise ValueError(f"{name}: can only optimize leaf tensors, got a tensor made by "
                                 f"{p.grad_fn!r} at position {i}; optimize the tensors it was "
                                 f"computed from")
            if not p.dtype.is_floating_point:
                raise TypeError(f"{name}: can only optimize floating-point tensors, got "
                                f"{p.dtype.name} at position {i}")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a parameter group holds the same tensor more than once")
        for other in self.param_groups:
            if ("param_names" in other) != bool(names):
                raise ValueError(
                    f"{name}: all parameter groups must be named or none; cannot add a group "
                    f"{'with' if names else 'without'} names to groups "
                    f"{'without' if names else 'with'} them (pass (name, tensor) pairs, as "
                    f"model.named_parameters() gives, in every group or in none)")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError(f"{name}.add_param_group: some parameters of this group's params "
                             f"appear in more than one parameter group (each tensor may be in "
                             f"one group only)")

        group = dict(param_group)
        group["params"] = params
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_group(group)
        self.param_groups.append(group)

    # -- gradients and steps -----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every optimized tensor.

        Parameters
        ----------
        set_to_none : bool, default=True
            Set ``.grad`` to None (the next backward makes fresh gradients, and `step` skips
            parameters that get none) instead of filling it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                elif isinstance(g, RowSparseGrad):
                    g.zero_()  # no rows left: a zero gradient of the same layout
                else:
                    with no_grad():
                        g.zero_()
                    g.requires_grad_(False)

    def step(self, closure=None):
        """Update every parameter that has a gradient; parameters whose ``.grad`` is None are
        skipped.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss; it runs with gradients recorded, before
            the update.

        Returns
        -------
        loss : object or None
            What ``closure`` returned; None without a closure.

        Raises
        ------
        TypeError
            A gradient is not a Tensor, or is not floating point (a `GradDtypeError`, also a
            RuntimeError as PyTorch raises); nothing is updated then. A floating-point gradient
            of another precision is cast to the parameter's dtype, which never changes.
        ValueError
            A gradient's shape or backend differs from its parameter's.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = []
        position = 0
        for group in self.param_groups:  # check everything before the first write
            for p in group["params"]:
                if p._grad is not None:
                    work.append((group, p, self._check_grad(p, group, position)))
                position += 1
        with no_grad():
            for group, p, grad in work:
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                if type(grad) is RowSparseGrad:
                    # The update is not linear in the gradient: repeated rows must be summed
                    # (on a device, in fixed-size slots: RowSparseGrad._rows_once).
                    self._sparse_update(p, grad._rows_once(), state, group)
                else:
                    self._update(p, grad, state, group)
        return loss

    def _check_grad(self, p, group, position=0):
        """``p``'s gradient as the step applies it: a backend array (or a `RowSparseGrad`) of
        ``p``'s shape, backend and dtype; raises if it cannot be one. ``position`` numbers the
        parameter in the messages (over all groups, as in `state_dict`)."""
        name = f"{type(self).__name__}.step"
        g = p._grad
        if not isinstance(g, (Tensor, RowSparseGrad)):
            raise TypeError(f"{name}: the gradient of parameter {position} must be a Tensor, got "
                            f"{type(g).__name__}; assign gradients through .grad, which checks "
                            f"them")
        if g.shape != p.shape or g._backend is not p._backend:
            raise ValueError(f"{name}: a parameter of shape {p.shape} on "
                             f"{p.backend} has a gradient of shape {g.shape} on {g.backend}")
        if isinstance(g, RowSparseGrad):
            why = self._sparse_unsupported(group)
            if why:
                raise RuntimeError(
                    f"{name}: a parameter of shape {p.shape} has a sparse "
                    f"gradient (from a sparse=True embedding), {why}; use sparse=False, or an "
                    f"optimizer that applies sparse gradients (SGD without momentum, Adagrad, "
                    f"Adam, SparseAdam)")
            values = g.values_data
            if values.dtype != p.array.dtype:
                g = g.with_values(_gradient_in_dtype(name, position, p, values))
            return g
        array = g.array
        if array.dtype is not p.array.dtype and array.dtype != p.array.dtype:
            # `.grad` refuses another dtype, but `p.grad.data = ...` rebinds behind it (as in
            # PyTorch): a step must still leave the parameter's dtype alone.
            array = _gradient_in_dtype(name, position, p, array)
        return array

    # -- hooks for subclasses ----------------------------------------------------------------
    def _check_group(self, group):
        """Raise ValueError/TypeError for a hyperparameter out of range (none by default)."""

    def _init_state(self, p, group):
        """The state of ``p`` before its first update."""
        return {}

    def _update(self, p, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _sparse_unsupported(self, group):
        """Why this group cannot apply a `RowSparseGrad` (a phrase), or '' if it can."""
        return f"which {type(self).__name__} does not support"

    def _sparse_update(self, p, grad, state, group):
        """One parameter's step from a coalesced `RowSparseGrad` (only for optimizers whose
        `_sparse_unsupported` returns '')."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _sparse_update")

    # -- state dicts -------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state in PyTorch's layout.

        Returns
        -------
        dict
            ``{"state": {index: {name: Tensor or number}}, "param_groups": [{..., "params":
            [index, ...]}]}``, parameters numbered in group order from 0. The tensors are
            copies: sparse updates write the touched rows of the state in place.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {k: _snapshot(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state made by `state_dict` (of an optimizer of the same kind and layout).

        Parameters are matched by position. State tensors are copied to each parameter's
        backend and dtype; the saved groups' hyperparameters replace the current ones.

        Raises
        ------
        TypeError
            If ``state_dict`` is not a dict with ``"state"`` and ``"param_groups"``.
        ValueError
            If the number of groups, the number of parameters in a group, or the shape of a state
            tensor does not match this optimizer's; nothing is loaded then.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups', got {got}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(saved_groups)} parameter "
                             f"group(s), this optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: parameter group {i} has {len(saved['params'])} "
                                 f"parameter(s) in the state dict, {len(group['params'])} here")
            id_map.update(zip(saved["params"], group["params"]))

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for key, default in self.defaults.items():
                new.setdefault(key, default)
            self._check_group(new)
            new_groups.append(new)

        new_state = collections.defaultdict(dict)
        for key, saved in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"{name}: the state dict has state for parameter {key!r}, but "
                                 f"its groups list parameters {sorted(id_map)}")
            p = id_map[key]
            new_state[p] = {k: _cast_state(name, key, k, v, p) for k, v in saved.items()}

        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _gradient_in_dtype(name, position, p, array):
    """A floating gradient array cast to ``p``'s dtype; any other dtype raises."""
    backend = p._backend
    dtype = backend.xpnet_dtype(array.dtype)
    if not dtype.is_floating_point:  # optimized tensors are floating point (add_param_group)
        raise GradDtypeError(f"{name}: the gradient of parameter {position} has dtype "
                             f"{dtype.name}; expected {p.dtype.name}, the parameter's")
    return backend.xp.astype(array, p.array.dtype)


def _snapshot(value):
    if isinstance(value, Tensor):
        return Tensor._make(value._backend.xp.asarray(value.array, copy=True), value._backend)
    return copy.deepcopy(value)


def _cast_state(where, index, key, value, p):
    """A copy of one saved state value on ``p``'s backend and in its dtype."""
    if isinstance(value, Tensor) or _backends.backend_of_array(value) is not None:
        from xpnet.creation import tensor
        value = value if isinstance(value, Tensor) else Tensor(value)
        if key == "step":  # a count; PyTorch keeps it as a 0-d tensor
            number = value.item()
            return int(number) if float(number).is_integer() else number
        if value.shape != p.shape:
            raise ValueError(f"{where}: state {key!r} of parameter {index} has shape "
                             f"{value.shape}, expected the parameter's shape {p.shape}")
        return tensor(value, dtype=p.dtype, backend=p.backend)
    return copy.deepcopy(value)


# -- helpers shared by the optimizers ---------------------------------------------------------

def store(t, array):
    """Rebind ``t`` to a new array (NumPy's 0-d results come back as scalars; keep arrays).

    The dtype never changes: a result promoted by an operand of another dtype is cast back,
    as PyTorch's in-place updates keep theirs."""
    fix = t._backend.fix_output
    if fix is not None:
        array = fix(array)
    dtype = t.array.dtype
    if array.dtype is not dtype and array.dtype != dtype:  # `is` first: one pointer compare
        array = t._backend.xp.astype(array, dtype)
    t._set_array(array)


def new_state_tensor(p, array):
    """A state tensor on ``p``'s backend holding ``array``."""
    return Tensor._make(array, p._backend)


def check_number(opt, name, value, low=None, high=None, *, low_open=False, high_open=False):
    """Raise unless ``value`` is a real number in the interval; the message names ``opt``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a real number, got {type(value).__name__}")
    too_low = low is not None and not (value > low if low_open else value >= low)
    too_high = high is not None and not (value < high if high_open else value <= high)
    if math.isnan(value) or too_low or too_high:
        if low is None and high is None:
            interval = "a number"
        elif low is not None and high is not None:
            interval = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            interval = f"{'>' if low_open else '>='} {low}"
        else:
            interval = f"{'<' if high_open else '<='} {high}"
        raise ValueError(f"{opt}: {name} must be {interval}, got {value}")


def check_bool(opt, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{opt}: {name} must be True or False, got {value!r}")


def add_to_rows(t, index, values):
    """Add ``values`` (nnz, ...) to the rows ``index`` of tensor ``t``, writing them in
    place where the backend allows it (`add_to_rows` kernel): a sparse step costs O(nnz), not
    O(rows)."""
    store(t, get_kernel("add_to_rows", t._backend)(t._backend.xp, t.array, index, values))


def masked_rows(xp, valid, rows):
    """``rows`` (nnz, ...) with the rows where ``valid`` is False set to zero (the padding of
    `RowSparseGrad._rows_once`)."""
    mask = xp.reshape(valid, (-1,) + (1,) * (rows.ndim - 1))
    return xp.where(mask, rows, xp.zeros_like(rows))


def lerp(start, end, weight):
    """``start + weight * (end - start)``, in PyTorch's two forms (exact at both ends)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def check_implementation_flags(name, group):
    """Check ``maximize`` and PyTorch's implementation flags in a group.

    ``foreach`` (None or a bool), ``fused`` (None or a bool) and ``capturable`` (a bool) pick
    among PyTorch's kernels (a loop over tensors, one batched call, one fused kernel; CUDA-graph
    capture) that give the same results, so they are accepted and kept in the group, where
    PyTorch's state dicts have them; xpnet has one implementation per backend and runs it
    whatever they say. ``differentiable=True`` asks for a step autograd can differentiate
    through; xpnet steps run under ``no_grad``, so it is refused rather than silently ignored.
    Only the flags an optimizer's group holds are checked (``fused`` exists for SGD, Adam,
    AdamW and Adagrad only, as in PyTorch).
    """
    check_bool(name, "maximize", group["maximize"])
    for key in ("foreach", "fused"):
        if group.get(key) is not None:
            check_bool(name, key, group[key])
    check_bool(name, "capturable", group.get("capturable", False))
    check_bool(name, "differentiable", group.get("differentiable", False))
    if group.get("differentiable"):
        raise ValueError(f"{name}: differentiable=True is not supported: xpnet's optimizer steps "
                         f"run outside autograd and cannot be differentiated through; use "
                         f"differentiable=False")
    if group.get("fused") and group.get("foreach"):
        # PyTorch raises RuntimeError here too: the two name different kernels.
        raise RuntimeError(f"{name}: fused=True and foreach=True cannot be set together; pass "
                           f"one of them (they give the same results in xpnet)")


def check_adam_family(name, group):
    """Check ``lr``, ``betas``, ``eps``, ``weight_decay`` and the flags of an Adam variant."""
    check_number(name, "lr", group["lr"], 0)
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    check_number(name, "betas[0]", betas[0], 0, 1, high_open=True)
    check_number(name, "betas[1]", betas[1], 0, 1, high_open=True)
    check_number(name, "eps", group["eps"], 0)
    check_number(name, "weight_decay", group["weight_decay"], 0)
    check_implementation_flags(name, group)


def scalar_state(value):
    """``value`` as PyTorch holds scalar optimizer state (ASGD's ``eta`` and ``mu``, NAdam's
    ``mu_product``): in a 0-d tensor of its default dtype, so rounded to float32 unless
    `xpnet.set_default_dtype` chose float64. Parameters then follow PyTorch's to the last bits.
    """
    value = float(value)
    if _dt.get_default_dtype() is not _dt.float32:
        return value
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:  # beyond float32's range: PyTorch's cast gives an infinity
        return math.copysign(math.inf, value)


def load_scalar_state(name, state_dict, keys):
    """A copy of ``state_dict`` whose scalar state ``keys`` (0-d tensors in PyTorch's state
    dicts) are Python floats, as xpnet keeps them."""
    if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
        return state_dict  # Optimizer.load_state_dict reports the bad layout
    state = {}
    for index, saved in state_dict["state"].items():
        saved = dict(saved)
        for key in keys:
            if key in saved and not isinstance(saved[key], (int, float)):
                try:
                    saved[key] = float(saved[key])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{name}: state {key!r} of parameter {index} must be a "
                                     f"number or a one-element tensor, got {saved[key]!r}") from exc
        state[index] = saved
    return {**state_dict, "state": state}
