"""`GraphBuilder`: the ONNX graph under construction, and the helpers exporters emit nodes with.

Only this module talks to the ``onnx`` package (``onnx.helper`` and ``onnx.numpy_helper``); the
exporters call the builder's methods. It is imported by `xpnet.onnx.export` once ``onnx`` is
known to be installed.
"""

from __future__ import annotations

import itertools
import numbers

from onnx import TensorProto, helper, numpy_helper

from xpnet.autograd.tensor import Tensor
from xpnet.backend import backend_of_array

from ._dims import Dim, dim_add, describe, value_of
from ._errors import ExportError

# xpnet dtype names -> ONNX element types.
ONNX_TYPES = {
    "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
    "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL, "complex64": TensorProto.COMPLEX64,
    "complex128": TensorProto.COMPLEX128,
}
INT64_MAX = 2**63 - 1


class Value:
    """A traced tensor's ONNX value: its name, symbolic shape and dtype name."""

    __slots__ = ("name", "dims", "dtype", "array")

    def __init__(self, name, dims, dtype, array):
        self.name, self.dims, self.dtype, self.array = name, tuple(dims), dtype, array


class GraphBuilder:
    """Collects nodes, initializers, inputs and outputs, and maps the traced run's tensors
    (by their backend arrays) to ONNX values."""

    def __init__(self, opset, param_names):
        self.opset = opset
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self.param_names = param_names  # id(array) -> qualified parameter/buffer name
        self.weight_names = set()  # initializers that hold (rearranged) weights
        self._traced = {}  # id(array) -> Value (the Value keeps the array alive)
        self._consts = {}  # id(array) or (value, dtype) -> (keep-alive, name)
        self._symbols = {}  # key -> (value name, axis, label)
        self._dim_cache = {}
        self._used = set()
        self._count = itertools.count()
        self.scope = []  # names of the modules being traced, for node names
        self.module_stack = []  # and the modules themselves

    def current_module(self):
        """The innermost layer being traced (a pooling primitive reads its options)."""
        return self.module_stack[-1] if self.module_stack else None

    # -- names ----------------------------------------------------------------------------
    def unique(self, base):
        name, k = base, 0
        while name in self._used:
            k += 1
            name = f"{base}_{k}"
        self._used.add(name)
        return name

    def _prefix(self):
        # The innermost layer's qualified name, as torch's exporter names nodes.
        path = next((s for s in reversed(self.scope) if s), "")
        return f"/{path}/" if path else "/"

    # -- nodes ----------------------------------------------------------------------------
    def op(self, op_type, inputs, outputs=1, **attrs):
        """Emit a node; returns its output name (or a list when ``outputs`` > 1)."""
        node_name = self.unique(f"{self._prefix()}{op_type}_{next(self._count)}")
        out = [self.unique(f"{node_name}_output_{i}") for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), out, name=node_name, **attrs))
        return out[0] if outputs == 1 else out

    def need_opset(self, what, opset):
        if self.opset < opset:
            raise ExportError(f"ONNX export: {what} needs ONNX opset {opset} or later; export with "
                              f"opset_version={opset} (got {self.opset})")

    # -- values ---------------------------------------------------------------------------
    def lookup(self, x):
        """The Value of a traced Tensor or backend array, or None."""
        array = x.array if isinstance(x, Tensor) else x
        return self._traced.get(id(array))

    def traced(self, x):
        return self.lookup(x) is not None

    def bind(self, t, name, dims):
        """Record that Tensor ``t`` is the ONNX value ``name`` with symbolic shape ``dims``."""
        dims = tuple(dims)
        shape = tuple(t.shape) if isinstance(t, Tensor) else tuple(t.array.shape)
        if tuple(value_of(d) for d in dims) != tuple(int(n) for n in shape):
            raise ExportError(f"internal error: value {name} was given the shape "
                              f"{tuple(value_of(d) for d in dims)}, but the traced tensor has "
                              f"{shape}")
        self._traced[id(t.array)] = Value(name, dims, t.dtype.name, t.array)
        return name

    def dims(self, x):
        """The symbolic shape of a traced tensor; the concrete one of anything else."""
        v = self.lookup(x)
        if v is not None:
            return v.dims
        if isinstance(x, Tensor):
            return tuple(int(n) for n in x.shape)
        if hasattr(x, "shape"):
            return tuple(int(n) for n in x.shape)
        return ()

    def dtype(self, x):
        v = self.lookup(x)
        if v is not None:
            return v.dtype
        if isinstance(x, Tensor):
            return x.dtype.name
        backend = backend_of_array(x) if hasattr(x, "shape") else None
        if backend is not None:
            return backend.xpnet_dtype(x.dtype).name
        raise ExportError(f"internal error: no dtype for {type(x).__name__}")

    def value(self, x, dtype=None):
        """The ONNX value name of ``x``: a traced tensor's value, or an initializer for a
        parameter, buffer, constant tensor or array, or a Python number (of ``dtype``)."""
        v = self.lookup(x)
        if v is not None:
            if dtype is not None and v.dtype != dtype:
                return self.cast(v.name, dtype)
            return v.name
        if isinstance(x, Tensor) or hasattr(x, "shape"):
            name = self._array_const(x.array if isinstance(x, Tensor) else x)
            if dtype is not None and self.dtype(x) != dtype:
                return self.cast(name, dtype)
            return name
        if isinstance(x, (bool, numbers.Number)):
            if dtype is None:
                raise ExportError(f"internal error: a Python number {x!r} needs a dtype")
            return self.scalar(x, dtype)
        raise ExportError(f"ONNX export: cannot use a {type(x).__name__} as a value of the "
                          f"graph")

    def _array_const(self, array):
        key = id(array)
        if key in self._consts:
            return self._consts[key][1]
        backend = backend_of_array(array)
        host = backend.to_numpy(array)
        name = self.unique(self.param_names.get(key) or "onnx::Constant")
        if key in self.param_names:
            self.weight_names.add(name)
        self.initializers.append(numpy_helper.from_array(host, name))
        self._consts[key] = (array, name)
        return name

    def scalar(self, x, dtype, shape=()):
        """A constant number of ``dtype`` (0-d, or of ``shape`` ones-sized axes)."""
        number = _cast_number(x, dtype)
        key = ("scalar", repr(number), dtype, tuple(shape))  # repr: NaN equals itself
        if key in self._consts:
            return self._consts[key][1]
        name = self.unique("onnx::Scalar")
        self.initializers.append(helper.make_tensor(name, ONNX_TYPES[dtype], list(shape),
                                                    [number]))
        self._consts[key] = (None, name)
        return name

    def const(self, values, dtype, shape=None):
        """A constant tensor from a flat list of numbers."""
        values = [_cast_number(v, dtype) for v in values]
        shape = [len(values)] if shape is None else list(shape)
        key = ("const", repr(values), dtype, tuple(shape))
        if key in self._consts:
            return self._consts[key][1]
        name = self.unique("onnx::Constant")
        self.initializers.append(helper.make_tensor(name, ONNX_TYPES[dtype], shape, values))
        self._consts[key] = (None, name)
        return name

    def ints(self, values):
        return self.const([int(v) for v in values], "int64")

    def weight(self, tensor, name):
        """An initializer holding ``tensor``'s values (a weight rearranged for an ONNX op)."""
        array = tensor.array if isinstance(tensor, Tensor) else tensor
        host = backend_of_array(array).to_numpy(array)
        name = self.unique(name)
        self.weight_names.add(name)
        self.initializers.append(numpy_helper.from_array(host, name))
        return name

    # -- symbolic sizes -------------------------------------------------------------------
    def new_symbol(self, source, axis, value, label=None):
        key = len(self._symbols)
        self._symbols[key] = (source, axis, label)
        return Dim.symbol(key, value)

    def symbol_labels(self):
        return {k: label for k, (_, _, label) in self._symbols.items() if label}

    def describe(self, d):
        return describe(d, self.symbol_labels())

    def dim_tensor(self, d):
        """A 1-D int64 value of one element holding size ``d`` at run time."""
        if not isinstance(d, Dim):
            return self.ints([d])
        if d.key in self._dim_cache:
            return self._dim_cache[d.key]
        out = None
        for atom, power in d.atoms:
            t = self._atom_tensor(atom)
            for _ in range(power):
                out = t if out is None else self.op("Mul", [out, t])
        if d.coeff != 1:
            out = self.op("Mul", [out, self.ints([d.coeff])])
        self._dim_cache[d.key] = out
        return out

    def _atom_tensor(self, atom):
        kind = atom[0]
        if kind == "sym":
            source, axis, _ = self._symbols[atom[1]]
            return self.op("Gather", [self.op("Shape", [source]), self.ints([axis])], axis=0)
        a, b = self.dim_tensor(atom[1]), self.dim_tensor(atom[2])
        return self.op({"add": "Add", "sub": "Sub", "floordiv": "Div"}[kind], [a, b])

    def shape_tensor(self, dims):
        """A 1-D int64 value holding the sizes ``dims`` (ints and Dims) at run time."""
        if not any(isinstance(d, Dim) for d in dims):
            return self.ints(dims)
        parts, static = [], []
        for d in dims:
            if isinstance(d, Dim):
                if static:
                    parts.append(self.ints(static))
                    static = []
                parts.append(self.dim_tensor(d))
            else:
                static.append(d)
        if static:
            parts.append(self.ints(static))
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=0)

    def constant_of_shape(self, dims, value, dtype):
        """A tensor of sizes ``dims`` (ints and Dims) filled with ``value``."""
        return self.op("ConstantOfShape", [self.shape_tensor(dims)],
                       value=helper.make_tensor("value", ONNX_TYPES[dtype], [1],
                                                [_cast_number(value, dtype)]))

    # -- common emitters (opset differences live here) -------------------------------------
    def cast(self, name, dtype):
        return self.op("Cast", [name], to=ONNX_TYPES[dtype])

    def unsqueeze(self, name, axes):
        # axes became an input in opset 13 (Unsqueeze, Squeeze, ReduceSum and Split alike).
        if self.opset >= 13:
            return self.op("Unsqueeze", [name, self.ints(axes)])
        return self.op("Unsqueeze", [name], axes=list(axes))

    def squeeze(self, name, axes):
        if self.opset >= 13:
            return self.op("Squeeze", [name, self.ints(axes)])
        return self.op("Squeeze", [name], axes=list(axes))

    def split(self, name, sizes, axis):
        """Pieces of ``sizes`` (ints or Dims) along ``axis``; a list of names."""
        if self.opset >= 13:
            names = self.op("Split", [name, self.shape_tensor(sizes)], outputs=len(sizes),
                            axis=axis)
        elif not any(isinstance(s, Dim) for s in sizes):
            names = self.op("Split", [name], outputs=len(sizes), axis=axis,
                            split=[int(s) for s in sizes])
        else:  # run-time sizes before opset 13: one Slice per piece
            names, start = [], 0
            for s in sizes:
                end = s if start == 0 else dim_add(start, s)
                names.append(self.op("Slice", [name, self.shape_tensor([start]),
                                               self.shape_tensor([end]), self.ints([axis])]))
                start = end
        return [names] if isinstance(names, str) else names

    def softmax(self, op_type, name, axis, ndim):
        """``Softmax``/``LogSoftmax`` over one axis. Before opset 13 they flattened the axes
        from ``axis`` on, so another axis than the last is moved there and back."""
        axis %= ndim
        if self.opset >= 13 or axis == ndim - 1:
            return self.op(op_type, [name], axis=axis if self.opset >= 13 else -1)
        perm = list(range(ndim))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = self.op(op_type, [self.transpose(name, perm)], axis=-1)
        return self.transpose(moved, perm)

    def compare(self, op_type, a, b):
        """``Greater``, ``Less``, ``Equal``, ``GreaterOrEqual``, ``LessOrEqual`` (the last two
        as the negation of the opposite before opset 12)."""
        if self.opset < 12 and op_type in ("GreaterOrEqual", "LessOrEqual"):
            opposite = "Less" if op_type == "GreaterOrEqual" else "Greater"
            return self.op("Not", [self.op(opposite, [a, b])])
        return self.op(op_type, [a, b])

    def reduce(self, op_type, name, axes, keepdims):
        """``Reduce<op_type>`` over ``axes`` (None: all); axes became an input in opset 13
        (ReduceSum) and 18 (the others)."""
        keep = int(bool(keepdims))
        if axes is not None and len(axes) == 0:
            return self.op("Identity", [name])
        if axes is None:
            return self.op(f"Reduce{op_type}", [name], keepdims=keep)
        if (op_type == "Sum" and self.opset >= 13) or self.opset >= 18:
            return self.op(f"Reduce{op_type}", [name, self.ints(axes)], keepdims=keep)
        return self.op(f"Reduce{op_type}", [name], axes=list(axes), keepdims=keep)

    def slice(self, name, starts, ends, axes, steps=None):
        inputs = [name, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None:
            inputs.append(self.ints(steps))
        return self.op("Slice", inputs)

    def transpose(self, name, perm):
        if list(perm) == list(range(len(perm))):
            return name
        return self.op("Transpose", [name], perm=list(perm))

    def reshape(self, name, dims, in_dims=None):
        """Reshape to symbolic ``dims``: static sizes as they are, a size equal to the input's
        at the same position as 0 (copy), one remaining dynamic size as -1, several as sizes
        computed at run time."""
        if any(not isinstance(d, Dim) and d == 0 for d in dims):
            # A real empty axis: 0 must not read as "copy".
            self.need_opset("a reshape to an empty axis", 14)
            return self.op("Reshape", [name, self.shape_tensor(dims)], allowzero=1)
        target, dynamic = [], []
        for i, d in enumerate(dims):
            if isinstance(d, Dim) and in_dims is not None and i < len(in_dims) \
                    and in_dims[i] == d:
                target.append(0)
            elif isinstance(d, Dim):
                target.append(d)
                dynamic.append(i)
            else:
                target.append(int(d))
        if len(dynamic) == 1:
            target[dynamic[0]] = -1
        return self.op("Reshape", [name, self.shape_tensor(target)])

    # -- the model ------------------------------------------------------------------------
    def add_input(self, name, t, dims):
        self._used.add(name)
        self.inputs.append(helper.make_tensor_value_info(
            name, ONNX_TYPES[t.dtype.name], [self._dim_field(d) for d in dims]))
        self.bind(t, name, dims)

    def _dim_field(self, d, label=None):
        if not isinstance(d, Dim):
            return int(d)
        return label or self.describe(d)

    def add_output(self, name, source, dtype, dims, labels):
        if name in self._used:
            raise ValueError(f"xpnet.onnx.export: the output name {name!r} is already the "
                             f"name of a weight or value of the graph; choose another in "
                             f"output_names")
        self.op_named("Identity", [source], name)
        self.outputs.append(helper.make_tensor_value_info(
            name, ONNX_TYPES[dtype],
            [labels[i] if i in labels else self._dim_field(d) for i, d in enumerate(dims)]))

    def op_named(self, op_type, inputs, output):
        self._used.add(output)
        self.nodes.append(helper.make_node(op_type, list(inputs), [output],
                                           name=self.unique(f"/{op_type}_{output}")))

    def model(self, graph_name, producer_version, extra_inputs=()):
        graph = helper.make_graph(self.nodes, graph_name, self.inputs + list(extra_inputs),
                                  self.outputs, self.initializers)
        opsets = [helper.make_opsetid("", self.opset)]
        # The oldest IR version that has the opset, so older runtimes load the file too (the
        # installed onnx would write its newest).
        return helper.make_model(graph, producer_name="xpnet", producer_version=producer_version,
                                 opset_imports=opsets,
                                 ir_version=helper.find_min_ir_version_for(opsets))


_INT_NAMES = {"int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64", "bool"}


def _cast_number(x, dtype):
    if dtype == "bool":
        return bool(x)
    if dtype in _INT_NAMES:
        return int(x)
    return float(x)

