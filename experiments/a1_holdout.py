"""Held-out study behind the "Going further: mirrored training images" tables of
assignment1/svm.ipynb and assignment1/softmax.ipynb.

The choices of the final linear models (mirrored training images or not, regularization,
number of epochs, mirror-averaged scores or not) are made here, on images that are neither
the validation nor the test set: of the notebooks' 49,000 training images, the first 44,000
train every model and the last 5,000 are held out to compare them (a standard error of
about 0.7 points, instead of 1.5 on the 1,000 validation images). The test set is not
loaded.

Every model is trained as in the notebooks: `LinearClassifier.train` with minibatches of
200, `replace=False` (a fresh permutation each epoch), `seed=0` (same initial weights and
batches), and the learning rate multiplied by 0.1 ** (1 / epochs) after every epoch, so
that it falls to a tenth by the end. Preprocessing: the mean of the 44,000 training images
is subtracted and a bias column appended; "mirrored" trains on those images plus their
left-right mirror images (`mirror_rows`). Each model is scored on the held-out images with
plain scores and with mirror-averaged scores (`mirror_averaged_predict`).

    CS231N_DATA=/work/shared/data python experiments/a1_holdout.py            # both models
    CS231N_DATA=/work/shared/data python experiments/a1_holdout.py softmax    # one of them

Writes experiments/a1_holdout_svm.json and experiments/a1_holdout_softmax.json (the
notebooks read and show them). About 10-15 minutes on 2 cores for both, on the full data.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from cs231n import config
from cs231n.classifiers import LinearSVM, Softmax
from cs231n.data_utils import (
    get_CIFAR10_splits,
    mirror_averaged_predict,
    mirror_rows,
    preprocess_linear,
)

OUT_DIR = Path(__file__).resolve().parent
NUM_FIT, NUM_HELDOUT = 44000, 5000
BATCH_SIZE = 200

# (mirrored training images, regularization, epochs, learning rate), in the order of the
# notebooks' tables; the first row is the validation grid winner of each notebook.
STUDIES = {
    "svm": {
        "model": LinearSVM,
        "rows": [
            (False, 1e3, 20, 1e-6),
            (False, 1e3, 40, 1e-6),
            (True, 1e3, 20, 1e-6),
            (True, 1e3, 40, 1e-6),
            (True, 3e2, 40, 1e-6),
            (True, 1e2, 40, 1e-6),
            (True, 1e2, 40, 3e-6),
        ],
    },
    "softmax": {
        "model": Softmax,
        "rows": [
            (False, 1e2, 20, 1e-5),
            (False, 1e2, 40, 1e-5),
            (True, 1e2, 20, 1e-5),
            (True, 1e2, 40, 1e-5),
            (True, 3e1, 20, 1e-5),
            (True, 3e1, 40, 1e-5),
            (True, 1e1, 40, 1e-5),
            (True, 3e1, 40, 3e-5),
        ],
    },
}


def load_split():
    """The first 44,000 training images (fit) and the last 5,000 of the 49,000 (held out),
    preprocessed with the mean of the fit images; the test set is not loaded."""
    data = get_CIFAR10_splits(num_training=NUM_FIT, num_validation=NUM_HELDOUT, num_test=0,
                              num_dev=0)
    data, mean_image = preprocess_linear(data, append_bias=True)
    return data["X_train"], data["y_train"], data["X_val"], data["y_val"], mean_image


def run_study(name: str, X_fit, y_fit, X_held, y_held, mean_image) -> dict:
    study = STUDIES[name]
    X_both = np.vstack([X_fit, mirror_rows(X_fit, mean_image)])
    y_both = np.concatenate([y_fit, y_fit])
    rows = []
    for mirrored, reg, epochs, lr in study["rows"]:
        X, y = (X_both, y_both) if mirrored else (X_fit, y_fit)
        start = time.perf_counter()
        model = study["model"]()
        model.train(X, y, learning_rate=lr, reg=reg, batch_size=BATCH_SIZE,
                    num_iters=epochs * (len(X) // BATCH_SIZE),
                    learning_rate_decay=0.1 ** (1 / epochs), replace=False, seed=0)
        row = {"mirrored_training_images": mirrored, "reg": reg, "epochs": epochs,
               "learning_rate": lr,
               "heldout_acc": float(np.mean(model.predict(X_held) == y_held)),
               "heldout_mirror_averaged_acc":
                   float(np.mean(mirror_averaged_predict(model, X_held, mean_image) == y_held)),
               "train_seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        print(f"{name}: mirrored {mirrored!s:5} reg {reg:.0e} {epochs} epochs lr {lr:.0e}: held out "
              f"{row['heldout_acc']:.3f}, mirror-averaged {row['heldout_mirror_averaged_acc']:.3f} "
              f"({row['train_seconds']:.0f} s)", flush=True)
    return {"study": f"assignment 1 {name}: held-out comparison of the final model's settings",
            "script": "experiments/a1_holdout.py", "data": config.scale(),
            "fit_images": len(X_fit), "heldout_images": len(X_held),
            "schedule": {"batch_size": BATCH_SIZE, "replace": False, "seed": 0,
                         "learning_rate_decay": "0.1 ** (1 / epochs) after every epoch"},
            "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"any of {', '.join(STUDIES)} (default: all)")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in STUDIES]
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(STUDIES)}")
    # Small products: one BLAS thread is faster and makes the runs reproducible (as the notebooks).
    with threadpool_limits(limits=1):
        X_fit, y_fit, X_held, y_held, mean_image = load_split()
        if len(X_held) < NUM_HELDOUT:
            raise SystemExit("this study needs the full CIFAR-10 training set: run `make data` "
                             "or set CS231N_DATA to a folder holding cifar-10-batches-py/")
        for name in args.models or list(STUDIES):
            result = run_study(name, X_fit, y_fit, X_held, y_held, mean_image)
            path = OUT_DIR / f"a1_holdout_{name}.json"
            path.write_text(json.dumps(result, indent=1) + "\n")
            print(f"wrote {path.relative_to(OUT_DIR.parent)}", flush=True)


if __name__ == "__main__":
    main()
