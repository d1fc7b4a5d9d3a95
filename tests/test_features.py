"""Features: per-image functions equal the course's; batched extraction equals per-image."""
import functools

import matplotlib.colors
import numpy as np
import pytest
from scipy.ndimage import uniform_filter

from cs231n import features
from cs231n.features import color_histogram_hsv, extract_features, hog_feature, rgb2gray

pytestmark = pytest.mark.a1


@pytest.fixture(params=["cython", "numpy"])
def backend(request, monkeypatch):
    """Run a test with the compiled feature kernels and with the numpy path."""
    if request.param == "cython" and not features.HAVE_CYTHON:
        pytest.skip("Cython extension not built (run `make`)")
    monkeypatch.setattr(features, "USE_CYTHON", request.param == "cython")
    return request.param


def _course_hog(im):
    """The 2018 course's hog_feature, written out straightforwardly (square images)."""
    image = np.dot(im[..., :3], [0.299, 0.587, 0.144]) if im.ndim == 3 else im
    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[:, :-1] = np.diff(image, n=1, axis=1)
    gy[:-1, :] = np.diff(image, n=1, axis=0)
    grad_mag = np.sqrt(gx ** 2 + gy ** 2)
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90
    n = image.shape[0] // 8
    hist = np.zeros((n, n, 9))
    for i in range(9):
        in_bin = (grad_ori >= 20 * i) & (grad_ori < 20 * (i + 1)) & (grad_ori > 0)
        hist[:, :, i] = uniform_filter(np.where(in_bin, grad_mag, 0), size=(8, 8))[4::8, 4::8].T
    return hist.ravel()


def _course_hue_hist(im, nbin=10, xmin=0, xmax=255, normalized=True):
    bins = np.linspace(xmin, xmax, nbin + 1)
    hsv = matplotlib.colors.rgb_to_hsv(im / xmax) * xmax
    imhist, bin_edges = np.histogram(hsv[:, :, 0], bins=bins, density=normalized)
    return imhist * np.diff(bin_edges)


def _images(n, h=32, w=32, seed=0):
    """Random uint8 images plus blocky ones (flat areas: zero gradients, exact bin edges)."""
    rng = np.random.RandomState(seed)
    noisy = rng.randint(0, 256, size=(n, h, w, 3)).astype(np.uint8)
    blocky = rng.randint(0, 256, size=(n, h // 4 + 1, w // 4 + 1, 3)).astype(np.uint8)
    blocky = blocky.repeat(4, axis=1).repeat(4, axis=2)[:, :h, :w]
    flat = np.full((1, h, w, 3), 128, dtype=np.uint8)
    return np.concatenate([noisy, blocky, flat])


@pytest.mark.parametrize("size", [32, 36])
def test_hog_feature_equals_the_courses(size):
    for im in _images(3, size, size):
        np.testing.assert_array_equal(hog_feature(im), _course_hog(im))
    gray = rgb2gray(_images(1, size, size)[0])
    np.testing.assert_array_equal(hog_feature(gray), _course_hog(gray))
    assert hog_feature(_images(1)[0]).shape == (144,)


@pytest.mark.parametrize("normalized", [True, False])
def test_color_histogram_equals_the_courses(normalized):
    for im in _images(3):
        hist = color_histogram_hsv(im, nbin=7, normalized=normalized)
        np.testing.assert_array_equal(hist, _course_hue_hist(im, 7, normalized=normalized))
    if normalized:
        assert hist.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(32, 32, 3), (40, 27, 3), (16, 16)])
def test_batched_extraction_equals_per_image(shape, monkeypatch, backend):
    monkeypatch.setattr(features, "_CHUNK", 4)  # several chunks, one of them partial
    rng = np.random.RandomState(1)
    imgs = rng.randint(0, 256, size=(10,) + shape).astype(np.uint8)
    imgs[3] = imgs[3, 0:1]  # a flat-ish image: repeated first row
    fns = [hog_feature]
    if len(shape) == 3:
        fns.append(functools.partial(color_histogram_hsv, nbin=12))
    fast = extract_features(imgs, fns)
    # Lambdas hide the .batched variant, so this takes the course's per-image loop.
    slow = extract_features(imgs, [lambda im, f=f: f(im) for f in fns])
    assert fast.shape == slow.shape == (10, slow.shape[1])
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_hog_batched_equals_per_image_on_blocky_images(backend):
    imgs = _images(5)
    per_image = np.stack([hog_feature(im) for im in imgs])
    np.testing.assert_allclose(hog_feature.batched(imgs), per_image, rtol=1e-12, atol=1e-12)


def test_compiled_and_numpy_batched_features_agree(monkeypatch):
    if not features.HAVE_CYTHON:
        pytest.skip("Cython extension not built (run `make`)")
    # HOG: the kernels round the gray image as np.dot does on contiguous rows with
    # OpenBLAS's FMA kernels; other BLAS kernels (or a strided array) may differ by an
    # ulp, hence the tolerance of the batched-vs-per-image tests. The hue: exact.
    imgs = np.concatenate([_images(20), _images(5, seed=1)]).astype(np.float64)
    results = {}
    for use_cython in (True, False):
        monkeypatch.setattr(features, "USE_CYTHON", use_cython)
        results[use_cython] = [hog_feature.batched(imgs), hog_feature.batched(imgs[..., ::-1]),
                               color_histogram_hsv.batched(imgs),
                               color_histogram_hsv.batched(imgs, nbin=7, normalized=False),
                               color_histogram_hsv.batched(imgs.astype(np.uint8), xmin=10,
                                                           normalized=False)]
    for a, b in zip(results[True][:2], results[False][:2], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(results[True][2:], results[False][2:], strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="outside"):
        color_histogram_hsv.batched(imgs, xmax=100)


def test_fast_hue_has_the_same_bits_as_matplotlib():
    # Every combination of a few levels: gray pixels, two- and three-way maximum ties.
    levels = np.array([0, 1, 37, 128, 254, 255]) / 255
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    rgb = np.concatenate([rgb, np.random.RandomState(2).rand(500, 3)])
    np.testing.assert_array_equal(features._hue(rgb), matplotlib.colors.rgb_to_hsv(rgb)[:, 0])
    with pytest.raises(ValueError, match="outside"):
        features._hue(rgb * 2)


def test_extract_features_mixes_batched_and_per_image_functions(capsys):
    imgs = _images(2)
    mean_fn = lambda im: np.array([im.mean()])
    feats = extract_features(imgs, [hog_feature, mean_fn], verbose=True)
    assert f"{len(imgs)} / {len(imgs)} images" in capsys.readouterr().out
    assert feats.shape == (len(imgs), 145)
    np.testing.assert_array_equal(feats[:, -1], imgs.reshape(len(imgs), -1).mean(axis=1))
    assert extract_features(imgs[:0], [hog_feature]).size == 0


def test_bad_input_raises_clear_value_errors():
    with pytest.raises(ValueError, match="images"):
        extract_features(np.zeros((4, 5)), [hog_feature])
    with pytest.raises(ValueError, match="1-D"):
        extract_features(_images(1), [lambda im: np.zeros((2, 2))])
    with pytest.raises(ValueError, match="rgb"):
        color_histogram_hsv(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="at least 8x8"):
        hog_feature(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="grayscale"):
        hog_feature(np.zeros(32))


def test_chunks_on_threads_give_the_same_features_in_order(monkeypatch, capsys):
    # _CHUNK-sized chunks run on OMP_NUM_THREADS threads; the rows must come back in order.
    monkeypatch.setattr(features, "_CHUNK", 7)
    imgs = np.random.default_rng(3).integers(0, 256, (30, 16, 16, 3)).astype(np.float64)
    fns = [hog_feature, functools.partial(color_histogram_hsv, nbin=6)]
    got = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        assert features._num_workers() == int(threads)
        got[threads] = extract_features(imgs, fns, verbose=True)
    np.testing.assert_array_equal(got["1"], got["3"])
    np.testing.assert_allclose(got["3"][11], np.concatenate([f(imgs[11]) for f in fns]), rtol=1e-12, atol=1e-12)
    progress = [line for line in capsys.readouterr().out.splitlines() if "Done extracting" in line]
    assert progress[:5] == [f"Done extracting features for {n} / 30 images" for n in (7, 14, 21, 28, 30)]
