"""Image helpers (official module name): load, resize, blur, SqueezeNet pre/deprocessing.

No scipy.misc: images are read with imageio and resized with scikit-image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cs231n import config, data_utils

SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess_image(img: np.ndarray) -> np.ndarray:
    """Normalize an RGB image (or a batch) for SqueezeNet: (img/255 - mean) / std.

    Inputs:
    - img: (..., H, W, 3) pixel values, either
      - integers (uint8) in 0..255, as load_image and load_imagenet_val return, or
      - floats in 0..255 (e.g. a uint8 image cast to float), as the course passes, or
      - floats in [0, 1] (e.g. skimage's img_as_float): recognized by a maximum <= 1 and
        not divided by 255 again. (A float image in 0..255 whose pixels are all <= 1 is
        black to the eye; it is read as [0, 1].)
    Returns (..., H, W, 3) float32, about zero mean and unit variance per channel.
    Raises ValueError for a last axis other than 3 and for values outside 0..255 (e.g. an
    image that is already preprocessed: deprocess_image turns it back into uint8).
    """
    img = np.asarray(img)
    if img.ndim < 3 or img.shape[-1] != 3:
        raise ValueError(f"preprocess_image: expected RGB images (..., H, W, 3), got shape "
                         f"{img.shape}")
    if not (np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)):
        raise ValueError(f"preprocess_image: expected uint8 or float pixels, got {img.dtype}")
    low, high = (img.min(), img.max()) if img.size else (0, 0)
    if low < 0 or high > 255 or not np.isfinite(high):
        raise ValueError(f"preprocess_image: pixel values must lie in 0..255 (uint8) or [0, 1] "
                         f"(float), found {low}..{high}; an already preprocessed image goes "
                         "back to pixels with deprocess_image")
    scale = 1.0 if np.issubdtype(img.dtype, np.floating) and high <= 1.0 else 255.0
    return (img.astype(np.float32) / scale - SQUEEZENET_MEAN) / SQUEEZENET_STD


def deprocess_image(img: np.ndarray, rescale: bool = False) -> np.ndarray:
    """Inverse of preprocess_image: (..., H, W, 3) float -> uint8 pixels, clipped to 0..255.

    rescale stretches the image to the full range first. Pixels are rounded (the course
    truncated, which turned some values v into v - 1: preprocess then deprocess was not
    the identity).
    """
    img = img * SQUEEZENET_STD + SQUEEZENET_MEAN
    if rescale:
        vmin, vmax = img.min(), img.max()
        img = (img - vmin) / max(vmax - vmin, 1e-12)
    return np.clip(np.round(255 * img), 0.0, 255.0).astype(np.uint8)


def squeezenet_pixel_bounds() -> tuple[np.ndarray, np.ndarray]:
    """The range of real pixels in SqueezeNet's normalized units, per channel.

    Returns (low, high), each (3,) float32: low = (0 - mean) / std, high = (1 - mean) / std.
    Clamping a normalized image to them keeps every pixel inside [0, 1] (the class
    visualizations do it after every step).
    """
    return -SQUEEZENET_MEAN / SQUEEZENET_STD, (1.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD


def resize_shorter_side(img: np.ndarray, size: int) -> np.ndarray:
    """Resize a uint8 RGB image (H, W, 3) so that its shorter side is `size`, as the course did.

    Bilinear resampling by PIL, the resize behind both torchvision's ``Resize(size)`` (the
    PyTorch notebooks) and the removed ``scipy.misc.imresize`` (the TensorFlow ones); the longer
    side becomes int(size * longer / shorter). It reproduces the course's style-transfer check
    value ``tv_out`` (303.47) exactly; `load_image`'s scikit-image resize gives a smoother image.
    An image that already has the size is returned unchanged.
    """
    from PIL import Image

    from cs231n._checks import check_int

    size = check_int(size, "size")
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != np.uint8:
        raise ValueError(f"resize_shorter_side: expected a uint8 RGB image (H, W, 3), got "
                         f"{img.dtype} {img.shape}")
    h, w = img.shape[:2]
    new_w, new_h = (size, int(size * h / w)) if w < h else (int(size * w / h), size)
    if (new_h, new_w) == (h, w):
        return img
    return np.asarray(Image.fromarray(img).resize((new_w, new_h), Image.BILINEAR))


def blur_image(X: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur over H and W of a batch X (N, C, H, W) (channels-first, as the course)."""
    from scipy.ndimage import gaussian_filter1d

    X = gaussian_filter1d(X, sigma, axis=2)
    return gaussian_filter1d(X, sigma, axis=3)


def find_image(name: str) -> Path:
    """Path of a course image (kitten.jpg, sky.jpg, tubingen.jpg, starry_night.jpg, ...).

    Looks in images/ and styles/ of the full-data locations (config.data_dirs),
    then of the embedded bundle, whose files are checksum-verified.
    Raises DataNotFoundError (a FileNotFoundError) when no location has it.
    """
    for folder in ("images", "styles"):
        full = config.find_full_data(f"{folder}/{name}")
        if full is not None:
            return full
    for folder in ("images", "styles"):
        mini = config.MINI_DIR / folder / name
        if mini.is_file():
            data_utils.verify_mini_file(mini)
            return mini
    raise data_utils.DataNotFoundError(
        f"image {name!r} not found in images/ or styles/ of $CS231N_DATA, cs231n/datasets/, "
        "datasets/ or datasets/mini/. Check the name, or run `make data`.")


def load_image(filename, size: int | None = None) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3); with size, scale so the shorter side is size.

    `filename` may be a path or the bare name of a course image (see find_image; the
    bundle's copies are checksum-verified).
    """
    import imageio.v3 as iio

    path = Path(filename)
    if not path.exists():
        path = find_image(str(filename))
    elif data_utils.is_mini_file(path):
        data_utils.verify_mini_file(path)
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


def save_image(img: np.ndarray, path) -> Path:
    """Write a uint8 RGB image (H, W, 3) to path (PNG, JPEG, ... by its suffix), making its
    folder first. Returns the path."""
    import imageio.v3 as iio

    img = np.asarray(img)
    if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != np.uint8:
        raise ValueError(f"save_image: expected a uint8 RGB image (H, W, 3), got {img.dtype} "
                         f"{img.shape} (deprocess_image turns a normalized image into one)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, img)
    return path


def image_from_url(url: str) -> np.ndarray:
    """Download an image (needs network; the course used it for COCO thumbnails)."""
    import urllib.request

    import imageio.v3 as iio

    try:
        with urllib.request.urlopen(url, timeout=10) as f:
            return iio.imread(f.read())
    except OSError as e:
        raise ConnectionError(f"could not download {url}: {e}. This needs network access.") from e
