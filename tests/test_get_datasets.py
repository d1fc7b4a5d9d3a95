"""datasets/get_datasets.sh, offline: its "already present" path and its failure path."""
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from cs231n import config

pytestmark = pytest.mark.data
SCRIPT = config.DATASETS_DIR / "get_datasets.sh"
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens, so the download fails at once


def run_script(dest, **env):
    full_env = dict(os.environ, CS231N_DATASETS_DIR=str(dest), CS231N_COURSE_URL=DEAD,
                    CS231N_CIFAR_URL=f"{DEAD}/cifar-10-python.tar.gz", CS231N_MNIST_URL=DEAD, **env)
    return subprocess.run(["bash", str(SCRIPT)], env=full_env, capture_output=True, text=True, timeout=120)


def test_offline_fails_cleanly(tmp_path):
    result = run_script(tmp_path)
    assert result.returncode != 0
    assert "could not download" in result.stdout and "Are you offline?" in result.stdout
    assert "FAILED: 4 dataset(s)" in result.stdout


def test_everything_present_is_skipped(tmp_path):
    import gzip
    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    for name in ("data_batch_1", "data_batch_5", "test_batch"):
        (cifar / name).write_bytes(b"x")
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(tmp_path / "mnist" / name, "wb") as f:
            f.write(b"x")
    imagenet = config.REPO_ROOT.parent / "shared" / "data" / "imagenet_val_25.npz"
    if os.environ.get("CS231N_DATA"):
        imagenet = Path(os.environ["CS231N_DATA"]) / "imagenet_val_25.npz"
    if not imagenet.exists():
        pytest.skip("needs the course's imagenet_val_25.npz (CS231N_DATA) for its checksum")
    (tmp_path / "imagenet_val_25.npz").write_bytes(imagenet.read_bytes())
    assert hashlib.sha256(imagenet.read_bytes()).hexdigest().startswith("35141609")
    (tmp_path / "coco_captioning").mkdir()
    for name in ("coco2014_captions.h5", "train2014_vgg16_fc7_pca.h5"):
        (tmp_path / "coco_captioning" / name).write_bytes(b"x")
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CIFAR-10: present" in result.stdout and "All datasets present" in result.stdout
    assert "downloading" not in result.stdout
