"""xpnet's time over PyTorch's (CPU) on the same work, measured side by side in one process.

Raw times drift by 15% between runs on a shared machine; a ratio measured in one process, with
xpnet and torch interleaved on the same threads and data, moves only when one of the two
libraries changes, so its graph shows xpnet's own progress. Each ``track_`` returns the median
xpnet time over the median torch time (unit "ratio": below 1 is faster than torch), at
``XPNET_BENCH_THREADS`` threads on both sides:

- ``tiny_ops``: the 100-op tanh/sigmoid/add/mul chain on float32 (4,) of
  ``overhead_vs_torch.py``, the per-op overhead (forward under no_grad; forward+backward);
- ``mlp_step``: the 784-512-512-10 MLP of ``bench_mlp.py``, batch 128 (forward, and the whole
  Adam training step as forward+backward);
- ``conv2d``, ``lstm``, ``encoder_layer``, ``embedding_bag``: the first case of
  ``conv_vs_torch.py``, ``rnn_vs_torch.py`` (2-layer LSTM), ``attention_vs_torch.py``
  (TransformerEncoderLayer, dropout 0) and ``embedding_vs_torch.py`` (embedding_bag mean, dense
  gradient);
- ``batch_norm2d``, ``layer_norm``, ``group_norm``: the training-mode cases of
  ``norm_vs_torch.py``.

The closures come from those side-by-side scripts and the timing from
``side_by_side.interleaved_medians``, with the garbage collector off. Each track takes about
``BUDGET`` seconds (less for the tiny cases): the number of rounds follows from a timed call of
each side in ``setup``. The ``time_`` benchmarks of the other files keep the raw times.
"""

import gc
import sys
import time
from pathlib import Path

import xpnet  # before the scripts, which put this checkout's src/ on the path: asv's xpnet wins

from . import THREADS
from .bench_autograd import _activate
from .bench_mlp import build_mlp, training_step

_SCRIPTS = str(Path(__file__).resolve().parents[1])  # asv_benchmarks/, the side-by-side scripts
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

# Imported now, while the path has them (their own imports of numpy and torch come later).
import attention_vs_torch  # noqa: E402
import conv_vs_torch  # noqa: E402
import embedding_vs_torch  # noqa: E402
import norm_vs_torch  # noqa: E402
import overhead_vs_torch  # noqa: E402
import rnn_vs_torch  # noqa: E402
import side_by_side  # noqa: E402

BUDGET = 2.0  # seconds per track_ (about)
# case -> (side-by-side script, its case name); None: built here
CASES = {
    "tiny_ops": None,
    "mlp_step": None,
    "conv2d": (conv_vs_torch, "conv2d 32x64x32x32, 3x3, pad 1"),
    "lstm": (rnn_vs_torch, "LSTM 2 layers"),
    "encoder_layer": (attention_vs_torch, "encoder layer, dropout 0"),
    "embedding_bag": (embedding_vs_torch, "embedding_bag mean, dense grad"),
    "batch_norm2d": (norm_vs_torch, "BatchNorm2d(64) on 32x64x32x32"),
    "layer_norm": (norm_vs_torch, "LayerNorm(256) on 32x128x256"),
    "group_norm": (norm_vs_torch, "GroupNorm(8, 64) on 32x64x32x32"),
}


def _tiny_ops_steps(threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    x_np = np.random.default_rng(0).standard_normal(4).astype(np.float32)
    libs = {name: overhead_vs_torch.Lib(name, module.tensor, module.tanh, module.sigmoid,
                                        module.no_grad)
            for name, module in (("xpnet", xpnet), ("torch", torch))}
    steps = {}
    for name, lib in libs.items():
        chain = overhead_vs_torch.tiny_chains(lib, 100)["mixed tanh/sigmoid/add/mul"]
        x = lib.tensor(x_np, requires_grad=True)

        def forward(lib=lib, chain=chain, x=x):
            with lib.no_grad():
                return chain(x)

        def forward_backward(chain=chain, x=x):
            x.grad = None
            chain(x).sum().backward()
        steps[name] = (forward, forward_backward)
    return steps


def _mlp_steps(threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    xpnet.manual_seed(0)
    model = build_mlp()
    reference = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 10))
    reference.load_state_dict({k: torch.from_numpy(v.numpy())
                               for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((128, 784)).astype(np.float32)
    y_np = rng.integers(0, 10, 128)
    x, y, tx, ty = (xpnet.tensor(x_np), xpnet.tensor(y_np), torch.from_numpy(x_np),
                    torch.from_numpy(y_np))
    optimizer = xpnet.optim.Adam(model.parameters(), lr=1e-3)
    t_optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    loss_fn, t_loss_fn = xpnet.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def forward():
        with xpnet.no_grad():
            return model(x)

    def torch_forward():
        with torch.no_grad():
            return reference(tx)

    return {"xpnet": (forward, lambda: training_step(model, optimizer, loss_fn, x, y)),
            "torch": (torch_forward,
                      lambda: training_step(reference, t_optimizer, t_loss_fn, tx, ty))}


class VsTorch:
    """xpnet time / torch time, forward and forward+backward, measured in one process."""

    params = [["numpy"], list(CASES)]
    param_names = ["backend", "case"]
    timeout = 120  # setup (data, models) plus two sides of the slowest case

    def setup(self, backend, case):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        threads = int(THREADS)
        if case == "tiny_ops":
            steps = _tiny_ops_steps(threads)
        elif case == "mlp_step":
            steps = _mlp_steps(threads)
        else:
            script, name = CASES[case]
            steps = script._steps(name, threads, check=False)
        self.steps = {name: tuple(steps[name][:2]) for name in ("xpnet", "torch")}
        # A timed call of each, after a first one that warms caches, lazy imports and the
        # optimizer's state, sizes the rounds.
        self.seconds = {}
        for name, kinds in self.steps.items():
            for kind, step in enumerate(kinds):
                step()
                start = time.perf_counter()
                step()
                self.seconds[name, kind] = time.perf_counter() - start

    def teardown(self, backend, case):
        xpnet.set_backend(self._previous)

    def _ratio(self, kind):
        steps = {name: tuple(s if k == kind else None for k, s in enumerate(kinds))
                 for name, kinds in self.steps.items()}
        per_round = sum(self.seconds[name, kind] for name in steps)  # one call of each side
        burst = max(1, min(100, round(0.02 / per_round)))  # rounds of 20 ms at least
        repeat = max(3, min(50, int(BUDGET / ((burst + 1) * per_round))))
        # The garbage collector is off while timing, as in timeit and asv's time_ benchmarks
        # (and overhead_vs_torch.py): a collection lands on whichever side happens to run.
        gc.collect()
        gc.disable()
        try:
            medians = side_by_side.interleaved_medians(steps, repeat, burst)
        finally:
            gc.enable()
        return medians["xpnet", kind] / medians["torch", kind]

    def track_forward(self, backend, case):
        return self._ratio(0)

    def track_forward_backward(self, backend, case):
        return self._ratio(1)

    track_forward.unit = "ratio"
    track_forward_backward.unit = "ratio"
