"""Sandwich layers: common sequences of layers as one forward/backward pair.

Each ``*_forward`` returns (out, cache) and each ``*_backward(dout, cache)`` returns
the gradients in the order of the forward's array inputs. The conv sandwiches use
the fast conv and pooling layers of cs231n.fast_layers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

# What `from cs231n.layer_utils import *` gives: the official sandwich layers and ours.
__all__ = [
    "affine_norm_relu_backward",
    "affine_norm_relu_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_bn_relu_pool_backward",
    "conv_bn_relu_pool_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]

NORMALIZATIONS = (None, "batchnorm", "layernorm")


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Affine transform followed by a ReLU.

    Inputs:
    - x: (N, d_1, ..., d_k) input, flattened to (N, D)
    - w: (D, M) weights
    - b: (M,) biases

    Returns a tuple of:
    - out: (N, M) output of the ReLU
    - cache: object to give to the backward pass
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass for the affine-relu sandwich.

    Inputs:
    - dout: (N, M) upstream derivative
    - cache: from affine_relu_forward

    Returns a tuple of:
    - dx: (N, d_1, ..., d_k)
    - dw: (D, M)
    - db: (M,)
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def affine_norm_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                             gamma: np.ndarray | None, beta: np.ndarray | None,
                             norm_param: dict | None, normalization: str | None = None,
                             dropout_param: dict | None = None) -> tuple[np.ndarray, tuple]:
    """affine - [batchnorm or layernorm] - relu - [dropout]: one hidden layer of
    FullyConnectedNet.

    Inputs:
    - x: (N, d_1, ..., d_k) input, flattened to (N, D)
    - w: (D, M) weights
    - b: (M,) biases
    - gamma, beta: (M,) scale and shift of the normalization (ignored when
      normalization is None)
    - norm_param: bn_param for 'batchnorm' (running statistics updated in place in
      train mode), ln_param for 'layernorm', ignored for None
    - normalization: None, 'batchnorm' or 'layernorm'
    - dropout_param: dropout_param of dropout_forward, or None for no dropout

    Returns a tuple of:
    - out: (N, M)
    - cache: object to give to affine_norm_relu_backward
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    out, cache = None, None
    ###########################################################################
    # TODO: Implement the forward pass of one hidden layer of                 #
    # FullyConnectedNet with the layers you wrote: affine, then batch norm or #
    # layer norm as normalization says (with gamma, beta and norm_param;      #
    # nothing for None), then ReLU, then dropout when dropout_param is not    #
    # None. Store the output in out, and in cache the caches of the steps and #
    # what the backward pass needs to know which of them ran.                 #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    a, fc_cache = affine_forward(x, w, b)
    norm_cache = None
    if normalization == "batchnorm":
        a, norm_cache = batchnorm_forward(a, gamma, beta, norm_param)
    elif normalization == "layernorm":
        a, norm_cache = layernorm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(a)
    drop_cache = None
    if dropout_param is not None:
        out, drop_cache = dropout_forward(out, dropout_param)
    cache = (normalization, fc_cache, norm_cache, relu_cache, drop_cache)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def affine_norm_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[Any, ...]:
    """Backward pass for affine - [norm] - relu - [dropout].

    Inputs:
    - dout: (N, M) upstream derivative
    - cache: from affine_norm_relu_forward

    Returns a tuple of:
    - dx: (N, d_1, ..., d_k)
    - dw: (D, M)
    - db: (M,)
    - dgamma, dbeta: (M,) each, or None when there is no normalization
    """
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of affine_norm_relu_forward: its      #
    # steps in reverse order (dropout, ReLU, normalization, affine), with the #
    # caches it stored. Store the results in dx, dw and db, and in dgamma and #
    # dbeta (they stay None without normalization).                           #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    normalization, fc_cache, norm_cache, relu_cache, drop_cache = cache
    if drop_cache is not None:
        dout = dropout_backward(dout, drop_cache)
    da = relu_backward(dout, relu_cache)
    if normalization == "batchnorm":
        da, dgamma, dbeta = batchnorm_backward_alt(da, norm_cache)
    elif normalization == "layernorm":
        da, dgamma, dbeta = layernorm_backward(da, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                      conv_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution followed by a ReLU.

    Inputs:
    - x: (N, C, H, W) input
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: {'stride', 'pad'}

    Returns a tuple of:
    - out: (N, F, H', W')
    - cache: object to give to the backward pass
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    cache = (conv_cache, relu_cache)
    return out, cache


def conv_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass for the conv-relu sandwich.

    Inputs:
    - dout: (N, F, H', W') upstream derivative
    - cache: from conv_relu_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_relu_pool_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict,
                           pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution, ReLU, max pooling.

    Inputs:
    - x: (N, C, H, W) input
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: {'stride', 'pad'}
    - pool_param: {'pool_height', 'pool_width', 'stride'}

    Returns a tuple of:
    - out: (N, F, H'', W'') output of the pooling layer
    - cache: object to give to the backward pass
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    cache = (conv_cache, relu_cache, pool_cache)
    return out, cache


def conv_relu_pool_backward(dout: np.ndarray,
                            cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass for the conv-relu-pool sandwich.

    Inputs:
    - dout: (N, F, H'', W'') upstream derivative
    - cache: from conv_relu_pool_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_bn_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, gamma: np.ndarray,
                         beta: np.ndarray, conv_param: dict,
                         bn_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution, spatial batch normalization, ReLU.

    Inputs:
    - x: (N, C, H, W) input
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - gamma, beta: (F,) scale and shift of the spatial batchnorm
    - conv_param: {'stride', 'pad'}
    - bn_param: as for spatial_batchnorm_forward (running statistics updated in
      place in train mode)

    Returns a tuple of:
    - out: (N, F, H', W')
    - cache: object to give to the backward pass
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    cache = (conv_cache, bn_cache, relu_cache)
    return out, cache


def conv_bn_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass for the conv-bn-relu sandwich.

    Inputs:
    - dout: (N, F, H', W') upstream derivative
    - cache: from conv_bn_relu_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    - dgamma, dbeta: (F,) each
    """
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_bn_relu_pool_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, gamma: np.ndarray,
                              beta: np.ndarray, conv_param: dict, bn_param: dict,
                              pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution, spatial batch normalization, ReLU, max pooling.

    Inputs: as conv_bn_relu_forward, plus
    - pool_param: {'pool_height', 'pool_width', 'stride'}

    Returns a tuple of:
    - out: (N, F, H'', W'') output of the pooling layer
    - cache: object to give to the backward pass
    """
    s, conv_bn_relu_cache = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    cache = (conv_bn_relu_cache, pool_cache)
    return out, cache


def conv_bn_relu_pool_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass for the conv-bn-relu-pool sandwich.

    Inputs:
    - dout: (N, F, H'', W'') upstream derivative
    - cache: from conv_bn_relu_pool_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    - dgamma, dbeta: (F,) each
    """
    conv_bn_relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    return conv_bn_relu_backward(ds, conv_bn_relu_cache)
