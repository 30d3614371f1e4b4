"""SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta and Adam on the same problem, in one plot.

The problem: a 2-32-32-3 tanh MLP classifying three interleaved spirals, full batch, from the
same initial weights for every optimizer (only the update rule differs). Learning rates are each
optimizer's usual ones for this scale; try --steps and the --lr-scale factor.

    python examples/optimizers.py --out optimizers.png
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn as nn
from xpnet.data import make_spirals

OPTIMIZERS = {
    # name: (class name, keyword arguments)
    "SGD": ("SGD", {"lr": 0.1}),
    "SGD + momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "Nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "Adagrad": ("Adagrad", {"lr": 0.05}),
    "RMSprop": ("RMSprop", {"lr": 0.003}),
    "Adadelta": ("Adadelta", {"lr": 1.0}),
    "Adam": ("Adam", {"lr": 0.01}),
}


def build(seed):
    xpnet.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 3))


def run(name, steps, seed=0, lr_scale=1.0):
    X, y = make_spirals(300, n_classes=3, noise=0.05, seed=seed)
    model = build(seed)
    class_name, kwargs = OPTIMIZERS[name]
    kwargs = dict(kwargs, lr=kwargs["lr"] * lr_scale)
    optimizer = getattr(xpnet.optim, class_name)(model.parameters(), **kwargs)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def plot(path, curves):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, losses in curves.items():
        ax.plot(losses, label=f"{name} ({losses[-1]:.3f})")
    ax.set(title=f"three spirals, 2-32-32-3 tanh MLP, full batch ({xpnet.get_backend()})",
           xlabel="step", ylabel="cross-entropy", yscale="log")
    ax.legend(title="optimizer (final loss)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr-scale", type=float, default=1.0)
    parser.add_argument("--out", default=None, help="PNG of the loss curves")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    names = list(OPTIMIZERS)
    if not args.no_progress:
        from tqdm import tqdm
        names = tqdm(names, desc="optimizers", unit="run")
    curves = {name: run(name, args.steps, args.seed, args.lr_scale) for name in names}
    for name, losses in curves.items():
        print(f"{name:<15} loss {losses[0]:.3f} -> {losses[-1]:.4f}")
    if args.out:
        plot(args.out, curves)
        print(f"figure written to {args.out}")
    return curves


if __name__ == "__main__":
    main()
