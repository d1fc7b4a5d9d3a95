"""cs231n.checkpoint: nested states round-trip without pickle; writes are atomic; bad files
give an error that names the file."""
import os

import numpy as np
import pytest

from cs231n import checkpoint
from cs231n.checkpoint import CheckpointError, load_checkpoint, read_npz, save_checkpoint

pytestmark = pytest.mark.a2


def nested_state():
    return {
        "meta": {"epoch": 3, "lr": np.float64(0.5), "name": "adam", "flag": True, "none": None,
                 "nan": float("nan")},
        "params": {"W1": np.arange(6, dtype=np.float32).reshape(2, 3), "b1": np.zeros(3)},
        "configs": {"W1": {"t": 7, "m": np.ones((2, 3))}},
        "bn": [{"running_mean": np.full(4, 2.0)}, {}],
        "history": [2.5, 2.25, 0.1 + 0.2],
        "rng": ("MT19937", np.arange(5, dtype=np.uint32), 3),
    }


def test_nested_state_round_trips_exactly(tmp_path):
    path = tmp_path / "state.ckpt.npz"
    save_checkpoint(path, nested_state())
    back = load_checkpoint(path)
    assert back["meta"]["epoch"] == 3 and back["meta"]["lr"] == 0.5
    assert back["meta"]["name"] == "adam" and back["meta"]["flag"] is True
    assert back["meta"]["none"] is None and np.isnan(back["meta"]["nan"])
    assert back["params"]["W1"].dtype == np.float32
    np.testing.assert_array_equal(back["params"]["W1"], nested_state()["params"]["W1"])
    assert back["configs"]["W1"]["t"] == 7 and back["configs"]["W1"]["m"].shape == (2, 3)
    assert back["bn"][0]["running_mean"].tolist() == [2.0] * 4 and back["bn"][1] == {}
    assert back["history"] == [2.5, 2.25, 0.1 + 0.2]           # floats exact, not rounded
    assert back["rng"][0] == "MT19937" and back["rng"][1].dtype == np.uint32
    # arrays are stored under their path, with allow_pickle=False
    with np.load(path, allow_pickle=False) as npz:
        assert "params/W1" in npz.files and "configs/W1/m" in npz.files


def test_values_that_need_pickle_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.ckpt.npz"
    with pytest.raises(TypeError, match="'params/f'.*cannot be saved without pickle"):
        save_checkpoint(path, {"params": {"f": print}})
    with pytest.raises(TypeError, match="object array"):
        save_checkpoint(path, {"a": np.array([{}, 1], dtype=object)})
    with pytest.raises(TypeError, match="keys must be strings"):
        save_checkpoint(path, {"a": {1: 2}})
    with pytest.raises(ValueError, match="two entries are named 'a/b'"):
        save_checkpoint(path, {"a": {"b": np.zeros(1)}, "a/b": np.zeros(1)})
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt.npz"
    save_checkpoint(path, {"epoch": 1})

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt                 # e.g. the kernel interrupted mid-write
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["run.ckpt.npz"]             # no temporary left behind


@pytest.mark.parametrize("content", [b"", b"garbage" * 20, "truncated"])
def test_unreadable_files_name_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "run_epoch_2.ckpt.npz"
    if content == "truncated":
        save_checkpoint(path, {"params": {"W": np.zeros(1000)}})
        content = path.read_bytes()[:-200]
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"run_epoch_2\.ckpt\.npz is not a readable .npz"
                       r".*Delete it and resume from an earlier checkpoint") as excinfo:
        load_checkpoint(path)
    assert isinstance(excinfo.value, ValueError)
    assert "unsafely" not in str(excinfo.value)          # never numpy's advice to unpickle


def test_npz_files_that_are_not_checkpoints(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.zeros(3))
    with pytest.raises(CheckpointError, match="data.npz is an .npz file but not a checkpoint"):
        load_checkpoint(tmp_path / "data.npz")
    np.savez(tmp_path / "old.npz", meta=np.array("{}"), loss_history=np.zeros(2))
    with pytest.raises(CheckpointError, match="older version of the Solver"):
        load_checkpoint(tmp_path / "old.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="one.npy holds a single .npy array"):
        load_checkpoint(tmp_path / "one.npy")
    np.savez(tmp_path / "future.npz", **{checkpoint.STRUCTURE_KEY: np.array('{"format": 99}')})
    with pytest.raises(CheckpointError, match="format 99"):
        load_checkpoint(tmp_path / "future.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.ckpt.npz"):
        load_checkpoint(tmp_path / "missing.ckpt.npz")


def test_read_npz_raises_the_callers_error(tmp_path):
    class MyError(ValueError):
        pass
    (tmp_path / "bad.npz").write_bytes(b"")
    with pytest.raises(MyError, match="bad.npz is not a readable .npz file.*run it again"):
        read_npz(tmp_path / "bad.npz", MyError, "run it again")
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "absent.npz", MyError)
    np.savez(tmp_path / "good.npz", a=np.arange(3))
    assert read_npz(tmp_path / "good.npz")["a"].tolist() == [0, 1, 2]


def test_atomic_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        checkpoint.write_atomic(tmp_path / "f.txt", lambda f: f.write(b"hello"))
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").read_bytes() == b"hello"
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644      # not mkstemp's 0600
