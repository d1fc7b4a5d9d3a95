"""cs231n.data_augmentation: flips and translations are exact, random, seeded, and safe."""
import numpy as np
import pytest

from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.data_augmentation import flip_and_translate, random_flips, random_translations
from cs231n.solver import Solver

pytestmark = pytest.mark.a2


def images(N=6, C=3, H=5, W=7, seed=0):
    return np.random.RandomState(seed).randn(N, C, H, W)


def shifted(img, dy, dx):
    """Reference: img (C, H, W) moved by (dy, dx) with a zero border, by explicit loops."""
    _, H, W = img.shape
    out = np.zeros_like(img)
    for h in range(H):
        for w in range(W):
            if 0 <= h - dy < H and 0 <= w - dx < W:
                out[:, h, w] = img[:, h - dy, w - dx]
    return out


def test_flips_mirror_about_half_of_the_images():
    X = images(N=400)
    X0 = X.copy()
    out = random_flips(X, np.random.RandomState(1))
    assert out.shape == X.shape and out.dtype == X.dtype
    flipped = np.array([np.array_equal(o, x[:, :, ::-1]) for o, x in zip(out, X, strict=True)])
    kept = np.array([np.array_equal(o, x) for o, x in zip(out, X, strict=True)])
    assert np.all(flipped ^ kept)               # every image is exactly one of the two
    assert 0.4 < flipped.mean() < 0.6
    assert np.array_equal(X, X0)                # the input is not modified


def test_translations_match_a_loop_reference_and_cover_all_shifts():
    X = images(N=300, H=6, W=5)
    X0 = X.copy()
    s = 2
    out = random_translations(X, max_shift=s, rng=np.random.RandomState(2))
    assert out.shape == X.shape
    seen = set()
    for o, x in zip(out, X, strict=True):
        matches = [(dy, dx) for dy in range(-s, s + 1) for dx in range(-s, s + 1)
                   if np.array_equal(o, shifted(x, dy, dx))]
        assert len(matches) == 1, "each output is exactly one shift of its input"
        seen.add(matches[0])
    assert len(seen) == (2 * s + 1) ** 2        # every shift in the range occurs
    assert np.array_equal(X, X0)


def test_zero_shift_is_the_identity_and_one_pixel_shift_by_hand():
    X = images(N=3)
    assert np.array_equal(random_translations(X, max_shift=0), X)
    img = np.arange(9.0).reshape(1, 1, 3, 3)
    outs = {random_translations(img, 1, np.random.RandomState(k)).tobytes() for k in range(200)}
    down_right = np.array([[0, 0, 0], [0, 0, 1], [0, 3, 4]], dtype=float).reshape(1, 1, 3, 3)
    assert down_right.tobytes() in outs and len(outs) == 9


def test_seeded_and_global_rng_are_reproducible():
    X = images(N=20)
    a = flip_and_translate(2, rng=np.random.RandomState(5))(X)
    b = flip_and_translate(2, rng=np.random.RandomState(5))(X)
    assert np.array_equal(a, b)
    np.random.seed(3)
    c = flip_and_translate(2)(X)
    np.random.seed(3)
    d = flip_and_translate(2)(X)
    assert np.array_equal(c, d) and not np.array_equal(a, X)


def test_flip_and_translate_options():
    X = images(N=50)
    out = flip_and_translate(max_shift=0, flip=False)(X)
    assert np.array_equal(out, X) and out is not X
    only_flips = flip_and_translate(max_shift=0)(X)
    assert all(np.array_equal(o, x) or np.array_equal(o, x[:, :, ::-1]) for o, x in zip(only_flips, X, strict=True))
    # float32 in, float32 out: augmentation must not double the memory traffic of training
    assert flip_and_translate(2)(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("bad", [np.zeros((4, 3072)), np.zeros((3, 32, 32))])
def test_flat_or_single_images_are_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_flips(bad)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_translations(bad)


@pytest.mark.parametrize("shift", [-1, 1.5, 5])
def test_bad_shift_is_a_clear_error(shift):
    with pytest.raises(ValueError, match="max_shift"):
        random_translations(images(H=5, W=7), max_shift=shift)
    if shift != 5:
        with pytest.raises(ValueError, match="max_shift"):
            flip_and_translate(shift)


def test_works_as_the_solver_augment_fn():
    rng = np.random.RandomState(0)
    y = rng.randint(2, size=60)
    X = rng.randn(60, 1, 4, 4) + 2.0 * y[:, None, None, None]   # the class is the brightness
    model = FullyConnectedNet([10], input_dim=16, num_classes=2, weight_scale=0.1, dtype=np.float64)
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                    update_rule="adam", optim_config={"learning_rate": 1e-2}, batch_size=10,
                    num_epochs=15, augment_fn=flip_and_translate(1), verbose=False)
    solver.train()
    assert solver.best_val_acc > 0.9
