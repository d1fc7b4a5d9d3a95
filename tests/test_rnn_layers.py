"""cs231n.rnn_layers: the course's fixed checks, numeric gradients, and PyTorch float64 autograd."""
import numpy as np
import pytest
import torch

from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs231n.rnn_layers import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

pytestmark = pytest.mark.a3

NUMERIC_TOL = 1e-7   # centered differences with h = 1e-5 in float64
TORCH_TOL = 1e-10    # same float64 computation, different order of operations

# Random odd shapes for the gradient checks: N batch, T steps, D input, H hidden.
N, T, D, H = 3, 5, 7, 6


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(231)
    torch.manual_seed(231)


def numeric_grads(forward, arrays, dout):
    """Numeric gradients of sum(forward(*arrays)[0] * dout) for each array."""
    grads = []
    for i, a in enumerate(arrays):
        def f(v, i=i):
            args = list(arrays)
            args[i] = v
            return forward(*args)[0]
        grads.append(eval_numerical_gradient_array(f, a, dout))
    return grads


def assert_close(actual, expected, tol):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert rel_error(a, e) < tol


def tensors(*arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def cell_inputs(gates: int, seq: bool):
    """Random x, h0, Wx, Wh, b for a cell with `gates` blocks (1 RNN, 4 LSTM)."""
    x = np.random.randn(N, T, D) if seq else np.random.randn(N, D)
    return [x, np.random.randn(N, H), np.random.randn(D, gates * H),
            np.random.randn(H, gates * H), np.random.randn(gates * H)]


# torch orders the LSTM gates i, f, g, o; ours i, f, o, g. Swapping the last two blocks
# of H columns maps one to the other (the permutation is its own inverse).
def torch_gate_order(n_hidden: int) -> np.ndarray:
    return np.r_[0:2 * n_hidden, 3 * n_hidden:4 * n_hidden, 2 * n_hidden:3 * n_hidden]


def torch_module(kind: str, Wx, Wh, b):
    """A float64 torch RNN/LSTM module (or cell) carrying our weights (bias_hh = 0)."""
    d, width = Wx.shape
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM,
           "rnn_cell": torch.nn.RNNCell, "lstm_cell": torch.nn.LSTMCell}[kind]
    lstm = kind.startswith("lstm")
    hidden = width // 4 if lstm else width
    kwargs = {} if kind.endswith("cell") else {"batch_first": True}
    module = cls(d, hidden, **kwargs).double()
    order = torch_gate_order(hidden) if lstm else np.arange(width)
    params = dict(module.named_parameters())
    suffix = "" if kind.endswith("cell") else "_l0"
    with torch.no_grad():
        params["weight_ih" + suffix].copy_(torch.tensor(Wx[:, order].T))
        params["weight_hh" + suffix].copy_(torch.tensor(Wh[:, order].T))
        params["bias_ih" + suffix].copy_(torch.tensor(b[order]))
        params["bias_hh" + suffix].zero_()

    def our_grads():
        """dWx, dWh, db in our layout from the module's .grad."""
        return (params["weight_ih" + suffix].grad.numpy().T[:, order],
                params["weight_hh" + suffix].grad.numpy().T[:, order],
                params["bias_ih" + suffix].grad.numpy()[order])
    return module, our_grads


# ----------------------------------------------------------------------------- vanilla RNN


def test_rnn_step_forward_course_values():
    n, d, h = 3, 10, 4
    x = np.linspace(-0.4, 0.7, num=n * d).reshape(n, d)
    prev_h = np.linspace(-0.2, 0.5, num=n * h).reshape(n, h)
    Wx = np.linspace(-0.1, 0.9, num=d * h).reshape(d, h)
    Wh = np.linspace(-0.3, 0.7, num=h * h).reshape(h, h)
    b = np.linspace(-0.2, 0.4, num=h)
    next_h, _ = rnn_step_forward(x, prev_h, Wx, Wh, b)
    expected_next_h = np.asarray([
        [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
        [0.66854692, 0.79562378, 0.87755553, 0.92795967],
        [0.97934501, 0.99144213, 0.99646691, 0.99854353]])
    assert rel_error(next_h, expected_next_h) < 1e-8


def test_rnn_forward_course_values():
    n, t, d, h = 2, 3, 4, 5
    x = np.linspace(-0.1, 0.3, num=n * t * d).reshape(n, t, d)
    h0 = np.linspace(-0.3, 0.1, num=n * h).reshape(n, h)
    Wx = np.linspace(-0.2, 0.4, num=d * h).reshape(d, h)
    Wh = np.linspace(-0.4, 0.1, num=h * h).reshape(h, h)
    b = np.linspace(-0.7, 0.1, num=h)
    hs, _ = rnn_forward(x, h0, Wx, Wh, b)
    expected_h = np.asarray([
        [[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
         [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
         [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
        [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
         [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
         [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]])
    assert rel_error(hs, expected_h) < 1e-7      # the expected values have 8 decimals


def test_rnn_step_gradients_numeric_and_torch():
    x, h, Wx, Wh, b = arrays = cell_inputs(1, seq=False)
    dnext_h = np.random.randn(N, H)
    out, cache = rnn_step_forward(*arrays)
    grads = rnn_step_backward(dnext_h, cache)
    assert_close(grads, numeric_grads(rnn_step_forward, arrays, dnext_h), NUMERIC_TOL)
    cell, weight_grads = torch_module("rnn_cell", Wx, Wh, b)
    xt, ht = tensors(x, h)
    out_t = cell(xt, ht)
    out_t.backward(torch.tensor(dnext_h))
    assert_close([out, *grads], [out_t.detach().numpy(), xt.grad.numpy(), ht.grad.numpy(),
                                 *weight_grads()], TORCH_TOL)


def test_rnn_gradients_numeric_and_torch():
    x, h0, Wx, Wh, b = arrays = cell_inputs(1, seq=True)
    dh = np.random.randn(N, T, H)
    out, cache = rnn_forward(*arrays)
    grads = rnn_backward(dh, cache)
    assert [g.shape for g in grads] == [a.shape for a in arrays]
    assert_close(grads, numeric_grads(rnn_forward, arrays, dh), NUMERIC_TOL)
    rnn, weight_grads = torch_module("rnn", Wx, Wh, b)
    xt, h0t = tensors(x, h0[None])
    out_t, _ = rnn(xt, h0t)
    out_t.backward(torch.tensor(dh))
    assert_close([out, *grads], [out_t.detach().numpy(), xt.grad.numpy(), h0t.grad.numpy()[0],
                                 *weight_grads()], TORCH_TOL)


def test_rnn_forward_is_the_chained_steps():
    x, h0, Wx, Wh, b = cell_inputs(1, seq=True)
    hs, _ = rnn_forward(x, h0, Wx, Wh, b)
    h = h0
    for t in range(T):
        h, _ = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        assert rel_error(hs[:, t], h) < 1e-12


# ----------------------------------------------------------------------------- LSTM


def test_sigmoid_is_stable_and_accurate():
    x = np.array([-1000.0, -40.0, -5.0, 0.0, 5.0, 40.0, 1000.0])
    with np.errstate(over="raise"):          # no overflow anywhere, not even a warning
        s = sigmoid(x)
    expected = np.array([0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 1 / (1 + np.exp(5.0)), 0.5,
                         1 / (1 + np.exp(-5.0)), 1.0, 1.0])
    assert np.allclose(s, expected, rtol=1e-15, atol=0)     # full relative precision in the tail
    assert sigmoid(np.float32([-3.0, 3.0])).dtype == np.float32
    assert rel_error(sigmoid(np.linspace(-9, 9, 31)),
                     torch.sigmoid(torch.linspace(-9, 9, 31, dtype=torch.float64)).numpy()) < 1e-15


def test_lstm_step_forward_course_values():
    n, d, h = 3, 4, 5
    x = np.linspace(-0.4, 1.2, num=n * d).reshape(n, d)
    prev_h = np.linspace(-0.3, 0.7, num=n * h).reshape(n, h)
    prev_c = np.linspace(-0.4, 0.9, num=n * h).reshape(n, h)
    Wx = np.linspace(-2.1, 1.3, num=4 * d * h).reshape(d, 4 * h)
    Wh = np.linspace(-0.7, 2.2, num=4 * h * h).reshape(h, 4 * h)
    b = np.linspace(0.3, 0.7, num=4 * h)
    next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    expected_next_h = np.asarray([
        [0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
        [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
        [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]])
    expected_next_c = np.asarray([
        [0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
        [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
        [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]])
    assert rel_error(next_h, expected_next_h) < 1e-8
    assert rel_error(next_c, expected_next_c) < 1e-8


def test_lstm_forward_course_values():
    n, d, h, t = 2, 5, 4, 3
    x = np.linspace(-0.4, 0.6, num=n * t * d).reshape(n, t, d)
    h0 = np.linspace(-0.4, 0.8, num=n * h).reshape(n, h)
    Wx = np.linspace(-0.2, 0.9, num=4 * d * h).reshape(d, 4 * h)
    Wh = np.linspace(-0.3, 0.6, num=4 * h * h).reshape(h, 4 * h)
    b = np.linspace(0.2, 0.7, num=4 * h)
    hs, _ = lstm_forward(x, h0, Wx, Wh, b)
    expected_h = np.asarray([
        [[0.01764008, 0.01823233, 0.01882671, 0.0194232],
         [0.11287491, 0.12146228, 0.13018446, 0.13902939],
         [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
        [[0.45767879, 0.4761092, 0.4936887, 0.51041945],
         [0.6704845, 0.69350089, 0.71486014, 0.7346449],
         [0.81733511, 0.83677871, 0.85403753, 0.86935255]]])
    assert rel_error(hs, expected_h) < 1e-6      # 8 decimals of values as small as 0.018


def lstm_step_both(x, prev_h, prev_c, Wx, Wh, b):
    """lstm_step_forward with next_h and next_c stacked, for one numeric gradient check."""
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    return np.stack([next_h, next_c]), cache


def test_lstm_step_gradients_numeric_and_torch():
    x, h, Wx, Wh, b = cell_inputs(4, seq=False)
    c = np.random.randn(N, H)
    arrays = [x, h, c, Wx, Wh, b]
    dnext_h, dnext_c = np.random.randn(N, H), np.random.randn(N, H)
    next_h, next_c, cache = lstm_step_forward(*arrays)
    grads = lstm_step_backward(dnext_h, dnext_c, cache)
    assert [g.shape for g in grads] == [a.shape for a in arrays]
    assert_close(grads, numeric_grads(lstm_step_both, arrays, np.stack([dnext_h, dnext_c])),
                 NUMERIC_TOL)
    cell, weight_grads = torch_module("lstm_cell", Wx, Wh, b)
    xt, ht, ct = tensors(x, h, c)
    next_h_t, next_c_t = cell(xt, (ht, ct))
    torch.autograd.backward([next_h_t, next_c_t], [torch.tensor(dnext_h), torch.tensor(dnext_c)])
    assert_close([next_h, next_c, *grads],
                 [next_h_t.detach().numpy(), next_c_t.detach().numpy(), xt.grad.numpy(),
                  ht.grad.numpy(), ct.grad.numpy(), *weight_grads()], TORCH_TOL)


def test_lstm_gradients_numeric_and_torch():
    x, h0, Wx, Wh, b = arrays = cell_inputs(4, seq=True)
    dh = np.random.randn(N, T, H)
    out, cache = lstm_forward(*arrays)
    grads = lstm_backward(dh, cache)
    assert [g.shape for g in grads] == [a.shape for a in arrays]
    # rel_error is elementwise: an entry of db near 3e-4 carries the O(h^2) truncation
    # error (about 1e-10) of the centered differences as 1e-7 relative; torch checks tightly.
    assert_close(grads, numeric_grads(lstm_forward, arrays, dh), 10 * NUMERIC_TOL)
    lstm, weight_grads = torch_module("lstm", Wx, Wh, b)
    xt, h0t = tensors(x, h0[None])
    out_t, _ = lstm(xt, (h0t, torch.zeros_like(h0t)))
    out_t.backward(torch.tensor(dh))
    assert_close([out, *grads], [out_t.detach().numpy(), xt.grad.numpy(), h0t.grad.numpy()[0],
                                 *weight_grads()], TORCH_TOL)


def test_lstm_forward_is_the_chained_steps():
    x, h0, Wx, Wh, b = cell_inputs(4, seq=True)
    hs, _ = lstm_forward(x, h0, Wx, Wh, b)
    h, c = h0, np.zeros_like(h0)
    for t in range(T):
        h, c, _ = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        assert rel_error(hs[:, t], h) < 1e-12


@pytest.mark.parametrize("forward, backward, gates", [(rnn_forward, rnn_backward, 1),
                                                      (lstm_forward, lstm_backward, 4)])
def test_sequence_backward_leaves_its_cache_intact(forward, backward, gates):
    arrays = cell_inputs(gates, seq=True)
    _, cache = forward(*arrays)
    saved = [np.copy(c) for c in cache]
    dh = np.random.randn(N, T, H)
    first = backward(dh, cache)
    assert all(np.array_equal(s, c) for s, c in zip(saved, cache, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(backward(dh, cache), first, strict=True))


@pytest.mark.parametrize("forward, backward, gates", [(rnn_forward, rnn_backward, 1),
                                                      (lstm_forward, lstm_backward, 4)])
def test_float32_stays_float32(forward, backward, gates):
    arrays = [a.astype(np.float32) for a in cell_inputs(gates, seq=True)]
    out, cache = forward(*arrays)
    grads = backward(np.ones((N, T, H), dtype=np.float32), cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    out64, _ = forward(*[a.astype(np.float64) for a in arrays])
    assert np.allclose(out, out64, atol=1e-5)


# ----------------------------------------------------------------------------- word embedding


def test_word_embedding_forward_course_values():
    v, d = 5, 3
    x = np.asarray([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = np.linspace(0, 1, num=v * d).reshape(v, d)
    out, _ = word_embedding_forward(x, W)
    expected_out = np.asarray([
        [[0., 0.07142857, 0.14285714],
         [0.64285714, 0.71428571, 0.78571429],
         [0.21428571, 0.28571429, 0.35714286],
         [0.42857143, 0.5, 0.57142857]],
        [[0.42857143, 0.5, 0.57142857],
         [0.21428571, 0.28571429, 0.35714286],
         [0., 0.07142857, 0.14285714],
         [0.64285714, 0.71428571, 0.78571429]]])
    assert rel_error(out, expected_out) < 1e-7


def test_word_embedding_gradient_numeric_and_torch():
    v, d = 5, 3
    x = np.random.randint(v, size=(N, T))
    x[0, :3] = 2                                   # a repeated word: its gradients must add up
    W = np.random.randn(v, d)
    dout = np.random.randn(N, T, d)
    out, cache = word_embedding_forward(x, W)
    dW = word_embedding_backward(dout, cache)
    assert rel_error(dW, eval_numerical_gradient_array(
        lambda W: word_embedding_forward(x, W)[0], W, dout)) < NUMERIC_TOL
    (Wt,) = tensors(W)
    out_t = torch.nn.functional.embedding(torch.tensor(x), Wt)
    out_t.backward(torch.tensor(dout))
    assert_close([out, dW], [out_t.detach().numpy(), Wt.grad.numpy()], TORCH_TOL)


# ----------------------------------------------------------------------------- temporal layers


def test_temporal_affine_gradients_numeric_and_torch():
    M = 4
    arrays = [np.random.randn(N, T, D), np.random.randn(D, M), np.random.randn(M)]
    dout = np.random.randn(N, T, M)
    out, cache = temporal_affine_forward(*arrays)
    grads = temporal_affine_backward(dout, cache)
    assert_close(grads, numeric_grads(temporal_affine_forward, arrays, dout), NUMERIC_TOL)
    ts = tensors(*arrays)
    out_t = ts[0] @ ts[1] + ts[2]
    out_t.backward(torch.tensor(dout))
    assert_close([out, *grads], [out_t.detach().numpy(), *[t.grad.numpy() for t in ts]],
                 TORCH_TOL)


def check_loss(n, t, v, p):
    x = 0.001 * np.random.randn(n, t, v)
    y = np.random.randint(v, size=(n, t))
    mask = np.random.rand(n, t) <= p
    return temporal_softmax_loss(x, y, mask)[0]


def test_temporal_softmax_loss_course_sanity():
    # Small scores: every step costs about log(V); summed over T, averaged over N.
    assert abs(check_loss(100, 1, 10, 1.0) - np.log(10)) < 0.01           # about 2.3
    assert abs(check_loss(100, 10, 10, 1.0) - 10 * np.log(10)) < 0.05     # about 23
    assert 2.0 < check_loss(5000, 10, 10, 0.1) < 2.6                      # about 2.2-2.3


def test_temporal_softmax_loss_gradient_numeric_and_torch():
    V = 4
    x = 3 * np.random.randn(N, T, V)
    y = np.random.randint(V, size=(N, T))
    mask = np.random.rand(N, T) > 0.4
    mask[0, 0], mask[0, 1] = True, False           # both kinds of step, whatever the draw
    loss, dx = temporal_softmax_loss(x, y, mask)
    dx_num = eval_numerical_gradient(lambda x: temporal_softmax_loss(x, y, mask)[0], x,
                                     verbose=False)
    assert rel_error(dx, dx_num) < NUMERIC_TOL
    assert np.all(dx[~mask] == 0)                  # masked steps get no gradient
    (xt,) = tensors(x)
    per_step = torch.nn.functional.cross_entropy(xt.reshape(-1, V), torch.tensor(y).reshape(-1),
                                                 reduction="none")
    loss_t = (per_step * torch.tensor(mask.reshape(-1))).sum() / N
    loss_t.backward()
    assert rel_error(loss, loss_t.item()) < TORCH_TOL
    assert rel_error(dx, xt.grad.numpy()) < TORCH_TOL


def test_temporal_softmax_loss_is_stable_for_huge_scores():
    x = np.array([[[1e4, 0.0, -1e4], [0.0, 1e4, 2e4]]])
    loss, dx = temporal_softmax_loss(x, np.array([[0, 1]]), np.array([[True, True]]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(1e4)


def test_temporal_softmax_loss_verbose_prints_the_shape(capsys):
    temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int),
                          np.ones((2, 3), dtype=bool), verbose=True)
    assert "(6, 4)" in capsys.readouterr().out


# ----------------------------------------------------------------------------- bad input


def test_cells_reject_mismatched_shapes():
    x, h, Wx, Wh, b = cell_inputs(1, seq=False)
    with pytest.raises(ValueError, match=r"Wx must have shape \(D, H\) = \(7, 6\)"):
        rnn_step_forward(x, h, Wx[:-1], Wh, b)
    with pytest.raises(ValueError, match="x must have shape"):
        rnn_forward(x, h, Wx, Wh, b)                         # a step's x given to the sequence
    with pytest.raises(ValueError, match="rows"):
        rnn_step_forward(x, h[:-1], Wx, Wh, b)
    x, h, Wx, Wh, b = cell_inputs(4, seq=True)
    with pytest.raises(ValueError, match=r"b must have shape \(4H,\) = \(24,\)"):
        lstm_forward(x, h, Wx, Wh, b[:H])
    with pytest.raises(ValueError, match=r"Wh must have shape \(H, 4H\)"):
        lstm_forward(x, h, Wx, Wh[:, :H], b)
    with pytest.raises(ValueError, match="prev_c"):
        lstm_step_forward(x[:, 0], h, h[:, :-1], Wx, Wh, b)


def test_backwards_reject_gradients_of_the_wrong_rank():
    _, cache = lstm_forward(*cell_inputs(4, seq=True))
    with pytest.raises(ValueError, match=r"dh must be a 3-D array \(N, T, H\)"):
        lstm_backward(np.zeros((N, H)), cache)
    _, cache = rnn_step_forward(*cell_inputs(1, seq=False))
    with pytest.raises(ValueError, match="dnext_h must be a 2-D"):
        rnn_step_backward(np.zeros((N, T, H)), cache)
    _, cache = temporal_affine_forward(np.zeros((2, 3, 4)), np.zeros((4, 5)), np.zeros(5))
    with pytest.raises(ValueError, match="forward output had shape"):
        temporal_affine_backward(np.zeros((2, 3, 4)), cache)


def test_word_indices_are_checked():
    W = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\)"):
        word_embedding_forward(np.array([[0, 5]]), W)
    with pytest.raises(ValueError, match="integer word indices"):
        word_embedding_forward(np.array([[0.0, 1.0]]), W)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T\)"):
        word_embedding_forward(np.array([0, 1]), W)
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\)"):
        temporal_softmax_loss(np.zeros((1, 2, 3)), np.array([[0, 3]]), np.ones((1, 2), bool))
    with pytest.raises(ValueError, match="mask must have shape"):
        temporal_softmax_loss(np.zeros((1, 2, 3)), np.array([[0, 1]]), np.ones(2, bool))
