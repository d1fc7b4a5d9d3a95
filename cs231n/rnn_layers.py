"""Recurrent layers of Assignment 3, in numpy: vanilla RNN, LSTM, word embedding,
temporal affine and temporal softmax loss, forward and backward.

Contract (as the course): ``*_forward(inputs...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads`` in the order of the forward inputs (the step
functions return their states before the cache). A backward never updates weights
and never modifies its cache, so it can be called again on the same cache.

Glossary: N batch, T time steps, D input dim (word vector size), H hidden size,
V vocabulary size, M output dim.

Speed: the sequence layers run the input projection of all T steps as ONE matrix
product before the time loop, keep their per-step arrays time-major (T, N, ...) so
each step reads one contiguous slab, and in the backward pass collect the per-step
pre-activation gradients so that dx, dWx and dWh are each ONE product over all N*T
rows. The LSTM computes its four gates with one product of width 4H. Floating inputs
keep their dtype: float32 in, float32 out.
"""
from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------------------
# Input validation (not part of the student's task, hence outside the markers).
# ----------------------------------------------------------------------------


def _shape_error(layer: str, name: str, arr, expected: str, hint: str = "") -> ValueError:
    return ValueError(f"{layer}: {name} must have shape {expected}, got {np.shape(arr)}{hint}")


def _check_cell(layer: str, x, prev_h, Wx, Wh, b, gates: int, x_ndim: int) -> None:
    """Check the inputs of a recurrent cell with `gates` blocks of H columns (1 RNN, 4 LSTM).

    x is (N, D) for a step (x_ndim 2) or (N, T, D) for a sequence (x_ndim 3).
    """
    layout = "(N, D)" if x_ndim == 2 else "(N, T, D)"
    if np.ndim(x) != x_ndim:
        raise _shape_error(layer, "x", x, layout)
    if np.ndim(prev_h) != 2:
        raise _shape_error(layer, "the hidden state", prev_h, "(N, H)")
    N, D, H = x.shape[0], x.shape[-1], prev_h.shape[1]
    width = "H" if gates == 1 else "4H"
    if prev_h.shape[0] != N:
        raise _shape_error(layer, "the hidden state", prev_h, f"(N, H) = ({N}, H)",
                           f": x has N = {N} rows")
    if np.shape(Wx) != (D, gates * H):
        raise _shape_error(layer, "Wx", Wx, f"(D, {width}) = ({D}, {gates * H})",
                           f" (D = {D} from x, H = {H} from the hidden state)")
    if np.shape(Wh) != (H, gates * H):
        raise _shape_error(layer, "Wh", Wh, f"(H, {width}) = ({H}, {gates * H})")
    if np.shape(b) != (gates * H,):
        raise _shape_error(layer, "b", b, f"({width},) = ({gates * H},)")


def _check_grad(layer: str, name: str, grad, ndim: int, layout: str) -> None:
    if np.ndim(grad) != ndim:
        raise ValueError(f"{layer}: {name} must be a {ndim}-D array {layout} (the gradient of "
                         f"the forward output), got shape {np.shape(grad)}")


def _check_indices(layer: str, name: str, idx, num: int) -> None:
    idx = np.asarray(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"{layer}: {name} must hold integer word indices, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise ValueError(f"{layer}: {name} must lie in [0, {num}) (V = {num} words), "
                         f"got min {idx.min()} max {idx.max()}")


# ----------------------------------------------------------------------------
# Vanilla RNN
# ----------------------------------------------------------------------------


def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """One time step of a vanilla RNN with tanh activation:

        next_h = tanh(x @ Wx + prev_h @ Wh + b)

    Inputs:
    - x: (N, D) input data for this time step
    - prev_h: (N, H) hidden state from the previous time step
    - Wx: (D, H) input-to-hidden weights
    - Wh: (H, H) hidden-to-hidden weights
    - b: (H,) biases

    Returns a tuple of:
    - next_h: (N, H) next hidden state
    - cache: what rnn_step_backward needs
    """
    _check_cell("rnn_step_forward", x, prev_h, Wx, Wh, b, gates=1, x_ndim=2)
    next_h, cache = None, None
    ###########################################################################
    # TODO: Implement one time step of the vanilla RNN,                       #
    # next_h = tanh(x Wx + prev_h Wh + b). Store the (N, H) next hidden state #
    # in next_h and what the backward pass needs in cache.                    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_h, cache


def rnn_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of one vanilla RNN step. With a = x Wx + prev_h Wh + b and
    tanh'(a) = 1 - next_h^2:  da = dnext_h * (1 - next_h^2), then the affine rules.

    Inputs:
    - dnext_h: (N, H) gradient of the loss with respect to next_h
    - cache: from rnn_step_forward

    Returns a tuple of:
    - dx: (N, D)
    - dprev_h: (N, H)
    - dWx: (D, H)
    - dWh: (H, H)
    - db: (H,)
    """
    _check_grad("rnn_step_backward", "dnext_h", dnext_h, 2, "(N, H)")
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of one RNN step. Backpropagate        #
    # dnext_h through the tanh (its derivative is 1 - tanh(a)**2, which       #
    # next_h gives you), then through the affine part. Store the gradients in #
    # dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H) and db (H,).          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h * next_h)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Run a vanilla RNN over a whole sequence of T steps (the same computation as
    calling rnn_step_forward T times, h_t = tanh(x_t Wx + h_{t-1} Wh + b)).

    Inputs:
    - x: (N, T, D) input data for the whole sequence
    - h0: (N, H) initial hidden state
    - Wx: (D, H) input-to-hidden weights
    - Wh: (H, H) hidden-to-hidden weights
    - b: (H,) biases

    Returns a tuple of:
    - h: (N, T, H) hidden states for all time steps
    - cache: what rnn_backward needs
    """
    _check_cell("rnn_forward", x, h0, Wx, Wh, b, gates=1, x_ndim=3)
    h, cache = None, None
    ###########################################################################
    # TODO: Run the vanilla RNN over the whole sequence: starting from h0,    #
    # compute the hidden state of each time step t from the input x[:, t] and #
    # the hidden state of the step before. Store all the hidden states,       #
    # (N, T, H), in h and what the backward pass needs in cache. A loop over  #
    # time that calls rnn_step_forward will do.                               #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, D = x.shape
    H = h0.shape[1]
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))          # (T, N, D): a slab per step
    # The input projections do not depend on h: all T of them in one product.
    a = (xs.reshape(T * N, D) @ Wx + b).reshape(T, N, H)
    hs = np.empty((T + 1, N, H), dtype=a.dtype)              # hs[t + 1] = h_t, hs[0] = h0
    hs[0] = h0
    for t in range(T):
        a[t] += hs[t] @ Wh
        np.tanh(a[t], out=hs[t + 1])
    h = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
    cache = (xs, hs, Wx, Wh)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return h, cache


def rnn_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of a vanilla RNN over a whole sequence.

    Inputs:
    - dh: (N, T, H) upstream gradients of all hidden states (from the loss only,
      not the gradients that flow between time steps)
    - cache: from rnn_forward

    Returns a tuple of:
    - dx: (N, T, D)
    - dh0: (N, H)
    - dWx: (D, H)
    - dWh: (H, H)
    - db: (H,)
    """
    _check_grad("rnn_backward", "dh", dh, 3, "(N, T, H)")
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of the RNN over the whole sequence.   #
    # Go backwards in time: the gradient reaching the hidden state of step t  #
    # is dh[:, t] plus the gradient flowing back from step t + 1; the weight  #
    # gradients sum over all steps. Store the results in dx (N, T, D), dh0    #
    # (N, H), dWx (D, H), dWh (H, H) and db (H,).                             #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    xs, hs, Wx, Wh = cache
    T, N, D = xs.shape
    H = hs.shape[2]
    dh_t = dh.transpose(1, 0, 2)                             # time-major view
    da = np.empty((T, N, H), dtype=np.result_type(dh, hs))  # gradient of each step's tanh input
    dnext = np.zeros((N, H), dtype=da.dtype)                 # gradient from step t + 1
    for t in reversed(range(T)):
        np.add(dh_t[t], dnext, out=da[t])
        da[t] *= 1 - hs[t + 1] * hs[t + 1]
        dnext = da[t] @ Wh.T
    # The weight gradients sum over steps: one product over all T * N rows each.
    da_rows = da.reshape(T * N, H)
    dx = np.ascontiguousarray((da_rows @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))
    dh0 = dnext
    dWx = xs.reshape(T * N, D).T @ da_rows
    dWh = hs[:-1].reshape(T * N, H).T @ da_rows
    db = da_rows.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dh0, dWx, dWh, db


# ----------------------------------------------------------------------------
# Word embedding
# ----------------------------------------------------------------------------


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Look up word vectors: out[n, t] = W[x[n, t]].

    Inputs:
    - x: (N, T) integer word indices, each in [0, V)
    - W: (V, D) word vectors, one row per word

    Returns a tuple of:
    - out: (N, T, D) word vectors of the inputs
    - cache: what word_embedding_backward needs
    """
    if np.ndim(W) != 2:
        raise _shape_error("word_embedding_forward", "W", W, "(V, D)")
    if np.ndim(x) != 2:
        raise _shape_error("word_embedding_forward", "x", x, "(N, T)")
    _check_indices("word_embedding_forward", "x", x, W.shape[0])
    out, cache = None, None
    ###########################################################################
    # TODO: Implement the forward pass of the word embedding: look up the     #
    # vector of every word index, out[n, t] = W[x[n, t]] (integer array       #
    # indexing does it in one line). Store the (N, T, D) result in out and    #
    # what the backward pass needs in cache.                                  #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = W[x]
    cache = (x, W.shape, W.dtype)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def word_embedding_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of the word embedding. A word used several times gets the sum of
    the gradients of its uses (np.add.at accumulates repeated indices, where
    ``dW[x] += dout`` would keep only one of them).

    Inputs:
    - dout: (N, T, D) upstream gradients
    - cache: from word_embedding_forward

    Returns:
    - dW: (V, D) gradient of the word vectors
    """
    _check_grad("word_embedding_backward", "dout", dout, 3, "(N, T, D)")
    dW = None
    ###########################################################################
    # TODO: Implement the backward pass of the word embedding: the gradient   #
    # of the vector of word v is the sum of dout over every position where v  #
    # occurs. Store the (V, D) result in dW. dW[x] += dout counts a repeated  #
    # index only once; np.add.at adds them all.                               #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, W_shape, W_dtype = cache
    dW = np.zeros(W_shape, dtype=np.result_type(W_dtype, dout))
    np.add.at(dW, x, dout)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dW


# ----------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic sigmoid, 1 / (1 + exp(-x)), elementwise.

        sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|))

    which is 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) for x < 0: exp only
    sees arguments <= 0, so it never overflows, and tiny outputs keep full relative
    precision. Branch-free (a masked select on random signs is several times slower).
    Keeps the dtype of a floating x.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    den = np.exp(-np.abs(x))
    den += 1
    num = np.exp(np.minimum(x, 0))
    num /= den
    return num


def lstm_step_forward(x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One time step of an LSTM. With a = x Wx + prev_h Wh + b split into four blocks
    of H columns, in the order i, f, o, g:

        i = sigmoid(a_i), f = sigmoid(a_f), o = sigmoid(a_o), g = tanh(a_g)
        next_c = f * prev_c + i * g,   next_h = o * tanh(next_c)

    Inputs:
    - x: (N, D) input data
    - prev_h: (N, H) previous hidden state
    - prev_c: (N, H) previous cell state
    - Wx: (D, 4H) input-to-hidden weights
    - Wh: (H, 4H) hidden-to-hidden weights
    - b: (4H,) biases

    Returns a tuple of:
    - next_h: (N, H) next hidden state
    - next_c: (N, H) next cell state
    - cache: what lstm_step_backward needs
    """
    _check_cell("lstm_step_forward", x, prev_h, Wx, Wh, b, gates=4, x_ndim=2)
    if np.shape(prev_c) != np.shape(prev_h):
        raise _shape_error("lstm_step_forward", "prev_c", prev_c, f"{np.shape(prev_h)}",
                           " (the shape of prev_h)")
    next_h, next_c, cache = None, None, None
    ###########################################################################
    # TODO: Implement one time step of the LSTM. Compute the activations      #
    # a = x Wx + prev_h Wh + b, of shape (N, 4H), and split them into four    #
    # blocks of H columns, in the order i, f, o, g: i = sigmoid(a_i),         #
    # f = sigmoid(a_f), o = sigmoid(a_o), g = tanh(a_g) (use the stable       #
    # sigmoid above). Then next_c = f * prev_c + i * g and                    #
    # next_h = o * tanh(next_c). Store them in next_h and next_c, and what    #
    # the backward pass needs in cache.                                       #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b                  # (N, 4H): all four gates in one product
    a[:, :3 * H] = sigmoid(a[:, :3 * H])          # i, f, o are contiguous: one call
    a[:, 3 * H:] = np.tanh(a[:, 3 * H:])
    i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, a, tanh_c)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_h, next_c, cache


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray,
                       cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of one LSTM step. The cell state gets gradient from both outputs,
    dc = dnext_c + dnext_h * o * (1 - tanh(next_c)^2); then
    di = dc g, df = dc prev_c, do = dnext_h tanh(next_c), dg = dc i, dprev_c = dc f,
    through sigmoid' = s (1 - s) and tanh' = 1 - g^2 to da, then the affine rules.

    Inputs:
    - dnext_h: (N, H) gradient of the next hidden state
    - dnext_c: (N, H) gradient of the next cell state
    - cache: from lstm_step_forward

    Returns a tuple of:
    - dx: (N, D)
    - dprev_h: (N, H)
    - dprev_c: (N, H)
    - dWx: (D, 4H)
    - dWh: (H, 4H)
    - db: (4H,)
    """
    _check_grad("lstm_step_backward", "dnext_h", dnext_h, 2, "(N, H)")
    if np.shape(dnext_c) != np.shape(dnext_h):
        raise ValueError(f"lstm_step_backward: dnext_c must have the shape of dnext_h "
                         f"{np.shape(dnext_h)}, got {np.shape(dnext_c)}")
    dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of one LSTM step. The cell state gets #
    # gradient from dnext_c and, through next_h = o * tanh(next_c), from      #
    # dnext_h. From it find the gradients of i, f, o, g and prev_c,           #
    # backpropagate those of the gates through their activations to the       #
    # activations a (N, 4H), then through the affine part. Store the results  #
    # in dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H)  #
    # and db (4H,).                                                           #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, prev_h, prev_c, Wx, Wh, a, tanh_c = cache
    H = prev_h.shape[1]
    i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)
    da = np.empty_like(a, dtype=np.result_type(a, dnext_h, dnext_c))
    da[:, :H] = dc * g                            # gradients of i, f, o, g ...
    da[:, H:2 * H] = dc * prev_c
    da[:, 2 * H:3 * H] = dnext_h * tanh_c
    da[:, 3 * H:] = dc * i
    sig = a[:, :3 * H]                            # ... then through the activations
    da[:, :3 * H] *= sig * (1 - sig)
    da[:, 3 * H:] *= 1 - g * g
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Run an LSTM over a whole sequence of T steps (the same computation as calling
    lstm_step_forward T times). The initial cell state is zero; the cell states are
    internal and not returned.

    Inputs:
    - x: (N, T, D) input data
    - h0: (N, H) initial hidden state
    - Wx: (D, 4H) input-to-hidden weights
    - Wh: (H, 4H) hidden-to-hidden weights
    - b: (4H,) biases

    Returns a tuple of:
    - h: (N, T, H) hidden states for all time steps
    - cache: what lstm_backward needs
    """
    _check_cell("lstm_forward", x, h0, Wx, Wh, b, gates=4, x_ndim=3)
    h, cache = None, None
    ###########################################################################
    # TODO: Run the LSTM over the whole sequence: starting from the hidden    #
    # state h0 and a cell state of zeros, compute the states of each time     #
    # step from x[:, t] and the states of the step before. Store the hidden   #
    # states, (N, T, H), in h and what the backward pass needs in cache; the  #
    # cell states are not returned. A loop over time that calls               #
    # lstm_step_forward will do.                                              #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, D = x.shape
    H = h0.shape[1]
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))          # (T, N, D): a slab per step
    # Input projections of all steps in one product; the array then holds the gate
    # activations i, f, o, g of every step (overwritten in place, step by step).
    gates = (xs.reshape(T * N, D) @ Wx + b).reshape(T, N, 4 * H)
    hs = np.empty((T + 1, N, H), dtype=gates.dtype)          # hs[t + 1] = h_t, hs[0] = h0
    cs = np.zeros((T + 1, N, H), dtype=gates.dtype)          # cs[t + 1] = c_t, cs[0] = 0
    tanh_cs = np.empty((T, N, H), dtype=gates.dtype)
    hs[0] = h0
    for t in range(T):
        a = gates[t]
        a += hs[t] @ Wh
        a[:, :3 * H] = sigmoid(a[:, :3 * H])
        np.tanh(a[:, 3 * H:], out=a[:, 3 * H:])
        i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * g
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    h = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
    cache = (xs, hs, cs, tanh_cs, gates, Wx, Wh)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return h, cache


def lstm_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of an LSTM over a whole sequence.

    Inputs:
    - dh: (N, T, H) upstream gradients of the hidden states (from the loss only)
    - cache: from lstm_forward

    Returns a tuple of:
    - dx: (N, T, D)
    - dh0: (N, H)
    - dWx: (D, 4H)
    - dWh: (H, 4H)
    - db: (4H,)
    """
    _check_grad("lstm_backward", "dh", dh, 3, "(N, T, H)")
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of the LSTM over the whole sequence.  #
    # Go backwards in time, adding dh[:, t] to the gradient of the hidden     #
    # state that flows back from step t + 1, and carrying the gradient of the #
    # cell state back too; the weight gradients sum over all steps. Store the #
    # results in dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H) and db    #
    # (4H,).                                                                  #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    xs, hs, cs, tanh_cs, gates, Wx, Wh = cache
    T, N, D = xs.shape
    H = hs.shape[2]
    dh_t = dh.transpose(1, 0, 2)                             # time-major view
    dtype = np.result_type(dh, gates)
    da = np.empty((T, N, 4 * H), dtype=dtype)                # gradient of each step's a
    dnext_h = np.zeros((N, H), dtype=dtype)                  # gradients from step t + 1
    dnext_c = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        a, d = gates[t], da[t]
        i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dht = dh_t[t] + dnext_h
        dc = dnext_c + dht * o * (1 - tanh_cs[t] * tanh_cs[t])
        np.multiply(dc, g, out=d[:, :H])
        np.multiply(dc, cs[t], out=d[:, H:2 * H])
        np.multiply(dht, tanh_cs[t], out=d[:, 2 * H:3 * H])
        np.multiply(dc, i, out=d[:, 3 * H:])
        sig = a[:, :3 * H]
        d[:, :3 * H] *= sig * (1 - sig)
        d[:, 3 * H:] *= 1 - g * g
        dnext_h = d @ Wh.T
        dnext_c = dc * f
    # The weight gradients sum over steps: one product over all T * N rows each.
    da_rows = da.reshape(T * N, 4 * H)
    dx = np.ascontiguousarray((da_rows @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))
    dh0 = dnext_h
    dWx = xs.reshape(T * N, D).T @ da_rows
    dWh = hs[:-1].reshape(T * N, H).T @ da_rows
    db = da_rows.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dh0, dWx, dWh, db


# ----------------------------------------------------------------------------
# Temporal affine and temporal softmax loss
# ----------------------------------------------------------------------------


def temporal_affine_forward(x: np.ndarray, w: np.ndarray,
                            b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """An affine layer applied at every time step: out[n, t] = x[n, t] @ w + b.
    (Used to turn hidden states into vocabulary scores.)

    Inputs:
    - x: (N, T, D) input data
    - w: (D, M) weights
    - b: (M,) biases

    Returns a tuple of:
    - out: (N, T, M)
    - cache: (x, w, b)
    """
    if np.ndim(x) != 3:
        raise _shape_error("temporal_affine_forward", "x", x, "(N, T, D)")
    if np.ndim(w) != 2 or w.shape[0] != x.shape[2]:
        raise _shape_error("temporal_affine_forward", "w", w, f"(D, M) = ({x.shape[2]}, M)",
                           f" (D = {x.shape[2]} from x)")
    if np.shape(b) != (w.shape[1],):
        raise _shape_error("temporal_affine_forward", "b", b, f"(M,) = ({w.shape[1]},)")
    out = None
    ###########################################################################
    # TODO: Apply the affine layer at every time step, out[n, t] = x[n, t]    #
    # w + b: with x reshaped to N * T rows, one matrix product does it. Store #
    # the (N, T, M) result in out.                                            #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, w.shape[1])
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b)
    return out, cache


def temporal_affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of the temporal affine layer.

    Inputs:
    - dout: (N, T, M) upstream gradients
    - cache: (x, w, b) from temporal_affine_forward

    Returns a tuple of:
    - dx: (N, T, D)
    - dw: (D, M)
    - db: (M,)
    """
    x, w, _ = cache
    if np.shape(dout) != (*x.shape[:2], w.shape[1]):
        raise ValueError(f"temporal_affine_backward: dout has shape {np.shape(dout)} but the "
                         f"forward output had shape {(*x.shape[:2], w.shape[1])}")
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the backward pass of the temporal affine layer: the     #
    # affine layer's rules on the N * T rows. Store the results in dx         #
    # (N, T, D), dw (D, M) and db (M,).                                       #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, D = x.shape
    M = w.shape[1]
    dout_rows = dout.reshape(N * T, M)
    dx = (dout_rows @ w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T @ dout_rows
    db = dout_rows.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db


def temporal_softmax_loss(x: np.ndarray, y: np.ndarray, mask: np.ndarray,
                          verbose: bool = False) -> tuple[float, np.ndarray]:
    """Softmax loss at every time step, summed over time and averaged over the batch:

        loss = -1/N * sum_{n, t} mask[n, t] * log softmax(x[n, t])[y[n, t]]

    The mask leaves out the steps past the end of each caption (the <NULL> padding).

    Inputs:
    - x: (N, T, V) scores over the vocabulary
    - y: (N, T) integer targets, each in [0, V)
    - mask: (N, T) booleans (or 0/1), whether each step counts in the loss
    - verbose: print the shape of the flattened gradient (as the course does)

    Returns a tuple of:
    - loss: scalar
    - dx: (N, T, V) gradient of the loss with respect to x
    """
    if np.ndim(x) != 3:
        raise _shape_error("temporal_softmax_loss", "x", x, "(N, T, V)")
    N, T, V = x.shape
    if np.shape(y) != (N, T):
        raise _shape_error("temporal_softmax_loss", "y", y, f"(N, T) = ({N}, {T})")
    if np.shape(mask) != (N, T):
        raise _shape_error("temporal_softmax_loss", "mask", mask, f"(N, T) = ({N}, {T})")
    _check_indices("temporal_softmax_loss", "y", y, V)
    loss, dx = 0.0, None
    ###########################################################################
    # TODO: Compute the softmax loss of the scores x against the targets y at #
    # every time step where mask is true, summed over time and averaged over  #
    # the N sequences, and its gradient with respect to x                     #
    # (zero at the masked steps). Subtract the maximum of each row before     #
    # exponentiating. Store the scalar loss in loss and the (N, T, V)         #
    # gradient in dx; with verbose, print the shape of the flattened          #
    # gradient.                                                               #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_flat = x.reshape(N * T, V)
    y_flat = np.reshape(y, N * T)
    mask_flat = np.reshape(mask, N * T)
    shifted = x_flat - x_flat.max(axis=1, keepdims=True)   # no overflow in exp
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -np.sum(mask_flat * log_probs[rows, y_flat]) / N
    dx_flat = np.exp(log_probs)
    dx_flat[rows, y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    if verbose:
        print("dx_flat: ", dx_flat.shape)
    dx = dx_flat.reshape(N, T, V)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dx
