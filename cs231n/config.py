"""The workbook's only global settings: where the data is, quick mode, seeds, device.

Data is looked up, per dataset, in this order:
  1. ``$CS231N_DATA``        a folder in the official layouts (e.g. ../shared/data)
  2. ``datasets/``           where ``make data`` downloads the official files
  3. ``datasets/mini/``      the embedded bundle committed in the repository

``CS231N_QUICK=1`` shrinks iterations, epochs and search grids (never code paths),
so that every notebook runs in CI in minutes.
"""
from __future__ import annotations

import os
import random
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


def data_dirs() -> list[tuple[str, Path]]:
    """The full-data folders to search, in order, as (label, path) pairs."""
    dirs = []
    env = os.environ.get("CS231N_DATA", "").strip()
    if env:
        dirs.append(("$CS231N_DATA", Path(env).expanduser().resolve()))
    dirs.append(("datasets/", DATASETS_DIR))
    return dirs


def find_full_data(relpath: str) -> Path | None:
    """The first existing ``relpath`` under $CS231N_DATA, then datasets/; None if neither has it."""
    for _, base in data_dirs():
        candidate = base / relpath
        if candidate.exists():
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


def seed_everything(seed: int = 0) -> None:
    """Seed Python, numpy, and (when imported) torch and tensorflow."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)
    import sys

    if "tensorflow" in sys.modules:  # never import TF just to seed it: it is slow to load
        sys.modules["tensorflow"].random.set_seed(seed)


def torch_device():
    """CUDA when a GPU is present, else CPU: the same notebook runs on both."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
