"""What the PyTorch and TensorFlow GAN notebooks share, in numpy only (neither framework).

- MNIST for GANs: `MNIST` (the course's batch iterator: flattened digits in [0, 1]),
  `preprocess_img` / `deprocess_img` between pixels in [0, 1] and the generator's [-1, 1].
- Pictures: `show_images` (the course's grid of digits), `images_grid`, `show_samples_over_time`.
- Inline question 1: `alternating_gradient_steps` runs simultaneous-game gradient steps on
  f(x, y) = xy.
- `gan_training_loop`: the loop of `run_a_gan` in both frameworks (a framework gives the step),
  and `GanRun`, what it returns.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from cs231n.data_utils import load_mnist
from cs231n.progress import progress, say

NOISE_DIM = 96
IMAGE_DIM = 28 * 28


def preprocess_img(x):
    """Pixels in [0, 1] -> [-1, 1], the range of the generator's tanh output: 2x - 1."""
    return 2 * x - 1.0


def deprocess_img(x):
    """[-1, 1] -> pixels in [0, 1]: (x + 1) / 2."""
    return (x + 1.0) / 2.0


def mnist_images(split: str = "train", num: int | None = None) -> np.ndarray:
    """MNIST digits of one split as (N, 784) float32 pixels in [0, 1].

    From the package loader (`data_utils.load_mnist`: $CS231N_DATA / datasets/, else the
    embedded bundle); num keeps the first num digits (None: all).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    X = load_mnist()[f"X_{split}"][:num]
    return (X.reshape(len(X), IMAGE_DIM) / np.float32(255)).astype(np.float32)


class MNIST:
    """The course's MNIST iterator: minibatches of flattened digits in [0, 1] and their labels.

    `for x, y in MNIST(batch_size=128, shuffle=True)` yields x (B, 784) float32 and y (B,)
    int64. With shuffle, the order changes every epoch (iteration), drawn from `seed`, so
    runs repeat exactly. drop_last skips the final short batch (the course's GAN loop did).
    """

    def __init__(self, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = True, num: int | None = None):
        data = load_mnist()
        X = data["X_train"][:num]
        self.X = (X.reshape(len(X), IMAGE_DIM) / np.float32(255)).astype(np.float32)
        self.y = data["y_train"][:num]
        if batch_size < 1 or batch_size > len(self.X):
            raise ValueError(f"batch_size must be in 1..{len(self.X)}, got {batch_size}")
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """Batches per epoch."""
        N, B = len(self.X), self.batch_size
        return N // B if self.drop_last else -(-N // B)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        idx = self._rng.permutation(len(self.X)) if self.shuffle else np.arange(len(self.X))
        B = self.batch_size
        for i in range(len(self)):
            batch = idx[i * B:(i + 1) * B]
            yield self.X[batch], self.y[batch]


@dataclass
class GanRun:
    """What `run_a_gan` returns (both frameworks).

    - samples: [(iteration, images (16, 784) in [0, 1])], the grids it showed
    - d_loss, g_loss: one float per iteration
    - scores: [(iteration, score)] when a score_fn was given: what it returned, a float or a
      dict of floats (e.g. `MnistScorer.score`: classifier score and Fréchet distance)
    - train_seconds: time in training steps only (no sampling or scoring)
    - iterations: steps taken
    - G_average: the weight-averaged generator when run_a_gan was given an ema_decay (the
      samples and scores are then its), else None
    """
    samples: list[tuple[int, np.ndarray]] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    scores: list[tuple[int, float | dict[str, float]]] = field(default_factory=list)
    train_seconds: float = 0.0
    iterations: int = 0
    G_average: object = None


def as_score(value) -> float | dict[str, float]:
    """A score_fn's result as a float, or a dict of floats."""
    return {k: float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)


def ema_decay_at(step: int, decay: float) -> float:
    """The decay of the generator's moving average at step `step` (0, 1, ...):
    min(decay, (1 + step) / (10 + step)).

    The average is avg <- decay * avg + (1 - decay) * weights after every step. Early on it
    forgets faster (0.1 at step 0, 0.5 at step 8), as TensorFlow's ExponentialMovingAverage
    does with num_updates, so that the random initial weights do not linger in it.
    """
    return min(decay, (1 + step) / (10 + step))


def check_finite_losses(d_loss: float, g_loss: float, iteration: int) -> None:
    """Stop training at the first non-finite loss, saying where."""
    if not (np.isfinite(d_loss) and np.isfinite(g_loss)):
        raise FloatingPointError(f"GAN training: D loss {d_loss}, G loss {g_loss} at iteration "
                                 f"{iteration}; lower the learning rate")


def gan_training_loop(step: Callable[[object], tuple[float, float]], batches: Iterable,
                      total: int, sample: Callable[[int, int], np.ndarray], show_every: int = 250,
                      score_fn: Callable | None = None, score_every: int | None = None,
                      num_score: int = 2000, show: bool = True) -> GanRun:
    """The loop of `run_a_gan` in both frameworks, around a framework's training step.

    Inputs:
    - step: (d_loss, g_loss) = step(x), one GAN iteration on real digits x (B, 784) in [0, 1]
    - batches: iterable over one epoch of (x, labels), iterated again for each epoch
    - total: number of iterations
    - sample: images = sample(num, seed), num generated digits (num, 784) in [0, 1]
    - show_every, score_fn, score_every (default show_every), num_score, show: see run_a_gan
    Keeps 16 samples (seed 1: the same noise every time) at iteration 0, every show_every
    iterations and at the end, and the scores of num_score samples (seed 2) every score_every
    iterations and at the end. Prints the losses at each grid; a progress bar meanwhile.
    Raises FloatingPointError at the first non-finite loss.
    """
    score_every = score_every or show_every
    run = GanRun()

    def checkpoint(it: int) -> None:
        if it % show_every == 0 or it == total:
            images = sample(16, 1)
            run.samples.append((it, images))
            if show:
                show_images(images, title=f"iteration {it}")
        if score_fn is not None and (it % score_every == 0 or it == total):
            run.scores.append((it, as_score(score_fn(sample(num_score, 2)))))

    checkpoint(0)
    bar = progress(total=total, desc="GAN")
    while run.iterations < total:
        for x, _ in batches:
            if run.iterations >= total:
                break
            start = time.perf_counter()
            d, g = step(x)   # floats: the step has finished when it returns
            run.train_seconds += time.perf_counter() - start
            check_finite_losses(d, g, run.iterations)
            run.d_loss.append(d)
            run.g_loss.append(g)
            run.iterations += 1
            bar.update(1)
            it = run.iterations
            if it % show_every == 0 or it == total:
                bar.set_postfix(D=f"{d:.3f}", G=f"{g:.3f}", refresh=False)
                say(f"Iter: {it}, D: {d:.4g}, G: {g:.4g}")
            checkpoint(it)
    bar.close()
    return run


def moving_average(values, width: int = 50) -> np.ndarray:
    """Means of `width` consecutive values (fewer values than width: one mean of all of them)."""
    values = np.asarray(values, np.float64)
    width = max(1, min(width, len(values)))
    return np.convolve(values, np.ones(width) / width, mode="valid")


# --------------------------------------------------------------------------- pictures

def images_grid(images, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile N digits (N, 784) or (N, 28, 28) into one (rows*29-1, cols*29-1) image, pad 1."""
    x = np.asarray(images, np.float32).reshape(-1, 28, 28)
    N = len(x)
    cols = cols or int(np.ceil(np.sqrt(N)))
    rows = -(-N // cols)
    grid = np.ones((rows * (28 + pad) - pad, cols * (28 + pad) - pad), np.float32)
    for i, img in enumerate(x):
        r, c = divmod(i, cols)
        grid[r * (28 + pad):r * (28 + pad) + 28, c * (28 + pad):c * (28 + pad) + 28] = img
    return grid


def show_images(images, title: str | None = None):
    """Show N digits (N, 784) in [0, 1] in a square grid (the course's helper). Returns the figure."""
    import matplotlib.pyplot as plt

    x = np.asarray(images).reshape(len(images), -1)
    side = int(np.ceil(np.sqrt(len(x))))
    fig, ax = plt.subplots(figsize=(side * 0.6, side * 0.6))
    ax.imshow(images_grid(x, side), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    plt.show()
    return fig


def show_samples_over_time(samples: list[tuple[int, np.ndarray]], title: str = "", max_grids: int = 8):
    """One figure: the sample grids of a run side by side, labelled with their iteration.

    At most max_grids of them, evenly spaced, always with the last one. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not samples:
        raise ValueError("show_samples_over_time: no samples (was show_every larger than the run?)")
    keep = np.unique(np.linspace(0, len(samples) - 1, min(max_grids, len(samples))).round().astype(int))
    fig, axes = plt.subplots(1, len(keep), figsize=(1.9 * len(keep), 2.3), squeeze=False)
    for ax, i in zip(axes[0], keep, strict=True):
        it, imgs = samples[i]
        ax.imshow(images_grid(imgs[:16], 4), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"iter {it}", fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    plt.tight_layout()
    plt.show()
    return fig


# --------------------------------------------------------------------------- inline question 1

def alternating_gradient_steps(x0: float = 1.0, y0: float = 1.0, steps: int = 6,
                               step_size: float = 1.0) -> list[tuple[float, float]]:
    """Alternating gradient steps on min_x max_y f(x, y) = x y, y first (inline question 1).

    y climbs its gradient df/dy = x, then x descends its gradient df/dx = y at the NEW y:
        y_{t+1} = y_t + step_size * x_t
        x_{t+1} = x_t - step_size * y_{t+1}
    Returns [(x_0, y_0), (x_1, y_1), ..., (x_steps, y_steps)].
    """
    x, y = float(x0), float(y0)
    path = [(x, y)]
    for _ in range(steps):
        # TODO: one alternating step: y climbs its gradient df/dy = x, then x descends its
        # gradient df/dx = y, taken at the new y.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        y = y + step_size * x
        x = x - step_size * y
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        path.append((x, y))
    return path
