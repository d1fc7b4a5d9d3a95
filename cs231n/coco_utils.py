"""COCO captioning data in the course's layout (official module name and functions).

``coco_captioning/`` holds ``coco2014_captions.h5`` (train/val captions and image
indices), ``{train,val}2014_vgg16_fc7[_pca].h5`` (image features),
``coco2014_vocab.json`` (idx_to_word, word_to_idx) and ``{train,val}2014_urls.txt``.
Only the vocabulary is available offline (it is in the embedded bundle).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cs231n import config
from cs231n.data_utils import (
    RESTORE,
    DataNotFoundError,
    DatasetError,
    announce_source,
    find_dataset,
    is_mini_file,
    verify_mini_file,
)

COCO_DIR = "coco_captioning"
VOCAB_FILE = "coco2014_vocab.json"
CAPTIONS_FILE = "coco2014_captions.h5"
FETCH_COCO = ("Run `make data` (needs network) or set CS231N_DATA to a folder with "
              "coco_captioning/; offline, the captioning notebooks use the package's own corpus.")


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataNotFoundError(f"{path} not found: the COCO captioning files are not in the "
                                f"embedded bundle. {FETCH_COCO}")
    return path


def _read_vocab(path: Path) -> dict:
    fix = RESTORE if is_mini_file(path) else "Delete it and run `make data`."
    try:
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError is a ValueError
        raise DatasetError(f"{path} is not valid JSON ({e}). {fix}") from e
    if not isinstance(vocab, dict) or set(vocab) != {"idx_to_word", "word_to_idx"}:
        found = sorted(vocab) if isinstance(vocab, dict) else type(vocab).__name__
        raise DatasetError(f"{path}: expected keys idx_to_word and word_to_idx, found {found}. "
                           f"{fix}")
    return vocab


def load_coco_vocab(base_dir=None) -> dict:
    """The COCO vocabulary: {'idx_to_word': list of V words, 'word_to_idx': dict}.

    base_dir: a coco_captioning/ folder, or None to search (the bundle's copy is
    checksum-verified). Raises DatasetError naming the file for invalid JSON.
    """
    if base_dir is None:
        relpath = f"{COCO_DIR}/{VOCAB_FILE}"
        # Not announced: the bundle's copy is the course's file itself, so which one is
        # used says nothing about the scale of a run (config.sources_used).
        path, _ = find_dataset(relpath, relpath, "COCO vocabulary")
    else:
        path = _require(Path(base_dir) / VOCAB_FILE)
        if is_mini_file(path):
            verify_mini_file(path)
    return _read_vocab(path)


def _read_h5(path: Path, keys=None) -> dict[str, np.ndarray]:
    """The datasets of an HDF5 file (all, or `keys`), or DatasetError naming the file."""
    import h5py

    _require(path)
    try:
        with h5py.File(path, "r") as f:
            return {k: np.asarray(f[k]) for k in (keys or f.keys())}
    except (OSError, KeyError) as e:  # h5py: OSError "file signature not found" for non-HDF5
        raise DatasetError(f"{path} is not a readable COCO HDF5 file ({e}). Delete it and run "
                           "`make data`.") from e


def load_coco_data(base_dir=None, max_train=None, pca_features=True) -> dict:
    """Load the COCO captioning data (official name and keys).

    Returns a dict with train_captions (N, T) int32, train_image_idxs (N,),
    val_captions, val_image_idxs, train_features (Ntr_img, D) (D = 512 with PCA,
    4096 without), val_features, idx_to_word, word_to_idx, train_urls, val_urls.
    With max_train, a random subset of max_train training captions is kept.
    Raises DataNotFoundError (naming `make data`) without the files, DatasetError naming
    the file for one that is not HDF5 or not JSON.
    """
    if base_dir is None:
        base_dir = config.find_full_data(COCO_DIR, key=CAPTIONS_FILE)
        if base_dir is None:
            raise DataNotFoundError(f"COCO captioning data ({COCO_DIR}/{CAPTIONS_FILE}) not "
                                    f"found in $CS231N_DATA, cs231n/datasets/ or datasets/. "
                                    f"{FETCH_COCO}")
        announce_source("COCO captioning", "full", base_dir)
    base_dir = Path(base_dir)
    data = _read_h5(base_dir / CAPTIONS_FILE)
    suffix = "_pca" if pca_features else ""
    for split in ("train", "val"):
        features = _read_h5(base_dir / f"{split}2014_vgg16_fc7{suffix}.h5", keys=["features"])
        data[f"{split}_features"] = features["features"]
    data.update(_read_vocab(_require(base_dir / VOCAB_FILE)))
    for split in ("train", "val"):
        url_file = base_dir / f"{split}2014_urls.txt"
        if url_file.exists():
            data[f"{split}_urls"] = np.asarray(url_file.read_text().split())
    if max_train is not None:
        num_train = data["train_captions"].shape[0]
        mask = np.random.randint(num_train, size=max_train)
        data["train_captions"] = data["train_captions"][mask]
        data["train_image_idxs"] = data["train_image_idxs"][mask]
    return data


def decode_captions(captions, idx_to_word):
    """Turn word indices into strings, stopping at <END> and skipping <NULL>.

    Inputs: captions (N, T) or (T,) ints; idx_to_word: list of V words.
    Returns: a list of N strings (or one string for a 1-D input).
    """
    singleton = np.ndim(captions) == 1
    if singleton:
        captions = np.asarray(captions)[None]
    decoded = []
    for row in captions:
        words = []
        for idx in row:
            word = idx_to_word[int(idx)]
            if word == "<END>":
                break
            if word != "<NULL>":
                words.append(word)
        decoded.append(" ".join(words))
    return decoded[0] if singleton else decoded


def sample_coco_minibatch(data, batch_size=100, split="train"):
    """Random minibatch: captions (B, T), image_features (B, D), urls (B,) (or None)."""
    split_size = data[f"{split}_captions"].shape[0]
    mask = np.random.choice(split_size, batch_size)
    captions = data[f"{split}_captions"][mask]
    image_idxs = data[f"{split}_image_idxs"][mask]
    image_features = data[f"{split}_features"][image_idxs]
    all_urls = data.get(f"{split}_urls")  # a generated corpus has images, not urls
    urls = None if all_urls is None else all_urls[image_idxs]
    return captions, image_features, urls
