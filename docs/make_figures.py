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
