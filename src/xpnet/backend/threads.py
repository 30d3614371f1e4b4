"""The CPU thread pools of the array libraries, for `xpnet.set_num_threads`.

NumPy's BLAS (and any OpenMP runtime loaded in the process) is limited through threadpoolctl
when it is installed (it comes with scikit-learn); PyTorch's intra-op pool through its own
setting, when torch has been imported (by the torch backend). CuPy runs on the GPU and has no
CPU pool to limit.
"""

from __future__ import annotations

import os
import sys


def limit(n: int) -> None:
    """Let every CPU thread pool loaded now use at most ``n`` threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        # Applied at the call; the returned limiter only matters to callers that restore.
        threadpool_limits(limits=n)
    torch = sys.modules.get("torch")  # never import torch just to limit it
    if torch is not None:
        torch.set_num_threads(n)


def current() -> int:
    """The most threads any loaded pool uses now (the CPU count when none can be asked)."""
    counts = []
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        counts += [pool["num_threads"] for pool in threadpool_info()
                   if pool.get("user_api") in ("blas", "openmp")]
    torch = sys.modules.get("torch")
    if torch is not None:
        counts.append(torch.get_num_threads())
    return max(counts) if counts else (os.cpu_count() or 1)
