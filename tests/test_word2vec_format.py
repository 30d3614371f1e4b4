"""The word2vec C tool's vector files (xpnet/word2vec/formats.py): both ways with gensim 4.4,
text and binary, plain and compressed; the real files gensim ships; truncated, corrupt and
inconsistent files named with their line or byte offset; saves that never damage a file."""

from __future__ import annotations

import array
import gc
import gzip
import io
import os
import struct
import warnings

import numpy as np
import pytest

import xpnet
from xpnet.word2vec import FileDecodeError, KeyedVectors, TruncatedFileError

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
from gensim.test.utils import datapath  # noqa: E402

FORMS = [(False, ""), (True, ""), (False, ".gz"), (True, ".gz"), (True, ".bz2")]


def _form_id(form):
    return ("binary" if form[0] else "text") + form[1]


@pytest.fixture(scope="module")
def vocabulary():
    """Real keys (lee_background.cor's first 800 distinct tokens, punctuation and all) with
    descending counts and random float32 vectors, including values that need 9 digits."""
    words = []
    with open(datapath("lee_background.cor"), encoding="utf8") as f:
        for line in f:
            for word in line.split():
                if word not in words:
                    words.append(word)
            if len(words) >= 800:
                break
    words = words[:800] + ["zwölf", "日本語"]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(words), 12)).astype(np.float32)
    vectors[0, :3] = [1e-30, -3.4e38, 0.0]
    counts = list(range(len(words) * 10, 0, -10))
    return words, vectors, counts


def _gensim_kv(words, vectors, counts=None):
    g = gensim_kv.KeyedVectors(vectors.shape[1])
    g.add_vectors(words, vectors)
    if counts is not None:
        for word, count in zip(words, counts):
            g.set_vecattr(word, "count", count)
    return g


def _xpnet_kv(words, vectors, counts=None):
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors, extras=None if counts is None else {"count": counts})
    return kv


def _host(kv):
    return kv.backend.to_numpy(kv.vectors)


# -- interoperability with gensim ----------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS, ids=_form_id)
def test_reads_what_gensim_writes(backend, tmp_path, vocabulary, form):
    binary, suffix = form
    words, vectors, counts = vocabulary
    path = str(tmp_path / f"vectors{suffix}")
    _gensim_kv(words, vectors, counts).save_word2vec_format(path, binary=binary)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert kv.backend is xpnet.backend.load(backend)
    assert xpnet.backend.backend_of_array(kv.vectors) is kv.backend
    assert kv.index_to_key == words and kv.vector_size == 12
    np.testing.assert_array_equal(_host(kv), vectors)


@pytest.mark.parametrize("form", FORMS, ids=_form_id)
def test_gensim_reads_what_xpnet_writes(backend, tmp_path, vocabulary, form):
    binary, suffix = form
    words, vectors, counts = vocabulary
    path = str(tmp_path / f"vectors{suffix}")
    _xpnet_kv(words, vectors, counts).save_word2vec_format(path, binary=binary)
    g = gensim_kv.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert g.index_to_key == words
    np.testing.assert_array_equal(g.vectors, vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_files_are_byte_identical_to_gensims(tmp_path, vocabulary, binary):
    words, vectors, counts = vocabulary
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    _xpnet_kv(words, vectors, counts).save_word2vec_format(ours, binary=binary)
    _gensim_kv(words, vectors, counts).save_word2vec_format(str(theirs), binary=binary)
    assert ours.read_bytes() == theirs.read_bytes()


def test_keys_are_written_by_descending_count_with_their_vocabulary_file(backend, tmp_path):
    words, counts = ["b", "a", "c"], [5, 9, 1]
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    path, vocab = tmp_path / "v.txt", tmp_path / "vocab.txt"
    _xpnet_kv(words, vectors, counts).save_word2vec_format(path, fvocab=vocab)
    assert vocab.read_text(encoding="utf8") == "a 9\nb 5\nc 1\n"
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(path), fvocab=str(vocab))
    kv = KeyedVectors.load_word2vec_format(path, fvocab=vocab)
    assert kv.index_to_key == g.index_to_key == ["a", "b", "c"]
    assert kv.expandos["count"] == list(g.expandos["count"]) == [9, 5, 1]
    np.testing.assert_array_equal(_host(kv), g.vectors)


def test_without_counts_keeps_index_order_and_makes_up_counts_like_gensim(tmp_path):
    kv = KeyedVectors(2)
    kv.add_vectors(["x", "y", "z"], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    got = KeyedVectors.load_word2vec_format(path)
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(path))
    assert got.index_to_key == g.index_to_key == ["x", "y", "z"]
    assert got.expandos["count"] == list(g.expandos["count"]) == [3, 2, 1]
    with pytest.raises(ValueError, match="cannot store the vocabulary .* by 'count'"):
        kv.save_word2vec_format(path, fvocab=tmp_path / "vocab.txt")


def test_header_prefix_append_and_total_vec_follow_gensim(tmp_path):
    kv = _xpnet_kv(["a", "b"], np.ones((2, 3), np.float32), [2, 1])
    g = _gensim_kv(["a", "b"], np.ones((2, 3), np.float32), [2, 1])
    for options in (dict(write_header=False), dict(prefix="doc_"), dict(total_vec=4)):
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        kv.save_word2vec_format(ours, **options)
        g.save_word2vec_format(str(theirs), **options)
        assert ours.read_bytes() == theirs.read_bytes(), options
    kv.save_word2vec_format(ours, total_vec=4)
    kv.save_word2vec_format(ours, prefix="more_", write_header=False, append=True)
    got = KeyedVectors.load_word2vec_format(ours)
    assert got.index_to_key == ["a", "b", "more_a", "more_b"]


@pytest.mark.parametrize("name, options", [
    ("word2vec_pre_kv_c", {}),  # the C tool's text output, trailing spaces and all
    ("euclidean_vectors.bin", {"binary": True}),  # the C tool's binary output
    ("lee_fasttext.vec", {}),
    ("crime-and-punishment.vec", {}),  # Cyrillic keys
    ("high_precision.kv.bin", {"binary": True}),
    ("test_glove.txt", {"no_header": True}),
    ("w2v_keyedvectors_load_test.modeldata",
     {"fvocab": datapath("w2v_keyedvectors_load_test.vocab"), "unicode_errors": "replace"}),
    ("w2v_keyedvectors_load_test.modeldata",
     {"fvocab": datapath("w2v_keyedvectors_load_test.vocab"), "unicode_errors": "ignore"}),
    ("euclidean_vectors.bin", {"binary": True, "limit": 100}),
    ("lee_fasttext.vec", {"limit": 7, "datatype": "float64"}),
])
def test_real_files_shipped_with_gensim_read_as_gensim_reads_them(backend, name, options):
    g_options = dict(options)
    if "datatype" in g_options:
        g_options["datatype"] = getattr(np, g_options["datatype"])
    with warnings.catch_warnings():
        # gensim 4.4 leaves its first pass's file open with no_header=True.
        warnings.simplefilter("ignore", ResourceWarning)
        g = gensim_kv.KeyedVectors.load_word2vec_format(datapath(name), **g_options)
        gc.collect()
    kv = KeyedVectors.load_word2vec_format(datapath(name), **options)
    assert kv.index_to_key == g.index_to_key
    assert kv.expandos["count"] == list(g.expandos["count"])
    got = _host(kv)
    assert got.dtype == g.vectors.dtype
    np.testing.assert_array_equal(got, g.vectors)


def test_reading_binary_accepts_the_c_tools_newlines(tmp_path):
    # word2vec.c writes '\n' after every binary vector; gensim writes none.
    values = np.asarray([[1.5, -2.0], [0.25, 8.0]], dtype="<f4")
    path = tmp_path / "c.bin"
    path.write_bytes(b"2 2\n" + b"".join(w + b" " + v.tobytes() + b"\n"
                                         for w, v in zip((b"alpha", b"beta"), values)))
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["alpha", "beta"]
    np.testing.assert_array_equal(_host(kv), values)


@pytest.mark.parametrize("binary", [False, True])
def test_empty_vectors_round_trip(backend, tmp_path, binary):
    path = tmp_path / "empty"
    KeyedVectors(5).save_word2vec_format(path, binary=binary)
    assert path.read_bytes() == b"0 5\n"
    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert len(kv) == 0 and tuple(kv.vectors.shape) == (0, 5)


def test_duplicate_keys_keep_the_first_like_gensim(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("3 2\na 1 2\nb 3 4\na 5 6\n", encoding="utf8")
    kv = KeyedVectors.load_word2vec_format(path)
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(path))
    # gensim 4.4 leaves a None key and a zero row for the dropped duplicate; we do not.
    assert kv.index_to_key == [key for key in g.index_to_key if key is not None] == ["a", "b"]
    np.testing.assert_array_equal(_host(kv), g.vectors[:2])


# -- damaged and inconsistent files --------------------------------------------------------------

def _binary_file(tmp_path, count=3, size=4):
    kv = _xpnet_kv([f"w{i}" for i in range(count)],
                   np.arange(count * size, dtype=np.float32).reshape(count, size))
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    return path, path.read_bytes()


def test_truncated_binary_file_names_the_byte_offset(tmp_path):
    path, data = _binary_file(tmp_path)
    path.write_bytes(data[:-5])  # the last vector loses 5 of its 16 bytes
    offset = len(data) - 16
    with pytest.raises(ValueError, match=rf"v.bin is truncated at byte offset {offset}: vector 3 "
                                         rf"of 3 \('w2'\) needs 16 bytes of float32, only 11"):
        KeyedVectors.load_word2vec_format(path, binary=True)
    path.write_bytes(data[:len(data) - 16 - 3])  # ends inside the third key
    with pytest.raises(ValueError, match=r"truncated at byte offset \d+: expected vector 3 of 3"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_binary_header_announcing_fewer_vectors_than_follow_is_an_error(tmp_path):
    path, data = _binary_file(tmp_path)
    path.write_bytes(b"2 4\n" + data[len(b"3 4\n"):])
    with pytest.raises(ValueError, match=r"byte offset \d+: the header announces 2 vectors but "
                                         r"more data follows"):
        KeyedVectors.load_word2vec_format(path, binary=True)
    assert len(KeyedVectors.load_word2vec_format(path, binary=True, limit=2)) == 2


@pytest.mark.parametrize("wrong_size", [3, 5])
def test_binary_header_with_the_wrong_vector_size_is_an_error(tmp_path, wrong_size):
    path, data = _binary_file(tmp_path)
    path.write_bytes(f"3 {wrong_size}\n".encode() + data[len(b"3 4\n"):])
    with pytest.raises(ValueError, match=rf"byte offset \d+: .*the header's vector size "
                                         rf"\({wrong_size}\) is wrong"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_corrupt_binary_key_names_the_byte_offset(tmp_path):
    path, data = _binary_file(tmp_path)
    start = len(b"3 4\n")
    path.write_bytes(data[:start] + b"\xff" + data[start + 1:])
    with pytest.raises(UnicodeDecodeError, match=rf"v.bin: byte offset {start}: cannot decode "
                                                 rf"byte b'\\xff' as utf-8 .*word 1 of 3") as info:
        KeyedVectors.load_word2vec_format(path, binary=True)
    assert isinstance(info.value, FileDecodeError) and info.value.byte_offset == start


@pytest.mark.parametrize("content, match", [
    ("3 2\na 1 2\nb 3 4\n", r"is truncated: the header announces 3 vectors but the file ends "
                            r"after line 3 \(2 vectors\)"),
    ("2 2\na 1 2\nb 3\n", r"line 3: expected a word and 2 numbers .*got 1 numbers after 'b'"),
    ("2 2\na 1 2\nb 3 4 5\n", r"line 3: expected a word and 2 numbers .*got 3 numbers"),
    ("2 2\na 1 2\nb 3 x4\n", r"line 3: expected numbers after 'b', got 'x4'"),
    ("1 2\na 1 2\nb 3 4\n", r"line 3: the header announces 1 vectors but more follow"),
    ("two 2\na 1 2\n", r"line 1: expected a header '<vector count> <vector size>'"),
    ("", r"line 1: expected a header"),
])
def test_bad_text_files_name_the_line(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf8")
    with pytest.raises(ValueError, match=match) as info:
        KeyedVectors.load_word2vec_format(path)
    assert "bad.txt" in str(info.value)


def test_text_file_with_bad_encoding_names_the_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("1 2\ncafé 1 2\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError, match=r"latin1.txt: line 2, byte offset 7: cannot "
                                                 r"decode byte b'\\xe9' as utf-8") as info:
        KeyedVectors.load_word2vec_format(path)
    assert info.value.filename == str(path) and info.value.line == 2
    kv = KeyedVectors.load_word2vec_format(path, encoding="latin-1")
    assert kv.index_to_key == ["café"]


def test_real_damaged_file_from_gensim_names_its_line():
    # gensim's pretrained.vec announces 3 vectors and holds 1 (gensim: EOFError).
    with pytest.raises(ValueError, match=r"pretrained.vec is truncated: the header announces 3 "
                                         r"vectors but the file ends after line 2"):
        KeyedVectors.load_word2vec_format(datapath("pretrained.vec"))


def test_bad_arguments_are_refused(tmp_path):
    path, _ = _binary_file(tmp_path)
    with pytest.raises(NotImplementedError, match="no_header=True works only for text"):
        KeyedVectors.load_word2vec_format(path, binary=True, no_header=True)
    with pytest.raises(ValueError, match="limit must be a non-negative int"):
        KeyedVectors.load_word2vec_format(path, binary=True, limit=-1)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(tmp_path / "missing.bin", binary=True)


# -- saving never damages what was there ---------------------------------------------------------

def test_a_refused_save_leaves_the_existing_file_intact(tmp_path):
    path = tmp_path / "vectors.txt"
    _xpnet_kv(["good"], np.ones((1, 2), np.float32)).save_word2vec_format(path)
    before = path.read_bytes()
    bad = _xpnet_kv(["two words"], np.ones((1, 2), np.float32))
    with pytest.raises(ValueError, match=r"key 'two words' \(row 0\) is empty or holds "
                                         r"whitespace"):
        bad.save_word2vec_format(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["vectors.txt"]  # no temporary file left


def test_an_interrupted_write_leaves_the_existing_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "vectors.bin"
    kv = _xpnet_kv(["a", "b"], np.ones((2, 2), np.float32))
    kv.save_word2vec_format(path, binary=True)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _xpnet_kv(["c"], np.zeros((1, 2), np.float32)).save_word2vec_format(path, binary=True)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["vectors.bin"]


def test_binary_values_are_little_endian_float32(tmp_path):
    kv = _xpnet_kv(["k"], np.asarray([[1.0, -2.5]], np.float32))
    path = tmp_path / "v.bin.gz"
    kv.save_word2vec_format(path, binary=True)
    data = gzip.decompress(path.read_bytes())
    assert data == b"1 2\nk " + struct.pack("<2f", 1.0, -2.5)


def test_text_numbers_are_numpys_float32_str(backend):
    # gensim writes str(np.float32); ours must read back identically and match it byte for byte.
    from xpnet.word2vec.formats import _float32_text, _float32_texts

    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.standard_normal(2000), rng.standard_normal(200) * 1e-5, rng.standard_normal(200) * 1e8,
        np.round(rng.standard_normal(200) * 100),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e6, 999999.94, 1e7, 1e16, 1e-4, 9.9999e-5, 3.4e38,
         -3.4e38, 1e-45, 1.17e-38, 123456789.0, 0.1, 0.5, 1234567.8, 123456.7]]).astype(np.float32)
    want = [str(v) for v in values]
    kv = KeyedVectors(len(values))
    kv.add_vectors(["row"], values[None, :])
    flat = array.array("f", values.tobytes())
    assert _float32_texts(kv.backend, kv.vectors, flat) == want
    assert [_float32_text(v) for v in flat] == want


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 20])
def test_binary_records_split_across_read_chunks_parse_the_same(tmp_path, vocabulary, chunk_size):
    from xpnet.word2vec.formats import _read_binary

    words, vectors, counts = vocabulary
    path = tmp_path / "v.bin"
    _xpnet_kv(words[:50], vectors[:50], counts[:50]).save_word2vec_format(path, binary=True)
    data = path.read_bytes()
    header = data.index(b"\n") + 1
    keys, raw, end, rest = _read_binary(io.BytesIO(data[header:]), header, 50, 12, "v.bin",
                                        "utf8", "strict", chunk_size=chunk_size)
    assert keys == words[:50] and end == len(data)
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4").reshape(50, 12), vectors[:50])


@pytest.mark.parametrize("binary", [False, True])
def test_limit_reads_only_the_vectors_asked_for(tmp_path, binary):
    # Everything after the first two vectors is cut off mid-record; with limit=2 that part
    # is never read, as when taking the head of a multi-gigabyte file.
    words = [f"w{i}" for i in range(1000)]
    vectors = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    path = tmp_path / "big"
    _xpnet_kv(words, vectors).save_word2vec_format(path, binary=binary)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, limit=2)
    assert kv.index_to_key == ["w0", "w1"]
    np.testing.assert_array_equal(_host(kv), vectors[:2])
    with pytest.raises(ValueError, match=r"truncated at byte offset|line 520: expected a word"):
        KeyedVectors.load_word2vec_format(path, binary=binary)


def test_damaged_gzip_stream_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "v.txt.gz"
    _xpnet_kv(["a"], np.ones((1, 3), np.float32)).save_word2vec_format(path)
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match=r"cannot read .*v.txt.gz"):
        KeyedVectors.load_word2vec_format(path)


# -- gensim's exceptions -----------------------------------------------------------------------

@pytest.mark.parametrize("binary", [False, True])
def test_a_header_announcing_more_vectors_is_gensims_eof_error_too(tmp_path, binary):
    # gensim's own check: overwrite the count "12" with "13".
    path = tmp_path / "v"
    words = [f"w{i:02d}" for i in range(12)]
    _xpnet_kv(words, np.ones((12, 3), np.float32)).save_word2vec_format(path, binary=binary)
    with open(path, "r+b") as f:
        f.write(b"13")
    with pytest.raises(EOFError) as info:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert isinstance(info.value, TruncatedFileError) and isinstance(info.value, ValueError)
    assert "truncated" in str(info.value) and "13" in str(info.value)
    with pytest.raises(EOFError):  # gensim agrees
        gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)


def test_a_cut_compressed_stream_is_a_truncated_file(tmp_path):
    path = tmp_path / "v.txt.gz"
    _xpnet_kv(["a"] * 1, np.ones((1, 3), np.float32)).save_word2vec_format(path)
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(TruncatedFileError, match="cannot read .*v.txt.gz"):
        KeyedVectors.load_word2vec_format(path)


def test_undecodable_vocabulary_file_is_a_unicode_error_naming_it():
    model, vocab = (datapath("w2v_keyedvectors_load_test.modeldata"),
                    datapath("w2v_keyedvectors_load_test.vocab"))
    with pytest.raises(UnicodeDecodeError, match=r"w2v_keyedvectors_load_test.vocab: line 1, "
                                                 r"byte offset \d+: cannot decode") as info:
        KeyedVectors.load_word2vec_format(model, fvocab=vocab)
    assert info.value.filename == vocab
    with pytest.raises(UnicodeDecodeError):  # gensim's type too
        gensim_kv.KeyedVectors.load_word2vec_format(model, fvocab=vocab)


# -- float16, float32 and float64 ----------------------------------------------------------------

DTYPES = ["float16", "float32", "float64"]


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("datatype", DTYPES)
def test_datatype_loads_as_gensim(tmp_path, vocabulary, binary, datatype):
    words, vectors, counts = vocabulary
    path = str(tmp_path / "v")
    small = vectors.copy()
    small[0, :3] = [1e-7, -300.0, 0.0]  # within float16's range (the first a subnormal)
    small = small * np.float32(3.7)  # float16 rounds most of these
    _gensim_kv(words, small, counts).save_word2vec_format(path, binary=binary)
    want = gensim_kv.KeyedVectors.load_word2vec_format(path, binary=binary,
                                                       datatype=getattr(np, datatype))
    for given in (datatype, getattr(np, datatype)):
        kv = KeyedVectors.load_word2vec_format(path, binary=binary, datatype=given)
        got = _host(kv)
        assert got.dtype == want.vectors.dtype
        np.testing.assert_array_equal(got, want.vectors)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("datatype", DTYPES)
def test_saved_files_are_gensims_for_every_datatype(tmp_path, vocabulary, binary, datatype):
    words, vectors, counts = vocabulary
    values = np.clip(vectors, -2.0, 2.0).astype(datatype)
    values[1, :4] = [1e-5, 2048.0, -0.1, 123.456]  # scientific and positional forms
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    kv = KeyedVectors(values.shape[1], dtype=datatype)
    kv.add_vectors(words, values, extras={"count": counts})
    assert _host(kv).dtype == values.dtype
    kv.save_word2vec_format(ours, binary=binary)
    g = gensim_kv.KeyedVectors(values.shape[1], dtype=values.dtype)
    g.add_vectors(words, values)
    for word, count in zip(words, counts):
        g.set_vecattr(word, "count", count)
    g.save_word2vec_format(str(theirs), binary=binary)
    assert ours.read_bytes() == theirs.read_bytes()
    back = KeyedVectors.load_word2vec_format(ours, binary=binary, datatype=datatype)
    if not binary or datatype != "float64":  # binary files hold float32
        np.testing.assert_array_equal(_host(back), values)


def test_float16_text_is_numpys_str_for_every_half():
    from xpnet.word2vec.formats import _FLOAT16, _float32_text

    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    for value in halves:
        assert _float32_text(float(value), _FLOAT16, 1e3) == str(value)


def test_float16_needs_a_backend_that_has_it(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("1 2\na 1 2\n", encoding="utf8")
    with pytest.raises(TypeError, match="backend 'array_api_strict' has no float16"):
        KeyedVectors.load_word2vec_format(path, datatype="float16", backend="array_api_strict")
    with pytest.raises(TypeError, match="expected a float dtype"):
        KeyedVectors.load_word2vec_format(path, datatype="int32")


@pytest.mark.parametrize("chunk", [5, 16, 1024])
def test_gensims_private_reader_with_small_chunks(tmp_path, chunk):
    from xpnet.word2vec.keyed_vectors import _load_word2vec_format

    path = tmp_path / "v.bin"
    vectors = {"\nabc": [1, 2, 3], "cdefdg": [4, 5, 6], "\n\ndef": [7, 8, 9]}
    path.write_bytes(b"3 3\n" + b"".join(k.encode() + b" " + np.float32(v).tobytes()
                                         for k, v in vectors.items()))
    for limit in (None, 1, 2):
        kv = _load_word2vec_format(KeyedVectors, path, binary=True, limit=limit,
                                   binary_chunk_size=chunk)
        keys = [k.lstrip("\n") for k in vectors][:limit]
        assert kv.index_to_key == keys
        np.testing.assert_array_equal(_host(kv), [vectors[k] for k in vectors][:len(keys)])
