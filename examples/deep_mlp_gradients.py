"""Vanishing gradients in a deep MLP: sigmoid against ReLU, with and without batch norm.

Five networks of the same depth (``--depth`` hidden layers of ``--width`` units) classify
scikit-learn's digits: sigmoid with small Gaussian weights N(0, 0.01^2), sigmoid with Glorot
(Xavier) initialisation, ReLU with small Gaussian weights, ReLU with He (Kaiming) initialisation,
and ReLU + He + batch norm. `xpnet.nn.utils.gradient_norms` gives each linear layer's gradient
norm after one backward pass at initialisation; then each network trains a few steps of SGD with
momentum. With sigmoid the gradient shrinks by a factor of at least four per layer on its way
back (sigmoid' <= 1/4), so the first layers learn almost nothing; ReLU with He initialisation
keeps the norms level, and batch norm keeps them level whatever the initialisation.

    python examples/deep_mlp_gradients.py --out deep_mlp_gradients.png
    python examples/deep_mlp_gradients.py --backend array_api_strict --depth 6 --steps 20
"""

from __future__ import annotations

import argparse
import math

import xpnet
import xpnet.nn as nn
from xpnet.data import Standardizer, load_digits
from xpnet.nn.utils import gradient_norms

# name: (activation, initialisation of the weights, batch norm)
NETWORKS = {
    "sigmoid, N(0, 0.01^2)": ("sigmoid", "small", False),
    "sigmoid, Glorot": ("sigmoid", "glorot", False),
    "ReLU, N(0, 0.01^2)": ("relu", "small", False),
    "ReLU, He": ("relu", "he", False),
    "ReLU, He + batch norm": ("relu", "he", True),
}


def build(activation, init, batch_norm, depth=10, width=64, seed=0):
    xpnet.manual_seed(seed)
    layers, fan_in = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
        fan_in = width
    layers.append(nn.Linear(fan_in, 10))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            if init == "small":
                nn.init.normal_(m.weight, std=0.01)
            elif init == "glorot":
                nn.init.xavier_normal_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def linear_gradient_norms(model):
    """Gradient norm of every linear layer, input side first."""
    norms = gradient_norms(model)
    linears = {name for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    return [v for k, v in norms.items() if k in linears]


def run(depth=10, width=64, steps=100, batch=128, lr=0.05, seed=0):
    X, y = load_digits()
    X = Standardizer().fit_transform(X)
    loss_fn = nn.CrossEntropyLoss()
    results = {}
    for name, (activation, init, batch_norm) in NETWORKS.items():
        model = build(activation, init, batch_norm, depth, width, seed)
        loss_fn(model(X[:batch]), y[:batch]).backward()
        at_init = linear_gradient_norms(model)
        optimizer = xpnet.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        losses = []
        for step in range(steps):
            start = (step * batch) % (X.shape[0] - batch)
            optimizer.zero_grad()
            loss = loss_fn(model(X[start:start + batch]), y[start:start + batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results[name] = {"at_init": at_init, "losses": losses}
    return results


def plot(path, results, depth):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in results.items():
        axes[0].semilogy(range(1, len(r["at_init"]) + 1), r["at_init"], marker="o", ms=3,
                         label=name)
        axes[1].plot(r["losses"], label=name)
    axes[0].set(title=f"gradient norm per linear layer at init ({depth} hidden layers)",
                xlabel="layer (input -> output)", ylabel="||dL/dW||")
    axes[1].axhline(math.log(10), color="grey", lw=0.8, ls=":")
    axes[1].set(title="training loss (SGD + momentum)", xlabel="step", ylabel="cross-entropy")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"deep MLPs on digits, backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--depth", type=int, default=10, help="hidden layers")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the gradient norms and losses")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = run(args.depth, args.width, args.steps, seed=args.seed)
    for name, r in results.items():
        first, last = r["at_init"][0], r["at_init"][-1]
        print(f"{name:<24} first/last layer gradient norm at init {first / last:9.2e}; "
              f"loss {r['losses'][0]:.3f} -> {r['losses'][-1]:.3f}")
    if args.out:
        plot(args.out, results, args.depth)
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
