"""Random numbers for every backend (the Array API standard has none).

Draws are made on the host with a seeded `numpy.random.Generator` in the target precision and
then moved to the backend's device, so one seed gives bit-identical numbers on numpy,
array_api_strict and torch, and reproducible ones on CuPy. Drawing on the GPU itself would save
the host-to-device copy for per-step noise (dropout masks); that is a CuPy fast path still to be
written and run on a GPU.
"""

from __future__ import annotations

import numpy as np

from xpnet import dtypes as _dt

__all__ = ["Generator", "default_generator", "manual_seed"]


def _host_float(dtype: _dt.DType):
    if not dtype.is_floating_point:
        raise TypeError(f"random: expected a floating dtype, got {dtype!r}")
    return np.float32 if dtype.bits == 32 else np.float64


class Generator:
    """A seeded source of random arrays for any backend.

    Parameters
    ----------
    seed : int or None
        None draws fresh entropy from the OS.
    """

    def __init__(self, seed=None):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
                                 or seed < 0):
            raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
        self.initial_seed = seed
        self._host = np.random.default_rng(seed)
        return self

    # state, so a training run can be checkpointed and resumed ----------------------------
    def get_state(self) -> dict:
        return self._host.bit_generator.state

    def set_state(self, state: dict):
        self._host.bit_generator.state = state

    # draws ---------------------------------------------------------------------------------
    def random(self, backend, shape, dtype):
        """Uniform on [0, 1)."""
        dtype = _dt.as_dtype(dtype)
        a = self._host.random(shape, dtype=_host_float(dtype))
        return backend.asarray(a, dtype=dtype)

    def uniform(self, backend, shape, dtype, low=0.0, high=1.0):
        dtype = _dt.as_dtype(dtype)
        a = self._host.random(shape, dtype=_host_float(dtype))
        a = a * (high - low) + low  # float32 stays float32 with Python scalars (NEP 50)
        return backend.asarray(a, dtype=dtype)

    def normal(self, backend, shape, dtype, mean=0.0, std=1.0):
        dtype = _dt.as_dtype(dtype)
        a = self._host.standard_normal(shape, dtype=_host_float(dtype))
        if std != 1.0 or mean != 0.0:
            a = a * std + mean
        return backend.asarray(a, dtype=dtype)

    def integers(self, backend, low, high, shape, dtype=_dt.int64):
        """Integers drawn uniformly from [low, high)."""
        dtype = _dt.as_dtype(dtype)
        a = self._host.integers(low, high, size=shape, dtype=np.dtype(dtype.name))
        return backend.asarray(a, dtype=dtype)

    def bernoulli(self, backend, shape, p):
        """A boolean mask, True with probability p."""
        return backend.asarray(self._host.random(shape) < p)

    def permutation(self, backend, n):
        """A random permutation of 0..n-1 as an int64 array."""
        return backend.asarray(self._host.permutation(n).astype(np.int64))

    def choice(self, backend, n, size, p=None, replace=True):
        """Indices in [0, n) drawn with probabilities ``p`` (a host sequence) or uniformly."""
        a = self._host.choice(n, size=size, replace=replace, p=p).astype(np.int64)
        return backend.asarray(a)


default_generator = Generator(None)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: every random op that is not given its own becomes reproducible."""
    return default_generator.manual_seed(seed)


