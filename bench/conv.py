"""Benchmark: fast conv and max-pool layers against the naive layers and PyTorch CPU.

Run from the repository root:  python bench/conv.py   (or  python -m bench.conv)
Options: --reps R (best of R timings, default 5), --naive-batch B (images the naive
layers run on, scaled linearly to the full batch, default 16).

Everything runs in ONE process with the same thread count for numpy's BLAS and torch,
so the printed ratios compare like with like; absolute times depend on the machine.
The physical yardstick is the machine's float32 GEMM rate (a 2048^3 sgemm), since the
fast conv is three GEMMs (forward; dw and dx in backward) plus im2col / col2im.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cs231n import fast_layers
from cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

CONV_X, CONV_W = (64, 32, 32, 32), (64, 32, 3, 3)
CONV_PARAM = {"stride": 1, "pad": 1}
POOL_X = (64, 64, 32, 32)
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def set_threads() -> tuple[int, str]:
    """Give numpy's BLAS and torch the same number of threads; return it and its source."""
    n = int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        # Without threadpoolctl numpy keeps its BLAS default: the env variable, else all cores.
        n, how = (int(env), "from OPENBLAS/OMP_NUM_THREADS") if env else (
            os.cpu_count() or 1, "numpy's default (all cores; no threadpoolctl)")
    else:
        threadpool_limits(n)
        how = "set with threadpoolctl"
    try:
        import torch
    except ImportError:
        return n, how
    torch.set_num_threads(n)
    return n, how


def best_time(fn, reps: int) -> float:
    """Best wall time of fn() over reps runs after one warm-up run, in seconds."""
    fn()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_pair(forward, backward, args: tuple, reps: int) -> tuple[float, float]:
    """Best forward time and best backward time of a numpy layer pair."""
    out, cache = forward(*args)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    return best_time(lambda: forward(*args), reps), best_time(lambda: backward(dout, cache), reps)


def time_torch(op, inputs: list, reps: int) -> tuple[float, float] | None:
    """Best forward and best backward time of a torch op on CPU (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    tensors = [torch.from_numpy(a).requires_grad_() for a in inputs]
    out = op(*tensors)
    grad = torch.randn_like(out)

    def backward():
        for t in tensors:
            t.grad = None  # as a training step does: no accumulation into old grads
        out.backward(grad, retain_graph=True)

    return best_time(lambda: op(*tensors), reps), best_time(backward, reps)


def sgemm_rate(reps: int) -> float:
    """float32 GEMM rate of this machine in GFLOP/s (2048 x 2048 x 2048)."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    return 2 * 2048 ** 3 / best_time(lambda: a @ a, reps) / 1e9


def print_table(title: str, rows: dict, work: tuple[float, float], unit: str, peak: float | None):
    """rows: name -> (t_fwd, t_bwd) in seconds; work: (fwd, bwd) in units of `unit`."""
    print(f"\n{title}")
    print(f"{'':24s} {'fwd ms':>9s} {'bwd ms':>9s} {'f+b ms':>9s}   "
          f"{'fwd ' + unit:>12s} {'bwd ' + unit:>12s}" + ("   %sgemm f/b" if peak else ""))
    for name, (tf, tb) in rows.items():
        rate_f, rate_b = work[0] / tf / 1e9, work[1] / tb / 1e9
        line = (f"{name:24s} {tf * 1e3:9.2f} {tb * 1e3:9.2f} {(tf + tb) * 1e3:9.2f}   "
                f"{rate_f:12.1f} {rate_b:12.1f}")
        if peak:
            line += f"   {100 * rate_f / peak:5.0f}% /{100 * rate_b / peak:4.0f}%"
        print(line)


def print_ratios(rows: dict, ours: str) -> dict:
    """Print naive/ours and ours/torch for fwd, bwd, fwd+bwd; return them."""
    ratios = {}
    mine = rows[ours]
    for label, num, den in (("naive / ours", rows["naive (scaled)"], mine),
                            ("ours / torch", mine, rows.get("torch"))):
        if den is None:
            continue
        r = (num[0] / den[0], num[1] / den[1], sum(num) / sum(den))
        ratios[label] = r
        print(f"{label:24s} fwd {r[0]:7.2f}x   bwd {r[1]:7.2f}x   fwd+bwd {r[2]:7.2f}x")
    return ratios


def bench_layer(name: str, forward, backward, naive_fwd, naive_bwd, args: tuple,
                torch_op, reps: int, naive_batch: int) -> dict:
    """Time naive (on a batch slice, scaled), ours (Cython, numpy) and torch for one layer."""
    x = args[0]
    scale = x.shape[0] / naive_batch
    naive_args = (x[:naive_batch],) + args[1:]
    t_naive = time_pair(naive_fwd, naive_bwd, naive_args, max(1, reps // 2))
    rows = {"naive (scaled)": (t_naive[0] * scale, t_naive[1] * scale)}
    if fast_layers.HAVE_CYTHON:
        fast_layers.USE_CYTHON = True
        rows["ours (Cython)"] = time_pair(forward, backward, args, reps)
    fast_layers.USE_CYTHON = False
    rows["ours (numpy fallback)"] = time_pair(forward, backward, args, reps)
    fast_layers.USE_CYTHON = fast_layers.HAVE_CYTHON
    t_torch = time_torch(torch_op, [a for a in args if isinstance(a, np.ndarray)], reps)
    if t_torch is not None:
        rows["torch"] = t_torch
    print(f"\n{name}: naive timed on {naive_batch} of {x.shape[0]} images, scaled x{scale:g}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="best of this many timings")
    parser.add_argument("--naive-batch", type=int, default=16,
                        help="images the naive layers run on (their time is scaled linearly)")
    args = parser.parse_args(argv)
    threads, how = set_threads()
    rng = np.random.default_rng(0)
    peak = sgemm_rate(args.reps)
    print(f"threads: {threads} for numpy BLAS and torch ({how}); float32; best of {args.reps}")
    print(f"sgemm 2048^3 float32: {peak:.1f} GFLOP/s;  Cython extension built: "
          f"{fast_layers.HAVE_CYTHON}")

    import torch.nn.functional as tf  # the comparison needs torch; fail clearly without it

    x = rng.standard_normal(CONV_X, dtype=np.float32)
    w = rng.standard_normal(CONV_W, dtype=np.float32)
    b = rng.standard_normal(CONV_W[0], dtype=np.float32)
    conv_rows = bench_layer(
        f"conv x{CONV_X} w{CONV_W} {CONV_PARAM}", fast_layers.conv_forward_fast,
        fast_layers.conv_backward_fast, conv_forward_naive, conv_backward_naive,
        (x, w, b, CONV_PARAM), lambda x, w, b: tf.conv2d(x, w, b, stride=1, padding=1),
        args.reps, args.naive_batch)
    N, C, H, W = CONV_X
    F, _, HH, WW = CONV_W
    flops = 2.0 * N * F * H * W * C * HH * WW  # stride 1, pad 1: Ho, Wo = H, W
    print_table("conv (GEMM work: fwd 1, bwd 2 products)", conv_rows, (flops, 2 * flops),
                "GFLOP/s", peak)
    ours = "ours (Cython)" if "ours (Cython)" in conv_rows else "ours (numpy fallback)"
    print_ratios(conv_rows, ours)

    xp = rng.standard_normal(POOL_X, dtype=np.float32)
    pool_rows = bench_layer(
        f"max pool x{POOL_X} {POOL_PARAM}", fast_layers.max_pool_forward_fast,
        fast_layers.max_pool_backward_fast, max_pool_forward_naive, max_pool_backward_naive,
        (xp, POOL_PARAM), lambda x: tf.max_pool2d(x, 2, 2), args.reps, args.naive_batch)
    # Pooling is memory-bound: report bytes moved (x and out; backward also dout and dx).
    nbytes = xp.nbytes * 1.25
    print_table("max pool (rate = bytes of inputs and outputs / time; a 2x2/2 window tiles "
                "the input, so both 'ours' rows run the numpy reshape method)", pool_rows,
                (nbytes, nbytes), "GB/s", None)
    print_ratios(pool_rows, ours)


if __name__ == "__main__":
    main()
