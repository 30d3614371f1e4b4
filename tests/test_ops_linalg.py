"""Matrix products (xpnet/ops/linalg.py, xpnet/ops/einsum.py): 1-D operands and batch
broadcasting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet

from .conftest import assert_close, random_arrays, to_xpnet
from .op_checks import assert_on_device, check_forward, check_grads, gradcheck, to_torch

try:  # the oracle; tests that need it skip through op_checks.to_torch
    import torch
except ImportError:
    torch = None

SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 2)),
    ((3, 4), (2, 4, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 2, 3), (2, 1, 3, 2)),
]


def _torch_matmul(a, b):
    return torch.matmul(a, b)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_matches_torch(backend, shapes):
    check_forward(backend, xpnet.matmul, _torch_matmul, random_arrays(*shapes))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_gradcheck(backend, shapes):
    gradcheck(xpnet.matmul, random_arrays(*shapes))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_grads_match_torch(backend, shapes):
    check_grads(backend, xpnet.matmul, _torch_matmul, random_arrays(*shapes))


@pytest.mark.parametrize("needs", [(True, False), (False, True)], ids=["a_only", "b_only"])
def test_matmul_grads_for_one_operand_match_torch(backend, needs):
    arrays = random_arrays((2, 1, 3, 4), (5, 4, 2))
    xs, ts = to_xpnet(*arrays), to_torch(*arrays)
    for x, t, need in zip(xs, ts, needs):
        x.requires_grad_(need)
        t.requires_grad_(need)
    (xs[0] @ xs[1]).sum().backward()
    (ts[0] @ ts[1]).sum().backward()
    for x, t in zip(xs, ts):
        if t.grad is None:
            assert x.grad is None
        else:
            assert_on_device(x.grad, backend)
            assert_close(x.grad, t.grad)


def test_matmul_operator_matches_function(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (3, 4)))
    got = a @ b
    assert_on_device(got, backend)
    np.testing.assert_array_equal(got.numpy(), xpnet.matmul(a, b).numpy())


# -- bad input --------------------------------------------------------------------------------

def test_matmul_rejects_inner_size_mismatch(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (4, 5)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\): "
                                         r"3 != 4"):
        xpnet.matmul(a, b)


def test_matmul_rejects_vector_size_mismatch(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (2,)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(2,\): "
                                         r"3 != 2"):
        a @ b


def test_matmul_rejects_unbroadcastable_batches(backend):
    a, b = to_xpnet(*random_arrays((2, 3, 4), (3, 4, 5)))
    with pytest.raises(ValueError, match=r"matmul: batch shapes \(2,\) and \(3,\) of operands "
                                         r"\(2, 3, 4\) and \(3, 4, 5\) do not broadcast"):
        xpnet.matmul(a, b)


def test_matmul_rejects_zero_d(backend):
    a, b = to_xpnet(*random_arrays((), (3,)))
    with pytest.raises(ValueError, match=r"matmul: both operands need at least one axis, got "
                                         r"shapes \(\) and \(3,\); use \* for scalars"):
        xpnet.matmul(a, b)


def test_matmul_rejects_non_tensor(backend):
    (a,) = to_xpnet(*random_arrays((2, 3)))
    with pytest.raises(TypeError, match=r"matmul: other must be a Tensor, got list \[\[1\.0\], "):
        xpnet.matmul(a, [[1.0], [2.0], [3.0]])


# -- PyTorch's fixed-shape products ------------------------------------------------------------

PRODUCTS = {
    "mm": (xpnet.mm, lambda *t: torch.mm(*t), [(2, 3), (3, 4)]),
    "bmm": (xpnet.bmm, lambda *t: torch.bmm(*t), [(2, 3, 4), (2, 4, 5)]),
    "mv": (xpnet.mv, lambda *t: torch.mv(*t), [(2, 3), (3,)]),
    "dot": (xpnet.dot, lambda *t: torch.dot(*t), [(3,), (3,)]),
    "vdot": (xpnet.vdot, lambda *t: torch.vdot(*t), [(3,), (3,)]),
    "outer": (xpnet.outer, lambda *t: torch.outer(*t), [(3,), (4,)]),
    "ger": (xpnet.ger, lambda *t: torch.ger(*t), [(3,), (2,)]),
    "inner": (xpnet.inner, lambda *t: torch.inner(*t), [(2, 3), (4, 5, 3)]),
    "inner_scalar": (xpnet.inner, lambda *t: torch.inner(*t), [(), (2, 3)]),
    "addmm": (xpnet.addmm, lambda *t: torch.addmm(*t), [(4,), (2, 3), (3, 4)]),
    "addmm_scaled": (lambda *x: xpnet.addmm(*x, beta=0.5, alpha=-2.0),
                     lambda *t: torch.addmm(*t, beta=0.5, alpha=-2.0), [(2, 1), (2, 3), (3, 4)]),
    "addmv": (lambda *x: xpnet.addmv(*x, alpha=3), lambda *t: torch.addmv(*t, alpha=3),
              [(2,), (2, 3), (3,)]),
    "baddbmm": (lambda *x: xpnet.baddbmm(*x, beta=2), lambda *t: torch.baddbmm(*t, beta=2),
                [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "addbmm": (lambda *x: xpnet.addbmm(*x, beta=0.5, alpha=2),
               lambda *t: torch.addbmm(*t, beta=0.5, alpha=2), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    "tensordot_int": (lambda a, b: xpnet.tensordot(a, b, 2),
                      lambda a, b: torch.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 5)]),
    "tensordot_lists": (lambda a, b: xpnet.tensordot(a, b, dims=([0, 2], [2, 0])),
                        lambda a, b: torch.tensordot(a, b, dims=([0, 2], [2, 0])),
                        [(2, 3, 4), (4, 5, 2)]),
    "tensordot_zero": (lambda a, b: xpnet.tensordot(a, b, 0),
                       lambda a, b: torch.tensordot(a, b, 0), [(2, 3), (4,)]),
    "kron": (xpnet.kron, lambda *t: torch.kron(*t), [(2, 3), (4, 1, 2)]),
    "cross_dim": (lambda a, b: xpnet.cross(a, b, dim=0), lambda a, b: torch.cross(a, b, dim=0),
                  [(3, 2), (3, 1)]),
    "cross_last": (lambda a, b: xpnet.cross(a, b, -1), lambda a, b: torch.cross(a, b, -1),
                   [(2, 4, 3), (1, 4, 3)]),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_product_matches_torch(backend, name):
    fn, torch_fn, shapes = PRODUCTS[name]
    arrays = random_arrays(*shapes)
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_product_gradcheck(backend, name):
    fn, _, shapes = PRODUCTS[name]
    gradcheck(fn, random_arrays(*shapes))


def test_addmm_with_beta_zero_ignores_nan_input_as_torch(backend):
    arrays = [np.full((2, 4), np.nan)] + random_arrays((2, 3), (3, 4))
    check_forward(backend, lambda *x: xpnet.addmm(*x, beta=0),
                  lambda *t: torch.addmm(*t, beta=0), arrays)


@pytest.mark.parametrize("name", ["addmm", "addmv", "baddbmm", "addbmm"])
def test_inplace_add_products_match_torch(backend, name):
    _, _, shapes = PRODUCTS[name]
    out_shape = {"addmm": (2, 4), "addmv": (2,), "baddbmm": (2, 3, 5), "addbmm": (3, 5)}[name]
    arrays = random_arrays(out_shape, *shapes[1:])
    xs, ts = to_xpnet(*arrays, requires_grad=False), to_torch(*arrays, requires_grad=False)
    got = getattr(xs[0], name + "_")(*xs[1:], alpha=2)
    getattr(ts[0], name + "_")(*ts[1:], alpha=2)
    assert got is xs[0]
    assert_close(xs[0], ts[0])


def test_cross_without_dim_uses_first_axis_of_size_3_as_torch(backend):
    a, b = random_arrays((2, 3, 3), (2, 3, 3))
    (got,) = [xpnet.cross(*to_xpnet(a, b))]
    want = np.cross(a, b, axis=1)  # torch.cross without dim warns that this default is deprecated
    assert_close(got, want)


@pytest.mark.parametrize("name", ["mm", "dot", "outer", "kron", "cross", "inner"])
def test_products_are_tensor_methods(backend, name):
    _, _, shapes = PRODUCTS["cross_last" if name == "cross" else name]
    a, b = to_xpnet(*random_arrays(*shapes))
    np.testing.assert_array_equal(getattr(a, name)(b).numpy(), getattr(xpnet, name)(a, b).numpy())


# -- einsum ------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 2)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,i", [(3,), (3,)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("i...,...->...i", [(3, 2), (4, 1)]),
    ("Ab,aB", [(2, 3), (4, 5)]),
    ("bi,bj", [(1, 3), (4, 2)]),
    (",i->i", [(), (4,)]),
    ("ijk,ikj->i", [(2, 3, 4), (2, 4, 3)]),
    (" i j , j k -> k i ", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_torch(backend, equation, shapes):
    arrays = random_arrays(*shapes)
    fn = lambda *x: xpnet.einsum(equation, *x)  # noqa: E731
    torch_fn = lambda *t: torch.einsum(equation, *t)  # noqa: E731
    check_forward(backend, fn, torch_fn, arrays)
    check_grads(backend, fn, torch_fn, arrays)


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES[:8], ids=[c[0] for c in EINSUM_CASES[:8]])
def test_einsum_gradcheck(backend, equation, shapes):
    gradcheck(lambda *x: xpnet.einsum(equation, *x), random_arrays(*shapes))


def test_einsum_takes_a_list_of_operands(backend):
    a, b = to_xpnet(*random_arrays((2, 3), (3, 4)))
    np.testing.assert_allclose(xpnet.einsum("ij,jk", [a, b]).numpy(), (a @ b).numpy())


@st.composite
def _einsum_problems(draw):
    """A random equation over up to three operands with diagonals, sums and implicit outputs."""
    letters = "abcdE"
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        term = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=4))
        terms.append("".join(term))
        shapes.append(tuple(sizes[c] for c in term))
    used = sorted(set("".join(terms)))
    explicit = draw(st.booleans())
    out = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))]) if used else ""
    equation = ",".join(terms) + ("->" + out if explicit else "")
    return equation, shapes, draw(st.integers(0, 2**16))


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict:device1"])
@settings(max_examples=25, deadline=None)
@given(problem=_einsum_problems())
def test_einsum_matches_torch_over_random_equations(backend_name, problem):
    equation, shapes, seed = problem
    with xpnet.use_backend(backend_name):
        arrays = random_arrays(*shapes, seed=seed)
        fn = lambda *x: xpnet.einsum(equation, *x)  # noqa: E731
        torch_fn = lambda *t: torch.einsum(equation, *t)  # noqa: E731
        check_forward(backend_name, fn, torch_fn, arrays)
        check_grads(backend_name, fn, torch_fn, arrays)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk", [(2, 3)], r"einsum: 'ij,jk' has 2 operand subscripts but 1 operands were given"),
    ("ij->i", [(2, 3, 4)], r"einsum: operand 0 has 3 axes but subscripts 'ij' name 2"),
    ("ij,jk", [(2, 3), (4, 5)], r"einsum: subscript 'j' has size 3 and size 4 \(operand 1\)"),
    ("ij->k", [(2, 3)], r"einsum: output subscript 'k' does not occur in the operands"),
    ("ij->ii", [(2, 3)], r"einsum: output subscript 'i' occurs more than once"),
    ("i1", [(2, 3)], r"einsum: invalid subscript '1' in 'i1'"),
    ("ii", [(2, 3)], r"einsum: subscript 'i' has size 2 and size 3 \(operand 0\)"),
    ("ii", [(1, 3)], r"einsum: subscript 'i' repeats on axes of different sizes \[1, 3\]"),
])
def test_einsum_rejects_bad_equations(backend, equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        xpnet.einsum(equation, *to_xpnet(*random_arrays(*shapes)))


def test_einsum_rejects_sublist_form(backend):
    (a,) = to_xpnet(*random_arrays((2, 3)))
    with pytest.raises(TypeError, match="einsum: the equation must be a string"):
        xpnet.einsum(a, [0, 1])


# -- norm --------------------------------------------------------------------------------------

NORMS = [("fro", None), ("fro", 1), ("fro", (0, 2)), (2, None), (2, 0), (1, (1, 2)),
         (3, -1), (0.5, 1), (1.5, None), (0, 1), (float("inf"), None), (float("-inf"), 2),
         (float("inf"), (0, 1))]


@pytest.mark.parametrize("p, dim", NORMS, ids=str)
def test_norm_matches_torch(backend, p, dim):
    x = _distinct_nonzero((2, 3, 4))
    for keepdim in (False, True):
        check_forward(backend, lambda x: xpnet.norm(x, p, dim, keepdim),
                      lambda t: torch.norm(t, p, dim, keepdim), [x])
    check_grads(backend, lambda x: xpnet.norm(x, p, dim, True),
                lambda t: torch.norm(t, p, dim, True), [x])


@pytest.mark.parametrize("p, dim", NORMS, ids=str)
def test_norm_gradcheck(backend, p, dim):
    gradcheck(lambda x: xpnet.norm(x, p, dim), [_distinct_nonzero((2, 3, 2))])


def _distinct_nonzero(shape):
    """No ties in |x| and no zeros, so every norm is differentiable."""
    rng = np.random.default_rng(3)
    magnitudes = rng.permutation(np.arange(1, np.prod(shape) + 1)).reshape(shape) * 0.1
    return magnitudes * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("p", [2, 1, 0.5, 3, float("inf")], ids=str)
def test_norm_gradient_at_zeros_matches_torch(backend, p):
    x = np.array([[0.0, 0.0, 0.0], [0.0, -2.0, 1.0], [2.0, -2.0, 0.5]])
    check_grads(backend, lambda x: xpnet.norm(x, p, 1), lambda t: torch.norm(t, p, 1), [x])


def test_nuclear_norm_matches_torch(backend):
    arrays = random_arrays((3, 4))
    check_forward(backend, lambda x: xpnet.norm(x, "nuc"), lambda t: torch.norm(t, "nuc"), arrays)
    check_grads(backend, lambda x: xpnet.norm(x, "nuc"), lambda t: torch.norm(t, "nuc"), arrays)
    batched = random_arrays((2, 3, 4))
    check_forward(backend, lambda x: xpnet.norm(x, "nuc", (0, 2), True),
                  lambda t: torch.norm(t, "nuc", (0, 2), True), batched)
    gradcheck(lambda x: xpnet.norm(x, "nuc", (2, 0)), batched)


def test_norm_method_and_dtype(backend):
    (x,) = to_xpnet(np.array([[3, 4], [0, 0]]))
    assert_close(x.norm(dim=1, dtype=xpnet.float64), np.array([5.0, 0.0]))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"p": "spectral"}, ValueError, r"norm: p must be 'fro', 'nuc' or a number, got 'spectral'"),
    ({"p": "fro", "dim": (0, 1, 2)}, ValueError, r"norm: p='fro' takes at most two axes"),
    ({"p": "nuc"}, ValueError, r"norm: p='nuc' needs exactly two axes"),
    ({"p": [2]}, TypeError, r"norm: p must be 'fro', 'nuc' or a number, got list"),
])
def test_norm_rejects_bad_arguments(backend, kwargs, error, message):
    (x,) = to_xpnet(*random_arrays((2, 3, 4)))
    with pytest.raises(error, match=message):
        xpnet.norm(x, **kwargs)


def test_norm_rejects_integer_input(backend):
    (x,) = to_xpnet(np.array([3, 4]))
    with pytest.raises(TypeError, match="norm: expected a floating-point tensor, got int64"):
        xpnet.norm(x)


# -- bad input for the fixed-shape products ----------------------------------------------------

@pytest.mark.parametrize("fn, shapes, error, message", [
    (xpnet.mm, [(2, 3, 1), (3, 4)], ValueError, r"mm: input must be 2-D, got shape \(2, 3, 1\)"),
    (xpnet.mm, [(2, 3), (4, 5)], ValueError, r"mm: cannot multiply shapes \(2, 3\) and \(4, 5\)"),
    (xpnet.bmm, [(2, 3, 4), (3, 4, 5)], ValueError, r"bmm: batch sizes differ"),
    (xpnet.dot, [(3,), (4,)], ValueError, r"dot: expected 1-D tensors of the same size"),
    (xpnet.mv, [(2, 3), (3, 1)], ValueError, r"mv: vec must be 1-D, got shape \(3, 1\)"),
    (xpnet.cross, [(2, 4), (2, 4)], ValueError, r"cross: no axis of size 3 in the shape \(2, 4\)"),
    (lambda a, b: xpnet.tensordot(a, b, 3), [(2, 3), (3, 2)], ValueError,
     r"tensordot: dims=3 must be between 0 and 2"),
    (lambda a, b: xpnet.tensordot(a, b, ([0], [0])), [(2, 3), (3, 2)], ValueError,
     r"tensordot: axis 0 of a \(size 2\) and axis 0 of b \(size 3\) differ"),
    (lambda a, b: xpnet.addmm(xpnet.zeros(3, 4), a, b), [(2, 3), (3, 4)], ValueError,
     r"addmm: cannot broadcast shapes \(3, 4\) and \(2, 4\)"),
])
def test_products_reject_bad_shapes(backend, fn, shapes, error, message):
    with pytest.raises(error, match=message):
        fn(*to_xpnet(*random_arrays(*shapes)))


def test_mm_rejects_non_tensor(backend):
    (a,) = to_xpnet(*random_arrays((2, 3)))
    with pytest.raises(TypeError, match="mm: mat2 must be a Tensor, got list"):
        xpnet.mm(a, [[1.0]])
