"""Output layers and losses side by side: values and gradients (by autograd) against the logit.

For a sample whose true label is 1, the logit z of the last linear layer is swept from -8 to 8
and three losses are computed with xpnet: binary cross-entropy on the logit (sigmoid output),
squared error on the sigmoid probability, and squared error on z itself (linear output with
target 1). Autograd gives d loss / dz for each. A third panel shows softmax over three logits as
one of them moves, with the cross-entropy of the class it belongs to.

    python examples/losses.py                        # prints a table of gradients
    python examples/losses.py --backend array_api_strict
    python examples/losses.py --out losses.png
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn.functional as F


def sweep(points=321, lo=-8.0, hi=8.0):
    """name -> (z, loss(z), d loss / dz) as NumPy arrays, for the target 1."""
    losses = {
        "cross-entropy on sigmoid(z)":
            lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
        "squared error on sigmoid(z)": lambda z, y: (F.sigmoid(z) - y) ** 2,
        "squared error on z (linear)": lambda z, y: (z - y) ** 2,
    }
    results = {}
    for name, loss_fn in losses.items():
        z = xpnet.linspace(lo, hi, points).requires_grad_()
        loss = loss_fn(z, xpnet.ones(points))
        loss.sum().backward()  # each loss depends only on its own z: the sum's gradient is dL/dz
        results[name] = (z.detach().numpy(), loss.detach().numpy(), z.grad.numpy())
    return results


def softmax_sweep(points=321, lo=-6.0, hi=6.0):
    """Logits (z, 1, 0) with z swept: softmax probabilities and cross-entropy for class 0."""
    z = xpnet.linspace(lo, hi, points)
    logits = xpnet.stack([z, xpnet.ones(points), xpnet.zeros(points)], axis=1)
    probs = F.softmax(logits, axis=1)
    ce = F.cross_entropy(logits, xpnet.zeros(points, dtype="int64"), reduction="none")
    return z.numpy(), probs.numpy(), ce.numpy()


def plot(path, results, soft):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    for k, (name, (z, loss, grad)) in enumerate(results.items()):
        left.plot(z, loss, color=f"C{k}", lw=2, label=name)
        middle.plot(z, grad, color=f"C{k}", lw=2, label=name)
    left.set(title="loss for true label 1", xlabel="logit z", ylabel="loss", ylim=(-0.2, 6))
    left.legend(fontsize=8)
    middle.set(title="d loss / dz by autograd", xlabel="logit z", ylim=(-2.2, 2.2))
    middle.axhline(0, color="0.8", lw=0.8, zorder=0)
    z, probs, ce = soft
    labels = ["p(class 0), logit z", "p(class 1), logit 1", "p(class 2), logit 0"]
    for j, label in enumerate(labels):
        right.plot(z, probs[:, j], lw=2, label=label)
    right.plot(z, ce, "k--", lw=1.5, label="cross-entropy, true class 0")
    right.set(title="softmax over logits (z, 1, 0)", xlabel="z", ylim=(-0.05, 3))
    right.legend(fontsize=8)
    fig.suptitle(f"outputs and losses, backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None, help="numpy, array_api_strict, torch, cupy...")
    parser.add_argument("--points", type=int, default=321)
    parser.add_argument("--out", default=None, help="PNG with losses, gradients and softmax")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = sweep(args.points)
    soft = softmax_sweep(args.points)
    probe = [-8.0, -2.0, 0.0, 2.0]
    print(f"backend {xpnet.get_backend()!r}: d loss / dz for true label 1")
    print(f"{'':<30}" + "".join(f"{f'z = {p:+.0f}':>11}" for p in probe))
    for name, (z, _, grad) in results.items():
        idx = [int(abs(z - p).argmin()) for p in probe]
        print(f"{name:<30}" + "".join(f"{grad[i]:>11.4f}" for i in idx))
    if args.out:
        plot(args.out, results, soft)
        print(f"figure written to {args.out}")
    return results, soft


if __name__ == "__main__":
    main()
