"""Loaders: official formats (small fixture files written here), the embedded bundle, and errors."""
import gzip
import importlib.util
import pickle
import shutil
import zlib

import numpy as np
import pytest

from cs231n import config, data_utils
from cs231n.data_utils import CIFAR_FILES, DataNotFoundError, DatasetError
from tests.conftest import FULL_DATA, needs_full_data

pytestmark = pytest.mark.data


def write_cifar_batch(path, n=20, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    with open(path, "wb") as f:
        pickle.dump({"batch_label": "fixture", "labels": labels, "data": data}, f, protocol=2)
    return data, labels


@pytest.fixture
def cifar_dir(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for i, name in enumerate([f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]):
        write_cifar_batch(root / name, seed=i)
    return root


@pytest.fixture
def no_full_data(monkeypatch, tmp_path):
    """Hide $CS231N_DATA, cs231n/datasets/ (via the cwd) and datasets/ so that the
    embedded bundle is used; announcements start afresh."""
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "_announced", set())
    monkeypatch.setattr(data_utils, "_env_reported", set())


def test_cifar_batch_layout(cifar_dir):
    data, labels = write_cifar_batch(cifar_dir / "one", n=7)
    X, Y = data_utils.load_CIFAR_batch(cifar_dir / "one")
    assert X.shape == (7, 32, 32, 3) and X.dtype == np.float64
    # Official layout: 1024 red values, then green, then blue, each row-major.
    assert X[3, 0, 1, 0] == data[3, 1] and X[3, 0, 0, 1] == data[3, 1024] and X[3, 31, 31, 2] == data[3, 3071]
    assert Y.tolist() == labels


def test_load_cifar10_official_folder(cifar_dir):
    Xtr, Ytr, Xte, Yte = data_utils.load_CIFAR10(cifar_dir)
    assert Xtr.shape == (100, 32, 32, 3) and Ytr.shape == (100,)
    assert Xte.shape == (20, 32, 32, 3) and Yte.shape == (20,)


def test_truncated_cifar_batch_is_a_clear_error(cifar_dir):
    raw = (cifar_dir / "data_batch_2").read_bytes()
    (cifar_dir / "data_batch_2").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(data_utils.DatasetError, match="data_batch_2.*truncated or corrupt.*make data"):
        data_utils.load_CIFAR10(cifar_dir)


def test_wrong_shape_cifar_batch_is_a_clear_error(tmp_path):
    with open(tmp_path / "bad", "wb") as f:
        pickle.dump({"labels": [0, 1], "data": np.zeros((2, 100), np.uint8)}, f)
    with pytest.raises(data_utils.DatasetError, match=r"bad: expected uint8 data of shape \(N, 3072\)"):
        data_utils.load_CIFAR_batch(tmp_path / "bad")


def test_cifar_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    with open(tmp_path / "evil", "wb") as f:
        pickle.dump({"data": Evil(), "labels": []}, f)
    with pytest.raises(data_utils.DatasetError, match="refusing to load builtins.print"):
        data_utils.load_CIFAR_batch(tmp_path / "evil")


def test_missing_data_names_make_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")
    monkeypatch.setattr(config, "MINI_DIR", tmp_path / "no-mini")
    with pytest.raises(data_utils.DataNotFoundError, match="make data"):
        data_utils.load_CIFAR10()
    with pytest.raises(data_utils.DataNotFoundError, match="make data"):
        data_utils.load_mnist()
    with pytest.raises(data_utils.DataNotFoundError, match="make data"):
        data_utils.load_imagenet_val()


def test_env_var_takes_precedence(monkeypatch, cifar_dir):
    monkeypatch.setenv("CS231N_DATA", str(cifar_dir.parent))
    Xtr, _, _, _ = data_utils.load_CIFAR10()
    assert Xtr.shape[0] == 100


def test_mini_bundle_cifar(no_full_data):
    Xtr, Ytr, Xte, _ = data_utils.load_CIFAR10()
    assert Xtr.shape == (5500, 32, 32, 3) and Xte.shape == (1000, 32, 32, 3)
    assert set(np.unique(Ytr)) == set(range(10))
    assert config.sources_used["CIFAR-10"] == "mini"


def test_splits_follow_official_indices(no_full_data):
    data = data_utils.get_CIFAR10_splits(num_training=4000, num_validation=1000, num_test=100, num_dev=50)
    Xtr, _, _, _ = data_utils.load_CIFAR10()
    np.testing.assert_array_equal(data["X_train"], Xtr[:4000])
    np.testing.assert_array_equal(data["X_val"], Xtr[4000:5000])  # official indices 4000..4999
    assert data["X_test"].shape == (100, 32, 32, 3) and data["X_dev"].shape == (50, 32, 32, 3)


def test_a2_dict_api(no_full_data):
    data = data_utils.get_CIFAR10_data(num_training=1000, num_validation=200, num_test=100)
    assert data["X_train"].shape == (1000, 3, 32, 32) and data["X_val"].shape == (200, 3, 32, 32)
    assert abs(data["X_train"].mean()) < 1e-8  # mean image subtracted


def test_preprocess_linear():
    data = {"X_train": np.arange(2 * 4 * 4 * 3, dtype=float).reshape(2, 4, 4, 3), "y_train": np.array([0, 1])}
    data["X_dev"] = np.zeros((0, 4, 4, 3))  # an empty split (num_dev=0) is fine
    out, _ = data_utils.preprocess_linear(data)
    assert out["X_train"].shape == (2, 49) and np.all(out["X_train"][:, -1] == 1)
    assert out["X_dev"].shape == (0, 49)
    np.testing.assert_allclose(out["X_train"][:, :-1].mean(axis=0), 0)


def test_mirror_rows_is_the_preprocessed_mirror_image():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 4, 5, 3)).astype(float)
    out, mean = data_utils.preprocess_linear({"X_train": images})
    mirrored = data_utils.mirror_rows(out["X_train"], mean, image_shape=(4, 5, 3))
    expected = images[:, :, ::-1, :].reshape(3, -1) - mean
    np.testing.assert_allclose(mirrored[:, :-1], expected)
    assert np.all(mirrored[:, -1] == 1)                        # bias column untouched
    twice = data_utils.mirror_rows(mirrored, mean, image_shape=(4, 5, 3))
    np.testing.assert_allclose(twice, out["X_train"])          # mirroring twice is the identity
    without_bias = data_utils.mirror_rows(out["X_train"][:, :-1], mean, image_shape=(4, 5, 3))
    np.testing.assert_allclose(without_bias, expected)
    with pytest.raises(ValueError, match="mirror_rows"):
        data_utils.mirror_rows(out["X_train"][:, :10], mean, image_shape=(4, 5, 3))


def test_mini_checksum_mismatch_names_the_file(monkeypatch, tmp_path):
    mini = tmp_path / "mini"
    shutil.copytree(config.MINI_DIR, mini)
    target = mini / "mnist_mini.npz"
    raw = bytearray(target.read_bytes())
    raw[-10] ^= 0xFF
    target.write_bytes(bytes(raw))
    monkeypatch.setattr(config, "MINI_DIR", mini)
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")
    with pytest.raises(data_utils.DatasetError, match="mnist_mini.npz: checksum mismatch"):
        data_utils.load_mnist()


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,)), 2049)
    data = data_utils.load_mnist(tmp_path)
    assert data["X_train"].shape == (30, 28, 28) and data["y_test"].shape == (10,)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(raw[:-100])
    with pytest.raises(data_utils.DatasetError, match="t10k-images-idx3-ubyte.gz: truncated"):
        data_utils.load_mnist(tmp_path)


def test_mini_mnist_and_imagenet(no_full_data):
    mnist = data_utils.load_mnist()
    assert mnist["X_train"].shape == (10000, 28, 28) and mnist["X_test"].shape == (2000, 28, 28)
    X, y, names = data_utils.load_imagenet_val(num=5)
    assert X.shape == (5, 224, 224, 3) and X.dtype == np.uint8 and names[int(y[1])] == "quail"


def test_wrong_shape_imagenet_file_is_a_clear_error(monkeypatch, tmp_path):
    np.savez(tmp_path / "imagenet_val_25.npz", X=np.zeros((3, 32, 32, 3), np.uint8), y=np.zeros(3))
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    with pytest.raises(data_utils.DatasetError, match=r"imagenet_val_25.npz: expected X uint8 \(N, 224, 224, 3\)"):
        data_utils.load_imagenet_val()


@needs_full_data
def test_knn_subset_of_mini_equals_full(no_full_data):
    Xm, ym, Xtm, _ = data_utils.load_CIFAR10()
    Xf, yf, Xtf, _ = data_utils.load_CIFAR10(f"{FULL_DATA}/cifar-10-batches-py")
    assert Xf.shape == (50000, 32, 32, 3) and Xtf.shape == (10000, 32, 32, 3)
    np.testing.assert_array_equal(Xm[:5000], Xf[:5000])
    np.testing.assert_array_equal(ym[:5000], yf[:5000])
    np.testing.assert_array_equal(Xtm[:500], Xtf[:500])
    np.testing.assert_array_equal(Xm[5000:], Xf[49000:49500])
    np.testing.assert_array_equal(Xtm, Xtf[:1000])


@needs_full_data
def test_real_imagenet_and_mnist(monkeypatch):
    monkeypatch.setenv("CS231N_DATA", FULL_DATA)
    X, y, names = data_utils.load_imagenet_val()
    assert X.shape == (25, 224, 224, 3) and len(names) == 999 and names[int(y[0])] == "hay"
    mnist = data_utils.load_mnist()
    assert mnist["X_train"].shape == (60000, 28, 28) and mnist["X_test"].shape == (10000, 28, 28)


# --------------------------------------------------------------------------- where data is found


def make_cifar(root, n):
    root.mkdir(parents=True)
    for i, name in enumerate(CIFAR_FILES):
        write_cifar_batch(root / name, n=n, seed=i)
    return root


def test_lookup_order(no_full_data, monkeypatch, tmp_path):
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "env"))
    labels = [label for label, _ in config.data_dirs()]
    assert labels == ["$CS231N_DATA", "cs231n/datasets/ next to the notebook", "datasets/"]
    assert config.data_dirs()[1][1] == tmp_path / "cs231n" / "datasets"


def test_the_official_notebooks_data_folder_is_found(no_full_data, monkeypatch, tmp_path):
    # An official notebook runs in assignment2/ and keeps CIFAR-10 in cs231n/datasets/.
    notebook_dir = tmp_path / "assignment2"
    make_cifar(notebook_dir / "cs231n" / "datasets" / "cifar-10-batches-py", n=20)
    make_cifar(config.DATASETS_DIR / "cifar-10-batches-py", n=3)
    monkeypatch.chdir(notebook_dir)
    assert data_utils.load_CIFAR10()[0].shape[0] == 100           # before datasets/ (15)
    data = data_utils.get_CIFAR10_data(num_training=80, num_validation=20, num_test=10)
    assert data["X_train"].shape == (80, 3, 32, 32) and data["X_test"].shape == (10, 3, 32, 32)
    assert config.sources_used["CIFAR-10"] == "full"
    # the official knn notebook's explicit path
    assert data_utils.load_CIFAR10("cs231n/datasets/cifar-10-batches-py")[0].shape[0] == 100
    # $CS231N_DATA comes first
    make_cifar(tmp_path / "env" / "cifar-10-batches-py", n=1)
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "env"))
    assert data_utils.load_CIFAR10()[0].shape[0] == 5


def test_the_official_path_falls_back_when_it_does_not_exist(no_full_data):
    Xtr, _, _, _ = data_utils.load_CIFAR10("cs231n/datasets/cifar-10-batches-py")
    assert Xtr.shape[0] == 5500                                      # the embedded bundle
    with pytest.raises(DataNotFoundError, match="make data"):
        data_utils.load_CIFAR10("elsewhere/cifar-10-batches-py")


def test_empty_dataset_folders_are_skipped(no_full_data):
    # e.g. left by an interrupted download: the lookup asks for a key file, not a folder
    for folder in ("mnist", "cifar-10-batches-py"):
        (config.DATASETS_DIR / folder).mkdir(parents=True)
    assert data_utils.load_mnist()["X_train"].shape == (10000, 28, 28)
    assert data_utils.load_CIFAR10()[0].shape[0] == 5500
    assert config.sources_used["MNIST"] == config.sources_used["CIFAR-10"] == "mini"


def test_cs231n_data_without_the_dataset_is_said_once(no_full_data, monkeypatch, tmp_path,
                                                       capsys):
    env = tmp_path / "data"
    (env / "mnist").mkdir(parents=True)
    monkeypatch.setenv("CS231N_DATA", str(env))
    data_utils.load_mnist()
    data_utils.load_mnist()
    out = capsys.readouterr().out
    assert out.count("CS231N_DATA is set to") == 1
    assert (f"MNIST: CS231N_DATA is set to {env}, which has no mnist/train-images-idx3-ubyte.gz;"
            f" using {config.MINI_DIR / 'mnist_mini.npz'}") in out
    assert out.count("MNIST: embedded mini bundle (datasets/mini/mnist_mini.npz, 10000 train / "
                     "2000 test)") == 1
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "typo"))
    data_utils.load_imagenet_val()
    assert f"CS231N_DATA is set to {tmp_path / 'typo'}, which is not a folder" in \
        capsys.readouterr().out


def test_the_source_is_announced_once_with_its_size(no_full_data, cifar_dir, capsys):
    data_utils.load_CIFAR10(cifar_dir)
    data_utils.load_CIFAR10(cifar_dir)
    out = capsys.readouterr().out
    assert out.count(f"CIFAR-10: full data from {cifar_dir}, 100 train / 20 test images") == 1


# --------------------------------------------------------------------------- errors that name the file


def test_a_missing_cifar_batch_is_named(cifar_dir, monkeypatch):
    (cifar_dir / "data_batch_3").unlink()
    with pytest.raises(DataNotFoundError, match=r"cifar-10-batches-py is incomplete: it has no "
                                                r"data_batch_3\. Delete the folder and run `make data`"):
        data_utils.load_CIFAR10(cifar_dir)
    monkeypatch.setenv("CS231N_DATA", str(cifar_dir.parent))       # the same through the lookup
    with pytest.raises(DataNotFoundError, match="no data_batch_3"):
        data_utils.load_CIFAR10()
    with pytest.raises(DataNotFoundError, match=r"data_batch_3 not found.*make data"):
        data_utils.load_CIFAR_batch(cifar_dir / "data_batch_3")


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_a_damaged_npz_names_the_file(tmp_path, damage):
    raw = (config.MINI_DIR / "mnist_mini.npz").read_bytes()
    content = {"empty": b"", "truncated": raw[: len(raw) // 2], "garbage": b"\x00junk" * 99}
    (tmp_path / "mnist_mini.npz").write_bytes(content[damage])
    (tmp_path / "cifar10_mini.npz").write_bytes(content[damage])
    with pytest.raises(DatasetError, match=r"mnist_mini\.npz is not a readable \.npz file"):
        data_utils.load_mnist(tmp_path / "mnist_mini.npz")
    with pytest.raises(DatasetError, match=r"cifar10_mini\.npz is not a readable \.npz file"):
        data_utils.load_CIFAR10(tmp_path / "cifar10_mini.npz")


def test_a_damaged_imagenet_file_names_it_and_make_data(no_full_data, monkeypatch, tmp_path):
    (tmp_path / "imagenet_val_25.npz").write_bytes(b"")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match=r"imagenet_val_25\.npz is not a readable .npz file.*"
                                           r"Delete it and run `make data`"):
        data_utils.load_imagenet_val()


def write_mnist(root):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,)), 2049)


def test_a_corrupt_mnist_gz_is_a_dataset_error_not_zlib_error(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = bytearray(gzip.compress(f.read(), mtime=0))
    raw[10] = 0x07                        # the first deflate block gets the reserved type 3
    path.write_bytes(bytes(raw))
    with pytest.raises(zlib.error):       # what gzip itself raises for it
        gzip.decompress(bytes(raw))
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz: not a readable gzip "
                                           r"file.*Delete it and run `make data`"):
        data_utils.load_mnist(tmp_path)


def test_a_missing_mnist_file_is_reported_as_missing(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"MNIST folder .* is incomplete: it has no "
                                                r"t10k-labels-idx1-ubyte\.gz") as excinfo:
        data_utils.load_mnist(tmp_path)
    assert "gzip" not in str(excinfo.value)


# --------------------------------------------------------------------------- the embedded bundle


def test_every_bundle_file_is_listed_and_intact():
    listed = dict(reversed(line.split("  ", 1)) for line in
                  (config.MINI_DIR / "SHA256SUMS").read_text().splitlines())
    files = {p.relative_to(config.MINI_DIR).as_posix() for p in config.MINI_DIR.rglob("*")
             if p.is_file() and p.name != "SHA256SUMS"}
    assert files == set(listed)
    for name, digest in listed.items():
        assert data_utils.sha256_of(config.MINI_DIR / name) == digest, name


@pytest.mark.parametrize("rel, load", [
    ("cifar10_mini.npz", data_utils.load_CIFAR10),
    ("mnist_mini.npz", data_utils.load_mnist),
    ("imagenet_val_25.npz", data_utils.load_imagenet_val),
])
def test_a_changed_bundle_file_is_refused(no_full_data, monkeypatch, tmp_path, rel, load):
    mini = tmp_path / "mini"
    mini.mkdir()
    shutil.copy(config.MINI_DIR / "SHA256SUMS", mini)
    shutil.copy(config.MINI_DIR / rel, mini / rel)
    monkeypatch.setattr(config, "MINI_DIR", mini)
    load()                                                   # the intact copy loads
    raw = bytearray((mini / rel).read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (mini / rel).write_bytes(bytes(raw))
    monkeypatch.setattr(data_utils, "_verified", set())
    with pytest.raises(DatasetError, match=rf"{rel}: checksum mismatch.*git checkout datasets/mini"):
        load()


def load_build_mini():
    spec = importlib.util.spec_from_file_location(
        "build_mini", config.REPO_ROOT / "datasets" / "build_mini.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_mini_reads_imagenet_through_the_verified_loader(tmp_path):
    build_mini = load_build_mini()
    # the bundle's own copy goes through unchanged
    arrays = build_mini.imagenet_arrays(config.MINI_DIR / "imagenet_val_25.npz")
    with np.load(config.MINI_DIR / "imagenet_val_25.npz") as f:
        for key in ("X", "y", "class_names"):
            np.testing.assert_array_equal(arrays[key], f[key])
    # a file with a pickled label_map that is not the course's is never unpickled
    np.savez(tmp_path / "imagenet_val_25.npz", X=np.zeros((2, 224, 224, 3), np.uint8),
             y=np.zeros(2, np.int64), label_map=np.array({0: "evil"}, dtype=object))
    with pytest.raises(DatasetError, match="neither the course's file"):
        build_mini.imagenet_arrays(tmp_path / "imagenet_val_25.npz")
