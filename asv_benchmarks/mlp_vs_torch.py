"""One MLP training step in xpnet next to the same model in PyTorch (CPU), in one process.

784-512-512-10 ReLU MLP, batch 128, cross-entropy, Adam (lr 1e-3), float32, the same initial
weights and data in both; the same BLAS/OpenMP thread count (set before numpy and torch load).

    python asv_benchmarks/mlp_vs_torch.py [--threads 1] [--repeat 30] [--backend numpy]
        [--torch-device cpu]

Prints milliseconds per step (min and median) for xpnet-numpy and torch, their ratio, and the
largest difference between the two models' weights after the timed steps (they run the same
computation, so it stays at float32 round-off).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--torch-device", default="cpu", choices=["cpu", "cuda", "auto"],
                        help="where torch runs (auto: cuda when --backend is cupy and torch "
                             "sees a GPU)")
    args = parser.parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np
    import torch

    import xpnet
    import xpnet.nn as nn

    import side_by_side

    torch.set_num_threads(args.threads)
    device = side_by_side.torch_device(args.backend, args.torch_device)
    xpnet.use_backend(args.backend)
    xpnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    reference = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 10))
    reference.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    reference.to(device)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((128, 784)).astype(np.float32)
    y_np = rng.integers(0, 10, 128)
    x, y = xpnet.tensor(x_np), xpnet.tensor(y_np)
    tx, ty = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)

    optimizer = xpnet.optim.Adam(model.parameters(), lr=1e-3)
    t_optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    loss_fn, t_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def xpnet_step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    def torch_step():
        t_optimizer.zero_grad()
        loss = t_loss_fn(reference(tx), ty)
        loss.backward()
        t_optimizer.step()
        return loss.item()

    timings = {"xpnet": [], "torch": []}
    for _ in range(3):  # warm-up: allocator, optimizer state
        xpnet_step(), torch_step()
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        for name, step in (("xpnet", xpnet_step), ("torch", torch_step)):
            start = time.perf_counter()
            step()
            timings[name].append(time.perf_counter() - start)
    drift = max(float(np.max(np.abs(p.numpy() - q.detach().cpu().numpy())))
                for p, q in zip(model.parameters(), reference.parameters()))
    x_med, t_med = statistics.median(timings["xpnet"]), statistics.median(timings["torch"])
    print(f"MLP 784-512-512-10, batch 128, Adam, float32; threads={args.threads}; "
          f"xpnet backend {args.backend}; torch {torch.__version__} on {device}")
    print("| | min ms | median ms |")
    print("|---|---:|---:|")
    for name in ("xpnet", "torch"):
        print(f"| {name} | {1e3 * min(timings[name]):.2f} | {1e3 * statistics.median(timings[name]):.2f} |")
    print(f"ratio xpnet/torch (median): {x_med / t_med:.2f}")
    print(f"max |weight difference| after {args.repeat + 3} steps: {drift:.2e}")


if __name__ == "__main__":
    main()
