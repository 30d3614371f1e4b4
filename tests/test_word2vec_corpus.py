"""Corpus readers (xpnet/word2vec/corpus.py) against gensim 4.4's on the same files: LineSentence
on paths, compressed files and open files, PathLineSentences, Text8Corpus, BrownCorpus; decoding
errors that name the file, the line and the byte offset; gensim's warning for string sentences."""

from __future__ import annotations

import bz2
import gzip
import io
import logging

import numpy as np
import pytest

from xpnet.word2vec import (BrownCorpus, FileDecodeError, LineSentence, PathLineSentences,
                            Text8Corpus, Word2Vec)

gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
from gensim.test.utils import datapath  # noqa: E402

LEE = datapath("lee_background.cor")
COMPRESS = {"": lambda data: data, ".gz": lambda data: gzip.compress(data, mtime=0),
            ".bz2": bz2.compress}


@pytest.fixture(scope="module")
def lee_bytes():
    with open(LEE, "rb") as f:
        return b"".join(line for _, line in zip(range(120), f))


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_line_sentence_reads_plain_and_compressed_files_as_gensim(tmp_path, lee_bytes, suffix):
    path = tmp_path / f"lee{suffix}"
    path.write_bytes(COMPRESS[suffix](lee_bytes + b"\n\n" + b" ".join([b"w"] * 25) + b"\n"))
    want = list(gensim_word2vec.LineSentence(str(path), max_sentence_length=10, limit=200))
    assert list(LineSentence(path, max_sentence_length=10, limit=200)) == want
    assert list(LineSentence(path, limit=3)) == list(gensim_word2vec.LineSentence(str(path),
                                                                                 limit=3))


def test_line_sentence_accepts_open_files_and_rewinds_them(lee_bytes):
    want = list(gensim_word2vec.LineSentence(io.BytesIO(lee_bytes)))
    binary = LineSentence(io.BytesIO(lee_bytes))
    assert list(binary) == want and list(binary) == want  # a second pass starts over
    text = LineSentence(io.StringIO(lee_bytes.decode("utf8")))
    assert list(text) == want
    with bz2.open(datapath("head500.noblanks.cor.bz2"), "rb") as f:
        head500 = list(LineSentence(f, limit=50))
    assert head500 == list(gensim_word2vec.LineSentence(datapath("head500.noblanks.cor"),
                                                        limit=50))


def test_line_sentence_refuses_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        LineSentence(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="expected a path or an open file object"):
        LineSentence(42)
    with pytest.raises(ValueError, match="max_sentence_length a positive int"):
        LineSentence(LEE, max_sentence_length=0)
    with pytest.raises(ValueError, match="limit a non-negative int"):
        LineSentence(LEE, limit=-1)


def test_compressed_corpus_file_trains_as_the_plain_one(tmp_path, lee_bytes):
    plain, packed = tmp_path / "lee.txt", tmp_path / "lee.txt.bz2"
    plain.write_bytes(lee_bytes)
    packed.write_bytes(bz2.compress(lee_bytes))
    settings = {"vector_size": 8, "min_count": 3, "epochs": 1, "workers": 1}
    a, b = Word2Vec(corpus_file=plain, **settings), Word2Vec(corpus_file=packed, **settings)
    assert a.wv.index_to_key == b.wv.index_to_key
    np.testing.assert_array_equal(a.wv.backend.to_numpy(a.wv.vectors),
                                  b.wv.backend.to_numpy(b.wv.vectors))


def test_path_line_sentences_reads_gensims_folder_as_gensim():
    folder = datapath("PathLineSentences")  # 1.txt and 2.txt.bz2
    ours = PathLineSentences(folder, max_sentence_length=7, limit=40)
    assert list(ours) == list(gensim_word2vec.PathLineSentences(folder, max_sentence_length=7,
                                                                limit=40))
    single = f"{folder}/1.txt"
    assert list(PathLineSentences(single)) == list(gensim_word2vec.PathLineSentences(single))


def test_path_line_sentences_sorts_names_and_skips_subfolders(tmp_path):
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(b"second file\n"))
    (tmp_path / "a.txt").write_bytes(b"first file\nstill first\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "inner.txt").write_bytes(b"never read\n")
    reader = PathLineSentences(tmp_path)
    assert [name.rsplit("/", 1)[-1] for name in reader.input_files] == ["a.txt", "b.txt.gz"]
    assert list(reader) == [["first", "file"], ["still", "first"], ["second", "file"]]
    with pytest.raises(FileNotFoundError, match="neither a file nor a folder"):
        PathLineSentences(tmp_path / "nowhere")


@pytest.mark.parametrize("suffix", ["", ".bz2"])
def test_text8_corpus_matches_gensim(tmp_path, suffix):
    rng = np.random.default_rng(0)
    words = ["anarchism", "originated", "as", "a", "term", "of", "abuse", "été", "日本語", "x"]
    text = " ".join(words[i] for i in rng.integers(0, len(words), 9000)).encode("utf8")
    path = tmp_path / f"text8{suffix}"
    path.write_bytes(COMPRESS[suffix](b" " + text))  # text8 starts with a space
    for length in (1000, 333):
        want = list(gensim_word2vec.Text8Corpus(str(path), max_sentence_length=length))
        got = list(Text8Corpus(path, max_sentence_length=length))
        assert got == want
        rest = [9000 % length] if 9000 % length else []
        assert [len(s) for s in got] == [length] * (9000 // length) + rest


def _brown_line(rng):
    tokens = ["The/at", "Fulton/np-tl", "County/nn-tl", "Grand/jj-tl", "said/vbd", ",/,",
              "''/''", "election/nn", "produced/vbd", "a/at", "odd/jj/x", "``/``", "./."]
    return " ".join(tokens[i] for i in rng.integers(0, len(tokens), 12))


def test_brown_corpus_matches_gensim(tmp_path):
    rng = np.random.default_rng(1)
    files = {"ca02": [_brown_line(rng) for _ in range(30)] + ["./. ,/,", ""],
             "ca01": [_brown_line(rng) for _ in range(20)]}
    expected = []
    for name in sorted(files):  # gensim reads os.listdir's order; we sort
        one = tmp_path / name
        one.mkdir()
        (one / name).write_text("\n".join(files[name]) + "\n", encoding="utf8")
        expected += list(gensim_word2vec.BrownCorpus(str(one)))
        (tmp_path / f"{name}.txt").write_text("\n".join(files[name]) + "\n", encoding="utf8")
    got = list(BrownCorpus(tmp_path))  # the subfolders are skipped
    assert got == expected and got[0][0].split("/")[1].isalpha()
    with pytest.raises(FileNotFoundError, match="not a folder"):
        BrownCorpus(tmp_path / "missing")


# -- decoding errors ---------------------------------------------------------------------------

def _check_decode_error(info, name, line, offset):
    error = info.value
    assert isinstance(error, UnicodeDecodeError) and isinstance(error, ValueError)
    assert error.line == line and error.byte_offset == offset
    assert error.object[error.start:error.end] == b"\xe9"
    assert name in str(error) and f"line {line}, byte offset {offset}" in str(error)


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_line_sentence_decoding_error_names_file_line_and_offset(tmp_path, suffix):
    good = "the words are plain\n".encode() * 3
    path = tmp_path / f"latin1.txt{suffix}"
    path.write_bytes(COMPRESS[suffix](good + "un caf\xe9 noir\n".encode("latin-1")))
    with pytest.raises(FileDecodeError) as info:
        list(LineSentence(path))
    _check_decode_error(info, "latin1.txt", 4, len(good) + len("un caf"))


def test_every_reader_names_the_undecodable_byte(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"fine\n")
    (folder / "b.txt").write_bytes(b"ok line\nbad \xe9/nn\n")
    with pytest.raises(FileDecodeError) as info:
        list(PathLineSentences(folder))
    _check_decode_error(info, "b.txt", 2, len(b"ok line\nbad "))
    with pytest.raises(FileDecodeError) as info:
        list(BrownCorpus(folder))
    _check_decode_error(info, "b.txt", 2, len(b"ok line\nbad "))
    text8 = tmp_path / "text8"
    prefix = b" word" * 3000 + b"\nmore"  # past the first 8 KiB chunk, on line 2
    text8.write_bytes(prefix + b" caf\xe9 end")
    with pytest.raises(FileDecodeError) as info:
        list(Text8Corpus(text8))
    _check_decode_error(info, "text8", 2, len(prefix) + len(b" caf"))


# -- sentences given as plain strings ------------------------------------------------------------

def test_string_sentences_log_gensims_warning_and_count_characters(caplog):
    sentences = ["human machine", "interface"]
    with caplog.at_level(logging.WARNING, logger="xpnet.word2vec"):
        model = Word2Vec(min_count=1, vector_size=4)
        model.build_vocab(sentences)
    assert "Each 'sentences' item should be a list of words (usually unicode strings)." \
        in caplog.text
    theirs = gensim_word2vec.Word2Vec(min_count=1, vector_size=4)
    logging.getLogger("gensim").setLevel(logging.ERROR)
    theirs.build_vocab(sentences)
    assert model.wv.index_to_key == theirs.wv.index_to_key  # characters, as gensim
    with pytest.raises(TypeError, match="got bytes"):
        model.build_vocab([b"raw bytes"])
