"""How much of the PyTorch surface that a folder of scripts uses exists in xpnet.

    .venv/bin/python tools/torch_coverage.py FOLDER [--json OUT.json] [--top N]

Every .py file under FOLDER is parsed with `ast` (never imported or run). Import aliases are
resolved (`import torch.nn as nn`, `from torch import nn, optim`, `from torch.nn import
functional as F`, `from torch.utils.data import DataLoader`, `import torch.nn.parallel`, ...), and
two kinds of use are counted:

  module-level names  every import site of a torch name (`import torch.distributed as dist`,
                      `from torch.optim import Adam`) plus every reference in the code to a
                      torch alias, as its longest dotted chain (`torch.cat`, `nn.Linear`,
                      `F.relu`, `torch.optim.lr_scheduler.StepLR`, `torch.cuda.is_available`,
                      `DataLoader`), cut after its first non-module object
                      (`nn.Module.__init__` counts as `torch.nn.Module`, an enum member as
                      its enum). `torch.X.Y` is looked up as `xpnet.X.Y` (attribute by
                      attribute, importing submodules where needed).
  Tensor methods      an estimate: calls `<expr>.name(...)` whose receiver is not an imported
                      module, where `name` is a public attribute of `torch.Tensor` and not a
                      method of str/bytes/list/tuple/dict/set/int/float. It is looked up as
                      `hasattr(xpnet.Tensor, name)`. nn.Module methods that share a name with
                      Tensor ones (`.to`, `.cuda`, `.float`, `.half`, `.type`...) are counted
                      too, so read it as an estimate.

Names that do not resolve in the installed torch either (removed APIs such as
`torch.onnx._export`, or a local variable shadowing an alias) are listed apart and left out of
the percentages.

Files that do not parse are retried once with `async=` keywords renamed (Python 2-era
`x.cuda(async=True)`); files that still fail are reported and skipped.
"""

import argparse
import ast
import collections
import importlib
import json
import pathlib
import re
import sys
import types

TORCH_ROOT = "torch"
XPNET_ROOT = "xpnet"

# Python methods that make `.name(` ambiguous; calls to these are never counted as Tensor methods.
_PY_TYPES = (str, bytes, list, tuple, dict, set, frozenset, int, float, complex)
PYTHON_METHODS = frozenset(n for t in _PY_TYPES for n in dir(t))

# Rough groups for the missing-name table, first match wins.
GROUPS = [
    ("distributed", re.compile(r"^torch\.(distributed|multiprocessing)\b|DistributedDataParallel|"
                               r"DataParallel|data_parallel|^torch\.utils\.data\.distributed\b|"
                               r"DistributedSampler|\.parallel\b")),
    ("onnx", re.compile(r"^torch\.onnx\b")),
    ("jit/fx/export/compile", re.compile(r"^torch\.(jit|fx|export|compile|_dynamo|_inductor|"
                                         r"package|_C|ops|library)\b")),
    ("transformer/attention", re.compile(r"Transformer|Attention|attention")),
    ("cuda/backends/devices", re.compile(r"^torch\.(cuda|backends|mps|xpu|accelerator|"
                                         r"amp|cpu)\b")),
    ("autograd/profiler", re.compile(r"^torch\.(autograd|profiler)\b")),
    ("distributions", re.compile(r"^torch\.distributions\b")),
    ("data", re.compile(r"^torch\.utils\.data\b")),
    ("nn", re.compile(r"^torch\.nn\b")),
    ("optim", re.compile(r"^torch\.optim\b")),
    ("torch.*", re.compile(r"^torch(\.[^.]+)?$")),
]


def group_of(name):
    for label, pattern in GROUPS:
        if pattern.search(name):
            return label
    return "other"


# ---------------------------------------------------------------------------------- scanning

def _is_torch(module):
    return module == TORCH_ROOT or module.startswith(TORCH_ROOT + ".")


def _chain(node):
    """`a.b.c` -> ["a", "b", "c"] when the expression is a Name followed by attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def parse(path):
    """(tree, note) where tree is None if the file cannot be parsed."""
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        return ast.parse(source, filename=str(path)), None
    except SyntaxError as error:
        fixed = re.sub(r"\basync\s*=", "async_=", source)
        if fixed != source:
            try:
                return ast.parse(fixed, filename=str(path)), "parsed after renaming async="
            except SyntaxError:
                pass
        return None, f"SyntaxError line {error.lineno}: {error.msg}"


class FileScan(ast.NodeVisitor):
    """Collects torch uses and Tensor-method candidates of one module."""

    def __init__(self):
        self.aliases = {}          # local name -> dotted torch path
        self.other_modules = set()  # local names bound to non-torch imports
        self.uses = collections.Counter()    # torch path -> count
        self.methods = collections.Counter()  # method name -> count
        self.star_imports = []

    # imports ------------------------------------------------------------------------------
    def collect_imports(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_torch(alias.name):
                        self.uses[alias.name] += 1
                        if alias.asname:
                            self.aliases[alias.asname] = alias.name
                        else:
                            self.aliases[TORCH_ROOT] = TORCH_ROOT
                    else:
                        self.other_modules.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                for alias in node.names:
                    if node.level == 0 and _is_torch(module):
                        if alias.name == "*":
                            self.star_imports.append(module)
                            continue
                        path = f"{module}.{alias.name}"
                        self.uses[path] += 1
                        self.aliases[alias.asname or alias.name] = path
                    else:
                        self.other_modules.add(alias.asname or alias.name)
        # A later non-torch import of the same local name wins only if torch never bound it.
        self.other_modules -= set(self.aliases)

    # references ---------------------------------------------------------------------------
    def visit_Attribute(self, node):
        parts = _chain(node)
        if parts is not None and parts[0] in self.aliases:
            path = ".".join([self.aliases[parts[0]]] + parts[1:])
            self.uses[path] += 1
            return  # the longest chain only; its inner prefixes are not separate uses
        self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.aliases:
            self.uses[self.aliases[node.id]] += 1

    def visit_Import(self, node):
        pass  # counted in collect_imports

    visit_ImportFrom = visit_Import

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            parts = _chain(func)
            rooted_at_module = parts is not None and (
                parts[0] in self.aliases or parts[0] in self.other_modules)
            if not rooted_at_module and func.attr not in PYTHON_METHODS:
                self.methods[func.attr] += 1
        self.generic_visit(node)


def scan_folder(folder):
    files = sorted(p for p in pathlib.Path(folder).rglob("*.py") if p.is_file())
    per_file = {}
    problems = {}
    for path in files:
        rel = str(path.relative_to(folder))
        tree, note = parse(path)
        if tree is None:
            problems[rel] = note
            continue
        if note:
            problems[rel] = note
        scan = FileScan()
        scan.collect_imports(tree)
        scan.visit(tree)
        per_file[rel] = scan
    return files, per_file, problems


# ---------------------------------------------------------------------------------- resolving

_MISSING = object()


def resolve(path):
    """The object at a dotted path, importing submodules on the way; _MISSING if absent."""
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except Exception:
        return _MISSING
    prefix = parts[0]
    for part in parts[1:]:
        prefix = f"{prefix}.{part}"
        try:
            obj = getattr(obj, part)
            continue
        except Exception:
            pass
        if isinstance(obj, types.ModuleType):
            try:
                obj = importlib.import_module(prefix)
                continue
            except Exception:
                pass
        return _MISSING
    return obj


def canonical(path):
    """The PyTorch name a dotted use refers to: the path up to its first non-module object.

    `torch.distributed.fsdp.ShardingStrategy.FULL_SHARD` -> `...fsdp.ShardingStrategy`,
    `torch.nn.Module.__init__` -> `torch.nn.Module`; `torch.backends.cudnn.benchmark` stays.
    A path that does not resolve in torch is returned whole.
    """
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except Exception:
        return path
    prefix = parts[0]
    for part in parts[1:]:
        if not isinstance(obj, types.ModuleType):
            return prefix
        candidate = f"{prefix}.{part}"
        try:
            obj = getattr(obj, part)
        except Exception:
            try:
                obj = importlib.import_module(candidate)
            except Exception:
                return path
        prefix = candidate
    return prefix


def to_xpnet(path):
    return XPNET_ROOT + path[len(TORCH_ROOT):]


# ---------------------------------------------------------------------------------- report

def measure(folder, out_of_scope=()):
    import torch as _torch  # the reference surface
    try:
        import xpnet as _xpnet
    except Exception as error:  # a half-edited working tree; say so instead of a traceback
        raise SystemExit(f"cannot import xpnet ({type(error).__name__}: {error}); "
                         "nothing was measured") from error

    files, per_file, problems = scan_folder(folder)

    uses = collections.Counter()
    use_files = collections.defaultdict(set)
    methods = collections.Counter()
    method_files = collections.defaultdict(set)
    for rel, scan in per_file.items():
        for raw, n in scan.uses.items():
            name = canonical(raw)
            uses[name] += n
            use_files[name].add(rel)
        for name, n in scan.methods.items():
            methods[name] += n
            method_files[name].add(rel)

    names = []
    for name in sorted(uses):
        in_torch = resolve(name) is not _MISSING
        in_xpnet = resolve(to_xpnet(name)) is not _MISSING
        names.append({"name": name, "uses": uses[name], "in_torch": in_torch,
                      "in_xpnet": in_xpnet, "group": group_of(name),
                      "files": sorted(use_files[name])})

    tensor_public = {n for n in dir(_torch.Tensor) if not n.startswith("_")}
    tensor_methods = []
    for name in sorted(methods):
        if name not in tensor_public:
            continue
        tensor_methods.append({"name": f"Tensor.{name}", "uses": methods[name],
                               "in_xpnet": hasattr(_xpnet.Tensor, name),
                               "files": sorted(method_files[name])})

    def summary(rows):
        total = sum(r["uses"] for r in rows)
        covered = sum(r["uses"] for r in rows if r["in_xpnet"])
        return {"uses": total, "uses_covered": covered,
                "distinct": len(rows), "distinct_covered": sum(r["in_xpnet"] for r in rows)}

    counted = [r for r in names if r["in_torch"]]
    in_scope = [r for r in counted if r["group"] not in out_of_scope]
    groups = {}
    for label in sorted({r["group"] for r in counted}):
        groups[label] = summary([r for r in counted if r["group"] == label])
    return {
        "folder": str(folder),
        "torch_version": _torch.__version__,
        "files_scanned": len(files),
        "files_parsed": len(per_file),
        "files_using_torch": sum(1 for s in per_file.values() if s.uses),
        "file_problems": problems,
        "module_level": summary(counted),
        "out_of_scope_groups": sorted(out_of_scope),
        "module_level_in_scope": summary(in_scope),
        "module_level_by_group": groups,
        "tensor_methods": summary(tensor_methods),
        "missing": sorted((r for r in counted if not r["in_xpnet"]),
                          key=lambda r: (-r["uses"], r["name"])),
        "missing_tensor_methods": sorted((r for r in tensor_methods if not r["in_xpnet"]),
                                         key=lambda r: (-r["uses"], r["name"])),
        "not_in_torch": sorted((r for r in names if not r["in_torch"]),
                               key=lambda r: (-r["uses"], r["name"])),
        "names": names,
        "tensor_method_names": tensor_methods,
    }


def _pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "   n/a"


def _files(files, width=70):
    text = ", ".join(files)
    return text if len(text) <= width else text[:width - 3] + "..."


def render(data, top=None):
    out = []
    out.append(f"corpus: {data['folder']}  ({data['files_scanned']} .py files, "
               f"{data['files_parsed']} parsed, {data['files_using_torch']} use torch; "
               f"torch {data['torch_version']})")
    for rel, note in sorted(data["file_problems"].items()):
        out.append(f"  note: {rel}: {note}")
    out.append("")
    out.append(f"{'':52} {'uses':>7} {'covered':>8} {'%':>7}   {'names':>6} {'covered':>8} {'%':>7}")
    rows = [("module-level names", data["module_level"])]
    if data["out_of_scope_groups"]:
        rows += [("  without " + ", ".join(data["out_of_scope_groups"]),
                  data["module_level_in_scope"])]
    rows += [(f"  {k}", v) for k, v in data["module_level_by_group"].items()]
    rows += [("Tensor methods (estimate)", data["tensor_methods"])]
    for label, s in rows:
        out.append(f"{label:52} {s['uses']:7d} {s['uses_covered']:8d} "
                   f"{_pct(s['uses_covered'], s['uses']):>7}   {s['distinct']:6d} "
                   f"{s['distinct_covered']:8d} {_pct(s['distinct_covered'], s['distinct']):>7}")

    def table(title, rows, with_group=True):
        out.append("")
        out.append(title)
        shown = rows if top is None else rows[:top]
        if not shown:
            out.append("  (none)")
            return
        width = min(56, max(len(r["name"]) for r in shown))
        for r in shown:
            group = f"{r['group']:22} " if with_group else ""
            out.append(f"  {r['uses']:5d}  {r['name']:{width}}  {group}{_files(r['files'])}")
        if top is not None and len(rows) > top:
            out.append(f"  ... {len(rows) - top} more (--top to change, --json for all)")

    table("missing module-level names (uses, name, group, files):", data["missing"])
    table("missing Tensor methods (estimate):", data["missing_tensor_methods"], with_group=False)
    table("not in torch " + data["torch_version"] + " either (left out of the figures):",
          data["not_in_torch"])
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--json", type=pathlib.Path, help="also write the data to this file")
    parser.add_argument("--top", type=int, default=None, help="rows per table (default: all)")
    parser.add_argument("--out-of-scope", default="distributed,jit/fx/export/compile,onnx",
                        help="comma-separated groups for the extra 'without ...' row "
                             "(default: %(default)s; '' for none)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    groups = {g for g in args.out_of_scope.split(",") if g}
    unknown = groups - {label for label, _ in GROUPS} - {"other"}
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; groups are "
                     f"{[label for label, _ in GROUPS] + ['other']}")
    data = measure(args.folder, groups)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    print(render(data, args.top))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
