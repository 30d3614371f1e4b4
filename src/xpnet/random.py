"""The default random generator's seed and state, under ``torch.random``'s names.

``xpnet.random.manual_seed`` is ``xpnet.manual_seed`` (and so on for every name here); the
generators themselves live in `xpnet.backend.random`.

>>> import xpnet
>>> state = xpnet.get_rng_state()
>>> a = xpnet.rand(3)
>>> xpnet.set_rng_state(state)
>>> bool((xpnet.rand(3) == a).all())
True
"""

from __future__ import annotations

from xpnet import dtypes as _dt
from xpnet.backend.random import default_generator, encode_state, manual_seed

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state"]


def seed() -> int:
    """Reseed the default generator from the OS and return the new 64-bit seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator started from (its last `manual_seed` or `seed`, or the
    one drawn from the OS when xpnet was imported)."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a 1-D uint8 Tensor on the CPU, as
    ``torch.get_rng_state``.

    The bytes are the UTF-8 JSON of NumPy's bit-generator state, so the tensor survives
    ``xpnet.save``/``xpnet.load`` and `set_rng_state` restarts the exact stream. It is not
    PyTorch's Mersenne Twister state: the two libraries' states cannot be exchanged.

    Returns
    -------
    Tensor of dtype uint8 and shape (n,)
    """
    from xpnet.creation import tensor
    payload = encode_state(default_generator.get_state())
    return tensor(list(payload), dtype=_dt.uint8, backend="numpy")


def set_rng_state(new_state) -> None:
    """Continue the default generator from a state `get_rng_state` returned (a uint8 Tensor on
    any backend; the dict of ``default_generator.get_state()`` is accepted too).

    Raises
    ------
    TypeError
        For anything but a 1-D uint8 tensor (or such a dict).
    ValueError
        For a tensor whose bytes are not a state `get_rng_state` made; the generator is left
        as it was.
    """
    default_generator._restore("set_rng_state", new_state)
