"""Tell film-review sentences from news sentences with a bidirectional GRU over padded word
sequences: a Dataset of index tensors, ``pad_sequence`` in the collate function,
``pack_padded_sequence`` so that the GRU skips the padding, and masked max/mean pooling with
``masked_fill``. Adam with weight decay and ReduceLROnPlateau.

The sentences ship with gensim: pang_lee_polarity.cor (reviews), lee_background.cor (news)."""

import re
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F
from gensim.test.utils import datapath
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

PAD, UNK = 0, 1


def tokenize(text):
    return re.findall(r"[a-z]+|[0-9]+|[^\sa-z0-9]", text.lower())


def load_sentences(n_per_class=200, max_len=30):
    with open(datapath("pang_lee_polarity.cor"), encoding="latin-1") as f:
        reviews = [line.split(" ", 1)[1] for line in f]
    with open(datapath("lee_background.cor"), encoding="utf8") as f:
        news = [s for doc in f for s in re.split(r"(?<=\.)\s+", doc.strip()) if len(s) > 30]
    pairs = []
    for review, story in zip(reviews[:n_per_class], news[:n_per_class]):
        pairs.append((tokenize(review)[:max_len], 1))
        pairs.append((tokenize(story)[:max_len], 0))
    return pairs


class SentenceDataset(Dataset):
    def __init__(self, pairs, vocab):
        self.pairs = pairs
        self.vocab = vocab

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        words, label = self.pairs[index]
        ids = torch.tensor([self.vocab.get(w, UNK) for w in words], dtype=torch.long)
        return ids, label


def collate(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = pad_sequence(list(sequences), batch_first=True, padding_value=PAD)
    return padded, lengths, torch.tensor(labels, dtype=torch.float32)


def make_data(batch_size=16, shuffle=True, min_freq=2):
    pairs = load_sentences()
    n_test = len(pairs) // 4
    train_pairs, test_pairs = pairs[n_test:], pairs[:n_test]
    counts = Counter(w for words, _ in train_pairs for w in words)
    vocab = {"<pad>": PAD, "<unk>": UNK}
    for word, count in counts.most_common():
        if count >= min_freq:
            vocab[word] = len(vocab)
    train_loader = DataLoader(SentenceDataset(train_pairs, vocab), batch_size=batch_size,
                              shuffle=shuffle, collate_fn=collate)
    test_loader = DataLoader(SentenceDataset(test_pairs, vocab), batch_size=64,
                             collate_fn=collate)
    return train_loader, test_loader, vocab


class GRUClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden_size=32, dropout=0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.gru = nn.GRU(embed_dim, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(4 * hidden_size, 1)

    def forward(self, tokens, lengths):
        mask = tokens != PAD                                   # (B, T)
        embedded = self.dropout(self.embedding(tokens))        # (B, T, E)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        packed_out, _ = self.gru(packed)
        output, _ = pad_packed_sequence(packed_out, batch_first=True,
                                        total_length=tokens.size(1))   # (B, T, 2H)
        # Pool over the real words only.
        max_pool = output.masked_fill(~mask.unsqueeze(-1), float('-inf')).max(dim=1).values
        summed = output.masked_fill(~mask.unsqueeze(-1), 0.0).sum(dim=1)
        mean_pool = summed / lengths.unsqueeze(1).to(summed.dtype)
        features = torch.cat((max_pool, mean_pool), dim=1)
        return self.out(self.dropout(features)).squeeze(-1)    # (B,) logits


def build_model(vocab_size, dropout=0.3):
    return GRUClassifier(vocab_size, dropout=dropout)


def train(model, loader, optimizer, device, max_batches=None):
    model.train()
    losses = []
    for batch, (tokens, lengths, labels) in enumerate(loader):
        tokens, labels = tokens.to(device), labels.to(device)
        optimizer.zero_grad()
        logits = model(tokens, lengths)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if max_batches is not None and batch + 1 >= max_batches:
            break
    return losses


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for tokens, lengths, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        logits = model(tokens, lengths)
        total_loss += F.binary_cross_entropy_with_logits(logits, labels, reduction='sum').item()
        predictions = (torch.sigmoid(logits) > 0.5).float()
        correct += (predictions == labels).sum().item()
        count += labels.numel()
    return total_loss / count, correct / count


def main(epochs=6, seed=0, lr=1e-2, dropout=0.3, shuffle=True, max_batches=None):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader, vocab = make_data(shuffle=shuffle)
    model = build_model(len(vocab), dropout=dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5,
                                                           patience=1)
    history = {"train_loss": [], "test_loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        history["train_loss"] += train(model, train_loader, optimizer, device,
                                       max_batches=max_batches)
        test_loss, accuracy = evaluate(model, test_loader, device)
        scheduler.step(test_loss)
        history["test_loss"].append(test_loss)
        history["accuracy"].append(accuracy)
        print(f"epoch {epoch}: test loss {test_loss:.4f}, accuracy {accuracy:.3f}")
    history["vocab_size"] = len(vocab)
    return history


if __name__ == "__main__":
    main()
