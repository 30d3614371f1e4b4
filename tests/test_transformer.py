"""Transformer layers (nn/transformer.py) against torch.nn's with the same weights: outputs and
gradients of inputs and every parameter (float64) in eval and train mode (dropout 0), state-dict
keys, masks and causal detection, initialisation, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from xpnet import nn

from .conftest import assert_close
from .op_checks import assert_on_device

torch = pytest.importorskip("torch")

D_MODEL, NHEAD, FF = 8, 2, 16


def _modules(name, *args, **options):
    """(xpnet module, torch module), float64, torch's weights loaded into ours."""
    ours_options = dict(options)
    theirs_options = dict(options)
    activation = options.get("activation")
    if activation == "tanh-module":
        ours_options["activation"], theirs_options["activation"] = nn.Tanh(), torch.nn.Tanh()
    elif activation == "tanh-function":
        ours_options["activation"], theirs_options["activation"] = xpnet.tanh, torch.tanh
    theirs = getattr(torch.nn, name)(*args, dtype=torch.float64, **theirs_options)
    ours = getattr(nn, name)(*args, dtype="float64", **ours_options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _as_pair(value, requires_grad):
    if isinstance(value, np.ndarray):
        grad = requires_grad and value.dtype.kind == "f"
        return xpnet.tensor(value, requires_grad=grad), torch.tensor(value, requires_grad=grad)
    return value, value


def _compare(ours, theirs, args, options, train, rtol=1e-9, atol=1e-11, seed=1):
    """Same output, and the same gradients of every float input and parameter."""
    ours.train(train)
    theirs.train(train)
    xs, ts = zip(*(_as_pair(a, True) for a in args))
    xopts, topts = {}, {}
    for name, value in options.items():
        xopts[name], topts[name] = _as_pair(value, False)
    out = ours(*xs, **xopts)
    tout = theirs(*ts, **topts)
    assert_on_device(out, xpnet.backend.active().name)
    assert_close(out, tout, rtol=rtol, atol=atol)
    weights = np.random.default_rng(seed).uniform(-1, 1, size=tuple(tout.shape))
    wrt = [x for x in xs if x.requires_grad] + list(ours.parameters())
    twrt = [t for t in ts if t.requires_grad] + list(theirs.parameters())
    got = xpnet.autograd.grad([out], wrt, [xpnet.tensor(weights)])
    want = torch.autograd.grad([tout], twrt, [torch.from_numpy(weights)])
    for g, w in zip(got, want):
        assert_close(g, w, rtol=rtol, atol=atol)


def _seq(batch_first, n, length, rng):
    return rng.normal(size=(n, length, D_MODEL) if batch_first else (length, n, D_MODEL))


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def _padding(n, length, rng):
    mask = rng.random((n, length)) > 0.6
    mask[:, 0] = False  # at least one key per sequence (an all-padded one gives NaN in torch)
    return mask


LAYER_OPTIONS = {
    "defaults": {},
    "norm_first": {"norm_first": True},
    "gelu": {"activation": "gelu"},
    "callable module": {"activation": "tanh-module"},
    "callable function": {"activation": "tanh-function"},
    "batch_first": {"batch_first": True},
    "no bias": {"bias": False},
    "layer_norm_eps": {"layer_norm_eps": 1e-3},
}
# name -> masks of the encoder layer's forward
ENCODER_MASKS = {
    "none": lambda n, s, rng: {},
    "key padding": lambda n, s, rng: {"src_key_padding_mask": _padding(n, s, rng)},
    "bool mask": lambda n, s, rng: {"src_mask": np.triu(np.ones((s, s), dtype=bool), 1)},
    "float 3-D mask": lambda n, s, rng: {"src_mask": rng.normal(size=(n * NHEAD, s, s))},
    "causal": lambda n, s, rng: {"src_mask": _causal(s), "is_causal": True},
}


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("options", list(LAYER_OPTIONS))
def test_encoder_layer_matches_torch(options, train):
    rng = np.random.default_rng(0)
    opts = LAYER_OPTIONS[options]
    ours, theirs = _modules("TransformerEncoderLayer", D_MODEL, NHEAD, FF, dropout=0.0, **opts)
    src = _seq(opts.get("batch_first", False), 3, 5, rng)
    _compare(ours, theirs, [src], {"src_key_padding_mask": _padding(3, 5, rng)}, train)


@pytest.mark.parametrize("masks", list(ENCODER_MASKS))
def test_encoder_layer_masks_match_torch(masks):
    rng = np.random.default_rng(1)
    ours, theirs = _modules("TransformerEncoderLayer", D_MODEL, NHEAD, FF, dropout=0.0)
    _compare(ours, theirs, [_seq(False, 3, 5, rng)], ENCODER_MASKS[masks](3, 5, rng), True)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("options", ["defaults", "norm_first", "gelu", "batch_first", "no bias"])
def test_decoder_layer_matches_torch(options, train):
    rng = np.random.default_rng(2)
    opts = LAYER_OPTIONS[options]
    bf = opts.get("batch_first", False)
    ours, theirs = _modules("TransformerDecoderLayer", D_MODEL, NHEAD, FF, dropout=0.0, **opts)
    masks = {"tgt_mask": _causal(4), "tgt_is_causal": True,
             "memory_key_padding_mask": _padding(3, 5, rng),
             "tgt_key_padding_mask": np.where(_padding(3, 4, rng), -np.inf, 0.0),
             "memory_mask": rng.random((4, 5)) > 0.8}
    _compare(ours, theirs, [_seq(bf, 3, 4, rng), _seq(bf, 3, 5, rng)], masks, train)


def test_layers_on_every_backend(backend):
    rng = np.random.default_rng(3)
    ours, theirs = _modules("TransformerDecoderLayer", D_MODEL, NHEAD, FF, dropout=0.0,
                            norm_first=True)
    _compare(ours, theirs, [_seq(False, 2, 4, rng), _seq(False, 2, 3, rng)],
             {"tgt_mask": _causal(4), "memory_key_padding_mask": _padding(2, 3, rng)}, True)
    ours, theirs = _modules("TransformerEncoderLayer", D_MODEL, NHEAD, FF, dropout=0.0,
                            batch_first=True)
    _compare(ours, theirs, [_seq(True, 2, 4, rng)], {"src_mask": _causal(4)}, False)


def test_unbatched_layers_match_torch():
    rng = np.random.default_rng(4)
    ours, theirs = _modules("TransformerEncoderLayer", D_MODEL, NHEAD, FF, dropout=0.0)
    _compare(ours, theirs, [rng.normal(size=(5, D_MODEL))],
             {"src_key_padding_mask": np.array([False, False, True, False, True])}, True)
    ours, theirs = _modules("TransformerDecoderLayer", D_MODEL, NHEAD, FF, dropout=0.0)
    _compare(ours, theirs, [rng.normal(size=(4, D_MODEL)), rng.normal(size=(5, D_MODEL))],
             {"tgt_mask": _causal(4)}, True)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_encoder_and_decoder_stacks_match_torch(train):
    rng = np.random.default_rng(5)
    layer = torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.0,
                                             dtype=torch.float64)
    with pytest.warns(UserWarning, match="enable_nested_tensor"):  # torch's, not ours
        theirs = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(
            D_MODEL, dtype=torch.float64))
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.0,
                                                            dtype="float64"), 2,
                                 nn.LayerNorm(D_MODEL, dtype="float64"))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _compare(ours, theirs, [_seq(False, 3, 5, rng)],
             {"mask": _causal(5), "src_key_padding_mask": np.where(_padding(3, 5, rng), -np.inf,
                                                                   0.0)}, train)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(
        D_MODEL, NHEAD, FF, dropout=0.0, dtype=torch.float64, batch_first=True), 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(
        D_MODEL, NHEAD, FF, dropout=0.0, dtype="float64", batch_first=True), 2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _compare(ours, theirs, [_seq(True, 3, 4, rng), _seq(True, 3, 5, rng)],
             {"tgt_mask": _causal(4), "memory_key_padding_mask": _padding(3, 5, rng)}, train)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's own warning
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_transformer_matches_torch(train):
    rng = np.random.default_rng(6)
    ours, theirs = _modules("Transformer", D_MODEL, NHEAD, 2, 2, FF, dropout=0.0,
                            activation="gelu")
    masks = {"tgt_mask": _causal(4), "src_key_padding_mask": rng.normal(size=(3, 5)),
             "memory_key_padding_mask": _padding(3, 5, rng), "src_mask": rng.normal(size=(5, 5))}
    _compare(ours, theirs, [_seq(False, 3, 5, rng), _seq(False, 3, 4, rng)], masks, train)


def test_generate_square_subsequent_mask_equals_torch():
    for size in (0, 1, 5):
        got = nn.Transformer.generate_square_subsequent_mask(size)
        want = torch.nn.Transformer.generate_square_subsequent_mask(size)
        assert got.dtype == xpnet.float32
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype="float64").dtype == \
        xpnet.float64


def test_causal_mask_detection_as_torch():
    from xpnet.nn.transformer import _detect_causal

    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_causal(mask, None, 4)
    assert _detect_causal(xpnet.tensor(np.triu(np.ones((4, 4), dtype=bool), 1)), None, 4)
    assert not _detect_causal(mask, None, 5)
    assert not _detect_causal(xpnet.zeros(4, 4), None, 4)
    assert not _detect_causal(None, None, 4)
    assert _detect_causal(None, True, 4) and not _detect_causal(mask, False, 4)


def test_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    encoder = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False, mask_check=False)
    assert [name.split(".")[1] for name in encoder.state_dict()][::len(layer.state_dict())] == \
        ["0", "1", "2"]
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and first is not layer.linear1.weight
    np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_transformer_initialises_matrices_xavier_uniform():
    model = nn.Transformer(16, 2, 1, 1, 32)
    weight = model.encoder.layers[0].linear1.weight.numpy()  # (32, 16)
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert model.d_model == 16 and model.nhead == 2 and model.batch_first is False


def test_dropout_applies_in_training_only():
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.5)
    x = xpnet.randn(5, 3, D_MODEL)
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


class _PassThrough(nn.Module):
    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        return src


def test_custom_encoder_and_decoder_are_used():
    encoder, decoder = _PassThrough(), nn.TransformerDecoder(
        nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF), 1)
    model = nn.Transformer(D_MODEL, NHEAD, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder
    out = model(xpnet.randn(5, 2, D_MODEL), xpnet.randn(4, 2, D_MODEL))
    assert tuple(out.shape) == (4, 2, D_MODEL)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="activation should be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, activation="swish")
    with pytest.raises(TypeError, match="activation should be"):
        nn.TransformerDecoderLayer(D_MODEL, NHEAD, activation=3)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: d_model \(8\) must be "
                       r"divisible by nhead \(3\)"):
        nn.TransformerEncoderLayer(D_MODEL, 3)
    with pytest.raises(ValueError, match="dim_feedforward must be a positive int"):
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=0)
    with pytest.raises(ValueError, match="dropout must be a probability"):
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, dropout=2.0)
    with pytest.raises(TypeError, match="encoder_layer must be a Module"):
        nn.TransformerEncoder("layer", 2)
    with pytest.raises(ValueError, match="num_layers must be a non-negative int"):
        nn.TransformerDecoder(nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF), -1)
    model = nn.Transformer(D_MODEL, NHEAD, 1, 1, FF)
    with pytest.raises(ValueError, match="batch number of src and tgt must be equal"):
        model(xpnet.randn(5, 2, D_MODEL), xpnet.randn(4, 3, D_MODEL))
    with pytest.raises(ValueError, match=r"feature number of src and tgt must be equal to "
                                         r"d_model \(8\)"):
        model(xpnet.randn(5, 2, D_MODEL), xpnet.randn(4, 2, 6))
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(5, 5\)"):
        layer(xpnet.randn(5, 2, D_MODEL), src_mask=xpnet.zeros(4, 4))
    with pytest.raises(ValueError, match="sz must be a non-negative int"):
        nn.Transformer.generate_square_subsequent_mask(-1)


def test_language_model_in_the_style_of_pytorch_examples_learns():
    """pytorch/examples' word_language_model TransformerModel (a subclass of nn.Transformer
    whose decoder is replaced by a Linear), with a causal mask, fits a tiny sequence."""
    class TransformerModel(nn.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                             num_encoder_layers=nlayers, dropout=0.0)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.decoder = nn.Linear(ninp, ntoken)

        def forward(self, src):
            mask = self.generate_square_subsequent_mask(len(src))
            output = self.encoder(self.input_emb(src), mask=mask)
            return nn.functional.log_softmax(self.decoder(output), dim=-1)

    model = TransformerModel(11, 16, 2, 32, 1)
    optimizer = xpnet.optim.Adam(model.parameters(), lr=0.01)
    data = xpnet.tensor(np.tile(np.arange(11), 2)[:, None].repeat(3, axis=1))  # (22, 3)
    losses = []
    for _ in range(30):
        out = model(data[:-1])
        loss = nn.functional.nll_loss(out.reshape(-1, 11), data[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    # The next token is a function of the current one: the loss falls from log(11) ~ 2.4
    # (measured: 2.46 -> 0.05 in 30 steps; the bound leaves room for other seeds).
    assert losses[0] > 2.0 and losses[-1] < 0.3
