"""Whether operations record a graph for backward (`no_grad`, `enable_grad`)."""

from __future__ import annotations

import functools

_enabled = True


def is_grad_enabled() -> bool:
    return _enabled


class _GradMode:
    """Context manager and decorator that sets grad recording on entry and restores it on exit."""

    _mode: bool

    def __enter__(self):
        global _enabled
        self._previous = _enabled
        _enabled = self._mode

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Run without recording a graph: results have ``requires_grad=False`` and no memory is kept
    for backward. Use for evaluation and for in-place parameter updates."""

    _mode = False


class enable_grad(_GradMode):
    """Record a graph again inside a `no_grad` block."""

    _mode = True
