"""What the PyTorch and TensorFlow CIFAR-10 notebooks share, in numpy only.

`cs231n.cifar10_pytorch` and `cs231n.cifar10_tensorflow` both use this module; it imports
neither framework, so importing one framework's module never loads the other framework.

- `load_cifar10`: the course split, normalized per channel with `channel_mean_std` of the
  training images, in either layout (PyTorch's (N, C, H, W) or TensorFlow's (N, H, W, C)).
- `train_loop`: the loop of the barebones and Module/Keras-model trainings (any `step`).
- `one_cycle_lr`: the learning-rate schedule of the open-ended trainings.
- `task_result`: how a function says that a task's code is missing in the starter kit.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np

from cs231n.data_utils import get_CIFAR10_splits
from cs231n.progress import progress

T = TypeVar("T")


# --------------------------------------------------------------------------- tasks

def task_result(value: T | None, task: str, notebook: str) -> T:
    """Return `value`, the result of a student task; NotImplementedError while it is still None.

    Each task initializes its result to None before the code between the markers, like the
    course's starter code (`scores = None`). In the starter kit that code is removed, so the
    function stops here with a message naming the task instead of failing later with an
    obscure error (or none at all).
    """
    if value is None:
        raise NotImplementedError(f"{task}: write the code between the START/END markers "
                                  f"(see {notebook})")
    return value


# --------------------------------------------------------------------------- data

def channel_mean_std(X: np.ndarray, channel_axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of a batch of images.

    Inputs:
    - X: images, e.g. (N, H, W, C) with channel_axis=-1 or (N, C, H, W) with channel_axis=1
    - channel_axis: the axis that holds the C channels
    Returns mean (C,) and std (C,), float64, over all the other axes.
    """
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"channel_mean_std expects 4-D images (N, H, W, C) or (N, C, H, W), "
                         f"got {X.shape}")
    axes = tuple(a for a in range(4) if a != channel_axis % 4)
    return X.mean(axis=axes, dtype=np.float64), X.std(axis=axes, dtype=np.float64)


def load_cifar10(num_training: int = 49000, num_validation: int = 1000, num_test: int = 10000,
                 channels_first: bool = True) -> dict:
    """CIFAR-10 for the framework notebooks: the course split, normalized per channel.

    Train = the first num_training official training images, val = the next num_validation,
    test = the first num_test test images (the embedded mini bundle has fewer; it says so).
    Each channel is shifted and scaled by the mean and std of the TRAINING split only:
    x_c <- (x_c - mean_c) / std_c.

    Inputs:
    - num_training, num_validation, num_test: split sizes
    - channels_first: True for PyTorch's (N, 3, 32, 32), False for TensorFlow's (N, 32, 32, 3)
    Returns a dict with X_train, X_val, X_test float32 images, y_train, y_val, y_test int64
    labels (N,), and mean, std (3,) float32: the statistics used.
    """
    splits = get_CIFAR10_splits(num_training=num_training, num_validation=num_validation,
                                num_test=num_test, num_dev=0)
    mean, std = channel_mean_std(splits["X_train"])
    data = {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}
    for name in ("train", "val", "test"):
        X = ((splits[f"X_{name}"] - mean) / std).astype(np.float32)
        data[f"X_{name}"] = np.ascontiguousarray(X.transpose(0, 3, 1, 2)) if channels_first else X
        data[f"y_{name}"] = splits[f"y_{name}"].astype(np.int64)
    return data


# --------------------------------------------------------------------------- training

def train_loop(step: Callable[[object, object], float], evaluate: Callable[[], float],
               batches: Callable[[], Iterable], per_epoch: int, epochs: int = 1,
               print_every: int = 100) -> dict:
    """The loop of train_part2 / train_part34 in both frameworks.

    Inputs:
    - step: loss = step(x, y), one optimization step on a batch (x, y), returning a float
    - evaluate: acc = evaluate(), the validation accuracy; called every print_every
      iterations and after the last one
    - batches: batches() gives an iterable over one epoch's (x, y) batches
    - per_epoch: how many batches of it to use per epoch
    - epochs: how many epochs
    - print_every: how often to print the loss and evaluate
    Returns history: "loss" (one float per iteration) and "val_acc" (list of (iteration, acc)).
    Raises FloatingPointError at the first non-finite loss.
    """
    history = {"loss": [], "val_acc": []}
    t = 0
    for epoch in range(epochs):
        bar = progress(batches(), total=per_epoch, desc=f"epoch {epoch + 1}/{epochs}")
        for i, (x, y) in enumerate(bar):
            if i >= per_epoch:
                break
            loss = finite_loss(step(x, y), t)
            history["loss"].append(loss)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            if t % print_every == 0:
                bar.clear()  # in a terminal, blank the bar's line so the message gets its own
                print(f"Iteration {t}, loss = {loss:.4f}")
                history["val_acc"].append((t, evaluate()))
            t += 1
        bar.close()
    history["val_acc"].append((t, evaluate()))
    return history


def finite_loss(loss, iteration: int) -> float:
    """`loss` as a float; FloatingPointError (naming the iteration) if it is NaN or infinite."""
    loss = float(loss)
    if not math.isfinite(loss):
        raise FloatingPointError(f"loss is {loss} at iteration {iteration}: "
                                 "lower the learning rate")
    return loss


def one_cycle_lr(step: int, total_steps: int, peak_lr: float, warmup_frac: float = 0.2) -> float:
    """Learning rate of a one-cycle schedule: linear warm-up from 0 to peak_lr over the first
    warmup_frac of the steps, then linear decay to 0 at total_steps.

    lr(s) = peak_lr * (s + 1) / W for s < W = max(1, round(warmup_frac * total_steps)),
    else peak_lr * max(0, (total_steps - s) / (total_steps - W)).
    Inputs: step s in [0, total_steps); returns the learning rate for that step.
    """
    warmup = max(1, round(warmup_frac * total_steps))
    if step < warmup:
        return peak_lr * (step + 1) / warmup
    return peak_lr * max(0.0, (total_steps - step) / (total_steps - warmup))
