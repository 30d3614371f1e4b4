"""An MLP classifies the handwritten digits that ship with scikit-learn (1,797 8x8 images).

64 pixels -> 128 ReLU -> 128 ReLU -> 10 logits, dropout between, cross-entropy, Adam. Features
are standardised with statistics of the training split only; the test split (25%, stratified)
is touched once per epoch for the curve and once at the end.

    python examples/mlp_digits.py                        # numpy, prints the test accuracy
    python examples/mlp_digits.py --backend array_api_strict --epochs 5
    python examples/mlp_digits.py --out digits.png       # learning curves and mistakes
"""

from __future__ import annotations

import argparse
import time

import xpnet
import xpnet.nn as nn
from xpnet.data import DataLoader, Standardizer, TensorDataset, load_digits, train_test_split


def build_model(hidden=128, dropout=0.1):
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )


def accuracy(model, X, y):
    model.eval()
    with xpnet.no_grad():
        predicted = model(X).argmax(axis=1)
    model.train()
    return (predicted == y).astype("float32").mean().item()


def train(epochs=40, batch_size=64, lr=1e-3, hidden=128, seed=0, progress=True):
    xpnet.manual_seed(seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        seed=seed)
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    model = build_model(hidden)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        seed=seed)
    history = {"loss": [], "train_acc": [], "test_acc": []}
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
        history["loss"].append(total / batches)
        history["train_acc"].append(accuracy(model, X_train, y_train))
        history["test_acc"].append(accuracy(model, X_test, y_test))
        if progress:
            epochs_iter.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                                    test_acc=f"{history['test_acc'][-1]:.3f}")
    return model, history, (X_test, y_test)


def plot(path, model, history, test):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X_test, y_test = test
    model.eval()
    with xpnet.no_grad():
        predicted = model(X_test).argmax(axis=1)
    wrong = [i for i, (p, t) in enumerate(zip(predicted.tolist(), y_test.tolist())) if p != t]

    fig = plt.figure(figsize=(11, 4))
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(history["loss"])
    ax.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax = fig.add_subplot(1, 3, 2)
    ax.plot(history["train_acc"], label="train")
    ax.plot(history["test_acc"], label="test")
    ax.set(title="accuracy", xlabel="epoch", ylim=(0.8, 1.0))
    ax.legend()
    images = X_test.numpy()  # standardised pixels: the shapes still read as digits
    for k, i in enumerate(wrong[:8]):
        sub = fig.add_subplot(4, 6, 6 * (k // 2) + 5 + k % 2)
        sub.imshow(images[i].reshape(8, 8), cmap="gray_r")
        sub.set_title(f"{y_test.tolist()[i]} as {predicted.tolist()[i]}", fontsize=8)
        sub.axis("off")
    fig.suptitle(f"MLP on digits ({xpnet.get_backend()}): test accuracy "
                 f"{history['test_acc'][-1]:.1%}; right: test mistakes (true as predicted)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG with curves and misclassified digits")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    start = time.perf_counter()
    model, history, test = train(args.epochs, args.batch_size, args.lr, args.hidden, args.seed,
                                 progress=not args.no_progress)
    seconds = time.perf_counter() - start
    print(f"backend {xpnet.get_backend()!r}: test accuracy {history['test_acc'][-1]:.2%} after "
          f"{args.epochs} epochs ({seconds:.1f} s)")
    if args.out:
        plot(args.out, model, history, test)
        print(f"figure written to {args.out}")
    return history


if __name__ == "__main__":
    main()
