"""Fast conv and max-pool layers: against the naive layers and PyTorch float64 autograd,
numeric gradients, float32, clear errors, and the Cython and numpy paths both."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

from cs231n import fast_layers as fl
from cs231n.gradient_check import eval_numerical_gradient_array, rel_error
from cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

pytestmark = pytest.mark.a2

CONV_PAIRS = [(fl.conv_forward_strides, fl.conv_backward_strides),
              (fl.conv_forward_im2col, fl.conv_backward_im2col),
              (fl.conv_forward_fast, fl.conv_backward_fast)]

# (N, C, H, W, F, HH, WW, stride, pad): odd sizes, HH != WW, stride 1-3, pad 0-2
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 5, 1, 2),
    (3, 2, 8, 6, 3, 2, 4, 2, 1),
    (1, 4, 10, 9, 2, 3, 2, 3, 1),
    (2, 1, 5, 5, 3, 1, 3, 2, 0),
    (4, 3, 6, 7, 5, 3, 3, 1, 1),
]

# (N, C, H, W, pool_height, pool_width, stride): both the reshape and the im2col method
POOL_CASES = [
    (2, 3, 8, 6, 2, 2, 2),     # tiles: reshape
    (3, 2, 9, 9, 3, 3, 3),     # tiles: reshape
    (2, 3, 7, 8, 3, 2, 2),     # non-square window: im2col
    (1, 4, 7, 7, 3, 3, 2),     # overlapping windows: im2col
    (2, 2, 10, 7, 1, 4, 3),    # im2col, stride 3
]


@pytest.fixture(params=["cython", "numpy"])
def backend(request, monkeypatch):
    """Run a test once with the compiled kernels and once with the numpy fallback."""
    if request.param == "cython" and not fl.HAVE_CYTHON:
        pytest.skip("Cython extension not built (run `make`)")
    monkeypatch.setattr(fl, "USE_CYTHON", request.param == "cython")
    return request.param


def _conv_data(case, dtype=np.float64):
    N, C, H, W, F, HH, WW, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((N, C, H, W), (F, C, HH, WW), (F,)))
    return x, w, b, {"stride": stride, "pad": pad}


def _pool_data(case, dtype=np.float64):
    N, C, H, W, ph, pw, stride = case
    x = np.random.default_rng(sum(case)).standard_normal((N, C, H, W)).astype(dtype)
    return x, {"pool_height": ph, "pool_width": pw, "stride": stride}


def _torch_conv(x, w, b, dout, conv_param):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = tF.conv2d(xt, wt, bt, stride=conv_param["stride"], padding=conv_param["pad"])
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


# ---------------------------------------------------------------- convolution

@pytest.mark.parametrize("forward, backward", CONV_PAIRS, ids=["strides", "im2col", "fast"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_naive_and_torch_float64(backend, case, forward, backward):
    x, w, b, conv_param = _conv_data(case)
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out_naive.shape)
    out, cache = forward(x, w, b, conv_param)
    grads = backward(dout, cache)
    torch_results = _torch_conv(x, w, b, dout, conv_param)
    naive_results = (out_naive, *conv_backward_naive(dout, cache_naive))
    for name, ours, naive, ref in zip(("out", "dx", "dw", "db"), (out, *grads), naive_results,
                                      torch_results, strict=True):
        assert ours.shape == ref.shape and ours.dtype == np.float64, name
        assert rel_error(ours, naive) < 1e-10, name
        assert rel_error(ours, ref) < 1e-10, name


@pytest.mark.parametrize("forward, backward", CONV_PAIRS[:2], ids=["strides", "im2col"])
def test_conv_numeric_gradients(backend, forward, backward):
    x, w, b, conv_param = _conv_data((2, 2, 5, 6, 3, 3, 2, 2, 1))
    out, cache = forward(x, w, b, conv_param)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, w, b, conv_param)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda v: forward(x, v, b, conv_param)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda v: forward(x, w, v, conv_param)[0], b, dout)
    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-8


@pytest.mark.parametrize("forward, backward", CONV_PAIRS[:2], ids=["strides", "im2col"])
@pytest.mark.parametrize("case", CONV_CASES[:3])
def test_conv_float32_stays_float32(backend, case, forward, backward):
    x, w, b, conv_param = _conv_data(case, np.float32)
    out, cache = forward(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    grads = backward(dout, cache)
    ref_out, ref_cache = conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)), conv_param)
    refs = (ref_out, *conv_backward_naive(dout.astype(np.float64), ref_cache))
    for name, ours, ref in zip(("out", "dx", "dw", "db"), (out, *grads), refs, strict=True):
        assert ours.dtype == np.float32, name
        assert np.max(np.abs(ours - ref)) < 1e-4 * (1 + np.max(np.abs(ref))), name


def test_conv_mixed_dtypes_follow_numpy_promotion(backend):
    x, w, b, conv_param = _conv_data(CONV_CASES[0], np.float32)
    out, _ = fl.conv_forward_fast(x, w.astype(np.float64), b, conv_param)
    assert out.dtype == np.float64
    out, _ = fl.conv_forward_fast(x.astype(np.int64), w, b, conv_param)
    assert out.dtype == np.float64
    out, _ = fl.conv_forward_fast(x, w, b, conv_param)
    assert out.dtype == np.float32


@pytest.mark.parametrize("images_per_chunk", [1, 2])
def test_conv_backward_by_chunks_of_images(backend, monkeypatch, images_per_chunk):
    x, w, b, conv_param = _conv_data((5, 3, 7, 9, 4, 3, 5, 1, 2))  # chunks 1x5 or 2+2+1
    K, P = 3 * 3 * 5, 7 * 9
    monkeypatch.setattr(fl, "_CHUNK_BYTES", images_per_chunk * K * P * x.itemsize)
    out, cache = fl.conv_forward_strides(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    _, cache_naive = conv_forward_naive(x, w, b, conv_param)
    for ours, naive in zip(fl.conv_backward_strides(dout, cache),
                           conv_backward_naive(dout, cache_naive), strict=True):
        assert rel_error(ours, naive) < 1e-10


def test_conv_fast_is_the_strides_pair():
    assert fl.conv_forward_fast is fl.conv_forward_strides
    assert fl.conv_backward_fast is fl.conv_backward_strides


@pytest.mark.parametrize("forward", [fl.conv_forward_strides, fl.conv_forward_im2col])
def test_conv_bad_inputs_raise_clear_errors(forward):
    x, w, b, _ = _conv_data((2, 3, 6, 6, 4, 3, 3, 1, 0))
    with pytest.raises(ValueError, match=r"conv height: .* 1 \+ \(6 \+ 2\*0 - 3\) / 2 = 2.5"):
        forward(x, w, b, {"stride": 2, "pad": 0})
    with pytest.raises(ValueError, match="same C"):
        forward(x, w[:, :2], b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="one bias per filter"):
        forward(x, w, b[:3], {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="missing \\['pad'\\]"):
        forward(x, w, b, {"stride": 1})
    with pytest.raises(ValueError, match="stride must be an integer"):
        forward(x, w, b, {"stride": 1.0, "pad": 1})


def test_conv_backward_rejects_wrong_dout():
    x, w, b, conv_param = _conv_data(CONV_CASES[0])
    out, cache = fl.conv_forward_fast(x, w, b, conv_param)
    with pytest.raises(ValueError, match="dout has shape"):
        fl.conv_backward_fast(out[:, :-1], cache)


# ---------------------------------------------------------------- max pooling

@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_matches_naive_and_torch_float64(backend, case):
    x, pool_param = _pool_data(case)
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out_naive.shape)
    out, cache = fl.max_pool_forward_fast(x, pool_param)
    dx = fl.max_pool_backward_fast(dout, cache)
    tiles = case[4] == case[5] == case[6] and case[2] % case[4] == 0 and case[3] % case[5] == 0
    assert cache[0] == ("reshape" if tiles else "im2col")

    xt = torch.tensor(x, requires_grad=True)
    out_t = tF.max_pool2d(xt, (case[4], case[5]), stride=case[6])
    out_t.backward(torch.from_numpy(dout))
    assert rel_error(out, out_naive) == 0 and rel_error(out, out_t.detach().numpy()) == 0
    assert rel_error(dx, max_pool_backward_naive(dout, cache_naive)) < 1e-12
    assert rel_error(dx, xt.grad.numpy()) < 1e-12


@pytest.mark.parametrize("case", POOL_CASES[:2])
def test_max_pool_reshape_and_im2col_agree(backend, case):
    x, pool_param = _pool_data(case, np.float32)
    out_r, cache_r = fl.max_pool_forward_reshape(x, pool_param)
    out_i, cache_i = fl.max_pool_forward_im2col(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out_r.shape).astype(np.float32)
    np.testing.assert_array_equal(out_r, out_i)
    np.testing.assert_array_equal(fl.max_pool_backward_reshape(dout, cache_r),
                                  fl.max_pool_backward_im2col(dout, cache_i))
    assert out_r.dtype == out_i.dtype == np.float32


def test_max_pool_numeric_gradient(backend):
    for case in (POOL_CASES[0], POOL_CASES[3]):
        x, pool_param = _pool_data(case)
        out, cache = fl.max_pool_forward_fast(x, pool_param)
        dout = np.random.default_rng(2).standard_normal(out.shape)
        dx_num = eval_numerical_gradient_array(
            lambda v, p=pool_param: fl.max_pool_forward_fast(v, p)[0], x, dout)
        assert rel_error(fl.max_pool_backward_fast(dout, cache), dx_num) < 1e-8


@pytest.mark.parametrize("case", [POOL_CASES[0], POOL_CASES[2]])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum(backend, case):
    x, pool_param = _pool_data(case)
    x = np.round(x)  # many ties within windows
    out, cache = fl.max_pool_forward_fast(x, pool_param)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    expected = max_pool_backward_naive(dout, max_pool_forward_naive(x, pool_param)[1])
    np.testing.assert_array_equal(fl.max_pool_backward_fast(dout, cache), expected)


def test_max_pool_backward_mixed_dtypes_and_a_strided_dout(backend):
    # float32 x with a float64, non-contiguous dout: dx is float64, as numpy's rule gives.
    x, pool_param = _pool_data(POOL_CASES[0], np.float32)
    out, cache = fl.max_pool_forward_fast(x, pool_param)
    dout = np.random.default_rng(4).standard_normal(out.shape[::-1]).T
    dx = fl.max_pool_backward_fast(dout, cache)
    expected = max_pool_backward_naive(dout, max_pool_forward_naive(x, pool_param)[1])
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_bad_inputs_raise_clear_errors():
    x, _ = _pool_data(POOL_CASES[0])
    with pytest.raises(ValueError, match=r"max pool width: .* 1 \+ \(6 \+ 2\*0 - 4\) / 4 = 1.5"):
        fl.max_pool_forward_fast(x, {"pool_height": 4, "pool_width": 4, "stride": 4})
    with pytest.raises(ValueError, match="missing \\['stride'\\]"):
        fl.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2})
    with pytest.raises(ValueError, match="use max_pool_forward_fast"):
        fl.max_pool_forward_reshape(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    out, cache = fl.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match="dout has shape"):
        fl.max_pool_backward_fast(out[..., :-1], cache)
    with pytest.raises(ValueError, match="Unrecognized method"):
        fl.max_pool_backward_fast(out, ("strides", cache[1]))


# ---------------------------------------------------------------- the two paths

def test_cython_and_numpy_paths_agree(monkeypatch):
    if not fl.HAVE_CYTHON:
        pytest.skip("Cython extension not built (run `make`)")
    results = {}
    for use_cython in (True, False):
        monkeypatch.setattr(fl, "USE_CYTHON", use_cython)
        got = []
        for case in CONV_CASES[:3]:
            x, w, b, conv_param = _conv_data(case, np.float32)
            for forward, backward in CONV_PAIRS[:2]:
                out, cache = forward(x, w, b, conv_param)
                got += [out, *backward(np.ones_like(out), cache)]
        for case in POOL_CASES:
            x, pool_param = _pool_data(case, np.float32)
            out, cache = fl.max_pool_forward_fast(x, pool_param)
            got += [out, fl.max_pool_backward_fast(np.ones_like(out), cache)]
        results[use_cython] = got
    for a, b in zip(results[True], results[False], strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_without_the_extension_the_numpy_path_runs_and_says_so_once():
    code = (
        "import sys; sys.modules['cs231n.im2col_cython'] = None\n"
        "import numpy as np\n"
        "from cs231n import fast_layers as fl\n"
        "import cs231n.fast_layers\n"
        "assert not fl.HAVE_CYTHON and not fl.USE_CYTHON\n"
        "x, w, b = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), np.zeros(3)\n"
        "out, cache = fl.conv_forward_fast(x, w, b, {'stride': 1, 'pad': 1})\n"
        "dx, dw, db = fl.conv_backward_fast(np.ones_like(out), cache)\n"
        "assert out[0, 0, 2, 2] == 18 and out[0, 0, 0, 0] == 8 and dx[0, 0, 2, 2] == 27\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "im2col_cython" in line]
    assert len(lines) == 1 and "make" in lines[0] and "pip install -e ." in lines[0], proc.stderr


def test_an_older_extension_without_the_pool_kernel_keeps_the_rest_compiled(monkeypatch):
    # An extension built from an older im2col_cython.pyx lacks max_pool_backward_tiles_cython:
    # the pool backward then takes the numpy loop, the same gradients, and im2col stays compiled.
    if not fl.HAVE_CYTHON:
        pytest.skip("Cython extension not built (run `make`)")
    x, pool_param = _pool_data(POOL_CASES[0], np.float64)
    out, cache = fl.max_pool_forward_fast(x, pool_param)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    expected = fl.max_pool_backward_fast(dout, cache)
    monkeypatch.setattr(fl, "max_pool_backward_tiles_cython", None)
    assert fl.USE_CYTHON
    np.testing.assert_array_equal(fl.max_pool_backward_fast(dout, cache), expected)
