"""cs231n.layers: the course's fixed checks, numeric gradients, and PyTorch float64 autograd."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs231n.gradient_check import check_layer_gradients, eval_numerical_gradient, rel_error
from cs231n.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    svm_loss,
)

pytestmark = pytest.mark.a2

NUMERIC_TOL = 1e-7   # centered differences with h = 1e-5 in float64
TORCH_TOL = 1e-10    # same float64 computation, different order of operations


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(231)
    torch.manual_seed(231)


def torch_reference(f, arrays, dout=None):
    """Run f on float64 tensors made from arrays; return (out, grads of sum(out * dout))."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward(None if dout is None else torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def max_numeric_error(forward, backward, inputs, dout):
    """Largest relative error of backward's gradients against numeric ones."""
    return max(check_layer_gradients(forward, backward, inputs, dout).values())


def assert_close(actual, expected, tol):
    for a, e in zip(actual, expected, strict=True):
        assert rel_error(a, e) < tol


# ----------------------------------------------------------------------------- affine, relu


def test_affine_forward_course_values():
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    x = np.linspace(-0.1, 0.5, num=num_inputs * 120).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=output_dim * 120).reshape(120, output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, _ = affine_forward(x, w, b)
    correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                            [3.25553199, 3.5141327, 3.77273342]])
    assert rel_error(out, correct_out) < 1e-9


def test_affine_gradients_numeric_and_torch():
    x = np.random.randn(5, 2, 3)
    w = np.random.randn(6, 7)
    b = np.random.randn(7)
    dout = np.random.randn(5, 7)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(dout, cache)
    assert grads[0].shape == x.shape
    assert max_numeric_error(affine_forward, affine_backward, {"x": x, "w": w, "b": b},
                             dout) < NUMERIC_TOL
    t_out, t_grads = torch_reference(lambda x, w, b: x.reshape(5, -1) @ w + b, [x, w, b], dout)
    assert_close([out, *grads], [t_out, *t_grads], TORCH_TOL)


def test_affine_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="flattens to D = 6"):
        affine_forward(np.zeros((2, 3, 2)), np.zeros((5, 4)), np.zeros(4))
    with pytest.raises(ValueError, match="b must have shape"):
        affine_forward(np.zeros((2, 5)), np.zeros((5, 4)), np.zeros(3))


def test_relu_forward_course_values():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    correct_out = np.array([[0., 0., 0., 0.],
                            [0., 0., 0.04545455, 0.13636364],
                            [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert rel_error(out, correct_out) < 1e-7


def test_relu_gradients_numeric_and_torch():
    x = np.random.randn(4, 7)
    x[np.abs(x) < 1e-3] = 0.5          # keep the numeric check away from the kink
    dout = np.random.randn(4, 7)
    out, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    assert max_numeric_error(relu_forward, relu_backward, {"x": x}, dout) < NUMERIC_TOL
    t_out, (t_dx,) = torch_reference(torch.relu, [x], dout)
    assert_close([out, dx], [t_out, t_dx], TORCH_TOL)


# ----------------------------------------------------------------------------- losses


def test_svm_loss_course_sanity_numeric_and_torch():
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    loss, dx = svm_loss(x, y)
    assert abs(loss - 9) < 0.1      # every margin is about 1 at small scores
    dx_num = eval_numerical_gradient(lambda x: svm_loss(x, y)[0], x, verbose=False)
    assert rel_error(dx_num, dx) < 1e-8
    x = np.random.randn(7, 5)
    y = np.random.randint(5, size=7)
    loss, dx = svm_loss(x, y)
    # torch averages the hinge over the K classes as well as the N examples
    t_loss, (t_dx,) = torch_reference(
        lambda x: 5 * F.multi_margin_loss(x, torch.tensor(y)), [x])
    assert rel_error(loss, t_loss) < TORCH_TOL
    assert rel_error(dx, t_dx) < TORCH_TOL


def test_softmax_loss_course_sanity_numeric_and_torch():
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    loss, dx = softmax_loss(x, y)
    assert abs(loss - np.log(10)) < 0.01
    dx_num = eval_numerical_gradient(lambda x: softmax_loss(x, y)[0], x, verbose=False)
    assert rel_error(dx_num, dx) < 1e-8
    x = 3 * np.random.randn(7, 5)
    y = np.random.randint(5, size=7)
    loss, dx = softmax_loss(x, y)
    t_loss, (t_dx,) = torch_reference(lambda x: F.cross_entropy(x, torch.tensor(y)), [x])
    assert rel_error(loss, t_loss) < TORCH_TOL
    assert rel_error(dx, t_dx) < TORCH_TOL


def test_softmax_loss_is_stable_for_huge_scores():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 2e4]])
    loss, dx = softmax_loss(x, np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(0.5 * 1e4)


@pytest.mark.parametrize("loss_fn", [svm_loss, softmax_loss])
def test_losses_reject_bad_labels(loss_fn):
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="labels must lie in"):
        loss_fn(x, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="integer array of shape"):
        loss_fn(x, np.array([0.0, 1.0, 2.0]))


# ----------------------------------------------------------------------------- batchnorm


def test_batchnorm_forward_course_checks():
    N, D1, D2, D3 = 200, 50, 60, 3
    X = np.random.randn(N, D1)
    a = np.maximum(0, X @ np.random.randn(D1, D2)) @ np.random.randn(D2, D3)
    out, _ = batchnorm_forward(a, np.ones(D3), np.zeros(D3), {"mode": "train"})
    assert np.allclose(out.mean(axis=0), 0, atol=1e-10)
    assert np.allclose(out.std(axis=0), 1, atol=1e-5)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
    assert np.allclose(out.mean(axis=0), beta)
    assert np.allclose(out.std(axis=0), gamma, atol=1e-4)

    # Test mode after many training passes: about zero mean, unit variance.
    W1, W2 = np.random.randn(D1, D2), np.random.randn(D2, D3)
    bn_param = {"mode": "train"}
    for _ in range(50):
        a = np.maximum(0, np.random.randn(N, D1) @ W1) @ W2
        batchnorm_forward(a, np.ones(D3), np.zeros(D3), bn_param)
    bn_param["mode"] = "test"
    a = np.maximum(0, np.random.randn(N, D1) @ W1) @ W2
    out, cache = batchnorm_forward(a, np.ones(D3), np.zeros(D3), bn_param)
    assert cache is None
    assert np.all(np.abs(out.mean(axis=0)) < 0.2)
    assert np.all(np.abs(out.std(axis=0) - 1) < 0.2)


def test_batchnorm_running_stats_in_place_biased_momentum():
    x = np.random.randn(6, 4) * 3 + 1
    running_mean, running_var = np.ones(4), np.ones(4)
    bn_param = {"mode": "train", "running_mean": running_mean, "running_var": running_var}
    batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    assert bn_param["running_mean"] is running_mean and bn_param["running_var"] is running_var
    assert np.allclose(running_mean, 0.9 + 0.1 * x.mean(axis=0))
    assert np.allclose(running_var, 0.9 + 0.1 * x.var(axis=0))     # biased variance
    # torch's running mean agrees (its momentum is 1 - ours; its running var is unbiased)
    t_mean = torch.ones(4, dtype=torch.float64)
    F.batch_norm(torch.tensor(x), t_mean, torch.ones(4, dtype=torch.float64),
                 training=True, momentum=0.1)
    assert rel_error(running_mean, t_mean.numpy()) < TORCH_TOL


def test_batchnorm_test_mode_matches_torch():
    x = np.random.randn(5, 3)
    gamma, beta = np.random.randn(3), np.random.randn(3)
    rm, rv = np.random.randn(3), np.random.rand(3) + 0.5
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm,
                                                "running_var": rv, "eps": 1e-3})
    expected = F.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv),
                            torch.tensor(gamma), torch.tensor(beta), training=False, eps=1e-3)
    assert rel_error(out, expected.numpy()) < TORCH_TOL


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_gradients_numeric_and_torch(backward):
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma, beta = np.random.randn(D), np.random.randn(D)
    dout = np.random.randn(N, D)

    def fwd(x, gamma, beta):
        return batchnorm_forward(x, gamma, beta, {"mode": "train"})

    out, cache = fwd(x, gamma, beta)
    grads = backward(dout, cache)
    assert max_numeric_error(fwd, backward, {"x": x, "gamma": gamma, "beta": beta},
                             dout) < NUMERIC_TOL
    t_out, t_grads = torch_reference(
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
        [x, gamma, beta], dout)
    assert_close([out, *grads], [t_out, *t_grads], 1e-9)


def test_batchnorm_backward_alt_equals_backward():
    x = np.random.randn(50, 20)
    _, cache = batchnorm_forward(x, np.random.randn(20), np.random.randn(20), {"mode": "train"})
    dout = np.random.randn(50, 20)
    assert_close(batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache), 1e-10)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="mode"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match="gamma must have shape"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="test mode"):
        batchnorm_backward(np.zeros((2, 3)), None)


# ----------------------------------------------------------------------------- layernorm


def test_layernorm_forward_course_check():
    a = np.random.randn(4, 7) * 3 + 5
    gamma, beta = np.array([3.0] * 7), np.array([5.0] * 7)
    out, _ = layernorm_forward(a, gamma, beta, {})
    assert np.allclose(out.mean(axis=1), 5)
    assert np.allclose(out.std(axis=1), 3, atol=1e-4)


def test_layernorm_gradients_numeric_and_torch():
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma, beta = np.random.randn(D), np.random.randn(D)
    dout = np.random.randn(N, D)

    def fwd(x, gamma, beta):
        return layernorm_forward(x, gamma, beta, {})

    out, cache = fwd(x, gamma, beta)
    grads = layernorm_backward(dout, cache)
    assert max_numeric_error(fwd, layernorm_backward, {"x": x, "gamma": gamma, "beta": beta},
                             dout) < NUMERIC_TOL
    t_out, t_grads = torch_reference(lambda x, g, b: F.layer_norm(x, (D,), g, b, eps=1e-5),
                                     [x, gamma, beta], dout)
    assert_close([out, *grads], [t_out, *t_grads], 1e-9)


# ----------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_dropout_forward_course_checks(p):
    x = np.random.randn(500, 500) + 10
    out, _ = dropout_forward(x, {"mode": "train", "p": p})
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})
    assert abs(out.mean() - x.mean()) < 0.05 * x.mean()        # inverted: same expectation
    assert abs(np.mean(out == 0) - (1 - p)) < 0.01            # p is the KEEP probability
    assert out_test is x or np.array_equal(out_test, x)


def test_dropout_backward_numeric_and_seeded():
    x = np.random.randn(10, 10) + 10
    dout = np.random.randn(*x.shape)
    param = {"mode": "train", "p": 0.2, "seed": 123}
    out, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    assert max_numeric_error(lambda x: dropout_forward(x, param), dropout_backward, {"x": x},
                             dout) < 1e-10
    assert np.array_equal(out, dropout_forward(x, param)[0])     # the seed fixes the mask
    kept = out != 0
    assert np.allclose(out[kept], x[kept] / 0.2) and np.allclose(dx[kept], dout[kept] / 0.2)


def test_seeded_dropout_leaves_the_global_rng_alone():
    x = np.random.randn(6, 7)
    before = np.random.get_state()
    out, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 3})
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]
    # the mask is the one of the seed's own generator, the same at every call
    expected = (np.random.RandomState(3).rand(6, 7) < 0.5) / 0.5
    assert np.array_equal(out, x * expected)


def test_unseeded_dropout_draws_from_np_random():
    x = np.ones((4, 5))
    np.random.seed(9)
    out, _ = dropout_forward(x, {"mode": "train", "p": 0.3})
    np.random.seed(9)
    assert np.array_equal(out, (np.random.rand(4, 5) < 0.3) / 0.3)


def test_dropout_test_mode_and_bad_p():
    x = np.random.randn(3, 4)
    out, cache = dropout_forward(x, {"mode": "test", "p": 0.5})
    assert np.array_equal(out, x)
    assert np.array_equal(dropout_backward(x, cache), x)
    with pytest.raises(ValueError, match="keep probability"):
        dropout_forward(x, {"mode": "train", "p": 0})


# ----------------------------------------------------------------------------- empty batches


def test_empty_batches_are_clear_errors():
    """A mean over N = 0 examples is NaN: these layers refuse an empty batch."""
    with pytest.raises(ValueError, match=r"batchnorm_forward: got an empty batch \(N = 0\); "
                                         "training-mode batch norm needs at least one example"):
        batchnorm_forward(np.zeros((0, 3)), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"batchnorm_forward: got an empty batch"):
        spatial_batchnorm_forward(np.zeros((0, 3, 2, 2)), np.ones(3), np.zeros(3),
                                  {"mode": "train"})
    for loss_fn in (svm_loss, softmax_loss):
        with pytest.raises(ValueError, match=rf"{loss_fn.__name__}: got an empty batch \(N = 0\)"):
            loss_fn(np.zeros((0, 4)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match=r"affine_forward: got an empty batch \(N = 0\)"):
        affine_forward(np.zeros((0, 2, 3)), np.zeros((6, 4)), np.zeros(4))


def test_empty_batch_in_test_mode_leaves_running_stats_alone():
    bn_param = {"mode": "test", "running_mean": np.ones(3), "running_var": np.ones(3)}
    out, _ = batchnorm_forward(np.zeros((0, 3)), np.ones(3), np.zeros(3), bn_param)
    assert out.shape == (0, 3)
    assert np.all(bn_param["running_mean"] == 1) and np.all(bn_param["running_var"] == 1)


# ----------------------------------------------------------------------------- conv


def test_conv_forward_naive_course_values():
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    correct_out = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                             [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                             [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                            [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                             [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                             [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
    assert rel_error(out, correct_out) < 3e-8


def test_conv_backward_naive_numeric():
    x = np.random.randn(2, 3, 5, 5)
    w = np.random.randn(2, 3, 3, 3)
    b = np.random.randn(2)
    conv_param = {"stride": 1, "pad": 1}
    dout = np.random.randn(2, 2, 5, 5)

    def fwd(x, w, b):
        return conv_forward_naive(x, w, b, conv_param)

    assert max_numeric_error(fwd, conv_backward_naive, {"x": x, "w": w, "b": b}, dout) < 1e-8


# (stride, pad, HH, WW, H_out, W_out): odd sizes, non-square kernels, strides 1-3, pads 0-2
CONV_CASES = [(1, 0, 3, 2, 4, 5), (2, 1, 3, 3, 3, 2), (3, 2, 2, 4, 2, 3), (2, 0, 1, 3, 3, 3),
              (1, 2, 5, 3, 3, 5), (3, 1, 4, 4, 1, 2)]


@pytest.mark.parametrize("stride,pad,HH,WW,H_out,W_out", CONV_CASES)
def test_conv_naive_matches_torch(stride, pad, HH, WW, H_out, W_out):
    N, C, F_ = 2, 3, 4
    H = (H_out - 1) * stride + HH - 2 * pad
    W = (W_out - 1) * stride + WW - 2 * pad
    x = np.random.randn(N, C, H, W)
    w = np.random.randn(F_, C, HH, WW)
    b = np.random.randn(F_)
    dout = np.random.randn(N, F_, H_out, W_out)
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    grads = conv_backward_naive(dout, cache)
    t_out, t_grads = torch_reference(
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad), [x, w, b], dout)
    assert out.shape == (N, F_, H_out, W_out)
    assert_close([out, *grads], [t_out, *t_grads], TORCH_TOL)


def test_conv_non_integer_output_is_a_clear_error():
    x, w, b = np.zeros((1, 3, 7, 6)), np.zeros((2, 3, 3, 3)), np.zeros(2)
    with pytest.raises(ValueError, match=r"conv width.*1 \+ \(6 \+ 2\*0 - 3\) / 2 = 2.5 is not"):
        conv_forward_naive(x, w, b, {"stride": 2, "pad": 0})
    with pytest.raises(ValueError, match="4 channels but w expects 3"):
        conv_forward_naive(np.zeros((1, 4, 5, 5)), w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="does not fit"):
        conv_forward_naive(np.zeros((1, 3, 2, 2)), w, b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"conv_param is missing \['pad'\]"):
        conv_forward_naive(x, w, b, {"stride": 1})


# ----------------------------------------------------------------------------- max pool


def test_max_pool_forward_naive_course_values():
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    out, _ = max_pool_forward_naive(x, {"pool_width": 2, "pool_height": 2, "stride": 2})
    correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                             [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                             [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                            [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                             [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                             [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
    assert rel_error(out, correct_out) < 1e-7


def test_max_pool_backward_naive_numeric():
    x = np.random.randn(3, 2, 6, 6)
    dout = np.random.randn(3, 2, 3, 3)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    assert max_numeric_error(lambda x: max_pool_forward_naive(x, pool_param),
                             max_pool_backward_naive, {"x": x}, dout) < 1e-10


# (pool_height, pool_width, stride, H_out, W_out): non-square, overlapping windows, strides 1-3
POOL_CASES = [(2, 2, 2, 3, 2), (3, 2, 1, 3, 4), (2, 3, 3, 2, 3), (3, 3, 2, 3, 2)]


@pytest.mark.parametrize("ph,pw,stride,H_out,W_out", POOL_CASES)
def test_max_pool_naive_matches_torch(ph, pw, stride, H_out, W_out):
    H, W = (H_out - 1) * stride + ph, (W_out - 1) * stride + pw
    x = np.random.randn(2, 3, H, W)
    dout = np.random.randn(2, 3, H_out, W_out)
    out, cache = max_pool_forward_naive(x, {"pool_height": ph, "pool_width": pw,
                                            "stride": stride})
    dx = max_pool_backward_naive(dout, cache)
    t_out, (t_dx,) = torch_reference(
        lambda x: F.max_pool2d(x, (ph, pw), stride=stride), [x], dout)
    assert_close([out, dx], [t_out, t_dx], TORCH_TOL)


def test_max_pool_non_integer_output_is_a_clear_error():
    with pytest.raises(ValueError, match=r"max pool height.*\(5 \+ 2\*0 - 2\) / 2 = 2.5"):
        max_pool_forward_naive(np.zeros((1, 1, 5, 4)),
                               {"pool_height": 2, "pool_width": 2, "stride": 2})


# ----------------------------------------------------------------------------- spatial norms


def test_spatial_batchnorm_forward_course_checks():
    N, C, H, W = 10, 3, 4, 5
    x = 4 * np.random.randn(N, C, H, W) + 10
    gamma, beta = np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert np.allclose(out.mean(axis=(0, 2, 3)), beta)
    assert np.allclose(out.std(axis=(0, 2, 3)), gamma, atol=1e-4)


def test_spatial_batchnorm_gradients_numeric_and_torch():
    N, C, H, W = 2, 3, 4, 5
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma, beta = np.random.randn(C), np.random.randn(C)
    dout = np.random.randn(N, C, H, W)

    def fwd(x, gamma, beta):
        return spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})

    out, cache = fwd(x, gamma, beta)
    grads = spatial_batchnorm_backward(dout, cache)
    # The course's notebook reports dx error 2.8e-07 here: tiny entries of dx (1e-4) meet
    # the truncation error of centered differences. Torch below checks to 1e-9.
    assert max_numeric_error(fwd, spatial_batchnorm_backward,
                             {"x": x, "gamma": gamma, "beta": beta}, dout) < 1e-6
    t_out, t_grads = torch_reference(
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
        [x, gamma, beta], dout)
    assert_close([out, *grads], [t_out, *t_grads], 1e-9)


def test_spatial_groupnorm_gradients_numeric_and_torch():
    N, C, H, W, G = 2, 6, 4, 5, 2
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma, beta = np.random.randn(1, C, 1, 1), np.random.randn(1, C, 1, 1)
    dout = np.random.randn(N, C, H, W)

    def fwd(x, gamma, beta):
        return spatial_groupnorm_forward(x, gamma, beta, G, {})

    out, cache = fwd(x, gamma, beta)
    grads = spatial_groupnorm_backward(dout, cache)
    assert grads[1].shape == (1, C, 1, 1)
    assert max_numeric_error(fwd, spatial_groupnorm_backward,
                             {"x": x, "gamma": gamma, "beta": beta}, dout) < NUMERIC_TOL
    t_out, t_grads = torch_reference(
        lambda x, g, b: F.group_norm(x, G, g.reshape(C), b.reshape(C), eps=1e-5),
        [x, gamma, beta], dout)
    assert_close([out, *grads], [t_out, *t_grads], 1e-9)


def test_spatial_groupnorm_errors():
    x = np.zeros((2, 6, 3, 3))
    with pytest.raises(ValueError, match="G = 4 groups must divide the C = 6 channels"):
        spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 4, {})
    with pytest.raises(ValueError, match="G must be an integer >= 1, got 0"):
        spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 0, {})
    with pytest.raises(ValueError, match=r"gamma must have shape \(1, 6, 1, 1\)"):
        spatial_groupnorm_forward(x, np.ones(6), np.zeros((1, 6, 1, 1)), 2, {})
