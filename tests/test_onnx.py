"""xpnet.onnx.export: every supported layer and several composite models are exported, checked
with onnx.checker, run in onnxruntime and compared with xpnet's own outputs (float32, 1e-5),
on the example inputs and on inputs whose dynamic axes (batch, sequence, image sizes) differ
from the example's."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet import nn

onnx = pytest.importorskip("onnx", reason="onnx not installed (pip install 'xpnet[onnx]')")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime not installed (pip install 'xpnet[onnx]')")

from xpnet.onnx import ExportError, export  # noqa: E402


def _tensors(obj):
    if isinstance(obj, (tuple, list)):
        return [t for x in obj for t in _tensors(x)]
    return [] if obj is None else [obj]


def _session(data):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def check(model, args, names, dynamic_axes=None, others=(), atol=1e-5, **kwargs):
    """Export, check, and compare onnxruntime with xpnet on ``args`` and each of ``others``."""
    buffer = io.BytesIO()
    proto = export(model, args, buffer, input_names=names, dynamic_axes=dynamic_axes, **kwargs)
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()), full_check=True)
    session = _session(buffer.getvalue())
    model.eval()
    for inputs in (args, *others):
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        feeds = {n: t.numpy() for n, t in zip(names, _tensors(inputs))}
        got = session.run(None, feeds)
        want = _tensors(model(*inputs))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            w = w.numpy()
            assert g.shape == w.shape
            scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
            np.testing.assert_allclose(g, w, rtol=0, atol=atol * scale)
    return proto


def ops(proto):
    return [node.op_type for node in proto.graph.node]


def randn(*shape):
    return xpnet.randn(*shape)


# -- layers one by one -------------------------------------------------------------------------

SEQ = {"x": {0: "batch", 2: "length"}}
IMAGE = {"x": {0: "batch", 2: "height", 3: "width"}}
BATCH = {"x": {0: "batch"}}

LAYERS = [
    ("linear", lambda: nn.Linear(4, 3), (2, 4), BATCH, (5, 4)),
    ("linear-3d", lambda: nn.Linear(4, 3, bias=False), (2, 3, 4), {"x": [0, 1]}, (4, 5, 4)),
    ("conv1d", lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, groups=2), (2, 4, 9), SEQ,
     (3, 4, 12)),
    ("conv1d-same-dilated", lambda: nn.Conv1d(4, 6, 3, padding="same", dilation=2), (2, 4, 9),
     SEQ, (3, 4, 12)),
    ("conv1d-even-same", lambda: nn.Conv1d(4, 6, 4, padding="same"), (2, 4, 9), SEQ,
     (3, 4, 12)),
    ("conv1d-reflect", lambda: nn.Conv1d(4, 6, 3, padding=1, padding_mode="reflect"),
     (2, 4, 9), SEQ, (3, 4, 12)),
    ("conv1d-unbatched", lambda: nn.Conv1d(4, 6, 3), (4, 9), {"x": {1: "length"}}, (4, 12)),
    ("conv2d", lambda: nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(1, 0),
                                 dilation=(2, 1)), (2, 4, 9, 8), IMAGE, (3, 4, 7, 11)),
    ("conv2d-depthwise", lambda: nn.Conv2d(4, 4, 3, padding="same", groups=4, bias=False),
     (2, 4, 6, 6), IMAGE, (1, 4, 9, 5)),
    ("conv2d-replicate", lambda: nn.Conv2d(4, 6, 3, padding=(1, 2), padding_mode="replicate"),
     (2, 4, 6, 6), IMAGE, (1, 4, 9, 5)),
    ("maxpool1d", lambda: nn.MaxPool1d(3, 2, 1), (2, 3, 9), SEQ, (3, 3, 12)),
    ("maxpool1d-ceil-dilated", lambda: nn.MaxPool1d(2, 2, dilation=2, ceil_mode=True),
     (2, 3, 9), SEQ, (3, 3, 12)),
    ("maxpool2d", lambda: nn.MaxPool2d((2, 3), (1, 2), (1, 1)), (2, 3, 6, 7), IMAGE,
     (3, 3, 8, 9)),
    ("avgpool1d", lambda: nn.AvgPool1d(3, 2, 1), (2, 3, 9), SEQ, (3, 3, 12)),
    ("avgpool1d-exclude-pad", lambda: nn.AvgPool1d(3, 2, 1, count_include_pad=False),
     (2, 3, 9), SEQ, (3, 3, 12)),
    ("avgpool2d-divisor", lambda: nn.AvgPool2d(2, divisor_override=3), (2, 3, 6, 7), IMAGE,
     (3, 3, 8, 9)),
    ("avgpool2d-exclude-pad", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     (2, 3, 6, 7), IMAGE, (3, 3, 8, 9)),
    ("adaptive-avgpool1d-global", lambda: nn.AdaptiveAvgPool1d(1), (2, 3, 9), SEQ, (3, 3, 5)),
    ("adaptive-avgpool1d", lambda: nn.AdaptiveAvgPool1d(4), (2, 3, 9), BATCH, (3, 3, 9)),
    ("adaptive-avgpool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 5, 7), BATCH,
     (3, 3, 5, 7)),
    ("adaptive-avgpool2d-global", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 7), IMAGE,
     (3, 3, 6, 4)),
    ("layernorm", lambda: nn.LayerNorm(6), (2, 3, 6), {"x": [0, 1]}, (4, 5, 6)),
    ("layernorm-2d-no-affine", lambda: nn.LayerNorm((3, 6), elementwise_affine=False),
     (2, 3, 6), BATCH, (4, 3, 6)),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), (2, 4, 5, 5), IMAGE, (3, 4, 7, 4)),
    ("batchnorm1d-nc-no-stats", lambda: nn.BatchNorm1d(4, track_running_stats=False), (5, 4),
     BATCH, (7, 4)),
    ("relu", lambda: nn.ReLU(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("leaky-relu", lambda: nn.LeakyReLU(0.2), (2, 4, 3), SEQ, (3, 4, 5)),
    ("elu", lambda: nn.ELU(0.7), (2, 4, 3), SEQ, (3, 4, 5)),
    ("gelu", lambda: nn.GELU(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("gelu-tanh", lambda: nn.GELU("tanh"), (2, 4, 3), SEQ, (3, 4, 5)),
    ("sigmoid", lambda: nn.Sigmoid(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("tanh", lambda: nn.Tanh(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("softmax", lambda: nn.Softmax(dim=1), (2, 4, 3), SEQ, (3, 4, 5)),
    ("log-softmax", lambda: nn.LogSoftmax(dim=-1), (2, 4, 3), SEQ, (3, 4, 5)),
    ("softplus", lambda: nn.Softplus(beta=2, threshold=3), (2, 4, 3), SEQ, (3, 4, 5)),
    ("prelu", lambda: nn.PReLU(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("prelu-channels", lambda: nn.PReLU(4, init=0.1), (2, 4, 3), SEQ, (3, 4, 5)),
    ("rrelu-eval", lambda: nn.RReLU(), (2, 4, 3), SEQ, (3, 4, 5)),
    ("dropout-identity-flatten", lambda: nn.Sequential(nn.Dropout(0.5), nn.Identity(),
                                                       nn.Dropout2d(0.3), nn.Flatten(1, 2)),
     (2, 3, 4, 5), {"x": {0: "batch", 3: "width"}}, (3, 3, 4, 6)),
]


@pytest.mark.parametrize("build, shape, dynamic_axes, other", [case[1:] for case in LAYERS],
                         ids=[case[0] for case in LAYERS])
def test_layer_matches_xpnet(build, shape, dynamic_axes, other):
    check(build(), randn(*shape) * 3, ["x"], dynamic_axes, others=(randn(*other) * 3,))


def layer(name, *args, **kwargs):
    """``nn.<name>(*args, **kwargs)``; layers of issue 12 that may not be in this checkout are
    skipped."""
    cls = getattr(nn, name, None)
    if cls is None:
        pytest.skip(f"xpnet.nn has no {name} yet")
    return cls(*args, **kwargs)


MORE_LAYERS = [
    ("silu", ("SiLU",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("mish", ("Mish",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("hardtanh", ("Hardtanh", -0.5, 2.0), (2, 4, 3), SEQ, (3, 4, 5)),
    ("relu6", ("ReLU6",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("hardswish", ("Hardswish",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("hardsigmoid", ("Hardsigmoid",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("logsigmoid", ("LogSigmoid",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("softsign", ("Softsign",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("tanhshrink", ("Tanhshrink",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("selu", ("SELU",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("celu", ("CELU", 0.5), (2, 4, 3), SEQ, (3, 4, 5)),
    ("threshold", ("Threshold", 0.1, 20.0), (2, 4, 3), SEQ, (3, 4, 5)),
    ("hardshrink", ("Hardshrink",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("softshrink", ("Softshrink",), (2, 4, 3), SEQ, (3, 4, 5)),
    ("glu", ("GLU", 1), (2, 4, 3), SEQ, (3, 4, 5)),
    ("instancenorm1d", ("InstanceNorm1d", 4), (2, 4, 6), SEQ, (3, 4, 9)),
    ("instancenorm2d-affine", ("InstanceNorm2d", 4, 1e-5, 0.1, True), (2, 4, 5, 6), IMAGE,
     (3, 4, 7, 3)),
    ("conv-transpose1d", ("ConvTranspose1d", 4, 6, 3, 2, 1, 1), (2, 4, 5), SEQ, (3, 4, 8)),
    ("conv-transpose2d", ("ConvTranspose2d", 4, 6, (3, 2), (2, 1), (1, 0), 0, 2, True,
                          (1, 2)), (2, 4, 5, 6), IMAGE, (3, 4, 7, 4)),
    ("upsample-nearest", ("Upsample", None, 2), (2, 3, 4, 6), IMAGE, (3, 3, 6, 8)),
    ("upsample-bilinear", ("Upsample", None, (2, 3), "bilinear"), (2, 3, 4, 6), IMAGE,
     (3, 3, 6, 8)),
    ("upsample-bilinear-corners", ("Upsample", None, 2, "bilinear", True), (2, 3, 4, 6), IMAGE,
     (3, 3, 6, 8)),
    ("upsample-bicubic", ("Upsample", None, 2, "bicubic"), (2, 3, 4, 6), IMAGE, (3, 3, 6, 8)),
    ("upsample-size", ("Upsample", (7, 5)), (2, 3, 4, 6), BATCH, (3, 3, 4, 6)),
    ("upsample-linear", ("Upsample", None, 2, "linear"), (2, 3, 5), SEQ, (3, 3, 7)),
    ("pixel-shuffle", ("PixelShuffle", 2), (2, 8, 3, 4), IMAGE, (3, 8, 5, 2)),
    ("pixel-unshuffle", ("PixelUnshuffle", 2), (2, 2, 4, 6), IMAGE, (3, 2, 6, 2)),
    ("zeropad2d", ("ZeroPad2d", (1, 2, 0, 1)), (2, 3, 4, 5), IMAGE, (3, 3, 6, 2)),
    ("reflectionpad1d", ("ReflectionPad1d", (2, 1)), (2, 3, 5), SEQ, (3, 3, 7)),
    ("replicationpad2d", ("ReplicationPad2d", (1, 0, 2, 1)), (2, 3, 4, 5), IMAGE,
     (3, 3, 6, 2)),
    ("adaptive-maxpool1d-global", ("AdaptiveMaxPool1d", 1), (2, 3, 7), SEQ, (3, 3, 9)),
    ("adaptive-maxpool2d", ("AdaptiveMaxPool2d", (2, 3)), (2, 3, 7, 8), BATCH, (3, 3, 7, 8)),
    ("unflatten", ("Unflatten", 1, (2, 3)), (2, 6, 4), SEQ, (3, 6, 5)),
]


@pytest.mark.parametrize("spec, shape, dynamic_axes, other", [c[1:] for c in MORE_LAYERS],
                         ids=[c[0] for c in MORE_LAYERS])
def test_issue_12_layers_match_xpnet(spec, shape, dynamic_axes, other):
    module = layer(*spec)
    if getattr(module, "affine", False):
        module.weight.data.normal_()
        module.bias.data.normal_()
    check(module, randn(*shape) * 3, ["x"], dynamic_axes, others=(randn(*other) * 3,))


@pytest.mark.parametrize("name, args", [("Bilinear", (3, 4, 5)), ("CosineSimilarity", ()),
                                        ("PairwiseDistance", ())])
def test_two_input_layers(name, args):
    module = layer(name, *args)
    width = 4 if name == "Bilinear" else 3
    check(module, (randn(2, 3), randn(2, width)), ["a", "b"], {"a": [0], "b": [0]},
          others=((randn(5, 3), randn(5, width)),))


def test_batchnorm_uses_running_statistics_in_eval_mode():
    bn1, bn2 = nn.BatchNorm1d(4), nn.BatchNorm2d(3)
    for bn, shape in ((bn1, (8, 4)), (bn2, (6, 3, 4, 4))):
        bn(randn(*shape) * 2 + 1)  # training step: the running statistics move
        bn.weight.data.normal_()
    proto = check(bn1, randn(2, 4), ["x"], BATCH, others=(randn(5, 4),))
    assert "BatchNormalization" in ops(proto)
    check(bn1, randn(2, 4, 6), ["x"], SEQ, others=(randn(5, 4, 3),))
    check(bn2, randn(2, 3, 5, 5), ["x"], IMAGE, others=(randn(1, 3, 6, 4),))


def test_embedding_gathers_the_looked_up_rows():
    proto = check(nn.Embedding(10, 3, padding_idx=0), xpnet.randint(0, 10, (2, 3)), ["x"],
                  {"x": [0, 1]}, others=(xpnet.randint(0, 10, (4, 5)),))
    assert ops(proto)[0] == "Gather"


@pytest.mark.parametrize("opset", [14, 17, 20])
def test_layers_whose_onnx_op_needs_a_newer_opset_are_written_out_before(opset):
    """GELU is ONNX's Gelu from opset 20 and LayerNorm its LayerNormalization from 17;
    before that, their formulas."""
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.LayerNorm(6), nn.GELU("tanh"))
    proto = check(model, randn(2, 4), ["x"], BATCH, others=(randn(3, 4),), opset_version=opset)
    assert ("Gelu" in ops(proto)) == (opset >= 20)
    assert ("LayerNormalization" in ops(proto)) == (opset >= 17)
    assert proto.opset_import[0].version == opset


def test_circular_padding_needs_opset_19():
    conv = nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular")
    with pytest.raises(ExportError, match=r"pad\(mode='circular'\).*opset_version=19"):
        export(conv, randn(1, 2, 5), io.BytesIO())
    check(conv, randn(2, 2, 5), ["x"], SEQ, others=(randn(3, 2, 8),), opset_version=19)


# -- recurrent layers ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, options", [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("GRU", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bias": False}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
], ids=["rnn", "rnn-relu-2", "gru-bi-2", "gru-nobias", "lstm", "lstm-bi-2-batch-first"])
def test_recurrent_layers_become_onnx_recurrent_ops(kind, options):
    layer = getattr(nn, kind)(5, 7, **options)
    axes = {0: "batch", 1: "time"} if options.get("batch_first") else {0: "time", 1: "batch"}
    shape = (2, 4, 5) if options.get("batch_first") else (4, 2, 5)
    other = (3, 6, 5) if options.get("batch_first") else (6, 3, 5)
    proto = check(layer, randn(*shape), ["x"], {"x": axes}, others=(randn(*other),))
    assert ops(proto).count(kind) == options.get("num_layers", 1)


def test_lstm_with_given_states_and_unbatched_input():
    lstm = nn.LSTM(5, 7, num_layers=2)
    states = (randn(2, 2, 7), randn(2, 2, 7))
    check(lstm, (randn(4, 2, 5), states), ["x", "h0", "c0"],
          {"x": {0: "time", 1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}},
          others=((randn(6, 3, 5), (randn(2, 3, 7), randn(2, 3, 7))),))
    gru = nn.GRU(5, 7)
    check(gru, randn(4, 5), ["x"], {"x": {0: "time"}}, others=(randn(6, 5),))


class Unrolled(nn.Module):
    """A cell stepped over the sequence in Python (unrolled for the example's length)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        state, outputs = None, []
        for t in range(x.size(1)):
            state = self.cell(x[:, t], state)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return xpnet.stack(outputs, 1)


@pytest.mark.parametrize("kind, options", [("RNNCell", {"nonlinearity": "relu"}),
                                           ("GRUCell", {}), ("LSTMCell", {"bias": False})])
def test_cells_unrolled_in_a_loop(kind, options):
    model = Unrolled(getattr(nn, kind)(3, 4, **options))
    check(model, randn(2, 5, 3), ["x"], BATCH, others=(randn(4, 5, 3),))
    # One unbatched step from a given state.
    state = (randn(4), randn(4)) if kind == "LSTMCell" else randn(4)
    names = ["x", "h", "c"] if kind == "LSTMCell" else ["x", "h"]
    check(getattr(nn, kind)(3, 4), (randn(3), state), names)


# -- attention -----------------------------------------------------------------------------------

class SelfAttention(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.attention = attention

    def forward(self, x, mask=None):
        return self.attention(x, x, x, attn_mask=mask)


def test_multihead_self_attention_with_weights():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    proto = check(SelfAttention(mha), randn(2, 5, 8), ["x"], {"x": [0, 1]},
                  others=(randn(3, 7, 8),))
    assert "Softmax" in ops(proto)


def test_multihead_attention_with_masks_bias_kv_zero_attn_and_kdim():
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=5)

    class Cross(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, q, k, v, padding, mask):
            return self.mha(q, k, v, key_padding_mask=padding, attn_mask=mask,
                            average_attn_weights=False)

    padding = xpnet.tensor([[False, False, False, True], [False, False, False, False]])
    padding3 = xpnet.tensor([[False] * 6, [False] * 4 + [True] * 2, [True] + [False] * 5])
    mask = randn(5, 4).gt(1.0)
    axes = {"q": {0: "L", 1: "N"}, "k": {0: "S", 1: "N"}, "v": {0: "S", 1: "N"},
            "padding": {0: "N", 1: "S"}, "mask": {0: "L", 1: "S"}}
    check(Cross(), (randn(5, 2, 8), randn(4, 2, 6), randn(4, 2, 5), padding, mask),
          ["q", "k", "v", "padding", "mask"], axes,
          others=((randn(3, 3, 8), randn(6, 3, 6), randn(6, 3, 5), padding3,
                   randn(3, 6).gt(1.0)),))


def test_scaled_dot_product_attention_causal_and_masked():
    class Attend(nn.Module):
        def forward(self, q, k, v):
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return a + F.scaled_dot_product_attention(q, k, v, attn_mask=q.sum(-1, True) > 0)

    axes = {n: {0: "batch", 2: "time"} for n in "qkv"}
    check(Attend(), (randn(2, 2, 5, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 3)), list("qkv"),
          axes, others=((randn(3, 2, 6, 4), randn(3, 2, 6, 4), randn(3, 2, 6, 3)),))


def test_transformer_encoder_decoder():
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=16, activation="gelu", norm_first=True)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = model

        def forward(self, src, tgt):
            mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(0))
            return self.transformer(src, tgt, tgt_mask=mask)

    axes = {"src": {0: "S", 1: "N"}, "tgt": {0: "T", 1: "N"}}
    check(Seq2Seq(), (randn(5, 2, 8), randn(4, 2, 8)), ["src", "tgt"], axes,
          others=((randn(6, 3, 8), randn(7, 3, 8)),))


# -- composite models ----------------------------------------------------------------------------

def test_mlp():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(),
                          nn.Linear(8, 2))
    proto = check(model, randn(3, 4), ["x"], BATCH, others=(randn(7, 4),))
    assert ops(proto) == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm", "Identity"]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_cnn_with_batchnorm_pooling_and_dropout():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2), nn.Dropout(0.3),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))
    model(randn(4, 3, 16, 16))  # moves the running statistics
    check(model, randn(2, 3, 16, 16), ["x"], IMAGE, others=(randn(3, 3, 20, 24),))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, batch_first=True, bidirectional=True)
        self.out = nn.Linear(12, 4)

    def forward(self, tokens):
        hidden, _ = self.lstm(self.embedding(tokens))
        return F.log_softmax(self.out(hidden), dim=-1)


def test_lstm_tagger_with_embedding():
    check(Tagger(), xpnet.randint(0, 20, (2, 5)), ["tokens"], {"tokens": {0: "batch", 1: "time"}},
          others=(xpnet.randint(0, 20, (3, 9)),))


def test_bidirectional_two_layer_gru_classifier():
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(5, 6, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Linear(12, 3)

        def forward(self, x):
            out, h_n = self.gru(x)
            return self.head(out[:, -1, :]), h_n

    check(Classifier(), randn(2, 4, 5), ["x"], {"x": {0: "batch", 1: "time"}},
          others=(randn(3, 7, 5),))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = xpnet.arange(0, max_len, dtype=xpnet.float32).unsqueeze(1)
        div_term = xpnet.exp(xpnet.arange(0, d_model, 2).float() * (-math.log(1e4) / d_model))
        pe = xpnet.cat([xpnet.sin(position * div_term), xpnet.cos(position * div_term)], dim=1)
        self.register_buffer("pe", pe.unsqueeze(1))

    def forward(self, x):
        return x + self.pe[:x.size(0)]


class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(30, 16)
        self.position = PositionalEncoding(16)
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16))
        self.head = nn.Linear(16, 3)

    def forward(self, tokens, padding):
        h = self.position(self.embedding(tokens) * math.sqrt(16))
        h = self.encoder(h, src_key_padding_mask=padding)
        return self.head(h.mean(dim=0))


def test_transformer_encoder_classifier_with_padding_mask():
    padding = xpnet.zeros(2, 5, dtype=xpnet.bool)
    padding3 = xpnet.arange(9).unsqueeze(0) >= xpnet.tensor([[9], [6], [3]])
    axes = {"tokens": {0: "time", 1: "batch"}, "padding": {0: "batch", 1: "time"}}
    check(TransformerClassifier(), (xpnet.randint(0, 30, (5, 2)), padding),
          ["tokens", "padding"], axes, others=((xpnet.randint(0, 30, (9, 3)), padding3),))


def test_transformer_language_model_with_causal_mask_made_in_forward():
    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(20, 8)
            self.position = PositionalEncoding(8)
            self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
            self.decoder = nn.Linear(8, 20)

        def forward(self, src):
            size = src.size(0)
            mask = xpnet.triu(xpnet.full((size, size), float("-inf")), diagonal=1)
            h = self.encoder(self.position(self.embedding(src)), mask)
            return F.log_softmax(self.decoder(h), dim=-1)

    proto = check(LanguageModel(), xpnet.randint(0, 20, (6, 2)), ["src"],
                  {"src": {0: "time", 1: "batch"}}, others=(xpnet.randint(0, 20, (9, 3)),))
    assert "Trilu" in ops(proto)


class Custom(nn.Module):
    """view / flatten / cat / transpose / indexing / arithmetic between layers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding=1)
        self.side = nn.Linear(4, 6)
        self.fc = nn.Linear(12, 3)
        self.gru = nn.GRU(3, 5, batch_first=True)

    def forward(self, x, y):
        h = F.relu(self.conv(x)).transpose(1, 2)           # (B, L, 6)
        b, length, _ = h.shape
        h = xpnet.cat([h, self.side(y) * 2 + 1], dim=-1)    # (B, L, 12)
        out = self.fc(h.view(b * length, -1)).view(b, length, 3)
        out = out - out.mean(1, keepdim=True)
        state = xpnet.zeros(1, x.size(0), 5)
        seq, _ = self.gru(out, state)
        last = xpnet.sigmoid(seq[:, -1]) / (1 + seq[:, 1:].abs().sum(1))
        return xpnet.flatten(out, 1), last, h.reshape(b, -1, 4, 3).permute(0, 2, 1, 3)


def test_custom_module_with_ops_between_layers():
    axes = {"x": {0: "batch", 2: "length"}, "y": {0: "batch", 1: "length"}}
    check(Custom(), (randn(2, 4, 5), randn(2, 5, 4)), ["x", "y"], axes,
          others=((randn(3, 4, 7), randn(3, 7, 4)),))


def test_moduledict_and_modulelist_in_a_custom_forward():
    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)})

        def forward(self, x):
            for block in self.blocks:
                x = x + F.gelu(block(x))
            return xpnet.stack([self.heads["a"](x), self.heads["b"](x)], dim=1)

    check(Branches(), randn(2, 4), ["x"], BATCH, others=(randn(5, 4),))


OPS = {
    "astype-bitwise": lambda x, m: (x > 0).float() + (m & (x[..., :1] > 0)).long() * 2.0
    + (m | (x[..., :1] < 0)).to(xpnet.float32),
    "max-min-with-indices": lambda x, m: (x.max(dim=1)[0], x.max(1).indices,
                                          xpnet.min(x, 1, keepdim=True).values),
    "argmax-any-all-isfinite": lambda x, m: (x.argmax(), x.argmin(dim=0, keepdim=True),
                                             (x > 0).any(dim=1), (x > 0).all(),
                                             xpnet.isfinite(x), x.amax(dim=1)),
    "masked-fill-where": lambda x, m: x.masked_fill(m, -1e9) + xpnet.where(x > 0, x, 0.0),
    "gather-topk-one-hot": lambda x, m: (xpnet.gather(x, 2, x.argmax(-1, keepdim=True)),
                                         x.topk(2, dim=-1).values,
                                         F.one_hot(x.argmax(-1), 5)),
    "cumsum-roll-flip": lambda x, m: x.cumsum(1) + x.roll(-1) + x.roll((1, 2), (1, 2))
    + x.flip(1),
    "matmul-einsum-bmm": lambda x, m: (x @ x.mT, xpnet.einsum("bij,bkj->bik", x, x),
                                       xpnet.bmm(x, x.transpose(1, 2))),
    "repeat-tile-expand": lambda x, m: (x.repeat(1, 2, 1), x.tile((2, 1, 1)),
                                        x[:, :1].expand(-1, 4, -1)),
    "reductions": lambda x, m: (x.sum(-1), x.mean((1, 2), keepdim=True), x.std(-1),
                                x.var(1), F.normalize(x, dim=-1), x.logsumexp(1)),
    "indexing": lambda x, m: (x[:, -2:, ::2], x[..., None, 1], x[:, 1:-1], x.narrow(2, 1, 2),
                              x[:, xpnet.tensor([0, 2])]),
    "floor-divide-remainder": lambda x, m: (x // 0.7, x % 0.7, xpnet.fmod(x, 0.7),
                                            (x * 10).long() // 3, (x * 10).long() % -3),
    "math": lambda x, m: ((x.abs() + 1).sqrt() ** 3 + xpnet.rsqrt(x.abs() + 1),
                          x.clamp(-0.5, 0.5) + x.clamp(min=0), x.sigmoid() * x.tanh(),
                          xpnet.maximum(x, xpnet.zeros(1)), xpnet.log1p(x.abs()),
                          x.floor() + x.ceil() + x.round(), x.exp2(), x.sign()),
}


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_ops_between_layers(op):
    class Wrap(nn.Module):
        def forward(self, x, m):
            return op(x, m)

    check(Wrap(), (randn(2, 4, 5), randn(2, 4, 1) > 0), ["x", "m"], {"x": [0, 1], "m": [0, 1]},
          others=((randn(3, 6, 5), randn(3, 6, 1) > 0),))


def test_a_reshape_seen_only_by_its_primitive_finds_the_dynamic_sizes():
    from xpnet.ops.shape import Reshape

    class Merge(nn.Module):
        def forward(self, x):
            b, t, c = (int(n) for n in x.shape)  # plain ints: the primitive sees numbers only
            return Reshape.apply(x, (b * t, c)) * 2

    check(Merge(), randn(2, 3, 4), ["x"], {"x": [0, 1]}, others=(randn(5, 7, 4),))


def test_an_ambiguous_reshape_says_how_to_fix_it():
    from xpnet.ops.shape import Reshape

    class Split(nn.Module):
        def forward(self, x):
            merged = x.reshape(-1, x.size(2))  # (batch * time, 4)
            return Reshape.apply(merged, (2, 2, 4))  # batch and time are both 2 here

    with pytest.raises(ExportError, match="cannot tell which axes of a reshape"):
        export(Split(), randn(2, 2, 4), None, input_names=["x"], dynamic_axes={"x": [0, 1]})


def test_values_turned_into_python_numbers_are_constants_and_say_so():
    class Length(nn.Module):
        def forward(self, x):
            return x * len(x) + x.sum().item()

    with pytest.warns(UserWarning, match=r"len\(\) of a tensor computed from the inputs .* "
                                         r"use x.size\(0\)"):
        with pytest.warns(UserWarning, match=r"Tensor.item\(\) of a tensor computed"):
            export(Length(), randn(3, 2), None, input_names=["x"], dynamic_axes=BATCH)


def test_is_in_onnx_export():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(xpnet.onnx.is_in_onnx_export())
            return x + 1

    export(Probe(), randn(2), None)
    assert seen == [True] and not xpnet.onnx.is_in_onnx_export()


@pytest.mark.parametrize("opset", [11, 13])
def test_older_opsets(opset):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Upsample(scale_factor=2, mode="bilinear"), nn.GroupNorm(2, 4),
                          nn.Softmax(dim=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    check(model, randn(2, 3, 4, 4), ["x"], IMAGE, others=(randn(3, 3, 5, 6),),
          opset_version=opset)
    check(TransformerClassifier(), (xpnet.randint(0, 30, (5, 2)), xpnet.zeros(2, 5, dtype="bool")),
          ["tokens", "padding"], {"tokens": [0, 1], "padding": [0, 1]},
          others=((xpnet.randint(0, 30, (7, 3)), xpnet.zeros(3, 7, dtype="bool")),),
          opset_version=opset)
    check(Tagger(), xpnet.randint(0, 20, (2, 5)), ["tokens"], {"tokens": [0, 1]},
          others=(xpnet.randint(0, 20, (3, 9)),), opset_version=opset)


@pytest.mark.parametrize("dtype", ["float64"])
def test_float64_models(dtype):
    model = nn.Sequential(nn.Linear(3, 4), nn.ELU(), nn.LayerNorm(4)).to(dtype=xpnet.float64)
    proto = check(model, randn(2, 3).double(), ["x"], BATCH, others=(randn(4, 3).double(),))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_export_from_every_backend(backend):
    model = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(20, 2))
    rnn = nn.GRU(3, 4, bidirectional=True)
    for m, shape, axes in ((model, (2, 3, 5), BATCH), (rnn, (5, 2, 3), {"x": [0, 1]})):
        buffer = io.BytesIO()
        x = randn(*shape)
        export(m, x, buffer, input_names=["x"], dynamic_axes=axes)
        got = _session(buffer.getvalue()).run(None, {"x": x.numpy()})
        m.eval()
        for g, w in zip(got, _tensors(m(x))):
            np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=1e-5)


# -- the API -------------------------------------------------------------------------------------

def test_export_to_a_path_with_default_names(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, features, bias=None):
            return self.fc(features) + (0 if bias is None else bias)

    path = tmp_path / "net.onnx"
    proto = export(Net(), (randn(2, 3), {"bias": randn(2)}), str(path))
    loaded = onnx.load(str(path))
    assert loaded == proto
    assert [i.name for i in loaded.graph.input] == ["features", "bias"]
    assert [o.name for o in loaded.graph.output] == ["output"]
    assert [p.name for p in loaded.graph.initializer][:2] == ["fc.weight", "fc.bias"]


def test_export_params_false_makes_weights_inputs_and_keep_initializers_as_inputs():
    model = nn.Sequential(nn.Linear(3, 2))
    proto = export(model, randn(1, 3), None, export_params=False)
    assert not proto.graph.initializer
    assert [i.name for i in proto.graph.input] == ["x", "0.weight", "0.bias"]
    proto = export(model, randn(1, 3), None, keep_initializers_as_inputs=True)
    assert len(proto.graph.initializer) == 2 and len(proto.graph.input) == 3


def test_list_dynamic_axes_get_torch_style_names_and_outputs_can_be_named():
    proto = export(nn.Linear(3, 2), randn(4, 3), None, input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": [0], "y": {0: "rows"}})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dynamic_axes_1"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "rows"


def test_verbose_prints_the_graph(capsys):
    export(nn.ReLU(), randn(2), None, verbose=True)
    assert "Relu" in capsys.readouterr().out


def test_the_model_keeps_its_mode_and_state():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
    model.train()
    before = model[1].running_mean.numpy().copy()
    export(model, randn(4, 3), None)
    assert model.training and model[2].training
    np.testing.assert_array_equal(model[1].running_mean.numpy(), before)


def test_xpnet_is_unchanged_after_an_export_even_a_failed_one():
    from xpnet.autograd.function import Function
    from xpnet.autograd.tensor import Tensor
    saved = (nn.Module.__call__, Function.__dict__["apply"], Tensor.__dict__["shape"],
             Tensor.__dict__["size"], xpnet.ops.reshape, xpnet.zeros, Tensor.flatten)
    export(Custom(), (randn(2, 4, 5), randn(2, 5, 4)), None)
    with pytest.raises(ExportError):
        export(nn.EmbeddingBag(5, 2), xpnet.tensor([[1, 2]]), None)
    now = (nn.Module.__call__, Function.__dict__["apply"], Tensor.__dict__["shape"],
           Tensor.__dict__["size"], xpnet.ops.reshape, xpnet.zeros, Tensor.flatten)
    assert all(a is b for a, b in zip(saved, now))
    assert type(randn(2, 3).size(0)) is int


# -- errors --------------------------------------------------------------------------------------

def test_an_unsupported_layer_is_named():
    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.loss = nn.MSELoss()

        def forward(self, x):
            return self.loss(self.fc(x), x)

    with pytest.raises(ExportError, match=r"no exporter for layer MSELoss .* at 'loss'"):
        export(WithLoss(), randn(2, 3), io.BytesIO())
    with pytest.raises(ExportError, match="no exporter for layer EmbeddingBag"):
        export(nn.EmbeddingBag(10, 3), xpnet.tensor([[1, 2]]), io.BytesIO())


def test_an_unsupported_op_is_named_with_its_layer():
    class Running(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(CumProd())

        def forward(self, x):
            return self.inner(x)

    class CumProd(nn.Module):
        def forward(self, x):
            return xpnet.cumprod(x, 0)

    with pytest.raises(ExportError, match=r"no exporter for the op CumProd .*'inner\.0'"):
        export(Running(), randn(2, 3), io.BytesIO())


def test_max_norm_embedding_and_adaptive_pooling_of_a_dynamic_axis_are_refused():
    with pytest.raises(ExportError, match="max_norm"):
        export(nn.Embedding(5, 2, max_norm=1.0), xpnet.tensor([1, 2]), None)
    with pytest.raises(ExportError, match="adaptive average pooling .* dynamic axis 2"):
        export(nn.AdaptiveAvgPool1d(3), randn(1, 2, 9), None, input_names=["x"],
               dynamic_axes=SEQ)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"opset_version": 9}, ValueError, r"opset_version must be in \[11, "),
    ({"opset_version": "18"}, TypeError, "opset_version must be an int"),
    ({"dynamic_axes": {"nope": [0]}}, ValueError, "dynamic_axes names .'nope'. are neither"),
    ({"dynamic_axes": {"x": [3]}}, ValueError, r"names axis 3, but the input has shape"),
    ({"dynamic_axes": {"x": {0: 1}}}, TypeError, "must be a str name"),
    ({"input_names": ["a", "b"]}, ValueError, "2 input_names for 1 input tensors"),
    ({"output_names": ["x"]}, ValueError, "output names must be distinct"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        export(nn.Linear(2, 2), randn(1, 2), io.BytesIO(), **kwargs)


def test_bad_model_args_and_file():
    with pytest.raises(TypeError, match="model must be an xpnet.nn.Module"):
        export(lambda x: x, randn(1), None)
    with pytest.raises(TypeError, match="args must be a Tensor or a tuple"):
        export(nn.ReLU(), 3.0, None)
    with pytest.raises(TypeError, match="f must be a path or a binary file object"):
        export(nn.ReLU(), randn(2), 42)
    x = randn(2, 3)
    with pytest.raises(ValueError, match="same tensor is passed as the inputs"):
        export(nn.MultiheadAttention(3, 1), (x, x, x), None)


def test_without_onnx_the_package_imports_and_export_says_what_to_install():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import xpnet, xpnet.onnx\n"
            "try:\n"
            "    xpnet.onnx.export(xpnet.nn.ReLU(), xpnet.randn(2), None)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pip install 'xpnet[onnx]'" in result.stdout


@pytest.mark.parametrize("opset", [13, 17])
def test_layer_norm_called_as_a_function_in_a_custom_forward(opset):
    class Normed(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(xpnet.randn(3, 4))
            self.bias = nn.Parameter(xpnet.randn(3, 4))

        def forward(self, x):
            y = nn.functional.layer_norm(x, (3, 4), self.weight, self.bias, eps=1e-3)
            return nn.functional.layer_norm(y * 2, (4,))

    proto = check(Normed(), randn(2, 3, 4), ["x"], {"x": {0: "batch"}}, opset_version=opset,
                  others=(randn(5, 3, 4),))
    assert ("LayerNormalization" in ops(proto)) == (opset >= 17)
