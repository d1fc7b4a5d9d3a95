"""Benchmark: numpy DeepConvNet training iterations with the ConvolutionalNetworks recipe.

Run from the repository root:  python bench/deepconvnet.py [--quick] [--repeats R]

assignment2/ConvolutionalNetworks.ipynb trains DeepConvNet(num_filters=(32, 64, 128),
reg=5e-4) with Solver(batch_size=64, update_rule='adam', learning_rate 1e-3, lr_decay 0.6,
augment_fn=flip_and_translate(max_shift=2)) for 6 epochs of 49,000 images. This times
`Solver._step` of that model and solver (sample a batch, augment it, loss and gradients,
Adam on every parameter) for a fixed number of iterations, on the harness
(bench/harness.py), interleaved with a 2048^3 sgemm as the yardstick, and extrapolates one
epoch and the notebook's 6 epochs. The training images are random (float64, as
get_CIFAR10_data gives them): the time does not depend on them. Not counted: the accuracy
checks the Solver runs at each epoch end (a forward pass over 2,000 images).
No bar (issue 16): its wall time is recorded.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n.classifiers.cnn import DeepConvNet
from cs231n.data_augmentation import flip_and_translate
from cs231n.solver import Solver

TITLE = "DeepConvNet training, the ConvolutionalNetworks recipe (bench/deepconvnet.py)"
ITERATIONS = 20                  # timed iterations (rounds) of a full run
TRAIN_IMAGES, EPOCHS = 49_000, 6  # the notebook's training set and epochs
FILTERS, BATCH, INPUT = (32, 64, 128), 64, (3, 32, 32)
QUICK_FILTERS, QUICK_BATCH, QUICK_INPUT = (2, 4), 4, (3, 8, 8)
POOL_IMAGES = 256                # images the Solver samples its batches from


def make_solver(filters: tuple, batch: int, input_dim: tuple) -> Solver:
    """The notebook's model and Solver, on random images."""
    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((POOL_IMAGES, *input_dim)),
            "y_train": rng.integers(0, 10, POOL_IMAGES),
            "X_val": rng.standard_normal((batch, *input_dim)),
            "y_val": rng.integers(0, 10, batch)}
    model = DeepConvNet(input_dim=input_dim, num_filters=filters, reg=5e-4, seed=0)
    return Solver(model, data, num_epochs=EPOCHS, batch_size=batch, update_rule="adam",
                  optim_config={"learning_rate": 1e-3}, lr_decay=0.6,
                  augment_fn=flip_and_translate(max_shift=2), verbose=False)


def step_flops(model: DeepConvNet, batch: int) -> float:
    """Matrix-product flops of a training iteration: each layer's forward product, and dW
    and dx in backward (twice the forward), less the input's dx (not needed)."""
    _, H, W = model.input_dim
    forward = []
    for layer in range(1, model.num_layers + 1):
        w = model.params[f"W{layer}"]
        if w.ndim == 4:   # a 3x3 conv at the size left after the pools of earlier blocks
            pools = (layer - 1) // model.convs_per_block
            forward.append(2.0 * batch * (H >> pools) * (W >> pools) * w.size)
        else:
            forward.append(2.0 * batch * w.size)
    return harness.training_step_flops(forward)


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv, default_repeats=ITERATIONS)
    filters, batch, input_dim = (QUICK_FILTERS, QUICK_BATCH, QUICK_INPUT) if args.quick else (
        FILTERS, BATCH, INPUT)
    gemm_n = harness.gemm_size(args.quick)
    np.random.seed(0)   # the Solver samples batches and augments from the global np.random
    solver = make_solver(filters, batch, input_dim)
    with harness.threads() as (n_threads, how):
        t = harness.interleaved({"ours": solver._step, "sgemm": harness.gemm(np.float32, gemm_n)},
                                args.repeats, warmup=2)

    rate = harness.gflops(harness.gemm_flops(gemm_n), t["sgemm"].min)
    per_epoch = max(TRAIN_IMAGES // batch, 1)     # as Solver: num_train // batch_size
    shape = f"batch {batch}, {solver.model.architecture()}"
    rows = [
        Row("training iteration (Solver._step)", shape, t["ours"],
            flops=step_flops(solver.model, batch), gemm_rate=rate),
        Row(f"1 epoch ({TRAIN_IMAGES:,} images, {per_epoch} iterations), extrapolated",
            shape, harness.scaled(t["ours"], per_epoch)),
        Row(f"the notebook's {EPOCHS} epochs, extrapolated", shape,
            harness.scaled(t["ours"], EPOCHS * per_epoch),
            note="the notebook's run adds its accuracy checks; its own bar is 3600 s "
                 "(assert in the notebook)"),
    ]
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        "float32 model, float64 images; adam, flip + translate; the extrapolations scale the "
        "minimum (the median is the + figure)",
        f"% GEMM: of sgemm {gemm_n}^3 timed in the same rounds"], rows))


if __name__ == "__main__":
    main()
