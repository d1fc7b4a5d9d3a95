"""Benchmark: kNN compute_distances_no_loops against the dgemm it contains and torch.cdist.

Run from the repository root:  python bench/knn.py [--quick] [--repeats R]

500 test x 5,000 training points of 3,072 features (the knn notebook's CIFAR-10 sizes),
float64, on the harness (bench/harness.py), interleaved:
- ours: KNearestNeighbor.compute_distances_no_loops (one product X @ X_train.T, then the
  squared norms added, clipped, square root);
- the product alone, X @ X_train.T: the machine's dgemm rate on this very shape, a bound
  that ours cannot beat;
- torch.cdist (float64; it too uses a matrix product for inputs this size);
- dgemm 2048^3: the machine's float64 GEMM rate, the yardstick for "% GEMM".
Bar (issue 16): ours >= 85% of the dgemm rate, i.e. at most 1/0.85 = 1.18x the time of the
product alone. GFLOP/s count the product's 2 x 500 x 5000 x 3072 flops.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor

TITLE = "kNN distances, no loops (bench/knn.py)"
SIZES = (500, 5000, 3072)          # num_test, num_train, D
QUICK_SIZES = (5, 50, 30)
DGEMM_SHARE = 0.85                 # the bar: this share of the dgemm rate


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv)
    num_test, num_train, dim = QUICK_SIZES if args.quick else SIZES
    gemm_n = harness.gemm_size(args.quick)
    rng = np.random.default_rng(0)
    # Pixel-like values, as the notebook's float64 CIFAR rows.
    X_train = rng.integers(0, 256, (num_train, dim)).astype(np.float64)
    X_test = rng.integers(0, 256, (num_test, dim)).astype(np.float64)
    knn = KNearestNeighbor()
    knn.train(X_train, np.zeros(num_train, dtype=np.int64))

    with harness.threads() as (n_threads, how):
        import torch

        test_t, train_t = torch.from_numpy(X_test), torch.from_numpy(X_train)
        t = harness.interleaved({
            "ours": lambda: knn.compute_distances_no_loops(X_test),
            "product": lambda: X_test @ X_train.T,
            "cdist": lambda: torch.cdist(test_t, train_t),
            "dgemm": harness.gemm(np.float64, gemm_n),
        }, args.repeats)

    flops = 2.0 * num_test * num_train * dim
    rate = harness.gflops(harness.gemm_flops(gemm_n), t["dgemm"].min)
    shape = f"{num_test} x {num_train} x {dim}"
    rows = [
        Row("compute_distances_no_loops", shape, t["ours"], "X @ X_train.T alone (dgemm)",
            t["product"], flops=flops, gemm_rate=rate,
            bar=f">= {DGEMM_SHARE:.0%} of the dgemm rate", bar_max=1 / DGEMM_SHARE),
        Row("compute_distances_no_loops", shape, t["ours"], "torch.cdist", t["cdist"],
            flops=flops, gemm_rate=rate),
        Row("X @ X_train.T alone", shape, t["product"], flops=flops, gemm_rate=rate),
    ]
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        f"float64; % GEMM: of dgemm {gemm_n}^3 timed in the same rounds; the bar compares "
        f"ours with the product alone (ratio <= {1 / DGEMM_SHARE:.2f}x)"], rows))


if __name__ == "__main__":
    main()
