"""Fast convolution and max-pooling layers (the course's fast_layers), float32 and float64.

A convolution is one matrix product (GEMM) on the im2col columns of its input:
    out = w.reshape(F, C*HH*WW) @ cols + b,      cols: (C*HH*WW, N*Ho*Wo)
    dw  = dout_r @ cols.T,   dcols = w_r.T @ dout_r,   dx = col2im(dcols)
    db  = dout summed over N, Ho, Wo
The columns are built (im2col) and summed back (col2im) by the compiled kernels of
cs231n.im2col_cython when it is built (`make` or `pip install -e .`), else by the
numpy versions in cs231n.im2col (same results, slower; a note says so once).

Public functions keep the 2018 names, signatures and caches:
conv_forward_fast / conv_backward_fast (= the *_strides pair), conv_*_im2col,
max_pool_forward_fast / max_pool_backward_fast (the reshape method when the windows
tile the input, else the im2col method). Conventions: x (N, C, H, W), w (F, C, HH, WW),
b (F,), conv_param {'stride', 'pad'}, pool_param {'pool_height', 'pool_width', 'stride'}.
Glossary: N batch, C channels, H/W height/width, F filters, HH/WW filter (window) size,
Ho/Wo output height/width.
"""
from __future__ import annotations

import sys

import numpy as np

from cs231n._checks import check_conv_inputs, check_dout, check_pool_inputs, conv_output_size
from cs231n.im2col import col2im_6d, col2im_indices, im2col_6d, im2col_indices

try:
    from cs231n.im2col_cython import (
        col2im_6d_cython,
        col2im_cython,
        im2col_6d_cython,
        im2col_cython,
    )
except ImportError:
    HAVE_CYTHON = False
    print("cs231n.fast_layers: the compiled extension cs231n.im2col_cython is not built; using "
          "the numpy fallback (same results, slower). Build it with `make` or `pip install -e .`",
          file=sys.stderr)
else:
    HAVE_CYTHON = True
try:  # separate: an extension built from an older im2col_cython.pyx lacks it (`make` rebuilds)
    from cs231n.im2col_cython import max_pool_backward_tiles_cython
except ImportError:
    max_pool_backward_tiles_cython = None

# What `from cs231n.fast_layers import *` gives: the official layer names.
__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
    "max_pool_backward_fast",
    "max_pool_backward_im2col",
    "max_pool_backward_reshape",
    "max_pool_forward_fast",
    "max_pool_forward_im2col",
    "max_pool_forward_reshape",
]

# Which kernels the layers call; tests and bench/conv.py set it to False to run the numpy path.
USE_CYTHON: bool = HAVE_CYTHON


# ----------------------------------------------------------------------------
# Kernel dispatch and operand dtypes (the input checks are in cs231n._checks)
# ----------------------------------------------------------------------------

def _im2col_6d(x: np.ndarray, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:
    if USE_CYTHON:
        return im2col_6d_cython(x, HH, WW, pad, stride)
    return im2col_6d(x, HH, WW, pad, stride)


def _col2im_6d(cols: np.ndarray, x_shape: tuple, HH: int, WW: int, pad: int, stride: int,
               out: np.ndarray | None = None) -> np.ndarray:
    if USE_CYTHON:
        return col2im_6d_cython(cols, *x_shape, HH, WW, pad, stride, out=out)
    dx = col2im_6d(cols, *x_shape, HH, WW, pad, stride)
    if out is None:
        return dx
    out[...] = dx
    return out


def _im2col(x: np.ndarray, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:
    if USE_CYTHON:
        return im2col_cython(x, HH, WW, pad, stride)
    return im2col_indices(x, HH, WW, pad, stride)


def _col2im(cols: np.ndarray, x_shape: tuple, HH: int, WW: int, pad: int,
            stride: int) -> np.ndarray:
    if USE_CYTHON:
        return col2im_cython(cols, *x_shape, HH, WW, pad, stride)
    return col2im_indices(cols, x_shape, HH, WW, pad, stride)


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The numpy result dtype of the inputs, at least float32 (ints compute in float64)."""
    return np.result_type(*arrays, np.float32)


def _conv_inputs(x, w, b, conv_param: dict) -> tuple:
    """Checked (x, w, b) in one float dtype, and (stride, pad, Ho, Wo)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    geometry = check_conv_inputs(x, w, b, conv_param)
    dtype = _float_dtype(x, w, b)
    # One dtype for both GEMM operands: a float32 x with a float64 w must not make numpy
    # cast the (large) column matrix on every product.
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, geometry


# ----------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------

def _conv_forward(x, w, b, conv_param: dict, batch_last: bool) -> tuple[np.ndarray, tuple]:
    """out = w_r @ cols + b on the columns of x; batch_last picks the column order:
    (Ho, Wo, N) for the course layout, else (N, Ho, Wo) for the 6d layout."""
    x, w, b, (stride, pad, Ho, Wo) = _conv_inputs(x, w, b, conv_param)
    N, F, HH, WW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    if batch_last:
        x_cols = _im2col(x, HH, WW, pad, stride)
        res_shape, to_nchw = (F, Ho, Wo, N), (3, 0, 1, 2)
    else:
        x_cols = _im2col_6d(x, HH, WW, pad, stride).reshape(x.shape[1] * HH * WW, -1)
        res_shape, to_nchw = (F, N, Ho, Wo), (1, 0, 2, 3)
    res = w.reshape(F, -1) @ x_cols
    out = np.empty((N, F, Ho, Wo), dtype=np.result_type(res, b))
    # The bias add and the transpose to (N, F, Ho, Wo) in one pass.
    np.add(res.reshape(res_shape).transpose(to_nchw), b.reshape(1, F, 1, 1), out=out)
    return out, (x, w, b, conv_param, x_cols)


def _conv_backward(dout, cache: tuple, batch_last: bool, name: str) -> tuple:
    """dx, dw, db of _conv_forward from its cache (x, w, b, conv_param, x_cols)."""
    x, w, _, conv_param, x_cols = cache
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    Ho, Wo = conv_output_size(x.shape[2], x.shape[3], HH, WW, pad, stride)
    dout = check_dout(dout, (x.shape[0], F, Ho, Wo), name)
    dout_r = dout.transpose((1, 2, 3, 0) if batch_last else (1, 0, 2, 3)).reshape(F, -1)
    db = dout_r.sum(axis=1)
    # dw = dout_r @ x_cols.T, computed as (x_cols @ dout_r.T).T: the same product, but
    # OpenBLAS runs this orientation of a long reduction (N*Ho*Wo) much faster, and
    # without stalls when the cores are shared with other processes.
    dw = (x_cols @ dout_r.T).T.reshape(w.shape)
    if batch_last:
        dx = _col2im(w.reshape(F, -1).T @ dout_r, x.shape, HH, WW, pad, stride)
    else:
        dx = _col2im_6d_by_chunks(w.reshape(F, -1), dout_r, x.shape, HH, WW, pad, stride)
    return dx, dw, db


# Images per chunk in the backward pass are chosen so that one chunk of column
# gradients takes about this many bytes (tests lower it to exercise several chunks).
_CHUNK_BYTES = 16 * 2**20


def _col2im_6d_by_chunks(w_r: np.ndarray, dout_r: np.ndarray, x_shape: tuple, HH: int,
                         WW: int, pad: int, stride: int) -> np.ndarray:
    """dx = col2im_6d(w_r.T @ dout_r), computed a chunk of images at a time.

    The column gradient of the whole batch (C*HH*WW times the size of dout) is never
    built: each chunk's GEMM writes into one reused buffer that col2im reads back while
    it is still in cache, which saves two passes over main memory and a large allocation.
    """
    N, K = x_shape[0], w_r.shape[1]
    Ho, Wo = conv_output_size(x_shape[2], x_shape[3], HH, WW, pad, stride)
    P = Ho * Wo
    dtype = np.result_type(w_r, dout_r)
    chunk = max(1, min(N, _CHUNK_BYTES // (K * P * dtype.itemsize)))
    buffer = np.empty(K * chunk * P, dtype=dtype)
    dx = np.empty(x_shape, dtype=dtype)
    for start in range(0, N, chunk):
        n = min(chunk, N - start)
        dx_cols = np.matmul(w_r.T, dout_r[:, start * P:(start + n) * P],
                            out=buffer[:K * n * P].reshape(K, n * P))
        _col2im_6d(dx_cols, (n, *x_shape[1:]), HH, WW, pad, stride, out=dx[start:start + n])
    return dx


def conv_forward_im2col(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                        conv_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution forward pass with im2col in the course column layout.

    out[n, f, i, j] = b[f] + sum_{c,k,l} w[f, c, k, l] * x_pad[n, c, i*stride + k, j*stride + l]

    Inputs:
    - x: (N, C, H, W) input data
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': int, 'pad': int}

    Returns a tuple of:
    - out: (N, F, Ho, Wo), Ho = 1 + (H + 2*pad - HH) / stride, Wo likewise
      (ValueError unless both are integers)
    - cache: (x, w, b, conv_param, x_cols) with x_cols (C*HH*WW, Ho*Wo*N)
    """
    return _conv_forward(x, w, b, conv_param, batch_last=True)


def conv_backward_im2col(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Convolution backward pass for conv_forward_im2col.

    Inputs:
    - dout: (N, F, Ho, Wo) upstream derivative
    - cache: (x, w, b, conv_param, x_cols) from conv_forward_im2col

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    return _conv_backward(dout, cache, True, "conv_backward_im2col")


def conv_forward_strides(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                         conv_param: dict) -> tuple[np.ndarray, tuple]:
    """Convolution forward pass with im2col in the 6d (batch-major) column layout.

    The columns (C, HH, WW, N, Ho, Wo) reshape for free to one (C*HH*WW, N*Ho*Wo)
    matrix, and the GEMM result (F, N, Ho, Wo) needs only a cheap block transpose.

    Inputs:
    - x: (N, C, H, W) input data
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': int, 'pad': int}

    Returns a tuple of:
    - out: (N, F, Ho, Wo), Ho = 1 + (H + 2*pad - HH) / stride, Wo likewise
      (ValueError unless both are integers)
    - cache: (x, w, b, conv_param, x_cols) with x_cols (C*HH*WW, N*Ho*Wo)
    """
    return _conv_forward(x, w, b, conv_param, batch_last=False)


def conv_backward_strides(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Convolution backward pass for conv_forward_strides.

    Inputs:
    - dout: (N, F, Ho, Wo) upstream derivative
    - cache: (x, w, b, conv_param, x_cols) from conv_forward_strides

    Returns a tuple of:
    - dx: (N, C, H, W)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    return _conv_backward(dout, cache, False, "conv_backward_strides")


conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides


# ----------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------

def max_pool_forward_fast(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max-pooling forward pass: the reshape method when the windows tile the input
    (square window, stride equal to its size, H and W divisible by it), else im2col.

    Inputs:
    - x: (N, C, H, W) input data
    - pool_param: {'pool_height': int, 'pool_width': int, 'stride': int}

    Returns a tuple of:
    - out: (N, C, Ho, Wo), Ho = 1 + (H - pool_height) / stride, Wo likewise
    - cache: ('reshape', reshape_cache) or ('im2col', im2col_cache)
    """
    x = np.asarray(x)
    ph, pw, stride, _, _ = check_pool_inputs(x, pool_param)
    H, W = x.shape[2], x.shape[3]
    if ph == pw == stride and H % ph == 0 and W % pw == 0:
        out, reshape_cache = max_pool_forward_reshape(x, pool_param)
        return out, ("reshape", reshape_cache)
    out, im2col_cache = max_pool_forward_im2col(x, pool_param)
    return out, ("im2col", im2col_cache)


def max_pool_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Max-pooling backward pass for max_pool_forward_fast.

    Inputs:
    - dout: (N, C, Ho, Wo) upstream derivative
    - cache: from max_pool_forward_fast

    Returns:
    - dx: (N, C, H, W)
    """
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    if method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    raise ValueError(f'Unrecognized method "{method}": pass the cache of max_pool_forward_fast')


def max_pool_forward_reshape(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling when the windows tile the input (pool_height == pool_width == stride,
    H and W divisible by it): x viewed as (N, C, Ho, ph, Wo, pw), max over the window axes.

    Inputs:
    - x: (N, C, H, W) input data
    - pool_param: {'pool_height': int, 'pool_width': int, 'stride': int}

    Returns a tuple of:
    - out: (N, C, H / ph, W / pw)
    - cache: (x, x_reshaped, out)
    """
    x = np.asarray(x)
    ph, pw, stride, Ho, Wo = check_pool_inputs(x, pool_param)
    N, C, H, W = x.shape
    if not (ph == pw == stride and H % ph == 0 and W % pw == 0):
        raise ValueError(f"max_pool_forward_reshape needs pool_height == pool_width == stride "
                         f"dividing H and W, got {pool_param} for x {x.shape}; "
                         f"use max_pool_forward_fast")
    x_reshaped = x.reshape(N, C, Ho, ph, Wo, pw)
    # ph*pw elementwise maxima over strided views: much faster than .max(axis=(3, 5)).
    out = x_reshaped[:, :, :, 0, :, 0].copy()
    for kh in range(ph):
        for kw in range(pw):
            if kh or kw:
                np.maximum(out, x_reshaped[:, :, :, kh, :, kw], out=out)
    cache = (x, x_reshaped, out)
    return out, cache


def max_pool_backward_reshape(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass for max_pool_forward_reshape: each window's gradient goes to the
    first position (row-major) of its maximum, as in the naive layer and PyTorch.

    Inputs:
    - dout: (N, C, Ho, Wo) upstream derivative
    - cache: (x, x_reshaped, out) from max_pool_forward_reshape

    Returns:
    - dx: (N, C, H, W)
    """
    x, x_reshaped, out = cache
    dout = check_dout(dout, out.shape, "max_pool_backward_reshape")
    dtype = np.result_type(x, dout)
    _, _, _, ph, _, pw = x_reshaped.shape
    if USE_CYTHON and max_pool_backward_tiles_cython and dtype in (np.float32, np.float64):
        # One compiled pass over x and dx, with the same rule: ph*pw times less memory
        # traffic than the numpy loop below.
        return max_pool_backward_tiles_cython(x.astype(dtype, copy=False), out, dout, ph, pw)
    dx_reshaped = np.empty(x_reshaped.shape, dtype=dtype)
    taken = np.zeros(out.shape, dtype=bool)
    hit = np.empty(out.shape, dtype=bool)
    for kh in range(ph):
        for kw in range(pw):
            np.equal(x_reshaped[:, :, :, kh, :, kw], out, out=hit)
            np.greater(hit, taken, out=hit)  # a max not taken by an earlier position
            np.multiply(hit, dout, out=dx_reshaped[:, :, :, kh, :, kw])
            np.logical_or(taken, hit, out=taken)
    return dx_reshaped.reshape(x.shape)


def max_pool_forward_im2col(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling for any window and stride: im2col of every channel as its own image,
    then the max (and its first position) down each column.

    Inputs:
    - x: (N, C, H, W) input data
    - pool_param: {'pool_height': int, 'pool_width': int, 'stride': int}

    Returns a tuple of:
    - out: (N, C, Ho, Wo), Ho = 1 + (H - pool_height) / stride, Wo likewise
      (ValueError unless both are integers)
    - cache: (x, x_cols, x_cols_argmax, pool_param), x_cols (ph*pw, N*C*Ho*Wo)
    """
    x = np.asarray(x)
    ph, pw, stride, Ho, Wo = check_pool_inputs(x, pool_param)
    N, C, H, W = x.shape
    x_split = x.reshape(N * C, 1, H, W)
    x_cols = _im2col_6d(x_split, ph, pw, 0, stride).reshape(ph * pw, -1)
    x_cols_argmax = np.argmax(x_cols, axis=0)
    out = np.take_along_axis(x_cols, x_cols_argmax[None], axis=0).reshape(N, C, Ho, Wo)
    cache = (x, x_cols, x_cols_argmax, pool_param)
    return out, cache


def max_pool_backward_im2col(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass for max_pool_forward_im2col (overlapping windows add up).

    Inputs:
    - dout: (N, C, Ho, Wo) upstream derivative
    - cache: (x, x_cols, x_cols_argmax, pool_param) from max_pool_forward_im2col

    Returns:
    - dx: (N, C, H, W)
    """
    x, x_cols, x_cols_argmax, pool_param = cache
    N, C, H, W = x.shape
    ph, pw, stride, Ho, Wo = check_pool_inputs(x, pool_param)
    dout = check_dout(dout, (N, C, Ho, Wo), "max_pool_backward_im2col")
    dx_cols = np.zeros(x_cols.shape, dtype=np.result_type(x_cols, dout))
    np.put_along_axis(dx_cols, x_cols_argmax[None], dout.reshape(1, -1), axis=0)
    dx = _col2im_6d(dx_cols, (N * C, 1, H, W), ph, pw, 0, stride)
    return dx.reshape(N, C, H, W)
