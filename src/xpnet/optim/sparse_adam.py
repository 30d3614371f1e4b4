"""SparseAdam: the lazy Adam step for row-sparse gradients (embeddings with ``sparse=True``)."""

from __future__ import annotations

from xpnet.autograd.sparse import RowSparseGrad

from .adam import apply_sparse_adam
from .optimizer import Optimizer, check_implementation_flags, check_number, new_state_tensor

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Adam for sparse gradients, as PyTorch's ``torch.optim.SparseAdam``.

    At each step only the rows present in the gradient update their moments and values
    (`xpnet.optim.adam.sparse_adam_update`); the rest are left as they are, so a step costs
    O(rows looked up), whatever the vocabulary. With :math:`t` the parameter's step count,
    for each row in the gradient :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`, and
    :math:`\theta \leftarrow \theta - \mathrm{lr}\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
    \frac{m}{\sqrt{v} + \epsilon}`.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        Tensors to optimize, or parameter groups (see `Optimizer`); their gradients must be
        sparse.
    lr : float, default=1e-3
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    State per parameter: ``step`` (int), ``exp_avg`` and ``exp_avg_sq`` (dense, the parameter's
    shape; only the touched rows are written, in place). `Adam` applies the same update to
    sparse gradients and the dense one to dense gradients.

    Examples
    --------
    >>> import xpnet
    >>> emb = xpnet.nn.Embedding(1000, 8, sparse=True)
    >>> opt = SparseAdam(emb.parameters(), lr=0.01)
    >>> emb(xpnet.tensor([3, 7, 3])).sum().backward()
    >>> opt.step()
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("SparseAdam", "lr", group["lr"], 0)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"SparseAdam: betas must be a pair (beta1, beta2), got {betas!r}")
        check_number("SparseAdam", "betas[0]", betas[0], 0, 1, high_open=True)
        check_number("SparseAdam", "betas[1]", betas[1], 0, 1, high_open=True)
        check_number("SparseAdam", "eps", group["eps"], 0, low_open=True)
        check_implementation_flags("SparseAdam", group)  # PyTorch has no other flag here

    def _check_grad(self, p, group, position=0):
        grad = super()._check_grad(p, group, position)
        if not isinstance(grad, RowSparseGrad):
            raise RuntimeError(f"SparseAdam.step: a parameter of shape {p.shape} has a dense "
                               f"gradient; SparseAdam takes only sparse ones (sparse=True "
                               f"embeddings); use Adam for dense gradients")
        return grad

    def _init_state(self, p, group):
        xp = p._backend.xp
        return {"step": 0, "exp_avg": new_state_tensor(p, xp.zeros_like(p.array)),
                "exp_avg_sq": new_state_tensor(p, xp.zeros_like(p.array))}

    def _sparse_unsupported(self, group):
        return ""

    def _sparse_update(self, p, grad, state, group):
        apply_sparse_adam(p, grad, state, group)
