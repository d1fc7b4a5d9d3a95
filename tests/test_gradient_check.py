import numpy as np
import pytest

from cs231n.gradient_check import (
    check_layer_gradients,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
    numeric_layer_gradients,
    rel_error,
)


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0
    assert abs(rel_error(np.array([1.0]), np.array([1.1])) - 0.1 / 2.1) < 1e-12
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.ones(3), np.ones(4))


def test_numeric_gradient_of_quadratic():
    x = np.random.randn(3, 4)
    grad = eval_numerical_gradient(lambda z: np.sum(z ** 2), x, verbose=False)
    assert rel_error(grad, 2 * x) < 1e-8


def test_numeric_gradient_array():
    x, w = np.random.randn(4, 3), np.random.randn(3, 2)
    dout = np.random.randn(4, 2)
    assert rel_error(eval_numerical_gradient_array(lambda z: z @ w, x, dout), dout @ w.T) < 1e-8


def test_grad_check_sparse_catches_a_wrong_gradient():
    x = np.random.randn(5, 5)
    assert grad_check_sparse(lambda z: np.sum(z ** 3), x, 3 * x ** 2, verbose=False) < 1e-6
    assert grad_check_sparse(lambda z: np.sum(z ** 3), x, 2 * x ** 2, verbose=False) > 0.1


def _affine(x, w):
    return x @ w, (x, w)


def test_check_layer_gradients_passes_a_right_backward_and_flags_a_wrong_one():
    x, w, dout = np.random.randn(4, 3), np.random.randn(3, 2), np.random.randn(4, 2)
    inputs = {"x": x, "w": w}
    x0, w0 = x.copy(), w.copy()
    errors = check_layer_gradients(_affine, lambda d, c: (d @ c[1].T, c[0].T @ d), inputs, dout)
    assert list(errors) == ["dx", "dw"] and max(errors.values()) < 1e-8
    assert np.array_equal(x, x0) and np.array_equal(w, w0)       # inputs restored
    wrong = check_layer_gradients(_affine, lambda d, c: (d @ c[1].T, 2 * c[0].T @ d), inputs, dout)
    assert wrong["dx"] < 1e-8 and wrong["dw"] > 0.3


def test_check_layer_gradients_single_input_and_bad_calls():
    x, dout = np.random.randn(3, 4), np.random.randn(3, 4)
    errors = check_layer_gradients(lambda x: (np.tanh(x), x), lambda d, c: d / np.cosh(c) ** 2,
                                   {"x": x}, dout)
    assert set(errors) == {"dx"} and errors["dx"] < 1e-8
    with pytest.raises(ValueError, match="returned 1 gradients for the 2 inputs"):
        check_layer_gradients(_affine, lambda d, c: (d @ c[1].T,),
                              {"x": x, "w": np.random.randn(4, 2)}, np.random.randn(3, 2))
    with pytest.raises(ValueError, match="float arrays"):
        check_layer_gradients(_affine, lambda d, c: (d, d), {"x": np.ones((2, 2), dtype=int),
                                                            "w": np.ones((2, 2))}, np.ones((2, 2)))


def test_numeric_layer_gradients_of_a_product():
    x, w, dout = np.random.randn(4, 3), np.random.randn(3, 2), np.random.randn(4, 2)
    grads = numeric_layer_gradients(_affine, {"x": x, "w": w}, dout)
    assert rel_error(grads["dx"], dout @ w.T) < 1e-8 and rel_error(grads["dw"], x.T @ dout) < 1e-8


class Blob:
    def __init__(self, vals, diffs=None):
        self.vals = vals
        self.diffs = np.zeros_like(vals) if diffs is None else diffs


def test_eval_numerical_gradient_blobs_and_net():
    a, b = Blob(np.random.randn(3)), Blob(np.random.randn(3))
    out = Blob(np.zeros(3), np.random.randn(3))

    def product(a, b, out):
        out.vals = a.vals * b.vals
    da, db = eval_numerical_gradient_blobs(product, (a, b), out)
    assert rel_error(da, out.diffs * b.vals) < 1e-8 and rel_error(db, out.diffs * a.vals) < 1e-8

    class Net:
        def forward(self):
            product(a, b, out)
    da_net, db_net = eval_numerical_gradient_net(Net(), (a, b), out)
    assert np.allclose(da_net, da) and np.allclose(db_net, db)
