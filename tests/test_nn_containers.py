"""ParameterList and ParameterDict (xpnet/nn/container.py) with PyTorch's container semantics,
and Unflatten (xpnet/nn/flatten.py): registration, state-dict keys, list and dict methods,
reprs as PyTorch's, loading torch state dicts, training through them, and bad arguments."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.nn as nn

from .conftest import assert_close, random_arrays
from .op_checks import assert_on_device, check_forward, check_grads

try:  # the oracle
    import torch
except ImportError:
    torch = None


def _torch_repr(module):
    """PyTorch's repr in xpnet's words: the dtype and tensor type names differ only by module."""
    return repr(module).replace("torch.", "xpnet.")


# -- ParameterList -------------------------------------------------------------------------------

def _both_lists():
    values = random_arrays((2, 3), (3,), (1,), seed=1)
    mine = nn.ParameterList([nn.Parameter(xpnet.tensor(values[0])), xpnet.tensor(values[1]), 5,
                             "a", xpnet.tensor(values[2])])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(values[0])),
                                     torch.tensor(values[1]), 5, "a", torch.tensor(values[2])])
    return mine, theirs


def test_parameter_list_registers_tensors_as_parameters_like_torch(backend):
    mine, theirs = _both_lists()
    assert [type(v).__name__ for v in mine] == [type(v).__name__ for v in theirs]
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["0", "1", "4"]
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(p.requires_grad for p in mine.parameters())
    assert_on_device(mine[1], backend)
    assert repr(mine) == _torch_repr(theirs)


def test_a_tensor_stored_in_a_parameter_list_becomes_a_parameter_without_a_copy():
    t = xpnet.zeros(3)
    params = nn.ParameterList([t])
    assert isinstance(params[0], nn.Parameter) and params[0] is not t
    assert params[0].array is t.array


def test_parameter_list_list_methods():
    params = nn.ParameterList()
    assert len(params) == 0 and repr(params) == "ParameterList()"
    params.append(xpnet.zeros(1)).extend([xpnet.zeros(2), xpnet.zeros(3)])
    params += [xpnet.zeros(4)]
    assert [p.shape for p in params] == [(1,), (2,), (3,), (4,)]
    assert params[-1].shape == (4,)
    params.insert(1, xpnet.zeros(7))
    params.insert(-1, xpnet.zeros(8))
    params.insert(100, xpnet.zeros(9))  # as list.insert: past the end appends
    assert [p.shape[0] for p in params] == [1, 7, 2, 3, 8, 4, 9]
    assert list(params.state_dict()) == [str(i) for i in range(7)]
    sliced = params[1:5:2]
    assert isinstance(sliced, nn.ParameterList) and [p.shape[0] for p in sliced] == [7, 3]
    assert sliced[0] is params[1]
    replacement = nn.Parameter(xpnet.ones(5))
    params[2] = replacement
    assert params[2] is replacement
    assert list(params.state_dict()) == [str(i) for i in range(7)]  # the key keeps its place
    params[3] = "not a parameter"
    assert "3" not in params.state_dict() and params[3] == "not a parameter"
    params[3] = xpnet.zeros(2)
    assert isinstance(params[3], nn.Parameter)
    assert "0" not in dir(params) and "append" in dir(params)


def test_parameter_list_nested_repr_is_torchs():
    mine, theirs = _both_lists()
    outer, torch_outer = nn.Module(), torch.nn.Module()
    outer.params, torch_outer.params = mine, theirs
    outer.layer, torch_outer.layer = nn.Identity(), torch.nn.Identity()
    assert repr(outer) == _torch_repr(torch_outer)


def test_parameter_list_loads_a_torch_state_dict_and_trains():
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(2, 3)),
                                     torch.nn.Parameter(torch.randn(4))])
    mine = nn.ParameterList([xpnet.zeros(2, 3), xpnet.zeros(4)])
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for p, tp in zip(mine, theirs):
        assert_close(p, tp.detach(), rtol=0, atol=0)
    model = nn.Module()
    model.weights = mine
    optimizer = xpnet.optim.SGD(model.parameters(), lr=0.5)
    loss = (mine[0] * mine[0]).sum() + mine[1].sum()
    loss.backward()
    before = mine[1].numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(mine[1].numpy(), before - 0.5)
    assert [n for n, _ in model.named_parameters()] == ["weights.0", "weights.1"]


def test_parameter_list_follows_the_module_to_another_backend_and_dtype():
    params = nn.ParameterList([xpnet.zeros(2), xpnet.zeros(3)])
    params.to(backend="array_api_strict:device1").double()
    for p in params:
        assert p.dtype is xpnet.float64
        assert_on_device(p, "array_api_strict:device1")


def test_parameter_list_bad_arguments():
    params = nn.ParameterList([xpnet.zeros(2)])
    with pytest.raises(IndexError, match="ParameterList index 1 is out of range for length 1"):
        params[1]
    with pytest.raises(IndexError, match="index -2 is out of range"):
        params[-2] = xpnet.zeros(1)
    with pytest.raises(TypeError, match="ParameterList indices must be integers or slices, got "
                                        "str"):
        params["0"]
    with pytest.raises(TypeError, match="ParameterList.extend: expected an iterable of "
                                        "parameters, got Tensor"):
        params.extend(xpnet.zeros(2))
    with pytest.raises(TypeError, match="ParameterList should not be called"):
        params(xpnet.zeros(2))
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        params.append(xpnet.tensor([1, 2]))


# -- ParameterDict -------------------------------------------------------------------------------

def _both_dicts(kind=dict):
    values = random_arrays((2,), (1,), seed=2)
    entries = [("b", values[1]), ("a", values[0]), ("c", 3)]
    mine = nn.ParameterDict(kind((k, xpnet.tensor(v) if isinstance(v, np.ndarray) else v)
                                 for k, v in entries))
    theirs = torch.nn.ParameterDict(kind((k, torch.tensor(v) if isinstance(v, np.ndarray) else v)
                                         for k, v in entries))
    return mine, theirs


@pytest.mark.parametrize("kind", [dict, OrderedDict, list])
def test_parameter_dict_orders_and_registers_like_torch(kind):
    # A plain dict is added in sorted key order (PyTorch's rule), the others in their own.
    mine, theirs = _both_dicts(kind)
    assert list(mine.keys()) == list(theirs.keys())
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [type(v).__name__ for v in mine.values()] == \
        [type(v).__name__ for v in theirs.values()]
    assert repr(mine) == _torch_repr(theirs)


def test_parameter_dict_dict_methods():
    params = nn.ParameterDict()
    assert len(params) == 0 and repr(params) == "ParameterDict()"
    params["w"] = xpnet.zeros(2)
    params.update([("b", xpnet.zeros(1)), ("s", 1.5)])
    assert list(params) == ["w", "b", "s"] and "w" in params and "x" not in params
    assert list(reversed(params)) == ["s", "b", "w"]
    assert isinstance(params["w"], nn.Parameter) and params["s"] == 1.5
    assert params.get("x") is None and params.get("x", 7) == 7
    assert params.setdefault("w", None) is params["w"]
    assert isinstance(params.setdefault("v", xpnet.ones(3)), nn.Parameter)
    copy = params.copy()
    assert list(copy) == list(params) and copy["w"] is params["w"]
    assert params.pop("s") == 1.5 and "s" not in params
    key, value = params.popitem()
    assert key == "v" and value.shape == (3,)
    del params["b"]
    assert list(params.state_dict()) == ["w"]
    merged = params | {"z": xpnet.zeros(1)}
    assert list(merged) == ["w", "z"] and list(params) == ["w"]
    params |= nn.ParameterDict({"y": xpnet.zeros(1)})
    assert list(params) == ["w", "y"]
    fresh = params.fromkeys(["p", "q"], xpnet.zeros(2))
    assert list(fresh) == ["p", "q"] and fresh["p"].shape == fresh["q"].shape == (2,)
    replacement = nn.Parameter(xpnet.ones(2))
    params["w"] = replacement
    assert params["w"] is replacement and list(params.state_dict()) == ["w", "y"]
    params.clear()
    assert len(params) == 0 and not list(params.parameters())


def test_parameter_dict_loads_a_torch_state_dict_and_trains():
    theirs = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.rand(3)),
                                     "shift": torch.nn.Parameter(torch.randn(3))})
    mine = nn.ParameterDict({"scale": xpnet.ones(3), "shift": xpnet.zeros(3)})
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.arange(3.0, dtype=np.float32)
    want = torch.from_numpy(x) * theirs["scale"] + theirs["shift"]
    got = xpnet.tensor(x) * mine["scale"] + mine["shift"]
    assert_close(got, want.detach(), rtol=1e-6)
    got.sum().backward()
    want.sum().backward()
    assert_close(mine["scale"].grad, theirs["scale"].grad)


def test_parameter_dict_bad_arguments():
    params = nn.ParameterDict({"a": xpnet.zeros(1)})
    with pytest.raises(KeyError, match="'missing'"):
        params["missing"]
    with pytest.raises(TypeError, match="ParameterDict keys must be str, got int"):
        params[1] = xpnet.zeros(1)
    with pytest.raises(KeyError, match="key must be non-empty and contain no '.'"):
        params["a.b"] = xpnet.zeros(1)
    with pytest.raises(KeyError, match="key 'update' names an attribute of the container"):
        params["update"] = xpnet.zeros(1)
    with pytest.raises(KeyError, match="key 'training' names an attribute"):
        nn.ParameterDict({"training": xpnet.zeros(1)})
    with pytest.raises(TypeError, match="ParameterDict.update: expected a mapping or an iterable"):
        params.update(3)
    with pytest.raises(TypeError, match=r"ParameterDict.update: element #0 must be a \(key, "):
        params.update([3])
    with pytest.raises(ValueError, match="ParameterDict.update: element #1 has length 3"):
        params.update([("b", 1), ("c", 2, 3)])
    with pytest.raises(KeyError, match="popitem"):
        nn.ParameterDict().popitem()
    with pytest.raises(TypeError, match="ParameterDict should not be called"):
        params()


def test_containers_are_in_torchs_family_module():
    from xpnet.nn.modules import container, flatten
    assert container.ParameterList is nn.ParameterList
    assert container.ParameterDict is nn.ParameterDict
    assert flatten.Unflatten is nn.Unflatten


# -- Unflatten -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dim, sizes", [(1, (2, 3)), (1, [3, -1]), (-1, (2, 1, 3)), (0, (4, 1))])
def test_unflatten_matches_torch(backend, dim, sizes):
    module, torch_module = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(module) == repr(torch_module)
    check_forward(backend, module, torch_module, random_arrays((4, 6), seed=3))
    check_grads(backend, module, torch_module, random_arrays((4, 6), seed=3))


def test_unflatten_takes_a_size_and_shows_it():
    module = nn.Unflatten(1, xpnet.Size([2, 3]))
    assert module(xpnet.zeros(4, 6)).shape == (4, 2, 3)
    assert repr(module) == "Unflatten(dim=1, unflattened_size=xpnet.Size([2, 3]))"


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_flatten_then_unflatten_is_the_identity(shape, data):
    start = data.draw(st.integers(0, len(shape) - 1))
    end = data.draw(st.integers(start, len(shape) - 1))
    x = xpnet.randn(2, *shape)
    flat = nn.Flatten(start + 1, end + 1)(x)
    back = nn.Unflatten(start + 1, tuple(shape[start:end + 1]))(flat)
    np.testing.assert_array_equal(back.numpy(), x.numpy())


def test_unflatten_bad_arguments():
    with pytest.raises(TypeError, match="Unflatten: named dimensions"):
        nn.Unflatten("features", (("C", 2), ("H", 3)))
    with pytest.raises(TypeError, match="Unflatten: dim must be an int, got float"):
        nn.Unflatten(1.0, (2, 3))
    with pytest.raises(TypeError, match="Unflatten: unflattened_size must be a tuple or list of "
                                        "ints, got int"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="Unflatten: unflattened_size must hold ints, got float "
                                        "at position 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(ValueError, match=r"unflatten: sizes \(4, 2\) do not multiply up to the "
                                         r"size 6"):
        nn.Unflatten(1, (4, 2))(xpnet.zeros(2, 6))
