"""Multi-head attention with PyTorch's parameters, names and initialisation.

A ``torch.nn.MultiheadAttention`` state dict (``in_proj_weight``, ``in_proj_bias``,
``out_proj.weight``, ``out_proj.bias``; ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``
when kdim or vdim differ from embed_dim; ``bias_k``/``bias_v``) loads directly and gives the
same outputs and gradients. The attention itself is one fused node (see
`xpnet.ops.attention`).
"""

from __future__ import annotations

import numbers

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg
from xpnet.backend import device as _device

from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A `Linear` under the class name PyTorch gives ``MultiheadAttention.out_proj`` (which only
    tells its quantisation tools to leave it alone); the same state-dict keys."""


def _positive(op, name, n):
    return int_arg(op, name, n, minimum=1)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), as ``torch.nn.MultiheadAttention``.

    ``MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_O`` with
    ``head_i = softmax(Q W_Qi (K W_Ki)^T / sqrt(d) + mask) V W_Vi`` and d = embed_dim / h.

    Parameters
    ----------
    embed_dim : int
        E, the model's width (query features and output features).
    num_heads : int
        h; must divide ``embed_dim``.
    dropout : float, default=0.0
        Dropout on the attention probabilities, in training.
    bias : bool, default=True
        Learn ``in_proj_bias`` and ``out_proj.bias``.
    add_bias_kv : bool, default=False
        Learn ``bias_k`` and ``bias_v`` (1, 1, E), appended to the keys and values as one more
        source position.
    add_zero_attn : bool, default=False
        Append a zero key and value per head (one more source position).
    kdim, vdim : int, optional
        Features of key and value (default ``embed_dim``); when either differs, the
        projections are separate ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``.
    batch_first : bool, default=False
        Inputs and outputs are (N, L, E) rather than (L, N, E).
    device, dtype : optional
        Where and in which float dtype to make the parameters (PyTorch's factory arguments);
        ``backend`` names an xpnet backend instead of a device.

    Attributes
    ----------
    in_proj_weight : Parameter of shape (3 E, E), or None when kdim/vdim differ
        Query, key and value projections stacked; xavier-uniform initialised.
    q_proj_weight, k_proj_weight, v_proj_weight : Parameter or None
        (E, E), (E, kdim), (E, vdim) when kdim/vdim differ.
    in_proj_bias : Parameter of shape (3 E,) or None
        Zeros.
    out_proj : Linear(E, E)
        Its bias starts at zero.
    bias_k, bias_v : Parameter of shape (1, 1, E) or None
        Xavier-normal initialised.

    Examples
    --------
    >>> import xpnet
    >>> attention = xpnet.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = xpnet.randn(3, 5, 8)
    >>> out, weights = attention(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None, *, backend=None):
        super().__init__()
        op = "MultiheadAttention"
        self.embed_dim = _positive(op, "embed_dim", embed_dim)
        self.num_heads = _positive(op, "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"{op}: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.kdim = embed_dim if kdim is None else _positive(op, "kdim", kdim)
        self.vdim = embed_dim if vdim is None else _positive(op, "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
            raise TypeError(f"{op}: dropout must be a probability in [0, 1], got "
                            f"{type(dropout).__name__} {dropout!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = bool(add_zero_attn)
        where = _device.target_backend(op, backend, device).name

        def weight(*shape):
            return Parameter(creation.empty(*shape, dtype=dtype, backend=where))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = weight(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype, backend=where)
        if add_bias_kv:
            self.bias_k = weight(1, 1, embed_dim)
            self.bias_v = weight(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self, generator=None):
        # PyTorch's: xavier-uniform projections, zero biases, xavier-normal bias_k/bias_v;
        # out_proj.weight keeps Linear's own initialisation.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b, generator=generator)

    def reset_parameters(self, generator=None):
        """Initialise as PyTorch (out_proj's weight as a `Linear`'s)."""
        self.out_proj.reset_parameters(generator=generator)
        self._reset_parameters(generator)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query : Tensor of shape (L, N, E), (N, L, E) with ``batch_first``, or (L, E)
        key : Tensor of shape (S, N, kdim), (N, S, kdim), or (S, kdim)
        value : Tensor of shape (S, N, vdim), (N, S, vdim), or (S, vdim)
        key_padding_mask : Tensor of shape (N, S) or (S,), optional
            Bool: True marks a key to ignore (padding); float: added to the scores.
        need_weights : bool, default=True
            Also return the attention weights; False is faster.
        attn_mask : Tensor of shape (L, S) or (N * num_heads, L, S), optional
            Bool: True hides the key from the query; float: added to the scores.
        average_attn_weights : bool, default=True
            Average the returned weights over the heads.
        is_causal : bool, default=False
            A hint that ``attn_mask`` is the causal mask (which must still be given).

        Returns
        -------
        attn_output : Tensor
            Shaped as ``query`` (E features).
        attn_output_weights : Tensor or None
            (N, L, S), or (N, num_heads, L, S) without averaging ((L, S) / (num_heads, L, S)
            unbatched); None unless ``need_weights``.
        """
        separate = None if self._qkv_same_embed_dim else dict(
            use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        return F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
            batch_first=self.batch_first, **(separate or {}))
