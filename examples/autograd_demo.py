"""A tiny autograd demo: fit y = sin(3x) with a one-hidden-layer network built from raw tensors.

No layers or optimizers yet (those are the nn toolkit's job): parameters are tensors that
require grad, the loss is ordinary arithmetic, `.backward()` fills `.grad`, and plain gradient
descent updates the parameters under `no_grad()`. Runs unchanged on every backend:

    python examples/autograd_demo.py                      # the active backend (XPNET_BACKEND)
    python examples/autograd_demo.py --backend array_api_strict
    python examples/autograd_demo.py --out fit.png        # also draw the fit and the loss curve
"""

from __future__ import annotations

import argparse
import math
import time

import xpnet


def make_data(n, generator):
    x = xpnet.linspace(-1.5, 1.5, n).reshape(n, 1)
    noise = 0.05 * xpnet.randn(n, 1, generator=generator)
    return x, (3 * x).sin() + noise


def init_params(hidden, generator):
    # Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for Linear layers.
    def uniform(shape, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return ((xpnet.rand(*shape, generator=generator) * 2 - 1) * bound).requires_grad_()

    return {"w1": uniform((1, hidden), 1), "b1": uniform((hidden,), 1),
            "w2": uniform((hidden, 1), hidden), "b2": uniform((1,), hidden)}


def forward(params, x):
    h = (x @ params["w1"] + params["b1"]).tanh()
    return h @ params["w2"] + params["b2"]


def train(steps, lr, hidden, seed, progress=True):
    generator = xpnet.Generator(seed)
    x, y = make_data(128, generator)
    params = init_params(hidden, generator)
    losses = []
    bar = _progress(range(steps), progress)
    for step in bar:
        loss = ((forward(params, x) - y) ** 2).mean()
        loss.backward()
        with xpnet.no_grad():
            for p in params.values():
                p -= lr * p.grad
                p.grad = None
        losses.append(loss.item())
        if hasattr(bar, "set_postfix") and step % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return x, y, params, losses


def _progress(iterable, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # the demo needs only xpnet; tqdm comes with the [examples] extra
        return iterable
    return tqdm(iterable, desc="training", unit="step")


def check_gradients(hidden, seed):
    """gradcheck the whole model in float64 on a few points: analytical == numerical."""
    previous = xpnet.get_default_dtype()
    xpnet.set_default_dtype(xpnet.float64)
    try:
        generator = xpnet.Generator(seed)
        params = init_params(hidden, generator)
        x, y = make_data(5, generator)
        names = list(params)

        def loss_of(*values):
            return ((forward(dict(zip(names, values)), x) - y) ** 2).mean()

        return xpnet.gradcheck(loss_of, [params[n] for n in names])
    finally:
        xpnet.set_default_dtype(previous)


def plot(path, x, y, params, losses):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with xpnet.no_grad():
        pred = forward(params, x)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(x.numpy()[:, 0], y.numpy()[:, 0], s=8, color="0.6", label="data: sin(3x) + noise")
    left.plot(x.numpy()[:, 0], pred.numpy()[:, 0], color="C3", lw=2, label="network")
    left.set(title=f"fit on backend {xpnet.get_backend()}", xlabel="x", ylabel="y")
    left.legend()
    right.semilogy(losses)
    right.set(title="training loss (MSE)", xlabel="step", ylabel="loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None, help="numpy, array_api_strict, torch, cupy...")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.07)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG file for the fit and the loss curve")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)

    print(f"xpnet {xpnet.__version__} on backend {xpnet.get_backend()!r}")
    print(f"gradcheck of the model in float64: {'passed' if check_gradients(8, args.seed) else 'FAILED'}")
    start = time.perf_counter()
    x, y, params, losses = train(args.steps, args.lr, args.hidden, args.seed,
                                 progress=not args.no_progress)
    seconds = time.perf_counter() - start
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {args.steps} steps "
          f"({seconds:.2f} s, {1e3 * seconds / args.steps:.2f} ms/step)")
    if args.out:
        plot(args.out, x, y, params, losses)
        print(f"figure written to {args.out}")
    return losses


if __name__ == "__main__":
    main()
