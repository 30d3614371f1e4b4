"""`export_model`: argument handling around the tracer (see `xpnet.onnx.export`)."""

from __future__ import annotations

import inspect
import os

import onnx
from onnx import helper

from xpnet.autograd import grad_mode
from xpnet.autograd.tensor import Tensor
from xpnet.nn.module import Module

# The exporters register themselves when imported.
from . import activation, attention, conv, creation, elementwise, normalization  # noqa: F401
from . import recurrent, reduce, shape, upsampling  # noqa: F401
from . import DEFAULT_OPSET, MIN_OPSET
from ._errors import ExportError
from ._graph import GraphBuilder
from ._trace import Tracer


def export_model(model, args, f, *, kwargs, verbose, input_names, output_names, opset_version,
                 dynamic_axes, export_params, keep_initializers_as_inputs):
    op = "xpnet.onnx.export"
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be an xpnet.nn.Module, got {type(model).__name__}")
    opset = _check_opset(op, opset_version)
    args, kwargs = _split_args(op, args, kwargs)
    inputs = _flat_tensors(args, kwargs)
    names = _input_names(op, model, args, kwargs, inputs, input_names)
    axes = _dynamic_axes(op, dynamic_axes)

    param_names = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        param_names.setdefault(id(t.array), name)
    g = GraphBuilder(opset, param_names)
    labels = {}
    seen = {}
    for name, t in zip(names, inputs):
        if id(t.array) in seen:
            raise ValueError(f"{op}: the same tensor is passed as the inputs "
                             f"{seen[id(t.array)]!r} and {name!r}, which would be one graph "
                             f"input; pass a copy (x.clone()) or wrap the model so that its "
                             f"forward takes the tensor once")
        seen[id(t.array)] = name
        g.add_input(name, t, _input_dims(op, g, name, t, axes.get(name, {}), labels))

    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with Tracer(g, model), grad_mode.no_grad():
            out = model(*args, **kwargs)
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", modes.get(id(m), m.training))

    outputs = list(_flat_tensors(out, {}))
    if not outputs:
        raise ExportError(f"{op}: the model's output holds no Tensor")
    out_names = _output_names(op, outputs, output_names, set(names))
    unknown = set(axes) - set(names) - set(out_names)
    if unknown:
        raise ValueError(f"{op}: dynamic_axes names {sorted(unknown)} are neither inputs "
                         f"{names} nor outputs {out_names}")
    for name, t in zip(out_names, outputs):
        given = axes.get(name, {})
        for axis in given:
            if not -t.ndim <= axis < t.ndim:
                raise ValueError(f"{op}: dynamic_axes[{name!r}] names axis {axis}, but the "
                                 f"output has shape {tuple(t.shape)}")
        given = {axis % t.ndim: label for axis, label in given.items()}
        g.add_output(name, g.value(t), t.dtype.name, g.dims(t), given)

    extra_inputs = []
    if not export_params:
        kept = []
        for init in g.initializers:
            if init.name in g.weight_names:
                extra_inputs.append(helper.make_tensor_value_info(
                    init.name, init.data_type, list(init.dims)))
            else:
                kept.append(init)
        g.initializers[:] = kept
    elif keep_initializers_as_inputs:
        extra_inputs = [helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
                        for init in g.initializers]
    from xpnet import __version__ as xpnet_version
    proto = g.model(type(model).__name__, xpnet_version, extra_inputs)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"internal error: the exported graph does not pass onnx.checker: "
                          f"{e}") from e
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    if f is not None:
        _write(op, proto, f)
    return proto


def _check_opset(op, opset_version):
    if opset_version is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset_version, bool) or not isinstance(opset_version, int):
        raise TypeError(f"{op}: opset_version must be an int, got {opset_version!r}")
    if not MIN_OPSET <= opset_version <= newest:
        raise ValueError(f"{op}: opset_version must be in [{MIN_OPSET}, {newest}] (the installed "
                         f"onnx {onnx.__version__} knows up to {newest}), got {opset_version}")
    return opset_version


def _split_args(op, args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"{op}: args must be a Tensor or a tuple of arguments, got "
                        f"{type(args).__name__}")
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # torch's convention: a trailing dict of keywords
        kwargs = {**args[-1], **kwargs}
        args = args[:-1]
    return args, kwargs


def _flat_tensors(args, kwargs):
    found = []

    def walk(x):
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (tuple, list)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)

    walk(args)
    walk(kwargs)
    return found


def _input_names(op, model, args, kwargs, inputs, input_names):
    """The given names for the first inputs, then forward's parameter names."""
    defaults = []
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []

    def walk(x, base):
        if isinstance(x, Tensor):
            defaults.append(base)
        elif isinstance(x, (tuple, list)):
            for i, y in enumerate(x):
                walk(y, f"{base}.{i}")
        elif isinstance(x, dict):
            for k, y in x.items():
                walk(y, f"{base}.{k}")

    for i, a in enumerate(args):
        walk(a, params[i] if i < len(params) else f"input_{i}")
    for k, a in kwargs.items():
        walk(a, k)
    if input_names is None:
        input_names = []
    input_names = list(input_names)
    if not all(isinstance(n, str) for n in input_names):
        raise TypeError(f"{op}: input_names must be strings, got {input_names!r}")
    if len(input_names) > len(inputs):
        raise ValueError(f"{op}: {len(input_names)} input_names for {len(inputs)} input tensors")
    names = input_names + defaults[len(input_names):]
    if len(set(names)) != len(names):
        raise ValueError(f"{op}: input names must be distinct, got {names}")
    return names


def _output_names(op, outputs, output_names, taken):
    if output_names is None:
        names = ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]
    else:
        names = list(output_names)
        if not all(isinstance(n, str) for n in names):
            raise TypeError(f"{op}: output_names must be strings, got {names!r}")
        if len(names) > len(outputs):
            raise ValueError(f"{op}: {len(names)} output_names for {len(outputs)} output "
                             f"tensors")
        names += [f"output_{i}" for i in range(len(names), len(outputs))]
    if len(set(names)) != len(names) or set(names) & taken:
        raise ValueError(f"{op}: output names must be distinct and differ from the input "
                         f"names, got {names}")
    return names


def _dynamic_axes(op, dynamic_axes):
    """{name: {axis: label or None}}."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"{op}: dynamic_axes must be a dict, got {type(dynamic_axes).__name__}")
    out = {}
    for name, axes in dynamic_axes.items():
        if isinstance(axes, dict):
            entries = dict(axes)
        elif isinstance(axes, (list, tuple)):
            entries = {a: None for a in axes}
        else:
            raise TypeError(f"{op}: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a "
                            f"list of axes, got {type(axes).__name__}")
        for axis, label in entries.items():
            if isinstance(axis, bool) or not isinstance(axis, int):
                raise TypeError(f"{op}: dynamic_axes[{name!r}] axes must be ints, got "
                                f"{axis!r}")
            if label is not None and not isinstance(label, str):
                raise TypeError(f"{op}: dynamic_axes[{name!r}][{axis}] must be a str name, got "
                                f"{label!r}")
        out[name] = {a: (label or f"{name}_dynamic_axes_{i + 1}")
                     for i, (a, label) in enumerate(entries.items())}
    return out


def _input_dims(op, g, name, t, axes, labels):
    dims = [int(n) for n in t.shape]
    for axis, label in axes.items():
        if not -t.ndim <= axis < t.ndim:
            raise ValueError(f"{op}: dynamic_axes[{name!r}] names axis {axis}, but the input "
                             f"has shape {tuple(t.shape)}")
        axis %= t.ndim
        if label in labels:
            symbol = labels[label]
            if symbol.value != dims[axis]:
                raise ValueError(f"{op}: dynamic axis {label!r} has size {symbol.value} in one "
                                 f"input and {dims[axis]} in {name!r} (axis {axis})")
        else:
            symbol = labels[label] = g.new_symbol(name, axis, dims[axis], label)
        dims[axis] = symbol
    return dims


def _write(op, proto, f):
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"{op}: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")

