"""Fully connected networks of Assignment 2, built from cs231n.layers.

Both models follow the course's model API:
- ``model.params``: dict from parameter name (W1, b1, gamma1, beta1, ...) to array
- ``model.loss(X, y=None)``: scores (N, K) when y is None (test mode), else
  (loss, grads) with grads a dict with the same keys as params (train mode)

Regularization: L2 on the weight matrices only, loss += 0.5 * reg * sum(W**2),
so its gradient is reg * W.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cs231n import layer_utils, layers
from cs231n._checks import check_int

# As the official fc_net.py, this module star-imports the layers (the course notebooks call
# relu_forward, svm_loss, ... after `from cs231n.classifiers.fc_net import *`); the named
# imports are the ones the models below use.
from cs231n.layer_utils import *
from cs231n.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from cs231n.layers import *
from cs231n.layers import affine_backward, affine_forward, softmax_loss

__all__ = ["FullyConnectedNet", "TwoLayerNet"]
__all__ += layers.__all__
__all__ += layer_utils.__all__


class TwoLayerNet:
    """A two-layer fully connected network with ReLU and softmax loss:

        affine - relu - affine - softmax

    Inputs have dimension D, the hidden layer H units, and there are K classes.
    Learnable parameters, in self.params:
    - W1: (D, H), b1: (H,), W2: (H, K), b2: (K,)
    """

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100,
                 num_classes: int = 10, weight_scale: float = 1e-3, reg: float = 0.0) -> None:
        """Initialize the network: weights from N(0, weight_scale^2), biases zero.

        Inputs:
        - input_dim: D, the size of the input
        - hidden_dim: H, the size of the hidden layer
        - num_classes: K, the number of classes
        - weight_scale: standard deviation of the initial weights
        - reg: L2 regularization strength
        """
        for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim),
                            ("num_classes", num_classes)):
            check_int(value, name)
        self.params: dict[str, np.ndarray] = {}
        self.reg = reg
        #######################################################################
        # TODO: Initialize the weights and biases of the two-layer net:       #
        # weights from a Gaussian of mean 0 and standard deviation            #
        # weight_scale, biases zero. Store them in self.params, the first     #
        # layer's as "W1" (D, H) and "b1" (H,), the second layer's as "W2"    #
        # (H, K) and "b2" (K,).                                               #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, dict]:
        """Compute the loss and gradients for a minibatch.

        Inputs:
        - X: (N, d_1, ..., d_k) input data, D = d_1 * ... * d_k
        - y: (N,) integer labels, or None

        Returns:
        - if y is None: scores, (N, K), scores[i, c] the score of class c for X[i]
        - else a tuple (loss, grads): the scalar loss and a dict of gradients with
          the same keys and shapes as self.params
        """
        scores = None
        #######################################################################
        # TODO: Implement the forward pass of the two-layer net,              #
        # affine - relu - affine, with the layers of cs231n.layers and        #
        # cs231n.layer_utils. Store the (N, K) class scores of X in scores,   #
        # and keep the caches for the backward pass.                          #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if y is None:
            return scores

        loss, grads = 0, {}
        #######################################################################
        # TODO: Implement the backward pass of the two-layer net. Compute the #
        # softmax loss of the scores, add the L2 regularization               #
        # 0.5 * self.reg * (the sum of the squares of W1 and W2), and store   #
        # it in loss. Backpropagate with the layers' backward functions and   #
        # store the gradient of every parameter in grads, under its name in   #
        # self.params; the regularization adds self.reg * W to the gradient   #
        # of each weight.                                                     #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W1"] += self.reg * p["W1"]
        grads["W2"] += self.reg * p["W2"]
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads


class FullyConnectedNet:
    """A fully connected network with any number of hidden layers:

        {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where normalization and dropout are optional and L = len(hidden_dims) + 1.
    Learnable parameters, in self.params: W1, b1, ..., WL, bL, and gamma1, beta1,
    ..., gamma(L-1), beta(L-1) when normalization is used.
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32,
                 num_classes: int = 10, dropout: float = 1, normalization: str | None = None,
                 reg: float = 0.0, weight_scale: float = 1e-2, dtype=np.float32,
                 seed: int | None = None) -> None:
        """Initialize the network: weights from N(0, weight_scale^2), biases zero,
        gamma ones and beta zeros.

        Inputs:
        - hidden_dims: list of the sizes of the hidden layers
        - input_dim: D, the size of the input
        - num_classes: K, the number of classes
        - dropout: probability of KEEPING a unit, in (0, 1]; 1 means no dropout
        - normalization: None, 'batchnorm' or 'layernorm'
        - reg: L2 regularization strength
        - weight_scale: standard deviation of the initial weights
        - dtype: numpy dtype of all parameters and computations; float32 is faster,
          float64 is needed for numeric gradient checks
        - seed: if not None, passed to the dropout layers to make them deterministic
        """
        hidden_dims = list(hidden_dims)
        for i, dim in enumerate(hidden_dims):
            check_int(dim, f"hidden_dims[{i}]")
        check_int(input_dim, "input_dim")
        check_int(num_classes, "num_classes")
        if not 0 < dropout <= 1:
            raise ValueError(f"dropout is the keep probability and must be in (0, 1], "
                             f"got {dropout!r}")
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError(f"normalization must be None, 'batchnorm' or 'layernorm', "
                             f"got {normalization!r}")
        self.normalization = normalization
        self.use_dropout = dropout != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params: dict[str, np.ndarray] = {}
        #######################################################################
        # TODO: Initialize the parameters of the network and store them in    #
        # self.params. Layer i (1 to L) has weights "Wi" and biases "bi": W1  #
        # (D, H1) and b1 (H1,) for the first hidden layer, and so on to the   #
        # last layer, whose outputs are the num_classes scores. Weights from  #
        # a Gaussian of mean 0 and standard deviation weight_scale, biases    #
        # zero. With normalization, each hidden layer i also has a scale      #
        # "gammai" (ones) and a shift "betai" (zeros) of its width; the       #
        # output layer has none.                                              #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = weight_scale * np.random.randn(fan_in, fan_out)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        # Dropout needs to know train/test mode (and a seed for gradient checks);
        # one dict is shared by all dropout layers.
        self.dropout_param: dict = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # Batchnorm keeps running statistics per layer: one bn_param dict per layer.
        self.bn_params: list[dict] = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, dict]:
        """Compute the loss and gradients for a minibatch.

        Inputs:
        - X: (N, d_1, ..., d_k) input data, D = d_1 * ... * d_k
        - y: (N,) integer labels, or None

        Returns:
        - if y is None (test mode): scores, (N, K)
        - else (train mode) a tuple (loss, grads): the scalar loss and a dict of
          gradients with the same keys and shapes as self.params
        """
        X = X.astype(self.dtype, copy=False)   # no copy when X is already in dtype, as in cnn.py
        mode = "test" if y is None else "train"
        # Batchnorm and dropout behave differently in training and testing.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        scores = None
        #######################################################################
        # TODO: Implement the forward pass of the network, computing the      #
        # class scores of X: {affine - [batch/layer norm] - relu - [dropout]} #
        # for each hidden layer (affine_norm_relu_forward does one, with      #
        # self.bn_params[i - 1] for layer i and self.dropout_param), then the #
        # output affine layer. Store the (N, K) scores in scores and keep the #
        # cache of every layer for the backward pass.                         #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        L = self.num_layers
        caches = {}
        hidden = X
        for i in range(1, L):
            hidden, caches[i] = affine_norm_relu_forward(
                hidden, p[f"W{i}"], p[f"b{i}"], p.get(f"gamma{i}"), p.get(f"beta{i}"),
                self.bn_params[i - 1] if self.normalization else None, self.normalization,
                self.dropout_param if self.use_dropout else None)
        scores, caches[L] = affine_forward(hidden, p[f"W{L}"], p[f"b{L}"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        #######################################################################
        # TODO: Implement the backward pass of the network. Compute the       #
        # softmax loss of the scores plus the L2 regularization               #
        # 0.5 * self.reg * sum(W**2) over all weight matrices (not the        #
        # biases, gammas or betas), and store it in loss. Backpropagate       #
        # through the layers in reverse order and store the gradient of every #
        # parameter in grads, under its name in self.params; add self.reg * W #
        # to the gradient of each weight.                                     #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dscores = softmax_loss(scores, y)
        dhidden, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L])
        for i in range(L - 1, 0, -1):
            dhidden, dw, db, dgamma, dbeta = affine_norm_relu_backward(dhidden, caches[i])
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
            if self.normalization is not None:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        for i in range(1, L + 1):
            W = p[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads
