"""Random numbers for every backend (the Array API standard has none).

Draws are made on the host with a seeded `numpy.random.Generator` in the target precision and
then moved to the backend's device, so one seed gives bit-identical numbers on numpy,
array_api_strict and torch, and reproducible ones on CuPy.

Per-step noise (dropout masks, word2vec's negative samples: `device_bernoulli`,
`device_integers`) comes instead from the backend's own generator where it has one, torch's on
the torch backend and CuPy's on a GPU, so that a training step copies nothing from the host (on
CuPy a host-to-device copy waits for the GPU's queue). Each device's stream is seeded from the
generator's seed, so `manual_seed` makes it reproducible too; ``use_fast_paths(False)`` draws it
on the host like the rest.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import os
import zlib

import numpy as np

from xpnet import backend as _backends
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
        # Backend name -> its own generator (torch, CuPy), made on first use from _entropy.
        self._streams = {}
        self._entropy = self._initial_seed
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
        `xpnet.get_rng_state` gives the default generator's state as a uint8 tensor instead.

        Once per-step noise has been drawn on torch or CuPy, the dict also holds, under
        ``"streams"``, the seed of those streams and torch's stream state. CuPy's stream state
        stays on the GPU: `set_state` restarts it from its seed."""
        state = self._host.bit_generator.state
        if self._streams:
            state["streams"] = {"entropy": self._entropy,
                                "states": {name: _stream_state(g)
                                           for name, g in self._streams.items()}}
        return state

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
        state = dict(state)
        streams = state.pop("streams", None)
        try:
            entropy, restored = _decode_streams(streams, self._entropy)
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
            raise ValueError(f"{op}: malformed streams in the state ({type(e).__name__}: "
                             f"{e})") from None
        previous = bit_generator.state
        try:
            bit_generator.state = state
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            bit_generator.state = previous
            raise ValueError(f"{op}: malformed {kind} state ({type(e).__name__}: {e})") from None
        self._entropy, self._streams = entropy, restored

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
        """A boolean mask, True with probability p (to 2**-32: where a uniform 32-bit integer
        is below p * 2**32).

        The integers are the bit generator's raw 64-bit words, two draws each: a (4096, 2048)
        dropout mask takes 14 ms CPU where ``random(shape) < p`` took 42 (a float64 per
        element, 67 MB of them); float32 uniforms would take 21."""
        count = math.prod(shape)
        if p >= 1 or p <= 0:
            return backend.asarray(np.full(shape, p >= 1))
        words = self._host.bit_generator.random_raw((count + 1) // 2)
        draws = words.view(np.uint32)[:count].reshape(shape)
        return backend.asarray(draws < np.uint32(min(round(p * 2.0**32), 2**32 - 1)))

    # per-step noise, from the backend's own generator -----------------------------------------
    def device_bernoulli(self, backend, shape, p):
        """A boolean mask, True with probability p, drawn on the backend's device by its own
        generator where it has one (a dropout mask); otherwise as `bernoulli`."""
        stream = self._stream(backend)
        if stream is None:
            return self.bernoulli(backend, shape, p)
        if backend.family == "torch":
            import torch
            return torch.rand(shape, generator=stream, dtype=torch.float32,
                              device=backend.device) < p
        import cupy
        with cupy.cuda.Device(backend.device.id):
            return stream.random(shape, dtype=cupy.float32) < p

    def device_integers(self, backend, low, high, shape):
        """int64 integers drawn uniformly from [low, high) on the backend's device by its own
        generator where it has one (negative samples); otherwise as `integers`."""
        stream = self._stream(backend)
        if stream is None:
            return self.integers(backend, low, high, shape)
        if backend.family == "torch":
            import torch
            return torch.randint(low, high, shape, generator=stream, dtype=torch.int64,
                                 device=backend.device)
        import cupy
        with cupy.cuda.Device(backend.device.id):
            return stream.integers(low, high, size=shape, dtype=cupy.int64)

    def _stream(self, backend):
        """The backend's own generator for this Generator (None: draw on the host)."""
        if backend.family not in ("torch", "cupy"):
            return None
        if not _backends.fast_paths_enabled():
            return None
        stream = self._streams.get(backend.name)
        if stream is None:
            stream = self._streams[backend.name] = _new_stream(backend.name, self._entropy)
        return stream

    def permutation(self, backend, n):
        """A random permutation of 0..n-1 as an int64 array."""
        return backend.asarray(self._host.permutation(n).astype(np.int64))

    def choice(self, backend, n, size, p=None, replace=True):
        """Indices in [0, n) drawn with probabilities ``p`` (a host sequence) or uniformly."""
        a = self._host.choice(n, size=size, replace=replace, p=p).astype(np.int64)
        return backend.asarray(a)


def _stream_seed(name, entropy):
    """A 64-bit seed for the stream of backend ``name``: apart from the host stream and from
    the other devices', and the same for the same generator seed."""
    sequence = np.random.SeedSequence(entropy, spawn_key=(zlib.crc32(name.encode()),))
    return int(sequence.generate_state(1, np.uint64)[0])


def _new_stream(name, entropy, state=None):
    seed = _stream_seed(name, entropy)
    if name == "torch":
        import torch
        stream = torch.Generator(device="cpu")
        stream.manual_seed(seed)
        if state is not None:
            stream.set_state(torch.frombuffer(bytearray(base64.b64decode(state)),
                                              dtype=torch.uint8))
        return stream
    import cupy
    with cupy.cuda.Device(int(name.partition(":")[2])):
        return cupy.random.default_rng(seed)


def _stream_state(stream):
    """A torch stream's state as base64 text; None for CuPy's, which stays on the GPU."""
    if type(stream).__module__.startswith("torch"):
        return base64.b64encode(stream.get_state().numpy().tobytes()).decode("ascii")
    return None


def _decode_streams(streams, entropy):
    """(entropy, {name: stream}) from the ``"streams"`` entry of a state: torch's continues
    where it was; the others start again from their seed when first used."""
    if streams is None:
        return entropy, {}
    entropy = streams["entropy"]
    if isinstance(entropy, bool) or not isinstance(entropy, int) or entropy < 0:
        raise ValueError(f"entropy must be a non-negative int, got {entropy!r}")
    restored = {}
    for name, state in streams["states"].items():
        # (Without torch here its stream cannot be used either: nothing to restore.)
        if state is not None and name == "torch" and importlib.util.find_spec("torch"):
            restored[name] = _new_stream(name, entropy, state)
    return entropy, restored


default_generator = Generator(None)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: every random op that is not given its own becomes reproducible."""
    return default_generator.manual_seed(seed)


