"""Input checks (and the SGD batch sampler) shared by the assignment-1 classifiers.

Each check raises a ValueError that says what was wrong and what to do, instead of
letting a shape mismatch surface as a numpy traceback deep inside a matrix product.
These checks are not part of the students' work: they sit outside the YOUR CODE markers.
The checks the whole package shares (integers, conv sizes) are in cs231n._checks.
"""
from __future__ import annotations

import numpy as np


def check_data(X, name: str = "X") -> np.ndarray:
    """Check that X is a 2-D numeric array of shape (N, D) with N >= 1; return it as an array."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D) (one row per example), "
                         f"got shape {X.shape}; reshape images with X.reshape(N, -1)")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (N = 0, shape {X.shape}); pass at least one example")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    return X


def check_labels(y, num_examples: int, num_classes: int | None = None,
                 name: str = "y") -> np.ndarray:
    """Check integer labels y of shape (N,) with 0 <= y[i] < num_classes; return them.

    Inputs:
    - y: array of shape (N,) of class labels
    - num_examples: N, the number of rows of the matching data array
    - num_classes: K, or None to only require y >= 0
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels of shape (N,), got shape {y.shape}")
    if y.shape[0] != num_examples:
        raise ValueError(f"{name} has {y.shape[0]} labels but the data has {num_examples} rows; "
                         "pass one label per example")
    if y.size == 0:
        return y
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
            raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
        y = y.astype(np.int64)
    lo, hi = int(y.min()), int(y.max())
    if lo < 0:
        raise ValueError(f"{name} has a negative label ({lo}); labels must be 0..K-1")
    if num_classes is not None and hi >= num_classes:
        raise ValueError(f"{name} has label {hi} but there are only {num_classes} classes "
                         f"(labels must be 0..{num_classes - 1})")
    return y


def check_weights(W, X: np.ndarray, name: str = "W") -> np.ndarray:
    """Check that weights W of shape (D, K) fit data X of shape (N, D); return W."""
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (D, K), got shape {W.shape}")
    if W.shape[0] != X.shape[1]:
        raise ValueError(f"{name} has shape {W.shape} (D={W.shape[0]}) but the data has "
                         f"D={X.shape[1]} features (shape {X.shape}); "
                         "the data's feature dimension must equal W.shape[0]")
    return W


def check_loss_inputs(W, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the (W, X, y) triple of a linear loss: W (D, K), X (N, D), y (N,) in 0..K-1."""
    X = check_data(X)
    W = check_weights(W, X)
    y = check_labels(y, X.shape[0], W.shape[1])
    return W, X, y


def make_rng(seed: int | None):
    """The random source for SGD: the global np.random (as the course) or a seeded RandomState."""
    return np.random if seed is None else np.random.RandomState(seed)


def minibatch_indices(num_train: int, batch_size: int, rng, replace: bool = True):
    """An endless iterator of minibatch index arrays, each of shape (batch_size,).

    replace=True draws each batch with replacement, like the course
    (rng.choice(num_train, batch_size)). replace=False walks a fresh permutation
    each epoch, so every example is seen once per epoch (the last partial batch
    of an epoch is dropped).
    """
    if not replace and batch_size > num_train:
        raise ValueError(f"batch_size={batch_size} is larger than the {num_train} training "
                         "examples; sampling without replacement needs batch_size <= N")
    return _with_replacement(num_train, batch_size, rng) if replace else \
        _epoch_permutations(num_train, batch_size, rng)


def _with_replacement(num_train: int, batch_size: int, rng):
    while True:
        yield rng.choice(num_train, batch_size)


def _epoch_permutations(num_train: int, batch_size: int, rng):
    while True:
        order = rng.permutation(num_train)
        for start in range(0, num_train - batch_size + 1, batch_size):
            yield order[start:start + batch_size]
