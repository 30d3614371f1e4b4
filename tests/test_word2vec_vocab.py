"""Vocabulary, downsampling thresholds, negative-sampling table and Huffman tree against gensim 4
on a real corpus (gensim's lee_background.cor, 60k words): built, grown (update=True) and through
the model's public steps scan_vocab and prepare_vocab."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from xpnet.word2vec import EmptyVocabularyError, Word2Vec
from xpnet.word2vec.corpus import LineSentence
from xpnet.word2vec.huffman import huffman_codes, padded_paths
from xpnet.word2vec.vocab import (RULE_DEFAULT, RULE_DISCARD, RULE_KEEP, cumulative_table,
                                  prepare_vocab, scan_vocab, update_vocab)

gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
gensim_utils = pytest.importorskip("gensim.test.utils")

LEE = gensim_utils.datapath("lee_background.cor")


@pytest.fixture(scope="module")
def lee():
    return list(LineSentence(LEE))


def _gensim_vocab(sentences, trim_rule=None, **settings):
    import logging
    logging.getLogger("gensim").setLevel(logging.ERROR)
    model = gensim_word2vec.Word2Vec(**settings)
    model.build_vocab(sentences, trim_rule=trim_rule)
    return model


def _ours(sentences, *, min_count=5, sample=1e-3, max_vocab_size=None, max_final_vocab=None,
          trim_rule=None, null_word=False, sorted_vocab=True):
    raw, total_words, corpus_count = scan_vocab(sentences, max_vocab_size, trim_rule)
    vocab = prepare_vocab(raw, min_count=min_count, max_final_vocab=max_final_vocab,
                          sample=sample, sorted_vocab=sorted_vocab, null_word=null_word,
                          trim_rule=trim_rule)
    return vocab, total_words, corpus_count


def _assert_same_vocab(vocab, model):
    assert vocab.index_to_key == model.wv.index_to_key
    assert vocab.counts == [int(c) for c in model.wv.expandos["count"]]
    assert vocab.sample_int == [int(s) for s in model.wv.expandos["sample_int"]]


def test_line_sentence_matches_gensim(lee):
    assert lee == list(gensim_word2vec.LineSentence(LEE))


def test_line_sentence_splits_long_lines_as_gensim(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(" ".join(f"w{i}" for i in range(25)) + "\nshort line\n")
    ours = list(LineSentence(path, max_sentence_length=10))
    assert ours == list(gensim_word2vec.LineSentence(str(path), max_sentence_length=10))
    assert [len(s) for s in ours] == [10, 10, 5, 2]


def test_counts_order_and_sample_int_match_gensim(lee):
    model = _gensim_vocab(lee, min_count=5, sample=1e-3)
    vocab, total_words, corpus_count = _ours(lee)
    assert (total_words, corpus_count) == (model.corpus_total_words, model.corpus_count)
    _assert_same_vocab(vocab, model)
    assert vocab.key_to_index == model.wv.key_to_index
    counts = vocab.counts
    assert all(a >= b for a, b in zip(counts, counts[1:])), "not sorted by descending count"


@pytest.mark.parametrize("settings", [
    {"min_count": 1, "sample": 0},
    {"min_count": 2, "sample": 5},          # sample >= 1: an absolute count threshold
    {"min_count": 3, "max_vocab_size": 2000},  # pruning while counting
    {"min_count": 1, "max_final_vocab": 500},
    {"min_count": 5, "null_word": 1},
    {"min_count": 5, "sorted_vocab": 0},
])
def test_vocab_settings_match_gensim(lee, settings):
    model = _gensim_vocab(lee, **settings)
    vocab, _, _ = _ours(lee, **settings)
    _assert_same_vocab(vocab, model)
    assert vocab.effective_min_count == model.effective_min_count


def test_trim_rule_matches_gensim(lee):
    def rule(word, count, min_count):
        if word.startswith("th"):
            return RULE_DISCARD
        if len(word) > 12:
            return RULE_KEEP
        return RULE_DEFAULT

    model = _gensim_vocab(lee, min_count=5, trim_rule=rule)
    vocab, _, _ = _ours(lee, min_count=5, trim_rule=rule)
    _assert_same_vocab(vocab, model)
    assert not any(w.startswith("th") for w in vocab.index_to_key)


@pytest.mark.parametrize("ns_exponent", [0.75, 0.0, -0.5])
def test_cum_table_matches_gensim(lee, ns_exponent):
    model = _gensim_vocab(lee, min_count=5, ns_exponent=ns_exponent)
    vocab, _, _ = _ours(lee)
    assert cumulative_table(vocab.counts, ns_exponent) == [int(x) for x in model.cum_table]


@pytest.mark.parametrize("min_count", [5, 1])
def test_huffman_codes_and_points_match_gensim(lee, min_count):
    model = _gensim_vocab(lee, min_count=min_count, hs=1, negative=0)
    vocab, _, _ = _ours(lee, min_count=min_count)
    codes, points = huffman_codes(vocab.counts)
    for i, word in enumerate(vocab.index_to_key):
        assert codes[i] == [int(c) for c in model.wv.get_vecattr(word, "code")], word
        assert points[i] == [int(p) for p in model.wv.get_vecattr(word, "point")], word


def test_huffman_codes_are_prefix_free_and_frequent_words_short():
    counts = [50, 20, 20, 5, 3, 1, 1]
    codes, points = huffman_codes(counts)
    strings = ["".join(map(str, c)) for c in codes]
    assert not any(a != b and b.startswith(a) for a in strings for b in strings)
    assert len(codes[0]) <= min(len(c) for c in codes)
    assert all(p[0] == len(counts) - 2 for p in points), "paths start at the root"
    table_points, table_codes, mask = padded_paths(codes, points)
    assert np.array(mask).sum() == sum(len(c) for c in codes)
    assert np.array(table_points).shape == (len(counts), max(len(c) for c in codes))


def test_huffman_one_word_has_an_empty_code():
    codes, points = huffman_codes([7])
    assert codes == [[]] and points == [[]]
    assert padded_paths(codes, points)[2] == [[0]]


def test_no_word_left_is_a_clear_error_and_gensims_runtime_error():
    with pytest.raises(ValueError, match="no word is left.*min_count=10") as info:
        prepare_vocab({"a": 2, "b": 3}, min_count=10)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, EmptyVocabularyError)
    with pytest.raises(RuntimeError, match="corpus is empty"):
        prepare_vocab({}, min_count=1)
    assert prepare_vocab({}, min_count=1, allow_empty=True).index_to_key == []


def test_a_bytes_sentence_is_refused():
    with pytest.raises(TypeError, match="build_vocab: expected each sentence to be a list"):
        scan_vocab([b"the cat sat"])


# -- scan_vocab and prepare_vocab as the model's public steps ------------------------------------

@pytest.mark.parametrize("settings, override", [
    ({"min_count": 4, "max_final_vocab": 4, "sample": 0}, {}),
    ({"min_count": 2, "max_final_vocab": 4, "sample": 0}, {}),
    ({"min_count": 5, "sample": 1e-3}, {"min_count": 2, "sample": 1e-4}),
    ({"min_count": 1, "sample": 1e-3, "null_word": 1}, {}),
])
def test_scan_and_prepare_vocab_report_as_gensim(lee, settings, override):
    ours, theirs = Word2Vec(**settings), _quiet_gensim(**settings)
    assert ours.scan_vocab(lee[:200]) == theirs.scan_vocab(lee[:200])
    assert ours.raw_vocab == dict(theirs.raw_vocab)
    assert ours.prepare_vocab(dry_run=True, **override) == \
        theirs.prepare_vocab(dry_run=True, **override)
    assert ours.wv.index_to_key == [] and ours.raw_vocab  # a dry run changes nothing
    assert ours.prepare_vocab(**override) == theirs.prepare_vocab(**override)
    _assert_same_model_vocab(ours, theirs)
    assert (ours.effective_min_count, ours.min_count, ours.sample) == (
        theirs.effective_min_count, theirs.min_count, theirs.sample)
    assert ours.raw_vocab == {}  # deleted unless keep_raw_vocab, as gensim


# -- growing a vocabulary (build_vocab(update=True)) ---------------------------------------------

def _quiet_gensim(**settings):
    logging.getLogger("gensim").setLevel(logging.ERROR)
    return gensim_word2vec.Word2Vec(**settings)


def _assert_same_model_vocab(ours, theirs):
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert ours.wv.expandos["count"] == [int(c) for c in theirs.wv.expandos["count"]]
    assert ours.wv.expandos["sample_int"] == [int(s) for s in theirs.wv.expandos["sample_int"]]
    if theirs.negative:
        np.testing.assert_array_equal(ours.wv.backend.to_numpy(ours.cum_table), theirs.cum_table)
    if theirs.hs:
        assert ours.wv.expandos["code"] == [list(map(int, c)) for c in theirs.wv.expandos["code"]]
        assert ours.wv.expandos["point"] == [list(map(int, p))
                                             for p in theirs.wv.expandos["point"]]


@pytest.mark.parametrize("settings", [
    {"min_count": 3, "sample": 1e-3, "hs": 1, "negative": 5},
    {"min_count": 1, "sample": 0, "hs": 1, "negative": 0, "ns_exponent": 0.5},
    {"min_count": 2, "sample": 5, "max_final_vocab": 800},
    {"min_count": 5, "sample": 1e-4, "sorted_vocab": 0},
])
def test_update_grows_the_vocabulary_as_gensim(lee, settings):
    first, second = lee[:150], lee[150:300]
    ours = Word2Vec(vector_size=4, **settings)
    theirs = _quiet_gensim(vector_size=4, **settings)
    for model in (ours, theirs):
        model.build_vocab(first)
    before = list(ours.wv.index_to_key)
    for model in (ours, theirs):
        model.build_vocab(second, update=True)
    _assert_same_model_vocab(ours, theirs)
    assert ours.wv.index_to_key[:len(before)] == before  # old words keep their index
    assert len(ours.wv.index_to_key) > len(before)
    assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count,
                                                           theirs.corpus_total_words)
    assert ours.effective_min_count == theirs.effective_min_count


def test_update_with_a_trim_rule_and_dry_run_reports_as_gensim(lee):
    def rule(word, count, min_count):
        return RULE_DISCARD if word.startswith("a") else RULE_DEFAULT

    ours, theirs = Word2Vec(min_count=2), _quiet_gensim(min_count=2)
    for model in (ours, theirs):
        model.build_vocab(lee[:100])
        model.scan_vocab(lee[100:250])
    assert ours.prepare_vocab(update=True, dry_run=True, trim_rule=rule) == \
        theirs.prepare_vocab(update=True, dry_run=True, trim_rule=rule)
    assert ours.prepare_vocab(update=True, trim_rule=rule) == \
        theirs.prepare_vocab(update=True, trim_rule=rule)
    _assert_same_model_vocab(ours, theirs)


def test_update_from_frequencies_as_gensim():
    freq = {"minors": 2, "graph": 3, "system": 4, "trees": 3, "eps": 2, "computer": 2}
    more = {"computer": 1, "artificial": 4, "graph": 1, "intelligence": 4, "trees": 1}
    for hs, negative in ((1, 0), (0, 5)):
        ours = Word2Vec(vector_size=4, min_count=0, hs=hs, negative=negative)
        theirs = _quiet_gensim(vector_size=4, min_count=0, hs=hs, negative=negative)
        for model in (ours, theirs):
            model.build_vocab_from_freq(freq, corpus_count=3)
            model.build_vocab_from_freq(more, update=True, corpus_count=2)
        _assert_same_model_vocab(ours, theirs)
        assert ours.wv.get_vecattr("graph", "count") == 4 and len(ours.wv) == 8


def test_update_refuses_a_model_without_vocabulary():
    model = Word2Vec(min_count=1)
    for call in (lambda: model.build_vocab([["a", "b"]], update=True),
                 lambda: model.build_vocab_from_freq({"a": 1}, update=True)):
        with pytest.raises(RuntimeError, match="has no vocabulary yet") as info:
            call()
        assert isinstance(info.value, EmptyVocabularyError)


def test_update_vocab_adds_the_null_word_once():
    grown = update_vocab(["a", "\0"], [5, 1], [7, 0], {"a": 2, "b": 3}, min_count=1,
                         null_word=True)
    assert grown.index_to_key == ["a", "\0", "b"] and grown.counts == [7, 1, 3]
    assert grown.new_words == 1


def test_missing_corpus_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        LineSentence(tmp_path / "nope.txt")
