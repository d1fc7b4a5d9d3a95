"""im2col / col2im: the definition entry by entry, the overlap-count round trip, the
adjoint identity, the course index triple, errors, and Cython == numpy."""
import numpy as np
import pytest

from cs231n.im2col import (
    col2im_6d,
    col2im_indices,
    conv_output_size,
    get_im2col_indices,
    im2col_6d,
    im2col_indices,
)

pytestmark = pytest.mark.a2

# (N, C, H, W, HH, WW, pad, stride): odd sizes, HH != WW, stride 1-3, pad 0-2
CASES = [
    (2, 3, 5, 6, 3, 2, 1, 2),
    (1, 2, 6, 5, 1, 3, 0, 1),
    (3, 1, 7, 6, 2, 4, 2, 3),
    (2, 2, 4, 9, 4, 1, 1, 1),
    (1, 3, 3, 3, 3, 3, 0, 1),
]


def _x(case, dtype=np.float64):
    N, C, H, W = case[:4]
    return np.random.default_rng(sum(case)).standard_normal((N, C, H, W)).astype(dtype)


def _definition(x, HH, WW, pad, stride):
    """cols[c, kh, kw, n, i, j] = x_padded[n, c, i*stride + kh, j*stride + kw], by loops."""
    N, C, H, W = x.shape
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    cols = np.zeros((C, HH, WW, N, Ho, Wo), dtype=x.dtype)
    for c, kh, kw, n, i, j in np.ndindex(cols.shape):
        y, z = i * stride + kh - pad, j * stride + kw - pad
        if 0 <= y < H and 0 <= z < W:
            cols[c, kh, kw, n, i, j] = x[n, c, y, z]
    return cols


def _overlap_count(H, W, HH, WW, pad, stride):
    """How many windows read each pixel, counted directly."""
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    count = np.zeros((H, W))
    for i, j, kh, kw in np.ndindex(Ho, Wo, HH, WW):
        y, z = i * stride + kh - pad, j * stride + kw - pad
        if 0 <= y < H and 0 <= z < W:
            count[y, z] += 1
    return count


def _course_to_6d(cols, case):
    N, C, H, W, HH, WW, pad, stride = case
    Ho, Wo = conv_output_size(H, W, HH, WW, pad, stride)
    return cols.reshape(C, HH, WW, Ho, Wo, N).transpose(0, 1, 2, 5, 3, 4)


@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_definition(case):
    x, (HH, WW, pad, stride) = _x(case), case[4:]
    expected = _definition(x, HH, WW, pad, stride)
    np.testing.assert_array_equal(im2col_6d(x, HH, WW, pad, stride), expected)
    np.testing.assert_array_equal(_course_to_6d(im2col_indices(x, HH, WW, pad, stride), case),
                                  expected)


@pytest.mark.parametrize("case", CASES)
def test_get_im2col_indices_gathers_the_course_layout(case):
    x, (HH, WW, pad, stride) = _x(case), case[4:]
    k, i, j = get_im2col_indices(x.shape, HH, WW, pad, stride)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = x_padded[:, k, i, j].transpose(1, 2, 0).reshape(k.shape[0], -1)
    np.testing.assert_array_equal(cols, im2col_indices(x, HH, WW, pad, stride))


@pytest.mark.parametrize("case", CASES)
def test_col2im_of_im2col_is_x_times_overlap_count(case):
    x, (HH, WW, pad, stride) = _x(case), case[4:]
    N, C, H, W = x.shape
    expected = x * _overlap_count(H, W, HH, WW, pad, stride)
    back = col2im_indices(im2col_indices(x, HH, WW, pad, stride), x.shape, HH, WW, pad, stride)
    np.testing.assert_allclose(back, expected, rtol=1e-12, atol=1e-12)
    back6 = col2im_6d(im2col_6d(x, HH, WW, pad, stride), N, C, H, W, HH, WW, pad, stride)
    np.testing.assert_allclose(back6, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), g> == <x, col2im(g)> for any g: col2im is exactly im2col's backward."""
    x, (HH, WW, pad, stride) = _x(case), case[4:]
    N, C, H, W = x.shape
    cols = im2col_6d(x, HH, WW, pad, stride)
    g = np.random.default_rng(7).standard_normal(cols.shape)
    lhs = np.vdot(cols, g)
    assert np.isclose(np.vdot(x, col2im_6d(g, N, C, H, W, HH, WW, pad, stride)), lhs, rtol=1e-12)
    g_course = g.transpose(0, 1, 2, 4, 5, 3).reshape(C * HH * WW, -1)
    assert np.isclose(np.vdot(x, col2im_indices(g_course, x.shape, HH, WW, pad, stride)), lhs,
                      rtol=1e-12)


def test_conv_output_size_and_its_errors():
    assert conv_output_size(32, 32, 3, 3, 1, 1) == (32, 32)
    assert conv_output_size(7, 5, 3, 1, 0, 2) == (3, 3)
    with pytest.raises(ValueError, match=r"1 \+ \(6 \+ 2\*0 - 3\) / 2 = 2.5 is not a positive"):
        conv_output_size(6, 7, 3, 3, 0, 2)
    with pytest.raises(ValueError, match="does not|not a positive"):
        conv_output_size(2, 2, 5, 5, 0, 1)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv_output_size(8, 8, 3, 3, 1, 0)
    with pytest.raises(ValueError, match="pad must be an integer"):
        conv_output_size(8, 8, 3, 3, 1.5, 1)


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        im2col_indices(np.zeros((3, 4, 4)), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="not a positive integer"):
        im2col_6d(np.zeros((1, 1, 6, 6)), 3, 3, 0, 2)
    with pytest.raises(ValueError, match="cols has shape"):
        col2im_6d(np.zeros((5, 7)), 1, 1, 4, 4, 3, 3, 1, 1)


# ---------------------------------------------------------------- the compiled kernels

@pytest.fixture(scope="module")
def cy():
    return pytest.importorskip("cs231n.im2col_cython", reason="Cython extension not built")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_cython_equals_numpy(cy, case, dtype):
    x, (HH, WW, pad, stride) = _x(case, dtype), case[4:]
    N, C, H, W = x.shape
    cols6 = cy.im2col_6d_cython(x, HH, WW, pad, stride)
    cols = cy.im2col_cython(x, HH, WW, pad, stride)
    assert cols6.dtype == cols.dtype == dtype
    np.testing.assert_array_equal(cols6, im2col_6d(x, HH, WW, pad, stride))
    np.testing.assert_array_equal(cols, im2col_indices(x, HH, WW, pad, stride))
    g6 = np.random.default_rng(3).standard_normal(cols6.shape).astype(dtype)
    g = np.ascontiguousarray(g6.transpose(0, 1, 2, 4, 5, 3)).reshape(cols.shape)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    dx6 = cy.col2im_6d_cython(g6, N, C, H, W, HH, WW, pad, stride)
    dx = cy.col2im_cython(g, N, C, H, W, HH, WW, pad, stride)
    assert dx6.dtype == dx.dtype == dtype
    np.testing.assert_allclose(dx6, col2im_6d(g6, N, C, H, W, HH, WW, pad, stride),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, col2im_indices(g, x.shape, HH, WW, pad, stride),
                               rtol=tol, atol=tol)


def test_cython_accepts_non_contiguous_input_and_rejects_bad_input(cy):
    x = _x((2, 3, 6, 5, 0, 0, 0, 0))
    xt = np.asfortranarray(x)
    np.testing.assert_array_equal(cy.im2col_6d_cython(xt, 2, 3, 1, 1), im2col_6d(x, 2, 3, 1, 1))
    with pytest.raises(ValueError, match="float32 or float64"):
        cy.im2col_cython(x.astype(np.int64), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="not a positive integer"):
        cy.im2col_6d_cython(x, 3, 3, 0, 2)
    with pytest.raises(ValueError, match="cols has shape"):
        cy.col2im_6d_cython(np.zeros(10), 2, 3, 6, 5, 3, 3, 1, 1)


def test_col2im_6d_cython_writes_into_out(cy):
    x = _x((3, 2, 5, 6, 0, 0, 0, 0))
    cols = cy.im2col_6d_cython(x, 3, 2, 1, 1)
    big = np.full((5, 2, 5, 6), np.nan)
    got = cy.col2im_6d_cython(cols, 3, 2, 5, 6, 3, 2, 1, 1, out=big[1:4])
    assert got.base is big
    np.testing.assert_array_equal(big[1:4], col2im_6d(cols, 3, 2, 5, 6, 3, 2, 1, 1))
    assert np.isnan(big[0]).all() and np.isnan(big[4]).all()
    with pytest.raises(ValueError, match="out must be a C-contiguous float64"):
        cy.col2im_6d_cython(cols, 3, 2, 5, 6, 3, 2, 1, 1, out=big[1:4, :, :, ::-1])
