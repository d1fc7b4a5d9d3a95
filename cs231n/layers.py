"""Layers of Assignment 2, in numpy: forward and backward passes.

Contract (as the course): ``*_forward(inputs..., param_dict) -> (out, cache)`` and
``*_backward(dout, cache) -> grads`` in the order of the forward inputs. A backward
never updates weights; the only in-place update is batchnorm's running statistics,
stated in its docstring.

Glossary: N batch, D input dim, M output dim, C channels, H height, W width,
F filters, HH/WW filter (or pool window) height/width, K classes, G groups.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from cs231n._checks import (
    check_conv_inputs,
    check_dout,
    check_int,
    check_ndim,
    check_pool_inputs,
    check_shape,
)

# What `from cs231n.layers import *` gives: the official layer names.
__all__ = [
    "affine_backward",
    "affine_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward_naive",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "layernorm_backward",
    "layernorm_forward",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
]

# ----------------------------------------------------------------------------
# Input validation (not part of the student's task, hence outside the markers).
# The checks shared with the fast layers live in cs231n._checks.
# ----------------------------------------------------------------------------


def _check_batch(name: str, n: int, why: str) -> None:
    """An empty batch would give NaN (a mean over zero examples): say so instead."""
    if n == 0:
        raise ValueError(f"{name}: got an empty batch (N = 0); {why}")


def _check_labels(x: np.ndarray, y: np.ndarray, loss: str) -> None:
    check_ndim(f"{loss}: x", x, 2, "of scores (N, K)")
    N, K = x.shape
    _check_batch(loss, N, "the loss is a mean over the batch and needs at least one example")
    y = np.asarray(y)
    if y.shape != (N,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{loss}: y must be an integer array of shape ({N},), "
                         f"got {y.dtype} {y.shape}")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"{loss}: labels must lie in [0, {K}), got min {y.min()} max {y.max()}")


def _check_mode(param: dict, name: str) -> str:
    mode = param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{name}['mode'] must be 'train' or 'test', got {mode!r}")
    return mode


def _check_norm_params(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, layer: str) -> None:
    check_ndim(f"{layer}: x", x, 2, "(N, D)")
    D = x.shape[1]
    check_shape(f"{layer}: gamma", gamma, (D,))
    check_shape(f"{layer}: beta", beta, (D,))


# ----------------------------------------------------------------------------
# Affine and ReLU
# ----------------------------------------------------------------------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Forward pass of an affine (fully connected) layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k) input minibatch; each example is flattened to D = d_1 * ... * d_k
    - w: (D, M) weights
    - b: (M,) biases

    Returns a tuple of:
    - out: (N, M)
    - cache: (x, w, b)
    """
    if np.ndim(x) < 2:
        raise ValueError(f"affine: x must be (N, d_1, ..., d_k), got shape {np.shape(x)}")
    _check_batch("affine_forward", x.shape[0], "pass at least one example")
    check_ndim("affine: w", w, 2, "(D, M)")
    D = int(np.prod(x.shape[1:]))
    if D != w.shape[0]:
        raise ValueError(f"affine: each example of x {x.shape} flattens to D = {D} values, "
                         f"but w {w.shape} expects D = {w.shape[0]}")
    check_shape("affine: b", b, (w.shape[1],))
    out = None
    ###########################################################################
    # TODO: Implement the forward pass of the affine layer. Flatten each      #
    # example of x into a row of D values, so that the rows form an (N, D)    #
    # matrix, multiply it by w (D, M) and add b (M,). Store the (N, M) result #
    # in out.                                                                 #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = x.reshape(x.shape[0], -1) @ w + b
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b)
    return out, cache


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of an affine layer.

    Inputs:
    - dout: (N, M) upstream derivative
    - cache: (x, w, b) from affine_forward, x of shape (N, d_1, ..., d_k)

    Returns a tuple of:
    - dx: (N, d_1, ..., d_k)
    - dw: (D, M)
    - db: (M,)
    """
    x, w, _ = cache
    check_dout(dout, (x.shape[0], w.shape[1]), "affine_backward")
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of the affine layer. From dout        #
    # (N, M), compute dx with the shape of x, (N, d_1, ..., d_k), dw (D, M)   #
    # and db (M,), and store them in dx, dw and db. Flatten x into rows as    #
    # the forward pass did, and give dx the shape of x again.                 #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass of a rectified linear unit: out = max(0, x), elementwise.

    Inputs:
    - x: array of any shape

    Returns a tuple of:
    - out: same shape as x
    - cache: x
    """
    out = None
    ###########################################################################
    # TODO: Implement the forward pass of the ReLU, max(0, x) elementwise.    #
    # Store the result, of the shape of x, in out.                            #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = np.maximum(x, 0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = x
    return out, cache


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of a ReLU.

    Inputs:
    - dout: upstream derivative, same shape as the input x
    - cache: x from relu_forward

    Returns:
    - dx: same shape as x (the gradient at x == 0 is taken as 0)
    """
    x = cache
    check_dout(dout, np.shape(x), "relu_backward")
    dx = None
    ###########################################################################
    # TODO: Implement the backward pass of the ReLU: dout flows through where #
    # the input x was positive and is zero elsewhere (at x == 0 too). Store   #
    # the result in dx.                                                       #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    dx = dout * (x > 0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx


# ----------------------------------------------------------------------------
# Normalization
# ----------------------------------------------------------------------------


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      bn_param: dict) -> tuple[np.ndarray, Any]:
    """Forward pass of batch normalization.

    Train mode: normalize with the minibatch mean and (biased) variance,
        x_hat = (x - mu) / sqrt(var + eps),   out = gamma * x_hat + beta,
    and update the running averages
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var  = momentum * running_var  + (1 - momentum) * var.
    Test mode: normalize with running_mean and running_var instead.

    The running statistics are updated IN PLACE: the arrays stored in
    bn_param['running_mean'] / bn_param['running_var'] are modified (and created,
    as zeros, on the first call).

    Inputs:
    - x: (N, D) data
    - gamma: (D,) scale
    - beta: (D,) shift
    - bn_param: dict with keys
      - mode: 'train' or 'test' (required)
      - eps: constant for numeric stability (default 1e-5)
      - momentum: constant for the running averages (default 0.9)
      - running_mean: (D,) running mean of the features
      - running_var: (D,) running variance of the features

    Returns a tuple of:
    - out: (N, D)
    - cache: what batchnorm_backward needs (None in test mode)
    """
    _check_norm_params(x, gamma, beta, "batchnorm")
    mode = _check_mode(bn_param, "bn_param")
    if mode == "train":
        _check_batch("batchnorm_forward", x.shape[0],
                     "training-mode batch norm needs at least one example")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.zeros(D, dtype=x.dtype))
    check_shape("bn_param['running_mean']", running_mean, (D,))
    check_shape("bn_param['running_var']", running_var, (D,))

    out, cache = None, None
    if mode == "train":
        #######################################################################
        # TODO: Implement the training-time forward pass of batch             #
        # normalization. Compute the mean and the (biased) variance of each   #
        # feature over the minibatch, normalize x with them,                  #
        # x_hat = (x - mean) / sqrt(var + eps), then scale and shift,         #
        # out = gamma * x_hat + beta. Store the result in out and whatever    #
        # the backward pass will need in cache.                               #
        #                                                                     #
        # Then update the running averages with momentum,                     #
        # running_mean = momentum * running_mean + (1 - momentum) * mean, and #
        # running_var likewise with the variance. Change the arrays in place  #
        # (*= and +=): they are the ones stored in bn_param, and the next     #
        # call must see the new values.                                       #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc**2, axis=0)
        std = np.sqrt(var + eps)
        x_hat = xc / std
        out = gamma * x_hat + beta
        running_mean *= momentum
        running_mean += (1 - momentum) * mu
        running_var *= momentum
        running_var += (1 - momentum) * var
        cache = (x_hat, xc, std, gamma)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    else:
        #######################################################################
        # TODO: Implement the test-time forward pass of batch normalization:  #
        # normalize x with running_mean and running_var instead of the        #
        # minibatch statistics, then scale by gamma and shift by beta. Store  #
        # the result in out.                                                  #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batch normalization (train mode), node by node through the
    computation graph mu -> xc -> var -> std -> x_hat -> out.

    Inputs:
    - dout: (N, D) upstream derivative
    - cache: from batchnorm_forward in train mode

    Returns a tuple of:
    - dx: (N, D)
    - dgamma: (D,)
    - dbeta: (D,)
    """
    if cache is None:
        raise ValueError("batchnorm_backward: the cache is None; the forward pass ran in "
                         "test mode, backpropagate through a train-mode forward")
    check_ndim("batchnorm_backward: dout", dout, 2, "(N, D)")
    dx, dgamma, dbeta = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of batch normalization. Go backwards  #
    # through the computation graph of your forward pass one node at a time   #
    # (mean, centering, variance, standard deviation, normalization, scale    #
    # and shift), using what your forward pass put in the cache. Store the    #
    # gradients in dx (N, D), dgamma (D,) and dbeta (D,).                     #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dinv_std = np.sum(dx_hat * xc, axis=0)       # x_hat = xc * (1 / std)
    dxc = dx_hat / std
    dstd = -dinv_std / std**2                    # d(1/std) = -1/std^2 dstd
    dvar = 0.5 * dstd / std                      # std = sqrt(var + eps)
    dxc += 2.0 * xc * dvar / N                   # var = mean(xc^2)
    dmu = -dxc.sum(axis=0)                       # xc = x - mu
    dx = dxc + dmu / N                           # mu = mean(x)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batch normalization, simplified on paper to one line:

        dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std,   dx_hat = gamma * dout
           = gamma / std * (dout - (dbeta + x_hat * dgamma) / N),

    means over the batch axis; the second form reuses dgamma and dbeta.

    Inputs and returns as batchnorm_backward.
    """
    if cache is None:
        raise ValueError("batchnorm_backward_alt: the cache is None; the forward pass ran "
                         "in test mode, backpropagate through a train-mode forward")
    check_ndim("batchnorm_backward_alt: dout", dout, 2, "(N, D)")
    dx, dgamma, dbeta = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of batch normalization again, from a  #
    # formula simplified on paper: write the gradient with respect to x in    #
    # terms of dout, x_hat, gamma and the standard deviation, so that dx      #
    # takes a single statement. Store the results in dx, dgamma and dbeta;    #
    # they must equal those of batchnorm_backward.                            #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_hat, _, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = (gamma / std) * (dout - (x_hat * dgamma + dbeta) / N)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      ln_param: dict) -> tuple[np.ndarray, Any]:
    """Forward pass of layer normalization: each example is normalized over its D
    features, the same computation in train and test mode (no running statistics).

        x_hat = (x - mean(x, axis=1)) / sqrt(var(x, axis=1) + eps),   out = gamma * x_hat + beta

    Inputs:
    - x: (N, D) data
    - gamma: (D,) scale
    - beta: (D,) shift
    - ln_param: dict with optional key eps (default 1e-5)

    Returns a tuple of:
    - out: (N, D)
    - cache: what layernorm_backward needs
    """
    _check_norm_params(x, gamma, beta, "layernorm")
    eps = ln_param.get("eps", 1e-5)
    out, cache = None, None
    ###########################################################################
    # TODO: Implement the forward pass of layer normalization. Normalize each #
    # example over its D features (the mean and variance of each row, where   #
    # batch norm uses those of each column), then scale by gamma and shift by #
    # beta. There are no running statistics: training and test time compute   #
    # the same thing. Store the result in out and what the backward pass      #
    # needs in cache. Hint: your training-time batch norm, along the other    #
    # axis.                                                                   #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mu) / std
    out = gamma * x_hat + beta
    cache = (x_hat, std, gamma)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def layernorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of layer normalization: batchnorm's formula along the feature axis.

    Inputs:
    - dout: (N, D) upstream derivative
    - cache: from layernorm_forward

    Returns a tuple of:
    - dx: (N, D)
    - dgamma: (D,)
    - dbeta: (D,)
    """
    check_ndim("layernorm_backward: dout", dout, 2, "(N, D)")
    dx, dgamma, dbeta = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of layer normalization: batch norm's  #
    # formula with the means taken along the feature axis (dgamma and dbeta   #
    # still sum over the batch). Store the results in dx (N, D), dgamma (D,)  #
    # and dbeta (D,).                                                         #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_hat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * np.mean(dx_hat * x_hat, axis=1, keepdims=True)) / std
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, tuple]:
    """Forward pass of (inverted) dropout.

    Train mode keeps each unit with probability p and scales the kept ones by 1/p,
    so that test mode is the identity and the expected output is the same in both.

    Inputs:
    - x: input of any shape
    - dropout_param: dict with keys
      - p: probability of KEEPING each unit, in (0, 1]
      - mode: 'train' or 'test'
      - seed: optional; when given, the mask is drawn from its own
        np.random.RandomState(seed): the same mask at every call (for gradient
        checks), and the global np.random is left alone (a Solver's minibatch
        sampling stays random). Without it the mask comes from np.random.

    Returns a tuple of:
    - out: same shape as x
    - cache: (dropout_param, mask); mask is None in test mode
    """
    p = dropout_param.get("p")
    if p is None or not 0 < p <= 1:
        raise ValueError(f"dropout_param['p'] is the keep probability and must be in (0, 1], "
                         f"got {p!r}")
    mode = _check_mode(dropout_param, "dropout_param")
    # A local generator: reseeding the global one would make every later draw of
    # np.random (e.g. the Solver's minibatches) repeat after each forward pass.
    rng = np.random.RandomState(dropout_param["seed"]) if "seed" in dropout_param else np.random

    mask, out = None, None
    if mode == "train":
        #######################################################################
        # TODO: Implement the training-time forward pass of inverted dropout. #
        # Keep each unit with probability p and zero it otherwise, drawing    #
        # the random numbers from rng, and divide the kept units by p so that #
        # the expected output equals x. Store the mask (the kept positions,   #
        # already scaled by 1 / p) in mask and the result in out.             #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        mask = ((rng.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)
        out = x * mask
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    else:
        #######################################################################
        # TODO: Implement the test-time forward pass of inverted dropout: the #
        # identity (the scaling by 1 / p happened at training time). Store    #
        # the result in out.                                                  #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        out = x
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of (inverted) dropout.

    Inputs:
    - dout: upstream derivative, same shape as x
    - cache: (dropout_param, mask) from dropout_forward

    Returns:
    - dx: same shape as x
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    dx = None
    if mode == "train":
        check_dout(dout, mask.shape, "dropout_backward")
        #######################################################################
        # TODO: Implement the training-time backward pass of inverted         #
        # dropout: dout flows through the units the forward pass kept, scaled #
        # as they were. Store the result in dx.                               #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = dout * mask
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    else:
        dx = dout
    return dx


# ----------------------------------------------------------------------------
# Convolution and pooling, naive: one loop per axis of the output (N, F or C, H', W')
# ----------------------------------------------------------------------------


def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                       conv_param: dict) -> tuple[np.ndarray, tuple]:
    """Naive forward pass of a convolutional layer (cross-correlation, as the course).

    Each of the N inputs (C channels, height H, width W) is convolved with each of
    F filters (C channels, height HH, width WW), after zero-padding by `pad` pixels
    on every side of both spatial axes:
        out[n, f, i, j] = b[f] + sum_{c,k,l} w[f, c, k, l] * x_pad[n, c, i*stride + k, j*stride + l]

    Inputs:
    - x: (N, C, H, W) input data
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: dict with keys
      - stride: pixels between adjacent receptive fields, both directions
      - pad: zeros added on each side of both spatial axes

    Returns a tuple of:
    - out: (N, F, H', W') with H' = 1 + (H + 2 * pad - HH) / stride and
      W' = 1 + (W + 2 * pad - WW) / stride (ValueError unless both are integers)
    - cache: (x, w, b, conv_param)
    """
    check_conv_inputs(x, w, b, conv_param)
    out = None
    ###########################################################################
    # TODO: Implement the naive forward pass of the convolutional layer.      #
    # Zero-pad x by pad on both sides of each spatial axis (np.pad), then,    #
    # for every example n, filter f and output position (i, j), take the sum  #
    # of the products of w[f] with the window of the padded input that starts #
    # at (i * stride, j * stride), plus b[f]. Store the (N, F, H', W') result #
    # in out. Plain loops are fine here: the fast layers come later.          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    # Deliberately naive: one dot product per output number, four nested loops, as the
    # course asks. The fast layers (fast_layers.py) compute the same thing as one GEMM.
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive backward pass of a convolutional layer.

    Inputs:
    - dout: (N, F, H', W') upstream derivative
    - cache: (x, w, b, conv_param) from conv_forward_naive

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    check_dout(dout, (x.shape[0], w.shape[0], H_out, W_out), "conv_backward_naive")
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the naive backward pass of the convolutional layer.     #
    # Visit the windows of the forward pass again: each output number sends   #
    # its upstream gradient, times its window, to dw[f], and, times the       #
    # filter w[f], back to the window of the padded input; crop the padding   #
    # off at the end. db sums dout over everything but the filter axis. Store #
    # the results in dx (N, C, H, W), dw (F, C, HH, WW) and db (F,).          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    # The forward loops run backwards: each output number out[n, f, i, j] sends
    # dout[n, f, i, j] times its window to dw[f], and times w[f] back to the window of x.
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(x, w, dout))
    dw = np.zeros(w.shape, dtype=np.result_type(x, w, dout))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                rows = slice(i * stride, i * stride + HH)
                for j in range(W_out):
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    db = dout.sum(axis=(0, 2, 3))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db


def max_pool_forward_naive(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Naive forward pass of a max-pooling layer (no padding).

    Inputs:
    - x: (N, C, H, W) input data
    - pool_param: dict with keys
      - pool_height: height of each pooling region
      - pool_width: width of each pooling region
      - stride: distance between adjacent pooling regions

    Returns a tuple of:
    - out: (N, C, H', W') with H' = 1 + (H - pool_height) / stride and
      W' = 1 + (W - pool_width) / stride (ValueError unless both are integers)
    - cache: (x, pool_param)
    """
    check_pool_inputs(x, pool_param)
    out = None
    ###########################################################################
    # TODO: Implement the naive forward pass of max pooling: for every        #
    # example, channel and output position (i, j), the largest value of the   #
    # window of pool_height x pool_width that starts at                       #
    # (i * stride, j * stride). Store the (N, C, H', W') result in out.       #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(
                        x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Naive backward pass of a max-pooling layer: each output's gradient goes to the
    (first) position of the maximum in its window; overlapping windows add up.

    Inputs:
    - dout: (N, C, H', W') upstream derivative
    - cache: (x, pool_param) from max_pool_forward_naive

    Returns:
    - dx: (N, C, H, W)
    """
    x, pool_param = cache
    ph, pw, stride, H_out, W_out = check_pool_inputs(x, pool_param)
    check_dout(dout, (*x.shape[:2], H_out, W_out), "max_pool_backward_naive")
    dx = None
    ###########################################################################
    # TODO: Implement the naive backward pass of max pooling: the upstream    #
    # gradient of each output goes to the position of the maximum of its      #
    # window (the first one when several are equal) and nowhere else; where   #
    # windows overlap, the gradients add up. Store the (N, C, H, W) result in #
    # dx.                                                                     #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C = x.shape[:2]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + di, j * stride + dj] += dout[n, c, i, j]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx


# ----------------------------------------------------------------------------
# Spatial normalization
# ----------------------------------------------------------------------------


def spatial_batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                              bn_param: dict) -> tuple[np.ndarray, Any]:
    """Forward pass of spatial batch normalization: batchnorm per channel, with
    statistics over the N * H * W positions of each channel.

    Inputs:
    - x: (N, C, H, W) input data
    - gamma: (C,) scale
    - beta: (C,) shift
    - bn_param: as for batchnorm_forward (mode, eps, momentum, running_mean (C,),
      running_var (C,)); the running statistics are updated IN PLACE in train mode

    Returns a tuple of:
    - out: (N, C, H, W)
    - cache: what spatial_batchnorm_backward needs
    """
    check_ndim("spatial batchnorm: x", x, 4, "(N, C, H, W)")
    out, cache = None, None
    ###########################################################################
    # TODO: Implement the forward pass of spatial batch normalization with    #
    # your batchnorm_forward: put the channel axis last and flatten x to      #
    # (N * H * W, C), so that each channel is one feature, normalize, and     #
    # give the result the shape (N, C, H, W) again. Store it in out and the   #
    # batch norm cache in cache. A few lines suffice.                         #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, C)          # channels last: (N*H*W, C)
    out_flat, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def spatial_batchnorm_backward(dout: np.ndarray,
                               cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial batch normalization.

    Inputs:
    - dout: (N, C, H, W) upstream derivative
    - cache: from spatial_batchnorm_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dgamma: (C,)
    - dbeta: (C,)
    """
    check_ndim("spatial batchnorm: dout", dout, 4, "(N, C, H, W)")
    dx, dgamma, dbeta = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of spatial batch normalization with   #
    # one of your batch norm backward passes, reshaping dout as the forward   #
    # pass reshaped x. Store the results in dx (N, C, H, W), dgamma (C,) and  #
    # dbeta (C,).                                                             #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C, H, W = dout.shape
    dflat = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_flat, dgamma, dbeta = batchnorm_backward_alt(dflat, cache)
    dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int,
                              gn_param: dict) -> tuple[np.ndarray, Any]:
    """Forward pass of spatial group normalization: the C channels of each example
    are split into G groups of C // G consecutive channels, and each group is
    normalized over its (C // G) * H * W values (layer norm per group), then
    scaled and shifted per channel. Same computation in train and test mode.

    Inputs:
    - x: (N, C, H, W) input data
    - gamma: (1, C, 1, 1) scale
    - beta: (1, C, 1, 1) shift
    - G: number of groups, must divide C
    - gn_param: dict with optional key eps (default 1e-5)

    Returns a tuple of:
    - out: (N, C, H, W)
    - cache: what spatial_groupnorm_backward needs
    """
    check_ndim("spatial groupnorm: x", x, 4, "(N, C, H, W)")
    C = x.shape[1]
    check_shape("spatial groupnorm: gamma", gamma, (1, C, 1, 1))
    check_shape("spatial groupnorm: beta", beta, (1, C, 1, 1))
    check_int(G, "spatial groupnorm: G")
    if C % G:
        raise ValueError(f"spatial groupnorm: G = {G} groups must divide the C = {C} channels")
    eps = gn_param.get("eps", 1e-5)
    out, cache = None, None
    ###########################################################################
    # TODO: Implement the forward pass of spatial group normalization. Split  #
    # the C channels of each example into G groups of C // G consecutive      #
    # channels, normalize each group over all of its (C // G) * H * W values  #
    # (as layer norm normalizes one example), then scale and shift each       #
    # channel with gamma and beta of shape (1, C, 1, 1). Store the result in  #
    # out and what the backward pass needs in cache. Hint: reshaped to        #
    # (N, G, -1), each group is a row.                                        #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    groups = x.reshape(N, G, -1)                  # each group's channels are consecutive
    mu = groups.mean(axis=2, keepdims=True)
    std = np.sqrt(groups.var(axis=2, keepdims=True) + eps)
    x_hat = ((groups - mu) / std).reshape(x.shape)
    out = gamma * x_hat + beta
    cache = (x_hat, std, gamma, G)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def spatial_groupnorm_backward(dout: np.ndarray,
                               cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial group normalization.

    Inputs:
    - dout: (N, C, H, W) upstream derivative
    - cache: from spatial_groupnorm_forward

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dgamma: (1, C, 1, 1)
    - dbeta: (1, C, 1, 1)
    """
    check_ndim("spatial groupnorm: dout", dout, 4, "(N, C, H, W)")
    dx, dgamma, dbeta = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of spatial group normalization: layer #
    # norm's formula on each group. Store dx (N, C, H, W) in dx, and dgamma   #
    # and dbeta, of shape (1, C, 1, 1) (sums over N, H and W), in dgamma and  #
    # dbeta.                                                                  #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_hat, std, gamma, G = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat_g = x_hat.reshape(N, G, -1)
    dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
          - x_hat_g * np.mean(dx_hat * x_hat_g, axis=2, keepdims=True)) / std
    dx = dx.reshape(dout.shape)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Multiclass SVM (hinge) loss and its gradient, averaged over the batch:
        L = 1/N sum_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + 1)

    Inputs:
    - x: (N, K) scores, x[i, j] the score of class j for example i
    - y: (N,) integer labels, 0 <= y[i] < K

    Returns a tuple of:
    - loss: scalar
    - dx: (N, K) gradient of the loss with respect to x
    """
    _check_labels(x, y, "svm_loss")
    loss, dx = None, None
    ###########################################################################
    # TODO: Compute the multiclass SVM (hinge) loss with margin 1, averaged   #
    # over the batch, and its gradient with respect to the scores x, without  #
    # loops. Store the scalar loss in loss and the (N, K) gradient in dx.     #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[rows, y] -= positive.sum(axis=1)
    dx = positive / N
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dx


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax (cross-entropy) loss and its gradient, averaged over the batch:
        L = -1/N sum_i log(exp(x[i, y_i]) / sum_j exp(x[i, j]))
    computed stably (scores shifted by their row maximum).

    Inputs:
    - x: (N, K) scores
    - y: (N,) integer labels, 0 <= y[i] < K

    Returns a tuple of:
    - loss: scalar
    - dx: (N, K) gradient of the loss with respect to x
    """
    _check_labels(x, y, "softmax_loss")
    loss, dx = None, None
    ###########################################################################
    # TODO: Compute the softmax (cross-entropy) loss, averaged over the       #
    # batch, and its gradient with respect to the scores x. Subtract the      #
    # maximum of each row before exponentiating, so that exp cannot overflow. #
    # Store the scalar loss in loss and the (N, K) gradient in dx.            #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    rows = np.arange(N)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dx
