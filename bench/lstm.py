"""Benchmark: numpy LSTM (lstm_forward / lstm_backward) against torch.nn.LSTM on CPU.

Run from the repository root:  python bench/lstm.py [--quick] [--repeats R]

N=128, T=16, D=H=512, float32, on the harness (bench/harness.py): one process, the same
thread count for numpy's BLAS and torch, the implementations interleaved (each round
times every one, forward then backward), minimum of the rounds. Implementations:
- ours: cs231n.rnn_layers.lstm_forward / lstm_backward;
- per-step: the same maths as T calls of lstm_step_forward / lstm_step_backward, the
  weight gradients summed step by step (what a first solution does);
- torch: torch.nn.LSTM (batch_first) forward, then backward of sum(h * dh), with
  gradients for x, h0 and the weights, as ours computes;
- sgemm 2048^3: the machine's float32 GEMM rate, the yardstick.
The LSTM is matrix products in disguise: forward 2 N T (D + H) 4H flops, backward
twice that (dx and dWx, dh and dWh), reported as GFLOP/s and as a share of sgemm.
Bar (issue 12): ours <= 2x torch's time, forward + backward.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n.rnn_layers import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward

TITLE = "LSTM forward + backward (bench/lstm.py)"
SIZES = (128, 16, 512, 512)      # N, T, D, H
QUICK_SIZES = (2, 3, 4, 5)


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


def torch_pair(x, h0, Wx, Wh, b, dh):
    """torch.nn.LSTM with our weights: forward, then backward of sum(h * dh), as phases."""
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
    outs = []

    def fwd():
        for p in (xt, h0t, *lstm.parameters()):
            p.grad = None          # as a training step does: no accumulation into old grads
        outs.append(lstm(xt, (h0t, c0t))[0])

    def bwd():
        outs.pop().backward(dht)
    return harness.phased(("fwd", fwd), ("bwd", bwd))


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv)
    N, T, D, H = QUICK_SIZES if args.quick else SIZES
    gemm_n = harness.gemm_size(args.quick)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    h0 = rng.standard_normal((N, H), dtype=np.float32)
    Wx = rng.standard_normal((D, 4 * H), dtype=np.float32) / np.float32(np.sqrt(D))
    Wh = rng.standard_normal((H, 4 * H), dtype=np.float32) / np.float32(np.sqrt(H))
    b = rng.standard_normal(4 * H, dtype=np.float32)
    dh = rng.standard_normal((N, T, H), dtype=np.float32)
    inputs = (x, h0, Wx, Wh, b)
    with harness.threads() as (n_threads, how):
        t = harness.interleaved({
            "ours": harness.forward_backward(lstm_forward, lstm_backward, inputs, dh),
            "per-step": harness.forward_backward(per_step_forward, per_step_backward, inputs,
                                                 dh),
            "torch": torch_pair(x, h0, Wx, Wh, b, dh),
            "sgemm": harness.gemm(np.float32, gemm_n),
        }, args.repeats)

    flops = 2.0 * N * T * (D + H) * 4 * H       # forward; backward twice that
    rate = harness.gflops(harness.gemm_flops(gemm_n), t["sgemm"].min)
    shape = f"N={N} T={T} D={D} H={H}"
    rows = [
        Row("lstm fwd+bwd", shape, t["ours"], "torch.nn.LSTM + autograd", t["torch"],
            flops=3 * flops, gemm_rate=rate, bar="<= 2x torch (issue 12)", bar_max=2.0),
        Row("lstm fwd", shape, t["ours"].phase("fwd"), "torch.nn.LSTM", t["torch"].phase("fwd"),
            flops=flops, gemm_rate=rate),
        Row("lstm bwd", shape, t["ours"].phase("bwd"), "autograd", t["torch"].phase("bwd"),
            flops=2 * flops, gemm_rate=rate),
        Row("lstm fwd+bwd", shape, t["ours"], "T calls of the step functions", t["per-step"]),
    ]
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        f"float32; % GEMM: of sgemm {gemm_n}^3 timed in the same rounds"], rows))


if __name__ == "__main__":
    main()
