"""Generated 2-D classification sets: moons, circles, spirals and XOR.

Each returns ``(X, y)``: ``X`` float of shape (n_samples, 2), ``y`` int64 labels of shape
(n_samples,), on the active backend (or ``backend``). Classes are as balanced as ``n_samples``
allows (sizes differ by at most one). Points are drawn from ``generator`` (or a new one from
``seed``, or the global one), so one seed gives the same set on every backend.
"""

from __future__ import annotations

import math
import numbers

import xpnet
from xpnet import dtypes as _dt

from .dataset import resolve_generator

__all__ = ["make_moons", "make_circles", "make_spirals", "make_xor"]


def _check(op, n_samples, n_classes, noise):
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) \
            or n_samples < n_classes:
        raise ValueError(f"{op}: n_samples must be an int >= {n_classes} (one per class), got "
                         f"{n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"{op}: noise must be a non-negative number, got {noise!r}")


def _sizes(n, parts):
    """``n`` split into ``parts`` sizes differing by at most one (the larger ones first)."""
    return [n // parts + (k < n % parts) for k in range(parts)]


def _finish(points, labels, *, noise, shuffle, generator):
    """Stack the per-class pieces, add Gaussian noise and shuffle the rows."""
    X, y = xpnet.concat(points), xpnet.concat(labels)
    if noise:
        X = X + noise * xpnet.randn(*X.shape, dtype=X.dtype, backend=X._backend,
                                    generator=generator)
    if shuffle:
        order = xpnet.randperm(X.shape[0], backend=X._backend, generator=generator)
        X, y = xpnet.take(X, order, axis=0), xpnet.take(y, order, axis=0)
    return X, y


def _setup(op, n_samples, n_classes, noise, seed, generator, dtype, backend):
    _check(op, n_samples, n_classes, noise)
    generator = resolve_generator(op, seed, generator)
    dtype = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"{op}: dtype must be a floating dtype, got {dtype.name}")
    backend = xpnet.backend.active() if backend is None else xpnet.backend.load(backend)
    return generator, dtype, backend


def _labels(k, n, backend):
    return xpnet.full((n,), k, dtype=xpnet.int64, backend=backend)


def make_moons(n_samples=100, *, noise=0.0, shuffle=True, seed=None, generator=None, dtype=None,
               backend=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Class 0 lies on the upper unit half circle, class 1 on a lower one shifted to (1, 0.5).

    Parameters
    ----------
    n_samples : int, default=100
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the points.
    shuffle : bool, default=True
        Shuffle the rows (otherwise class 0 comes first).
    seed : int, optional
    generator : xpnet.Generator, optional
    dtype : floating dtype, optional
        Default: the default float dtype.
    backend : str, optional

    Returns
    -------
    X : Tensor of shape (n_samples, 2)
    y : Tensor of shape (n_samples,), int64 in {0, 1}

    Examples
    --------
    >>> from xpnet.data import make_moons
    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    g, dtype, b = _setup("make_moons", n_samples, 2, noise, seed, generator, dtype, backend)
    n_out, n_in = _sizes(n_samples, 2)
    t_out = xpnet.linspace(0.0, math.pi, n_out, dtype=dtype, backend=b)
    t_in = xpnet.linspace(0.0, math.pi, n_in, dtype=dtype, backend=b)
    outer = xpnet.stack([xpnet.cos(t_out), xpnet.sin(t_out)], axis=1)
    inner = xpnet.stack([1 - xpnet.cos(t_in), 0.5 - xpnet.sin(t_in)], axis=1)
    return _finish([outer, inner], [_labels(0, n_out, b), _labels(1, n_in, b)],
                   noise=noise, shuffle=shuffle, generator=g)


def make_circles(n_samples=100, *, noise=0.0, factor=0.8, shuffle=True, seed=None,
                 generator=None, dtype=None, backend=None):
    """A unit circle (class 0) around a smaller one of radius ``factor`` (class 1), as
    scikit-learn's ``make_circles``.

    Parameters
    ----------
    factor : float in (0, 1), default=0.8
        Radius of the inner circle.

    Other parameters and the returns are as in `make_moons`.
    """
    g, dtype, b = _setup("make_circles", n_samples, 2, noise, seed, generator, dtype, backend)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor!r}")
    pieces = []
    for n, radius in zip(_sizes(n_samples, 2), (1.0, factor)):
        t = xpnet.linspace(0.0, 2 * math.pi, n, dtype=dtype, backend=b, endpoint=False)
        pieces.append(radius * xpnet.stack([xpnet.cos(t), xpnet.sin(t)], axis=1))
    labels = [_labels(k, piece.shape[0], b) for k, piece in enumerate(pieces)]
    return _finish(pieces, labels, noise=noise, shuffle=shuffle, generator=g)


def make_spirals(n_samples=100, *, n_classes=2, turns=1.0, noise=0.0, shuffle=True, seed=None,
                 generator=None, dtype=None, backend=None):
    """``n_classes`` interleaved spiral arms from near the origin out to radius 1 (CS231n's set).

    Arm k holds the points ``r * (cos a, sin a)`` with ``r`` evenly spaced in [0.1, 1] and
    ``a = 2 pi (turns * r + k / n_classes)``.

    Parameters
    ----------
    n_classes : int, default=2
    turns : float, default=1.0
        How many times each arm winds around the origin between r = 0 and r = 1.

    Other parameters and the returns are as in `make_moons` (labels in 0..n_classes-1).
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) \
            or n_classes < 1:
        raise ValueError(f"make_spirals: n_classes must be a positive int, got {n_classes!r}")
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not turns > 0:
        raise ValueError(f"make_spirals: turns must be a positive number, got {turns!r}")
    g, dtype, b = _setup("make_spirals", n_samples, n_classes, noise, seed, generator, dtype,
                         backend)
    arms, labels = [], []
    for k, n in enumerate(_sizes(n_samples, n_classes)):
        # r starts at 0.1: at r = 0 every arm would meet in one point with different labels.
        r = xpnet.linspace(0.1, 1.0, n, dtype=dtype, backend=b)
        angle = 2 * math.pi * (turns * r + k / n_classes)
        arms.append(xpnet.stack([r * xpnet.cos(angle), r * xpnet.sin(angle)], axis=1))
        labels.append(_labels(k, n, b))
    return _finish(arms, labels, noise=noise, shuffle=shuffle, generator=g)


def make_xor(n_samples=100, *, noise=0.0, shuffle=True, seed=None, generator=None, dtype=None,
             backend=None):
    """Points uniform in [-1, 1]^2, labelled 1 where the two coordinates differ in sign.

    Each quadrant gets a quarter of the points (so the classes balance exactly when 4 divides
    ``n_samples``); labels come from the points before noise is added.

    Parameters and returns are as in `make_moons`.
    """
    g, dtype, b = _setup("make_xor", n_samples, 2, noise, seed, generator, dtype, backend)
    quadrants, labels = [], []
    # (+, +) and (-, -) are class 0; (-, +) and (+, -) class 1; alternate so that the extra
    # points of an uneven split go to both classes.
    for n, (sx, sy) in zip(_sizes(n_samples, 4), ((1, 1), (-1, 1), (-1, -1), (1, -1))):
        u = xpnet.rand(n, 2, dtype=dtype, backend=b, generator=g)
        sign = xpnet.tensor([sx, sy], dtype=dtype, backend=b)
        quadrants.append(u * sign)
        labels.append(_labels(int(sx != sy), n, b))
    return _finish(quadrants, labels, noise=noise, shuffle=shuffle, generator=g)
