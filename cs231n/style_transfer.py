"""Style transfer: the NumPy-only parts shared by `style_transfer_pytorch` and
`style_transfer_tensorflow`: the course's settings, image loading, input checks, the random
start and the learning-rate schedule.

Both frameworks load the images the same way, start from the same image and follow the same
schedule, so their transfers can be compared; neither framework module imports the other.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cs231n import config
from cs231n._checks import check_int
from cs231n.classifiers.squeezenet_weights import FEATURE_LAYERS
from cs231n.image_utils import load_image, resize_shorter_side

NUM_LAYERS = len(FEATURE_LAYERS)  # SqueezeNet's feature layers 0..12: the valid layer indices
MIN_SIZE = 32                     # the smallest image every feature layer has an output for

# The course's optimisation: Adam at learning rate 3.0 for 180 steps, then a fresh Adam at 0.1
# for the last 20; pixels are clamped to [-1.5, 1.5] (normalized units) before each of the first
# 190 steps, so the image cannot run off while the learning rate is large.
INITIAL_LR, DECAYED_LR = 3.0, 0.1
NUM_STEPS, DECAY_LR_AT, CLAMP_UNTIL, CLAMP = 200, 180, 190, 1.5

_TUBINGEN = dict(content_image="styles/tubingen.jpg", image_size=192, content_layer=3,
                 style_layers=(1, 4, 6, 7))
# The course's compositions (StyleTransfer notebooks, 2018), with its layers and weights.
COURSE_PARAMS: dict[str, dict] = {
    "composition_vii": dict(_TUBINGEN, style_image="styles/composition_vii.jpg", style_size=512,
                            content_weight=5e-2, style_weights=(20000, 500, 12, 1),
                            tv_weight=5e-2),
    "the_scream": dict(_TUBINGEN, style_image="styles/the_scream.jpg", style_size=224,
                       content_weight=3e-2, style_weights=(200000, 800, 12, 1), tv_weight=2e-2),
    "starry_night": dict(_TUBINGEN, style_image="styles/starry_night.jpg", style_size=192,
                         content_weight=6e-2, style_weights=(300000, 1000, 15, 3),
                         tv_weight=2e-2),
    # feature inversion: no style at all, from noise: what does layer 3 keep of the photo?
    "feature_inversion": dict(_TUBINGEN, style_image="styles/starry_night.jpg", style_size=192,
                              content_weight=6e-2, style_weights=(0, 0, 0, 0), tv_weight=2e-2,
                              init_random=True),
    # texture synthesis: no content, from noise: the style's statistics alone
    "texture_synthesis": dict(_TUBINGEN, style_image="styles/starry_night.jpg", style_size=192,
                              content_weight=0.0, style_weights=(300000, 1000, 15, 3),
                              tv_weight=2e-2, init_random=True),
}


# The course's check values (style-transfer-checks.npz for PyTorch, -tf.npz for TensorFlow; the
# scalars are quoted here, the Gram matrix gm_out only in the files). cl_out, gm_out and sl_out
# were computed with torchvision's SqueezeNet weights and do not apply to DeepScale's weights used
# here; tv_out depends only on the image and its preprocessing.
COURSE_CHECK_FILES = {"pytorch": "checks/style-transfer-checks.npz",
                      "tensorflow": "checks/style-transfer-checks-tf.npz"}
COURSE_CHECKS = {"pytorch": {"cl_out": 32436.986, "sl_out": 44512.29, "tv_out": 303.47},
                 "tensorflow": {"cl_out": 32448.51, "sl_out": 44961.516, "tv_out": 303.46994}}
COURSE_TV_OUT = COURSE_CHECKS["pytorch"]["tv_out"]


def load_course_checks(framework: str) -> dict[str, np.ndarray] | None:
    """The course's style-transfer check values for 'pytorch' or 'tensorflow' (cl_out, gm_out,
    sl_out, tv_out), from the full data's checks/ folder ($CS231N_DATA, ...), or None where it is
    not found (the embedded bundle does not carry it; COURSE_CHECKS quotes its scalars)."""
    path = config.find_full_data(COURSE_CHECK_FILES[framework])
    if path is None:
        return None
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


class TransferResult(NamedTuple):
    """What `style_transfer` returns.

    - image: (H, W, 3) uint8, the final image (stretched to the full range, as the course showed it)
    - losses: {'total', 'content', 'style', 'tv'}: one float per step, before that step's update
    - snapshots: {step: (H, W, 3) uint8 image before that step}
    - seconds: wall time of the optimisation (not of loading the images)
    """
    image: np.ndarray
    losses: dict[str, list[float]]
    snapshots: dict[int, np.ndarray]
    seconds: float


def load_style_image(image, size: int) -> np.ndarray:
    """A content or style image as uint8 RGB (H, W, 3), its shorter side resized to `size`.

    Inputs:
    - image: a file path, a course name ('styles/tubingen.jpg' or 'tubingen.jpg', found like
      `image_utils.find_image`), or a uint8 RGB array
    - size: the shorter side in pixels (at least MIN_SIZE)
    Resized by bilinear resampling as the course did (`image_utils.resize_shorter_side`).
    """
    size = check_int(size, "image size", minimum=MIN_SIZE)
    if isinstance(image, (str, Path)):
        path = Path(image)
        image = load_image(path if path.is_file() else path.name)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"style transfer: expected an image file or a uint8 RGB image (H, W, 3), "
                         f"got {image.dtype} {image.shape}")
    return resize_shorter_side(image, size)


def check_layer(name: str, index) -> int:
    """Check a feature-layer index: an integer in 0..12. Returns it as int."""
    return check_int(index, name, minimum=0, maximum=NUM_LAYERS - 1,
                     maximum_name="the last SqueezeNet feature layer")


def check_style_layers(style_layers: Sequence, style_weights: Sequence,
                       style_targets: Sequence | None = None, num_feats: int = NUM_LAYERS) -> None:
    """Check style_layers (indices into the feature list) against their weights (and targets):
    every index in 0..num_feats-1, and one weight (and one target) per layer."""
    for i in style_layers:
        check_int(i, "style layer index", minimum=0, maximum=num_feats - 1,
                  maximum_name=f"the last of the {num_feats} feature layers")
    others = {"style_weights": style_weights}
    if style_targets is not None:
        others["style_targets"] = style_targets
    for other, values in others.items():
        if len(values) != len(style_layers):
            raise ValueError(f"style loss: {len(style_layers)} style_layers {list(style_layers)} "
                             f"but {len(values)} {other}; give one per layer")


def check_same_shape(name: str, shape_a, shape_b) -> None:
    """Check that two feature maps (or Gram matrices) have the same shape."""
    if tuple(shape_a) != tuple(shape_b):
        raise ValueError(f"{name}: shapes differ, {tuple(shape_a)} and {tuple(shape_b)}; both must "
                         "come from the same layer of images of the same size")


def check_tv_image(shape, is_float: bool, dtype, layout: str) -> None:
    """Check the image of tv_loss: one float RGB image, (1, 3, H, W) or (1, H, W, 3)."""
    shape = tuple(int(s) for s in shape)
    dims = "(1, 3, H, W)" if layout == "NCHW" else "(1, H, W, 3)"
    channels = 1 if layout == "NCHW" else 3
    if len(shape) != 4 or shape[0] != 1 or shape[channels] != 3:
        raise ValueError(f"tv_loss: expected one RGB image {dims}, got shape {shape}")
    if not is_float:
        raise ValueError(f"tv_loss: expected a float image (normalized pixels), got {dtype}")


def random_start(height: int, width: int, seed: int | None = 0) -> np.ndarray:
    """The course's random start: uniform [0, 1) in normalized units, (1, height, width, 3)
    float32 (channels last; PyTorch transposes it, so both frameworks start alike)."""
    return np.random.default_rng(seed).uniform(0, 1, size=(1, height, width, 3)).astype(np.float32)


def schedule(num_steps: int = NUM_STEPS, decay_lr_at: int | None = None,
             clamp_until: int | None = None) -> tuple[int, int, int]:
    """(num_steps, decay_lr_at, clamp_until), the course's 200 / 180 / 190 scaled to num_steps
    when the last two are None (a quick run keeps the same shape of schedule)."""
    num_steps = check_int(num_steps, "num_steps")
    decay = round(num_steps * DECAY_LR_AT / NUM_STEPS) if decay_lr_at is None else decay_lr_at
    clamp = round(num_steps * CLAMP_UNTIL / NUM_STEPS) if clamp_until is None else clamp_until
    return num_steps, check_int(decay, "decay_lr_at", 0), check_int(clamp, "clamp_until", 0)


def loss_drop(losses: dict[str, list[float]]) -> float:
    """How many times smaller the total loss is at the end than at the start."""
    total = losses["total"]
    return total[0] / max(total[-1], 1e-30)
