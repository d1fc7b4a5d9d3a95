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
from itertools import pairwise

import numpy as np

from cs231n import fast_layers, layer_utils, layers
from cs231n._checks import check_int

# As the official cnn.py, this module star-imports the layers (the course notebooks use
# them after `from cs231n.classifiers.cnn import *`); the named imports are the ones the
# models below use.
from cs231n.fast_layers import *
from cs231n.layer_utils import *
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
from cs231n.layers import *
from cs231n.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    softmax_loss,
)

__all__ = ["DeepConvNet", "ThreeLayerConvNet", "count_params"]
__all__ += layers.__all__
__all__ += fast_layers.__all__
__all__ += layer_utils.__all__

POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


def count_params(model) -> int:
    """Total number of learnable scalars of a model (anything with a ``params`` dict)."""
    return int(sum(np.size(v) for v in model.params.values()))


def _check_input_dim(input_dim: Sequence[int], halvings: int, model: str) -> tuple[int, int, int]:
    """(C, H, W) as ints, with H and W divisible by 2 ** halvings (one halving per 2x2 pool)."""
    if not isinstance(input_dim, Sequence) or len(input_dim) != 3:
        raise ValueError(f"{model}: input_dim must be (C, H, W), got {input_dim!r}")
    C, H, W = (check_int(d, f"{model}: input_dim[{i}]") for i, d in enumerate(input_dim))
    if H % 2**halvings or W % 2**halvings:
        raise ValueError(f"{model}: {halvings} 2x2 max pool(s) need H and W divisible by "
                         f"{2**halvings}, got H={H}, W={W}; crop or pad the images")
    return C, H, W


def _check_images(X: np.ndarray, input_dim: tuple[int, int, int], model: str) -> None:
    """X must be (N, C, H, W) images of the size the model was built for: the shape of
    its affine weights depends on H and W."""
    shape = np.shape(X)
    if len(shape) != 4:
        raise ValueError(f"{model}: X must be images of shape (N, C, H, W) = (N, "
                         f"{', '.join(map(str, input_dim))}), got shape {shape}")
    if shape[1:] != tuple(input_dim):
        raise ValueError(f"{model} was built for input {tuple(input_dim)}, got {shape[1:]} "
                         f"(X of shape {shape}); build the model with input_dim={shape[1:]} "
                         "or resize the images")


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
        if check_int(filter_size, "ThreeLayerConvNet: filter_size") % 2 == 0:
            raise ValueError(f"ThreeLayerConvNet: filter_size must be odd (so that padding "
                             f"keeps the spatial size), got {filter_size!r}")
        self.input_dim = (C, H, W)
        self.params: dict[str, np.ndarray] = {}
        self.reg = reg
        self.dtype = dtype
        #######################################################################
        # TODO: Initialize the weights and biases of the three-layer          #
        # convolutional network: weights from a Gaussian of mean 0 and        #
        # standard deviation weight_scale, biases zero. Store them in         #
        # self.params: the convolution's "W1" (F, C, filter_size,             #
        # filter_size) and "b1" (F,); the hidden affine layer's "W2" and      #
        # "b2", whose inputs are the F * H/2 * W/2 values of the pooled       #
        # output (the convolution keeps H and W, the 2x2 pool halves them);   #
        # the output affine layer's "W3" (hidden_dim, num_classes) and "b3"   #
        # (num_classes,).                                                     #
        #######################################################################
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
        _check_images(X, self.input_dim, "ThreeLayerConvNet")
        X = X.astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        # Padding (filter_size - 1) // 2 with stride 1 keeps the spatial size.
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = dict(POOL_2X2)

        scores = None
        #######################################################################
        # TODO: Implement the forward pass of the three-layer convolutional   #
        # network, conv - relu - 2x2 max pool - affine - relu - affine, with  #
        # the sandwich layers of cs231n.layer_utils. Store the (N, K) class   #
        # scores of X in scores and keep the caches for the backward pass.    #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pooled, pool_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if y is None:
            return scores

        loss, grads = 0, {}
        #######################################################################
        # TODO: Implement the backward pass. Compute the softmax loss of the  #
        # scores plus the L2 regularization 0.5 * self.reg * (the sum of the  #
        # squares of W1, W2 and W3), and store it in loss. Store the gradient #
        # of every parameter in grads, under its name in self.params, with    #
        # self.reg * W added to the gradient of each weight.                  #
        #######################################################################
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


def _conv_block_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, gamma: np.ndarray | None,
                        beta: np.ndarray | None, conv_param: dict, bn_param: dict | None,
                        pool_param: dict | None) -> tuple[np.ndarray, tuple]:
    """conv - [spatial batchnorm] - relu - [max pool]: one conv layer of DeepConvNet.

    Inputs:
    - x: (N, C, H, W) input
    - w: (F, C, HH, WW) filters; b: (F,) biases
    - gamma, beta: (F,) scale and shift of the batchnorm (ignored without it)
    - conv_param: {'stride', 'pad'}
    - bn_param: as for spatial_batchnorm_forward (running statistics updated in place
      in train mode), or None for no batchnorm
    - pool_param: {'pool_height', 'pool_width', 'stride'}, or None for no pooling

    Returns a tuple of:
    - out: (N, F, H', W')
    - cache: object to give to _conv_block_backward
    """
    out, cache = None, None
    ###########################################################################
    # TODO: Implement one convolutional layer of DeepConvNet,                 #
    # conv - [spatial batchnorm] - relu - [2x2 max pool]: batch norm when     #
    # bn_param is not None, pooling when pool_param is not None. The conv     #
    # sandwich layers of cs231n.layer_utils cover the four cases. Store the   #
    # output in out, and in cache the sandwich's cache together with which    #
    # case ran (the backward pass needs to know).                             #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    if bn_param is None and pool_param is None:
        out, cache = conv_relu_forward(x, w, b, conv_param)
    elif bn_param is None:
        out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    elif pool_param is None:
        out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    else:
        out, cache = conv_bn_relu_pool_forward(x, w, b, gamma, beta, conv_param, bn_param,
                                               pool_param)
    cache = (bn_param is not None, pool_param is not None, cache)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def _conv_block_backward(dout: np.ndarray, cache: tuple) -> tuple:
    """Backward pass of _conv_block_forward.

    Inputs:
    - dout: (N, F, H', W') upstream derivative
    - cache: from _conv_block_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    - dgamma, dbeta: (F,) each, or None when there is no batchnorm
    """
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of _conv_block_forward with the       #
    # backward function of the sandwich layer the forward pass used. Store    #
    # the results in dx, dw and db, and in dgamma and dbeta (they stay None   #
    # without batch norm).                                                    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    batchnorm, pool, sandwich_cache = cache
    if batchnorm:
        backward = conv_bn_relu_pool_backward if pool else conv_bn_relu_backward
        dx, dw, db, dgamma, dbeta = backward(dout, sandwich_cache)
    else:
        backward = conv_relu_pool_backward if pool else conv_relu_backward
        dx, dw, db = backward(dout, sandwich_cache)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db, dgamma, dbeta


def _weight_shapes(input_dim: tuple[int, int, int], num_filters: list[int], convs_per_block: int,
                   hidden_dims: list[int], num_classes: int) -> list[tuple[int, ...]]:
    """Shapes of DeepConvNet's W1, ..., WL: (F, C, 3, 3) for each conv (3x3 filters,
    size-preserving), then (D_in, D_out) for each affine layer."""
    C, H, W = input_dim
    shapes: list[tuple[int, ...]] = []
    for filters in num_filters:
        for _ in range(convs_per_block):
            shapes.append((filters, C, 3, 3))
            C = filters
    pooled = 2 ** len(num_filters)         # each block ends with a 2x2 pool
    dims = [C * (H // pooled) * (W // pooled), *hidden_dims, num_classes]
    return shapes + list(pairwise(dims))


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
            check_int(value, f"DeepConvNet: {name}")
        if not 0 < dropout <= 1:
            raise ValueError(f"DeepConvNet: dropout is the keep probability and must be in "
                             f"(0, 1], got {dropout!r}")
        self.input_dim = _check_input_dim(input_dim, len(num_filters), "DeepConvNet")

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
        #######################################################################
        # TODO: Initialize the parameters and store them in self.params,      #
        # layer by layer, the convolutions first: "Wi" and "bi" for layer i,  #
        # plus "gammai" (ones) and "betai" (zeros) for every layer but the    #
        # last when use_batchnorm. _weight_shapes gives the shapes of W1,     #
        # ..., WL. Draw the weights from rng: with standard deviation         #
        # weight_scale when it is given, else He initialization               #
        # sqrt(2 / fan_in), except 0.1 * sqrt(1 / fan_in) for the last layer  #
        # (fan_in is C * 3 * 3 for a convolution, the number of inputs for an #
        # affine layer). Biases zero.                                         #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        def std(fan_in: int, last: bool) -> float:
            if weight_scale is not None:
                return weight_scale
            # He for layers followed by a ReLU; small scores at first for the classifier
            return 0.1 * np.sqrt(1.0 / fan_in) if last else np.sqrt(2.0 / fan_in)

        shapes = _weight_shapes(self.input_dim, num_filters, convs_per_block, hidden_dims,
                                num_classes)
        for layer, shape in enumerate(shapes, start=1):
            last = layer == self.num_layers
            conv = len(shape) == 4
            fan_in = int(np.prod(shape[1:])) if conv else shape[0]
            outputs = shape[0] if conv else shape[1]
            self.params[f"W{layer}"] = std(fan_in, last) * rng.randn(*shape)
            self.params[f"b{layer}"] = np.zeros(outputs)
            if use_batchnorm and not last:
                self.params[f"gamma{layer}"] = np.ones(outputs)
                self.params[f"beta{layer}"] = np.zeros(outputs)
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

    def _bn_param(self, layer: int) -> dict | None:
        """The bn_param of a layer (1-based), or None without batchnorm."""
        return self.bn_params[layer - 1] if self.use_batchnorm else None

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
        _check_images(X, self.input_dim, "DeepConvNet")
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        conv_param = {"stride": 1, "pad": 1}       # 3x3 filters keep the spatial size
        pool_param = dict(POOL_2X2)

        scores = None
        #######################################################################
        # TODO: Implement the forward pass, computing the class scores of X:  #
        # the convolutional layers with _conv_block_forward (the last one of  #
        # each block pools; self._bn_param(i) for layer i), dropout if the    #
        # network uses it, the hidden affine layers with                      #
        # affine_norm_relu_forward (batch norm if used, and dropout after     #
        # each if used), then the output affine layer. Store the (N, K)       #
        # scores in scores and keep every cache for the backward pass.        #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        caches = {}
        out = X
        for i in range(1, self.num_conv_layers + 1):
            pool = i % self.convs_per_block == 0       # the last conv of a block pools
            out, caches[i] = _conv_block_forward(
                out, p[f"W{i}"], p[f"b{i}"], p.get(f"gamma{i}"), p.get(f"beta{i}"), conv_param,
                self._bn_param(i), pool_param if pool else None)
        drop_cache = None
        if self.use_dropout:
            out, drop_cache = dropout_forward(out, self.dropout_param)
        norm = "batchnorm" if self.use_batchnorm else None
        for i in range(self.num_conv_layers + 1, self.num_layers):
            out, caches[i] = affine_norm_relu_forward(
                out, p[f"W{i}"], p[f"b{i}"], p.get(f"gamma{i}"), p.get(f"beta{i}"),
                self._bn_param(i), norm, self.dropout_param if self.use_dropout else None)
        L = self.num_layers
        scores, caches[L] = affine_forward(out, p[f"W{L}"], p[f"b{L}"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        #######################################################################
        # TODO: Implement the backward pass. Compute the softmax loss of the  #
        # scores plus the L2 regularization 0.5 * self.reg * sum(W**2) over   #
        # all weights, and store it in loss. Backpropagate through the layers #
        # in reverse order and store the gradient of every parameter in       #
        # grads, under its name in self.params, with self.reg * W added to    #
        # the gradient of each weight.                                        #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        def store(i: int, dw, db, dgamma, dbeta) -> None:
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
            if self.use_batchnorm:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta

        loss, dscores = softmax_loss(scores, y)
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L])
        for i in range(L - 1, self.num_conv_layers, -1):
            dout, *layer_grads = affine_norm_relu_backward(dout, caches[i])
            store(i, *layer_grads)
        if drop_cache is not None:
            dout = dropout_backward(dout, drop_cache)
        for i in range(self.num_conv_layers, 0, -1):
            dout, *layer_grads = _conv_block_backward(dout, caches[i])
            store(i, *layer_grads)
        for i in range(1, L + 1):
            W = p[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads
