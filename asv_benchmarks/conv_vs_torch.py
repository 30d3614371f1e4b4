"""Convolutions in xpnet (fast paths on and off) next to PyTorch (default: NumPy, CPU).

The issue's three shapes, float32, the same data and weights in both, the same BLAS/OpenMP thread
count (set before numpy and torch load):

- conv2d: N=32, 64 -> 64 channels, 32x32, 3x3, padding 1;
- LeNet conv1: N=64, 1 -> 6 channels, 28x28, 5x5;
- text conv1d: N=64, 128 -> 100 channels, length 50, width 3.

    python asv_benchmarks/conv_vs_torch.py [--threads 1] [--repeat 20] [--no-memory]
        [--backend numpy] [--torch-device cpu]

Prints a markdown table of milliseconds per call (median over interleaved rounds) for the forward
(no graph) and forward+backward (input, weight and bias gradients), the ratios to torch, and the
peak memory of forward+backward: how far the first call, then warm calls, raise the process's
peak RSS above the RSS before them, in a fresh subprocess per implementation and shape (Linux
only). The first call's figure includes the scratch buffers xpnet's NumPy kernels keep.
"""

import sys
from pathlib import Path

import side_by_side

# name -> (function, input shape, weight shape, options)
CASES = {
    "conv2d 32x64x32x32, 3x3, pad 1": ("conv2d", (32, 64, 32, 32), (64, 64, 3, 3),
                                       {"padding": 1}),
    "LeNet conv1 64x1x28x28, 5x5": ("conv2d", (64, 1, 28, 28), (6, 1, 5, 5), {}),
    "text conv1d 64x128x50, width 3": ("conv1d", (64, 128, 50), (100, 128, 3), {}),
    "max_pool2d 2x2 on 32x64x32x32": ("max_pool2d", (32, 64, 32, 32), None, {"kernel_size": 2}),
}



def _steps(case, threads, check=True, backend="numpy", device="cpu"):
    """{implementation: (forward, forward_backward)} closures on the same float32 data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np
    import torch

    import xpnet
    import xpnet.functional as F

    torch.set_num_threads(threads)
    xpnet.set_backend(backend)
    function, x_shape, w_shape, options = CASES[case]
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(x_shape, dtype=np.float32)
    pooling = w_shape is None  # a pooling case: no weight or bias
    w_np = b_np = None
    if not pooling:
        scale = np.float32(np.sqrt(np.prod(w_shape[1:])))
        w_np = rng.standard_normal(w_shape, dtype=np.float32) / scale
        b_np = rng.standard_normal(w_shape[0], dtype=np.float32)
    out_shape = getattr(torch.nn.functional, function)(
        torch.from_numpy(x_np), *(() if pooling else (torch.from_numpy(w_np),)), **options).shape
    grad_np = rng.standard_normal(tuple(out_shape), dtype=np.float32)

    x = xpnet.tensor(x_np, requires_grad=True)
    grad = xpnet.tensor(grad_np)
    tx = torch.from_numpy(x_np).to(device).requires_grad_()
    tgrad = torch.from_numpy(grad_np).to(device)
    params = () if pooling else tuple(xpnet.tensor(a, requires_grad=True) for a in (w_np, b_np))
    tparams = () if pooling else tuple(torch.from_numpy(a).to(device).requires_grad_()
                                       for a in (w_np, b_np))
    f = getattr(F, function)
    tf = getattr(torch.nn.functional, function)

    def xpnet_steps(fast):
        def forward():
            with xpnet.use_fast_paths(fast), xpnet.no_grad():
                return f(x, *params, **options)

        def forward_backward():
            for t in (x, *params):
                t.grad = None
            with xpnet.use_fast_paths(fast):
                f(x, *params, **options).backward(grad)
            return x.grad
        return forward, forward_backward

    def torch_forward():
        with torch.no_grad():
            return tf(tx, *tparams, **options)

    def torch_forward_backward():
        for t in (tx, *tparams):
            t.grad = None
        tf(tx, *tparams, **options).backward(tgrad)
        return tx.grad

    steps = {"xpnet": xpnet_steps(True), "xpnet-twin": xpnet_steps(False),
             "torch": (torch_forward, torch_forward_backward)}
    if not check:
        return steps
    # Same numbers on both sides (checked here so the table never times a wrong result).
    steps["xpnet"][1](), steps["torch"][1]()
    pairs = [(x.grad, tx.grad)] + [(p.grad, t.grad) for p, t in zip(params, tparams)]
    side_by_side.assert_same_gradients(pairs, case)
    return steps


def main(argv=None):
    side_by_side.forward_backward_table(
        argv, script=__file__, description=__doc__.split("\n\n")[0], cases=CASES,
        steps=_steps, setting="float32")


if __name__ == "__main__":
    main()
