"""Regularisation against overfitting: L2 (weight decay), L1, dropout, on a small training set.

A 64-256-256-10 ReLU MLP learns scikit-learn's digits from only ``--train`` examples (the rest
is the test set), with Adam, full batch, four ways: no regularisation, L2 through the optimizer's
``weight_decay``, an L1 penalty on the weights (`xpnet.nn.utils.l1_penalty`), and dropout. All
start from the same weights. Without regularisation the training loss goes to zero while the
test loss climbs back up; each regulariser keeps the gap smaller, and L1 leaves most first-layer
weights near zero (the right panel shows their distribution).

    python examples/regularization.py --out regularization.png
    python examples/regularization.py --backend array_api_strict --steps 50
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn as nn
from xpnet.data import Standardizer, load_digits, train_test_split
from xpnet.nn.utils import l1_penalty

# name: (weight_decay, L1 weight, dropout)
SETTINGS = {
    "none": (0.0, 0.0, 0.0),
    "L2 (weight_decay=1e-2)": (1e-2, 0.0, 0.0),
    "L1 (1e-4)": (0.0, 1e-4, 0.0),
    "dropout (0.5)": (0.0, 0.0, 0.5),
}


def build(dropout, hidden=256, seed=0):
    xpnet.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, 10))


def run(train=200, steps=300, lr=1e-3, seed=0):
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=X.shape[0] - train, stratify=y, seed=seed)
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    loss_fn = nn.CrossEntropyLoss()
    results = {}
    for name, (weight_decay, l1, dropout) in SETTINGS.items():
        model = build(dropout, seed=seed)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        optimizer = xpnet.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        train_losses, test_losses = [], []
        for _ in range(steps):
            model.train()
            optimizer.zero_grad()
            loss = loss_fn(model(X_train), y_train)
            train_losses.append(loss.item())
            if l1:
                loss = loss + l1_penalty(weights, l1)
            loss.backward()
            optimizer.step()
            model.eval()
            with xpnet.no_grad():
                test_losses.append(loss_fn(model(X_test), y_test).item())
                accuracy = (model(X_test).argmax(axis=1) == y_test).astype("float32").mean()
        results[name] = {"train": train_losses, "test": test_losses,
                         "test_acc": accuracy.item(),
                         "first_layer": model[0].weight.numpy().ravel()}
    return results


def plot(path, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, r) in enumerate(results.items()):
        color = f"C{i}"
        axes[0].plot(r["test"], color=color, label=f"{name}: test ({r['test_acc']:.1%})")
        axes[0].plot(r["train"], color=color, ls=":", lw=1)
        axes[1].hist(np.abs(r["first_layer"]), bins=np.logspace(-6, 0, 50), histtype="step",
                     color=color, label=name)
    axes[0].set(title="cross-entropy: test (solid), train (dotted)", xlabel="step",
                yscale="log")
    axes[0].legend(fontsize=8, title="setting (test accuracy)", title_fontsize=8)
    axes[1].set(title="|first-layer weights| after training", xscale="log",
                xlabel="|w|", ylabel="count")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"digits, small training set, backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--train", type=int, default=200, help="training examples")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the curves and weight histograms")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = run(args.train, args.steps, seed=args.seed)
    for name, r in results.items():
        print(f"{name:<24} train loss {r['train'][-1]:.4f}  test loss {r['test'][-1]:.3f}  "
              f"(best {min(r['test']):.3f})  test accuracy {r['test_acc']:.1%}")
    if args.out:
        plot(args.out, results)
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
