"""Checks that read the data (index bounds, label ranges) without stopping a GPU.

Reading a flag computed on a GPU (``bool(xp.any(bad))``) waits for every kernel queued before
it, so a training step that checks its labels that way runs in lock step with the host. CUDA's
answer is the device-side assert: the kernel records the failure and the error surfaces at the
next synchronisation. xpnet does the same in the standard's terms:

- On a backend whose arrays live on the host (numpy, torch on the CPU, array_api_strict's CPU
  device) a check reads its flag at once and raises at the call, as it always has.
- On a device backend (CuPy; array_api_strict's other devices, which stand in for one in the
  tests) the flag stays on the device. The error, the same one the eager check raises, comes at
  the next synchronisation the user makes on that device: ``.item()``, ``float(t)``,
  ``bool(t)``, ``.tolist()``, ``.numpy()``, printing, moving to the CPU, or
  ``xpnet.cuda.synchronize()``. Meanwhile the op goes on with the bad entries clamped into
  range, so nothing reads out of bounds; its results are wrong and the error says so.
- `use_eager_checks(True)`, ``XPNET_EAGER_CHECKS=1`` or PyTorch's ``CUDA_LAUNCH_BLOCKING=1``
  read every flag at the call, on every backend (for debugging: it synchronises each check).

A check site keeps one pending flag per device, or-ed across calls, with the offending values of
the first failure; nothing the size of the data is held until the synchronisation.
"""

from __future__ import annotations

import os
import threading

__all__ = ["check", "defers", "eager_checks_enabled", "use_eager_checks", "report",
           "discard_pending"]


def _eager_from_environment():
    for name in ("XPNET_EAGER_CHECKS", "CUDA_LAUNCH_BLOCKING"):
        value = os.environ.get(name, "")
        if value == "":
            continue
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}={value!r}: expected 0 or 1")
    return False


_eager = _eager_from_environment()
# Backend -> {site: [flag, details, error]}; flag and details are 0-d arrays on the device.
_pending: dict = {}
_lock = threading.Lock()


def eager_checks_enabled() -> bool:
    """Whether data checks on device backends read their flag at the call (True) or at the
    next synchronisation (False, the default)."""
    return _eager


def _set_eager(flag):
    global _eager
    if not isinstance(flag, bool):
        raise TypeError(f"use_eager_checks: expected True or False, got {flag!r}")
    _eager = flag
    return flag


def defers(backend) -> bool:
    """Whether a data check on ``backend`` is recorded on the device instead of read now."""
    return not (_eager or backend.on_host)


def check(backend, site, bad, details, error) -> bool:
    """Raise ``error(*values)`` if any entry of ``bad`` is True: now on a host backend, at the
    next synchronisation on a device backend.

    Parameters
    ----------
    backend : Backend
        Where ``bad`` lives.
    site : hashable
        The check and the constants its message uses (e.g. ``("cross_entropy", 5, -100)``);
        repeated failures of one site keep the first one's values.
    bad : bool array
        True where the data is invalid.
    details : callable
        ``details() -> tuple`` of 0-d arrays that the message needs (the first bad value, the
        smallest and largest index...); called on the device path always, on the host path
        only when the check fails.
    error : callable
        ``error(*values) -> Exception`` with ``values`` the details as Python scalars.

    Returns
    -------
    bool
        True when the check was deferred: the caller must keep its op safe on bad data (clamp
        the indices). False when the data passed.
    """
    xp = backend.xp
    flag = xp.any(bad)
    if not defers(backend):
        if bool(flag):
            raise error(*(_scalar(xp, v) for v in details()))
        return False
    values = tuple(details())
    with _lock:
        records = _pending.setdefault(backend, {})
        record = records.get(site)
        if record is None:
            records[site] = [flag, values, error]
        else:
            old_flag, old_values, _ = record
            # The first failure's values: once old_flag is set, they stay.
            record[1] = tuple(xp.where(old_flag, o, v) for o, v in zip(old_values, values))
            record[0] = xp.logical_or(old_flag, flag)
    return True


def report(backend) -> None:
    """Raise the first pending check failure of ``backend`` (called where the user
    synchronises); every pending flag of the backend is cleared either way."""
    if backend not in _pending:
        return
    with _lock:
        records = _pending.pop(backend, None)
    if not records:
        return
    xp = backend.xp
    for flag, values, error in records.values():
        if bool(flag):
            raise error(*(_scalar(xp, v) for v in values))


def discard_pending() -> None:
    """Forget every pending check on every backend (tests call it between tests)."""
    with _lock:
        _pending.clear()


def _scalar(xp, value):
    if xp.isdtype(value.dtype, "bool"):
        return bool(value)
    if xp.isdtype(value.dtype, "integral"):
        return int(value)
    return float(value)


class _Switch:
    def __init__(self, new):
        self._previous = _eager
        _set_eager(new)

    def __enter__(self):
        return _eager

    def __exit__(self, *exc):
        _set_eager(self._previous)
        return False


def use_eager_checks(flag: bool) -> _Switch:
    """Read data checks (index bounds, label ranges) at the call on every backend (True), or
    let device backends report them at the next synchronisation (False, the default); also a
    context manager restoring the previous setting.

    ``XPNET_EAGER_CHECKS=1`` in the environment (or PyTorch's ``CUDA_LAUNCH_BLOCKING=1``) turns
    them eager from the start. Eager checks make the error point at the call that caused it, at
    the cost of a synchronisation per check on a GPU.

    Examples
    --------
    >>> import xpnet
    >>> with xpnet.use_eager_checks(True):
    ...     xpnet.eager_checks_enabled()
    True
    """
    return _Switch(flag)
