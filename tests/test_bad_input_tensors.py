"""Bad input to tensors, autograd and optimizers (issue 14): boolean masks of the wrong shape,
``.grad`` assignment, gradients of another dtype in an optimizer step, in-place updates from
another backend or device, ``Module.load_state_dict`` values, and ``backward(gradient=...)``.

Every error's type is compared with torch's (CPU) where torch has the same situation; values
that torch accepts are compared with torch's results.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
import xpnet.nn.functional as F
from xpnet import nn, optim
from xpnet.autograd import RowSparseGrad
from xpnet.autograd.tensor import GradDtypeError

from .conftest import BACKENDS, assert_close, assert_on_backend

torch = pytest.importorskip("torch")

# Plain backend names (no cupy here: a GPU run adds it through the fixture).
CPU_BACKENDS = ["numpy", "array_api_strict", "array_api_strict:device1", "torch"]


def _other_backends(name):
    return [b for b in CPU_BACKENDS if b != name]


X = np.arange(6.0).reshape(3, 2)


# -- 1. boolean masks: the shape must match the indexed dims -------------------------------------

@pytest.mark.parametrize("make", [
    lambda m: xpnet.tensor(m), lambda m: m, lambda m: m.tolist()], ids=["Tensor", "ndarray", "list"])
def test_mask_shorter_than_the_axis_raises_index_error_as_torch(backend, make):
    mask = np.array([True, False])
    with pytest.raises(IndexError, match="The shape of the mask"):
        torch.from_numpy(X)[torch.from_numpy(mask)]
    with pytest.raises(IndexError, match=r"getitem: the shape of the mask \[2\] at index 0 does "
                                         r"not match the shape of the indexed tensor \[3, 2\] "
                                         r"at index 0"):
        xpnet.tensor(X)[make(mask)]


def test_mask_with_a_size_one_axis_is_not_broadcast(backend):
    mask = np.ones((3, 1), dtype=bool)
    with pytest.raises(IndexError, match="The shape of the mask"):
        torch.from_numpy(X)[torch.from_numpy(mask)]
    with pytest.raises(IndexError, match=r"getitem: the shape of the mask \[3, 1\] at index 1 "
                                         r"does not match the shape of the indexed tensor "
                                         r"\[3, 2\] at index 1"):
        xpnet.tensor(X)[xpnet.tensor(mask)]


def test_mask_after_a_slice_is_checked_against_its_own_axis(backend):
    mask = np.array([True, False, True])
    with pytest.raises(IndexError, match="The shape of the mask"):
        torch.from_numpy(X)[:, torch.from_numpy(mask)]
    with pytest.raises(IndexError, match=r"getitem: the shape of the mask \[3\] at index 0 does "
                                         r"not match the shape of the indexed tensor \[3, 2\] "
                                         r"at index 1"):
        xpnet.tensor(X)[:, xpnet.tensor(mask)]
    with pytest.raises(IndexError, match=r"at index 1"):
        xpnet.tensor(X)[..., xpnet.tensor(mask)]


def test_assignment_through_a_wrong_mask_raises_and_writes_nothing(backend):
    mask = np.array([True, False])
    theirs = torch.from_numpy(X.copy())
    with pytest.raises(IndexError, match="The shape of the mask"):
        theirs[torch.from_numpy(mask)] = 1.0
    ours = xpnet.tensor(X)
    with pytest.raises(IndexError, match=r"setitem: the shape of the mask \[2\] at index 0 does "
                                         r"not match the shape of the indexed tensor \[3, 2\]"):
        ours[xpnet.tensor(mask)] = 1.0
    assert_close(ours, X)
    with pytest.raises(IndexError, match=r"index_put: the shape of the mask \[2\]"):
        xpnet.index_put(ours, (xpnet.tensor(mask),), xpnet.tensor(1.0, dtype=xpnet.float64))


@pytest.mark.parametrize("key", [
    (np.array([True, False, True]),), (np.array([[True, False], [False, True], [True, True]]),),
    (slice(None), np.array([False, True])), (1, np.array([True, True])),
    (np.array([False, False, False]),)], ids=["rows", "2-D", "after slice", "after int", "none"])
def test_masks_of_the_right_shape_select_as_torch(backend, key):
    want = torch.from_numpy(X)[tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k
                                      for k in key)]
    got = xpnet.tensor(X)[tuple(xpnet.tensor(k) if isinstance(k, np.ndarray) else k for k in key)]
    assert_close(got, want.numpy())
    assert_on_backend(got, backend)


@pytest.mark.parametrize("value", [True, False])
def test_zero_dim_mask_adds_an_axis_as_torch(backend, value):
    want = torch.from_numpy(X)[torch.tensor(value)]
    got = xpnet.tensor(X)[xpnet.tensor(value)]
    assert got.shape == tuple(want.shape)
    assert_close(got, want.numpy())
    theirs, ours = torch.from_numpy(X.copy()), xpnet.tensor(X)
    theirs[torch.tensor(value)] = -1.0
    ours[xpnet.tensor(value)] = -1.0
    assert_close(ours, theirs.numpy())


def test_zero_dim_mask_beside_an_index_array_is_refused_clearly(backend):
    with pytest.raises(IndexError, match="getitem: a 0-d boolean mask cannot be combined with "
                                         "other index arrays"):
        xpnet.tensor(X)[xpnet.tensor(True), xpnet.tensor([0, 1])]


# -- 2. .grad assignment -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [np.zeros(3), [0.0, 0.0, 0.0], "abc", 1.0],
                         ids=["ndarray", "list", "str", "float"])
def test_grad_must_be_a_tensor_or_none_as_in_torch(backend, value):
    theirs = torch.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        theirs.grad = value
    ours = xpnet.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match=f"Tensor.grad: assigned grad expected to be a Tensor or "
                                        f"None but got grad of type {type(value).__name__}"):
        ours.grad = value
    assert ours.grad is None


def test_grad_of_another_shape_is_refused_as_in_torch(backend):
    theirs = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="size"):
        theirs.grad = torch.zeros(4)
    ours = xpnet.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"Tensor.grad: assigned grad has shape \(4,\), but the "
                                         r"tensor has shape \(3,\)") as info:
        ours.grad = xpnet.zeros(4)
    assert isinstance(info.value, RuntimeError)  # what torch code catches
    assert ours.grad is None


def test_grad_of_another_dtype_is_refused_as_in_torch(backend):
    theirs = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="dtype"):
        theirs.grad = torch.zeros(3, dtype=torch.float64)
    ours = xpnet.zeros(3, requires_grad=True)
    for dtype in (xpnet.float64, xpnet.int64):
        with pytest.raises(TypeError, match=f"Tensor.grad: assigned grad has dtype {dtype.name}, "
                                            f"but the tensor has dtype float32") as info:
            ours.grad = xpnet.zeros(3, dtype=dtype)
        assert isinstance(info.value, RuntimeError)
    assert ours.grad is None


def test_grad_on_another_backend_is_refused(backend):
    ours = xpnet.zeros(3, requires_grad=True)
    for other in _other_backends(backend):
        with pytest.raises(ValueError, match=f"Tensor.grad: tensors are on different "
                                             f"backends/devices: {backend} and {other}"):
            ours.grad = xpnet.zeros(3, backend=other)
    assert ours.grad is None


def test_a_tensor_cannot_be_its_own_grad_as_in_torch(backend):
    theirs = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="its own grad"):
        theirs.grad = theirs
    ours = xpnet.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Tensor.grad: a tensor cannot be its own grad"):
        ours.grad = ours


def test_valid_grads_are_stored_as_given(backend):
    ours = xpnet.zeros(3, requires_grad=True)
    g = xpnet.ones(3)
    ours.grad = g
    assert ours.grad is g
    ours.grad = None
    assert ours.grad is None
    plain = xpnet.zeros(2, dtype=xpnet.int64)  # torch allows a grad on any tensor of its dtype
    plain.grad = xpnet.ones(2, dtype=xpnet.int64)
    assert plain.grad.dtype is xpnet.int64


def test_sparse_grads_are_checked_too(backend):
    emb = nn.Embedding(5, 2, sparse=True)
    emb(xpnet.tensor([1, 3])).sum().backward()
    g = emb.weight.grad
    assert isinstance(g, RowSparseGrad)
    emb.weight.grad = None
    emb.weight.grad = g  # a sparse gradient of the right shape: accepted
    assert emb.weight.grad is g
    other = nn.Embedding(6, 2, sparse=True)
    with pytest.raises(ValueError, match=r"Tensor.grad: assigned grad has shape \(5, 2\), but "
                                         r"the tensor has shape \(6, 2\)"):
        other.weight.grad = g


# -- 3. optimizers keep the parameters' dtype ----------------------------------------------------

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam", "ASGD", "Rprop"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_float64_grad_never_turns_a_float32_parameter_into_float64(backend, name):
    p = xpnet.ones(3, requires_grad=True)
    p.grad = xpnet.zeros(3)
    # .grad's setter refuses another dtype; .data rebinds the values behind it, as in torch.
    p.grad.data = xpnet.full((3,), 2.0, dtype=xpnet.float64)
    opt = getattr(optim, name)([p], lr=0.1)
    opt.step()
    opt.step()
    assert p.dtype is xpnet.float32
    assert_on_backend(p, backend)
    if name in ("SGD", "RMSprop", "Adagrad", "Adadelta", "ASGD", "Rprop"):  # torch steps too
        q = torch.ones(3, requires_grad=True)
        q.grad = torch.zeros(3)
        q.grad.data = torch.full((3,), 2.0, dtype=torch.float64)
        theirs = getattr(torch.optim, name)([q], lr=0.1)
        theirs.step()
        theirs.step()
        assert_close(p, q.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_an_integer_grad_is_refused_by_step(backend, name):
    p = xpnet.ones(3, requires_grad=True)
    p.grad = xpnet.zeros(3)
    p.grad.data = xpnet.ones(3, dtype=xpnet.int64)
    if name == "Adam":  # torch's Adam refuses it too (its SGD without momentum casts it)
        q = torch.ones(3, requires_grad=True)
        q.grad = torch.zeros(3)
        q.grad.data = torch.ones(3, dtype=torch.int64)
        with pytest.raises(RuntimeError):
            torch.optim.Adam([q], lr=0.1).step()
    with pytest.raises(TypeError, match=f"{name}.step: the gradient of parameter 0 has dtype "
                                        f"int64; expected float32, the parameter's") as info:
        getattr(optim, name)([p], lr=0.1).step()
    assert isinstance(info.value, RuntimeError)
    assert p.dtype is xpnet.float32
    assert_close(p, np.ones(3))


def test_a_numpy_grad_gives_a_type_error_not_an_attribute_error(backend):
    p = xpnet.ones(3, requires_grad=True)
    p._grad = np.ones(3)  # what an old-style direct write would leave; the setter refuses it
    with pytest.raises(TypeError, match=r"SGD.step: the gradient of parameter 0 must be a "
                                        r"Tensor, got ndarray"):
        optim.SGD([p], lr=0.1).step()


def test_lbfgs_checks_the_gradients_it_gathers(backend):
    p = xpnet.ones(3, requires_grad=True)
    opt = optim.LBFGS([p], lr=0.1, max_iter=2)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        p.grad.data = xpnet.ones(3, dtype=xpnet.int64)
        return loss

    with pytest.raises(TypeError, match="LBFGS.step: the gradient of parameter 0 has dtype int64"):
        opt.step(closure)


# -- 4. in-place updates from another backend or device -------------------------------------------

def test_copy_from_another_backend_converts_as_torch_copies_across_devices(backend):
    # torch: cpu_tensor.copy_(cuda_tensor) copies; xpnet: any backend or device into any.
    for other in _other_backends(backend):
        dst = xpnet.zeros(2, 3)
        src = xpnet.tensor(np.arange(6.0).reshape(2, 3), dtype=xpnet.float64, backend=other)
        out = dst.copy_(src)
        assert out is dst and dst.dtype is xpnet.float32
        assert_on_backend(dst, backend)
        assert_close(dst, np.arange(6.0).reshape(2, 3))
        row = xpnet.tensor([1.0, 2.0, 3.0], backend=other)
        dst.copy_(row)  # broadcast, as torch's copy_
        assert_close(dst, np.array([[1.0, 2.0, 3.0]] * 2))
        assert_on_backend(dst, backend)


def test_copy_from_another_backend_is_differentiable(backend):
    other = _other_backends(backend)[0]
    src = xpnet.tensor([1.0, 2.0], requires_grad=True, backend=other)
    dst = xpnet.zeros(2)
    dst.copy_(src * 3)
    (dst * xpnet.tensor([1.0, 10.0])).sum().backward()
    assert_close(src.grad, [3.0, 30.0])
    assert_on_backend(src.grad, other)


@pytest.mark.parametrize("update", [
    lambda t, o: t.add_(o), lambda t, o: t.sub_(o), lambda t, o: t.mul_(o),
    lambda t, o: t.div_(o), lambda t, o: t.__iadd__(o), lambda t, o: t.__imul__(o),
    lambda t, o: t.addcmul_(o, o), lambda t, o: t.clamp_(min=o), lambda t, o: t.pow_(o),
    lambda t, o: t.__setitem__(slice(None), o), lambda t, o: t.__setitem__(0, o[0]),
    lambda t, o: t.masked_fill_(o > 0, 1.0), lambda t, o: t.index_add_(0, o.long(), o),
], ids=["add_", "sub_", "mul_", "div_", "+=", "*=", "addcmul_", "clamp_", "pow_", "setitem",
        "setitem int", "masked_fill_", "index_add_"])
def test_other_in_place_updates_refuse_another_backend(backend, update):
    for other in _other_backends(backend):
        t = xpnet.tensor([1.0, 2.0])
        o = xpnet.tensor([0.0, 1.0], backend=other)
        with pytest.raises(ValueError, match=f"on {other}|{other} and {backend}|"
                                             f"{backend} and {other}"):
            update(t, o)
        assert_close(t, [1.0, 2.0])  # nothing written
        assert_on_backend(t, backend)


# -- 5. Module.load_state_dict values -------------------------------------------------------------

def _linear():
    m = nn.Linear(2, 1)
    with xpnet.no_grad():
        m.weight.copy_(xpnet.tensor([[1.0, 2.0]]))
        m.bias.fill_(0.5)
    return m


@pytest.mark.parametrize("make", [
    lambda a: xpnet.tensor(a), lambda a: a], ids=["Tensor", "ndarray"])
def test_complex_values_into_a_real_parameter_are_refused(backend, make):
    m = _linear()
    value = make(np.array([[1 + 2j, 3 - 1j]], dtype=np.complex64))
    with pytest.raises(TypeError, match=r"load_state_dict: 'weight' holds complex64 values; the "
                                        r"module's 'weight' is float32 and would drop the "
                                        r"imaginary parts"):
        m.load_state_dict({"weight": value, "bias": xpnet.ones(1)})
    assert_close(m.weight, [[1.0, 2.0]])  # nothing loaded
    assert_close(m.bias, [0.5])


@pytest.mark.parametrize("value", ["abc", None, {"a": 1}, object(), b"xy"],
                         ids=["str", "None", "dict", "object", "bytes"])
def test_non_array_values_are_refused_naming_the_key(backend, value):
    torch_model = torch.nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match="expected torch.Tensor"):
        torch_model.load_state_dict({"weight": value, "bias": torch.ones(1)})
    m = _linear()
    with pytest.raises(TypeError, match=f"load_state_dict: the value for 'weight' must be a "
                                        f"Tensor or an array, got {type(value).__name__}"):
        m.load_state_dict({"weight": value, "bias": xpnet.ones(1)})
    assert_close(m.weight, [[1.0, 2.0]])


def test_a_list_of_strings_is_refused_as_a_type_error(backend):
    m = _linear()
    with pytest.raises(TypeError, match="load_state_dict: the value for 'weight' must be a "
                                        "Tensor or an array"):
        m.load_state_dict({"weight": [["a", "b"]], "bias": xpnet.ones(1)})


def test_real_values_of_other_dtypes_still_load_as_torch_casts_them(backend):
    m = _linear()
    for value in (np.array([[3, 4]]), xpnet.tensor([[3.0, 4.0]], dtype=xpnet.float64),
                  [[3.0, 4.0]], xpnet.tensor([[True, False]])):
        m.load_state_dict({"weight": value, "bias": xpnet.ones(1)})
        assert m.weight.dtype is xpnet.float32
        assert_on_backend(m.weight, backend)
    assert_close(m.weight, [[1.0, 0.0]])


# -- 6. backward(gradient=...) -------------------------------------------------------------------

def _pair_outputs():
    ours = xpnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    theirs = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return ours, ours * 2, theirs, theirs * 2


@pytest.mark.parametrize("value", ["abc", {"a": 1}, object()], ids=["str", "dict", "object"])
def test_backward_gradient_of_a_wrong_type_raises_type_error(backend, value):
    x, y, tx, ty = _pair_outputs()
    with pytest.raises(TypeError):
        ty.backward(gradient=value)
    with pytest.raises(TypeError, match=f"backward: gradient must be a Tensor, an array or None, "
                                        f"got {type(value).__name__}"):
        y.backward(gradient=value)
    assert x.grad is None


def test_backward_gradient_of_strings_raises_type_error(backend):
    x, y, _, _ = _pair_outputs()
    with pytest.raises(TypeError, match="backward: gradient must hold numbers"):
        y.backward(gradient=["a", "b", "c"])


@pytest.mark.parametrize("make", [lambda: xpnet.ones(2), lambda: [1.0, 2.0]],
                         ids=["Tensor", "list"])
def test_backward_gradient_of_a_wrong_shape_raises_value_error(backend, make):
    x, y, tx, ty = _pair_outputs()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        ty.backward(gradient=torch.ones(2))
    with pytest.raises(ValueError, match=r"backward: mismatch in shape of gradient: grad has "
                                         r"shape \(2,\), expected \(3,\)") as info:
        y.backward(gradient=make())
    assert isinstance(info.value, RuntimeError)
    assert x.grad is None


def test_backward_gradient_of_another_dtype_is_cast_as_in_torch(backend):
    x, y, tx, ty = _pair_outputs()
    ty.backward(gradient=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    y.backward(gradient=xpnet.tensor([1.0, 2.0, 3.0], dtype=xpnet.float64))
    assert x.grad.dtype is xpnet.float32
    assert_close(x.grad, tx.grad.numpy())
    # a leaf as the root: its own .grad is the gradient, in its dtype
    x.grad = None
    x.backward(xpnet.tensor([1, 1, 1]))
    assert x.grad.dtype is xpnet.float32
    assert_close(x.grad, [1.0, 1.0, 1.0])


def test_backward_complex_gradient_for_a_real_tensor_is_refused_as_in_torch(backend):
    x, y, tx, ty = _pair_outputs()
    with pytest.raises(RuntimeError, match="dtype"):
        ty.backward(gradient=torch.ones(3, dtype=torch.complex64))
    with pytest.raises(TypeError, match="backward: gradient has dtype complex64; expected a real "
                                        "gradient for the float32 tensor") as info:
        y.backward(gradient=xpnet.ones(3, dtype=xpnet.complex64))
    assert isinstance(info.value, RuntimeError)


def test_backward_gradient_on_another_backend_is_refused(backend):
    for other in _other_backends(backend):
        x, y, _, _ = _pair_outputs()
        with pytest.raises(ValueError, match=f"backward: gradient is on {other}, the tensor on "
                                             f"{backend}"):
            y.backward(gradient=xpnet.ones(3, backend=other))
        assert x.grad is None


def test_autograd_backward_and_grad_name_their_parameters(backend):
    x, y, _, _ = _pair_outputs()
    with pytest.raises(TypeError, match=r"autograd.backward: grad_tensors\[0\] must be a Tensor"):
        xpnet.autograd.backward([y], ["abc"])
    with pytest.raises(ValueError, match=r"autograd.grad: mismatch in shape of grad_outputs\[0\]"):
        xpnet.autograd.grad([y], [x], grad_outputs=[xpnet.ones(2)])
    (g,) = xpnet.autograd.grad([y], [x], grad_outputs=[xpnet.ones(3)])
    assert_close(g, [2.0, 2.0, 2.0])


def test_backward_takes_torchs_keywords(backend):
    x, y, tx, ty = _pair_outputs()
    y.backward(gradient=xpnet.ones(3), retain_graph=True)
    y.backward(gradient=xpnet.ones(3))
    assert_close(x.grad, [4.0, 4.0, 4.0])


def test_step_still_checks_shapes_before_writing(backend):
    w, v = xpnet.zeros(2, requires_grad=True), xpnet.zeros(3, requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1)
    w.grad = xpnet.ones(2)
    v._grad = xpnet.ones(2)  # behind the setter's back
    with pytest.raises(ValueError, match=r"SGD.step: a parameter of shape \(3,\) on \S+ has a "
                                         r"gradient of shape \(2,\)"):
        opt.step()
    assert_close(w, np.zeros(2))


# -- fill_ and copy_ values -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["a", None, [1.0]], ids=["str", "None", "list"])
def test_fill_takes_numbers_only_as_torch(backend, value):
    with pytest.raises(TypeError):
        torch.zeros(2).fill_(value)
    t = xpnet.zeros(2)
    with pytest.raises(TypeError, match=f"fill_: value must be a number or a one-element Tensor, "
                                        f"got {type(value).__name__}"):
        t.fill_(value)
    assert_close(t, [0.0, 0.0])


def test_fill_with_a_tensor_of_several_elements_is_refused(backend):
    with pytest.raises(RuntimeError):
        torch.zeros(2).fill_(torch.ones(2))
    with pytest.raises(ValueError, match=r"fill_: value must be a number or a one-element Tensor, "
                                         r"got a Tensor of shape \(2,\)"):
        xpnet.zeros(2).fill_(xpnet.ones(2))


def test_fill_casts_as_torch_and_refuses_what_it_cannot_store(backend):
    ints = xpnet.zeros(2, dtype=xpnet.int64).fill_(1.7)
    assert_close(ints, torch.zeros(2, dtype=torch.int64).fill_(1.7).numpy())
    with pytest.raises(TypeError, match="fill_: value 1j is complex; a float32 tensor would "
                                        "drop its imaginary part"):
        xpnet.zeros(2).fill_(1j)
    with pytest.raises(ValueError, match="fill_: cannot store value nan in a int64 tensor"):
        xpnet.zeros(2, dtype=xpnet.int64).fill_(float("nan"))


def test_copy_refuses_what_is_not_values(backend):
    with pytest.raises(TypeError):
        torch.zeros(2).copy_("ab")
    t = xpnet.zeros(2)
    for src in ("ab", None, {"a": 1}):
        with pytest.raises(TypeError, match=f"copy_: src must be a Tensor \\(or numbers, an "
                                            f"array\\), got {type(src).__name__}"):
            t.copy_(src)
    with pytest.raises(TypeError, match="copy_: src must be a Tensor"):
        t.copy_(["a", "b"])


def test_copy_of_a_shape_that_does_not_broadcast_is_refused(backend):
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).copy_(torch.ones(4))
    with pytest.raises(ValueError, match=r"copy_: src of shape \(4,\) cannot be broadcast to the "
                                         r"tensor's shape \(2, 3\)"):
        xpnet.zeros(2, 3).copy_(xpnet.ones(4))
    with pytest.raises(ValueError, match=r"copy_: src of shape \(1, 2, 3\)"):
        xpnet.zeros(2, 3).copy_(xpnet.ones(1, 2, 3))


def test_copy_of_complex_values_into_a_real_tensor_is_refused(backend):
    t = xpnet.zeros(2)
    with pytest.raises(TypeError, match="copy_: src has dtype complex64; storing it in a float32 "
                                        "tensor would drop the imaginary parts"):
        t.copy_(xpnet.tensor([1 + 1j, 2 + 0j], dtype=xpnet.complex64))
    assert_close(t, [0.0, 0.0])


def test_copy_keeps_python_floats_exact_in_float64(backend):
    t = xpnet.zeros(2, dtype=xpnet.float64).copy_([0.1, 1 / 3])
    assert_close(t, np.array([0.1, 1 / 3]), rtol=0, atol=0)


# -- indices of a wrong type ----------------------------------------------------------------------

@pytest.mark.parametrize("key", [0.5, "a"], ids=["float", "str"])
def test_index_of_a_wrong_type_names_what_indices_may_be(backend, key):
    with pytest.raises((IndexError, TypeError)):
        torch.zeros(2, 3)[key]
    with pytest.raises(TypeError, match=f"getitem: indices must be ints, slices, None, Ellipsis, "
                                        f"or integer or bool Tensors, got {type(key).__name__} "
                                        f"{key!r}"):
        xpnet.zeros(2, 3)[key]


# -- load_state_dict keys and autograd.grad inputs ------------------------------------------------

def test_missing_and_unexpected_keys_raise_a_key_error_that_is_also_torchs(backend):
    with pytest.raises(RuntimeError, match="Missing key"):
        torch.nn.Linear(2, 1).load_state_dict({"weight": torch.ones(1, 2)})
    with pytest.raises(KeyError, match=r"^load_state_dict for Linear: missing keys: 'bias'$") \
            as info:
        _linear().load_state_dict({"weight": xpnet.ones(1, 2)})
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    with pytest.raises(KeyError, match=r"unexpected keys: 'extra'"):
        _linear().load_state_dict({"weight": xpnet.ones(1, 2), "bias": xpnet.ones(1),
                                   "extra": xpnet.ones(1)})


def test_autograd_grad_names_an_input_outside_the_graph(backend):
    x, y, tx, ty = _pair_outputs()
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        torch.autograd.grad(ty.sum(), [torch.ones(3, requires_grad=True)])
    with pytest.raises(ValueError, match=r"autograd.grad: input 0 was not used to compute the "
                                         r"outputs \(inputs\[0\] is not in their graph\)") as info:
        xpnet.autograd.grad(y.sum(), [xpnet.ones(3, requires_grad=True)])
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(ValueError, match=r"autograd.grad: input 0 does not require grad "
                                         r"\(inputs\[0\] must be"):
        xpnet.autograd.grad(y.sum(), [xpnet.ones(3)])


def test_backward_without_gradient_of_a_non_scalar_names_the_parameter(backend):
    x, y, tx, ty = _pair_outputs()
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        ty.backward()
    with pytest.raises(ValueError, match=r"backward: grad can be omitted only for one-element "
                                         r"tensors, got shape \(3,\); pass gradient") as info:
        y.backward()
    assert isinstance(info.value, RuntimeError)


def test_a_hook_that_changes_the_gradient_dtype_is_refused_as_in_torch():
    w = xpnet.ones(3, requires_grad=True)
    w.register_hook(lambda g: g.double())
    with pytest.raises(GradDtypeError, match="register_hook: a hook returned a gradient of "
                                             "dtype float64 for a gradient of dtype float32"):
        (w * 2).sum().backward()
    assert w.grad is None and w.dtype == xpnet.float32
    t = torch.ones(3, requires_grad=True)
    t.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError):  # GradDtypeError is a RuntimeError too
        (t * 2).sum().backward()
