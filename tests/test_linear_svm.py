"""Multiclass SVM loss: naive vs vectorized, numeric gradient, PyTorch float64 autograd."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from cs231n.gradient_check import eval_numerical_gradient, rel_error

pytestmark = pytest.mark.a1

LOSSES = [svm_loss_naive, svm_loss_vectorized]


def _problem(N, D, K, seed):
    rng = np.random.RandomState(seed)
    return rng.randn(D, K), rng.randn(N, D), rng.randint(K, size=N)


@pytest.mark.parametrize("N, D, K, reg", [(13, 17, 5, 0.1), (1, 4, 2, 0.0), (8, 3, 10, 2.5)])
def test_naive_and_vectorized_agree(N, D, K, reg):
    W, X, y = _problem(N, D, K, seed=N)
    loss_naive, grad_naive = svm_loss_naive(W, X, y, reg)
    loss_vec, grad_vec = svm_loss_vectorized(W, X, y, reg)
    assert rel_error(loss_naive, loss_vec) < 1e-12
    assert rel_error(grad_naive, grad_vec) < 1e-12


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_numeric_gradient(loss_fn):
    W, X, y = _problem(9, 6, 4, seed=3)
    _, grad = loss_fn(W, X, y, 0.3)
    grad_num = eval_numerical_gradient(lambda w: loss_fn(w, X, y, 0.3)[0], W, verbose=False)
    assert rel_error(grad, grad_num) < 1e-7


@pytest.mark.parametrize("loss_fn", LOSSES)
@pytest.mark.parametrize("N, D, K", [(7, 5, 3), (20, 11, 10)])
def test_matches_torch_autograd(loss_fn, N, D, K):
    W, X, y = _problem(N, D, K, seed=D)
    reg = 0.7
    Wt = torch.tensor(W, requires_grad=True)
    scores = torch.from_numpy(X) @ Wt
    yt = torch.from_numpy(y)
    correct = scores.gather(1, yt[:, None])
    margins = torch.clamp(scores - correct + 1, min=0)
    margins = margins.masked_fill(F.one_hot(yt, K).bool(), 0)
    loss_t = margins.sum() / N + reg * (Wt * Wt).sum()
    loss_t.backward()
    # torch's multi_margin_loss averages over the K classes too; undo that.
    hinge = F.multi_margin_loss(scores, yt, margin=1.0) * K
    assert rel_error(hinge.item() + reg * np.sum(W * W), loss_t.item()) < 1e-12

    loss, grad = loss_fn(W, X, y, reg)
    assert rel_error(loss, loss_t.item()) < 1e-12
    assert rel_error(grad, Wt.grad.numpy()) < 1e-12


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_zero_weights_give_k_minus_one(loss_fn):
    # Every margin is exactly delta = 1: the course's sanity check.
    _, X, y = _problem(6, 4, 7, seed=0)
    loss, _ = loss_fn(np.zeros((4, 7)), X, y, 1.0)
    assert loss == pytest.approx(6.0)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_bad_input_raises_clear_value_errors(loss_fn):
    W, X, y = _problem(5, 4, 3, seed=0)
    with pytest.raises(ValueError, match="features"):
        loss_fn(W, X[:, :3], y, 0.0)
    with pytest.raises(ValueError, match="only 3 classes"):
        loss_fn(W, X, np.array([0, 1, 2, 3, 0]), 0.0)
    with pytest.raises(ValueError, match="negative"):
        loss_fn(W, X, np.array([0, -1, 2, 1, 0]), 0.0)
    with pytest.raises(ValueError, match="one label per example"):
        loss_fn(W, X, y[:4], 0.0)
    with pytest.raises(ValueError, match="integer"):
        loss_fn(W, X, y + 0.5, 0.0)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_an_empty_batch_is_a_clear_error_not_nan(loss_fn):
    with pytest.raises(ValueError, match=r"X is empty \(N = 0, shape \(0, 4\)\)"):
        loss_fn(np.zeros((4, 3)), np.zeros((0, 4)), np.zeros(0, dtype=int), 0.1)
