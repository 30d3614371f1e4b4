"""The examples in xpnet's docstrings run and print what they say (they are API documentation:
an example that went stale is a wrong answer to a reader)."""

from __future__ import annotations

import doctest
import importlib
import pathlib
import pkgutil

import pytest

import xpnet

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(xpnet.__path__, "xpnet.")
    if not info.name.split(".")[-1].startswith("_") and ".backend.kernels." not in info.name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write into a scratch folder
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with xpnet.use_backend("numpy"):
        for test in finder.find(module, name):  # globals: a copy of the module's, as pytest's
            if pathlib.Path(test.filename or "").suffix != ".py":
                continue
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} failing docstring examples in {name}"
