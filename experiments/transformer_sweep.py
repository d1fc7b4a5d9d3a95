"""The probes behind the Transformer captioning notebook's settings (validation split only).

    PYTHONPATH=. python experiments/transformer_sweep.py    # about 10 minutes on one busy core

Trains the CaptioningTransformer on the generated captioning corpus at its full size (the
notebooks' data when COCO is absent) with the image projected to one token (the course's
model) and to four, everything else equal: word vectors of 128, 4 heads, 2 layers, a
feed-forward width of 512, dropout 0.1, Adam at 1e-3 without decay, minibatches of 100. Greedy
captions of the validation images are scored after each epoch (a k-epoch row is the first k
epochs of the 3-epoch run). The test split is never touched. One PyTorch thread, as the
notebook on a 2-core machine. Writes experiments/transformer_sweep.json, which the notebook
shows.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from cs231n import config
from cs231n.captioning_corpus import load_captioning_corpus
from cs231n.captioning_metrics import caption_metrics
from cs231n.captioning_solver_transformer import CaptioningSolverTransformer
from cs231n.classifiers.transformer import CaptioningTransformer
from cs231n.coco_utils import decode_captions

OUT = Path(__file__).with_suffix(".json")
EPOCHS = 3
MODEL = dict(wordvec_dim=128, num_heads=4, num_layers=2, dim_feedforward=512, dropout=0.1,
             max_length=30)
SOLVER = dict(learning_rate=1e-3, batch_size=100, lr_decay=1.0)
IMAGE_TOKENS = [1, 4]


def main() -> None:
    torch.set_num_threads(1)
    data = load_captioning_corpus()
    idx_to_word = data["idx_to_word"]
    references = [[] for _ in range(len(data["val_features"]))]
    for caption, i in zip(decode_captions(data["val_captions"][:, 1:], idx_to_word),
                          data["val_image_idxs"], strict=True):
        references[i].append(caption)
    rows = []
    for tokens in IMAGE_TOKENS:
        config.seed_everything(0)
        model = CaptioningTransformer(data["word_to_idx"], input_dim=data["train_features"].shape[1],
                                      num_image_tokens=tokens, **MODEL)
        solver = CaptioningSolverTransformer(model, data, idx_to_word, num_epochs=0,
                                             verbose=False, **SOLVER)
        seconds = 0.0
        for epoch in range(1, EPOCHS + 1):
            solver.num_epochs = epoch          # continue training for one more epoch
            start = time.perf_counter()
            solver.train()
            seconds += time.perf_counter() - start
            predictions = decode_captions(model.sample(data["val_features"]), idx_to_word)
            scores = caption_metrics(predictions, references)
            row = {"image_tokens": tokens, "epochs": epoch,
                   "parameters": sum(p.numel() for p in model.parameters()),
                   "val_exact": round(scores["exact"], 4), "val_bleu4": round(scores["BLEU-4"], 4),
                   "train_seconds": round(seconds, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    OUT.write_text(json.dumps({"corpus": "load_captioning_corpus() defaults", "model": MODEL,
                               "solver": SOLVER, "torch_threads": 1, "rows": rows},
                              indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
