"""kNN: the three distance implementations, the vote (tie rule), and bad input."""
import numpy as np
import pytest
import torch

from cs231n.classifiers import KNearestNeighbor

pytestmark = pytest.mark.a1


def _fitted(num_train=11, dim=5, num_classes=4, seed=0):
    rng = np.random.RandomState(seed)
    knn = KNearestNeighbor()
    knn.train(rng.randn(num_train, dim), rng.randint(num_classes, size=num_train))
    return knn, rng


def test_three_distances_agree_with_each_other_and_torch_cdist():
    knn, rng = _fitted(num_train=13, dim=7)
    X = rng.randn(9, 7)
    d2 = knn.compute_distances_two_loops(X)
    d1 = knn.compute_distances_one_loop(X)
    d0 = knn.compute_distances_no_loops(X)
    ref = torch.cdist(torch.from_numpy(X), torch.from_numpy(knn.X_train)).numpy()
    assert d0.shape == (9, 13)
    np.testing.assert_allclose(d2, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d0, d2, rtol=1e-10, atol=1e-10)


def test_uint8_pixels_do_not_wrap_around():
    rng = np.random.RandomState(1)
    train = rng.randint(0, 256, size=(6, 12)).astype(np.uint8)
    test = rng.randint(0, 256, size=(4, 12)).astype(np.uint8)
    knn = KNearestNeighbor()
    knn.train(train, np.arange(6))
    ref = torch.cdist(torch.from_numpy(test.astype(np.float64)),
                      torch.from_numpy(train.astype(np.float64))).numpy()
    for dists in (knn.compute_distances_two_loops(test), knn.compute_distances_one_loop(test),
                  knn.compute_distances_no_loops(test)):
        np.testing.assert_allclose(dists, ref, rtol=1e-10, atol=1e-8)


def test_no_loops_is_clipped_at_zero_for_identical_points():
    # Large, equal rows: ||x||^2 + ||t||^2 - 2 x.t cancels to about +-1e-6, whose
    # negative half would give NaN under the sqrt without the clip.
    rng = np.random.RandomState(2)
    X = 1e4 + rng.rand(20, 50) * 255
    knn = KNearestNeighbor()
    knn.train(X, np.arange(20))
    dists = knn.compute_distances_no_loops(X)
    assert np.all(np.isfinite(dists))
    assert np.all(np.diag(dists) < 1e-2)
    assert np.array_equal(knn.predict(X, k=1), np.arange(20))


def _reference_vote(dists, y_train, k):
    """Per-row loop: most common label among the k nearest, smaller label on ties."""
    out = []
    for row in dists:
        labels = y_train[np.argsort(row, kind="stable")[:k]]
        counts = {lab: np.sum(labels == lab) for lab in set(labels.tolist())}
        best = max(counts.values())
        out.append(min(lab for lab, c in counts.items() if c == best))
    return np.array(out)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_predict_labels_matches_a_loop_reference(k):
    knn, rng = _fitted(num_train=17, num_classes=5, seed=k)
    dists = rng.rand(12, 17)
    np.testing.assert_array_equal(knn.predict_labels(dists, k=k),
                                  _reference_vote(dists, knn.y_train, k))


def test_predict_labels_breaks_vote_ties_towards_the_smaller_label():
    knn = KNearestNeighbor()
    knn.train(np.zeros((4, 2)), np.array([3, 1, 1, 3]))
    dists = np.array([[0.1, 0.2, 0.3, 0.4],    # k=2: labels 3, 1 -> tie -> 1
                      [0.4, 0.3, 0.2, 0.1]])   # k=2: labels 3, 1 -> tie -> 1
    assert knn.predict_labels(dists, k=2).tolist() == [1, 1]
    assert knn.predict_labels(dists, k=4).tolist() == [1, 1]   # 2 votes each
    assert knn.predict_labels(dists, k=1).tolist() == [3, 3]
    # Equidistant neighbours: the training point that comes first wins.
    assert knn.predict_labels(np.array([[0.5, 0.5, 0.5, 0.5]]), k=1).tolist() == [3]


@pytest.mark.parametrize("num_loops", [0, 1, 2])
def test_predict_separates_two_clusters(num_loops):
    rng = np.random.RandomState(3)
    X = np.vstack([rng.randn(10, 3) - 5, rng.randn(10, 3) + 5])
    y = np.repeat([0, 1], 10)
    knn = KNearestNeighbor()
    knn.train(X, y)
    X_test = np.vstack([rng.randn(5, 3) - 5, rng.randn(5, 3) + 5])
    assert knn.predict(X_test, k=3, num_loops=num_loops).tolist() == [0] * 5 + [1] * 5
    assert np.array_equal(knn.predict(X, k=1, num_loops=num_loops), y)


def test_bad_input_raises_clear_value_errors():
    knn = KNearestNeighbor()
    with pytest.raises(ValueError, match="call train"):
        knn.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels"):
        knn.train(np.zeros((3, 2)), np.zeros(4, dtype=int))
    knn.train(np.zeros((3, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="number of training points"):
        knn.predict(np.zeros((2, 2)), k=4)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        knn.predict(np.zeros((2, 2)), k=0)
    with pytest.raises(ValueError, match="features"):
        knn.compute_distances_no_loops(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="features"):
        knn.compute_distances_two_loops(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="num_loops"):
        knn.predict(np.zeros((2, 2)), num_loops=3)
    with pytest.raises(ValueError, match="dists must have shape"):
        knn.predict_labels(np.zeros((2, 5)))
