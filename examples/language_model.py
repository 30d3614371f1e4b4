"""A character-level language model on real English news text: RNN, GRU, LSTM and Transformer.

Embedding -> stacked recurrent layers (2 x 128, dropout 0.2 between them) -> dropout -> linear
to the vocabulary, trained on softmax cross-entropy with Adam, truncated backpropagation
through time (the hidden state is carried from one chunk of ``--bptt`` characters to the next
and detached between them) and gradient-norm clipping at 0.5. Beside them, on the same data
and budget, a decoder-only Transformer: embedding plus sinusoidal positions -> 2 encoder
layers (d_model 128, 4 heads, feed-forward 256, pre-norm) under a causal mask -> linear. It
carries no state: each chunk of ``--bptt`` characters is its whole context (the
pytorch/examples Transformer LM does the same), and sampling slides that window. The text is
the Lee corpus of Australian news that ships in gensim's test data (``lee_background.cor``:
300 documents, ~60k words, ~360k characters); the last 10% of the documents are held out for
validation, so no document straddles the split. Characters are lowercased; those seen fewer
than 5 times in the training documents become ``<unk>``. See examples/README.md for why characters, not words.

Validation perplexity is printed after every epoch next to the add-one-smoothed unigram
baseline (the perplexity of predicting every character from its training frequency alone), so
the number means something; the untrained model sits near the vocabulary size. After training
each model writes a temperature-sampled continuation of a prompt.

    python examples/language_model.py                        # RNN, GRU, LSTM, Transformer
    python examples/language_model.py --model lstm --epochs 8
    python examples/language_model.py --out lm.png           # validation perplexity curves
"""

from __future__ import annotations

import argparse
import bisect
import collections
import importlib.util
import itertools
import math
import pathlib
import time

import xpnet
import xpnet.nn as nn
import xpnet.nn.functional as F

RECURRENT = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
MODELS = [*RECURRENT, "transformer"]
UNKNOWN = "<unk>"
# Validation runs as this many parallel streams: few enough resets of the state, short loop.
VALID_STREAMS = 32


def load_documents(corpus="lee_background"):
    """The documents (one per line) of a gensim test corpus: 'lee_background' or 'lee'."""
    # find_spec locates the package without importing it (importing gensim takes seconds).
    spec = importlib.util.find_spec("gensim")
    path = None if spec is None else (pathlib.Path(spec.submodule_search_locations[0]) / "test"
                                      / "test_data" / f"{corpus}.cor")
    if path is None or not path.is_file():
        raise SystemExit(f"language_model: the text ships with gensim's test data ({path}); "
                         f"pip install 'xpnet[examples]'")
    raw = path.read_bytes()
    # The files hold a few bytes that are not UTF-8; replacing them costs nothing here.
    return [line.strip() for line in raw.decode("utf-8", errors="replace").splitlines()
            if line.strip()]


def split_documents(documents, validation_fraction=0.1):
    """(training text, validation text): the last documents are held out whole, each
    document ends with a newline (the model learns where documents end)."""
    n_valid = max(1, round(len(documents) * validation_fraction))
    train, valid = documents[:-n_valid], documents[-n_valid:]
    return "".join(d.lower() + "\n" for d in train), "".join(d.lower() + "\n" for d in valid)


class CharVocabulary:
    """Characters seen at least ``min_count`` times, by frequency; index 0 is ``<unk>``."""

    def __init__(self, text, min_count=5):
        counts = collections.Counter(text)
        kept = sorted((c for c, n in counts.items() if n >= min_count),
                      key=lambda c: (-counts[c], c))
        self.itos = [UNKNOWN] + kept
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        return [self.stoi.get(c, 0) for c in text]

    def decode(self, ids):
        return "".join("\N{REPLACEMENT CHARACTER}" if i == 0 else self.itos[i] for i in ids)


def batchify(ids, batch_size):
    """Cut one long stream into ``batch_size`` parallel streams: int64 of shape (steps, batch).

    Column b continues where it stopped in the previous chunk, which is what lets the hidden
    state be carried across chunks. The tail that does not fill a row is dropped.
    """
    steps = len(ids) // batch_size
    if steps < 2:
        raise ValueError(f"batchify: {len(ids)} tokens are too few for batch_size={batch_size}")
    columns = [ids[b * steps:(b + 1) * steps] for b in range(batch_size)]
    return xpnet.tensor([list(row) for row in zip(*columns)], dtype="int64")


def chunks(data, bptt):
    """(input, target) pairs of at most ``bptt`` steps; the target is the input shifted by one."""
    for start in range(0, data.shape[0] - 1, bptt):
        stop = min(start + bptt, data.shape[0] - 1)
        yield data[start:stop, :], data[start + 1:stop + 1, :]


def detach(state):
    """Cut the carried state from the previous chunk's graph (truncated BPTT)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


class CharLanguageModel(nn.Module):
    """Embedding -> RNN/GRU/LSTM (stacked) -> dropout -> linear to next-character logits."""

    carries_state = True  # the hidden state goes on from one chunk to the next

    def __init__(self, vocab_size, mode="lstm", embedding_dim=32, hidden_size=128,
                 num_layers=2, dropout=0.2):
        super().__init__()
        self.mode = mode
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = RECURRENT[mode](embedding_dim, hidden_size, num_layers=num_layers,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        """tokens (seq_len, batch) -> logits (seq_len, batch, vocab_size), new state."""
        output, state = self.rnn(self.embedding(tokens), state)
        return self.decoder(self.dropout(output)), state


class CharTransformer(nn.Module):
    """Embedding + sinusoidal positions -> causal Transformer encoder -> linear.

    The "state" is only the last ``context - 1`` characters, for sampling one character at a
    time; training and validation feed each chunk alone (``carries_state`` is False).
    """

    carries_state = False

    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.2, context=50):
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(vocab_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(d_model, vocab_size)
        # sin/cos of position / 10000^(2i/d) (Vaswani et al., 2017), shape (context, 1, d).
        position = xpnet.arange(context, dtype=xpnet.float32).unsqueeze(1)
        rate = xpnet.exp(xpnet.arange(0, d_model, 2, dtype=xpnet.float32)
                         * (-math.log(10000.0) / d_model))
        table = xpnet.zeros(context, 1, d_model)
        table[:, 0, 0::2] = xpnet.sin(position * rate)
        table[:, 0, 1::2] = xpnet.cos(position * rate)
        self.register_buffer("positions", table)

    def forward(self, tokens, state=None):
        """tokens (seq_len, batch) -> logits (seq_len, batch, vocab_size), the context to
        pass back in with the next characters (sampling)."""
        new = tokens.shape[0]
        if state is not None:
            tokens = xpnet.cat([state, tokens])[-self.context:]
        elif new > self.context:
            raise ValueError(f"CharTransformer: {new} characters exceed the context of "
                             f"{self.context}")
        length = tokens.shape[0]
        # Not scaled by sqrt(d_model) as in Vaswani et al.: nn.Embedding starts at N(0, 1),
        # already the size of the positions' sin/cos, which a scale of 11 would drown.
        x = self.embedding(tokens) + self.positions[:length]
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
        hidden = self.encoder(self.dropout(x), mask=mask, is_causal=True)
        logits = self.decoder(self.dropout(hidden[length - min(new, length):]))
        return logits, tokens[-(self.context - 1):] if self.context > 1 else None


def make_model(mode, vocab_size, embedding_dim=32, hidden_size=128, num_layers=2, dropout=0.2,
               context=50):
    """The recurrent model ``mode`` or, for "transformer", a Transformer of width hidden_size
    that sees ``context`` characters."""
    if mode == "transformer":
        return CharTransformer(vocab_size, d_model=hidden_size, nhead=4, num_layers=num_layers,
                               dim_feedforward=2 * hidden_size, dropout=dropout, context=context)
    return CharLanguageModel(vocab_size, mode, embedding_dim, hidden_size, num_layers, dropout)


def unigram_perplexity(train_ids, valid_ids, vocab_size):
    """Perplexity on ``valid_ids`` of the add-one-smoothed character frequencies of training."""
    counts = collections.Counter(train_ids)
    total = len(train_ids) + vocab_size
    nll = -sum(math.log((counts[i] + 1) / total) for i in valid_ids) / len(valid_ids)
    return math.exp(nll)


def perplexity(model, data, bptt):
    """exp(mean cross-entropy per character) over a whole batchified stream, state carried."""
    model.eval()
    total, count, state = 0.0, 0, None
    with xpnet.no_grad():
        for x, y in chunks(data, bptt):
            logits, state = model(x, state if model.carries_state else None)
            n = y.shape[0] * y.shape[1]
            total += F.cross_entropy(logits.reshape(n, -1), y.reshape(n), reduction="sum").item()
            count += n
    model.train()
    return math.exp(total / count)


def train(mode, train_data, valid_data, vocab_size, epochs=5, bptt=50, lr=3e-3, clip=0.5,
          seed=0, progress=None, **model_args):
    """Train one model; returns it and its validation perplexity before and after each epoch."""
    xpnet.manual_seed(seed)  # every model starts from the same seed
    model = make_model(mode, vocab_size, context=bptt, **model_args)
    optimizer = xpnet.optim.Adam(model.parameters(), lr=lr)
    history = {"valid_ppl": [perplexity(model, valid_data, bptt)], "train_loss": [],
               "clipped": 0, "steps": 0, "epoch_seconds": []}
    for _ in range(epochs):
        state, total, batches = None, 0.0, 0
        start = time.perf_counter()
        for x, y in chunks(train_data, bptt):
            state = None if state is None or not model.carries_state else detach(state)
            logits, state = model(x, state)
            n = y.shape[0] * y.shape[1]
            loss = F.cross_entropy(logits.reshape(n, -1), y.reshape(n))
            optimizer.zero_grad()
            loss.backward()
            # Exploding gradients are the classic failure of BPTT (Pascanu et al., 2013).
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip).item()
            history["clipped"] += norm > clip
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
            history["steps"] += 1
            if progress is not None:
                progress.update(1)
                progress.set_postfix(loss=f"{loss.item():.3f}",
                                     valid_ppl=f"{history['valid_ppl'][-1]:.2f}")
        history["epoch_seconds"].append(time.perf_counter() - start)
        history["train_loss"].append(total / batches)
        history["valid_ppl"].append(perplexity(model, valid_data, bptt))
    return model, history


def sample(model, vocab, prompt="the ", length=300, temperature=0.8, seed=0):
    """Continue ``prompt`` by drawing each next character from softmax(logits / temperature).

    Returns the ids of the drawn characters (the prompt not included).
    """
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature}")
    if not prompt:
        raise ValueError("sample: the prompt must hold at least one character, got ''")
    generator = xpnet.Generator(seed)
    model.eval()
    drawn = []
    with xpnet.no_grad():
        tokens = xpnet.tensor([[i] for i in vocab.encode(prompt.lower())], dtype="int64")
        if not model.carries_state:  # a Transformer reads at most its context
            tokens = tokens[-model.context:]
        logits, state = model(tokens)
        for _ in range(length):
            probs = F.softmax(logits[-1, 0, :] / temperature, axis=-1).tolist()
            # Inverse-CDF draw on the host: one uniform number per character.
            cdf = list(itertools.accumulate(probs))
            u = xpnet.rand(1, generator=generator).item() * cdf[-1]
            drawn.append(min(bisect.bisect_right(cdf, u), len(probs) - 1))
            logits, state = model(xpnet.tensor([[drawn[-1]]], dtype="int64"), state)
    model.train()
    return drawn


def plot(path, histories, unigram):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for mode, history in histories.items():
        ppl = history["valid_ppl"]
        per_epoch = sum(history["epoch_seconds"]) / max(len(history["epoch_seconds"]), 1)
        ax.plot(range(len(ppl)), ppl, marker="o", ms=3,
                label=f"{mode.upper()} (final {ppl[-1]:.2f}, {per_epoch:.1f} s/epoch)")
    ax.axhline(unigram, color="0.4", ls="--", label=f"unigram baseline ({unigram:.2f})")
    ax.set(title=f"character LMs on the Lee corpus ({xpnet.get_backend()})",
           xlabel="epoch (0: untrained)", ylabel="validation perplexity (log scale)",
           yscale="log")
    low, high = ax.get_ylim()
    ticks = [t for t in (2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100) if low <= t <= high]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--corpus", choices=["lee_background", "lee"], default="lee_background")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--bptt", type=int, default=50, help="characters per truncated chunk")
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=0.5, help="max gradient norm")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--prompt", default="the prime minister ")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="PNG of the validation perplexity curves")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    # Checked before training so a bad value does not surface minutes later.
    if args.temperature <= 0:
        parser.error(f"--temperature must be > 0, got {args.temperature}")
    if not args.prompt:
        parser.error("--prompt must hold at least one character")
    for name in ("epochs", "batch_size", "bptt", "embedding_dim", "hidden_size", "num_layers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.backend:
        xpnet.use_backend(args.backend)

    train_text, valid_text = split_documents(load_documents(args.corpus))
    vocab = CharVocabulary(train_text)
    train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
    unigram = unigram_perplexity(train_ids, valid_ids, len(vocab))
    train_data = batchify(train_ids, args.batch_size)
    valid_data = batchify(valid_ids, VALID_STREAMS)
    print(f"{args.corpus}: {len(train_ids):,} training and {len(valid_ids):,} validation "
          f"characters, vocabulary {len(vocab)} (with {UNKNOWN}); unigram baseline perplexity "
          f"{unigram:.2f}")

    modes = list(MODELS) if args.model == "all" else [args.model]
    model_args = dict(embedding_dim=args.embedding_dim, hidden_size=args.hidden_size,
                      num_layers=args.num_layers, dropout=args.dropout)
    per_epoch = len(range(0, train_data.shape[0] - 1, args.bptt))
    results = {}
    for mode in modes:
        start = time.perf_counter()
        progress = None
        if not args.no_progress:
            from tqdm import tqdm
            progress = tqdm(total=args.epochs * per_epoch, desc=mode, unit="chunk", leave=False)
        model, history = train(mode, train_data, valid_data, len(vocab), args.epochs, args.bptt,
                               args.lr, args.clip, args.seed, progress, **model_args)
        if progress is not None:
            progress.close()
        history["seconds"] = time.perf_counter() - start
        history["parameters"] = sum(p.numel() for p in model.parameters())
        history["sample"] = sample(model, vocab, args.prompt, args.sample_length,
                                   args.temperature, args.seed)
        results[mode] = history
        curve = " ".join(f"{p:.2f}" for p in history["valid_ppl"][1:])
        print(f"\n{mode.upper()} ({history['parameters']:,} parameters, {history['steps']} "
              f"steps, {history['clipped']} clipped, {history['seconds']:.0f} s) validation "
              f"perplexity per epoch: {curve}")
        print(f"sample (temperature {args.temperature}):\n{args.prompt}"
              f"{vocab.decode(history['sample'])}")

    print(f"\nbackend {xpnet.get_backend()!r}, {args.epochs} epochs of {per_epoch} chunks, "
          f"unigram baseline {unigram:.2f}")
    print(f"{'model':11} {'parameters':>10} {'valid ppl':>10} {'vs unigram':>10} "
          f"{'s/epoch':>8}")
    for mode, h in results.items():
        per_epoch = sum(h["epoch_seconds"]) / len(h["epoch_seconds"])
        print(f"{mode.upper():11} {h['parameters']:>10,} {h['valid_ppl'][-1]:>10.2f} "
              f"{h['valid_ppl'][-1] / unigram:>10.2f} {per_epoch:>8.1f}")
    if args.out:
        plot(args.out, results, unigram)
        print(f"figure written to {args.out}")
    return {"unigram_ppl": unigram, "vocab": vocab, "results": results}


if __name__ == "__main__":
    main()
