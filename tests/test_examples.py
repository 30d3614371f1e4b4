"""The examples run and do what they say."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

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
