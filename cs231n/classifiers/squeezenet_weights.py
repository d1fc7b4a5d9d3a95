"""SqueezeNet 1.1: the layer layout and the pretrained ImageNet weights, shared by both frameworks.

NumPy only, so that `squeezenet_pytorch` and `squeezenet_tensorflow` can both use it without
importing each other's framework.

The weights are DeepScale's SqueezeNet v1.1 (converted from Caffe, BSD-2-Clause), keyed like
torchvision's ``squeezenet1_1`` state dict (``features.0.weight``, ``features.3.squeeze.weight``,
..., ``classifier.1.weight``), convolution kernels in PyTorch's (F, C, HH, WW) layout. They expect
RGB in [0, 1] normalized by the ImageNet mean and std (`cs231n.image_utils.preprocess_image`).
They are not torchvision's own weight file: numbers computed with torchvision's weights (the
course's style-transfer check files) do not apply to them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cs231n import config, data_utils
from cs231n.image_utils import preprocess_image

WEIGHTS_FILE = "squeezenet/squeezenet1_1_torchvision_keys_rgb_normalized.npz"
WEIGHTS_SHA256 = "ea1db95ce4a62e3c0d449de5456637870a45ffd08bb7b7f9c5c15c5e84e8a4b6"
NUM_PARAMS = 1_235_496
NUM_CLASSES = 1000

# torchvision's squeezenet1_1 `features`, one entry per module, so that a layer index means the
# same layer in both frameworks (the style-transfer layer indices rely on it):
#   ("conv", C_in, F), ("relu",), ("pool",), ("fire", C_in, squeeze, expand1x1, expand3x3)
FEATURE_LAYERS: tuple[tuple, ...] = (
    ("conv", 3, 64), ("relu",), ("pool",),
    ("fire", 64, 16, 64, 64), ("fire", 128, 16, 64, 64), ("pool",),
    ("fire", 128, 32, 128, 128), ("fire", 256, 32, 128, 128), ("pool",),
    ("fire", 256, 48, 192, 192), ("fire", 384, 48, 192, 192),
    ("fire", 384, 64, 256, 256), ("fire", 512, 64, 256, 256),
)
CLASSIFIER_IN = 512  # classifier: Dropout(0.5), Conv 512 -> 1000 (1x1), ReLU, global average pool


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """The state-dict keys of torchvision's squeezenet1_1 and their (F, C, HH, WW) / (F,) shapes."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(name: str, c_in: int, f: int, k: int) -> None:
        shapes[f"{name}.weight"] = (f, c_in, k, k)
        shapes[f"{name}.bias"] = (f,)

    for i, layer in enumerate(FEATURE_LAYERS):
        if layer[0] == "conv":
            conv(f"features.{i}", layer[1], layer[2], 3)
        elif layer[0] == "fire":
            _, c_in, s, e1, e3 = layer
            conv(f"features.{i}.squeeze", c_in, s, 1)
            conv(f"features.{i}.expand1x1", s, e1, 1)
            conv(f"features.{i}.expand3x3", s, e3, 3)
    conv("classifier.1", CLASSIFIER_IN, NUM_CLASSES, 1)
    return shapes


def find_weights_file(announce: bool = True) -> Path:
    """The weight file: $CS231N_DATA/squeezenet/, then datasets/squeezenet/, then the embedded
    bundle datasets/mini/squeezenet/ (checked against datasets/mini/SHA256SUMS).

    announce=True prints once which copy is used and records it for `config.scale()`, as every
    dataset does; False stays silent, for code that uses the network as a tool (the generated
    captioning corpus), whose scale the weights' location should not decide.
    Raises data_utils.DataNotFoundError (naming `make data`) when it is in none of them.
    """
    if announce:
        name = "SqueezeNet 1.1 weights"
        path, source = data_utils.find_dataset(WEIGHTS_FILE, WEIGHTS_FILE, name)
        data_utils.announce_source(name, source, path)
        return path
    for path in (config.find_full_data(WEIGHTS_FILE), config.MINI_DIR / WEIGHTS_FILE):
        if path is not None and path.is_file():
            return path
    raise data_utils.DataNotFoundError(
        f"SqueezeNet 1.1 weights ({WEIGHTS_FILE}) not found in $CS231N_DATA, datasets/ or "
        "datasets/mini/. Run `make data`, set CS231N_DATA, or restore the embedded bundle with "
        "`git checkout datasets/mini`.")


def load_squeezenet_weights(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """The pretrained SqueezeNet 1.1 parameters as float32 arrays, keyed like torchvision.

    Inputs:
    - path: the .npz file; None finds it (see `find_weights_file`).
    Returns {key: float32 array} in PyTorch layouts: conv weights (F, C, HH, WW), biases (F,).
    The file's float16 arrays are cast to float32 (exactly: every float16 is a float32).
    Raises DataNotFoundError for a missing file, DatasetError for a corrupt one (checksum,
    unreadable, missing or misshapen arrays); both messages name the file and the fix.
    """
    path = find_weights_file() if path is None else Path(path)
    fix = ("Restore it with `git checkout datasets/mini` (the embedded copy) or delete it and "
           "run `make data`.")
    if not path.is_file():
        raise data_utils.DataNotFoundError(f"SqueezeNet weights not found at {path}. {fix}")
    if data_utils.sha256_of(path) != WEIGHTS_SHA256:
        raise data_utils.DatasetError(
            f"{path}: checksum mismatch, not the SqueezeNet 1.1 weight file (corrupt or "
            f"modified; expected sha256 {WEIGHTS_SHA256}). {fix}")
    try:
        with np.load(path, allow_pickle=False) as f:
            weights = {k: f[k].astype(np.float32) for k in f.files}
    except (OSError, ValueError, EOFError) as e:  # pragma: no cover: the checksum comes first
        raise data_utils.DatasetError(f"{path}: unreadable npz ({e}). {fix}") from e
    _check_shapes(weights, path)
    return weights


def _check_shapes(weights: dict[str, np.ndarray], path: Path) -> None:
    expected = expected_shapes()
    missing = sorted(set(expected) - set(weights))
    wrong = [f"{k} {weights[k].shape} (expected {s})" for k, s in expected.items()
             if k in weights and weights[k].shape != s]
    if missing or wrong or len(weights) != len(expected):
        raise data_utils.DatasetError(
            f"{path}: not a squeezenet1_1 state dict (missing {missing[:3]}, wrong shapes {wrong[:3]}, "
            f"{len(weights)} arrays for {len(expected)} expected). Delete it and run `make data`.")


def preprocess_batch(images: np.ndarray) -> np.ndarray:
    """uint8 RGB images (N, H, W, 3) -> float32 (N, H, W, 3): (x / 255 - mean) / std.

    The same preprocessing as `cs231n.image_utils.preprocess_image`, with a clear error for
    input that is not a batch of uint8 RGB images (float input was most likely already
    preprocessed, or is in [0, 1]: both would be silently wrong).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"SqueezeNet input: expected uint8 RGB images (N, H, W, 3), got "
                         f"{images.dtype} {images.shape}")
    return preprocess_image(images)


def top_k_correct(logits: np.ndarray, y: np.ndarray, k: int) -> int:
    """How many rows of logits (N, 1000) have their label y (N,) among their k largest scores."""
    top = np.argsort(-np.asarray(logits), axis=1)[:, :k]
    return int((top == np.asarray(y)[:, None]).any(axis=1).sum())
