"""cs231n.classifiers.cnn: the course's checks, numeric gradients, and a PyTorch replay."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.classifiers.cnn import DeepConvNet, ThreeLayerConvNet, count_params
from cs231n.gradient_check import eval_numerical_gradient, grad_check_sparse, rel_error

pytestmark = pytest.mark.a2


def assert_grads_match(grads, t_grads):
    assert sorted(grads) == sorted(t_grads)
    for k in grads:
        # the biases before a batchnorm have gradient 0 (up to rounding)
        assert (rel_error(grads[k], t_grads[k]) < 1e-8
                or np.max(np.abs(grads[k] - t_grads[k])) < 1e-13), k


def l2(P, reg):
    return 0.5 * reg * sum((p ** 2).sum() for k, p in P.items() if k.startswith("W"))


# ----------------------------------------------------------------------------- ThreeLayerConvNet


def test_three_layer_initial_loss_course_check():
    model = ThreeLayerConvNet()
    X = np.random.randn(8, 3, 32, 32)
    y = np.random.randint(10, size=8)
    loss, _ = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01
    model.reg = 0.5
    loss_reg, _ = model.loss(X, y)
    assert loss_reg > loss + 0.1
    assert model.loss(X).shape == (8, 10)


def test_three_layer_numeric_gradients():
    np.random.seed(231)
    X = np.random.randn(2, 3, 8, 8)
    y = np.random.randint(10, size=2)
    model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=(3, 8, 8), hidden_dim=7,
                              weight_scale=0.1, reg=0.3, dtype=np.float64)
    _, grads = model.loss(X, y)
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                           verbose=False, h=1e-6)
        assert rel_error(grad_num, grads[name]) < 1e-5, name


def test_three_layer_matches_torch():
    N = 3
    X = np.random.randn(N, 2, 6, 4)
    y = np.random.randint(4, size=N)
    model = ThreeLayerConvNet(input_dim=(2, 6, 4), num_filters=5, filter_size=5, hidden_dim=6,
                              num_classes=4, weight_scale=0.2, reg=0.7, dtype=np.float64)
    loss, grads = model.loss(X, y)
    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    h = F.max_pool2d(torch.relu(F.conv2d(torch.tensor(X), P["W1"], P["b1"], padding=2)), 2)
    h = torch.relu(h.reshape(N, -1) @ P["W2"] + P["b2"])
    t_loss = F.cross_entropy(h @ P["W3"] + P["b3"], torch.tensor(y)) + l2(P, 0.7)
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_grads_match(grads, {k: p.grad.numpy() for k, p in P.items()})


def test_three_layer_shapes_dtype_and_count():
    model = ThreeLayerConvNet()
    assert model.params["W1"].shape == (32, 3, 7, 7)
    assert model.params["W2"].shape == (32 * 16 * 16, 100)
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert count_params(model) == 32 * 3 * 49 + 32 + 32 * 16 * 16 * 100 + 100 + 100 * 10 + 10


def test_three_layer_bad_arguments():
    with pytest.raises(ValueError, match="divisible by 2"):
        ThreeLayerConvNet(input_dim=(3, 15, 16))
    with pytest.raises(ValueError, match="odd"):
        ThreeLayerConvNet(filter_size=4)
    with pytest.raises(ValueError, match=r"input_dim\[0\] must be an integer >= 1"):
        ThreeLayerConvNet(input_dim=(0, 8, 8))


@pytest.mark.parametrize("make", [
    lambda: ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4),
    lambda: DeepConvNet(input_dim=(3, 8, 8), num_filters=(2,), seed=0)])
def test_conv_nets_reject_images_of_another_size(make):
    model = make()
    name = type(model).__name__
    X = np.random.randn(2, 3, 16, 16)
    for y in (None, np.array([0, 1])):
        with pytest.raises(ValueError, match=rf"{name} was built for input \(3, 8, 8\), "
                                             r"got \(3, 16, 16\)"):
            model.loss(X, y)
    with pytest.raises(ValueError, match=r"X must be images of shape \(N, C, H, W\) = "
                                         r"\(N, 3, 8, 8\), got shape \(2, 192\)"):
        model.loss(np.zeros((2, 192)))
    assert model.loss(np.random.randn(2, 3, 8, 8)).shape == (2, 10)


# ----------------------------------------------------------------------------- DeepConvNet


def dropout_mask(shape, p, seed):
    return torch.tensor((np.random.RandomState(seed).rand(*shape) < p) / p)


def torch_replay(model, X, y, keep, seed):
    """DeepConvNet in PyTorch float64 (train mode): (loss, grads)."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    h = torch.tensor(X)
    for i in range(1, model.num_conv_layers + 1):
        h = F.conv2d(h, P[f"W{i}"], P[f"b{i}"], padding=1)
        if model.use_batchnorm:
            h = F.batch_norm(h, None, None, P[f"gamma{i}"], P[f"beta{i}"], training=True)
        h = torch.relu(h)
        if i % model.convs_per_block == 0:
            h = F.max_pool2d(h, 2)
    if keep < 1:
        h = h * dropout_mask(tuple(h.shape), keep, seed)
    h = h.reshape(len(X), -1)
    L = model.num_layers
    for i in range(model.num_conv_layers + 1, L):
        h = h @ P[f"W{i}"] + P[f"b{i}"]
        if model.use_batchnorm:
            h = F.batch_norm(h, None, None, P[f"gamma{i}"], P[f"beta{i}"], training=True)
        h = torch.relu(h)
        if keep < 1:
            h = h * dropout_mask(tuple(h.shape), keep, seed)
    loss = F.cross_entropy(h @ P[f"W{L}"] + P[f"b{L}"], torch.tensor(y)) + l2(P, model.reg)
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in P.items()}


@pytest.mark.parametrize("use_batchnorm,keep,convs_per_block,hidden_dims", [
    (True, 0.6, 2, (5,)), (True, 1, 1, ()), (False, 0.7, 1, (6, 5)), (False, 1, 2, ())])
def test_deep_conv_net_matches_torch(use_batchnorm, keep, convs_per_block, hidden_dims):
    N = 4
    X = np.random.randn(N, 3, 4, 8)
    y = np.random.randint(3, size=N)
    model = DeepConvNet(input_dim=(3, 4, 8), num_filters=(4, 3), convs_per_block=convs_per_block,
                        hidden_dims=hidden_dims, num_classes=3, reg=0.2, dropout=keep,
                        use_batchnorm=use_batchnorm, dtype=np.float64, seed=5)
    model.params.update({k: np.random.randn(*v.shape) for k, v in model.params.items()
                         if k.startswith(("gamma", "beta"))})
    loss, grads = model.loss(X, y)
    t_loss, t_grads = torch_replay(model, X, y, keep, seed=5)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    assert_grads_match(grads, t_grads)


def test_deep_conv_net_numeric_gradients():
    np.random.seed(231)
    X = np.random.randn(4, 3, 4, 4)
    y = np.random.randint(3, size=4)
    model = DeepConvNet(input_dim=(3, 4, 4), num_filters=(3, 2), convs_per_block=1,
                        hidden_dims=(5,), num_classes=3, reg=0.1, dropout=0.8,
                        dtype=np.float64, seed=3)
    _, grads = model.loss(X, y)
    for name in sorted(grads):
        worst = grad_check_sparse(lambda _: model.loss(X, y)[0], model.params[name],
                                  grads[name], num_checks=4, verbose=False)
        assert worst < 1e-5, name


def test_deep_conv_net_defaults():
    model = DeepConvNet(seed=0)
    assert model.architecture() == (
        "[conv3x3(32)-bn-relu]x2-pool - [conv3x3(64)-bn-relu]x2-pool - "
        "[conv3x3(128)-bn-relu]x2-pool - affine(10)-softmax")
    # 6 convs (weights, biases, gamma, beta) and the classifier on 128 x 4 x 4 features
    convs = [(3, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]
    expected = sum(9 * c * f + 3 * f for c, f in convs) + 128 * 4 * 4 * 10 + 10
    assert count_params(model) == expected == 308394
    assert all(v.dtype == np.float32 for v in model.params.values())
    W6 = model.params["W6"]
    assert abs(W6.std() / np.sqrt(2 / (128 * 9)) - 1) < 0.02          # He initialization
    X = np.random.randn(4, 3, 32, 32).astype(np.float32)
    y = np.random.randint(10, size=4)
    loss, grads = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.1
    assert all(g.dtype == np.float32 for g in grads.values())


def test_deep_conv_net_test_mode_uses_running_stats():
    model = DeepConvNet(input_dim=(3, 4, 4), num_filters=(4,), hidden_dims=(5,),
                        num_classes=3, dropout=0.5, dtype=np.float64, seed=0)
    X = np.random.randn(6, 3, 4, 4)
    model.loss(X, np.random.randint(3, size=6))
    running = [p["running_mean"].copy() for p in model.bn_params]
    scores = model.loss(X)
    assert all(p["mode"] == "test" for p in model.bn_params)
    assert all(np.array_equal(p["running_mean"], r) for p, r in zip(model.bn_params, running, strict=True))
    assert np.allclose(model.loss(X[:2]), scores[:2])   # per-example, no batch statistics


def test_deep_conv_net_bad_arguments():
    with pytest.raises(ValueError, match="divisible by 8"):
        DeepConvNet(input_dim=(3, 20, 20))
    with pytest.raises(ValueError, match=r"num_filters\[1\] must be an integer >= 1"):
        DeepConvNet(num_filters=(8, 0))
    with pytest.raises(ValueError, match="keep probability"):
        DeepConvNet(dropout=1.5)
