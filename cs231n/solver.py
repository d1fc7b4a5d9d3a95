"""Solver: trains a classification model with minibatch gradient descent.

As the course's Solver, plus: a progress bar, atomic checkpoints that ``resume``
restores exactly, a clear error when the loss stops being finite, and an optional
augmentation hook applied to each training batch.

Example::

    data = {'X_train': ..., 'y_train': ..., 'X_val': ..., 'y_val': ...}
    model = MyAwesomeModel(hidden_size=100, reg=10)
    solver = Solver(model, data, update_rule='sgd', optim_config={'learning_rate': 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    # model.params now holds the parameters with the best validation accuracy;
    # solver.loss_history, .train_acc_history and .val_acc_history hold the curves.

The model must have
- ``model.params``: dict from parameter name to numpy array
- ``model.loss(X, y=None)``: scores (N, K) when y is None, else (loss, grads) with
  grads a dict with the same keys as params.
Models with batchnorm may keep their bn_param dicts in a list ``model.bn_params``;
their running statistics are then checkpointed and restored with the parameters.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from cs231n import optim

UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
CHECKPOINT_FORMAT = 1


class NonFiniteLossError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite.

    Attributes: loss (the value), iteration (1-based) and epoch at which it happened.
    """

    def __init__(self, loss: float, iteration: int, epoch: int) -> None:
        self.loss, self.iteration, self.epoch = loss, iteration, epoch
        super().__init__(
            f"loss became {loss} at iteration {iteration} (epoch {epoch}); training stopped "
            "with the parameters of the previous iteration. Try a smaller learning_rate or "
            "weight_scale, and check the data for NaN or inf.")


class Solver:
    """Trains a classification model; see the module docstring for an example.

    Required arguments:
    - model: an object with ``params`` and ``loss(X, y=None)`` (see the module docstring)
    - data: dict with
      - 'X_train': (N_train, d_1, ..., d_k) training images
      - 'y_train': (N_train,) integer training labels
      - 'X_val': (N_val, d_1, ..., d_k) validation images
      - 'y_val': (N_val,) integer validation labels

    Optional keyword arguments:
    - update_rule: name of an update rule in cs231n.optim (default 'sgd')
    - optim_config: dict of hyperparameters for the update rule (each parameter
      gets its own copy); the learning_rate key is decayed after each epoch
    - lr_decay: factor applied to the learning rate after each epoch (default 1.0)
    - batch_size: minibatch size (default 100)
    - num_epochs: number of epochs to train for (default 10)
    - num_train_samples: training examples used to check train accuracy (default
      1000; None for all)
    - num_val_samples: validation examples used to check val accuracy (default
      None for all)
    - checkpoint_name: if not None, a checkpoint is written at every accuracy
      check to '<checkpoint_name>_epoch_<epoch>.ckpt.npz' (load it back with
      ``Solver.resume`` or ``load_checkpoint``)
    - print_every: print the training loss every print_every iterations (default 10)
    - verbose: False prints nothing and shows no progress bar (default True)
    - augment_fn: None, or a function X_batch -> X_batch of the same length applied
      to every training minibatch (never to the accuracy checks)
    """

    def __init__(self, model, data: dict, **kwargs) -> None:
        _check_model(model)
        _check_data(data)
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.augment_fn = kwargs.pop("augment_fn", None)
        if kwargs:
            raise ValueError(f"Solver: unrecognized arguments {sorted(kwargs)}")

        if not isinstance(self.update_rule, str) or self.update_rule not in UPDATE_RULES:
            raise ValueError(f"Solver: update_rule must be one of {UPDATE_RULES}, "
                             f"got {self.update_rule!r}")
        self.update_rule_name = self.update_rule
        self.update_rule = getattr(optim, self.update_rule)
        if not isinstance(self.optim_config, dict):
            raise TypeError(f"Solver: optim_config must be a dict, got {self.optim_config!r}")
        for name in ("batch_size", "print_every"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("num_epochs", self.num_epochs, minimum=0)
        if self.augment_fn is not None and not callable(self.augment_fn):
            raise ValueError("Solver: augment_fn must be None or a function X_batch -> X_batch")
        self._reset()

    def _reset(self) -> None:
        """Set up the bookkeeping of an optimization. Don't call it manually."""
        self.epoch = 0
        self.iteration = 0          # completed iterations, over all epochs
        self.best_val_acc = 0
        self.best_params: dict[str, np.ndarray] = {}
        self.best_bn_params: list[dict] = []
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        # Each parameter gets its own copy of the config: it holds per-parameter state.
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self) -> None:
        """One gradient update on a random minibatch. Called by train()."""
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]
        if self.augment_fn is not None:
            X_batch = self.augment_fn(X_batch)
            if np.shape(X_batch)[:1] != (self.batch_size,):
                raise ValueError(f"Solver: augment_fn returned shape {np.shape(X_batch)}; it "
                                 f"must keep the {self.batch_size} examples of the batch")

        loss, grads = self.model.loss(X_batch, y_batch)
        if not np.isfinite(loss):
            raise NonFiniteLossError(float(loss), self.iteration + 1, self.epoch)
        self.loss_history.append(float(loss))

        for p, w in self.model.params.items():
            if p not in grads:
                raise ValueError(f"Solver: model.loss returned no gradient for parameter {p!r}")
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Accuracy of the model on the provided data.

        Inputs:
        - X: (N, d_1, ..., d_k) data
        - y: (N,) integer labels
        - num_samples: if not None and smaller than N, check a random subsample of
          this many examples
        - batch_size: examples per forward pass (bounds the memory used)

        Returns:
        - acc: fraction of the examples classified correctly
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X, y = X[mask], y[mask]
        y_pred = [np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
                  for start in range(0, N, batch_size)]
        return float(np.mean(np.hstack(y_pred) == y))

    def _iterations_per_epoch(self) -> int:
        return max(self.X_train.shape[0] // self.batch_size, 1)

    def train(self) -> None:
        """Run the optimization for num_epochs epochs (continuing after ``resume``),
        then put the parameters with the best validation accuracy back into the model.

        Raises NonFiniteLossError (a FloatingPointError) if the loss becomes NaN or inf.
        """
        iterations_per_epoch = self._iterations_per_epoch()
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = tqdm(total=num_iterations, initial=min(self.iteration, num_iterations),
                   disable=not self.verbose, desc="train", unit="it", leave=False)
        try:
            for t in range(self.iteration, num_iterations):
                self._step()
                self.iteration = t + 1
                bar.update(1)
                if self.verbose and t % self.print_every == 0:
                    tqdm.write(f"(Iteration {t + 1} / {num_iterations}) "
                               f"loss: {self.loss_history[-1]:f}")

                # At the end of every epoch, increment the epoch counter and decay
                # the learning rate.
                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay

                # Check train and val accuracy on the first iteration, the last
                # iteration, and at the end of each epoch.
                if t == 0 or t == num_iterations - 1 or epoch_end:
                    self._check_and_record()
        finally:
            bar.close()

        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
            for bn_param, best in zip(_bn_params(self.model), self.best_bn_params):
                bn_param.update({k: v.copy() for k, v in best.items()})

    def _check_and_record(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            tqdm.write(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; "
                       f"val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            self.best_bn_params = [_arrays_of(bn_param, copy=True)
                                   for bn_param in _bn_params(self.model)]
        self._save_checkpoint()

    # ------------------------------------------------------------------ checkpoints

    def _save_checkpoint(self) -> str | None:
        """Write '<checkpoint_name>_epoch_<epoch>.ckpt.npz' atomically; return its path."""
        if self.checkpoint_name is None:
            return None
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.ckpt.npz"
        arrays: dict[str, np.ndarray] = {
            "loss_history": np.asarray(self.loss_history, dtype=np.float64),
            "train_acc_history": np.asarray(self.train_acc_history, dtype=np.float64),
            "val_acc_history": np.asarray(self.val_acc_history, dtype=np.float64),
        }
        _flatten(arrays, "params", self.model.params)
        _flatten(arrays, "best_params", self.best_params)
        optim_scalars = {}
        for p, config in self.optim_configs.items():
            _flatten(arrays, f"optim/{p}", _arrays_of(config))
            optim_scalars[p] = _scalars_of(config, f"optim_configs[{p!r}]")
        for i, bn_param in enumerate(_bn_params(self.model)):
            _flatten(arrays, f"bn/{i}", _arrays_of(bn_param))
        for i, bn_param in enumerate(self.best_bn_params):
            _flatten(arrays, f"best_bn/{i}", bn_param)
        rng_name, rng_keys, rng_pos, has_gauss, cached_gaussian = np.random.get_state()
        arrays["rng_keys"] = rng_keys
        meta = {
            "format": CHECKPOINT_FORMAT,
            "update_rule": self.update_rule_name,
            "optim_config": _scalars_of(self.optim_config, "optim_config"),
            "optim_scalars": optim_scalars,
            "lr_decay": self.lr_decay,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "iterations_per_epoch": self._iterations_per_epoch(),
            "epoch": self.epoch,
            "iteration": self.iteration,
            "best_val_acc": self.best_val_acc,
            "num_bn_params": len(_bn_params(self.model)),
            "num_best_bn_params": len(self.best_bn_params),
            "rng": [rng_name, int(rng_pos), int(has_gauss), float(cached_gaussian)],
        }
        arrays["meta"] = np.array(json.dumps(meta))
        _write_npz_atomic(filename, arrays)
        return filename

    def resume(self, filename: str) -> None:
        """Restore the state saved in a checkpoint of this kind of model and training
        setup: parameters, batchnorm running statistics, optimizer state, epoch and
        iteration counters, histories, best parameters and the numpy RNG state.
        A following ``train()`` continues where the checkpoint was written (give a
        larger num_epochs to train for longer).

        Raises ValueError if the checkpoint does not fit this model or Solver
        (different parameters, update rule, batch size or epoch length).
        """
        ckpt = load_checkpoint(filename)
        meta = ckpt["meta"]
        for key, ours in (("update_rule", self.update_rule_name),
                          ("batch_size", self.batch_size),
                          ("iterations_per_epoch", self._iterations_per_epoch())):
            if meta[key] != ours:
                raise ValueError(f"resume: {filename} was written with {key}={meta[key]!r}, "
                                 f"this Solver has {key}={ours!r}")
        theirs = {k: v.shape for k, v in ckpt["params"].items()}
        ours = {k: np.shape(v) for k, v in self.model.params.items()}
        if theirs != ours:
            raise ValueError(f"resume: the parameters of {filename} {theirs} do not match "
                             f"the model's {ours}")
        bn_params = _bn_params(self.model)
        if len(ckpt["bn_params"]) != len(bn_params):
            raise ValueError(f"resume: {filename} holds {len(ckpt['bn_params'])} bn_params, "
                             f"the model has {len(bn_params)}")

        self.model.params = ckpt["params"]
        for bn_param, saved in zip(bn_params, ckpt["bn_params"]):
            bn_param.update(saved)
        self.optim_configs = ckpt["optim_configs"]
        self.best_params = ckpt["best_params"]
        self.best_bn_params = ckpt["best_bn_params"]
        self.epoch, self.iteration = meta["epoch"], meta["iteration"]
        self.best_val_acc = meta["best_val_acc"]
        self.loss_history = ckpt["loss_history"]
        self.train_acc_history = ckpt["train_acc_history"]
        self.val_acc_history = ckpt["val_acc_history"]
        np.random.set_state(ckpt["rng_state"])


def load_checkpoint(filename: str) -> dict[str, Any]:
    """Read a checkpoint written by Solver (an .npz loaded with allow_pickle=False).

    Returns a dict with keys
    - meta: dict of the scalar settings and counters (update_rule, batch_size,
      epoch, iteration, best_val_acc, ...)
    - params, best_params: dicts from parameter name to array
    - optim_configs: dict from parameter name to its optimizer config
    - bn_params, best_bn_params: lists of dicts of batchnorm running statistics
    - loss_history, train_acc_history, val_acc_history: lists of floats
    - rng_state: the numpy global RNG state, for np.random.set_state
    """
    if not os.path.isfile(filename):
        raise FileNotFoundError(f"no checkpoint at {filename}")
    try:
        with np.load(filename, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise ValueError(f"{filename} is not a readable Solver checkpoint ({e})") from e
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{filename}: unknown checkpoint format {meta.get('format')!r}, "
                         f"expected {CHECKPOINT_FORMAT}")

    groups = _unflatten(arrays)
    optim_configs = {p: {**scalars, **groups.get("optim", {}).get(p, {})}
                     for p, scalars in meta["optim_scalars"].items()}
    rng_name, rng_pos, has_gauss, cached_gaussian = meta["rng"]
    return {
        "meta": meta,
        "params": groups.get("params", {}),
        "best_params": groups.get("best_params", {}),
        "optim_configs": optim_configs,
        "bn_params": [groups.get("bn", {}).get(str(i), {})
                      for i in range(meta["num_bn_params"])],
        "best_bn_params": [groups.get("best_bn", {}).get(str(i), {})
                           for i in range(meta["num_best_bn_params"])],
        "loss_history": arrays["loss_history"].tolist(),
        "train_acc_history": arrays["train_acc_history"].tolist(),
        "val_acc_history": arrays["val_acc_history"].tolist(),
        "rng_state": (rng_name, arrays["rng_keys"], rng_pos, has_gauss, cached_gaussian),
    }


# ---------------------------------------------------------------------- helpers


def _check_model(model) -> None:
    if not isinstance(getattr(model, "params", None), dict) or not callable(
            getattr(model, "loss", None)):
        raise TypeError("Solver: model needs a dict `params` and a method `loss(X, y=None)`")


def _check_data(data: dict) -> None:
    missing = [k for k in DATA_KEYS if k not in data]
    if missing:
        raise ValueError(f"Solver: data is missing the keys {missing}; it needs {list(DATA_KEYS)}")
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if np.ndim(y) != 1 or not np.issubdtype(np.asarray(y).dtype, np.integer):
            raise ValueError(f"Solver: y_{split} must be a 1-D integer array of labels, "
                             f"got {np.asarray(y).dtype} {np.shape(y)}")
        if np.shape(X)[:1] != np.shape(y) or len(y) == 0:
            raise ValueError(f"Solver: X_{split} {np.shape(X)} and y_{split} {np.shape(y)} "
                             "must hold the same, non-zero number of examples")


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Solver: {name} must be an integer >= {minimum}, got {value!r}")


def _bn_params(model) -> list[dict]:
    bn_params = getattr(model, "bn_params", None)
    return bn_params if isinstance(bn_params, list) else []


def _arrays_of(d: dict, copy: bool = False) -> dict[str, np.ndarray]:
    return {k: (v.copy() if copy else v) for k, v in d.items() if isinstance(v, np.ndarray)}


def _scalars_of(d: dict, what: str) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            continue
        if isinstance(v, np.generic):
            v = v.item()
        if not isinstance(v, (int, float, str, bool, type(None))):
            raise TypeError(f"Solver checkpoint: {what}[{k!r}] = {v!r} is neither an array "
                             "nor a scalar, so it cannot be saved")
        out[k] = v
    return out


def _flatten(arrays: dict, prefix: str, d: dict) -> None:
    for k, v in d.items():
        if "/" in str(k):
            raise ValueError(f"Solver checkpoint: the name {k!r} contains '/', which the "
                             "checkpoint format uses as a separator; rename it")
        arrays[f"{prefix}/{k}"] = np.asarray(v)


def _unflatten(arrays: dict) -> dict:
    """{'a/b/c': x} -> {'a': {'b': {'c': x}}} for the keys with a '/'."""
    groups: dict = {}
    for key, value in arrays.items():
        if "/" not in key:
            continue
        *path, leaf = key.split("/")
        node = groups
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return groups


def _write_npz_atomic(filename: str, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to filename so that a reader sees the old file or the complete new
    one, never a partial write: write a temporary file beside it, then rename."""
    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

