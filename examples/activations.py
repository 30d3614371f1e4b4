"""Activation functions and their derivatives, both computed by xpnet (the derivatives by autograd).

Sigmoid, tanh, ReLU, Leaky ReLU, PReLU, RReLU and ELU are evaluated on a grid of inputs; one
``backward()`` of the sum gives every derivative at once, since each output depends only on its
own input. RReLU is shown twice: in training mode each input draws its own slope from
U(lower, upper), so the curve scatters inside a band; in eval mode the slope is their mean.

    python examples/activations.py                         # prints a table of derivatives
    python examples/activations.py --backend array_api_strict
    python examples/activations.py --out activations.png   # one panel per function
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn as nn


def activations(seed=0):
    """name -> module, in the order of the figure."""
    xpnet.manual_seed(seed)
    rrelu_train = nn.RReLU()
    rrelu_eval = nn.RReLU().eval()
    return {
        "sigmoid": nn.Sigmoid(),
        "tanh": nn.Tanh(),
        "ReLU": nn.ReLU(),
        "Leaky ReLU (0.1)": nn.LeakyReLU(0.1),
        "PReLU (a = 0.25)": nn.PReLU(),
        "RReLU (train)": rrelu_train,
        "RReLU (eval)": rrelu_eval,
        "ELU (alpha = 1)": nn.ELU(),
    }


def curves(points=401, lo=-4.0, hi=4.0, seed=0):
    """name -> (x, f(x), f'(x)) as NumPy arrays; f' comes from autograd."""
    results = {}
    for name, module in activations(seed).items():
        x = xpnet.linspace(lo, hi, points).requires_grad_()
        y = module(x)
        y.sum().backward()  # d(sum_i f(x_i))/dx_j = f'(x_j)
        results[name] = (x.detach().numpy(), y.detach().numpy(), x.grad.numpy())
    return results


def plot(path, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 4
    rows = (len(results) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.6 * rows), sharex=True)
    for ax, (name, (x, y, dy)) in zip(axes.flat, results.items()):
        style = {"ls": "none", "marker": ".", "ms": 2} if "train" in name else {"lw": 2}
        ax.plot(x, y, color="C0", label="f(x)", **style)
        ax.plot(x, dy, color="C3", label="f'(x)", **style)
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0, color="0.8", lw=0.8, zorder=0)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(-1.6, 2.2)
    axes.flat[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"activations (blue) and their derivatives by autograd (red), "
                 f"backend {xpnet.get_backend()}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None, help="numpy, array_api_strict, torch, cupy...")
    parser.add_argument("--points", type=int, default=401)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG with one panel per activation")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    results = curves(args.points, seed=args.seed)
    probe = [-2.0, -0.5, 0.5, 2.0]
    print(f"backend {xpnet.get_backend()!r}: f'(x) by autograd")
    print(f"{'':<18}" + "".join(f"{f'x = {p:+.1f}':>10}" for p in probe))
    for name, (x, _, dy) in results.items():
        idx = [int(abs(x - p).argmin()) for p in probe]
        print(f"{name:<18}" + "".join(f"{dy[i]:>10.4f}" for i in idx))
    if args.out:
        plot(args.out, results)
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
