"""Contractions over named or listed axes: ``tensordot`` and ``einsum``.

Neither is a primitive: both permute and reshape their operands so that each contraction is
one `matmul` (einsum also takes diagonals with ``take`` and sums axes no one needs), so their
gradients come from those.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.tensor import Tensor

from ._util import normalize_axis, promote_operands
from .linalg import _operands, matmul

__all__ = ["tensordot", "einsum"]


# -- tensordot -----------------------------------------------------------------------------------

def _contract(op, a, b, axes_a, axes_b):
    """Sum of products over the paired axes; the result has a's other axes, then b's."""
    from .shape import permute, reshape
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    size = math.prod(a.shape[i] for i in axes_a)
    left = reshape(permute(a, free_a + list(axes_a)),
                   (math.prod(a.shape[i] for i in free_a), size))
    right = reshape(permute(b, list(axes_b) + free_b),
                    (size, math.prod(b.shape[i] for i in free_b)))
    out = matmul(left, right)
    return reshape(out, tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b))


def tensordot(a, b, dims=2):
    """Contract ``a`` and ``b`` over axes: the last ``dims`` of ``a`` with the first ``dims``
    of ``b`` (an int), or the axes listed in ``dims = (axes_a, axes_b)``.

    Returns
    -------
    Tensor
        ``a``'s remaining axes, then ``b``'s.
    """
    _operands("tensordot", ("a", "b"), (a, b), (None, None))
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        dims = int(dims)
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} must be between 0 and "
                             f"{min(a.ndim, b.ndim)} for shapes {a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, (tuple, list)) and len(dims) == 2:
        pair = [[d] if isinstance(d, numbers.Integral) else list(d) for d in dims]
        if len(pair[0]) != len(pair[1]):
            raise ValueError(f"tensordot: dims must list as many axes of a as of b, got {dims}")
        axes_a = [normalize_axis("tensordot", d, a.ndim) for d in pair[0]]
        axes_b = [normalize_axis("tensordot", d, b.ndim) for d in pair[1]]
        if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
            raise ValueError(f"tensordot: repeated axis in dims {dims}")
    else:
        raise TypeError(f"tensordot: dims must be an int or a pair of axis lists, got {dims!r}")
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of a (size {a.shape[i]}) and axis {j} of b "
                             f"(size {b.shape[j]}) differ; shapes {a.shape} and {b.shape}")
    a, b = promote_operands("tensordot", a, b)
    return _contract("tensordot", a, b, axes_a, axes_b)


# -- einsum --------------------------------------------------------------------------------------

def _parse_term(term, ndim, position):
    """Labels of one operand's subscripts: letters as str, '...' as the marker None."""
    labels, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            if None in labels:
                raise ValueError(f"einsum: operand {position} has more than one '...'")
            labels.append(None)
            i += 3
        elif term[i].isascii() and term[i].isalpha():
            labels.append(term[i])
            i += 1
        else:
            raise ValueError(f"einsum: invalid subscript {term[i]!r} in {term!r}; use letters "
                             f"a-z, A-Z and '...'")
    letters = len(labels) - (None in labels)
    if ndim is None:  # the output: any count
        return labels
    if (None not in labels and letters != ndim) or letters > ndim:
        raise ValueError(f"einsum: operand {position} has {ndim} axes but subscripts "
                         f"{term!r} name {letters}")
    return labels


def _expand_ellipsis(labels, ndim, total):
    """Replace the '...' marker by ints naming broadcast axes, right-aligned with the widest."""
    if None not in labels:
        return labels
    i = labels.index(None)
    count = ndim - (len(labels) - 1)
    return labels[:i] + list(range(total - count, total)) + labels[i + 1:]


def _diagonal(t, labels):
    """Merge repeated labels of one operand by taking the diagonal (a gather through take)."""
    from .indexing import take
    from .shape import permute, reshape
    while True:
        repeated = next((l for l in labels if labels.count(l) > 1), None)
        if repeated is None:
            return t, labels
        where = [i for i, l in enumerate(labels) if l == repeated]
        sizes = {t.shape[i] for i in where}
        if len(sizes) > 1:
            raise ValueError(f"einsum: subscript {repeated!r} repeats on axes of different "
                             f"sizes {sorted(sizes)} in one operand")
        n = t.shape[where[0]]
        rest = [i for i in range(t.ndim) if i not in where]
        merged = reshape(permute(t, rest + where),
                         tuple(t.shape[i] for i in rest) + (n ** len(where),))
        # Element (i, i, ..., i) of the merged axes sits at i * (n**(k-1) + ... + n + 1).
        stride = sum(n ** j for j in range(len(where)))
        xp, backend = t._backend.xp, t._backend
        index = Tensor._make(xp.arange(n, dtype=xp.int64, device=backend.device) * stride, backend)
        t = take(merged, index, axis=len(rest))
        labels = [labels[i] for i in rest] + [repeated]


def _sum_out(t, labels, keep):
    """Sum the axes whose label is not in ``keep``."""
    from .reduce import sum as total
    axes = tuple(i for i, l in enumerate(labels) if l not in keep)
    if not axes:
        return t, labels
    return total(t, axis=axes), [l for l in labels if l in keep]


def _pair(a, labels_a, b, labels_b, keep):
    """Contract two operands: shared labels outside ``keep`` are summed by one batched matmul."""
    from .shape import permute, reshape
    batch = [l for l in labels_a if l in labels_b and l in keep]
    summed = [l for l in labels_a if l in labels_b and l not in keep]
    free_a = [l for l in labels_a if l not in labels_b]
    free_b = [l for l in labels_b if l not in labels_a]
    size_a = dict(zip(labels_a, a.shape))
    size_b = dict(zip(labels_b, b.shape))

    def grouped(t, labels, groups, sizes):
        order = [labels.index(l) for group in groups for l in group]
        return reshape(permute(t, order), tuple(math.prod(sizes[l] for l in group)
                                                for group in groups))

    left = grouped(a, labels_a, (batch, free_a, summed), size_a)
    right = grouped(b, labels_b, (batch, summed, free_b), size_b)
    out = matmul(left, right)
    labels = batch + free_a + free_b
    sizes = [size_a[l] for l in batch + free_a] + [size_b[l] for l in free_b]
    return reshape(out, tuple(sizes)), labels


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum`` (and NumPy's).

    Parameters
    ----------
    equation : str
        Comma-separated subscripts, one per operand (letters; ``...`` for broadcast axes),
        optionally ``->`` and the output's subscripts. Without ``->`` the output has the
        broadcast axes, then the letters that occur once, in alphabetical order (capitals
        first). A letter repeated within one operand takes its diagonal; letters missing from
        the output are summed; equal letters of size 1 broadcast.
    *operands : Tensor
        One per subscript term (or a single list of them).

    Returns
    -------
    Tensor
        Differentiable: computed with permute, reshape, take (for diagonals), sum and one
        matmul per pair of operands, contracted left to right.

    Examples
    --------
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; ``einsum("bii->b", x)`` the batched trace;
    ``einsum("...ij,...jk", a, b)`` a broadcasting batched matmul.
    """
    from .shape import broadcast_to, permute, reshape
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got "
                        f"{type(equation).__name__} (the sublist form is not supported)")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {i} must be a Tensor, got {type(t).__name__}")
    equation = equation.replace(" ", "")
    if equation.count("->") > 1:
        raise ValueError(f"einsum: more than one '->' in {equation!r}")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {equation!r} has {len(terms)} operand subscripts but "
                         f"{len(operands)} operands were given")
    parsed = [_parse_term(term, t.ndim, i) for i, (term, t) in enumerate(zip(terms, operands))]
    widths = [t.ndim - (len(p) - 1) for p, t in zip(parsed, operands) if None in p]
    width = max(widths, default=0)
    labels = [_expand_ellipsis(p, t.ndim, width) for p, t in zip(parsed, operands)]
    letters = [l for ls in labels for l in ls if isinstance(l, str)]
    if arrow:
        out_labels = _parse_term(rhs, None, "output")
        i = out_labels.index(None) if None in out_labels else None
        if i is not None:  # the output's '...' stands for every broadcast axis
            out_labels = out_labels[:i] + list(range(width)) + out_labels[i + 1:]
    else:
        out_labels = list(range(width)) + sorted(l for l in set(letters) if letters.count(l) == 1)
    for l in out_labels:
        if isinstance(l, str) and l not in letters:
            raise ValueError(f"einsum: output subscript {l!r} does not occur in the operands")
        if out_labels.count(l) > 1:
            raise ValueError(f"einsum: output subscript {l!r} occurs more than once")
    # One size per label: equal, or 1 (broadcast).
    sizes = {}
    for i, (ls, t) in enumerate(zip(labels, operands)):
        for l, n in zip(ls, t.shape):
            if n != 1 and sizes.get(l, 1) not in (1, n):
                name = f"subscript {l!r}" if isinstance(l, str) else "'...'"
                raise ValueError(f"einsum: {name} has size {sizes[l]} and size {n} (operand {i})")
            if n != 1 or l not in sizes:
                sizes[l] = n
    tensors = []
    for t, ls in zip(operands, labels):
        t, ls = _diagonal(t, ls)
        full = tuple(sizes[l] for l in ls)
        if full != t.shape:
            t = broadcast_to(t, full)
        tensors.append((t, ls))
    t, ls = tensors[0]
    for k in range(1, len(tensors)):
        b, lb = tensors[k]
        later = set(out_labels).union(*(set(l) for _, l in tensors[k + 1:]))
        # Labels nobody else needs are summed before the product (smaller matmul).
        t, ls = _sum_out(t, ls, later | set(lb))
        b, lb = _sum_out(b, lb, later | set(ls))
        t, ls = _pair(t, ls, b, lb, later)
    t, ls = _sum_out(t, ls, set(out_labels))
    return permute(t, [ls.index(l) for l in out_labels]) if ls != out_labels else t
