"""Image helpers (official module name): load, resize, blur, SqueezeNet pre/deprocessing.

No scipy.misc: images are read with imageio and resized with scikit-image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cs231n import config

SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess_image(img: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., H, W, 3) -> float32 normalized for SqueezeNet: (img/255 - mean) / std."""
    return (img.astype(np.float32) / 255.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD


def deprocess_image(img: np.ndarray, rescale: bool = False) -> np.ndarray:
    """Inverse of preprocess_image, clipped to uint8; rescale stretches to the full range first."""
    img = img * SQUEEZENET_STD + SQUEEZENET_MEAN
    if rescale:
        vmin, vmax = img.min(), img.max()
        img = (img - vmin) / max(vmax - vmin, 1e-12)
    return np.clip(255 * img, 0.0, 255.0).astype(np.uint8)


def blur_image(X: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur over H and W of a batch X (N, C, H, W) (channels-first, as the course)."""
    from scipy.ndimage import gaussian_filter1d

    X = gaussian_filter1d(X, sigma, axis=2)
    return gaussian_filter1d(X, sigma, axis=3)


def find_image(name: str) -> Path:
    """Path of a course image (kitten.jpg, sky.jpg, tubingen.jpg, starry_night.jpg, ...)."""
    for folder in ("images", "styles"):
        full = config.find_full_data(f"{folder}/{name}")
        if full is not None:
            return full
        mini = config.MINI_DIR / folder / name
        if mini.exists():
            return mini
    raise FileNotFoundError(f"image {name!r} not found in images/ or styles/ of $CS231N_DATA, "
                            "datasets/ or datasets/mini/. Run `make data` or check the name.")


def load_image(filename, size: int | None = None) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3); with size, scale so the shorter side is size.

    `filename` may be a path or the bare name of a course image (see find_image).
    """
    import imageio.v3 as iio

    path = Path(filename)
    if not path.exists():
        path = find_image(str(filename))
    img = iio.imread(path)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if size is not None:
        from skimage.transform import resize

        scale = float(size) / min(img.shape[:2])
        new_shape = (int(img.shape[0] * scale), int(img.shape[1] * scale))
        img = resize(img, new_shape, order=1, anti_aliasing=True, preserve_range=True)
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return img


def image_from_url(url: str) -> np.ndarray:
    """Download an image (needs network; the course used it for COCO thumbnails)."""
    import urllib.request

    import imageio.v3 as iio

    try:
        with urllib.request.urlopen(url, timeout=10) as f:
            return iio.imread(f.read())
    except OSError as e:
        raise ConnectionError(f"could not download {url}: {e}. This needs network access.") from e
