"""cs231n.coco_utils: the course's COCO layout (small fixture files), the bundle's
vocabulary (checksum-verified), and errors that name the file."""
import json
import shutil

import numpy as np
import pytest

from cs231n import coco_utils, config, data_utils
from cs231n.data_utils import DataNotFoundError, DatasetError

pytestmark = pytest.mark.a3

VOCAB = {"idx_to_word": ["<NULL>", "<START>", "<END>", "a", "cat"],
         "word_to_idx": {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "cat": 4}}


@pytest.fixture
def no_full_data(monkeypatch, tmp_path):
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def coco_dir(tmp_path):
    """A tiny coco_captioning/ folder in the course's layout."""
    h5py = pytest.importorskip("h5py")
    root = tmp_path / "coco_captioning"
    root.mkdir()
    with h5py.File(root / "coco2014_captions.h5", "w") as f:
        f["train_captions"] = np.array([[1, 3, 4, 2, 0], [1, 4, 2, 0, 0], [1, 3, 2, 0, 0]],
                                       dtype=np.int32)
        f["train_image_idxs"] = np.array([0, 1, 1], dtype=np.int32)
        f["val_captions"] = np.array([[1, 4, 2, 0, 0]], dtype=np.int32)
        f["val_image_idxs"] = np.array([0], dtype=np.int32)
    for split, n in (("train", 2), ("val", 1)):
        with h5py.File(root / f"{split}2014_vgg16_fc7_pca.h5", "w") as f:
            f["features"] = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        (root / f"{split}2014_urls.txt").write_text("\n".join(f"http://x/{i}.jpg" for i in range(n)))
    (root / "coco2014_vocab.json").write_text(json.dumps(VOCAB))
    return root


def test_load_coco_data_official_layout(coco_dir):
    data = coco_utils.load_coco_data(coco_dir)
    assert data["train_captions"].shape == (3, 5) and data["train_features"].shape == (2, 4)
    assert data["val_features"].shape == (1, 4) and data["idx_to_word"][4] == "cat"
    assert data["train_urls"].tolist() == ["http://x/0.jpg", "http://x/1.jpg"]
    assert coco_utils.decode_captions(data["train_captions"], data["idx_to_word"]) == \
        ["<START> a cat", "<START> cat", "<START> a"]


def test_the_lookup_finds_the_folder_by_its_captions_file(no_full_data, coco_dir, monkeypatch):
    monkeypatch.setenv("CS231N_DATA", str(coco_dir.parent))
    assert coco_utils.load_coco_data()["train_captions"].shape == (3, 5)
    (coco_dir / "coco2014_captions.h5").unlink()           # a folder without it is no dataset
    with pytest.raises(DataNotFoundError, match="coco2014_captions.h5.*make data"):
        coco_utils.load_coco_data()


def test_a_captions_file_that_is_not_hdf5_names_it(coco_dir):
    (coco_dir / "coco2014_captions.h5").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DatasetError, match=r"coco2014_captions\.h5 is not a readable COCO HDF5 "
                                           r"file.*Delete it and run `make data`"):
        coco_utils.load_coco_data(coco_dir)


def test_a_features_file_without_features_names_it(coco_dir):
    import h5py

    with h5py.File(coco_dir / "val2014_vgg16_fc7_pca.h5", "w") as f:
        f["other"] = np.zeros(2)
    with pytest.raises(DatasetError, match=r"val2014_vgg16_fc7_pca\.h5 is not a readable"):
        coco_utils.load_coco_data(coco_dir)


def test_a_missing_features_file_names_make_data(coco_dir):
    (coco_dir / "train2014_vgg16_fc7_pca.h5").unlink()
    with pytest.raises(DataNotFoundError, match=r"train2014_vgg16_fc7_pca\.h5 not found.*make data"):
        coco_utils.load_coco_data(coco_dir)


@pytest.mark.parametrize("text", ['{"idx_to_word": ["a",', "", "\xff\xfe"])
def test_invalid_vocab_json_names_the_file(coco_dir, text):
    (coco_dir / "coco2014_vocab.json").write_bytes(text.encode("latin1"))
    with pytest.raises(DatasetError, match=r"coco2014_vocab\.json is not valid JSON.*make data"):
        coco_utils.load_coco_vocab(coco_dir)
    (coco_dir / "coco2014_vocab.json").write_text('{"words": []}')
    with pytest.raises(DatasetError, match="expected keys idx_to_word and word_to_idx"):
        coco_utils.load_coco_vocab(coco_dir)


def test_the_bundle_vocabulary_is_checked(no_full_data, monkeypatch, tmp_path):
    mini = tmp_path / "mini"
    (mini / "coco_captioning").mkdir(parents=True)
    shutil.copy(config.MINI_DIR / "SHA256SUMS", mini)
    rel = "coco_captioning/coco2014_vocab.json"
    shutil.copy(config.MINI_DIR / rel, mini / rel)
    monkeypatch.setattr(config, "MINI_DIR", mini)
    vocab = coco_utils.load_coco_vocab()
    assert len(vocab["idx_to_word"]) == 1004 and vocab["word_to_idx"]["cat"] > 0

    text = (mini / rel).read_text()
    assert '"cat"' in text
    (mini / rel).write_text(text.replace('"cat"', '"cot"', 1))       # one changed word
    monkeypatch.setattr(data_utils, "_verified", set())
    with pytest.raises(DatasetError, match=r"coco2014_vocab\.json: checksum mismatch.*"
                                           r"git checkout datasets/mini"):
        coco_utils.load_coco_vocab()
    with pytest.raises(DatasetError, match="checksum mismatch"):     # also by explicit folder
        coco_utils.load_coco_vocab(mini / "coco_captioning")


def test_the_helpers_are_reexported_by_data_utils():
    assert data_utils.load_coco_data is coco_utils.load_coco_data
    from cs231n.data_utils import decode_captions, sample_coco_minibatch  # noqa: F401
    with pytest.raises(AttributeError):
        data_utils.no_such_name  # noqa: B018


def test_sample_coco_minibatch(coco_dir):
    data = coco_utils.load_coco_data(coco_dir)
    np.random.seed(0)
    captions, features, urls = coco_utils.sample_coco_minibatch(data, batch_size=4)
    assert captions.shape == (4, 5) and features.shape == (4, 4) and urls.shape == (4,)
