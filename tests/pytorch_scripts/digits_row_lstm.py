"""Classify 8x8 digits by reading them top to bottom, one row of 8 pixels per LSTM time step,
and predicting from the state after the last row. Reports top-1 and top-2 accuracy and the
mean probability given to the true class."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset

N_ROWS, ROW_WIDTH = 8, 8  # time steps, features per step


class RowReader(nn.Module):
    def __init__(self, row_width, hidden_size, num_layers, num_classes, dropout=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(row_width, hidden_size, num_layers, dropout=dropout)
        self.fc = nn.Linear(hidden_size, num_classes)
        self.reset_parameters()

    def reset_parameters(self):
        # Glorot input weights, orthogonal recurrent weights, zero biases; a plain linear head.
        init_for = {'weight_ih': nn.init.xavier_uniform_, 'weight_hh': nn.init.orthogonal_}
        for name, param in self.lstm.named_parameters():
            kind = name.rsplit('_', 1)[0]
            if kind in init_for:
                init_for[kind](param)
            else:
                nn.init.constant_(param, 0.0)
        nn.init.kaiming_uniform_(self.fc.weight, nonlinearity='linear')
        nn.init.zeros_(self.fc.bias)

    def initial_state(self, batch_size, device):
        shape = (self.num_layers, batch_size, self.hidden_size)
        return torch.zeros(*shape).to(device), torch.zeros(*shape).to(device)

    def forward(self, images):
        """images: (batch, rows, width), or (batch, rows * width) pixels -> class scores."""
        if images.dim() == 2:
            images = images.view(images.size(0), N_ROWS, ROW_WIDTH)
        steps = images.permute(1, 0, 2)  # nn.LSTM wants time first: (rows, batch, width)
        seq, (h_last, _) = self.lstm(steps, self.initial_state(steps.size(1), steps.device))
        per_image = seq.transpose(0, 1)  # (batch, rows, hidden)
        final = per_image[:, -1, :]
        # The top layer's output at the last step is its final hidden state.
        assert torch.allclose(final, h_last[-1])
        return self.fc(final)


def build_model(hidden_size=48, num_layers=2, dropout=0.1):
    return RowReader(ROW_WIDTH, hidden_size, num_layers, 10, dropout=dropout)


def make_data(test_size=397, valid_size=200, batch_size=50, shuffle=True):
    digits = load_digits()
    # Flat rows of 64 pixels in [0, 1]; the training loop reshapes them into 8 rows of 8.
    pixels = torch.from_numpy(digits.data).float() / 16.0
    labels = torch.from_numpy(digits.target)
    n_fit = len(labels) - test_size
    fit_set = TensorDataset(pixels[:n_fit], labels[:n_fit])
    test_set = TensorDataset(pixels[n_fit:], labels[n_fit:])

    # A validation subset of the training images: a random one (through a
    # SubsetRandomSampler) or, with shuffle=False, simply the first `valid_size` images.
    order = list(range(n_fit))
    if shuffle:
        np.random.shuffle(order)
    valid_ids, train_ids = order[:valid_size], order[valid_size:]
    train_loader = DataLoader(fit_set, batch_size=batch_size,
                              sampler=SubsetRandomSampler(train_ids) if shuffle else train_ids)
    valid_loader = DataLoader(fit_set, batch_size=100, sampler=valid_ids)
    test_loader = DataLoader(test_set, batch_size=100, shuffle=False)
    return train_loader, valid_loader, test_loader


def train(model, device, loader, criterion, optimizer, epoch, max_batches=None):
    model.train()
    losses = []
    for step, (pixels, labels) in enumerate(loader, start=1):
        rows = pixels.reshape(-1, N_ROWS, ROW_WIDTH).to(device)
        labels = labels.to(device)
        loss = criterion(model(rows), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 10 == 0:
            print(f"epoch {epoch}: {step} of {len(loader)} batches, loss {losses[-1]:.4f}")
        if max_batches is not None and step >= max_batches:
            break
    return losses


@torch.no_grad()
def evaluate(model, device, loader):
    model.eval()
    seen = hits = hits_top2 = 0
    p_true = 0.0
    for pixels, labels in loader:
        scores = model(pixels.view(-1, N_ROWS, ROW_WIDTH).to(device))
        labels = labels.to(device)
        _, best = torch.max(scores.data, 1)
        hits += (best == labels).sum().item()
        two_best = scores.topk(2, dim=1).indices
        hits_top2 += (two_best == labels.unsqueeze(1)).any(dim=1).sum().item()
        probs = F.softmax(scores, dim=1)
        p_true += probs.gather(1, labels.unsqueeze(1)).squeeze(1).sum().item()
        seen += labels.size(0)
    print(f"{hits}/{seen} digits right ({hits / seen:.2%}), top-2 {hits_top2 / seen:.2%}")
    return {"accuracy": hits / seen, "top2": hits_top2 / seen, "true_prob": p_true / seen}


def main(epochs=8, seed=0, lr=0.03, hidden_size=48, dropout=0.1, shuffle=True,
         max_batches=None):
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

    train_loader, valid_loader, test_loader = make_data(shuffle=shuffle)
    model = build_model(hidden_size=hidden_size, dropout=dropout).to(device)

    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    history = {"train_loss": [], "valid_accuracy": [], "lr": []}
    for epoch in range(1, epochs + 1):
        history["lr"].append(scheduler.get_last_lr()[0])
        history["train_loss"] += train(model, device, train_loader, criterion, optimizer,
                                       epoch, max_batches=max_batches)
        history["valid_accuracy"].append(evaluate(model, device, valid_loader)["accuracy"])
        scheduler.step()
    history.update(evaluate(model, device, test_loader))
    history["n_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return history


if __name__ == "__main__":
    main()
