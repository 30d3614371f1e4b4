"""Export xpnet models to ONNX, as ``torch.onnx.export`` does: `export`.

**How a model becomes a graph.** `export` runs the model once on the example inputs, in
evaluation mode and without gradients, with a recording context active. The context turns each
computation it sees into ONNX nodes, built with ``onnx.helper`` and ``onnx.numpy_helper`` (no
hand-written protobuf):

* **Layers with exporters** (``Module.__call__`` is intercepted): recurrent layers become the
  ONNX ``RNN``/``GRU``/``LSTM`` ops (gates reordered from torch's layout to ONNX's),
  MultiheadAttention the projections, ``Softmax`` and products with torch's mask conventions,
  batch, layer and instance normalisation ``BatchNormalization``/``LayerNormalization``/
  ``InstanceNormalization``, ``Softmax``, ``PRelu``... Their forward still runs, to give the
  values the rest of the model needs, but the ops inside it are not recorded.
* **Everything else is traced op by op** (``Function.apply`` is intercepted): containers,
  custom Modules, the Transformer layers and the simple layers (Linear, convolutions, pooling,
  activations, Dropout, Flatten, Embedding...), whose primitives (``Linear``, ``Conv``,
  ``MaxPool``, ``Add``, ``Concat``, ``Gelu``...) each have an exporter. A few public functions
  are intercepted before their primitive because their arguments say more than the primitive
  sees: ``reshape``/``view`` (a -1, a size read from the input), ``expand``, indexing
  (negative slice bounds), ``pad``, comparisons and logical ops (which are not primitives),
  and ``zeros``/``ones``/``full``/``arange``/``triu``/``tril`` given sizes read from the input.
* **Sizes stay symbolic.** An input axis named in ``dynamic_axes`` gets a symbol, and every
  traced value carries its shape as ints and formulas of the symbols (``batch``, ``2*seq``,
  ``batch*seq``). While tracing, ``x.shape`` and ``x.size()`` return these sizes as ints that
  remember their formula, so ``x.view(x.size(0), -1)`` exports as a ``Reshape`` to ``[0, -1]``,
  ``x.view(b * t, c)`` computes ``b * t`` with ``Shape``/``Gather``/``Mul`` nodes, and
  ``xpnet.zeros(1, x.size(0), h)`` becomes a ``ConstantOfShape``, instead of baking in the
  example's sizes. A reshape copies an unchanged axis with 0 and leaves one unknown size to -1.

What cannot be exported raises `ExportError` naming the layer class (a layer of ``xpnet.nn``
without an exporter) or the op (a primitive without one), and the opset when a newer one would
do (``opset_version=19`` for circular padding).

The limits are those of PyTorch's tracing exporter: Python control flow is recorded for the
example inputs only; values turned into Python numbers (``.item()``, ``.tolist()``,
``len(x)``) are constants of the graph, and so are tensors made inside ``forward`` from them;
``PackedSequence`` inputs and sequence ``lengths`` are not exported. Exporting needs the optional
package ``onnx``, and running the result ``onnxruntime``: ``pip install 'xpnet[onnx]'``.
"""

from __future__ import annotations

from ._errors import ExportError

__all__ = ["ExportError", "export", "is_in_onnx_export"]

DEFAULT_OPSET = 18
MIN_OPSET = 11


def export(model, args=(), f=None, *, kwargs=None, verbose=False, input_names=None,
           output_names=None, opset_version=None, dynamic_axes=None, export_params=True,
           keep_initializers_as_inputs=False, do_constant_folding=True, dynamo=False):
    """Write ``model`` as an ONNX graph, with ``torch.onnx.export``'s conventions.

    Parameters
    ----------
    model : Module
        Put in evaluation mode while it is traced (dropout off, running statistics), then
        restored.
    args : Tensor or tuple
        The example inputs: a Tensor, or a tuple of the positional arguments of ``forward``
        (Tensors, nested tuples of Tensors, or other values, which are constants of the
        graph); a dict as the last element holds keyword arguments.
    f : str, path or binary file object, optional
        Where to write the model (``"model.onnx"``, an ``io.BytesIO``...); with None nothing
        is written and the model is only returned.
    kwargs : dict, optional
        Keyword arguments of ``forward``.
    verbose : bool, default=False
        Print the graph.
    input_names, output_names : list of str, optional
        Names of the graph's inputs (the Tensors of ``args`` in order, nested ones flattened)
        and outputs (the Tensors of the output, flattened). Default: ``forward``'s parameter
        names, and ``output`` (``output_0``, ``output_1``... for several).
    opset_version : int, optional
        The ONNX opset, 11 or later; default 18. An op that needs a newer one says so.
    dynamic_axes : dict, optional
        ``{name: {axis: "axis name"}}`` or ``{name: [axis, ...]}`` for inputs and outputs
        whose sizes may differ from the example's at run time (batch, sequence length). Axes
        given the same name share one size.
    export_params : bool, default=True
        Store the weights in the graph; False makes each weight a graph input instead (after
        the model's inputs), in the layout the ONNX ops use.
    keep_initializers_as_inputs : bool, default=False
        Also list the stored weights as graph inputs (so they may be overridden).
    do_constant_folding : bool, default=True
        Accepted for compatibility: computations on weights alone are always folded.
    dynamo : bool, default=False
        Accepted for compatibility and ignored (there is one exporter).

    Returns
    -------
    onnx.ModelProto
        The exported model, checked with ``onnx.checker``.

    Raises
    ------
    ImportError
        When the ``onnx`` package is not installed (``pip install 'xpnet[onnx]'``).
    ExportError
        For a layer or op without an exporter (named in the message), or an op that needs a
        newer ``opset_version``.
    TypeError, ValueError
        For bad arguments (a model that is not a Module, an unknown name in ``dynamic_axes``,
        an opset out of range).

    Examples
    --------
    >>> import io
    >>> import xpnet
    >>> from xpnet import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> buffer = io.BytesIO()
    >>> proto = export(model, xpnet.randn(3, 4), buffer, input_names=["x"],
    ...                output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    >>> [node.op_type for node in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Identity']
    """
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("xpnet.onnx.export needs the onnx package: pip install 'xpnet[onnx]' "
                          "(which also brings onnxruntime, to run the exported model)") from None
    from ._export import export_model
    return export_model(model, args, f, kwargs=kwargs, verbose=verbose,
                        input_names=input_names, output_names=output_names,
                        opset_version=opset_version, dynamic_axes=dynamic_axes,
                        export_params=export_params,
                        keep_initializers_as_inputs=keep_initializers_as_inputs)


def is_in_onnx_export():
    """Whether `export` is tracing a model now (as ``torch.onnx.is_in_onnx_export``): a
    ``forward`` may take an export-friendly path.

    Examples
    --------
    >>> is_in_onnx_export()
    False
    """
    from . import _trace
    return _trace._ACTIVE is not None


# A PyTorch name that is not here yet says so (see xpnet/_missing.py).
from xpnet._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("xpnet.onnx", "torch.onnx")
