"""The published asv dashboard renders offline: headless Chromium draws its graphs with the
network cut off.

The results are a fixture (``tests/dashboard_fixture/``: three commits of a real ``./dev bench``
run of ``TinyChain.time_forward_no_grad`` and the ``VsTorch`` ratios of two cases), filed under
the commits of a throwaway git repository, published by ``asv publish`` and made offline by
``asv_benchmarks/dashboard/asv_dashboard.py``, the code ``./dev bench`` runs. Chromium loads
the pages from a local HTTP server and resolves no other host, so anything still on a CDN fails
to load; the same pages before `make_offline` prove it (asv sends them to its error page).

Needs Chromium (Debian's ``chromium``) and the pinned npm packages; ``./dev test`` installs
both when it runs as root with apt-get, and this test skips with the reason otherwise.
"""

from __future__ import annotations

import functools
import http.server
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "dashboard_fixture"
sys.path.insert(0, str(ROOT / "asv_benchmarks" / "dashboard"))
import asv_dashboard  # noqa: E402

sys.path.remove(str(ROOT / "asv_benchmarks" / "dashboard"))

RATIO_GRAPH = "bench_vs_torch.VsTorch.track_forward"
ERROR_TEXT = "dependencies of airspeed velocity failed to load"


def _chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    why = ("not root" if os.geteuid() != 0 else
           "no apt-get" if shutil.which("apt-get") is None else "not installed yet")
    pytest.skip(f"chromium is missing ({why}): ./dev test installs Debian's chromium when it runs "
                f"as root with apt-get; or run `apt-get install chromium`")


def _git(repo, *args, date="2026-01-01T12:00:00"):
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.org",
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                           *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(html directory made offline, the same pages as asv published them, vendored files,
    the fixture's ratios)."""
    pytest.importorskip("asv")
    if not asv_dashboard.installed():
        pytest.skip("the dashboard's npm packages are not installed: ./dev test runs `npm ci` "
                    "for them; or run `python asv_benchmarks/dashboard/asv_dashboard.py install`")
    tmp = tmp_path_factory.mktemp("dashboard")
    repo, results = tmp / "repo", tmp / "results"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(FIXTURE, results, ignore=shutil.ignore_patterns("*-existing-*.json"))
    recorded = sorted((json.loads(p.read_text()) for p in FIXTURE.glob("*/*-existing-*.json")),
                      key=lambda r: r["date"])
    ratios = []
    # File each recorded commit under a commit of the throwaway repository, oldest first.
    for day, result in enumerate(recorded, start=1):
        (repo / "step.txt").write_text(str(day))
        _git(repo, "add", "step.txt")
        _git(repo, "commit", "-q", "-m", f"step {day}", date=f"2026-01-{day:02d}T12:00:00")
        commit = _git(repo, "rev-parse", "HEAD")
        result["commit_hash"] = commit
        machine = result["params"]["machine"]
        (results / machine / f"{commit[:8]}-{result['env_name']}.json").write_text(
            json.dumps(result))
        ratios += [v for v in result["results"][RATIO_GRAPH][0]
                   if v is not None and math.isfinite(v)]  # NaN: a case not run
    html = tmp / "html"
    conf = tmp / "asv.conf.json"
    conf.write_text(json.dumps({
        "version": 1, "project": "xpnet", "repo": str(repo), "branches": ["HEAD"],
        "dvcs": "git", "environment_type": "existing", "results_dir": str(results),
        "html_dir": str(html)}))
    publish = subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(conf)],
                             cwd=tmp, capture_output=True, text=True)
    assert publish.returncode == 0, publish.stdout[-2000:] + publish.stderr[-2000:]
    as_published = tmp / "as_published"
    shutil.copytree(html, as_published)
    vendored = asv_dashboard.make_offline(html)
    return html, as_published, vendored, ratios


@pytest.fixture(scope="module")
def serve(published):
    """``serve(directory)`` -> base URL of a local HTTP server of that directory."""
    servers = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    def start(directory):
        handler = functools.partial(Quiet, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _render(url, tmp_path):
    """The DOM after Chromium ran the page's scripts, with every host but 127.0.0.1
    unresolvable (the network cut off)."""
    result = subprocess.run(
        [_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _flot_plots(dom):
    """{plot div id: whether flot drew a canvas in it}, for the summary grid's plots."""
    plots = {}
    for match in re.finditer(r'<div id="summarygrid-([^"]+)" class="benchmark-plot"[^>]*>(.*?)'
                             r'</div>', dom, re.DOTALL):
        plots[match.group(1)] = 'class="flot-base"' in match.group(2)
    return plots


def test_published_pages_load_nothing_from_the_network(published):
    html, _, vendored, _ = published
    for page in html.glob("*.html"):
        assert not re.search(r"""<(script|link)\b[^>]*\b(src|href)=["']https?://""",
                             page.read_text()), page.name
    assert set(vendored) == set(asv_dashboard.VENDOR)
    # The pinned npm files are the very files asv's CDNs serve (their integrity hashes match).
    for url, (local, same_bytes) in vendored.items():
        assert (html / local).is_file()
        if "jquery-3.3.1" in url or "bootstrap@3.1.1" in url or "md5" in url:
            assert same_bytes, url


def test_asv_pages_as_published_fail_offline(published, serve, tmp_path):
    # The control: with the CDN tags left in, Chromium cannot fetch them here.
    _, as_published, _, _ = published
    dom = _render(serve(as_published) + "index.html", tmp_path)
    assert ERROR_TEXT in dom


def test_summary_grid_draws_every_graph_offline(published, serve, tmp_path):
    html, _, _, _ = published
    dom = _render(serve(html) + "index.html", tmp_path)
    assert ERROR_TEXT not in dom
    benchmarks = {name for name in json.loads((html / "index.json").read_text())["benchmarks"]}
    assert _flot_plots(dom) == {name: True for name in benchmarks}


def test_ratio_graph_is_drawn_with_its_axes_and_legend_offline(published, serve, tmp_path):
    html, _, _, ratios = published
    dom = _render(serve(html) + "index.html#" + RATIO_GRAPH, tmp_path)
    assert ERROR_TEXT not in dom
    main_graph = dom[dom.index('id="main-graph"'):dom.index('id="overview"')]
    assert 'class="flot-base"' in main_graph
    # flot writes the y axis' tick labels once it has scaled the axis to the data: they span
    # the recorded ratios, give or take one tick.
    y_axis = main_graph[main_graph.index("flot-y1-axis"):]
    ticks = [float(t) for t in re.findall(
        r'class="flot-tick-label tickLabel"[^>]*>\s*([0-9.]+)\s*<', y_axis)]
    assert len(ticks) >= 3, main_graph
    step = ticks[1] - ticks[0]
    assert min(ticks) - step <= min(ratios) and max(ratios) <= max(ticks) + step, (ticks, ratios)
    legend = re.findall(r'class="legendLabel">([^<]*)<', main_graph)
    assert {"case-tiny_ops", "case-embedding_bag"} <= {label.strip() for label in legend}
