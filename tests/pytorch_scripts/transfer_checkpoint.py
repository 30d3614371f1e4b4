"""Checkpoints and transfer learning on scikit-learn's 8x8 digits (the subjects of the PyTorch
checkpoint recipe and transfer-learning tutorial): pretrain a small CNN on the digits 0-4,
save a checkpoint dict holding the model's and the optimizer's state, resume training from it,
then freeze the convolutional features and fit a new head on the digits 5-9, keeping the
weights of the best validation epoch (``copy.deepcopy(model.state_dict())``)."""

import copy
import os
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset


def init_conv_bn(module):
    """He-normal convolutions (scaled for the ReLUs after them), zero conv biases, and
    BatchNorm starting as the identity."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode='fan_out', nonlinearity='relu')
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class SmallConvNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 12, kernel_size=3, padding=1),
            nn.BatchNorm2d(12),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),                       # 8x8 -> 4x4
            nn.Conv2d(12, 24, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((2, 2)),          # 4x4 -> 2x2
        )
        self.fc = nn.Linear(24 * 2 * 2, num_classes)
        self.apply(init_conv_bn)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def build_model(num_classes=5):
    return SmallConvNet(num_classes)


def freeze(module):
    """Exclude every parameter of `module` from gradient computation."""
    for p in module.parameters():
        p.requires_grad = False


def replace_head(model, num_classes):
    """Swap the classifier for a new, trainable one of `num_classes` outputs."""
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def make_data(digits_wanted, batch_size=32, shuffle=True, test_fraction=0.25):
    """Loaders over the images of `digits_wanted`, relabelled 0, 1, ... in that order: the
    first `test_fraction` of them for validation, the rest for training."""
    digits = load_digits()
    keep = np.isin(digits.target, digits_wanted)
    x = torch.from_numpy(digits.images[keep].astype(np.float32) / 16.0).unsqueeze(1)
    y = torch.from_numpy(np.searchsorted(np.array(digits_wanted), digits.target[keep]))
    n_val = int(len(y) * test_fraction)
    train_loader = DataLoader(TensorDataset(x[n_val:], y[n_val:]), batch_size=batch_size,
                              shuffle=shuffle)
    val_loader = DataLoader(TensorDataset(x[:n_val], y[:n_val]), batch_size=batch_size)
    return train_loader, val_loader


def run_epoch(model, loader, criterion, optimizer=None, max_batches=None):
    """One pass over `loader`: training when an optimizer is given (BatchNorm on batch
    statistics, gradients recorded), else evaluation. Returns the summed loss, the number of
    correct predictions (a tensor) and the batch losses."""
    training = optimizer is not None
    model.train(training)
    device = next(model.parameters()).device
    loss_sum, n_correct, batch_losses = 0.0, 0, []
    for i, (inputs, labels) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        inputs, labels = inputs.to(device), labels.to(device)
        with torch.set_grad_enabled(training):
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                batch_losses.append(loss.item())
        _, predicted = torch.max(outputs, 1)
        loss_sum += loss.item() * inputs.size(0)
        n_correct += torch.sum(predicted == labels.data)
    return loss_sum, n_correct, batch_losses


def train(model, criterion, optimizer, scheduler, loaders, num_epochs=2, max_batches=None):
    """Alternate a training and a validation pass; return the model holding the weights of
    its best validation epoch, and the history."""
    train_loader, val_loader = loaders
    clock = time.time()
    best_acc, best_state = 0.0, copy.deepcopy(model.state_dict())
    history = {"train_loss": [], "val_acc": []}

    for epoch in range(1, num_epochs + 1):
        loss_sum, n_correct, batch_losses = run_epoch(model, train_loader, criterion, optimizer,
                                                      max_batches)
        history["train_loss"] += batch_losses
        if scheduler is not None:
            scheduler.step()
        train_acc = n_correct.double() / len(train_loader.dataset)
        print(f"epoch {epoch}/{num_epochs} train: loss "
              f"{loss_sum / len(train_loader.dataset):.4f}, accuracy {train_acc:.4f}")

        loss_sum, n_correct, _ = run_epoch(model, val_loader, criterion, None, max_batches)
        val_acc = n_correct.double() / len(val_loader.dataset)
        print(f"epoch {epoch}/{num_epochs} val:   loss "
              f"{loss_sum / len(val_loader.dataset):.4f}, accuracy {val_acc:.4f}")
        history["val_acc"].append(val_acc.item())
        if val_acc > best_acc:
            # deepcopy: the state dict's tensors are the live weights, which keep training.
            best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())

    print(f"{time.time() - clock:.1f}s, best validation accuracy {best_acc:.4f}")
    model.load_state_dict(best_state)
    history["best_acc"] = float(best_acc)
    return model, history


def evaluate(model, dataloader, device):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in dataloader:
            outputs = model(inputs.to(device))
            correct += (outputs.argmax(dim=1) == labels.to(device)).sum().item()
            total += labels.size(0)
    return correct / total


def sgd(params):
    return optim.SGD(params, lr=0.05, momentum=0.9)


def main(epochs=3, seed=0, shuffle=True, max_batches=None, save_dir=None):
    torch.manual_seed(seed)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    ckpt_path = os.path.join(save_dir or tempfile.mkdtemp(), "checkpoint.pt")
    criterion = nn.CrossEntropyLoss()
    results = {}

    # Stage 1: learn the digits 0-4, then write model and optimizer state to one file.
    loaders = make_data([0, 1, 2, 3, 4], shuffle=shuffle)
    model = build_model(num_classes=5).to(device)
    optimizer = sgd(model.parameters())
    model, results["pretrain"] = train(model, criterion, optimizer, None, loaders,
                                       num_epochs=epochs, max_batches=max_batches)
    torch.save({"epochs_done": epochs,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "last_loss": results["pretrain"]["train_loss"][-1]}, ckpt_path)

    # Stage 2: rebuild both from scratch, restore them from the file, go on for one epoch.
    model = build_model(num_classes=5)
    optimizer = sgd(model.parameters())
    saved = torch.load(ckpt_path, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    print(f"restored after {saved['epochs_done']} epochs (last loss {saved['last_loss']:.4f})")
    model.to(device)
    results["resumed_acc_before"] = evaluate(model, loaders[1], device)
    model, results["resume"] = train(model, criterion, optimizer, None, loaders, num_epochs=1,
                                     max_batches=max_batches)

    # Stage 3: frozen features, a new head for the digits 5-9; only the head is optimised.
    loaders = make_data([5, 6, 7, 8, 9], shuffle=shuffle)
    freeze(model)
    model = replace_head(model, 5).to(device)
    before = {name: p.clone() for name, p in model.features.named_parameters()}
    head_optimizer = sgd(model.fc.parameters())
    head_schedule = lr_scheduler.StepLR(head_optimizer, step_size=2, gamma=0.1)
    model, results["transfer"] = train(model, criterion, head_optimizer, head_schedule, loaders,
                                       num_epochs=epochs, max_batches=max_batches)
    results["features_unchanged"] = all(
        torch.equal(before[name], p) for name, p in model.features.named_parameters())
    results["transfer_acc"] = evaluate(model, loaders[1], device)
    results["trainable"] = [name for name, p in model.named_parameters() if p.requires_grad]
    return results


if __name__ == "__main__":
    main()
