"""`Word2Vec`: training on every backend, reproducibility, continued training, save/load, callbacks,
the loss, the progress bar and bad input. Tiny corpora (gensim's common_texts) keep it fast; the
vocabulary rules are checked against gensim in test_word2vec_vocab.py and the update kernel in
test_word2vec_kernels.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

import xpnet
from xpnet.backend import backend_of_array
from xpnet.backend import load as load_backend
from xpnet.word2vec import Word2Vec
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

def test_empty_corpus_is_refused():
    with pytest.raises(ValueError, match="no word is left.*corpus is empty"):
        Word2Vec([], min_count=1)


def test_min_count_removing_every_word_is_refused():
    with pytest.raises(ValueError, match="none seen at least min_count=100"):
        Word2Vec(COMMON_TEXTS, min_count=100)


def test_plain_string_corpus_is_refused():
    with pytest.raises(TypeError, match="got a plain str"):
        Word2Vec("human interface computer", min_count=1)
    with pytest.raises(TypeError, match="each sentence to be a list of str tokens"):
        Word2Vec(["human interface computer", "survey user"], min_count=1)


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
    with pytest.raises(ValueError, match="holds no Word2Vec model"):
        Word2Vec.load(path)
