"""Which source is a snippet from: a news wire, a film review or an (already stemmed)
encyclopedia? A bag-of-words classifier over an nn.EmbeddingBag fed flat token ids plus
offsets (the set-up of the PyTorch text-classification tutorial, written afresh): a collate
function builds those from raw text, ``random_split`` carves out a validation set, and SGD
trains with gradient clipping and a StepLR decay applied whenever validation accuracy drops.

The data ships with gensim: lee_background.cor (news), pang_lee_polarity.cor (reviews) and
head500.noblanks.cor (stemmed Wikipedia)."""

import re
import time
from collections import Counter

import torch
from gensim.test.utils import datapath
from torch import nn
from torch.utils.data import DataLoader, random_split

SOURCES = ["News", "Review", "Encyclopedia"]  # class 0, 1, 2
_WORD = re.compile(r"[a-z0-9']+")


def words_of(text):
    return _WORD.findall(text.lower())


def make_data(per_class=200, words=16):
    """(class, text) pairs: `per_class` snippets from each source, of about `words` words for
    the encyclopedia, in turn news, review, encyclopedia (so every prefix is balanced)."""
    with open(datapath("lee_background.cor"), encoding="utf8") as f:
        news = [s for doc in f for s in re.split(r"(?<=[.!?])\s+", doc.strip()) if len(s) > 40]
    with open(datapath("pang_lee_polarity.cor"), encoding="latin-1") as f:
        reviews = [line.split(" ", 1)[1].strip() for line in f]
    with open(datapath("head500.noblanks.cor"), encoding="utf8") as f:
        wiki_words = f.read(200000).split()
    wiki = [" ".join(wiki_words[start:start + words])
            for start in range(0, words * per_class, words)]
    samples = []
    for trio in zip(news, reviews, wiki):  # per_class trios: `wiki` is that long
        samples += enumerate(trio)         # (0, news), (1, review), (2, encyclopedia)
    return samples


def build_vocab(samples, min_freq=1):
    """word -> id: 0 for unknown words, then the words of `samples` in alphabetical order."""
    counts = Counter(w for _, text in samples for w in words_of(text))
    vocab = {"<unk>": 0}
    for word in sorted(w for w, n in counts.items() if n >= min_freq):
        vocab[word] = len(vocab)
    return vocab


class BagOfWords(nn.Module):
    """The mean of a snippet's word vectors, then a linear layer to class scores."""

    def __init__(self, vocab_size, embed_dim, num_class, init_range=0.5):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab_size, embed_dim, mode='mean')
        self.fc = nn.Linear(embed_dim, num_class)
        for weight in (self.bag.weight, self.fc.weight):
            weight.data.uniform_(-init_range, init_range)
        self.fc.bias.data.zero_()

    def forward(self, token_ids, offsets):
        return self.fc(self.bag(token_ids, offsets))


def build_model(vocab_size, embed_dim=32, num_class=3):
    return BagOfWords(vocab_size, embed_dim, num_class)


def encode(vocab, text):
    return [vocab.get(w, 0) for w in words_of(text)]


def make_collate(vocab, device):
    """A collate_fn: a list of (class, text) -> (all token ids in one 1-d tensor, the offset at
    which each snippet starts, the classes)."""

    def collate(samples):
        ids = [torch.tensor(encode(vocab, text), dtype=torch.int64) for _, text in samples]
        lengths = [0] + [t.size(0) for t in ids[:-1]]
        offsets = torch.tensor(lengths).cumsum(dim=0)
        classes = torch.tensor([c for c, _ in samples], dtype=torch.int64)
        return torch.cat(ids).to(device), offsets.to(device), classes.to(device)

    return collate


def train(model, dataloader, criterion, optimizer, epoch, log_interval=10, max_batches=None):
    model.train()
    losses = []
    n_right = n_seen = 0
    clock = time.time()
    for i, (ids, offsets, classes) in enumerate(dataloader):
        optimizer.zero_grad()
        scores = model(ids, offsets)
        loss = criterion(scores, classes)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        losses.append(loss.item())
        n_right += (scores.argmax(1) == classes).sum().item()
        n_seen += classes.size(0)
        if i > 0 and i % log_interval == 0:
            print(f"epoch {epoch}, batch {i}/{len(dataloader)}: {n_right / n_seen:.3f} of the "
                  f"recent snippets right ({time.time() - clock:.2f}s)")
            n_right = n_seen = 0
            clock = time.time()
        if max_batches is not None and i + 1 >= max_batches:
            break
    return losses


def evaluate(model, dataloader, criterion):
    """(accuracy, mean loss per snippet)"""
    model.eval()
    n_right = n_seen = 0
    loss_sum = 0.0
    with torch.no_grad():
        for ids, offsets, classes in dataloader:
            scores = model(ids, offsets)
            loss_sum += criterion(scores, classes).item() * classes.size(0)
            n_right += (scores.argmax(1) == classes).sum().item()
            n_seen += classes.size(0)
    return n_right / n_seen, loss_sum / n_seen


def predict(model, vocab, text):
    with torch.inference_mode():
        scores = model(torch.tensor(encode(vocab, text)), torch.tensor([0]))
    return SOURCES[scores.argmax(1).item()]


def main(epochs=10, seed=0, lr=5.0, batch_size=16, shuffle=True, max_batches=None):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    samples = make_data()
    n_test = len(samples) // 5
    pool, test_part = samples[:-n_test], samples[-n_test:]
    vocab = build_vocab(pool)
    collate = make_collate(vocab, device)

    n_fit = int(0.9 * len(pool))
    if shuffle:
        fit_part, valid_part = random_split(pool, [n_fit, len(pool) - n_fit])
    else:
        fit_part, valid_part = pool[:n_fit], pool[n_fit:]

    def loader(part):
        return DataLoader(part, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)

    fit_loader, valid_loader, test_loader = loader(fit_part), loader(valid_part), loader(test_part)

    n_classes = len({c for c, _ in pool})
    model = build_model(len(vocab), num_class=n_classes).to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)

    history = {"train_loss": [], "valid_acc": [], "lr": []}
    best_valid = -1.0
    for epoch in range(1, epochs + 1):
        started = time.time()
        history["lr"].append(scheduler.get_last_lr()[0])
        history["train_loss"] += train(model, fit_loader, criterion, optimizer, epoch,
                                       max_batches=max_batches)
        valid_acc, _ = evaluate(model, valid_loader, criterion)
        history["valid_acc"].append(valid_acc)
        if valid_acc < best_valid:
            scheduler.step()  # worse than the best epoch so far: a tenth of the step size
        else:
            best_valid = valid_acc
        print(f"== epoch {epoch} ({time.time() - started:.2f}s): validation accuracy "
              f"{valid_acc:.3f}")

    test_acc, test_loss = evaluate(model, test_loader, criterion)
    print(f"== test accuracy {test_acc:.3f}")
    history["test_acc"], history["test_loss"] = test_acc, test_loss

    news_like = ("The fire service said strong winds pushed the blaze towards homes in the "
                 "Blue Mountains on Tuesday afternoon.")
    history["example"] = predict(model.to("cpu"), vocab, news_like)
    print(f"the sample sentence reads like: {history['example']}")
    return history


if __name__ == "__main__":
    main()
