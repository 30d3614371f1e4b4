"""A small CNN on scikit-learn's 8x8 digits, trained the way the classic MNIST example does
it: log-softmax outputs with the NLL loss, Adadelta whose learning rate a StepLR scheduler
shrinks after every epoch, and the trained weights saved as a state dict."""

import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions and a 2x2 max-pool, then a hidden layer of 64 units."""

    def __init__(self, dropout=0.25):
        super().__init__()
        self.conv_a = nn.Conv2d(1, 16, kernel_size=3, stride=1, padding=1)  # 8x8 stays 8x8
        self.conv_b = nn.Conv2d(16, 32, kernel_size=3, stride=1)             # 8x8 -> 6x6
        self.hidden = nn.Linear(32 * 3 * 3, 64)                              # after the pool
        self.scores = nn.Linear(64, 10)
        self.drop_maps = nn.Dropout(dropout)
        self.drop_hidden = nn.Dropout(2 * dropout)

    def features(self, x):
        x = F.relu(self.conv_a(x))
        x = F.max_pool2d(F.relu(self.conv_b(x)), 2)
        return torch.flatten(self.drop_maps(x), 1)

    def forward(self, x):
        h = self.drop_hidden(F.relu(self.hidden(self.features(x))))
        return F.log_softmax(self.scores(h), dim=1)


def build_model(dropout=0.25):
    return DigitsCNN(dropout=dropout)


def make_data(test_size=360):
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    # Standardise with statistics of the training images only.
    mean, std = images[:-test_size].mean(), images[:-test_size].std()
    images = (images - mean) / std
    x = torch.from_numpy(images).unsqueeze(1)   # (N, 1, 8, 8)
    y = torch.from_numpy(digits.target).long()
    split = len(y) - test_size
    return TensorDataset(x[:split], y[:split]), TensorDataset(x[split:], y[split:])


def train(model, device, loader, optimizer, epoch, log_interval=10, max_batches=None):
    model.train()
    n_images, n_batches = len(loader.dataset), len(loader)
    losses = []
    for i, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if i % log_interval == 0:
            done = i * len(images)
            print(f"epoch {epoch}, batch {i}/{n_batches} ({done}/{n_images} images): "
                  f"nll {losses[-1]:.5f}")
        if max_batches is not None and i + 1 >= max_batches:
            break
    return losses


def evaluate(model, device, loader):
    model.eval()
    nll_sum, n_right = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            output = model(images)
            nll_sum += F.nll_loss(output, labels, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            n_right += pred.eq(labels.view_as(pred)).sum().item()
    n = len(loader.dataset)
    mean_nll, accuracy = nll_sum / n, n_right / n
    print(f"held-out digits: {n_right} of {n} correct ({accuracy:.1%}), mean nll {mean_nll:.4f}")
    return mean_nll, accuracy


def main(epochs=4, seed=1, batch_size=64, lr=1.0, gamma=0.7, dropout=0.25, shuffle=True,
         max_batches=None, save_model=True, save_dir=None):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set, test_set = make_data()
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=shuffle)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = build_model(dropout=dropout).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=gamma)  # lr *= gamma after each epoch

    history = {"train_loss": [], "test_loss": [], "accuracy": [], "lr": []}
    for epoch in range(1, epochs + 1):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        history["train_loss"] += train(model, device, train_loader, optimizer, epoch,
                                       max_batches=max_batches)
        test_loss, accuracy = evaluate(model, device, test_loader)
        history["test_loss"].append(test_loss)
        history["accuracy"].append(accuracy)
        scheduler.step()

    if save_model:
        path = os.path.join(save_dir or tempfile.mkdtemp(), "digits_cnn.pt")
        torch.save(model.state_dict(), path)
        history["saved_to"] = path
    return history


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="CNN on the 8x8 scikit-learn digits")
    cli.add_argument("--epochs", type=int, default=4)
    cli.add_argument("--seed", type=int, default=1)
    opts = cli.parse_args()
    main(epochs=opts.epochs, seed=opts.seed)
