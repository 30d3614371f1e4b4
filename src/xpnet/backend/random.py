"""Random numbers for every backend (the Array API standard has none).

Draws are made on the host with a seeded `numpy.random.Generator` in the target precision and
then moved to the backend's device, so one seed gives bit-identical numbers on numpy,
array_api_strict and torch, and reproducible ones on CuPy. Drawing on the GPU itself would save
the host-to-device copy for per-step noise (dropout masks); that is a CuPy fast path still to be
written and run on a GPU.
"""

from __future__ import annotations

import json
import os

import numpy as np

from xpnet import dtypes as _dt

__all__ = ["Generator", "default_generator", "manual_seed", "encode_state", "decode_state"]


def _os_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")  # 64 bits, as torch.seed() returns


def encode_state(state: dict) -> bytes:
    """A generator state as UTF-8 JSON bytes: the payload of `xpnet.get_rng_state`'s tensor."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode_state(op, state) -> dict:
    """The state dict held in bytes, or in a 1-D uint8 tensor or array, from `encode_state`."""
    if isinstance(state, (bytes, bytearray, memoryview)):
        raw = bytes(state)
    else:
        host = state.numpy() if hasattr(state, "numpy") and not isinstance(state, np.ndarray) \
            else state
        if not isinstance(host, np.ndarray):
            raise TypeError(f"{op}: expected a state from get_rng_state (a uint8 tensor) or "
                            f"Generator.get_state (a dict), got {type(state).__name__}")
        if host.dtype != np.uint8 or host.ndim != 1:
            raise TypeError(f"{op}: expected a 1-D uint8 tensor from get_rng_state, got "
                            f"dtype {host.dtype} and shape {host.shape}")
        raw = host.tobytes()
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{op}: the state is not one get_rng_state made ({len(raw)} bytes that "
                         f"are not its JSON)") from None
    if not isinstance(decoded, dict):
        raise ValueError(f"{op}: the state is not one get_rng_state made (JSON "
                         f"{type(decoded).__name__}, expected an object)")
    return decoded


def _host_float(dtype: _dt.DType):
    if not dtype.is_floating_point:
        raise TypeError(f"random: expected a floating dtype, got {dtype!r}")
    return np.float32 if dtype.bits == 32 else np.float64


class Generator:
    """A seeded source of random arrays for any backend.

    Parameters
    ----------
    seed : int or None
        None draws a fresh 64-bit seed from the OS (`initial_seed` tells which).
    """

    def __init__(self, seed=None):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (a non-negative int; None: a fresh one from the OS);
        returns the generator, as PyTorch."""
        if seed is None:
            seed = _os_seed()
        elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be a non-negative int, got "
                            f"{type(seed).__name__} {seed!r}")
        elif seed < 0:
            raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
        self._initial_seed = int(seed)
        self._host = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from the OS and return the new seed (PyTorch's ``Generator.seed``)."""
        self.manual_seed(None)
        return self._initial_seed

    def initial_seed(self) -> int:
        """The seed the stream started from (the last `manual_seed` or `seed`)."""
        return self._initial_seed

    # state, so a training run can be checkpointed and resumed ----------------------------
    def get_state(self) -> dict:
        """The NumPy bit generator's state, a JSON-compatible dict (``xpnet.save`` stores it).
        `xpnet.get_rng_state` gives the default generator's state as a uint8 tensor instead."""
        return self._host.bit_generator.state

    def set_state(self, state):
        """Continue from a state `get_state` returned, or from the uint8 tensor (or bytes) of
        `xpnet.get_rng_state`; the stream then repeats exactly from where it was taken.

        Raises
        ------
        TypeError
            For a state that is neither a dict, bytes nor a 1-D uint8 tensor or array.
        ValueError
            For one that does not decode to this generator's kind of state.
        """
        self._restore("Generator.set_state", state)
        return self

    def _restore(self, op, state):
        if not isinstance(state, dict):
            state = decode_state(op, state)
        bit_generator = self._host.bit_generator
        kind = type(bit_generator).__name__
        if state.get("bit_generator") != kind:
            raise ValueError(f"{op}: expected the state of a {kind} bit generator, got one "
                             f"for {state.get('bit_generator')!r}")
        previous = bit_generator.state
        try:
            bit_generator.state = state
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            bit_generator.state = previous
            raise ValueError(f"{op}: malformed {kind} state ({type(e).__name__}: {e})") from None

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


