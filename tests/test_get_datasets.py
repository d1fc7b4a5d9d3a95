"""datasets/get_datasets.sh, offline: its "already present" path and its failure path."""
import gzip
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from cs231n import config, data_utils

pytestmark = pytest.mark.data
SCRIPT = config.DATASETS_DIR / "get_datasets.sh"
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens, so the download fails at once


def run_script(dest, **env):
    full_env = dict(os.environ, CS231N_DATASETS_DIR=str(dest), CS231N_COURSE_URL=DEAD,
                    CS231N_CIFAR_URL=f"{DEAD}/cifar-10-python.tar.gz", CS231N_MNIST_URL=DEAD, **env)
    return subprocess.run(["bash", str(SCRIPT)], env=full_env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_offline_fails_cleanly_and_leaves_nothing_behind(tmp_path):
    result = run_script(tmp_path)
    assert result.returncode != 0
    assert "could not download" in result.stdout and "Are you offline?" in result.stdout
    assert "FAILED: 4 dataset(s)" in result.stdout
    assert ".part" not in result.stdout          # no partial download exists to speak of
    assert sorted(os.listdir(tmp_path)) == []    # no empty mnist/ that would hide the bundle


def test_offline_into_a_new_folder_does_not_create_it(tmp_path):
    result = run_script(tmp_path / "new" / "datasets")
    assert result.returncode != 0 and not (tmp_path / "new" / "datasets").exists()


def test_a_partial_download_is_kept_and_named(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"first megabytes")
    result = run_script(tmp_path)
    assert result.returncode != 0
    assert f"partial download {tmp_path}/cifar-10-python.tar.gz.part is kept" in result.stdout
    assert (tmp_path / "cifar-10-python.tar.gz.part").read_bytes() == b"first megabytes"
    assert result.stdout.count(".part") == 1


def test_after_an_offline_run_the_bundle_is_still_found(tmp_path, monkeypatch):
    run_script(tmp_path)
    (tmp_path / "mnist").mkdir(exist_ok=True)     # what the old script left behind
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path)
    data = data_utils.load_mnist()
    assert data["X_train"].shape == (10000, 28, 28)           # the embedded bundle
    assert config.sources_used["MNIST"] == "mini"


def write_gz(path, payload=b"x"):
    with gzip.open(path, "wb") as f:
        f.write(payload)


def test_everything_present_is_skipped(tmp_path):
    full_data = os.environ.get("CS231N_DATA")
    imagenet = Path(full_data or "") / "imagenet_val_25.npz"
    if not full_data or not imagenet.is_file():
        pytest.skip("set CS231N_DATA to the full data: needs the course's imagenet_val_25.npz "
                    "for its checksum")
    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    for name in ("data_batch_1", "data_batch_5", "test_batch"):
        (cifar / name).write_bytes(b"x")
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        write_gz(tmp_path / "mnist" / name)
    (tmp_path / "imagenet_val_25.npz").write_bytes(imagenet.read_bytes())
    assert hashlib.sha256(imagenet.read_bytes()).hexdigest().startswith("35141609")
    (tmp_path / "coco_captioning").mkdir()
    for name in ("coco2014_captions.h5", "train2014_vgg16_fc7_pca.h5"):
        (tmp_path / "coco_captioning" / name).write_bytes(b"x")
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CIFAR-10: present" in result.stdout and "All datasets present" in result.stdout
    assert "MNIST: present" in result.stdout
    assert "downloading" not in result.stdout


def test_staged_mnist_files_are_not_downloaded_again(tmp_path):
    # Two of four files came down on an earlier run: only the other two are fetched.
    write_gz(tmp_path / "mnist.train-images-idx3-ubyte.gz")
    write_gz(tmp_path / "mnist.train-labels-idx1-ubyte.gz")
    result = run_script(tmp_path)
    mnist_lines = result.stdout.split("MNIST:")[1].split("ImageNet")[0]
    assert "train-images" not in mnist_lines and "t10k-images-idx3-ubyte.gz" in mnist_lines
    assert not (tmp_path / "mnist").exists()
    assert (tmp_path / "mnist.train-images-idx3-ubyte.gz").exists()
