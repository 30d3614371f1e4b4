"""``xpnet-word2vec``: the C tool's flags, files gensim reads, clear errors, a safe output file."""

from __future__ import annotations

import collections
import os
import pathlib
import subprocess
import sys

import pytest

from xpnet.word2vec import cli

gensim_models = pytest.importorskip("gensim.models", reason="gensim is the reader to check against")
from gensim.test.utils import datapath  # noqa: E402

LEE = datapath("lee_background.cor")  # 59,890 words of news text, shipped with gensim


def _words_seen(path, min_count):
    with open(path, encoding="utf-8") as f:
        counts = collections.Counter(word for line in f for word in line.split())
    return {word for word, count in counts.items() if count >= min_count}


@pytest.fixture
def small_corpus(tmp_path):
    """The first 40 lines of the Lee corpus (about 8,000 words): enough for a vocabulary."""
    path = tmp_path / "lee40.txt"
    with open(LEE, encoding="utf-8") as source:
        path.write_text("".join(line for _, line in zip(range(40), source)), encoding="utf-8")
    return path


def _run_module(*args):
    return subprocess.run([sys.executable, "-m", "xpnet.word2vec.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_defaults_are_the_c_tools():
    args = cli.build_parser().parse_args(["-train", "in.txt", "-output", "out.txt"])
    assert (args.cbow, args.size, args.window, args.negative, args.hs, args.sample, args.iter,
            args.min_count, args.binary, args.threads) == (1, 100, 5, 5, 0, 1e-3, 5, 5, 0, 12)
    settings = cli.word2vec_settings(args)
    assert settings["sg"] == 0 and settings["cbow_mean"] == 1
    assert settings["alpha"] == 0.05  # the C tool's default for CBOW
    assert settings["min_alpha"] == pytest.approx(0.05 * 1e-4)  # its floor: starting_alpha * 1e-4


def test_skip_gram_defaults_to_alpha_0_025_and_flags_map_to_gensim_names():
    args = cli.build_parser().parse_args(
        ["-train", "in.txt", "-output", "out.txt", "-cbow", "0", "-size", "64", "-window", "8",
         "-negative", "0", "-hs", "1", "-sample", "1e-4", "-iter", "3", "-min-count", "2",
         "-threads", "4", "--seed", "7"])
    settings = cli.word2vec_settings(args)
    assert settings == {"vector_size": 64, "window": 8, "sample": 1e-4, "hs": 1, "negative": 0,
                        "workers": 4, "epochs": 3, "min_count": 2, "alpha": 0.025,
                        "min_alpha": pytest.approx(0.025 * 1e-4), "sg": 1, "cbow_mean": 1,
                        "seed": 7}
    given = cli.build_parser().parse_args(["-train", "a", "-output", "b", "-alpha", "0.1"])
    assert cli.word2vec_settings(given)["alpha"] == 0.1


def test_text_output_is_read_by_gensim(tmp_path, capsys):
    out = tmp_path / "vectors.txt"
    assert cli.main(["-train", LEE, "-output", out, "-cbow", "0", "-size", "24", "-iter", "1",
                     "-debug", "1"]) == 0
    vectors = gensim_models.KeyedVectors.load_word2vec_format(out, binary=False)
    assert set(vectors.index_to_key) == _words_seen(LEE, 5)  # -min-count 5, the default
    assert vectors.vectors.shape == (len(_words_seen(LEE, 5)), 24)
    # Sorted by frequency as the C tool writes them: "the" is the most frequent word.
    assert vectors.index_to_key[0] == "the"
    progress = capsys.readouterr().err
    assert "epoch 1/1" in progress
    assert all(word in progress for word in ("words/s", "alpha", "loss"))


def test_binary_output_through_python_dash_m(tmp_path, small_corpus):
    out = tmp_path / "vectors.bin"
    result = _run_module("-train", small_corpus, "-output", out, "-binary", "1", "-size", "16",
                         "-iter", "2", "-min-count", "3", "-hs", "1", "-negative", "0")
    assert result.returncode == 0, result.stderr
    vectors = gensim_models.KeyedVectors.load_word2vec_format(out, binary=True)
    assert set(vectors.index_to_key) == _words_seen(small_corpus, 3)
    assert vectors.vectors.shape[1] == 16
    assert "words/s" in result.stderr and result.stdout == ""


def test_console_script_is_installed_and_refuses_a_bad_flag():
    script = pathlib.Path(sys.executable).with_name("xpnet-word2vec")
    assert script.exists(), "pip install -e . creates the xpnet-word2vec script"
    result = subprocess.run([script, "-train", LEE, "-output", "x.txt", "-sizee", "10"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "unrecognized arguments: -sizee" in result.stderr


def test_every_backend_writes_the_same_vocabulary(backend, tmp_path, small_corpus):
    out = tmp_path / "vectors.txt"
    assert cli.main(["-train", small_corpus, "-output", out, "-size", "8", "-iter", "1",
                     "-min-count", "3", "--backend", backend, "-debug", "0"]) == 0
    vectors = gensim_models.KeyedVectors.load_word2vec_format(out)
    assert set(vectors.index_to_key) == _words_seen(small_corpus, 3)


@pytest.mark.parametrize("flags, message", [
    (["-size", "ten"], "-size: expected an integer, got 'ten'"),
    (["-size", "0"], "-size: expected an integer >= 1, got 0"),
    (["-cbow", "2"], "-cbow: expected 0 or 1, got '2'"),
    (["-sample", "-0.5"], "-sample: expected a finite number >= 0, got '-0.5'"),
    (["-alpha", "nan"], "-alpha: expected a finite number >= 0, got 'nan'"),
    (["-hs", "0", "-negative", "0"], "leaves nothing to train"),
    (["--backend", "fortran"], "--backend: unknown backend 'fortran'"),
    (["-s", "10"], "unrecognized arguments: -s"),  # no abbreviations: -s is not -size
])
def test_bad_flags_exit_2_naming_the_flag(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", LEE, "-output", tmp_path / "out.txt", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.txt").exists()


def test_missing_train_file_and_output_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", tmp_path / "nope.txt", "-output", tmp_path / "out.txt"])
    assert exit_info.value.code == 2
    assert f"-train: no such file: '{tmp_path / 'nope.txt'}'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", LEE, "-output", tmp_path / "missing" / "out.txt"])
    assert exit_info.value.code == 2
    assert "-output: the folder" in capsys.readouterr().err


def test_a_required_flag_missing():
    result = _run_module("-output", "out.txt")
    assert result.returncode == 2
    assert "the following arguments are required: -train" in result.stderr


@pytest.mark.parametrize("content", [b"", b"\n\n", b"rare words only once\n",
                                     b"caf\xe9 latin-1, not UTF-8\n" * 10])
def test_untrainable_corpus_exits_1_and_keeps_the_old_output(content, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    out = tmp_path / "vectors.txt"
    out.write_text("precious earlier vectors\n")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", corpus, "-output", out, "-debug", "0"])
    assert exit_info.value.code == 1
    assert f"cannot train on '{corpus}'" in capsys.readouterr().err
    assert out.read_text() == "precious earlier vectors\n"


def test_a_corpus_that_is_not_utf8_is_pointed_at(tmp_path, capsys):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("the words are plain\n".encode() * 3 + "un caf\xe9 noir\n".encode("latin-1"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", corpus, "-output", tmp_path / "out.txt", "-min-count", "1"])
    assert exit_info.value.code == 1
    offset = 3 * len("the words are plain\n") + len("un caf")  # 66
    assert (f"expected UTF-8 text, got byte b'\\xe9' on line 4 (byte offset {offset})"
            in capsys.readouterr().err)


def test_a_failed_write_leaves_the_old_output_whole(tmp_path, small_corpus, monkeypatch, capsys):
    out = tmp_path / "vectors.txt"
    out.write_text("precious earlier vectors\n")

    def disk_full(fd):  # the vectors are written (to a temporary file), then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", small_corpus, "-output", out, "-iter", "1", "-size", "8",
                  "-min-count", "3", "-debug", "0"])
    assert exit_info.value.code == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_text() == "precious earlier vectors\n"
    assert sorted(os.listdir(tmp_path)) == ["lee40.txt", "vectors.txt"]  # no temporary left


def test_a_successful_run_replaces_the_old_output(tmp_path, small_corpus):
    out = tmp_path / "vectors.txt"
    out.write_text("old\n")
    assert cli.main(["-train", small_corpus, "-output", out, "-iter", "1", "-size", "8",
                     "-min-count", "3", "-debug", "0"]) == 0
    assert out.read_text().split("\n", 1)[0] == f"{len(_words_seen(small_corpus, 3))} 8"


# -- gensim's word2vec_standalone spellings --------------------------------------------------------

def test_gensims_standalone_spellings_are_accepted():
    args = cli.build_parser().parse_args(
        ["-train", "in.txt", "-output", "out.txt", "-min_count", "3", "-size", "20",
         "-window", "4", "-sample", "1e-4", "-hs", "1", "-negative", "0", "-threads", "2",
         "-iter", "2", "-cbow", "0", "-binary", "1", "-accuracy", "questions.txt"])
    settings = cli.word2vec_settings(args)
    assert (settings["min_count"], settings["vector_size"], settings["window"],
            settings["sample"], settings["hs"], settings["negative"], settings["workers"],
            settings["epochs"], settings["sg"]) == (3, 20, 4, 1e-4, 1, 0, 2, 2, 1)
    assert args.binary == 1 and args.accuracy == "questions.txt"


def test_gensims_own_standalone_command_runs(tmp_path):
    # gensim's test of its script, word for word, pointed at ours: nothing on stdout.
    result = _run_module("-train", datapath("testcorpus.txt"), "-output", tmp_path / "vec.txt",
                         "-size", "200", "-sample", "1e-4", "-binary", "0", "-iter", "3",
                         "-min_count", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    vectors = gensim_models.KeyedVectors.load_word2vec_format(tmp_path / "vec.txt")
    assert vectors.vectors.shape[1] == 200


def test_without_output_the_model_and_vectors_go_beside_the_corpus(tmp_path, small_corpus,
                                                                     capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text(": capital\nthe of and to\nin a the of\n", encoding="utf8")
    assert cli.main(["-train", small_corpus, "-size", "8", "-iter", "1", "-min_count", "3",
                     "-binary", "1", "-debug", "0", "-accuracy", questions]) == 0
    from xpnet.word2vec import Word2Vec
    model = Word2Vec.load(tmp_path / "lee40.model")
    vectors = gensim_models.KeyedVectors.load_word2vec_format(tmp_path / "lee40.model.bin",
                                                              binary=True)
    assert vectors.index_to_key == model.wv.index_to_key
    assert f"accuracy on {questions}: " in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["-train", small_corpus, "-accuracy", tmp_path / "missing.txt"])
    assert exit_info.value.code == 2
    assert "-accuracy: no such file" in capsys.readouterr().err
