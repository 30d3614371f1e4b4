"""The asv benchmarks run (once each, on numpy), so they cannot rot between benchmark runs."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import sys

import pytest

BENCH_DIR = pathlib.Path(__file__).resolve().parents[1] / "asv_benchmarks"


def _benchmark_classes():
    sys.path.insert(0, str(BENCH_DIR))
    try:
        modules = [importlib.import_module(f"benchmarks.{path.stem}")
                   for path in sorted((BENCH_DIR / "benchmarks").glob("bench_*.py"))]
    finally:
        sys.path.remove(str(BENCH_DIR))
    return [cls for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and hasattr(cls, "params")]


@pytest.mark.parametrize("cls", _benchmark_classes(), ids=lambda c: c.__name__)
def test_every_benchmark_runs_on_numpy(cls):
    names = [n for n in dir(cls) if n.startswith(("time_", "peakmem_", "track_", "mem_"))]
    assert names, f"{cls.__name__} has no benchmarks"
    # the smallest value of each parameter after the backend
    args = ["numpy"] + [values[0] for values in cls.params[1:]]
    bench = cls()
    bench.setup(*args)
    try:
        for name in names:
            getattr(bench, name)(*args)
    finally:
        if hasattr(bench, "teardown"):
            bench.teardown(*args)
