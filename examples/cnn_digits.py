"""A small CNN classifies scikit-learn's 8x8 handwritten digits.

conv 3x3 (32) -> BN -> ReLU -> conv 3x3 (64) -> BN -> ReLU -> 2x2 max pool -> dropout ->
128 ReLU -> dropout -> 10, Adam with a cosine learning-rate schedule. Pixels are scaled to
[0, 1]; the test split (25%, stratified) is evaluated once per epoch.

    python examples/cnn_digits.py                       # numpy, prints the test accuracy
    python examples/cnn_digits.py --out cnn_digits.png  # learning curves and first-layer filters
"""

from __future__ import annotations

import argparse
import time

import xpnet
import xpnet.nn as nn
from xpnet.data import DataLoader, TensorDataset, load_digits, train_test_split


def build_model(dropout=0.25):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 10),
    )


def accuracy(model, X, y, batch_size=500):
    model.eval()
    correct = 0
    with xpnet.no_grad():
        for start in range(0, X.shape[0], batch_size):
            predicted = model(X[start:start + batch_size]).argmax(axis=1)
            correct += (predicted == y[start:start + batch_size]).astype("int64").sum().item()
    model.train()
    return correct / X.shape[0]


def train(epochs=30, batch_size=64, lr=2e-3, seed=0, progress=True):
    xpnet.manual_seed(seed)
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        seed=seed)
    model = build_model()
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    schedule = xpnet.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        seed=seed)
    history = {"loss": [], "test_acc": []}
    epochs_iter = range(epochs)
    if progress:
        from tqdm import tqdm
        epochs_iter = tqdm(epochs_iter, desc="epochs", unit="epoch")
    for _ in epochs_iter:
        total, batches = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        schedule.step()
        history["loss"].append(total / batches)
        history["test_acc"].append(accuracy(model, X_test, y_test))
        if progress:
            epochs_iter.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                                    test_acc=f"{history['test_acc'][-1]:.3f}")
    return model, history


def plot(path, model, history):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(11, 4))
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(history["loss"])
    ax.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax = fig.add_subplot(1, 3, 2)
    ax.plot(history["test_acc"])
    ax.set(title=f"test accuracy (final {history['test_acc'][-1]:.1%})", xlabel="epoch",
           ylim=(0.9, 1.0))
    filters = model[0].weight.numpy()[:, 0]  # (32, 3, 3)
    for k in range(16):
        sub = fig.add_subplot(4, 12, 12 * (k // 4) + 9 + k % 4)
        sub.imshow(filters[k], cmap="RdBu")
        sub.axis("off")
    fig.suptitle(f"CNN on digits ({xpnet.get_backend()}); right: 16 first-layer 3x3 filters")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of curves and filters")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    start = time.perf_counter()
    model, history = train(args.epochs, args.batch_size, args.lr, args.seed,
                           progress=not args.no_progress)
    print(f"backend {xpnet.get_backend()!r}: test accuracy {history['test_acc'][-1]:.2%} after "
          f"{args.epochs} epochs ({time.perf_counter() - start:.1f} s)")
    if args.out:
        plot(args.out, model, history)
        print(f"figure written to {args.out}")
    return history


if __name__ == "__main__":
    main()
