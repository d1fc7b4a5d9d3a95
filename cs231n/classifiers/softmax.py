"""Softmax (cross-entropy) loss and its gradient, naive and vectorized (assignment 1).

    p_ij = exp(s_ij) / sum_k exp(s_ik),   s = X W
    L = -1/N sum_i log p_iy_i + reg * sum(W * W)
    dL/dW = 1/N X^T (P - onehot(y)) + 2 reg W

Scores are shifted by their row maximum before exp (the softmax does not change),
so logits of any size stay finite.
"""
from __future__ import annotations

import numpy as np

from cs231n.classifiers._checks import check_loss_inputs

__all__ = ["softmax_loss_naive", "softmax_loss_vectorized"]


def softmax_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray,
                       reg: float) -> tuple[float, np.ndarray]:
    """
    Softmax loss function, naive implementation (with loops)

    Inputs have dimension D, there are K classes, and we operate on minibatches
    of N examples.

    Inputs:
    - W: A numpy array of shape (D, K) containing weights.
    - X: A numpy array of shape (N, D) containing a minibatch of data.
    - y: A numpy array of shape (N,) containing training labels; y[i] = c means
      that X[i] has label c, where 0 <= c < K.
    - reg: (float) regularization strength

    Returns a tuple of:
    - loss as single float
    - gradient with respect to weights W; an array of same shape as W, (D, K)
    """
    W, X, y = check_loss_inputs(W, X, y)
    # Initialize the loss and gradient to zero.
    loss = 0.0
    dW = np.zeros_like(W)

    #############################################################################
    # TODO: Compute the softmax loss and its gradient using explicit loops.     #
    # Store the loss in loss and the gradient in dW. If you are not careful     #
    # here, it is easy to run into numeric instability. Don't forget the        #
    # regularization!                                                           #
    #############################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    num_train, num_classes = X.shape[0], W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)  # shift: exp never overflows
        exp_scores = np.exp(scores)
        sum_exp = np.sum(exp_scores)
        # log p_y computed as s_y - log(sum exp) stays finite even when p_y underflows.
        loss -= scores[y[i]] - np.log(sum_exp)
        for j in range(num_classes):
            p_j = exp_scores[j] / sum_exp
            dW[:, j] += (p_j - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    return loss, dW


def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray,
                            reg: float) -> tuple[float, np.ndarray]:
    """
    Softmax loss function, vectorized version.

    Inputs and outputs are the same as softmax_loss_naive:
    - W: (D, K) weights; X: (N, D) data; y: (N,) labels in 0..K-1; reg: float
    Returns a tuple of (loss: float, dW: array of shape (D, K)).
    """
    W, X, y = check_loss_inputs(W, X, y)
    # Initialize the loss and gradient to zero.
    loss = 0.0
    dW = np.zeros_like(W)

    #############################################################################
    # TODO: Compute the softmax loss and its gradient using no explicit loops.  #
    # Store the loss in loss and the gradient in dW. If you are not careful     #
    # here, it is easy to run into numeric instability. Don't forget the        #
    # regularization!                                                           #
    #############################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)  # shift: exp never overflows
    log_sum_exp = np.log(np.exp(scores).sum(axis=1))
    loss = np.sum(log_sum_exp - scores[rows, y]) / num_train + reg * np.sum(W * W)
    dscores = np.exp(scores - log_sum_exp[:, None])  # probabilities, (N, K)
    dscores[rows, y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    return loss, dW
