"""A generated image-captioning corpus, in the dict layout of `cs231n.coco_utils.load_coco_data`.

The COCO captions and VGG features cannot be downloaded here, so the captioning notebooks can
train on scenes of one to three coloured shapes instead. Each scene is rendered as an image and
described by several TRUE captions from a small grammar:

    a small red circle on the left                          (one shape: left/right/top/bottom)
    a large blue square left of a small yellow circle       (two shapes side by side)
    a green triangle above a red circle                     (two shapes one above the other)
    a blue square between a red circle and a green triangle (three shapes in a row)

Image features, as in the COCO files, come from a pretrained CNN reduced by PCA to 512
dimensions fitted on the training split only: SqueezeNet 1.1 (`squeezenet_pytorch`) on the
image upscaled to 128x128, the output of its features.7 (256 channels) average-pooled to a 3x3
grid (global pooling would erase "left of"), flattened (2304 values).

Splits: train and val are distinct scenes drawn from the same distribution; every test scene
contains at least one colour/shape combination that never occurs in train or val (`HELD_OUT`,
e.g. no red triangle is ever seen in training), so the test split measures generalisation to
new combinations of known words.

The corpus is deterministic given its sizes and seed, and cached as an .npz (no pickle) with a
SHA-256 recorded beside it and checked on every load.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cs231n import config
from cs231n.data_utils import sha256_of

VERSION = 1  # bump when generation changes: the cache file name carries it
CANVAS = 64  # scene coordinates are pixels of a CANVAS x CANVAS image
MAX_LENGTH = 17  # caption length with <START> and <END>, as the COCO files
FEATURE_DIM = 512
# Image features: SqueezeNet's features.7 at 128x128 input, pooled to 3x3, then PCA. A mid-level
# layer keeps colour better than the last one (features.12), whose features a linear read-out
# of every shape's colour, kind and size got wrong more often; a 3x3 grid matches the layouts
# (left / middle / right, top / middle / bottom).
INPUT_SIZE, LAYER, GRID = 128, 7, 3

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40), "green": (40, 160, 60), "blue": (40, 80, 215), "yellow": (230, 200, 40)}
SHAPES = ("circle", "square", "triangle")
SIZES: dict[str, tuple[int, ...]] = {"small": (5, 6), "large": (9, 10)}  # half-extents, pixels
COLOUR_JITTER = 12  # each object's RGB is its colour's +- this, per channel
BACKGROUND = (170, 235)  # grey level range of the background
HELD_OUT: tuple[tuple[str, str], ...] = (("red", "triangle"), ("green", "square"), ("blue", "circle"))

# One shape alone sits in one half; two sit side by side or one above the other; three in a row.
SINGLE_LAYOUTS = ("left", "right", "top", "bottom")
LAYOUTS = SINGLE_LAYOUTS + ("horizontal", "vertical", "row")
LAYOUT_PROBS = (0.0625, 0.0625, 0.0625, 0.0625, 0.2, 0.2, 0.35)
POSITION_WORDS = {"left": "on the left", "right": "on the right", "top": "at the top",
                  "bottom": "at the bottom"}

SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")  # indices 0..3, as in COCO's vocabulary
WORDS = ("a", "small", "large", *COLOURS, *SHAPES, "on", "the", "at", "left", "right", "top",
         "bottom", "of", "above", "below", "and", "between", "there", "is")


class CorpusCacheError(ValueError):
    """A cached corpus file is corrupt, modified or unreadable."""


# --------------------------------------------------------------------------- scenes

@dataclass(frozen=True)
class Shape:
    """One shape: kind, colour name, size name, centre (x, y) and half-extent s in canvas
    pixels (the shape spans 2s + 1 pixels each way), and the exact RGB it is drawn in."""
    shape: str
    colour: str
    size: str
    x: int
    y: int
    s: int
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class Scene:
    """A layout from LAYOUTS, its shapes (ordered left to right, or top to bottom), a grey level."""
    layout: str
    shapes: tuple[Shape, ...]
    background: int


def _centres(layout: str, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Shape centres for a layout, jittered; shapes never overlap and keep their order."""
    def j(lo: int, hi: int) -> int:  # a jittered coordinate in [lo, hi]
        return int(rng.integers(lo, hi + 1))

    mid = CANVAS // 2
    if layout == "left":
        return [(j(12, 20), j(24, 40))]
    if layout == "right":
        return [(j(44, 52), j(24, 40))]
    if layout == "top":
        return [(j(24, 40), j(12, 20))]
    if layout == "bottom":
        return [(j(24, 40), j(44, 52))]
    if layout == "horizontal":
        return [(j(12, 20), j(20, 44)), (j(44, 52), j(20, 44))]
    if layout == "vertical":
        return [(j(20, 44), j(12, 20)), (j(20, 44), j(44, 52))]
    return [(11, j(22, 42)), (mid, j(22, 42)), (53, j(22, 42))]  # row: 21 px apart, s <= 10


def _pick_kinds(n: int, rng: np.random.Generator, held_out: frozenset, test: bool) -> list[tuple[str, str]]:
    """n (colour, shape) pairs with distinct colours. Train/val: no pair is held out.
    Test: at least one pair is held out (the others are any pairs)."""
    while True:
        colours = rng.permutation(list(COLOURS))[:n]
        kinds = [(str(c), str(SHAPES[rng.integers(len(SHAPES))])) for c in colours]
        n_held = sum(k in held_out for k in kinds)
        if (n_held > 0) == test:
            return kinds


def sample_scene(rng: np.random.Generator, held_out=HELD_OUT, test: bool = False) -> Scene:
    """A random scene: a layout, one to three shapes of distinct colours, a background grey.

    test=False never uses a held-out (colour, shape) pair; test=True always uses one at least.
    """
    layout = LAYOUTS[rng.choice(len(LAYOUTS), p=LAYOUT_PROBS)]
    centres = _centres(layout, rng)
    kinds = _pick_kinds(len(centres), rng, frozenset(held_out), test)
    shapes = []
    for (x, y), (colour, shape) in zip(centres, kinds, strict=True):
        size = ("small", "large")[rng.integers(2)]
        s = int(rng.choice(SIZES[size]))
        rgb = np.clip(np.array(COLOURS[colour]) + rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1, 3), 0, 255)
        shapes.append(Shape(shape, colour, size, x, y, s, tuple(int(v) for v in rgb)))
    return Scene(layout, tuple(shapes), int(rng.integers(BACKGROUND[0], BACKGROUND[1] + 1)))


def render_scene(scene: Scene, size: int = CANVAS) -> np.ndarray:
    """Draw a scene: uint8 RGB (size, size, 3), no anti-aliasing (every shape pixel has the
    shape's exact colour). Scene coordinates are in CANVAS pixels, scaled to `size`."""
    from skimage.draw import disk, polygon

    img = np.full((size, size, 3), scene.background, dtype=np.uint8)
    k = size / CANVAS
    for sh in scene.shapes:
        x, y, s = sh.x * k, sh.y * k, sh.s * k
        if sh.shape == "circle":
            rr, cc = disk((y, x), s + 0.5 * k, shape=img.shape[:2])  # 2s + 1 pixels across, as squares
        elif sh.shape == "square":
            rr, cc = polygon([y - s, y - s, y + s, y + s], [x - s, x + s, x + s, x - s], img.shape[:2])
        elif sh.shape == "triangle":  # apex up, base 2s wide, 2s high
            rr, cc = polygon([y - s, y + s, y + s], [x, x - s, x + s], img.shape[:2])
        else:
            raise ValueError(f"unknown shape {sh.shape!r}; expected one of {SHAPES}")
        img[rr, cc] = sh.rgb
    return img


# --------------------------------------------------------------------------- captions

def _full(sh: Shape) -> str:
    return f"a {sh.size} {sh.colour} {sh.shape}"


def _short(sh: Shape) -> str:
    return f"a {sh.colour} {sh.shape}"


def captions_for(scene: Scene) -> list[str]:
    """The scene's true captions (4 of them), from the grammar in the module docstring.

    Shapes are named by colour and kind, optionally size; relations follow the layout:
    "left of" / "right of" (side by side), "above" / "below", "between" (three in a row),
    "on the left" / "at the top" (the half of the image a single shape is in).
    """
    sh = scene.shapes
    if scene.layout in SINGLE_LAYOUTS:
        where = POSITION_WORDS[scene.layout]
        return [f"{_full(sh[0])} {where}", _full(sh[0]), f"{_short(sh[0])} {where}",
                f"there is {_full(sh[0])} {where}"]
    if scene.layout == "horizontal":
        a, b = sh
        return [f"{_full(a)} left of {_full(b)}", f"{_full(b)} right of {_full(a)}",
                f"{_short(a)} and {_short(b)}", f"{_short(a)} on the left and {_short(b)} on the right"]
    if scene.layout == "vertical":
        a, b = sh
        return [f"{_full(a)} above {_full(b)}", f"{_full(b)} below {_full(a)}",
                f"{_short(a)} and {_short(b)}", f"{_short(a)} at the top and {_short(b)} at the bottom"]
    a, b, c = sh
    return [f"{_full(b)} between {_full(a)} and {_full(c)}",
            f"{_short(a)} left of {_short(b)} left of {_short(c)}",
            f"{_short(a)} and {_short(b)} and {_short(c)}",
            f"{_short(b)} between {_short(a)} and {_short(c)}"]


def vocabulary() -> tuple[list[str], dict[str, int]]:
    """(idx_to_word, word_to_idx): <NULL>=0, <START>=1, <END>=2, <UNK>=3 (as COCO's), then
    every word the grammar can produce. V = 28."""
    idx_to_word = list(SPECIAL_TOKENS) + list(WORDS)
    return idx_to_word, {w: i for i, w in enumerate(idx_to_word)}


def encode_captions(captions: list[str], word_to_idx: dict[str, int],
                    max_length: int = MAX_LENGTH) -> np.ndarray:
    """Captions -> (N, max_length) int32: <START> words <END>, padded with <NULL>.

    Raises ValueError for a word outside the vocabulary or a caption that does not fit.
    """
    out = np.full((len(captions), max_length), word_to_idx["<NULL>"], dtype=np.int32)
    for i, caption in enumerate(captions):
        words = caption.split()
        if len(words) + 2 > max_length:
            raise ValueError(f"caption {caption!r} has {len(words)} words; at most "
                             f"{max_length - 2} fit in length {max_length} with <START> and <END>")
        unknown = [w for w in words if w not in word_to_idx]
        if unknown:
            raise ValueError(f"caption {caption!r}: words {unknown} are not in the vocabulary")
        out[i, :len(words) + 2] = [word_to_idx["<START>"], *(word_to_idx[w] for w in words),
                                   word_to_idx["<END>"]]
    return out


# --------------------------------------------------------------------------- splits

def sample_scenes(num: int, rng: np.random.Generator, test: bool = False,
                  exclude: set | None = None, held_out=HELD_OUT) -> list[Scene]:
    """num distinct scenes, none of them in `exclude` (which is extended with them)."""
    seen = set() if exclude is None else exclude
    scenes: list[Scene] = []
    while len(scenes) < num:
        scene = sample_scene(rng, held_out, test)
        if scene not in seen:
            seen.add(scene)
            scenes.append(scene)
    return scenes


def _split_arrays(scenes: list[Scene], word_to_idx: dict[str, int]) -> dict[str, np.ndarray]:
    """Images (n, 64, 64, 3) uint8, captions (4n, 17) int32, image_idxs (4n,) int32."""
    captions, idxs = [], []
    for i, scene in enumerate(scenes):
        for caption in captions_for(scene):
            captions.append(caption)
            idxs.append(i)
    images = np.stack([render_scene(s) for s in scenes]) if scenes else np.zeros((0, CANVAS, CANVAS, 3), np.uint8)
    return {"images": images, "captions": encode_captions(captions, word_to_idx),
            "image_idxs": np.asarray(idxs, dtype=np.int32)}


# --------------------------------------------------------------------------- features

def squeezenet_grid_features(images: np.ndarray, input_size: int = INPUT_SIZE, layer: int = LAYER,
                             grid: int = GRID, batch_size: int = 250) -> np.ndarray:
    """Pretrained SqueezeNet 1.1 features that keep coarse position: one layer's output
    average-pooled to a grid x grid map (global pooling would erase "left of").

    Inputs:
    - images: (N, H, W, 3) uint8
    - input_size: images are resized (bilinear) to input_size x input_size first
    - layer: index into the network's features (7: the fourth Fire module, 256 channels)
    - grid: its (N, C, h, w) output is average-pooled to (N, C, grid, grid)
    Returns (N, C * grid * grid) float32 (N x 2304 with the defaults).
    """
    import torch
    import torch.nn.functional as F

    from cs231n.classifiers import squeezenet_pytorch, squeezenet_weights
    from cs231n.progress import progress

    model = squeezenet_pytorch.load_pretrained_squeezenet(squeezenet_weights.find_weights_file(announce=False))
    trunk = model.features[:layer + 1]
    chunks = []
    with torch.no_grad():
        for start in progress(range(0, len(images), batch_size), desc="SqueezeNet features"):
            x = squeezenet_pytorch.to_tensor(images[start:start + batch_size])
            x = F.interpolate(x, size=(input_size, input_size), mode="bilinear", align_corners=False)
            chunks.append(F.adaptive_avg_pool2d(trunk(x), grid).flatten(1).numpy())
    return np.concatenate(chunks).astype(np.float32)


def fit_pca(X: np.ndarray, dim: int = FEATURE_DIM) -> tuple[np.ndarray, np.ndarray]:
    """PCA: X (N, D) -> (mean (D,), components (D, dim)), directions of largest variance first.

    With Xc = X - mean, the components are the top eigenvectors of Xc^T Xc (D x D). When N < D
    they come cheaper from the N x N matrix Xc Xc^T: if Xc Xc^T u = lam u, then
    v = Xc^T u / sqrt(lam) is a unit eigenvector of Xc^T Xc with the same eigenvalue.
    Float64; each direction's sign (arbitrary in an eigensolver) is fixed so that its largest
    entry is positive. Needs more than `dim` samples (the centred data has rank <= N - 1).
    """
    n, d = X.shape
    if d < dim or n <= dim:
        raise ValueError(f"PCA to {dim} dimensions needs more than {dim} samples and at least "
                         f"{dim} features, got X of shape {X.shape}")
    mean = X.mean(axis=0, dtype=np.float64)
    centred = X.astype(np.float64) - mean
    if n >= d:
        _, vecs = np.linalg.eigh(centred.T @ centred)
        components = vecs[:, ::-1][:, :dim]
    else:
        vals, u = np.linalg.eigh(centred @ centred.T)
        vals, u = vals[::-1][:dim], u[:, ::-1][:, :dim]
        if vals[-1] <= 1e-12 * vals[0]:
            raise ValueError(f"PCA: the data spans fewer than {dim} dimensions")
        components = centred.T @ u / np.sqrt(vals)
    components *= np.sign(components[np.abs(components).argmax(axis=0), np.arange(dim)])
    return mean, components


# --------------------------------------------------------------------------- the corpus

def build_corpus(num_train_images: int, num_val_images: int, num_test_images: int,
                 seed: int = 0) -> dict:
    """Generate the corpus (no cache): see `load_captioning_corpus` for the returned dict."""
    rng = np.random.default_rng(seed)
    seen: set = set()
    scenes = {"train": sample_scenes(num_train_images, rng, exclude=seen),
              "val": sample_scenes(num_val_images, rng, exclude=seen),
              "test": sample_scenes(num_test_images, rng, test=True, exclude=seen)}
    idx_to_word, word_to_idx = vocabulary()
    data: dict = {"idx_to_word": idx_to_word, "word_to_idx": word_to_idx}
    for split, split_scenes in scenes.items():
        for key, value in _split_arrays(split_scenes, word_to_idx).items():
            data[f"{split}_{key}"] = value
    raw = {split: squeezenet_grid_features(data[f"{split}_images"]) for split in scenes}
    mean, components = fit_pca(raw["train"])
    # One global scale (fitted on train) so features have unit mean square per dimension.
    scale = np.sqrt((((raw["train"] - mean) @ components) ** 2).mean())
    for split in scenes:
        data[f"{split}_features"] = (((raw[split] - mean) @ components) / scale).astype(np.float32)
    return data


def default_cache_dir() -> Path:
    """build/captioning_corpus/ in the repository (ignored by git)."""
    return config.REPO_ROOT / "build" / "captioning_corpus"


def load_captioning_corpus(num_train_images: int = 10000, num_val_images: int = 1000,
                           num_test_images: int = 1000, seed: int = 0, cache: bool = True,
                           cache_dir: str | Path | None = None) -> dict:
    """The generated captioning corpus, in the layout of `load_coco_data`.

    Returns a dict with, for split in train, val, test:
    - {split}_captions (N_split, 17) int32: <START> w1 ... <END> <NULL> ... (4 per image)
    - {split}_image_idxs (N_split,) int32: the image each caption describes
    - {split}_features (num_images, 512) float32: SqueezeNet grid features, PCA fitted on train
      (centred by the train mean, one global scale: unit mean square per dimension on train)
    - {split}_images (num_images, 64, 64, 3) uint8: the rendered scenes
    and idx_to_word (list of V=28 words), word_to_idx (dict). There are no {split}_urls (the
    images are here instead); `sample_coco_minibatch` returns urls=None for this corpus.
    Test images each contain a colour/shape pair (HELD_OUT) that train and val never contain.

    With cache=True the corpus is read from, or written to, cache_dir (default build/
    captioning_corpus/); a cached file whose SHA-256 does not match is refused
    (CorpusCacheError, naming the file to delete).
    """
    if num_train_images <= FEATURE_DIM:
        raise ValueError(f"num_train_images={num_train_images}: the PCA to {FEATURE_DIM} "
                         f"dimensions is fitted on train and needs more than {FEATURE_DIM} images")
    if min(num_val_images, num_test_images) < 0:
        raise ValueError("num_val_images and num_test_images must be >= 0")
    sizes = (num_train_images, num_val_images, num_test_images)
    path = (Path(cache_dir) if cache_dir else default_cache_dir()) / (
        f"corpus_v{VERSION}_{sizes[0]}_{sizes[1]}_{sizes[2]}_seed{seed}.npz")
    if cache and path.exists():
        data = read_corpus(path)
        print(f"captioning corpus: {_describe(data)}, read from {path}")
        return data
    start = time.perf_counter()
    data = build_corpus(*sizes, seed=seed)
    print(f"captioning corpus: {_describe(data)}, generated in {time.perf_counter() - start:.0f} s")
    if cache:
        write_corpus(data, path)
    return data


def _describe(data: dict) -> str:
    return ", ".join(f"{s} {len(data[f'{s}_images'])} images / {len(data[f'{s}_captions'])} captions"
                     for s in ("train", "val", "test"))


def write_corpus(data: dict, path: str | Path) -> None:
    """Save the corpus as a compressed .npz and its SHA-256 as path + '.sha256', atomically
    (temporary files renamed into place; the checksum goes first, so a present data file
    always has one, and an interrupted write leaves no half-written file under `path`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v for k, v in data.items() if k != "word_to_idx"}
    arrays["idx_to_word"] = np.asarray(data["idx_to_word"], dtype=str)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    tmp_sum = path.with_name(f".{path.name}.{os.getpid()}.tmp.sha256")
    try:
        np.savez_compressed(tmp, **arrays)
        tmp_sum.write_text(f"{sha256_of(tmp)}  {path.name}\n")
        os.replace(tmp_sum, _sum_path(path))
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp_sum):
            leftover.unlink(missing_ok=True)


def _sum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def read_corpus(path: str | Path) -> dict:
    """Read a corpus written by `write_corpus`, after checking its SHA-256 (no pickle)."""
    path = Path(path)
    fix = f"Delete it (rm {path} {_sum_path(path)}) and load again to regenerate the corpus."
    if not _sum_path(path).exists():
        raise CorpusCacheError(f"{path}: no checksum file {_sum_path(path).name} beside it. {fix}")
    expected = _sum_path(path).read_text().split()[0]
    if sha256_of(path) != expected:
        raise CorpusCacheError(f"{path}: checksum mismatch (the cached corpus is corrupt or was "
                               f"modified). {fix}")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise CorpusCacheError(f"{path}: unreadable ({e}). {fix}") from e
    data["idx_to_word"] = [str(w) for w in data["idx_to_word"]]
    data["word_to_idx"] = {w: i for i, w in enumerate(data["idx_to_word"])}
    return data
