"""Bad input to layers, init functions, containers, data utilities and a few ops (issue 14).

Each error has the exception type torch raises (or, where torch raises RuntimeError or an
AssertionError, the issue's rule: TypeError for a wrong type, ValueError for a wrong value) and
a message naming the call the user made, the parameter and the value that came.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import xpnet
import xpnet.functional as F
from xpnet import nn
from xpnet.data import DataLoader, TensorDataset, WeightedRandomSampler, random_split
from xpnet.nn import init

torch = pytest.importorskip("torch")


def _raises_like_torch(make_xpnet, make_torch, error, match):
    """xpnet raises ``error`` with ``match``; torch raises ``error`` too."""
    with pytest.raises(error, match=match):
        make_xpnet()
    with pytest.raises(error):
        make_torch()


# -- 1. int hyper-parameters: TypeError for a non-int, ValueError for a bad int --------------------

INT_TYPES = [
    (lambda m: m.Linear(2.5, 3), r"^Linear: in_features must be a non-negative int, got "
                                 r"float 2\.5$"),
    (lambda m: m.Linear("2", 3), r"^Linear: in_features must be .*, got str '2'$"),
    (lambda m: m.Linear(2, None), r"^Linear: out_features must be .*, got NoneType None$"),
    (lambda m: m.Bilinear(2, 2.5, 3), r"^Bilinear: in2_features must be .*, got float 2\.5$"),
    (lambda m: m.Embedding(2.5, 3), r"^Embedding: num_embeddings must be a positive int, got "
                                    r"float 2\.5$"),
    (lambda m: m.EmbeddingBag(4, 2.5), r"^EmbeddingBag: embedding_dim must be .*, got float"),
    (lambda m: m.RNN(4, 8, num_layers=1.5), r"^RNN: num_layers must be a positive int, got "
                                            r"float 1\.5$"),
    (lambda m: m.LSTM(4, 8, num_layers=1.5), r"^LSTM: num_layers must be .*, got float 1\.5$"),
    (lambda m: m.GRU(4, 8, num_layers=1.5), r"^GRU: num_layers must be .*, got float 1\.5$"),
    (lambda m: m.LSTM(4.5, 8), r"^LSTM: input_size must be .*, got float 4\.5$"),
    (lambda m: m.GRU(4, 8.0), r"^GRU: hidden_size must be .*, got float 8\.0$"),
    (lambda m: m.BatchNorm1d(2.5), r"^BatchNorm1d: num_features must be a positive int, got "
                                   r"float 2\.5$"),
    (lambda m: m.BatchNorm2d("a"), r"^BatchNorm2d: num_features must be .*, got str 'a'$"),
    (lambda m: m.GroupNorm(2, 4.0), r"^GroupNorm: num_channels must be .*, got float 4\.0$"),
    (lambda m: m.LayerNorm(2.5), r"^LayerNorm: normalized_shape must be an int or a tuple of "
                                 r"ints, got float 2\.5$"),
    (lambda m: m.MultiheadAttention(8.0, 2), r"^MultiheadAttention: embed_dim must be .*, got "
                                             r"float 8\.0$"),
    (lambda m: m.TransformerEncoderLayer(8, 2, dim_feedforward=2.5),
     r"^TransformerEncoderLayer: dim_feedforward must be .*, got float 2\.5$"),
]


@pytest.mark.parametrize("make, match", INT_TYPES)
def test_a_non_int_size_is_a_type_error(make, match):
    _raises_like_torch(lambda: make(nn), lambda: make(torch.nn), TypeError, match)


@pytest.mark.parametrize("make, match", [
    # torch: ValueError "in_channels must be divisible by groups"; the rule: TypeError.
    (lambda: nn.Conv2d(2.5, 3, 3), r"^Conv2d: in_channels must be a positive int, got float"),
    (lambda: nn.Conv1d(2, 3.5, 3), r"^Conv1d: out_channels must be .*, got float 3\.5$"),
    (lambda: nn.ConvTranspose2d(2, 4, 3, groups=1.5), r"^ConvTranspose2d: groups must be .*, "
                                                       r"got float 1\.5$"),
])
def test_a_non_int_conv_size_is_a_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Linear(-1, 3), r"^Linear: in_features must be a non-negative int, got -1$"),
    (lambda: nn.Embedding(0, 3), r"^Embedding: num_embeddings must be a positive int, got 0$"),
    (lambda: nn.LSTM(4, 8, num_layers=0), r"^LSTM: num_layers must be a positive int, got 0$"),
    (lambda: nn.BatchNorm1d(-1), r"^BatchNorm1d: num_features must be a positive int, got -1$"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), -1),
     r"^TransformerEncoder: num_layers must be a non-negative int, got -1$"),
])
def test_a_bad_int_size_is_a_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_numpy_ints_are_sizes_as_in_torch():
    layer = nn.Linear(np.int64(3), np.int32(2))
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert type(layer.in_features) is int
    assert torch.nn.Linear(np.int64(3), np.int32(2)).in_features == 3


def test_pooling_sizes_of_the_wrong_type_are_type_errors():
    with pytest.raises(TypeError, match=r"^max_pool2d: kernel_size must be a positive int or a "
                                        r"tuple of 2 such ints, got 2\.5$"):
        F.max_pool2d(xpnet.ones(1, 1, 4, 4), 2.5)
    with pytest.raises(ValueError, match=r"^max_pool2d: kernel_size must be .*, got 0$"):
        F.max_pool2d(xpnet.ones(1, 1, 4, 4), 0)
    with pytest.raises(TypeError, match=r"^adaptive_avg_pool2d: output_size must hold positive "
                                        r"ints"):
        F.adaptive_avg_pool2d(xpnet.ones(1, 1, 4, 4), (2, 1.5))
    with pytest.raises(TypeError, match=r"^group_norm: num_groups must be a positive int, got "
                                        r"float 1\.5$"):
        F.group_norm(xpnet.ones(2, 4, 3), 1.5)
    with pytest.raises(TypeError, match=r"^layer_norm: normalized_shape must be an int or a "
                                        r"non-empty tuple of ints, got float 2\.5$"):
        F.layer_norm(xpnet.ones(2, 3), 2.5)


def test_normalization_momentum_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match=r"^BatchNorm1d: momentum must be a number in \[0, 1\] or "
                                        r"None, got str 'a'$"):
        nn.BatchNorm1d(3, momentum="a")
    with pytest.raises(ValueError, match=r"^InstanceNorm1d: momentum must be in \[0, 1\] or None, "
                                         r"got 1\.5$"):
        nn.InstanceNorm1d(3, momentum=1.5)


# -- 2. LSTM's proj_size ---------------------------------------------------------------------------

def test_lstm_proj_size_negative_is_a_value_error_as_torch():
    _raises_like_torch(lambda: nn.LSTM(4, 8, proj_size=-1),
                       lambda: torch.nn.LSTM(4, 8, proj_size=-1), ValueError,
                       r"^LSTM: proj_size should be a positive integer or zero to disable "
                       r"projections, got -1$")


def test_lstm_proj_size_not_below_hidden_size_is_a_value_error_as_torch():
    _raises_like_torch(lambda: nn.LSTM(4, 8, proj_size=8),
                       lambda: torch.nn.LSTM(4, 8, proj_size=8), ValueError,
                       r"^LSTM: proj_size has to be smaller than hidden_size \(8\), got 8$")


def test_lstm_projections_are_not_implemented_and_say_so():
    with pytest.raises(NotImplementedError, match=r"^LSTM: proj_size=2 is not supported "
                                                  r"\(projections, proj_size > 0, are not "
                                                  r"implemented yet\)"):
        nn.LSTM(4, 8, proj_size=2)
    with pytest.raises(TypeError, match=r"^LSTM: proj_size must be an int .*, got float 2\.5$"):
        nn.LSTM(4, 8, proj_size=2.5)


# -- 3. nn.init ------------------------------------------------------------------------------------

def test_uniform_with_a_above_b_is_a_value_error():
    t = xpnet.zeros(2, 3)
    with pytest.raises(ValueError, match=r"^uniform_: expected a <= b, got a=1, b=0$"):
        init.uniform_(t, a=1, b=0)
    np.testing.assert_array_equal(t.numpy(), 0.0)  # nothing written
    with pytest.raises(RuntimeError):  # torch's type for it
        torch.nn.init.uniform_(torch.zeros(2, 3), a=1, b=0)
    init.uniform_(t, a=0.5, b=0.5)  # an empty interval's one point, as torch
    np.testing.assert_array_equal(t.numpy(), 0.5)


def test_normal_with_a_negative_std_is_a_value_error():
    t = xpnet.zeros(2, 3)
    with pytest.raises(ValueError, match=r"^normal_: std must be non-negative, got -1$"):
        init.normal_(t, std=-1)
    np.testing.assert_array_equal(t.numpy(), 0.0)
    with pytest.raises(RuntimeError):
        torch.nn.init.normal_(torch.zeros(2, 3), std=-1)
    np.testing.assert_array_equal(init.normal_(t, mean=2.0, std=0).numpy(), 2.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda t: init.uniform_(t, a="x"), TypeError, r"^uniform_: a must be a number, got str"),
    (lambda t: init.normal_(t, mean="x"), TypeError, r"^normal_: mean must be a number, got str"),
    (lambda t: init.constant_(t, "a"), TypeError, r"^constant_: val must be a number, got str "
                                                  r"'a'$"),
    (lambda t: init.xavier_uniform_(t, gain="a"), TypeError, r"^xavier_uniform_: gain must be a "
                                                             r"number, got str 'a'$"),
    (lambda t: init.xavier_normal_(t, gain=-1.0), ValueError, r"^xavier_normal_: gain must be "
                                                              r"non-negative, got -1\.0$"),
    (lambda t: init.orthogonal_(t, gain="a"), TypeError, r"^orthogonal_: gain must be a number"),
    (lambda t: init.sparse_(t, "a"), TypeError, r"^sparse_: sparsity must be a number, got str"),
    (lambda t: init.sparse_(t, 0.5, std=-1.0), ValueError, r"^sparse_: std must be non-negative"),
    (lambda t: init.trunc_normal_(t, a=2.0, b=-2.0), ValueError,
     r"^trunc_normal_: expected a <= b, got a=2\.0, b=-2\.0$"),
    (lambda t: init.kaiming_uniform_(t, mode="bogus"), ValueError,
     r"^kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got 'bogus'$"),
    (lambda t: init.kaiming_normal_(t, nonlinearity="bogus"), ValueError,
     r"^kaiming_normal_: unsupported nonlinearity 'bogus'; expected one of "),
    (lambda t: init.kaiming_uniform_(t, a="x"), ValueError,
     r"^kaiming_uniform_: negative_slope a='x' is not a number"),
    (lambda t: init.xavier_uniform_(t[0]), ValueError,
     r"^xavier_uniform_: fan in and fan out need a tensor of at least 2 dimensions, got shape "
     r"\(4,\)$"),
])
def test_init_functions_name_themselves_and_the_parameter(call, error, match):
    t = xpnet.zeros(3, 4)
    with pytest.raises(error, match=match):
        call(t)
    np.testing.assert_array_equal(t.numpy(), 0.0)


def test_constant_takes_a_one_element_tensor_as_torch():
    t = init.constant_(xpnet.zeros(2), xpnet.tensor(3.0))
    np.testing.assert_array_equal(t.numpy(), 3.0)
    with pytest.raises(ValueError, match=r"^constant_: val must be a number or a one-element "
                                         r"Tensor, got a Tensor of shape \(2,\)$"):
        init.constant_(xpnet.zeros(2), xpnet.ones(2))


# -- 4. dropout probabilities ----------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: nn.Dropout("a"), r"^Dropout: p must be a probability \(a number in \[0, 1\]\), got "
                              r"str 'a'$"),
    (lambda: nn.Dropout(None), r"^Dropout: p must be .*, got NoneType None$"),
    (lambda: nn.Dropout2d("a"), r"^Dropout2d: p must be .*, got str 'a'$"),
    (lambda: F.dropout(xpnet.ones(2), p="a"), r"^dropout: p must be .*, got str 'a'$"),
    (lambda: F.dropout2d(xpnet.ones(1, 2, 2, 2), p="a"), r"^dropout2d: p must be .*, got str"),
    (lambda: F.dropout("a"), r"^dropout: input must be a Tensor, got str$"),
    (lambda: nn.MultiheadAttention(8, 2, dropout="a"), r"^MultiheadAttention: dropout must be a "
                                                       r"probability in \[0, 1\], got str 'a'$"),
    (lambda: nn.TransformerEncoderLayer(8, 2, dropout="a"),
     r"^TransformerEncoderLayer: dropout must be a probability in \[0, 1\], got str 'a'$"),
    (lambda: F.scaled_dot_product_attention(xpnet.ones(1, 2, 4), xpnet.ones(1, 2, 4),
                                            xpnet.ones(1, 2, 4), dropout_p="a"),
     r"^scaled_dot_product_attention: dropout_p must be a probability in \[0, 1\], got str"),
])
def test_a_probability_that_is_not_a_number_is_a_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_dropout_string_is_a_type_error_in_torch_too():
    with pytest.raises(TypeError):
        torch.nn.Dropout("a")
    with pytest.raises(ValueError, match=re.escape("Dropout: p must be in [0, 1], got 1.5")):
        nn.Dropout(1.5)


# -- 5. transformer sizes --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerDecoderLayer",
                                  "Transformer"])
def test_transformer_heads_must_divide_d_model_and_the_error_names_the_layer(name):
    with pytest.raises(ValueError, match=rf"^{name}: d_model \(10\) must be divisible by nhead "
                                         rf"\(3\)$"):
        getattr(nn, name)(10, 3)
    with pytest.raises(AssertionError):  # torch: an assert in MultiheadAttention
        getattr(torch.nn, name)(10, 3)


def test_transformer_layer_counts_are_checked():
    with pytest.raises(TypeError, match=r"^Transformer: num_encoder_layers must be a "
                                        r"non-negative int, got float 1\.5$"):
        nn.Transformer(8, 2, num_encoder_layers=1.5)


# -- 6. containers and Parameter -------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda m: m.Sequential(1), r"^Sequential: argument 0 must be a Module \(or None\), got int$"),
    (lambda m: m.Sequential(m.ReLU(), "a"), r"^Sequential: argument 1 must be a Module"),
    (lambda m: m.ModuleList([1]), r"^ModuleList: the entry at index 0 must be a Module \(or "
                                  r"None\), got int$"),
    (lambda m: m.ModuleList([m.ReLU()]).append(2), r"^ModuleList.append: module must be a "
                                                   r"Module"),
    (lambda m: m.ModuleList(5), r"^ModuleList: modules must be an iterable of Modules, got int$"),
    (lambda m: m.ModuleList().extend(5), r"^ModuleList.extend: modules must be an iterable"),
    (lambda m: m.ModuleDict({"a": 1}), r"^ModuleDict: the value for key 'a' must be a Module "
                                       r"\(or None\), got int$"),
    (lambda m: m.ModuleDict({1: m.ReLU()}), r"^ModuleDict: keys must be str \(module names\), "
                                            r"got int 1$"),
    (lambda m: m.ModuleDict(5), r"^ModuleDict: modules must be a mapping or an iterable of "
                                r"\(name, module\) pairs, got int$"),
    (lambda m: m.Sequential().append(1), r"^Sequential.append: module must be a Module"),
])
def test_containers_name_themselves_and_the_position(make, match):
    _raises_like_torch(lambda: make(nn), lambda: make(torch.nn), TypeError, match)


def test_containers_still_take_none_placeholders_as_torch():
    assert len(nn.Sequential(None)) == len(torch.nn.Sequential(None)) == 1
    assert len(nn.ModuleList([None, nn.ReLU()])) == 2
    assert len(nn.ModuleList()) == 0 and len(nn.ModuleList(None)) == 0


def test_parameter_names_itself_and_data():
    with pytest.raises(TypeError, match=r"^Parameter: data must be a Tensor or an array of a "
                                        r"supported backend .*, got str; wrap lists and numbers "
                                        r"with xpnet\.tensor"):
        nn.Parameter("a")
    with pytest.raises((TypeError, AttributeError)):  # torch: AttributeError ('detach')
        torch.nn.Parameter("a")


def test_parameter_without_data_is_empty_as_torch():
    p = nn.Parameter()
    assert p.shape == tuple(torch.nn.Parameter().shape) == (0,)
    assert p.requires_grad and p.dtype.is_floating_point


# -- 7. data ---------------------------------------------------------------------------------------

def _dataset(n=10):
    return TensorDataset(xpnet.arange(n))


def test_dataloader_negative_workers_shows_the_value():
    with pytest.raises(ValueError, match=r"^DataLoader: num_workers option should be "
                                         r"non-negative, got -1; use num_workers=0"):
        DataLoader(_dataset(), num_workers=-1)


@pytest.mark.parametrize("weights, match", [
    ([-1.0, 1.0], r"got -1\.0 at index 0$"),
    ([1.0, float("nan")], r"got nan at index 1$"),
    ([1.0, float("inf")], r"got inf at index 1$"),
    ([0.0, 0.0], r"got 2 weights summing to 0\.0$"),
])
def test_weighted_sampler_shows_the_bad_weight(weights, match):
    with pytest.raises(ValueError, match=r"^WeightedRandomSampler: weights must be finite and "
                                         r"non-negative with a positive sum, " + match):
        WeightedRandomSampler(weights, 2)


def test_random_split_reports_the_sum_of_bad_fractions():
    _raises_like_torch(lambda: random_split(_dataset(), [0.5, 0.6]),
                       lambda: torch.utils.data.random_split(
                           torch.utils.data.TensorDataset(torch.arange(10)), [0.5, 0.6]),
                       ValueError,
                       r"^random_split: lengths must be ints summing to the length of the "
                       r"dataset \(10\) or fractions summing to 1, got \[0\.5, 0\.6\] \(sum "
                       r"1\.1\)$")


def test_random_split_lengths_of_the_wrong_type_are_type_errors():
    _raises_like_torch(lambda: random_split(_dataset(), 5),
                       lambda: torch.utils.data.random_split(
                           torch.utils.data.TensorDataset(torch.arange(10)), 5),
                       TypeError,
                       r"^random_split: lengths must be a sequence of ints or of fractions, got "
                       r"int 5$")
    with pytest.raises(TypeError, match=r"^random_split: lengths must hold ints or fractions, "
                                        r"got str 'a' at index 1$"):
        random_split(_dataset(), [5, "a"])
    assert [len(s) for s in random_split(_dataset(), [0.5, 0.5])] == [5, 5]
    assert [len(s) for s in random_split(_dataset(), (3, 7))] == [3, 7]


# -- 8. backends -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: xpnet.set_backend("bogus"), "set_backend"),
    (lambda: xpnet.use_backend("bogus"), "use_backend"),
])
def test_backend_switches_name_the_call(call, name):
    before = xpnet.get_backend()
    with pytest.raises(ValueError, match=rf"^{name}: unknown backend 'bogus'; expected one of "
                                         rf"numpy, "):
        call()
    assert xpnet.get_backend() == before


def test_backend_name_of_the_wrong_type_names_the_call():
    with pytest.raises(TypeError, match=r"^set_backend: backend name must be a str, got int$"):
        xpnet.set_backend(3)


# -- 9. ops: cross_entropy, matmul, argsort, movedim, == and != ------------------------------------

def test_cross_entropy_float_target_of_another_shape_is_a_value_error():
    logits = xpnet.ones(2, 3)
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: target must hold integer class indices of shape (2,) for input of "
            "shape (2, 3), got float32 of shape (2, 4); class probabilities need a "
            "floating-point target of the input's shape")):
        F.cross_entropy(logits, xpnet.ones(2, 4) / 4)
    with pytest.raises(RuntimeError):  # torch's type for the same
        torch.nn.functional.cross_entropy(torch.ones(2, 3), torch.ones(2, 4) / 4)
    with pytest.raises(TypeError, match="got float32 of shape \\(2,\\)"):  # a dtype problem
        F.cross_entropy(logits, xpnet.tensor([0.5, 1.5]))


@pytest.mark.parametrize("call, match", [
    (lambda t: xpnet.matmul(t, "a"), r"^matmul: other must be a Tensor, got str 'a'$"),
    (lambda t: t @ None, r"^matmul: other must be a Tensor, got NoneType None$"),
    (lambda t: "a" @ t, r"^matmul: input must be a Tensor, got str 'a'$"),
    (lambda t: xpnet.matmul(None, t), r"^matmul: input must be a Tensor, got NoneType None$"),
])
def test_matmul_names_the_operand(call, match):
    with pytest.raises(TypeError, match=match):
        call(xpnet.ones(2, 2))


def test_matmul_takes_torchs_keyword_names():
    a, b = xpnet.ones(2, 3), xpnet.ones(3, 4)
    assert xpnet.matmul(input=a, other=b).shape == (2, 4)


@pytest.mark.parametrize("dim, error, match", [
    (2, IndexError, r"^argsort: axis 2 is out of range for a 2-D tensor"),
    (-3, IndexError, r"^argsort: axis -3 is out of range"),
    (1.5, TypeError, r"^argsort: axis must be an int, got float 1\.5$"),
])
def test_argsort_names_itself(dim, error, match):
    with pytest.raises(error, match=match):
        xpnet.argsort(xpnet.ones(2, 3), dim=dim)
    with pytest.raises(error):
        torch.argsort(torch.ones(2, 3), dim=dim)


def test_argsort_still_matches_torch():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]], dtype=np.float32)
    for kw in ({}, {"dim": 0}, {"descending": True}):
        np.testing.assert_array_equal(xpnet.argsort(xpnet.tensor(x), **kw, stable=True).numpy(),
                                      torch.argsort(torch.tensor(x), **kw, stable=True).numpy())
    assert xpnet.argsort(xpnet.tensor(3.0)).shape == ()


@pytest.mark.parametrize("source, destination, error, match", [
    (0, 2, IndexError, r"^movedim: destination axis 2 is out of range for a 2-D tensor"),
    (-3, 0, IndexError, r"^movedim: source axis -3 is out of range"),
    ((0, 1), (1, 1), ValueError, r"^movedim: repeated axis in destination \(1, 1\)$"),
    (0.5, 1, TypeError, r"^movedim: source must be an int, got float$"),
])
def test_movedim_names_source_or_destination(source, destination, error, match):
    with pytest.raises(error, match=match):
        xpnet.movedim(xpnet.ones(2, 3), source, destination)


@pytest.mark.parametrize("other", ["a", None, object(), b"x"])
def test_equality_operators_with_a_non_number_give_torchs_answer(other):
    t, tt = xpnet.ones(2), torch.ones(2)
    assert (t == other) is (tt == other) is False
    assert (t != other) is (tt != other) is True
    assert (other == t) is (other == tt) is False
    with pytest.raises(TypeError, match=r"^eq: other must be a Tensor or a number"):
        xpnet.eq(t, other)
    with pytest.raises(TypeError):
        torch.eq(tt, other)
    with pytest.raises(TypeError, match=r"^ne: other must be a Tensor or a number"):
        t.ne(other)


def test_equality_operators_with_numbers_and_tensors_are_elementwise():
    t = xpnet.tensor([1.0, 2.0])
    np.testing.assert_array_equal((t == 1).numpy(), [True, False])
    np.testing.assert_array_equal((t != xpnet.tensor([1.0, 3.0])).numpy(), [False, True])
    assert "a" not in [t] and t in [t]
    with pytest.raises(ValueError, match=r"^eq: cannot broadcast"):  # a real error stays one
        t == xpnet.ones(3)  # noqa: B015
