"""Exporters of resampling: ``F.interpolate`` / ``nn.Upsample`` (nearest, nearest-exact,
linear, bilinear, bicubic; 'area' is adaptive average pooling) become ONNX ``Resize`` with
PyTorch's coordinate conventions; pixel shuffles are reshapes and transposes, traced op by op."""

from __future__ import annotations

from ._dims import Dim
from ._registry import optional, primitive, transparent

# mode -> (ONNX mode, coordinate transformation without align_corners, nearest_mode)
_MODES = {
    "nearest": ("nearest", "asymmetric", "floor"),
    "nearest-exact": ("nearest", "half_pixel", "round_prefer_ceil"),
    "linear": ("linear", "pytorch_half_pixel", None),
    "bilinear": ("linear", "pytorch_half_pixel", None),
    "trilinear": ("linear", "pytorch_half_pixel", None),
    "bicubic": ("cubic", "pytorch_half_pixel", None),
}


@primitive(optional("xpnet.ops.interpolate:Resample"))
def _resample(g, out, x, mode, out_sizes, scales, align_corners):
    dt = out.dtype.name
    onnx_mode, transform, nearest = _MODES[mode]
    if align_corners and onnx_mode != "nearest":
        transform = "align_corners"
    dims = list(g.dims(x))
    k = len(out_sizes)
    lead = len(dims) - k
    # roi and scales are required inputs before opset 13 (empty when unused).
    empty = "" if g.opset >= 13 else g.const([], "float32", [0])
    if all(s is not None for s in scales):
        # Scale factors as given: the output follows a dynamic input size, and the source
        # coordinate is out / scale, as PyTorch's when the factor is not recomputed.
        resize = [empty, g.const([1.0] * lead + [float(s) for s in scales], "float32")]
        out_dims = None
    else:
        resize = [empty, empty, g.shape_tensor(dims[:lead] + [int(n) for n in out_sizes])]
        out_dims = dims[:lead] + [int(n) for n in out_sizes]
    attrs = {"mode": onnx_mode, "coordinate_transformation_mode": transform}
    if nearest:
        attrs["nearest_mode"] = nearest
    if onnx_mode == "cubic":
        attrs["cubic_coeff_a"] = -0.75
    name = g.op("Resize", [g.value(x, dt), *resize], **attrs)
    if out_dims is None:
        out_dims = dims[:lead] + [
            g.new_symbol(name, lead + i, int(n)) if isinstance(dims[lead + i], Dim) else int(n)
            for i, n in enumerate(out_sizes)]
    g.bind(out, name, out_dims)


transparent(*(optional(f"xpnet.nn:{name}") for name in (
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
    "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
    "CircularPad2d")))
