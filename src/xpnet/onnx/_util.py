"""Shape bookkeeping shared by the exporters."""

from __future__ import annotations

from ._dims import Dim


def broadcast_dims(*shapes):
    """NumPy broadcasting of symbolic shapes (a size-1 axis takes the other operand's size)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        chosen = 1
        for s in shapes:
            j = i - (ndim - len(s))
            if j < 0:
                continue
            d = s[j]
            if isinstance(d, Dim):
                if not isinstance(chosen, Dim):
                    chosen = d
            elif d != 1 and not isinstance(chosen, Dim):
                chosen = d
        out.append(chosen)
    return tuple(out)


def reduced_dims(dims, axes, keepdims):
    axes = {a % len(dims) for a in axes} if dims else set()
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(dims))
    return tuple(d for i, d in enumerate(dims) if i not in axes)
