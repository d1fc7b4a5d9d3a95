"""Training the MNIST scorer of `cs231n.gan_scoring` with PyTorch.

`ScorerNet` is the network that `gan_scoring.scorer_forward` computes in numpy (same layers,
same parameter names). `train_scorer` trains it deterministically: one thread, seeded
initialization and batch order, Adam with a one-cycle learning rate, batch 128, no
augmentation. On full MNIST, 3 epochs reach about 99.2% test accuracy.

`gan_scoring.load_scorer` runs this module in a separate process when no cached scorer exists:

    python -m cs231n.gan_scorer_pytorch --mnist PATH --out FILE [--epochs 3] [--seed 0]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cs231n import gan_scoring
from cs231n.data_utils import load_mnist


class ScorerNet(nn.Module):
    """conv3x3(32) - ReLU - pool - conv3x3(64) - ReLU - pool - fc 128 - ReLU - fc 10.

    Input: (N, 1, 28, 28) pixels in [0, 1] (mapped to [-1, 1] inside). `features` gives the
    128 penultimate activations, `forward` the 10 logits.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, gan_scoring.FEATURE_DIM)
        self.fc2 = nn.Linear(gan_scoring.FEATURE_DIM, gan_scoring.NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x * 2 - 1)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(x))


def _tensor(images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1]."""
    return torch.from_numpy(np.asarray(images, np.float32)[:, None] / 255)


def evaluate(net: ScorerNet, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Test accuracy of the network on uint8 digits X (N, 28, 28) with labels y (N,)."""
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            pred = net(_tensor(X[i:i + batch_size])).argmax(dim=1).numpy()
            correct += int((pred == y[i:i + batch_size]).sum())
    return correct / len(X)


def train_scorer(data: dict, epochs: int = 3, seed: int = 0, batch_size: int = 128,
                 peak_lr: float = 3e-3) -> tuple[dict[str, np.ndarray], dict]:
    """Train the scorer on data['X_train'] (N, 28, 28) uint8 / data['y_train'] (N,).

    One-cycle schedule (torch's OneCycleLR) peaking at peak_lr, Adam, one thread (the result
    is the same on every run on one machine). Returns (params: numpy arrays named as
    gan_scoring.PARAM_SHAPES, meta: data sizes, epochs, seed, test accuracy on
    data['X_test'], training seconds).
    """
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    X, y = data["X_train"], torch.from_numpy(np.asarray(data["y_train"], np.int64))
    steps_per_epoch = len(X) // batch_size
    if steps_per_epoch == 0 or epochs < 1:
        raise ValueError(f"train_scorer: need >= {batch_size} training digits and epochs >= 1, "
                         f"got {len(X)} digits and epochs={epochs}")
    net = ScorerNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=peak_lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, peak_lr,
                                                   total_steps=epochs * steps_per_epoch)
    order = torch.Generator().manual_seed(seed)
    images = _tensor(X)
    start = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(X), generator=order)
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(net(images[idx]), y[idx])
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"scorer training: loss {loss.item()} at epoch {epoch}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        acc = evaluate(net, data["X_test"], data["y_test"])
        print(f"scorer epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, test accuracy {acc:.4f}, "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    params = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    meta = {"num_train": len(X), "num_test": len(data["X_test"]), "epochs": int(epochs),
            "seed": int(seed), "batch_size": int(batch_size), "peak_lr": float(peak_lr),
            "test_acc": float(acc), "train_seconds": round(time.perf_counter() - start, 1),
            "torch": torch.__version__}
    return params, meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the MNIST scorer of cs231n.gan_scoring.")
    parser.add_argument("--mnist", required=True, help="the MNIST folder or the bundle's .npz")
    parser.add_argument("--out", required=True, help="the scorer file to write")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = load_mnist(args.mnist)
    params, meta = train_scorer(data, epochs=args.epochs, seed=args.seed)
    meta["data"] = "mini" if str(args.mnist).endswith(".npz") else "full"
    gan_scoring.write_scorer(args.out, params, meta)
    print(f"scorer written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
