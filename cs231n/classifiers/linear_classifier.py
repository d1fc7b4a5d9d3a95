"""Linear classifiers trained with minibatch SGD: LinearSVM and Softmax (assignment 1)."""
from __future__ import annotations

import numpy as np

from cs231n._checks import check_int
from cs231n.classifiers._checks import (
    check_data,
    check_labels,
    check_weights,
    make_rng,
    minibatch_indices,
)
from cs231n.classifiers.linear_svm import svm_loss_vectorized
from cs231n.classifiers.softmax import softmax_loss_vectorized
from cs231n.data_utils import mirror_rows

__all__ = ["LinearClassifier", "LinearSVM", "Softmax", "mirror_averaged_predict"]


class LinearClassifier:
    """A linear classifier, scores = X W; subclasses choose the loss."""

    def __init__(self):
        self.W = None

    def train(self, X: np.ndarray, y: np.ndarray, learning_rate: float = 1e-3,
              reg: float = 1e-5, num_iters: int = 100, batch_size: int = 200,
              verbose: bool = False, replace: bool = True,
              seed: int | None = None,
              learning_rate_decay: float = 1.0) -> list[float]:
        """
        Train this linear classifier using stochastic gradient descent.

        Inputs:
        - X: A numpy array of shape (N, D) containing training data; there are N
          training samples each of dimension D.
        - y: A numpy array of shape (N,) containing training labels; y[i] = c
          means that X[i] has label 0 <= c < K for K classes.
        - learning_rate: (float) learning rate for optimization.
        - reg: (float) regularization strength.
        - num_iters: (integer) number of steps to take when optimizing
        - batch_size: (integer) number of training examples to use at each step.
        - verbose: (boolean) If true, print progress during optimization.
        - replace: (boolean) True (the course) draws each minibatch with
          replacement; False shuffles once per epoch and walks the permutation.
        - seed: None uses the global np.random (seed it for reproducibility, as
          the notebooks do); an integer uses its own RandomState for the weight
          initialization and the sampling.
        - learning_rate_decay: (float) the learning rate is multiplied by this
          after every epoch (N // batch_size iterations); 1.0 (the course) keeps
          it constant.

        Outputs:
        A list containing the value of the loss function at each training iteration.
        """
        X = check_data(X)
        num_train, dim = X.shape
        y = check_labels(y, num_train)
        check_int(batch_size, "batch_size")
        if not 0.0 < learning_rate_decay <= 1.0:
            raise ValueError(f"learning_rate_decay must be in (0, 1] (1.0 keeps the learning rate "
                             f"constant), got {learning_rate_decay!r}")
        iterations_per_epoch = max(num_train // batch_size, 1)
        rng = make_rng(seed)
        # assume y takes values 0...K-1 where K is number of classes
        num_classes = int(np.max(y)) + 1
        if self.W is None:
            # lazily initialize W
            self.W = 0.001 * rng.randn(dim, num_classes)
        check_weights(self.W, X, "self.W")
        check_labels(y, num_train, self.W.shape[1])
        batches = minibatch_indices(num_train, batch_size, rng, replace=replace)

        # Run stochastic gradient descent to optimize W
        loss_history = []
        for it in range(num_iters):
            X_batch = None
            y_batch = None

            #########################################################################
            # TODO:                                                                 #
            # Sample batch_size elements from the training data and their           #
            # corresponding labels to use in this round of gradient descent.        #
            # Store the data in X_batch and their corresponding labels in           #
            # y_batch; after sampling X_batch should have shape (batch_size, dim)   #
            # and y_batch should have shape (batch_size,)                           #
            #                                                                       #
            # Hint: the `batches` iterator above gives the indices of each batch    #
            # (next(batches)), sampled with or without replacement as the           #
            # `replace` argument says.                                              #
            #########################################################################
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            batch_indices = next(batches)
            X_batch = X[batch_indices]
            y_batch = y[batch_indices]

            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            # evaluate loss and gradient
            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(loss)

            # perform parameter update
            #########################################################################
            # TODO:                                                                 #
            # Update the weights using the gradient and the learning rate.          #
            #########################################################################
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            self.W -= learning_rate * grad

            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            if (it + 1) % iterations_per_epoch == 0:
                learning_rate *= learning_rate_decay

            if verbose and it % 100 == 0:
                print(f'iteration {it} / {num_iters}: loss {loss:f}')

        return loss_history

    def predict(self, X: np.ndarray) -> np.ndarray:
        """
        Use the trained weights of this linear classifier to predict labels for
        data points.

        Inputs:
        - X: A numpy array of shape (N, D) containing training data; there are N
          training samples each of dimension D.

        Returns:
        - y_pred: Predicted labels for the data in X. y_pred is a 1-dimensional
          array of length N, and each element is an integer giving the predicted
          class.
        """
        if self.W is None:
            raise ValueError("this classifier has no weights yet: call train(X, y) "
                             "(or set self.W) before predict")
        X = check_data(X)
        check_weights(self.W, X, "self.W")
        y_pred = np.zeros(X.shape[0])
        ###########################################################################
        # TODO:                                                                   #
        # Implement this method. Store the predicted labels in y_pred.            #
        ###########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        y_pred = np.argmax(X.dot(self.W), axis=1)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return y_pred

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray,
             reg: float) -> tuple[float, np.ndarray]:
        """
        Compute the loss function and its derivative.
        Subclasses will override this.

        Inputs:
        - X_batch: A numpy array of shape (N, D) containing a minibatch of N
          data points; each point has dimension D.
        - y_batch: A numpy array of shape (N,) containing labels for the minibatch.
        - reg: (float) regularization strength.

        Returns: A tuple containing:
        - loss as a single float
        - gradient with respect to self.W; an array of the same shape as W
        """
        raise NotImplementedError("use a subclass (LinearSVM or Softmax) that defines the loss")


class LinearSVM(LinearClassifier):
    """ A subclass that uses the Multiclass SVM loss function """

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray,
             reg: float) -> tuple[float, np.ndarray]:
        """Multiclass SVM loss and gradient on a minibatch; see LinearClassifier.loss."""
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """ A subclass that uses the Softmax + Cross-entropy loss function """

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray,
             reg: float) -> tuple[float, np.ndarray]:
        """Softmax cross-entropy loss and gradient on a minibatch; see LinearClassifier.loss."""
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)


def mirror_averaged_predict(model: LinearClassifier, X: np.ndarray,
                            mean_image: np.ndarray) -> np.ndarray:
    """Labels of a linear classifier from the scores of each image plus those of its
    mirror image (test-time augmentation; the same as a mirror-symmetric W).

    Inputs:
    - model: a trained LinearClassifier, W of shape (D, K)
    - X: (N, D) rows from data_utils.preprocess_linear (D = 3072 pixels, + 1 with the
      bias column)
    - mean_image: (3072,) the mean image that preprocess_linear subtracted

    Returns:
    - y_pred: (N,) the class with the largest summed score, argmax of X W + mirror(X) W
    """
    if model.W is None:
        raise ValueError("this classifier has no weights yet: call train(X, y) "
                         "(or set self.W) before mirror_averaged_predict")
    X = check_data(X)
    check_weights(model.W, X, "model.W")
    scores = X @ model.W + mirror_rows(X, mean_image) @ model.W
    return np.argmax(scores, axis=1)
