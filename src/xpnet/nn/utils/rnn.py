"""Batches of variable-length sequences, as ``torch.nn.utils.rnn``: padding and packing.

A `PackedSequence` holds the real steps only, time-major: all sequences' first steps (longest
sequence first), then all second steps, and so on; ``batch_sizes[t]`` says how many sequences
are still running at step t. Packing and unpacking are one gather each (`xpnet.ops.take`), so
gradients flow through them.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from xpnet import creation, ops
from xpnet.autograd.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence"]


class PackedSequence(NamedTuple):
    """Variable-length sequences with the padding squeezed out (see the module docstring).

    ``data`` has shape ``(sum(lengths), ...)``; ``batch_sizes`` (int64, one per step of the
    longest sequence) counts the sequences still running at each step; ``sorted_indices`` is
    the batch position of the i-th longest sequence (None when the batch came sorted) and
    ``unsorted_indices`` its inverse.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _lengths_list(op, lengths, batch):
    if isinstance(lengths, Tensor):
        values = lengths.tolist()
    elif isinstance(lengths, (list, tuple)):
        values = list(lengths)
    else:
        raise TypeError(f"{op}: lengths must be a list of ints or a Tensor, got "
                        f"{type(lengths).__name__}")
    if len(values) != batch or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                       for v in values):
        raise ValueError(f"{op}: expected {batch} integer lengths (one per sequence), got "
                         f"{values!r}")
    return [int(v) for v in values]


def _index(values, like):
    return creation.tensor(values, dtype="int64", backend=like._backend)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, ...)`` (or ``(B, T, ...)`` with ``batch_first``) of
    sequences of the given lengths.

    With ``enforce_sorted`` the lengths must be in decreasing order; otherwise the batch is
    sorted here and the order is kept in the result, so unpacking restores it.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"{op}: expected a padded Tensor of at least 2 dimensions, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    padded = input.transpose(0, 1) if batch_first else input
    steps, batch = padded.shape[0], padded.shape[1]
    values = _lengths_list(op, lengths, batch)
    bad = [v for v in values if not 1 <= v <= steps]
    if bad:
        raise ValueError(f"{op}: every length must be in [1, {steps}] (the padded length), got "
                         f"{bad[0]} in {values}")
    if enforce_sorted:
        if any(a < b for a, b in zip(values, values[1:])):
            raise ValueError(f"{op}: lengths must be sorted in decreasing order when "
                             f"enforce_sorted=True, got {values}; pass enforce_sorted=False")
        order = None
    else:
        order = sorted(range(batch), key=lambda b: -values[b])  # stable: ties keep their order
    return _pack(padded, values, order)


def _pack(padded, values, order):
    """Pack time-major ``padded`` given the lengths and the sorted batch order (None: as is)."""
    steps, batch = padded.shape[0], padded.shape[1]
    ranked = list(range(batch)) if order is None else order
    rows, batch_sizes = [], []
    for t in range(max(values)):
        running = [b for b in ranked if values[b] > t]
        batch_sizes.append(len(running))
        rows.extend(t * batch + b for b in running)
    flat = padded.reshape(steps * batch, *padded.shape[2:])
    data = ops.take(flat, _index(rows, padded), axis=0)
    if order is None:
        return PackedSequence(data, _index(batch_sizes, padded))
    inverse = [0] * batch
    for rank, b in enumerate(order):
        inverse[b] = rank
    return PackedSequence(data, _index(batch_sizes, padded), _index(order, padded),
                          _index(inverse, padded))


def _packed_lengths(sequence):
    """Lengths of the packed sequences, in the sorted (packed) order."""
    sizes = sequence.batch_sizes.tolist()
    return [sum(1 for s in sizes if s > rank) for rank in range(sizes[0])]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo `pack_padded_sequence`: ``(padded, lengths)`` in the original batch order, padded
    with ``padding_value`` to the longest length (or ``total_length``)."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    sizes = sequence.batch_sizes.tolist()
    sorted_lengths = _packed_lengths(sequence)
    batch, longest = sizes[0], len(sizes)
    steps = longest if total_length is None else total_length
    if steps < longest:
        raise ValueError(f"{op}: total_length={total_length} is shorter than the longest "
                         f"sequence ({longest})")
    order = (list(range(batch)) if sequence.sorted_indices is None
             else sequence.sorted_indices.tolist())
    # position of (step t, sorted rank r) in data: rows of earlier steps, then r
    starts = [0]
    for s in sizes:
        starts.append(starts[-1] + s)
    pad_row = starts[-1]
    rank_of = [0] * batch
    for rank, b in enumerate(order):
        rank_of[b] = rank
    rows = [starts[t] + rank_of[b] if t < sorted_lengths[rank_of[b]] else pad_row
            for t in range(steps) for b in range(batch)]
    filler = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                           backend=data._backend)
    extended = ops.concat([data, filler], axis=0)
    padded = ops.take(extended, _index(rows, data), axis=0).reshape(steps, batch,
                                                                      *data.shape[1:])
    lengths = _index([sorted_lengths[rank_of[b]] for b in range(batch)], data)
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, ...)`` into one ``(max L, B, ...)`` tensor (B first with
    ``batch_first``), filling with ``padding_value`` on the right (or the left)."""
    op = "pad_sequence"
    sequences = list(sequences)
    if not sequences or not all(isinstance(s, Tensor) and s.ndim >= 1 for s in sequences):
        raise ValueError(f"{op}: expected a non-empty list of Tensors of at least 1 dimension")
    rest = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != rest:
            raise ValueError(f"{op}: every sequence must have trailing shape {rest}, got "
                             f"{tuple(s.shape)} at position {i}")
    if padding_side not in ("right", "left"):
        raise ValueError(f"{op}: padding_side must be 'right' or 'left', got {padding_side!r}")
    lengths = [s.shape[0] for s in sequences]
    steps, batch = max(lengths), len(sequences)
    first = sequences[0]
    filler = creation.full((1, *rest), padding_value, dtype=first.dtype, backend=first._backend)
    stacked = ops.concat([*sequences, filler], axis=0)
    pad_row = sum(lengths)
    starts = [sum(lengths[:b]) for b in range(batch)]
    rows = []
    for t in range(steps):
        for b in range(batch):
            k = t if padding_side == "right" else t - (steps - lengths[b])
            rows.append(starts[b] + k if 0 <= k < lengths[b] else pad_row)
    padded = ops.take(stacked, _index(rows, first), axis=0).reshape(steps, batch, *rest)
    return padded.transpose(0, 1) if batch_first else padded


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Undo `pad_sequence`: the list of ``(L_i, ...)`` tensors."""
    padded = padded_sequences.transpose(0, 1) if batch_first else padded_sequences
    values = _lengths_list("unpad_sequence", lengths, padded.shape[1])
    return [padded[:n, b, ...] for b, n in enumerate(values)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``(L_i, ...)`` tensors: `pad_sequence` then `pack_padded_sequence`."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences] if sequences else []
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)

# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.nn.utils.rnn", "torch.nn.utils.rnn")
