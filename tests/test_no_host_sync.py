"""No host synchronisation inside a training step, and data checks that wait for one.

array_api_strict's second device ("device1") stands in for a GPU: its arrays are counted every
time one becomes a Python scalar or a host array (``bool``, ``int``, ``float``, ``__index__``,
``__array__``, ``__buffer__``, ``__dlpack__``, printing, a copy to another device), which on CuPy
would each wait for the GPU. A forward, backward and optimizer step of each model must make none.

Checks that need the data (label ranges, index bounds) then cannot read their flag during the
step: on a device they report at the next synchronisation the user makes, as CUDA's device-side
asserts do; on the host, and with ``use_eager_checks(True)``, they raise at the call.
"""

from __future__ import annotations

import collections
import math

import array_api_strict
import numpy as np
import pytest
from array_api_strict._array_object import Array

import xpnet
import xpnet.functional as F
from xpnet import nn, optim
from xpnet.backend import checks

DEVICE = "array_api_strict:device1"

# What turns a strict array into a Python scalar or a host array (strict has no item/tolist:
# xpnet's Tensor.item and .tolist come through these).
_CONVERSIONS = ("__bool__", "__int__", "__float__", "__complex__", "__index__", "__array__",
                "__buffer__", "__dlpack__", "__repr__", "__str__", "to_device")


class Conversions:
    """Counts conversions of device arrays while ``counting`` is True."""

    def __init__(self):
        self.counting = False
        self.seen = collections.Counter()

    def __enter__(self):
        self.seen.clear()
        self.counting = True
        return self

    def __exit__(self, *exc):
        self.counting = False
        return False

    @property
    def total(self):
        return sum(self.seen.values())


@pytest.fixture
def conversions(monkeypatch):
    counter = Conversions()
    cpu = array_api_strict.Device("CPU_DEVICE")

    def counted(name, original):
        def method(self, *args, **kwargs):
            leaving = name != "to_device" or (args and args[0] != self.device)
            if counter.counting and self.device != cpu and leaving:
                counter.seen[name] += 1
            return original(self, *args, **kwargs)
        return method

    for name in _CONVERSIONS:
        monkeypatch.setattr(Array, name, counted(name, getattr(Array, name)))
    asarray = array_api_strict.asarray

    def counted_asarray(obj, *args, **kwargs):  # asarray(device1_array, device=CPU) copies out
        target = kwargs.get("device")
        if counter.counting and isinstance(obj, Array) and obj.device != cpu \
                and target is not None and target != obj.device:
            counter.seen["asarray"] += 1
        return asarray(obj, *args, **kwargs)

    monkeypatch.setattr(array_api_strict, "asarray", counted_asarray)
    return counter


# -- the models ---------------------------------------------------------------------------------

class _LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 6)
        self.lstm = nn.LSTM(6, 8, num_layers=2, batch_first=True, dropout=0.2)
        self.out = nn.Linear(8, 20)

    def forward(self, x):
        h, _ = self.lstm(self.embedding(x))
        return self.out(h).reshape(-1, 20)


class _Bag(nn.Module):
    """A sparse embedding averaged over each row, then a linear classifier."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 8, sparse=True)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.embedding(x).mean(1))


class _Both:
    """Two optimizers stepped as one (SparseAdam takes only the sparse parameters)."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    def zero_grad(self):
        for o in self.optimizers:
            o.zero_grad()

    def step(self):
        for o in self.optimizers:
            o.step()


def _mlp(make_optimizer=lambda p: optim.Adam(p, lr=1e-3)):
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 5))
    return model, make_optimizer(model.parameters()), (xpnet.randn(8, 20),
                                                       xpnet.randint(0, 5, (8,)))


def _cnn():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(64, 5))
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), (
        xpnet.randn(4, 1, 8, 8), xpnet.randint(0, 5, (4,)))


def _lstm():
    model = _LanguageModel()
    return model, optim.Adam(model.parameters()), (xpnet.randint(0, 20, (3, 5)),
                                                   xpnet.randint(0, 20, (15,)))


def _sparse(make_sparse=optim.SparseAdam):
    model = _Bag()
    opt = _Both(make_sparse(list(model.embedding.parameters())),
                optim.Adam(model.out.parameters()))
    return model, opt, (xpnet.randint(0, 50, (4, 6)), xpnet.randint(0, 3, (4,)))


MODELS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm, "sparse_embedding": _sparse}


def _train(model, opt, batch, steps=2, clip=None):
    x, y = batch
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return loss


# -- the counter counts ----------------------------------------------------------------------

@pytest.mark.parametrize("read", [
    lambda t: t.item(), lambda t: float(t), lambda t: bool(t > 0), lambda t: t.tolist(),
    lambda t: t.numpy(), lambda t: repr(t), lambda t: t.cpu(), lambda t: int(t.long()),
])
def test_the_counter_sees_every_way_out_of_the_device(conversions, read):
    with xpnet.use_backend(DEVICE):
        t = xpnet.tensor(1.5)
        with conversions:
            read(t)
    assert conversions.total >= 1


def test_the_counter_ignores_the_host():
    t = xpnet.tensor(1.5, backend="array_api_strict")
    counter = Conversions()
    with counter:
        t.item()
    assert counter.total == 0


# -- training steps ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_a_training_step_makes_no_host_synchronisation(conversions, name):
    with xpnet.use_backend(DEVICE):
        model, opt, batch = MODELS[name]()
        with conversions:
            loss = _train(model, opt, batch)  # the first step makes the optimizer state too
        assert conversions.total == 0, dict(conversions.seen)
        assert loss.item() > 0  # the user's own synchronisation


@pytest.mark.parametrize("name", list(MODELS))
def test_steps_have_no_data_dependent_shapes(name):
    # A shape that depends on values (unique, nonzero, boolean masks) is read back by CuPy
    # before it can allocate the result. The sparse gradient's rows are summed in fixed-size
    # slots on a device instead (RowSparseGrad._rows_once).
    with xpnet.use_backend(DEVICE):
        model, opt, batch = MODELS[name]()
        with array_api_strict.ArrayAPIStrictFlags(data_dependent_shapes=False):
            _train(model, opt, batch)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, amsgrad=True), lambda p: optim.AdamW(p),
    lambda p: optim.RMSprop(p, momentum=0.5, centered=True), lambda p: optim.Adagrad(p),
    lambda p: optim.Adamax(p), lambda p: optim.NAdam(p), lambda p: optim.RAdam(p),
    lambda p: optim.Adadelta(p), lambda p: optim.ASGD(p), lambda p: optim.Rprop(p),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta",
        "ASGD", "Rprop"])
def test_every_optimizer_steps_without_synchronising(conversions, make):
    with xpnet.use_backend(DEVICE):
        model, opt, batch = _mlp(make)
        with conversions:
            _train(model, opt, batch)
        assert conversions.total == 0, dict(conversions.seen)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1), optim.Adagrad],
                         ids=["SGD", "Adagrad"])
def test_sparse_gradients_step_without_synchronising(conversions, make):
    with xpnet.use_backend(DEVICE):
        model, opt, batch = _sparse(make)
        with conversions:
            _train(model, opt, batch)
        assert conversions.total == 0, dict(conversions.seen)


@pytest.mark.parametrize("make", [
    lambda p: optim.SparseAdam(list(p), lr=0.1), lambda p: optim.Adam(p, lr=0.1),
    lambda p: optim.Adagrad(p, lr=0.1), lambda p: optim.SGD(p, lr=0.1),
], ids=["SparseAdam", "Adam", "Adagrad", "SGD"])
@pytest.mark.parametrize("clip", [False, True], ids=["unclipped", "clipped"])
def test_sparse_steps_on_a_device_match_the_host(make, clip):
    # Repeated rows and a last row that the zero padding repeats: only the real rows move.
    def train(backend_name):
        with xpnet.use_backend(backend_name):
            xpnet.manual_seed(0)
            emb = nn.Embedding(30, 4, sparse=True)
            opt = make(emb.parameters())
            for _ in range(3):
                opt.zero_grad()
                out = emb(xpnet.tensor([[3, 5, 3, 29], [5, 5, 29, 0]]))
                (out * out * xpnet.arange(1.0, 5.0)).sum().backward()
                if clip:
                    nn.utils.clip_grad_norm_(emb.parameters(), 0.5)
                opt.step()
            return emb.weight.numpy()

    np.testing.assert_allclose(train(DEVICE), train("numpy"), rtol=1e-6, atol=1e-7)


def test_rows_once_on_a_device_are_the_coalesced_rows_then_zeros():
    with xpnet.use_backend(DEVICE):
        emb = nn.Embedding(10, 2, sparse=True)
        emb(xpnet.tensor([7, 2, 7, 7, 4])).sum().backward()
        grad = emb.weight.grad
        padded, exact = grad._rows_once(), grad.coalesce()
        valid = padded._valid
    count = exact.nnz
    assert count == 3 and padded.nnz == 5
    assert _host(valid).tolist() == [True] * count + [False] * 2
    assert _host(padded.index_data)[:count].tolist() == [2, 4, 7]
    np.testing.assert_array_equal(_host(padded.values_data)[:count],
                                  _host(exact.values_data))
    np.testing.assert_array_equal(_host(padded.values_data)[count:], 0.0)


def _host(array):
    return xpnet.backend.load(DEVICE).to_numpy(array)


@pytest.mark.parametrize("name", ["lstm", "sparse_embedding"])
def test_gradient_clipping_does_not_synchronise(conversions, name):
    with xpnet.use_backend(DEVICE):
        model, opt, batch = MODELS[name]()
        with conversions, array_api_strict.ArrayAPIStrictFlags(data_dependent_shapes=False):
            _train(model, opt, batch, clip=1.0)
        assert conversions.total == 0, dict(conversions.seen)


# -- data checks on a device: reported at the next synchronisation ------------------------------

def _bad_labels():
    return xpnet.zeros(3, 5), xpnet.tensor([0, 7, 1])


MESSAGE = r"cross_entropy: target 7 is out of range; class indices must lie in \[0, 4\]"


@pytest.mark.parametrize("sync", [
    lambda loss: loss.item(), lambda loss: float(loss), lambda loss: loss.tolist(),
    lambda loss: loss.numpy(), lambda loss: repr(loss), lambda loss: loss.cpu(),
    lambda loss: xpnet.backend.load(DEVICE).synchronize(),
], ids=["item", "float", "tolist", "numpy", "repr", "cpu", "synchronize"])
def test_a_bad_label_raises_at_the_next_synchronisation(conversions, sync):
    with xpnet.use_backend(DEVICE):
        x, y = _bad_labels()
        with conversions:
            loss = F.cross_entropy(x, y)  # neither raises nor waits
        assert conversions.total == 0
        with pytest.raises(IndexError, match=MESSAGE):
            sync(loss)
        assert math.isfinite(loss.item())  # reported once; the bad label was ignored meanwhile


def test_the_first_failure_is_the_one_reported():
    with xpnet.use_backend(DEVICE):
        x = xpnet.zeros(3, 5)
        F.cross_entropy(x, xpnet.tensor([0, 1, 2]))
        F.cross_entropy(x, xpnet.tensor([0, 9, 2]))
        loss = F.cross_entropy(x, xpnet.tensor([6, 1, 2]))
        with pytest.raises(IndexError, match="target 9 is out of range"):
            loss.item()


def test_a_synchronisation_elsewhere_does_not_report(conversions):
    with xpnet.use_backend(DEVICE):
        F.cross_entropy(*_bad_labels())
    assert xpnet.tensor([1.0]).item() == 1.0  # numpy: another device
    with pytest.raises(IndexError, match=MESSAGE):
        xpnet.tensor([1.0], backend=DEVICE).item()


def test_a_bad_index_raises_at_the_next_synchronisation_and_reads_nothing_out_of_range():
    with xpnet.use_backend(DEVICE):
        emb = nn.Embedding(4, 2)
        out = emb(xpnet.tensor([0, 4, 9]))  # strict would raise on a read past the end
        with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 4\) "
                                             r"\(num_embeddings\), got values in \[0, 9\]"):
            out.sum().item()


def test_a_bad_label_in_a_training_step_raises_at_the_users_loss_item():
    with xpnet.use_backend(DEVICE):
        model, opt, (x, _) = _mlp()
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), xpnet.tensor([0, 1, 2, 3, 4, 5, 0, 1]))
        loss.backward()
        opt.step()
        with pytest.raises(IndexError, match="cross_entropy: target 5 is out of range"):
            loss.item()


@pytest.mark.parametrize("call, match", [
    (lambda: xpnet.index_select(xpnet.zeros(3), 0, xpnet.tensor([3])),
     r"index_select: index out of range for dimension 0 of size 3"),
    (lambda: xpnet.gather(xpnet.zeros(2, 3), 1, xpnet.tensor([[0], [-1]])),
     r"gather: index out of range for dimension 1 of size 3"),
    (lambda: xpnet.zeros(3)[xpnet.tensor([5])], r"getitem: index out of range for axis 0"),
    (lambda: F.nll_loss(xpnet.zeros(2, 3), xpnet.tensor([0, -5])), r"nll_loss: target -5"),
    (lambda: F.multi_margin_loss(xpnet.zeros(2, 3), xpnet.tensor([0, 3])),
     r"multi_margin_loss: target 3 is out of range"),
    (lambda: F.binary_cross_entropy(xpnet.full((2,), 0.5), xpnet.tensor([0.0, 2.0])),
     r"binary_cross_entropy: target values must lie in \[0, 1\], got 2"),
    (lambda: F.gaussian_nll_loss(xpnet.zeros(2), xpnet.zeros(2), xpnet.tensor([1.0, -1.0])),
     r"gaussian_nll_loss: var has negative entries"),
])
def test_every_data_check_waits_for_the_synchronisation(conversions, call, match):
    with xpnet.use_backend(DEVICE):
        with conversions:
            out = call()
        assert conversions.total == 0, dict(conversions.seen)
        with pytest.raises((IndexError, ValueError), match=match):
            out.sum().item()


# -- eager checks --------------------------------------------------------------------------------

def test_eager_checks_raise_at_the_call_on_a_device():
    with xpnet.use_backend(DEVICE), xpnet.use_eager_checks(True):
        assert xpnet.eager_checks_enabled()
        with pytest.raises(IndexError, match=MESSAGE):
            F.cross_entropy(*_bad_labels())
    assert not xpnet.eager_checks_enabled()


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict", "torch"])
def test_host_backends_check_at_the_call(backend_name):
    if backend_name == "torch":
        pytest.importorskip("torch")
    with xpnet.use_backend(backend_name):
        with pytest.raises(IndexError, match=MESSAGE):
            F.cross_entropy(*_bad_labels())


@pytest.mark.parametrize("name, value, eager", [
    ("XPNET_EAGER_CHECKS", "1", True), ("XPNET_EAGER_CHECKS", "0", False),
    ("CUDA_LAUNCH_BLOCKING", "1", True), ("CUDA_LAUNCH_BLOCKING", "", False),
])
def test_the_environment_chooses_eager_checks(monkeypatch, name, value, eager):
    monkeypatch.delenv("XPNET_EAGER_CHECKS", raising=False)
    monkeypatch.delenv("CUDA_LAUNCH_BLOCKING", raising=False)
    monkeypatch.setenv(name, value)
    assert checks._eager_from_environment() is eager


def test_xpnet_eager_checks_wins_over_cuda_launch_blocking(monkeypatch):
    monkeypatch.setenv("XPNET_EAGER_CHECKS", "0")
    monkeypatch.setenv("CUDA_LAUNCH_BLOCKING", "1")
    assert checks._eager_from_environment() is False


def test_a_bad_environment_value_is_refused(monkeypatch):
    monkeypatch.setenv("XPNET_EAGER_CHECKS", "maybe")
    with pytest.raises(ValueError, match=r"XPNET_EAGER_CHECKS='maybe': expected 0 or 1"):
        checks._eager_from_environment()


def test_use_eager_checks_takes_a_bool():
    with pytest.raises(TypeError, match="use_eager_checks: expected True or False, got 1"):
        xpnet.use_eager_checks(1)


# -- per-step noise from the backend's own generator ---------------------------------------------

def _torch_backend():
    pytest.importorskip("torch")
    return xpnet.backend.load("torch")


def test_dropout_masks_on_torch_are_drawn_by_torch(monkeypatch):
    import torch

    backend = _torch_backend()
    from xpnet.backend.random import Generator, _stream_seed

    # Nothing comes from NumPy: the mask never passes through torch.from_numpy.
    monkeypatch.setattr(torch, "from_numpy", lambda a: pytest.fail("a host array was copied"))
    mask = Generator(5).device_bernoulli(backend, (4, 250), 0.3)
    assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool
    stream = torch.Generator().manual_seed(_stream_seed("torch", 5))
    assert torch.equal(mask, torch.rand((4, 250), generator=stream) < 0.3)


def test_dropout_on_torch_is_reproducible_with_manual_seed():
    _torch_backend()
    with xpnet.use_backend("torch"):
        x = xpnet.ones(1000)
        xpnet.manual_seed(7)
        first, second = F.dropout(x, 0.4).numpy(), F.dropout(x, 0.4).numpy()
        xpnet.manual_seed(7)
        assert (F.dropout(x, 0.4).numpy() == first).all()
        assert (F.dropout(x, 0.4).numpy() == second).all()
        assert (first != second).any()  # the stream moves on
        assert (F.dropout(x, 0.4, generator=xpnet.Generator(7)).numpy() == first).all()
        xpnet.manual_seed(8)
        assert (F.dropout(x, 0.4).numpy() != first).any()


def test_the_device_stream_leaves_the_host_stream_alone():
    _torch_backend()
    xpnet.manual_seed(3)
    want = xpnet.rand(5).numpy()
    xpnet.manual_seed(3)
    F.dropout(xpnet.ones(100, backend="torch"), 0.5)
    assert (xpnet.rand(5).numpy() == want).all()


@pytest.mark.parametrize("through", ["get_state", "get_rng_state"])
def test_a_saved_state_resumes_the_torch_stream_exactly(through):
    _torch_backend()
    with xpnet.use_backend("torch"):
        x = xpnet.ones(500)
        F.dropout(x, 0.5)  # the stream exists and has moved
        if through == "get_state":
            state = xpnet.default_generator.get_state()
        else:
            state = xpnet.get_rng_state()
        after = [F.dropout(x, 0.5).numpy(), xpnet.rand(3).numpy()]
        xpnet.manual_seed(99)
        F.dropout(x, 0.5)
        if through == "get_state":
            xpnet.default_generator.set_state(state)
        else:
            xpnet.set_rng_state(state)
        assert (F.dropout(x, 0.5).numpy() == after[0]).all()
        assert (xpnet.rand(3).numpy() == after[1]).all()


def test_a_malformed_stream_state_is_refused():
    _torch_backend()
    g = xpnet.Generator(0)
    g.device_bernoulli(xpnet.backend.load("torch"), (3,), 0.5)
    state = g.get_state()
    state["streams"]["states"]["torch"] = "AAAA"
    with pytest.raises(ValueError, match="Generator.set_state: malformed streams in the state"):
        g.set_state(state)


def test_negative_samples_on_torch_come_from_torch():
    import torch

    backend = _torch_backend()
    from xpnet.backend.random import Generator, _stream_seed

    draws = Generator(11).device_integers(backend, 0, 1000, (6, 5))
    assert isinstance(draws, torch.Tensor) and draws.dtype == torch.int64
    stream = torch.Generator().manual_seed(_stream_seed("torch", 11))
    assert torch.equal(draws, torch.randint(0, 1000, (6, 5), generator=stream))


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict", DEVICE, "torch"])
def test_without_fast_paths_the_noise_is_the_hosts_on_every_backend(backend_name):
    if backend_name == "torch":
        _torch_backend()
    backend = xpnet.backend.load(backend_name)
    host = xpnet.backend.load("numpy")
    with xpnet.use_fast_paths(False):
        got = xpnet.Generator(4).device_bernoulli(backend, (300,), 0.5)
        negatives = xpnet.Generator(4).device_integers(backend, 0, 50, (20,))
    want = xpnet.Generator(4).bernoulli(host, (300,), 0.5)
    assert (backend.to_numpy(got) == want).all()
    assert (backend.to_numpy(negatives) == xpnet.Generator(4).integers(host, 0, 50, (20,))).all()


@pytest.mark.parametrize("p", [1e-3, 0.1, 0.5, 0.9, 0.999])
def test_host_masks_have_the_probability_asked_and_repeat_with_the_seed(p):
    """The host mask (NumPy and array_api_strict's dropout) from 32-bit raw draws: its rate
    within 5 standard errors of p, neighbours independent (both kept at rate p**2), an odd
    size whole, the same seed the same mask, and the stream moving on between masks."""
    host = xpnet.backend.load("numpy")
    g = xpnet.Generator(21)
    mask = g.bernoulli(host, (999, 1001), p)
    n = mask.size
    assert mask.shape == (999, 1001) and mask.dtype == np.bool_
    assert abs(mask.mean() - p) < 5 * (p * (1 - p) / n) ** 0.5
    pairs = mask.reshape(-1)[: n - 1 : 2] & mask.reshape(-1)[1::2]
    assert abs(pairs.mean() - p * p) < 5 * (p * p * (1 - p * p) / pairs.size) ** 0.5
    assert (xpnet.Generator(21).bernoulli(host, (999, 1001), p) == mask).all()
    assert (g.bernoulli(host, (999, 1001), p) != mask).any()


def test_host_masks_of_probability_0_and_1_are_exact():
    host = xpnet.backend.load("numpy")
    g = xpnet.Generator(0)
    assert g.bernoulli(host, (7, 3), 1.0).all() and not g.bernoulli(host, (7, 3), 0.0).any()
    assert g.bernoulli(host, (), 1.0).shape == ()


@pytest.mark.gpu
def test_dropout_masks_on_cupy_are_drawn_by_cupy():
    why = xpnet.backend.cupy_unusable_reason()
    if why is not None:
        pytest.skip(f"cupy backend unavailable: {why}")
    import cupy

    backend = xpnet.backend.load("cupy")
    mask = xpnet.Generator(5).device_bernoulli(backend, (1000,), 0.3)
    assert isinstance(mask, cupy.ndarray) and mask.dtype == cupy.bool_
    again = xpnet.Generator(5).device_bernoulli(backend, (1000,), 0.3)
    assert bool((mask == again).all())
    assert abs(float(mask.mean()) - 0.3) < 0.06
    draws = xpnet.Generator(5).device_integers(backend, 0, 10, (1000,))
    assert isinstance(draws, cupy.ndarray) and int(draws.min()) >= 0 and int(draws.max()) < 10
