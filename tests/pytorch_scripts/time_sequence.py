"""Sine waves predicted one step ahead by two stacked nn.LSTMCell layers (the set-up of
pytorch/examples' time_sequence_prediction, trained here with Adam instead of LBFGS). After
reading a wave the network keeps going on its own, each prediction becoming the next input."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


def make_data(n_waves=48, length=80, period=20, seed=2):
    """(n_waves, length) float32 samples of sin(2 pi t / period), each wave starting at a
    random integer t between -4 and 4 periods."""
    rng = np.random.RandomState(seed)
    start = rng.randint(-4 * period, 4 * period, size=(n_waves, 1))
    t = start + np.arange(length)
    return np.sin(t / period * 2 * math.pi).astype(np.float32)


class WaveLSTM(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.hidden = hidden
        self.lower = nn.LSTMCell(1, hidden)
        self.upper = nn.LSTMCell(hidden, hidden)
        self.readout = nn.Linear(hidden, 1)

    def step(self, value, lower_state, upper_state):
        """Feed one (batch, 1) value through both cells; return the next value and the states."""
        lower_state = self.lower(value, lower_state)
        upper_state = self.upper(lower_state[0], upper_state)
        return self.readout(upper_state[0]), lower_state, upper_state

    def forward(self, waves, future=0):
        """waves: (batch, time) -> (batch, time + future) predictions of each next value."""
        batch = waves.size(0)
        h1, c1, h2, c2 = (torch.zeros(batch, self.hidden, dtype=torch.float32)
                          for _ in range(4))
        lower, upper = (h1, c1), (h2, c2)
        predictions = []
        for value in waves.split(1, dim=1):
            guess, lower, upper = self.step(value, lower, upper)
            predictions.append(guess)
        for _ in range(future):
            guess, lower, upper = self.step(guess, lower, upper)
            predictions.append(guess)
        return torch.cat(predictions, dim=1)


def build_model(hidden=32):
    return WaveLSTM(hidden)


def train(model, optimizer, criterion, inputs, targets, steps):
    """Full-batch training: every step sees all the training waves."""
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print(f"step {step:3d}: mse {losses[-1]:.6f}")
    return losses


def evaluate(model, criterion, inputs, targets, future=40):
    """Loss on the read part of held-out waves, and all predictions (read part, then `future`
    free-running steps) as a NumPy array."""
    with torch.no_grad():
        rollout = model(inputs, future=future)
        loss = criterion(rollout[:, :inputs.size(1)], targets).item()
        predicted = rollout.detach().numpy()
    print(f"held-out waves: mse {loss:.6f}")
    return loss, predicted


def main(epochs=50, seed=0, lr=0.02, length=60, future=30):
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Generate `future` extra samples per wave: the true continuation to compare with.
    waves = make_data(length=length + future)
    seen, shifted = waves[:, :length - 1], waves[:, 1:length]
    inputs, targets = torch.from_numpy(seen[3:]), torch.from_numpy(shifted[3:])
    test_inputs, test_targets = torch.from_numpy(seen[:3]), torch.from_numpy(shifted[:3])

    model = build_model()
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = train(model, optimizer, criterion, inputs, targets, epochs)
    test_loss, predicted = evaluate(model, criterion, test_inputs, test_targets, future=future)

    continuation = waves[:3, length:length + future]
    future_mse = float(((predicted[:, -future:] - continuation) ** 2).mean())
    print(f"free-running for {future} steps: mse {future_mse:.4f}")
    return {"train_loss": losses, "test_loss": test_loss, "future_mse": future_mse,
            "prediction": predicted.tolist()}


if __name__ == "__main__":
    main()
