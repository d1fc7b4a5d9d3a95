"""Softmax loss: naive vs vectorized, numeric gradient, torch cross_entropy, huge logits."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from cs231n.gradient_check import eval_numerical_gradient, rel_error

pytestmark = pytest.mark.a1

LOSSES = [softmax_loss_naive, softmax_loss_vectorized]


def _torch_loss_and_grad(W, X, y, reg):
    Wt = torch.tensor(W, requires_grad=True)
    loss = F.cross_entropy(torch.from_numpy(X) @ Wt, torch.from_numpy(y)) + reg * (Wt * Wt).sum()
    loss.backward()
    return loss.item(), Wt.grad.numpy()


@pytest.mark.parametrize("N, D, K, reg", [(13, 17, 5, 0.1), (1, 4, 2, 0.0), (8, 3, 10, 2.5)])
def test_naive_and_vectorized_agree_and_match_torch(N, D, K, reg):
    rng = np.random.RandomState(N)
    W, X, y = rng.randn(D, K), rng.randn(N, D), rng.randint(K, size=N)
    loss_t, grad_t = _torch_loss_and_grad(W, X, y, reg)
    for loss_fn in LOSSES:
        loss, grad = loss_fn(W, X, y, reg)
        assert rel_error(loss, loss_t) < 1e-12, loss_fn.__name__
        assert rel_error(grad, grad_t) < 1e-10, loss_fn.__name__


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_numeric_gradient(loss_fn):
    rng = np.random.RandomState(4)
    W, X, y = rng.randn(6, 4), rng.randn(9, 6), rng.randint(4, size=9)
    _, grad = loss_fn(W, X, y, 0.3)
    grad_num = eval_numerical_gradient(lambda w: loss_fn(w, X, y, 0.3)[0], W, verbose=False)
    assert rel_error(grad, grad_num) < 1e-7


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_near_zero_weights_give_log_k(loss_fn):
    # The course's sanity check: with tiny W every class is equally likely.
    rng = np.random.RandomState(5)
    X, y = rng.randn(50, 8), rng.randint(10, size=50)
    loss, _ = loss_fn(1e-8 * rng.randn(8, 10), X, y, 0.0)
    assert loss == pytest.approx(np.log(10), rel=1e-6)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_huge_logits_stay_finite(loss_fn):
    # Scores of +-1e4 overflow exp() unless shifted; the wrong-class example has
    # p_y = exp(-2e4), which underflows to 0 and must not produce log(0).
    W = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 2, 1])
    loss, grad = loss_fn(W, X, y, 0.0)
    loss_t, grad_t = _torch_loss_and_grad(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert rel_error(loss, loss_t) < 1e-12
    assert rel_error(grad, grad_t) < 1e-12


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_bad_input_raises_clear_value_errors(loss_fn):
    W, X, y = np.zeros((4, 3)), np.zeros((5, 4)), np.array([0, 1, 2, 1, 0])
    with pytest.raises(ValueError, match="features"):
        loss_fn(np.zeros((5, 3)), X, y, 0.0)
    with pytest.raises(ValueError, match="only 3 classes"):
        loss_fn(W, X, np.array([0, 1, 3, 1, 0]), 0.0)
    with pytest.raises(ValueError, match="2-D"):
        loss_fn(W, X.ravel(), y, 0.0)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_an_empty_batch_is_a_clear_error_not_nan(loss_fn):
    with pytest.raises(ValueError, match=r"X is empty \(N = 0, shape \(0, 4\)\)"):
        loss_fn(np.zeros((4, 3)), np.zeros((0, 4)), np.zeros(0, dtype=int), 0.1)
