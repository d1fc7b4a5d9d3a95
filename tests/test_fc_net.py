"""cs231n.classifiers.fc_net: the course's checks, numeric gradients, and a PyTorch replay."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n.gradient_check import eval_numerical_gradient, rel_error
from cs231n.solver import Solver

pytestmark = pytest.mark.a2


def worst_numeric_error(model, X, y):
    _, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    errors = {}
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                           verbose=False)
        errors[name] = rel_error(grad_num, grads[name])
    return max(errors.values())


def test_two_layer_net_course_checks():
    N, D, H, C = 3, 5, 50, 7
    std = 1e-3
    np.random.seed(231)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
    assert abs(model.params["W1"].std() - std) < std / 10
    assert abs(model.params["W2"].std() - std) < std / 10
    assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)

    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    scores = model.loss(X)
    correct_scores = np.asarray(
        [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
         [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
         [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
    assert np.abs(scores - correct_scores).sum() < 1e-6

    y = np.asarray([0, 5, 1])
    loss, _ = model.loss(X, y)
    assert abs(loss - 3.4702243556) < 1e-10
    model.reg = 1.0
    loss, _ = model.loss(X, y)
    assert abs(loss - 26.5948426952) < 1e-10      # the 0.5 * reg * sum(W^2) convention

    for reg in [0.0, 0.7]:
        model.reg = reg
        assert worst_numeric_error(model, X, y) < 1e-6


def test_fully_connected_net_course_check():
    """The notebook's check, reproduced to the printed digits: same initialization order."""
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    for reg, initial_loss in [(0, 2.3004790897684924), (3.14, 7.052114776533016)]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64)
        loss, _ = model.loss(X, y)
        assert loss == pytest.approx(initial_loss, abs=1e-10)
        # the course prints W2 relative error 2.21e-05 for reg 0 (a ReLU kink), else < 4e-7
        assert worst_numeric_error(model, X, y) < 3e-5


def dropout_mask(shape, p, seed):
    """The mask each dropout layer draws: its own generator, seeded afresh at every call."""
    return torch.tensor((np.random.RandomState(seed).rand(*shape) < p) / p)


def torch_replay(model, X, y, keep, seed):
    """The same network in PyTorch float64: (loss, grads)."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    L = model.num_layers
    h = torch.tensor(X).reshape(len(X), -1)
    for i in range(1, L):
        a = h @ P[f"W{i}"] + P[f"b{i}"]
        if model.normalization == "batchnorm":
            a = F.batch_norm(a, None, None, P[f"gamma{i}"], P[f"beta{i}"], training=True)
        elif model.normalization == "layernorm":
            a = F.layer_norm(a, a.shape[1:], P[f"gamma{i}"], P[f"beta{i}"])
        h = torch.relu(a)
        if keep < 1:
            h = h * dropout_mask(tuple(h.shape), keep, seed)
    scores = h @ P[f"W{L}"] + P[f"b{L}"]
    loss = F.cross_entropy(scores, torch.tensor(y))
    loss = loss + 0.5 * model.reg * sum((P[f"W{i}"] ** 2).sum() for i in range(1, L + 1))
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in P.items()}


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.5])
@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fully_connected_net_matches_torch(normalization, keep, reg):
    N, D, C = 6, 3 * 2 * 2, 5
    X = np.random.randn(N, 3, 2, 2)
    y = np.random.randint(C, size=N)
    model = FullyConnectedNet([7, 8, 6], input_dim=D, num_classes=C, dropout=keep,
                              normalization=normalization, reg=reg, weight_scale=0.3,
                              dtype=np.float64, seed=123)
    # random gamma and beta, so a wrong use of them cannot hide behind ones and zeros
    model.params.update({k: np.random.randn(*v.shape) for k, v in model.params.items()
                         if k.startswith(("gamma", "beta"))})
    loss, grads = model.loss(X, y)
    t_loss, t_grads = torch_replay(model, X, y, keep, seed=123)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    assert sorted(grads) == sorted(t_grads)
    for k in grads:
        # the biases before a batchnorm have gradient 0 (up to rounding, 1e-17)
        assert (rel_error(grads[k], t_grads[k]) < 1e-8
                or np.max(np.abs(grads[k] - t_grads[k])) < 1e-13), k


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_fully_connected_net_numeric_with_normalization_and_dropout(normalization):
    np.random.seed(231)
    N, D, C = 10, 6, 4
    X, y = np.random.randn(N, D), np.random.randint(C, size=N)
    model = FullyConnectedNet([5, 7], input_dim=D, num_classes=C, dropout=0.75,
                              normalization=normalization, reg=0.5, weight_scale=0.5,
                              dtype=np.float64, seed=123)
    assert worst_numeric_error(model, X, y) < 1e-5


def test_fully_connected_net_parameters_dtype_and_init():
    model = FullyConnectedNet([10, 20], input_dim=8, num_classes=3, normalization="batchnorm")
    assert sorted(model.params) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2",
                                           "gamma2", "beta2", "W3", "b3"])
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert model.params["W2"].shape == (10, 20) and model.params["gamma2"].shape == (20,)
    assert np.all(model.params["gamma1"] == 1) and np.all(model.params["beta2"] == 0)
    assert len(model.bn_params) == 2
    loss, grads = model.loss(np.random.randn(4, 8), np.array([0, 1, 2, 0]))
    assert all(g.dtype == np.float32 for g in grads.values())
    assert abs(loss - np.log(3)) < 0.1


def test_test_mode_uses_running_stats_and_no_dropout():
    X = np.random.randn(8, 5)
    y = np.random.randint(3, size=8)
    model = FullyConnectedNet([6], input_dim=5, num_classes=3, dropout=0.5,
                              normalization="batchnorm", dtype=np.float64, seed=1)
    model.loss(X, y)
    running = model.bn_params[0]["running_mean"].copy()
    scores = model.loss(X)
    assert model.bn_params[0]["mode"] == "test" and model.dropout_param["mode"] == "test"
    assert np.array_equal(model.bn_params[0]["running_mean"], running)   # not updated
    # test-mode scores are those of the same network without dropout
    plain = FullyConnectedNet([6], input_dim=5, num_classes=3, normalization="batchnorm",
                              dtype=np.float64)
    plain.params = model.params
    plain.bn_params = model.bn_params
    assert np.array_equal(scores, plain.loss(X))
    # and they depend on the running statistics, not on the batch
    assert np.allclose(model.loss(X[:3]), scores[:3])


def test_fully_connected_net_bad_arguments():
    with pytest.raises(ValueError, match="normalization must be"):
        FullyConnectedNet([5], normalization="batch")
    with pytest.raises(ValueError, match="keep probability"):
        FullyConnectedNet([5], dropout=0)
    with pytest.raises(ValueError, match=r"hidden_dims\[1\] must be an integer >= 1"):
        FullyConnectedNet([5, 0])
    model = FullyConnectedNet([5], input_dim=6, num_classes=3)
    with pytest.raises(ValueError, match="flattens to D = 7"):
        model.loss(np.zeros((2, 7)))


def test_seeded_dropout_does_not_freeze_the_solvers_minibatches():
    """A seeded dropout mask must not reseed np.random: the Solver draws its minibatches
    from np.random, and reseeding at every forward pass made the batches after the
    first repeat."""
    N, D = 50, 4
    X = np.repeat(np.arange(N, dtype=float)[:, None], D, axis=1)    # row i holds i
    data = {"X_train": X, "y_train": np.arange(N) % 3, "X_val": X[:5], "y_val": np.arange(5) % 3}
    model = FullyConnectedNet([6], input_dim=D, num_classes=3, dropout=0.5, dtype=np.float64,
                              seed=0)
    batches = []
    loss = model.loss

    def recording_loss(X, y=None):
        if y is not None:
            batches.append(tuple(X[:, 0].astype(int)))
        return loss(X, y)
    model.loss = recording_loss
    Solver(model, data, batch_size=10, num_epochs=1, verbose=False).train()     # 5 steps
    assert len(batches) == 5
    assert len(set(batches)) == 5, batches
