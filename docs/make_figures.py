"""Regenerate every figure the tutorials show by running the examples that draw them (nothing in
the docs is drawn by hand). From the repository root:

    python docs/make_figures.py            # all of them
    python docs/make_figures.py NAME...    # only these (file names in docs/figures/)

Each entry is a figure file and the example command that writes it (``--out`` is appended).
"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# docs/figures/<name> -> example script and its arguments
FIGURES = {
    "backprop_2_2_2.png": ["examples/backprop_2_2_2.py", "--steps", "10000", "--no-progress"],
    "optimizers.png": ["examples/optimizers.py", "--no-progress"],
    "deep_mlp_gradients.png": ["examples/deep_mlp_gradients.py"],
    "gradient_flow.png": ["examples/gradient_flow.py", "--no-progress"],
    "regularization.png": ["examples/regularization.py"],
    "preprocessing.png": ["examples/preprocessing.py"],
    "activations.png": ["examples/activations.py"],
    "losses.png": ["examples/losses.py"],
    "playground.png": ["examples/playground.py", "--no-progress", "--dpi", "65"],
    "autograd_demo.png": ["examples/autograd_demo.py", "--no-progress"],
    "mlp_digits.png": ["examples/mlp_digits.py", "--no-progress"],
    "cnn_digits.png": ["examples/cnn_digits.py", "--no-progress"],
    "text_cnn.png": ["examples/text_cnn.py", "--no-progress"],
    "language_model.png": ["examples/language_model.py", "--no-progress"],
    "bilstm_classifier.png": ["examples/bilstm_classifier.py", "--no-progress"],
    "word2vec_pca.png": ["examples/word2vec_demo.py", "--no-progress"],
}


def main(argv=None):
    names = (sys.argv[1:] if argv is None else argv) or list(FIGURES)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise SystemExit(f"make_figures: unknown figures {unknown}; known: {sorted(FIGURES)}")
    for name in names:
        script, *args = FIGURES[name]
        out = ROOT / "docs" / "figures" / name
        print(f"{name}: python {script} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, str(ROOT / script), *args, "--out", str(out)],
                       check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
