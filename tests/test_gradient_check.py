import numpy as np
import pytest

from cs231n.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                   grad_check_sparse, rel_error)


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
