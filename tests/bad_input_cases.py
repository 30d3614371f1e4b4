"""The table of hand-written bad inputs for tests/test_bad_input_fuzz.py (issue 14).

Each `Case` is one call of the public API with one bad argument, written once as a function of
a library namespace ``L`` so that the same line runs on xpnet and, for the cases marked
``compare="torch"`` or ``compare="gensim"``, on PyTorch or gensim:

- ``L.t`` is ``xpnet`` or ``torch``; ``L.nn``, ``L.F`` (``nn.functional``), ``L.init``,
  ``L.optim``, ``L.sched`` (``optim.lr_scheduler``), ``L.data`` (``utils.data``);
- ``L.Word2Vec``, ``L.KeyedVectors`` are xpnet.word2vec's or gensim.models';
- helpers: ``L.x()`` a float32 tensor of shape (2, 3), ``L.params()`` one parameter,
  ``L.opt()`` an SGD optimizer, ``L.ds(n)`` a TensorDataset of n rows, ``L.kv()`` keyed vectors
  with keys "a", "b", "c" of size 3, ``L.path(name)`` a path in a scratch directory, and
  ``L.file(name, data)`` which writes one there.

A case says the exception type the issue requires and the words its message must hold, each word
either a string or a tuple of accepted spellings, matched case-insensitively: the call the user
made (``zeros``, ``Linear``, ``Adam``), the parameter, and the value that came (its repr, its
shape or its type name).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import tempfile
import types
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Case:
    """One bad input: ``call(L)`` must raise ``raises`` with every word of ``words``."""

    id: str
    call: object
    raises: type | tuple
    words: tuple = field(default=())
    compare: str | None = None  # "torch" or "gensim": run the same call there too


CASES: list[Case] = []


def case(id, call, raises, *words, compare=None):
    if any(c.id == id for c in CASES):
        raise AssertionError(f"duplicate case id {id!r}")
    CASES.append(Case(id, call, raises, tuple(words), compare))


DIM = ("dim", "axis")  # xpnet takes both; the message may use either name
ABSENT = ("no such file", "not found", "exist")


def got(value):
    """The spellings of a received value: its repr or its type's name."""
    return (repr(value), type(value).__name__)


def shape(*dims):
    """The spellings of a shape in a message: (2, 3), [2, 3], 2x3."""
    return (str(tuple(dims)), str(list(dims)), "x".join(map(str, dims)))


# --------------------------------------------------------------------------------------------
# Namespaces: the same case code runs on xpnet, torch and gensim.

_SCRATCH: list[str] = []


def scratch_dir():
    if not _SCRATCH:
        path = tempfile.mkdtemp(prefix="xpnet_bad_input_")
        atexit.register(shutil.rmtree, path, True)
        _SCRATCH.append(path)
    return _SCRATCH[0]


def _path(name):
    return os.path.join(scratch_dir(), name)


def _file(name, data):
    path = _path(name)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def _namespace(t, nn, optim, data, sched, Word2Vec=None, KeyedVectors=None):
    L = types.SimpleNamespace(t=t, nn=nn, F=nn.functional, init=nn.init, optim=optim,
                              data=data, sched=sched, Word2Vec=Word2Vec,
                              KeyedVectors=KeyedVectors, path=_path, file=_file)
    L.x = lambda: t.ones(2, 3)
    L.params = lambda: [nn.Parameter(t.ones(2))]
    L.opt = lambda: optim.SGD(L.params(), lr=0.1)
    L.ds = lambda n=10: data.TensorDataset(t.arange(n))
    L.long = lambda values: t.tensor(values, dtype=t.int64)

    def kv():
        # gensim's KeyedVectors takes (vector_size, count, dtype); both take add_vectors.
        keyed = KeyedVectors(3)
        keyed.add_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
        return keyed
    L.kv = kv
    return L


@functools.cache
def xpnet_namespace():
    import xpnet
    import xpnet.optim.lr_scheduler as sched
    import xpnet.utils.data as data
    from xpnet.word2vec import KeyedVectors, Word2Vec
    return _namespace(xpnet, xpnet.nn, xpnet.optim, data, sched, Word2Vec, KeyedVectors)


@functools.cache
def torch_namespace():
    import torch
    import torch.optim.lr_scheduler as sched
    import torch.utils.data as data
    return _namespace(torch, torch.nn, torch.optim, data, sched)


@functools.cache
def gensim_namespace():
    import torch
    from gensim.models import KeyedVectors, Word2Vec
    import torch.optim.lr_scheduler as sched
    import torch.utils.data as data
    return _namespace(torch, torch.nn, torch.optim, data, sched, Word2Vec, KeyedVectors)


# --------------------------------------------------------------------------------------------
# Tensor creation and factories.

_SIZE_FACTORIES = {
    "zeros": lambda L, s: L.t.zeros(*s),
    "ones": lambda L, s: L.t.ones(*s),
    "empty": lambda L, s: L.t.empty(*s),
    "rand": lambda L, s: L.t.rand(*s),
    "randn": lambda L, s: L.t.randn(*s),
    "full": lambda L, s: L.t.full(s, 1.0),
}
# (label, size args, exception, the received value as written in the message)
_BAD_SIZES = [
    ("neg", (-1,), ValueError, "-1"),
    ("neg-second", (2, -3), ValueError, "-3"),
    ("bool", (True,), TypeError, got(True)),
    ("float", (2.5,), TypeError, got(2.5)),
    ("str", ("3",), TypeError, got("3")),
    ("none", (None,), TypeError, got(None)),
    ("tuple-float", ((2, 1.5),), TypeError, got(1.5)),
]
for _name, _make in _SIZE_FACTORIES.items():
    for _label, _size, _exc, _got in _BAD_SIZES:
        case(f"{_name}-size-{_label}", functools.partial(lambda L, m, s: m(L, s), m=_make, s=_size),
             _exc, _name, "size", _got,
             compare="torch" if _label in ("neg", "float") and _name in ("zeros", "full") else None)

case("full-fill_value-str", lambda L: L.t.full((2,), "a"), TypeError, "full", "fill_value",
     ("'a'", "str"), compare="torch")
case("full-fill_value-none", lambda L: L.t.full((2,), None), TypeError, "full", "fill_value",
     "None")
case("randint-size-neg", lambda L: L.t.randint(0, 10, (-1,)), ValueError, "randint", "size", "-1")
case("randint-low-above-high", lambda L: L.t.randint(5, 2, (3,)), ValueError, "randint",
     ("low", "high"), "5", compare="torch")
case("randint-high-zero", lambda L: L.t.randint(0, (3,)), ValueError, "randint", "high", "0")
case("randint-high-float", lambda L: L.t.randint(0, 2.5, (3,)), TypeError, "randint", "high",
     got(2.5))
case("randint-size-float", lambda L: L.t.randint(0, 10, (2.5,)), TypeError, "randint", "size",
     got(2.5))
case("randperm-neg", lambda L: L.t.randperm(-1), ValueError, "randperm", "n", "-1",
     compare="torch")
case("randperm-float", lambda L: L.t.randperm(2.5), TypeError, "randperm", "n", got(2.5))
case("randperm-str", lambda L: L.t.randperm("4"), TypeError, "randperm", "n", got("4"))
case("arange-step-zero", lambda L: L.t.arange(0, 10, 0), ValueError, "arange", "step", "0",
     compare="torch")
case("arange-wrong-direction", lambda L: L.t.arange(10, 0, 1), ValueError, "arange",
     ("end", "stop", "step"), "10", compare="torch")
case("arange-str", lambda L: L.t.arange("a"), TypeError, "arange", ("end", "start"),
     ("'a'", "str"))
case("arange-none", lambda L: L.t.arange(None), TypeError, "arange", ("end", "start"), "None")
case("arange-nan", lambda L: L.t.arange(0, float("nan")), ValueError, "arange", ("end", "stop"),
     "nan", compare="torch")
case("arange-inf", lambda L: L.t.arange(0, float("inf")), ValueError, "arange", ("end", "stop"),
     "inf", compare="torch")
# xpnet.linspace(start, stop, num) has the standard's names, torch's are (start, end, steps).
STEPS = ("steps", "num")
case("linspace-steps-neg", lambda L: L.t.linspace(0, 1, -1), ValueError, "linspace", STEPS,
     "-1", compare="torch")
case("linspace-steps-float", lambda L: L.t.linspace(0, 1, 2.5), TypeError, "linspace", STEPS,
     got(2.5), compare="torch")
case("linspace-start-str", lambda L: L.t.linspace("a", 1, 3), TypeError, "linspace", "start",
     ("'a'", "str"))
case("eye-neg", lambda L: L.t.eye(-1), ValueError, "eye", "n", "-1", compare="torch")
case("eye-m-neg", lambda L: L.t.eye(2, -1), ValueError, "eye", "m", "-1")
case("eye-float", lambda L: L.t.eye(2.5), TypeError, "eye", "n", got(2.5), compare="torch")
for _name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
    case(f"{_name}-list", functools.partial(lambda L, n: getattr(L.t, n)([1.0, 2.0]), n=_name),
         TypeError, _name, "input", "list", compare="torch" if _name == "zeros_like" else None)
    case(f"{_name}-none", functools.partial(lambda L, n: getattr(L.t, n)(None), n=_name),
         TypeError, _name, "input", "None")
case("full_like-fill-str", lambda L: L.t.full_like(L.x(), "a"), TypeError, "full_like",
     "fill_value", ("'a'", "str"))
# tensor(data) has one data argument: "cannot make a tensor from a str" names it well enough.
DATA = ("data", "tensor from a")
case("tensor-ragged", lambda L: L.t.tensor([[1, 2], [3]]), ValueError, "tensor", DATA,
     ("length", "ragged"), compare="torch")
case("tensor-str", lambda L: L.t.tensor("abc"), TypeError, "tensor", DATA, "str",
     compare="torch")
case("tensor-list-with-str", lambda L: L.t.tensor([1, "a"]), TypeError, "tensor", DATA, "str",
     compare="torch")
case("tensor-dict", lambda L: L.t.tensor({1: 2}), TypeError, "tensor", DATA, "dict")
case("tensor-none", lambda L: L.t.tensor(None), TypeError, "tensor", DATA, "None")
case("tensor-object", lambda L: L.t.tensor(object()), TypeError, "tensor", DATA, "object")
case("tensor-nested-none", lambda L: L.t.tensor([[1.0], [None]]), TypeError, "tensor", DATA,
     "None")
case("tensor-object-array", lambda L: L.t.tensor(np.array(["a", "b"], dtype=object)), TypeError,
     "tensor", DATA, "object")
case("tensor-str-array", lambda L: L.t.tensor(np.array(["a", "b"])), TypeError, "tensor", DATA,
     ("<U1", "str"))
case("tensor-datetime-array",
     lambda L: L.t.tensor(np.array(["2020-01-01"], dtype="datetime64[D]")), TypeError, "tensor",
     DATA, "datetime64")
case("as_tensor-str", lambda L: L.t.as_tensor("abc"), TypeError, "as_tensor", DATA, "str")
case("as_tensor-ragged", lambda L: L.t.as_tensor([[1.0], [2.0, 3.0]]), ValueError, "as_tensor",
     "data", ("length", "ragged"))
case("tensor-requires-grad-int", lambda L: L.t.tensor([1, 2], requires_grad=True), TypeError,
     "tensor", "requires_grad", "int64")
case("tensor-requires-grad-str", lambda L: L.t.tensor([1.0], requires_grad="yes"), TypeError,
     "tensor", "requires_grad", ("'yes'", "str"))
case("from_numpy-list", lambda L: L.t.from_numpy([1, 2]), TypeError, "from_numpy", "list",
     ("ndarray", "array"), compare="torch")

# Bad dtypes: names that are no dtype, NumPy dtypes xpnet has no tensor for.
TO = ("Tensor.to", ".to")
_BAD_DTYPES = [
    ("typo", "floot32", ("'floot32'",)),
    ("int33", "int33", ("'int33'",)),
    ("np-str", np.dtype("U3"), ("<U3", "str")),
    ("np-object", np.dtype(object), ("object", "dtype('O')")),
    ("np-datetime", np.dtype("datetime64[s]"), ("datetime64", "<M8[s]")),
    ("int", 3, ("3",)),
]
for _label, _dtype, _got in _BAD_DTYPES:
    case(f"tensor-dtype-{_label}", functools.partial(lambda L, d: L.t.tensor([1.0], dtype=d),
                                                     d=_dtype),
         TypeError, "tensor", "dtype", _got)
    case(f"zeros-dtype-{_label}", functools.partial(lambda L, d: L.t.zeros(2, dtype=d), d=_dtype),
         TypeError, "zeros", "dtype", _got)
    case(f"arange-dtype-{_label}", functools.partial(lambda L, d: L.t.arange(3, dtype=d),
                                                     d=_dtype),
         TypeError, "arange", "dtype", _got)
    case(f"to-dtype-{_label}", functools.partial(lambda L, d: L.x().to(dtype=d), d=_dtype),
         TypeError, TO, "dtype", _got)
case("to-bad-string", lambda L: L.x().to("floot"), ValueError, TO, ("device", "dtype"),
     "'floot'")
case("to-device-bad", lambda L: L.x().to(device="bogus:0"), ValueError, TO, "device",
     "'bogus")
def restoring(get, put, call):
    """``call`` that puts a global setting back even when the library accepts the bad value,
    so that a silent case cannot change the behaviour of the cases after it."""
    def wrapped(L):
        saved = get(L)
        try:
            return call(L)
        finally:
            put(L, saved)
    return wrapped


case("set_default_dtype-int",
     restoring(lambda L: L.t.get_default_dtype(), lambda L, d: L.t.set_default_dtype(d),
               lambda L: L.t.set_default_dtype(L.t.int64)),
     TypeError, "set_default_dtype", "d", "int64", compare="torch")
case("device-bogus", lambda L: L.t.device("bogus"), ValueError, "device",
     ("type", "unknown device"), "'bogus'",
     compare="torch")

# --------------------------------------------------------------------------------------------
# Shape ops on x of shape (2, 3).

CAT = ("cat", "concat")  # torch.cat is torch.concat; the standard's name is concat
TENSORS = ("tensors", "tensor 1")  # the parameter, or the position of the bad element in it
DIMS = ("dims", "axes", "axis")
SPLIT = ("split_size", "split size", "sections")
START, END = ("start_dim", "start_axis"), ("end_dim", "end_axis")

case("reshape-size-mismatch", lambda L: L.x().reshape(4, 2), ValueError, "reshape", "shape",
     shape(4, 2), compare="torch")
case("reshape-two-minus-one", lambda L: L.x().reshape(-1, -1), ValueError, "reshape", "shape",
     "-1", compare="torch")
case("reshape-minus-two", lambda L: L.x().reshape(-2, 3), ValueError, "reshape", "shape", "-2",
     compare="torch")
case("reshape-float", lambda L: L.x().reshape(2.5, 2), TypeError, "reshape", "shape", got(2.5),
     compare="torch")
case("reshape-str", lambda L: L.t.reshape(L.x(), "a"), TypeError, "reshape", "shape",
     ("'a'", "str"))
case("view-size-mismatch", lambda L: L.x().view(4, 2), ValueError, "view", ("shape", "size"),
     shape(4, 2), compare="torch")
case("view-float", lambda L: L.x().view(1.5, 4), TypeError, "view", ("shape", "size"), got(1.5))
case("permute-repeated", lambda L: L.x().permute(0, 0), ValueError, "permute", DIMS, "0",
     compare="torch")
case("permute-out-of-range", lambda L: L.x().permute(0, 2), IndexError, "permute", DIMS, "2",
     compare="torch")
case("permute-too-few", lambda L: L.x().permute(0), ValueError, "permute", DIMS, ("(0,)", "[0]"),
     compare="torch")
case("permute-float", lambda L: L.x().permute(0.0, 1), TypeError, "permute", DIMS, got(0.0))
case("transpose-out-of-range", lambda L: L.x().transpose(0, 2), IndexError, "transpose", DIM,
     "2", compare="torch")
case("transpose-neg-out-of-range", lambda L: L.t.transpose(L.x(), -3, 0), IndexError,
     "transpose", DIM, "-3")
case("transpose-float", lambda L: L.x().transpose(0.5, 1), TypeError, "transpose", DIM, got(0.5),
     compare="torch")
case("squeeze-out-of-range", lambda L: L.x().squeeze(2), IndexError, "squeeze", DIM, "2",
     compare="torch")
case("squeeze-float", lambda L: L.x().squeeze(0.5), TypeError, "squeeze", DIM, got(0.5))
case("unsqueeze-out-of-range", lambda L: L.x().unsqueeze(4), IndexError, "unsqueeze", DIM, "4",
     compare="torch")
case("unsqueeze-neg-out-of-range", lambda L: L.x().unsqueeze(-4), IndexError, "unsqueeze", DIM,
     "-4")
case("unsqueeze-none", lambda L: L.x().unsqueeze(None), TypeError, "unsqueeze", DIM, got(None))
case("cat-size-mismatch", lambda L: L.t.cat([L.x(), L.t.ones(2, 4)]), ValueError, CAT,
     TENSORS, shape(2, 4), compare="torch")
case("cat-ndim-mismatch", lambda L: L.t.cat([L.x(), L.t.ones(3)]), ValueError, CAT, TENSORS,
     ("(3,)", "[3]", "1-d", "1d"), compare="torch")
case("cat-dim-out-of-range", lambda L: L.t.cat([L.x(), L.x()], dim=2), IndexError, CAT, DIM,
     "2", compare="torch")
case("cat-empty", lambda L: L.t.cat([]), ValueError, CAT, TENSORS, ("empty", "[]"),
     compare="torch")
case("cat-tensor-not-list", lambda L: L.t.cat(L.x()), TypeError, CAT, TENSORS, "Tensor",
     compare="torch")
case("cat-int-element", lambda L: L.t.cat([L.x(), 1]), TypeError, CAT, TENSORS, "int",
     compare="torch")
case("cat-dim-float", lambda L: L.t.cat([L.x(), L.x()], dim=0.5), TypeError, CAT, DIM, got(0.5))
case("stack-size-mismatch", lambda L: L.t.stack([L.x(), L.t.ones(3, 2)]), ValueError, "stack",
     TENSORS, shape(3, 2), compare="torch")
case("stack-dim-out-of-range", lambda L: L.t.stack([L.x(), L.x()], dim=4), IndexError, "stack",
     DIM, "4", compare="torch")
case("stack-empty", lambda L: L.t.stack([]), ValueError, "stack", TENSORS, ("empty", "[]"),
     compare="torch")
case("stack-none-element", lambda L: L.t.stack([L.x(), None]), TypeError, "stack", TENSORS,
     got(None))
case("split-size-zero", lambda L: L.t.split(L.x(), 0), ValueError, "split", SPLIT, "0",
     compare="torch")
case("split-size-neg", lambda L: L.t.split(L.x(), -1), ValueError, "split", SPLIT, "-1")
case("split-sections-sum", lambda L: L.t.split(L.x(), [1, 1], dim=1), ValueError, "split",
     SPLIT, "[1, 1]", compare="torch")
case("split-dim-out-of-range", lambda L: L.t.split(L.x(), 1, dim=5), IndexError, "split", DIM,
     "5", compare="torch")
case("split-size-float", lambda L: L.t.split(L.x(), 1.5), TypeError, "split", SPLIT, got(1.5))
case("chunk-zero", lambda L: L.t.chunk(L.x(), 0), ValueError, "chunk", "chunks", "0",
     compare="torch")
case("chunk-neg", lambda L: L.t.chunk(L.x(), -1), ValueError, "chunk", "chunks", "-1")
case("chunk-float", lambda L: L.t.chunk(L.x(), 1.5), TypeError, "chunk", "chunks", got(1.5),
     compare="torch")
case("chunk-dim-out-of-range", lambda L: L.t.chunk(L.x(), 2, dim=3), IndexError, "chunk", DIM,
     "3", compare="torch")
case("expand-mismatch", lambda L: L.x().expand(3, 3), ValueError, "expand", "size", "3",
     compare="torch")
case("expand-too-few", lambda L: L.x().expand(3), ValueError, "expand", "size", ("(3,)", "[3]"),
     compare="torch")
case("expand-float", lambda L: L.x().expand(2, 3.5), TypeError, "expand", "size", got(3.5))
case("flatten-start-out-of-range", lambda L: L.t.flatten(L.x(), 2), IndexError, "flatten",
     START, "2", compare="torch")
case("flatten-end-out-of-range", lambda L: L.x().flatten(0, 5), IndexError, "flatten", END,
     "5", compare="torch")
case("flatten-start-after-end", lambda L: L.t.flatten(L.x(), 1, 0), ValueError, "flatten",
     START, END, compare="torch")
case("repeat-too-few", lambda L: L.x().repeat(2), ValueError, "repeat", ("repeats", "sizes"),
     ("(2,)", "[2]"), compare="torch")
case("repeat-neg", lambda L: L.x().repeat(-1, 1), ValueError, "repeat", ("repeats", "sizes"),
     "-1", compare="torch")
case("unflatten-bad-product", lambda L: L.x().unflatten(1, (2, 2)), ValueError, "unflatten",
     "sizes", shape(2, 2), compare="torch")
case("movedim-out-of-range", lambda L: L.t.movedim(L.x(), 0, 2), IndexError, "movedim",
     "destination", "2")
case("narrow-out-of-range", lambda L: L.x().narrow(1, 2, 5), ValueError, "narrow", "length", "5")
case("roll-dim-out-of-range", lambda L: L.t.roll(L.x(), 1, dims=4), IndexError, "roll", DIMS,
     "4", compare="torch")
case("flip-dim-out-of-range", lambda L: L.t.flip(L.x(), [3]), IndexError, "flip", DIMS, "3",
     compare="torch")
case("tile-neg", lambda L: L.t.tile(L.x(), (-1, 1)), ValueError, "tile", ("dims", "repeats"), "-1")

# --------------------------------------------------------------------------------------------
# Reductions and axis arguments.

_REDUCTIONS = {
    "sum": lambda L, d: L.t.sum(L.x(), dim=d),
    "mean": lambda L, d: L.t.mean(L.x(), dim=d),
    "prod": lambda L, d: L.t.prod(L.x(), dim=d),
    "amax": lambda L, d: L.t.amax(L.x(), dim=d),
    "amin": lambda L, d: L.t.amin(L.x(), dim=d),
    "argmax": lambda L, d: L.t.argmax(L.x(), dim=d),
    "argmin": lambda L, d: L.t.argmin(L.x(), dim=d),
    "max": lambda L, d: L.t.max(L.x(), dim=d),
    "min": lambda L, d: L.t.min(L.x(), dim=d),
    "std": lambda L, d: L.t.std(L.x(), dim=d),
    "var": lambda L, d: L.t.var(L.x(), dim=d),
    "logsumexp": lambda L, d: L.t.logsumexp(L.x(), dim=d),
    "cumsum": lambda L, d: L.t.cumsum(L.x(), dim=d),
    "cumprod": lambda L, d: L.t.cumprod(L.x(), dim=d),
    "softmax": lambda L, d: L.F.softmax(L.x(), dim=d),
    "log_softmax": lambda L, d: L.F.log_softmax(L.x(), dim=d),
    "all": lambda L, d: L.t.all(L.x() > 0, dim=d),
    "any": lambda L, d: L.t.any(L.x() > 0, dim=d),
    "sort": lambda L, d: L.t.sort(L.x(), dim=d),
    "argsort": lambda L, d: L.t.argsort(L.x(), dim=d),
    "norm": lambda L, d: L.t.norm(L.x(), dim=d),
    "median": lambda L, d: L.t.median(L.x(), dim=d),
}
for _name, _make in _REDUCTIONS.items():
    case(f"{_name}-dim-out-of-range", functools.partial(lambda L, m: m(L, 2), m=_make),
         IndexError, _name, DIM, "2",
         compare="torch" if _name in ("sum", "max", "softmax", "cumsum", "argmax") else None)
    case(f"{_name}-dim-neg-out-of-range", functools.partial(lambda L, m: m(L, -3), m=_make),
         IndexError, _name, DIM, "-3")
    case(f"{_name}-dim-float", functools.partial(lambda L, m: m(L, 1.5), m=_make),
         TypeError, _name, DIM, got(1.5),
         compare="torch" if _name in ("sum", "mean") else None)
case("sum-dim-repeated", lambda L: L.t.sum(L.x(), dim=(0, 0)), ValueError, "sum", DIM, "0",
     compare="torch")
case("mean-dim-str", lambda L: L.t.mean(L.x(), dim="a"), TypeError, "mean", DIM, got("a"))
case("topk-k-too-large", lambda L: L.t.topk(L.x(), 5), ValueError, "topk", "k", "5",
     compare="torch")
case("topk-k-neg", lambda L: L.t.topk(L.x(), -1), ValueError, "topk", "k", "-1")
case("topk-k-float", lambda L: L.t.topk(L.x(), 1.5), TypeError, "topk", "k", got(1.5),
     compare="torch")
case("kthvalue-k-too-large", lambda L: L.t.kthvalue(L.x(), 4), ValueError, "kthvalue", "k", "4")
case("std-correction-str", lambda L: L.t.std(L.x(), correction="a"), TypeError, "std",
     "correction", ("'a'", "str"))

# --------------------------------------------------------------------------------------------
# Indexing.

# Indexing is the call ``x[...]``: the message names it as indexing (getitem/setitem) and says
# which axis, or the shape of the tensor.
INDEX = ("index", "getitem", "indices")
SETITEM = ("setitem", "index")
case("index-out-of-range", lambda L: L.x()[2], IndexError, INDEX, DIM + ("dimension",), "2",
     compare="torch")
case("index-second-out-of-range", lambda L: L.x()[0, 3], IndexError, INDEX,
     DIM + ("dimension",), "3", compare="torch")
case("index-neg-out-of-range", lambda L: L.x()[-3], IndexError, INDEX, DIM + ("dimension",),
     "-3", compare="torch")
case("index-too-many", lambda L: L.x()[0, 0, 0], IndexError, INDEX, ("too many", "3 indices"),
     shape(2, 3), compare="torch")
# torch raises IndexError for a float index, the rule TypeError for a wrong type: either.
case("index-float", lambda L: L.x()[0.5], (IndexError, TypeError), INDEX, got(0.5),
     ("int", "integer"), compare="torch")
case("index-str", lambda L: L.x()["a"], TypeError, INDEX, got("a"), ("int", "integer"),
     compare="torch")
case("index-tensor-out-of-range", lambda L: L.x()[L.long([0, 5])], IndexError, INDEX,
     DIM + ("dimension",), "5", compare="torch")
case("index-float-tensor", lambda L: L.x()[L.t.tensor([0.0, 1.0])], (IndexError, TypeError),
     INDEX, "float32", ("int", "bool", "long"), compare="torch")
case("mask-shape-1d", lambda L: L.x()[L.t.ones(3) > 0], IndexError, "mask", INDEX, shape(3),
     shape(2, 3), compare="torch")
case("mask-shape-2d", lambda L: L.x()[L.t.ones(2, 2) > 0], IndexError, "mask", INDEX, shape(2, 2),
     shape(2, 3), compare="torch")
case("mask-shape-setitem", lambda L: L.x().__setitem__(L.t.ones(3) > 0, 1.0), IndexError,
     "mask", SETITEM,
     shape(3), shape(2, 3), compare="torch")
case("setitem-out-of-range", lambda L: L.x().__setitem__(2, 1.0), IndexError, SETITEM,
     DIM + ("dimension",), "2", compare="torch")
case("setitem-value-str", lambda L: L.x().__setitem__(0, "a"), TypeError, "setitem",
     "value", got("a"))
case("setitem-value-shape", lambda L: L.x().__setitem__(0, L.t.ones(4)), ValueError, "setitem",
     "value", shape(4), compare="torch")
case("gather-index-out-of-range", lambda L: L.t.gather(L.x(), 1, L.long([[0, 5]])), IndexError,
     "gather", "index", "5", compare="torch")
case("gather-index-float", lambda L: L.t.gather(L.x(), 1, L.t.zeros(2, 1)), TypeError, "gather",
     "index", "float32")
case("gather-dim-out-of-range", lambda L: L.t.gather(L.x(), 2, L.long([[0]])), IndexError,
     "gather", DIM, "2", compare="torch")
case("index_select-out-of-range", lambda L: L.t.index_select(L.x(), 0, L.long([2])), IndexError,
     "index_select", "index", "2", compare="torch")
case("index_select-float", lambda L: L.t.index_select(L.x(), 0, L.t.tensor([0.0])), TypeError,
     "index_select", "index", "float32")
case("take-out-of-range", lambda L: L.t.take(L.x(), L.long([6])), IndexError, "take", "index",
     "6", compare="torch")
case("masked_fill-float-mask", lambda L: L.x().masked_fill(L.t.ones(2, 3), 0.0), TypeError,
     "masked_fill", "mask", "float32", compare="torch")
case("masked_fill-mask-shape", lambda L: L.x().masked_fill(L.t.ones(4) > 0, 0.0), ValueError,
     "masked_fill", "mask", shape(4), compare="torch")
case("where-shape", lambda L: L.t.where(L.t.ones(3) > 0, L.t.ones(3), L.t.ones(4)), ValueError,
     "where", shape(4), ("other", "y", "input", "x", "condition"), compare="torch")
case("scatter-index-out-of-range",
     lambda L: L.t.zeros(2, 3).scatter(1, L.long([[5]]), 1.0), IndexError, "scatter", "index",
     "5", compare="torch")
# A class value outside [0, num_classes) is an out-of-range index (cross_entropy's IndexError,
# as torch's nll_loss) or a bad value (torch's one_hot raises RuntimeError): either.
case("one_hot-out-of-range", lambda L: L.F.one_hot(L.long([3]), 3), (IndexError, ValueError),
     "one_hot", "num_classes", "3", compare="torch")
case("one_hot-float", lambda L: L.F.one_hot(L.t.tensor([1.0])), TypeError, "one_hot",
     ("input", "tensor"), "float32", compare="torch")
case("one_hot-neg", lambda L: L.F.one_hot(L.long([-1]), 3), (IndexError, ValueError), "one_hot",
     ("input", "tensor", "class values"), "-1", compare="torch")

# --------------------------------------------------------------------------------------------
# Arithmetic and conversion.

# name -> (spellings of the call in a message, the operator); "a" < x is x > "a" to Python.
_OPERATORS = {
    "add": (("add", "+"), lambda a, b: a + b), "sub": (("sub", "-"), lambda a, b: a - b),
    "mul": (("mul", "*"), lambda a, b: a * b), "div": (("div", "/"), lambda a, b: a / b),
    "pow": (("pow", "**"), lambda a, b: a ** b), "matmul": (("matmul", "@"), lambda a, b: a @ b),
    "lt": (("lt", "<", "gt", ">"), lambda a, b: a < b),
    "floordiv": (("floordiv", "floor_divide", "//"), lambda a, b: a // b),
}
OPERAND = ("other", "operand", "exponent", "input")
for _name, (_call, _op) in _OPERATORS.items():
    for _label, _other in (("str", "a"), ("none", None)):
        case(f"{_name}-{_label}",
             functools.partial(lambda L, op, o: op(L.x(), o), op=_op, o=_other), TypeError, _call, OPERAND, got(_other),
             compare="torch" if _name in ("add", "mul") and _label == "str" else None)
    case(f"r{_name}-str", functools.partial(lambda L, op: op("a", L.x()), op=_op), TypeError,
         _call, OPERAND, got("a"))
for _name, (_call, _op) in list(_OPERATORS.items())[:5]:
    case(f"{_name}-shape-mismatch",
         functools.partial(lambda L, op: op(L.x(), L.t.ones(4)), op=_op), ValueError,
         _call, OPERAND + ("broadcast",), shape(4),
         compare="torch" if _name in ("add",) else None)
case("add-alpha-str", lambda L: L.t.add(L.x(), L.x(), alpha="a"), TypeError, "add", "alpha",
     got("a"))
case("add_-broadcast-grows", lambda L: L.t.ones(3).add_(L.t.ones(2, 3)), ValueError, "add_",
     shape(2, 3), shape(3), compare="torch")
case("add_-int-by-float", lambda L: L.long([1, 2]).add_(0.5), TypeError, "add_", "int64",
     "float", compare="torch")
case("mul_-shape", lambda L: L.x().mul_(L.t.ones(4)), ValueError, ("mul_", "mul"), shape(4),
     ("other", "broadcast"), compare="torch")
case("copy_-shape", lambda L: L.x().copy_(L.t.ones(4)), ValueError, "copy_", "src", shape(4),
     compare="torch")
case("copy_-str", lambda L: L.x().copy_("a"), TypeError, "copy_", "src", "str", compare="torch")
case("fill_-str", lambda L: L.x().fill_("a"), TypeError, "fill_", "value", got("a"),
     compare="torch")
case("clamp-min-str", lambda L: L.t.clamp(L.x(), min="a"), TypeError, ("clamp", "clip"),
     "min", got("a"), compare="torch")
case("matmul-shape", lambda L: L.t.matmul(L.x(), L.t.ones(2, 3)), ValueError, "matmul",
     ("other", "input", "shape"), shape(2, 3), compare="torch")
case("matmul-vector-shape", lambda L: L.x() @ L.t.ones(4), ValueError, ("matmul", "@"),
     ("other", "shape"), shape(4), compare="torch")
case("matmul-scalar", lambda L: L.t.matmul(L.x(), L.t.tensor(2.0)), ValueError, "matmul",
     ("0-d", "scalar", "()"), OPERAND, compare="torch")
case("mm-shape", lambda L: L.t.mm(L.x(), L.t.ones(4, 2)), ValueError, "mm", ("mat2", "shape"),
     shape(4, 2), compare="torch")
case("mm-1d", lambda L: L.t.mm(L.x(), L.t.ones(3)), ValueError, "mm", "mat2", ("1-d", "(3,)",
     "[3]", "1d"), compare="torch")
case("bmm-2d", lambda L: L.t.bmm(L.x(), L.t.ones(3, 2)), ValueError, "bmm", ("3-d", "3d"),
     ("input", "mat2"), compare="torch")
case("dot-shape", lambda L: L.t.dot(L.t.ones(3), L.t.ones(4)), ValueError, "dot", shape(4),
     ("tensor", "other", "input"), compare="torch")
case("outer-2d", lambda L: L.t.outer(L.x(), L.t.ones(3)), ValueError, "outer", "1-d",
     shape(2, 3))
case("einsum-size-mismatch", lambda L: L.t.einsum("ij,jk", L.x(), L.x()), ValueError, "einsum",
     ("equation", "subscript"), "'j'", compare="torch")
case("einsum-bad-equation", lambda L: L.t.einsum("ij,jk->iq", L.x(), L.t.ones(3, 2)), ValueError,
     "einsum", ("equation", "subscript"), "q", compare="torch")
case("einsum-operand-count", lambda L: L.t.einsum("ij,jk->ik", L.x()), ValueError, "einsum",
     "operands", "1", compare="torch")
case("item-many", lambda L: L.x().item(), ValueError, "item", ("6",) + shape(2, 3),
     ("element", "scalar"), compare="torch")
case("float-many", lambda L: float(L.x()), ValueError, ("float", "item"), ("6",) + shape(2, 3),
     ("element", "scalar"), compare="torch")
case("bool-many", lambda L: bool(L.x()), ValueError, ("bool", "truth value"),
     ("6",) + shape(2, 3), "ambiguous", compare="torch")
case("len-0d", lambda L: len(L.t.tensor(1.0)), TypeError, "len", "0-d", "tensor", compare="torch")
case("iter-0d", lambda L: iter(L.t.tensor(1.0)), TypeError, "iter", "0-d", "tensor",
     compare="torch")
case("requires_grad_-int", lambda L: L.long([1]).requires_grad_(), TypeError, "requires_grad",
     "int64", ("float", "dtype"), compare="torch")

# --------------------------------------------------------------------------------------------
# Autograd: .grad assignment and backward(gradient=).

def _leaf(L):
    return L.t.ones(2, 3, requires_grad=True)


def _assign_grad(value):
    def call(L):
        leaf = _leaf(L)
        leaf.grad = value(L)
    return call


case("grad-assign-shape", _assign_grad(lambda L: L.t.ones(4)), ValueError, "grad", shape(4),
     shape(2, 3), compare="torch")
case("grad-assign-str", _assign_grad(lambda L: "a"), TypeError, "grad", "str", "Tensor",
     compare="torch")
case("grad-assign-int-dtype", _assign_grad(lambda L: L.t.ones(2, 3, dtype=L.t.int64)), TypeError,
     "grad", "int64", "float32", compare="torch")
case("grad-assign-list", _assign_grad(lambda L: [[0.0] * 3] * 2), TypeError, "grad", "list",
     "Tensor", compare="torch")
case("grad-assign-float64", _assign_grad(lambda L: L.t.ones(2, 3, dtype=L.t.float64)), TypeError,
     "grad", "float64", "float32", compare="torch")
# torch raises RuntimeError here, and so may xpnet: it is the one torch type kept for bad input.
case("backward-nonscalar", lambda L: (_leaf(L) * 2).backward(), (ValueError, RuntimeError),
     "backward", "gradient", shape(2, 3), compare="torch")
case("backward-gradient-shape", lambda L: (_leaf(L) * 2).backward(gradient=L.t.ones(4)),
     ValueError, "backward", "gradient", shape(4), compare="torch")
case("backward-gradient-str", lambda L: (_leaf(L) * 2).backward(gradient="a"), TypeError,
     "backward", "gradient", "str", compare="torch")
case("autograd-grad-outputs-str", lambda L: L.t.autograd.grad("a", [_leaf(L)]), TypeError,
     "grad", "outputs", "str", compare="torch")

# --------------------------------------------------------------------------------------------
# nn layers: constructors and forward.

case("Linear-in-neg", lambda L: L.nn.Linear(-1, 2), ValueError, "Linear", "in_features", "-1",
     compare="torch")
case("Linear-out-neg", lambda L: L.nn.Linear(2, -1), ValueError, "Linear", "out_features", "-1",
     compare="torch")
case("Linear-in-float", lambda L: L.nn.Linear(2.5, 2), TypeError, "Linear", "in_features",
     got(2.5), compare="torch")
case("Linear-in-str", lambda L: L.nn.Linear("2", 3), TypeError, "Linear", "in_features",
     got("2"), compare="torch")
case("Linear-in-none", lambda L: L.nn.Linear(None, 3), TypeError, "Linear", "in_features",
     got(None))
# A layer validates in its functional (STYLE.md: "Validate in F.linear, so layer and function
# raise the same error"), so a layer's message may name the functional and its argument (x).
INPUT = ("input", "x of shape", "x.shape")
case("Linear-forward-features", lambda L: L.nn.Linear(3, 2)(L.t.ones(4, 5)), ValueError,
     "Linear", ("in_features",) + INPUT, "5", compare="torch")
case("Linear-forward-str", lambda L: L.nn.Linear(3, 2)("a"), TypeError, "Linear",
     INPUT + ("x must",), "str", compare="torch")
case("linear-weight-shape", lambda L: L.F.linear(L.x(), L.t.ones(4, 5)), ValueError, "linear",
     "weight", shape(4, 5) + shape(2, 3), compare="torch")
case("linear-bias-shape", lambda L: L.F.linear(L.x(), L.t.ones(4, 3), L.t.ones(5)), ValueError,
     "linear", "bias", shape(5), compare="torch")
case("Bilinear-neg", lambda L: L.nn.Bilinear(2, -1, 3), ValueError, "Bilinear", "in2_features",
     "-1", compare="torch")
case("Conv2d-kernel-zero", lambda L: L.nn.Conv2d(3, 4, 0), ValueError, "Conv2d", "kernel_size",
     "0")
case("Conv2d-kernel-neg", lambda L: L.nn.Conv2d(3, 4, -1), ValueError, "Conv2d", "kernel_size",
     "-1", compare="torch")
case("Conv2d-in-neg", lambda L: L.nn.Conv2d(-1, 4, 3), ValueError, "Conv2d", "in_channels", "-1")
case("Conv2d-out-zero", lambda L: L.nn.Conv2d(3, 0, 3), ValueError, "Conv2d", "out_channels",
     "0")
case("Conv2d-stride-zero", lambda L: L.nn.Conv2d(3, 4, 3, stride=0), ValueError, "Conv2d",
     "stride", "0")
case("Conv2d-padding-neg", lambda L: L.nn.Conv2d(3, 4, 3, padding=-1), ValueError, "Conv2d",
     "padding", "-1")
case("Conv2d-dilation-zero", lambda L: L.nn.Conv2d(3, 4, 3, dilation=0), ValueError, "Conv2d",
     "dilation", "0")
case("Conv2d-groups", lambda L: L.nn.Conv2d(3, 4, 3, groups=2), ValueError, "Conv2d", "groups",
     "2", compare="torch")
case("Conv2d-groups-zero", lambda L: L.nn.Conv2d(3, 4, 3, groups=0), ValueError, "Conv2d",
     "groups", "0", compare="torch")
case("Conv2d-padding-str", lambda L: L.nn.Conv2d(3, 4, 3, padding="bogus"), ValueError, "Conv2d",
     "padding", "'bogus'", compare="torch")
case("Conv2d-padding_mode", lambda L: L.nn.Conv2d(3, 4, 3, padding_mode="bogus"), ValueError,
     "Conv2d", "padding_mode", "'bogus'", compare="torch")
case("Conv2d-kernel-float", lambda L: L.nn.Conv2d(3, 4, 2.5), TypeError, "Conv2d", "kernel_size",
     got(2.5))
case("Conv2d-forward-channels", lambda L: L.nn.Conv2d(3, 4, 3)(L.t.ones(1, 2, 5, 5)), ValueError,
     "Conv2d", ("channels", "in_channels"), "2", compare="torch")
case("Conv2d-forward-small", lambda L: L.nn.Conv2d(3, 4, 3)(L.t.ones(1, 3, 2, 2)), ValueError,
     "Conv2d", ("kernel_size", "kernel size"), shape(2, 2), compare="torch")
case("Conv2d-forward-2d", lambda L: L.nn.Conv2d(3, 4, 3)(L.t.ones(3, 5)), ValueError, "Conv2d",
     "input", shape(3, 5), compare="torch")
case("Conv1d-forward-1d", lambda L: L.nn.Conv1d(2, 2, 3)(L.t.ones(2)), ValueError, "Conv1d",
     "input", shape(2), compare="torch")
case("conv2d-weight-channels",
     lambda L: L.F.conv2d(L.t.ones(1, 3, 5, 5), L.t.ones(4, 2, 3, 3)), ValueError, "conv2d",
     "weight", shape(4, 2, 3, 3) + shape(1, 3, 5, 5), compare="torch")
case("ConvTranspose2d-stride-zero", lambda L: L.nn.ConvTranspose2d(3, 4, 3, stride=0), ValueError,
     "ConvTranspose2d", "stride", "0")
case("Dropout-p-high", lambda L: L.nn.Dropout(1.5), ValueError, "Dropout", "p", "1.5",
     compare="torch")
case("Dropout-p-neg", lambda L: L.nn.Dropout(-0.1), ValueError, "Dropout", "p", "-0.1",
     compare="torch")
case("Dropout-p-str", lambda L: L.nn.Dropout("a"), TypeError, "Dropout", "p", got("a"))
case("Dropout2d-p-high", lambda L: L.nn.Dropout2d(2.0), ValueError, "Dropout2d", "p", "2.0",
     compare="torch")
case("dropout-p-high", lambda L: L.F.dropout(L.x(), p=2.0), ValueError, "dropout", "p", "2.0",
     compare="torch")
case("Embedding-num-neg", lambda L: L.nn.Embedding(-1, 3), ValueError, "Embedding",
     "num_embeddings", "-1", compare="torch")
case("Embedding-dim-neg", lambda L: L.nn.Embedding(3, -2), ValueError, "Embedding",
     "embedding_dim", "-2", compare="torch")
case("Embedding-num-float", lambda L: L.nn.Embedding(2.5, 3), TypeError, "Embedding",
     "num_embeddings", got(2.5), compare="torch")
case("Embedding-padding_idx", lambda L: L.nn.Embedding(3, 2, padding_idx=5), ValueError,
     "Embedding", "padding_idx", "5", compare="torch")
case("Embedding-forward-out-of-range", lambda L: L.nn.Embedding(3, 2)(L.long([3])), IndexError,
     "Embedding", ("input", "indices"), "3", compare="torch")
case("Embedding-forward-float", lambda L: L.nn.Embedding(3, 2)(L.t.tensor([0.0])), TypeError,
     "Embedding", ("input", "indices"), "float32", compare="torch")
case("embedding-out-of-range", lambda L: L.F.embedding(L.long([5]), L.t.ones(3, 2)), IndexError,
     "embedding", ("input", "indices"), "5", compare="torch")
case("EmbeddingBag-mode", lambda L: L.nn.EmbeddingBag(3, 2, mode="bogus"), ValueError,
     "EmbeddingBag", "mode", "'bogus'")
for _rnn in ("RNN", "LSTM", "GRU"):
    case(f"{_rnn}-num_layers-zero",
         functools.partial(lambda L, n: getattr(L.nn, n)(4, 8, num_layers=0), n=_rnn),
         ValueError, _rnn, "num_layers", "0", compare="torch")
    case(f"{_rnn}-hidden-zero", functools.partial(lambda L, n: getattr(L.nn, n)(4, 0), n=_rnn),
         ValueError, _rnn, "hidden_size", "0", compare="torch")
    case(f"{_rnn}-num_layers-float",
         functools.partial(lambda L, n: getattr(L.nn, n)(4, 8, num_layers=1.5), n=_rnn),
         TypeError, _rnn, "num_layers", got(1.5), compare="torch")
    case(f"{_rnn}-dropout-high",
         functools.partial(lambda L, n: getattr(L.nn, n)(4, 8, dropout=1.5), n=_rnn),
         ValueError, _rnn, "dropout", "1.5", compare="torch")
    case(f"{_rnn}-forward-features",
         functools.partial(lambda L, n: getattr(L.nn, n)(4, 8)(L.t.ones(2, 3, 5)), n=_rnn),
         ValueError, _rnn, ("input_size", "input"), "5", compare="torch")
    case(f"{_rnn}-forward-1d",
         functools.partial(lambda L, n: getattr(L.nn, n)(4, 8)(L.t.ones(4)), n=_rnn),
         ValueError, _rnn, "input", ("1-d", "1d", "(4,)", "[4]"), compare="torch")
case("RNN-nonlinearity", lambda L: L.nn.RNN(4, 8, nonlinearity="bogus"), ValueError, "RNN",
     "nonlinearity", "'bogus'", compare="torch")
case("LSTM-proj_size", lambda L: L.nn.LSTM(4, 8, proj_size=-1), ValueError, "LSTM", "proj_size",
     "-1", compare="torch")
case("LSTM-hx-shape",
     lambda L: L.nn.LSTM(4, 8)(L.t.ones(3, 2, 4), (L.t.zeros(1, 2, 7), L.t.zeros(1, 2, 8))),
     ValueError, "LSTM", ("hx", "hidden"), shape(1, 2, 7), compare="torch")
case("LSTMCell-forward-features", lambda L: L.nn.LSTMCell(4, 8)(L.t.ones(2, 5)), ValueError,
     "LSTMCell", ("input_size", "input"), "5", compare="torch")
case("BatchNorm1d-channels", lambda L: L.nn.BatchNorm1d(4)(L.x()), ValueError,
     ("BatchNorm1d", "batch_norm"), ("num_features", "channels"), "3", compare="torch")
case("BatchNorm2d-channels", lambda L: L.nn.BatchNorm2d(4)(L.t.ones(2, 3, 2, 2)), ValueError,
     ("BatchNorm2d", "batch_norm"), ("num_features", "channels"), "3", compare="torch")
case("BatchNorm2d-ndim", lambda L: L.nn.BatchNorm2d(4)(L.t.ones(2, 4)), ValueError,
     ("BatchNorm2d", "batch_norm"), "input", ("2-d", "2d", "(2, 4)"), compare="torch")
case("BatchNorm1d-neg", lambda L: L.nn.BatchNorm1d(-1), ValueError, "BatchNorm1d",
     "num_features", "-1", compare="torch")
case("BatchNorm1d-float", lambda L: L.nn.BatchNorm1d(2.5), TypeError, "BatchNorm1d",
     "num_features", got(2.5), compare="torch")
case("LayerNorm-shape", lambda L: L.nn.LayerNorm(4)(L.x()), ValueError, ("LayerNorm", "layer_norm"),
     "normalized_shape", shape(2, 3), compare="torch")
case("LayerNorm-neg", lambda L: L.nn.LayerNorm(-2), ValueError, "LayerNorm", "normalized_shape",
     "-2", compare="torch")
case("GroupNorm-divisible", lambda L: L.nn.GroupNorm(3, 4), ValueError, "GroupNorm",
     "num_groups", "3", compare="torch")
case("GroupNorm-forward-channels", lambda L: L.nn.GroupNorm(2, 4)(L.t.ones(2, 6, 3)), ValueError,
     ("GroupNorm", "group_norm"), ("num_channels", "channels"), "6", compare="torch")
case("InstanceNorm1d-neg", lambda L: L.nn.InstanceNorm1d(-3), ValueError, "InstanceNorm1d",
     "num_features", "-3")
# Pooling layers hold no weights: torch accepts a bad size at construction and refuses it at
# forward; xpnet may refuse either, the cases below call forward.
case("MaxPool2d-kernel-zero", lambda L: L.nn.MaxPool2d(0)(L.t.ones(1, 1, 4, 4)), ValueError,
     ("MaxPool2d", "max_pool2d"), "kernel_size", "0", compare="torch")
case("MaxPool2d-stride-zero", lambda L: L.nn.MaxPool2d(2, stride=0)(L.t.ones(1, 1, 4, 4)),
     ValueError, ("MaxPool2d", "max_pool2d"), "stride", "0", compare="torch")
case("MaxPool2d-padding-large", lambda L: L.nn.MaxPool2d(3, padding=2)(L.t.ones(1, 1, 4, 4)),
     ValueError, ("MaxPool2d", "max_pool2d"), "padding", "2", compare="torch")
case("AvgPool2d-input-1d", lambda L: L.nn.AvgPool2d(2)(L.t.ones(3)), ValueError,
     ("AvgPool2d", "avg_pool2d"), "input", ("1-d", "1d", "(3,)", "[3]"))
case("AvgPool1d-kernel-neg", lambda L: L.nn.AvgPool1d(-2)(L.t.ones(1, 1, 4)), ValueError,
     ("AvgPool1d", "avg_pool1d"), "kernel_size", "-2", compare="torch")
case("AdaptiveAvgPool2d-neg", lambda L: L.nn.AdaptiveAvgPool2d(-1)(L.t.ones(1, 1, 4, 4)),
     ValueError, ("AdaptiveAvgPool2d", "adaptive_avg_pool2d"), "output_size", "-1",
     compare="torch")
case("max_pool2d-kernel-too-big", lambda L: L.F.max_pool2d(L.t.ones(1, 1, 2, 2), 3), ValueError,
     "max_pool2d", "kernel_size", "3", compare="torch")
case("LeakyReLU-slope-str", lambda L: L.nn.LeakyReLU("a"), TypeError, "LeakyReLU",
     "negative_slope", got("a"))
case("ELU-alpha-str", lambda L: L.nn.ELU(alpha="a"), TypeError, "ELU", "alpha", got("a"))
# torch builds CELU(alpha=0) and RReLU(0.5, 0.1) and refuses them at forward: so may xpnet.
case("CELU-alpha-zero", lambda L: L.nn.CELU(alpha=0.0)(L.x()), ValueError, ("CELU", "celu"),
     "alpha", "0", compare="torch")
case("Hardtanh-max-below-min", lambda L: L.nn.Hardtanh(min_val=2.0, max_val=1.0), ValueError,
     "Hardtanh", "max_val", "1.0", compare="torch")
case("Softplus-beta-str", lambda L: L.nn.Softplus(beta="a"), TypeError, "Softplus", "beta",
     got("a"))
case("Threshold-str", lambda L: L.nn.Threshold("a", 0.0), TypeError, "Threshold", "threshold",
     got("a"))
case("RReLU-lower-above-upper", lambda L: L.nn.RReLU(lower=0.5, upper=0.1)(L.x()), ValueError,
     ("RReLU", "rrelu"), ("lower", "upper"), "0.5", compare="torch")
case("PReLU-neg", lambda L: L.nn.PReLU(num_parameters=-1), ValueError, "PReLU", "num_parameters",
     "-1", compare="torch")
case("PReLU-forward-channels", lambda L: L.nn.PReLU(4)(L.x()), ValueError, ("PReLU", "prelu"),
     ("num_parameters", "weight", "channels"), "3", compare="torch")
case("Softmax-dim-out-of-range", lambda L: L.nn.Softmax(dim=5)(L.x()), IndexError,
     ("Softmax", "softmax"), DIM, "5", compare="torch")
case("GLU-odd", lambda L: L.nn.GLU()(L.x()), ValueError, ("GLU", "glu"), DIM, "3",
     compare="torch")
case("Flatten-out-of-range", lambda L: L.nn.Flatten(start_dim=5)(L.x()), IndexError,
     ("Flatten", "flatten"), START, "5", compare="torch")
case("Unflatten-bad-product", lambda L: L.nn.Unflatten(1, (2, 2))(L.x()), ValueError,
     ("Unflatten", "unflatten"), ("unflattened_size", "sizes"), shape(2, 2), compare="torch")
case("PixelShuffle-channels", lambda L: L.nn.PixelShuffle(2)(L.t.ones(1, 3, 2, 2)), ValueError,
     ("PixelShuffle", "pixel_shuffle"), "upscale_factor", "3", compare="torch")
case("MultiheadAttention-heads", lambda L: L.nn.MultiheadAttention(10, 3), ValueError,
     "MultiheadAttention", "num_heads", "3", compare="torch")
case("TransformerEncoderLayer-heads", lambda L: L.nn.TransformerEncoderLayer(10, 3), ValueError,
     "TransformerEncoderLayer", "nhead", "3", compare="torch")
case("TransformerEncoderLayer-activation",
     lambda L: L.nn.TransformerEncoderLayer(8, 2, activation="bogus"), ValueError,
     "TransformerEncoderLayer", "activation", "'bogus'", compare="torch")
case("sdpa-shape",
     lambda L: L.F.scaled_dot_product_attention(L.t.ones(2, 3, 4), L.t.ones(2, 3, 5),
                                                L.t.ones(2, 3, 5)),
     ValueError, "scaled_dot_product_attention", "key", shape(2, 3, 5), compare="torch")
case("pad-odd-length", lambda L: L.F.pad(L.x(), (1,)), ValueError, "pad", "pad", ("(1,)", "[1]"),
     compare="torch")
case("pad-mode", lambda L: L.F.pad(L.x(), (1, 1), mode="bogus"), ValueError, "pad", "mode",
     "'bogus'")
case("interpolate-mode", lambda L: L.F.interpolate(L.t.ones(1, 1, 4), size=8, mode="bogus"),
     ValueError, "interpolate", "mode", "'bogus'")
case("interpolate-size-and-scale",
     lambda L: L.F.interpolate(L.t.ones(1, 1, 4), size=8, scale_factor=2.0), ValueError,
     "interpolate", "size", "scale_factor", compare="torch")
case("Sequential-int", lambda L: L.nn.Sequential(1), TypeError, "Sequential", "int", "Module",
     compare="torch")
case("ModuleList-int", lambda L: L.nn.ModuleList([1]), TypeError, "ModuleList", "int", "Module",
     compare="torch")
case("Module-assign-tensor-to-parameter",
     lambda L: setattr(L.nn.Linear(2, 2), "weight", L.t.ones(2, 2)), TypeError, "weight",
     "Parameter", "Tensor", compare="torch")
case("Parameter-str", lambda L: L.nn.Parameter("a"), TypeError, "Parameter", "data", "str")
case("init-kaiming-1d", lambda L: L.init.kaiming_uniform_(L.t.ones(3)), ValueError,
     "kaiming_uniform_", "tensor", ("1-d", "(3,)", "[3]", "fewer than 2"), compare="torch")
case("init-uniform-a-above-b", lambda L: L.init.uniform_(L.x(), a=1.0, b=0.0), ValueError,
     "uniform_", "a", "1.0", compare="torch")
case("init-normal-std-neg", lambda L: L.init.normal_(L.x(), std=-1.0), ValueError, "normal_",
     "std", "-1.0", compare="torch")
case("init-calculate_gain", lambda L: L.init.calculate_gain("bogus"), ValueError,
     "calculate_gain", "nonlinearity", "bogus", compare="torch")
case("init-orthogonal-1d", lambda L: L.init.orthogonal_(L.t.ones(3)), ValueError, "orthogonal_",
     ("tensor", "dimensions"), ("1-d", "(3,)", "[3]"), compare="torch")
case("clip_grad_norm-norm_type", lambda L: L.nn.utils.clip_grad_norm_(L.params(), 1.0,
                                                                       norm_type="bogus"),
     (ValueError, TypeError), "clip_grad_norm_", "norm_type", "'bogus'")

# --------------------------------------------------------------------------------------------
# Losses: logits of shape (2, 3).

def _logits(L):
    return L.t.ones(2, 3)


case("cross_entropy-float-target",
     lambda L: L.F.cross_entropy(_logits(L), L.t.tensor([0.5, 1.5])), TypeError, "cross_entropy",
     "target", "float32", compare="torch")
case("cross_entropy-target-out-of-range",
     lambda L: L.F.cross_entropy(_logits(L), L.long([0, 3])), IndexError, "cross_entropy",
     "target", "3", compare="torch")
case("cross_entropy-target-neg",
     lambda L: L.F.cross_entropy(_logits(L), L.long([-1, 0])), IndexError, "cross_entropy",
     "target", "-1", compare="torch")
case("cross_entropy-batch-mismatch",
     lambda L: L.F.cross_entropy(_logits(L), L.long([0, 1, 2])), ValueError, "cross_entropy",
     "target", ("(3,)", "[3]", "3"), compare="torch")
# Probability targets (float, the input's shape) are valid; a float target of another shape is
# a shape error (torch: RuntimeError).
case("cross_entropy-prob-shape",
     lambda L: L.F.cross_entropy(_logits(L), L.t.ones(2, 4) / 4), ValueError, "cross_entropy",
     "target", shape(2, 4), compare="torch")
case("cross_entropy-weight-shape",
     lambda L: L.F.cross_entropy(_logits(L), L.long([0, 1]), weight=L.t.ones(4)), ValueError,
     "cross_entropy", "weight", shape(4), compare="torch")
case("cross_entropy-label_smoothing",
     lambda L: L.F.cross_entropy(_logits(L), L.long([0, 1]), label_smoothing=1.5), ValueError,
     "cross_entropy", "label_smoothing", "1.5", compare="torch")
case("cross_entropy-reduction",
     lambda L: L.F.cross_entropy(_logits(L), L.long([0, 1]), reduction="bogus"), ValueError,
     "cross_entropy", "reduction", "'bogus'", compare="torch")
case("cross_entropy-input-str", lambda L: L.F.cross_entropy("a", L.long([0, 1])), TypeError,
     "cross_entropy", "input", "str", compare="torch")
case("CrossEntropyLoss-target-out-of-range",
     lambda L: L.nn.CrossEntropyLoss()(_logits(L), L.long([0, 7])), IndexError,
     ("CrossEntropyLoss", "cross_entropy"), "target", "7", compare="torch")
case("CrossEntropyLoss-reduction",
     lambda L: L.nn.CrossEntropyLoss(reduction="bogus")(_logits(L), L.long([0, 1])), ValueError,
     ("CrossEntropyLoss", "cross_entropy"), "reduction", "'bogus'", compare="torch")
case("nll_loss-float-target", lambda L: L.F.nll_loss(_logits(L), L.t.tensor([0.0, 1.0])),
     TypeError, "nll_loss", "target", "float32", compare="torch")
case("nll_loss-target-out-of-range", lambda L: L.F.nll_loss(_logits(L), L.long([0, 3])),
     IndexError, "nll_loss", "target", "3", compare="torch")
case("NLLLoss-batch-mismatch", lambda L: L.nn.NLLLoss()(_logits(L), L.long([0])), ValueError,
     ("NLLLoss", "nll_loss"), "target", ("(1,)", "[1]", "1"), compare="torch")
case("mse_loss-shape", lambda L: L.F.mse_loss(L.t.ones(3), L.t.ones(4)), ValueError, "mse_loss",
     "target", shape(4))
case("mse_loss-broadcast-shape", lambda L: L.F.mse_loss(L.x(), L.t.ones(3, 2)), ValueError,
     "mse_loss", "target", shape(3, 2))
case("mse_loss-reduction", lambda L: L.F.mse_loss(L.x(), L.x(), reduction="bogus"), ValueError,
     "mse_loss", "reduction", "'bogus'", compare="torch")
case("l1_loss-shape", lambda L: L.F.l1_loss(L.t.ones(3), L.t.ones(4)), ValueError, "l1_loss",
     "target", shape(4))
case("MSELoss-target-str", lambda L: L.nn.MSELoss()(L.x(), "a"), TypeError,
     ("MSELoss", "mse_loss"), "target", "str")
case("huber_loss-delta-zero", lambda L: L.F.huber_loss(L.x(), L.x(), delta=0.0), ValueError,
     "huber_loss", "delta", "0", compare="torch")
case("smooth_l1_loss-beta-neg", lambda L: L.F.smooth_l1_loss(L.x(), L.x(), beta=-1.0), ValueError,
     "smooth_l1_loss", "beta", "-1", compare="torch")
case("binary_cross_entropy-range",
     lambda L: L.F.binary_cross_entropy(L.t.full((3,), 2.0), L.t.ones(3)), ValueError,
     "binary_cross_entropy", "input", "2", compare="torch")
case("binary_cross_entropy-shape",
     lambda L: L.F.binary_cross_entropy(L.t.full((3,), 0.5), L.t.ones(4)), ValueError,
     "binary_cross_entropy", "target", shape(4), compare="torch")
case("bce_with_logits-shape",
     lambda L: L.F.binary_cross_entropy_with_logits(L.t.ones(3), L.t.ones(4)), ValueError,
     "binary_cross_entropy_with_logits", "target", shape(4), compare="torch")
case("kl_div-reduction", lambda L: L.F.kl_div(L.x(), L.x(), reduction="bogus"), ValueError,
     "kl_div", "reduction", "'bogus'", compare="torch")
case("margin_ranking_loss-shape",
     lambda L: L.F.margin_ranking_loss(L.t.ones(3), L.t.ones(4), L.t.ones(3)), ValueError,
     "margin_ranking_loss", ("input2", "input1"), shape(4), compare="torch")

# --------------------------------------------------------------------------------------------
# Optimizers and learning-rate schedulers.

_OPTIMIZER_BAD = [
    ("SGD", dict(lr=-0.1), "lr", "-0.1"),
    ("SGD", dict(lr=0.1, momentum=-1.0), "momentum", "-1.0"),
    ("SGD", dict(lr=0.1, weight_decay=-1.0), "weight_decay", "-1.0"),
    ("Adam", dict(lr=-1.0), "lr", "-1.0"),
    ("Adam", dict(betas=(1.0, 0.9)), "betas", "1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "betas", "-0.1"),
    ("Adam", dict(eps=-1.0), "eps", "-1.0"),
    ("Adam", dict(weight_decay=-1.0), "weight_decay", "-1.0"),
    ("AdamW", dict(lr=-1.0), "lr", "-1.0"),
    ("AdamW", dict(betas=(0.9, 1.5)), "betas", "1.5"),
    ("AdamW", dict(weight_decay=-0.5), "weight_decay", "-0.5"),
    ("RMSprop", dict(lr=-1.0), "lr", "-1.0"),
    ("RMSprop", dict(alpha=-1.0), "alpha", "-1.0"),
    ("RMSprop", dict(momentum=-1.0), "momentum", "-1.0"),
    ("RMSprop", dict(eps=-1.0), "eps", "-1.0"),
    ("Adagrad", dict(lr=-1.0), "lr", "-1.0"),
    ("Adagrad", dict(lr_decay=-1.0), "lr_decay", "-1.0"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value", "-1.0"),
    ("Adadelta", dict(rho=1.5), "rho", "1.5"),
    ("Adadelta", dict(lr=-1.0), "lr", "-1.0"),
    ("Adamax", dict(betas=(1.0, 0.9)), "betas", "1.0"),
    ("Adamax", dict(lr=-1.0), "lr", "-1.0"),
    ("NAdam", dict(momentum_decay=-1.0), "momentum_decay", "-1.0"),
    ("NAdam", dict(lr=-1.0), "lr", "-1.0"),
    ("RAdam", dict(betas=(0.9, 1.0)), "betas", "1.0"),
    ("RAdam", dict(eps=-1.0), "eps", "-1.0"),
    ("Rprop", dict(etas=(1.5, 1.2)), "etas", "1.5"),
    ("Rprop", dict(lr=-1.0), "lr", "-1.0"),
    ("ASGD", dict(lr=-1.0), "lr", "-1.0"),
    ("ASGD", dict(weight_decay=-1.0), "weight_decay", "-1.0"),
    ("SparseAdam", dict(lr=-1.0), "lr", "-1.0"),
    ("SparseAdam", dict(betas=(1.0, 0.9)), "betas", "1.0"),
]
for _name, _kwargs, _param, _got in _OPTIMIZER_BAD:
    _id = f"{_name}-{_param}-{_got}"
    case(_id, functools.partial(lambda L, n, kw: getattr(L.optim, n)(L.params(), **kw), n=_name,
                                kw=_kwargs),
         ValueError, _name, _param, _got,
         compare="torch" if _name in ("SGD", "Adam", "Adagrad", "Rprop") else None)
PARAMS = ("params", "parameter list", "parameters")
for _name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"):
    _kw = dict(lr=0.1) if _name == "SGD" else {}
    case(f"{_name}-empty-params",
         functools.partial(lambda L, n, kw: getattr(L.optim, n)([], **kw), n=_name, kw=_kw),
         ValueError, _name, PARAMS, ("empty", "[]"),
         compare="torch" if _name in ("SGD", "Adam") else None)
    case(f"{_name}-params-tensor",
         functools.partial(lambda L, n, kw: getattr(L.optim, n)(L.t.ones(2), **kw), n=_name,
                           kw=_kw),
         TypeError, _name, PARAMS, "Tensor",
         compare="torch" if _name in ("SGD", "Adam") else None)
    case(f"{_name}-lr-str",
         functools.partial(lambda L, n: getattr(L.optim, n)(L.params(), lr="a"), n=_name),
         TypeError, _name, "lr", got("a"))
case("SGD-nesterov-no-momentum", lambda L: L.optim.SGD(L.params(), lr=0.1, nesterov=True),
     ValueError, "SGD", "nesterov", "momentum", compare="torch")
case("SGD-params-int", lambda L: L.optim.SGD([1, 2], lr=0.1), TypeError, "SGD", PARAMS, "int",
     compare="torch")
case("Adam-betas-float", lambda L: L.optim.Adam(L.params(), betas=0.9), TypeError, "Adam",
     "betas", got(0.9), compare="torch")
# torch ignores a third beta; a 3-tuple is a pair of the wrong length: TypeError or ValueError.
case("Adam-betas-three", lambda L: L.optim.Adam(L.params(), betas=(0.9, 0.9, 0.9)),
     (ValueError, TypeError), "Adam", "betas", "(0.9, 0.9, 0.9)")
case("LBFGS-lr-neg", lambda L: L.optim.LBFGS(L.params(), lr=-1.0), ValueError, "LBFGS", "lr",
     "-1.0")
case("LBFGS-history-zero", lambda L: L.optim.LBFGS(L.params(), history_size=0), ValueError,
     "LBFGS", "history_size", "0")
case("LBFGS-line-search", lambda L: L.optim.LBFGS(L.params(), line_search_fn="bogus"), ValueError,
     "LBFGS", "line_search_fn", "'bogus'")


def _duplicate_group(L):
    params = L.params()
    optimizer = L.optim.SGD(params, lr=0.1)
    optimizer.add_param_group({"params": params})


case("add_param_group-duplicate", _duplicate_group, ValueError, "add_param_group", PARAMS,
     ("more than one", "already", "twice"), compare="torch")
case("optimizer-load_state_dict-groups",
     lambda L: L.opt().load_state_dict({"state": {}, "param_groups": []}), ValueError,
     "load_state_dict", ("param_groups", "parameter group"), ("0", "1"), compare="torch")

case("StepLR-not-optimizer", lambda L: L.sched.StepLR("opt", 1), TypeError, "StepLR",
     "optimizer", "str", compare="torch")
case("StepLR-step_size-zero", lambda L: L.sched.StepLR(L.opt(), 0), ValueError, "StepLR",
     "step_size", "0")
case("StepLR-step_size-neg", lambda L: L.sched.StepLR(L.opt(), -1), ValueError, "StepLR",
     "step_size", "-1")
case("StepLR-gamma-str", lambda L: L.sched.StepLR(L.opt(), 1, gamma="a"), TypeError, "StepLR",
     "gamma", got("a"))
case("MultiStepLR-milestones-int", lambda L: L.sched.MultiStepLR(L.opt(), milestones=5),
     TypeError, "MultiStepLR", "milestones", "int", compare="torch")
case("ExponentialLR-gamma-str", lambda L: L.sched.ExponentialLR(L.opt(), gamma="a"), TypeError,
     "ExponentialLR", "gamma", got("a"))
case("CosineAnnealingLR-T_max-zero", lambda L: L.sched.CosineAnnealingLR(L.opt(), T_max=0),
     ValueError, "CosineAnnealingLR", "T_max", "0")
case("CosineAnnealingLR-T_max-neg", lambda L: L.sched.CosineAnnealingLR(L.opt(), T_max=-1),
     ValueError, "CosineAnnealingLR", "T_max", "-1")
case("LambdaLR-count", lambda L: L.sched.LambdaLR(L.opt(), [lambda e: 1.0, lambda e: 1.0]),
     ValueError, "LambdaLR", "lr_lambda", "2", compare="torch")
case("LambdaLR-not-callable", lambda L: L.sched.LambdaLR(L.opt(), 3), TypeError, "LambdaLR",
     "lr_lambda", "int")
case("ReduceLROnPlateau-mode", lambda L: L.sched.ReduceLROnPlateau(L.opt(), mode="bogus"),
     ValueError, "ReduceLROnPlateau", "mode", "bogus", compare="torch")
case("ReduceLROnPlateau-factor", lambda L: L.sched.ReduceLROnPlateau(L.opt(), factor=1.5),
     ValueError, "ReduceLROnPlateau", "factor", "1.5", compare="torch")
case("ReduceLROnPlateau-threshold_mode",
     lambda L: L.sched.ReduceLROnPlateau(L.opt(), threshold_mode="bogus"), ValueError,
     "ReduceLROnPlateau", "threshold_mode", "bogus", compare="torch")
case("ReduceLROnPlateau-patience-neg",
     lambda L: L.sched.ReduceLROnPlateau(L.opt(), patience=-1), ValueError, "ReduceLROnPlateau",
     "patience", "-1")
case("ReduceLROnPlateau-step-none", lambda L: L.sched.ReduceLROnPlateau(L.opt()).step(None),
     TypeError, "ReduceLROnPlateau", "metrics", got(None), compare="torch")
# torch converts with float(): "1.5" is accepted, "abc" raises ValueError; xpnet may raise
# TypeError (a str is not a number) or torch's ValueError.
case("ReduceLROnPlateau-step-str", lambda L: L.sched.ReduceLROnPlateau(L.opt()).step("abc"),
     (TypeError, ValueError), "ReduceLROnPlateau", "metrics", got("abc"), compare="torch")
case("ReduceLROnPlateau-step-tensor",
     lambda L: L.sched.ReduceLROnPlateau(L.opt()).step(L.t.ones(3)), ValueError,
     "ReduceLROnPlateau", "metrics", ("(3,)", "[3]", "3 elements"))

# --------------------------------------------------------------------------------------------
# Data: loaders, datasets, splits.

case("DataLoader-batch_size-zero", lambda L: L.data.DataLoader(L.ds(), batch_size=0), ValueError,
     "DataLoader", "batch_size", "0", compare="torch")
case("DataLoader-batch_size-neg", lambda L: L.data.DataLoader(L.ds(), batch_size=-1), ValueError,
     "DataLoader", "batch_size", "-1", compare="torch")
# torch raises ValueError for a non-int batch_size; the rule says TypeError: either.
case("DataLoader-batch_size-float", lambda L: L.data.DataLoader(L.ds(), batch_size=1.5),
     (TypeError, ValueError), "DataLoader", "batch_size", got(1.5), compare="torch")
case("DataLoader-num_workers-neg", lambda L: L.data.DataLoader(L.ds(), num_workers=-1),
     ValueError, "DataLoader", "num_workers", "-1", compare="torch")
case("DataLoader-shuffle-and-sampler",
     lambda L: L.data.DataLoader(L.ds(), shuffle=True, sampler=L.data.SequentialSampler(L.ds())),
     ValueError, "DataLoader", "sampler", "shuffle", compare="torch")
case("DataLoader-batch_sampler-and-batch_size",
     lambda L: L.data.DataLoader(L.ds(), batch_size=2, batch_sampler=L.data.BatchSampler(
         L.data.SequentialSampler(L.ds()), 2, False)),
     ValueError, "DataLoader", "batch_sampler", "batch_size", compare="torch")
case("DataLoader-timeout-neg", lambda L: L.data.DataLoader(L.ds(), timeout=-1), ValueError,
     "DataLoader", "timeout", "-1", compare="torch")
case("DataLoader-dataset-int", lambda L: L.data.DataLoader(5), TypeError, "DataLoader",
     "dataset", "int")
case("random_split-sum", lambda L: L.data.random_split(L.ds(), [3, 3]), ValueError,
     "random_split", "lengths", ("[3, 3]", "6"), compare="torch")
case("random_split-fractions", lambda L: L.data.random_split(L.ds(), [0.5, 0.6]), ValueError,
     "random_split", "lengths", ("[0.5, 0.6]", "1.1"), compare="torch")
case("random_split-neg", lambda L: L.data.random_split(L.ds(), [-1, 11]), ValueError,
     "random_split", "lengths", "-1")
case("random_split-int", lambda L: L.data.random_split(L.ds(), 5), TypeError, "random_split",
     "lengths", "int", compare="torch")
case("TensorDataset-size-mismatch", lambda L: L.data.TensorDataset(L.t.ones(3), L.t.ones(4)),
     ValueError, "TensorDataset", "tensors", "4", compare="torch")
case("TensorDataset-list", lambda L: L.data.TensorDataset(L.t.ones(3), [1, 2, 3]), TypeError,
     "TensorDataset", ("tensors", "argument 1"), "list")
case("TensorDataset-index", lambda L: L.ds(3)[5], IndexError, ("TensorDataset",) + INDEX,
     "index", "5", compare="torch")
case("Subset-index", lambda L: L.data.Subset(L.ds(3), [20])[0], IndexError,
     ("Subset",) + INDEX, "index", "20", compare="torch")
case("ConcatDataset-empty", lambda L: L.data.ConcatDataset([]), ValueError, "ConcatDataset",
     "datasets", ("empty", "[]"), compare="torch")
case("BatchSampler-batch_size-zero",
     lambda L: L.data.BatchSampler(L.data.SequentialSampler(L.ds()), 0, False), ValueError,
     "BatchSampler", "batch_size", "0", compare="torch")
case("BatchSampler-drop_last-str",
     lambda L: L.data.BatchSampler(L.data.SequentialSampler(L.ds()), 2, "no"),
     (TypeError, ValueError), "BatchSampler", "drop_last", got("no"), compare="torch")
case("RandomSampler-num_samples-zero", lambda L: L.data.RandomSampler(L.ds(), num_samples=0),
     ValueError, "RandomSampler", "num_samples", "0", compare="torch")
case("RandomSampler-replacement-str", lambda L: L.data.RandomSampler(L.ds(), replacement="yes"),
     TypeError, "RandomSampler", "replacement", got("yes"), compare="torch")
case("WeightedRandomSampler-neg", lambda L: L.data.WeightedRandomSampler([-1.0, 1.0], 2),
     ValueError, "WeightedRandomSampler", "weights", "-1")
case("WeightedRandomSampler-num_samples",
     lambda L: L.data.WeightedRandomSampler([1.0, 1.0], 0), ValueError, "WeightedRandomSampler",
     "num_samples", "0", compare="torch")
case("train_test_split-test_size-high",
     lambda L: L.data.train_test_split(L.t.arange(10), test_size=1.5), ValueError,
     "train_test_split", "test_size", "1.5")
case("train_test_split-test_size-zero",
     lambda L: L.data.train_test_split(L.t.arange(10), test_size=0), ValueError,
     "train_test_split", "test_size", "0")
case("train_test_split-lengths",
     lambda L: L.data.train_test_split(L.t.arange(10), L.t.arange(9)), ValueError,
     "train_test_split", "tensors", "9")
case("train_test_split-stratify-length",
     lambda L: L.data.train_test_split(L.t.arange(10), stratify=L.t.zeros(9)), ValueError,
     "train_test_split", "stratify", "9")
case("train_test_split-stratify-singleton",
     lambda L: L.data.train_test_split(L.t.arange(10), stratify=L.long([0] * 9 + [1])),
     ValueError, "train_test_split", "stratify", ("1 member", "one member", "least populated"))
case("ZCA-eps-neg", lambda L: L.data.ZCA(eps=-1.0), ValueError, "ZCA", "eps", "-1")
case("PCA-eps-neg", lambda L: L.data.PCA(eps=-1.0), ValueError, "PCA", "eps", "-1")
case("PCA-n_components-zero", lambda L: L.data.PCA(n_components=0), ValueError, "PCA",
     "n_components", "0")

# --------------------------------------------------------------------------------------------
# save / load and state dicts.

def _missing(L):
    return L.path("missing.pt")


case("load-missing", lambda L: L.t.load(_missing(L)), FileNotFoundError, "load", "missing.pt",
     ABSENT, compare="torch")
case("load-directory", lambda L: L.t.load(L.path("")), IsADirectoryError, "load",
     "xpnet_bad_input_", "directory", compare="torch")
case("load-text-file", lambda L: L.t.load(L.file("notes.txt", "hello world\n")), ValueError,
     "load", "notes.txt", ("format", "not a", "xpnet"))
case("load-empty-file", lambda L: L.t.load(L.file("empty.pt", b"")), ValueError, "load",
     "empty.pt", ("empty", "0 bytes", "cut off"))
case("load-none", lambda L: L.t.load(None), TypeError, "load", "f", got(None))
case("load-int", lambda L: L.t.load(3), TypeError, "load", "f", "int")
case("save-missing-dir", lambda L: L.t.save({"a": 1}, L.path("nodir/x.pt")), FileNotFoundError,
     "save", "nodir", ABSENT, compare="torch")
case("save-directory", lambda L: L.t.save({"a": 1}, L.path("")), IsADirectoryError, "save",
     "xpnet_bad_input_", "directory", compare="torch")
case("save-int-path", lambda L: L.t.save({"a": 1}, 3), TypeError, "save", "f", "int")
case("save-lambda", lambda L: L.t.save(lambda: 0, L.path("fn.pt")), TypeError, "save", "obj",
     "function")


def _load_state(state):
    def call(L):
        L.nn.Linear(3, 2).load_state_dict(state(L))
    return call


case("load_state_dict-missing-key", _load_state(lambda L: {"weight": L.t.ones(2, 3)}), KeyError,
     "load_state_dict", "Linear", "'bias'", compare="torch")
case("load_state_dict-unexpected-key",
     _load_state(lambda L: {"weight": L.t.ones(2, 3), "bias": L.t.ones(2), "extra": L.t.ones(1)}),
     KeyError, "load_state_dict", "Linear", "'extra'", compare="torch")
case("load_state_dict-shape",
     _load_state(lambda L: {"weight": L.t.ones(3, 3), "bias": L.t.ones(2)}), ValueError,
     "load_state_dict", "weight", shape(3, 3), compare="torch")
case("load_state_dict-value-str", _load_state(lambda L: {"weight": "a", "bias": L.t.ones(2)}),
     TypeError, "load_state_dict", "weight", "str", compare="torch")
case("load_state_dict-value-none", _load_state(lambda L: {"weight": None, "bias": L.t.ones(2)}),
     TypeError, "load_state_dict", "weight", "None")
case("load_state_dict-list", _load_state(lambda L: [L.t.ones(2, 3)]), TypeError,
     "load_state_dict", "state_dict", "list", compare="torch")

# --------------------------------------------------------------------------------------------
# Backends, devices and settings.

case("set_backend-bogus", lambda L: L.t.set_backend("bogus"), ValueError, "set_backend",
     ("name", "backend"), "'bogus'")
case("use_backend-bogus", lambda L: L.t.use_backend("bogus").__enter__(), ValueError,
     "use_backend", ("name", "backend"), "'bogus'")
def _threads(value):
    return restoring(lambda L: L.t.get_num_threads(), lambda L, n: L.t.set_num_threads(n),
                     lambda L: L.t.set_num_threads(value))


case("set_num_threads-zero", _threads(0), ValueError, "set_num_threads", ("n", "int"), "0",
     compare="torch")
case("set_num_threads-str", _threads("a"), TypeError, "set_num_threads", ("n", "int"), got("a"),
     compare="torch")
# torch takes any int(seed): "5" works, "abc" raises ValueError.
case("manual_seed-str", lambda L: L.t.manual_seed("abc"), (ValueError, TypeError), "manual_seed",
     "seed", got("abc"), compare="torch")
case("set_printoptions-precision-str",
     restoring(lambda L: L.t.get_printoptions(), lambda L, o: L.t.set_printoptions(**o),
               lambda L: L.t.set_printoptions(precision="a")),
     TypeError, "set_printoptions", "precision", got("a"))

def _import_with_backend(name):
    """Import xpnet in a child process with XPNET_BACKEND=name; raise here what it raised."""
    def call(L):
        import builtins
        import subprocess
        import sys
        code = ("import sys\n"
                "try:\n    import xpnet\n"
                "except Exception as e:\n"
                "    print(' '.join(t.__name__ for t in type(e).__mro__)); print(e)\n"
                "    sys.exit(1)\n")
        env = dict(os.environ, XPNET_BACKEND=name)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode == 0:
            return f"import xpnet succeeded with XPNET_BACKEND={name!r}"
        mro, _, message = done.stdout.partition("\n")
        kind = next((getattr(builtins, n) for n in mro.split()
                     if isinstance(getattr(builtins, n, None), type)), RuntimeError)
        raise kind(message.strip() or done.stderr.strip()[-500:])
    return call


case("XPNET_BACKEND-bogus", _import_with_backend("bogus"), ValueError, "XPNET_BACKEND",
     "'bogus'", ("numpy", "expected"))

# A few cases again on the other backends: the checks must not depend on the array library.
_OTHER_BACKENDS = {
    "zeros-size-neg": (lambda L: L.t.zeros(-1), ValueError, ("zeros", "size", "-1")),
    "index-out-of-range": (lambda L: L.x()[2], IndexError, (INDEX, DIM + ("dimension",), "2")),
    "mask-shape-1d": (lambda L: L.x()[L.t.ones(3) > 0], IndexError,
                      ("mask", INDEX, shape(3), shape(2, 3))),
    "mask-shape-setitem": (lambda L: L.x().__setitem__(L.t.ones(3) > 0, 1.0), IndexError,
                           ("mask", SETITEM, shape(3), shape(2, 3))),
    "copy_-shape": (lambda L: L.x().copy_(L.t.ones(4)), ValueError, ("copy_", "src", shape(4))),
    "add_-broadcast-grows": (lambda L: L.t.ones(3).add_(L.t.ones(2, 3)), ValueError,
                             ("add_", shape(2, 3), shape(3))),
    "cat-size-mismatch": (lambda L: L.t.cat([L.x(), L.t.ones(2, 4)]), ValueError,
                          (CAT, TENSORS, shape(2, 4))),
    "sum-dim-out-of-range": (lambda L: L.t.sum(L.x(), dim=2), IndexError, ("sum", DIM, "2")),
    "cross_entropy-target-out-of-range": (
        lambda L: L.F.cross_entropy(L.t.ones(2, 3), L.long([0, 3])), IndexError,
        ("cross_entropy", "target", "3")),
    "grad-assign-shape": (_assign_grad(lambda L: L.t.ones(4)), ValueError,
                          ("grad", shape(4), shape(2, 3))),
}


def _on_backend(backend, call):
    def wrapped(L):
        with L.t.use_backend(backend):
            return call(L)
    return wrapped


for _backend in ("array_api_strict", "torch"):
    if importlib.util.find_spec(_backend) is None:
        continue
    for _id, (_call, _exc, _words) in _OTHER_BACKENDS.items():
        case(f"{_backend}-{_id}", _on_backend(_backend, _call), _exc, *_words)

# --------------------------------------------------------------------------------------------
# word2vec: Word2Vec's parameters, KeyedVectors lookups, vector files.

_W2V_BAD = [
    ("vector_size", 0, ValueError, "0"),
    ("vector_size", -5, ValueError, "-5"),
    ("vector_size", 2.5, TypeError, got(2.5)),
    ("min_count", -1, ValueError, "-1"),
    ("min_count", "a", TypeError, got("a")),
    ("window", 0, ValueError, "0"),
    ("window", 1.5, TypeError, got(1.5)),
    ("negative", -1, ValueError, "-1"),
    ("alpha", -0.1, ValueError, "-0.1"),
    ("alpha", "fast", (TypeError, ValueError), got("fast")),  # gensim: ValueError (float())
    ("epochs", -1, ValueError, "-1"),
    ("sample", -1.0, ValueError, "-1.0"),
    ("workers", 0, ValueError, "0"),
    ("ns_exponent", "a", TypeError, got("a")),
    ("max_vocab_size", -1, ValueError, "-1"),
]
for _param, _value, _exc, _got in _W2V_BAD:
    case(f"Word2Vec-{_param}-{_value}",
         functools.partial(lambda L, p, v: L.Word2Vec(**{p: v}), p=_param, v=_value),
         _exc, "Word2Vec", _param, _got)
case("Word2Vec-no-hs-no-negative",
     lambda L: L.Word2Vec([["a", "b"]], min_count=1, hs=0, negative=0), ValueError, "Word2Vec",
     "negative", "hs", compare="gensim")
# gensim trains on a plain str as on a corpus of one-letter sentences: a silent wrong answer.
case("Word2Vec-sentences-str", lambda L: L.Word2Vec("a b c", min_count=1), TypeError, "Word2Vec",
     ("sentences", "corpus"), "str")
case("Word2Vec-sentences-and-file",
     lambda L: L.Word2Vec([["a"]], corpus_file=L.file("c.txt", "a b\n")), (ValueError, TypeError),
     "Word2Vec", "sentences", "corpus_file", compare="gensim")
case("Word2Vec-corpus_file-missing",
     lambda L: L.Word2Vec(corpus_file=L.path("no_corpus.txt"), min_count=1), FileNotFoundError,
     "Word2Vec", "corpus_file", "no_corpus.txt")
case("Word2Vec-corpus_file-directory", lambda L: L.Word2Vec(corpus_file=L.path(""), min_count=1),
     IsADirectoryError, "Word2Vec", "corpus_file", "xpnet_bad_input_")
case("Word2Vec-corpus_file-not-utf8",
     lambda L: L.Word2Vec(corpus_file=L.file("latin1.txt", b"caf\xe9 au lait\n"), min_count=1),
     UnicodeDecodeError, "Word2Vec", "latin1.txt", ("byte", "utf"))
case("Word2Vec-min_count-empties-vocab",
     lambda L: L.Word2Vec([["a", "b"]], min_count=5), ValueError, "Word2Vec", "min_count", "5",
     compare="gensim")
case("Word2Vec-train-no-total",
     lambda L: _built_model(L).train([["a", "b"]]), ValueError, "train", "total_examples",
     "total_words", compare="gensim")
case("Word2Vec-load-missing", lambda L: L.Word2Vec.load(L.path("no_model.w2v")),
     FileNotFoundError, "load", "no_model.w2v", ABSENT, compare="gensim")


def _built_model(L):
    model = L.Word2Vec(vector_size=4, min_count=1)
    model.build_vocab([["a", "b"], ["b", "c"]])
    return model


case("kv-getitem-missing", lambda L: L.kv()["zzz"], KeyError, "'zzz'", ("not present", "vocab"),
     ("key", "KeyedVectors"), compare="gensim")
case("kv-get_vector-missing", lambda L: L.kv().get_vector("zzz"), KeyError, "get_vector",
     "'zzz'", "key", compare="gensim")
case("kv-get_index-missing", lambda L: L.kv().get_index("zzz"), KeyError, "get_index", "'zzz'",
     "key", compare="gensim")
case("kv-get_index-int-out-of-range", lambda L: L.kv().get_index(99), KeyError, "get_index", "99",
     "key", compare="gensim")
case("kv-similarity-missing", lambda L: L.kv().similarity("a", "zzz"), KeyError, "similarity",
     "'zzz'", ("w2", "key"), compare="gensim")
case("kv-most_similar-missing", lambda L: L.kv().most_similar("zzz"), KeyError, "most_similar",
     "'zzz'", ("positive", "key"), compare="gensim")
# gensim returns [] for topn < 1 (topn=0 asks for nothing; a negative count is no count).
case("kv-most_similar-topn-neg", lambda L: L.kv().most_similar("a", topn=-1), ValueError,
     "most_similar", "topn", "-1")
case("kv-most_similar-topn-str", lambda L: L.kv().most_similar("a", topn="a"), TypeError,
     "most_similar", "topn", got("a"), compare="gensim")
case("kv-most_similar-topn-float", lambda L: L.kv().most_similar("a", topn=2.5), TypeError,
     "most_similar", "topn", got(2.5), compare="gensim")
case("kv-most_similar-empty", lambda L: L.kv().most_similar(positive=[], negative=[]), ValueError,
     "most_similar", "positive", ("empty", "[]", "no input"), compare="gensim")
case("kv-most_similar_cosmul-missing", lambda L: L.kv().most_similar_cosmul("zzz"), KeyError,
     "most_similar_cosmul", "'zzz'", ("positive", "key"), compare="gensim")
case("kv-doesnt_match-empty", lambda L: L.kv().doesnt_match([]), ValueError, "doesnt_match",
     "words", ("empty", "[]"))
case("kv-doesnt_match-all-missing", lambda L: L.kv().doesnt_match(["zzz", "yyy"]),
     (ValueError, KeyError), "doesnt_match", "words", "'zzz'")
case("kv-n_similarity-empty", lambda L: L.kv().n_similarity([], ["a"]), ValueError,
     "n_similarity", "ws1", ("empty", "[]"))
case("kv-distance-missing", lambda L: L.kv().distance("a", "zzz"), KeyError, "distance", "'zzz'",
     ("w2", "key"), compare="gensim")
case("kv-rank-missing", lambda L: L.kv().rank("a", "zzz"), KeyError, "rank", "'zzz'",
     ("key", "key2"), compare="gensim")
case("kv-add_vectors-width", lambda L: L.kv().add_vectors(["x"], np.ones((1, 5), np.float32)),
     ValueError, "add_vectors", "weights", shape(1, 5), compare="gensim")
case("kv-add_vectors-count", lambda L: L.kv().add_vectors(["x", "y"], np.ones((1, 3), np.float32)),
     ValueError, "add_vectors", "keys", ("2", "(1, 3)"))
case("KeyedVectors-vector_size-neg", lambda L: L.KeyedVectors(-1), ValueError, "KeyedVectors",
     "vector_size", "-1", compare="gensim")
case("KeyedVectors-vector_size-float", lambda L: L.KeyedVectors(2.5), TypeError, "KeyedVectors",
     "vector_size", got(2.5), compare="gensim")
case("KeyedVectors-dtype", lambda L: L.KeyedVectors(3, dtype="int8"), TypeError, "KeyedVectors",
     "dtype", "int8")


def _w2v_file(L, name, text):
    return L.file(name, text)


case("load_word2vec_format-missing",
     lambda L: L.KeyedVectors.load_word2vec_format(L.path("no_vectors.txt")), FileNotFoundError,
     "load_word2vec_format", "no_vectors.txt", ABSENT, compare="gensim")
case("load_word2vec_format-directory",
     lambda L: L.KeyedVectors.load_word2vec_format(L.path("")), IsADirectoryError,
     "load_word2vec_format", "xpnet_bad_input_", "directory", compare="gensim")
case("load_word2vec_format-truncated",
     lambda L: L.KeyedVectors.load_word2vec_format(
         _w2v_file(L, "truncated.txt", "3 2\na 1.0 2.0\nb 3.0 4.0\n")),
     (ValueError, EOFError), "load_word2vec_format", "truncated.txt", "3",
     compare="gensim")
case("load_word2vec_format-bad-header",
     lambda L: L.KeyedVectors.load_word2vec_format(_w2v_file(L, "header.txt", "x y\na 1.0\n")),
     ValueError, "load_word2vec_format", "header.txt", "header", compare="gensim")
case("load_word2vec_format-short-vector",
     lambda L: L.KeyedVectors.load_word2vec_format(
         _w2v_file(L, "short.txt", "2 3\na 1.0 2.0 3.0\nb 1.0\n")),
     ValueError, "load_word2vec_format", "short.txt", ("line 3", "'b'"))
case("load_word2vec_format-not-a-number",
     lambda L: L.KeyedVectors.load_word2vec_format(
         _w2v_file(L, "nan.txt", "1 2\na 1.0 abc\n")),
     ValueError, "load_word2vec_format", "nan.txt", "'abc'", compare="gensim")
case("load_word2vec_format-binary-truncated",
     lambda L: L.KeyedVectors.load_word2vec_format(
         L.file("truncated.bin", b"2 4\na " + np.ones(4, np.float32).tobytes()), binary=True),
     (ValueError, EOFError), "load_word2vec_format", "truncated.bin", "2", compare="gensim")
case("KeyedVectors-load-missing", lambda L: L.KeyedVectors.load(L.path("no_kv.kv")),
     FileNotFoundError, "load", "no_kv.kv", ABSENT, compare="gensim")
case("KeyedVectors-load-text-file",
     lambda L: L.KeyedVectors.load(L.file("kv_notes.txt", "hello\n")), ValueError, "load",
     "kv_notes.txt", ("format", "not a"))
