"""The Sphinx docs build without a warning (autodoc imports xpnet, so docstrings are checked),
and every Python block in them runs."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

import xpnet

ROOT = pathlib.Path(__file__).resolve().parents[1]


# Public names the API reference may leave out, with the reason.
UNDOCUMENTED = {
    "xpnet": {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float32", "float64", "complex64", "complex128",  # dtype objects, listed in prose
              "cat", "clamp",  # aliases of concat and clip
              # PyTorch's dtype names, in prose
              "float", "double", "long", "int", "short", "cfloat", "cdouble",
              # PyTorch's second names of documented functions, listed in prose
              "multiply", "subtract", "negative", "positive", "absolute", "greater",
              "greater_equal", "less", "less_equal", "not_equal", "concatenate", "swapdims",
              "default_generator",  # the Generator instance manual_seed seeds
              "pi", "e", "inf", "nan"},  # PyTorch's constants, in prose
    "xpnet.backend": {"FAMILIES", "VALID_NAMES", "format_array", "is_numpy_array"},  # internals
}
PUBLIC_MODULES = ["xpnet", "xpnet.nn", "xpnet.nn.functional", "xpnet.nn.init", "xpnet.nn.utils",
                  "xpnet.nn.utils.rnn", "xpnet.optim", "xpnet.optim.lr_scheduler", "xpnet.data",
                  "xpnet.models", "xpnet.autograd", "xpnet.word2vec", "xpnet.backend",
                  "xpnet.cuda", "xpnet.accelerator", "xpnet.serialization", "xpnet.onnx"]


def test_docs_build_cleanly_and_document_every_public_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(ROOT / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "design.html").exists()
    from sphinx.util.inventory import InventoryFile

    with open(tmp_path / "html" / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    documented = {name.rsplit(".", 1)[-1] for entries in inventory.values() for name in entries}
    missing = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if n[0] != "_"]
        left = [n for n in names if n not in documented
                and not inspect.ismodule(getattr(module, n, None))
                and n not in UNDOCUMENTED.get(module_name, ())]
        if left:
            missing[module_name] = left
    assert not missing, f"public names without an API entry: {missing}"


def _python_blocks(page):
    """(line, code) of every ``.. code-block:: python`` of an .rst page, in order."""
    lines = page.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = re.match(r"^(\s*)\.\. code-block:: python\s*$", lines[i])
        i += 1
        if not match:
            continue
        indent, start, body = len(match.group(1)), i + 1, []
        while i < len(lines) and (not lines[i].strip()
                                  or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i])
            i += 1
        blocks.append((start, textwrap.dedent("\n".join(body)).strip("\n")))
    return blocks


PAGES = sorted((ROOT / "docs").rglob("*.rst"))
FIGURE = re.compile(r"^\s*\.\. (?:figure|image):: (\S+)", re.M)


def test_the_docs_have_python_blocks_to_run():
    assert sum(len(_python_blocks(page)) for page in PAGES) >= 10


def test_every_figure_is_drawn_by_an_example():
    """Figures the pages show exist and are listed in docs/make_figures.py with the example
    that draws them, so none is drawn by hand and all can be redrawn."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_figures
    finally:
        sys.path.remove(str(ROOT / "docs"))
    for page in PAGES:
        for target in FIGURE.findall(page.read_text()):
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.name}: {target} is missing"
            assert path.parent == ROOT / "docs" / "figures", f"{page.name}: {target}"
            assert path.name in make_figures.FIGURES, f"{path.name} is not in make_figures.py"
    for name, (script, *_) in make_figures.FIGURES.items():
        assert (ROOT / script).exists(), f"{name}: no {script}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_every_python_block_runs(page, backend_name, tmp_path, monkeypatch, capsys):
    """Each page's blocks run in order in one namespace (as a reader would type them), in a
    scratch folder, on numpy and on array_api_strict, so the docs cannot rot."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    with xpnet.use_backend(backend_name):
        for line, code in _python_blocks(page):
            exec(compile(code, f"{page}:{line}", "exec"), namespace)  # noqa: S102
            assert xpnet.get_backend() == backend_name, f"{page.name}:{line} left the backend"
