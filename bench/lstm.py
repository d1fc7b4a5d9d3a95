"""Benchmark: numpy LSTM (lstm_forward / lstm_backward) against torch.nn.LSTM on CPU.

Run from the repository root:  python bench/lstm.py   (or  python -m bench.lstm)
Options: --reps R (rounds, default 15), --n/--t/--d/--h (default N=128, T=16,
D=H=512), --no-steps (skip the per-step baseline).

Everything runs in ONE process with the same thread count for numpy's BLAS and torch
(set as bench/conv.py does), float32. The implementations are INTERLEAVED: each round
times every row once, forward then backward, so a burst of load from other processes
hits all rows alike; each row reports its minimum over the rounds (noise only adds
time) and the spread, median / minimum. Rows:
- ours: cs231n.rnn_layers.lstm_forward / lstm_backward;
- per-step: the same math as T calls of lstm_step_forward / lstm_step_backward, the
  weight gradients summed step by step (what a first solution does);
- torch: torch.nn.LSTM (batch_first) forward, then backward of sum(h * dh), with
  gradients for x, h0 and the weights, as ours computes;
- sgemm: a 2048^3 float32 matrix product, the machine's physical yardstick.
The LSTM is matrix products in disguise: forward 2 N T (D + H) 4H flops, backward
twice that (dx and dWx, dh and dWh), reported as GFLOP/s and as a share of sgemm.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.conv import set_threads
from cs231n.rnn_layers import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward


def per_step_forward(x, h0, Wx, Wh, b):
    """LSTM over a sequence by T calls of lstm_step_forward (the baseline)."""
    N, T, _ = x.shape
    h, c = h0, np.zeros_like(h0)
    hs, caches = np.empty((N, T, h0.shape[1]), dtype=x.dtype), []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs[:, t] = h
        caches.append(cache)
    return hs, caches


def per_step_backward(dh, caches):
    """Backward of per_step_forward, weight gradients accumulated step by step."""
    N, T, H = dh.shape
    dnext_h = np.zeros((N, H), dtype=dh.dtype)
    dnext_c = np.zeros_like(dnext_h)
    dx = None
    for t in reversed(range(T)):
        dxt, dnext_h, dnext_c, dWxt, dWht, dbt = lstm_step_backward(
            dh[:, t] + dnext_h, dnext_c, caches[t])
        if dx is None:
            dx = np.empty((N, T, dxt.shape[1]), dtype=dxt.dtype)
            dWx, dWh, db = dWxt, dWht, dbt
        else:
            dWx += dWxt
            dWh += dWht
            db += dbt
        dx[:, t] = dxt
    return dx, dnext_h, dWx, dWh, db


def numpy_pair(forward, backward, args, dh):
    """A timed round of a numpy forward and backward: returns (t_fwd, t_bwd)."""
    def run():
        start = time.perf_counter()
        _, cache = forward(*args)
        mid = time.perf_counter()
        backward(dh, cache)
        return mid - start, time.perf_counter() - mid
    return run


def torch_pair(x, h0, Wx, Wh, b, dh):
    """A timed round of torch.nn.LSTM forward and backward, with our weights."""
    import torch

    D, H = x.shape[2], h0.shape[1]
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]       # ours i, f, o, g -> torch i, f, g, o
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wx[:, order].T)))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wh[:, order].T)))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b[order]))
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0)[None].requires_grad_()
    c0t = torch.zeros_like(h0t)
    dht = torch.from_numpy(dh)

    def run():
        for p in (xt, h0t, *lstm.parameters()):
            p.grad = None          # as a training step does: no accumulation into old grads
        start = time.perf_counter()
        out, _ = lstm(xt, (h0t, c0t))
        mid = time.perf_counter()
        out.backward(dht)
        return mid - start, time.perf_counter() - mid
    return run


def sgemm_round():
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)

    def run():
        start = time.perf_counter()
        a @ a
        return time.perf_counter() - start, 0.0
    return run


def interleaved(rows: dict, reps: int) -> dict:
    """Run every row once per round (after one warm-up round); return name -> list of times."""
    for run in rows.values():
        run()
    times = {name: [] for name in rows}
    for _ in range(reps):
        for name, run in rows.items():
            times[name].append(run())
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="interleaved rounds (>= 15)")
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--t", type=int, default=16)
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument("--h", type=int, default=512)
    parser.add_argument("--no-steps", action="store_true", help="skip the per-step baseline")
    args = parser.parse_args(argv)
    threads, how = set_threads()
    import torch  # the comparison needs torch; fail clearly without it

    N, T, D, H = args.n, args.t, args.d, args.h
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    h0 = rng.standard_normal((N, H), dtype=np.float32)
    Wx = rng.standard_normal((D, 4 * H), dtype=np.float32) / np.float32(np.sqrt(D))
    Wh = rng.standard_normal((H, 4 * H), dtype=np.float32) / np.float32(np.sqrt(H))
    b = rng.standard_normal(4 * H, dtype=np.float32)
    dh = rng.standard_normal((N, T, H), dtype=np.float32)

    rows = {"ours": numpy_pair(lstm_forward, lstm_backward, (x, h0, Wx, Wh, b), dh)}
    if not args.no_steps:
        rows["per-step"] = numpy_pair(per_step_forward, per_step_backward, (x, h0, Wx, Wh, b), dh)
    rows["torch"] = torch_pair(x, h0, Wx, Wh, b, dh)
    rows["sgemm 2048^3"] = sgemm_round()
    times = interleaved(rows, args.reps)

    flops_f = 2.0 * N * T * (D + H) * 4 * H
    flops = {"fwd": flops_f, "bwd": 2 * flops_f, "f+b": 3 * flops_f}
    peak = 2 * 2048 ** 3 / min(t[0] for t in times["sgemm 2048^3"]) / 1e9
    print(f"threads: {threads} for numpy BLAS and torch ({how}); float32; "
          f"{args.reps} interleaved rounds, minimum (spread = median / minimum)")
    print(f"LSTM N={N} T={T} D={D} H={H}; sgemm 2048^3 float32: {peak:.1f} GFLOP/s; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"\n{'':10s} {'fwd ms':>8s} {'bwd ms':>8s} {'f+b ms':>8s} {'spread':>7s}   "
          f"{'GFLOP/s f+b':>11s} {'% sgemm':>8s}")
    best = {}
    for name, ts in times.items():
        if name.startswith("sgemm"):
            continue
        fb = [f + b for f, b in ts]
        best[name] = (min(f for f, _ in ts), min(b for _, b in ts), min(fb))
        rate = flops["f+b"] / best[name][2] / 1e9
        print(f"{name:10s} {best[name][0] * 1e3:8.2f} {best[name][1] * 1e3:8.2f} "
              f"{best[name][2] * 1e3:8.2f} {statistics.median(fb) / min(fb):6.2f}x   "
              f"{rate:11.1f} {100 * rate / peak:7.0f}%")
    sg = [f for f, _ in times["sgemm 2048^3"]]
    print(f"{'sgemm':10s} {min(sg) * 1e3:8.2f} {'':8s} {'':8s} "
          f"{statistics.median(sg) / min(sg):6.2f}x")
    ratios = {}
    for other in ("torch", "per-step"):
        if other not in best:
            continue
        num, den = (best["ours"], best[other]) if other == "torch" else (best[other], best["ours"])
        label = "ours / torch" if other == "torch" else "per-step / ours"
        r = tuple(n / d for n, d in zip(num, den, strict=True))
        ratios[label] = r
        print(f"{label:16s} fwd {r[0]:5.2f}x   bwd {r[1]:5.2f}x   fwd+bwd {r[2]:5.2f}x")
    return ratios


if __name__ == "__main__":
    main()
