"""`concat_chunks`: the join of gradients that a split's backward makes, against its twin, and
the fast path's view of chunks that already lie side by side in one buffer."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import load
from xpnet.backend.kernels import fast_path_families, get_kernel


def _pieces(case):
    """(chunks, axis, the buffer they were cut from or None)."""
    rng = np.random.default_rng(0)
    whole = rng.standard_normal((5, 4, 12)).astype(np.float32)
    if case == "adjacent on the last axis":
        return [whole[..., :3], whole[..., 3:7], whole[..., 7:]], 2, whole
    if case == "adjacent on the first axis":
        return [whole[:2], whole[2:]], 0, whole
    if case == "strided rows, adjacent columns":  # (L, N, 3, H, D) cut into q, k, v, merged
        packed = rng.standard_normal((6, 2, 3, 4, 5))
        return [packed[:, :, i].reshape(6, 2, 20) for i in range(3)], 2, packed
    if case == "a gap between chunks":
        return [whole[..., :3], whole[..., 4:]], 2, None
    if case == "out of order":
        return [whole[..., 6:], whole[..., :6]], 2, None
    if case == "separate arrays":
        return [rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 4, 2))], 2, None
    if case == "read-only":
        view = whole.copy()
        view.flags.writeable = False
        return [view[..., :6], view[..., 6:]], 2, None
    if case == "one chunk":
        return [whole[..., 2:5]], 2, None
    raise AssertionError(case)


CASES = ["adjacent on the last axis", "adjacent on the first axis",
         "strided rows, adjacent columns", "a gap between chunks", "out of order",
         "separate arrays", "read-only", "one chunk"]


@pytest.mark.parametrize("case", CASES)
def test_concat_chunks_twin_is_concat_on_every_backend(backend, case):
    chunks, axis, _ = _pieces(case)
    b = load(backend)
    got = get_kernel("concat_chunks", b, fast_paths=False)(b.xp, [b.asarray(c) for c in chunks],
                                                            axis)
    np.testing.assert_array_equal(xpnet.Tensor(got).numpy(), np.concatenate(chunks, axis=axis))


@pytest.mark.parametrize("family", fast_path_families("concat_chunks"))
@pytest.mark.parametrize("case", CASES)
def test_concat_chunks_fast_path_matches_the_twin(family, case):
    chunks, axis, buffer = _pieces(case)
    b = load(family)
    fast = get_kernel("concat_chunks", b, fast_paths=True)
    assert fast is not get_kernel("concat_chunks", b, fast_paths=False)
    got = fast(b.xp, [b.asarray(c) for c in chunks], axis)
    np.testing.assert_array_equal(np.asarray(got), np.concatenate(chunks, axis=axis))
    if family == "numpy":
        # Chunks side by side in one writable buffer come back as a view of it; anything else
        # is a fresh array that shares nothing with the chunks.
        assert np.shares_memory(got, chunks[0]) == (buffer is not None)
        assert got.flags.writeable


def test_split_backward_joins_its_gradients_through_concat_chunks(joins_as_views):
    """A split's backward hands its input's gradient on as one array, joined by
    ``concat_chunks``: three separate gradient arrays, as here, by a copy."""
    x = xpnet.tensor(np.arange(24.0).reshape(2, 12), requires_grad=True)
    a, b, c = x.chunk(3, dim=1)
    (a * 1 + b * 2 + c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat([[1.0, 2.0, 3.0]], 4, axis=1)
                                  .reshape(1, 12).repeat(2, axis=0))
    assert joins_as_views == ([False] if xpnet.backend.active().name == "numpy" else [])
