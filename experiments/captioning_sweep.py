"""The hyperparameter sweep behind the captioning notebooks' settings (validation split only).

    PYTHONPATH=. python experiments/captioning_sweep.py    # about 20 minutes on 2 busy cores

Trains the LSTM CaptioningRNN on the generated captioning corpus at its full size (the
notebooks' data when COCO is absent) for a few settings of hidden size, word vector size and
learning rate, and scores greedy captions of the validation images after each epoch (a k-epoch
run is the first k epochs of a longer one: the learning rate decays per epoch either way). The
test split is never touched. Writes experiments/captioning_sweep.json, which the LSTM notebook
shows.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from cs231n import config
from cs231n.captioning_corpus import load_captioning_corpus
from cs231n.captioning_metrics import caption_metrics
from cs231n.captioning_solver import CaptioningSolver
from cs231n.classifiers.rnn import CaptioningRNN
from cs231n.coco_utils import decode_captions

OUT = Path(__file__).with_suffix(".json")
EPOCHS = 3
# (hidden_dim, wordvec_dim, learning_rate); batch size 100 and lr decay 0.9 per epoch throughout
SETTINGS = [(128, 128, 5e-3), (256, 128, 5e-3), (64, 64, 5e-3), (128, 64, 5e-3),
            (128, 128, 2e-3), (128, 128, 1e-2)]


def main() -> None:
    data = load_captioning_corpus()
    idx_to_word = data["idx_to_word"]
    references = [[] for _ in range(len(data["val_features"]))]
    for caption, i in zip(decode_captions(data["val_captions"][:, 1:], idx_to_word),
                          data["val_image_idxs"], strict=True):
        references[i].append(caption)
    rows = []
    for hidden_dim, wordvec_dim, learning_rate in SETTINGS:
        config.seed_everything(0)
        model = CaptioningRNN(data["word_to_idx"], input_dim=data["train_features"].shape[1],
                              wordvec_dim=wordvec_dim, hidden_dim=hidden_dim, cell_type="lstm")
        solver = CaptioningSolver(model, data, update_rule="adam",
                                  optim_config={"learning_rate": learning_rate}, lr_decay=0.9,
                                  num_epochs=0, batch_size=100, verbose=False)
        seconds = 0.0
        for epoch in range(1, EPOCHS + 1):
            solver.num_epochs = epoch          # continue training for one more epoch
            start = time.perf_counter()
            solver.train()
            seconds += time.perf_counter() - start
            predictions = decode_captions(model.sample(data["val_features"]), idx_to_word)
            scores = caption_metrics(predictions, references)
            row = {"hidden_dim": hidden_dim, "wordvec_dim": wordvec_dim,
                   "learning_rate": learning_rate, "epochs": epoch,
                   "val_exact": round(scores["exact"], 4), "val_bleu4": round(scores["BLEU-4"], 4),
                   "train_seconds": round(seconds, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    OUT.write_text(json.dumps({"corpus": "load_captioning_corpus() defaults", "cell_type": "lstm",
                               "batch_size": 100, "lr_decay": 0.9, "rows": rows}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
