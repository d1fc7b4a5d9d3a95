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

COCO_DIR = "coco_captioning"


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the COCO captioning files are not in the embedded bundle. "
            "Run `make data` (needs network) or set CS231N_DATA to a folder with coco_captioning/.")
    return path


def load_coco_vocab(base_dir=None) -> dict:
    """The COCO vocabulary: {'idx_to_word': list of V words, 'word_to_idx': dict}."""
    if base_dir is None:
        base_dir = config.find_full_data(COCO_DIR) or config.MINI_DIR / COCO_DIR
    with open(_require(Path(base_dir) / "coco2014_vocab.json")) as f:
        vocab = json.load(f)
    if set(vocab) != {"idx_to_word", "word_to_idx"}:
        raise ValueError(f"{base_dir}/coco2014_vocab.json: expected keys idx_to_word and word_to_idx, "
                         f"found {sorted(vocab)}")
    return vocab


def load_coco_data(base_dir=None, max_train=None, pca_features=True) -> dict:
    """Load the COCO captioning data (official name and keys).

    Returns a dict with train_captions (N, T) int32, train_image_idxs (N,),
    val_captions, val_image_idxs, train_features (Ntr_img, D) (D = 512 with PCA,
    4096 without), val_features, idx_to_word, word_to_idx, train_urls, val_urls.
    With max_train, a random subset of max_train training captions is kept.
    """
    import h5py

    if base_dir is None:
        base_dir = config.find_full_data(COCO_DIR)
        if base_dir is None:
            raise FileNotFoundError(
                "COCO captioning data not found in $CS231N_DATA or datasets/. Run `make data` "
                "(needs network); offline, the captioning notebooks use the package's own corpus.")
    base_dir = Path(base_dir)
    data = {}
    with h5py.File(_require(base_dir / "coco2014_captions.h5"), "r") as f:
        for k, v in f.items():
            data[k] = np.asarray(v)
    suffix = "_pca" if pca_features else ""
    for split in ("train", "val"):
        with h5py.File(_require(base_dir / f"{split}2014_vgg16_fc7{suffix}.h5"), "r") as f:
            data[f"{split}_features"] = np.asarray(f["features"])
    data.update(load_coco_vocab(base_dir))
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
    urls = data[f"{split}_urls"][image_idxs] if f"{split}_urls" in data else None
    return captions, image_features, urls
