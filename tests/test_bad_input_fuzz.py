"""Bad input across the public API (issue 14): no silent answer, the right exception type, and a
message that names the call, the parameter and the value that came.

Three parts:

- the hand-written table of tests/bad_input_cases.py, one test per case, and an aggregate test
  that counts, over the whole table, the calls that return (silent), raise another type (wrong
  type) or raise a message lacking the call, the parameter or the received value (incomplete),
  and asserts zero silent, zero wrong type and at least 97% complete messages;
- hypothesis strategies for bad sizes, axes, dtypes and shapes, fed to every factory, reduction,
  conversion and binary op;
- a comparison sample: the table's cases marked ``compare=`` run the same line on PyTorch or
  gensim, which must raise too, and xpnet's exception must be of the reference's type or one of
  the documented mappings below.

Mapping from the reference's exception to the ones xpnet may raise instead
(`compatible_with_reference`):

==========================================  =================================================
reference raises                            xpnet may raise
==========================================  =================================================
the same type (or a subclass of it)         -
RuntimeError, NotImplementedError,          ValueError, TypeError, IndexError or KeyError, as
AssertionError (torch's catch-alls)         the issue sorts bad input (e.g. ``zeros(-1)``:
                                            torch RuntimeError, xpnet ValueError; a missing
                                            state-dict key: torch RuntimeError, xpnet KeyError);
                                            for RuntimeError also FileNotFoundError and the
                                            other OSErrors with the path (torch.save into a
                                            missing directory raises RuntimeError)
AttributeError (the reference crashed on    TypeError
an object of the wrong type)
ZeroDivisionError, EOFError, pickle's       ValueError (gensim's empty word list, truncated
UnpicklingError                             vector file; torch.load of a foreign file)
ValueError for an argument of the wrong     TypeError (the issue's rule for wrong types; torch
type                                        checks DataLoader's batch_size with ValueError)
any type the case's table entry lists       that type too: the entry names both where torch
beside the reference's                      and the issue's rule disagree (``x[0.5]``: torch
                                            IndexError, the rule TypeError)
==========================================  =================================================

``python tests/test_bad_input_fuzz.py`` prints the counts and every failing case.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import string
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xpnet
import xpnet.nn.functional as F

if __package__:
    from . import bad_input_cases as cases
else:  # run as a script: python tests/test_bad_input_fuzz.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bad_input_cases as cases

COMPLETE_TARGET = 0.97
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# --------------------------------------------------------------------------------------------
# Running one case.

class Outcome:
    """What one call did: ``error`` (the exception) or ``value`` (what it returned)."""

    def __init__(self, error=None, value=None):
        self.error, self.value = error, value

    @property
    def silent(self):
        return self.error is None


def run(call, namespace):
    """Call ``call(namespace)``; warnings are not errors here, only an exception counts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = call(namespace)
        except Exception as error:  # noqa: BLE001 - the point is to see what it raises
            return Outcome(error=error)
    return Outcome(value=value)


def spellings(word):
    return word if isinstance(word, tuple) else (word,)


def _found(spelling, text):
    """``spelling`` in ``text``, case-insensitively, not glued to a word before it (so "to" is
    not found in "photo") nor, when it ends in a digit, to a digit after it ("-1" is not in
    "-10")."""
    before = r"(?<![A-Za-z0-9_])" if re.match(r"\w", spelling) else ""
    after = r"(?![0-9])" if spelling[-1:].isdigit() else ""
    return re.search(before + re.escape(spelling) + after, text, re.IGNORECASE) is not None


def missing_words(message, words):
    """The words (each a string or a tuple of accepted spellings) absent from ``message``."""
    return [w for w in words if not any(_found(s, message) for s in spellings(w))]


def type_names(types):
    return " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))


def safe_repr(value, limit=80):
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - a returned object that cannot even print
        text = f"<unprintable {type(value).__name__}: {type(error).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def verdict(case, outcome):
    """("ok" | "silent" | "wrong type" | "incomplete", explanation)."""
    if outcome.silent:
        return "silent", (f"returned {safe_repr(outcome.value)} instead of raising "
                          f"{type_names(case.raises)}: a silent wrong answer")
    error = outcome.error
    message = str(error)
    if not isinstance(error, case.raises):
        return "wrong type", (f"raised {type(error).__name__}, expected {type_names(case.raises)}:"
                              f" {message[:200]!r}")
    missing = missing_words(message, case.words)
    if missing:
        return "incomplete", f"message lacks {missing}: {message[:200]!r}"
    return "ok", ""


@pytest.mark.parametrize("case", cases.CASES, ids=[c.id for c in cases.CASES])
def test_bad_input_case(case):
    kind, why = verdict(case, run(case.call, cases.xpnet_namespace()))
    if kind != "ok":
        pytest.fail(f"{case.id}: {kind}: {why}")


# --------------------------------------------------------------------------------------------
# The counts over the whole table.

def tally(table=None):
    """Counts over the table: total, silent, wrong type, incomplete, complete; and failures."""
    table = cases.CASES if table is None else table
    namespace = cases.xpnet_namespace()
    failures = {"silent": [], "wrong type": [], "incomplete": []}
    for case in table:
        kind, why = verdict(case, run(case.call, namespace))
        if kind != "ok":
            failures[kind].append((case.id, why))
    counts = {"total": len(table), **{k: len(v) for k, v in failures.items()}}
    counts["complete"] = counts["total"] - sum(len(v) for v in failures.values())
    return counts, failures


def test_counts_meet_the_issue_target():
    counts, failures = tally()
    assert counts["total"] >= 300, counts
    complete = counts["complete"] / counts["total"]
    summary = (f"{counts['total']} cases: {counts['silent']} silent, {counts['wrong type']} wrong "
               f"type, {counts['incomplete']} incomplete messages; {complete:.1%} complete "
               f"(target: 0 silent, 0 wrong type, >= {COMPLETE_TARGET:.0%} complete)")
    assert counts["silent"] == 0 and counts["wrong type"] == 0 and complete >= COMPLETE_TARGET, (
        summary + "".join(f"\n  {kind}: {case_id}: {why}" for kind in ("silent", "wrong type")
                          for case_id, why in failures[kind]))


def test_table_is_well_formed():
    ids = [c.id for c in cases.CASES]
    assert len(ids) == len(set(ids))
    for case in cases.CASES:
        assert len(case.words) >= 2, f"{case.id}: name at least the call and one more word"
        assert case.compare in (None, "torch", "gensim"), case.id
        kinds = case.raises if isinstance(case.raises, tuple) else (case.raises,)
        assert all(issubclass(k, Exception) for k in kinds), case.id


# --------------------------------------------------------------------------------------------
# The comparison sample with PyTorch and gensim.

# The reference's catch-alls, and what xpnet raises in their place (module docstring).
_REFERENCE_MAP = {
    RuntimeError: (ValueError, TypeError, IndexError, KeyError, OSError),
    NotImplementedError: (ValueError, TypeError, IndexError, KeyError),
    AssertionError: (ValueError, TypeError, IndexError, KeyError),
    AttributeError: (TypeError,),
    ZeroDivisionError: (ValueError,),
    EOFError: (ValueError,),
    pickle.UnpicklingError: (ValueError,),
    ValueError: (TypeError,),
}


def compatible_with_reference(case, error, reference_error):
    if isinstance(error, type(reference_error)):
        return True
    declared = case.raises if isinstance(case.raises, tuple) else (case.raises,)
    if isinstance(reference_error, declared) and isinstance(error, declared):
        return True
    # exact type: torch's own subclasses of RuntimeError (OutOfMemoryError...) are not catch-alls
    return isinstance(error, _REFERENCE_MAP.get(type(reference_error), ()))


def reference_namespace(kind):
    if kind == "torch":
        pytest.importorskip("torch")
        return cases.torch_namespace()
    pytest.importorskip("gensim")
    return cases.gensim_namespace()


COMPARED = [c for c in cases.CASES if c.compare]


def test_comparison_sample_is_large_enough():
    assert len(COMPARED) >= 30
    assert {c.compare for c in COMPARED} == {"torch", "gensim"}


@pytest.mark.parametrize("case", COMPARED, ids=[f"{c.compare}-{c.id}" for c in COMPARED])
def test_same_input_raises_like_the_reference(case):
    reference = run(case.call, reference_namespace(case.compare))
    assert not reference.silent, (
        f"{case.id}: {case.compare} accepts this input (returned {safe_repr(reference.value)}); "
        f"the case does not belong in the comparison sample")
    mine = run(case.call, cases.xpnet_namespace())
    if mine.silent:
        pytest.fail(f"{case.id}: xpnet returned {safe_repr(mine.value)}, {case.compare} raised "
                    f"{type(reference.error).__name__}: {str(reference.error)[:150]!r}")
    assert compatible_with_reference(case, mine.error, reference.error), (
        f"{case.id}: xpnet raised {type(mine.error).__name__} ({str(mine.error)[:150]!r}), "
        f"{case.compare} {type(reference.error).__name__} ({str(reference.error)[:150]!r})")


# --------------------------------------------------------------------------------------------
# Hypothesis: bad sizes into every factory.

_FACTORIES = {
    "zeros": lambda size: xpnet.zeros(*size),
    "ones": lambda size: xpnet.ones(*size),
    "empty": lambda size: xpnet.empty(*size),
    "rand": lambda size: xpnet.rand(*size),
    "randn": lambda size: xpnet.randn(*size),
    "full": lambda size: xpnet.full(tuple(size), 0.5),
    "randint": lambda size: xpnet.randint(0, 5, tuple(size)),
    "zeros(tuple)": lambda size: xpnet.zeros(tuple(size)),
}

_good_dims = st.integers(0, 4)
_wrong_type_dims = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
    st.booleans(), st.none(), st.text(max_size=3), st.just([2]), st.just(object()))


@st.composite
def bad_size(draw):
    """A size list with one bad entry: (size, exception type, the bad entry)."""
    good = draw(st.lists(_good_dims, min_size=0, max_size=3))
    position = draw(st.integers(0, len(good)))
    if draw(st.booleans()):
        bad, kind = draw(st.integers(-(2 ** 40), -1)), ValueError
    else:
        bad, kind = draw(_wrong_type_dims), TypeError
    return good[:position] + [bad] + good[position:], kind, bad


@FUZZ
@given(name=st.sampled_from(sorted(_FACTORIES)), bad=bad_size())
def test_factories_refuse_bad_sizes(name, bad):
    size, kind, entry = bad
    # f(*[[2]]) is f([2]), a valid call: a sequence alone is the size, as in PyTorch.
    assume(not (len(size) == 1 and isinstance(entry, list) and "(" not in name
                and name not in ("full", "randint")))
    outcome = run(lambda _: _FACTORIES[name](size), None)
    call = name.split("(")[0]
    received = (repr(entry),) if kind is ValueError else (repr(entry), type(entry).__name__)
    _check(outcome, kind, (call, "size", received), f"{name}({size!r})")


def _check(outcome, kind, words, what):
    assert not outcome.silent, f"{what} returned {safe_repr(outcome.value)}: silent"
    assert isinstance(outcome.error, kind), (
        f"{what} raised {type(outcome.error).__name__}, expected {kind.__name__}: "
        f"{outcome.error}")
    missing = missing_words(str(outcome.error), words)
    assert not missing, f"{what}: the message lacks {missing}: {outcome.error}"


@FUZZ
@given(n=st.one_of(st.integers(-(2 ** 31), -1), _wrong_type_dims),
       name=st.sampled_from(["randperm", "eye", "linspace"]))
def test_count_arguments_refuse_bad_values(n, name):
    kind = ValueError if isinstance(n, int) and not isinstance(n, bool) else TypeError
    call = {"randperm": lambda: xpnet.randperm(n), "eye": lambda: xpnet.eye(n),
            "linspace": lambda: xpnet.linspace(0.0, 1.0, n)}[name]
    param = {"randperm": "n", "eye": "n", "linspace": cases.STEPS}[name]
    received = (repr(n),) if kind is ValueError else (repr(n), type(n).__name__)
    _check(run(lambda _: call(), None), kind, (name, param, received), f"{name}({n!r})")


# --------------------------------------------------------------------------------------------
# Hypothesis: out-of-range axes into reductions, softmax, cat, squeeze and friends.

_AXIS_OPS = {
    "sum": lambda x, a: xpnet.sum(x, dim=a),
    "mean": lambda x, a: xpnet.mean(x, dim=a),
    "amax": lambda x, a: xpnet.amax(x, dim=a),
    "argmax": lambda x, a: xpnet.argmax(x, dim=a),
    "cumsum": lambda x, a: xpnet.cumsum(x, dim=a),
    "logsumexp": lambda x, a: xpnet.logsumexp(x, dim=a),
    "softmax": lambda x, a: F.softmax(x, dim=a),
    "log_softmax": lambda x, a: F.log_softmax(x, dim=a),
    "cat": lambda x, a: xpnet.cat([x, x], dim=a),
    "stack": lambda x, a: xpnet.stack([x, x], dim=a + (1 if a >= 0 else -1)),
    "squeeze": lambda x, a: xpnet.squeeze(x, a),
    "unsqueeze": lambda x, a: xpnet.unsqueeze(x, a + (1 if a >= 0 else -1)),
    "flip": lambda x, a: xpnet.flip(x, [a]),
    "transpose": lambda x, a: xpnet.transpose(x, 0, a),
    "sort": lambda x, a: xpnet.sort(x, dim=a),
    "std": lambda x, a: xpnet.std(x, dim=a),
}


@st.composite
def shape_and_bad_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    ndim = len(shape)
    axis = draw(st.one_of(st.integers(ndim, ndim + 5), st.integers(-ndim - 5, -ndim - 1)))
    return shape, axis


@FUZZ
@given(name=st.sampled_from(sorted(_AXIS_OPS)), shape_axis=shape_and_bad_axis())
def test_axis_out_of_range_is_an_index_error(name, shape_axis):
    shape, axis = shape_axis
    x = xpnet.ones(*shape)
    outcome = run(lambda _: _AXIS_OPS[name](x, axis), None)
    # stack and unsqueeze have one more valid position: the test moves the axis one further out.
    shown = axis + (1 if axis >= 0 else -1) if name in ("stack", "unsqueeze") else axis
    call = ("cat", "concat") if name == "cat" else name
    _check(outcome, IndexError, (call, cases.DIM, str(shown)),
           f"{name}(ones{shape}, {shown})")


@FUZZ
@given(name=st.sampled_from(["sum", "mean", "amax", "softmax", "cumsum", "squeeze"]),
       axis=st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=2),
                      st.just([0.5])))
def test_axis_of_the_wrong_type_is_a_type_error(name, axis):
    # A float is refused even when integral (torch: sum(dim=1.0) is a TypeError).
    outcome = run(lambda _: _AXIS_OPS[name](xpnet.ones(2, 3), axis), None)
    received = (repr(axis), type(axis).__name__)
    if isinstance(axis, list):  # the message may name the bad element instead
        received += (repr(axis[0]), type(axis[0]).__name__)
    _check(outcome, TypeError, (name, cases.DIM, received), f"{name}(x, dim={axis!r})")


# --------------------------------------------------------------------------------------------
# Hypothesis: dtypes that are not dtypes, and NumPy dtypes xpnet has no tensor for.

_VALID_NAMES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float32", "float64", "complex64", "complex128", "float", "double", "int", "long",
                "short", "cfloat", "cdouble", "half", "float16", "bfloat16", "byte", "char"}


def _not_a_dtype_name(name):
    if name in _VALID_NAMES:
        return False
    try:
        with warnings.catch_warnings():  # NumPy 2 deprecates some aliases ("a") as it reads them
            warnings.simplefilter("ignore", DeprecationWarning)
            np.dtype(name)
    except (TypeError, ValueError, SyntaxError):  # "01a": NumPy's parser fails on its own
        return True
    return False  # NumPy reads it ("f4", "i8", "b"...): not surely bad


_UNSUPPORTED_NUMPY = [np.dtype(object), np.dtype("U5"), np.dtype("S3"), np.dtype("datetime64[ns]"),
                      np.dtype("timedelta64[s]"), np.dtype("V8")]
if np.dtype(np.longdouble).itemsize > 8:
    _UNSUPPORTED_NUMPY.append(np.dtype(np.longdouble))

_bad_dtype = st.one_of(
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
    .filter(_not_a_dtype_name),
    st.sampled_from(_UNSUPPORTED_NUMPY),
    st.sampled_from([3, 2.5, object(), [np.float32]]))

_DTYPE_CALLS = {
    "tensor": lambda d: xpnet.tensor([1.0, 2.0], dtype=d),
    "zeros": lambda d: xpnet.zeros(2, dtype=d),
    "ones": lambda d: xpnet.ones(2, dtype=d),
    "full": lambda d: xpnet.full((2,), 1.0, dtype=d),
    "arange": lambda d: xpnet.arange(3, dtype=d),
    "to": lambda d: xpnet.ones(2).to(dtype=d),
}


def _dtype_spellings(dtype):
    spelled = {repr(dtype), str(dtype)}
    if isinstance(dtype, np.dtype):
        spelled |= {dtype.name, dtype.str, dtype.str.lstrip("<>|=")}
    return tuple(sorted(spelled))


@FUZZ
@given(name=st.sampled_from(sorted(_DTYPE_CALLS)), dtype=_bad_dtype)
def test_bad_dtypes_are_type_errors(name, dtype):
    outcome = run(lambda _: _DTYPE_CALLS[name](dtype), None)
    call = ("Tensor.to", ".to") if name == "to" else name
    _check(outcome, TypeError, (call, "dtype", _dtype_spellings(dtype)),
           f"{name}(dtype={dtype!r})")


# --------------------------------------------------------------------------------------------
# Hypothesis: shapes that do not broadcast into binary ops and losses; matmul mismatches.

@st.composite
def non_broadcastable(draw):
    """Two shapes that do not broadcast: one axis of sizes a != b, both > 1."""
    left = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    right = list(left)
    axis = draw(st.integers(0, len(left) - 1))
    a, b = draw(st.lists(st.integers(2, 5), min_size=2, max_size=2, unique=True))
    left[axis], right[axis] = a, b
    return tuple(left), tuple(right)


_BINARY = {
    "add": xpnet.add, "sub": xpnet.sub, "mul": xpnet.mul, "div": xpnet.div,
    "maximum": xpnet.maximum, "where": lambda a, b: xpnet.where(a > 0, a, b),
    "mse_loss": F.mse_loss, "l1_loss": F.l1_loss, "smooth_l1_loss": F.smooth_l1_loss,
}


@FUZZ
@given(name=st.sampled_from(sorted(_BINARY)), shapes=non_broadcastable())
def test_shapes_that_do_not_broadcast_are_value_errors(name, shapes):
    left, right = shapes
    outcome = run(lambda _: _BINARY[name](xpnet.ones(*left), xpnet.ones(*right)), None)
    _check(outcome, ValueError, (name, cases.shape(*right) + cases.shape(*left)),
           f"{name}(ones{left}, ones{right})")


@FUZZ
@given(m=st.integers(1, 4), k=st.integers(1, 4), k2=st.integers(1, 4), n=st.integers(1, 4),
       batch=st.lists(st.integers(1, 3), max_size=2))
def test_matmul_inner_mismatch_is_a_value_error(m, k, k2, n, batch):
    if k == k2:
        k2 = k + 1
    left, right = (*batch, m, k), (*batch, k2, n)
    outcome = run(lambda _: xpnet.matmul(xpnet.ones(*left), xpnet.ones(*right)), None)
    _check(outcome, ValueError, ("matmul", cases.shape(*right) + cases.shape(*left)),
           f"matmul(ones{left}, ones{right})")


@FUZZ
@given(batch=st.integers(1, 4), classes=st.integers(2, 5), data=st.data())
def test_cross_entropy_targets_out_of_range_are_index_errors(batch, classes, data):
    bad = data.draw(st.one_of(st.integers(classes, classes + 10), st.integers(-10, -1)
                              .filter(lambda v: v != -100)))
    position = data.draw(st.integers(0, batch - 1))
    target = [0] * batch
    target[position] = bad
    logits = xpnet.ones(batch, classes)
    outcome = run(lambda _: F.cross_entropy(logits, xpnet.tensor(target)), None)
    _check(outcome, IndexError, ("cross_entropy", "target", str(bad)),
           f"cross_entropy(ones({batch}, {classes}), {target})")


# --------------------------------------------------------------------------------------------
# The report: python tests/test_bad_input_fuzz.py

_HYPOTHESIS_TESTS = [test_factories_refuse_bad_sizes, test_count_arguments_refuse_bad_values,
                     test_axis_out_of_range_is_an_index_error,
                     test_axis_of_the_wrong_type_is_a_type_error, test_bad_dtypes_are_type_errors,
                     test_shapes_that_do_not_broadcast_are_value_errors,
                     test_matmul_inner_mismatch_is_a_value_error,
                     test_cross_entropy_targets_out_of_range_are_index_errors]


def _comparison_report():
    mismatched, accepted_by_reference, skipped = [], [], []
    for case in COMPARED:
        try:
            reference = run(case.call, (cases.torch_namespace() if case.compare == "torch"
                                        else cases.gensim_namespace()))
        except ImportError as error:
            skipped.append((case.id, str(error)))
            continue
        if reference.silent:
            accepted_by_reference.append((case.id, safe_repr(reference.value)))
            continue
        mine = run(case.call, cases.xpnet_namespace())
        if mine.silent or not compatible_with_reference(case, mine.error, reference.error):
            got = "returned" if mine.silent else type(mine.error).__name__
            mismatched.append((case.id, f"xpnet {got}, {case.compare} "
                                        f"{type(reference.error).__name__}"))
    return mismatched, accepted_by_reference, skipped


def main():
    counts, failures = tally()
    complete = counts["complete"] / counts["total"]
    print(f"hand-written table: {counts['total']} cases")
    print(f"  silent:              {counts['silent']}")
    print(f"  wrong type:          {counts['wrong type']}")
    print(f"  incomplete message:  {counts['incomplete']}")
    print(f"  complete:            {counts['complete']} ({complete:.1%}; target >= "
          f"{COMPLETE_TARGET:.0%}, with 0 silent and 0 wrong type)")
    for kind in ("silent", "wrong type", "incomplete"):
        if failures[kind]:
            print(f"\n{kind} ({len(failures[kind])}):")
            for case_id, why in failures[kind]:
                print(f"  {case_id}: {why}")
    mismatched, accepted, skipped = _comparison_report()
    by_kind = {k: sum(c.compare == k for c in COMPARED) for k in ("torch", "gensim")}
    print(f"\ncomparison sample: {len(COMPARED)} cases ({by_kind['torch']} torch, "
          f"{by_kind['gensim']} gensim): {len(mismatched)} mismatched, {len(accepted)} accepted by "
          f"the reference, {len(skipped)} skipped")
    for case_id, why in mismatched:
        print(f"  mismatch: {case_id}: {why}")
    for case_id, value in accepted:
        print(f"  reference accepts: {case_id}: {value}")
    print("\nhypothesis strategies:")
    failed = 0
    for test in _HYPOTHESIS_TESTS:
        try:
            test()
        except Exception as error:  # noqa: BLE001 - report, do not stop
            failed += 1
            text = " ".join(str(error).split())
            print(f"  FAIL {test.__name__}: {text[:300]}")
        else:
            print(f"  ok   {test.__name__}")
    return 0 if (counts["silent"] == counts["wrong type"] == 0 and complete >= COMPLETE_TARGET
                 and not mismatched and not failed) else 1


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
