"""The classic worked example of backpropagation, checked by xpnet's autograd.

A 2-2-2 network: two inputs, two sigmoid hidden units, two sigmoid outputs, a bias on every
unit, squared error E = sum(0.5 * (target - output)^2). The starting numbers are the ones of Matt
Mazur's well-known step-by-step walk-through (inputs 0.05 and 0.10, targets 0.01 and 0.99,
learning rate 0.5), so every printed value can be followed by hand:

    python examples/backprop_2_2_2.py                       # one step, printed in full
    python examples/backprop_2_2_2.py --steps 10000 --out backprop.png   # then keep training
"""

from __future__ import annotations

import argparse

import xpnet
import xpnet.nn as nn

INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]
HIDDEN_WEIGHTS = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 / w3 w4 (row: hidden unit)
HIDDEN_BIAS = [0.35, 0.35]
OUTPUT_WEIGHTS = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8 (row: output unit)
OUTPUT_BIAS = [0.60, 0.60]


def build(dtype="float64"):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    model.to(dtype=dtype)
    model.load_state_dict({"0.weight": HIDDEN_WEIGHTS, "0.bias": HIDDEN_BIAS,
                           "2.weight": OUTPUT_WEIGHTS, "2.bias": OUTPUT_BIAS})
    return model


def squared_error(output, target):
    return 0.5 * ((target - output) ** 2).sum()


def sgd_step(model, lr):
    with xpnet.no_grad():
        for p in model.parameters():
            p -= lr * p.grad


def one_step(model, lr=0.5, echo=print):
    """Forward, backward and one SGD step, printing each quantity; returns them."""
    x = xpnet.tensor([INPUTS], dtype=model[0].weight.dtype)
    target = xpnet.tensor([TARGETS], dtype=model[0].weight.dtype)
    net_h = model[0](x)
    out_h = model[1](net_h)
    net_o = model[2](out_h)
    out_o = model[3](net_o)
    error = squared_error(out_o, target)
    for t in (net_h, out_h, net_o, out_o):
        t.retain_grad()
    error.backward()

    def row(name, t):
        echo(f"  {name:<26} " + "  ".join(f"{v:+.9f}" for v in t.numpy().ravel()))

    echo("forward")
    row("net_h = W1 x + b1", net_h)
    row("out_h = sigmoid(net_h)", out_h)
    row("net_o = W2 out_h + b2", net_o)
    row("out_o = sigmoid(net_o)", out_o)
    echo(f"  {'E_total':<26} {error.item():+.9f}")
    echo("backward")
    row("dE/dout_o", out_o.grad)
    row("dE/dnet_o (deltas)", net_o.grad)
    row("dE/dW2 (w5 w6 w7 w8)", model[2].weight.grad)
    row("dE/db2", model[2].bias.grad)
    row("dE/dout_h", out_h.grad)
    row("dE/dnet_h", net_h.grad)
    row("dE/dW1 (w1 w2 w3 w4)", model[0].weight.grad)
    row("dE/db1", model[0].bias.grad)
    sgd_step(model, lr)
    echo(f"after one step of SGD, learning rate {lr}")
    row("W1 (w1 w2 w3 w4)", model[0].weight)
    row("b1", model[0].bias)
    row("W2 (w5 w6 w7 w8)", model[2].weight)
    row("b2", model[2].bias)
    return {"error": error.item(), "W1": model[0].weight.numpy(), "W2": model[2].weight.numpy()}


def keep_training(model, steps, lr, progress=True):
    x = xpnet.tensor([INPUTS], dtype=model[0].weight.dtype)
    target = xpnet.tensor([TARGETS], dtype=model[0].weight.dtype)
    errors = []
    iterator = range(steps)
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, desc="training", unit="step")
    for _ in iterator:
        model.zero_grad()
        error = squared_error(model(x), target)
        error.backward()
        sgd_step(model, lr)
        errors.append(error.item())
    return errors


def plot(path, errors):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(range(1, len(errors) + 1), errors)
    ax.set(title="2-2-2 network: squared error under SGD", xlabel="step", ylabel="E_total")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=0, help="more SGD steps after the first")
    parser.add_argument("--out", default=None, help="PNG of the error curve (with --steps)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    print(f"backend {xpnet.get_backend()!r}")
    model = build()
    result = one_step(model, args.lr)
    if args.steps:
        errors = keep_training(model, args.steps, args.lr, progress=not args.no_progress)
        print(f"E_total after {args.steps} more steps: {errors[-1]:.9f}")
        if args.out:
            plot(args.out, [result["error"]] + errors)
            print(f"figure written to {args.out}")
    return result


if __name__ == "__main__":
    main()
