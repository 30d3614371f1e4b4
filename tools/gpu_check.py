"""``./dev gpu-check``: the test suite and every side-by-side benchmark on the GPU, in one report.

On a machine with an NVIDIA GPU and CuPy it runs, each under a time limit:

1. every side-by-side script in ``asv_benchmarks/`` with ``--backend cupy`` (xpnet on the GPU;
   torch on the GPU too where it sees one, ``--torch-device``), word2vec included (against
   gensim when gensim is installed, else xpnet alone on a synthetic Zipf corpus);
2. the one-rank-per-GPU NCCL test (data-parallel scaling needs one GPU per rank: with one GPU
   ``distributed_vs_single.py``, which measures MPI ranks on the CPU, is skipped, saying why);
3. ``pytest`` with ``XPNET_BACKEND=cupy`` (in parallel with pytest-xdist when it is installed),

and writes one markdown report (``--out``, default ``gpu-check-report.md``) with the versions,
the device, each step's result and all the tables, and the full output of every step beside it
(the same name, ``.log``). It installs nothing: GPU machines have CuPy and PyTorch but no
package registry, so it runs on the interpreter that runs it (``./dev gpu-check`` picks
``$PYTHON``, else ``.venv``'s when it has CuPy, else ``python3``) with ``src/`` on the path, and
the report lists what is missing. Without CuPy or a GPU it says which and exits 0.

The default (``--quick``) finishes in about 8 minutes (``--budget 480``): the scripts run with
few repeats and the test suite gets at least ``--pytest-time`` seconds, plus whatever the
scripts leave. ``--full`` uses the scripts' own repeats and a 30-minute budget. Another backend
(``--backend array_api_strict``) runs the same pipeline on the CPU, which is how the tool itself
is tested.

    python tools/gpu_check.py [--out gpu-check-report.md] [--quick | --full] [--budget S]
        [--scripts NAME ...] [--no-pytest] [--pytest-args ARGS] [--pytest-time S]
        [--pytest-workers N] [--backend cupy] [--torch-device auto] [--threads 1] [--repeat N]

Exit status: 0 when every step passed or when there is no GPU to check, 1 when a step failed,
timed out or was not reached within the budget.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "asv_benchmarks"

# name -> (quick arguments, full arguments, quick time limit in seconds); every script also gets
# --backend and --threads, and --torch-device where it has one (TORCH_DEVICE_SCRIPTS).
SCRIPTS = {
    "mlp_vs_torch": (["--repeat", "10"], [], 60),
    "overhead_vs_torch": (["--repeat", "3", "--sample-time", "0.01"], [], 60),
    "conv_vs_torch": (["--repeat", "3", "--no-memory"], [], 75),
    "rnn_vs_torch": (["--repeat", "3", "--no-memory"], [], 75),
    "embedding_vs_torch": (["--repeat", "3"], [], 75),
    "attention_vs_torch": (["--repeat", "3", "--no-memory"], [], 120),
    "norm_vs_torch": (["--repeat", "3", "--no-memory"], [], 75),
    "word2vec_vs_gensim": (["--modes", "sg-ns", "cbow-hs", "--workers", "1", "--runs", "1",
                            "--epochs", "1", "--max-words", "100000", "--no-quality"],
                           ["--runs", "1"], 90),
    "distributed_vs_single": ([], [], 60),
}
TORCH_DEVICE_SCRIPTS = {"mlp_vs_torch", "conv_vs_torch", "rnn_vs_torch", "embedding_vs_torch",
                        "attention_vs_torch", "norm_vs_torch"}
# Without gensim there is no corpus (it ships gensim's test data): xpnet alone on a Zipf corpus.
WORD2VEC_WITHOUT_GENSIM = (["--modes", "sg-ns", "cbow-hs", "--runs", "1", "--epochs", "1",
                            "--zipf-vocab", "10000", "--zipf-words", "100000"],
                           ["--runs", "1", "--zipf-vocab", "10000", "100000"])
FULL_LIMIT_FACTOR = 4
STOP_GRACE = 20  # seconds between SIGINT (pytest prints its summary) and SIGKILL

# Runs with nothing but the standard library and CuPy, so that it can say why on any machine.
PROBE = r"""
import json, sys
index = int(sys.argv[1])
out = {}
try:
    import cupy
except Exception as e:
    out["why"] = f"CuPy is not installed ({type(e).__name__}: {e})"
else:
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        count, out["why"] = 0, (f"CuPy is installed but no CUDA device is visible "
                                f"({type(e).__name__}: {e}); check nvidia-smi")
    if count and index >= count:
        out["why"] = f"no GPU {index}: CuPy sees {count}"
    elif count:
        try:
            cupy.cuda.Device(index).use()
            cupy.zeros(1).sum().item()
        except Exception as e:
            out["why"] = f"a CuPy smoke test on GPU {index} failed ({type(e).__name__}: {e})"
        else:
            p = cupy.cuda.runtime.getDeviceProperties(index)
            name = p["name"].decode() if isinstance(p["name"], bytes) else str(p["name"])
            version = lambda v: f"{v // 1000}.{v % 1000 // 10}"
            out.update(count=count, name=name, memory_gib=p["totalGlobalMem"] / 2**30,
                       capability=f"{p['major']}.{p['minor']}",
                       runtime=version(cupy.cuda.runtime.runtimeGetVersion()),
                       driver=version(cupy.cuda.runtime.driverGetVersion()))
    elif "why" not in out:
        out["why"] = "CuPy is installed but sees no CUDA device; check nvidia-smi"
print(json.dumps(out))
"""

VERSIONS = r"""
import importlib, json, platform, sys
out = {"python": f"{platform.python_version()} ({sys.executable})"}
for name in ("numpy", "array_api_compat", "array_api_strict", "cupy", "torch", "gensim",
             "pytest", "xdist", "pytest_timeout", "hypothesis", "mpi4py", "xpnet"):
    try:
        module = importlib.import_module(name)
    except Exception as e:
        out[name] = None
        out.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
    else:
        out[name] = str(getattr(module, "__version__", "installed"))
        if name == "torch":
            cuda = module.cuda.is_available()
            built = (f"built for CUDA {module.version.cuda}" if module.version.cuda
                     else "a CPU-only build")
            out["torch_cuda"] = f"{built}, {'sees a' if cuda else 'sees no'} GPU"
            out["torch_sees_gpu"] = cuda
print(json.dumps(out))
"""


@dataclass
class Outcome:
    """One step's result: ``code`` None when it was stopped at its limit."""
    command: list
    code: int | None
    seconds: float
    stdout: str
    stderr: str
    limit: float


def run_step(command, limit, env=None, cwd=ROOT):
    """Run ``command`` (a list) for at most ``limit`` seconds and return its `Outcome`. At the
    limit its whole process group (pytest-xdist workers, mpiexec ranks) gets SIGINT, so that
    pytest still prints what failed so far, then SIGKILL after a grace period."""
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd,
                                   stdin=subprocess.DEVNULL, start_new_session=True, text=True)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            code = None
            _stop(process)
        seconds = time.monotonic() - start
        out.seek(0), err.seek(0)
        return Outcome(list(command), code, seconds, out.read(), err.read(), limit)


def _stop(process):
    for sig, wait in ((signal.SIGINT, STOP_GRACE), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def status_of(outcome):
    if outcome.code is None:
        return f"timed out after {outcome.limit:.0f} s"
    return "ok" if outcome.code == 0 else f"failed (exit {outcome.code})"


def probe_gpu(python, backend, env):
    """(why no GPU check can run or None, device facts) for ``backend`` (a cupy one)."""
    index = int(backend.partition(":")[2] or 0)
    outcome = run_step([python, "-c", PROBE, str(index)], 60, env)
    if outcome.code != 0:
        tail = (outcome.stderr or outcome.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"probing CuPy failed ({status_of(outcome)}: {tail[0]})", {}
    facts = json.loads(outcome.stdout.strip().splitlines()[-1])
    return facts.pop("why", None), facts


def versions(python, env):
    outcome = run_step([python, "-c", VERSIONS], 120, env)
    if outcome.code != 0:
        return {"python": python, "errors": {"versions": (outcome.stderr or "")[-500:]}}
    return json.loads(outcome.stdout.strip().splitlines()[-1])


def git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, text=True,
                               capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no git)"
    if head.returncode:
        return "unknown (not a git checkout)"
    changed = len(dirty.stdout.splitlines())
    return head.stdout.strip() + (f" + {changed} changed file(s)" if changed else "")


# -- the steps --------------------------------------------------------------------------------

def script_command(python, name, args, facts):
    """The command line of side-by-side script ``name`` (None and why when it cannot run)."""
    quick, full, _ = SCRIPTS[name]
    extra = list(full if args.full else quick)
    if name == "word2vec_vs_gensim" and not facts.get("gensim"):
        extra = list(WORD2VEC_WITHOUT_GENSIM[1 if args.full else 0])
    if name == "distributed_vs_single":
        return None, distributed_reason(args.backend, facts)
    if args.repeat is not None and "--repeat" in extra:
        extra[extra.index("--repeat") + 1] = str(args.repeat)
    elif args.repeat is not None and name != "word2vec_vs_gensim":
        extra += ["--repeat", str(args.repeat)]
    extra += ["--backend", args.backend, "--threads", str(args.threads)]
    if name in TORCH_DEVICE_SCRIPTS:
        extra += ["--torch-device", args.torch_device]
    return [python, str(BENCH / f"{name}.py"), *extra], None


def distributed_reason(backend, facts):
    if not backend.startswith("cupy"):
        return (f"distributed_vs_single.py runs NumPy ranks over MPI only; it has no "
                f"--backend, so there is nothing to check on {backend}")
    gpus = facts.get("count", 0)
    if gpus < 2:
        return (f"data-parallel scaling on GPUs needs one GPU per rank (NCCL refuses two ranks "
                f"on one GPU) and {gpus} is visible; distributed_vs_single.py measures NumPy "
                f"ranks over MPI on the CPU, which says nothing about the GPU. The one-rank "
                f"NCCL test runs (step 'NCCL')")
    return (f"{gpus} GPUs are visible, but distributed_vs_single.py has no NCCL mode yet (its "
            f"ranks run NumPy over MPI); the NCCL test runs one rank per GPU (step 'NCCL')")


def pytest_command(python, args, facts, extra_args=None, parallel=True):
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--tb=line",
               "--continue-on-collection-errors", "--durations=10"]
    workers = args.pytest_workers
    if workers is None:
        workers = min(8, (os.cpu_count() or 1) // 2) if facts.get("xdist") else 0
    if parallel and workers > 1 and facts.get("xdist"):
        command += ["-n", str(workers)]
    if facts.get("pytest_timeout"):
        command += ["--timeout", "120"]
    if extra_args is not None:
        return command + extra_args
    if not facts.get("array_api_strict"):  # its parameters would only fail to load it
        command += ["-k", "not array_api_strict"]
    return command + shlex.split(args.pytest_args)


def pytest_summary(text):
    """(the closing summary line, the FAILED/ERROR lines) of pytest's output."""
    summary = ""
    for line in reversed(text.splitlines()):
        if re.search(r"\d+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)", line) \
                or "no tests ran" in line:
            summary = line.strip(" =")
            break
    failures = [line for line in text.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return summary, failures


# -- the report -------------------------------------------------------------------------------

def fence(text, limit=200):
    """``text`` as a fenced block of at most ``limit`` lines (the last ones)."""
    lines = text.rstrip().splitlines()
    if len(lines) > limit:
        lines = [f"... ({len(lines) - limit} earlier lines in the .log)"] + lines[-limit:]
    return "```\n" + "\n".join(lines) + "\n```"


def machine_rows(args, facts, gpu):
    if gpu:
        device = (f"{gpu['name']}, {gpu['memory_gib']:.1f} GiB, compute capability "
                  f"{gpu['capability']} ({gpu['count']} GPU(s) visible)")
        cuda = f"runtime {gpu['runtime']}, driver supports {gpu['driver']}"
    else:
        device = f"none: the {args.backend} backend stands in for a GPU (CPU)"
        cuda = "not used"
    rows = [("backend", args.backend), ("device", device), ("CUDA", cuda)]
    smi = nvidia_smi()
    if smi:
        rows.append(("nvidia-smi", smi))
    rows.append(("python", facts.get("python", "?")))
    for name in ("numpy", "cupy", "torch", "array_api_compat", "array_api_strict", "gensim",
                 "pytest", "xdist", "pytest_timeout", "hypothesis", "mpi4py", "xpnet"):
        value = facts.get(name) or "**not installed**"
        if name == "torch" and facts.get("torch_cuda"):
            value += f" ({facts['torch_cuda']})"
        rows.append((name.replace("_", "-"), value))
    rows.append(("commit", git_commit()))
    rows.append(("CPU cores", str(os.cpu_count())))
    return rows


def nvidia_smi():
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                               "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return "; ".join(done.stdout.split("\n")).strip("; ") if done.returncode == 0 else ""


def missing_notes(facts):
    notes = []
    for name, why in (("numpy", "xpnet cannot import"),
                      ("array_api_compat", "xpnet cannot import"),
                      ("torch", "the side-by-side scripts and most tests need it"),
                      ("pytest", "the test suite cannot run"),
                      ("array_api_strict", "the tests whose names hold array_api_strict are "
                                           "deselected, and those that import it fail"),
                      ("gensim", "word2vec runs without gensim, on a synthetic corpus")):
        if not facts.get(name):
            notes.append(f"- {name} is missing: {why}. gpu-check installs nothing; put a wheel's "
                         f"contents on PYTHONPATH to add it.")
    for name, error in facts.get("errors", {}).items():
        if name in ("xpnet", "versions") or (name == "torch" and facts.get("torch") is None):
            notes.append(f"- importing {name} failed: `{error}`")
    return notes


def write_report(path, args, facts, gpu, steps, started):
    """The markdown report; ``steps`` is a list of (title, Outcome or None, text): a note, or
    with None (a step that did not run) why not."""
    elapsed = time.monotonic() - started
    lines = ["# xpnet GPU check", "",
             f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
             f"{'full' if args.full else 'quick'} profile; {elapsed:.0f} s in all (budget "
             f"{args.budget:.0f} s); command: `{' '.join(map(shlex.quote, sys.argv))}`", "",
             "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine_rows(args, facts, gpu)]
    notes = missing_notes(facts)
    if notes:
        lines += [""] + notes
    lines += ["", "## Summary", "", "| step | result | seconds | limit s |", "|---|---|---:|---:|"]
    for title, outcome, text in steps:
        if outcome is None:
            lines.append(f"| {title} | {text} | | |")
        else:
            result = status_of(outcome)
            if title.startswith("pytest"):
                summary = pytest_summary(outcome.stdout)[0]
                result = f"{result}: {summary}" if summary else result
            lines.append(f"| {title} | {result} | {outcome.seconds:.0f} | {outcome.limit:.0f} |")
    for title, outcome, text in steps:
        lines += ["", f"## {title}", ""]
        if outcome is None:
            lines.append(text[0].upper() + text[1:] + ".")
            continue
        lines += [f"`{' '.join(map(shlex.quote, _relative(outcome.command)))}`: "
                  f"{status_of(outcome)} in {outcome.seconds:.0f} s", ""]
        if title.startswith("pytest"):
            summary, failures = pytest_summary(outcome.stdout)
            lines.append(f"Summary: {summary or 'no summary line (see the .log)'}")
            if failures:
                lines += ["", f"{len(failures)} failed or in error:", "",
                          fence("\n".join(failures), 300)]
            durations = _section(outcome.stdout, "slowest")
            if durations:
                lines += ["", "Slowest:", "", fence(durations, 15)]
        else:
            lines.append(outcome.stdout.rstrip() or "(no output)")
        if text:
            lines += ["", text]
        if outcome.code != 0 and outcome.stderr.strip():
            lines += ["", "Last lines of its standard error:", "", fence(outcome.stderr, 40)]
    lines += ["", "## Knobs", "",
              "`./dev gpu-check --help` lists them: `--full` (the scripts' own repeats, "
              "budget 1800 s), `--budget S`, `--scripts NAME ...`, `--no-pytest`, "
              "`--pytest-args '...'`, `--pytest-time S`, `--pytest-workers N`, `--repeat N`, "
              "`--threads N`, `--torch-device cpu|cuda|auto`, `--backend NAME`, `--out FILE`."]
    Path(path).write_text("\n".join(lines) + "\n")


def _relative(command):
    return [str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT) + os.sep) else c
            for c in command]


def _section(text, marker):
    """pytest's '=== ... marker ... ===' section, up to the next '===' line."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("=") and marker in line:
            inside = True
            continue
        if inside and (line.startswith("=") or pytest_summary(line)[0]):
            break
        if inside:
            out.append(line)
    return "\n".join(out).strip()


def write_log(path, steps):
    with open(path, "w") as log:
        for title, outcome, text in steps:
            log.write(f"===== {title}\n")
            if outcome is None:
                log.write(f"{text}\n")
                continue
            log.write(f"$ {' '.join(map(shlex.quote, outcome.command))}\n"
                      f"{status_of(outcome)} in {outcome.seconds:.1f} s\n"
                      f"--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}\n")


# -- main -------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="The test suite and every side-by-side benchmark on the GPU, in one "
                    "markdown report; installs nothing, and exits 0 where there is no GPU.")
    parser.add_argument("--out", default="gpu-check-report.md",
                        help="the markdown report (default gpu-check-report.md); the full "
                             "output of every step goes beside it, with .log")
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--quick", action="store_true",
                         help="few repeats, about 8 minutes (the default)")
    profile.add_argument("--full", action="store_true",
                         help="the scripts' own repeats and settings, time limits x4")
    parser.add_argument("--budget", type=float,
                        help="seconds for all the steps (default 480, 1800 with --full)")
    parser.add_argument("--backend", default="cupy",
                        help="xpnet backend to check (default cupy; cupy:N for another GPU; "
                             "array_api_strict runs the pipeline on the CPU)")
    parser.add_argument("--scripts", nargs="*", metavar="NAME",
                        help=f"side-by-side scripts to run (default all: {', '.join(SCRIPTS)}); "
                             f"none for no script")
    parser.add_argument("--no-pytest", action="store_true", help="do not run the test suite")
    parser.add_argument("--pytest-args", default="tests",
                        help="what pytest runs, as one string (default 'tests')")
    parser.add_argument("--pytest-time", type=float, default=240,
                        help="seconds kept for the test suite, which also gets what the scripts "
                             "leave of the budget (default 240)")
    parser.add_argument("--pytest-workers", type=int,
                        help="pytest-xdist workers (default min(8, cores / 2) when xdist is "
                             "installed; 0 for none)")
    parser.add_argument("--torch-device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where torch runs in the scripts that compare with it (default "
                             "auto: cuda when the backend is cupy and torch sees a GPU)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads of each script (default 1)")
    parser.add_argument("--repeat", type=int, help="override the scripts' --repeat")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 1800.0 if args.full else 480.0
    if args.scripts is None:
        args.scripts = list(SCRIPTS)
    args.scripts = [s.removesuffix(".py") for s in args.scripts if s != "none"]
    unknown = [s for s in args.scripts if s not in SCRIPTS]
    if unknown:
        parser.error(f"unknown script(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    python = sys.executable
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                               if p]), PYTHONUNBUFFERED="1")
    gpu = None
    if args.backend.startswith("cupy"):
        why, gpu = probe_gpu(python, args.backend, env)
        if why is not None:
            print(f"gpu-check: no GPU check on this machine: {why}. Nothing was run (exit 0); "
                  f"on a machine with an NVIDIA GPU and CuPy, ./dev gpu-check runs the tests "
                  f"and the benchmarks there.")
            return 0
        print(f"gpu-check: {gpu['name']} ({gpu['count']} GPU(s)), CUDA runtime {gpu['runtime']}",
              flush=True)
    facts = versions(python, env)
    facts["count"] = gpu["count"] if gpu else 0
    step_env = dict(env, XPNET_BACKEND=args.backend)
    if args.torch_device == "auto" and not facts.get("torch_sees_gpu"):
        args.torch_device = "cpu"

    deadline = started + args.budget
    reserve = 0 if args.no_pytest else args.pytest_time
    steps, unreached = [], []

    def run(title, command, limit, note=""):
        left = deadline - time.monotonic() - (reserve if not title.startswith("pytest") else 0)
        if left < 10:
            steps.append((title, None, f"not run: the --budget of {args.budget:.0f} s was spent"))
            unreached.append(title)
            print(f"gpu-check: {title}: not run, the budget was spent", flush=True)
            return
        print(f"gpu-check: {title} (limit {min(limit, left):.0f} s) ...", flush=True)
        outcome = run_step(command, min(limit, left), step_env)
        steps.append((title, outcome, note))
        print(f"gpu-check: {title}: {status_of(outcome)} in {outcome.seconds:.0f} s", flush=True)

    factor = FULL_LIMIT_FACTOR if args.full else 1
    for name in args.scripts:
        command, why = script_command(python, name, args, facts)
        if command is None:
            steps.append((name, None, f"skipped: {why}"))
            print(f"gpu-check: {name}: skipped ({why})", flush=True)
            continue
        note = ""
        if name == "word2vec_vs_gensim" and not facts.get("gensim"):
            note = ("gensim is not installed (its test data hold the corpus): xpnet's "
                    "standard-only kernel alone, on a synthetic Zipf corpus.")
        run(name, command, SCRIPTS[name][2] * factor, note)
    if args.backend.startswith("cupy") and "distributed_vs_single" in args.scripts:
        run("NCCL", pytest_command(python, args, facts, [
            "-rA", "tests/test_distributed_mpi.py::test_nccl_on_the_gpus"], parallel=False), 120,
            "One rank per GPU: the collectives on CuPy tensors and a DistributedDataParallel "
            "step against the same step in one process.")
    if not args.no_pytest:
        run(f"pytest (XPNET_BACKEND={args.backend})", pytest_command(python, args, facts),
            float("inf"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_report(out, args, facts, gpu, steps, started)
    write_log(out.with_suffix(".log"), steps)
    bad = [title for title, outcome, _ in steps if outcome is not None and outcome.code != 0]
    bad += unreached
    print(f"gpu-check: report in {out} (full output in {out.with_suffix('.log')}); "
          + (f"not ok: {', '.join(bad)}" if bad else "every step passed"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
