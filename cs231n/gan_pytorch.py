"""Generative adversarial networks on MNIST in PyTorch (assignment 3, GANs-PyTorch.ipynb).

A generator G maps noise z ~ U[-1, 1]^noise_dim to a digit; a discriminator D maps a digit
to a logit, high for "real". They play min_G max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))];
in practice D takes a gradient step on its cross-entropy, then G one on -log D(G(z)) (the
non-saturating loss). Three variants, as in the course:

- vanilla GAN: fully connected `discriminator` and `generator` with `discriminator_loss` /
  `generator_loss` (binary cross-entropy on logits, `bce_loss`);
- LSGAN: the same networks with the least-squares losses `ls_discriminator_loss` /
  `ls_generator_loss`;
- DCGAN: the convolutional `build_dc_classifier` and `build_dc_generator`.

`run_a_gan` trains any of them (Adam from `get_optimizer`). Images are flattened (N, 784);
D sees pixels in [-1, 1] (`preprocess_img`), G's tanh produces [-1, 1]. The GAN scores come
from the numpy-only `cs231n.gan_scoring`, shared with `cs231n.gan_tensorflow`.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import init
from torch.utils.data import DataLoader, Sampler, TensorDataset

from cs231n import config
from cs231n.gan_utils import (
    IMAGE_DIM,
    NOISE_DIM,
    GanRun,
    deprocess_img,
    ema_decay_at,
    gan_training_loop,
    mnist_images,
    preprocess_img,
    show_images,  # noqa: F401  (re-exported: the course's helper)
)
from cs231n.gradient_check import rel_error  # noqa: F401  (re-exported, as the course's helper)

Tensor = torch.Tensor


# --------------------------------------------------------------------------- the course's helpers

class Flatten(nn.Module):
    """(N, C, H, W) -> (N, C*H*W), in C, H, W order."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class Unflatten(nn.Module):
    """(N, C*H*W) -> (N, C, H, W); N=-1 (the default) takes the batch size from the input.

    The course's version fixed N (`Unflatten(batch_size, 1, 28, 28)`), which breaks on a
    batch of another size; passing N is still accepted.
    """

    def __init__(self, N: int = -1, C: int = 128, H: int = 7, W: int = 7):
        super().__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(-1, self.C, self.H, self.W)


def initialize_weights(m: nn.Module) -> None:
    """The course's initialization, for model.apply: Xavier-uniform weights and zero biases
    for Linear and ConvTranspose2d layers (Conv2d layers keep PyTorch's default)."""
    if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
        init.xavier_uniform_(m.weight.data)
        if m.bias is not None:
            init.zeros_(m.bias.data)


class ChunkSampler(Sampler):
    """Samples elements sequentially from some offset (the course's sampler).

    Inputs:
    - num_samples: number of desired datapoints
    - start: offset where we should start selecting from
    """

    def __init__(self, num_samples: int, start: int = 0):
        self.num_samples = num_samples
        self.start = start

    def __iter__(self):
        return iter(range(self.start, self.start + self.num_samples))

    def __len__(self) -> int:
        return self.num_samples


def mnist_loader(batch_size: int = 128, num_train: int | None = None, seed: int = 0) -> DataLoader:
    """MNIST training digits (N, 784) float32 in [0, 1] with labels, reshuffled every epoch.

    Inputs:
    - batch_size: B; the last short batch is dropped (a GAN step wants B real and B fake)
    - num_train: use the first num_train digits (None: all: 60,000, or 10,000 in the bundle)
    - seed: seeds the shuffling, so runs repeat
    Yields x (B, 784), y (B,).
    """
    X = torch.from_numpy(mnist_images("train", num_train))
    y = torch.zeros(len(X), dtype=torch.int64)  # the labels play no part in a GAN
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, drop_last=True,
                      generator=torch.Generator().manual_seed(seed))


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (batch-norm running statistics are buffers, not counted)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def count_buffers(model: nn.Module) -> int:
    """Number of values in buffers: batch-norm running means and variances (and their
    num_batches_tracked counters)."""
    return int(sum(b.numel() for b in model.buffers()))


# --------------------------------------------------------------------------- noise, networks

def sample_noise(batch_size: int, dim: int, seed: int | None = None, device=None) -> Tensor:
    """Generate a PyTorch Tensor of uniform random noise.

    Input:
    - batch_size: Integer giving the batch size of noise to generate.
    - dim: Integer giving the dimension of noise to generate.
    - seed: if given, the noise comes from its own generator seeded with it (the global
      random state is left alone)

    Output:
    - A PyTorch Tensor of shape (batch_size, dim) containing uniform
      random noise in the range (-1, 1).
    """
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    noise = None
    # TODO: uniform noise in (-1, 1) of shape (batch_size, dim), drawn with `generator`
    # (torch.rand is uniform in [0, 1): scale and shift it).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    noise = torch.rand(batch_size, dim, generator=generator) * 2 - 1
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return noise.to(device) if device is not None else noise


def discriminator() -> nn.Sequential:
    """Build and return a PyTorch model implementing the architecture:

    Flatten - fully connected 784 -> 256 - LeakyReLU(0.01) - fully connected 256 -> 256 -
    LeakyReLU(0.01) - fully connected 256 -> 1.
    Input (N, 784) or (N, 1, 28, 28) images in [-1, 1]; output (N, 1) logits ("real").
    267,009 parameters.
    """
    model = None
    # TODO: Implement architecture
    # HINT: nn.Sequential might be helpful.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = nn.Sequential(
        Flatten(),
        nn.Linear(IMAGE_DIM, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


def generator(noise_dim: int = NOISE_DIM) -> nn.Sequential:
    """Build and return a PyTorch model implementing the architecture:

    fully connected noise_dim -> 1024 - ReLU - fully connected 1024 -> 1024 - ReLU -
    fully connected 1024 -> 784 - TanH.
    Input (N, noise_dim) noise; output (N, 784) images in [-1, 1].
    1,858,320 parameters for noise_dim = 4.
    """
    model = None
    # TODO: Implement architecture
    # HINT: nn.Sequential might be helpful.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, IMAGE_DIM), nn.Tanh(),
    )
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


# --------------------------------------------------------------------------- losses

def bce_loss(input: Tensor, target: Tensor) -> Tensor:
    """Numerically stable binary cross-entropy from logits (the course's given helper).

    For a logit s and a target z in {0, 1}, -[z log sigmoid(s) + (1 - z) log(1 - sigmoid(s))]
    equals max(s, 0) - s z + log(1 + exp(-|s|)), which never overflows exp.

    Inputs:
    - input: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores.
    - target: PyTorch Tensor of the same shape containing 0 and 1 giving targets.

    Returns:
    - A PyTorch Tensor containing the mean BCE loss over the minibatch of input data.
    """
    if input.shape != target.shape:
        raise ValueError(f"bce_loss: input {tuple(input.shape)} and target {tuple(target.shape)} "
                         "must have the same shape")
    neg_abs = -input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()


def discriminator_loss(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """Computes the discriminator loss.

    l_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))], D = sigmoid of the logits, each
    expectation the mean over its minibatch (averaged separately, then added).

    Inputs:
    - logits_real: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the real data.
    - logits_fake: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the fake data.

    Returns:
    - loss: PyTorch Tensor containing (scalar) the loss for the discriminator.
    """
    loss = None
    # TODO: the discriminator loss from the logits with bce_loss: real digits have target 1,
    # fake ones target 0; average each part over its minibatch, then add the two.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = (bce_loss(logits_real, torch.ones_like(logits_real))
            + bce_loss(logits_fake, torch.zeros_like(logits_fake)))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def generator_loss(logits_fake: Tensor) -> Tensor:
    """Computes the generator loss: l_G = -E_z[log D(G(z))] (the non-saturating loss).

    Inputs:
    - logits_fake: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the fake data.

    Returns:
    - loss: PyTorch Tensor containing the (scalar) loss for the generator.
    """
    loss = None
    # TODO: the generator loss from the logits with bce_loss: the fake digits' target is 1.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = bce_loss(logits_fake, torch.ones_like(logits_fake))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def get_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """Construct and return an Adam optimizer for the model with learning rate 1e-3,
    beta1=0.5, and beta2=0.999.

    Input:
    - model: A PyTorch model that we want to optimize.

    Returns:
    - An Adam optimizer for the model with the desired hyperparameters.
    """
    optimizer = None
    # TODO: Adam over model.parameters(), learning rate 1e-3, betas (0.5, 0.999).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return optimizer


def ls_discriminator_loss(scores_real: Tensor, scores_fake: Tensor) -> Tensor:
    """Compute the Least-Squares GAN loss for the discriminator.

    l_D = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2], D(.) the raw scores (no sigmoid).

    Inputs:
    - scores_real: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the real data.
    - scores_fake: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the fake data.

    Outputs:
    - loss: A PyTorch Tensor containing the loss.
    """
    loss = None
    # TODO: the least-squares discriminator loss above, on the raw scores (no sigmoid).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def ls_generator_loss(scores_fake: Tensor) -> Tensor:
    """Computes the Least-Squares GAN loss for the generator: l_G = 1/2 E_z[(D(G(z)) - 1)^2].

    Inputs:
    - scores_fake: PyTorch Tensor of shape (N,) (or (N, 1)) giving scores for the fake data.

    Outputs:
    - loss: A PyTorch Tensor containing the loss.
    """
    loss = None
    # TODO: the least-squares generator loss above, on the raw scores.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = 0.5 * ((scores_fake - 1) ** 2).mean()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


# --------------------------------------------------------------------------- DCGAN

def build_dc_classifier(batch_size: int = -1) -> nn.Sequential:
    """Build and return a PyTorch model for the DCGAN discriminator implementing
    the architecture:

    Unflatten to (N, 1, 28, 28) - Conv2D 32 filters 5x5 stride 1 - LeakyReLU(0.01) -
    MaxPool 2x2 stride 2 - Conv2D 64 filters 5x5 stride 1 - LeakyReLU(0.01) -
    MaxPool 2x2 stride 2 - Flatten - fully connected 4*4*64 -> 4*4*64 - LeakyReLU(0.01) -
    fully connected 4*4*64 -> 1.
    Input (N, 784) images in [-1, 1]; output (N, 1) logits. 1,102,721 parameters.
    batch_size is the course's argument (for Unflatten); the default -1 accepts any N.
    """
    model = None
    # TODO: Implement architecture
    # HINT: nn.Sequential might be helpful.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = nn.Sequential(
        Unflatten(batch_size, 1, 28, 28),
        nn.Conv2d(1, 32, kernel_size=5, stride=1), nn.LeakyReLU(0.01),   # (N, 32, 24, 24)
        nn.MaxPool2d(2, stride=2),                                       # (N, 32, 12, 12)
        nn.Conv2d(32, 64, kernel_size=5, stride=1), nn.LeakyReLU(0.01),  # (N, 64, 8, 8)
        nn.MaxPool2d(2, stride=2),                                       # (N, 64, 4, 4)
        Flatten(),
        nn.Linear(4 * 4 * 64, 4 * 4 * 64), nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
    )
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


def build_dc_generator(noise_dim: int = NOISE_DIM) -> nn.Sequential:
    """Build and return a PyTorch model implementing the DCGAN generator using
    the architecture:

    fully connected noise_dim -> 1024 - ReLU - BatchNorm - fully connected 1024 -> 7*7*128 -
    ReLU - BatchNorm - Unflatten to (N, 128, 7, 7) - ConvTranspose 64 filters 4x4 stride 2
    pad 1 (-> 14x14) - ReLU - BatchNorm - ConvTranspose 1 filter 4x4 stride 2 pad 1 (-> 28x28) -
    TanH - Flatten.
    Input (N, noise_dim) noise; output (N, 784) images in [-1, 1].
    6,580,801 trainable parameters for noise_dim = 4 (plus 14,720 batch-norm running statistics).
    """
    model = None
    # TODO: Implement architecture
    # HINT: nn.Sequential might be helpful.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(-1, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1), nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1), nn.Tanh(),
        Flatten(),
    )
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


# --------------------------------------------------------------------------- training

def generate(G: nn.Module, num: int, noise_size: int = NOISE_DIM, seed: int = 0,
             batch_size: int = 500, device=None) -> np.ndarray:
    """num digits from G as (num, 784) float32 pixels in [0, 1] (deprocessed).

    G runs in eval mode (batch norm uses its running statistics, so a digit does not depend
    on the others of its batch) and is put back in the mode it was in. The noise comes from
    its own generator seeded with `seed`: the same seed gives the same digits.
    """
    device = next(G.parameters()).device if device is None else torch.device(device)
    was_training = G.training
    G.eval()
    z = sample_noise(num, noise_size, seed=seed)
    out = []
    with torch.no_grad():
        for i in range(0, num, batch_size):
            out.append(deprocess_img(G(z[i:i + batch_size].to(device))).reshape(-1, IMAGE_DIM).cpu())
    G.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, IMAGE_DIM), np.float32)


def update_average(G_average: nn.Module, G: nn.Module, decay: float) -> None:
    """G_average <- decay * G_average + (1 - decay) * G, for every parameter and batch-norm
    running statistic (integer counters are copied). In place, without gradients."""
    with torch.no_grad():
        for avg, new in zip(G_average.state_dict().values(), G.state_dict().values(), strict=True):
            if avg.dtype.is_floating_point:
                avg.lerp_(new, 1 - decay)
            else:
                avg.copy_(new)


def run_a_gan(D: nn.Module, G: nn.Module, D_solver: torch.optim.Optimizer,
              G_solver: torch.optim.Optimizer, discriminator_loss: Callable,
              generator_loss: Callable, loader_train: DataLoader | None = None,
              show_every: int = 250, batch_size: int = 128, noise_size: int = NOISE_DIM,
              num_epochs: int = 10, max_iters: int | None = None,
              score_fn: Callable[[np.ndarray], float] | None = None, score_every: int | None = None,
              num_score: int = 2000, show: bool = True, ema_decay: float | None = None,
              device=None) -> GanRun:
    """Train a GAN!

    Inputs:
    - D, G: PyTorch models for the discriminator and generator
    - D_solver, G_solver: torch.optim Optimizers to use for training the
      discriminator and generator.
    - discriminator_loss, generator_loss: Functions to use for computing the generator and
      discriminator loss, respectively.
    - loader_train: yields (x (B, 784) in [0, 1], labels); default `mnist_loader(batch_size)`
    - show_every: Show samples after every show_every iterations (and after the last one).
    - batch_size: Batch size to use for training (when loader_train is None).
    - noise_size: Dimension of the noise to use as input to the generator.
    - num_epochs: Number of epochs over the training dataset to use for training.
    - max_iters: stop after this many iterations in all (quick runs); None: no limit
    - score_fn: if given, called with `num_score` generated digits (num_score, 784) in [0, 1]
      every score_every iterations (default show_every) and at the end; returns a float or a
      dict of floats (e.g. `cs231n.gan_scoring.MnistScorer.score`)
    - show: draw each sample grid as it is made (the course's behaviour); False only collects
      them
    - ema_decay: if given, also keep an exponential moving average of G's weights
      (`update_average` after every step, decay `ema_decay_at`), returned as run.G_average;
      the samples shown and scored are then the average's. None: the course's plain G.
    Each iteration: one D step on B real digits (mapped to [-1, 1]) and B generated ones, then
    one G step. G's forward pass is done once and reused by both steps (detached for D's),
    as in PyTorch's DCGAN example; the course drew fresh noise for the G step, which costs a
    second forward pass and changes nothing in expectation.
    Returns a GanRun: the grids shown, both losses per iteration, the scores, and the seconds
    spent in training steps (sampling and scoring not included).
    """
    device = config.torch_device() if device is None else torch.device(device)
    D.to(device).train()
    G.to(device).train()
    loader_train = mnist_loader(batch_size) if loader_train is None else loader_train
    total = num_epochs * len(loader_train)
    total = total if max_iters is None else min(total, max_iters)

    G_average = None if ema_decay is None else copy.deepcopy(G).requires_grad_(False)
    steps_done = [0]

    def step(x: Tensor) -> tuple[float, float]:
        real = preprocess_img(x.to(device))
        fake = G(sample_noise(len(real), noise_size, device=device))
        d_total_error = discriminator_loss(D(real), D(fake.detach()))
        D_solver.zero_grad()
        d_total_error.backward()
        D_solver.step()

        g_error = generator_loss(D(fake))
        G_solver.zero_grad()
        g_error.backward()
        G_solver.step()
        if G_average is not None:
            update_average(G_average, G, ema_decay_at(steps_done[0], ema_decay))
        steps_done[0] += 1
        return d_total_error.item(), g_error.item()

    shown = G if G_average is None else G_average
    run = gan_training_loop(step, loader_train, total,
                            lambda num, seed: generate(shown, num, noise_size, seed=seed, device=device),
                            show_every, score_fn, score_every, num_score, show)
    run.G_average = G_average
    return run
