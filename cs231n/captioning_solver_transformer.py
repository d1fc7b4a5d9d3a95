"""CaptioningSolverTransformer: trains a PyTorch captioning model with the Solver's loop.

As the course's ``CaptioningSolverTransformer(model, data, idx_to_word, **kwargs)``: ``data``
is the dict of `load_coco_data` (or of the generated corpus), the model is a
`CaptioningTransformer` (any module ``model(features, captions_in) -> scores (N, T, V)`` with
a ``_null`` word index), the optimizer is Adam (``torch.optim.Adam``) and the loss is the
course's `transformer_temporal_softmax_loss`. After ``train()``, ``loss_history`` holds one
loss per iteration.

Everything else comes from `cs231n.solver.Solver` through `cs231n.captioning_solver.CaptioningSolver`:
the minibatches (drawn with numpy's global RNG, as the numpy models'), the loop with its
progress bar and loss lines, ``lr_decay`` after each epoch, the NaN stop
(`NonFiniteLossError`, before the update) and the atomic checkpoints ``checkpoint_name`` +
``_epoch_<N>.ckpt.npz`` that ``resume`` restores exactly (model, Adam state, counters, loss
history, the numpy and torch CPU RNG states). This subclass says only how a step, the
learning rate decay and a checkpoint work for a PyTorch model.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cs231n.captioning_solver import CaptioningSolver

Tensor = torch.Tensor
# cs231n.optim's adam keys that set a hyperparameter of torch.optim.Adam (not its state)
ADAM_KEYS = ("learning_rate", "beta1", "beta2", "epsilon")


class CaptioningSolverTransformer(CaptioningSolver):
    """Trains a Transformer captioning model; see the module docstring.

    Required arguments:
    - model: a CaptioningTransformer (an nn.Module); trained on the device of its parameters
    - data: the captioning data, as for CaptioningSolver
    - idx_to_word: the vocabulary, a list (or dict) from word index to word

    Optional keyword arguments:
    - learning_rate: Adam's learning rate (default 1e-3, as the course)
    - optim_config: instead of learning_rate, Adam's settings in cs231n.optim's names:
      learning_rate, beta1, beta2, epsilon
    - lr_decay, batch_size (default 100), num_epochs (default 10), print_every, verbose,
      checkpoint_name: as for the Solver
    """

    def __init__(self, model: nn.Module, data: dict, idx_to_word, **kwargs) -> None:
        self.idx_to_word = idx_to_word
        learning_rate = kwargs.pop("learning_rate", None)
        optim_config = dict(kwargs.pop("optim_config", {}))
        if learning_rate is not None:
            if "learning_rate" in optim_config:
                raise ValueError("CaptioningSolverTransformer: give the learning rate once, as "
                                 "learning_rate or in optim_config, not both")
            optim_config["learning_rate"] = learning_rate
        optim_config.setdefault("learning_rate", 1e-3)
        unknown = sorted(set(optim_config) - set(ADAM_KEYS))
        if unknown:
            raise ValueError(f"CaptioningSolverTransformer: optim_config keys {unknown} are not "
                             f"settings of Adam; use {', '.join(ADAM_KEYS)}")
        rule = kwargs.pop("update_rule", "adam")
        if rule != "adam":
            raise ValueError(f"CaptioningSolverTransformer trains with Adam (torch.optim.Adam); "
                             f"update_rule={rule!r} is not supported")
        super().__init__(model, data, update_rule="adam", optim_config=optim_config, **kwargs)

    # ------------------------------------------------------------------ the Solver's hooks

    def _check_model(self, model) -> None:
        if not isinstance(model, nn.Module) or not isinstance(getattr(model, "_null", None),
                                                              (int, np.integer)):
            raise TypeError("CaptioningSolverTransformer: model must be an nn.Module "
                            "model(features, captions) -> scores with a `_null` word index, "
                            f"such as CaptioningTransformer; got {type(model).__name__}")
        if not any(True for _ in model.parameters()):
            raise TypeError("CaptioningSolverTransformer: the model has no parameters to train")

    def _init_optimizer(self) -> None:
        c = self.optim_config
        self.optim = torch.optim.Adam(self.model.parameters(), lr=c["learning_rate"],
                                      betas=(c.get("beta1", 0.9), c.get("beta2", 0.999)),
                                      eps=c.get("epsilon", 1e-8))

    def _step(self) -> None:
        """One Adam step on a random minibatch: teacher forcing, as the course."""
        features, captions = self._sample_batch(self.batch_size)
        param = next(self.model.parameters())
        features = torch.as_tensor(features, dtype=param.dtype, device=param.device)
        captions = torch.as_tensor(captions, dtype=torch.long, device=param.device)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self.model._null

        self.model.train()
        logits = self.model(features, captions_in)
        loss = self.transformer_temporal_softmax_loss(logits, captions_out, mask)
        self._record_loss(loss.item())        # NonFiniteLossError before the update
        self.optim.zero_grad()
        loss.backward()
        self.optim.step()

    def _decay_learning_rate(self) -> None:
        for group in self.optim.param_groups:
            group["lr"] *= self.lr_decay

    def _checkpoint_state(self) -> dict:
        return {
            "meta": self._checkpoint_meta(),
            "model": _to_numpy(self.model.state_dict()),
            "optimizer": _to_numpy(self.optim.state_dict()),
            "loss_history": self.loss_history,
            "rng_state": list(np.random.get_state()),
            "torch_rng_state": torch.get_rng_state().numpy(),
        }

    def _restore(self, filename: str, ckpt: dict) -> None:
        saved = ckpt["model"]
        theirs = {k: np.shape(v) for k, v in saved.items()}
        ours = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        if theirs != ours:
            raise ValueError(f"resume: the model of {filename} {theirs} does not match this "
                             f"model {ours}")
        optimizer_state = ckpt["optimizer"]
        optimizer_state = {
            "state": {int(k): {name: torch.as_tensor(v) for name, v in s.items()}
                      for k, s in optimizer_state["state"].items()},
            "param_groups": optimizer_state["param_groups"]}
        torch_rng_state = torch.from_numpy(np.asarray(ckpt["torch_rng_state"], dtype=np.uint8))
        self.model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in saved.items()})
        self.optim.load_state_dict(optimizer_state)
        torch.set_rng_state(torch_rng_state)

    # ------------------------------------------------------------------ the course's loss

    @staticmethod
    def transformer_temporal_softmax_loss(x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
        """The course's loss: softmax cross-entropy at every step, zero where mask is False,
        averaged over all N * T steps (padding included, so a batch of short captions weighs
        less than one of long captions).

        Inputs:
        - x: (N, T, V) scores
        - y: (N, T) integer targets in [0, V)
        - mask: (N, T) bool, False where the target is <NULL>

        Returns the scalar loss (a tensor; backward() gives the gradients).
        """
        N, T, V = x.shape
        loss = F.cross_entropy(x.reshape(N * T, V), y.reshape(N * T), reduction="none")
        return (loss * mask.reshape(N * T)).mean()


def _to_numpy(tree):
    """A state_dict (nested dicts, lists and tensors) with numpy arrays and str keys, as
    cs231n.checkpoint stores it."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().cpu().numpy()
    if isinstance(tree, dict):
        return {str(k): _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_to_numpy(v) for v in tree]
    return tree
