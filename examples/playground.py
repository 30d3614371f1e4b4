"""A playground: decision boundaries of small MLPs on the 2-D toy sets.

Rows are data sets (moons, circles, XOR, spirals), columns are networks of growing depth and
different activations. Each network trains full batch with Adam; the picture shows which
shapes a linear model cannot draw and how depth and the activation change the boundary.

    python examples/playground.py --out playground.png
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn as nn
from xpnet.data import make_circles, make_moons, make_spirals, make_xor

DATASETS = {
    "moons": lambda seed: make_moons(200, noise=0.15, seed=seed),
    "circles": lambda seed: make_circles(200, noise=0.08, factor=0.5, seed=seed),
    "XOR": lambda seed: make_xor(200, noise=0.1, seed=seed),
    "spirals": lambda seed: make_spirals(200, noise=0.05, seed=seed),
}
# (title, hidden layers, activation)
NETWORKS = [
    ("linear", 0, None),
    ("1x16 tanh", 1, nn.Tanh),
    ("2x16 ReLU", 2, nn.ReLU),
    ("4x16 ReLU", 4, nn.ReLU),
    ("2x16 sigmoid", 2, nn.Sigmoid),
]


def build(hidden_layers, activation, width=16, classes=2):
    layers, size = [], 2
    for _ in range(hidden_layers):
        layers += [nn.Linear(size, width), activation()]
        size = width
    layers.append(nn.Linear(size, classes))
    return nn.Sequential(*layers)


def fit(model, X, y, steps=600, lr=0.03):
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
    with xpnet.no_grad():
        return (model(X).argmax(axis=1) == y).astype("float32").mean().item()


def grid(X, steps=120):
    lo = X.min(axis=0).numpy() - 0.5
    hi = X.max(axis=0).numpy() + 0.5
    gx = xpnet.linspace(float(lo[0]), float(hi[0]), steps)
    gy = xpnet.linspace(float(lo[1]), float(hi[1]), steps)
    xx = gx.reshape(1, steps).expand(steps, steps)
    yy = gy.reshape(steps, 1).expand(steps, steps)
    return xpnet.stack([xx.reshape(-1), yy.reshape(-1)], axis=1), (lo, hi)


def run(seed=0, steps=600, progress=True):
    jobs = [(d, n) for d in DATASETS for n in NETWORKS]
    if progress:
        from tqdm import tqdm
        jobs = tqdm(jobs, desc="training", unit="net")
    results = {}
    for data_name, (title, depth, activation) in jobs:
        X, y = DATASETS[data_name](seed)
        xpnet.manual_seed(seed)
        model = build(depth, activation)
        acc = fit(model, X, y, steps)
        points, extent = grid(X)
        with xpnet.no_grad():
            probs = model(points).softmax(axis=1)[:, 1]
        results[data_name, title] = (acc, X.numpy(), y.numpy(), probs.numpy(), extent)
    return results


def plot(path, results, steps=120, dpi=90):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(DATASETS), len(NETWORKS)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.5 * rows))
    for r, data_name in enumerate(DATASETS):
        for c, (title, _, _) in enumerate(NETWORKS):
            acc, X, y, probs, (lo, hi) = results[data_name, title]
            ax = axes[r, c]
            ax.imshow(probs.reshape(steps, steps), origin="lower", cmap="RdBu", alpha=0.6,
                      extent=(lo[0], hi[0], lo[1], hi[1]), vmin=0, vmax=1, aspect="auto")
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", s=6, edgecolors="k", linewidths=0.2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{title}: {acc:.0%}", fontsize=9)
            if c == 0:
                ax.set_ylabel(data_name)
    fig.suptitle(f"decision boundaries (training accuracy), backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the grid of decision boundaries")
    parser.add_argument("--dpi", type=int, default=90, help="resolution of the PNG")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = run(args.seed, args.steps, progress=not args.no_progress)
    for (data_name, title), (acc, *_) in results.items():
        print(f"{data_name:<8} {title:<13} training accuracy {acc:.1%}")
    if args.out:
        plot(args.out, results, dpi=args.dpi)
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
