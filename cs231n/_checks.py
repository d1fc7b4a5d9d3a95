"""Input checks shared by the layers, the fast layers, im2col and the classifiers.

Each check raises a ValueError that says what was wrong (names, shapes, the formula that
failed) instead of letting a bad argument surface as a traceback deep inside numpy. They
are not part of the students' work, so the modules call them outside the YOUR CODE markers;
each check lives here once.

Glossary: N batch, C channels, H/W height/width, F filters, HH/WW filter (or pool window)
height/width, Ho/Wo output height/width.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def check_int(value: Any, name: str, minimum: int = 1, maximum: int | None = None,
              maximum_name: str = "the largest allowed value") -> int:
    """Check that value is an integer (not a bool) in [minimum, maximum]; return it as int."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not is_int or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} is larger than {maximum_name} ({maximum})")
    return int(value)


def check_ndim(name: str, arr: Any, ndim: int, layout: str) -> None:
    """Check that arr has ndim dimensions; layout names them, e.g. '(N, C, H, W)'."""
    if np.ndim(arr) != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array {layout}, got shape {np.shape(arr)}")


def check_shape(name: str, arr: Any, shape: tuple, hint: str = "") -> None:
    """Check that arr has exactly the given shape; hint says why, e.g. ' (one bias per filter)'."""
    if np.shape(arr) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}{hint}, got {np.shape(arr)}")


def check_dout(dout: Any, expected: tuple, layer: str) -> np.ndarray:
    """Check that an upstream derivative has the shape of the forward output; return it."""
    dout = np.asarray(dout)
    if dout.shape != tuple(expected):
        raise ValueError(f"{layer}: dout has shape {dout.shape} but the forward output had "
                         f"shape {tuple(expected)}; pass the cache of the matching forward call")
    return dout


def check_keys(param: dict, name: str, required: tuple[str, ...]) -> None:
    """Check that the parameter dict `name` (e.g. conv_param) has every required key."""
    missing = [key for key in required if key not in param]
    if missing:
        raise ValueError(f"{name} is missing {missing}; it needs the keys {list(required)}, "
                         f"got {sorted(param)}")


def conv_output_size(H: int, W: int, HH: int, WW: int, pad: int, stride: int,
                     what: str = "conv") -> tuple[int, int]:
    """Output size of a HH x WW window sliding with `stride` over a H x W input padded by `pad`.

    Inputs:
    - H, W: input height and width
    - HH, WW: window (filter or pool) height and width
    - pad: zeros added on each side of both spatial axes
    - stride: step between windows
    - what: layer name used in the error messages

    Returns:
    - (Ho, Wo) = (1 + (H + 2*pad - HH) / stride, 1 + (W + 2*pad - WW) / stride)

    Raises ValueError unless both are positive integers (the windows tile the input).
    """
    check_int(stride, f"{what}: stride")
    check_int(pad, f"{what}: pad", minimum=0)
    check_int(HH, f"{what}: window height")
    check_int(WW, f"{what}: window width")
    return (_positions(H, HH, pad, stride, f"{what} height"),
            _positions(W, WW, pad, stride, f"{what} width"))


def _positions(size: int, window: int, pad: int, stride: int, what: str) -> int:
    """Window positions along one axis, 1 + (size + 2*pad - window) / stride, if an integer."""
    span = size + 2 * pad - window
    if span < 0:
        raise ValueError(f"{what}: a window of size {window} does not fit in an input of "
                         f"size {size} padded by {pad} on each side")
    if span % stride:
        raise ValueError(
            f"{what}: output size 1 + (size + 2*pad - window) / stride = "
            f"1 + ({size} + 2*{pad} - {window}) / {stride} = {1 + span / stride:g} is not a "
            f"positive integer; change pad or stride (or the input size) so that {stride} "
            f"divides {span}")
    return 1 + span // stride


def check_conv_inputs(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[int, int, int, int]:
    """Check the inputs of a convolution; return (stride, pad, Ho, Wo).

    Inputs:
    - x: (N, C, H, W) input data
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': int, 'pad': int}
    """
    check_ndim("conv: x", x, 4, "(N, C, H, W)")
    check_ndim("conv: w", w, 4, "(F, C, HH, WW)")
    (_, C, H, W), (F, C_w, HH, WW) = np.shape(x), np.shape(w)
    if C != C_w:
        raise ValueError(f"conv: x has {C} channels but w expects {C_w} (x {np.shape(x)}, "
                         f"w {np.shape(w)}); x (N, C, H, W) and w (F, C, HH, WW) need the same C")
    check_shape("conv: b", b, (F,), " (one bias per filter)")
    check_keys(conv_param, "conv_param", ("stride", "pad"))
    stride, pad = conv_param["stride"], conv_param["pad"]
    Ho, Wo = conv_output_size(H, W, HH, WW, pad, stride, "conv")
    return stride, pad, Ho, Wo


def check_pool_inputs(x: Any, pool_param: dict) -> tuple[int, int, int, int, int]:
    """Check the inputs of a max pool (no padding); return (pool_height, pool_width, stride, Ho, Wo).

    Inputs:
    - x: (N, C, H, W) input data
    - pool_param: {'pool_height': int, 'pool_width': int, 'stride': int}
    """
    check_ndim("max pool: x", x, 4, "(N, C, H, W)")
    check_keys(pool_param, "pool_param", ("pool_height", "pool_width", "stride"))
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H, W = np.shape(x)[2:]
    Ho, Wo = conv_output_size(H, W, ph, pw, 0, stride, "max pool")
    return ph, pw, stride, Ho, Wo
