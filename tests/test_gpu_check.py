"""``./dev gpu-check`` (tools/gpu_check.py) without a GPU: it says why and exits 0; with
array_api_strict standing in for CuPy, the whole pipeline (scripts, pytest, report) on the CPU.

A stand-in ``cupy`` package on PYTHONPATH makes the answers the same on every machine, a GPU
machine (where the GPU check runs this file) included.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "gpu_check.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("gpu_check", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gpu_check", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gpu_check = _load_tool()


def _fake_cupy(folder, body):
    package = folder / "cupy"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(body))
    return folder


def _run(command, fake=None, timeout=120):
    env = dict(os.environ)
    env.pop("XPNET_BACKEND", None)
    if fake is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(fake), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


NO_CUPY = 'raise ImportError("no CuPy in this test")\n'
NO_DEVICE = """
class cuda:
    class runtime:
        @staticmethod
        def getDeviceCount():
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
"""


@pytest.mark.parametrize("body, why", [
    (NO_CUPY, "CuPy is not installed (ImportError: no CuPy in this test)"),
    (NO_DEVICE, "CuPy is installed but no CUDA device is visible (RuntimeError: "
                "cudaErrorNoDevice"),
], ids=["no CuPy", "no device"])
def test_without_a_gpu_it_says_why_and_exits_0(tmp_path, body, why):
    out = tmp_path / "report.md"
    done = _run([sys.executable, str(TOOL), "--out", str(out)], _fake_cupy(tmp_path, body))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gpu-check: no GPU check on this machine: " + why)
    assert "Nothing was run (exit 0)" in done.stdout
    assert not out.exists()


def test_dev_gpu_check_runs_the_tool_with_the_python_it_is_given(tmp_path):
    fake = _fake_cupy(tmp_path, NO_CUPY)
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=str(fake))
    done = subprocess.run(["bash", str(ROOT / "dev"), "gpu-check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "gpu-check: no GPU check on this machine: CuPy is not installed" in done.stdout


def test_the_pipeline_on_array_api_strict_writes_one_report(tmp_path):
    """The scripts' cupy code path (xpnet off NumPy, torch beside it), the test step and the
    report, on the CPU stand-in."""
    out = tmp_path / "gpu" / "report.md"
    done = _run([sys.executable, str(TOOL), "--backend", "array_api_strict", "--out", str(out),
                 "--scripts", "mlp_vs_torch", "distributed_vs_single", "--repeat", "1",
                 "--pytest-workers", "0", "--pytest-args",
                 "tests/test_layout.py::test_the_scan_would_catch_a_violation"], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every step passed" in done.stdout
    report = out.read_text()
    assert "| backend | array_api_strict |" in report
    assert "| numpy | " in report and "| torch | " in report and "| commit | " in report
    assert "| mlp_vs_torch | ok |" in report
    assert "xpnet backend array_api_strict; torch" in report and "| xpnet | " in report
    assert "--backend array_api_strict --threads 1 --torch-device cpu" in report
    assert "| distributed_vs_single | skipped: " in report
    assert "| pytest (XPNET_BACKEND=array_api_strict) | ok: 1 passed" in report
    log = out.with_suffix(".log").read_text()
    assert "===== mlp_vs_torch" in log and "--- stderr" in log


def test_a_step_past_its_limit_is_stopped_with_its_children(monkeypatch):
    """SIGINT to the step's process group (pytest prints what failed so far), then SIGKILL
    for one that ignores it."""
    child = "import time; time.sleep(60)"
    parent = ("import signal, subprocess, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN);"
              f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); print(p.pid, flush=True);"
              "time.sleep(60)")
    monkeypatch.setattr(gpu_check, "STOP_GRACE", 0.5)
    start = time.monotonic()
    outcome = gpu_check.run_step([sys.executable, "-c", parent], 2)
    assert time.monotonic() - start < 15
    assert outcome.code is None and gpu_check.status_of(outcome) == "timed out after 2 s"
    pid = int(outcome.stdout.split()[0])
    for _ in range(50):  # the orphaned child is reaped by init shortly after its death
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the step's child process outlived the time limit")


def test_the_report_lists_failures_timeouts_and_skips(tmp_path):
    Outcome = gpu_check.Outcome
    pytest_out = ("..F.E\nFAILED tests/test_a.py::test_one - AssertionError: 1 != 2\n"
                  "ERROR tests/test_b.py::test_two - RuntimeError: CUDA out of memory\n"
                  "============== slowest 10 durations ==============\n"
                  "3.00s call     tests/test_a.py::test_one\n"
                  "1 failed, 3 passed, 1 error in 5.00s\n")
    steps = [
        ("conv_vs_torch", Outcome(["python", "conv_vs_torch.py"], 0, 3.2, "| case |\n|---|", "",
                                  75), ""),
        ("rnn_vs_torch", Outcome(["python", "rnn_vs_torch.py"], None, 75.1, "half a table", "",
                                 75), ""),
        ("embedding_vs_torch", Outcome(["python", "embedding_vs_torch.py"], 1, 2.0, "",
                                       "Traceback\nAssertionError: embedding, dense grad", 75),
         ""),
        ("distributed_vs_single", None, "skipped: one GPU"),
        ("pytest (XPNET_BACKEND=cupy)", Outcome(["python", "-m", "pytest"], 1, 5.5, pytest_out,
                                                "", 300), ""),
    ]
    assert gpu_check.pytest_summary(pytest_out) == (
        "1 failed, 3 passed, 1 error in 5.00s",
        ["FAILED tests/test_a.py::test_one - AssertionError: 1 != 2",
         "ERROR tests/test_b.py::test_two - RuntimeError: CUDA out of memory"])
    args = gpu_check.parse_args(["--out", str(tmp_path / "r.md")])
    gpu = {"count": 1, "name": "NVIDIA H100 80GB HBM3", "memory_gib": 79.2, "capability": "9.0",
           "runtime": "13.0", "driver": "13.0"}
    facts = {"python": "3.12.3", "numpy": "2.5.2", "cupy": "14.2.0", "torch": "2.11.0",
             "torch_cuda": "built for CUDA 13.0, sees a GPU", "array_api_compat": "1.16.0"}
    gpu_check.write_report(tmp_path / "r.md", args, facts, gpu, steps, time.monotonic())
    report = (tmp_path / "r.md").read_text()
    assert ("| device | NVIDIA H100 80GB HBM3, 79.2 GiB, compute capability 9.0 (1 GPU(s) "
            "visible) |") in report
    assert "| CUDA | runtime 13.0, driver supports 13.0 |" in report
    assert "| gensim | **not installed** |" in report
    assert "- gensim is missing: word2vec runs without gensim" in report
    assert "| conv_vs_torch | ok | 3 | 75 |" in report
    assert "| rnn_vs_torch | timed out after 75 s | 75 | 75 |" in report
    assert "| embedding_vs_torch | failed (exit 1) | 2 | 75 |" in report
    assert "AssertionError: embedding, dense grad" in report
    assert "| distributed_vs_single | skipped: one GPU | | |" in report
    assert ("| pytest (XPNET_BACKEND=cupy) | failed (exit 1): 1 failed, 3 passed, 1 error in "
            "5.00s | 6 | 300 |") in report
    assert "2 failed or in error:" in report
    assert "3.00s call     tests/test_a.py::test_one" in report


def test_unknown_script_names_are_refused(capsys):
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--scripts", "nonesuch"])
    assert "unknown script(s) nonesuch" in capsys.readouterr().err
