"""A two-layer fully connected net, affine - ReLU - affine - softmax (assignment 1, two_layer_net)."""
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

__all__ = ["TwoLayerNet"]


class TwoLayerNet:
    """
    A two-layer fully-connected neural network. The net has an input dimension of
    D, a hidden layer dimension of H, and performs classification over K classes.
    We train the network with a softmax loss function and L2 regularization on the
    weight matrices. The network uses a ReLU nonlinearity after the first fully
    connected layer.

    In other words, the network has the following architecture:

    input - fully connected layer - ReLU - fully connected layer - softmax

    The outputs of the second fully-connected layer are the scores for each class.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 std: float = 1e-4, dtype=np.float64):
        """
        Initialize the model. Weights are initialized to small random values and
        biases are initialized to zero. Weights and biases are stored in the
        variable self.params, which is a dictionary with the following keys:

        W1: First layer weights; has shape (D, H)
        b1: First layer biases; has shape (H,)
        W2: Second layer weights; has shape (H, K)
        b2: Second layer biases; has shape (K,)

        Inputs:
        - input_size: The dimension D of the input data.
        - hidden_size: The number of neurons H in the hidden layer.
        - output_size: The number of classes K.
        - std: scale of the Gaussian initialization of the weights.
        - dtype: (not in the 2018 starter) float type of the parameters. float64,
          the default, is the course's (and what gradient checks need); float32
          halves the cost of training on large data (pass float32 data too, else
          numpy computes in float64). The random draws are the same for both.
        """
        try:
            is_float = np.issubdtype(np.dtype(dtype), np.floating)
        except TypeError:
            is_float = False
        if not is_float:
            raise ValueError(f"dtype must be a floating-point type such as np.float64 or "
                             f"np.float32, got {dtype!r}")
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("output_size", output_size)):
            check_int(size, name)
        self.params = {}
        self.params['W1'] = (std * np.random.randn(input_size, hidden_size)).astype(dtype)
        self.params['b1'] = np.zeros(hidden_size, dtype=dtype)
        self.params['W2'] = (std * np.random.randn(hidden_size, output_size)).astype(dtype)
        self.params['b2'] = np.zeros(output_size, dtype=dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0):
        """
        Compute the loss and gradients for a two layer fully connected neural
        network.

            loss = mean_i(-log softmax(s_i)[y_i]) + reg * (sum(W1 ** 2) + sum(W2 ** 2))

        Inputs:
        - X: Input data of shape (N, D). Each X[i] is a training sample.
        - y: Vector of training labels, shape (N,). y[i] is the label for X[i], and
          each y[i] is an integer in the range 0 <= y[i] < K. This parameter is
          optional; if it is not passed then we only return scores, and if it is
          passed then we instead return the loss and gradients.
        - reg: Regularization strength.

        Returns:
        If y is None, return a matrix scores of shape (N, K) where scores[i, c] is
        the score for class c on input X[i].

        If y is not None, instead return a tuple of:
        - loss: Loss (data loss and regularization loss) for this batch of training
          samples.
        - grads: Dictionary mapping parameter names to gradients of those parameters
          with respect to the loss function; has the same keys as self.params.
        """
        # Unpack variables from the params dictionary
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        X = check_data(X)
        check_weights(W1, X, "W1")
        N = X.shape[0]

        # Compute the forward pass
        scores = None
        #############################################################################
        # TODO: Perform the forward pass, computing the class scores for the input. #
        # Store the result in the scores variable, which should be an array of      #
        # shape (N, K).                                                             #
        #############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        hidden = np.maximum(0, X.dot(W1) + b1)  # (N, H), ReLU
        scores = hidden.dot(W2) + b2            # (N, K)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        # If the targets are not given then jump out, we're done
        if y is None:
            return scores
        y = check_labels(y, N, W2.shape[1])

        # Compute the loss
        loss = None
        #############################################################################
        # TODO: Finish the forward pass, and compute the loss. This should include  #
        # both the data loss and L2 regularization for W1 and W2. Store the result  #
        # in the variable loss, which should be a scalar. Use the Softmax           #
        # classifier loss.                                                          #
        #############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        rows = np.arange(N)
        shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -np.sum(log_probs[rows, y]) / N
        loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        # Backward pass: compute gradients
        grads = {}
        #############################################################################
        # TODO: Compute the backward pass, computing the derivatives of the weights #
        # and biases. Store the results in the grads dictionary. For example,       #
        # grads['W1'] should store the gradient on W1, and be a matrix of same size #
        #############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        dscores = np.exp(log_probs)  # softmax probabilities
        dscores[rows, y] -= 1
        dscores /= N
        grads['W2'] = hidden.T.dot(dscores) + 2 * reg * W2
        grads['b2'] = dscores.sum(axis=0)
        dhidden = dscores.dot(W2.T)
        dhidden[hidden <= 0] = 0  # ReLU passes gradient only where it was active
        grads['W1'] = X.T.dot(dhidden) + 2 * reg * W1
        grads['b1'] = dhidden.sum(axis=0)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        return loss, grads

    def train(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
              learning_rate: float = 1e-3, learning_rate_decay: float = 0.95,
              reg: float = 5e-6, num_iters: int = 100,
              batch_size: int = 200, verbose: bool = False, momentum: float = 0.0,
              replace: bool = True, seed: int | None = None) -> dict[str, list]:
        """
        Train this neural network using stochastic gradient descent.

        Inputs:
        - X: A numpy array of shape (N, D) giving training data.
        - y: A numpy array of shape (N,) giving training labels; y[i] = c means that
          X[i] has label c, where 0 <= c < K.
        - X_val: A numpy array of shape (N_val, D) giving validation data.
        - y_val: A numpy array of shape (N_val,) giving validation labels.
        - learning_rate: Scalar giving learning rate for optimization.
        - learning_rate_decay: Scalar giving factor used to decay the learning rate
          after each epoch.
        - reg: Scalar giving regularization strength.
        - num_iters: Number of steps to take when optimizing.
        - batch_size: Number of training examples to use per step.
        - verbose: boolean; if true print progress during optimization.
        - momentum: (not in the 2018 starter) classical momentum coefficient;
          0.0, the default, is the course's plain SGD. With momentum mu each step
          is v = mu * v - learning_rate * grad; param += v.
        - replace: True (the course) samples each minibatch with replacement;
          False shuffles once per epoch and walks the permutation.
        - seed: None samples from the global np.random (as the course); an integer
          uses its own RandomState. (Weights are drawn in __init__, from np.random.)

        Returns: a dict with
        - 'loss_history': the minibatch loss at each iteration
        - 'train_acc_history', 'val_acc_history': accuracies measured once per epoch
          (train accuracy on the current minibatch, as the course)
        """
        X = check_data(X)
        num_train = X.shape[0]
        y = check_labels(y, num_train, self.params['W2'].shape[1])
        X_val = check_data(X_val, "X_val")
        y_val = check_labels(y_val, X_val.shape[0], self.params['W2'].shape[1], "y_val")
        check_weights(self.params['W1'], X, "W1")
        check_weights(self.params['W1'], X_val, "W1")
        check_int(batch_size, "batch_size")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        rng = make_rng(seed)
        batches = minibatch_indices(num_train, batch_size, rng, replace=replace)
        # Integer epochs: the course's num_train / batch_size was a float, which
        # only hit `it % epoch == 0` at it=0 when batch_size does not divide N.
        iterations_per_epoch = max(num_train // batch_size, 1)
        velocity = {name: np.zeros_like(value) for name, value in self.params.items()}

        # Use SGD (with momentum) to optimize the parameters in self.params
        loss_history = []
        train_acc_history = []
        val_acc_history = []

        for it in range(num_iters):
            X_batch = None
            y_batch = None

            #########################################################################
            # TODO: Create a random minibatch of training data and labels, storing  #
            # them in X_batch and y_batch respectively. Take its indices from the   #
            # `batches` iterator above (next(batches)): it samples with or without  #
            # replacement, as the `replace` argument says.                          #
            #########################################################################
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            batch_indices = next(batches)
            X_batch = X[batch_indices]
            y_batch = y[batch_indices]

            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            # Compute loss and gradients using the current minibatch
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)

            #########################################################################
            # TODO: Use the gradients in the grads dictionary to update the         #
            # parameters of the network (stored in the dictionary self.params)      #
            # using stochastic gradient descent with momentum: for each parameter,  #
            # first velocity[name] = momentum * velocity[name] - learning_rate *    #
            # grads[name], then add velocity[name] to the parameter. With the       #
            # default momentum = 0 this is plain SGD.                               #
            #########################################################################
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            for name, grad in grads.items():
                velocity[name] = momentum * velocity[name] - learning_rate * grad
                self.params[name] += velocity[name]

            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            if verbose and it % 100 == 0:
                print(f'iteration {it} / {num_iters}: loss {loss:f}')

            # Every epoch, check train and val accuracy and decay learning rate.
            if it % iterations_per_epoch == 0:
                # Check accuracy
                train_acc = (self.predict(X_batch) == y_batch).mean()
                val_acc = (self.predict(X_val) == y_val).mean()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)

                # Decay learning rate
                learning_rate *= learning_rate_decay

        return {
            'loss_history': loss_history,
            'train_acc_history': train_acc_history,
            'val_acc_history': val_acc_history,
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        """
        Use the trained weights of this two-layer network to predict labels for
        data points. For each data point we predict scores for each of the K
        classes, and assign each data point to the class with the highest score.

        Inputs:
        - X: A numpy array of shape (N, D) giving N D-dimensional data points to
          classify.

        Returns:
        - y_pred: A numpy array of shape (N,) giving predicted labels for each of
          the elements of X. For all i, y_pred[i] = c means that X[i] is predicted
          to have class c, where 0 <= c < K.
        """
        y_pred = None

        ###########################################################################
        # TODO: Implement this function; it should be VERY simple!                #
        ###########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        y_pred = np.argmax(self.loss(X), axis=1)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        return y_pred
