"""LinearClassifier SGD: fitting, the course's sampling, seeds, replacement-free batches, errors."""
import numpy as np
import pytest

from cs231n import data_utils
from cs231n.classifiers import LinearClassifier, LinearSVM, Softmax
from cs231n.classifiers._checks import minibatch_indices
from cs231n.classifiers.linear_classifier import mirror_averaged_predict
from cs231n.classifiers.linear_svm import svm_loss_vectorized

pytestmark = pytest.mark.a1


def _clusters(num_per_class=30, dim=5, num_classes=3, seed=0):
    """Well separated Gaussian blobs: a linear classifier must reach 100% on them."""
    rng = np.random.RandomState(seed)
    centers = 6 * rng.randn(num_classes, dim)
    X = np.vstack([c + rng.randn(num_per_class, dim) for c in centers])
    return X, np.repeat(np.arange(num_classes), num_per_class)


@pytest.mark.parametrize("cls", [LinearSVM, Softmax])
@pytest.mark.parametrize("replace", [True, False])
def test_fits_separable_data(cls, replace):
    X, y = _clusters()
    clf = cls()
    history = clf.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=200, batch_size=30,
                        replace=replace, seed=0)
    assert len(history) == 200
    assert np.mean(history[-10:]) < 0.5 * history[0]
    assert np.mean(clf.predict(X) == y) == 1.0


def test_default_sampling_is_the_courses():
    # seed=None: W from np.random.randn, batches from np.random.choice with replacement.
    X, y = _clusters(num_per_class=10)
    lr, reg = 1e-2, 1e-3
    np.random.seed(7)
    W = 0.001 * np.random.randn(5, 3)
    for _ in range(3):
        idx = np.random.choice(30, 8)
        W = W - lr * svm_loss_vectorized(W, X[idx], y[idx], reg)[1]
    np.random.seed(7)
    clf = LinearSVM()
    clf.train(X, y, learning_rate=lr, reg=reg, num_iters=3, batch_size=8)
    np.testing.assert_allclose(clf.W, W, rtol=0, atol=1e-15)


def test_learning_rate_decay_applies_once_per_epoch():
    # 30 examples, batches of 8: an epoch is 3 iterations, so steps 4..6 use lr * 0.5.
    X, y = _clusters(num_per_class=10)
    lr, reg, decay = 1e-2, 1e-3, 0.5
    np.random.seed(3)
    W = 0.001 * np.random.randn(5, 3)
    for it in range(7):
        idx = np.random.choice(30, 8)
        W = W - lr * decay ** (it // 3) * svm_loss_vectorized(W, X[idx], y[idx], reg)[1]
    np.random.seed(3)
    clf = LinearSVM()
    clf.train(X, y, learning_rate=lr, reg=reg, num_iters=7, batch_size=8, learning_rate_decay=decay)
    np.testing.assert_allclose(clf.W, W, rtol=0, atol=1e-15)


def test_default_decay_keeps_the_learning_rate():
    X, y = _clusters()
    a, b = LinearSVM(), LinearSVM()
    a.train(X, y, num_iters=12, batch_size=10, seed=0)
    b.train(X, y, num_iters=12, batch_size=10, seed=0, learning_rate_decay=1.0)
    np.testing.assert_array_equal(a.W, b.W)
    c = LinearSVM()
    c.train(X, y, num_iters=12, batch_size=10, seed=0, learning_rate_decay=0.5)
    assert not np.allclose(a.W, c.W)


def test_seed_makes_training_reproducible():
    X, y = _clusters()
    runs = [Softmax().train(X, y, num_iters=20, batch_size=10, seed=s) for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_replacement_free_batches_cover_each_epoch():
    batches = minibatch_indices(10, 3, np.random.RandomState(0), replace=False)
    for _ in range(2):  # 3 batches of 3 per epoch; the leftover example is dropped
        epoch = np.concatenate([next(batches) for _ in range(3)])
        assert len(set(epoch.tolist())) == 9
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_indices(10, 11, np.random, replace=False)


def test_predict_is_argmax_of_scores():
    rng = np.random.RandomState(0)
    clf = LinearSVM()
    clf.W = rng.randn(4, 6)
    X = rng.randn(10, 4)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(X @ clf.W, axis=1))


def test_bad_input_raises_clear_value_errors():
    X, y = _clusters(num_per_class=4)
    clf = Softmax()
    with pytest.raises(ValueError, match="call train"):
        clf.predict(X)
    clf.train(X, y, num_iters=1, seed=0)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :4])
    with pytest.raises(ValueError, match="features"):
        clf.train(X[:, :4], y, num_iters=1)
    with pytest.raises(ValueError, match="only 3 classes"):
        clf.train(X, y + 1, num_iters=1)
    with pytest.raises(ValueError, match="negative"):
        Softmax().train(X, y - 1, num_iters=1)
    with pytest.raises(ValueError, match="batch_size"):
        Softmax().train(X, y, num_iters=1, batch_size=0)
    for bad_decay in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="learning_rate_decay"):
            Softmax().train(X, y, num_iters=1, learning_rate_decay=bad_decay)
    with pytest.raises(NotImplementedError):
        LinearClassifier().train(X, y, num_iters=1)


# ---------------------------------------------------------------- mirror-averaged prediction
# (moved here from cs231n.data_utils with its test: it is a prediction, not data loading)


def test_mirror_averaged_predict_sums_the_scores_of_both_views():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 32, 32, 3)).astype(float)
    out, mean = data_utils.preprocess_linear({"X_train": images})
    X = out["X_train"]
    model = LinearSVM()
    model.W = rng.standard_normal((X.shape[1], 4))
    expected = np.argmax(X @ model.W + data_utils.mirror_rows(X, mean) @ model.W, axis=1)
    np.testing.assert_array_equal(mirror_averaged_predict(model, X, mean), expected)
    # a mirror image gets the same label as its original
    mirrored = data_utils.mirror_rows(X, mean)
    np.testing.assert_array_equal(mirror_averaged_predict(model, mirrored, mean), expected)
    # and the prediction is not plain predict (the mirror's scores count)
    assert not np.array_equal(model.predict(X), model.predict(mirrored))


def test_mirror_averaged_predict_errors():
    X, mean = np.zeros((2, 3073)), np.zeros(3072)
    with pytest.raises(ValueError, match="call train"):
        mirror_averaged_predict(LinearSVM(), X, mean)
    model = LinearSVM()
    model.W = np.zeros((3073, 10))
    with pytest.raises(ValueError, match="features"):
        mirror_averaged_predict(model, np.zeros((2, 3072)), mean)
    with pytest.raises(ValueError, match="mirror_rows"):
        mirror_averaged_predict(model, X, np.zeros(100))
