"""cs231n.image_utils: SqueezeNet pre/deprocessing on every pixel scale, and course images
found (and checksum-verified) through the data lookup."""
import shutil

import numpy as np
import pytest

from cs231n import config, data_utils, image_utils
from cs231n.data_utils import DataNotFoundError, DatasetError
from cs231n.image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD, deprocess_image, preprocess_image

pytestmark = pytest.mark.a3


@pytest.fixture
def uint8_image():
    return np.random.default_rng(0).integers(0, 256, size=(2, 5, 4, 3), dtype=np.uint8)


def test_uint8_images_follow_the_course_formula(uint8_image):
    out = preprocess_image(uint8_image)
    expected = (uint8_image / 255.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD
    assert out.dtype == np.float32 and out.shape == uint8_image.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_float_images_in_0_255_and_in_0_1_give_the_same_result(uint8_image):
    expected = preprocess_image(uint8_image)
    np.testing.assert_allclose(preprocess_image(uint8_image.astype(np.float64)), expected,
                               atol=1e-6)
    # a [0, 1] float image (skimage's img_as_float) is not divided by 255 a second time
    np.testing.assert_allclose(preprocess_image(uint8_image / 255.0), expected, atol=1e-6)
    np.testing.assert_allclose(preprocess_image((uint8_image / 255.0).astype(np.float32)),
                               expected, atol=1e-5)


def test_deprocess_inverts_preprocess(uint8_image):
    np.testing.assert_array_equal(deprocess_image(preprocess_image(uint8_image)), uint8_image)
    np.testing.assert_array_equal(deprocess_image(preprocess_image(uint8_image / 255.0)),
                                  uint8_image)


@pytest.mark.parametrize("bad, message", [
    (np.full((4, 4, 3), -0.5), r"pixel values must lie in 0..255 .* found -0.5..-0.5.*deprocess"),
    (np.full((4, 4, 3), 300.0), "found 300.0..300.0"),
    (np.full((4, 4, 3), np.nan), "pixel values must lie in 0..255"),
    (np.zeros((4, 4)), r"expected RGB images \(..., H, W, 3\), got shape \(4, 4\)"),
    (np.zeros((4, 4, 4), np.uint8), r"got shape \(4, 4, 4\)"),
    (np.zeros((4, 4, 3), bool), "expected uint8 or float pixels, got bool"),
])
def test_values_that_are_not_pixels_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        preprocess_image(bad)


def test_an_already_preprocessed_image_is_refused(uint8_image):
    with pytest.raises(ValueError, match="already preprocessed"):
        preprocess_image(preprocess_image(uint8_image))


@pytest.fixture
def no_full_data(monkeypatch, tmp_path):
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")
    monkeypatch.chdir(tmp_path)


def test_course_images_load_by_name(no_full_data):
    kitten = image_utils.load_image("kitten.jpg")
    assert kitten.shape == (266, 400, 3) and kitten.dtype == np.uint8
    small = image_utils.load_image("tubingen.jpg", size=64)
    assert min(small.shape[:2]) == 64 and small.dtype == np.uint8
    with pytest.raises(DataNotFoundError, match="'puppy.jpg' not found"):
        image_utils.load_image("puppy.jpg")


def test_a_full_data_copy_comes_first(no_full_data, monkeypatch, tmp_path):
    (tmp_path / "data" / "images").mkdir(parents=True)
    shutil.copy(config.MINI_DIR / "images" / "sky.jpg", tmp_path / "data" / "images" / "kitten.jpg")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "data"))
    assert image_utils.find_image("kitten.jpg") == tmp_path / "data" / "images" / "kitten.jpg"


@pytest.mark.parametrize("rel", ["images/kitten.jpg", "styles/tubingen.jpg"])
def test_a_flipped_byte_in_a_bundle_image_is_refused(no_full_data, monkeypatch, tmp_path, rel):
    mini = tmp_path / "mini"
    (mini / rel).parent.mkdir(parents=True)
    shutil.copy(config.MINI_DIR / "SHA256SUMS", mini)
    shutil.copy(config.MINI_DIR / rel, mini / rel)
    monkeypatch.setattr(config, "MINI_DIR", mini)
    name = rel.split("/")[1]
    image_utils.load_image(name)                               # the intact copy loads
    raw = bytearray((mini / rel).read_bytes())
    raw[len(raw) // 2] ^= 0x01                                 # still a decodable JPEG
    (mini / rel).write_bytes(bytes(raw))
    monkeypatch.setattr(data_utils, "_verified", set())
    with pytest.raises(DatasetError, match=rf"{name}: checksum mismatch.*git checkout datasets/mini"):
        image_utils.load_image(name)
    with pytest.raises(DatasetError, match="checksum mismatch"):   # also by its full path
        image_utils.load_image(mini / rel)


def test_resize_shorter_side_follows_torchvision_resize():
    wide = np.random.default_rng(0).integers(0, 256, size=(30, 45, 3), dtype=np.uint8)
    assert image_utils.resize_shorter_side(wide, 20).shape == (20, 30, 3)
    assert image_utils.resize_shorter_side(wide.transpose(1, 0, 2), 20).shape == (30, 20, 3)
    assert image_utils.resize_shorter_side(wide, 30) is wide          # already that size
    with pytest.raises(ValueError, match=r"expected a uint8 RGB image \(H, W, 3\), got float64"):
        image_utils.resize_shorter_side(wide / 255.0, 20)


def test_pixel_bounds_are_zero_and_one_after_normalization():
    low, high = image_utils.squeezenet_pixel_bounds()
    np.testing.assert_allclose(low * SQUEEZENET_STD + SQUEEZENET_MEAN, 0, atol=1e-7)
    np.testing.assert_allclose(high * SQUEEZENET_STD + SQUEEZENET_MEAN, 1, atol=1e-6)


def test_save_image_writes_a_png_that_reads_back(tmp_path):
    import imageio.v3 as iio

    img = np.random.default_rng(0).integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
    path = image_utils.save_image(img, tmp_path / "new" / "folder" / "x.png")
    np.testing.assert_array_equal(iio.imread(path), img)
    with pytest.raises(ValueError, match=r"save_image: expected a uint8 RGB image \(H, W, 3\), got float32"):
        image_utils.save_image(img.astype(np.float32), tmp_path / "y.png")
