"""Data augmentation for batches of images (N, C, H, W), for Solver's ``augment_fn`` hook.

Each function returns a NEW batch (the input is never modified) of the same shape,
and draws its randomness from ``rng`` (a ``np.random.RandomState``), by default the
global ``np.random``, so ``config.seed_everything`` makes a training run reproducible.

    from cs231n.data_augmentation import flip_and_translate
    solver = Solver(model, data, ..., augment_fn=flip_and_translate(max_shift=2))

A label-preserving transformation of the training images is a cheap way to get
more (correlated) training data: a cat mirrored or moved by two pixels is still a
cat, but to a fully connected net it is a different input vector.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cs231n._checks import check_int


def _check_batch(X: np.ndarray, what: str) -> None:
    if np.ndim(X) != 4:
        raise ValueError(f"{what}: X must be a batch of images (N, C, H, W), got shape "
                         f"{np.shape(X)}; reshape flat rows to (N, 3, 32, 32) first")


def _check_shift(max_shift, H: int, W: int) -> None:
    check_int(max_shift, "max_shift", minimum=0)
    if max_shift >= min(H, W):
        raise ValueError(f"max_shift={max_shift} must be smaller than the image size {H}x{W}")


def random_flips(X: np.ndarray, rng: np.random.RandomState | None = None) -> np.ndarray:
    """Mirror each image left-right with probability 1/2.

    Inputs:
    - X: (N, C, H, W) images
    - rng: source of randomness (default: the global np.random)

    Returns:
    - out: (N, C, H, W), out[i] is X[i] or X[i, :, :, ::-1]
    """
    _check_batch(X, "random_flips")
    rng = np.random if rng is None else rng
    flip = rng.rand(X.shape[0]) < 0.5
    out = X.copy()
    out[flip] = X[flip, :, :, ::-1]
    return out


def random_translations(X: np.ndarray, max_shift: int = 2,
                        rng: np.random.RandomState | None = None) -> np.ndarray:
    """Shift each image by a random whole number of pixels, dy and dx each uniform in
    [-max_shift, max_shift], filling the uncovered border with zeros:

        out[i, c, h, w] = X[i, c, h - dy_i, w - dx_i]   (0 outside the image)

    With mean-subtracted data, zero is the mean pixel, so the border is "average".

    Inputs:
    - X: (N, C, H, W) images
    - max_shift: largest shift in pixels along each axis, 0 <= max_shift < min(H, W)
    - rng: source of randomness (default: the global np.random)

    Returns:
    - out: (N, C, H, W) shifted images
    """
    _check_batch(X, "random_translations")
    N, C, H, W = X.shape
    _check_shift(max_shift, H, W)
    rng = np.random if rng is None else rng
    s = int(max_shift)
    dy = rng.randint(-s, s + 1, size=N)
    dx = rng.randint(-s, s + 1, size=N)
    padded = np.pad(X, ((0, 0), (0, 0), (s, s), (s, s)))
    # One gather for the whole batch: image i reads rows s - dy_i + h, cols s - dx_i + w.
    rows = (s - dy)[:, None] + np.arange(H)
    cols = (s - dx)[:, None] + np.arange(W)
    return padded[np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def flip_and_translate(max_shift: int = 2, flip: bool = True,
                       rng: np.random.RandomState | None = None
                       ) -> Callable[[np.ndarray], np.ndarray]:
    """An ``augment_fn`` for Solver: random translations, then random flips.

    Inputs:
    - max_shift: largest translation in pixels (0: no translation)
    - flip: whether to mirror half of the images
    - rng: source of randomness (default: the global np.random)

    Returns:
    - augment: function X (N, C, H, W) -> augmented X (N, C, H, W)
    """
    check_int(max_shift, "max_shift", minimum=0)

    def augment(X: np.ndarray) -> np.ndarray:
        out = random_translations(X, max_shift, rng) if max_shift else np.array(X)
        return random_flips(out, rng) if flip else out

    return augment
