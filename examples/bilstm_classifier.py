"""A bidirectional LSTM tags tokens whose labels depend on the future; a one-way LSTM cannot.

The task, generated with a seeded generator: sequences of 8 to 24 symbols drawn uniformly from
{0, ..., K-1} (K = 4); every token is tagged with the sum modulo K of its two neighbours,
``label[t] = (s[t-1] + s[t+1]) mod K``, a missing neighbour (at either end) counting as 0.
Given everything before position t, the label is still uniform over the K classes because
s[t+1] is, so a left-to-right model cannot beat 1/K on any token but the last, where it may
guess ``s[t-1]``; this bound is computed on the test set and printed. A bidirectional model
sees s[t-1] through its forward direction and s[t+1] through its backward one.

Both models share the budget (epochs, batches, optimizer, learning rate) and the head (a small
MLP over the LSTM output at each step: the mod-K sum of two symbols is not linear in them).
The one-way LSTM gets twice the hidden size, so its output is as wide as the bidirectional
one's concatenated directions, and it has more parameters. The batches hold sequences of
different lengths, padded and run through `pack_padded_sequence`, so padding never enters the
backward direction and padded steps are left out of the loss.

    python examples/bilstm_classifier.py                     # prints the comparison table
    python examples/bilstm_classifier.py --out bilstm.png    # test accuracy per epoch
"""

from __future__ import annotations

import argparse
import random
import time

import xpnet
import xpnet.nn as nn
from xpnet.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD = 0  # token id of padding; symbol s is token id s + 1
IGNORE = -100  # label of padded steps, skipped by the loss (cross_entropy's ignore_index)


def neighbour_sum_task(n_sequences, num_symbols=4, min_length=8, max_length=24, seed=0):
    """Seeded sequences and their tags: a list of (symbols, labels) pairs of equal length."""
    rng = random.Random(seed)
    data = []
    for _ in range(n_sequences):
        symbols = [rng.randrange(num_symbols) for _ in range(rng.randint(min_length, max_length))]
        padded = [0, *symbols, 0]  # a missing neighbour counts as 0
        labels = [(padded[t] + padded[t + 2]) % num_symbols for t in range(len(symbols))]
        data.append((symbols, labels))
    return data


def past_only_bound(data, num_symbols):
    """The best expected token accuracy of any model that sees only s[..t]: it can be right
    for sure only on a sequence's last token (label s[t-1]), and with chance 1/K elsewhere."""
    tokens = sum(len(symbols) for symbols, _ in data)
    last = len(data)
    return (last + (tokens - last) / num_symbols) / tokens


def to_batch(pairs):
    """Padded (tokens, labels) int64 tensors of shape (batch, longest) and the lengths."""
    lengths = [len(symbols) for symbols, _ in pairs]
    longest = max(lengths)
    tokens = [[s + 1 for s in symbols] + [PAD] * (longest - len(symbols)) for symbols, _ in pairs]
    labels = [labels + [IGNORE] * (longest - len(labels)) for _, labels in pairs]
    return (xpnet.tensor(tokens, dtype="int64"), xpnet.tensor(labels, dtype="int64"), lengths)


class LSTMTagger(nn.Module):
    """Embedding -> LSTM (one- or two-way) over packed sequences -> MLP -> a class per step."""

    def __init__(self, num_symbols, bidirectional, hidden_size, embedding_dim=16,
                 head_size=64):
        super().__init__()
        self.embedding = nn.Embedding(num_symbols + 1, embedding_dim, padding_idx=PAD)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True,
                            bidirectional=bidirectional)
        width = hidden_size * (2 if bidirectional else 1)
        self.head = nn.Sequential(nn.Linear(width, head_size), nn.ReLU(),
                                  nn.Linear(head_size, num_symbols))

    def forward(self, tokens, lengths):
        """tokens (batch, steps), lengths -> logits (batch, steps, num_symbols)."""
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=tokens.shape[1])
        return self.head(output)


def token_accuracy(model, batches):
    """Share of real (unpadded) tokens tagged correctly."""
    model.eval()
    correct = total = 0
    with xpnet.no_grad():
        for tokens, labels, lengths in batches:
            predicted = model(tokens, lengths).argmax(axis=-1)
            correct += (predicted == labels).astype("int64").sum().item()
            total += sum(lengths)
    model.train()
    return correct / total


def train(bidirectional, train_data, test_data, num_symbols=4, hidden_size=32, epochs=6,
          batch_size=32, lr=1e-2, seed=0, progress=None):
    """Train one tagger; returns it and its per-epoch training loss and test accuracy."""
    xpnet.manual_seed(seed)
    # Same output width for both: the one-way model gets both directions' units.
    model = LSTMTagger(num_symbols, bidirectional,
                       hidden_size if bidirectional else 2 * hidden_size)
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    order = random.Random(seed)
    test_batches = [to_batch(test_data[i:i + 256]) for i in range(0, len(test_data), 256)]
    history = {"loss": [], "test_acc": []}
    for _ in range(epochs):
        shuffled = order.sample(train_data, len(train_data))
        total, batches = 0.0, 0
        for start in range(0, len(shuffled), batch_size):
            tokens, labels, lengths = to_batch(shuffled[start:start + batch_size])
            logits = model(tokens, lengths)
            loss = loss_fn(logits.reshape(-1, num_symbols), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
            if progress is not None:
                progress.update(1)
        history["loss"].append(total / batches)
        history["test_acc"].append(token_accuracy(model, test_batches))
        if progress is not None:
            progress.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                                 test_acc=f"{history['test_acc'][-1]:.3f}")
    history["parameters"] = sum(p.numel() for p in model.parameters())
    return model, history


def plot(path, results, chance, bound):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, h in results.items():
        epochs = range(1, len(h["loss"]) + 1)
        left.plot(epochs, h["loss"], marker="o", ms=3, label=name)
        right.plot(epochs, h["test_acc"], marker="o", ms=3,
                   label=f"{name} (final {h['test_acc'][-1]:.1%})")
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy per token")
    right.axhline(bound, color="0.3", ls="--", label=f"best without the future ({bound:.1%})")
    right.axhline(chance, color="0.6", ls=":", label=f"chance ({chance:.0%})")
    right.set(title="test token accuracy", xlabel="epoch", ylim=(0, 1.02))
    for ax in (left, right):
        ax.legend(fontsize=8)
    fig.suptitle(f"tag = (left + right neighbour) mod K, variable lengths ({xpnet.get_backend()})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--num-symbols", type=int, default=4)
    parser.add_argument("--hidden-size", type=int, default=32,
                        help="per direction; the one-way model gets twice as many")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the learning curves")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.num_symbols < 2:
        parser.error(f"--num-symbols must be >= 2, got {args.num_symbols}")
    for name in ("epochs", "train_size", "test_size", "hidden_size", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.backend:
        xpnet.use_backend(args.backend)
    k = args.num_symbols
    train_data = neighbour_sum_task(args.train_size, k, seed=args.seed)
    test_data = neighbour_sum_task(args.test_size, k, seed=args.seed + 1)
    chance, bound = 1 / k, past_only_bound(test_data, k)
    steps = -(-args.train_size // args.batch_size) * args.epochs
    results = {}
    for name, bidirectional in (("one-way LSTM", False), ("bidirectional LSTM", True)):
        start = time.perf_counter()
        progress = None
        if not args.no_progress:
            from tqdm import tqdm
            progress = tqdm(total=steps, desc=name, unit="batch", leave=False)
        _, history = train(bidirectional, train_data, test_data, k, args.hidden_size,
                           args.epochs, args.batch_size, args.lr, args.seed, progress)
        if progress is not None:
            progress.close()
        history["seconds"] = time.perf_counter() - start
        results[name] = history

    print(f"backend {xpnet.get_backend()!r}: {args.train_size} training and {args.test_size} "
          f"test sequences of 8-24 symbols, K = {k}, {steps} batches of {args.batch_size}")
    print(f"chance {chance:.1%}; best possible without the future {bound:.1%}")
    print(f"{'model':20} {'hidden':>6} {'parameters':>10} {'train loss':>10} {'test acc':>9} "
          f"{'seconds':>8}")
    for name, h in results.items():
        hidden = args.hidden_size * (1 if name.startswith("bi") else 2)
        print(f"{name:20} {hidden:>6} {h['parameters']:>10,} {h['loss'][-1]:>10.4f} "
              f"{h['test_acc'][-1]:>9.1%} {h['seconds']:>8.1f}")
    if args.out:
        plot(args.out, results, chance, bound)
        print(f"figure written to {args.out}")
    return {"chance": chance, "past_only_bound": bound, "results": results}


if __name__ == "__main__":
    main()
