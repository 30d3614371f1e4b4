"""Bad input to xpnet.word2vec (issue 14): missing keys name the call the user made and keep
gensim's text, counts and settings of the wrong type are TypeErrors and of the wrong value
ValueErrors naming Word2Vec/KeyedVectors and the parameter, an empty word list is a ValueError
that is also gensim's ZeroDivisionError, and the command-line tool writes its output through the
shared atomic writer (no temporary file of its own survives a killed run)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

from xpnet.word2vec import EmptyInputError, EmptyVocabularyError, KeyedVectors, Word2Vec, cli

gensim_models = pytest.importorskip("gensim.models")

CORPUS = [["human", "interface", "computer"], ["survey", "user", "computer", "system"],
          ["eps", "user", "interface", "system"], ["system", "human", "system", "eps"],
          ["user", "response", "time"], ["trees"], ["graph", "trees"], ["graph", "minors", "trees"],
          ["graph", "minors", "survey"]]


def _kv(library=KeyedVectors):
    kv = library(3)
    kv.add_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    return kv


def _on_gensim(call, *args, **kwargs):
    """``call`` on gensim's vectors; gensim 4.4's most_similar_cosmul calls its own deprecated
    init_sims."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return call(_kv(gensim_models.KeyedVectors), *args, **kwargs)


# -- missing keys (str of a KeyError is the repr of its text: hence the leading quote) ----------

# (the call the user made, its name in the message), the same call on gensim's KeyedVectors.
MISSING = [
    (lambda kv: kv["zzz"], "KeyedVectors"),
    (lambda kv: kv[["a", "zzz"]], "KeyedVectors"),
    (lambda kv: kv.get_vector("zzz"), "get_vector"),
    (lambda kv: kv.get_vector("zzz", norm=True), "get_vector"),
    (lambda kv: kv.get_index("zzz"), "get_index"),
    (lambda kv: kv.similarity("a", "zzz"), "similarity"),
    (lambda kv: kv.similarity("zzz", "a"), "similarity"),
    (lambda kv: kv.most_similar("zzz"), "most_similar"),
    (lambda kv: kv.most_similar(positive=["a"], negative=["zzz"]), "most_similar"),
    (lambda kv: kv.similar_by_word("zzz"), "similar_by_word"),
    (lambda kv: kv.similar_by_key("zzz"), "similar_by_key"),
    (lambda kv: kv.most_similar_cosmul("zzz"), "most_similar_cosmul"),
    (lambda kv: kv.most_similar_cosmul("a", negative=["zzz"]), "most_similar_cosmul"),
    (lambda kv: kv.distance("a", "zzz"), "distance"),
    (lambda kv: kv.distances("zzz"), "distances"),
    (lambda kv: kv.distances("a", ["b", "zzz"]), "distances"),
    (lambda kv: kv.rank("a", "zzz"), "rank"),
    (lambda kv: kv.rank("zzz", "a"), "rank"),
    (lambda kv: kv.closer_than("a", "zzz"), "closer_than"),
    (lambda kv: kv.most_similar_to_given("a", ["b", "zzz"]), "most_similar_to_given"),
    (lambda kv: kv.relative_cosine_similarity("a", "zzz"), "relative_cosine_similarity"),
    (lambda kv: kv.get_vecattr("zzz", "count"), "get_vecattr"),
    (lambda kv: kv.set_vecattr("zzz", "count", 1), "set_vecattr"),
]


@pytest.mark.parametrize("call, op", MISSING, ids=[f"{op}-{i}" for i, (_, op) in
                                                   enumerate(MISSING)])
def test_a_missing_key_names_the_call_and_keeps_gensims_text(call, op):
    with pytest.raises(KeyError) as gensim_error:
        _on_gensim(call)
    gensim_text = gensim_error.value.args[0]  # "Key 'zzz' not present" (in vocabulary)
    with pytest.raises(KeyError, match=rf"^\"{op}: Key 'zzz' not present") as info:
        call(_kv())
    # Code written for gensim matches its text; ours holds it whole after the call's name.
    assert info.value.args[0] == f"{op}: {gensim_text}"


def test_an_int_out_of_range_is_a_missing_key_naming_the_rows():
    with pytest.raises(KeyError, match=r"^\"get_index: Key '99' not present \(an int key is a row "
                                       r"index; there are 3 rows\)"):
        _kv().get_index(99)
    with pytest.raises(KeyError, match="^\"get_vector: Key '-1' not present"):
        _kv().get_vector(-1)


def test_mean_vectors_name_their_call():
    with pytest.raises(KeyError, match="^\"get_mean_vector: Key 'zzz' not present in vocabulary"):
        _kv().get_mean_vector(["a", "zzz"], ignore_missing=False)
    # n_similarity, gensim 4.4 silently skips the key; a KeyError naming n_similarity here.
    with pytest.raises(KeyError, match="^\"n_similarity: Key 'zzz' not present in vocabulary"):
        _kv().n_similarity(["a", "zzz"], ["b"])


def test_present_keys_and_defaults_are_unchanged():
    kv = _kv()
    assert kv.get_index("b") == 1 and kv.get_index(2) == 2 and kv.get_index("zzz", 7) == 7
    assert "zzz" not in kv and "a" in kv and 2 in kv and 3 not in kv
    assert kv.similarity("a", "a") == pytest.approx(1.0)
    assert [key for key, _ in kv.most_similar("a")] == ["b", "c"]


# -- topn and restrict_vocab ---------------------------------------------------------------------

QUERIES = {"most_similar": lambda kv, **kw: kv.most_similar("a", **kw),
           "most_similar_cosmul": lambda kv, **kw: kv.most_similar_cosmul("a", **kw),
           "similar_by_word": lambda kv, **kw: kv.similar_by_word("a", **kw),
           "similar_by_key": lambda kv, **kw: kv.similar_by_key("a", **kw),
           "similar_by_vector": lambda kv, **kw: kv.similar_by_vector(np.ones(3, np.float32),
                                                                      **kw)}


@pytest.mark.parametrize("op", QUERIES)
@pytest.mark.parametrize("topn, shown", [(2.5, "float 2.5"), ("a", "str 'a'"),
                                         (True, "bool True"), ([1], r"list \[1\]")])
def test_topn_of_the_wrong_type_is_a_type_error(op, topn, shown):
    # gensim: TypeError (slicing with a float or a str), or 1 result for True.
    with pytest.raises(TypeError, match=rf"^{op}: topn must be an int >= 0 or None, got {shown}"):
        QUERIES[op](_kv(), topn=topn)


@pytest.mark.parametrize("op", QUERIES)
def test_a_negative_topn_is_a_value_error(op):
    # gensim returns [] for every topn < 1; a negative count is no count (torch.topk raises).
    with pytest.raises(ValueError, match=rf"^{op}: topn must be an int >= 0 or None, got -1$"):
        QUERIES[op](_kv(), topn=-1)


@pytest.mark.parametrize("op", QUERIES)
def test_topn_zero_none_and_numpy_ints_work_as_in_gensim(op):
    kv = _kv()
    assert QUERIES[op](kv, topn=0) == _on_gensim(QUERIES[op], topn=0) == []
    (key, score), = QUERIES[op](kv, topn=np.int64(1))
    (want_key, want_score), = _on_gensim(QUERIES[op], topn=np.int64(1))
    assert key == want_key and score == pytest.approx(want_score, abs=1e-6)
    scores = QUERIES[op](kv, topn=None)
    np.testing.assert_allclose(kv.backend.to_numpy(scores), _on_gensim(QUERIES[op], topn=None),
                               rtol=1e-6)


@pytest.mark.parametrize("op", ["most_similar", "most_similar_cosmul", "similar_by_word"])
def test_restrict_vocab_is_checked(op):
    with pytest.raises(TypeError, match=rf"^{op}: restrict_vocab must be an int >= 0 or None, "
                                        rf"got float 1.5"):
        QUERIES[op](_kv(), restrict_vocab=1.5)
    with pytest.raises(ValueError, match=rf"^{op}: restrict_vocab must be an int >= 0 or None, "
                                         rf"got -2"):
        QUERIES[op](_kv(), restrict_vocab=-2)
    assert [key for key, _ in QUERIES[op](_kv(), restrict_vocab=2)] == ["b"]
    assert len(QUERIES[op](_kv(), restrict_vocab=0)) == 2  # 0 (as None): no restriction


def test_relative_cosine_similarity_checks_topn():
    with pytest.raises(TypeError, match="^relative_cosine_similarity: topn must be an int"):
        _kv().relative_cosine_similarity("a", "b", topn=2.5)


def test_predict_output_word_checks_topn():
    model = Word2Vec(CORPUS, vector_size=4, min_count=1, epochs=1, workers=1)
    with pytest.raises(TypeError, match=r"^predict_output_word: topn must be an int >= 0, got "
                                        r"float 2.5"):
        model.predict_output_word(["human"], topn=2.5)
    with pytest.raises(ValueError, match="^predict_output_word: topn must be an int >= 0, got -1"):
        model.predict_output_word(["human"], topn=-1)
    assert len(model.predict_output_word(["human"], topn=2)) == 2


# -- empty word lists ----------------------------------------------------------------------------

@pytest.mark.parametrize("ws1, ws2, empty", [([], ["a"], "ws1"), (["a"], [], "ws2"),
                                             ([], [], "ws1")])
def test_n_similarity_of_an_empty_list_is_a_value_error_and_gensims(ws1, ws2, empty):
    with pytest.raises(ZeroDivisionError):
        _on_gensim(lambda g: g.n_similarity(ws1, ws2))
    with pytest.raises(ValueError, match=rf"^n_similarity: at least one of the passed lists is "
                                         rf"empty: {empty} is \[\]$") as info:
        _kv().n_similarity(ws1, ws2)
    assert isinstance(info.value, ZeroDivisionError) and isinstance(info.value, EmptyInputError)


# -- Word2Vec and KeyedVectors settings ----------------------------------------------------------

BAD_SETTINGS = [
    # (parameter, value, exception, text after "Word2Vec: expected ")
    ("vector_size", 2.5, TypeError, "vector_size an int >= 1, got float 2.5"),
    ("vector_size", "8", TypeError, "vector_size an int >= 1, got str '8'"),
    ("vector_size", True, TypeError, "vector_size an int >= 1, got bool True"),
    ("vector_size", 0, ValueError, "vector_size an int >= 1, got 0"),
    ("min_count", "a", TypeError, "min_count an int >= 0, got str 'a'"),
    ("min_count", -1, ValueError, "min_count an int >= 0, got -1"),
    ("window", 1.5, TypeError, "window an int >= 1, got float 1.5"),
    ("window", 0, ValueError, "window an int >= 1, got 0"),
    ("negative", 2.0, TypeError, "negative an int >= 0, got float 2.0"),
    ("negative", -1, ValueError, "negative an int >= 0, got -1"),
    ("epochs", "5", TypeError, "epochs an int >= 0, got str '5'"),
    ("epochs", -1, ValueError, "epochs an int >= 0, got -1"),
    ("workers", 1.0, TypeError, "workers an int >= 1, got float 1.0"),
    ("workers", 0, ValueError, "workers an int >= 1, got 0"),
    ("seed", 1.5, TypeError, "seed an int >= 0, got float 1.5"),
    ("seed", -1, ValueError, "seed an int >= 0, got -1"),
    ("batch_words", None, TypeError, "batch_words an int >= 1, got NoneType None"),
    ("max_vocab_size", 1e6, TypeError, "max_vocab_size an int >= 1 or None, got float 1000000.0"),
    ("max_vocab_size", -1, ValueError, "max_vocab_size an int >= 1 or None, got -1"),
    ("max_final_vocab", "10", TypeError, "max_final_vocab an int >= 1 or None, got str '10'"),
    ("alpha", "fast", TypeError, "alpha a number > 0, got str 'fast'"),
    ("alpha", -0.1, ValueError, "alpha a number > 0, got -0.1"),
    ("alpha", 0, ValueError, "alpha a number > 0, got 0"),
    ("alpha", math.inf, ValueError, "alpha a finite number > 0, got inf"),
    ("min_alpha", None, TypeError, "min_alpha a number >= 0, got NoneType None"),
    ("min_alpha", math.nan, ValueError, "min_alpha a finite number >= 0, got nan"),
    ("sample", -1.0, ValueError, "sample a number >= 0, got -1.0"),
    ("sample", "1e-3", TypeError, "sample a number >= 0, got str '1e-3'"),
    ("ns_exponent", "a", TypeError, "ns_exponent a number, got str 'a'"),
    ("ns_exponent", math.nan, ValueError, "ns_exponent a finite number, got nan"),
    ("sg", 2, ValueError, "sg 0 or 1, got 2"),
    ("sg", "1", TypeError, "sg 0 or 1, got str '1'"),
    ("hs", -1, ValueError, "hs 0 or 1, got -1"),
    ("cbow_mean", 0.5, TypeError, "cbow_mean 0 or 1, got float 0.5"),
    ("null_word", "yes", TypeError, "null_word 0 or 1, got str 'yes'"),
    ("sorted_vocab", 3, ValueError, "sorted_vocab 0 or 1, got 3"),
    ("compute_loss", "False", TypeError, "compute_loss a bool, got str 'False'"),
    ("shrink_windows", 2, ValueError, "shrink_windows a bool, got 2"),
    ("trim_rule", 5, TypeError, "trim_rule a callable or None, got int 5"),
    ("callbacks", 5, TypeError, "callbacks a sequence of CallbackAny2Vec, got int 5"),
]


@pytest.mark.parametrize("name, value, error, text", BAD_SETTINGS,
                         ids=[f"{n}-{v!r}" for n, v, _, _ in BAD_SETTINGS])
def test_a_bad_setting_names_word2vec_the_parameter_and_the_value(name, value, error, text):
    with pytest.raises(error, match=f"^{re.escape('Word2Vec: expected ' + text)}$"):
        Word2Vec(**{name: value})
    with pytest.raises(error):  # raised before the corpus is read
        Word2Vec(CORPUS, **{name: value})


def test_good_settings_of_other_numeric_types_are_accepted():
    model = Word2Vec(vector_size=np.int64(8), alpha=np.float32(0.05), sample=0, ns_exponent=-0.5,
                     sg=True, hs=np.int8(1), negative=0, compute_loss=np.bool_(True),
                     shrink_windows=0, min_alpha=0)
    assert (model.vector_size, model.sg, model.hs, model.negative) == (8, 1, 1, 0)
    assert model.alpha == pytest.approx(0.05) and model.compute_loss is True
    assert model.shrink_windows is False and type(model.vector_size) is int


@pytest.mark.parametrize("args, kwargs, error, text", [
    ((2.5,), {}, TypeError, "vector_size must be a positive int, got float 2.5"),
    (("3",), {}, TypeError, "vector_size must be a positive int, got str '3'"),
    ((0,), {}, ValueError, "vector_size must be a positive int, got 0"),
    ((-1,), {}, ValueError, "vector_size must be a positive int, got -1"),
    ((3, 1.5), {}, TypeError, "count must be a non-negative int, got float 1.5"),
    ((3, -1), {}, ValueError, "count must be a non-negative int, got -1"),
])
def test_keyed_vectors_sizes(args, kwargs, error, text):
    with pytest.raises(error, match=f"^{re.escape('KeyedVectors: ' + text)}$"):
        KeyedVectors(*args, **kwargs)


def _built():
    model = Word2Vec(vector_size=4, min_count=1, workers=1)
    model.build_vocab(CORPUS)
    return model


@pytest.mark.parametrize("kwargs, error, text", [
    ({"epochs": 2.5}, TypeError, "train: expected epochs a positive int (usually model.epochs), "
                                 "got float 2.5"),
    ({"epochs": 0}, ValueError, "train: expected epochs a positive int (usually model.epochs), "
                                "got 0"),
    ({"epochs": 1, "total_examples": 9.0}, TypeError,
     "train: expected total_examples a positive int, got float 9.0"),
    ({"epochs": 1, "total_examples": 0}, ValueError,
     "train: expected total_examples a positive int, got 0"),
    ({"epochs": 1, "start_alpha": "a"}, TypeError,
     "train: expected start_alpha a number > 0 or None, got str 'a'"),
    ({"epochs": 1, "end_alpha": -1.0}, ValueError,
     "train: expected end_alpha a number >= 0 or None, got -1.0"),
    ({"epochs": 1, "queue_factor": 0}, ValueError,
     "train: expected queue_factor a positive int, got 0"),
])
def test_train_checks_its_arguments(kwargs, error, text):
    kwargs = {"total_examples": len(CORPUS), **kwargs}
    with pytest.raises(error, match=f"^{re.escape(text)}$"):
        _built().train(CORPUS, **kwargs)


@pytest.mark.parametrize("where", ["build_vocab", "prepare_vocab"])
def test_vocabulary_overrides_are_checked(where):
    model = Word2Vec(vector_size=4, workers=1)
    if where == "prepare_vocab":
        model.scan_vocab(CORPUS)
        call = model.prepare_vocab
    else:
        call = lambda **kw: model.build_vocab(CORPUS, **kw)  # noqa: E731
    with pytest.raises(TypeError, match=rf"^{where}: expected min_count an int >= 0 or None, "
                                        rf"got str 'a'$"):
        call(min_count="a")
    with pytest.raises(ValueError, match=rf"^{where}: expected sample a number >= 0 or None, "
                                         rf"got -1.0$"):
        call(sample=-1.0)


# -- a vocabulary that min_count empties ---------------------------------------------------------

def test_an_emptied_vocabulary_names_word2vec_when_the_constructor_trains():
    with pytest.raises(EmptyVocabularyError,
                       match=r"^Word2Vec: no word is left to train on: the corpus has 2 distinct "
                             r"words, none seen at least min_count=5 times") as info:
        Word2Vec([["a", "b"]], min_count=5)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    with pytest.raises(EmptyVocabularyError, match="^Word2Vec: no word is left to train on: the "
                                                   "corpus is empty"):
        Word2Vec([], min_count=1)


def test_an_emptied_vocabulary_built_directly_is_refused_by_train():
    # As gensim: build_vocab leaves it empty (with a warning), train raises.
    model = Word2Vec(min_count=5)
    model.build_vocab([["a", "b"]])
    with pytest.raises(EmptyVocabularyError, match="^train: no word is left to train on: .*"
                                                   "min_count=5 times"):
        model.train([["a", "b"]], total_examples=1, epochs=1)


# -- the command-line tool's output file ---------------------------------------------------------

def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_cli_writes_through_the_shared_atomic_writer(tmp_path):
    from xpnet import files

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in CORPUS * 3) + "\n", encoding="utf-8")
    out = tmp_path / "vectors.txt"
    # What a run killed with SIGKILL while writing leaves behind.
    stale = files.temporary_name(os.fspath(out), pid=_dead_pid())
    with open(stale, "w") as f:
        f.write("3 4\nhalf")
    assert cli.main(["-train", corpus, "-output", out, "-iter", "1", "-size", "4",
                     "-min-count", "1", "-debug", "0", "-threads", "1"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "vectors.txt"]
    loaded = gensim_models.KeyedVectors.load_word2vec_format(os.fspath(out))
    assert loaded.vector_size == 4 and set(loaded.index_to_key) == {w for s in CORPUS for w in s}
