"""Timing helpers for notebooks and benchmarks: best-of-n wall time, GFLOP/s."""
from __future__ import annotations

import time
from collections.abc import Callable

from cs231n._checks import check_int


def time_function(f: Callable, *args, repeat: int = 1, **kwargs) -> float:
    """Best wall time in seconds of `f(*args, **kwargs)` over `repeat` calls.

    The minimum is the least noisy estimate on a shared machine: noise only adds time.
    """
    check_int(repeat, "repeat")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        f(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def gflops(flop_count: float, seconds: float) -> float:
    """Achieved GFLOP/s for `flop_count` floating point operations in `seconds`."""
    return flop_count / seconds / 1e9


def timed(f: Callable, *args, **kwargs):
    """Call f once; returns (its result, wall time in seconds)."""
    start = time.perf_counter()
    result = f(*args, **kwargs)
    return result, time.perf_counter() - start
