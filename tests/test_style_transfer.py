"""Style transfer, PyTorch and TensorFlow: the losses against independent float64 formulas and
against each other on the same arrays, the course's tv_out reproduced from its image and resize,
a short transfer in both frameworks, the course's settings, and clear errors for bad input.

The course's content, Gram and style check values (style-transfer-checks*.npz) were computed with
torchvision's SqueezeNet weights; ours are DeepScale's converted, so only tv_out, which depends on
the image alone, is compared with the course."""
import os

import numpy as np
import pytest

from cs231n import image_utils
from cs231n import style_transfer as common
from tests.conftest import assert_framework_isolation

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
STP = pytest.importorskip("cs231n.style_transfer_pytorch")
STT = pytest.importorskip("cs231n.style_transfer_tensorflow")
from cs231n.classifiers import squeezenet_pytorch as SP  # noqa: E402
from cs231n.classifiers import squeezenet_tensorflow as ST  # noqa: E402

pytestmark = pytest.mark.a3

REL = 1e-5               # the bound for PyTorch vs TensorFlow on the same arrays


# --------------------------------------------------------------------------- float64 references

def ref_content(w, current, original):
    return w * np.sum((current.astype(np.float64) - original) ** 2)


def ref_gram(F, normalize=True):
    """F (H, W, C) -> (C, C), by an explicit sum over positions (no reshape trick)."""
    F = F.astype(np.float64)
    H, W, C = F.shape
    G = np.zeros((C, C))
    for i in range(H):
        for j in range(W):
            G += np.outer(F[i, j], F[i, j])
    return G / (H * W * C) if normalize else G


def ref_tv(w, img):
    """img (H, W, C): every pair of vertical and of horizontal neighbours, one by one."""
    img = img.astype(np.float64)
    H, W, _ = img.shape
    total = sum(np.sum((img[i + 1, j] - img[i, j]) ** 2) for i in range(H - 1) for j in range(W))
    total += sum(np.sum((img[i, j + 1] - img[i, j]) ** 2) for i in range(H) for j in range(W - 1))
    return w * total


def rel(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-300)


def to_torch(x):
    """(1, H, W, C) array -> (1, C, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- the losses

def test_content_loss_matches_float64_in_both_frameworks(rng):
    a, b = rng.normal(size=(2, 1, 7, 6, 5)).astype(np.float32)
    expected = ref_content(0.3, a, b)
    assert rel(STP.content_loss(0.3, to_torch(a), to_torch(b)), expected) < REL
    assert rel(STT.content_loss(0.3, a, b), expected) < REL


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_matrix_matches_float64_in_both_frameworks(rng, normalize):
    F = rng.normal(size=(2, 5, 7, 4)).astype(np.float32)                   # two images
    expected = np.stack([ref_gram(f, normalize) for f in F])
    got = STP.gram_matrix(to_torch(F), normalize=normalize)
    assert tuple(got.shape) == (2, 4, 4)
    np.testing.assert_allclose(got.numpy(), expected, rtol=REL, atol=1e-6 * np.abs(expected).max())
    got_tf = STT.gram_matrix(F[:1], normalize=normalize)                    # (C, C), as the course
    assert tuple(got_tf.shape) == (4, 4)
    np.testing.assert_allclose(got_tf.numpy(), expected[0], rtol=REL, atol=1e-6 * np.abs(expected).max())


def test_style_loss_matches_float64_in_both_frameworks(rng):
    shapes = [(1, 9, 8, 3), (1, 5, 4, 6), (1, 3, 3, 8)]
    feats = [rng.normal(size=s).astype(np.float32) for s in shapes]
    style = [rng.normal(size=s).astype(np.float32) for s in shapes]
    layers, weights = [0, 2], [300.0, 2.5]
    expected = sum(w * np.sum((ref_gram(feats[i][0]) - ref_gram(style[i][0])) ** 2)
                   for i, w in zip(layers, weights, strict=True))
    targets_torch = [STP.gram_matrix(to_torch(style[i])) for i in layers]
    got = STP.style_loss([to_torch(f) for f in feats], layers, targets_torch, weights)
    assert rel(got, expected) < REL
    targets_tf = [STT.gram_matrix(style[i]) for i in layers]
    assert rel(STT.style_loss(feats, layers, targets_tf, weights), expected) < REL


def test_tv_loss_matches_float64_in_both_frameworks(rng):
    img = rng.normal(size=(1, 6, 9, 3)).astype(np.float32)
    expected = ref_tv(0.02, img[0])
    assert rel(STP.tv_loss(to_torch(img), 0.02), expected) < REL
    assert rel(STT.tv_loss(img, 0.02), expected) < REL


def test_the_losses_are_differentiable_and_zero_at_their_targets(rng):
    a = to_torch(rng.normal(size=(1, 5, 5, 3)).astype(np.float32)).requires_grad_()
    assert float(STP.content_loss(1.0, a, a.detach()).detach()) == 0.0
    STP.tv_loss(a, 1.0).backward()                            # a gradient reaches the pixels
    assert a.grad is not None and float(a.grad.abs().sum()) > 0
    G = STP.gram_matrix(a.detach())
    assert float(STP.style_loss([a.detach()], [0], [G], [5.0])) == 0.0


def test_the_courses_tv_out_is_reproduced_from_its_image_and_resize():
    """tv_out needs only tubingen.jpg at 192 px, bilinear (torchvision's Resize / scipy's imresize)."""
    course = common.COURSE_TV_OUT
    img = common.load_style_image("styles/tubingen.jpg", 192)
    assert img.shape == (192, 256, 3)
    x = image_utils.preprocess_image(img)[None]
    assert rel(STP.tv_loss(to_torch(x), 2e-2), course) < REL
    assert rel(STT.tv_loss(x, 2e-2), course) < REL
    # load_image's scikit-image resize (anti-aliased) is smoother: a clearly lower value
    smooth = image_utils.preprocess_image(image_utils.load_image("tubingen.jpg", size=192))[None]
    assert float(STT.tv_loss(smooth, 2e-2)) > 1.05 * course


@pytest.mark.skipif(common.load_course_checks("pytorch") is None,
                    reason="the course's check files are in the full data's checks/ folder")
@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_the_quoted_course_values_are_the_check_files(framework):
    checks = common.load_course_checks(framework)
    assert set(checks) == {"cl_out", "gm_out", "sl_out", "tv_out"}
    for key, value in common.COURSE_CHECKS[framework].items():
        assert float(checks[key]) == np.float32(value), key


# --------------------------------------------------------------------------- with SqueezeNet

@pytest.fixture(scope="module")
def squeezenets():
    return SP.load_pretrained_squeezenet(), ST.load_pretrained_squeezenet()


def test_the_courses_checks_agree_across_frameworks(squeezenets):
    """The course's content, Gram and style checks, computed by both frameworks from the same
    images (features from each framework's own network: they agree within float32 rounding)."""
    torch_model, tf_model = squeezenets
    with torch.no_grad():
        ct, img = STP.features_from_img("styles/tubingen.jpg", 64, torch_model)
        st, _ = STP.features_from_img("styles/starry_night.jpg", 64, torch_model)
        zt = SP.extract_features(torch.zeros_like(img), torch_model)   # the course's "bad image"
    ck, img = STT.features_from_img("styles/tubingen.jpg", 64, tf_model)
    sk, _ = STT.features_from_img("styles/starry_night.jpg", 64, tf_model)
    zk = ST.extract_features(np.zeros_like(img), tf_model)
    np.testing.assert_allclose(STP.gram_matrix(st[5])[0].numpy(), STT.gram_matrix(sk[5]).numpy(),
                               rtol=1e-4, atol=1e-6)
    layers, weights = [1, 4, 6, 7], [300000, 1000, 15, 3]
    loss_torch = STP.style_loss(ct, layers, [STP.gram_matrix(st[i]) for i in layers], weights)
    loss_tf = STT.style_loss(ck, layers, [STT.gram_matrix(sk[i]) for i in layers], weights)
    assert rel(loss_tf, loss_torch) < 1e-4
    assert rel(STT.content_loss(6e-2, ck[3], zk[3]), STP.content_loss(6e-2, ct[3], zt[3])) < 1e-4


def test_a_short_transfer_in_both_frameworks(squeezenets):
    torch_model, tf_model = squeezenets
    params = dict(common.COURSE_PARAMS["starry_night"], image_size=48, style_size=48)
    a = STP.style_transfer(**params, cnn=torch_model, num_steps=3, snapshot_every=2)
    b = STT.style_transfer(**params, cnn=tf_model, num_steps=3, snapshot_every=2)
    for r in (a, b):
        assert r.image.shape == (48, 64, 3) and r.image.dtype == np.uint8
        assert sorted(r.snapshots) == [0, 2] and r.seconds > 0
        assert all(len(v) == 3 for v in r.losses.values())
        total = np.array(r.losses["content"]) + r.losses["style"] + r.losses["tv"]
        np.testing.assert_allclose(r.losses["total"], total, rtol=1e-5)
    # the same start and the same loss before the first step (then Adam at lr 3 amplifies
    # float32 rounding, so later steps are compared only loosely)
    assert rel(b.losses["total"][0], a.losses["total"][0]) < 1e-4
    assert rel(b.losses["total"][1], a.losses["total"][1]) < 1e-2


def test_random_start_is_the_same_in_both_frameworks(squeezenets):
    torch_model, tf_model = squeezenets
    params = dict(common.COURSE_PARAMS["feature_inversion"], image_size=40, style_size=40)
    a = STP.style_transfer(**params, cnn=torch_model, num_steps=1)
    b = STT.style_transfer(**params, cnn=tf_model, num_steps=1)
    np.testing.assert_array_equal(a.snapshots[0], b.snapshots[0])
    assert rel(b.losses["content"][0], a.losses["content"][0]) < 1e-4
    assert a.losses["style"][0] == 0.0                       # style weights 0: no style at all


def test_the_courses_settings_and_schedule():
    assert common.schedule() == (200, 180, 190)
    assert common.schedule(60) == (60, 54, 57)
    p = common.COURSE_PARAMS
    assert p["composition_vii"]["style_weights"] == (20000, 500, 12, 1)
    assert p["the_scream"]["style_size"] == 224 and p["starry_night"]["tv_weight"] == 2e-2
    assert all(v["content_layer"] == 3 and tuple(v["style_layers"]) == (1, 4, 6, 7) for v in p.values())
    assert p["texture_synthesis"]["content_weight"] == 0 and p["texture_synthesis"]["init_random"]
    assert common.loss_drop({"total": [50.0, 5.0, 2.0]}) == 25.0


def test_images_load_by_course_name_path_or_array():
    a = common.load_style_image("styles/tubingen.jpg", 64)
    b = common.load_style_image("tubingen.jpg", 64)
    c = common.load_style_image(image_utils.find_image("tubingen.jpg"), 64)
    assert a.shape == (64, 85, 3) and np.array_equal(a, b) and np.array_equal(a, c)
    assert np.array_equal(common.load_style_image(a, 64), a)          # already that size


# --------------------------------------------------------------------------- bad input

def test_bad_input_gives_clear_errors(squeezenets, rng):
    torch_model, tf_model = squeezenets
    kwargs = dict(common.COURSE_PARAMS["starry_night"], image_size=48, style_size=48)
    for transfer, cnn in ((STP.style_transfer, torch_model), (STT.style_transfer, tf_model)):
        with pytest.raises(ValueError, match=r"style layer index=13 is larger than the last of the 13 feature layers \(12\)"):
            transfer(**{**kwargs, "style_layers": (1, 4, 6, 13)}, cnn=cnn, num_steps=1)
        with pytest.raises(ValueError, match=r"4 style_layers \[1, 4, 6, 7\] but 3 style_weights; give one per layer"):
            transfer(**{**kwargs, "style_weights": (1, 2, 3)}, cnn=cnn, num_steps=1)
        with pytest.raises(ValueError, match="content_layer=20 is larger than the last SqueezeNet feature layer"):
            transfer(**{**kwargs, "content_layer": 20}, cnn=cnn, num_steps=1)
        with pytest.raises(ValueError, match="image size must be an integer >= 32, got 16"):
            transfer(**{**kwargs, "image_size": 16}, cnn=cnn, num_steps=1)
        with pytest.raises(ValueError, match=r"expected an image file or a uint8 RGB image \(H, W, 3\), got float64"):
            transfer(**{**kwargs, "content_image": np.zeros((64, 64, 3))}, cnn=cnn, num_steps=1)
    f = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"content_loss: shapes differ, \(1, 4, 4, 3\) and \(1, 4, 3, 3\)"):
        STT.content_loss(1.0, f, f[:, :, :3])
    with pytest.raises(ValueError, match=r"gram_matrix: expected features \(N, C, H, W\)"):
        STP.gram_matrix(to_torch(f)[0])
    with pytest.raises(ValueError, match=r"gram_matrix: expected the features of one image \(1, H, W, C\)"):
        STT.gram_matrix(np.concatenate([f, f]))
    with pytest.raises(ValueError, match="2 style_layers .* but 1 style_targets"):
        STT.style_loss([f, f], [0, 1], [STT.gram_matrix(f)], [1.0, 1.0])
    with pytest.raises(ValueError, match="style layer index must be an integer >= 0, got -1"):
        STP.style_loss([to_torch(f)], [-1], [None], [1.0])
    with pytest.raises(ValueError, match=r"tv_loss: expected a float image \(normalized pixels\), got torch.uint8"):
        STP.tv_loss(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), 1.0)
    with pytest.raises(ValueError, match=r"tv_loss: expected one RGB image \(1, H, W, 3\), got shape \(1, 3, 8, 8\)"):
        STT.tv_loss(np.zeros((1, 3, 8, 8), np.float32), 1.0)


# --------------------------------------------------------------------------- framework isolation

def test_the_tensorflow_module_does_not_import_torch_nor_the_reverse():
    assert_framework_isolation((("style_transfer_tensorflow", ("torch",)),
                                ("style_transfer_pytorch", ("tensorflow", "keras"))))
