"""Benchmark: fast conv and max-pool layers (forward + backward) against PyTorch CPU.

Run from the repository root:  python bench/conv.py [--quick] [--repeats R]

float32, on the harness (bench/harness.py): one process, the same thread count for
numpy's BLAS and torch, the implementations interleaved, minimum of the rounds. Per layer:
- ours: conv_forward_fast / conv_backward_fast (Cython im2col/col2im when built) and
  max_pool_forward_fast / max_pool_backward_fast;
- ours with the numpy fallback kernels (when the Cython extension is built);
- torch: F.conv2d / F.max_pool2d forward, then autograd backward of the same upstream
  gradient, with gradients for x, w and b as ours computes;
- sgemm 2048^3: the machine's float32 GEMM rate, the yardstick (a conv is three GEMMs:
  the forward product, dw and dx, plus im2col / col2im);
- naive: the four-loop layers on a slice of the batch (3 rounds, scaled; not interleaved:
  one round costs seconds).
Bars (issue 16): conv fwd+bwd <= 1.1x torch's time (both shapes); max pool fwd+bwd <= 1.1x,
backward alone <= 2x.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n import fast_layers
from cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

TITLE = "Convolution and max pooling, forward + backward (bench/conv.py)"
CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}
# (name, x shape, w shape): a middle layer, and DeepConvNet's first layer (3 channels).
CONVS = [("conv 3x3", (64, 32, 32, 32), (64, 32, 3, 3)),
         ("conv 3x3, first layer", (64, 3, 32, 32), (32, 3, 3, 3))]
POOL_X = (64, 64, 32, 32)
QUICK_CONVS = [("conv 3x3", (2, 4, 8, 8), (4, 4, 3, 3)),
               ("conv 3x3, first layer", (2, 3, 8, 8), (4, 3, 3, 3))]
QUICK_POOL_X = (2, 4, 8, 8)
NAIVE_IMAGES, NAIVE_ROUNDS = 2, 3   # the naive layers' slice of the batch and their rounds


def numpy_layer(forward, backward, args: tuple, dout: np.ndarray, cython: bool | None = None):
    """A numpy layer's forward then backward, timed as phases 'fwd' and 'bwd'.

    cython: True/False selects fast_layers' kernels for this implementation's calls (the
    flag is module-wide, so each call sets it); None leaves it alone.
    """
    def select_kernels():
        fast_layers.USE_CYTHON = cython
    return harness.forward_backward(forward, backward, args, dout,
                                    before=None if cython is None else select_kernels)


def torch_layer(op, arrays: list[np.ndarray], dout: np.ndarray):
    """A torch op's forward, then autograd backward of dout, as phases 'fwd' and 'bwd'.

    Every input requires a gradient (x included), as our backward computes dx, dw and db.
    """
    import torch

    tensors = [torch.from_numpy(a).requires_grad_() for a in arrays]
    grad = torch.from_numpy(dout)
    outs = []

    def fwd():
        for t in tensors:
            t.grad = None      # as a training step does: no accumulation into old grads
        outs.append(op(*tensors))

    def bwd():
        outs.pop().backward(grad)
    return harness.phased(("fwd", fwd), ("bwd", bwd))


def time_naive(forward, backward, args: tuple, dout: np.ndarray, images: int) -> harness.Timing:
    """The naive layer on the first `images` images (NAIVE_ROUNDS rounds), scaled to the batch."""
    batch = args[0].shape[0]
    images = min(images, batch)
    impl = numpy_layer(forward, backward, (args[0][:images],) + args[1:], dout[:images])
    timing = harness.interleaved({"naive": impl}, NAIVE_ROUNDS, warmup=0)["naive"]
    return harness.scaled(timing, batch / images)


def naive_label(what: str, batch: int) -> str:
    """The reference name of a naive layer timed on a slice: says the slice and the scaling."""
    images = min(NAIVE_IMAGES, batch)
    return f"{what} ({images} of {batch} images, {NAIVE_ROUNDS} rounds, x{batch / images:g})"


def layer_impls(forward, backward, args: tuple, dout: np.ndarray, torch_op, gemm_n: int) -> dict:
    """The interleaved implementations of one layer: ours (and the numpy fallback), torch, sgemm."""
    impls = {"ours": numpy_layer(forward, backward, args, dout, cython=fast_layers.HAVE_CYTHON)}
    if fast_layers.HAVE_CYTHON:
        impls["numpy fallback"] = numpy_layer(forward, backward, args, dout, cython=False)
    impls["torch"] = torch_layer(torch_op, [a for a in args if isinstance(a, np.ndarray)], dout)
    impls["sgemm"] = harness.gemm(np.float32, gemm_n)
    return impls


def conv_rows(name: str, x_shape: tuple, w_shape: tuple, repeats: int, gemm_n: int,
              rng: np.random.Generator) -> list[Row]:
    """Rows for one conv shape: fwd+bwd (the bar), fwd, bwd, the numpy fallback, naive."""
    import torch.nn.functional as tf

    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    N, _, H, W = x_shape
    dout = rng.standard_normal((N, w_shape[0], H, W), dtype=np.float32)  # stride 1, pad 1
    args = (x, w, b, CONV_PARAM)
    impls = layer_impls(fast_layers.conv_forward_fast, fast_layers.conv_backward_fast, args,
                        dout, lambda x, w, b: tf.conv2d(x, w, b, stride=1, padding=1), gemm_n)
    t = harness.interleaved(impls, repeats)
    naive = time_naive(conv_forward_naive, conv_backward_naive, args, dout, NAIVE_IMAGES)

    flops = 2.0 * N * H * W * int(np.prod(w_shape))   # the forward GEMM; backward: 2 of them
    rate = harness.gflops(harness.gemm_flops(gemm_n), t["sgemm"].min)
    shape = harness.shape_str(x_shape, w_shape)
    rows = [
        Row(f"{name} fwd+bwd", shape, t["ours"], "F.conv2d + autograd", t["torch"],
            flops=3 * flops, gemm_rate=rate, bar="<= 1.1x torch", bar_max=1.1),
        Row(f"{name} fwd", shape, t["ours"].phase("fwd"), "F.conv2d", t["torch"].phase("fwd"),
            flops=flops, gemm_rate=rate),
        Row(f"{name} bwd", shape, t["ours"].phase("bwd"), "autograd",
            t["torch"].phase("bwd"), flops=2 * flops, gemm_rate=rate),
    ]
    if "numpy fallback" in t:
        rows.append(Row(f"{name} fwd+bwd, numpy fallback kernels", shape, t["numpy fallback"],
                        "F.conv2d + autograd", t["torch"], flops=3 * flops, gemm_rate=rate))
    rows.append(Row(f"{name} fwd+bwd", shape, t["ours"], naive_label("naive four loops", N),
                    naive))
    return rows


def pool_rows(x_shape: tuple, repeats: int, gemm_n: int, rng: np.random.Generator) -> list[Row]:
    """Rows for max pool 2x2/2: fwd+bwd and backward alone (the bars), fwd, naive."""
    import torch.nn.functional as tf

    x = rng.standard_normal(x_shape, dtype=np.float32)
    N, C, H, W = x_shape
    dout = rng.standard_normal((N, C, H // 2, W // 2), dtype=np.float32)
    args = (x, POOL_PARAM)
    impls = layer_impls(fast_layers.max_pool_forward_fast, fast_layers.max_pool_backward_fast,
                        args, dout, lambda x: tf.max_pool2d(x, 2, 2), gemm_n)
    impls.pop("numpy fallback", None)   # a 2x2/2 window tiles the input: no kernels involved
    impls.pop("sgemm")                  # pooling is memory-bound: no GEMM yardstick
    t = harness.interleaved(impls, repeats)
    naive = time_naive(max_pool_forward_naive, max_pool_backward_naive, args, dout, NAIVE_IMAGES)
    shape = f"{harness.shape_str(x_shape)}, 2x2 stride 2"
    return [
        Row("max pool fwd+bwd", shape, t["ours"], "F.max_pool2d + autograd", t["torch"],
            bar="<= 1.1x torch", bar_max=1.1),
        Row("max pool bwd", shape, t["ours"].phase("bwd"), "autograd", t["torch"].phase("bwd"),
            bar="<= 2x torch", bar_max=2.0),
        Row("max pool fwd", shape, t["ours"].phase("fwd"), "F.max_pool2d",
            t["torch"].phase("fwd")),
        Row("max pool fwd+bwd", shape, t["ours"], naive_label("naive loops", N), naive),
    ]


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv)
    convs, pool_x = (QUICK_CONVS, QUICK_POOL_X) if args.quick else (CONVS, POOL_X)
    gemm_n = harness.gemm_size(args.quick)
    rng = np.random.default_rng(0)
    rows = []
    with harness.threads() as (n_threads, how):
        try:
            for name, x_shape, w_shape in convs:
                rows += conv_rows(name, x_shape, w_shape, args.repeats, gemm_n, rng)
            rows += pool_rows(pool_x, args.repeats, gemm_n, rng)
        finally:
            fast_layers.USE_CYTHON = fast_layers.HAVE_CYTHON
    kernels = ("the Cython im2col/col2im kernels" if fast_layers.HAVE_CYTHON
               else "the numpy im2col/col2im (Cython extension not built)")
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        f"float32; ours: conv with {kernels}, max pool 2x2/2 by the reshape method; "
        f"% GEMM: of sgemm {gemm_n}^3 timed in the same rounds"], rows))


if __name__ == "__main__":
    main()
