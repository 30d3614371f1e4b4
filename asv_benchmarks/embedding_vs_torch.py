"""Embedding lookups in xpnet (fast paths on and off) next to PyTorch (default: NumPy, CPU).

The issue's shape: vocabulary 50,000, dim 128, 8,192 indices drawn from a Zipf law (rank r with
probability proportional to 1/r, as word frequencies), float32, the same weights and upstream
gradients in both, the same BLAS/OpenMP thread count (set before numpy and torch load):

- embedding, dense gradient: ``F.embedding`` then backward, the weight's gradient a
  (50,000, 128) array (a scatter-add of the 8,192 rows);
- embedding, sparse gradient: ``sparse=True``, the gradient the 8,192 looked-up rows;
- embedding_bag mean: the same 8,192 indices cut into 512 bags of random lengths, dense
  gradient; and the same with a sparse gradient.

    python asv_benchmarks/embedding_vs_torch.py [--threads 1] [--repeat 30] [--backend numpy]
        [--torch-device cpu]

Prints a markdown table of milliseconds per call (median over interleaved rounds) for the forward
(no graph), forward+backward and, for sparse gradients, forward+backward+``SparseAdam.step()``,
with the ratios to torch. "xpnet-twin" runs with fast paths off (the standard-only
sorted-cumulative-sum scatter).
"""

import argparse
import sys
from pathlib import Path

import side_by_side

VOCABULARY, DIM, LOOKUPS, BAGS = 50_000, 128, 8_192, 512
CASES = {  # name -> (function, sparse)
    "embedding, dense grad": ("embedding", False),
    "embedding, sparse grad": ("embedding", True),
    "embedding_bag mean, dense grad": ("embedding_bag", False),
    "embedding_bag mean, sparse grad": ("embedding_bag", True),
}
IMPLEMENTATIONS = ("xpnet", "xpnet-twin", "torch")



def zipf_indices(rng, vocabulary=VOCABULARY, lookups=LOOKUPS):
    """Ranks 0..vocabulary-1 with probability proportional to 1 / (rank + 1)."""
    import numpy as np

    p = 1.0 / np.arange(1, vocabulary + 1)
    return rng.choice(vocabulary, size=lookups, p=p / p.sum()).astype(np.int64)


def _steps(case, threads, check=True, backend="numpy", device="cpu"):
    """{implementation: (forward, forward_backward, sparse_step or None)} closures on the same
    float32 data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np
    import torch

    import xpnet
    import xpnet.functional as F
    from xpnet import optim

    torch.set_num_threads(threads)
    xpnet.set_backend(backend)
    function, sparse = CASES[case]
    rng = np.random.default_rng(0)
    w_np = rng.standard_normal((VOCABULARY, DIM), dtype=np.float32)
    idx_np = zipf_indices(rng)
    offsets_np = np.concatenate(([0], np.sort(rng.choice(np.arange(1, LOOKUPS), BAGS - 1,
                                                         replace=False))))
    rows = LOOKUPS if function == "embedding" else BAGS
    grad_np = rng.standard_normal((rows, DIM), dtype=np.float32)

    w, idx, grad = xpnet.tensor(w_np, requires_grad=True), xpnet.tensor(idx_np), \
        xpnet.tensor(grad_np)
    offsets = xpnet.tensor(offsets_np)
    tw = torch.from_numpy(w_np).to(device).requires_grad_()
    tidx, tgrad, toffsets = (torch.from_numpy(a).to(device) for a in (idx_np, grad_np, offsets_np))
    if function == "embedding":
        def ours():
            return F.embedding(idx, w, sparse=sparse)

        def theirs():
            return torch.nn.functional.embedding(tidx, tw, sparse=sparse)
    else:
        def ours():
            return F.embedding_bag(idx, w, offsets, mode="mean", sparse=sparse)

        def theirs():
            return torch.nn.functional.embedding_bag(tidx, tw, toffsets, mode="mean",
                                                     sparse=sparse)

    def xpnet_steps(fast):
        def forward():
            with xpnet.use_fast_paths(fast), xpnet.no_grad():
                return ours()

        def forward_backward():
            w.grad = None
            with xpnet.use_fast_paths(fast):
                ours().backward(grad)
            return w.grad

        def step():
            with xpnet.use_fast_paths(fast):
                forward_backward()
                optimizer.step()
        return forward, forward_backward, step if sparse else None

    def torch_forward():
        with torch.no_grad():
            return theirs()

    def torch_forward_backward():
        tw.grad = None
        theirs().backward(tgrad)
        return tw.grad

    def torch_step():
        torch_forward_backward()
        torch_optimizer.step()

    # Tiny steps, so that the table's repeated steps barely move the weights.
    optimizer = optim.SparseAdam([w], lr=1e-6)
    torch_optimizer = torch.optim.SparseAdam([tw], lr=1e-6)

    steps = {"xpnet": xpnet_steps(True), "xpnet-twin": xpnet_steps(False),
             "torch": (torch_forward, torch_forward_backward, torch_step if sparse else None)}
    if not check:
        return steps
    # Same numbers on both sides (checked here so the table never times a wrong result).
    for name in ("xpnet", "xpnet-twin"):
        got = steps[name][1]()
        got = (got.to_dense() if sparse else got).numpy()
        want = steps["torch"][1]()
        want = (want.to_dense() if sparse else want).cpu().numpy()
        assert np.max(np.abs(got - want)) <= 1e-4 * float(np.max(np.abs(want))), (case, name)
    return steps


def _time(case, threads, repeat, backend="numpy", device="cpu"):
    return side_by_side.interleaved_medians(
        _steps(case, threads, backend=backend, device=device), repeat,
        sync=side_by_side.synchronizer(backend, device))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30)
    side_by_side.add_device_arguments(parser)
    args = parser.parse_args(argv)
    side_by_side.set_threads(args.threads)

    import torch
    device = side_by_side.torch_device(args.backend, args.torch_device)
    print(f"float32; vocabulary {VOCABULARY}, dim {DIM}, {LOOKUPS} Zipf lookups; threads="
          f"{args.threads}; median of {args.repeat}; xpnet on {args.backend}, torch "
          f"{torch.__version__} on {device}; xpnet-twin = fast paths off (the standard-only "
          f"kernels)")
    print(f"| case | impl | forward ms | fwd+bwd ms | + SparseAdam step ms "
          f"| forward / torch-{device} | fwd+bwd / torch-{device} | step / torch-{device} |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        times = _time(case, args.threads, args.repeat, args.backend, device)
        for name in IMPLEMENTATIONS:
            forward, both = times[name, 0], times[name, 1]
            step = times.get((name, 2))
            step_ms, step_ratio = ("", "") if step is None else (
                f"{step:.2f}", f"{step / times['torch', 2]:.2f}")
            print(f"| {case} | {name} | {forward:.2f} | {both:.2f} | {step_ms} "
                  f"| {forward / times['torch', 0]:.2f} | {both / times['torch', 1]:.2f} "
                  f"| {step_ratio} |")


if __name__ == "__main__":
    main()
