"""Attention in xpnet (fast paths on and off) next to PyTorch (default: NumPy, CPU).

The issue's shapes, float32: batch 32, sequence 128, d_model 256, 8 heads (head size 32), the
same data and weights in both (the torch module's state dict is loaded into xpnet's), the same
BLAS/OpenMP thread count (set before numpy and torch load):

- ``scaled_dot_product_attention`` on (32, 8, 128, 32) queries, keys and values, without a
  mask and with ``is_causal=True``;
- ``TransformerEncoderLayer(256, 8)`` (dim_feedforward 2048, ReLU, post-norm, sequence first)
  on (128, 32, 256), in training mode, with dropout 0 and with the default dropout 0.1 (whose
  masks differ between the libraries, so that case is checked with dropout off).

    python asv_benchmarks/attention_vs_torch.py [--threads 1] [--repeat 20] [--no-memory]
        [--backend numpy] [--torch-device cpu]

Prints a markdown table of milliseconds per call (median over interleaved rounds) for the forward
(no graph) and forward+backward (inputs and every parameter gradient, from a random output
gradient), the ratios to torch, and the peak memory of forward+backward (how far the first call,
then warm calls, raise the process's peak RSS, in a fresh subprocess per implementation and
case; Linux only).
"""

import sys
from pathlib import Path

import side_by_side

BATCH, SEQ, D_MODEL, HEADS = 32, 128, 256, 8
# name -> (kind, options)
CASES = {
    "sdpa": ("sdpa", {}),
    "sdpa causal": ("sdpa", {"is_causal": True}),
    "encoder layer, dropout 0": ("encoder", {"dropout": 0.0}),
    "encoder layer, dropout 0.1": ("encoder", {"dropout": 0.1}),
}


def _build(case, dtype, device="cpu"):
    """(ours, theirs, inputs, torch inputs, parameters, torch parameters, output gradient,
    torch output gradient) on the same data and weights, in ``dtype``, torch's on ``device``."""
    import numpy as np
    import torch

    import xpnet

    torch.manual_seed(0)
    kind, options = CASES[case]
    rng = np.random.default_rng(0)
    if kind == "sdpa":
        shape = (BATCH, HEADS, SEQ, D_MODEL // HEADS)
        arrays = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]

        def ours(*qkv):
            return xpnet.nn.functional.scaled_dot_product_attention(*qkv, **options)

        def theirs(*qkv):
            return torch.nn.functional.scaled_dot_product_attention(*qkv, **options)
        params, tparams = [], []
    else:
        theirs = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, **options,
                                                  dtype=getattr(torch, dtype))
        ours = xpnet.nn.TransformerEncoderLayer(D_MODEL, HEADS, **options, dtype=dtype)
        ours.load_state_dict(theirs.state_dict())
        theirs.to(device)
        shape = (SEQ, BATCH, D_MODEL)
        arrays = [rng.standard_normal(shape).astype(dtype)]
        params, tparams = list(ours.parameters()), list(theirs.parameters())
    grad_np = rng.standard_normal(shape).astype(dtype)
    inputs = [xpnet.tensor(a, requires_grad=True) for a in arrays]
    tinputs = [torch.from_numpy(a).to(device).requires_grad_() for a in arrays]
    return (ours, theirs, inputs, tinputs, params, tparams, xpnet.tensor(grad_np),
            torch.from_numpy(grad_np).to(device))


def _step_functions(ours, theirs, inputs, tinputs, params, tparams, grad, tgrad):
    import torch

    import xpnet

    def xpnet_steps(fast):
        def forward():
            with xpnet.use_fast_paths(fast), xpnet.no_grad():
                return ours(*inputs)

        def forward_backward():
            for t in inputs + params:
                t.grad = None
            with xpnet.use_fast_paths(fast):
                ours(*inputs).backward(grad)
            return inputs[0].grad
        return forward, forward_backward

    def torch_forward():
        with torch.no_grad():
            return theirs(*tinputs)

    def torch_forward_backward():
        for t in tinputs + tparams:
            t.grad = None
        theirs(*tinputs).backward(tgrad)
        return tinputs[0].grad

    return {"xpnet": xpnet_steps(True), "xpnet-twin": xpnet_steps(False),
            "torch": (torch_forward, torch_forward_backward)}


def _check(case):
    """Same numbers on both sides, so the table never times a wrong result. Checked in float64:
    in float32 a rounding difference can flip the sign of a ReLU input near 0 and with it a
    whole gradient term. The libraries' dropout masks differ, so dropout is off here."""
    import numpy as np

    built = _build(case, "float64")
    ours, theirs, inputs, tinputs, params, tparams = built[:6]
    for m in (ours, theirs):
        if hasattr(m, "eval"):
            m.eval()
    steps = _step_functions(*built)
    for name in ("xpnet", "xpnet-twin"):
        steps[name][1](), steps["torch"][1]()
        pairs = [(x.grad, t.grad) for x, t in zip(inputs + params, tinputs + tparams)]
        side_by_side.assert_same_gradients(pairs, (case, name), rtol=1e-8)


def _steps(case, threads, check=True, backend="numpy", device="cpu"):
    """{implementation: (forward, forward_backward)} closures on the same float32 data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import torch

    import xpnet

    torch.set_num_threads(threads)
    xpnet.set_backend(backend)
    if check:
        _check(case)  # torch on the CPU: the check is about xpnet's numbers
    return _step_functions(*_build(case, "float32", device))


def main(argv=None):
    side_by_side.forward_backward_table(
        argv, script=__file__, description=__doc__.split("\n\n")[0], cases=CASES,
        steps=_steps, setting=f"float32; batch {BATCH}, sequence {SEQ}, d_model {D_MODEL}, "
                              f"{HEADS} heads")


if __name__ == "__main__":
    main()
