"""Anomaly mode: stop at the first non-finite value in forward or backward, naming the op and
the layer it ran in. Off by default (each check costs a device sync); turn it on to hunt a NaN.

    with xpnet.autograd.detect_anomaly():
        loss = model(x).sum()   # RuntimeError if an op produces inf/nan
        loss.backward()         # ... or if a gradient does
"""

from __future__ import annotations

__all__ = ["detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]

_enabled = False
# Names of the modules being called, outermost first (maintained by Module.__call__ only while
# anomaly mode is on).
layer_stack: list[str] = []


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (see `detect_anomaly`), as ``torch.is_anomaly_enabled``."""
    return _enabled


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for good (`detect_anomaly` does it for a block)."""
    global _enabled
    if not isinstance(mode, bool):
        raise TypeError(f"set_detect_anomaly: expected True or False, got {mode!r}")
    _enabled = mode


class detect_anomaly:
    """Context manager (and decorator) turning anomaly mode on inside it.

    Parameters
    ----------
    model : Module, optional
        Label its submodules with their qualified names (``layers.2``) so messages name the
        layer precisely; without it, layers are named by class (``Sequential > ReLU``).
    """

    def __init__(self, model=None):
        if model is not None:
            model.name_modules()

    def __enter__(self):
        self._previous = _enabled
        set_detect_anomaly(True)
        return self

    def __exit__(self, *exc):
        set_detect_anomaly(self._previous)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)
        return wrapper


def current_layer() -> str:
    return " > ".join(layer_stack) if layer_stack else "no module (called directly)"


def check(xp, arrays, where, op, layer):
    """Raise if any floating array is not finite."""
    for i, a in enumerate(arrays):
        if a is None or not hasattr(a, "dtype") or not xp.isdtype(a.dtype, "real floating"):
            continue
        finite = xp.isfinite(a)
        if not bool(xp.all(finite)):
            bad = int(xp.sum(xp.astype(xp.logical_not(finite), xp.int64)))
            raise RuntimeError(
                f"anomaly: {op} produced {bad} non-finite value(s) in {where} {i} (shape "
                f"{tuple(a.shape)}), in layer {layer}")
