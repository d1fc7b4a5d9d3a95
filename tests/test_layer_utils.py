"""cs231n.layer_utils: sandwich layers against numeric gradients and PyTorch float64 autograd."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n import layer_utils
from cs231n.gradient_check import numeric_layer_gradients, rel_error
from cs231n.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_bn_relu_pool_backward,
    conv_bn_relu_pool_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)

pytestmark = pytest.mark.a2

POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def close(actual, expected, rel_tol, abs_tol):
    """Relative error below rel_tol, or, for gradients that are mathematically zero (the
    bias before a batchnorm), absolute error below abs_tol."""
    return rel_error(actual, expected) < rel_tol or np.max(np.abs(actual - expected)) < abs_tol


def check_sandwich(forward, backward, arrays, torch_forward, numeric_tol=1e-7):
    """forward(*arrays) -> (out, cache); compare backward's gradients of sum(out * dout)
    with numeric gradients and with torch autograd of torch_forward(*tensors)."""
    out, cache = forward(*arrays)
    dout = np.random.randn(*out.shape)
    grads = backward(dout, cache)
    numeric = numeric_layer_gradients(forward, {f"input{i}": a for i, a in enumerate(arrays)},
                                      dout)
    for grad, num in zip(grads, numeric.values(), strict=True):
        assert close(grad, num, numeric_tol, 1e-9)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = torch_forward(*ts)
    t_out.backward(torch.tensor(dout))
    assert rel_error(out, t_out.detach().numpy()) < 1e-10
    for g, t in zip(grads, ts, strict=True):
        assert close(g, t.grad.numpy(), 1e-9, 1e-13)


def test_affine_relu():
    x, w, b = np.random.randn(2, 3, 4), np.random.randn(12, 10), np.random.randn(10)
    check_sandwich(affine_relu_forward, affine_relu_backward, [x, w, b],
                   lambda x, w, b: torch.relu(x.reshape(2, -1) @ w + b))


def dropout_mask(shape, p, seed):
    """The mask dropout_forward draws with this seed, for the torch reference."""
    return torch.tensor((np.random.RandomState(seed).rand(*shape) < p) / p)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.6])
def test_affine_norm_relu(normalization, keep):
    N, D, M = 5, 6, 7
    x, w, b = np.random.randn(N, D), np.random.randn(D, M), np.random.randn(M)
    gamma, beta = np.random.randn(M), np.random.randn(M)
    drop = {"mode": "train", "p": keep, "seed": 7} if keep < 1 else None

    def forward(x, w, b, gamma, beta):
        norm_param = {"mode": "train"} if normalization == "batchnorm" else {}
        return affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization, drop)

    def backward(dout, cache):
        dx, dw, db, dgamma, dbeta = affine_norm_relu_backward(dout, cache)
        if normalization is None:
            assert dgamma is None and dbeta is None
            dgamma, dbeta = np.zeros(M), np.zeros(M)     # gamma, beta are unused
        return dx, dw, db, dgamma, dbeta

    def reference(x, w, b, gamma, beta):
        a = x @ w + b
        if normalization == "batchnorm":
            a = F.batch_norm(a, None, None, gamma, beta, training=True, eps=1e-5)
        elif normalization == "layernorm":
            a = F.layer_norm(a, (M,), gamma, beta, eps=1e-5)
        else:
            a = a + 0 * (gamma + beta)
        out = torch.relu(a)
        return out * dropout_mask((N, M), keep, 7) if drop else out

    check_sandwich(forward, backward, [x, w, b, gamma, beta], reference, numeric_tol=1e-6)


def test_affine_norm_relu_rejects_unknown_normalization():
    with pytest.raises(ValueError, match="normalization must be one of"):
        affine_norm_relu_forward(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4), None, None,
                                 None, "groupnorm")


def test_conv_relu():
    x, w, b = np.random.randn(2, 3, 5, 5), np.random.randn(3, 3, 3, 3), np.random.randn(3)
    conv_param = {"stride": 1, "pad": 1}
    check_sandwich(lambda x, w, b: conv_relu_forward(x, w, b, conv_param), conv_relu_backward,
                   [x, w, b], lambda x, w, b: torch.relu(F.conv2d(x, w, b, padding=1)))


def test_conv_relu_pool():
    x, w, b = np.random.randn(2, 3, 6, 6), np.random.randn(3, 3, 3, 3), np.random.randn(3)
    conv_param = {"stride": 1, "pad": 1}
    check_sandwich(lambda x, w, b: conv_relu_pool_forward(x, w, b, conv_param, POOL),
                   conv_relu_pool_backward, [x, w, b],
                   lambda x, w, b: F.max_pool2d(torch.relu(F.conv2d(x, w, b, padding=1)), 2))


def bn_reference(x, w, b, gamma, beta, pad):
    a = F.conv2d(x, w, b, padding=pad)
    return torch.relu(F.batch_norm(a, None, None, gamma, beta, training=True, eps=1e-5))


def test_conv_bn_relu():
    x, w, b = np.random.randn(2, 3, 5, 4), np.random.randn(4, 3, 3, 2), np.random.randn(4)
    gamma, beta = np.random.randn(4), np.random.randn(4)
    conv_param = {"stride": 1, "pad": 1}
    check_sandwich(
        lambda *a: conv_bn_relu_forward(*a, conv_param, {"mode": "train"}),
        conv_bn_relu_backward, [x, w, b, gamma, beta],
        lambda *t: bn_reference(*t, pad=1), numeric_tol=1e-6)


def test_conv_bn_relu_pool():
    x, w, b = np.random.randn(2, 3, 6, 6), np.random.randn(4, 3, 3, 3), np.random.randn(4)
    gamma, beta = np.random.randn(4), np.random.randn(4)
    conv_param = {"stride": 1, "pad": 1}
    check_sandwich(
        lambda *a: conv_bn_relu_pool_forward(*a, conv_param, {"mode": "train"}, POOL),
        conv_bn_relu_pool_backward, [x, w, b, gamma, beta],
        lambda *t: F.max_pool2d(bn_reference(*t, pad=1), 2), numeric_tol=1e-6)


def test_conv_sandwiches_use_the_fast_layers(monkeypatch):
    calls = []
    for name in ("conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast",
                 "max_pool_backward_fast"):
        original = getattr(layer_utils, name)

        def spy(*args, _name=name, _original=original):
            calls.append(_name)
            return _original(*args)
        monkeypatch.setattr(layer_utils, name, spy)
    x, w, b = np.random.randn(1, 2, 4, 4), np.random.randn(2, 2, 3, 3), np.random.randn(2)
    out, cache = conv_relu_pool_forward(x, w, b, {"stride": 1, "pad": 1}, POOL)
    conv_relu_pool_backward(np.ones_like(out), cache)
    assert calls == ["conv_forward_fast", "max_pool_forward_fast", "max_pool_backward_fast",
                     "conv_backward_fast"]
