"""Convolutional networks of Assignment 2, in numpy, built from the fast layers.

- ThreeLayerConvNet: the course's conv - relu - 2x2 max pool - affine - relu - affine.
- DeepConvNet: the open-ended model for the >= 70% CIFAR-10 target,
  {[conv3x3 - spatial batchnorm - relu] x convs_per_block - 2x2 max pool} x blocks,
  then [dropout] - {affine - batchnorm - relu - [dropout]} x hidden - affine - softmax.

Both follow the course's model API (``params``, ``loss(X, y=None)``) and regularize
the weights with 0.5 * reg * sum(W**2).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
from cs231n.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    softmax_loss,
)

POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


def count_params(model) -> int:
    """Total number of learnable scalars of a model (anything with a ``params`` dict)."""
    return int(sum(np.size(v) for v in model.params.values()))


def _check_input_dim(input_dim: Sequence[int], halvings: int, model: str) -> tuple[int, int, int]:
    if len(input_dim) != 3 or any(not isinstance(d, (int, np.integer)) or d < 1
                                  for d in input_dim):
        raise ValueError(f"{model}: input_dim must be (C, H, W) positive integers, "
                         f"got {input_dim!r}")
    C, H, W = input_dim
    if H % 2**halvings or W % 2**halvings:
        raise ValueError(f"{model}: {halvings} 2x2 max pool(s) need H and W divisible by "
                         f"{2**halvings}, got H={H}, W={W}; crop or pad the images")
    return C, H, W


class ThreeLayerConvNet:
    """A three-layer convolutional network:

        conv - relu - 2x2 max pool - affine - relu - affine - softmax

    operating on minibatches of N images of shape (C, H, W). The convolution keeps
    the spatial size (stride 1, pad (filter_size - 1) // 2, filter_size odd).
    Learnable parameters, in self.params:
    - W1: (F, C, filter_size, filter_size), b1: (F,)
    - W2: (F * H/2 * W/2, hidden_dim), b2: (hidden_dim,)
    - W3: (hidden_dim, num_classes), b3: (num_classes,)
    """

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype=np.float32) -> None:
        """Initialize the network: weights from N(0, weight_scale^2), biases zero.

        Inputs:
        - input_dim: (C, H, W), the size of the input images; H and W even
        - num_filters: F, the number of filters of the convolution
        - filter_size: width and height of the filters, odd
        - hidden_dim: number of units of the hidden affine layer
        - num_classes: K, the number of classes
        - weight_scale: standard deviation of the initial weights
        - reg: L2 regularization strength
        - dtype: numpy dtype of the parameters and computations (float64 for
          gradient checks)
        """
        C, H, W = _check_input_dim(input_dim, 1, "ThreeLayerConvNet")
        if not isinstance(filter_size, (int, np.integer)) or filter_size < 1 or filter_size % 2 == 0:
            raise ValueError(f"ThreeLayerConvNet: filter_size must be a positive odd integer "
                             f"(so that padding keeps the spatial size), got {filter_size!r}")
        self.params: dict[str, np.ndarray] = {}
        self.reg = reg
        self.dtype = dtype
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * (H // 2) * (W // 2),
                                                           hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, dict]:
        """Compute the loss and gradients for a minibatch.

        Inputs:
        - X: (N, C, H, W) images
        - y: (N,) integer labels, or None

        Returns:
        - if y is None: scores, (N, K)
        - else (loss, grads), grads a dict with the same keys and shapes as self.params
        """
        X = X.astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        # Padding (filter_size - 1) // 2 with stride 1 keeps the spatial size.
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = dict(POOL_2X2)

        scores = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pooled, pool_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if y is None:
            return scores

        loss, grads = 0, {}
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum(np.sum(W * W) for W in (W1, W2, W3))
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)
        for name, W in (("W1", W1), ("W2", W2), ("W3", W3)):
            grads[name] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads


class DeepConvNet:
    """A VGG-style convolutional network for CIFAR-10, in numpy:

        {[conv3x3 - spatial batchnorm - relu] x convs_per_block - 2x2 max pool} x len(num_filters)
        - [dropout] - {affine - batchnorm - relu - [dropout]} x len(hidden_dims)
        - affine - softmax

    The 3x3 convolutions use stride 1 and pad 1, so only the pools shrink the image:
    H and W must be divisible by 2 ** len(num_filters). Layers are numbered in order,
    convolutions first: parameters W1, b1, gamma1, beta1, ..., WL, bL.
    Weights use He initialization, std sqrt(2 / fan_in), except the last layer,
    0.1 * sqrt(1 / fan_in) so that the initial loss is close to log(K); or all
    weight_scale when it is given.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32),
                 num_filters: Sequence[int] = (32, 64, 128), convs_per_block: int = 2,
                 hidden_dims: Sequence[int] = (), num_classes: int = 10,
                 weight_scale: float | None = None, reg: float = 0.0, dropout: float = 1,
                 use_batchnorm: bool = True, dtype=np.float32, seed: int | None = None) -> None:
        """Initialize the network.

        Inputs:
        - input_dim: (C, H, W), the size of the input images
        - num_filters: the number of filters of each block (one pool per block)
        - convs_per_block: number of conv3x3 layers in each block
        - hidden_dims: sizes of the hidden affine layers after the conv blocks
        - num_classes: K, the number of classes
        - weight_scale: None for He initialization, else the std of all weights
        - reg: L2 regularization strength
        - dropout: probability of KEEPING a unit at the input of each affine layer,
          in (0, 1]; 1 means no dropout
        - use_batchnorm: batchnorm after every conv and hidden affine layer
        - dtype: numpy dtype of the parameters and computations
        - seed: if not None, seeds the weight initialization and the dropout masks
        """
        num_filters = list(num_filters)
        hidden_dims = list(hidden_dims)
        if not num_filters:
            raise ValueError("DeepConvNet: num_filters needs at least one block")
        for name, value in [("convs_per_block", convs_per_block), ("num_classes", num_classes),
                            *[(f"num_filters[{i}]", f) for i, f in enumerate(num_filters)],
                            *[(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)]]:
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"DeepConvNet: {name} must be a positive integer, got {value!r}")
        if not 0 < dropout <= 1:
            raise ValueError(f"DeepConvNet: dropout is the keep probability and must be in "
                             f"(0, 1], got {dropout!r}")
        C, H, W = _check_input_dim(input_dim, len(num_filters), "DeepConvNet")

        self.num_filters = num_filters
        self.convs_per_block = convs_per_block
        self.hidden_dims = hidden_dims
        self.use_batchnorm = use_batchnorm
        self.use_dropout = dropout != 1
        self.reg = reg
        self.dtype = dtype
        self.num_conv_layers = len(num_filters) * convs_per_block
        self.num_layers = self.num_conv_layers + len(hidden_dims) + 1
        self.params: dict[str, np.ndarray] = {}
        rng = np.random.RandomState(seed) if seed is not None else np.random
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        def std(fan_in: int, last: bool = False) -> float:
            if weight_scale is not None:
                return weight_scale
            # He for layers followed by a ReLU; small scores at first for the classifier
            return 0.1 * np.sqrt(1.0 / fan_in) if last else np.sqrt(2.0 / fan_in)

        layer, channels = 1, C
        for filters in num_filters:
            for _ in range(convs_per_block):
                fan_in = channels * 3 * 3
                self.params[f"W{layer}"] = std(fan_in) * rng.randn(filters, channels, 3, 3)
                self.params[f"b{layer}"] = np.zeros(filters)
                if use_batchnorm:
                    self.params[f"gamma{layer}"] = np.ones(filters)
                    self.params[f"beta{layer}"] = np.zeros(filters)
                layer, channels = layer + 1, filters
        pooled = 2 ** len(num_filters)
        dims = [channels * (H // pooled) * (W // pooled), *hidden_dims, num_classes]
        for i in range(len(dims) - 1):
            last = layer == self.num_layers
            self.params[f"W{layer}"] = std(dims[i], last) * rng.randn(dims[i], dims[i + 1])
            self.params[f"b{layer}"] = np.zeros(dims[i + 1])
            if use_batchnorm and not last:
                self.params[f"gamma{layer}"] = np.ones(dims[i + 1])
                self.params[f"beta{layer}"] = np.zeros(dims[i + 1])
            layer += 1
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        self.dropout_param: dict = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout}
            if seed is not None:
                self.dropout_param["seed"] = seed
        # One bn_param per normalized layer (all but the last): running statistics.
        self.bn_params: list[dict] = []
        if use_batchnorm:
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def architecture(self) -> str:
        """A one-line description of the layers, e.g. for printing in a notebook."""
        norm = "-bn" if self.use_batchnorm else ""
        blocks = [f"[conv3x3({f}){norm}-relu]x{self.convs_per_block}-pool"
                  for f in self.num_filters]
        drop = f"-dropout({self.dropout_param['p']})" if self.use_dropout else ""
        hidden = [f"affine({h}){norm}-relu{drop}" for h in self.hidden_dims]
        classes = self.params[f"W{self.num_layers}"].shape[1]
        return " - ".join(blocks + ([drop[1:]] if drop else []) + hidden
                          + [f"affine({classes})-softmax"])

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, dict]:
        """Compute the loss and gradients for a minibatch.

        Inputs:
        - X: (N, C, H, W) images
        - y: (N,) integer labels, or None

        Returns:
        - if y is None (test mode): scores, (N, K)
        - else (train mode) (loss, grads), grads a dict with the same keys and shapes
          as self.params
        """
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        conv_param = {"stride": 1, "pad": 1}       # 3x3 filters keep the spatial size
        pool_param = dict(POOL_2X2)

        scores = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        caches = {}
        out = X
        for i in range(1, self.num_conv_layers + 1):
            W, b = p[f"W{i}"], p[f"b{i}"]
            pool = i % self.convs_per_block == 0       # the last conv of a block pools
            if self.use_batchnorm:
                gamma, beta, bn_param = p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[i - 1]
                if pool:
                    out, caches[i] = conv_bn_relu_pool_forward(out, W, b, gamma, beta, conv_param,
                                                               bn_param, pool_param)
                else:
                    out, caches[i] = conv_bn_relu_forward(out, W, b, gamma, beta, conv_param,
                                                          bn_param)
            elif pool:
                out, caches[i] = conv_relu_pool_forward(out, W, b, conv_param, pool_param)
            else:
                out, caches[i] = conv_relu_forward(out, W, b, conv_param)
        drop_cache = None
        if self.use_dropout:
            out, drop_cache = dropout_forward(out, self.dropout_param)
        norm = "batchnorm" if self.use_batchnorm else None
        for i in range(self.num_conv_layers + 1, self.num_layers):
            out, caches[i] = affine_norm_relu_forward(
                out, p[f"W{i}"], p[f"b{i}"], p.get(f"gamma{i}"), p.get(f"beta{i}"),
                self.bn_params[i - 1] if norm else None, norm,
                self.dropout_param if self.use_dropout else None)
        L = self.num_layers
        scores, caches[L] = affine_forward(out, p[f"W{L}"], p[f"b{L}"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dscores = softmax_loss(scores, y)
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L])
        for i in range(L - 1, self.num_conv_layers, -1):
            dout, grads[f"W{i}"], grads[f"b{i}"], dgamma, dbeta = \
                affine_norm_relu_backward(dout, caches[i])
            if self.use_batchnorm:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        if drop_cache is not None:
            dout = dropout_backward(dout, drop_cache)
        for i in range(self.num_conv_layers, 0, -1):
            pool = i % self.convs_per_block == 0
            if self.use_batchnorm:
                backward = conv_bn_relu_pool_backward if pool else conv_bn_relu_backward
                dout, grads[f"W{i}"], grads[f"b{i}"], grads[f"gamma{i}"], grads[f"beta{i}"] = \
                    backward(dout, caches[i])
            else:
                backward = conv_relu_pool_backward if pool else conv_relu_backward
                dout, grads[f"W{i}"], grads[f"b{i}"] = backward(dout, caches[i])
        for i in range(1, L + 1):
            W = p[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads
