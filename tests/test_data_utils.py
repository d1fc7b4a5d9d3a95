"""Loaders: official formats (small fixture files written here), the embedded bundle, and errors."""
import gzip
import pickle
import shutil

import numpy as np
import pytest

from cs231n import config, data_utils
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
    """Hide $CS231N_DATA and datasets/ so that the embedded bundle is used."""
    monkeypatch.delenv("CS231N_DATA", raising=False)
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "empty")


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
    Xtr, Ytr, Xte, Yte = data_utils.load_CIFAR10()
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
    out, mean = data_utils.preprocess_linear(data)
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


def test_mirror_averaged_predict_sums_the_scores_of_both_views():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 32, 32, 3)).astype(float)
    out, mean = data_utils.preprocess_linear({"X_train": images})
    X = out["X_train"]
    model = type("Model", (), {"W": rng.standard_normal((X.shape[1], 4))})()
    expected = np.argmax(X @ model.W + data_utils.mirror_rows(X, mean) @ model.W, axis=1)
    np.testing.assert_array_equal(data_utils.mirror_averaged_predict(model, X, mean), expected)
    # a mirror image gets the same label as its original
    mirrored = data_utils.mirror_rows(X, mean)
    np.testing.assert_array_equal(data_utils.mirror_averaged_predict(model, mirrored, mean), expected)


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
    raw = gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz").read()
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
    Xm, ym, Xtm, ytm = data_utils.load_CIFAR10()
    Xf, yf, Xtf, ytf = data_utils.load_CIFAR10(f"{FULL_DATA}/cifar-10-batches-py")
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
