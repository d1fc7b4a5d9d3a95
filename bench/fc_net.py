"""Benchmark: one FullyConnectedNet training step against the same net in PyTorch.

Run from the repository root:  python bench/fc_net.py [--quick] [--repeats R]

5 hidden layers of 100, batchnorm, dropout (keep 0.5), L2 regularization, 3,072 inputs,
10 classes, batch 200, float32, on the harness (bench/harness.py), interleaved:
- ours: FullyConnectedNet.loss (forward, softmax loss, backward) then cs231n.optim.sgd on
  every parameter, as Solver._step does;
- torch: nn.Sequential of Linear, BatchNorm1d, ReLU, Dropout, then F.cross_entropy,
  backward and torch.optim.SGD (weight decay on the weights: the same gradient as our
  L2 term);
- sgemm 2048^3: the machine's float32 GEMM rate, the yardstick.
Each step is also split into its phases: loss+gradients, and the update. The same batch is
used at every step. GFLOP/s count the matrix products a step needs: forward 2 B sum(D_i D_o),
backward twice that less the input layer's dx (torch skips it; ours computes it, as the
course's affine_backward does).
Bar (issue 16): ours <= 1.5x torch's time.
"""
from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.optim import sgd

TITLE = "FullyConnectedNet training step (bench/fc_net.py)"
HIDDEN, INPUT, CLASSES, BATCH = [100] * 5, 3072, 10, 200
QUICK_HIDDEN, QUICK_INPUT, QUICK_BATCH = [8] * 2, 12, 6
KEEP, REG, LR, WEIGHT_SCALE = 0.5, 1e-3, 1e-3, 5e-2
REPEATS = 50   # a step takes milliseconds: more rounds cost little and steady the minimum


def ours_step(hidden: list[int], X: np.ndarray, y: np.ndarray):
    """Our net's step in two timed phases: 'loss+grads' and 'update' (sgd on every parameter)."""
    model = FullyConnectedNet(hidden, input_dim=X.shape[1], num_classes=CLASSES, dropout=KEEP,
                              normalization="batchnorm", reg=REG, weight_scale=WEIGHT_SCALE,
                              dtype=np.float32, seed=None)
    configs = {p: {"learning_rate": LR} for p in model.params}
    grads = {}

    def loss_and_grads():
        grads.update(model.loss(X, y)[1])

    def update():
        for p, w in model.params.items():
            model.params[p], configs[p] = sgd(w, grads[p], configs[p])
    return harness.phased(("loss+grads", loss_and_grads), ("update", update))


def torch_step(hidden: list[int], X: np.ndarray, y: np.ndarray):
    """The same net and step in PyTorch, in the same two phases."""
    import torch
    import torch.nn.functional as tf
    from torch import nn

    layers, dims = [], [X.shape[1], *hidden]
    for d_in, d_out in pairwise(dims):
        layers += [nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU(), nn.Dropout(1 - KEEP)]
    net = nn.Sequential(*layers, nn.Linear(dims[-1], CLASSES)).train()
    weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    others = [p for p in net.parameters() if all(p is not w for w in weights)]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": REG}, {"params": others}], lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss_and_grads():
        opt.zero_grad(set_to_none=True)
        tf.cross_entropy(net(Xt), yt).backward()
    return harness.phased(("loss+grads", loss_and_grads), ("update", opt.step))


def step_flops(batch: int, dims: list[int]) -> float:
    """Matrix-product flops of a training step: forward, dW of every layer, dx of all but the
    first (the input needs no gradient)."""
    forward = [2.0 * batch * d_in * d_out for d_in, d_out in pairwise(dims)]
    return harness.training_step_flops(forward)


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv, default_repeats=REPEATS)
    hidden, dim, batch = (QUICK_HIDDEN, QUICK_INPUT, QUICK_BATCH) if args.quick else (
        HIDDEN, INPUT, BATCH)
    gemm_n = harness.gemm_size(args.quick)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, dim), dtype=np.float32)
    y = rng.integers(0, CLASSES, batch)
    with harness.threads() as (n_threads, how):
        t = harness.interleaved({"ours": ours_step(hidden, X, y), "torch": torch_step(hidden, X, y),
                                 "sgemm": harness.gemm(np.float32, gemm_n)}, args.repeats)

    flops = step_flops(batch, [dim, *hidden, CLASSES])
    rate = harness.gflops(harness.gemm_flops(gemm_n), t["sgemm"].min)
    shape = f"batch {batch}, {dim}-{'-'.join(map(str, hidden))}-{CLASSES}"
    rows = [
        Row("train step (loss, grads, SGD update)", shape, t["ours"], "the same net in torch",
            t["torch"], flops=flops, gemm_rate=rate, bar="<= 1.5x torch", bar_max=1.5),
        Row("loss + gradients", shape, t["ours"].phase("loss+grads"), "forward + backward",
            t["torch"].phase("loss+grads")),
        Row("SGD update", shape, t["ours"].phase("update"), "optim.SGD.step",
            t["torch"].phase("update")),
    ]
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        f"float32; batchnorm, dropout keep {KEEP}, reg {REG}; % GEMM: of sgemm {gemm_n}^3 "
        f"timed in the same rounds"], rows))


if __name__ == "__main__":
    main()
