"""The shared benchmark harness: thread count, interleaved timing, the GEMM yardstick, rows.

Every benchmark in bench/ follows the same rules (issue 16), so that its ratios hold still:
- ONE process, the same inputs and the same thread count for numpy's BLAS and torch
  (`threads`);
- the compared implementations INTERLEAVED (`interleaved`): each round runs every
  implementation once, so a burst of load from another process hits them all alike;
- after a warm-up round, the MINIMUM over at least 15 rounds, since noise only ever adds
  time; the spread (median / minimum) is shown beside it;
- the machine's GEMM rate measured in the same run, interleaved with the rest (`gemm`),
  as the yardstick for work that is matrix products;
- a common command line (`parse_args`): `--quick` (tiny shapes, 2 rounds: what CI runs
  so that no benchmark rots; its numbers mean nothing) and `--repeats`.
A benchmark's `main(argv)` prints and returns a `Table`: its title, lines saying how it was
run, and its `Row`s; bench/run_all.py runs them all and writes BENCHMARKS.md from the tables.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

MIN_REPEATS = 15      # the floor for a real run
QUICK_REPEATS = 2     # --quick: it runs, nothing more
GEMM_N = 2048         # the yardstick's square size (a 2048^3 product: 17 GFLOP)
QUICK_GEMM_N = 128


# --------------------------------------------------------------------------- command line

def parse_args(description: str, argv: list[str] | None,
               default_repeats: int = MIN_REPEATS) -> argparse.Namespace:
    """The options every benchmark takes: --quick and --repeats.

    args.repeats is QUICK_REPEATS under --quick unless given; a full run needs >= 15.
    """
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes and 2 rounds: checks that it runs, not its numbers")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"interleaved rounds, minimum taken (default {default_repeats})")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else default_repeats
    if args.repeats < 1 or (not args.quick and args.repeats < MIN_REPEATS):
        parser.error(f"--repeats must be >= {MIN_REPEATS} (the minimum of fewer rounds is "
                     f"not stable), or use --quick")
    return args


# --------------------------------------------------------------------------- threads

def thread_count() -> int:
    """Threads for numpy's BLAS and torch: $BENCH_THREADS, else every core this process may use."""
    env = os.environ.get("BENCH_THREADS")
    if env:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def threads(n: int | None = None) -> Iterator[tuple[int, str]]:
    """Give numpy's BLAS and torch the same number of threads for the block; yield (n, how).

    The previous limits come back on exit, so a benchmark run inside pytest leaves the
    other tests' thread counts alone.
    """
    n = thread_count() if n is None else n
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
            # Without threadpoolctl numpy keeps its BLAS default: the env variable, else all cores.
            n, how = (int(env), "from OPENBLAS/OMP_NUM_THREADS") if env else (
                os.cpu_count() or 1, "numpy's default (all cores; no threadpoolctl)")
        else:
            stack.enter_context(threadpool_limits(n))
            how = "set with threadpoolctl"
        torch = _torch_or_none()
        if torch is not None:
            before = torch.get_num_threads()
            torch.set_num_threads(n)
            stack.callback(torch.set_num_threads, before)
        yield n, how


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


# --------------------------------------------------------------------------- timing

@dataclass
class Timing:
    """The times of one implementation over the rounds, in seconds.

    `phases` holds the per-phase times (e.g. 'fwd', 'bwd') when the implementation
    reports them; `times` is then their sum in each round.
    """
    times: list[float] = field(default_factory=list)
    phases: dict[str, Timing] = field(default_factory=dict)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        """median / minimum: 1.0 for a quiet machine, larger under load."""
        return self.median / self.min

    def phase(self, name: str) -> Timing:
        return self.phases[name]


class Phases(dict):
    """phase name -> seconds, as returned by an implementation made with `phased`."""


def interleaved(impls: dict[str, Callable[[], object]], repeats: int = MIN_REPEATS,
                warmup: int = 1) -> dict[str, Timing]:
    """Time the implementations round-robin: `warmup` untimed rounds, then `repeats` rounds
    that each call every implementation once, in the order given.

    The harness times each call, unless the implementation returns `Phases` (see `phased`):
    then the round's time is the sum of the phases it timed itself, and each phase is kept
    too. Anything else it returns is dropped. Returns name -> Timing.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        for run in impls.values():
            run()
    timings = {name: Timing() for name in impls}
    for _ in range(repeats):
        for name, run in impls.items():
            start = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - start
            timing = timings[name]
            if not isinstance(result, Phases):
                timing.times.append(elapsed)
                continue
            for phase, seconds in result.items():
                timing.phases.setdefault(phase, Timing()).times.append(seconds)
            timing.times.append(sum(result.values()))
    return timings


def phased(*steps: tuple[str, Callable[[], object]]) -> Callable[[], Phases]:
    """An implementation made of named steps run in order, each timed: for `interleaved`.

    A step is (phase name, function of no arguments); e.g. a forward that stores its cache
    in a closure, then the backward that reads it.
    """
    def run() -> Phases:
        times = Phases()
        for name, step in steps:
            start = time.perf_counter()
            step()
            times[name] = time.perf_counter() - start
        return times
    return run


def forward_backward(forward: Callable, backward: Callable, args: tuple, dout,
                     before: Callable[[], None] | None = None) -> Callable[[], Phases]:
    """A layer's forward(*args) then backward(dout, cache), timed as phases 'fwd' and 'bwd':
    for `interleaved`. before, if given, runs at the start of each phase (e.g. to select
    module-wide kernels that another implementation in the same rounds changes)."""
    cache = []

    def fwd():
        if before is not None:
            before()
        cache.append(forward(*args)[1])

    def bwd():
        if before is not None:
            before()
        backward(dout, cache.pop())
    return phased(("fwd", fwd), ("bwd", bwd))


# --------------------------------------------------------------------------- GEMM yardstick

def gemm(dtype, n: int) -> Callable[[], None]:
    """An n x n x n matrix product in dtype, as an implementation for `interleaved`."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)

    def run() -> None:
        np.matmul(a, b, out=out)
    return run


def gemm_size(quick: bool) -> int:
    """The yardstick's square size: GEMM_N for a real run, QUICK_GEMM_N under --quick."""
    return QUICK_GEMM_N if quick else GEMM_N


def training_step_flops(forward: list[float]) -> float:
    """Matrix-product flops of a training step from each layer's forward product: the forward,
    then dW and dx of every layer in backward (each as much as its forward), less the first
    layer's dx (the input needs no gradient)."""
    return 3 * sum(forward) - forward[0]


def gemm_flops(n: int) -> float:
    """Floating point operations of an n x n x n matrix product."""
    return 2.0 * n ** 3


def gemm_name(dtype, n: int) -> str:
    return f"{'sgemm' if np.dtype(dtype) == np.float32 else 'dgemm'} {n}^3"


def gemm_rates(n: int = GEMM_N, repeats: int = MIN_REPEATS) -> dict[str, float]:
    """GFLOP/s of float32 and float64 n^3 products, interleaved: {'float32': .., 'float64': ..}."""
    times = interleaved({"float32": gemm(np.float32, n), "float64": gemm(np.float64, n)},
                        repeats)
    return {name: gflops(gemm_flops(n), t.min) for name, t in times.items()}


def gflops(flop_count: float, seconds: float) -> float:
    """Achieved GFLOP/s for `flop_count` floating point operations in `seconds`."""
    return flop_count / seconds / 1e9


# --------------------------------------------------------------------------- rows

@dataclass
class Row:
    """One line of a benchmark's table.

    ratio = ours / reference, both minimum times: below 1 ours is faster. A bar is met
    when ratio <= bar_max; bar says it in words (e.g. '<= 1.1x torch').
    """
    what: str
    shape: str
    ours: Timing
    reference: str = ""
    ref: Timing | None = None
    flops: float | None = None       # work of ours, when it is matrix products
    gemm_rate: float | None = None   # GFLOP/s of the yardstick measured in the same run
    bar: str = ""
    bar_max: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.ref is None else self.ours.min / self.ref.min

    @property
    def gflops(self) -> float | None:
        return None if self.flops is None else gflops(self.flops, self.ours.min)

    @property
    def pct_gemm(self) -> float | None:
        if self.gflops is None or not self.gemm_rate:
            return None
        return 100.0 * self.gflops / self.gemm_rate

    @property
    def met(self) -> bool | None:
        if self.bar_max is None or self.ratio is None:
            return None
        return self.ratio <= self.bar_max


@dataclass
class Table:
    """What a benchmark's main returns: a title, lines on how it ran, and its rows."""
    title: str
    lines: list[str]
    rows: list[Row]


def scaled(timing: Timing, factor: float) -> Timing:
    """A Timing multiplied by factor: a baseline timed on a slice, scaled to the full work."""
    return Timing([t * factor for t in timing.times],
                  {name: scaled(p, factor) for name, p in timing.phases.items()})


def shape_str(*shapes) -> str:
    """'(64, 32, 32, 32) x (64, 32, 3, 3)' from tuples (or ready strings)."""
    return " x ".join(str(tuple(s)) if not isinstance(s, str) else s for s in shapes)


# --------------------------------------------------------------------------- printing

COLUMNS = ("what", "shape", "ours", "reference", "ref", "ratio", "GFLOP/s", "% GEMM", "bar",
           "met")


def format_seconds(seconds: float) -> str:
    """A time with a unit that keeps 3-4 significant digits: '812 us', '95.3 ms', '12.4 s'."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def format_timing(timing: Timing | None) -> str:
    """'95.3 ms (+4%)': the minimum and how far the median lies above it."""
    if timing is None:
        return "-"
    return f"{format_seconds(timing.min)} (+{100 * (timing.spread - 1):.0f}%)"


def format_ratio(ratio: float | None) -> str:
    """'1.07x', or '1/590x' for a large speed-up."""
    if ratio is None or not math.isfinite(ratio):
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"1/{1 / ratio:.0f}x"


def row_cells(row: Row) -> list[str]:
    """The row's cells, in COLUMNS order, as text."""
    met = {None: "", True: "yes", False: "**no**"}[row.met]
    return [row.what, row.shape, format_timing(row.ours), row.reference or "-",
            format_timing(row.ref), format_ratio(row.ratio),
            "-" if row.gflops is None else f"{row.gflops:.1f}",
            "-" if row.pct_gemm is None else f"{row.pct_gemm:.0f}%", row.bar or "-", met]


def print_table(table: Table) -> Table:
    """Print a benchmark's table (aligned columns, then the rows' notes); return it."""
    cells = [list(COLUMNS)] + [row_cells(row) for row in table.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    print(f"\n{table.title}")
    for line in table.lines:
        print(f"  {line}")
    for line in cells:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    for row in table.rows:
        if row.note:
            print(f"  - {row.what}: {row.note}")
    return table


def run_info(threads_used: int, how: str, repeats: int, quick: bool) -> str:
    """One line saying how a benchmark was timed."""
    mode = "QUICK MODE (tiny shapes; the numbers mean nothing)" if quick else (
        f"{repeats} interleaved rounds after a warm-up, minimum (+ median above it)")
    return f"threads: {threads_used} for numpy BLAS and torch ({how}); {mode}"
