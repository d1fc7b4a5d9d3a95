"""Plotting helpers (official module name): image grids, crops and image display for the notebooks."""
from __future__ import annotations

from math import ceil, sqrt

import numpy as np


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile a batch of images into one image for display.

    Inputs:
    - Xs: (N, H, W, C) images
    - ubound: each image is rescaled to [0, ubound]
    - padding: pixels between tiles
    Returns: grid (G*(H+padding)-padding, G*(W+padding)-padding, C), G = ceil(sqrt(N)).
    """
    N, H, W, C = Xs.shape
    grid_size = ceil(sqrt(N))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for i, img in enumerate(Xs):
        row, col = divmod(i, grid_size)
        y0, x0 = row * (H + padding), col * (W + padding)
        low, high = np.min(img), np.max(img)
        grid[y0:y0 + H, x0:x0 + W] = ubound * (img - low) / max(high - low, 1e-12)
    return grid


def vis_grid(Xs: np.ndarray) -> np.ndarray:
    """Tile (N, H, W, C) images on a square grid with one pixel of padding, unscaled."""
    N, H, W, C = Xs.shape
    A = ceil(sqrt(N))
    G = np.ones((A * H + A, A * W + A, C), Xs.dtype) * np.min(Xs)
    for n in range(N):
        y, x = divmod(n, A)
        G[y * H + y:(y + 1) * H + y, x * W + x:(x + 1) * W + x, :] = Xs[n]
    maxg, ming = G.max(), G.min()
    return (G - ming) / max(maxg - ming, 1e-12)


def vis_nn(rows) -> np.ndarray:
    """Tile a list of lists of (H, W, C) images: one row per list."""
    N = len(rows)
    D = len(rows[0])
    H, W, C = rows[0][0].shape
    Xs = rows[0][0]
    G = np.ones((N * H + N, D * W + D, C), Xs.dtype)
    for y in range(N):
        for x in range(D):
            G[y * H + y:(y + 1) * H + y, x * W + x:(x + 1) * W + x, :] = rows[y][x]
    maxg, ming = G.max(), G.min()
    return (G - ming) / max(maxg - ming, 1e-12)


def plot_stats(stats: dict, title: str, epoch_label: str = "Epoch"):
    """Loss per iteration above, train/val accuracy per epoch below, for the
    stats dict of TwoLayerNet.train (loss_history, train_acc_history, val_acc_history).
    Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 8))
    ax1.plot(stats["loss_history"], alpha=0.7)
    ax1.set(title=title, xlabel="Iteration", ylabel="Loss")
    ax2.plot(stats["train_acc_history"], label="train (current minibatch)")
    ax2.plot(stats["val_acc_history"], label="val")
    ax2.set(title="Classification accuracy history", xlabel=epoch_label, ylabel="Accuracy")
    ax2.legend()
    fig.tight_layout()
    return fig


def show_net_weights(W1: np.ndarray, title: str):
    """The first-layer weights W1 (32*32*3, H) of a network on CIFAR-10 rows, one
    32x32 colour image per hidden unit, in a grid. Returns the figure."""
    import matplotlib.pyplot as plt

    if W1.ndim != 2 or W1.shape[0] != 32 * 32 * 3:
        raise ValueError(f"show_net_weights: W1 must have shape (3072, H), got {W1.shape}")
    templates = W1.reshape(32, 32, 3, -1).transpose(3, 0, 1, 2)
    fig = plt.figure(figsize=(8, 8))
    plt.imshow(visualize_grid(templates, padding=3).astype("uint8"))
    plt.gca().axis("off")
    plt.title(title)
    return fig


def center_square(img: np.ndarray, size: int) -> np.ndarray:
    """The centred size x size crop of an (H, W, ...) image (H, W >= size)."""
    H, W = img.shape[:2]
    if size > min(H, W):
        raise ValueError(f"center_square: cannot cut a {size}x{size} square from a {H}x{W} image")
    top, left = (H - size) // 2, (W - size) // 2
    return img[top:top + size, left:left + size]


def imshow_no_ax(img: np.ndarray, normalize: bool = True) -> None:
    """Show an (H, W) or (H, W, 3) image without axes; normalize stretches it to 0..255."""
    import matplotlib.pyplot as plt

    img = np.asarray(img, dtype=np.float64)
    if normalize:
        img = 255.0 * (img - img.min()) / max(img.max() - img.min(), 1e-8)
    plt.imshow(img.astype("uint8"))
    plt.gca().axis("off")


def show_image_table(images, titles=None, cmap: str = "hot", size: float = 2.4,
                     title: str | None = None):
    """Plot a table of images without axes and return the figure.

    Inputs:
    - images: rows of images, images[r][c] either (H, W, 3) uint8 pixels or an (H, W) map (a
      saliency map, a difference), which is drawn with `cmap`; a row may be shorter than the
      longest (its last cells stay empty)
    - titles: the same table of titles (strings), or None
    - size: inches per cell; title: of the whole figure
    """
    import matplotlib.pyplot as plt

    rows, cols = len(images), max(len(row) for row in images)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for r, ax_row in enumerate(axes):
        for c, ax in enumerate(ax_row):
            ax.axis("off")
            if c < len(images[r]):
                img = np.asarray(images[r][c])
                ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
                if titles is not None and c < len(titles[r]):
                    ax.set_title(titles[r][c], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
