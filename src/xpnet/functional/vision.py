"""Resampling and rearranging images, with PyTorch's names and semantics: `interpolate`,
`pixel_shuffle`, `pixel_unshuffle`.

Arguments are checked here, before any work, so `xpnet.nn.Upsample` and friends raise the same
errors. The resampling primitive is `xpnet.ops.interpolate.Resample`; the pixel shuffles are
a reshape and a permutation.
"""

from __future__ import annotations

import numbers

from xpnet import ops
from xpnet.autograd.tensor import Tensor
from xpnet.ops.interpolate import Resample

from ._checks import int_arg
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]

# mode -> the input ranks it accepts (batch and channel axes included).
_MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,),
          "bicubic": (4,), "trilinear": (5,), "area": (3, 4)}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _per_axis(op, name, value, dims, spatial):
    """``value`` (one number or ``dims`` of them) as a ``dims``-tuple."""
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(f"{op}: expected {name} with one entry per spatial axis ({dims}) of "
                             f"the input, whose spatial shape is {spatial}; got {name}={value!r}")
        return tuple(value)
    return (value,) * dims


def _output_sizes(op, x, size, scale_factor, recompute_scale_factor):
    """(out_sizes, scales): scales are the factors the kernel uses, or Nones."""
    dims = x.ndim - 2
    spatial = tuple(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: give only one of size and scale_factor")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor must be given")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                             f"size")
        sizes = _per_axis(op, "size", size, dims, spatial)
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in sizes):
            raise TypeError(f"{op}: size must be an int or a tuple of {dims} ints, got "
                            f"{size!r}")
        sizes, scales = tuple(int(n) for n in sizes), (None,) * dims
    else:
        factors = _per_axis(op, "scale_factor", scale_factor, dims, spatial)
        if any(isinstance(f, bool) or not isinstance(f, numbers.Real) for f in factors):
            raise TypeError(f"{op}: scale_factor must be a number or a tuple of {dims} numbers, "
                            f"got {scale_factor!r}")
        factors = tuple(float(f) for f in factors)
        # PyTorch truncates n * factor (in double precision).
        sizes = tuple(int(n * f) for n, f in zip(spatial, factors))
        # A recomputed factor is out / in, as if the size had been given.
        scales = (None,) * dims if recompute_scale_factor else factors
    if any(n < 1 for n in sizes) or any(n < 1 for n in spatial):
        raise ValueError(f"{op}: input and output sizes must be positive, got input of spatial "
                         f"shape {spatial} and output {sizes}")
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest",  # noqa: A002
                align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of ``input`` to ``size``, or by ``scale_factor``.

    Parameters
    ----------
    input : Tensor of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    size : int or tuple of ints, optional
        The output's spatial shape.
    scale_factor : float or tuple of floats, optional
        Multiplier of each spatial size; the output size is ``floor(size * scale_factor)``,
        and (unless ``recompute_scale_factor``) the source coordinates use ``1 /
        scale_factor``, so a non-integer factor samples exactly as PyTorch does.
    mode : str, default='nearest'
        'nearest' (PyTorch's legacy rule: source ``floor(j * in / out)``), 'nearest-exact'
        (``floor((j + 0.5) * in / out)``, as Pillow and scikit-image), 'linear' (3-D input),
        'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D) or 'area' (adaptive average
        pooling; 3-D and 4-D).
    align_corners : bool, optional
        For the interpolating modes only: map the corner pixels' centres onto each other
        (source ``j * (in - 1) / (out - 1)``) instead of the corners of the image (source
        ``(j + 0.5) * in / out - 0.5``). Default False.
    recompute_scale_factor : bool, optional
        With ``scale_factor``: compute the output size, then sample as if it had been given.
    antialias : bool, default=False
        Not supported (True raises).

    Returns
    -------
    Tensor of shape (N, C, *size)
        Differentiable in ``input``: each output's gradient flows back to the positions it
        read, with their weights.

    Raises
    ------
    ValueError
        For a mode that does not fit the input's rank, both or neither of size and
        scale_factor, align_corners with a non-interpolating mode, or an empty output.

    Examples
    --------
    >>> import xpnet
    >>> import xpnet.functional as F
    >>> x = xpnet.tensor([[[1.0, 2.0, 4.0]]])
    >>> F.interpolate(x, scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0, 4.0, 4.0]]]
    >>> F.interpolate(x, size=5, mode="linear", align_corners=True).tolist()
    [[[1.0, 1.5, 2.0, 3.0, 4.0]]]
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not isinstance(mode, str) or mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, _MODES))}, got "
                         f"{mode!r}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be floating point, got {input.dtype.name}")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W) input, got shape {input.shape}")
    if input.ndim not in _MODES[mode]:
        ranks = " or ".join(f"{r}-D" for r in _MODES[mode])
        raise ValueError(f"{op}: mode={mode!r} needs a {ranks} input, got shape {input.shape}")
    if mode in _INTERPOLATING:
        align_corners = bool(align_corners)
    elif align_corners is not None:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes "
                         f"{', '.join(_INTERPOLATING)}; got mode={mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    sizes, scales = _output_sizes(op, input, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        pool = adaptive_avg_pool1d if input.ndim == 3 else adaptive_avg_pool2d
        return pool(input, sizes)
    return Resample.apply(input, mode, sizes, scales, align_corners)


def _factor(op, name, value):
    return int_arg(op, name, value, minimum=1)


def _image(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got "
                         f"shape {x.shape}")


def pixel_shuffle(input, upscale_factor):  # noqa: A002 - PyTorch's names
    """Rearrange (*, C * r**2, H, W) into (*, C, H * r, W * r), r = ``upscale_factor``: the
    sub-pixel convolution's upsampling (Shi et al., 2016).

    ``out[..., c, h * r + i, w * r + j] = input[..., c * r**2 + i * r + j, h, w]``.

    Raises
    ------
    ValueError
        When the channel count is not divisible by r**2, or the input has fewer than 3 axes.

    Examples
    --------
    >>> import xpnet
    >>> pixel_shuffle(xpnet.arange(8.0).reshape(1, 8, 1, 1), 2).shape
    (1, 2, 2, 2)
    """
    op = "pixel_shuffle"
    _image(op, input)
    r = _factor(op, "upscale_factor", upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"{op}: the channel axis (size {c}, input of shape {input.shape}) must "
                         f"be divisible by upscale_factor**2 = {r * r}")
    k = len(lead)
    x = ops.reshape(input, (*lead, c // (r * r), r, r, h, w))
    # (*, C, i, j, H, W) -> (*, C, H, i, W, j)
    x = ops.permute(x, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return ops.reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):  # noqa: A002 - PyTorch's names
    """The inverse of `pixel_shuffle`: (*, C, H * r, W * r) -> (*, C * r**2, H, W),
    r = ``downscale_factor``.

    Raises
    ------
    ValueError
        When H or W is not divisible by r, or the input has fewer than 3 axes.
    """
    op = "pixel_unshuffle"
    _image(op, input)
    r = _factor(op, "downscale_factor", downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"{op}: the height and width (input of shape {input.shape}) must be "
                         f"divisible by downscale_factor = {r}")
    k = len(lead)
    x = ops.reshape(input, (*lead, c, h // r, r, w // r, r))
    # (*, C, H, i, W, j) -> (*, C, i, j, H, W)
    x = ops.permute(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return ops.reshape(x, (*lead, c * r * r, h // r, w // r))
