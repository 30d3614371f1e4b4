"""The digits CNN of cnn_digits.py, trained data-parallel across processes.

Each process (rank) holds a replica of the model and trains on its own share of the training
set: DistributedSampler deals the shuffled samples out, DistributedDataParallel averages the
gradients over the ranks while backward runs, and SyncBatchNorm takes the batch statistics over
all ranks. ``--batch-size`` is the global batch, split over the ranks, so any number of ranks
takes the same steps as one process would. The test split is evaluated in shares whose counts
are summed with all_reduce. Progress and the figure come from rank 0.

    mpiexec -n 2 python -m mpi4py examples/distributed_training.py --out ddp.png
    python examples/distributed_training.py                 # the same script, one process

``python -m mpi4py`` makes an exception in any rank end the whole job. Across machines, give
mpiexec a host file (``mpiexec -f hosts -n 8 ...``); see docs/distributed.rst.
"""

from __future__ import annotations

import argparse
import time

from cnn_digits import build_model  # the very same CNN (this folder is on sys.path)

import xpnet
import xpnet.distributed as dist
import xpnet.nn as nn
from xpnet.data import DataLoader, TensorDataset, load_digits, train_test_split
from xpnet.nn.parallel import DistributedDataParallel
from xpnet.utils.data.distributed import DistributedSampler


def evaluate(model, X, y, rank, world):
    """Test accuracy: each rank scores every world-th sample, the counts are summed."""
    model.eval()
    with xpnet.no_grad():
        X_mine, y_mine = X[rank::world, ...], y[rank::world]
        correct = (model(X_mine).argmax(axis=1) == y_mine).astype("int64").sum().item()
    model.train()
    counts = xpnet.tensor([correct, y_mine.shape[0]], dtype=xpnet.int64)
    dist.all_reduce(counts)
    return counts[0].item() / counts[1].item()


def train(epochs=20, batch_size=64, lr=2e-3, seed=0, progress=True):
    rank, world = dist.get_rank(), dist.get_world_size()
    per_rank = max(1, batch_size // world)
    xpnet.manual_seed(seed)
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    # The same split on every rank (same seed); the sampler then shares out the training part.
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        seed=seed)
    train_set = TensorDataset(X_train, y_train)
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed)
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler)
    model = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(build_model()))
    # Wrapping copied rank 0's weights everywhere; dropout masks should differ between ranks.
    xpnet.manual_seed(seed + 1000 * rank)
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    schedule = xpnet.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "test_acc": [], "seconds": [], "comm_seconds": [],
               "world_size": world, "global_batch": per_rank * world}
    epochs_iter = range(epochs)
    if progress and rank == 0:
        from tqdm import tqdm
        epochs_iter = tqdm(epochs_iter, desc=f"epochs ({world} rank{'s' * (world > 1)})",
                           unit="epoch")
    for epoch in epochs_iter:
        sampler.set_epoch(epoch)  # a new order each epoch, the same on every rank
        start, comm_before = time.perf_counter(), model.reducer.comm_seconds
        total = xpnet.zeros(2, dtype=xpnet.float64)  # summed loss, batches
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()  # gradients are averaged over the ranks when this returns
            optimizer.step()
            total += xpnet.tensor([loss.item(), 1.0], dtype=xpnet.float64)
        schedule.step()
        history["seconds"].append(time.perf_counter() - start)
        history["comm_seconds"].append(model.reducer.comm_seconds - comm_before)
        dist.all_reduce(total)  # every rank's losses
        history["loss"].append((total[0] / total[1]).item())
        history["test_acc"].append(evaluate(model, X_test, y_test, rank, world))
        if progress and rank == 0:
            epochs_iter.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                                    test_acc=f"{history['test_acc'][-1]:.3f}")
    return model.module, history


def plot(path, history):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    epochs = range(1, len(history["loss"]) + 1)
    axes[0].plot(epochs, history["loss"])
    axes[0].set(title="training loss (all ranks)", xlabel="epoch", ylabel="cross-entropy",
                yscale="log")
    axes[1].plot(epochs, history["test_acc"])
    axes[1].set(title=f"test accuracy (final {history['test_acc'][-1]:.1%})", xlabel="epoch",
                ylim=(0.8, 1.0))
    comm = history["comm_seconds"]
    rest = [s - c for s, c in zip(history["seconds"], comm)]
    axes[2].bar(epochs, rest, label="compute and optimizer")
    axes[2].bar(epochs, comm, bottom=rest, label="gradient communication")
    axes[2].set(title="rank 0's time per epoch", xlabel="epoch", ylabel="seconds")
    axes[2].legend(loc="upper right", fontsize="small")
    fig.suptitle(f"digits CNN, data-parallel on {history['world_size']} rank(s), global batch "
                 f"{history['global_batch']} ({xpnet.get_backend()})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None, help="array backend (numpy, cupy...)")
    parser.add_argument("--dist-backend", default=None,
                        help="mpi, nccl or local (default: mpi when mpi4py is installed)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="global batch, split over the ranks")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the curves (written by rank 0)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    dist.init_process_group(args.dist_backend)
    try:
        start = time.perf_counter()
        _, history = train(args.epochs, args.batch_size, args.lr, args.seed,
                           progress=not args.no_progress)
        if dist.get_rank() == 0:
            comm = sum(history["comm_seconds"]) / sum(history["seconds"])
            print(f"{history['world_size']} rank(s), backend {xpnet.get_backend()!r} "
                  f"({dist.get_backend()}): test accuracy {history['test_acc'][-1]:.2%} after "
                  f"{args.epochs} epochs ({time.perf_counter() - start:.1f} s, "
                  f"{comm:.0%} of it in gradient communication)")
            if args.out:
                plot(args.out, history)
                print(f"figure written to {args.out}")
    finally:
        dist.destroy_process_group()
    return history


if __name__ == "__main__":
    main()
