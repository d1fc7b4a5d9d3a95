"""Run every benchmark in bench/ and rewrite BENCHMARKS.md from their tables.

Run from the repository root:  python bench/run_all.py [--quick] [--out PATH]   (make bench)

A full run writes BENCHMARKS.md (atomically: a temporary file, then os.replace): a header
saying when and on what it ran (CPU, cores, threads, numpy / torch versions, BLAS, the
Cython extension, the float32 and float64 GEMM rates measured at the start), a summary of
the bars, one table per benchmark, then bench/NOTES.md verbatim (the hand-written part:
explanations, profiles, earlier measurements). --quick runs every benchmark on tiny shapes
(what CI runs) and writes only where --out says: its numbers mean nothing.
Budget: the full run takes a few minutes on a 2-core machine (the issue's limit: 10).
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Table

# Run in this order: the cheap ones first, so a broken one fails early.
BENCHMARKS = ["knn", "fc_net", "conv", "lstm", "features", "deepconvnet"]
NOTES = Path(__file__).resolve().parent / "NOTES.md"
OUTPUT = harness.REPO_ROOT / "BENCHMARKS.md"


def run_benchmarks(quick: bool, names: list[str] = BENCHMARKS) -> list[Table]:
    """Each benchmark's main, in one process; their tables in order."""
    argv = ["--quick"] if quick else []
    return [importlib.import_module(f"bench.{name}").main(argv) for name in names]


# --------------------------------------------------------------------------- the machine

def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> str:
    """numpy's BLAS library and version, as threadpoolctl reports it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (no threadpoolctl)"
    libs = [f"{lib.get('internal_api')} {lib.get('version')}" for lib in threadpool_info()
            if lib.get("user_api") == "blas"]
    return ", ".join(libs) or "unknown"


def versions() -> str:
    import numpy

    from cs231n import fast_layers
    parts = [f"Python {platform.python_version()}", f"numpy {numpy.__version__} ({blas_info()})"]
    try:
        import torch
        parts.append(f"torch {torch.__version__}")
    except ImportError:
        parts.append("no torch")
    parts.append("Cython im2col extension built" if fast_layers.HAVE_CYTHON
                 else "Cython im2col extension NOT built (numpy fallback)")
    return "; ".join(parts)


def machine_lines(n_threads: int, how: str, rates: dict[str, float], gemm_n: int) -> list[str]:
    """The header's description of the machine and of how the run used it."""
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    return [
        f"- CPU: {cpu_model()}; {cores} logical cores ({usable} usable by this process); "
        f"load average at the start (1 / 5 / 15 min): {load}",
        f"- threads: {n_threads} for numpy's BLAS and for torch ({how})",
        f"- {versions()}",
        f"- GEMM rates ({gemm_n}^3, interleaved, minimum): float32 {rates['float32']:.1f} "
        f"GFLOP/s, float64 {rates['float64']:.1f} GFLOP/s; each benchmark also times its own "
        f"yardstick in its rounds, and its '% GEMM' column uses that one",
    ]


# --------------------------------------------------------------------------- markdown

def markdown_table(header: list[str], lines: list[list[str]]) -> str:
    escape = lambda cell: cell.replace("|", "\\|")
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(escape(c) for c in cells) + " |" for cells in lines]
    return "\n".join(out)


def summary(tables: list[Table]) -> str:
    """Every row that has a bar: the bar, the measured ratio, met or not."""
    lines = [[row.what, row.shape, row.reference, row.bar, harness.format_ratio(row.ratio),
              harness.row_cells(row)[-1]]
             for table in tables for row in table.rows if row.bar_max is not None]
    return markdown_table(["what", "shape", "reference", "bar", "ours / reference", "met"], lines)


def table_section(table: Table) -> str:
    parts = [f"## {table.title}", "\n".join(f"- {line}" for line in table.lines),
             markdown_table(list(harness.COLUMNS), [harness.row_cells(r) for r in table.rows])]
    notes = [f"- {row.what} ({row.reference or 'ours'}): {row.note}"
             for row in table.rows if row.note]
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts)


def render(tables: list[Table], machine: list[str], seconds: float, quick: bool,
           notes: str) -> str:
    """The whole of BENCHMARKS.md."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = ("QUICK MODE: tiny shapes, 2 rounds; these numbers mean nothing\n\n" if quick else "")
    head = (f"# Benchmarks\n\n{mode}Written by bench/run_all.py (`make bench`) on {stamp}, in "
            f"{seconds:.0f} s; do not edit by hand: the hand-written part comes from "
            f"bench/NOTES.md.\n\nHow to read the tables: every time is the minimum over "
            f"interleaved rounds, with how far the median lies above it (the spread: a few "
            f"percent on a quiet machine). ratio = ours / reference, minimum times (below 1x "
            f"ours is faster; 1/N x: N times faster). GFLOP/s count the matrix products the "
            f"work needs; % GEMM compares them with the machine's GEMM rate in the same run.")
    sections = [head, "## Machine\n\n" + "\n".join(machine),
                "## Bars\n\n" + summary(tables)]
    sections += [table_section(t) for t in tables]
    sections.append(notes.strip())
    return "\n\n".join(sections) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and os.replace: a
    reader never sees half a file, and a failed run leaves the old one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> list[Table]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes, 2 rounds (CI); writes only with --out")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default: BENCHMARKS.md for a full run)")
    args = parser.parse_args(argv)
    out = args.out if args.out is not None or args.quick else OUTPUT

    start = time.perf_counter()
    gemm_n = harness.gemm_size(args.quick)
    with harness.threads() as (n_threads, how):
        rates = harness.gemm_rates(gemm_n, harness.QUICK_REPEATS if args.quick
                                   else harness.MIN_REPEATS)
        machine = machine_lines(n_threads, how, rates, gemm_n)
    print("\n".join(machine))
    tables = run_benchmarks(args.quick)
    seconds = time.perf_counter() - start
    print(f"\nall benchmarks: {seconds:.0f} s")
    if out is not None:
        write_atomically(out, render(tables, machine, seconds, args.quick, NOTES.read_text()))
        print(f"wrote {out}")
    return tables


if __name__ == "__main__":
    main()
