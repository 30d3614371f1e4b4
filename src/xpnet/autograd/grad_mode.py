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


class set_grad_enabled(_GradMode):
    """Turn recording on (True) or off (False): as a call it applies at once (PyTorch's
    ``torch.set_grad_enabled(False)``); as a context manager or decorator, only inside."""

    def __init__(self, mode):
        global _enabled
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: expected True or False, got {mode!r}")
        self._mode = mode
        self._previous = _enabled
        _enabled = mode

    def __enter__(self):
        pass  # already applied by the call

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._previous
        return False

    def __call__(self, fn):
        mode = self._mode
        self.__exit__()  # as a decorator it must not stay applied after decoration

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode``: here the same as `no_grad` (nothing is recorded); with
    ``mode=False`` it changes nothing. A context manager and a decorator."""

    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # used bare: @inference_mode
            self._mode, self._wrapped = False, mode
            functools.update_wrapper(self, mode)
            return
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: expected True or False, got {mode!r}")
        self._wrapped = None
        self._mode = False if mode else is_grad_enabled()

    def __call__(self, *args, **kwargs):
        if self._wrapped is not None:
            with inference_mode():
                return self._wrapped(*args, **kwargs)
        return super().__call__(*args)
