"""TwoLayerNet: the course's toy numbers, gradients (numeric and torch), training, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.classifiers._checks import minibatch_indices
from cs231n.classifiers.neural_net import TwoLayerNet
from cs231n.gradient_check import eval_numerical_gradient, rel_error

pytestmark = pytest.mark.a1

# From the 2018 two_layer_net notebook.
CORRECT_SCORES = np.asarray([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949]])
CORRECT_LOSS = 1.30378789133


def _toy():
    """The notebook's toy model and data."""
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    return net, X, np.array([0, 1, 2, 2, 1])


def test_toy_scores_and_loss_match_the_course():
    net, X, y = _toy()
    scores = net.loss(X)
    assert scores.shape == (5, 3)
    assert np.max(np.abs(scores - CORRECT_SCORES)) < 1e-7
    loss, _ = net.loss(X, y, reg=0.05)
    assert abs(loss - CORRECT_LOSS) < 1e-10


def test_toy_numeric_gradients():
    net, X, y = _toy()
    _, grads = net.loss(X, y, reg=0.05)
    for name in ("W1", "b1", "W2", "b2"):
        grad_num = eval_numerical_gradient(lambda _: net.loss(X, y, reg=0.05)[0],
                                           net.params[name], verbose=False)
        assert rel_error(grad_num, grads[name]) < 1e-8, name


@pytest.mark.parametrize("N, D, H, K, reg", [(7, 6, 9, 4, 0.3), (1, 3, 2, 5, 0.0)])
def test_matches_torch_autograd(N, D, H, K, reg):
    np.random.seed(N)
    net = TwoLayerNet(D, H, K, std=0.5)
    X, y = np.random.randn(N, D), np.random.randint(K, size=N)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    hidden = torch.relu(torch.from_numpy(X) @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    loss_t = F.cross_entropy(scores, torch.from_numpy(y)) \
        + reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    loss_t.backward()

    loss, grads = net.loss(X, y, reg=reg)
    assert rel_error(net.loss(X), scores.detach().numpy()) < 1e-12
    assert rel_error(loss, loss_t.item()) < 1e-12
    for name, param in p.items():
        assert rel_error(grads[name], param.grad.numpy()) < 1e-10, name


def test_toy_training_reaches_the_courses_loss():
    net, X, y = _toy()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100)
    assert stats["loss_history"][-1] < 0.02
    assert np.array_equal(net.predict(X), y)


def test_fits_separable_data_and_records_once_per_epoch():
    rng = np.random.RandomState(0)
    centers = 5 * rng.randn(3, 6)
    X = np.vstack([c + rng.randn(20, 6) for c in centers])
    y = np.repeat(np.arange(3), 20)
    np.random.seed(0)
    net = TwoLayerNet(6, 16, 3, std=0.1)
    stats = net.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.95, reg=1e-4,
                      num_iters=61, batch_size=15, seed=0)
    # 60 examples / 15 per batch = 4 iterations per epoch: it = 0, 4, ..., 60.
    assert len(stats["loss_history"]) == 61
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 16
    assert stats["val_acc_history"][-1] == 1.0
    assert np.array_equal(net.predict(X), y)


def test_momentum_zero_is_plain_sgd_and_momentum_changes_the_path():
    net, X, y = _toy()
    start = {k: v.copy() for k, v in net.params.items()}
    _, grads = net.loss(X, y, reg=0.0)
    net.train(X, y, X, y, learning_rate=0.1, reg=0.0, num_iters=1, batch_size=5,
              replace=False, seed=0)
    for name, value in start.items():  # one batch of all 5 examples: one plain SGD step
        np.testing.assert_allclose(net.params[name], value - 0.1 * grads[name],
                                   rtol=1e-13, atol=1e-15)
    plain, heavy = _toy()[0], _toy()[0]
    loss_plain = plain.train(X, y, X, y, learning_rate=0.05, num_iters=5, seed=0)
    loss_heavy = heavy.train(X, y, X, y, learning_rate=0.05, num_iters=5, seed=0, momentum=0.9)
    assert loss_plain["loss_history"][0] == loss_heavy["loss_history"][0]
    assert loss_plain["loss_history"][-1] != loss_heavy["loss_history"][-1]


def test_learning_rate_decays_after_each_epoch_including_the_first_step():
    # 10 examples, batches of 5: epochs start at it = 0, 2, so the steps use
    # lr, lr/2, lr/2, lr/4 (the course decays right after iteration 0).
    np.random.seed(3)
    net = TwoLayerNet(4, 6, 3, std=0.5)
    X, y = np.random.randn(10, 4), np.random.randint(3, size=10)
    params = {k: v.copy() for k, v in net.params.items()}
    batches = minibatch_indices(10, 5, np.random.RandomState(0), replace=False)
    for lr in (0.1, 0.05, 0.05, 0.025):
        idx = next(batches)
        net.params = params
        _, grads = net.loss(X[idx], y[idx], reg=0.01)
        params = {k: params[k] - lr * grads[k] for k in params}
    np.random.seed(3)
    trained = TwoLayerNet(4, 6, 3, std=0.5)
    trained.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.5, reg=0.01,
                  num_iters=4, batch_size=5, replace=False, seed=0)
    for name in params:
        np.testing.assert_allclose(trained.params[name], params[name], rtol=1e-12, atol=1e-15)


def test_bad_input_raises_clear_value_errors():
    net, X, y = _toy()
    with pytest.raises(ValueError, match="features"):
        net.loss(X[:, :3])
    with pytest.raises(ValueError, match="only 3 classes"):
        net.loss(X, np.array([0, 1, 2, 3, 1]))
    with pytest.raises(ValueError, match="features"):
        net.train(X, y, X[:, :2], y, num_iters=1)
    with pytest.raises(ValueError, match="y_val"):
        net.train(X, y, X, y[:3], num_iters=1)
    with pytest.raises(ValueError, match="momentum"):
        net.train(X, y, X, y, num_iters=1, momentum=1.0)
    with pytest.raises(ValueError, match="hidden_size"):
        TwoLayerNet(4, 0, 3)


def test_float32_parameters_draw_the_same_weights_and_train_in_float32():
    np.random.seed(4)
    X, y = np.random.randn(40, 7), np.random.randint(3, size=40)
    np.random.seed(0)
    net64 = TwoLayerNet(7, 12, 3, std=0.3)
    np.random.seed(0)
    net32 = TwoLayerNet(7, 12, 3, std=0.3, dtype=np.float32)
    for name in net64.params:
        assert net32.params[name].dtype == np.float32
        np.testing.assert_array_equal(net32.params[name], net64.params[name].astype(np.float32))
    kwargs = {"learning_rate": 0.05, "reg": 1e-3, "num_iters": 20, "batch_size": 10,
              "momentum": 0.9, "replace": False, "seed": 0}
    loss64 = net64.train(X, y, X, y, **kwargs)["loss_history"]
    loss32 = net32.train(X.astype(np.float32), y, X.astype(np.float32), y, **kwargs)["loss_history"]
    for name in net64.params:
        assert net32.params[name].dtype == np.float32  # the updates keep the dtype
        np.testing.assert_allclose(net32.params[name], net64.params[name], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(loss32, loss64, rtol=1e-4)
    assert loss64[-1] < loss64[0]
    with pytest.raises(ValueError, match="floating-point"):
        TwoLayerNet(4, 5, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="floating-point"):
        TwoLayerNet(4, 5, 3, dtype="not a type")


def test_an_empty_batch_is_a_clear_error_not_nan():
    net = TwoLayerNet(4, 5, 3)
    with pytest.raises(ValueError, match=r"X is empty \(N = 0"):
        net.loss(np.zeros((0, 4)), np.zeros(0, dtype=int))
