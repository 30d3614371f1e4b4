"""Recurrent layers in xpnet (fast paths on and off) next to PyTorch (default: NumPy, CPU).

The issue's shapes, float32, seq_len 35, batch 32, input 128, hidden 256, the same data and
weights in both (the torch module's state dict is loaded into xpnet's), the same BLAS/OpenMP
thread count (set before numpy and torch load):

- LSTM, GRU and RNN (tanh), 2 layers;
- LSTM, 1 layer, bidirectional.

    python asv_benchmarks/rnn_vs_torch.py [--threads 1] [--repeat 20] [--no-memory]
        [--backend numpy] [--torch-device cpu]

Prints a markdown table of milliseconds per call (median over interleaved rounds) for the forward
(no graph) and forward+backward (input and every parameter gradient, from a random output
gradient), the ratios to torch, and the peak memory of forward+backward (how far the first call,
then warm calls, raise the process's peak RSS, in a fresh subprocess per implementation and
case; Linux only).
"""

import sys
from pathlib import Path

import side_by_side

SEQ, BATCH, INPUT, HIDDEN = 35, 32, 128, 256
# name -> (module class name, num_layers, bidirectional)
CASES = {
    "LSTM 2 layers": ("LSTM", 2, False),
    "GRU 2 layers": ("GRU", 2, False),
    "RNN 2 layers": ("RNN", 2, False),
    "LSTM 1 layer, bidirectional": ("LSTM", 1, True),
}



def _steps(case, threads, check=True, backend="numpy", device="cpu"):
    """{implementation: (forward, forward_backward)} closures on the same float32 data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np
    import torch

    import xpnet

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xpnet.set_backend(backend)
    kind, layers, bidirectional = CASES[case]
    module = getattr(torch.nn, kind)(INPUT, HIDDEN, num_layers=layers,
                                     bidirectional=bidirectional)
    ours = getattr(xpnet.nn, kind)(INPUT, HIDDEN, num_layers=layers, bidirectional=bidirectional)
    ours.load_state_dict(module.state_dict())
    module.to(device)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((SEQ, BATCH, INPUT), dtype=np.float32)
    grad_np = rng.standard_normal((SEQ, BATCH, HIDDEN * (1 + bidirectional)), dtype=np.float32)
    x, grad = xpnet.tensor(x_np, requires_grad=True), xpnet.tensor(grad_np)
    tx = torch.from_numpy(x_np).to(device).requires_grad_()
    tgrad = torch.from_numpy(grad_np).to(device)

    def xpnet_steps(fast):
        def forward():
            with xpnet.use_fast_paths(fast), xpnet.no_grad():
                return ours(x)[0]

        def forward_backward():
            ours.zero_grad(set_to_none=True)
            x.grad = None
            with xpnet.use_fast_paths(fast):
                ours(x)[0].backward(grad)
            return x.grad
        return forward, forward_backward

    def torch_forward():
        with torch.no_grad():
            return module(tx)[0]

    def torch_forward_backward():
        module.zero_grad(set_to_none=True)
        tx.grad = None
        module(tx)[0].backward(tgrad)
        return tx.grad

    steps = {"xpnet": xpnet_steps(True), "xpnet-twin": xpnet_steps(False),
             "torch": (torch_forward, torch_forward_backward)}
    if not check:
        return steps
    # Same numbers on both sides (checked here so the table never times a wrong result).
    for fast in (True, False):
        xpnet_steps(fast)[1](), torch_forward_backward()
        pairs = [(x.grad, tx.grad)] + [(p.grad, t.grad) for p, t in
                                       zip(ours.parameters(), module.parameters())]
        side_by_side.assert_same_gradients(pairs, case)
    return steps


def main(argv=None):
    side_by_side.forward_backward_table(
        argv, script=__file__, description=__doc__.split("\n\n")[0], cases=CASES,
        steps=_steps, setting=f"float32; seq_len {SEQ}, batch {BATCH}, input {INPUT}, hidden {HIDDEN}")


if __name__ == "__main__":
    main()
