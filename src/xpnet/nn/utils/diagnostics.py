"""Training diagnostics for the two classic failures: vanishing/exploding gradients (per-layer
gradient norms) and dead ReLUs (units that output zero for every input of a batch)."""

from __future__ import annotations

import math
from collections import OrderedDict

from xpnet.autograd import grad_mode

__all__ = ["gradient_norms", "dead_relu_fraction", "diagnostics_report"]


def _norm(t, norm_type):
    xp = t._backend.xp
    # A sparse gradient's norm is its coalesced rows' (every other entry is zero).
    data = t.coalesce().values_data if getattr(t, "is_sparse", False) else t.array
    a = xp.abs(data)
    if norm_type == math.inf:
        return float(xp.max(a)) if math.prod(a.shape) else 0.0
    return float(xp.sum(a ** norm_type)) ** (1.0 / norm_type)


def gradient_norms(model, norm_type=2.0, per="layer"):
    """Norms of the gradients left by ``backward``, by layer or by parameter.

    Parameters
    ----------
    model : Module
    norm_type : float, default=2.0
        p of the p-norm (``math.inf`` for the largest absolute value).
    per : {'layer', 'parameter'}
        'layer': one norm per module over the parameters it owns directly (a Linear's weight
        and bias together), keyed by the module's qualified name; 'parameter': one per parameter.

    Returns
    -------
    OrderedDict of str -> float
        In forward (registration) order; parameters without a gradient are left out.
    """
    if per not in ("layer", "parameter"):
        raise ValueError(f"gradient_norms: per must be 'layer' or 'parameter', got {per!r}")
    if not (norm_type == math.inf or norm_type > 0):
        raise ValueError(f"gradient_norms: norm_type must be positive or inf, got {norm_type}")
    out = OrderedDict()
    if per == "parameter":
        for name, p in model.named_parameters():
            if p.grad is not None:
                out[name] = _norm(p.grad, norm_type)
        return out
    for name, module in model.named_modules():
        norms = [_norm(p.grad, norm_type) for p in module._parameters.values()
                 if p is not None and p.grad is not None]
        if not norms:
            continue
        if norm_type == math.inf:
            out[name or type(model).__name__] = max(norms)
        else:
            out[name or type(model).__name__] = sum(n ** norm_type for n in norms) ** (1 / norm_type)
    return out


def dead_relu_fraction(model, *inputs):
    """For every ``nn.ReLU`` in ``model``: the fraction of its units that are zero for all the
    samples of the batch (axis 0 of its input), after running ``model(*inputs)`` without grad.

    A unit is one position of the ReLU's output apart from the batch axis (a feature of a
    Linear layer, a channel-pixel of a convolution).

    Returns
    -------
    OrderedDict of str -> float
        Qualified module name -> fraction in [0, 1].
    """
    from xpnet.nn.activation import ReLU

    results = OrderedDict()
    calls = {}
    handles = []

    def record(name):
        def hook(module, args, output):
            xp = output._backend.xp
            if output.ndim == 0:
                return
            alive = xp.any(output.array > 0, axis=0)
            units = math.prod(alive.shape)
            dead = units - int(xp.sum(xp.astype(alive, xp.int64)))
            calls[name] = calls.get(name, 0) + 1
            # One ReLU module applied at several places reports each use: name, name#2, ...
            key = name if calls[name] == 1 else f"{name}#{calls[name]}"
            results[key] = dead / units
        return hook

    for name, module in model.named_modules():
        if isinstance(module, ReLU):
            handles.append(module.register_forward_hook(record(name)))
    try:
        with grad_mode.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return results


def diagnostics_report(model, *inputs, norm_type=2.0):
    """A text table of per-layer gradient norms (from the last backward) and dead-ReLU
    fractions (from a forward pass over ``inputs``)."""
    norms = gradient_norms(model, norm_type)
    dead = dead_relu_fraction(model, *inputs) if inputs else {}
    width = max([len(n) for n in list(norms) + list(dead)] + [5])
    lines = [f"{'layer':<{width}}  {'grad norm':>12}  {'dead ReLU':>9}"]
    for name in list(norms) + [n for n in dead if n not in norms]:
        g = f"{norms[name]:12.4e}" if name in norms else f"{'':>12}"
        d = f"{dead[name]:9.1%}" if name in dead else f"{'':>9}"
        lines.append(f"{name:<{width}}  {g}  {d}")
    return "\n".join(lines)
