"""The examples run and do what they say."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import xpnet

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def autograd_demo(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import autograd_demo
    yield autograd_demo
    sys.modules.pop("autograd_demo", None)


def test_autograd_demo_learns_the_curve(backend, autograd_demo, capsys):
    losses = autograd_demo.main(["--steps", "400", "--no-progress"])
    out = capsys.readouterr().out
    assert "gradcheck of the model in float64: passed" in out
    assert f"on backend {backend!r}" in out
    # Calibrated: sin(3x) + 0.05 noise starts near 0.6; 400 steps at lr 0.07 reach < 0.1 on every
    # backend (the noise floor is 0.0025).
    assert losses[0] > 0.3 and losses[-1] < 0.1


def test_autograd_demo_writes_its_figure(autograd_demo, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib comes with the [examples] extra")
    out = tmp_path / "fit.png"
    autograd_demo.main(["--steps", "50", "--no-progress", "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def backprop_example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import backprop_2_2_2
    yield backprop_2_2_2
    sys.modules.pop("backprop_2_2_2", None)


def test_backprop_2_2_2_reproduces_the_published_walk_through(backend, backprop_example):
    # The values of Matt Mazur's "A Step by Step Backpropagation Example" (2015), which
    # computes them by hand: total error before the step, and the weights after it.
    result = backprop_example.one_step(backprop_example.build(), lr=0.5, echo=lambda s: None)
    assert result["error"] == pytest.approx(0.298371109, abs=1e-9)
    np.testing.assert_allclose(result["W2"], [[0.35891648, 0.408666186], [0.511301270, 0.561370121]],
                               atol=1e-8)
    np.testing.assert_allclose(result["W1"], [[0.149780716, 0.19956143], [0.24975114, 0.29950229]],
                               atol=1e-8)


def test_backprop_2_2_2_keeps_learning_and_draws_its_curve(backprop_example, tmp_path, capsys):
    out = tmp_path / "curve.png"
    backprop_example.main(["--steps", "2000", "--no-progress", "--out", str(out)])
    last = float(capsys.readouterr().out.split("more steps: ")[1].split()[0])
    assert last < 1e-3  # from 0.298; calibrated: 2000 steps at lr 0.5 reach ~9e-5
    assert out.read_bytes()[:4] == b"\x89PNG"


def _example(monkeypatch, name):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return __import__(name)


@pytest.mark.slow
def test_mlp_digits_reaches_97_percent(monkeypatch, capsys):
    example = _example(monkeypatch, "mlp_digits")
    history = example.main(["--no-progress"])
    # The bar: at least 97% test accuracy on numpy (measured: 98.2% in ~3 s).
    assert history["test_acc"][-1] >= 0.97
    assert "test accuracy" in capsys.readouterr().out


def test_mlp_digits_runs_on_every_backend_and_draws(backend, monkeypatch, tmp_path):
    example = _example(monkeypatch, "mlp_digits")
    out = tmp_path / "digits.png"
    history = example.main(["--epochs", "2", "--no-progress", "--out", str(out)])
    assert history["test_acc"][-1] > 0.8  # two epochs already get most digits right
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_optimizer_comparison_runs_every_optimizer(monkeypatch, tmp_path):
    example = _example(monkeypatch, "optimizers")
    out = tmp_path / "optimizers.png"
    curves = example.main(["--steps", "60", "--no-progress", "--out", str(out)])
    assert list(curves) == ["SGD", "SGD + momentum", "Nesterov", "Adagrad", "RMSprop",
                            "Adadelta", "Adam"]
    assert all(c[-1] < c[0] for c in curves.values())  # every optimizer lowers the loss
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_playground_draws_all_boundaries(monkeypatch, tmp_path):
    example = _example(monkeypatch, "playground")
    out = tmp_path / "playground.png"
    results = example.main(["--steps", "150", "--no-progress", "--out", str(out)])
    assert len(results) == len(example.DATASETS) * len(example.NETWORKS)
    # A line cannot separate concentric circles; one hidden layer can, even after short
    # training (calibrated at 150 steps: ~100% against ~50%).
    assert results["circles", "1x16 tanh"][0] > results["circles", "linear"][0] + 0.2
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_activations_derivatives_by_autograd_match_the_formulas(backend, monkeypatch, tmp_path):
    example = _example(monkeypatch, "activations")
    out = tmp_path / "activations.png"
    results = example.main(["--points", "81", "--out", str(out)])
    x, s, ds = results["sigmoid"]
    np.testing.assert_allclose(ds, s * (1 - s), atol=1e-6)
    x, t, dt = results["tanh"]
    np.testing.assert_allclose(dt, 1 - t ** 2, atol=1e-6)
    x, _, de = results["ELU (alpha = 1)"]
    np.testing.assert_allclose(de, np.where(x > 0, 1.0, np.exp(x)), atol=1e-6)
    neg = x < 0
    for name, slope in [("ReLU", 0.0), ("Leaky ReLU (0.1)", 0.1), ("PReLU (a = 0.25)", 0.25),
                        ("RReLU (eval)", (1 / 8 + 1 / 3) / 2)]:
        d = results[name][2]
        np.testing.assert_allclose(d[neg], slope, atol=1e-6)
        np.testing.assert_allclose(d[x > 0], 1.0, atol=1e-6)
    d = results["RReLU (train)"][2][neg]  # a slope drawn per input from U(1/8, 1/3)
    assert d.min() >= 1 / 8 - 1e-6 and d.max() <= 1 / 3 + 1e-6 and d.std() > 0.02
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_losses_gradients_by_autograd_match_the_formulas(backend, monkeypatch, tmp_path):
    example = _example(monkeypatch, "losses")
    out = tmp_path / "losses.png"
    results, (z_soft, probs, ce) = example.main(["--points", "41", "--out", str(out)])
    z, _, grad = results["cross-entropy on sigmoid(z)"]
    s = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(grad, s - 1, atol=1e-6)  # sigmoid(z) - y
    np.testing.assert_allclose(results["squared error on sigmoid(z)"][2], 2 * (s - 1) * s * (1 - s),
                               atol=1e-6)
    np.testing.assert_allclose(results["squared error on z (linear)"][2], 2 * (z - 1), atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(ce, -np.log(probs[:, 0]), rtol=1e-4, atol=1e-6)
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_cnn_digits_reaches_98_percent(monkeypatch, tmp_path, capsys):
    example = _example(monkeypatch, "cnn_digits")
    out = tmp_path / "cnn.png"
    history = example.main(["--no-progress", "--out", str(out)])
    # The bar: at least 98% test accuracy on numpy (measured: 98.4% in ~19 s).
    assert history["test_acc"][-1] >= 0.98
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cnn_digits_runs_on_every_backend(backend, monkeypatch):
    example = _example(monkeypatch, "cnn_digits")
    model, history = example.train(epochs=1, batch_size=256, progress=False)
    assert history["test_acc"][-1] > 0.5  # one epoch is already far above chance (0.1)


def test_deep_mlp_gradients_vanish_with_sigmoid_not_with_relu_and_he(monkeypatch, tmp_path):
    example = _example(monkeypatch, "deep_mlp_gradients")
    out = tmp_path / "deep_mlp_gradients.png"
    results = example.main(["--depth", "6", "--width", "32", "--steps", "15", "--out", str(out)])
    ratio = {name: r["at_init"][0] / r["at_init"][-1] for name, r in results.items()}
    # sigmoid' <= 1/4 per layer: the first layer's gradient is orders of magnitude smaller
    assert ratio["sigmoid, Glorot"] < 1e-2
    assert 0.1 < ratio["ReLU, He"] < 10 and 0.1 < ratio["ReLU, He + batch norm"] < 10
    losses = results["ReLU, He + batch norm"]["losses"]
    assert losses[-1] < losses[0]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_regularization_example_trains_every_setting(monkeypatch, tmp_path):
    example = _example(monkeypatch, "regularization")
    out = tmp_path / "regularization.png"
    results = example.main(["--train", "100", "--steps", "25", "--out", str(out)])
    assert list(results) == list(example.SETTINGS)
    assert all(r["train"][-1] < r["train"][0] for r in results.values())
    # the L1 penalty pushes first-layer weights towards zero, more than no penalty does
    small = {name: (abs(r["first_layer"]) < 1e-3).mean() for name, r in results.items()}
    assert small["L1 (1e-4)"] > small["none"]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_preprocessing_example_centres_standardises_and_whitens(backend, monkeypatch, tmp_path):
    example = _example(monkeypatch, "preprocessing")
    out = tmp_path / "preprocessing.png"
    results = example.main(["--points", "200", "--out", str(out)])
    for name, Z in results.items():
        C = example.covariance(Z).numpy()
        if name != "original":
            np.testing.assert_allclose(Z.mean(axis=0).numpy(), 0.0, atol=1e-9)
        if name == "standardised":
            np.testing.assert_allclose(np.diag(C), 200 / 199, rtol=1e-9)
        if name == "PCA (rotated)":
            assert abs(C[0, 1]) < 1e-9 and C[0, 0] > C[1, 1]
        if name in ("PCA whitened", "ZCA whitened"):
            np.testing.assert_allclose(C, np.eye(2), atol=1e-4)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_gradient_flow_shows_vanishing_gradients_without_shortcuts(monkeypatch, tmp_path):
    example = _example(monkeypatch, "gradient_flow")
    out = tmp_path / "flow.png"
    results = example.main(["--blocks", "2", "--steps", "5", "--no-progress", "--out", str(out)])

    def first_over_last(name):
        norms = results[name]["at_init"]
        return norms[0] / norms[-1]

    # Calibrated with 2 blocks per stage: plain without batch norm ~2e-5, ResNet ~0.5.
    assert first_over_last("plain, no batch norm") < 1e-3
    assert first_over_last("ResNet (batch norm + shortcuts)") > 1e-1
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_text_cnn_trains_on_the_shipped_posts_and_sentences(monkeypatch, tmp_path):
    example = _example(monkeypatch, "text_cnn")
    posts = example.load_newsgroups()
    assert len(posts) == 200 and sum(label for _, label in posts) == 100
    # Every post opens with its header block ("Newsgroups: ...", "Path: ..."), which names the
    # label; none of it may reach the model.
    assert not any(tokens[:1] == ["newsgroups"] for tokens, _ in posts)
    sentences = example.load_sentences()
    assert len(sentences) == 200 and sum(label for _, label in sentences) == 100
    results = example.cross_validate(k=2, epochs=10, progress=False)
    # Topic words carry the label: held out, 2 folds of 100 posts and 10 epochs measured 61-64%
    # (5 folds and 30 epochs: see examples/README.md); chance is 50%.
    held_out = sum(r["test_accuracy"] * r["n_test"] for r in results) / 200
    assert held_out > 0.56
    assert all(r["train_accuracy"] > 0.9 for r in results)
    assert sum(r["n_test"] for r in results) == 200


def test_language_model_learns_and_samples_on_every_backend(backend, monkeypatch, capsys):
    pytest.importorskip("gensim", reason="the text ships with the [examples] extra")
    example = _example(monkeypatch, "language_model")
    # A tiny stacked LSTM on the small Lee corpus (~22k training characters): one epoch of 15
    # truncated-BPTT chunks of 25 characters.
    run = example.main(["--model", "lstm", "--corpus", "lee", "--epochs", "1", "--batch-size",
                        "64", "--bptt", "25", "--embedding-dim", "8", "--hidden-size", "16",
                        "--lr", "1e-2", "--sample-length", "20", "--no-progress"])
    vocab, history = run["vocab"], run["results"]["lstm"]
    untrained, trained = history["valid_ppl"]
    # Calibrated: untrained ~39, worse than the unigram baseline (19.4); one epoch reaches ~20
    # on every backend.
    assert untrained > run["unigram_ppl"] and trained < 0.7 * untrained
    assert history["steps"] == 15  # 22,542 characters / 64 streams = 352 rows, 25 per chunk
    assert len(history["sample"]) == 20 and all(0 <= i < len(vocab) for i in history["sample"])
    printed = capsys.readouterr().out
    assert f"unigram baseline perplexity {run['unigram_ppl']:.2f}" in printed
    assert "sample (temperature 0.8):\nthe prime minister " in printed


def test_language_model_compares_rnn_gru_lstm_and_transformer_in_one_figure(monkeypatch,
                                                                             tmp_path):
    pytest.importorskip("gensim", reason="the text ships with the [examples] extra")
    pytest.importorskip("matplotlib", reason="matplotlib comes with the [examples] extra")
    example = _example(monkeypatch, "language_model")
    out = tmp_path / "lm.png"
    run = example.main(["--corpus", "lee", "--epochs", "1", "--batch-size", "64", "--bptt", "25",
                        "--embedding-dim", "8", "--hidden-size", "16", "--lr", "1e-2",
                        "--sample-length", "5", "--no-progress", "--out", str(out)])
    results = run["results"]
    assert list(results) == ["rnn", "gru", "lstm", "transformer"]
    assert all(h["valid_ppl"][1] < h["valid_ppl"][0] for h in results.values())
    assert all(len(h["epoch_seconds"]) == 1 for h in results.values())
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_transformer_language_model_learns_and_samples_on_every_backend(backend, monkeypatch):
    pytest.importorskip("gensim", reason="the text ships with the [examples] extra")
    example = _example(monkeypatch, "language_model")
    run = example.main(["--model", "transformer", "--corpus", "lee", "--epochs", "2",
                        "--batch-size", "64", "--bptt", "25", "--hidden-size", "32",
                        "--sample-length", "30", "--no-progress"])
    history = run["results"]["transformer"]
    # Calibrated: untrained ~22 (the unigram baseline is 19.4), two epochs reach ~16.6.
    untrained, _, trained = history["valid_ppl"]
    assert trained < 0.85 * untrained and trained < run["unigram_ppl"]
    assert len(history["sample"]) == 30  # 30 characters drawn through a 25-character window


def test_transformer_language_model_is_causal_and_slides_its_window(monkeypatch):
    example = _example(monkeypatch, "language_model")
    xpnet.manual_seed(0)
    model = example.make_model("transformer", 11, hidden_size=16, context=6).eval()
    tokens = xpnet.randint(0, 11, (6, 2))
    logits, state = model(tokens)
    changed = tokens.clone()
    changed[4:] = (changed[4:] + 1) % 11
    # A later character never changes the prediction at an earlier position.
    assert xpnet.equal(model(changed)[0][:4], logits[:4])
    assert state.tolist() == tokens[1:].tolist()  # the last context - 1 characters
    # One more character through the state: the same as the window of the last 6.
    step, _ = model(tokens[-1:] * 0 + 3, state)
    window = xpnet.cat([tokens[1:], tokens[-1:] * 0 + 3])
    assert xpnet.allclose(step[-1], model(window)[0][-1], atol=1e-6)
    with pytest.raises(ValueError, match="7 characters exceed the context of 6"):
        model(xpnet.zeros(7, 2, dtype=xpnet.int64))


def test_language_model_carries_the_state_across_chunks(monkeypatch):
    pytest.importorskip("gensim", reason="the text ships with the [examples] extra")
    example = _example(monkeypatch, "language_model")
    train_text, _ = example.split_documents(example.load_documents("lee"))
    vocab = example.CharVocabulary(train_text)
    ids = vocab.encode(train_text)
    data = example.batchify(ids, 4)
    steps = len(ids) // 4
    # Column b is the b-th quarter of the text, so a chunk continues the previous one.
    assert data.shape == (steps, 4)
    assert data[:, 1].tolist() == ids[steps:2 * steps]
    pieces = list(example.chunks(data, 7))
    sizes = [x.shape[0] for x, _ in pieces]
    assert sum(sizes) == steps - 1 and set(sizes[:-1]) == {7} and 1 <= sizes[-1] <= 7
    (_, y0), (x1, y1) = pieces[:2]
    assert x1[1:, :].tolist() == y1[:-1, :].tolist()  # the target is the next character
    assert y0[-1, :].tolist() == x1[0, :].tolist()  # the next chunk starts where this one ends
    assert x1[0, 0].item() == ids[7]
    assert vocab.decode(vocab.encode("the\n")) == "the\n" and vocab.encode("\x00") == [0]


@pytest.mark.slow
def test_language_model_lstm_beats_the_unigram_baseline(monkeypatch):
    pytest.importorskip("gensim", reason="the text ships with the [examples] extra")
    example = _example(monkeypatch, "language_model")
    # One epoch of the default configuration: 103 chunks of 64 x 50 characters (~10 s of CPU).
    run = example.main(["--model", "lstm", "--epochs", "1", "--sample-length", "50",
                        "--no-progress"])
    untrained, trained = run["results"]["lstm"]["valid_ppl"]
    # Calibrated on numpy: the unigram baseline is 19.2 and the LSTM reaches ~10 (0.52 of it)
    # after one epoch; five epochs reach ~6 (see examples/README.md).
    assert trained < 0.6 * run["unigram_ppl"] < untrained


def test_bilstm_classifier_runs_on_every_backend(backend, monkeypatch, tmp_path, capsys):
    example = _example(monkeypatch, "bilstm_classifier")
    out = tmp_path / "bilstm.png"
    run = example.main(["--train-size", "96", "--test-size", "32", "--epochs", "2",
                        "--hidden-size", "8", "--no-progress", "--out", str(out)])
    for history in run["results"].values():
        assert len(history["test_acc"]) == 2 and all(0 <= a <= 1 for a in history["test_acc"])
        assert history["loss"][-1] < history["loss"][0]
    assert "best possible without the future" in capsys.readouterr().out
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_bilstm_task_needs_the_future(monkeypatch):
    example = _example(monkeypatch, "bilstm_classifier")
    data = example.neighbour_sum_task(50, num_symbols=4, seed=3)
    assert data == example.neighbour_sum_task(50, num_symbols=4, seed=3)  # seeded
    for symbols, labels in data:
        assert 8 <= len(symbols) <= 24 and len(labels) == len(symbols)
        padded = [0, *symbols, 0]
        assert labels == [(padded[t] + padded[t + 2]) % 4 for t in range(len(symbols))]
    n_tokens = sum(len(s) for s, _ in data)
    # Only the 50 last tokens are predictable from the past; the rest are right 1 time in 4.
    assert example.past_only_bound(data, 4) == pytest.approx((50 + (n_tokens - 50) / 4) / n_tokens)
    tokens, labels, lengths = example.to_batch(data[:3])
    assert tokens.shape == labels.shape == (3, max(lengths))
    padded = (labels == example.IGNORE).astype("int64").sum().item()
    assert padded == 3 * max(lengths) - sum(lengths)


@pytest.mark.slow
def test_bilstm_solves_what_a_one_way_lstm_cannot(monkeypatch):
    example = _example(monkeypatch, "bilstm_classifier")
    run = example.main(["--epochs", "2", "--no-progress"])
    one_way = run["results"]["one-way LSTM"]["test_acc"][-1]
    both = run["results"]["bidirectional LSTM"]["test_acc"][-1]
    # Calibrated on numpy: the bidirectional tagger is at 100% from the first epoch on; the
    # one-way one stays near chance (~28%), under the bound that no model without the future
    # can pass (29.6%).
    assert both > 0.95
    assert one_way < run["past_only_bound"] + 0.02
    assert both - one_way > 0.6


def test_word2vec_demo_trains_evaluates_saves_and_draws(monkeypatch, tmp_path, capsys):
    gensim_models = pytest.importorskip("gensim.models",
                                        reason="the corpus ships with the [examples] extra")
    example = _example(monkeypatch, "word2vec_demo")
    out, vectors = tmp_path / "pca.png", tmp_path / "vectors.bin"
    # The small Lee corpus (59k words) and 2 epochs keep this fast; the default run uses head500.
    result = example.main(["--corpus", "lee", "--epochs", "2", "--no-progress", "--binary",
                           "--vectors", str(vectors), "--out", str(out)])
    printed = capsys.readouterr().out
    for section in ("nearest neighbours", "analogies", "wordsim353", "simlex999",
                    "questions-words", "read back by xpnet: same words"):
        assert section in printed
    wv = result["model"].wv
    theirs = gensim_models.KeyedVectors.load_word2vec_format(vectors, binary=True)
    assert theirs.index_to_key == wv.index_to_key
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_word2vec_demo_stems_the_evaluation_sets_like_its_corpus(monkeypatch, tmp_path):
    pytest.importorskip("gensim", reason="the data ship with the [examples] extra")
    example = _example(monkeypatch, "word2vec_demo")
    files = example.evaluation_files("head500", str(tmp_path))
    pairs = files["wordsim353"]
    with open(pairs, encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    assert len(lines) == 353 and ["comput", "keyboard", "7.62"] in lines
    with open(files["questions-words"], encoding="utf-8") as f:
        head = [next(f) for _ in range(2)]
    assert head == [": capital-common-countries\n", "athen greec baghdad iraq\n"]


def test_word2vec_demo_pca_matches_numpy_svd_on_every_backend(backend, monkeypatch):
    from xpnet.word2vec import KeyedVectors

    example = _example(monkeypatch, "word2vec_demo")
    rows = np.random.default_rng(0).standard_normal((12, 6)).astype(np.float32)
    words = [f"w{i}" for i in range(12)]
    wv = KeyedVectors(6)
    wv.add_vectors(words, rows)
    got = np.array(example.pca_2d(wv, words[2:]))
    # Reference: the same projection through NumPy's SVD; each axis is defined up to its sign.
    unit = rows[2:] / np.linalg.norm(rows[2:], axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    want = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    assert got.shape == (10, 2)
    np.testing.assert_allclose(np.abs(got), np.abs(want), rtol=1e-4, atol=1e-5)


def test_onnx_export_runs_the_trained_cnn_in_onnxruntime(monkeypatch, tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="onnxruntime comes with the [onnx] extra")
    pytest.importorskip("sklearn", reason="the digits come with the [examples] extra")
    example = _example(monkeypatch, "onnx_export")
    path = tmp_path / "cnn.onnx"
    result = example.main(["--epochs", "1", "--onnx", str(path), "--no-progress"])
    onnx = pytest.importorskip("onnx", reason="onnx comes with the [onnx] extra")
    onnx.checker.check_model(str(path))
    assert onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert result["agree"] == result["n"] == 450
    assert result["accuracy"] == pytest.approx(result["xpnet_accuracy"])
    assert result["max_diff"] < 1e-4  # float32 rounding, for the batch and one by one
    assert {"Conv", "BatchNormalization", "MaxPool", "Gemm"} <= set(result["ops"])
    assert "450/450 predictions as xpnet's" in capsys.readouterr().out
