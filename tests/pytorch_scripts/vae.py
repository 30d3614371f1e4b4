"""A variational auto-encoder on scikit-learn's 8x8 digits: a Gaussian encoder sampled with
the reparameterisation trick (``torch.randn_like``), a decoder that gives each pixel a
probability of ink, and as loss the negative ELBO: summed binary cross-entropy plus the
closed-form KL divergence from the standard normal prior."""

import torch
import torch.utils.data
from sklearn.datasets import load_digits
from torch import nn, optim
from torch.nn import functional as F

SIDE = 8
N_PIXELS = SIDE * SIDE


class DigitVAE(nn.Module):
    def __init__(self, n_pixels=N_PIXELS, hidden=48, latent=6):
        super().__init__()
        self.n_pixels = n_pixels
        self.latent = latent
        self.enc = nn.Linear(n_pixels, hidden)
        self.enc_mean = nn.Linear(hidden, latent)
        self.enc_logvar = nn.Linear(hidden, latent)
        self.dec = nn.Linear(latent, hidden)
        self.dec_pixels = nn.Linear(hidden, n_pixels)

    def posterior(self, flat_images):
        """Mean and log-variance of q(z | x), a diagonal Gaussian."""
        h = F.relu(self.enc(flat_images))
        return self.enc_mean(h), self.enc_logvar(h)

    @staticmethod
    def draw(mean, logvar):
        """z ~ N(mean, exp(logvar)), differentiable in mean and logvar."""
        std = torch.exp(0.5 * logvar)
        return mean + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.dec_pixels(F.relu(self.dec(z))))

    def forward(self, images):
        mean, logvar = self.posterior(images.view(-1, self.n_pixels))
        return self.decode(self.draw(mean, logvar)), mean, logvar


def build_model(latent=6):
    return DigitVAE(latent=latent)


def make_data(test_size=297):
    digits = load_digits()
    # Intensities 0..16 read as the probability that a pixel is inked.
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target)
    n_train = len(labels) - test_size
    return (torch.utils.data.TensorDataset(images[:n_train], labels[:n_train]),
            torch.utils.data.TensorDataset(images[n_train:], labels[n_train:]))


def negative_elbo(recon, images, mean, logvar):
    """Summed over the pixels, the latent units and the batch."""
    reconstruction = F.binary_cross_entropy(recon, images.view(-1, N_PIXELS), reduction='sum')
    # KL(N(mean, var) || N(0, 1)) per latent unit: (mean^2 + var - 1 - log var) / 2.
    kl = 0.5 * torch.sum(mean.pow(2) + logvar.exp() - 1 - logvar)
    return reconstruction + kl


def train(model, device, loader, optimizer, epoch, log_interval=10, max_batches=None):
    model.train()
    per_image = []
    total = 0.0
    for i, (images, _) in enumerate(loader):
        images = images.to(device)
        optimizer.zero_grad()
        recon, mean, logvar = model(images)
        loss = negative_elbo(recon, images, mean, logvar)
        loss.backward()
        optimizer.step()
        total += loss.item()
        per_image.append(loss.item() / len(images))
        if i % log_interval == 0:
            print(f"epoch {epoch}, batch {i}/{len(loader)}: {per_image[-1]:.3f} nats per image")
        if max_batches is not None and i + 1 >= max_batches:
            break
    print(f"epoch {epoch}: {total / len(loader.dataset):.3f} nats per training image")
    return per_image


def evaluate(model, device, loader):
    """Negative ELBO per test image; also checks that reconstructions come back image-shaped."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i, (images, _) in enumerate(loader):
            images = images.to(device)
            recon, mean, logvar = model(images)
            total += negative_elbo(recon, images, mean, logvar).item()
            if i == 0:
                k = min(len(images), 8)
                side_by_side = torch.cat([images[:k], recon.view(-1, 1, SIDE, SIDE)[:k]])
                assert side_by_side.shape == (2 * k, 1, SIDE, SIDE)
    per_image = total / len(loader.dataset)
    print(f"test set: {per_image:.3f} nats per image")
    return per_image


def main(epochs=8, seed=1, batch_size=100, lr=1e-3, shuffle=True, max_batches=None):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set, test_set = make_data()
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=shuffle)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=False)

    model = build_model().to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)

    history = {"train_loss": [], "test_loss": []}
    for epoch in range(1, epochs + 1):
        history["train_loss"] += train(model, device, train_loader, optimizer, epoch,
                                       max_batches=max_batches)
        history["test_loss"].append(evaluate(model, device, test_loader))
        # Decode 64 draws from the prior to watch how the generated digits develop.
        with torch.no_grad():
            samples = model.decode(torch.randn(64, model.latent).to(device)).cpu()
        print(f"prior samples after epoch {epoch}: mean ink {samples.mean().item():.3f}")
    # Generated digits should look like ink on paper: values in (0, 1), mostly blank.
    history["sample_mean"] = samples.mean().item()
    history["sample_shape"] = list(samples.view(64, 1, SIDE, SIDE).shape)
    return history


if __name__ == "__main__":
    main()
