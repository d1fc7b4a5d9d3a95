"""The workbook's only global settings: where the data is, quick mode, seeds, device.

Data is looked up, per dataset, in this order:
  1. ``$CS231N_DATA``        a folder in the official layouts (e.g. ../shared/data)
  2. ``cs231n/datasets/``    next to the notebook: where the official 2018 notebooks look
  3. ``datasets/``           where ``make data`` downloads the official files
  4. ``datasets/mini/``      the embedded bundle committed in the repository

A notebook runs at one of three scales, printed once when its data is loaded:
  full   the official data was found (the course targets are judged here only)
  mini   the embedded bundle at full-size settings (plain `make run`, a first `make lab`),
         except fewer epochs for the longest trainings
  quick  ``CS231N_QUICK=1``: small sizes for CI (never other code paths)
Every assert threshold is tied to its scale through `by_scale`; `quick` picks sizes (and
`by_scale` the few that differ at `mini`).
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS_DIR = REPO_ROOT / "datasets"
MINI_DIR = DATASETS_DIR / "mini"
FIGURES_DIR = REPO_ROOT / "figures"

QUICK: bool = os.environ.get("CS231N_QUICK", "") not in ("", "0")


def quick(full, quick_value):
    """Return ``quick_value`` in quick mode (CS231N_QUICK=1), else ``full``.

    Notebooks use it for sizes only: ``num_iters = quick(1500, 50)``.
    """
    return quick_value if QUICK else full


SCALES = ("full", "mini", "quick")


def scale() -> str:
    """The scale this process runs at: "quick" under CS231N_QUICK=1, else "full" when every
    dataset loaded so far came from the official data, else "mini".

    The data decides, so load it first; before any load this raises.
    """
    if QUICK:
        return "quick"
    sources = set(sources_used.values())
    if not sources:
        raise RuntimeError("the scale is decided by the data in use: load a dataset first "
                           "(e.g. get_CIFAR10_data()), then ask for a threshold")
    return "full" if sources == {"full"} else "mini"


def by_scale(full, mini, quick):
    """The value that belongs to the current scale, e.g. an assert threshold:

        assert val_acc >= by_scale(full=0.40, mini=0.33, quick=0.20)

    `full` is the course's target; `mini` and `quick` come from measured runs at those
    scales, with a margin that a rerun does not break. It also picks the few sizes that
    differ at `mini` (the longest trainings, so that `make run` on a fresh clone stays short):

        epochs = by_scale(full=10, mini=4, quick=2)
    """
    return {"full": full, "mini": mini, "quick": quick}[scale()]


# Where the official 2018 notebooks keep the data, relative to the notebook's folder.
COURSE_DATASETS = Path("cs231n") / "datasets"


def data_dirs() -> list[tuple[str, Path]]:
    """The full-data folders to search, in order, as (label, path) pairs: $CS231N_DATA,
    <cwd>/cs231n/datasets (where the official notebooks look), then datasets/."""
    dirs = []
    env = os.environ.get("CS231N_DATA", "").strip()
    if env:
        dirs.append(("$CS231N_DATA", Path(env).expanduser().resolve()))
    dirs.append(("cs231n/datasets/ next to the notebook", (Path.cwd() / COURSE_DATASETS).resolve()))
    dirs.append(("datasets/", DATASETS_DIR))
    unique: dict[Path, str] = {}
    for label, path in dirs:  # e.g. CS231N_DATA=datasets: look there once
        unique.setdefault(path, label)
    return [(label, path) for path, label in unique.items()]


def find_full_data(relpath: str, key: str | None = None) -> Path | None:
    """The first ``<folder>/relpath`` of `data_dirs` that holds its key file, or None.

    Inputs:
    - relpath: the dataset's path in the official layout ('cifar-10-batches-py',
      'imagenet_val_25.npz', 'images/kitten.jpg')
    - key: for a folder, a file inside it that must exist ('data_batch_1'), so that an
      empty or half-downloaded folder is skipped; None when relpath is itself a file
    """
    for _, base in data_dirs():
        candidate = base / relpath
        if (candidate / key).is_file() if key else candidate.is_file():
            return candidate
    return None


_announced: set[str] = set()
# Which source each dataset came from in this process ("full" or "mini"); the results
# recorder reads it to say what data a number was measured on.
sources_used: dict[str, str] = {}


def announce(dataset: str, source: str, message: str) -> None:
    """Print, once per dataset and process, which copy of a dataset is in use."""
    sources_used[dataset] = source
    if dataset not in _announced:
        _announced.add(dataset)
        print(message)
        _announce_scale()


def _announce_scale() -> None:
    """Print the scale once per process, and again only if new data changes it."""
    global _scale_said
    now = scale()
    if now == _scale_said:
        return
    _scale_said = now
    hint = {"full": "the official data: the course targets apply",
            "mini": "the embedded bundle at full-size settings, fewer epochs for the longest "
                    "trainings; for the full-data numbers run "
                    "`make data` then `make run`, or set CS231N_DATA to a folder with the data",
            "quick": "CS231N_QUICK=1: small sizes for CI"}[now]
    print(f"scale: {now} ({hint})")


_scale_said: str | None = None


def seed_everything(seed: int = 0) -> None:
    """Seed Python, numpy, and (when imported) torch and tensorflow."""
    random.seed(seed)
    np.random.seed(seed)
    # Seed the frameworks only when already imported: importing torch or TensorFlow just to
    # seed it would make every numpy-only notebook pay seconds of import time.
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


def torch_device():
    """CUDA when a GPU is present, else CPU: the same notebook runs on both."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
