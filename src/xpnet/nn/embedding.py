"""Embedding layers: a lookup table (`Embedding`) and its bag-reducing form (`EmbeddingBag`)."""

from __future__ import annotations

import numbers

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class _Table(Module):
    """What both layers share: the (num_embeddings, embedding_dim) weight and its options."""

    _name = "Embedding"

    def __init__(self, num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                 scale_grad_by_freq, sparse, dtype, backend):
        super().__init__()
        num_embeddings = int_arg(self._name, "num_embeddings", num_embeddings)
        embedding_dim = int_arg(self._name, "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
                raise TypeError(f"{self._name}: padding_idx must be an int or None, got "
                                f"{type(padding_idx).__name__} {padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"{self._name}: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        for name, flag in (("scale_grad_by_freq", scale_grad_by_freq), ("sparse", sparse)):
            if not isinstance(flag, bool):
                raise TypeError(f"{self._name}: {name} must be True or False, got {flag!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype,
                                               backend=backend))
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            xp = self.weight._backend.xp
            rows = xp.arange(self.num_embeddings, device=self.weight._backend.device)
            keep = xp.reshape(rows != self.padding_idx, (-1, 1))
            self.weight._set_array(xp.where(keep, self.weight.array, xp.zeros_like(self.weight.array)))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, **options):
        """A layer whose weight is a copy of ``embeddings`` (e.g. word2vec vectors), as
        PyTorch's ``from_pretrained``.

        Parameters
        ----------
        embeddings : Tensor of shape (num_embeddings, embedding_dim)
            Floating point; the layer takes its dtype and backend.
        freeze : bool, default=True
            Keep the weight fixed (``requires_grad=False``).
        **options
            The layer's other arguments (``padding_idx``, ``sparse``, ``mode``...). The
            ``padding_idx`` row keeps its pretrained values, as in PyTorch.
        """
        from xpnet.autograd.tensor import Tensor

        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2 \
                or not embeddings.dtype.is_floating_point:
            raise ValueError(f"{cls.__name__}.from_pretrained: embeddings must be a 2-D "
                             f"floating-point Tensor, got "
                             f"{getattr(embeddings, 'shape', type(embeddings).__name__)}")
        layer = cls(*embeddings.shape, dtype=embeddings.dtype, backend=embeddings.backend,
                    **options)
        xp = embeddings._backend.xp
        layer.weight.array = xp.asarray(embeddings.array, copy=True)
        layer.weight.requires_grad_(not freeze)
        return layer

    def extra_repr(self):
        extra = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            extra += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            extra += f", max_norm={self.max_norm}"
        if self.norm_type != 2.0:
            extra += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            extra += ", scale_grad_by_freq=True"
        if self.sparse:
            extra += ", sparse=True"
        return extra


class Embedding(_Table):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Input: integer Tensor of any shape; output: that shape + (embedding_dim,).
    Initialised N(0, 1) as PyTorch's, with the ``padding_idx`` row zero.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional
        Row that stays zero and gets no gradient (padding tokens).
    max_norm : float, optional
        Looked-up rows with a larger ``norm_type``-norm are rescaled to it.
    norm_type : float, default=2.0
    scale_grad_by_freq : bool, default=False
        Divide each lookup's gradient by its row's frequency in the input.
    sparse : bool, default=False
        ``weight.grad`` is a `xpnet.autograd.RowSparseGrad` holding only the looked-up rows;
        `optim.SGD` (without momentum), `optim.Adagrad`, `optim.Adam` and `optim.SparseAdam`
        update just those rows.

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)

    Examples
    --------
    >>> import xpnet
    >>> emb = Embedding(10, 3, sparse=True)
    >>> emb(xpnet.tensor([[1, 2], [4, 1]])).sum().backward()
    >>> emb.weight.grad.coalesce().indices()
    tensor([1, 2, 4])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, *, dtype=None,
                 backend=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, dtype, backend)

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)


class EmbeddingBag(_Table):
    """Sums, means or maxima of bags of embeddings (``Embedding`` followed by a reduction over
    each bag, in one step).

    Input: integer Tensor of shape (B, L) (B bags of L indices) or (N,) with ``offsets`` of
    shape (B,) (or (B + 1,) with ``include_last_offset``); output: (B, embedding_dim).

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    max_norm : float, optional
    norm_type : float, default=2.0
    scale_grad_by_freq : bool, default=False
    mode : {'mean', 'sum', 'max'}, default='mean'
        How each bag is reduced; empty bags give zeros.
    sparse : bool, default=False
        Row-sparse ``weight.grad``, as in `Embedding` (not with 'max').
    include_last_offset : bool, default=False
        ``offsets`` carries one more entry, the end of the last bag (= len(input)).
    padding_idx : int, optional
        Indices equal to it are left out of their bag; the row starts at zero and gets no
        gradient.

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)

    Examples
    --------
    >>> import xpnet
    >>> bag = EmbeddingBag(10, 3, mode="sum")
    >>> bag(xpnet.tensor([1, 2, 4, 5, 4]), xpnet.tensor([0, 2])).shape
    (2, 3)
    """

    _name = "EmbeddingBag"

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, include_last_offset=False,
                 padding_idx=None, *, dtype=None, backend=None):
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if not isinstance(include_last_offset, bool):
            raise TypeError(f"EmbeddingBag: include_last_offset must be True or False, got "
                            f"{include_last_offset!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, dtype, backend)
        self.mode, self.include_last_offset = mode, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        extra = super().extra_repr() + f", mode={self.mode!r}"
        if self.include_last_offset:
            extra += ", include_last_offset=True"
        return extra
