"""How the scripts here hand their results to tests/test_distributed_mpi.py: one JSON file per
rank in the folder ``XPNET_TEST_RESULTS`` names (the ranks' stdout lines can interleave), or a
line on stdout when run by hand."""

from __future__ import annotations

import json
import os
import pathlib


def report(result):
    """Write ``result`` (a dict with this process's ``"rank"``)."""
    text = json.dumps(result)
    folder = os.environ.get("XPNET_TEST_RESULTS")
    if folder:
        pathlib.Path(folder, f"rank{result['rank']}.json").write_text(text)
    else:
        print(text, flush=True)
