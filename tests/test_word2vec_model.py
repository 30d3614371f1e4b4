"""`Word2Vec`: training on every backend, reproducibility, continued training, save/load, callbacks,
the loss, the progress bar and bad input. Tiny corpora (gensim's common_texts) keep it fast; the
vocabulary rules are checked against gensim in test_word2vec_vocab.py and the update kernel in
test_word2vec_kernels.py."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

import xpnet
from xpnet.backend import backend_of_array
from xpnet.backend import load as load_backend
from xpnet.word2vec import EmptyVocabularyError, KeyedVectors, Word2Vec, WrongFileError
from xpnet.word2vec.callbacks import CallbackAny2Vec
from xpnet.word2vec.corpus import LineSentence

gensim_utils = pytest.importorskip("gensim.test.utils")
COMMON_TEXTS = [list(s) for s in gensim_utils.common_texts]
LEE = gensim_utils.datapath("lee_background.cor")
MODES = {"sg-ns": {"sg": 1, "hs": 0, "negative": 5}, "cbow-ns": {"sg": 0, "hs": 0, "negative": 5},
         "sg-hs": {"sg": 1, "hs": 1, "negative": 0}, "cbow-hs": {"sg": 0, "hs": 1, "negative": 0},
         "cbow-sum-both": {"sg": 0, "hs": 1, "negative": 3, "cbow_mean": 0}}
TINY = {"vector_size": 8, "min_count": 1, "sample": 0, "window": 2, "epochs": 2}


def _vectors(model):
    return model.wv.backend.to_numpy(model.wv.vectors)


def _tiny(seed=1, **settings):
    return Word2Vec(COMMON_TEXTS, **{**TINY, "seed": seed, **settings})


@pytest.mark.parametrize("mode", MODES)
def test_trains_on_every_backend(backend, mode):
    untrained = Word2Vec(**TINY, **MODES[mode])
    untrained.build_vocab(COMMON_TEXTS)
    before = _vectors(untrained)
    model = _tiny(**MODES[mode], compute_loss=True)
    after = _vectors(model)
    expected = load_backend(backend)
    for array in (model.wv.vectors, model.syn1neg, model.syn1):
        if array is not None:
            assert backend_of_array(array) is expected
    assert after.shape == (12, 8) and np.isfinite(after).all()
    assert np.abs(after - before).max() > 1e-4
    assert model.get_latest_training_loss() > 0
    assert model.wv.index_to_key[:3] == ["system", "graph", "trees"]


def test_backends_agree_on_the_generic_path():
    with xpnet.use_fast_paths(False):
        with xpnet.use_backend("numpy"):
            want = _vectors(_tiny(**MODES["sg-ns"]))
        with xpnet.use_backend("array_api_strict:device1"):
            got = _vectors(_tiny(**MODES["sg-ns"]))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_same_seed_same_vectors_other_seed_other_vectors(backend_name):
    with xpnet.use_backend(backend_name):
        first = _vectors(_tiny(seed=3, **MODES["cbow-ns"]))
        again = _vectors(_tiny(seed=3, **MODES["cbow-ns"]))
        other = _vectors(_tiny(seed=4, **MODES["cbow-ns"]))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3


def test_init_follows_gensim_scale():
    model = Word2Vec(vector_size=50, min_count=1)
    model.build_vocab(COMMON_TEXTS)
    vectors = _vectors(model)
    assert np.abs(vectors).max() < 1 / 50 and np.abs(vectors).max() > 0.9 / 50
    assert not np.any(model.wv.backend.to_numpy(model.syn1neg))


def test_vocabulary_on_the_model_matches_gensim():
    gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
    ours = Word2Vec(corpus_file=LEE, hs=1, epochs=1, vector_size=10)
    theirs = gensim_word2vec.Word2Vec(vector_size=10, hs=1)
    theirs.build_vocab(corpus_file=LEE)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count,
                                                           theirs.corpus_total_words)
    for word in ("the", "Australia", ours.wv.index_to_key[-1]):
        assert ours.wv.get_vecattr(word, "count") == theirs.wv.get_vecattr(word, "count")
        assert list(ours.wv.get_vecattr(word, "code")) == list(theirs.wv.get_vecattr(word, "code"))
    np.testing.assert_array_equal(ours.wv.backend.to_numpy(ours.cum_table), theirs.cum_table)


def test_build_vocab_from_freq_matches_gensim():
    gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
    freq = {"apple": 9, "pear": 4, "fig": 4, "kiwi": 2, "plum": 1}
    ours = Word2Vec(min_count=2, vector_size=4)
    ours.build_vocab_from_freq(freq, corpus_count=3)
    theirs = gensim_word2vec.Word2Vec(min_count=2, vector_size=4)
    theirs.build_vocab_from_freq(freq, corpus_count=3)
    assert ours.wv.index_to_key == theirs.wv.index_to_key == ["apple", "fig", "pear", "kiwi"]
    assert (ours.corpus_count, ours.corpus_total_words) == (3, 20)
    np.testing.assert_array_equal(ours.wv.backend.to_numpy(ours.cum_table), theirs.cum_table)
    with pytest.raises(TypeError, match="expected a dict"):
        ours.build_vocab_from_freq([("apple", 9)])


def test_corpus_file_trains_as_the_same_sentences(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in COMMON_TEXTS) + "\n")
    from_file = Word2Vec(corpus_file=path, **TINY)
    from_list = Word2Vec(COMMON_TEXTS, **TINY)
    np.testing.assert_array_equal(_vectors(from_file), _vectors(from_list))


def test_learning_rate_decays_linearly_to_min_alpha():
    model = Word2Vec(alpha=0.05, min_alpha=0.001, epochs=4)
    assert model._alpha_at(0.0, 0) == pytest.approx(0.05)
    assert model._alpha_at(0.5, 1) == pytest.approx(0.05 - 0.049 * 1.5 / 4)
    assert model._alpha_at(1.0, 3) == pytest.approx(0.001)

    seen = []

    class Alphas(CallbackAny2Vec):
        def on_epoch_end(self, model):
            seen.append(model.min_alpha_yet_reached)

    Word2Vec(COMMON_TEXTS, **{**TINY, "epochs": 4}, alpha=0.05, min_alpha=0.001,
             batch_words=10, callbacks=[Alphas()])
    assert seen == sorted(seen, reverse=True) and seen[0] < 0.05 and seen[-1] > 0.001


def test_a_sentence_over_10000_words_is_trained_whole_with_a_smooth_schedule():
    words = [f"w{i % 50}" for i in range(25000)]
    model = Word2Vec(vector_size=4, min_count=1, sample=0, epochs=1, alpha=0.025,
                     min_alpha=0.0001)
    model.build_vocab([words])
    trained, raw = model.train([words], total_examples=1, epochs=1)
    assert (trained, raw) == (25000, 25000)
    # Pieces of 10,000, 10,000 and 5,000 words: the last job starts at 80% of the sentence.
    assert model.min_alpha_yet_reached == pytest.approx(0.025 - (0.025 - 0.0001) * 0.8)


def test_callbacks_are_called_in_gensim_order():
    calls = []

    class Recorder(CallbackAny2Vec):
        def on_train_begin(self, model):
            calls.append("train_begin")

        def on_epoch_begin(self, model):
            calls.append("epoch_begin")

        def on_epoch_end(self, model):
            calls.append("epoch_end")

        def on_train_end(self, model):
            calls.append("train_end")

    _tiny(callbacks=[Recorder()])
    assert calls == ["train_begin", "epoch_begin", "epoch_end", "epoch_begin", "epoch_end",
                     "train_end"]


def test_loss_is_positive_and_falls_over_epochs():
    # Real text (lee_background, 60k words); per-epoch loss read from the running total.
    totals = []

    class Totals(CallbackAny2Vec):
        def on_epoch_end(self, model):
            totals.append(model.get_latest_training_loss())

    corpus = list(LineSentence(LEE))[:150]
    Word2Vec(corpus, vector_size=20, min_count=2, epochs=4, sg=1, compute_loss=True,
             callbacks=[Totals()])
    per_epoch = np.diff([0.0, *totals])
    assert (per_epoch > 0).all()
    assert per_epoch[-1] < per_epoch[0]


def test_loss_is_zero_unless_asked():
    model = _tiny()
    assert model.get_latest_training_loss() == 0.0
    model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=1, compute_loss=True)
    assert model.get_latest_training_loss() > 0


def test_continue_training_moves_vectors_and_counts():
    model = _tiny(**MODES["sg-hs"])
    before = _vectors(model)
    trained, raw = model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=2)
    assert raw == 2 * sum(map(len, COMMON_TEXTS)) and trained == raw  # sample=0 keeps all
    assert model.train_count == 2
    assert np.abs(_vectors(model) - before).max() > 1e-5


def test_save_load_round_trip_then_continue(tmp_path):
    model = _tiny(**MODES["cbow-sum-both"])
    path = tmp_path / "w2v.safetensors"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    for name in ("sg", "hs", "negative", "cbow_mean", "window", "vector_size", "seed"):
        assert getattr(loaded, name) == getattr(model, name)
    np.testing.assert_array_equal(_vectors(loaded), _vectors(model))
    np.testing.assert_array_equal(np.asarray(loaded.syn1), np.asarray(model.syn1))
    np.testing.assert_array_equal(np.asarray(loaded.syn1neg), np.asarray(model.syn1neg))
    # The random state travels too: both continue identically.
    for m in (model, loaded):
        m.train(COMMON_TEXTS, total_examples=m.corpus_count, epochs=1)
    np.testing.assert_array_equal(_vectors(loaded), _vectors(model))


def test_load_onto_another_backend(tmp_path):
    model = _tiny()
    path = tmp_path / "w2v.safetensors"
    model.save(path)
    loaded = Word2Vec.load(path, backend="array_api_strict:device1")
    assert loaded.wv.backend.name == "array_api_strict:device1"
    np.testing.assert_array_equal(_vectors(loaded), _vectors(model))
    loaded.train(COMMON_TEXTS, total_examples=loaded.corpus_count, epochs=1)


def test_progress_bar_is_silent_by_default_and_shows_when_asked(capsys):
    pytest.importorskip("tqdm")
    _tiny()
    assert capsys.readouterr().err == ""
    _tiny(progress=True, compute_loss=True)
    err = capsys.readouterr().err
    assert "word2vec 2/2" in err and "word" in err and "loss=" in err


def test_progress_without_tqdm_trains_silently(monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    np.testing.assert_array_equal(_vectors(_tiny(progress=True)), _vectors(_tiny()))
    assert capsys.readouterr().err == ""


# -- bad input ---------------------------------------------------------------------------------

def test_empty_vocabulary_is_refused_by_train_as_gensim(caplog):
    # gensim: build_vocab leaves the vocabulary empty, train raises RuntimeError.
    with pytest.raises(ValueError, match="no word is left.*corpus is empty") as info:
        Word2Vec([], min_count=1)
    assert isinstance(info.value, RuntimeError)
    model = Word2Vec(min_count=100)
    with caplog.at_level(logging.WARNING, logger="xpnet.word2vec"):
        model.build_vocab(COMMON_TEXTS)  # no error yet
    assert "none seen at least min_count=100" in caplog.text
    with pytest.raises(EmptyVocabularyError, match="train: no word is left.*min_count=100"):
        model.train(COMMON_TEXTS, total_examples=9, epochs=1)


def test_min_count_removing_every_word_is_refused():
    with pytest.raises(ValueError, match="none seen at least min_count=100"):
        Word2Vec(COMMON_TEXTS, min_count=100)


def test_plain_string_corpus_is_refused():
    with pytest.raises(TypeError, match="got a plain str"):
        Word2Vec("human interface computer", min_count=1)
    with pytest.raises(TypeError, match="got an open file; wrap it: LineSentence"):
        with open(LEE, encoding="utf8") as f:
            Word2Vec(f, min_count=1)


def test_missing_corpus_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        Word2Vec(corpus_file=tmp_path / "missing.txt")


def test_training_before_build_vocab_is_refused():
    with pytest.raises(RuntimeError, match="call build_vocab"):
        Word2Vec(min_count=1).train(COMMON_TEXTS, total_examples=9, epochs=1)


def test_train_needs_counts_and_epochs():
    model = _tiny()
    with pytest.raises(ValueError, match="total_examples or total_words"):
        model.train(COMMON_TEXTS, epochs=1)
    with pytest.raises(ValueError, match="epochs a positive int"):
        model.train(COMMON_TEXTS, total_examples=9)


def test_one_shot_generator_for_several_epochs_is_refused():
    with pytest.raises(TypeError, match="generator can be iterated once"):
        Word2Vec((s for s in COMMON_TEXTS), min_count=1, epochs=2)


@pytest.mark.parametrize("settings, message", [
    ({"hs": 0, "negative": 0}, "nothing to train"),
    ({"vector_size": 0}, "vector_size an int >= 1"),
    ({"window": 0}, "window an int >= 1"),
    ({"alpha": -1.0}, "alpha a number > 0"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Word2Vec(**settings)


def test_unknown_word_is_a_key_error_naming_it():
    model = _tiny()
    with pytest.raises(KeyError, match="xyz"):
        model.wv["xyz"]


def test_refused_calls_leave_the_model_and_its_file_intact(tmp_path):
    model = _tiny()
    path = tmp_path / "w2v.safetensors"
    model.save(path)
    saved = path.read_bytes()
    before = _vectors(model)
    with pytest.raises(TypeError):
        model.train("not a corpus", total_examples=9, epochs=1)
    with pytest.raises(FileNotFoundError):
        model.train(corpus_file=tmp_path / "missing.txt", total_examples=9, epochs=1)
    np.testing.assert_array_equal(_vectors(model), before)
    assert path.read_bytes() == saved
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(saved[: len(saved) // 2])
    with pytest.raises(ValueError, match="damaged.safetensors"):
        Word2Vec.load(damaged)
    assert path.read_bytes() == saved and sorted(os.listdir(tmp_path)) == [
        "damaged.safetensors", "w2v.safetensors"]


def test_loading_a_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    xpnet.save({"weight": xpnet.ones(2)}, path)
    with pytest.raises(ValueError, match="holds no Word2Vec model") as info:
        Word2Vec.load(path)
    assert isinstance(info.value, AttributeError)  # gensim's error for the wrong kind of file


# -- growing a trained model (build_vocab(update=True)) -------------------------------------------

NEW_TEXTS = [["computer", "artificial", "intelligence"], ["artificial", "trees"],
             ["human", "intelligence"], ["artificial", "graph"], ["intelligence"],
             ["artificial", "intelligence", "system"]]


def _gensim_model(*args, **settings):
    gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
    logging.getLogger("gensim").setLevel(logging.ERROR)
    return gensim_word2vec.Word2Vec(*args, **settings)


@pytest.mark.parametrize("mode", ["sg-hs", "cbow-ns"])
def test_initial_and_grown_rows_are_gensims(backend, mode):
    settings = {"vector_size": 10, "min_count": 0, "seed": 42, "workers": 1, **MODES[mode]}
    fresh = Word2Vec(**settings)
    fresh.build_vocab(COMMON_TEXTS)
    theirs = _gensim_model(**settings)
    theirs.build_vocab(COMMON_TEXTS)
    np.testing.assert_array_equal(_vectors(fresh), theirs.wv.vectors)  # the same numbers

    ours = Word2Vec(COMMON_TEXTS, **settings)
    theirs.train(COMMON_TEXTS, total_examples=theirs.corpus_count, epochs=theirs.epochs)
    ours.wv.vectors_lockf = [0.5] * 12
    trained = _vectors(ours)
    for model in (ours, theirs):
        model.build_vocab(NEW_TEXTS, update=True)
    assert ours.wv.index_to_key == theirs.wv.index_to_key and len(ours.wv) == 14
    grown = _vectors(ours)
    np.testing.assert_array_equal(grown[:12], trained)  # trained rows kept
    np.testing.assert_array_equal(grown[12:], theirs.wv.vectors[12:])  # new rows: gensim's
    to_host = ours.wv.backend.to_numpy
    for name in ("syn1", "syn1neg"):
        if getattr(ours, name) is not None:
            assert getattr(ours, name).shape == (14, 10)
            assert not to_host(getattr(ours, name))[12:].any()
    np.testing.assert_array_equal(to_host(ours.wv.vectors_lockf), [0.5] * 12 + [1.0] * 2)
    assert backend_of_array(ours.wv.vectors_lockf) is ours.wv.backend
    ours.train(NEW_TEXTS, total_examples=ours.corpus_count, epochs=ours.epochs)


def test_training_after_growth_moves_old_and_new_words_only_where_used():
    model = _tiny(**MODES["sg-ns"])
    model.build_vocab(NEW_TEXTS, update=True)
    before = _vectors(model)
    model.train(NEW_TEXTS, total_examples=model.corpus_count, epochs=3)
    after = _vectors(model)
    seen = {word for sentence in NEW_TEXTS for word in sentence}
    for word, row in model.wv.key_to_index.items():
        moved = not np.array_equal(before[row], after[row])
        # Skip-gram moves the vector of every context word, old ("graph") or new; the others
        # (every word of the new corpus has a neighbour here) stay as they were.
        assert moved == (word in seen), word
    assert {"artificial", "intelligence"} <= set(model.wv.index_to_key[12:])


def test_save_load_after_growth_then_continue(tmp_path):
    model = _tiny(**MODES["cbow-sum-both"], workers=1)
    model.build_vocab(NEW_TEXTS, update=True)
    path = tmp_path / "grown.safetensors"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    assert loaded.wv.expandos["code"] == model.wv.expandos["code"]
    np.testing.assert_array_equal(np.asarray(loaded.wv.vectors_lockf), np.ones(14))
    for m in (model, loaded):
        m.train(NEW_TEXTS, total_examples=m.corpus_count, epochs=2)
    np.testing.assert_array_equal(_vectors(loaded), _vectors(model))
    loaded.build_vocab([["brand", "new", "words"]], update=True)
    assert len(loaded.wv) == 17


def test_vectors_lockf_is_one_factor_per_word_and_zero_freezes_a_row():
    model = Word2Vec(**{**TINY, **MODES["sg-ns"]})
    model.build_vocab(COMMON_TEXTS)
    lockf = model.wv.vectors_lockf
    assert lockf.shape == (12,) and lockf.dtype == model.wv.backend.xp.float32
    assert np.all(np.asarray(lockf) == 1)
    model.wv.vectors_lockf[0] = 0.0  # as gensim's users do
    before = _vectors(model)
    model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=2)
    after = _vectors(model)
    np.testing.assert_array_equal(after[0], before[0])
    assert np.abs(after[1:] - before[1:]).max() > 1e-5


# -- using a trained model -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lee_pair():
    """gensim models (hs and negative sampling) trained on 150 lines of the Lee corpus, and ours
    with the same vocabulary and gensim's weights copied in, for each mode."""
    lee = list(LineSentence(LEE))[:150]
    pairs = {}
    for sg, cbow_mean in ((1, 1), (0, 1), (0, 0)):
        settings = {"vector_size": 16, "min_count": 2, "hs": 1, "negative": 5, "sg": sg,
                    "cbow_mean": cbow_mean, "window": 4, "seed": 3}
        theirs = _gensim_model(lee, workers=1, epochs=3, **settings)
        ours = Word2Vec(**settings)
        ours.build_vocab(lee)
        assert ours.wv.index_to_key == theirs.wv.index_to_key
        ours.wv.vectors, ours.syn1, ours.syn1neg = (theirs.wv.vectors.copy(), theirs.syn1.copy(),
                                                    theirs.syn1neg.copy())
        pairs[sg, cbow_mean] = ours, theirs
    return lee, pairs


@pytest.mark.parametrize("mode", [(1, 1), (0, 1), (0, 0)])
def test_score_matches_gensim(lee_pair, mode):
    lee, pairs = lee_pair
    ours, theirs = pairs[mode]
    sentences = lee[:40] + [["the"], [], ["unknown", "words", "the", "a"]]
    want = theirs.score(sentences, total_sentences=len(sentences))
    got = ours.score(sentences, total_sentences=len(sentences), chunksize=7)
    assert backend_of_array(got) is ours.wv.backend and got.dtype == ours.wv.vectors.dtype
    # float32 sums of a few thousand table entries, in another order than gensim's.
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)


def test_score_on_the_array_api_backend_matches_numpy(lee_pair, tmp_path):
    lee, pairs = lee_pair
    ours, _ = pairs[0, 1]
    path = tmp_path / "m.safetensors"
    ours.save(path)
    strict = Word2Vec.load(path, backend="array_api_strict:device1")
    np.testing.assert_allclose(strict.wv.backend.to_numpy(strict.score(lee[:20])),
                               np.asarray(ours.score(lee[:20])), rtol=1e-5)


def test_score_limits_and_refusals(lee_pair, caplog):
    lee, pairs = lee_pair
    ours, _ = pairs[1, 1]
    with caplog.at_level(logging.WARNING, logger="xpnet.word2vec"):
        assert ours.score(lee[:30], total_sentences=10).shape == (10,)
    assert "terminating after 10 sentences" in caplog.text
    with pytest.raises(RuntimeError, match="only implemented score for the hierarchical"):
        _tiny(**MODES["sg-ns"]).score(COMMON_TEXTS)
    with pytest.raises(RuntimeError, match="first build vocabulary"):
        Word2Vec(hs=1).score(COMMON_TEXTS)


def test_predict_output_word_matches_gensim(lee_pair):
    _, pairs = lee_pair
    for ours, theirs in pairs.values():
        for context in (["war", "terrorism", "the"], ["Australia"], ["the", 5, "zzz"]):
            want = theirs.predict_output_word(context, topn=12)
            got = ours.predict_output_word(context, topn=12)
            assert [w for w, _ in got] == [w for w, _ in want]
            np.testing.assert_allclose([p for _, p in got], [p for _, p in want], rtol=1e-5)


def test_predict_output_word_refusals_and_unknown_words(caplog, tmp_path):
    model = _tiny(**MODES["sg-ns"])
    with caplog.at_level(logging.WARNING, logger="xpnet.word2vec"):
        assert model.predict_output_word(["some", "random", "words"]) is None
    assert "All the input context words are out-of-vocabulary" in caplog.text
    words = model.predict_output_word(["system", "human"], topn=5)
    assert model.predict_output_word([model.wv.get_index("system"), "human"], topn=5) == words
    with pytest.raises(RuntimeError, match="negative sampling scheme"):
        _tiny(**MODES["sg-hs"]).predict_output_word(["system"])
    model.wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    bare = Word2Vec()
    bare.wv = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True)
    with pytest.raises(RuntimeError, match="parameters required for predicting"):
        bare.predict_output_word(["system"])


def test_reset_from_shares_the_vocabulary_and_starts_from_gensims_fresh_weights():
    ours = Word2Vec(COMMON_TEXTS, min_count=1, vector_size=6, seed=5)
    other = Word2Vec(NEW_TEXTS, min_count=1, vector_size=6)
    ours.reset_from(other)
    assert ours.wv.key_to_index is other.wv.key_to_index
    assert ours.wv.index_to_key is other.wv.index_to_key
    assert ours.cum_table is other.cum_table and ours.corpus_count == other.corpus_count
    theirs = _gensim_model(COMMON_TEXTS, min_count=1, vector_size=6, seed=5, workers=1)
    theirs.reset_from(_gensim_model(NEW_TEXTS, min_count=1, vector_size=6, workers=1))
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    np.testing.assert_array_equal(_vectors(ours), theirs.wv.vectors)
    assert not np.asarray(ours.syn1neg).any()
    ours.train(NEW_TEXTS, total_examples=ours.corpus_count, epochs=1)


@pytest.mark.parametrize("settings", [{}, {"hs": 1, "negative": 0, "vector_size": 30},
                                      {"hs": 1, "negative": 3}])
def test_estimate_memory_matches_gensim(settings):
    ours, theirs = Word2Vec(min_count=1, **settings), _gensim_model(min_count=1, **settings)
    ours.build_vocab(COMMON_TEXTS)
    theirs.build_vocab(COMMON_TEXTS)
    assert ours.estimate_memory() == theirs.estimate_memory()
    assert ours.estimate_memory(vocab_size=1000, report={"extra": 1}) == \
        theirs.estimate_memory(vocab_size=1000, report={"extra": 1})


# -- gensim's warnings, logged as gensim logs them ------------------------------------------------

def test_gensims_training_warnings_are_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="xpnet.word2vec"):
        model = Word2Vec(COMMON_TEXTS, **{**TINY, "hs": 1, "negative": 5})
        assert "Both hierarchical softmax and negative sampling are activated" in caplog.text
        assert "Effective 'alpha'" not in caplog.text
        model.alpha = 0.05  # higher than the rate the last job reached
        model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=1)
        assert "Effective 'alpha' higher than previous training cycles" in caplog.text
        fresh = Word2Vec(**TINY)
        fresh.build_vocab(COMMON_TEXTS)
        fresh.train([], total_examples=9, epochs=1)
        assert "train() called with an empty iterator" in caplog.text
        Word2Vec(trim_rule=lambda *args: 0, callbacks=[CallbackAny2Vec()])
    assert "trim_rule provided, if any, will be ignored" in caplog.text
    assert "callbacks provided in this initialization without triggering train" in caplog.text
    assert all(r.name.startswith("xpnet.word2vec") and r.levelno == logging.WARNING
               for r in caplog.records)


# -- loading ---------------------------------------------------------------------------------------

def test_load_on_an_instance_or_the_wrong_file_fails_as_gensim(tmp_path):
    model = _tiny()
    model_path, kv_path = tmp_path / "model.safetensors", tmp_path / "kv.safetensors"
    model.save(model_path, sep_limit=0)  # gensim's keywords are accepted
    model.wv.save(kv_path)
    with pytest.raises(AttributeError, match="call it on the class"):
        Word2Vec().load(model_path)
    assert Word2Vec.load(model_path).wv.index_to_key == model.wv.index_to_key
    with pytest.raises(WrongFileError, match="holds KeyedVectors: use KeyedVectors.load"):
        Word2Vec.load(kv_path)
    with pytest.raises(AttributeError, match=r"Word2Vec.load\(path\).wv holds its vectors"):
        KeyedVectors.load(model_path)
    with pytest.raises(ValueError, match="is a pickle, as gensim's save.. writes; xpnet never "
                                         "unpickles.*save_word2vec_format"):
        Word2Vec.load(gensim_utils.datapath("word2vec_old"))


def _data_offset(path, name):
    import json
    import struct
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return 8 + length + json.loads(data[8:8 + length])[name]["data_offsets"][0]


def test_load_with_mmap_maps_the_weights_read_only(tmp_path):
    model = _tiny(**MODES["cbow-sum-both"])
    path = tmp_path / "model.safetensors"
    model.save(path)
    mapped = Word2Vec.load(path, mmap="r")
    for name in ("syn1", "syn1neg"):
        np.testing.assert_array_equal(getattr(mapped, name), np.asarray(getattr(model, name)))
        assert not getattr(mapped, name).flags.writeable
    vectors = mapped.wv.vectors
    np.testing.assert_array_equal(vectors, _vectors(model))
    assert isinstance(vectors, np.ndarray) and not vectors.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        vectors[0, 0] = 1.0
    assert mapped.wv.most_similar("graph", topn=3) == model.wv.most_similar("graph", topn=3)
    # Really a map of the file: bytes written to it afterwards show through.
    with open(path, "r+b") as f:
        f.seek(_data_offset(path, "vectors"))
        f.write(np.float32(123.5).tobytes())
    assert vectors[0, 0] == 123.5
    with pytest.raises(ValueError, match="wv.vectors is read-only .*load with mmap='c'"):
        mapped.train(COMMON_TEXTS, total_examples=mapped.corpus_count, epochs=1)
    private = Word2Vec.load(path, mmap="c")
    private.wv.vectors[1, 1] = -7.0  # copy-on-write: writable, the file keeps its bytes
    private.train(COMMON_TEXTS, total_examples=private.corpus_count, epochs=1)
    assert Word2Vec.load(path).wv.vectors[1, 1] != -7.0
    with pytest.raises(ValueError, match="mmap='r' maps the file into NumPy arrays"):
        Word2Vec.load(path, mmap="r", backend="array_api_strict")
    with pytest.raises(ValueError, match="expected mmap None, 'r'"):
        Word2Vec.load(path, mmap="w+")
