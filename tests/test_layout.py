"""Project rules that keep the code portable: only xpnet/backend imports array libraries."""

from __future__ import annotations

import ast
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "xpnet"
FORBIDDEN = {"numpy", "cupy", "cupyx", "torch", "array_api_strict"}


def _imported_roots(path):
    """(top-level module, line) for each import; array_api_compat.X counts as X."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            yield parts[0], node.lineno
            if parts[0] == "array_api_compat" and len(parts) > 1:
                yield parts[1], node.lineno


def test_only_the_backend_package_imports_array_libraries():
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "backend" and rel.name != "twins.py":
            continue  # the one place allowed (but the generic twins must stay standard-only)
        for module, line in _imported_roots(path):
            if module in FORBIDDEN:
                offenders.append(f"{rel}:{line} imports {module}")
    assert not offenders, "array libraries imported outside xpnet/backend:\n" + "\n".join(offenders)


def test_the_scan_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom torch import nn\nimport array_api_compat.cupy as cp\n")
    assert {m for m, _ in _imported_roots(bad)} >= {"numpy", "torch", "cupy"}


def test_torch_is_pinned_exactly_and_only_as_a_test_extra():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("torch") for d in meta["dependencies"])
    torch_specs = [d for extra in meta["optional-dependencies"].values() for d in extra
                   if d.replace(" ", "").startswith("torch")]
    assert torch_specs == ["torch==2.13.0"]
    assert {"test", "bench", "gpu", "examples", "docs"} <= set(meta["optional-dependencies"])
    assert meta["requires-python"] == ">=3.11"
