"""Numeric gradients by centered differences, and ``rel_error`` (the one place it lives).

The course's functions (eval_numerical_gradient, eval_numerical_gradient_array,
eval_numerical_gradient_blobs, eval_numerical_gradient_net, grad_check_sparse,
rel_error), plus check_layer_gradients: the check every layer of assignment 2 gets
(each gradient of a backward pass against its numeric gradient), written once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from random import randrange

import numpy as np


def rel_error(x, y) -> float:
    """Maximum relative error max |x - y| / max(1e-8, |x| + |y|), elementwise."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} vs {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f: Callable, x: np.ndarray, verbose: bool = True, h: float = 1e-5):
    """Numeric gradient of a scalar function f at x (modified in place, then restored).

    grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)

    Inputs:
    - f: function of one argument returning a scalar
    - x: array of any shape, the point at which to evaluate the gradient
    Returns: grad, same shape as x
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f: Callable, x: np.ndarray, df: np.ndarray, h: float = 1e-5):
    """Numeric gradient of sum(f(x) * df) with respect to x, for array-valued f.

    Inputs:
    - f: function of one argument returning an array of the same shape as df
    - x: array of any shape (modified in place, then restored)
    - df: upstream gradient, same shape as f(x)
    Returns: grad, same shape as x
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_blobs(f: Callable, inputs, output, h: float = 1e-5):
    """Numeric gradients of sum(output.vals * output.diffs) for functions on blobs.

    f(*inputs, output) writes into output.vals; each blob has .vals and .diffs.
    Returns: a list of numeric gradients, one per input blob.
    """
    numeric_diffs = []
    for input_blob in inputs:
        diff = np.zeros_like(input_blob.diffs)
        it = np.nditer(input_blob.vals, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            idx = it.multi_index
            orig = input_blob.vals[idx]
            input_blob.vals[idx] = orig + h
            f(*(inputs + (output,)))
            pos = np.copy(output.vals)
            input_blob.vals[idx] = orig - h
            f(*(inputs + (output,)))
            neg = np.copy(output.vals)
            input_blob.vals[idx] = orig
            diff[idx] = np.sum((pos - neg) * output.diffs) / (2.0 * h)
            it.iternext()
        numeric_diffs.append(diff)
    return numeric_diffs


def eval_numerical_gradient_net(net, inputs, output, h: float = 1e-5):
    """Numeric gradients for a net object with a ``forward(*inputs, output)`` method."""
    return eval_numerical_gradient_blobs(lambda *args: net.forward(), inputs, output, h=h)


def grad_check_sparse(f: Callable, x: np.ndarray, analytic_grad: np.ndarray,
                      num_checks: int = 10, h: float = 1e-5, verbose: bool = True) -> float:
    """Compare ``analytic_grad`` with numeric gradients at ``num_checks`` random entries of x.

    Returns the largest relative error seen (the course printed each one; we also
    return the worst so notebooks can assert on it).
    """
    if analytic_grad.shape != x.shape:
        raise ValueError(f"grad_check_sparse: gradient shape {analytic_grad.shape} "
                         f"does not match x shape {x.shape}")
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(randrange(m) for m in x.shape)
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        denom = max(abs(grad_numerical) + abs(grad_analytic), 1e-12)
        rel = abs(grad_numerical - grad_analytic) / denom
        worst = max(worst, rel)
        if verbose:
            print(f"numerical: {grad_numerical:f} analytic: {grad_analytic:f}, relative error: {rel:e}")
    return worst


def numeric_layer_gradients(forward: Callable, inputs: Mapping[str, np.ndarray], dout: np.ndarray,
                            h: float = 1e-5) -> dict[str, np.ndarray]:
    """Numeric gradients of sum(out * dout) with respect to each input of a layer.

    Inputs:
    - forward: forward(*inputs.values()) -> (out, cache), e.g.
      lambda x, w, b: conv_forward_naive(x, w, b, conv_param)
    - inputs: name -> float array, in the order forward takes them; each array is
      perturbed in place and restored
    - dout: upstream derivative, same shape as out
    Returns: {'d' + name: numeric gradient, same shape as that input}
    """
    arrays = list(inputs.values())
    for name, a in inputs.items():
        if not (isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)):
            raise ValueError(f"numeric gradients need float arrays (float64 for accuracy); "
                             f"input {name!r} is {type(a).__name__} "
                             f"{getattr(a, 'dtype', '')}")
    grads = {}
    for i, name in enumerate(inputs):
        def f(value, i=i):
            args = arrays[:i] + [value] + arrays[i + 1:]
            return forward(*args)[0]
        grads[f"d{name}"] = eval_numerical_gradient_array(f, arrays[i], dout, h=h)
    return grads


def check_layer_gradients(forward: Callable, backward: Callable,
                          inputs: Mapping[str, np.ndarray], dout: np.ndarray,
                          h: float = 1e-5) -> dict[str, float]:
    """Compare every gradient of a layer's backward pass with its numeric gradient.

    Runs out, cache = forward(*inputs.values()) and backward(dout, cache), which must
    return one gradient per input, in order (a single array for a single input), and
    compares each with numeric_layer_gradients.

    Inputs:
    - forward, inputs, dout, h: as numeric_layer_gradients
    - backward: backward(dout, cache) -> gradients
    Returns: {'d' + name: max relative error (rel_error) of that gradient}, e.g.
      check_layer_gradients(lambda x, w, b: conv_forward_naive(x, w, b, conv_param),
                            conv_backward_naive, {"x": x, "w": w, "b": b}, dout)
      -> {'dx': 1.2e-09, 'dw': 3.4e-10, 'db': 5.6e-12}
    """
    _, cache = forward(*inputs.values())
    analytic = backward(dout, cache)
    if isinstance(analytic, np.ndarray):
        analytic = (analytic,)
    if len(analytic) != len(inputs):
        raise ValueError(f"check_layer_gradients: backward returned {len(analytic)} gradients "
                         f"for the {len(inputs)} inputs {list(inputs)}; it must return one "
                         f"per input, in order")
    numeric = numeric_layer_gradients(forward, inputs, dout, h=h)
    return {name: rel_error(grad, num) for grad, (name, num) in zip(analytic, numeric.items(), strict=True)}
