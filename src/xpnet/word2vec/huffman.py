"""The Huffman tree of hierarchical softmax: each word's code (left 0 / right 1 turns from the
root) and points (the inner nodes on its path, which index rows of ``syn1``).

Frequent words get short codes, so predicting them costs few dot products (Mikolov et al.,
"Distributed Representations of Words and Phrases", 2013, section 2.1). The tree is built as
gensim 4 builds it, so codes and points are the same for the same vocabulary.
"""

from __future__ import annotations

import heapq

__all__ = ["huffman_codes", "padded_paths"]


class _Node:
    __slots__ = ("count", "index", "left", "right")

    def __init__(self, count, index, left=None, right=None):
        self.count, self.index, self.left, self.right = count, index, left, right

    # Compare by count alone: gensim's heap does, and which of two equal counts is popped first
    # (decided by heap positions, not by index) is what makes the codes equal to gensim's.
    def __lt__(self, other):
        return self.count < other.count


def huffman_codes(counts):
    """Codes and points of every word from its count.

    Parameters
    ----------
    counts : sequence of int
        Count of word ``i`` at position ``i`` (the vocabulary order).

    Returns
    -------
    codes : list of list of int
        ``codes[i]``: 0/1 turns from the root to word ``i``'s leaf.
    points : list of list of int
        ``points[i]``: the inner nodes on that path, root first, numbered ``0 .. len(counts) - 2``
        (the root is ``len(counts) - 2``).
    """
    n = len(counts)
    codes, points = [[] for _ in range(n)], [[] for _ in range(n)]
    if n == 0:
        return codes, points
    heap = [_Node(c, i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    for inner in range(n - 1):
        first, second = heapq.heappop(heap), heapq.heappop(heap)
        heapq.heappush(heap, _Node(first.count + second.count, n + inner, first, second))
    # Walk down from the root with an explicit stack (deep trees would overflow recursion).
    stack = [(heap[0], [], [])]
    while stack:
        node, code, path = stack.pop()
        if node.index < n:
            codes[node.index], points[node.index] = code, path
        else:
            path = path + [node.index - n]
            stack.append((node.left, code + [0], path))
            stack.append((node.right, code + [1], path))
    return codes, points


def padded_paths(codes, points):
    """Rectangular tables for batched lookup: ``(points, codes, mask)``, each a list of rows of
    length ``max(1, longest code)``, padded with 0 where ``mask`` is 0."""
    depth = max(1, max((len(c) for c in codes), default=0))
    pad = lambda row: row + [0] * (depth - len(row))  # noqa: E731
    return ([pad(list(p)) for p in points], [pad(list(c)) for c in codes],
            [[1] * len(c) + [0] * (depth - len(c)) for c in codes])
