"""Exporters of activation layers that map to one ONNX op (``Softmax``, ``LogSoftmax``,
``PRelu``), and the layers traced op by op: the other activations (their primitives are in
`xpnet.onnx.elementwise`), containers, Linear, Embedding, Dropout, Flatten and Identity."""

from __future__ import annotations

from xpnet import nn

from ._registry import layer, optional, refuse, transparent


def _softmax(onnx_op):
    def export(g, module, out, x):
        axis = -1 if module.dim is None else int(module.dim)
        g.bind(out, g.softmax(onnx_op, g.value(x, out.dtype.name), axis, x.ndim), g.dims(x))
    return export


layer(nn.Softmax)(_softmax("Softmax"))
layer(nn.LogSoftmax)(_softmax("LogSoftmax"))


@layer(nn.PReLU)
def _prelu(g, module, out, x):
    dt = out.dtype.name
    n = module.num_parameters
    # One slope per channel (axis 1) broadcasts from shape (C, 1, ..., 1).
    shape = [n] + [1] * (x.ndim - 2) if n > 1 else [1]
    slope = g.op("Reshape", [g.value(module.weight, dt), g.ints(shape)])
    g.bind(out, g.op("PRelu", [g.value(x, dt), slope]), g.dims(x))


refuse(nn.Embedding, when=lambda m: m.max_norm is not None,
       message="Embedding with max_norm renormalises its weight while it runs, which an ONNX "
               "graph cannot do; renormalise once and export with max_norm=None")


transparent(
    nn.Module, nn.ModuleList, nn.ModuleDict, nn.Sequential, nn.Identity, nn.Flatten,
    nn.Dropout, nn.Dropout2d, nn.Linear, nn.Embedding, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU,
    nn.Sigmoid, nn.Tanh, nn.Softplus, nn.RReLU,
    *(optional(f"xpnet.nn:{name}") for name in (
        "ParameterList", "ParameterDict", "SiLU", "Mish", "Hardtanh", "Hardswish",
        "Hardsigmoid", "ReLU6", "LogSigmoid", "Softsign", "Tanhshrink", "SELU", "CELU",
        "Threshold", "Softmin", "GLU", "Unflatten", "Hardshrink", "Softshrink", "Bilinear",
        "CosineSimilarity", "PairwiseDistance", "Dropout1d", "AlphaDropout")))
