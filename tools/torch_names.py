"""Write src/xpnet/_torch_names.json: the public names of PyTorch's modules that xpnet mirrors.

xpnet uses the list only to tell "PyTorch has this, xpnet does not yet" apart from a plain typo
in its AttributeErrors. Run it with the pinned torch (2.13.0) when the mirrored modules change:

    .venv/bin/python tools/torch_names.py
"""

import importlib
import json
import pathlib
import pkgutil

import torch

MODULES = ["torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils",
           "torch.nn.utils.rnn", "torch.optim", "torch.optim.lr_scheduler", "torch.utils.data",
           "torch.cuda", "torch.accelerator", "torch.autograd", "torch.serialization",
           "torch.distributed", "torch.onnx"]


def public(names):
    return sorted(n for n in names if not n.startswith("_"))


def main():
    out = {"_torch_version": torch.__version__}
    for name in MODULES:
        module = importlib.import_module(name)
        out[name] = public(getattr(module, "__all__", None) or dir(module))
    # torch.nn.modules.<family>: which layers PyTorch files under which family.
    modules = importlib.import_module("torch.nn.modules")
    for info in pkgutil.iter_modules(modules.__path__):
        if not info.name.startswith("_"):
            family = importlib.import_module(f"torch.nn.modules.{info.name}")
            out[f"torch.nn.modules.{info.name}"] = public(getattr(family, "__all__", ()))
    out["torch.Tensor"] = public(dir(torch.Tensor))
    out["torch.nn.Module"] = public(dir(torch.nn.Module))
    path = pathlib.Path(__file__).resolve().parents[1] / "src" / "xpnet" / "_torch_names.json"
    path.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
    print(f"wrote {path} ({sum(len(v) for v in out.values() if isinstance(v, list))} names)")


if __name__ == "__main__":
    main()
