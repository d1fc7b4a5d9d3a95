# cython: language_level=3, boundscheck=False, wraparound=False
# cython: initializedcheck=False, cdivision=True
"""Compiled im2col / col2im kernels behind cs231n.fast_layers (float32 and float64).

Also, in sections at the end: fast_layers' max pool backward, and the per-pixel kernels
of cs231n.features' batched HOG and hue histogram (float64).

Build it with `make` or `pip install -e .` (or `python setup.py build_ext --inplace`).
Without it, cs231n.fast_layers uses the numpy versions in cs231n.im2col, which give
the same results, only slower.

Two column layouts, both with rows ordered (c, kh, kw) (row = (c*HH + kh)*WW + kw):
  - "course" layout, cols of shape (C*HH*WW, Ho*Wo*N), column = (i*Wo + j)*N + n
    (im2col_cython, col2im_cython; the same as cs231n.im2col.im2col_indices);
  - "6d" layout, cols of shape (C, HH, WW, N, Ho, Wo), which reshapes for free to
    (C*HH*WW, N*Ho*Wo) (im2col_6d_cython, col2im_6d_cython; used by conv_*_strides).
Entry (c, kh, kw, n, i, j) holds x_padded[n, c, i*stride + kh, j*stride + kw]. Padding
is handled inside the loops (no padded copy of x is made): out-of-image taps read as 0
and their gradients are dropped.

Unlike the 2018 file, these kernels are correct for non-square kernels (HH != WW).
"""
import numpy as np

from cs231n.im2col import conv_output_size

from cython cimport floating
from libc.math cimport fma, sqrt
from libc.string cimport memcpy, memset


cdef inline Py_ssize_t _first_valid(Py_ssize_t k, Py_ssize_t pad, Py_ssize_t stride,
                                    Py_ssize_t out) noexcept nogil:
    """Smallest output index i with k + stride*i - pad >= 0 (clipped to out)."""
    cdef Py_ssize_t i
    if k >= pad:
        return 0
    i = (pad - k + stride - 1) // stride
    return i if i < out else out


cdef inline Py_ssize_t _end_valid(Py_ssize_t k, Py_ssize_t pad, Py_ssize_t stride,
                                  Py_ssize_t size, Py_ssize_t out) noexcept nogil:
    """One past the largest output index i with k + stride*i - pad <= size - 1 (clipped)."""
    cdef Py_ssize_t top = size - 1 + pad - k
    cdef Py_ssize_t i
    if top < 0:
        return 0
    i = top // stride + 1
    return i if i < out else out


def _check_x(x):
    """x as a C-contiguous float32/float64 array of shape (N, C, H, W), or a ValueError."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise ValueError(f"x must be float32 or float64, got {x.dtype}; "
                         f"cast it first, e.g. x.astype(np.float64)")
    return np.ascontiguousarray(x)


def _check_cols(cols, expected_shape):
    """cols as a C-contiguous float array reshaped to expected_shape, or a ValueError."""
    cols = np.asarray(cols)
    if cols.dtype != np.float32 and cols.dtype != np.float64:
        raise ValueError(f"cols must be float32 or float64, got {cols.dtype}")
    if cols.size != np.prod(expected_shape):
        raise ValueError(f"cols has shape {cols.shape}; expected {expected_shape} "
                         f"(or any shape with the same number of elements)")
    return np.ascontiguousarray(cols).reshape(expected_shape)


def _check_out(out, shape, dtype):
    """A new zeroed array of that shape and dtype, or `out` (zeroed) after checking it."""
    if out is None:
        return np.zeros(shape, dtype=dtype)
    if (not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype
            or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype)} array of shape {shape}, "
                         f"got {getattr(out, 'dtype', type(out))} {getattr(out, 'shape', '')}")
    out[...] = 0
    return out


# ---------------------------------------------------------------- 6d layout

# The kernels below take typed memoryviews of one float type (the fused type picks
# float or double from the arrays) and run without the GIL.

def _im2col_6d(const floating[:, :, :, ::1] x, floating[:, :, :, :, :, ::1] cols,
               Py_ssize_t pad, Py_ssize_t stride):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t HH = cols.shape[1], WW = cols.shape[2], Ho = cols.shape[4], Wo = cols.shape[5]
    cdef Py_ssize_t c, kh, kw, n, i, j, i_lo, i_hi, j_lo, j_hi, x0
    cdef const floating *src
    cdef floating *dst
    with nogil:
        for c in range(C):
            for kh in range(HH):
                i_lo = _first_valid(kh, pad, stride, Ho)
                i_hi = _end_valid(kh, pad, stride, H, Ho)
                for kw in range(WW):
                    j_lo = _first_valid(kw, pad, stride, Wo)
                    j_hi = _end_valid(kw, pad, stride, W, Wo)
                    if j_hi < j_lo:
                        j_hi = j_lo
                    x0 = kw - pad
                    # For one (c, kh, kw) the loop over n reads x[:, c] only, which stays in
                    # cache; the writes to cols are one sequential stream.
                    for n in range(N):
                        for i in range(Ho):
                            dst = &cols[c, kh, kw, n, i, 0]
                            if i < i_lo or i >= i_hi:
                                memset(dst, 0, Wo * sizeof(floating))
                            else:
                                src = &x[n, c, kh + stride * i - pad, 0]
                                for j in range(j_lo):
                                    dst[j] = 0
                                if stride == 1:
                                    memcpy(dst + j_lo, src + x0 + j_lo,
                                           (j_hi - j_lo) * sizeof(floating))
                                else:
                                    for j in range(j_lo, j_hi):
                                        dst[j] = src[x0 + stride * j]
                                for j in range(j_hi, Wo):
                                    dst[j] = 0


def _col2im_6d(const floating[:, :, :, :, :, ::1] cols, floating[:, :, :, ::1] x,
               Py_ssize_t pad, Py_ssize_t stride):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t HH = cols.shape[1], WW = cols.shape[2], Ho = cols.shape[4], Wo = cols.shape[5]
    cdef Py_ssize_t c, kh, kw, n, i, j, i_lo, i_hi, j_lo, j_hi
    cdef const floating *src
    cdef floating *dst
    with nogil:
        for c in range(C):
            for kh in range(HH):
                i_lo = _first_valid(kh, pad, stride, Ho)
                i_hi = _end_valid(kh, pad, stride, H, Ho)
                for kw in range(WW):
                    j_lo = _first_valid(kw, pad, stride, Wo)
                    j_hi = _end_valid(kw, pad, stride, W, Wo)
                    for n in range(N):
                        for i in range(i_lo, i_hi):
                            src = &cols[c, kh, kw, n, i, 0]
                            # dst[j] is x[n, c, y, j*stride + kw - pad]; j >= j_lo keeps it
                            # inside the row
                            dst = &x[n, c, kh + stride * i - pad, 0] + (kw - pad + stride * j_lo)
                            if stride == 1:
                                for j in range(j_hi - j_lo):
                                    dst[j] += src[j_lo + j]
                            else:
                                for j in range(j_hi - j_lo):
                                    dst[stride * j] += src[j_lo + j]


def im2col_6d_cython(x, int HH, int WW, int pad, int stride):
    """Columns of x in the 6d layout (the conv_forward_strides layout).

    Inputs:
    - x: float32 or float64 array of shape (N, C, H, W)
    - HH, WW: window (filter) height and width
    - pad: zero padding on each side of H and W
    - stride: step between windows

    Returns:
    - cols: array of shape (C, HH, WW, N, Ho, Wo), same dtype as x, with
      cols[c, kh, kw, n, i, j] = x_padded[n, c, i*stride + kh, j*stride + kw];
      reshape to (C*HH*WW, N*Ho*Wo) for the conv GEMM.
    """
    x = _check_x(x)
    Ho, Wo = conv_output_size(x.shape[2], x.shape[3], HH, WW, pad, stride, "im2col")
    N, C = x.shape[0], x.shape[1]
    cols = np.empty((C, HH, WW, N, Ho, Wo), dtype=x.dtype)
    _im2col_6d(x, cols, pad, stride)
    return cols


def col2im_6d_cython(cols, int N, int C, int H, int W, int HH, int WW, int pad, int stride, *,
                     out=None):
    """Sum the 6d-layout columns back into an image: the adjoint of im2col_6d_cython.

    Inputs:
    - cols: float32 or float64 array with C*HH*WW*N*Ho*Wo elements, read as
      shape (C, HH, WW, N, Ho, Wo) (e.g. dx_cols of conv_backward_strides)
    - N, C, H, W: shape of the (unpadded) image
    - HH, WW, pad, stride: as in im2col_6d_cython

    Returns:
    - x: array of shape (N, C, H, W), same dtype as cols, where every entry is the
      sum of the column entries that were read from it (padding taps are dropped).
      Written into `out` when given (a C-contiguous array of that shape and dtype,
      e.g. a slice along N of a larger one), which is then returned.
    """
    Ho, Wo = conv_output_size(H, W, HH, WW, pad, stride, "col2im")
    cols = _check_cols(cols, (C, HH, WW, N, Ho, Wo))
    x = _check_out(out, (N, C, H, W), cols.dtype)
    _col2im_6d(cols, x, pad, stride)
    return x


# ---------------------------------------------------------------- course layout

# Loop order for the course layout: for one (row, i) the Wo*N column entries form one
# small contiguous block, so the inner loops run along an image row (j) and step through
# that block; looping over n innermost instead would hop between images C*H*W apart,
# which all map to the same cache set and thrash.

def _im2col(const floating[:, :, :, ::1] x, floating[:, ::1] cols, Py_ssize_t HH,
            Py_ssize_t WW, Py_ssize_t Ho, Py_ssize_t Wo, Py_ssize_t pad,
            Py_ssize_t stride):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c, kh, kw, n, i, j, j_lo, j_hi, y, row
    cdef const floating *src
    cdef floating *dst
    with nogil:
        for c in range(C):
            for kh in range(HH):
                for kw in range(WW):
                    row = (c * HH + kh) * WW + kw
                    j_lo = _first_valid(kw, pad, stride, Wo)
                    j_hi = _end_valid(kw, pad, stride, W, Wo)
                    if j_hi < j_lo:
                        j_hi = j_lo
                    for i in range(Ho):
                        dst = &cols[row, i * Wo * N]
                        y = kh + stride * i - pad
                        if y < 0 or y >= H:
                            memset(dst, 0, Wo * N * sizeof(floating))
                            continue
                        for n in range(N):
                            src = &x[n, c, y, 0]
                            for j in range(j_lo):
                                dst[j * N + n] = 0
                            for j in range(j_lo, j_hi):
                                dst[j * N + n] = src[kw - pad + stride * j]
                            for j in range(j_hi, Wo):
                                dst[j * N + n] = 0


def _col2im(const floating[:, ::1] cols, floating[:, :, :, ::1] x, Py_ssize_t HH,
            Py_ssize_t WW, Py_ssize_t Ho, Py_ssize_t Wo, Py_ssize_t pad,
            Py_ssize_t stride):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c, kh, kw, n, i, j, j_lo, j_hi, y, row
    cdef const floating *src
    cdef floating *dst
    with nogil:
        for c in range(C):
            for kh in range(HH):
                for kw in range(WW):
                    row = (c * HH + kh) * WW + kw
                    j_lo = _first_valid(kw, pad, stride, Wo)
                    j_hi = _end_valid(kw, pad, stride, W, Wo)
                    for i in range(Ho):
                        y = kh + stride * i - pad
                        if y < 0 or y >= H:
                            continue
                        src = &cols[row, i * Wo * N]
                        for n in range(N):
                            dst = &x[n, c, y, 0]
                            for j in range(j_lo, j_hi):
                                dst[kw - pad + stride * j] += src[j * N + n]


def im2col_cython(x, int field_height, int field_width, int padding, int stride):
    """Columns of x in the course layout (the same as cs231n.im2col.im2col_indices).

    Inputs:
    - x: float32 or float64 array of shape (N, C, H, W)
    - field_height, field_width: window (filter) size HH, WW
    - padding: zero padding on each side of H and W
    - stride: step between windows

    Returns:
    - cols: array of shape (C*HH*WW, Ho*Wo*N), same dtype as x, with
      cols[(c*HH + kh)*WW + kw, (i*Wo + j)*N + n] = x_padded[n, c, i*stride + kh, j*stride + kw]
    """
    x = _check_x(x)
    Ho, Wo = conv_output_size(x.shape[2], x.shape[3], field_height, field_width, padding,
                              stride, "im2col")
    N, C = x.shape[0], x.shape[1]
    cols = np.empty((C * field_height * field_width, Ho * Wo * N), dtype=x.dtype)
    _im2col(x, cols, field_height, field_width, Ho, Wo, padding, stride)
    return cols


def col2im_cython(cols, int N, int C, int H, int W, int field_height, int field_width,
                  int padding, int stride):
    """Sum course-layout columns back into an image: the adjoint of im2col_cython.

    Inputs:
    - cols: float32 or float64 array of shape (C*HH*WW, Ho*Wo*N)
    - N, C, H, W: shape of the (unpadded) image
    - field_height, field_width, padding, stride: as in im2col_cython

    Returns:
    - x: array of shape (N, C, H, W), same dtype as cols.
    """
    Ho, Wo = conv_output_size(H, W, field_height, field_width, padding, stride, "col2im")
    cols = _check_cols(cols, (C * field_height * field_width, Ho * Wo * N))
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    _col2im(cols, x, field_height, field_width, Ho, Wo, padding, stride)
    return x


# ---------------------------------------------------------------- max pool backward

# Max pooling whose windows tile x (stride == window size), given the forward's output
# `out`: each window's upstream gradient goes to the first (row-major) position equal to
# its maximum, 0 to the others (the rule of the numpy reshape backward, of the naive
# layer and of PyTorch). The code has no data-dependent branches: which position holds a
# window's maximum is random on real data, and a mispredicted branch per window costs
# more than the memory traffic (a branchy version ran 5x slower). The 2x2 kernel's inner
# loop, with fixed offsets, is vectorized by the compiler.

def _max_pool_backward_2x2(const floating[:, :, ::1] x, const floating[:, :, ::1] out,
                           const floating[:, :, ::1] dout, floating[:, :, ::1] dx):
    cdef Py_ssize_t P = x.shape[0], W = x.shape[2], Ho = out.shape[1], Wo = out.shape[2]
    cdef Py_ssize_t p, i, j
    cdef const floating *top
    cdef const floating *bottom
    cdef const floating *m
    cdef const floating *g
    cdef floating *dtop
    cdef floating *dbottom
    cdef int h0, h1, h2, h3
    with nogil:
        for p in range(P):
            for i in range(Ho):
                top = &x[p, 2 * i, 0]
                bottom = top + W
                dtop = &dx[p, 2 * i, 0]
                dbottom = dtop + W
                m = &out[p, i, 0]
                g = &dout[p, i, 0]
                for j in range(Wo):
                    h0 = top[2 * j] == m[j]
                    h1 = (top[2 * j + 1] == m[j]) & (h0 ^ 1)
                    h2 = (bottom[2 * j] == m[j]) & ((h0 | h1) ^ 1)
                    h3 = (bottom[2 * j + 1] == m[j]) & ((h0 | h1 | h2) ^ 1)
                    dtop[2 * j] = g[j] * h0
                    dtop[2 * j + 1] = g[j] * h1
                    dbottom[2 * j] = g[j] * h2
                    dbottom[2 * j + 1] = g[j] * h3


def _max_pool_backward_tiles(const floating[:, :, ::1] x, const floating[:, :, ::1] out,
                             const floating[:, :, ::1] dout, floating[:, :, ::1] dx,
                             Py_ssize_t ph, Py_ssize_t pw):
    cdef Py_ssize_t P = x.shape[0], W = x.shape[2], Ho = out.shape[1], Wo = out.shape[2]
    cdef Py_ssize_t p, i, j, kh, kw
    cdef const floating *win
    cdef floating *dwin
    cdef floating m, g
    cdef int hit, taken
    with nogil:
        for p in range(P):
            for i in range(Ho):
                for j in range(Wo):
                    win = &x[p, i * ph, j * pw]
                    dwin = &dx[p, i * ph, j * pw]
                    m = out[p, i, j]
                    g = dout[p, i, j]
                    taken = 0
                    for kh in range(ph):
                        for kw in range(pw):
                            hit = (win[kh * W + kw] == m) & (taken ^ 1)
                            dwin[kh * W + kw] = g * hit
                            taken = taken | hit


def max_pool_backward_tiles_cython(x, out, dout, int ph, int pw):
    """dx of max pooling whose windows tile x (stride == window size), in one pass.

    Inputs:
    - x: float32 or float64 array of shape (N, C, H, W), H and W divisible by ph and pw
    - out: the forward's output, the maxima of the windows: shape (N, C, H / ph, W / pw)
    - dout: the upstream gradient, same shape as out
    - ph, pw: window height and width (= the strides)
    out and dout are cast to x's dtype.

    Returns:
    - dx: array of shape (N, C, H, W), same dtype as x: dout[n, c, i, j] at the first
      (row-major) position of window (i, j) equal to out[n, c, i, j], 0 elsewhere.
    """
    x = _check_x(x)
    N, C, H, W = x.shape
    if ph < 1 or pw < 1 or H % ph or W % pw:
        raise ValueError(f"windows {ph}x{pw} do not tile x of shape {x.shape}")
    planes = (N * C, H // ph, W // pw)
    arrays = []
    for name, a in (("out", out), ("dout", dout)):
        a = np.ascontiguousarray(a, dtype=x.dtype)
        if a.shape != (N, C, H // ph, W // pw):
            raise ValueError(f"{name} must have shape {(N, C, H // ph, W // pw)}, got {a.shape}")
        arrays.append(a.reshape(planes))
    dx = np.empty(x.shape, dtype=x.dtype)
    x3, dx3 = x.reshape(N * C, H, W), dx.reshape(N * C, H, W)
    if ph == pw == 2:
        _max_pool_backward_2x2(x3, arrays[0], arrays[1], dx3)
    else:
        _max_pool_backward_tiles(x3, arrays[0], arrays[1], dx3, ph, pw)
    return dx


# ---------------------------------------------------------------- image features

# Kernels behind cs231n.features' batched HOG and hue histogram. Each does, pixel by
# pixel, the floating-point operations of the numpy code it replaces, in the same order,
# so that the features keep their bits; what they save is the passes of numpy over whole
# arrays and their temporaries (about 20 for the hue, 10 for HOG). A select that the
# data decide at random (whether a HOG pixel counts) goes through a 2-entry table, not a
# branch, as in the pooling kernels above.

def hog_gradients_cython(const double[:, :, :, ::1] rgb, double[:, :, ::1] gx,
                         double[:, :, ::1] gy, double[:, ::1] gray):
    """gx, gy of the gray images of rgb (n, H, W, C >= 3), as cs231n.features._gradients.

    gray = fma(b, 0.144, fma(g, 0.587, r * 0.299)) rounds as np.dot(rgb[..., :3], weights)
    does on contiguous rows with OpenBLAS's FMA kernels (x86-64 with FMA: bit for bit);
    with other BLAS kernels, or on a strided rgb, np.dot may differ in the last bit. gx
    and gy are the forward differences along W and H, 0 in the last column / row.
    `gray` is an (H, W) scratch array.
    """
    cdef Py_ssize_t n = rgb.shape[0], H = rgb.shape[1], W = rgb.shape[2]
    cdef Py_ssize_t p, i, j
    with nogil:
        for p in range(n):
            for i in range(H):
                for j in range(W):
                    gray[i, j] = fma(rgb[p, i, j, 2], 0.144,
                                     fma(rgb[p, i, j, 1], 0.587, rgb[p, i, j, 0] * 0.299))
            for i in range(H):
                for j in range(W - 1):
                    gx[p, i, j] = gray[i, j + 1] - gray[i, j]
                gx[p, i, W - 1] = 0
                for j in range(W):
                    gy[p, i, j] = gray[i + 1, j] - gray[i, j] if i < H - 1 else 0


def hog_cell_sums_cython(const double[:, :, ::1] gx, const double[:, :, ::1] gy,
                         const double[:, :, ::1] ori, double[:, :, :, ::1] sums,
                         Py_ssize_t cx, Py_ssize_t cy):
    """sums[p, a, b, k] += the gradient magnitude of each pixel of cell (a, b) of image p
    whose orientation lies in bin k, as the bincount of cs231n.features._hog_feature_batched.

    Magnitude sqrt(gx*gx + gy*gy); bin k holds 20 k <= ori < 20 (k + 1), and only
    0 < ori < 180 counts (the course's rule). Pixels are added in row-major order, as
    np.bincount adds them, so the sums have the same bits. sums starts at 0, shape
    (n, H // cx, W // cy, 9); the pixels of a partial cell at the border are ignored.
    """
    cdef Py_ssize_t n = sums.shape[0], cells_x = sums.shape[1], cells_y = sums.shape[2]
    cdef Py_ssize_t p, i, j, cell, k
    cdef double o
    cdef int inside
    cdef double pick[2]
    cdef double *cell_sums
    with nogil:
        for p in range(n):
            for i in range(cells_x * cx):
                for cell in range(cells_y):
                    cell_sums = &sums[p, i // cx, cell, 0]
                    for j in range(cell * cy, (cell + 1) * cy):
                        o = ori[p, i, j]
                        # Half the pixels of an image (gx < 0) fall outside (0, 180), at
                        # random: selects through a 2-entry table, not branches.
                        inside = (o > 0) & (o < 180)
                        pick[0] = 0.0    # outside (NaN too): weight 0, in bin 0
                        pick[1] = o
                        o = pick[inside]
                        k = <Py_ssize_t>(o / 20.0)
                        k -= 20.0 * k > o      # o / 20 rounded up to the next integer
                        k = 8 if k > 8 else k
                        pick[1] = sqrt(gx[p, i, j] * gx[p, i, j] + gy[p, i, j] * gy[p, i, j])
                        cell_sums[k] += pick[inside]


cdef long long _image_hues(const double *rgb, Py_ssize_t P, double xmax,
                           double *hue) noexcept nogil:
    """hue[q] = _hue(rgb[q] / xmax) * xmax for the P pixels of one image (rgb: P x 3);
    returns how many pixels have a value outside [0, 1] after the division."""
    cdef Py_ssize_t q
    cdef double r, g, b, hi, lo, delta, num, off, h
    cdef long long bad = 0
    for q in range(P):
        r = rgb[3 * q] / xmax
        g = rgb[3 * q + 1] / xmax
        b = rgb[3 * q + 2] / xmax
        hi = r if r > g else g
        hi = hi if hi > b else b
        lo = r if r < g else g
        lo = lo if lo < b else b
        bad += (lo < 0) | (hi > 1)
        delta = hi - lo
        # matplotlib's order: red, then green, then blue; a later maximum wins. One
        # division of the chosen numerator (0.0 + x for red is exact).
        num = (r - g) if b == hi else ((b - r) if g == hi else (g - b))
        off = 4.0 if b == hi else (2.0 if g == hi else 0.0)
        h = off + num / (delta if delta > 0 else 1.0)
        # Gray pixels, and a NaN channel (np.max propagates it), get hue 0.
        h = (h if (delta > 0) & (r == r) & (g == g) & (b == b) else 0.0) / 6.0
        # np.remainder(h, 1.0) for h in [-1/6, 5/6] (|num| <= delta): h plus 1 when
        # negative, else h + 0.0, which turns a -0.0 into 0.0 as numpy does.
        h = h + (1.0 if h < 0 else 0.0)
        hue[q] = h * xmax
    return bad


def hue_histogram_cython(const double[:, :, ::1] rgb, double xmax, const double[::1] bins,
                         long long[:, ::1] counts):
    """Hue histogram counts of n images, rgb (n, pixels, 3) with values in [0, xmax].

    Per pixel, the operations of cs231n.features._hue on rgb / xmax, then * xmax, then
    the bin of np.histogram with edges `bins`: bins[k] <= h < bins[k+1], the last bin
    also holding h == bins[-1], values outside dropped. counts (n, len(bins) - 1) starts
    at 0. Returns the number of values outside [0, 1] after dividing by xmax (the caller
    raises: the numpy path says which).
    """
    cdef Py_ssize_t n = rgb.shape[0], P = rgb.shape[1], nbin = bins.shape[0] - 1
    cdef Py_ssize_t p, q, k
    cdef long long bad = 0
    cdef double h
    cdef double inv_width = nbin / (bins[nbin] - bins[0]) if bins[nbin] > bins[0] else 0.0
    cdef double[::1] hue = np.empty(P)
    with nogil:
        for p in range(n):
            # An image's hues first, then their bins: measured 20% faster than one loop
            # doing both.
            bad += _image_hues(&rgb[p, 0, 0], P, xmax, &hue[0])
            for q in range(P):
                h = hue[q]
                if not (bins[0] <= h <= bins[nbin]):
                    continue        # outside the edges: dropped, as by np.histogram
                # A guess from the bin width, then corrected against the edges themselves
                # (what np.searchsorted compares with), so rounding cannot move a value.
                # The edge comparison first: almost always false, so the branch is
                # predicted (k > 0 first would be a random branch for the first bin).
                k = <Py_ssize_t>((h - bins[0]) * inv_width)
                k = nbin - 1 if k > nbin - 1 else k
                while h < bins[k] and k > 0:
                    k -= 1
                while h >= bins[k + 1] and k < nbin - 1:
                    k += 1
                counts[p, k] += 1
    return bad
