"""Weight normalisation (Salimans and Kingma, 2016) as PyTorch's ``torch.nn.utils.weight_norm``:
``weight = g * v / ||v||``, with ``weight_g`` and ``weight_v`` as the module's parameters."""

from __future__ import annotations

import numbers

from xpnet import ops
from xpnet.autograd import grad_mode
from xpnet.nn.parameter import Parameter

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every axis but ``dim`` (kept as size 1); over all axes, as a
    0-d tensor, when ``dim`` is None."""
    if dim is None:
        return ops.sqrt(ops.sum(v * v))
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return ops.sqrt(ops.sum(v * v, axis=axes, keepdims=True))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v`` before every call."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise ValueError(f"weight_norm: {name!r} of {type(module).__name__} already "
                                 f"has weight normalisation")
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
        # PyTorch's old API spells "norm over the whole tensor" as dim=None or dim=-1.
        if dim is not None and dim != -1:
            if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) \
                    or not 0 <= dim < weight.ndim:
                raise ValueError(f"weight_norm: dim must be None, -1 or an axis in [0, "
                                 f"{weight.ndim}) of {name!r} of shape {weight.shape}, got "
                                 f"{dim!r}")
            dim = int(dim)
        else:
            dim = None
        fn = WeightNorm(name, dim)
        with grad_mode.no_grad():
            g = _norm_except_dim(weight, dim)
        delattr(module, name)
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        with grad_mode.no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        setattr(module, self.name, Parameter(weight))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as ``g * v / ||v||`` (Salimans and Kingma, 2016).

    The parameter is replaced by ``<name>_g`` (the magnitude) and ``<name>_v`` (the direction),
    initialised so the weight is unchanged, and the weight is recomputed from them before every
    forward by a forward pre-hook. Names and shapes are PyTorch's old
    ``torch.nn.utils.weight_norm``, so its state dicts load.

    Parameters
    ----------
    module : Module
    name : str, default='weight'
    dim : int or None, default=0
        The axis that keeps one norm per slice (0: one per output unit, ``g`` of shape
        (out, 1, ...)); None (or -1, as PyTorch) takes one norm over the whole tensor.

    Returns
    -------
    Module
        ``module`` itself.

    Examples
    --------
    >>> import xpnet.nn as nn
    >>> m = weight_norm(nn.Linear(20, 40))
    >>> m.weight_g.shape, m.weight_v.shape
    ((40, 1), (40, 20))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo `weight_norm`: ``<name>`` becomes a plain parameter holding the current weight."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_weight_norm: no weight_norm of {name!r} on "
                     f"{type(module).__name__}")
