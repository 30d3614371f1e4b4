"""Recover a random cubic with a single nn.Linear on the features (x, x^2, x^3): fresh random
inputs every step, a smooth L1 loss, and gradient descent written out by hand (an in-place
``param -= lr * param.grad`` under ``torch.no_grad()``, then ``param.grad.zero_()``)."""

import torch
import torch.nn.functional as F

DEGREE = 3


def powers(x):
    """A 1-d tensor of inputs -> (len(x), DEGREE) matrix whose k-th column is x^(k+1)."""
    column = x.unsqueeze(1)
    return torch.cat([column ** k for k in range(1, DEGREE + 1)], 1)


def make_target(seed=0):
    """Coefficients (DEGREE, 1) and intercept (1,) of the cubic to recover, from their own
    generator so that they do not depend on the global seed."""
    gen = torch.Generator().manual_seed(seed)
    coef = torch.randn(DEGREE, 1, generator=gen) * 2
    intercept = torch.randn(1, generator=gen) * 2
    return coef, intercept


def cubic(features, coef, intercept):
    return features.mm(coef) + intercept.item()


def as_text(coef, intercept):
    terms = " ".join(f"{c:+.2f}*x^{k}" for k, c in enumerate(coef.tolist(), start=1))
    return f"{terms} {intercept.item():+.2f}"


def sample_batch(coef, intercept, batch_size=32):
    features = powers(torch.randn(batch_size))
    return features, cubic(features, coef, intercept)


def build_model():
    return torch.nn.Linear(DEGREE, 1)


def train(model, coef, intercept, lr=0.05, max_steps=2000, tol=1e-3, batch_size=32):
    """Descend until a batch's loss falls under `tol` or `max_steps` batches have been used."""
    losses = []
    for step in range(1, max_steps + 1):
        features, targets = sample_batch(coef, intercept, batch_size)
        loss = F.smooth_l1_loss(model(features), targets)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= lr * param.grad
                param.grad.zero_()
        if losses[-1] < tol:
            break
    print(f"stopped after {step} steps at loss {loss:.6f}")
    return losses


@torch.no_grad()
def evaluate(model, coef, intercept, n=200):
    """Mean squared error on an even grid over [-2, 2]."""
    features = powers(torch.linspace(-2, 2, n))
    return F.mse_loss(model(features), cubic(features, coef, intercept)).item()


def main(epochs=1, seed=1, max_steps=1500, lr=0.05, batch_size=32):
    torch.manual_seed(seed)
    coef, intercept = make_target(seed)
    model = build_model()
    losses = []
    for _ in range(epochs):
        losses += train(model, coef, intercept, lr=lr, max_steps=max_steps,
                        batch_size=batch_size)
    mse = evaluate(model, coef, intercept)
    print("fitted: y = " + as_text(model.weight.view(-1), model.bias))
    print("truth:  y = " + as_text(coef.view(-1), intercept))
    return {"train_loss": losses, "steps": len(losses), "mse": mse,
            "weight": model.weight.view(-1).tolist(), "bias": model.bias.item(),
            "target_weight": coef.view(-1).tolist(), "target_bias": intercept.item()}


if __name__ == "__main__":
    main()
