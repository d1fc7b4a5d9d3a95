"""Solver: trains a model with minibatch gradient descent (the course's Solver).

As the course's Solver, plus: a progress bar that stays out of saved notebooks and logs,
atomic checkpoints that ``resume`` restores exactly, a clear error when the loss stops
being finite, checked options, and an optional augmentation hook for training batches.

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

Another model family (e.g. assignment 3's captioning RNN) subclasses Solver and overrides
only what differs, see ``Solver``'s docstring: ``_check_data``, ``_sample_batch`` and
``_evaluate``.
"""
from __future__ import annotations

import difflib
import math
import numbers
import os
from typing import Any

import numpy as np

from cs231n import optim
from cs231n.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cs231n.optim import OPTIM_KEYS
from cs231n.progress import progress, say

__all__ = ["OPTIM_KEYS", "NonFiniteLossError", "Solver", "load_checkpoint", "progress"]

UPDATE_RULES = tuple(OPTIM_KEYS)
DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
# Without print_every, a run prints about this many loss lines (and never more often
# than the course's every 10 iterations): a 4,590-iteration run stays readable.
DEFAULT_LOSS_LINES = 20


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


# ---------------------------------------------------------------------- the Solver


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
    - update_rule: name of an update rule in cs231n.optim ('sgd', 'sgd_momentum',
      'rmsprop', 'adam'; default 'sgd'), or your own function
      ``update(w, dw, config) -> (next_w, config)``
    - optim_config: dict of hyperparameters for the update rule (each parameter gets its
      own copy); only the keys the rule reads are accepted (see OPTIM_KEYS; any keys for
      your own function). The learning_rate key is decayed after each epoch.
    - lr_decay: factor in (0, 1] applied to the learning rate after each epoch (default 1.0)
    - batch_size: minibatch size (default 100)
    - num_epochs: number of epochs to train for (default 10)
    - num_train_samples: training examples used to check train accuracy (default
      1000; None for all)
    - num_val_samples: validation examples used to check val accuracy (default
      None for all)
    - checkpoint_name: if not None, a checkpoint is written at every accuracy
      check to '<checkpoint_name>_epoch_<epoch>.ckpt.npz' (load it back with
      ``Solver.resume`` or ``load_checkpoint``)
    - print_every: print the training loss every print_every iterations (default None:
      about 20 lines per run, at most every 10 iterations)
    - verbose: False prints nothing and shows no progress bar (default True)
    - augment_fn: None, or a function X_batch -> X_batch of the same length applied
      to every training minibatch (never to the accuracy checks)

    Subclassing, for models trained on other data (e.g. captions): override
    - ``_check_data(self, data) -> int``: raise ValueError for data this Solver cannot
      train on; return the number of training examples (it sets the epoch length). It
      runs first in __init__, before any attribute is set;
    - ``_sample_batch(self, batch_size) -> tuple``: a random training minibatch as the
      positional arguments of ``model.loss`` (the default returns (X_batch, y_batch));
    - ``_evaluate(self) -> (train_acc, val_acc) or None``: run at the first and last
      iteration and each epoch end; None skips accuracy (no histories, no best params:
      the model keeps its final parameters).
    A model of another kind (e.g. a PyTorch module, see
    ``cs231n.captioning_solver_transformer``) also overrides ``_check_model``,
    ``_init_optimizer`` (the optimizer's state), ``_step`` (which calls ``_record_loss``:
    the NaN stop), ``_decay_learning_rate``, ``_checkpoint_state`` and ``_restore``; the
    loop, the progress bar, the epoch counting and the checkpoint schedule stay the Solver's.
    ``data`` is kept as ``self.data``; ``X_train, y_train, X_val, y_val`` are None when
    the data has no such keys.
    """

    def __init__(self, model, data: dict, **kwargs) -> None:
        self._check_model(model)
        self.num_train = self._check_data(data)
        _check_int("the number of training examples (from _check_data)", self.num_train, 1)
        self.model = model
        self.data = data
        self.X_train, self.y_train, self.X_val, self.y_val = (data.get(k) for k in DATA_KEYS)

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", None)
        self.verbose = kwargs.pop("verbose", True)
        self.augment_fn = kwargs.pop("augment_fn", None)
        if kwargs:
            raise ValueError(f"Solver: unrecognized arguments {sorted(kwargs)}")

        self.update_rule_name, self.update_rule = _resolve_update_rule(self.update_rule)
        _check_optim_config(self.optim_config, self.update_rule_name)
        self._check_options()
        self._reset()

    def _check_options(self) -> None:
        _check_number("lr_decay", self.lr_decay, 0, 1, low_open=True)
        _check_int("batch_size", self.batch_size, minimum=1)
        _check_int("num_epochs", self.num_epochs, minimum=0)
        for name in ("num_train_samples", "num_val_samples", "print_every"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        if self.checkpoint_name is not None and not isinstance(self.checkpoint_name,
                                                               (str, os.PathLike)):
            raise TypeError("Solver: checkpoint_name must be None or a path prefix such as "
                            f"'checkpoints/fc_net', got {self.checkpoint_name!r}")
        if self.augment_fn is not None and not callable(self.augment_fn):
            raise ValueError("Solver: augment_fn must be None or a function X_batch -> X_batch")

    # ------------------------------------------------------------------ overridable

    def _check_model(self, model) -> None:
        """Raise TypeError for a model this Solver cannot train. Runs first in __init__."""
        if not isinstance(getattr(model, "params", None), dict) or not callable(
                getattr(model, "loss", None)):
            raise TypeError("Solver: model needs a dict `params` and a method `loss(X, y=None)`")

    def _check_data(self, data: dict) -> int:
        """Check the classification data; return the number of training examples."""
        if not isinstance(data, dict):
            raise TypeError(f"Solver: data must be a dict with keys {list(DATA_KEYS)}, "
                            f"got {type(data).__name__}")
        missing = [k for k in DATA_KEYS if k not in data]
        if missing:
            raise ValueError(f"Solver: data is missing the keys {missing}; "
                             f"it needs {list(DATA_KEYS)}")
        for split in ("train", "val"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            if np.ndim(y) != 1 or not np.issubdtype(np.asarray(y).dtype, np.integer):
                raise ValueError(f"Solver: y_{split} must be a 1-D integer array of labels, "
                                 f"got {np.asarray(y).dtype} {np.shape(y)}")
            if np.shape(X)[:1] != np.shape(y) or len(y) == 0:
                raise ValueError(f"Solver: X_{split} {np.shape(X)} and y_{split} "
                                 f"{np.shape(y)} must hold the same, non-zero number of examples")
        return len(data["y_train"])

    def _sample_batch(self, batch_size: int) -> tuple:
        """A random training minibatch (with replacement, as the course), augmented.

        Returns (X_batch (batch_size, d_1, ..., d_k), y_batch (batch_size,)): the
        arguments of ``model.loss``.
        """
        batch_mask = np.random.choice(self.num_train, batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]
        if self.augment_fn is not None:
            X_batch = self.augment_fn(X_batch)
            if np.shape(X_batch)[:1] != (batch_size,):
                raise ValueError(f"Solver: augment_fn returned shape {np.shape(X_batch)}; it "
                                 f"must keep the {batch_size} examples of the batch")
        return X_batch, y_batch

    def _evaluate(self) -> tuple[float, float] | None:
        """(train accuracy, validation accuracy) of the current model."""
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        return train_acc, val_acc

    # ------------------------------------------------------------------ training

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
        self._init_optimizer()

    def _init_optimizer(self) -> None:
        """Set up the optimizer state (called by _reset)."""
        # Each parameter gets its own copy of the config: it holds per-parameter state.
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _record_loss(self, loss: float) -> None:
        """Append the loss of the current iteration to loss_history; NonFiniteLossError
        (before any update) if it is NaN or infinite."""
        if not np.isfinite(loss):
            raise NonFiniteLossError(float(loss), self.iteration + 1, self.epoch)
        self.loss_history.append(float(loss))

    def _step(self) -> None:
        """One gradient update on a random minibatch. Called by train()."""
        loss, grads = self.model.loss(*self._sample_batch(self.batch_size))
        self._record_loss(loss)

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
        return max(self.num_train // self.batch_size, 1)

    def train(self) -> None:
        """Run the optimization for num_epochs epochs (continuing after ``resume``),
        then put the parameters with the best validation accuracy back into the model.

        Raises NonFiniteLossError (a FloatingPointError) if the loss becomes NaN or inf.
        """
        iterations_per_epoch = self._iterations_per_epoch()
        num_iterations = self.num_epochs * iterations_per_epoch
        print_every = self.print_every or max(10, math.ceil(num_iterations / DEFAULT_LOSS_LINES))
        bar = progress(total=num_iterations, initial=min(self.iteration, num_iterations),
                       disable=not self.verbose, desc="train", unit="it", leave=False)
        try:
            for t in range(self.iteration, num_iterations):
                self._step()
                self.iteration = t + 1
                bar.update(1)
                if self.verbose and t % print_every == 0:
                    say(f"(Iteration {t + 1} / {num_iterations}) "
                         f"loss: {self.loss_history[-1]:f}")

                # At the end of every epoch, increment the epoch counter and decay
                # the learning rate.
                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    self._decay_learning_rate()

                # Check train and val accuracy on the first iteration, the last
                # iteration, and at the end of each epoch.
                if t == 0 or t == num_iterations - 1 or epoch_end:
                    self._check_and_record()
        finally:
            bar.close()

        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
            for bn_param, best in zip(_bn_params(self.model), self.best_bn_params, strict=True):
                bn_param.update({k: v.copy() for k, v in best.items()})

    def _decay_learning_rate(self) -> None:
        """Multiply the learning rate by lr_decay (called at the end of every epoch)."""
        for config in self.optim_configs.values():
            if "learning_rate" in config:
                config["learning_rate"] *= self.lr_decay

    def _check_and_record(self) -> None:
        accuracies = self._evaluate()
        if accuracies is not None:
            train_acc, val_acc = accuracies
            self.train_acc_history.append(train_acc)
            self.val_acc_history.append(val_acc)
            if self.verbose:
                say(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; "
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
        filename = f"{os.fspath(self.checkpoint_name)}_epoch_{self.epoch}.ckpt.npz"
        save_checkpoint(filename, self._checkpoint_state())
        return filename

    def _checkpoint_meta(self) -> dict:
        """The training setup and counters, saved as the checkpoint's 'meta'."""
        return {
            "update_rule": self.update_rule_name,
            "optim_config": self.optim_config,
            "lr_decay": self.lr_decay,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "iterations_per_epoch": self._iterations_per_epoch(),
            "epoch": self.epoch,
            "iteration": self.iteration,
            "best_val_acc": self.best_val_acc,
        }

    def _checkpoint_state(self) -> dict:
        """Everything a checkpoint holds (see resume)."""
        return {
            "meta": self._checkpoint_meta(),
            "params": self.model.params,
            "best_params": self.best_params,
            "optim_configs": self.optim_configs,
            # batchnorm: only the running statistics; mode, eps, momentum stay the model's
            "bn_params": [_arrays_of(bn_param) for bn_param in _bn_params(self.model)],
            "best_bn_params": self.best_bn_params,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
            "rng_state": list(np.random.get_state()),
        }

    def resume(self, filename: str) -> None:
        """Restore the state saved in a checkpoint of this kind of model and training
        setup: parameters, batchnorm running statistics, optimizer state, epoch and
        iteration counters, histories, best parameters and the numpy RNG state.
        A following ``train()`` continues where the checkpoint was written (give a
        larger num_epochs to train for longer).

        Raises ValueError if the checkpoint does not fit this model or Solver
        (different parameters, update rule, batch size or epoch length), and
        CheckpointError (a ValueError) if the file cannot be read.
        """
        ckpt = load_checkpoint(filename)
        try:
            meta = ckpt["meta"]
            counters, loss_history = (meta["epoch"], meta["iteration"]), ckpt["loss_history"]
            rng_state = tuple(ckpt["rng_state"])
            self._check_setup(filename, meta)
            self._restore(filename, ckpt)
            self.epoch, self.iteration = counters
            self.loss_history = loss_history
            np.random.set_state(rng_state)
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"resume: {filename} is a checkpoint but not of a Solver "
                                  f"(no {e})") from e

    def _restore(self, filename: str, ckpt: dict) -> None:
        """Put the model's and the optimizer's state of a checkpoint back (called by resume,
        after the setup was checked); raise ValueError, before changing anything, if it does
        not fit the model."""
        self._check_fits(filename, ckpt["params"], ckpt["bn_params"])
        for bn_param, saved in zip(_bn_params(self.model), ckpt["bn_params"], strict=True):
            bn_param.update(saved)
        self.model.params = ckpt["params"]
        self.optim_configs = ckpt["optim_configs"]
        self.best_params = ckpt["best_params"]
        self.best_bn_params = ckpt["best_bn_params"]
        self.best_val_acc = ckpt["meta"]["best_val_acc"]
        self.train_acc_history = ckpt["train_acc_history"]
        self.val_acc_history = ckpt["val_acc_history"]

    def _check_setup(self, filename: str, meta: dict) -> None:
        """ValueError if the checkpoint was written with another update rule, batch size or
        epoch length than this Solver's."""
        for key, ours in (("update_rule", self.update_rule_name),
                          ("batch_size", self.batch_size),
                          ("iterations_per_epoch", self._iterations_per_epoch())):
            if meta[key] != ours:
                raise ValueError(f"resume: {filename} was written with {key}={meta[key]!r}, "
                                 f"this Solver has {key}={ours!r}")

    def _check_fits(self, filename: str, params: dict, bn_params: list) -> None:
        theirs = {k: np.shape(v) for k, v in params.items()}
        ours = {k: np.shape(v) for k, v in self.model.params.items()}
        if theirs != ours:
            raise ValueError(f"resume: the parameters of {filename} {theirs} do not match "
                             f"the model's {ours}")
        if len(bn_params) != len(_bn_params(self.model)):
            raise ValueError(f"resume: {filename} holds {len(bn_params)} bn_params, "
                             f"the model has {len(_bn_params(self.model))}")


# ---------------------------------------------------------------------- option checks


def _resolve_update_rule(rule) -> tuple[str, Any]:
    """(name, function) of an update rule given by name or as a function."""
    if isinstance(rule, str):
        if rule not in UPDATE_RULES:
            raise ValueError(f"Solver: update_rule must be one of {UPDATE_RULES} or a function "
                             f"update(w, dw, config) -> (next_w, config), got {rule!r}")
        return rule, getattr(optim, rule)
    if callable(rule):
        # cs231n.optim's own functions passed directly get the same checks as their names.
        known = [name for name in UPDATE_RULES if getattr(optim, name) is rule]
        return (known[0] if known else getattr(rule, "__name__", type(rule).__name__)), rule
    raise ValueError(f"Solver: update_rule must be one of {UPDATE_RULES} or a function, "
                     f"got {rule!r}")


def _check_optim_config(config, rule_name: str) -> None:
    """Unknown keys and nonsense values of cs231n.optim's rules are errors: a typo such as
    'learning_rat' would otherwise train silently at the default learning rate."""
    if not isinstance(config, dict):
        raise TypeError(f"Solver: optim_config must be a dict, got {config!r}")
    valid = OPTIM_KEYS.get(rule_name)
    if valid is None:
        return  # your own update rule: it decides which keys it reads
    for key in config:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"Solver: optim_config key {key!r} is not used by update rule "
                             f"{rule_name!r}{hint}; its keys are {', '.join(valid)}")
    for key, value in config.items():
        if key == "learning_rate" or key == "epsilon":
            _check_number(f"optim_config[{key!r}]", value, 0, math.inf, low_open=True)
        elif key in ("momentum", "decay_rate", "beta1", "beta2"):
            _check_number(f"optim_config[{key!r}]", value, 0, 1, high_open=True)
        elif key == "t":
            _check_int("optim_config['t']", value, minimum=0)


def _check_number(name: str, value, low: float, high: float, low_open: bool = False,
                  high_open: bool = False) -> None:
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value) and (low < value if low_open else low <= value)
          and (value < high if high_open else value <= high))
    if not ok:
        if math.isinf(high):
            where = f"{'>' if low_open else '>='} {low}"
        else:
            where = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"Solver: {name} must be a number {where}, got {value!r}")


def _check_int(name: str, value, minimum: int) -> None:
    if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
            or value < minimum):
        raise ValueError(f"Solver: {name} must be an integer >= {minimum}, got {value!r}")


def _bn_params(model) -> list[dict]:
    bn_params = getattr(model, "bn_params", None)
    return bn_params if isinstance(bn_params, list) else []


def _arrays_of(d: dict, copy: bool = False) -> dict[str, np.ndarray]:
    return {k: (v.copy() if copy else v) for k, v in d.items() if isinstance(v, np.ndarray)}
