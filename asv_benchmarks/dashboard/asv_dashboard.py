"""asv's dashboard, recorded offline and published so that it renders without internet.

``./dev bench [N] [asv run options]`` runs ``build``: it records the last N commits (default 5),
each from a git worktree of that commit, with asv's ``existing`` environment (the project's
venv, ``--python=same``), then ``asv publish``, then `make_offline`. Benchmarks already
recorded for a commit on this machine are not run again, unless ``--rerun``.

asv's ``index.html`` loads jQuery, flot and the rest from CDNs and, offline, sends the reader to
a page saying "external dependencies failed to load". `make_offline` copies those files from
their npm packages, pinned in ``package.json`` and ``package-lock.json`` beside this file and
installed by ``npm ci`` into ``node_modules/`` (ignored by git), into the HTML directory, and
points the tags at the copies. ``tests/test_dashboard.py`` opens the result in headless
Chromium with the network cut off.

    python asv_benchmarks/dashboard/asv_dashboard.py install     # npm ci, when the lock changed
    python asv_benchmarks/dashboard/asv_dashboard.py build [N] [--rerun] [asv run options]
    python asv_benchmarks/dashboard/asv_dashboard.py offline HTML_DIR
"""

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent  # asv_benchmarks/, where asv.conf.json is
REPO = BENCH_DIR.parent
NODE_MODULES = HERE / "node_modules"

# What asv 0.6's index.html loads from a CDN -> the same file in the pinned npm package.
# jQuery, bootstrap, blueimp-md5 and flot-orderbars are byte for byte the CDN's files (their
# integrity hashes match); cdnjs minified flot 0.8.3 itself, npm has the plain source; npm has
# no stupidtable 1.0.1, its 1.1.3 has the same jQuery API.
VENDOR = {
    "https://code.jquery.com/jquery-3.3.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js":
        "flot/jquery.flot.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js":
        "flot/jquery.flot.time.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js":
        "flot/jquery.flot.selection.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js":
        "flot/jquery.flot.categories.js",
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js":
        "flot-orderbars/js/jquery.flot.orderBars.js",
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js":
        "stupid-table-plugin/stupidtable.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js":
        "blueimp-md5/js/md5.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
}
# Files a vendored file loads relative to itself: bootstrap's CSS, its glyph fonts.
VENDOR_EXTRA = ["bootstrap/dist/fonts"]

_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
_URL = re.compile(r"""\b(src|href)\s*=\s*["'](https?://[^"']+)["']""", re.IGNORECASE)
# Attributes that only make sense for a cross-origin copy (and break a file:// one).
_CDN_ATTRIBUTES = re.compile(
    r"""\s+(integrity|crossorigin|referrerpolicy)(\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""",
    re.IGNORECASE)
_INTEGRITY = re.compile(r"""\bintegrity\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


class DashboardError(RuntimeError):
    """The dashboard cannot be built as asked (a tool missing, an unknown CDN file...)."""


def _lock_digest():
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()


def installed():
    """Whether ``node_modules`` holds the packages of the current ``package-lock.json``."""
    stamp = NODE_MODULES / ".xpnet-lock-sha256"
    return stamp.is_file() and stamp.read_text().strip() == _lock_digest()


def install():
    """``npm ci`` the pinned packages into ``node_modules``, unless they are there already."""
    if installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DashboardError("npm is missing: install Node.js's npm (Debian: apt-get install "
                             "npm; ./dev test does it when run as root)")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=HERE, check=True)
    (NODE_MODULES / ".xpnet-lock-sha256").write_text(_lock_digest() + "\n")


def _sri_matches(path, integrity):
    """Whether the file's bytes have one of the hashes of a Subresource Integrity value."""
    data = path.read_bytes()
    for token in integrity.split():
        algorithm, _, expected = token.partition("-")
        if algorithm in ("sha256", "sha384", "sha512"):
            digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if digest == expected:
                return True
    return False


def make_offline(html_dir, node_modules=NODE_MODULES):
    """Serve every CDN file of the dashboard in ``html_dir`` from ``html_dir/vendor``.

    Every ``<script src>`` and ``<link href>`` of the HTML files that points at ``http(s)://``
    is replaced by the file of `VENDOR`, copied from ``node_modules``; their integrity and
    crossorigin attributes go (the copies are same-origin). A remote address not in `VENDOR`
    (a newer asv loading something new) is an error, so that nothing is left to the network.

    Returns ``{url: (local path, same bytes as the CDN's)}``, the second from the tag's
    integrity hash.
    """
    html_dir, node_modules = Path(html_dir), Path(node_modules)
    vendor = html_dir / "vendor"
    done = {}

    def localize(match):
        tag = match.group(0)
        url = _URL.search(tag)
        if url is None:
            return tag
        if url.group(2) not in VENDOR:
            unknown.append(url.group(2))
            return tag
        package_file = VENDOR[url.group(2)]
        source = node_modules / package_file
        if not source.is_file():
            raise DashboardError(f"{source} is missing: run `python {Path(__file__)} install`")
        (vendor / package_file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, vendor / package_file)
        integrity = _INTEGRITY.search(tag)
        done[url.group(2)] = ("vendor/" + package_file,
                              bool(integrity) and _sri_matches(source, integrity.group(1)))
        tag = _CDN_ATTRIBUTES.sub("", tag)
        return tag.replace(url.group(2), "vendor/" + package_file)

    for page in sorted(html_dir.glob("*.html")):
        unknown = []
        text = _TAG.sub(localize, page.read_text(encoding="utf-8"))
        if unknown:
            raise DashboardError(f"{page.name} loads {', '.join(unknown)}, which has no local "
                                 f"copy: add its npm package to {HERE / 'package.json'} and the "
                                 f"file to VENDOR in {Path(__file__).name}")
        page.write_text(text, encoding="utf-8")
    for extra in VENDOR_EXTRA:
        shutil.copytree(node_modules / extra, vendor / extra, dirs_exist_ok=True)
    return done


def _asv(*args, env=None, check=True):
    return subprocess.run([sys.executable, "-m", "asv", *args], cwd=BENCH_DIR, check=check,
                          env=env).returncode


def _git(*args):
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout.strip()


def record(commits, machine, asv_args=(), rerun=False):
    """Run the suite on each commit (oldest first), each from a worktree of that commit.

    The benchmarks' code comes from this checkout; the xpnet they measure comes from the
    commit's worktree (``ASV_PYTHONPATH``). Unless ``rerun``, a benchmark already recorded for a
    commit on ``machine``, by the same benchmark code, is not run again
    (``--skip-existing-successful``). Returns the commits where asv failed (2: a benchmark
    raised, which the dashboard shows as a gap; 1: the suite did not import).
    """
    skip = () if rerun else ("--skip-existing-successful",)
    failed = []
    root = Path(tempfile.mkdtemp(prefix="xpnet-bench-"))
    try:
        for commit in commits:
            worktree = root / commit[:12]
            _git("worktree", "add", "--quiet", "--detach", str(worktree), commit)
            try:
                print(f"bench: {commit[:12]} {_git('log', '-1', '--format=%s', commit)[:60]}",
                      flush=True)
                env = dict(os.environ, ASV_PYTHONPATH=str(worktree / "src"))
                status = _asv("run", "--python=same", "--machine", machine,
                              "--set-commit-hash", commit, "--record-samples", *skip,
                              *asv_args, env=env, check=False)
                if status:
                    failed.append(commit)
                    print(f"bench: asv run exited {status} on {commit[:12]}; going on",
                          file=sys.stderr, flush=True)
            finally:
                _git("worktree", "remove", "--force", str(worktree))
    finally:
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=REPO, check=False)
    return failed


def build(n_commits=5, asv_args=(), rerun=False):
    """Record the last ``n_commits`` commits, publish, and make the pages offline; False when
    asv failed on some commit (the rest is published all the same)."""
    install()
    machine = os.environ.get("ASV_MACHINE") or socket.gethostname()
    machine_file = Path("~/.asv-machine.json").expanduser()  # where asv keeps its machines
    if not machine_file.is_file() or machine not in json.loads(machine_file.read_text()):
        _asv("machine", "--yes", "--machine", machine)
    commits = _git("rev-list", f"--max-count={n_commits}", "HEAD").split()[::-1]
    failed = record(commits, machine, asv_args, rerun)
    _asv("publish")
    html_dir = BENCH_DIR / ".asv" / "html"
    make_offline(html_dir)
    print(f"bench: {len(commits)} commits published to {html_dir}; to view it:\n"
          f"  {sys.executable} -m http.server -d {html_dir} 8765   # http://127.0.0.1:8765/")
    if failed:
        print(f"bench: asv failed on {', '.join(c[:12] for c in failed)} (see above)",
              file=sys.stderr)
    return not failed


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv else "build"
    try:
        if command == "install":
            install()
        elif command == "offline" and len(argv) == 1:
            make_offline(argv[0])
        elif command == "build":
            n = 5
            if argv and argv[0].isdigit():
                n = int(argv.pop(0))
            if n < 1:
                raise DashboardError("the number of commits must be at least 1")
            rerun = "--rerun" in argv
            if not build(n, [a for a in argv if a != "--rerun"], rerun):
                return 1
        else:
            print(__doc__.split("\n\n")[-1], file=sys.stderr)
            return 2
    except (DashboardError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
