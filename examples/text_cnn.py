"""A CNN for text classification (Kim, 2014) on real labelled text that ships with gensim.

Embeddings -> parallel 1-D convolutions of widths 2, 3 and 4 -> ReLU -> max-over-time pooling
-> dropout -> linear, trained with Adam. Two data sets from gensim's test data (see
examples/README.md), both small, so the score is 5-fold cross-validated (every text is tested
once, by a model that never saw it):

- ``--data newsgroups`` (default): 200 Usenet posts from the 20 Newsgroups collection, 100 from
  alt.atheism and 100 from sci.space, message headers removed (they name the newsgroup). Topic
  words carry the label, and the CNN generalises: about 90% held out.
- ``--data polarity``: 200 movie-review sentences (Pang & Lee), positive or negative. Honest
  warning: 160 training sentences with embeddings learned from scratch are far too few for
  sentiment; the model fits its training folds and stays near chance on the held-out ones
  (Kim's results rest on 10,000 sentences and pretrained vectors).

    python examples/text_cnn.py                     # prints the cross-validated accuracy
    python examples/text_cnn.py --out text_cnn.png  # per-fold curves
"""

from __future__ import annotations

import argparse
import importlib.resources
import pickletools
import re
import time
import zlib

import xpnet
import xpnet.nn as nn
import xpnet.nn.functional as F

PAD, UNKNOWN = 0, 1
DOCUMENT_TOKENS = 256  # posts are cut to their first 256 tokens (the median body has 174)
NEWSGROUPS = ("alt.atheism", "sci.space")


def _gensim_test_file(name):
    try:
        return (importlib.resources.files("gensim") / "test" / "test_data" / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise SystemExit(f"text_cnn: the data ship with gensim ({e}); "
                         f"pip install 'xpnet[examples]'") from e


def _tokens(text):
    return re.findall(r"[a-z0-9']+|[^\sa-z0-9']", text.lower())


def load_sentences():
    """Pang & Lee's sentences as (tokens, label) pairs: label 1 for positive, 0 for negative."""
    data = []
    for line in _gensim_test_file("pang_lee_polarity.cor").decode("latin-1").splitlines():
        label, _, text = line.partition(" ")
        data.append((_tokens(text), int(label == "__label__pos")))
    return data


def load_newsgroups():
    """The 200 posts of gensim's ``mini_newsgroup`` as (tokens, label) pairs: label 0 for
    alt.atheism, 1 for sci.space, read from each post's own "Newsgroups:" header, which is then
    dropped with the rest of the header block (the body starts after the first blank line).

    The file is a zlib-compressed pickle of scikit-learn's Bunch. It is never unpickled (that
    could run code): `pickletools.genops` only walks the opcodes, and the posts are its unicode
    string operands.
    """
    stream = zlib.decompress(_gensim_test_file("mini_newsgroup"))
    data = []
    for opcode, text, _ in pickletools.genops(stream):
        if opcode.name != "UNICODE" or "\n" not in text:
            continue
        header, _, body = text.partition("\n\n")
        groups = re.search(r"^Newsgroups: (.*)$", header, re.M).group(1).split(",")
        labels = {i for i, name in enumerate(NEWSGROUPS) if name in groups}
        if len(labels) != 1:
            raise ValueError(f"text_cnn: a post of {groups} is in neither or both of {NEWSGROUPS}")
        words = re.findall(r"[a-z]+", body.lower())  # no addresses, numbers or punctuation
        data.append((words[:DOCUMENT_TOKENS], labels.pop()))
    return data


LOADERS = {"newsgroups": load_newsgroups, "polarity": load_sentences}


def build_vocabulary(texts, min_count=1):
    counts = {}
    for tokens, _ in texts:
        for w in tokens:
            counts[w] = counts.get(w, 0) + 1
    words = sorted(w for w, n in counts.items() if n >= min_count)
    return {w: i + 2 for i, w in enumerate(words)}  # 0: padding, 1: unknown


def encode(sentences, vocabulary, length):
    rows = [[vocabulary.get(w, UNKNOWN) for w in tokens[:length]] for tokens, _ in sentences]
    rows = [r + [PAD] * (length - len(r)) for r in rows]
    labels = [label for _, label in sentences]
    return xpnet.tensor(rows, dtype="int64"), xpnet.tensor(labels, dtype="int64")


class TextCNN(nn.Module):
    def __init__(self, vocabulary_size, embedding_dim=64, filters=32, widths=(2, 3, 4),
                 classes=2, dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, embedding_dim, padding_idx=PAD)
        self.convs = nn.ModuleList([nn.Conv1d(embedding_dim, filters, w) for w in widths])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(filters * len(widths), classes)

    def forward(self, tokens):
        x = self.embedding(tokens).permute(0, 2, 1)  # (N, L, E) -> (N, E, L)
        pooled = [F.max_over_time(F.relu(conv(x))) for conv in self.convs]  # each (N, filters)
        return self.fc(self.dropout(xpnet.concat(pooled, axis=1)))


def folds(n, k, seed):
    order = xpnet.randperm(n, generator=xpnet.Generator(seed)).tolist()
    return [order[i::k] for i in range(k)]


def cross_validate(k=5, epochs=30, lr=1e-3, seed=0, progress=True, data="newsgroups"):
    data_name, data = data, LOADERS[data]()
    length = max(len(tokens) for tokens, _ in data)
    results = []
    fold_iter = list(enumerate(folds(len(data), k, seed)))
    if progress:
        from tqdm import tqdm
        fold_iter = tqdm(fold_iter, desc="folds", unit="fold")
    for fold, test_positions in fold_iter:
        held_out = set(test_positions)
        train = [d for i, d in enumerate(data) if i not in held_out]
        test = [data[i] for i in test_positions]
        # Words only in the test fold become 'unknown'; so do the posts' rare words (names,
        # typos), which a model of 160 texts cannot learn anything from.
        vocabulary = build_vocabulary(train, min_count=2 if data_name == "newsgroups" else 1)
        X_train, y_train = encode(train, vocabulary, length)
        X_test, y_test = encode(test, vocabulary, length)
        xpnet.manual_seed(seed + fold)
        model = TextCNN(len(vocabulary) + 2)
        optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        loader = xpnet.data.DataLoader(xpnet.data.TensorDataset(X_train, y_train),
                                       batch_size=16, shuffle=True, seed=seed + fold)
        curve = []
        for _ in range(epochs):
            model.train()
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_fn(model(xb), yb).backward()
                optimizer.step()
            model.eval()
            with xpnet.no_grad():
                correct = (model(X_test).argmax(axis=1) == y_test).astype("int64").sum().item()
            curve.append(correct / len(test))
        with xpnet.no_grad():
            fitted = (model(X_train).argmax(axis=1) == y_train).astype("float32").mean().item()
        results.append({"test_accuracy": curve[-1], "curve": curve, "n_test": len(test),
                        "train_accuracy": fitted})
    return results


def plot(path, results, data="newsgroups"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, r in enumerate(results):
        ax.plot(r["curve"], alpha=0.7, label=f"fold {i + 1}")
    mean = sum(r["test_accuracy"] for r in results) / len(results)
    ax.axhline(0.5, color="0.5", ls=":", label="chance")
    name = "atheism vs space posts" if data == "newsgroups" else "Pang & Lee sentences"
    ax.set(title=f"text CNN, {name}: {mean:.1%} cross-validated",
           xlabel="epoch", ylabel="held-out accuracy", ylim=(0.3, 1.0))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--data", choices=sorted(LOADERS), default="newsgroups")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    start = time.perf_counter()
    results = cross_validate(args.folds, args.epochs, args.lr, args.seed,
                             progress=not args.no_progress, data=args.data)
    correct = sum(r["test_accuracy"] * r["n_test"] for r in results)
    total = sum(r["n_test"] for r in results)
    fitted = sum(r["train_accuracy"] for r in results) / len(results)
    print(f"backend {xpnet.get_backend()!r}: {args.folds}-fold cross-validated accuracy "
          f"{correct / total:.1%} on {total} {args.data} texts (training folds fitted to "
          f"{fitted:.1%}; "
          f"{time.perf_counter() - start:.1f} s)")
    if args.out:
        plot(args.out, results, args.data)
        print(f"figure written to {args.out}")
    return correct / total


if __name__ == "__main__":
    main()
