"""xpnet.distributed across processes: each test starts ``mpiexec -n 2`` (``-n 3`` for uneven
data) on a script in tests/distributed_scripts/, with a time limit, and reads the JSON file
each rank writes (distributed_scripts/report.py). The MPI is the MPICH wheel's mpiexec next to this Python (the ``mpi`` and
``test`` extras install it); without it the tests skip, saying so."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from xpnet.backend.comm import nccl_unusable_reason

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "distributed_scripts"
MPIEXEC = pathlib.Path(sys.executable).parent / "mpiexec"


@pytest.fixture(scope="module")
def mpiexec():
    if importlib.util.find_spec("mpi4py") is None:  # not imported here: that would start MPI
        pytest.skip("mpi4py not installed: pip install 'xpnet[mpi]'")
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}: pip install 'xpnet[mpi]' (the MPICH "
                    f"wheel brings it)")
    return str(MPIEXEC)


def run(command, timeout, **env):
    """(return code, stdout, stderr, seconds) of ``command``; on timeout the whole process
    group (mpiexec and its ranks) is killed and the test fails."""
    environment = dict(os.environ, XPNET_BACKEND="numpy", OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                       PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                   os.environ.get("PYTHONPATH", "")]))
    environment.update(env)
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environment, cwd=ROOT, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{' '.join(command)} still running after {timeout} s (a hang):\n{out}\n{err}")
    return process.returncode, out, err, time.monotonic() - start


def ranks(mpiexec, n, script, *args, timeout=120, **env):
    """Run ``script`` on ``n`` ranks; the result each rank reported, by rank."""
    command = [mpiexec, "-n", str(n), sys.executable, "-m", "mpi4py", str(SCRIPTS / script),
               *map(str, args)]
    with tempfile.TemporaryDirectory() as folder:
        code, out, err, _ = run(command, timeout, XPNET_TEST_RESULTS=folder, **env)
        assert code == 0, f"exit code {code}\n{out}\n{err}"
        files = sorted(pathlib.Path(folder).glob("rank*.json"))
        assert [f.name for f in files] == [f"rank{r}.json" for r in range(n)], (out, err)
        return [json.loads(f.read_text()) for f in files]


def test_collectives_between_two_ranks(mpiexec):
    rank0, rank1 = ranks(mpiexec, 2, "collectives.py")
    values = [f"values on {b}" for b in ("numpy", "array_api_strict:device1", "torch")]
    assert rank1["checked"] == [*values, "barrier", "disagreements"]
    assert rank0["checked"] == [*values, "barrier", "disagreements", "timeout"]
    assert 2 <= rank0["timeout_elapsed"] < 10  # the script's timeout is 2 s


def test_two_ranks_train_as_one_process_with_twice_the_batch(mpiexec, tmp_path):
    rank0, rank1 = ranks(mpiexec, 2, "training.py", tmp_path)
    assert rank0["max_diff"] == pytest.approx(rank1["max_diff"], abs=1e-15)
    cases = [f"{model}/{opt}" for model in ("mlp", "cnn", "lstm", "embedding")
             for opt in ("sgd", "adam")]
    cases += ["checkpoint cnn/adam", "checkpoint mlp/sgd", "no_sync", "unused parameters",
              "array_api_strict:device1 gradients", "torch gradients"]
    assert list(rank0["max_diff"]) == cases
    for case, diff in rank0["max_diff"].items():
        # float64: the two computations differ only in the order of additions
        assert diff < 1e-10, (case, diff)


def test_three_ranks_share_an_uneven_data_set(mpiexec):
    results = ranks(mpiexec, 3, "uneven.py")
    for r in results:
        # 100 samples: padded to 3 x 34 (two samples twice), or trimmed to 3 x 33
        assert r["padded"] == {"per_rank": [34, 34, 34], "distinct": 100, "total": 102,
                               "twice": results[0]["padded"]["twice"]}
        assert len(r["padded"]["twice"]) == 2
        assert r["drop_last"] == {"per_rank": [33, 33, 33], "distinct": 99, "total": 99}
        assert r["set_epoch_changes_order"]
        assert r["batch_sizes"] == [8, 8, 8, 8, 2] * 2  # every batch, none dropped
        assert r["weights_differ_by"] == 0.0


def test_a_rank_that_raises_ends_the_job(mpiexec):
    command = [mpiexec, "-n", "2", sys.executable, "-m", "mpi4py",
               str(SCRIPTS / "faults.py"), "raise"]
    code, out, err, seconds = run(command, timeout=60)
    assert code != 0
    assert "RuntimeError: rank 1 fails on purpose" in err
    assert seconds < 30  # rank 0 waits in a barrier with a 10-minute timeout


def test_uneven_data_without_a_sampler_times_out_instead_of_hanging(mpiexec):
    command = [mpiexec, "-n", "2", sys.executable, "-m", "mpi4py",
               str(SCRIPTS / "faults.py"), "uneven"]
    code, out, err, seconds = run(command, timeout=60, XPNET_DIST_TIMEOUT="2")
    assert code != 0
    assert "DistBackendError: DistributedDataParallel gradient all-reduce: timed out after " \
           "2 s on rank 0 of 2" in err
    assert "use DistributedSampler" in err
    assert seconds < 30


@pytest.mark.slow
def test_the_example_trains_on_two_ranks_and_on_one(mpiexec, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib comes with the [examples] extra")
    pytest.importorskip("sklearn", reason="scikit-learn comes with the [examples] extra")
    example = str(ROOT / "examples" / "distributed_training.py")
    out_png = tmp_path / "ddp.png"
    code, out, err, _ = run([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", example,
                             "--epochs", "3", "--no-progress", "--out", str(out_png)],
                            timeout=300)
    assert code == 0, err
    # Calibrated: 3 epochs at global batch 64 reach ~96% (cnn_digits.py: ~98% after 30).
    accuracy = float(out.split("test accuracy ")[1].split("%")[0])
    assert "2 rank(s)" in out and accuracy > 90
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, err, _ = run([sys.executable, example, "--epochs", "1", "--no-progress"],
                            timeout=300)
    assert code == 0, err
    assert "1 rank(s)" in out


def test_nccl_on_the_gpus(mpiexec):
    why = nccl_unusable_reason()
    if why is not None:
        pytest.skip(f"NCCL cannot run here: {why}")
    (result,) = ranks(mpiexec, 1, "nccl.py")
    assert result["all_reduce"] == [1.0, 2.0] and result["avg"] == [1.0, 2.0]
    assert result["all_gather"] == [[0.0, 0.5]] and result["broadcast"] == [0.0]
    assert result["ddp_grad_diff"] < 1e-12


def test_nccl_without_a_gpu_says_why(mpiexec):
    if nccl_unusable_reason() is None:
        pytest.skip("a GPU is here: test_nccl_on_the_gpus runs NCCL")
    code, out, err, _ = run([sys.executable, "-c",
                             "import xpnet.distributed as d; d.init_process_group('nccl')"],
                            timeout=60)
    assert code != 0
    assert "RuntimeError: init_process_group(backend='nccl') on rank 0: " in err
    assert nccl_unusable_reason() in err
