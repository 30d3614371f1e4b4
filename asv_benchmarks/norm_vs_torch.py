"""Normalisation layers and average pooling in xpnet (fast paths on and off) next to PyTorch.

The layers of a CNN or Transformer step that are not convolutions or matrix products, float32,
the same data, weights and upstream gradient on both sides, the same BLAS/OpenMP thread count
(set before numpy and torch load), each layer in training mode:

- avg_pool2d 2x2 on (32, 64, 32, 32);
- BatchNorm2d(64) on (32, 64, 32, 32) (batch statistics, running averages updated);
- LayerNorm(256) on (32, 128, 256), a Transformer's activations;
- GroupNorm(8, 64) on (32, 64, 32, 32).

    python asv_benchmarks/norm_vs_torch.py [--threads 1] [--repeat 20] [--no-memory]
        [--backend numpy] [--torch-device cpu] [--cases CASE ...]

Prints the markdown table of asv_benchmarks/side_by_side.py: milliseconds per call (median over
interleaved rounds) of the forward (no graph) and forward+backward (input and parameter
gradients), the ratios to torch, and the peak memory of forward+backward in a fresh process.
"""

import sys
from pathlib import Path

import side_by_side

# name -> (layer class in nn, its arguments, input shape)
CASES = {
    "avg_pool2d 2x2 on 32x64x32x32": ("AvgPool2d", (2,), (32, 64, 32, 32)),
    "BatchNorm2d(64) on 32x64x32x32": ("BatchNorm2d", (64,), (32, 64, 32, 32)),
    "LayerNorm(256) on 32x128x256": ("LayerNorm", (256,), (32, 128, 256)),
    "GroupNorm(8, 64) on 32x64x32x32": ("GroupNorm", (8, 64), (32, 64, 32, 32)),
}


def _steps(case, threads, check=True, backend="numpy", device="cpu"):
    """{implementation: (forward, forward_backward)} closures on the same float32 data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np
    import torch

    import xpnet

    torch.set_num_threads(threads)
    xpnet.set_backend(backend)
    name, layer_args, x_shape = CASES[case]
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(x_shape, dtype=np.float32)
    grad_np = rng.standard_normal(x_shape if name != "AvgPool2d" else
                                  x_shape[:2] + (x_shape[2] // 2, x_shape[3] // 2),
                                  dtype=np.float32)
    layer = getattr(xpnet.nn, name)(*layer_args)
    tlayer = getattr(torch.nn, name)(*layer_args).to(device)
    # Random affine parameters (not the 1 and 0 they start at), the same on both sides.
    for (key, p), (_, tp) in zip(layer.named_parameters(), tlayer.named_parameters()):
        values = rng.standard_normal(tuple(tp.shape), dtype=np.float32)
        with torch.no_grad():
            tp.copy_(torch.from_numpy(values))
        with xpnet.no_grad():
            p.copy_(xpnet.tensor(values))
    layer.train(), tlayer.train()

    x = xpnet.tensor(x_np, requires_grad=True)
    grad = xpnet.tensor(grad_np)
    tx = torch.from_numpy(x_np).to(device).requires_grad_()
    tgrad = torch.from_numpy(grad_np).to(device)

    def xpnet_steps(fast):
        def forward():
            with xpnet.use_fast_paths(fast), xpnet.no_grad():
                return layer(x)

        def forward_backward():
            x.grad = None
            layer.zero_grad()
            with xpnet.use_fast_paths(fast):
                layer(x).backward(grad)
            return x.grad
        return forward, forward_backward

    def torch_forward():
        with torch.no_grad():
            return tlayer(tx)

    def torch_forward_backward():
        tx.grad = None
        tlayer.zero_grad()
        tlayer(tx).backward(tgrad)
        return tx.grad

    steps = {"xpnet": xpnet_steps(True), "xpnet-twin": xpnet_steps(False),
             "torch": (torch_forward, torch_forward_backward)}
    if not check:
        return steps
    # Same numbers on both sides (checked so the table never times a wrong result).
    steps["xpnet"][1](), steps["torch"][1]()
    pairs = [(x.grad, tx.grad)] + [(p.grad, tp.grad) for p, tp in
                                   zip(layer.parameters(), tlayer.parameters())]
    side_by_side.assert_same_gradients(pairs, case)
    return steps


def main(argv=None):
    side_by_side.forward_backward_table(
        argv, script=__file__, description=__doc__.split("\n\n")[0], cases=CASES,
        steps=_steps, setting="float32, training mode")


if __name__ == "__main__":
    main()
