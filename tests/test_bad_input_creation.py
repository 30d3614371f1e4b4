"""Bad input to tensor creation (issue 14): `tensor`/`as_tensor`/`from_numpy` of data xpnet
cannot hold, ragged or non-numeric nesting, factory sizes, reshape/concat arguments and
safetensors files of half-precision tensors. Each case raises at the call, with the exception
type PyTorch raises (its RuntimeError for a bad value is our ValueError), and a message naming
the call, the parameter, what was expected and what came."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import xpnet

torch = pytest.importorskip("torch")

SUPPORTED = "bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, " \
            "complex64, complex128"


def _raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _torch_raises(call):
    """The exception type torch raises for the same input, as xpnet names it: torch's
    RuntimeError for a bad value is a ValueError here."""
    try:
        call()
    except RuntimeError:
        return ValueError
    except Exception as e:  # noqa: BLE001 - the type is the answer
        return type(e)
    return None


# -- arrays of a dtype xpnet does not hold -------------------------------------------------------

UNSUPPORTED = {
    "object": np.array([1, "a"], dtype=object),
    "str": np.array(["a", "b"]),
    "bytes": np.array([b"a"]),
    "float16": np.array([1.5], dtype=np.float16),
    "datetime64": np.array(["2020-01-01"], dtype="datetime64[D]"),
    "timedelta64": np.array([1], dtype="timedelta64[s]"),
    "longdouble": np.array([1.0], dtype=np.longdouble),
    "clongdouble": np.array([1.0], dtype=np.clongdouble),
    "structured": np.zeros(2, dtype=[("a", "i4")]),
}


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED))
@pytest.mark.parametrize("op", ["tensor", "as_tensor", "from_numpy"])
def test_arrays_of_unsupported_dtypes_are_refused_at_the_call(backend, op, kind):
    a = UNSUPPORTED[kind]
    if a.dtype == np.longdouble and np.longdouble == np.float64:
        pytest.skip("longdouble is float64 on this platform")
    match = rf"{op}: cannot make a tensor from a numpy.ndarray of dtype .*; xpnet supports " \
            rf"{SUPPORTED}"
    _raises(lambda: getattr(xpnet, op)(a), TypeError, match)
    if kind != "float16":  # torch holds float16; the rest it refuses with a TypeError too
        assert _torch_raises(lambda: getattr(torch, op)(a)) is TypeError


def test_unsupported_numpy_scalars_are_refused():
    _raises(lambda: xpnet.tensor(np.float16(1.0)), TypeError,
            "tensor: cannot make a tensor from a numpy.float16 of dtype float16")
    _raises(lambda: xpnet.tensor(np.str_("a")), TypeError,
            "tensor: cannot make a tensor from a numpy.str_ of dtype <U1; .*numbers only")


def test_a_numeric_unsupported_dtype_converts_when_dtype_is_given(backend):
    a = np.array([1.5, -2.25, 1e-3], dtype=np.float16)
    ours = xpnet.tensor(a, dtype=xpnet.float32)
    theirs = torch.tensor(a, dtype=torch.float32)
    assert ours.dtype is xpnet.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert xpnet.as_tensor(a, dtype="float64").dtype is xpnet.float64
    # A hint says how; non-numbers stay refused even with a dtype.
    _raises(lambda: xpnet.tensor(a), TypeError, r"pass dtype= \(xpnet.float32 or xpnet.float64")
    _raises(lambda: xpnet.tensor(np.array(["1"]), dtype=xpnet.float32), TypeError,
            "tensor: cannot make a tensor from a numpy.ndarray of dtype <U1")


def test_torch_half_tensors_are_refused_on_the_torch_backend():
    with xpnet.use_backend("torch"):
        for dtype in (torch.float16, torch.bfloat16):
            half = torch.ones(2, dtype=dtype)
            _raises(lambda: xpnet.tensor(half), TypeError,
                    rf"tensor: cannot make a tensor from a torch.Tensor of dtype {dtype}")
            _raises(lambda: xpnet.as_tensor(half), TypeError, "as_tensor: cannot make")
            assert xpnet.tensor(half, dtype=xpnet.float32).tolist() == [1.0, 1.0]


def test_complex_data_is_not_cut_to_a_real_dtype(backend):
    # torch raises TypeError for complex Python numbers into a real dtype.
    assert _torch_raises(lambda: torch.tensor([1j], dtype=torch.float32)) is TypeError
    for data in ([1j, 2.0], np.array([1j]), xpnet.tensor([1j])):
        _raises(lambda: xpnet.tensor(data, dtype=xpnet.float32), TypeError,
                r"tensor: cannot convert complex values to float32 \(the imaginary part")


# -- Python data ------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    [True, False], [1, 2], [1, 2.5], [1, 2j], [], [[]], 3, 2.5, True, (1, 2), range(4),
    [[1, 2], [3, 4]], [np.int32(1), 2], [np.float32(1.5)], [np.True_, np.False_],
])
def test_python_data_infers_torchs_dtype(backend, data):
    ours, theirs = xpnet.tensor(data), torch.tensor(data)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("data, match", [
    ([[1, 2], [3]], r"tensor: ragged nested sequence: data\[1\] has length 1, data\[0\] has "
                    r"length 2"),
    ([[[1], [2]], [[3], [4, 5]]], r"data\[1\]\[1\] has length 2, data\[0\]\[0\] has length 1"),
    ([[1, 2], [3, 4], []], r"data\[2\] has length 0, data\[0\] has length 2"),
])
def test_ragged_lengths_name_the_index(backend, data, match):
    _raises(lambda: xpnet.tensor(data), ValueError, match)
    _raises(lambda: xpnet.tensor(data, dtype=xpnet.float64), ValueError, match)
    assert _torch_raises(lambda: torch.tensor(data)) is ValueError


@pytest.mark.parametrize("data, match", [
    ([[1, 2], 3], r"tensor: ragged nested sequence: data\[1\] is int 3, not a sequence like "
                  r"data\[0\] \(list of length 2\)"),
    ([1, [2, 3]], r"tensor: ragged nested sequence: data\[1\] is a list of length 2, not a "
                  r"number like data\[0\] \(1\)"),
])
def test_sequences_mixed_with_numbers_are_refused(data, match):
    _raises(lambda: xpnet.tensor(data), TypeError, match)
    assert _torch_raises(lambda: torch.tensor(data)) is TypeError


@pytest.mark.parametrize("data, match", [
    (["a"], r"tensor: cannot make a tensor from a str \('a'\) at data\[0\]; expected numbers"),
    ([None], r"cannot make a tensor from a NoneType \(None\) at data\[0\]"),
    ([[1, 2], [3, "x"]], r"cannot make a tensor from a str \('x'\) at data\[1\]\[1\]"),
    (None, r"tensor: cannot make a tensor from a NoneType \(None\); expected numbers"),
    ("12", r"tensor: cannot make a tensor from a str \('12'\)"),
    ({1: 2}, r"cannot make a tensor from a dict"),
    ({1, 2}, r"cannot make a tensor from a set"),
    ([np.str_("a")], r"cannot make a tensor from a numpy.str_ of dtype <U1 at data\[0\]; "
                     r"xpnet supports"),
    ([1, np.datetime64("2020-01-01")], r"cannot make a tensor from a numpy.datetime64 of dtype "
                                       r"datetime64\[D\] at data\[1\]"),
])
def test_non_numbers_are_refused_naming_the_element(backend, data, match):
    _raises(lambda: xpnet.tensor(data), TypeError, match)
    # With a dtype NumPy would parse '1' or turn None into nan: refused all the same.
    _raises(lambda: xpnet.tensor(data, dtype=xpnet.float32), TypeError, match)


def test_non_numbers_compare_with_torch():
    # torch: ValueError for str ("too many dimensions 'str'"), RuntimeError "Could not infer
    # dtype" for None/dict/set; we raise TypeError for every element of the wrong type.
    assert _torch_raises(lambda: torch.tensor(["a"])) is ValueError
    assert _torch_raises(lambda: torch.tensor([None])) is ValueError  # its RuntimeError
    assert _torch_raises(lambda: torch.tensor([None], dtype=torch.float32)) is TypeError


@pytest.mark.parametrize("data, dtype, match", [
    (2 ** 70, None, r"tensor: cannot convert 1180591620717411303424 to int64; int64 holds "
                    r"-9223372036854775808 to 9223372036854775807"),
    ([1, 2 ** 63], None, r"cannot convert 9223372036854775808 at data\[1\] to int64"),
    ([300], xpnet.uint8, r"tensor: cannot convert 300 at data\[0\] to uint8; uint8 holds 0 to 255"),
    ([-1], xpnet.uint8, r"cannot convert -1 at data\[0\] to uint8"),
    ([[1.0], [math.nan]], xpnet.int64, r"cannot convert nan at data\[1\]\[0\] to int64"),
    ([1e20], xpnet.int32, r"cannot convert 1e\+20 at data\[0\] to int32"),
    ([2 ** 1100, 1.0], None, r"cannot convert \d{24}\.\.\. \(332 characters\) at "
                             r"data\[0\] to float32"),
])
def test_values_out_of_range_raise_value_error_on_every_backend(backend, data, dtype, match):
    _raises(lambda: xpnet.tensor(data, dtype=dtype), ValueError, match)


def test_out_of_range_compares_with_torch():
    assert _torch_raises(lambda: torch.tensor(2 ** 70)) is ValueError
    assert _torch_raises(lambda: torch.tensor([300], dtype=torch.uint8)) is ValueError
    assert _torch_raises(lambda: torch.tensor([math.nan], dtype=torch.int64)) is ValueError
    # torch wraps -1 into 255 (a C cast); NumPy 2 and xpnet refuse it on every backend.
    assert torch.tensor([-1], dtype=torch.uint8).tolist() == [255]


def test_nested_tensors_and_arrays_are_stacked(backend):
    rows = [xpnet.tensor([1.0, 2.0]), np.array([3.0, 4.0], dtype=np.float32)]
    assert xpnet.tensor(rows).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    # torch accepts a list of arrays too (with a warning that it is slow).
    both = xpnet.tensor([np.array([1, 2]), np.array([3, 4])])
    assert both.tolist() == [[1, 2], [3, 4]] and both.dtype is xpnet.int64
    _raises(lambda: xpnet.tensor([xpnet.zeros(2), xpnet.zeros(3)]), ValueError,
            r"tensor: ragged nested sequence: data\[1\] has shape \(3,\), data\[0\] has shape "
            r"\(2,\)")
    _raises(lambda: xpnet.tensor([xpnet.zeros(2), np.zeros(2, np.float16)]), TypeError,
            "tensor: cannot make a tensor from a numpy.ndarray of dtype float16")


def test_requires_grad_needs_a_float_dtype_and_names_the_call():
    _raises(lambda: xpnet.tensor([1, 2], requires_grad=True), TypeError,
            "tensor: only floating-point tensors can require gradients, got int64; ask for a "
            "float")
    _raises(lambda: xpnet.zeros(2, dtype=xpnet.int64, requires_grad=True), TypeError,
            "zeros: only floating-point tensors can require gradients")
    assert _torch_raises(lambda: torch.tensor([1, 2], requires_grad=True)) is ValueError
    for call in (lambda: xpnet.tensor([1.0], requires_grad="yes"),
                 lambda: xpnet.randn(2, requires_grad=1)):
        _raises(call, TypeError, "requires_grad must be True or False, got")
    assert _torch_raises(lambda: torch.tensor([1.0], requires_grad="yes")) is TypeError


def test_an_unknown_dtype_names_the_call():
    _raises(lambda: xpnet.zeros(2, dtype="float16"), TypeError,
            f"zeros: unknown dtype 'float16'; expected one of {SUPPORTED}")
    _raises(lambda: xpnet.tensor([1], dtype=torch.float16), TypeError,
            "tensor: unknown dtype torch.float16")


# -- factory sizes ---------------------------------------------------------------------------

# (xpnet call, torch call or None, exception, message)
FACTORY_CASES = [
    (lambda: xpnet.zeros(-1), lambda: torch.zeros(-1), ValueError,
     r"zeros: size must be non-negative ints, got -1 at position 0"),
    (lambda: xpnet.zeros(2.5), lambda: torch.zeros(2.5), TypeError,
     r"zeros: size must be ints, got float 2.5 at position 0"),
    (lambda: xpnet.zeros(True), lambda: torch.zeros(True), TypeError,
     r"zeros: size must be ints, got bool True at position 0"),
    (lambda: xpnet.zeros((2, -3)), lambda: torch.zeros((2, -3)), ValueError,
     r"zeros: size must be non-negative ints, got -3 at position 1"),
    (lambda: xpnet.zeros("a"), lambda: torch.zeros("a"), TypeError,
     r"zeros: size must be ints, got str 'a' at position 0"),
    (lambda: xpnet.zeros(np.array([2, 3])), lambda: torch.zeros(np.array([2, 3])), TypeError,
     r"zeros: size must be ints, got ndarray"),
    (lambda: xpnet.zeros(np.bool_(True)), lambda: torch.zeros(np.bool_(True)), TypeError,
     r"zeros: size must be ints, got bool"),
    (lambda: xpnet.ones(2, -1), lambda: torch.ones(2, -1), ValueError,
     r"ones: size must be non-negative ints, got -1 at position 1"),
    (lambda: xpnet.empty(-1), lambda: torch.empty(-1), ValueError, r"empty: size must be"),
    (lambda: xpnet.full((-1,), 1.0), lambda: torch.full((-1,), 1.0), ValueError,
     r"full: size must be non-negative ints, got -1"),
    (lambda: xpnet.full((2.5,), 1.0), lambda: torch.full((2.5,), 1.0), TypeError,
     r"full: size must be ints, got float 2.5"),
    (lambda: xpnet.full((2,), "a"), lambda: torch.full((2,), "a"), TypeError,
     r"full: fill_value must be a number, got str 'a'"),
    (lambda: xpnet.full((2,), None), lambda: torch.full((2,), None), TypeError,
     r"full: fill_value must be a number, got NoneType None"),
    (lambda: xpnet.full((2,), 300, dtype=xpnet.uint8),
     lambda: torch.full((2,), 300, dtype=torch.uint8), ValueError,
     r"full: fill_value 300 is out of range for uint8 \(0 to 255\)"),
    (lambda: xpnet.full((2,), 2 ** 70, dtype=xpnet.int64), None, ValueError,
     r"full: fill_value 1180591620717411303424 is out of range for int64"),
    (lambda: xpnet.rand(-1), lambda: torch.rand(-1), ValueError, r"rand: size must be"),
    (lambda: xpnet.randn(2, -1), lambda: torch.randn(2, -1), ValueError,
     r"randn: size must be non-negative ints, got -1 at position 1"),
    (lambda: xpnet.randn(2, 2.0), lambda: torch.randn(2, 2.0), TypeError,
     r"randn: size must be ints, got float 2.0 at position 1"),
    (lambda: xpnet.randperm(-1), lambda: torch.randperm(-1), ValueError,
     r"randperm: n must be a non-negative int, got -1"),
    (lambda: xpnet.randperm(2.5), lambda: torch.randperm(2.5), TypeError,
     r"randperm: n must be an int, got float 2.5"),
    (lambda: xpnet.randperm(True), lambda: torch.randperm(True), TypeError,
     r"randperm: n must be an int, got bool True"),
    (lambda: xpnet.eye(-2), lambda: torch.eye(-2), ValueError,
     r"eye: n must be a non-negative int, got -2"),
    (lambda: xpnet.eye(2, -1), lambda: torch.eye(2, -1), ValueError,
     r"eye: m must be a non-negative int, got -1"),
    (lambda: xpnet.eye(2.5), lambda: torch.eye(2.5), TypeError, r"eye: n must be an int, got float"),
    (lambda: xpnet.eye(True), lambda: torch.eye(True), TypeError, r"eye: n must be an int, got bool"),
    (lambda: xpnet.linspace(0, 1, -5), lambda: torch.linspace(0, 1, -5), ValueError,
     r"linspace: num must be a non-negative int, got -5"),
    (lambda: xpnet.linspace(0, 1, 2.5), lambda: torch.linspace(0, 1, 2.5), TypeError,
     r"linspace: num must be an int, got float 2.5"),
    (lambda: xpnet.linspace("a", 1, 3), lambda: torch.linspace("a", 1, 3), TypeError,
     r"linspace: start must be a number, got str 'a'"),
    (lambda: xpnet.randint(5, 1, (2,)), lambda: torch.randint(5, 1, (2,)), ValueError,
     r"randint: low must be less than high, got low=5, high=1"),
    (lambda: xpnet.randint(0, (2,)), lambda: torch.randint(0, (2,)), ValueError,
     r"randint: low must be less than high, got low=0, high=0"),
    (lambda: xpnet.randint(5, 1), lambda: torch.randint(5, 1), TypeError,
     r"randint: expected randint\(low, high, size\) or randint\(high, size\)"),
    (lambda: xpnet.randint(0.5, 3, (2,)), lambda: torch.randint(0.5, 3, (2,)), TypeError,
     r"randint: low must be an int, got float 0.5"),
    (lambda: xpnet.randint(0, True, (2,)), lambda: torch.randint(0, True, (2,)), TypeError,
     r"randint: high must be an int, got bool True"),
    (lambda: xpnet.randint(3, (-1,)), lambda: torch.randint(3, (-1,)), ValueError,
     r"randint: size must be non-negative ints, got -1 at position 0"),
    (lambda: xpnet.randint(3, (2.5,)), lambda: torch.randint(3, (2.5,)), TypeError,
     r"randint: size must be ints, got float 2.5"),
    (lambda: xpnet.randint(0, 300, (2,), dtype=xpnet.uint8),
     lambda: torch.randint(0, 300, (2,), dtype=torch.uint8), ValueError,
     r"randint: \[low, high\) = \[0, 300\) is out of range for uint8 \(0 to 255\)"),
    (lambda: xpnet.randint(0, 2 ** 70, (2,)), lambda: torch.randint(0, 2 ** 70, (2,)), ValueError,
     r"randint: \[low, high\) = \[0, 1180591620717411303424\) is out of range for int64"),
    (lambda: xpnet.arange(0, 10, 0), lambda: torch.arange(0, 10, 0), ValueError,
     r"arange: step must be nonzero, got 0"),
    (lambda: xpnet.arange(10, 0, 1), lambda: torch.arange(10, 0, 1), ValueError,
     r"arange: step 1 goes away from stop: start=10, stop=0"),
    (lambda: xpnet.arange(0, 10, -1), lambda: torch.arange(0, 10, -1), ValueError,
     r"arange: step -1 goes away from stop: start=0, stop=10"),
    (lambda: xpnet.arange(-5), lambda: torch.arange(-5), ValueError,
     r"arange: step 1 goes away from stop: start=0, stop=-5"),
    (lambda: xpnet.arange(0, math.nan), lambda: torch.arange(0, math.nan), ValueError,
     r"arange: stop must be finite, got nan"),
    (lambda: xpnet.arange(0, math.inf), lambda: torch.arange(0, math.inf), ValueError,
     r"arange: stop must be finite, got inf"),
    (lambda: xpnet.arange("a"), lambda: torch.arange("a"), TypeError,
     r"arange: start must be a number, got str 'a'"),
    (lambda: xpnet.arange(None), lambda: torch.arange(None), TypeError,
     r"arange: start must be a number, got NoneType None"),
    (lambda: xpnet.zeros_like([1, 2]), lambda: torch.zeros_like([1, 2]), TypeError,
     r"zeros_like: input must be a Tensor, got list"),
    (lambda: xpnet.ones_like(None), lambda: torch.ones_like(None), TypeError,
     r"ones_like: input must be a Tensor, got NoneType"),
    (lambda: xpnet.empty_like(np.zeros(2)), lambda: torch.empty_like(np.zeros(2)), TypeError,
     r"empty_like: input must be a Tensor, got ndarray"),
    (lambda: xpnet.randn_like([1.0]), lambda: torch.randn_like([1.0]), TypeError,
     r"randn_like: input must be a Tensor, got list"),
    (lambda: xpnet.full_like([1, 2], 1), lambda: torch.full_like([1, 2], 1), TypeError,
     r"full_like: input must be a Tensor, got list"),
    (lambda: xpnet.full_like(xpnet.zeros(2), "a"), lambda: torch.full_like(torch.zeros(2), "a"),
     TypeError, r"full_like: fill_value must be a number, got str 'a'"),
    (lambda: xpnet.zeros(2).new_zeros(-1), lambda: torch.zeros(2).new_zeros(-1), ValueError,
     r"new_zeros: size must be non-negative ints, got -1"),
    (lambda: xpnet.zeros(2).new_ones(2.5), lambda: torch.zeros(2).new_ones(2.5), TypeError,
     r"new_ones: size must be ints, got float 2.5"),
    (lambda: xpnet.zeros(2).new_full((-1,), 1.0), lambda: torch.zeros(2).new_full((-1,), 1.0),
     ValueError, r"new_full: size must be non-negative ints, got -1"),
    (lambda: xpnet.FloatTensor(-1), lambda: torch.FloatTensor(-1), ValueError,
     r"FloatTensor: size must be non-negative ints, got -1"),
    (lambda: xpnet.FloatTensor(2.5), lambda: torch.FloatTensor(2.5), TypeError,
     r"FloatTensor: expected data \(a sequence or an array\) or sizes \(ints\), got float 2.5"),
]


@pytest.mark.parametrize("call, torch_call, exc, match", FACTORY_CASES)
def test_factories_check_their_arguments_as_torch_does(backend, call, torch_call, exc, match):
    _raises(call, exc, match)
    if torch_call is not None:
        assert _torch_raises(torch_call) is exc


def test_numpy_integers_are_sizes(backend):
    n = np.int64(3)
    assert xpnet.zeros(n, np.int32(2)).shape == tuple(torch.zeros(n, np.int32(2)).shape)
    assert xpnet.randperm(n).shape == (3,) and xpnet.eye(n).shape == (3, 3)
    assert xpnet.linspace(0, 1, n).shape == (3,) and xpnet.randint(0, 5, (n,)).shape == (3,)
    assert xpnet.full([n], 1.0).shape == (3,) and xpnet.zeros(xpnet.Size([2, n])).shape == (2, 3)


def test_valid_edge_cases_still_work_as_torch(backend):
    assert xpnet.zeros(0).shape == (0,) and xpnet.zeros(()).shape == ()
    assert xpnet.randperm(0).shape == (0,) and xpnet.linspace(0, 1, 0).shape == (0,)
    assert xpnet.arange(True).tolist() == torch.arange(True).tolist() == [0]
    assert xpnet.arange(5, 0, -1).tolist() == torch.arange(5, 0, -1).tolist()
    assert xpnet.arange(0, 0).shape == (0,) and xpnet.arange(-3, 0).tolist() == [-3, -2, -1]
    assert xpnet.full((2,), xpnet.tensor(1.5)).tolist() == [1.5, 1.5]
    # randint takes float and bool dtypes, as torch's.
    drawn = xpnet.randint(0, 3, (50,), dtype=xpnet.float32)
    assert drawn.dtype is xpnet.float32 and set(drawn.tolist()) <= {0.0, 1.0, 2.0}
    assert xpnet.randint(0, 2, (4,), dtype=xpnet.bool).dtype is xpnet.bool


def test_random_factories_check_dtype_and_generator():
    _raises(lambda: xpnet.rand(2, dtype=xpnet.int64), TypeError,
            "rand: dtype must be a floating dtype \\(float32 or float64\\), got int64")
    _raises(lambda: xpnet.rand_like(xpnet.tensor([1, 2])), TypeError,
            "rand_like: dtype must be a floating dtype")
    _raises(lambda: xpnet.randn(2, generator=5), TypeError,
            "randn: generator must be an xpnet.Generator, got int")
    _raises(lambda: xpnet.randperm(3, generator="g"), TypeError,
            "randperm: generator must be an xpnet.Generator, got str")
    _raises(lambda: xpnet.zeros_like(xpnet.zeros(2), generator=xpnet.Generator(0)), TypeError,
            "zeros_like: unexpected keyword argument 'generator'")
    assert xpnet.rand_like(xpnet.zeros(2), generator=xpnet.Generator(0)).shape == (2,)
    assert _torch_raises(lambda: torch.randn(2, generator=5)) is TypeError


# -- reshape, view, cat ----------------------------------------------------------------------

@pytest.mark.parametrize("call, torch_call, exc, match", [
    (lambda t: t.reshape(2.5, 3), lambda t: t.reshape((2.5, 3)), TypeError,
     r"reshape: shape must be ints, got float 2.5 at position 0"),
    (lambda t: t.view(2.5, 3), lambda t: t.view(2.5, 3), TypeError,
     r"shape must be ints, got float 2.5 at position 0"),
    (lambda t: xpnet.reshape(t, (2, 3.0)), lambda t: torch.reshape(t, (2, 3.0)), TypeError,
     r"reshape: shape must be ints, got float 3.0 at position 1"),
    (lambda t: t.reshape((True, 6)), lambda t: t.reshape((True, 6)), TypeError,
     r"reshape: shape must be ints, got bool True at position 0"),
    (lambda t: t.reshape("6"), lambda t: t.reshape("6"), TypeError,
     r"reshape: shape must be ints, got str '6' at position 0"),
    (lambda t: t.reshape(-2, 3), lambda t: t.reshape(-2, 3), ValueError,
     r"reshape: cannot reshape a tensor of shape \(6,\) \(6 elements\) into \(-2, 3\)"),
    (lambda t: t.expand(2.5, 6), lambda t: t.expand(2.5, 6), TypeError,
     r"expand: size must be ints, got float 2.5 at position 0"),
    (lambda t: t.expand(3, 3), lambda t: t.expand(3, 3), ValueError,
     r"expand: cannot expand a tensor of shape \(6,\) to size \(3, 3\)"),
    (lambda t: t.reshape(2, 3).expand(3), lambda t: t.reshape(2, 3).expand(3), ValueError,
     r"expand: 1 sizes given for a 2-D tensor \(2, 3\): size \(3,\) needs at least 2"),
    (lambda t: xpnet.split(t, 1.5), lambda t: torch.split(t, 1.5), TypeError,
     r"split: split_size_or_sections must be an int or a list of ints, got float 1.5"),
    (lambda t: xpnet.split(t, [2, 4.0]), lambda t: torch.split(t, [2, 4.0]), TypeError,
     r"split: split_size_or_sections must be ints, got float 4.0 at position 1"),
    (lambda t: xpnet.chunk(t, 1.5), lambda t: torch.chunk(t, 1.5), TypeError,
     r"chunk: chunks must be an int, got float 1.5"),
    (lambda t: xpnet.flatten(t.reshape(2, 3), 2), lambda t: torch.flatten(t.reshape(2, 3), 2),
     IndexError, r"flatten: axis 2 is out of range for a 2-D tensor \(start_dim is expected"),
    (lambda t: t.reshape(2, 3).flatten(0, 5), lambda t: t.reshape(2, 3).flatten(0, 5),
     IndexError, r"flatten: axis 5 is out of range for a 2-D tensor \(end_dim is expected"),
    (lambda t: t.unsqueeze(None), lambda t: t.unsqueeze(None), TypeError,
     r"unsqueeze: dim .* must be an int, got None"),
    (lambda t: xpnet.broadcast_to(t, (2.0, 6)), lambda t: torch.broadcast_to(t, (2.0, 6)),
     TypeError, r"broadcast_to: shape must be ints, got float 2.0 at position 0"),
    (lambda t: xpnet.cat(t), lambda t: torch.cat(t), TypeError,
     r"cat: tensors must be a sequence \(list or tuple\) of Tensors, got Tensor; wrap it"),
    (lambda t: xpnet.concat(t), lambda t: torch.concat(t), TypeError,
     r"concat: tensors must be a sequence \(list or tuple\) of Tensors, got Tensor"),
    (lambda t: xpnet.stack(t), lambda t: torch.stack(t), TypeError,
     r"stack: tensors must be a sequence \(list or tuple\) of Tensors, got Tensor"),
    (lambda t: xpnet.cat(None), lambda t: torch.cat(None), TypeError,
     r"cat: tensors must be a sequence \(list or tuple\) of Tensors, got NoneType"),
    (lambda t: xpnet.cat([t, 1]), lambda t: torch.cat([t, 1]), TypeError,
     r"cat: tensors must all be Tensors, got int at position 1"),
    (lambda t: xpnet.cat([t, np.zeros(6)]), lambda t: torch.cat([t, np.zeros(6)]), TypeError,
     r"cat: tensors must all be Tensors, got ndarray at position 1"),
    (lambda t: xpnet.cat([]), lambda t: torch.cat([]), ValueError,
     r"cat: tensors must be a non-empty sequence of Tensors, got an empty list"),
    (lambda t: xpnet.stack(()), lambda t: torch.stack(()), ValueError,
     r"stack: tensors must be a non-empty sequence of Tensors, got an empty tuple"),
])
def test_shape_arguments_are_checked_as_torch_does(backend, call, torch_call, exc, match):
    _raises(lambda: call(xpnet.zeros(6)), exc, match)
    assert _torch_raises(lambda: torch_call(torch.zeros(6))) is exc


def test_valid_shapes_still_work(backend):
    t = xpnet.arange(6)
    assert t.reshape(np.int64(2), 3).shape == (2, 3) and t.view((3, -1)).shape == (3, 2)
    assert t.reshape([6]).shape == (6,) and xpnet.reshape(t, 6).shape == (6,)
    assert xpnet.cat((t, t)).shape == (12,) and xpnet.cat(x for x in (t, t)).shape == (12,)


# -- safetensors files of half-precision tensors ------------------------------------------------

def test_a_float16_safetensors_file_loads_exactly_as_float32(backend, tmp_path):
    from safetensors.torch import save_file
    values = torch.tensor([1.5, -2.0, 1e-3, 65504.0], dtype=torch.float16)
    save_file({"w": values}, str(tmp_path / "half.safetensors"))
    loaded = xpnet.load(tmp_path / "half.safetensors")["w"]
    assert loaded.dtype is xpnet.float32  # holds every float16 exactly
    np.testing.assert_array_equal(loaded.numpy(), values.float().numpy())


def test_a_bfloat16_safetensors_file_is_refused_naming_file_key_and_dtype(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / "bf.safetensors"
    save_file({"layer.w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    _raises(lambda: xpnet.load(path), ValueError,
            rf"load: {path} holds tensor 'layer.w' of dtype 'BF16', which xpnet cannot hold; "
            rf"convert it")


def test_an_xpnet_file_whose_tensor_is_float16_is_refused(tmp_path):
    from safetensors.numpy import save_file
    structure = {"dict": [["w", {"tensor": {"id": 0, "name": "w", "device": "cpu",
                                            "requires_grad": False}}]]}
    path = tmp_path / "crafted.safetensors"
    save_file({"w": np.ones(2, np.float16)}, str(path),
              metadata={"format": "xpnet", "version": "2", "xpnet.structure": json.dumps(structure)})
    _raises(lambda: xpnet.load(path), ValueError, r"tensor 'w' has dtype 'F16', which xpnet "
                                                  r"tensors cannot hold")


# -- random fills, draws and dtype helpers -------------------------------------------------------

@pytest.mark.parametrize("call, torch_call, exc, match", [
    (lambda t, w: t.uniform_("a", 1), lambda t, w: t.uniform_("a", 1), TypeError,
     r"uniform_: a must be a number, got str 'a'"),
    (lambda t, w: t.uniform_(2, 1), lambda t, w: t.uniform_(2, 1), ValueError,
     r"uniform_: expected a <= b, got a=2, b=1"),
    (lambda t, w: t.normal_(0, "a"), lambda t, w: t.normal_(0, "a"), TypeError,
     r"normal_: std must be a number, got str 'a'"),
    (lambda t, w: t.normal_(0, -1), lambda t, w: t.normal_(0, -1), ValueError,
     r"normal_: std must be non-negative, got -1"),
    (lambda t, w: t.random_(5, 1), lambda t, w: t.random_(5, 1), ValueError,
     r"random_: expected from < to, got from=5, to=1"),
    (lambda t, w: t.random_(2.5), lambda t, w: t.random_(2.5), TypeError,
     r"random_: to must be an int, got float 2.5"),
    (lambda t, w: xpnet.multinomial(w, -1), lambda t, w: torch.multinomial(w, -1), ValueError,
     r"multinomial: num_samples must be a non-negative int, got -1"),
    (lambda t, w: xpnet.multinomial(w, 0), lambda t, w: torch.multinomial(w, 0), ValueError,
     r"multinomial: num_samples must be positive, got 0"),
    (lambda t, w: xpnet.multinomial(w, 2.5), lambda t, w: torch.multinomial(w, 2.5), TypeError,
     r"multinomial: num_samples must be an int, got float 2.5"),
    (lambda t, w: xpnet.set_default_dtype("x"), lambda t, w: torch.set_default_dtype("x"),
     TypeError, r"set_default_dtype: unknown dtype 'x'; expected one of bool"),
    (lambda t, w: xpnet.iinfo("x"), lambda t, w: torch.iinfo("x"), TypeError,
     r"iinfo: unknown dtype 'x'"),
])
def test_random_fills_and_draws_check_their_arguments(call, torch_call, exc, match):
    _raises(lambda: call(xpnet.zeros(3), xpnet.tensor([1.0, 2.0, 3.0])), exc, match)
    assert _torch_raises(lambda: torch_call(torch.zeros(3), torch.tensor([1.0, 2.0, 3.0]))) is exc


@pytest.mark.parametrize("dtype", ["float16", "<U1", "object"])
def test_the_tensor_and_parameter_constructors_refuse_unsupported_dtypes(dtype):
    array = np.zeros(2, dtype=dtype)
    for make in (xpnet.Tensor, lambda a: xpnet.nn.Parameter(xpnet.Tensor(a))):
        with pytest.raises(TypeError, match=f"Tensor: cannot make a tensor from a numpy.ndarray "
                                            f"of dtype {re.escape(str(array.dtype))}; xpnet "
                                            f"supports bool, "):
            make(array)
