"""Transformer layers (Vaswani et al., 2017) with PyTorch's arguments and submodule names.

``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1..3``,
``dropout1..3``, ``layers.N``, ``encoder``/``decoder`` and their ``norm`` are named as in
``torch.nn``, so state dicts load both ways and give the same outputs and gradients.
"""

from __future__ import annotations

import copy
import math
import numbers

from xpnet import creation
from xpnet import functional as F
from xpnet.functional._checks import int_arg
from xpnet.autograd import anomaly
from xpnet.autograd.tensor import Tensor
from xpnet.backend import device as _device
from xpnet.ops.linalg import linear_relu

from . import init
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _activation(op, activation):
    """'relu' / 'gelu' -> the function; a callable (function or Module) as is."""
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(f"{op}: activation should be 'relu', 'gelu' or a callable, got "
                         f"{activation!r}")
    if not callable(activation):
        raise TypeError(f"{op}: activation should be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _sizes(op, d_model, nhead, dim_feedforward, dropout):
    """Check a layer's (or the Transformer's) sizes here, so that the error names ``op`` and its
    parameters rather than the MultiheadAttention built from them."""
    for name, n in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        int_arg(op, name, n, minimum=1)
    if d_model % nhead:
        raise ValueError(f"{op}: d_model ({d_model}) must be divisible by nhead ({nhead})")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise TypeError(f"{op}: dropout must be a probability in [0, 1], got "
                        f"{type(dropout).__name__} {dropout!r}")
    if not 0 <= dropout <= 1:
        raise ValueError(f"{op}: dropout must be a probability in [0, 1], got {dropout!r}")


def _seq_len(x, batch_first):
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


def _detect_causal(mask, is_causal, size):
    """``is_causal`` when given; otherwise whether ``mask`` is exactly the (size, size) causal
    mask (-inf, or True, above the diagonal), as PyTorch's encoder and decoder decide."""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    xp = mask._backend.xp
    device = mask._backend.device
    rows = xp.reshape(xp.arange(size, device=device), (size, 1))
    cols = xp.reshape(xp.arange(size, device=device), (1, size))
    above = cols > rows
    values = mask.array
    if mask.dtype.name == "bool":
        same = values == above
    else:
        same = xp.where(above, values == -math.inf, values == 0)
    return bool(xp.all(same))


def _feed_forward_hidden(layer, x):
    """``dropout(activation(linear1(x)))``, the feed-forward block's hidden layer. When the
    activation is ReLU and the dropout is off (p = 0, or eval mode), linear1 and the ReLU run
    as one node (`linear_relu`: bias and ReLU in one pass over the product, ~8 ms of the
    encoder layer's 100 at batch 32, sequence 128, width 2048), unless a user could see the
    difference: hooks on linear1 or the dropout, a linear1 or dropout that is not the plain
    module, anomaly mode (which names the layer that failed)."""
    if layer.activation is F.relu and _fusable(layer.linear1, layer.dropout):
        return linear_relu(x, layer.linear1.weight, layer.linear1.bias)
    return layer.dropout(layer.activation(layer.linear1(x)))


def _fusable(linear1, dropout):
    if type(linear1) is not Linear or type(dropout) is not Dropout or anomaly._enabled:
        return False
    if dropout.training and dropout.p != 0:
        return False
    return not any(getattr(m, name) for m in (linear1, dropout) for name in _HOOKS)


_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and layer norm.

    Post-norm (default): ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``; with ``norm_first``:
    ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``, where ``sa`` is `MultiheadAttention`
    followed by ``dropout1`` and ``ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))``.

    Parameters
    ----------
    d_model : int
        Features of the input and output.
    nhead : int
        Attention heads (must divide d_model).
    dim_feedforward : int, default=2048
        Width of the feed-forward block.
    dropout : float, default=0.1
    activation : {'relu', 'gelu'} or callable, default=relu
    layer_norm_eps : float, default=1e-5
    batch_first : bool, default=False
        (N, S, E) rather than (S, N, E) inputs and outputs.
    norm_first : bool, default=False
        Pre-norm: normalise before the attention and feed-forward blocks.
    bias : bool, default=True
        Biases in the linear layers and layer norms.
    device, dtype : optional
        Where and in which float dtype to make the parameters.

    Examples
    --------
    >>> import xpnet
    >>> layer = xpnet.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(xpnet.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None, *, backend=None):
        super().__init__()
        op = type(self).__name__
        _sizes(op, d_model, nhead, dim_feedforward, dropout)
        where = _device.target_backend(op, backend, device).name
        kw = dict(dtype=dtype, backend=where)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(op, activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Parameters: ``src`` (S, N, E), (N, S, E) with batch_first, or (S, E); ``src_mask``
        (S, S) or (N * nhead, S, S); ``src_key_padding_mask`` (N, S) or (S,) (bool: True =
        ignore; float: added); ``is_causal``: a hint that ``src_mask`` is causal. Returns a
        Tensor shaped as ``src``."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(_feed_forward_hidden(self, x)))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward
    block, each with a residual connection and layer norm (``norm1..3``, ``dropout1..3``).

    Parameters are those of `TransformerEncoderLayer`; the cross-attention module is
    ``multihead_attn``.

    Examples
    --------
    >>> import xpnet
    >>> layer = xpnet.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(xpnet.randn(4, 3, 8), xpnet.randn(5, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None, *, backend=None):
        super().__init__()
        op = type(self).__name__
        _sizes(op, d_model, nhead, dim_feedforward, dropout)
        where = _device.target_backend(op, backend, device).name
        kw = dict(dtype=dtype, backend=where)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(op, activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Parameters: ``tgt`` (T, N, E) (batch first or unbatched as the encoder layer's),
        ``memory`` (S, N, E); ``tgt_mask`` (T, T), ``memory_mask`` (T, S), key padding masks
        (N, T) and (N, S); ``*_is_causal``: hints that the masks are causal. Returns a Tensor
        shaped as ``tgt``."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(_feed_forward_hidden(self, x)))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (``layers.0`` ...), then ``norm``.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Deep-copied ``num_layers`` times (the copies start with equal weights, as PyTorch's).
    num_layers : int
    norm : Module, optional
        Applied to the last layer's output.
    enable_nested_tensor, mask_check : bool, default=True
        Accepted for PyTorch compatibility; they steer its nested-tensor fast path for padded
        batches, which xpnet does not have (results are the same).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        num_layers = int_arg("TransformerEncoder", "num_layers", num_layers, minimum=0)
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run ``src`` through every layer with the same masks. ``is_causal=None`` detects
        whether ``mask`` is the causal mask (as PyTorch). Returns a Tensor shaped as ``src``."""
        first = self.layers[0] if len(self.layers) else None
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        is_causal = _detect_causal(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (``layers.0`` ...), then ``norm``.

    Parameters
    ----------
    decoder_layer : TransformerDecoderLayer
        Deep-copied ``num_layers`` times.
    num_layers : int
    norm : Module, optional
        Applied to the last layer's output.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module, got "
                            f"{type(decoder_layer).__name__}")
        num_layers = int_arg("TransformerDecoder", "num_layers", num_layers, minimum=0)
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run ``tgt`` through every layer, each attending to ``memory``.
        ``tgt_is_causal=None`` detects whether ``tgt_mask`` is the causal mask. Returns a
        Tensor shaped as ``tgt``."""
        first = self.layers[0] if len(self.layers) else None
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        tgt_is_causal = _detect_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as ``torch.nn.Transformer``.

    Parameters
    ----------
    d_model : int, default=512
    nhead : int, default=8
    num_encoder_layers, num_decoder_layers : int, default=6
    dim_feedforward : int, default=2048
    dropout : float, default=0.1
    activation : {'relu', 'gelu'} or callable, default=relu
    custom_encoder, custom_decoder : Module, optional
        Used in place of the stacks built here.
    layer_norm_eps : float, default=1e-5
    batch_first : bool, default=False
    norm_first : bool, default=False
    bias : bool, default=True
    device, dtype : optional

    Every parameter with more than one axis is re-initialised xavier-uniform, as PyTorch's.

    Examples
    --------
    >>> import xpnet
    >>> model = xpnet.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                              num_decoder_layers=1, dim_feedforward=16)
    >>> src, tgt = xpnet.randn(5, 3, 8), xpnet.randn(4, 3, 8)
    >>> mask = xpnet.nn.Transformer.generate_square_subsequent_mask(4)
    >>> model(src, tgt, tgt_mask=mask).shape
    (4, 3, 8)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None, *, backend=None):
        super().__init__()
        if custom_encoder is None or custom_decoder is None:
            _sizes("Transformer", d_model, nhead, dim_feedforward, dropout)
        for name, n in (("num_encoder_layers", num_encoder_layers),
                        ("num_decoder_layers", num_decoder_layers)):
            int_arg("Transformer", name, n, minimum=0)
        where = _device.target_backend("Transformer", backend, device).name
        layer_kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                        layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                        norm_first=norm_first, bias=bias, dtype=dtype, backend=where)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer_kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype, backend=where))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer_kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype, backend=where))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src`` (S, N, E) and decode ``tgt`` (T, N, E) against it (batch first or
        unbatched as the layers'); masks as the encoder's and decoder's. Returns (T, N, E).

        Raises
        ------
        ValueError
            When src and tgt differ in batch size, or either's features are not d_model.
        """
        if not isinstance(src, Tensor) or not isinstance(tgt, Tensor):
            raise TypeError(f"Transformer: src and tgt must be Tensors, got "
                            f"{type(src).__name__} and {type(tgt).__name__}")
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise ValueError(f"Transformer: the batch number of src and tgt must be equal, got "
                             f"shapes {src.shape} and {tgt.shape}"
                             f"{' (batch_first=True)' if self.batch_first else ''}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature number of src and tgt must be equal to "
                             f"d_model ({self.d_model}), got shapes {src.shape} and {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None, *, backend=None):
        """The (sz, sz) causal mask: -inf above the diagonal (a later key is hidden from each
        query), 0 elsewhere, in ``dtype`` (default the default float dtype)."""
        sz = int_arg("generate_square_subsequent_mask", "sz", sz, minimum=0)
        target = _device.target_backend("generate_square_subsequent_mask", backend, device)
        return creation.full((sz, sz), -math.inf, dtype=dtype, backend=target.name).triu(1)

    def _reset_parameters(self, generator=None):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p, generator=generator)
