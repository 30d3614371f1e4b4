"""Per-op overhead of xpnet's autograd next to PyTorch's, on tiny tensors, in one process.

Each case is a chain of ``--n-ops`` elementwise ops on a float32 tensor of shape (4,), where the
arithmetic is negligible and the time is the framework's own (dispatch, graph recording, the
backward walk), plus one chain of 256x256 matmuls where the arithmetic dominates. Each runs in
three modes: forward under no_grad, forward recording the graph, and forward plus backward. Both
libraries run in this process with the same BLAS/OpenMP thread count.

    python asv_benchmarks/overhead_vs_torch.py [--threads 1] [--n-ops 100] [--repeat 15]

It prints a markdown table of microseconds per op (min and median over the repeats; forward +
backward is divided by the forward op count) and the xpnet/torch ratio of the medians.
"""

import argparse
import os
import platform
import statistics
import sys
import timeit
from pathlib import Path

MATMUL_SIZE = 256
MATMUL_LAYERS = 4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads for both libraries (default: 1)")
    parser.add_argument("--n-ops", type=int, default=100,
                        help="ops per tiny elementwise chain (default: 100)")
    parser.add_argument("--repeat", type=int, default=15,
                        help="timed samples per case; min and median are reported (default: 15)")
    parser.add_argument("--sample-time", type=float, default=0.05,
                        help="seconds per sample; calls are batched to reach it (default: 0.05)")
    parser.add_argument("--backend", default="numpy",
                        help="xpnet backend to compare with torch (default: numpy)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.n_ops < 1 or args.repeat < 1:
        parser.error("--threads, --n-ops and --repeat must be at least 1")
    return args


def _set_threads(n):
    # Must happen before numpy or torch is imported: the thread pools read these at load time.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[name] = str(n)


class Lib:
    """The few calls the chains need, under one name per framework."""

    def __init__(self, name, tensor, tanh, sigmoid, no_grad):
        self.name, self.tensor, self.tanh, self.sigmoid, self.no_grad = (
            name, tensor, tanh, sigmoid, no_grad)


def tiny_chains(lib, n_ops):
    """name -> (chain function of x, constants) for the elementwise cases."""
    import numpy as np

    c = lib.tensor(np.full(4, 0.01, dtype=np.float32))
    one = lib.tensor(np.ones(4, dtype=np.float32))
    minus_half = lib.tensor(np.full(4, -0.5, dtype=np.float32))
    four = lib.tensor(np.full(4, 4.0, dtype=np.float32))

    def add(y):
        for _ in range(n_ops):
            y = y + c
        return y

    def mul(y):
        for _ in range(n_ops):
            y = y * one
        return y

    def mul_scalar(y):
        for _ in range(n_ops):
            y = y * 1.0
        return y

    def tanh(y):
        for _ in range(n_ops):
            y = lib.tanh(y)
        return y

    def sigmoid(y):
        for _ in range(n_ops):
            y = lib.sigmoid(y)
        return y

    def mixed(y):
        # 4 * (sigmoid(tanh(y)) - 0.5) is close to y near 0: values and gradients stay O(1).
        for i in range(n_ops):
            step = i % 4
            if step == 0:
                y = lib.tanh(y)
            elif step == 1:
                y = lib.sigmoid(y)
            elif step == 2:
                y = y + minus_half
            else:
                y = y * four
        return y

    return {"add (tensor)": add, "mul (tensor)": mul, "mul (Python scalar)": mul_scalar,
            "tanh": tanh, "sigmoid": sigmoid, "mixed tanh/sigmoid/add/mul": mixed}


def matmul_chain(lib, weights):
    def chain(h):
        for w in weights:
            h = lib.tanh(h @ w)
        return h
    return chain


def time_per_call(fn, repeat, sample_time):
    """(min, median) seconds per call over ``repeat`` samples of a batch of calls."""
    fn()  # warm up caches and lazy imports
    once = min(timeit.repeat(fn, number=1, repeat=3))
    number = max(1, int(sample_time / max(once, 1e-9)))
    samples = [t / number for t in timeit.repeat(fn, number=number, repeat=repeat)]
    return min(samples), statistics.median(samples)


def measure(lib, chain, x, n_ops, args):
    """{mode: (min, median) microseconds per op} for one chain (on a GPU, each call waits for
    its queued work: ``lib.sync``)."""
    sync = getattr(lib, "sync", None) or (lambda: None)

    def forward_no_grad():
        with lib.no_grad():
            chain(x)
        sync()

    def forward():
        chain(x)
        sync()

    def forward_backward():
        x.grad = None
        chain(x).sum().backward()
        sync()

    out = {}
    for mode, fn in (("forward, no_grad", forward_no_grad), ("forward (records graph)", forward),
                     ("forward + backward", forward_backward)):
        lo, med = time_per_call(fn, args.repeat, args.sample_time)
        out[mode] = (lo / n_ops * 1e6, med / n_ops * 1e6)
    return out


def check_agreement(xnet, torch, x_np, n_ops):
    """Largest |xpnet - torch| of the mixed chain's output and gradient (float32)."""
    import numpy as np

    results = []
    for lib, to_numpy in ((xnet, lambda t: t.numpy()), (torch, lambda t: t.detach().numpy())):
        x = lib.tensor(x_np, requires_grad=True)
        y = tiny_chains(lib, n_ops)["mixed tanh/sigmoid/add/mul"](x)
        y.sum().backward()
        results.append((to_numpy(y), to_numpy(x.grad)))
    (y_a, g_a), (y_b, g_b) = results
    return float(np.max(np.abs(y_a - y_b))), float(np.max(np.abs(g_a - g_b)))


def main(argv=None):
    args = parse_args(argv)
    _set_threads(args.threads)
    # Measure this checkout's xpnet even if another one is installed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

    import numpy as np
    import torch

    import xpnet

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    backend = args.backend

    xnet = Lib(f"xpnet-{backend}",
               lambda a, requires_grad=False: xpnet.tensor(a, requires_grad=requires_grad,
                                                           backend=backend),
               xpnet.tanh, xpnet.sigmoid, xpnet.no_grad)
    xnet.sync = xpnet.backend.load(backend).synchronize
    tlib = Lib("torch", lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad),
               torch.tanh, torch.sigmoid, torch.no_grad)

    rng = np.random.default_rng(0)
    x_tiny = rng.standard_normal(4).astype(np.float32)
    x_mat = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE)).astype(np.float32)
    w_mat = [(rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE)) / MATMUL_SIZE**0.5).astype(np.float32)
             for _ in range(MATMUL_LAYERS)]

    rows = []
    names = list(tiny_chains(tlib, args.n_ops))
    matmul_name = (f"{MATMUL_LAYERS} x (matmul {MATMUL_SIZE}x{MATMUL_SIZE} + tanh) "
                   f"[{2 * MATMUL_LAYERS} ops]")
    for name in names + [matmul_name]:
        per_lib = []
        for lib in (xnet, tlib):
            if name == matmul_name:
                chain = matmul_chain(lib, [lib.tensor(w, requires_grad=True) for w in w_mat])
                x, n_ops = lib.tensor(x_mat, requires_grad=True), 2 * MATMUL_LAYERS
            else:
                chain = tiny_chains(lib, args.n_ops)[name]
                x, n_ops = lib.tensor(x_tiny, requires_grad=True), args.n_ops
            per_lib.append(measure(lib, chain, x, n_ops, args))
        for mode in per_lib[0]:
            (x_min, x_med), (t_min, t_med) = per_lib[0][mode], per_lib[1][mode]
            rows.append((name, mode, x_min, x_med, t_min, t_med, x_med / t_med))

    y_diff, g_diff = check_agreement(xnet, tlib, x_tiny, args.n_ops)

    print(f"xpnet {xpnet.__version__} (backend {backend}, numpy {np.__version__}) vs torch "
          f"{torch.__version__}; Python {platform.python_version()}; threads={args.threads} "
          f"(torch.get_num_threads()={torch.get_num_threads()}), {os.cpu_count()} CPUs; "
          f"tiny chains: {args.n_ops} ops on float32 (4,); {args.repeat} samples of "
          f">= {args.sample_time * 1e3:.0f} ms each.")
    print()
    print(f"| chain | mode | {xnet.name} µs/op min | median | torch µs/op min | median "
          f"| xpnet/torch (median) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, mode, x_min, x_med, t_min, t_med, ratio in rows:
        print(f"| {name} | {mode} | {x_min:.2f} | {x_med:.2f} | {t_min:.2f} | {t_med:.2f} "
              f"| {ratio:.2f} |")
    print()
    print(f"Agreement on the mixed chain: max |xpnet - torch| = {y_diff:.2e} (output), "
          f"{g_diff:.2e} (gradient).")


if __name__ == "__main__":
    main()
