"""Image features for assignment 1 (features notebook): HOG and a hue histogram.

`hog_feature(im)` and `color_histogram_hsv(im)` are the course's per-image functions,
with the same outputs. Each also carries a `.batched` variant that computes the same
features for a stack of images at once; `extract_features` uses it instead of one
Python call per image. The batched variants run compiled per-pixel kernels from
cs231n.im2col_cython when it is built (`make`; the same floating-point operations, so the
same features), else numpy (3-4x slower). A feature function wrapped with
`functools.partial(color_histogram_hsv, nbin=...)` keeps its batched variant; a lambda
falls back to the per-image loop.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import matplotlib.colors
import numpy as np
from scipy.ndimage import uniform_filter

try:  # the compiled per-pixel kernels (`make`); without them, the numpy code below
    from cs231n.im2col_cython import (
        hog_cell_sums_cython,
        hog_gradients_cython,
        hue_histogram_cython,
    )
except ImportError:
    HAVE_CYTHON = False
else:
    HAVE_CYTHON = True

__all__ = ["color_histogram_hsv", "extract_features", "hog_feature", "rgb2gray"]

# Whether the batched features use the compiled kernels; tests set it to False to run
# the numpy path.
USE_CYTHON: bool = HAVE_CYTHON

# Images per batched call: bounds the float64 temporaries to a few tens of MB.
_CHUNK = 1000
_ORIENTATIONS = 9      # HOG gradient-orientation bins over [0, 180) degrees
_CELL = (8, 8)         # HOG pixels per cell


def extract_features(imgs: np.ndarray, feature_fns: Sequence[Callable],
                     verbose: bool = False) -> np.ndarray:
    """
    Given pixel data for images and several feature functions that can operate on
    single images, apply all feature functions to all images, concatenating the
    feature vectors for each image and storing the features for all images in
    a single matrix.

    Inputs:
    - imgs: N x H x W x C array of pixel data for N images.
    - feature_fns: List of k feature functions. The ith feature function should
      take as input an H x W x C array and return a (one-dimensional) array of
      length F_i. A function with a `.batched` attribute (or a functools.partial
      of one) is applied to whole chunks of images through it instead.
    - verbose: Boolean; if true, print progress.

    Returns:
    An array of shape (N, F_1 + ... + F_k) where each row is the concatenation
    of all features for a single image.
    """
    imgs = np.asarray(imgs)
    if imgs.ndim < 3:
        raise ValueError(f"imgs must be an array of N images, shape (N, H, W, C) or (N, H, W), "
                         f"got shape {imgs.shape}")
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.array([])

    blocks = []
    for feature_fn in feature_fns:
        batched = _batched_variant(feature_fn)
        if batched is not None:
            blocks.append(_extract_batched(batched, imgs, verbose))
        else:
            blocks.append(_extract_per_image(feature_fn, imgs, verbose))
    return np.hstack(blocks)


def _batched_variant(feature_fn: Callable) -> Callable | None:
    """The batched form of a feature function, or None when it has none."""
    if hasattr(feature_fn, "batched"):
        return feature_fn.batched
    # partial(color_histogram_hsv, nbin=...) binds keywords only; pass them on.
    if (isinstance(feature_fn, functools.partial) and not feature_fn.args
            and hasattr(feature_fn.func, "batched")):
        return functools.partial(feature_fn.func.batched, **feature_fn.keywords)
    return None


def _extract_batched(batched: Callable, imgs: np.ndarray, verbose: bool) -> np.ndarray:
    """`batched` over chunks of _CHUNK images, the chunks spread over `_num_workers()` threads
    (the compiled kernels and numpy's array operations release the GIL)."""
    num_images = imgs.shape[0]
    starts = range(0, num_images, _CHUNK)

    def one_chunk(start: int) -> np.ndarray:
        chunk = imgs[start:start + _CHUNK]
        if chunk.ndim == 4 and chunk.shape[-1] == 1:  # as the course's squeeze of gray images
            chunk = chunk[..., 0]
        return batched(chunk)

    chunks = []
    with ThreadPoolExecutor(max_workers=min(_num_workers(), len(starts))) as pool:
        for start, feats in zip(starts, pool.map(one_chunk, starts), strict=True):  # in order
            chunks.append(feats)
            if verbose:
                done = min(start + _CHUNK, num_images)
                print(f'Done extracting features for {done} / {num_images} images')
    return np.concatenate(chunks, axis=0)


def _num_workers() -> int:
    """The threads for the chunks: OMP_NUM_THREADS when set (as for numpy's BLAS: `make run`
    sets 1 when two notebooks share the machine), else the CPUs this process may use."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _extract_per_image(feature_fn: Callable, imgs: np.ndarray, verbose: bool) -> np.ndarray:
    first = np.asarray(feature_fn(imgs[0].squeeze()))
    if first.ndim != 1:
        raise ValueError(f"feature functions must return a 1-D array, "
                         f"{feature_fn!r} returned shape {first.shape}")
    features = np.zeros((imgs.shape[0], first.size))
    features[0] = first
    for i in range(1, imgs.shape[0]):
        features[i] = feature_fn(imgs[i].squeeze())
        if verbose and i % 1000 == 0:
            print(f'Done extracting features for {i} / {imgs.shape[0]} images')
    return features


def rgb2gray(rgb: np.ndarray) -> np.ndarray:
    """Convert RGB image to grayscale

      Parameters:
        rgb : RGB image, shape (..., 3) (extra channels are ignored)

      Returns:
        gray : grayscale image, shape (...)

    The blue weight is the course's 0.144 (the usual luma weight is 0.114); it is
    kept so that the features, and the accuracies built on them, match the course.
    """
    return np.dot(rgb[..., :3], [0.299, 0.587, 0.144])


def hog_feature(im: np.ndarray) -> np.ndarray:
    """Compute Histogram of Gradient (HOG) feature for an image

         Modified from skimage.feature.hog
         http://pydoc.net/Python/scikits-image/0.4.2/skimage.feature.hog

       Reference:
         Histograms of Oriented Gradients for Human Detection
         Navneet Dalal and Bill Triggs, CVPR 2005

      Parameters:
        im : an input grayscale (H, W) or rgb (H, W, 3) image

      Returns:
        feat: Histogram of Gradient (HOG) feature, shape
        ((W // 8) * (H // 8) * 9,): 144 for a 32x32 image. Entry [a, b, o] (column
        cell a, row cell b, orientation bin o) is the mean over that 8x8 cell of
        the gradient magnitudes whose orientation falls in [20 o, 20 (o + 1))
        degrees (orientation 0 itself is not counted, as in the course).
    """
    image = _gray_images(np.asarray(im)[None])[0]
    sx, sy = image.shape  # image size
    orientations = _ORIENTATIONS  # number of gradient bins
    cx, cy = _CELL  # pixels per cell

    grad_mag, grad_ori = _gradients(image)

    n_cellsx = int(np.floor(sx / cx))  # number of cells in x
    n_cellsy = int(np.floor(sy / cy))  # number of cells in y
    # compute orientations integral images
    orientation_histogram = np.zeros((n_cellsy, n_cellsx, orientations))
    for i in range(orientations):
        # isolate orientations in this range
        temp_ori = np.where(grad_ori < 180 / orientations * (i + 1), grad_ori, 0)
        temp_ori = np.where(grad_ori >= 180 / orientations * i, temp_ori, 0)
        # select magnitudes for those orientations
        cond2 = temp_ori > 0
        temp_mag = np.where(cond2, grad_mag, 0)
        # The box mean sampled at each cell centre is the cell mean; [:n_cells]
        # drops a partial cell at the border (the course errors on such sizes).
        cell_means = uniform_filter(temp_mag, size=(cx, cy))[round(cx / 2)::cx, round(cy / 2)::cy]
        orientation_histogram[:, :, i] = cell_means[:n_cellsx, :n_cellsy].T

    return orientation_histogram.ravel()


def _hog_feature_batched(ims: np.ndarray) -> np.ndarray:
    """hog_feature for a stack of images at once.

    Inputs:
    - ims: images of shape (N, H, W, 3) (rgb) or (N, H, W) (grayscale)

    Returns:
    - feats: array of shape (N, (W // 8) * (H // 8) * 9), row i equal (to rounding
      of the cell means) to hog_feature(ims[i])
    """
    ims = np.asarray(ims)
    if USE_CYTHON and ims.ndim == 4 and ims.shape[-1] >= 3:
        return _hog_feature_batched_cython(ims)
    image = _gray_images(ims)
    n, sx, sy = image.shape
    cx, cy = _CELL
    n_cellsx, n_cellsy = sx // cx, sy // cy
    grad_mag, grad_ori = _gradients(image)

    # Orientation bin of each pixel by the same comparisons as hog_feature, so
    # every pixel lands in exactly the bin the per-image loop puts it in.
    edges = 180 / _ORIENTATIONS * np.arange(_ORIENTATIONS + 1)
    bins = np.clip(np.searchsorted(edges, grad_ori, side="right") - 1, 0, _ORIENTATIONS - 1)
    weights = np.where((grad_ori > 0) & (grad_ori < 180), grad_mag, 0.0)

    # Sum each (cell, bin) with one bincount over a flat (image, row cell, col cell, bin) index.
    crop = (slice(None), slice(0, n_cellsx * cx), slice(0, n_cellsy * cy))
    rows = np.arange(n_cellsx * cx) // cx
    cols = np.arange(n_cellsy * cy) // cy
    cell = (np.arange(n)[:, None, None] * n_cellsx + rows[None, :, None]) * n_cellsy \
        + cols[None, None, :]
    index = cell * _ORIENTATIONS + bins[crop]
    sums = np.bincount(index.ravel(), weights=weights[crop].ravel(),
                       minlength=n * n_cellsx * n_cellsy * _ORIENTATIONS)
    means = sums.reshape(n, n_cellsx, n_cellsy, _ORIENTATIONS) / (cx * cy)
    # hog_feature orders cells column-cell first (the course's transpose).
    return means.transpose(0, 2, 1, 3).reshape(n, -1)


def _hog_feature_batched_cython(ims: np.ndarray) -> np.ndarray:
    """_hog_feature_batched of rgb images with the compiled kernels: the gray image and
    its gradients in one pass, numpy's arctan2 for the orientation (the kernels do not
    reimplement it, so the bins are numpy's), the magnitudes, bins and cell sums in one
    more pass. The same operations as the numpy path, pixel by pixel."""
    rgb = np.ascontiguousarray(ims, dtype=np.float64)
    n, sx, sy, _ = rgb.shape
    _check_hog_size(sx, sy)
    cx, cy = _CELL
    gx, gy = np.empty((n, sx, sy)), np.empty((n, sx, sy))
    hog_gradients_cython(rgb, gx, gy, np.empty((sx, sy)))
    # The orientation as _gradients computes it, in place: arctan2(gy, gx + 1e-15) * ... + 90.
    ori = np.add(gx, 1e-15)
    np.arctan2(gy, ori, out=ori)
    ori *= 180 / np.pi
    ori += 90
    sums = np.zeros((n, sx // cx, sy // cy, _ORIENTATIONS))
    hog_cell_sums_cython(gx, gy, ori, sums, cx, cy)
    means = sums / (cx * cy)
    return means.transpose(0, 2, 1, 3).reshape(n, -1)


def _gray_images(ims: np.ndarray) -> np.ndarray:
    """Grayscale float images of shape (N, H, W) from (N, H, W, C>=3) or (N, H, W)."""
    if ims.ndim == 4 and ims.shape[-1] >= 3:
        gray = rgb2gray(ims)
    elif ims.ndim == 3:
        gray = ims.astype(np.float64)
    else:
        raise ValueError(f"hog_feature needs a grayscale (H, W) or rgb (H, W, 3) image, "
                         f"got shape {ims.shape[1:]}")
    _check_hog_size(gray.shape[1], gray.shape[2])
    return gray


def _check_hog_size(height: int, width: int) -> None:
    if height < _CELL[0] or width < _CELL[1]:
        raise ValueError(f"hog_feature needs images of at least {_CELL[0]}x{_CELL[1]} pixels "
                         f"(one cell), got {height}x{width}")


def _gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient magnitude and orientation (degrees, about [0, 180)) over the last two axes."""
    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[..., :, :-1] = np.diff(image, n=1, axis=-1)  # compute gradient on x-direction
    gy[..., :-1, :] = np.diff(image, n=1, axis=-2)  # compute gradient on y-direction
    grad_mag = np.sqrt(gx ** 2 + gy ** 2)  # gradient magnitude
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90  # gradient orientation
    return grad_mag, grad_ori


def color_histogram_hsv(im: np.ndarray, nbin: int = 10, xmin: float = 0, xmax: float = 255,
                        normalized: bool = True) -> np.ndarray:
    """
    Compute color histogram for an image using hue.

    Inputs:
    - im: H x W x C array of pixel data for an RGB image.
    - nbin: Number of histogram bins. (default: 10)
    - xmin: Minimum pixel value (default: 0)
    - xmax: Maximum pixel value (default: 255)
    - normalized: Whether to normalize the histogram (default: True)

    Returns:
      1D vector of length nbin giving the color histogram over the hue of the
      input image (fractions of the pixels when normalized, else counts times
      the bin width, as the course).
    """
    _check_rgb(im, 3)
    bins = np.linspace(xmin, xmax, nbin + 1)
    hsv = matplotlib.colors.rgb_to_hsv(im / xmax) * xmax
    imhist, bin_edges = np.histogram(hsv[:, :, 0], bins=bins, density=normalized)
    imhist = imhist * np.diff(bin_edges)

    # return histogram
    return imhist


def _color_histogram_hsv_batched(ims: np.ndarray, nbin: int = 10, xmin: float = 0,
                                 xmax: float = 255, normalized: bool = True) -> np.ndarray:
    """color_histogram_hsv for a stack of images at once.

    Inputs:
    - ims: images of shape (N, H, W, 3); the other arguments as color_histogram_hsv

    Returns:
    - hists: array of shape (N, nbin), row i equal to color_histogram_hsv(ims[i])
    """
    ims = np.asarray(ims)
    _check_rgb(ims, 4)
    n = ims.shape[0]
    bins = np.linspace(xmin, xmax, nbin + 1)
    counts = None
    # The kernel computes in float64: use it where numpy's ims / xmax is float64 too.
    if USE_CYTHON and (np.zeros(0, ims.dtype) / xmax).dtype == np.float64:
        counts = np.zeros((n, nbin), dtype=np.int64)
        rgb = np.ascontiguousarray(ims, dtype=np.float64).reshape(n, -1, 3)
        if hue_histogram_cython(rgb, float(xmax), bins, counts):
            counts = None  # values outside [xmin, xmax]: the numpy path raises, saying which
    if counts is None:
        counts = _hue_bin_counts(ims, bins, xmax)

    bin_widths = np.diff(bins)
    if normalized:
        # The same operations as np.histogram(density=True), then the course's * width.
        return counts / bin_widths / counts.sum(axis=1, keepdims=True) * bin_widths
    return counts * bin_widths


def _hue_bin_counts(ims: np.ndarray, bins: np.ndarray, xmax: float) -> np.ndarray:
    """Counts (N, nbin) of the hues of each image in the bins, with numpy."""
    n, nbin = ims.shape[0], len(bins) - 1
    hue = (_hue(ims / xmax) * xmax).reshape(n, -1)

    # np.histogram's rule for explicit edges: bin k holds bins[k] <= h < bins[k+1],
    # the last bin also holds h == bins[-1], and values outside are dropped.
    index = np.searchsorted(bins, hue, side="right") - 1
    index[hue == bins[-1]] = nbin - 1
    inside = (index >= 0) & (index < nbin)
    flat = (np.arange(n)[:, None] * nbin + index)[inside]
    return np.bincount(flat, minlength=n * nbin).reshape(n, nbin)


def _hue(rgb: np.ndarray) -> np.ndarray:
    """Hue in [0, 1) of rgb values in [0, 1], shape (..., 3) -> (...).

    The same floating-point operations as matplotlib.colors.rgb_to_hsv (so the
    same bits), with np.where instead of its boolean-mask assignments and
    elementwise max/min: matplotlib's version dominated the extraction time.
    """
    lo, hi = rgb.min(), rgb.max()
    if lo < 0 or hi > 1:
        raise ValueError(f"color_histogram_hsv needs pixel values in [xmin, xmax]; after "
                         f"dividing by xmax they span [{lo}, {hi}], outside [0, 1]")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Elementwise max/min: a reduction over a length-3 last axis is several times slower.
    arr_max = np.maximum(np.maximum(r, g), b)
    delta = arr_max - np.minimum(np.minimum(r, g), b)
    safe = np.where(delta > 0, delta, 1.0)  # gray pixels get hue 0 below
    # matplotlib assigns red, then green, then blue: a later maximum wins ties.
    hue = np.where(b == arr_max, 4. + (r - g) / safe,
                   np.where(g == arr_max, 2. + (b - r) / safe, (g - b) / safe))
    hue = np.where(delta > 0, hue, 0.0)
    return (hue / 6.0) % 1.0


def _check_rgb(im: np.ndarray, ndim: int) -> None:
    shape = np.shape(im)
    if len(shape) != ndim or shape[-1] != 3:
        want = "(H, W, 3)" if ndim == 3 else "(N, H, W, 3)"
        raise ValueError(f"color_histogram_hsv needs rgb images of shape {want}, got {shape}")


hog_feature.batched = _hog_feature_batched
color_histogram_hsv.batched = _color_histogram_hsv_batched
