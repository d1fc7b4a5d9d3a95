"""im2col and col2im in numpy: the course functions, and the fallback of the Cython kernels.

A convolution is one matrix product once every receptive field of the (zero-padded)
input is laid out as a column ("im2col"); its backward pass sums the column gradients
back into the image ("col2im", the adjoint of im2col).

Rows of a column matrix are ordered (c, kh, kw): row = (c*HH + kh)*WW + kw, matching
w.reshape(F, -1). The entry for channel c, kernel offset (kh, kw), image n and output
position (i, j) is x_padded[n, c, i*stride + kh, j*stride + kw]. Two column orders:
  - course layout (im2col_indices, col2im_indices, as cs231n.im2col_cython.im2col_cython):
    shape (C*HH*WW, Ho*Wo*N), column = (i*Wo + j)*N + n;
  - 6d layout (im2col_6d, col2im_6d, as im2col_6d_cython / col2im_6d_cython):
    shape (C, HH, WW, N, Ho, Wo), which reshapes for free to (C*HH*WW, N*Ho*Wo).

Nothing here uses np.add.at (slow): col2im loops over the HH*WW kernel offsets and adds
one strided slice per offset, vectorized over everything else.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# conv_output_size is imported from here by the Cython kernels and the fast layers.
from cs231n._checks import check_ndim, conv_output_size

__all__ = ["col2im_6d", "col2im_indices", "conv_output_size", "get_im2col_indices",
           "im2col_6d", "im2col_indices"]


def _padded_windows(x: np.ndarray, field_height: int, field_width: int, padding: int,
                    stride: int) -> np.ndarray:
    """A read-only view (N, C, Ho, Wo, HH, WW) of every window of the zero-padded x."""
    check_ndim("im2col: x", x, 4, "(N, C, H, W)")
    conv_output_size(x.shape[2], x.shape[3], field_height, field_width, padding, stride, "im2col")
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    windows = sliding_window_view(x_padded, (field_height, field_width), axis=(2, 3))
    return windows[:, :, ::stride, ::stride]


def get_im2col_indices(x_shape: tuple, field_height: int, field_width: int, padding: int = 1,
                       stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fancy-indexing triple (k, i, j) such that x_padded[:, k, i, j] gathers all windows.

    Inputs:
    - x_shape: (N, C, H, W)
    - field_height, field_width: window size HH, WW
    - padding, stride: zero padding on each side, step between windows

    Returns:
    - k: (C*HH*WW, 1) channel of each row
    - i: (C*HH*WW, Ho*Wo) row in x_padded of each (row, output position)
    - j: (C*HH*WW, Ho*Wo) column in x_padded of each (row, output position)
    x_padded[:, k, i, j] has shape (N, C*HH*WW, Ho*Wo).
    """
    _, C, H, W = x_shape
    out_height, out_width = conv_output_size(H, W, field_height, field_width, padding, stride,
                                             "im2col")
    i0 = np.tile(np.repeat(np.arange(field_height), field_width), C)
    i1 = stride * np.repeat(np.arange(out_height), out_width)
    j0 = np.tile(np.arange(field_width), field_height * C)
    j1 = stride * np.tile(np.arange(out_width), out_height)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return k, i, j


def im2col_indices(x: np.ndarray, field_height: int, field_width: int, padding: int = 1,
                   stride: int = 1) -> np.ndarray:
    """Columns of x in the course layout (numpy version of im2col_cython).

    Inputs:
    - x: (N, C, H, W)
    - field_height, field_width: window size HH, WW
    - padding, stride: zero padding on each side, step between windows

    Returns:
    - cols: (C*HH*WW, Ho*Wo*N), cols[(c*HH + kh)*WW + kw, (i*Wo + j)*N + n]
      = x_padded[n, c, i*stride + kh, j*stride + kw]
    """
    windows = _padded_windows(np.asarray(x), field_height, field_width, padding, stride)
    # One copy from the strided view; no index arrays needed (get_im2col_indices gives
    # the same gather, but fancy indexing is slower).
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 2, 3, 0))
    return cols.reshape(x.shape[1] * field_height * field_width, -1)


def im2col_6d(x: np.ndarray, field_height: int, field_width: int, padding: int,
              stride: int) -> np.ndarray:
    """Columns of x in the 6d layout (numpy version of im2col_6d_cython).

    Inputs:
    - x: (N, C, H, W)
    - field_height, field_width: window size HH, WW
    - padding, stride: zero padding on each side, step between windows

    Returns:
    - cols: (C, HH, WW, N, Ho, Wo), cols[c, kh, kw, n, i, j]
      = x_padded[n, c, i*stride + kh, j*stride + kw]
    """
    windows = _padded_windows(np.asarray(x), field_height, field_width, padding, stride)
    return np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))


def _col2im_view(cols6: np.ndarray, x_shape: tuple, padding: int, stride: int) -> np.ndarray:
    """Sum a (C, HH, WW, N, Ho, Wo) view of columns back into an (N, C, H, W) image."""
    C, HH, WW, N, Ho, Wo = cols6.shape
    H, W = x_shape[2], x_shape[3]
    p = padding
    # Accumulate channel-major so that each added slice is a plain strided view of cols.
    x_padded = np.zeros((C, N, H + 2 * p, W + 2 * p), dtype=cols6.dtype)
    for kh in range(HH):
        rows = slice(kh, kh + stride * (Ho - 1) + 1, stride)
        for kw in range(WW):
            x_padded[:, :, rows, kw:kw + stride * (Wo - 1) + 1:stride] += cols6[:, kh, kw]
    return x_padded[:, :, p:p + H, p:p + W].transpose(1, 0, 2, 3)


def _check_cols(cols: np.ndarray, x_shape: tuple, field_height: int, field_width: int,
                padding: int, stride: int) -> tuple[int, int]:
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    N, C, H, W = x_shape
    Ho, Wo = conv_output_size(H, W, field_height, field_width, padding, stride, "col2im")
    if np.size(cols) != C * field_height * field_width * N * Ho * Wo:
        raise ValueError(f"col2im: cols has shape {np.shape(cols)}, which does not fit an image "
                         f"{tuple(x_shape)} with a {field_height}x{field_width} window, "
                         f"pad {padding}, stride {stride}; expected "
                         f"{C * field_height * field_width * N * Ho * Wo} entries")
    return Ho, Wo


def col2im_indices(cols: np.ndarray, x_shape: tuple, field_height: int = 3,
                   field_width: int = 3, padding: int = 1, stride: int = 1) -> np.ndarray:
    """Sum course-layout columns back into an image (numpy version of col2im_cython).

    The adjoint of im2col_indices: every image entry receives the sum of the column
    entries that were read from it (entries in the zero padding are dropped).

    Inputs:
    - cols: (C*HH*WW, Ho*Wo*N)
    - x_shape: (N, C, H, W) of the unpadded image
    - field_height, field_width, padding, stride: as in im2col_indices

    Returns:
    - x: (N, C, H, W)
    """
    N, C = x_shape[:2]
    Ho, Wo = _check_cols(cols, x_shape, field_height, field_width, padding, stride)
    cols6 = np.asarray(cols).reshape(C, field_height, field_width, Ho, Wo, N)
    return _col2im_view(cols6.transpose(0, 1, 2, 5, 3, 4), x_shape, padding, stride)


def col2im_6d(cols: np.ndarray, N: int, C: int, H: int, W: int, HH: int, WW: int, pad: int,
              stride: int) -> np.ndarray:
    """Sum 6d-layout columns back into an image (numpy version of col2im_6d_cython).

    Inputs:
    - cols: (C, HH, WW, N, Ho, Wo), or any shape with that many entries
    - N, C, H, W: shape of the unpadded image
    - HH, WW, pad, stride: as in im2col_6d

    Returns:
    - x: (N, C, H, W)
    """
    Ho, Wo = _check_cols(cols, (N, C, H, W), HH, WW, pad, stride)
    cols6 = np.asarray(cols).reshape(C, HH, WW, N, Ho, Wo)
    return _col2im_view(cols6, (N, C, H, W), pad, stride)
