"""Build the embedded bundle datasets/mini/ from the full data (reproducible; `make mini`).

    CS231N_DATA=../shared/data python datasets/build_mini.py

CIFAR-10: the first 5000 training images (the kNN notebook's subset), the
validation slice (official training indices 49000..49499) and the first 1000
test images, with each training image's official index. MNIST: the first 10000
training and 2000 test digits. The 25 ImageNet images with their class names as
plain strings (no pickle; the course's file is read by data_utils, which unpickles its
label_map only when the file's sha256 is the course's). SqueezeNet weights, style and
course images and the COCO vocabulary are copied as they are. Every file is written
atomically (temporary file, then rename); SHA256SUMS last.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cs231n import data_utils  # noqa: E402  (after the sys.path line: runs from a checkout)
from cs231n.checkpoint import write_atomic, write_npz_atomic  # noqa: E402

OUT = REPO / "datasets" / "mini"
COPIED = ["squeezenet/squeezenet1_1_torchvision_keys_rgb_normalized.npz",
          "styles/tubingen.jpg", "styles/composition_vii.jpg", "styles/the_scream.jpg",
          "styles/starry_night.jpg", "images/kitten.jpg", "images/sky.jpg",
          "coco_captioning/coco2014_vocab.json"]
CIFAR_TRAIN = np.r_[0:5000, 49000:49500]
CIFAR_TEST = 1000
MNIST_TRAIN, MNIST_TEST = 10000, 2000


def save(name: str, **arrays) -> None:
    # np.savez_compressed writes the same bytes for the same arrays: the checksums are stable.
    write_npz_atomic(OUT / name, arrays, compressed=True)


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy src to dst through a temporary file: an interrupted build never leaves a
    half-copied file under the bundle's name."""
    with open(src, "rb") as f:
        write_atomic(dst, lambda out: shutil.copyfileobj(f, out))


def imagenet_arrays(path: Path) -> dict[str, np.ndarray]:
    """The bundle's copy of imagenet_val_25.npz: X, y and class_names (1000,) as strings,
    '' for the labels without a name. The course's file is read by data_utils'
    verified loader: its pickled label_map is only opened when its sha256 is the course's."""
    X, y, class_names = data_utils.load_imagenet_file(path)
    names = np.array([class_names.get(i, "") for i in range(1000)])
    return {"X": X, "y": y, "class_names": names}


def main() -> None:
    src = Path(os.environ.get("CS231N_DATA", "")).expanduser()
    if not (src / "cifar-10-batches-py").is_dir():
        sys.exit("Set CS231N_DATA to the full data folder (e.g. ../shared/data).")
    OUT.mkdir(parents=True, exist_ok=True)

    Xtr, ytr, Xte, yte = data_utils.load_CIFAR10(src / "cifar-10-batches-py")
    save(data_utils.MINI_CIFAR, X_train=Xtr[CIFAR_TRAIN].astype(np.uint8),
         y_train=ytr[CIFAR_TRAIN].astype(np.uint8), train_index=CIFAR_TRAIN.astype(np.int32),
         X_test=Xte[:CIFAR_TEST].astype(np.uint8), y_test=yte[:CIFAR_TEST].astype(np.uint8))

    mnist = data_utils.load_mnist(src / "mnist")
    save(data_utils.MINI_MNIST, X_train=mnist["X_train"][:MNIST_TRAIN],
         y_train=mnist["y_train"][:MNIST_TRAIN].astype(np.uint8),
         X_test=mnist["X_test"][:MNIST_TEST], y_test=mnist["y_test"][:MNIST_TEST].astype(np.uint8))

    save(data_utils.IMAGENET_FILE, **imagenet_arrays(src / data_utils.IMAGENET_FILE))

    for rel in COPIED:
        copy_atomic(src / rel, OUT / rel)

    # Dot files are leftovers of an interrupted build, never part of the bundle.
    files = sorted(p for p in OUT.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.name not in ("SHA256SUMS", "README.md"))
    lines = [f"{data_utils.sha256_of(p)}  {p.relative_to(OUT).as_posix()}" for p in files]
    text = ("\n".join(lines) + "\n").encode()
    write_atomic(OUT / "SHA256SUMS", lambda f: f.write(text))
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files, {total / 1e6:.1f} MB, to {OUT}")


if __name__ == "__main__":
    main()
