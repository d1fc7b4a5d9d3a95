"""Dataset loaders with the official CS231n names: CIFAR-10, MNIST, the 25 ImageNet images, COCO.

Each dataset is looked for, in this order (see `config.data_dirs`):
  1. ``$CS231N_DATA``            a folder in the official layouts (e.g. ../shared/data);
  2. ``cs231n/datasets/``        RELATIVE TO THE WORKING DIRECTORY: where the official
                                 notebooks (run from ``assignmentN/``) keep the course's data;
  3. ``datasets/``               of the repository (``make data``);
  4. ``datasets/mini/``          the embedded bundle.
A location counts only if it holds a key file of the dataset (e.g.
``mnist/train-images-idx3-ubyte.gz``), so an empty folder left by an interrupted download
is skipped. Which copy is used is printed once. Loading is safe: the official CIFAR-10
pickles go through an unpickler that only accepts numpy arrays; our own files load with
``allow_pickle=False``; the bundle's files are checked against their SHA-256 sums.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

from cs231n import config
from cs231n.checkpoint import read_npz

CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CIFAR_DIR = "cifar-10-batches-py"
CIFAR_FILES = tuple(f"data_batch_{b}" for b in range(1, 6)) + ("test_batch",)
MNIST_DIR = "mnist"
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
IMAGENET_FILE = "imagenet_val_25.npz"
MINI_CIFAR = "cifar10_mini.npz"
MINI_MNIST = "mnist_mini.npz"
# Where the official notebooks keep the course's data, relative to the notebook's folder.
# sha256 of the course's imagenet_val_25.npz: only this exact file is unpickled (for its label_map).
IMAGENET_SHA256 = "35141609d22457c791e8fbe10c2d3b09ed0d6a04b669173e9fbebb0b4915cd3c"
FETCH = ("Run `make data` to download the official files, or set CS231N_DATA to a folder "
         "that holds them (e.g. CS231N_DATA=../shared/data).")


class DataNotFoundError(FileNotFoundError):
    """A dataset, or a file of it, is in none of the places the workbook looks."""


class DatasetError(ValueError):
    """A dataset file exists but is corrupt, truncated or has the wrong shape."""


def __getattr__(name: str):
    # The COCO helpers live in coco_utils (their official home) and are re-exported here.
    # Lazily: coco_utils uses this module's lookup, so a top-level import would be circular.
    if name in ("decode_captions", "load_coco_data", "sample_coco_minibatch"):
        from cs231n import coco_utils

        return getattr(coco_utils, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- locating files

def _missing(what: str, relpath: str) -> DataNotFoundError:
    places = ", ".join(f"{label} ({path / relpath})" for label, path in config.data_dirs())
    return DataNotFoundError(f"{what} not found. Looked in {places} and in the embedded "
                             f"bundle datasets/mini/. {FETCH}")


_env_reported: set[str] = set()


def _report_env_lacks(name: str, key_relpath: str, used: Path) -> None:
    """Say once that $CS231N_DATA was set but lacks this dataset: a silent fallback to the
    bundle would look like a successful run on the full data."""
    env = os.environ.get("CS231N_DATA", "").strip()
    if not env or name in _env_reported:
        return
    base = Path(env).expanduser().resolve()
    if used.resolve().is_relative_to(base):
        return
    _env_reported.add(name)
    if not base.is_dir():
        print(f"{name}: CS231N_DATA is set to {env}, which is not a folder; using {used}")
    else:
        print(f"{name}: CS231N_DATA is set to {env}, which has no {key_relpath}; using {used}")


def announce_source(name: str, source: str, path: Path, detail: str = "") -> None:
    """Print once per process which copy of a dataset is used (config.announce)."""
    detail = f", {detail}" if detail else ""
    if source == "mini":
        rel = path.relative_to(config.REPO_ROOT) if path.is_relative_to(config.REPO_ROOT) else path
        message = (f"{name}: embedded mini bundle ({rel}{detail}); run `make data` or set "
                   "CS231N_DATA for the full set")
    else:
        message = f"{name}: full data from {path}{detail}"
    config.announce(name, source, message)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_verified: set[Path] = set()
RESTORE = "Restore it with `git checkout datasets/mini` (or rebuild the bundle with `make mini`)."


def is_mini_file(path) -> bool:
    """True for a file inside the embedded bundle datasets/mini/."""
    return Path(path).resolve().is_relative_to(config.MINI_DIR.resolve())


def verify_mini_file(path: Path) -> None:
    """Check a bundle file against datasets/mini/SHA256SUMS (once per process and file).

    Raises DatasetError naming the file and the fix for a changed or unlisted file.
    """
    path = Path(path).resolve()
    if path in _verified:
        return
    sums_file = config.MINI_DIR / "SHA256SUMS"
    rel = path.relative_to(config.MINI_DIR.resolve()).as_posix()
    if not sums_file.is_file():
        raise DatasetError(f"{sums_file} is missing, so {path} cannot be checked. {RESTORE}")
    expected = None
    for line in sums_file.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == rel:
            expected = digest
    if expected is None:
        raise DatasetError(f"{path} is not listed in {sums_file}. {RESTORE}")
    if sha256_of(path) != expected:
        raise DatasetError(f"{path}: checksum mismatch (the file is corrupt or was modified). "
                           f"{RESTORE}")
    _verified.add(path)


def find_dataset(full_relpath: str, mini_relpath: str | None, name: str,
                 key: str | None = None) -> tuple[Path, str]:
    """Locate a dataset: full copy first (see config.data_dirs), then the embedded bundle.

    Inputs:
    - full_relpath: its path in the official layout ('cifar-10-batches-py', 'imagenet_val_25.npz')
    - mini_relpath: its file in datasets/mini/, or None if the bundle has none
    - name: what to call it in messages ('CIFAR-10')
    - key: for a folder, the file inside it that marks it as present ('data_batch_1')
    Returns (path, source) with source "full" or "mini"; a bundle file is checksum-verified.
    Says once if $CS231N_DATA is set but lacks the dataset. Does not announce the source:
    the loader does, once it knows what it loaded.
    Raises DataNotFoundError naming `make data` when there is neither.
    """
    key_relpath = f"{full_relpath}/{key}" if key else full_relpath
    full = config.find_full_data(full_relpath, key)
    if full is not None:
        _report_env_lacks(name, key_relpath, full)
        return full, "full"
    if mini_relpath is not None:
        mini = config.MINI_DIR / mini_relpath
        if mini.is_file():
            verify_mini_file(mini)
            _report_env_lacks(name, key_relpath, mini)
            return mini, "mini"
    raise _missing(name, key_relpath)


# --------------------------------------------------------------------------- CIFAR-10

class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles the official CIFAR-10 batches, refusing any object but numpy arrays.

    The batches are dicts of lists, strings and one uint8 array; an arbitrary pickle
    could run code, so every other global is rejected.
    """
    ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode")})  # how Python 3 writes bytes in a protocol-2 pickle

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            module = module.replace("numpy.core", "numpy._core")
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not a CIFAR-10 batch")


def load_CIFAR_batch(filename) -> tuple[np.ndarray, np.ndarray]:
    """Load one official CIFAR-10 python batch.

    Returns:
    - X: (N, 32, 32, 3) float64 images, values 0..255 (N = 10000 for official batches)
    - Y: (N,) int64 labels in 0..9
    """
    filename = Path(filename)
    if not filename.is_file():
        raise DataNotFoundError(f"{filename} not found: the CIFAR-10 folder is incomplete. {FETCH}")
    try:
        with open(filename, "rb") as f:
            datadict = _NumpyOnlyUnpickler(f, encoding="latin1").load()
        X = np.asarray(datadict["data"])
        Y = np.asarray(datadict["labels"], dtype=np.int64)
    except (EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError, AttributeError,
            IndexError) as e:
        raise DatasetError(f"{filename} is not a valid CIFAR-10 batch (truncated or corrupt: {e!r}). "
                           "Delete it and run `make data` again.") from e
    if X.ndim != 2 or X.shape[1] != 3072 or X.dtype != np.uint8 or Y.shape != (X.shape[0],):
        raise DatasetError(f"{filename}: expected uint8 data of shape (N, 3072) and N labels, got "
                           f"data {X.shape} {X.dtype} and {Y.shape[0]} labels. Delete it and run `make data`.")
    if Y.size and (Y.min() < 0 or Y.max() > 9):
        raise DatasetError(f"{filename}: labels outside 0..9. Delete it and run `make data`.")
    X = X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    return X, Y


def _cifar_root(ROOT) -> tuple[Path, str]:
    """(path, source) of CIFAR-10: the lookup for None, else the given folder or bundle .npz."""
    if ROOT is None:
        return find_dataset(CIFAR_DIR, MINI_CIFAR, "CIFAR-10", key=CIFAR_FILES[0])
    ROOT = Path(ROOT)
    if ROOT.exists():
        if ROOT.suffix == ".npz" and is_mini_file(ROOT):
            verify_mini_file(ROOT)
        return ROOT, "mini" if ROOT.suffix == ".npz" else "full"
    if ROOT.parts[-3:] == (*config.COURSE_DATASETS.parts, CIFAR_DIR):
        # The official notebooks pass 'cs231n/datasets/cifar-10-batches-py'; where the data
        # lives elsewhere (CS231N_DATA, datasets/, the bundle) they still run unchanged.
        return find_dataset(CIFAR_DIR, MINI_CIFAR, "CIFAR-10", key=CIFAR_FILES[0])
    raise _missing("CIFAR-10", str(ROOT))


def _load_cifar10_indexed(ROOT=None):
    """CIFAR-10 with each training image's index in the official 50,000 order.

    The embedded bundle holds only some training images (the first 5000 and a
    validation slice); the index lets splits pick the same images as on the full data.
    Returns Xtr, Ytr, train_index, Xte, Yte, source.
    """
    ROOT, source = _cifar_root(ROOT)
    if source == "mini":
        f = read_npz(ROOT, DatasetError, RESTORE if is_mini_file(ROOT) else "Rebuild it.",
                     keys=("X_train", "y_train", "train_index", "X_test", "y_test"))
        Xtr, Ytr, index = f["X_train"], f["y_train"], f["train_index"]
        Xte, Yte = f["X_test"], f["y_test"]
        announce_source("CIFAR-10", source, ROOT, f"{len(Xtr)} train / {len(Xte)} test images")
        return (Xtr.astype(np.float64), Ytr.astype(np.int64), index.astype(np.int64),
                Xte.astype(np.float64), Yte.astype(np.int64), source)
    missing = [name for name in CIFAR_FILES if not (ROOT / name).is_file()]
    if missing:
        raise DataNotFoundError(f"the CIFAR-10 folder {ROOT} is incomplete: it has no "
                                f"{', '.join(missing)}. Delete the folder and run `make data` "
                                "(or point CS231N_DATA to a complete copy).")
    xs, ys = [], []
    for name in CIFAR_FILES[:5]:
        X, Y = load_CIFAR_batch(ROOT / name)
        xs.append(X)
        ys.append(Y)
    Xtr, Ytr = np.concatenate(xs), np.concatenate(ys)
    Xte, Yte = load_CIFAR_batch(ROOT / "test_batch")
    announce_source("CIFAR-10", source, ROOT, f"{len(Xtr)} train / {len(Xte)} test images")
    return Xtr, Ytr, np.arange(len(Xtr)), Xte, Yte, source


def load_CIFAR10(ROOT=None):
    """Load all of CIFAR-10 (official name and return order).

    Inputs:
    - ROOT: the official `cifar-10-batches-py` folder, a bundle .npz, or None to
      search $CS231N_DATA, cs231n/datasets/ (next to the notebook), datasets/, then the
      embedded bundle. The official notebooks' 'cs231n/datasets/cifar-10-batches-py',
      when it does not exist, also searches.
    Returns Xtr (N, 32, 32, 3) float64, Ytr (N,), Xte (M, 32, 32, 3), Yte (M,).
    Full data: N = 50000, M = 10000. The embedded bundle: the first 5000 training
    images, then the validation slice (official indices 49000..49499), and the
    first 1000 test images, so `Xtr[:5000]` and `Xte[:500]` equal the full data's.
    """
    Xtr, Ytr, _, Xte, Yte, _ = _load_cifar10_indexed(ROOT)
    return Xtr, Ytr, Xte, Yte


def _pick(index: np.ndarray, lo: int, count: int, what: str) -> np.ndarray:
    """Positions of the images whose official index is in [lo, lo + count)."""
    chosen = np.flatnonzero((index >= lo) & (index < lo + count))
    if len(chosen) < count:
        print(f"  {what}: the mini bundle has {len(chosen)} of the {count} images asked for")
    return chosen


def get_CIFAR10_splits(num_training=49000, num_validation=1000, num_test=1000, num_dev=500,
                       seed: int = 0):
    """Assignment 1 split: train / val / test / dev, raw images, no preprocessing.

    As the course: train = official images [0, num_training), val = the next
    num_validation, test = the first num_test test images, dev = num_dev random
    training images (fixed by `seed`) for fast development.
    Returns a dict X_train (N, 32, 32, 3) float64, y_train (N,), and the same for
    X_val, X_test, X_dev.
    """
    Xtr, Ytr, index, Xte, Yte, _ = _load_cifar10_indexed()
    if num_training + num_validation > 50000 or num_test > 10000:
        raise ValueError("CIFAR-10 has 50000 training and 10000 test images: "
                         f"asked for {num_training}+{num_validation} and {num_test}")
    tr = _pick(index, 0, num_training, "train")
    va = _pick(index, num_training, num_validation, "val")
    num_test = min(num_test, len(Xte))
    rng = np.random.default_rng(seed)
    dev = rng.choice(tr, size=min(num_dev, len(tr)), replace=False)
    data = {"X_train": Xtr[tr], "y_train": Ytr[tr], "X_val": Xtr[va], "y_val": Ytr[va],
            "X_test": Xte[:num_test], "y_test": Yte[:num_test], "X_dev": Xtr[dev], "y_dev": Ytr[dev]}
    print(", ".join(f"{k[2:]} {len(v)}" for k, v in data.items() if k.startswith("X_")))
    return data


def preprocess_linear(data: dict, append_bias: bool = True):
    """Assignment 1 preprocessing for linear classifiers and the two-layer net.

    Flattens each image to a row (N, 3072), subtracts the mean training image,
    and, if append_bias, appends a column of ones (the bias trick: D = 3073).
    Returns (new dict with the same keys, mean_image (3072,)).
    """
    def as_rows(images):  # explicit width: reshape(0, -1) cannot infer it for an empty split
        return images.reshape(len(images), int(np.prod(images.shape[1:])))

    mean_image = as_rows(data["X_train"]).mean(axis=0)
    out = {}
    for key, value in data.items():
        if key.startswith("X_"):
            rows = as_rows(value) - mean_image
            if append_bias:
                rows = np.hstack([rows, np.ones((len(rows), 1))])
            out[key] = rows
        else:
            out[key] = value
    return out, mean_image


def mirror_rows(X: np.ndarray, mean_image: np.ndarray, image_shape=(32, 32, 3)) -> np.ndarray:
    """The rows of preprocess_linear for the left-right mirror images of the same pictures.

    Inputs:
    - X: (N, D) rows from preprocess_linear: flattened (H, W, C) images minus mean_image,
      with or without the bias column of ones (D = H*W*C or H*W*C + 1)
    - mean_image: (H*W*C,) the mean image that preprocess_linear subtracted
    - image_shape: (H, W, C) of one image
    Returns (N, D): each image put back (+ mean), mirrored along its width, minus the mean
    again (the mean image itself is not symmetric), bias column kept.
    """
    pixels = int(np.prod(image_shape))
    if X.ndim != 2 or X.shape[1] not in (pixels, pixels + 1) or mean_image.shape != (pixels,):
        raise ValueError(f"mirror_rows: need X (N, {pixels}) or (N, {pixels + 1}) and mean_image "
                         f"({pixels},) for images of shape {tuple(image_shape)}, got X {X.shape} "
                         f"and mean_image {mean_image.shape}")
    images = (X[:, :pixels] + mean_image).reshape(len(X), *image_shape)
    out = np.array(X)
    out[:, :pixels] = images[:, :, ::-1, :].reshape(len(X), pixels) - mean_image
    return out


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True):
    """Assignment 2 data: channels-first CIFAR-10, mean image subtracted (official API).

    Returns a dict with X_train (N, 3, 32, 32) float64, y_train (N,), X_val, y_val,
    X_test, y_test.
    """
    splits = get_CIFAR10_splits(num_training, num_validation, num_test, num_dev=0)
    if subtract_mean:
        mean_image = splits["X_train"].mean(axis=0)
    data = {}
    for name in ("train", "val", "test"):
        X = splits[f"X_{name}"]
        if subtract_mean:
            X = X - mean_image
        data[f"X_{name}"] = X.transpose(0, 3, 1, 2).copy()
        data[f"y_{name}"] = splits[f"y_{name}"]
    return data


# --------------------------------------------------------------------------- MNIST

def _read_idx(path: Path, magic: int, dims: int) -> np.ndarray:
    """One gzipped IDX file of MNIST as a uint8 array of the shape its header gives."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # bad header, truncated, corrupt deflate data
        raise DatasetError(f"{path}: not a readable gzip file, the download is corrupt or "
                           f"truncated ({type(e).__name__}: {e}). Delete it and run `make data`.") from e
    header = 4 * (1 + dims)
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise DatasetError(f"{path}: not an MNIST IDX file (bad magic number). Delete it and run `make data`.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise DatasetError(f"{path}: truncated (header says {shape}, found {data.size} bytes). "
                           "Delete it and run `make data`.")
    return data.reshape(shape)


def load_mnist(root=None) -> dict[str, np.ndarray]:
    """MNIST digits.

    Inputs:
    - root: the official folder of the four IDX .gz files, a bundle .npz, or None to search
    Returns a dict X_train (N, 28, 28) uint8, y_train (N,) int64, X_test (M, 28, 28), y_test (M,).
    Full data: N = 60000, M = 10000; the embedded bundle: the first 10000 / 2000.
    """
    if root is None:
        root, source = find_dataset(MNIST_DIR, MINI_MNIST, "MNIST", key=MNIST_FILES[0])
    else:
        root = Path(root)
        source = "mini" if root.suffix == ".npz" else "full"
        if not root.exists():
            raise _missing("MNIST", str(root))
        if source == "mini" and is_mini_file(root):
            verify_mini_file(root)
    if source == "mini":
        f = read_npz(root, DatasetError, RESTORE if is_mini_file(root) else "Rebuild it.",
                     keys=("X_train", "y_train", "X_test", "y_test"))
        data = {k: (v.astype(np.int64) if k.startswith("y") else v) for k, v in f.items()}
    else:
        missing = [name for name in MNIST_FILES if not (root / name).is_file()]
        if missing:
            raise DataNotFoundError(f"the MNIST folder {root} is incomplete: it has no "
                                    f"{', '.join(missing)}. Delete the folder and run `make data`.")
        data = {}
        for split, prefix in (("train", "train"), ("test", "t10k")):
            X = _read_idx(root / f"{prefix}-images-idx3-ubyte.gz", 2051, 3)
            y = _read_idx(root / f"{prefix}-labels-idx1-ubyte.gz", 2049, 1).astype(np.int64)
            if len(X) != len(y):
                raise DatasetError(f"{root}: {len(X)} {split} images but {len(y)} labels.")
            data[f"X_{split}"], data[f"y_{split}"] = X, y
    announce_source("MNIST", source, root, f"{len(data['X_train'])} train / {len(data['X_test'])} test")
    return data


# --------------------------------------------------------------------------- ImageNet (25 images)

def load_imagenet_file(path) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Read an imagenet_val_25.npz: the course's file, or the bundle's copy.

    The course's file keeps its class names in a pickled dict; it is unpickled only when
    the file's sha256 is the course's (an unverified pickle could run any code). The
    bundle's copy holds them as plain strings ('class_names').
    Returns X (25, 224, 224, 3) uint8, y (25,) int64, class_names: dict label -> name.
    """
    path = Path(path)
    fix = RESTORE if is_mini_file(path) else "Delete it and run `make data`."
    f = read_npz(path, DatasetError, fix, keys=("X", "y"))
    X, y = f["X"], f["y"].astype(np.int64)
    if X.ndim != 4 or X.shape[1:] != (224, 224, 3) or X.dtype != np.uint8 or y.shape != (len(X),):
        raise DatasetError(f"{path}: expected X uint8 (N, 224, 224, 3) and y (N,), got X {X.shape} "
                           f"{X.dtype} and y {y.shape}. {fix}")
    if sha256_of(path) == IMAGENET_SHA256:
        with np.load(path, allow_pickle=True) as npz:
            class_names = {int(k): str(v) for k, v in npz["label_map"].item().items()}
    else:
        names = read_npz(path, DatasetError, "It is neither the course's file (its checksum "
                         "differs, so its label_map is not unpickled) nor the bundle's copy. "
                         + fix, keys=("class_names",))["class_names"]
        class_names = {i: str(n) for i, n in enumerate(names) if n}
    return X, y, class_names


def load_imagenet_val(num=None):
    """The 25 ImageNet validation images used by the visualization notebooks.

    Inputs:
    - num: how many to return (None: all 25)
    Returns X (num, 224, 224, 3) uint8, y (num,) int64, class_names: dict label -> name.
    """
    path, source = find_dataset(IMAGENET_FILE, IMAGENET_FILE, "ImageNet val (25 images)")
    X, y, class_names = load_imagenet_file(path)
    announce_source("ImageNet val (25 images)", source, path)
    if num is not None:
        X, y = X[:num], y[:num]
    return X, y, class_names
