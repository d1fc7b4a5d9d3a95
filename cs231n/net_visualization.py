"""Network visualization: the NumPy-only parts shared by `net_visualization_pytorch` and
`net_visualization_tensorflow` (input checks, the random start and the jitter schedule of the
class visualizations, the size of a fooling perturbation).

Keeping them here means both frameworks start a class visualization from the same image and
jitter it the same way, and neither framework module imports the other framework.
"""
from __future__ import annotations

import numpy as np

from cs231n._checks import check_int
from cs231n.classifiers.squeezenet_weights import NUM_CLASSES
from cs231n.image_utils import SQUEEZENET_STD, preprocess_image

# The course's settings for the class visualizations (create_class_visualization's defaults).
CLASS_VIS_DEFAULTS = dict(l2_reg=1e-3, learning_rate=25.0, num_iterations=100, blur_every=10,
                          max_jitter=16)
BLUR_SIGMA = 0.5          # the periodic blur of a class visualization
FOOLING_LEARNING_RATE = 1.0
FOOLING_MAX_ITERS = 100   # the course: "fewer than 100 iterations of gradient ascent"


def check_images(name: str, shape: tuple, is_float: bool, dtype, layout: str,
                 batch: int | None = None) -> None:
    """Check a batch of normalized images before it goes into SqueezeNet.

    Inputs:
    - name: the function and argument, for the message (e.g. 'compute_saliency_maps: X')
    - shape, is_float, dtype: the array's shape, whether its dtype is floating point, the dtype
    - layout: 'NCHW' (PyTorch) or 'NHWC' (TensorFlow)
    - batch: the required N, or None for any
    Raises ValueError for another rank, a channel count other than 3, integer pixels (uint8
    images must go through preprocessing first), or the wrong batch size.
    """
    shape = tuple(int(s) for s in shape)
    channels = 1 if layout == "NCHW" else 3
    dims = "(N, 3, H, W)" if layout == "NCHW" else "(N, H, W, 3)"
    if len(shape) != 4 or shape[channels] != 3:
        raise ValueError(f"{name}: expected a batch of RGB images {dims}, got shape {shape}")
    if not is_float:
        raise ValueError(f"{name}: expected float images normalized for SqueezeNet, got {dtype} "
                         "(preprocess uint8 pixels first)")
    if min(shape[2:] if layout == "NCHW" else shape[1:3]) < 32:
        raise ValueError(f"{name}: images of {shape} are too small for SqueezeNet (at least "
                         "32 x 32 pixels)")
    if batch is not None and shape[0] != batch:
        raise ValueError(f"{name}: expected {batch} image(s), got a batch of {shape[0]}")


def check_labels(name: str, y, n: int) -> np.ndarray:
    """Check class labels: n integers in [0, 1000). Returns them as an int64 array."""
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: expected {n} integer labels (one per image), got {y.dtype} "
                         f"{y.shape}")
    if n and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"{name}: labels must lie in [0, {NUM_CLASSES}), got {y.min()}..{y.max()}")
    return y.astype(np.int64)


def check_target(name: str, target_y) -> int:
    """Check one target class: an integer in [0, 1000). Returns it as int."""
    return check_int(target_y, f"{name}: target_y", minimum=0, maximum=NUM_CLASSES - 1,
                     maximum_name="the last ImageNet class")


def random_start(size: int = 224, seed: int | None = 0) -> np.ndarray:
    """The starting image of a class visualization: uniform random pixels, normalized.

    Returns (1, size, size, 3) float32 (channels last; PyTorch transposes it), the same for both
    frameworks for one seed.
    """
    size = check_int(size, "size", minimum=32)
    pixels = np.random.default_rng(seed).uniform(0, 255, size=(1, size, size, 3))
    return preprocess_image(pixels)


def jitter_offsets(num_iterations: int, max_jitter: int, seed: int | None = 0) -> np.ndarray:
    """Random shifts (ox, oy), each in 0..max_jitter, one row per iteration: (num_iterations, 2)."""
    check_int(num_iterations, "num_iterations")
    check_int(max_jitter, "max_jitter", minimum=0)
    return np.random.default_rng(seed).integers(0, max_jitter + 1, size=(num_iterations, 2))


def blur_now(t: int, blur_every: int) -> bool:
    """Whether iteration t ends with a blur (every blur_every iterations, from t = 0)."""
    return t % blur_every == 0


def pixel_change(X_fooling: np.ndarray, X: np.ndarray, channel_axis: int) -> float:
    """Mean absolute change of a fooling image in pixel units of [0, 1] (255 = the full range).

    X_fooling and X are normalized images; dividing by SqueezeNet's std undoes the per-channel
    scaling, so 2 / 255 means an average change of two grey levels.
    """
    shape = [1] * np.ndim(X)
    shape[channel_axis] = 3
    diff = (np.asarray(X_fooling, np.float64) - np.asarray(X, np.float64))
    return float(np.mean(np.abs(diff * SQUEEZENET_STD.reshape(shape))))
