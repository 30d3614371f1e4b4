"""Process-wide settings and the default generator (xpnet/settings.py, xpnet/random.py,
xpnet/dtypes.py, xpnet/backend/printing.py): print options and tensor text against PyTorch's,
thread counts, the determinism flag, RNG state, finfo/iinfo and constants.

Every test that changes a setting restores it (the autouse fixture below for print options,
try/finally for the others), so the order of tests never matters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpnet
import xpnet.random
from xpnet import settings
from xpnet.backend import format_array
from xpnet.dtypes import e, finfo, iinfo, inf, nan, pi

try:  # the oracle
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@pytest.fixture(autouse=True)
def _restore_print_options():
    saved = settings.get_printoptions()
    torch_saved = dict(vars(torch._tensor_str.PRINT_OPTS)) if torch is not None else None
    try:
        yield
    finally:
        settings.set_printoptions(**saved)
        if torch is not None:
            torch.set_printoptions(**torch_saved)


def _both_print(**options):
    settings.set_printoptions(**options)
    torch.set_printoptions(**options)


def _text(t):
    """``tensor(<values>)`` as repr shows it, without the dtype/backend/grad suffixes."""
    return f"tensor({format_array(t._backend, t.array)})"


# -- printing ----------------------------------------------------------------------------------

_RNG = np.random.default_rng(0)
PRINT_CASES = {
    "whole": [1.0, 2.0], "fixed": [1.0, 0.5], "signs": [0.1234567, -2.0],
    "small": [1e-5, 1.0], "huge": [1e10, 1.0], "nan": [1.0, np.nan], "inf": [1.0, np.inf, -3.0],
    "nan_fixed": [0.5, np.nan], "wide": [123456.7, 1.5], "matrix": [[1.5, 2.0], [3.0, -4.25]],
    "small_zero": [1e-5, 0.0], "zeros": [0.0, 0.0], "scalar": 3.5, "neg_zero": [-0.0, 1.0],
    "all_nan": [np.nan], "bool": [True, False], "int": [1, -20, 300], "int_scalar": 5,
    "arange": np.arange(2000.0), "int_matrix": np.arange(2000).reshape(40, 50),
    "wrapped": _RNG.standard_normal((3, 30)), "3d": _RNG.standard_normal((2, 3, 4)),
    "4d_summarised": _RNG.standard_normal((5, 6, 7, 8)) * 100,
    "halves": np.arange(1001.0) * 0.5, "bool_matrix": _RNG.standard_normal((40, 40)) > 0,
    "int_wide": _RNG.integers(-5, 5, (3, 1200)),
}


def _print_case(name, float_dtype=np.float32):
    a = np.asarray(PRINT_CASES[name])
    return a.astype(float_dtype) if a.dtype.kind == "f" else a


@needs_torch
@pytest.mark.parametrize("name", sorted(PRINT_CASES))
def test_tensors_print_as_torch_by_default(name):
    a = _print_case(name)
    assert _text(xpnet.tensor(a)) == repr(torch.from_numpy(a.copy()))


@needs_torch
@pytest.mark.parametrize("options", [
    {"precision": 2}, {"precision": 6}, {"sci_mode": True}, {"sci_mode": False},
    {"linewidth": 40}, {"threshold": 5, "edgeitems": 1}, {"profile": "short"},
    {"profile": "full"}, {"profile": "short", "precision": 5},
], ids=str)
def test_print_options_change_the_text_as_torch(options):
    _both_print(**options)
    for name in ("fixed", "small", "wrapped", "3d", "halves", "int_wide", "huge", "whole",
                 "zeros", "inf"):
        a = _print_case(name)
        assert _text(xpnet.tensor(a)) == repr(torch.from_numpy(a.copy())), name


_SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, 2.5, 1e-5, 1e9, 123.456]


@needs_torch
@hypothesis_settings(max_examples=30, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=9),
                         elements=st.one_of(st.sampled_from(_SPECIAL),
                                            st.floats(-1e4, 1e4, width=32))),
       kind=st.sampled_from(["float32", "int64", "bool"]),
       precision=st.integers(0, 6), edgeitems=st.integers(1, 3), threshold=st.integers(5, 300),
       linewidth=st.integers(20, 120), sci_mode=st.sampled_from([None, True, False]))
def test_any_tensor_under_any_options_prints_as_torch(values, kind, **options):
    values = np.asarray(values)
    if kind == "int64":
        a = np.asarray(np.round(np.nan_to_num(values, posinf=7.0, neginf=-7.0)), np.int64)
    else:
        a = np.asarray(values > 0) if kind == "bool" else values.astype(np.float32)
    saved = settings.get_printoptions()
    try:
        _both_print(**options)
        expected = repr(torch.from_numpy(a.copy())) if a.size else "tensor([])"
        assert _text(xpnet.tensor(a)) == expected
    finally:
        settings.set_printoptions(**saved)
        torch.set_printoptions(profile="default")


def test_every_backend_prints_the_same_text(backend):
    a = _print_case("4d_summarised")
    with xpnet.use_backend("numpy"):
        expected = _text(xpnet.tensor(a))
    assert _text(xpnet.tensor(a)) == expected


def test_repr_keeps_its_suffixes_and_the_documented_example():
    assert repr(xpnet.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(xpnet.tensor([0.5], dtype="float64", requires_grad=True)) == \
        "tensor([0.5000], dtype=float64, requires_grad=True)"
    settings.set_printoptions(precision=2)
    assert repr(xpnet.tensor([1.0 / 3.0])) == "tensor([0.33])"


@needs_torch
def test_print_options_are_torchs_and_follow_its_rules():
    assert settings.get_printoptions() == vars(torch._tensor_str.PRINT_OPTS)
    settings.set_printoptions(sci_mode=True)
    settings.set_printoptions(precision=3)  # every call sets sci_mode: back to automatic
    assert settings.get_printoptions()["sci_mode"] is None
    settings.set_printoptions(profile="full")
    assert settings.get_printoptions()["threshold"] == math.inf
    settings.set_printoptions(profile="short", edgeitems=4)
    assert settings.get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 4,
                                           "linewidth": 80, "sci_mode": None}


def test_set_printoptions_errors_leave_the_options_unchanged():
    before = settings.get_printoptions()
    with pytest.raises(ValueError, match="set_printoptions: profile must be one of 'default', "
                                         "'short', 'full', got 'long'"):
        settings.set_printoptions(precision=2, profile="long")
    with pytest.raises(ValueError, match="set_printoptions: precision must be >= 0, got -1"):
        settings.set_printoptions(precision=-1)
    with pytest.raises(TypeError, match="set_printoptions: threshold must be an int or "
                                        "math.inf, got float"):
        settings.set_printoptions(threshold=1.5)
    with pytest.raises(ValueError, match="set_printoptions: linewidth must be >= 1, got 0"):
        settings.set_printoptions(linewidth=0)
    with pytest.raises(TypeError, match="set_printoptions: sci_mode must be True, False or "
                                        "None, got 1"):
        settings.set_printoptions(sci_mode=1)
    assert settings.get_printoptions() == before


# -- threads and determinism -------------------------------------------------------------------

@needs_torch
def test_set_num_threads_limits_blas_and_torch():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    saved = dict(settings._threads_set)
    try:
        settings.set_num_threads(2)
        assert settings.get_num_threads() == 2 and torch.get_num_threads() == 2
        blas = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]
        assert blas and set(blas) == {2}
        settings.set_num_threads(1)
        assert settings.get_num_threads() == 1 and torch.get_num_threads() == 1
    finally:
        settings.set_num_threads(1)  # the test session's setting (tests/conftest.py)
        settings._threads_set.update(saved)


def test_interop_threads_are_recorded():
    saved = dict(settings._threads_set)
    try:
        assert settings.get_num_interop_threads() >= 1
        settings.set_num_interop_threads(3)
        assert settings.get_num_interop_threads() == 3
    finally:
        settings._threads_set.update(saved)


def test_thread_count_errors():
    with pytest.raises(ValueError, match="set_num_threads: n must be >= 1, got 0"):
        settings.set_num_threads(0)
    with pytest.raises(TypeError, match="set_num_interop_threads: n must be an int, got float"):
        settings.set_num_interop_threads(2.0)


def test_deterministic_flags_are_recorded_as_torch():
    try:
        assert not settings.are_deterministic_algorithms_enabled()
        settings.use_deterministic_algorithms(True)
        assert settings.are_deterministic_algorithms_enabled()
        assert not settings.is_deterministic_algorithms_warn_only_enabled()
        settings.use_deterministic_algorithms(False, warn_only=True)  # recorded apart, as torch
        assert not settings.are_deterministic_algorithms_enabled()
        assert settings.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(TypeError, match="use_deterministic_algorithms: mode must be a bool, "
                                            "got int"):
            settings.use_deterministic_algorithms(1)
    finally:
        settings.use_deterministic_algorithms(False)


# -- random state ------------------------------------------------------------------------------

def test_rng_state_round_trip_repeats_the_stream(backend):
    state = xpnet.random.get_rng_state()
    assert state.dtype is xpnet.uint8 and state.ndim == 1 and state.backend == "numpy"
    first = xpnet.rand(5).numpy(), xpnet.randn(3).numpy()
    xpnet.random.set_rng_state(state)
    again = xpnet.rand(5).numpy(), xpnet.randn(3).numpy()
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


def test_rng_state_survives_save_and_load(tmp_path, backend):
    xpnet.random.manual_seed(7)
    xpnet.rand(2)
    xpnet.save({"rng": xpnet.random.get_rng_state()}, tmp_path / "checkpoint.pt")
    expected = xpnet.rand(4).numpy()
    xpnet.random.manual_seed(1)
    loaded = xpnet.load(tmp_path / "checkpoint.pt")["rng"]  # on the active backend
    xpnet.random.set_rng_state(loaded)
    np.testing.assert_array_equal(xpnet.rand(4).numpy(), expected)


def test_generator_set_state_takes_the_tensor_and_the_dict():
    g = xpnet.Generator(3)
    as_dict = g.get_state()
    a = xpnet.rand(3, generator=g).numpy()
    g.set_state(as_dict)
    np.testing.assert_array_equal(xpnet.rand(3, generator=g).numpy(), a)
    xpnet.random.manual_seed(3)
    tensor_state = xpnet.random.get_rng_state()
    g.manual_seed(0).set_state(tensor_state)
    np.testing.assert_array_equal(xpnet.rand(3, generator=g).numpy(), a)


def test_a_malformed_state_is_refused_and_changes_nothing():
    state = xpnet.random.get_rng_state()
    expected = xpnet.rand(3).numpy()
    xpnet.random.set_rng_state(state)
    with pytest.raises(TypeError, match=r"set_rng_state: expected a 1-D uint8 tensor from "
                                        r"get_rng_state, got dtype float32 and shape \(3,\)"):
        xpnet.random.set_rng_state(xpnet.ones(3))
    with pytest.raises(ValueError, match=r"set_rng_state: the state is not one get_rng_state "
                                         r"made \(4 bytes that are not its JSON\)"):
        xpnet.random.set_rng_state(xpnet.tensor([1, 2, 255, 0], dtype="uint8"))
    foreign = xpnet.tensor(list(b'{"bit_generator":"MT19937","state":{}}'), dtype="uint8")
    with pytest.raises(ValueError, match="set_rng_state: expected the state of a PCG64 bit "
                                         "generator, got one for 'MT19937'"):
        xpnet.random.set_rng_state(foreign)
    broken = xpnet.tensor(list(b'{"bit_generator":"PCG64","state":{"state":1}}'), dtype="uint8")
    with pytest.raises(ValueError, match="set_rng_state: malformed PCG64 state"):
        xpnet.random.set_rng_state(broken)
    with pytest.raises(TypeError, match="Generator.set_state: expected a state from "
                                        "get_rng_state .a uint8 tensor. or Generator.get_state "
                                        ".a dict., got str"):
        xpnet.Generator(0).set_state("state")
    np.testing.assert_array_equal(xpnet.rand(3).numpy(), expected)


def test_seed_and_initial_seed():
    xpnet.random.manual_seed(123)
    assert xpnet.random.initial_seed() == 123
    new = xpnet.random.seed()
    assert isinstance(new, int) and 0 <= new < 2**64
    assert xpnet.random.initial_seed() == new
    assert xpnet.Generator(5).initial_seed() == 5
    g = xpnet.Generator()
    assert g.seed() == g.initial_seed()


def test_xpnet_random_mirrors_torch_random():
    import xpnet.backend.random
    assert xpnet.random is not xpnet.backend.random
    assert xpnet.random.manual_seed is xpnet.backend.random.manual_seed
    if torch is not None:
        assert set(xpnet.random.__all__) <= set(dir(torch.random))


# -- finfo, iinfo, constants -------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", ["float32", "float64", "complex64", "complex128"])
def test_finfo_matches_torch(name):
    ours, theirs = finfo(getattr(xpnet, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


@needs_torch
@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                  "uint32", "uint64"])
def test_iinfo_matches_torch(name):
    ours, theirs = iinfo(getattr(xpnet, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


def test_finfo_defaults_to_the_default_dtype():
    assert finfo().dtype == "float32" and finfo() == finfo(xpnet.float32)
    xpnet.set_default_dtype(xpnet.float64)  # restored by tests/conftest.py
    assert finfo().bits == 64


def test_finfo_and_iinfo_errors():
    with pytest.raises(TypeError, match="finfo: expected a floating dtype, got xpnet.int32; use "
                                        "xpnet.iinfo"):
        finfo(xpnet.int32)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got xpnet.float32; "
                                        "use xpnet.finfo"):
        iinfo(xpnet.float32)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got xpnet.bool$"):
        iinfo(xpnet.bool)


@needs_torch
def test_constants_are_torchs():
    assert (pi, e, inf) == (torch.pi, torch.e, torch.inf) and math.isnan(nan)


def test_top_level_names_are_these_functions():
    """``xpnet.<name>`` as ``torch.<name>`` (src/xpnet/__init__.py re-exports them)."""
    for module in (settings, xpnet.random):
        for name in module.__all__:
            assert getattr(xpnet, name) is getattr(module, name), name
    assert (xpnet.finfo, xpnet.iinfo, xpnet.pi, xpnet.e, xpnet.inf) == (finfo, iinfo, pi, e, inf)
    assert math.isnan(xpnet.nan) and xpnet.random is not xpnet.backend.random
    for name in ("set_printoptions", "get_rng_state", "finfo", "pi", "random",
                 "use_deterministic_algorithms"):
        assert name in xpnet.__all__, name
