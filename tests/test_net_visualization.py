"""Network visualization, PyTorch and TensorFlow: saliency maps, fooling images and class
visualization steps checked exactly on a linear toy model (whose gradients are its weights),
then on the pretrained SqueezeNet; the two frameworks against each other; the course's helpers;
clear errors for bad input."""
import os

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from cs231n import data_utils, image_utils
from cs231n import net_visualization as common
from tests.conftest import assert_framework_isolation

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
NVP = pytest.importorskip("cs231n.net_visualization_pytorch")
NVT = pytest.importorskip("cs231n.net_visualization_tensorflow")
from cs231n.classifiers import squeezenet_pytorch as SP  # noqa: E402
from cs231n.classifiers import squeezenet_tensorflow as ST  # noqa: E402

pytestmark = pytest.mark.a3

K, S = 5, 32   # toy model: 5 classes on 32 x 32 images (the smallest size the checks allow)


# --------------------------------------------------------------------------- a linear toy model
# scores = flatten(X) @ W: the gradient of score k with respect to the image is column k of W,
# reshaped to the image, so every result below is known exactly.

@pytest.fixture(scope="module")
def toy():
    """(W in TensorFlow's (H, W, C) flattening order (S*S*3, K), PyTorch model, Keras model)."""
    W = np.random.default_rng(1).normal(size=(S * S * 3, K)).astype(np.float32)
    torch_model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(S * S * 3, K, bias=False))
    # PyTorch flattens (C, H, W); reorder the rows of W so both models compute the same scores
    w_chw = W.reshape(S, S, 3, K).transpose(2, 0, 1, 3).reshape(-1, K)
    torch_model[1].weight.data = torch.from_numpy(np.ascontiguousarray(w_chw.T))
    tf_model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(K, use_bias=False)])
    tf_model.build((None, S, S, 3))
    tf_model.layers[1].set_weights([W])
    return W, torch_model, tf_model


def column(W, k):
    """Column k of W as an image (S, S, 3): the gradient of score k."""
    return W[:, k].reshape(S, S, 3)


def images(n, seed=0):
    """n random normalized images, (n, S, S, 3) float32 (TensorFlow's layout)."""
    return np.random.default_rng(seed).normal(size=(n, S, S, 3)).astype(np.float32)


def nchw(X):
    return torch.from_numpy(np.ascontiguousarray(np.asarray(X).transpose(0, 3, 1, 2)))


def test_saliency_of_a_linear_model_is_its_absolute_weights(toy):
    W, torch_model, tf_model = toy
    X, y = images(3), np.array([0, 4, 2])
    expected = np.stack([np.abs(column(W, k)).max(axis=2) for k in y])   # max over channels
    got_torch = NVP.compute_saliency_maps(nchw(X), torch.tensor(y), torch_model)
    assert tuple(got_torch.shape) == (3, S, S)
    np.testing.assert_allclose(got_torch.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(NVT.compute_saliency_maps(X, y, tf_model), expected, rtol=1e-6)


def test_saliency_leaves_the_input_alone(toy):
    _, torch_model, _ = toy
    X = nchw(images(2))
    NVP.compute_saliency_maps(X, np.array([1, 2]), torch_model)
    assert not X.requires_grad and X.grad is None


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_one_fooling_step_raises_the_target_score_by_lr_times_the_gradient_norm(toy, framework):
    W, torch_model, tf_model = toy
    X, target, lr = images(1, seed=3), 1, 0.5
    history = []
    if framework == "pytorch":
        X_fool = NVP.make_fooling_image(nchw(X), target, torch_model, learning_rate=lr,
                                        max_iters=1, history=history).numpy().transpose(0, 2, 3, 1)
    else:
        X_fool = NVT.make_fooling_image(X, target, tf_model, learning_rate=lr, max_iters=1,
                                        history=history)
    w = column(W, target)
    # one normalized step along the gradient w: the image moves by lr * w / |w| ...
    np.testing.assert_allclose(X_fool - X, lr * w[None] / np.linalg.norm(w), atol=1e-6)
    # ... and the target score, w . x, rises by exactly lr * |w|
    assert len(history) == 2
    np.testing.assert_allclose(history[1] - history[0], lr * np.linalg.norm(w), rtol=1e-4)


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_fooling_stops_as_soon_as_the_model_is_fooled(toy, framework):
    _, torch_model, tf_model = toy
    X = images(1, seed=4)
    target = int(np.argmax(tf_model(X)))    # already predicted: no step at all
    history = []
    if framework == "pytorch":
        X_fool = NVP.make_fooling_image(nchw(X), target, torch_model, history=history).numpy()
        np.testing.assert_array_equal(X_fool, nchw(X).numpy())
    else:
        np.testing.assert_array_equal(NVT.make_fooling_image(X, target, tf_model, history=history), X)
    assert len(history) == 1
    other = (target + 1) % K                # another class: fooled within the 100 steps
    history = []
    X_fool = NVT.make_fooling_image(X, other, tf_model, history=history)
    assert int(np.argmax(tf_model(X_fool))) == other and 2 <= len(history) <= 101


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_class_visualization_step_ascends_score_minus_l2(toy, framework):
    W, torch_model, tf_model = toy
    X, target, l2_reg, lr = images(1, seed=5), 3, 0.1, 2.0
    g = column(W, target)[None] - 2 * l2_reg * X          # gradient of w.x - l2_reg * |x|^2
    expected = X + lr * g / np.linalg.norm(g)
    if framework == "pytorch":
        img = nchw(X).requires_grad_()
        out = NVP.class_visualization_update_step(img, torch_model, target, l2_reg, lr)
        assert out is img and float(img.grad.abs().max()) == 0.0     # in place, grad cleared
        got = img.detach().numpy().transpose(0, 2, 3, 1)
    else:
        got = NVT.class_visualization_update_step(X, tf_model, target, l2_reg, lr).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_class_visualization_driver_is_the_same_in_both_frameworks(toy):
    """Same start, jitter, step, clamp and blur: the two drivers agree on the toy model."""
    _, torch_model, tf_model = toy
    kwargs = dict(num_iterations=3, blur_every=2, max_jitter=4, size=S, seed=7)
    a = NVP.create_class_visualization(2, torch_model, **kwargs).numpy().transpose(0, 2, 3, 1)
    b = NVT.create_class_visualization(2, tf_model, **kwargs)
    assert a.shape == b.shape == (1, S, S, 3)
    np.testing.assert_allclose(a, b, atol=1e-4)
    low, high = image_utils.squeezenet_pixel_bounds()
    assert (b >= low - 1e-6).all() and (b <= high + 1e-6).all()    # real pixels only


# --------------------------------------------------------------------------- the course's helpers

def test_jitter_is_the_courses_shift_and_undoes_itself():
    X = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).view(2, 3, 5, 7)
    ox, oy = 2, 3
    course = torch.cat([X[:, :, :, -ox:], X[:, :, :, :-ox]], dim=3)       # the course's code
    course = torch.cat([course[:, :, -oy:], course[:, :, :-oy]], dim=2)
    assert torch.equal(NVP.jitter(X, ox, oy), course)
    assert torch.equal(NVP.jitter(NVP.jitter(X, ox, oy), -ox, -oy), X)
    np.testing.assert_array_equal(NVT.jitter(X.numpy().transpose(0, 2, 3, 1), ox, oy).numpy(),
                                  course.numpy().transpose(0, 2, 3, 1))


def test_blur_is_a_gaussian_over_height_and_width_in_both_layouts():
    X = np.random.default_rng(0).normal(size=(2, 3, 8, 9)).astype(np.float32)
    expected = gaussian_filter1d(gaussian_filter1d(X, 0.5, axis=2), 0.5, axis=3)
    t = torch.from_numpy(X.copy())
    assert NVP.blur_image(t, sigma=0.5) is t                              # in place, as the course
    np.testing.assert_allclose(t.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(NVT.blur_image(X.transpose(0, 2, 3, 1), sigma=0.5),
                               expected.transpose(0, 2, 3, 1), atol=1e-6)


def test_preprocess_and_deprocess_round_trip():
    img = np.random.default_rng(0).integers(0, 256, size=(40, 50, 3), dtype=np.uint8)
    x = NVP.preprocess(img, size=40)                       # already 40 on its shorter side
    assert tuple(x.shape) == (1, 3, 40, 50) and x.dtype == torch.float32
    np.testing.assert_array_equal(NVP.deprocess(x, should_rescale=False), img)
    assert tuple(NVP.preprocess(img, size=32).shape) == (1, 3, 32, 40)
    stretched = NVP.deprocess(x * 0.1)                     # rescaled to the full range
    assert stretched.min() == 0 and stretched.max() == 255
    r = NVP.rescale(torch.tensor([2.0, 4.0, 3.0]))
    assert torch.equal(r, torch.tensor([0.0, 1.0, 0.5]))


def test_pixel_change_is_in_grey_levels():
    X = np.zeros((1, 4, 4, 3), np.float32)
    moved = X + (2 / 255) / image_utils.SQUEEZENET_STD    # two grey levels in every channel
    assert common.pixel_change(moved, X, channel_axis=3) == pytest.approx(2 / 255)
    assert common.pixel_change(moved.transpose(0, 3, 1, 2), X.transpose(0, 3, 1, 2),
                               channel_axis=1) == pytest.approx(2 / 255)


# --------------------------------------------------------------------------- the pretrained SqueezeNet

@pytest.fixture(scope="module")
def squeezenets():
    return SP.load_pretrained_squeezenet(), ST.load_pretrained_squeezenet()


@pytest.fixture(scope="module")
def imagenet():
    X, y, _ = data_utils.load_imagenet_val(num=3)
    return image_utils.preprocess_image(X), y


def test_saliency_agrees_across_frameworks(squeezenets, imagenet):
    torch_model, tf_model = squeezenets
    X, y = imagenet
    a = NVP.compute_saliency_maps(nchw(X), y, torch_model).numpy()
    b = NVT.compute_saliency_maps(X, y, tf_model)
    assert a.shape == b.shape == (3, 224, 224)
    # float32 gradients through 26 ReLUs and 3 max pools: a few pixels differ where a ReLU input
    # or a pooling window is within rounding of a tie; the maps as a whole agree closely
    assert np.linalg.norm(a - b) <= 1e-3 * np.linalg.norm(a)


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_one_fooling_step_raises_the_target_score_of_squeezenet(squeezenets, imagenet, framework):
    torch_model, tf_model = squeezenets
    X, target, history = imagenet[0][:1], 6, []      # 6: stingray, the course's target
    if framework == "pytorch":
        NVP.make_fooling_image(nchw(X), target, torch_model, max_iters=1, history=history)
    else:
        NVT.make_fooling_image(X, target, tf_model, max_iters=1, history=history)
    assert len(history) == 2 and history[1] > history[0]


# --------------------------------------------------------------------------- bad input

def test_bad_input_gives_clear_errors(toy):
    _, torch_model, tf_model = toy
    X = images(2)
    with pytest.raises(ValueError, match=r"expected float images normalized .* got torch.uint8"):
        NVP.compute_saliency_maps(nchw(X).to(torch.uint8), [0, 1], torch_model)
    with pytest.raises(ValueError, match=r"expected a batch of RGB images \(N, 3, H, W\), got shape \(2, 32, 32, 3\)"):
        NVP.compute_saliency_maps(torch.from_numpy(X), [0, 1], torch_model)
    with pytest.raises(ValueError, match=r"expected a batch of RGB images \(N, H, W, 3\)"):
        NVT.compute_saliency_maps(X[0], [0], tf_model)
    with pytest.raises(ValueError, match="too small for SqueezeNet"):
        NVT.compute_saliency_maps(X[:, :16, :16], [0, 1], tf_model)
    with pytest.raises(ValueError, match=r"expected 2 integer labels .* got int64 \(3,\)"):
        NVT.compute_saliency_maps(X, [0, 1, 2], tf_model)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1000\), got 0..1000"):
        NVP.compute_saliency_maps(nchw(X), [0, 1000], torch_model)
    with pytest.raises(ValueError, match="expected 1 image"):
        NVP.make_fooling_image(nchw(X), 1, torch_model)
    with pytest.raises(ValueError, match="target_y must be an integer >= 0"):
        NVT.make_fooling_image(X[:1], -1, tf_model)
    with pytest.raises(ValueError, match=r"target_y=1000 is larger than the last ImageNet class \(999\)"):
        NVT.class_visualization_update_step(X[:1], tf_model, 1000, 1e-3, 25)
    with pytest.raises(ValueError, match="leaf tensor with requires_grad=True"):
        NVP.class_visualization_update_step(nchw(X[:1]), torch_model, 1, 1e-3, 25)
    with pytest.raises(TypeError, match="expected a torch.Tensor, got ndarray"):
        NVP.compute_saliency_maps(X, [0, 1], torch_model)


# --------------------------------------------------------------------------- framework isolation

def test_the_tensorflow_module_does_not_import_torch_nor_the_reverse():
    assert_framework_isolation((("net_visualization_tensorflow", ("torch",)),
                                ("net_visualization_pytorch", ("tensorflow", "keras"))))
