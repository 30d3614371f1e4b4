"""Centring, standardisation, PCA and whitening of a 2-D point cloud, one panel per step.

The cloud is a correlated Gaussian far from the origin, with very different spreads along its
two axes. Each panel applies one transform of `xpnet.data` fitted on the cloud: centring
(``Standardizer(with_std=False)``), standardisation (``Standardizer()``), PCA (rotation onto the
principal axes), PCA whitening (``PCA(whiten=True)``) and ZCA whitening (``ZCA()``). The points
are coloured by their original first coordinate, so you can follow each one: PCA rotates (and
may reflect) the cloud, ZCA whitens without rotating it.

    python examples/preprocessing.py --out preprocessing.png
    python examples/preprocessing.py --backend array_api_strict --points 200
"""

from __future__ import annotations

import argparse

import xpnet
from xpnet.data import PCA, ZCA, Standardizer


def make_cloud(points=500, seed=0):
    """A correlated Gaussian: std 3 and 0.5 along axes turned by 30 degrees, centred at (6, 4)."""
    xpnet.manual_seed(seed)
    z = xpnet.randn(points, 2, dtype="float64") * xpnet.tensor([3.0, 0.5], dtype="float64")
    c, s = 3 ** 0.5 / 2, 0.5                                  # cos and sin of 30 degrees
    rotation = xpnet.tensor([[c, s], [-s, c]], dtype="float64")
    return z @ rotation + xpnet.tensor([6.0, 4.0], dtype="float64")


def transforms(X):
    """name -> transformed copy of X (each transform fitted on X)."""
    return {
        "original": X,
        "centred": Standardizer(with_std=False).fit_transform(X),
        "standardised": Standardizer().fit_transform(X),
        "PCA (rotated)": PCA().fit_transform(X),
        "PCA whitened": PCA(whiten=True).fit_transform(X),
        "ZCA whitened": ZCA().fit_transform(X),
    }


def covariance(Z):
    Zc = Z - Z.mean(axis=0)
    return (Zc.T @ Zc) / (Z.shape[0] - 1)


def plot(path, results, colour):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(11, 7.5))
    for ax, (name, Z) in zip(axes.ravel(), results.items()):
        Z = Z.numpy()
        C = covariance(xpnet.tensor(Z)).numpy()
        ax.scatter(Z[:, 0], Z[:, 1], c=colour, cmap="viridis", s=6)
        ax.axhline(0, color="grey", lw=0.6)
        ax.axvline(0, color="grey", lw=0.6)
        lim = 11 if name == "original" else 9
        ax.set(xlim=(-lim, lim + (4 if name == "original" else 0)), ylim=(-lim, lim),
               aspect="equal",
               title=f"{name}\ncov [[{C[0, 0]:.2f}, {C[0, 1]:.2f}], "
                     f"[{C[1, 0]:.2f}, {C[1, 1]:.2f}]]")
    fig.suptitle(f"preprocessing a 2-D cloud (backend {xpnet.get_backend()})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the six panels")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    X = make_cloud(args.points, args.seed)
    results = transforms(X)
    for name, Z in results.items():
        C = covariance(Z).numpy()
        mean = Z.mean(axis=0).numpy()
        print(f"{name:<14} mean ({mean[0]:+.2f}, {mean[1]:+.2f})  "
              f"cov [[{C[0, 0]:.3f}, {C[0, 1]:+.3f}], [{C[1, 0]:+.3f}, {C[1, 1]:.3f}]]")
    if args.out:
        plot(args.out, results, X[:, 0].numpy())
        print(f"figure written to {args.out}")
    return results


if __name__ == "__main__":
    main()
