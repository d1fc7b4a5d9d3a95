"""Record the results a notebook measures, so `make run` can tabulate them against targets.

    from workbook.results import record
    record("svm_test_acc", test_accuracy, target=0.39)

Each call prints the result and whether it meets its target. Under `make run`
(which sets CS231N_RESULTS and CS231N_NOTEBOOK) it also appends one JSON line to
the run's results file; interactively, nothing is written.
"""
from __future__ import annotations

import json
import math
import os
import re
import time

from cs231n import config

_START = time.time()
_KEY = re.compile(r"^[a-z0-9][a-z0-9_]*_(acc|loss|error|seconds|speedup|ratio|gflops|params|count|score|distance)$")


def data_label() -> str:
    """"full", "mini", "mixed" or "none": the data this process has loaded so far."""
    sources = set(config.sources_used.values())
    if not sources:
        return "none"
    return sources.pop() if len(sources) == 1 else "mixed"


def target_met(value: float, target: float | None, higher_is_better: bool = True) -> bool | None:
    """True/False against the target, None when there is no target."""
    if target is None:
        return None
    return value >= target if higher_is_better else value <= target


def _verdict(value: float, target, higher_is_better: bool, scale: str) -> str:
    """"  (target >= 0.39: met)" on full data; at other scales only the target, which is
    judged on full data."""
    if target is None:
        return ""
    bound = f"{'>=' if higher_is_better else '<='} {target:g}"
    if scale not in ("full", "none"):
        return f"  (course target {bound}, judged on full data; this is the {scale} scale)"
    return f"  (target {bound}: {'met' if target_met(value, target, higher_is_better) else 'NOT met'})"


def scale_label() -> str:
    """The scale of this process (full, mini, quick), or "none" before any data was loaded."""
    return config.scale() if config.QUICK or config.sources_used else "none"


def record(key: str, value, target=None, higher_is_better: bool = True) -> None:
    """Record one measured result.

    Inputs:
    - key: what it measures, ending in _acc, _loss, _error, _seconds, _speedup,
      _ratio, _gflops, _params, _count, _score or _distance (e.g. "svm_test_acc")
    - value: the number (a finite float)
    - target: the course's target, or None
    - higher_is_better: direction of the target
    Prints one line; returns nothing (so a cell ending in record() shows only that line).
    """
    if not _KEY.match(key):
        raise ValueError(f"result key {key!r}: use lowercase words joined by _ ending in what it "
                         "measures: _acc, _loss, _error, _seconds, _speedup, _ratio, _gflops, _params, _count, "
                         "_score or _distance")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"result {key} is {value}: only finite numbers can be recorded")
    rec = {"notebook": os.environ.get("CS231N_NOTEBOOK", "<interactive>"), "key": key,
           "value": value, "target": None if target is None else float(target),
           "higher_is_better": bool(higher_is_better), "data": data_label(),
           "quick": config.QUICK, "scale": scale_label(), "seconds": round(time.time() - _START, 1)}
    print(f"[result] {key} = {value:.4g}{_verdict(value, target, higher_is_better, rec['scale'])}")
    path = os.environ.get("CS231N_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(rec) + "\n")
