"""The beginner's workflow of the PyTorch quickstart, on scikit-learn's 8x8 digits rather than
FashionMNIST: a map-style Dataset, DataLoaders, a multilayer perceptron (nn.Flatten in front of
Linear/ReLU layers in an nn.Sequential), CrossEntropyLoss with SGD, then the weights saved
with torch.save, loaded into a fresh copy of the network, and one test image classified."""

import os
import tempfile

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, Dataset

CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class Digits(Dataset):
    """The last `n_test` images of the set, or all the others, as ((1, 8, 8) float image in
    [0, 1], int label) pairs."""

    def __init__(self, part="train", n_test=400):
        digits = load_digits()
        cut = len(digits.target) - n_test
        rows = slice(None, cut) if part == "train" else slice(cut, None)
        self.images = digits.images[rows]
        self.labels = digits.target[rows]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = torch.tensor(self.images[i], dtype=torch.float32).unsqueeze(0) / 16.0
        return image, int(self.labels[i])


class MLP(nn.Module):
    def __init__(self, n_in=8 * 8, width=128, n_out=10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_in, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, n_out),
        )

    def forward(self, x):
        return self.layers(x)  # logits; CrossEntropyLoss applies the softmax


def build_model():
    return MLP()


def make_data(batch_size=64, shuffle=True):
    train_loader = DataLoader(Digits("train"), batch_size=batch_size, shuffle=shuffle)
    test_loader = DataLoader(Digits("test"), batch_size=batch_size)
    return train_loader, test_loader


def train(dataloader, model, loss_fn, optimizer, device, max_batches=None):
    model.train()
    n_total = len(dataloader.dataset)
    seen = 0
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        seen += len(X)
        if batch % 5 == 0:
            print(f"batch {batch:3d}  loss {losses[-1]:>7f}  ({seen:>5d} of {n_total:>5d} images)")
        if max_batches is not None and batch + 1 >= max_batches:
            break
    return losses


def evaluate(dataloader, model, loss_fn, device):
    """(mean of the per-batch losses, fraction classified correctly)"""
    model.eval()
    loss_sum, n_correct = 0.0, 0.0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            logits = model(X)
            loss_sum += loss_fn(logits, y).item()
            n_correct += (logits.argmax(1) == y).type(torch.float).sum().item()
    mean_loss = loss_sum / len(dataloader)
    accuracy = n_correct / len(dataloader.dataset)
    print(f"test images: {100 * accuracy:>0.1f}% right, mean loss {mean_loss:>8f}")
    return mean_loss, accuracy


def main(epochs=8, seed=0, lr=0.2, batch_size=64, shuffle=True, max_batches=None,
         save_dir=None):
    torch.manual_seed(seed)
    device = (torch.accelerator.current_accelerator().type
              if torch.accelerator.is_available() else "cpu")
    print(f"running on {device}")

    train_loader, test_loader = make_data(batch_size=batch_size, shuffle=shuffle)
    images, labels = next(iter(test_loader))
    print(f"a test batch: images {tuple(images.shape)}, labels {tuple(labels.shape)} "
          f"of {labels.dtype}")

    model = build_model().to(device)
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    history = {"train_loss": [], "test_loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        print(f"--- epoch {epoch} of {epochs} ---")
        history["train_loss"] += train(train_loader, model, loss_fn, optimizer, device,
                                       max_batches=max_batches)
        test_loss, accuracy = evaluate(test_loader, model, loss_fn, device)
        history["test_loss"].append(test_loss)
        history["accuracy"].append(accuracy)

    # Round trip through a file: the state dict goes out, a new network takes it back in.
    path = os.path.join(save_dir or tempfile.mkdtemp(), "model.pth")
    torch.save(model.state_dict(), path)
    print(f"state dict written to {path}")
    reloaded = MLP().to(device)
    reloaded.load_state_dict(torch.load(path, weights_only=True))
    reloaded.eval()

    image, label = Digits("test")[0]
    with torch.no_grad():
        logits = reloaded(image.to(device))
    guess, truth = CLASSES[logits[0].argmax(0)], CLASSES[label]
    print(f"first test image: the network says {guess}, the label says {truth}")
    history["reloaded_accuracy"] = evaluate(test_loader, reloaded, loss_fn, device)[1]
    history["example"] = (guess, truth)
    return history


if __name__ == "__main__":
    main()
