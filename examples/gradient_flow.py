"""Why ResNets train: per-layer gradient norms of a deep plain CNN and of a ResNet.

Three networks of the same depth (a stem, three stages of N two-convolution blocks, a linear
head) on a batch of scikit-learn's digits, at initialisation and after a few hundred steps:
plain convolutions without batch norm, plain with batch norm, and the ResNet (batch norm and
identity shortcuts). `xpnet.nn.utils.gradient_norms` reports each layer's gradient norm after
backward; in the plain network without normalisation the first layers get orders of magnitude
smaller gradients than the last (vanishing gradients); shortcuts keep them level.

    python examples/gradient_flow.py --out gradient_flow.png
"""

from __future__ import annotations

import argparse
import functools

import xpnet
import xpnet.nn as nn
from xpnet.data import load_digits
from xpnet.models import BasicBlock, PlainBlock, ResNet
from xpnet.nn.utils import gradient_norms

NETWORKS = {
    "plain, no batch norm": functools.partial(PlainBlock, batch_norm=False),
    "plain + batch norm": PlainBlock,
    "ResNet (batch norm + shortcuts)": BasicBlock,
}


def conv_gradient_norms(model):
    """Gradient norm of every convolution, in depth order."""
    norms = gradient_norms(model)
    convs = {name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    return [v for k, v in norms.items() if k in convs]


def run(blocks=4, steps=100, batch=128, seed=0, progress=True):
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    results = {}
    items = list(NETWORKS.items())
    if progress:
        from tqdm import tqdm
        items = tqdm(items, desc="networks", unit="net")
    for name, block in items:
        xpnet.manual_seed(seed)
        model = ResNet((blocks,) * 3, width=16, block=block)
        loss_fn = nn.CrossEntropyLoss()
        xb, yb = X[:batch], y[:batch]
        loss_fn(model(xb), yb).backward()
        at_init = conv_gradient_norms(model)
        optimizer = xpnet.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for step in range(steps):
            start = (step * batch) % (X.shape[0] - batch)
            optimizer.zero_grad()
            loss = loss_fn(model(X[start:start + batch]), y[start:start + batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results[name] = {"at_init": at_init, "trained": conv_gradient_norms(model),
                         "losses": losses}
    return results


def plot(path, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, r in results.items():
        axes[0].semilogy(r["at_init"], marker="o", ms=3, label=name)
        axes[1].semilogy(r["trained"], marker="o", ms=3, label=name)
        axes[2].plot(r["losses"], label=name)
    axes[0].set(title="gradient norm per conv layer, at init", xlabel="layer (input -> output)")
    axes[1].set(title="... after training", xlabel="layer (input -> output)")
    axes[2].set(title="training loss (SGD + momentum)", xlabel="step", yscale="log")
    axes[2].legend(fontsize=8)
    fig.suptitle(f"deep CNNs on digits, backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--blocks", type=int, default=4, help="blocks per stage (depth)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = run(args.blocks, args.steps, seed=args.seed, progress=not args.no_progress)
    for name, r in results.items():
        first, last = r["at_init"][0], r["at_init"][-1]
        print(f"{name:<32} first/last conv gradient norm at init {first / last:9.2e}; "
              f"loss {r['losses'][0]:.3f} -> {r['losses'][-1]:.3f}")
    if args.out:
        plot(args.out, results)
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
