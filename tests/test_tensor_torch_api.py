"""The core of PyTorch's Tensor API on xpnet tensors: shape queries, dtype shorthands, views and
copies, tensors made from a tensor, the in-place updates with ``alpha``/``value``, ``.data``,
formatting, and the top-level helpers (from_numpy, set_grad_enabled...). Compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import check_forward, check_grads, gradcheck

torch = pytest.importorskip("torch")


def test_shape_queries_match_torch(backend):
    (a,) = random_arrays((2, 3, 4))
    ours, theirs = xpnet.tensor(a), torch.tensor(a)
    assert ours.size() == theirs.size() and isinstance(ours.size(), xpnet.Size)
    assert ours.size().numel() == theirs.size().numel() == 24
    assert ours.size()[1:] == theirs.size()[1:] and isinstance(ours.size()[1:], xpnet.Size)
    for dim in (0, 2, -1, -3):
        assert ours.size(dim) == theirs.size(dim)
    assert ours.dim() == ours.ndimension() == theirs.dim() == 3
    assert ours.numel() == ours.nelement() == xpnet.numel(ours) == theirs.numel()
    assert ours.element_size() == theirs.element_size() == 8
    assert ours.is_floating_point() and xpnet.is_floating_point(ours) and not ours.is_complex()
    with pytest.raises(IndexError, match="Tensor.size: dim 3 is out of range for a 3-D tensor"):
        ours.size(3)


@pytest.mark.parametrize("method, dtype", [
    ("float", "float32"), ("double", "float64"), ("long", "int64"), ("int", "int32"),
    ("short", "int16"), ("char", "int8"), ("byte", "uint8"), ("bool", "bool"),
])
def test_dtype_shorthands_match_torch(backend, method, dtype):
    (a,) = random_arrays((3,))
    ours = getattr(xpnet.tensor(a), method)()
    theirs = getattr(torch.tensor(a), method)()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.") == dtype
    assert_close(ours, theirs.numpy(), rtol=0, atol=0)


def test_dtype_aliases_are_torchs():
    for name in ("float", "double", "long", "int", "short", "cfloat", "cdouble", "bool"):
        assert getattr(xpnet, name).name == str(getattr(torch, name)).removeprefix("torch.")


def test_type_gives_and_takes_legacy_names():
    t = xpnet.zeros(2)
    assert t.type() == "xpnet.FloatTensor" and torch.zeros(2).type() == "torch.FloatTensor"
    assert t.type(xpnet.float64).dtype is xpnet.float64
    assert t.type("torch.LongTensor").dtype is xpnet.int64
    assert t.type_as(xpnet.zeros(1, dtype=xpnet.int32)).dtype is xpnet.int32
    with pytest.raises(TypeError, match="unknown tensor type 'torch.HalfTensor'"):
        t.type("torch.HalfTensor")
    with pytest.raises(TypeError, match="no float16 dtype"):
        t.half()


def test_legacy_constructors_match_torch():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                 "ByteTensor"):
        ours, theirs = getattr(xpnet, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert ours.tolist() == theirs.tolist()
        assert getattr(xpnet, name)(2, 3).shape == tuple(getattr(torch, name)(2, 3).shape)


@pytest.mark.parametrize("name", ["view_as", "reshape_as", "expand_as"])
def test_as_views_match_torch(backend, name):
    a, b = random_arrays((6, 1), (2, 3, 6, 4) if name == "expand_as" else (3, 2))
    if name == "expand_as":
        a = a.reshape(6, 1)
    fn = lambda x, y: getattr(x, name)(y)  # noqa: E731
    check_forward(backend, fn, fn, [a, b])
    check_grads(backend, fn, fn, [a, b])
    gradcheck(lambda x: getattr(x, name)(xpnet.zeros(b.shape, dtype=xpnet.float64)), [a])


def test_t_clone_and_contiguous_match_torch(backend):
    (a,) = random_arrays((3, 4))
    check_forward(backend, lambda x: x.t(), lambda x: x.t(), [a])
    check_grads(backend, lambda x: x.t() * 2, lambda x: x.t() * 2, [a])
    check_grads(backend, lambda x: x.clone() ** 2, lambda x: x.clone() ** 2, [a])
    gradcheck(lambda x: xpnet.clone(x).t(), [a])
    x = xpnet.tensor(a)
    assert x.contiguous() is x and x.is_contiguous()
    copy = x.clone()
    copy.add_(1.0)
    assert_close(x, a)  # the clone has its own values
    with pytest.raises(ValueError, match="t: expects a tensor with at most 2 dimensions"):
        xpnet.zeros(2, 2, 2).t()


def test_new_factories_take_the_source_dtype_and_device(backend):
    ref = xpnet.zeros(2, dtype=xpnet.float64)
    tref = torch.zeros(2, dtype=torch.float64)
    for ours, theirs in [
        (ref.new_zeros(2, 3), tref.new_zeros(2, 3)), (ref.new_ones((3,)), tref.new_ones((3,))),
        (ref.new_full((2,), 7), tref.new_full((2,), 7)), (ref.new_empty(4), tref.new_empty(4)),
        (ref.new_tensor([1, 2]), tref.new_tensor([1, 2])),
        (ref.new_zeros(2, dtype=xpnet.int64), tref.new_zeros(2, dtype=torch.int64)),
    ]:
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert ours.backend == ref.backend
        if theirs.numel() and ours is not None and not np.isnan(theirs.numpy()).any():
            assert ours.tolist() == theirs.tolist() or theirs.dtype == torch.float64


def test_in_place_updates_with_alpha_and_value_match_torch(backend):
    a, b, c = random_arrays((4,), (4,), (4,), low=0.5)
    ours, theirs = xpnet.tensor(a), torch.tensor(a)
    ob, oc, tb, tc = xpnet.tensor(b), xpnet.tensor(c), torch.tensor(b), torch.tensor(c)
    steps = [
        (lambda t, u, v: t.add_(u, alpha=-0.5)), (lambda t, u, v: t.sub_(u, alpha=2)),
        (lambda t, u, v: t.mul_(v)), (lambda t, u, v: t.div_(v)),
        (lambda t, u, v: t.addcmul_(u, v, value=0.25)),
        (lambda t, u, v: t.addcdiv_(u, v, value=-3)), (lambda t, u, v: t.clamp_(-1.0, 1.5)),
        (lambda t, u, v: t.add_(2)), (lambda t, u, v: t.sub_(1, alpha=0.5)),
        (lambda t, u, v: t.clamp_(min=0.0)), (lambda t, u, v: t.fill_(0.75)),
        (lambda t, u, v: t.copy_(u)), (lambda t, u, v: t.zero_()),
    ]
    for step in steps:
        assert step(ours, ob, oc) is ours
        step(theirs, tb, tc)
        assert_close(ours, theirs)


def test_addcmul_and_addcdiv_match_torch_with_gradients(backend):
    arrays = random_arrays((3, 1), (1, 4), (3, 4), low=0.5)
    for name in ("addcmul", "addcdiv"):
        fn = lambda x, y, z, n=name: getattr(xpnet, n)(x, y, z, value=0.5)  # noqa: E731
        tfn = lambda x, y, z, n=name: getattr(torch, n)(x, y, z, value=0.5)  # noqa: E731
        check_forward(backend, fn, tfn, arrays)
        check_grads(backend, fn, tfn, arrays)
        gradcheck(fn, arrays)


def test_data_shares_values_and_records_nothing(backend):
    p = xpnet.tensor([1.0, 2.0], requires_grad=True)
    d = p.data
    assert isinstance(d, xpnet.Tensor) and not d.requires_grad and d.grad_fn is None
    p.data.add_(xpnet.tensor([1.0, 1.0]), alpha=-0.5)  # allowed while grad mode is on
    assert p.tolist() == [0.5, 1.5] and d.tolist() == [0.5, 1.5]
    d.mul_(2)
    assert p.tolist() == [1.0, 3.0]
    p.data.copy_(xpnet.tensor([7.0, 8.0]))
    assert p.tolist() == [7.0, 8.0]
    p.data.uniform_(-0.1, 0.1)
    assert all(-0.1 <= v <= 0.1 for v in p.tolist())
    p.detach().zero_()  # detach shares values too, as in torch
    assert p.tolist() == [0.0, 0.0] and p.requires_grad
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad"):
        p.add_(1.0)


def test_assigning_data_replaces_the_values_and_leaves_old_views():
    p = xpnet.tensor([1.0, 2.0], requires_grad=True)
    old = p.data
    p.data = xpnet.zeros(3)
    assert p.shape == (3,) and p.requires_grad and old.tolist() == [1.0, 2.0]
    p.data.fill_(4.0)
    assert p.tolist() == [4.0, 4.0, 4.0] and old.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="Tensor.data: expected a Tensor, got list"):
        p.data = [1.0]


def test_torch_style_manual_sgd_matches_torch():
    (w0,) = random_arrays((3,))
    ours = xpnet.tensor(w0, requires_grad=True)
    theirs = torch.tensor(w0, requires_grad=True)
    for _ in range(3):
        for w, lib in ((ours, xpnet), (theirs, torch)):
            (w * w).sum().backward()
            w.data.add_(w.grad, alpha=-0.1)
            w.grad.zero_()
    assert_close(ours, theirs)


def test_format_matches_torch():
    assert f"{xpnet.tensor(1.23456):.3f}" == f"{torch.tensor(1.23456):.3f}" == "1.235"
    assert f"{xpnet.tensor(7):>4d}" == f"{torch.tensor(7):>4d}"
    assert f"{xpnet.tensor([1.0, 2.0])}" == str(xpnet.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string '.2f'"):
        format(xpnet.zeros(2), ".2f")


def test_numpy_conversions_share_where_torch_does():
    a = np.arange(4.0)
    t = xpnet.from_numpy(a)
    a[0] = 10.0
    assert t.tolist()[0] == 10.0  # numpy backend: the same memory, as torch.from_numpy
    assert np.asarray(t) is t.array or np.shares_memory(np.asarray(t), a)
    assert np.asarray(xpnet.ones(2, 2), dtype=np.float64).dtype == np.float64
    with xpnet.use_backend("array_api_strict:device1"):
        s = xpnet.ones(3)
        assert np.asarray(s).tolist() == [1.0, 1.0, 1.0]  # through the host, a copy
        with pytest.raises(ValueError, match="cannot be viewed as a NumPy array without a copy"):
            s.__array__(copy=False)
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        xpnet.from_numpy([1, 2])
    assert xpnet.is_tensor(t) and not xpnet.is_tensor(a)


def test_grad_mode_switches_match_torch():
    assert xpnet.is_grad_enabled()
    xpnet.set_grad_enabled(False)
    assert not xpnet.is_grad_enabled()
    xpnet.set_grad_enabled(True)
    with xpnet.set_grad_enabled(False):
        assert not xpnet.is_grad_enabled()
    assert xpnet.is_grad_enabled()

    @xpnet.inference_mode()
    def infer(x):
        return (x * 2).requires_grad

    @xpnet.inference_mode
    def infer_bare(x):
        return (x * 2).requires_grad

    @xpnet.no_grad()
    def no_grad(x):
        return (x * 2).requires_grad

    x = xpnet.ones(2, requires_grad=True)
    assert not infer(x) and not infer_bare(x) and not no_grad(x)
    with xpnet.inference_mode(False):
        assert xpnet.is_grad_enabled()
    assert xpnet.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled: expected True or False"):
        xpnet.set_grad_enabled("no")


def test_randint_takes_both_torch_signatures():
    assert xpnet.randint(10, (3,)).shape == (3,)
    low_high = xpnet.randint(5, 7, (100,))
    assert set(low_high.tolist()) <= {5, 6}
    with pytest.raises(TypeError, match="randint: expected randint"):
        xpnet.randint(10)


def test_multinomial_and_bernoulli_draw_as_torch_does():
    weights = xpnet.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    draws = xpnet.multinomial(weights, 400, replacement=True, generator=xpnet.Generator(0))
    assert draws.shape == (2, 400) and draws.dtype is xpnet.int64
    first = draws.numpy()[0]
    assert 0 not in first and 0.65 < (first == 2).mean() < 0.85  # expected 0.75
    assert set(draws.numpy()[1]) == {0}
    assert sorted(xpnet.multinomial(xpnet.ones(4), 4).tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="cannot draw 5 samples without replacement from 4"):
        xpnet.multinomial(xpnet.ones(4), 5)
    b = xpnet.bernoulli(xpnet.full((1000,), 0.3), generator=xpnet.Generator(1))
    assert b.dtype is xpnet.float32 and 0.25 < b.mean().item() < 0.35


@pytest.mark.parametrize("make, tmake", [
    (lambda: xpnet.nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
    (lambda: xpnet.nn.LeakyReLU(0.2, inplace=True), lambda: torch.nn.LeakyReLU(0.2, inplace=True)),
    (lambda: xpnet.nn.ELU(0.5, inplace=True), lambda: torch.nn.ELU(0.5, inplace=True)),
    (lambda: xpnet.nn.RReLU(inplace=True).eval(), lambda: torch.nn.RReLU(inplace=True).eval()),
    (lambda: xpnet.nn.Dropout(0.3, inplace=True).eval(),
     lambda: torch.nn.Dropout(0.3, inplace=True).eval()),
])
def test_inplace_layers_write_into_their_input_as_torchs(backend, make, tmake):
    (a, w) = random_arrays((3, 4), (4, 4))
    ours, theirs = make(), tmake()
    assert repr(ours) == repr(theirs)
    x, tx = xpnet.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    w_, tw = xpnet.tensor(w), torch.tensor(w)
    h, th = x @ w_, tx @ tw  # a non-leaf, as after a linear layer
    out, tout = ours(h), theirs(th)
    assert out is h  # the input tensor itself holds the result
    assert_close(h, th)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(x.grad, tx.grad)
    if not isinstance(ours, xpnet.nn.Dropout):  # eval-mode dropout is the identity
        leaf = xpnet.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
            ours(leaf)


def test_inplace_dropout_in_training_zeroes_the_input_itself():
    x = xpnet.ones(1000) * 1.0
    out = xpnet.nn.functional.dropout(x, 0.5, training=True, inplace=True)
    assert out is x and 0.4 < (x.numpy() == 0).mean() < 0.6


def test_deepcopy_of_tensors_state_dicts_and_models_as_torch(backend):
    import copy
    model = xpnet.nn.Sequential(xpnet.nn.Linear(3, 2), xpnet.nn.BatchNorm1d(2))
    model[0].weight.grad = xpnet.ones(2, 3)
    snapshot = copy.deepcopy(model.state_dict())
    twin = copy.deepcopy(model)
    assert isinstance(twin[0].weight, xpnet.nn.Parameter) and twin[0].weight.requires_grad
    assert twin[0].weight.backend == model[0].weight.backend == xpnet.get_backend()
    assert twin[0].weight.grad.tolist() == [[1.0] * 3] * 2
    before = model[0].weight.numpy()
    with xpnet.no_grad():
        model[0].weight.fill_(0.0)
    np.testing.assert_array_equal(snapshot["0.weight"].numpy(), before)
    np.testing.assert_array_equal(twin[0].weight.numpy(), before)
    shared = xpnet.nn.Linear(2, 2)
    tied = copy.deepcopy(xpnet.nn.Sequential(shared, shared))
    assert tied[0].weight is tied[1].weight  # sharing survives, as deepcopy's memo promises
    with pytest.raises(RuntimeError, match="only tensors created by the user"):
        copy.deepcopy(xpnet.ones(2, requires_grad=True) * 2)
