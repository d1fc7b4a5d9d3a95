"""CaptioningSolver: the Solver, trained on captions instead of labelled images.

As the course's `CaptioningSolver(model, data, **kwargs)`: `data` is the dict of
`load_coco_data` (or of the generated corpus, which has the same layout) and the model has
`loss(features, captions) -> (loss, grads)`, e.g. `CaptioningRNN`. Everything else (update
rules, lr decay, progress, the NaN stop, checkpoints) comes from `cs231n.solver.Solver`;
this subclass only says how to check the data and draw a minibatch. Captioning has no
accuracy to check per epoch, so no best-parameter bookkeeping: the model keeps its final
parameters, as in the course.
"""
from __future__ import annotations

import numpy as np

from cs231n.coco_utils import sample_coco_minibatch
from cs231n.solver import Solver

CAPTION_KEYS = ("train_captions", "train_image_idxs", "train_features")


class CaptioningSolver(Solver):
    """Trains a captioning model with the Solver's loop; see the module docstring."""

    def _check_data(self, data: dict) -> int:
        """Check the captioning data; return the number of training captions."""
        if not isinstance(data, dict):
            raise TypeError(f"CaptioningSolver: data must be the dict of load_coco_data, "
                            f"got {type(data).__name__}")
        missing = [k for k in CAPTION_KEYS if k not in data]
        if missing:
            raise ValueError(f"CaptioningSolver: data is missing {missing}; it needs "
                             f"{list(CAPTION_KEYS)} (the layout of load_coco_data)")
        captions, idxs = np.asarray(data["train_captions"]), np.asarray(data["train_image_idxs"])
        if captions.ndim != 2 or not np.issubdtype(captions.dtype, np.integer):
            raise ValueError(f"CaptioningSolver: train_captions must be (N, T) word indices, "
                             f"got {captions.dtype} {captions.shape}")
        if idxs.shape != captions.shape[:1] or len(idxs) == 0:
            raise ValueError(f"CaptioningSolver: train_image_idxs {idxs.shape} must give one "
                             f"image per caption ({captions.shape[0]} captions)")
        num_images = len(data["train_features"])
        if idxs.min() < 0 or idxs.max() >= num_images:
            raise ValueError(f"CaptioningSolver: train_image_idxs point outside the "
                             f"{num_images} rows of train_features")
        return len(captions)

    def _sample_batch(self, batch_size: int) -> tuple:
        """A random minibatch, as the course: (features (B, D), captions (B, T))."""
        captions, features, _ = sample_coco_minibatch(self.data, batch_size=batch_size,
                                                      split="train")
        return features, captions

    def _evaluate(self) -> None:
        """No per-epoch accuracy for captions (the notebooks score samples with BLEU)."""
        return None
