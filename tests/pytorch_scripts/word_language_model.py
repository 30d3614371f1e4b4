"""A word-level LSTM language model on gensim's Lee news corpus, trained the classic way
(the recipe of pytorch/examples' word_language_model, written afresh here): truncated
backpropagation through time with the recurrent state detached between windows, gradient-norm
clipping, plain SGD applied by hand to ``p.data``, a learning rate quartered whenever the
validation loss fails to improve, and perplexity reported with ``math.exp``."""

import math
import os
import tempfile
import time
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F
from gensim.test.utils import datapath

UNK = '<unk>'
EOS = '<eos>'
EVAL_COLUMNS = 10


class Vocabulary:
    """Id 0 is ``UNK``, which stands for every word seen fewer than `min_count` times; the
    frequent words follow in the order in which they first occur."""

    def __init__(self, stories, min_count):
        counts = Counter(word for story in stories for word in story)
        frequent = (word for story in stories for word in story if counts[word] >= min_count)
        self.itos = list(dict.fromkeys([UNK, *frequent]))
        self.stoi = {word: i for i, word in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, words):
        return torch.tensor([self.stoi.get(word, 0) for word in words]).type(torch.int64)


class LeeCorpus:
    """The stories of one file (one per line, lower-cased, each closed by ``EOS``), split by
    story into train/valid/test streams of word ids."""

    def __init__(self, path, min_count=5, fractions=(0.8, 0.1, 0.1)):
        with open(path, encoding="utf8") as f:
            stories = [line.lower().split() + [EOS] for line in f if line.strip()]
        self.vocab = Vocabulary(stories, min_count)
        end_train = int(fractions[0] * len(stories))
        end_valid = end_train + int(fractions[1] * len(stories))
        self.train = self._stream(stories[:end_train])
        self.valid = self._stream(stories[end_train:end_valid])
        self.test = self._stream(stories[end_valid:])

    def _stream(self, stories):
        return torch.cat([self.vocab.encode(story) for story in stories])


class WordLM(nn.Module):
    """Word vectors -> stacked LSTM (or GRU) -> log-probabilities of the next word.

    With ``tie=True`` the output layer reuses the embedding matrix, which needs the recurrent
    layers to be as wide as the word vectors."""

    def __init__(self, vocab_size, dim=64, layers=2, cell='LSTM', dropout=0.2, tie=True,
                 hidden=None):
        super().__init__()
        hidden = dim if hidden is None else hidden
        if cell not in ('LSTM', 'GRU'):
            raise ValueError(f"cell must be 'LSTM' or 'GRU', not {cell!r}")
        if tie and hidden != dim:
            raise ValueError(f"cannot share the embedding with the output layer: hidden size "
                             f"{hidden} differs from embedding size {dim}")
        self.cell, self.layers, self.hidden = cell, layers, hidden
        self.embed = nn.Embedding(vocab_size, dim)
        recurrent = nn.LSTM if cell == 'LSTM' else nn.GRU
        self.rnn = recurrent(dim, hidden, layers, dropout=dropout)
        self.to_vocab = nn.Linear(hidden, vocab_size)
        self.dropout = nn.Dropout(dropout)
        if tie:
            self.to_vocab.weight = self.embed.weight
        # Small uniform word vectors and output weights, no output bias to start with. When
        # tied, the one matrix is drawn twice: that keeps the random stream (and so the dropout
        # masks) that the quality tolerances in tests/test_pytorch_scripts.py were calibrated on.
        for weight in (self.embed.weight, self.to_vocab.weight):
            nn.init.uniform_(weight, -0.1, 0.1)
        nn.init.zeros_(self.to_vocab.bias)

    def zero_state(self, batch_size):
        ref = next(self.parameters())  # zeros of the parameters' dtype, on their device
        shape = (self.layers, batch_size, self.hidden)
        if self.cell == 'LSTM':
            return ref.new_zeros(*shape), ref.new_zeros(*shape)  # (h, c)
        return ref.new_zeros(*shape)

    def forward(self, words, state):
        """words: (time, batch) ids -> ((time * batch, vocab) log-probabilities, new state)."""
        vectors = self.dropout(self.embed(words))
        seq, state = self.rnn(vectors, state)
        scores = self.to_vocab(self.dropout(seq))
        return F.log_softmax(scores.view(-1, scores.size(-1)), dim=1), state


def make_data(min_count=5):
    return LeeCorpus(datapath("lee_background.cor"), min_count=min_count)


def columns(stream, n_columns):
    """Cut a 1-d stream into `n_columns` equal consecutive pieces, side by side as the columns
    of a (length, n_columns) tensor; the few ids that do not fill a whole row are dropped."""
    length = stream.size(0) // n_columns
    return stream.narrow(0, 0, length * n_columns).view(n_columns, length).t().contiguous()


def window(source, start, bptt):
    """Rows start..start+bptt of `source` and, flattened, the ids one row further down."""
    stop = min(start + bptt, source.size(0) - 1)
    return source[start:stop], source[start + 1:stop + 1].view(-1)


def detach_state(state):
    """Keep the values of an RNN state (a tensor or a tuple of them) but drop their history."""
    if isinstance(state, tuple):
        return tuple(detach_state(part) for part in state)
    return state.detach()


def build_model(vocab_size, cell='LSTM', dim=64, layers=2, dropout=0.2, tie=True):
    return WordLM(vocab_size, dim=dim, layers=layers, cell=cell, dropout=dropout, tie=tie)


def train(model, source, criterion, lr, epoch, bptt=20, clip=0.25, report_every=20,
          max_batches=None):
    """One pass over `source` (from ``columns``) in windows of `bptt` rows, SGD by hand."""
    model.train()
    state = model.zero_state(source.size(1))
    n_windows = math.ceil((source.size(0) - 1) / bptt)
    losses = []
    clock = time.time()
    for step, start in enumerate(range(0, source.size(0) - 1, bptt), start=1):
        words, targets = window(source, start, bptt)
        model.zero_grad()
        # Start from where the previous window ended, without backpropagating into it.
        state = detach_state(state)
        log_probs, state = model(words, state)
        loss = criterion(log_probs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())

        if step % report_every == 0:
            recent = sum(losses[-report_every:]) / report_every
            per_window = (time.time() - clock) / report_every
            print(f"epoch {epoch} window {step:4d}/{n_windows} lr {lr:g}: loss {recent:.3f} "
                  f"(perplexity {math.exp(recent):.1f}), {1000 * per_window:.0f} ms per window")
            clock = time.time()
        if max_batches is not None and step >= max_batches:
            break
    return losses


def evaluate(model, source, criterion, bptt=20):
    """Mean negative log-likelihood per predicted word over all of `source`."""
    model.eval()
    state = model.zero_state(source.size(1))
    total, n_rows = 0.0, 0
    with torch.no_grad():
        for start in range(0, source.size(0) - 1, bptt):
            words, targets = window(source, start, bptt)
            log_probs, state = model(words, state)
            total += criterion(log_probs, targets).item() * words.size(0)
            n_rows += words.size(0)
    return total / n_rows


def generate(model, vocab, device, n_words=30, temperature=1.0):
    """Sample `n_words` words, each fed back in as the next input."""
    model.eval()
    state = model.zero_state(1)
    current = torch.randint(len(vocab), (1, 1), dtype=torch.long).to(device)
    text = []
    with torch.no_grad():
        for _ in range(n_words):
            log_probs, state = model(current, state)
            weights = torch.exp(log_probs.squeeze() / temperature).cpu()
            next_id = torch.multinomial(weights, num_samples=1).item()
            text.append(vocab.itos[next_id])
            current.fill_(next_id)
    return ' '.join(text)


def main(epochs=2, seed=1111, rnn_type='LSTM', lr=20.0, batch_size=20, bptt=20, dropout=0.2,
         max_batches=None, save_dir=None):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    corpus = make_data()
    train_src = columns(corpus.train, batch_size).to(device)
    valid_src = columns(corpus.valid, EVAL_COLUMNS).to(device)
    test_src = columns(corpus.test, EVAL_COLUMNS).to(device)

    vocab_size = len(corpus.vocab)
    model = build_model(vocab_size, cell=rnn_type, dropout=dropout).to(device)
    criterion = nn.NLLLoss()
    best_path = os.path.join(save_dir or tempfile.mkdtemp(), "lm.pt")

    history = {"train_loss": [], "val_ppl": [], "lr": []}
    best_loss = math.inf
    for epoch in range(1, epochs + 1):
        started = time.time()
        history["lr"].append(lr)
        history["train_loss"] += train(model, train_src, criterion, lr, epoch, bptt=bptt,
                                       max_batches=max_batches)
        valid_loss = evaluate(model, valid_src, criterion, bptt=bptt)
        history["val_ppl"].append(math.exp(valid_loss))
        print(f"== epoch {epoch} ({time.time() - started:.1f}s): validation loss "
              f"{valid_loss:.3f}, perplexity {math.exp(valid_loss):.1f}")
        if valid_loss < best_loss:
            best_loss = valid_loss
            with open(best_path, 'wb') as f:
                torch.save(model.state_dict(), f)
        else:
            lr /= 4.0  # stuck on validation: smaller steps from now on

    # The test score is that of the best epoch on validation, read back from disk.
    with open(best_path, 'rb') as f:
        model.load_state_dict(torch.load(f))
    test_loss = evaluate(model, test_src, criterion, bptt=bptt)
    print(f"== test loss {test_loss:.3f}, perplexity {math.exp(test_loss):.1f}")
    history["test_ppl"] = math.exp(test_loss)
    history["generated"] = generate(model, corpus.vocab, device)
    print(history["generated"])
    history["ntokens"] = vocab_size
    return history


if __name__ == "__main__":
    main()
