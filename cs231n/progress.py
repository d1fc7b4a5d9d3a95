"""One progress bar for every training loop of the package.

In JupyterLab it is a single widget (ipywidgets); a notebook executed without a frontend
(`make run`, nbval) stores that one widget output, never a line per iteration. In a terminal
it is a text bar on stderr. The loops print their own few summary lines besides.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable

from tqdm import TqdmExperimentalWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmExperimentalWarning)
    from tqdm.auto import tqdm


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             leave: bool = False, **kwargs) -> tqdm:
    """A progress bar over `iterable` (or a manual one, updated with `.update(n)`).

    Inputs:
    - iterable: what to iterate over, or None for a manual bar
    - total: number of steps (when the iterable has no len, or is stopped early)
    - desc: a short label, e.g. "epoch 2/10"
    - leave: keep the finished bar on screen; by default it disappears, leaving the
      loop's own summary lines
    Returns the tqdm bar (iterate over it; `set_postfix(loss=...)` shows the latest loss).
    """
    return tqdm(iterable, total=total, desc=desc, leave=leave, mininterval=1.0, **kwargs)
