"""Checkpoints: nested dicts of numpy arrays and scalars in one .npz file, without pickle.

A state such as ``{'params': {'W1': array}, 'meta': {'epoch': 3}, 'loss_history': [2.3, 2.1]}``
(dicts with str keys, lists, arrays, and int / float / str / bool / None) is saved as

- one npz entry per array, named by its path in the state ('params/W1', 'bn_params/0/running_mean');
- one entry ``__checkpoint__``: a JSON text of the state's structure, with the scalars in
  place and each array replaced by ``{"__array__": "<its entry>"}``.

Files are written atomically (a temporary file beside the target, then ``os.replace``),
so a crash mid-write never leaves a half-written checkpoint under the final name, and
read with ``np.load(..., allow_pickle=False)``. Tuples come back as lists.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import numpy as np

FORMAT = 2
STRUCTURE_KEY = "__checkpoint__"
ARRAY_TAG = "__array__"


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be read back (empty, truncated, not a checkpoint)."""


def write_atomic(filename: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace filename with what write(f) writes, so that a reader sees the old
    file or the complete new one, never a partial write: write a temporary file beside it,
    flush it to disk, then rename it over filename."""
    filename = os.fspath(filename)
    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(filename))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the mode open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, filename)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_npz_atomic(filename: str | os.PathLike, arrays: dict[str, np.ndarray],
                     compressed: bool = False) -> None:
    """np.savez (or np.savez_compressed) of arrays to filename, atomically (write_atomic)."""
    save = np.savez_compressed if compressed else np.savez
    write_atomic(filename, lambda f: save(f, **arrays))


def save_checkpoint(filename: str | os.PathLike, state: dict) -> None:
    """Save a nested state (see the module docstring) to filename, atomically.

    Raises TypeError naming the entry for a value that is neither an array nor a scalar.
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(state, "", arrays)
    arrays[STRUCTURE_KEY] = np.array(json.dumps({"format": FORMAT, "state": structure}))
    write_npz_atomic(filename, arrays)


def load_checkpoint(filename: str | os.PathLike) -> dict[str, Any]:
    """Read back the state that save_checkpoint wrote (arrays as numpy arrays, tuples as lists).

    Raises FileNotFoundError if there is no such file, and CheckpointError naming the file
    if it is empty, truncated, or not a checkpoint.
    """
    filename = os.fspath(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f"no checkpoint at {filename}: check the name (checkpoints are "
                                "written as <checkpoint_name>_epoch_<N>.ckpt.npz)")
    fix = "Delete it and resume from an earlier checkpoint, or train again."
    arrays = read_npz(filename, CheckpointError, fix)
    if STRUCTURE_KEY not in arrays and "meta" in arrays:
        raise CheckpointError(f"{filename} was written by an older version of the Solver "
                              "(checkpoint format 1); train again to write a new one.")
    if STRUCTURE_KEY not in arrays:
        raise CheckpointError(f"{filename} is an .npz file but not a checkpoint (it has no "
                              f"{STRUCTURE_KEY!r} entry). Pass a file written by a Solver.")
    try:
        header = json.loads(str(arrays.pop(STRUCTURE_KEY)))
    except ValueError as e:
        raise CheckpointError(f"{filename}: its {STRUCTURE_KEY!r} entry is not JSON ({e}). "
                              f"{fix}") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise CheckpointError(f"{filename}: checkpoint format {found!r}, this version reads "
                              f"format {FORMAT}. Train again to write a new checkpoint.")
    try:
        return _decode(header["state"], arrays)
    except KeyError as e:
        raise CheckpointError(f"{filename}: the array {e} is missing from the file. {fix}") from e


def read_npz(filename: str | os.PathLike, error: type[Exception] = CheckpointError,
             fix: str = "", keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an .npz file (all, or only `keys`), read with allow_pickle=False.

    Raises `error` (a message naming the file, then `fix`) for an empty, truncated or
    garbage file, an .npy instead of an .npz, pickled content or a missing key, instead
    of the bare EOFError / BadZipFile / zlib.error / KeyError that numpy lets through.
    """
    filename = os.fspath(filename)
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        npz = np.load(filename, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            npz = None
        else:
            with npz:  # members are read lazily: a damaged one fails here, not in np.load
                files = npz.files
                wanted = files if keys is None else [k for k in keys if k in files]
                arrays = {k: npz[k] for k in wanted}
    except FileNotFoundError:
        raise
    except unreadable as e:
        # numpy's own advice for pickled content ("load it unsafely") is not ours to give.
        reason = "pickled objects" if "pickle" in str(e) else f"{type(e).__name__}: {e}"
        raise error(f"{filename} is not a readable .npz file: it is empty, truncated, not an "
                    f"npz archive or holds pickled objects ({reason}). {fix}") from e
    if npz is None:
        raise error(f"{filename} holds a single .npy array, not an .npz archive. {fix}")
    missing = [k for k in keys or () if k not in arrays]
    if missing:
        raise error(f"{filename} has no array {missing[0]!r} (it has {sorted(files)}). {fix}")
    return arrays


def _encode(value, path: str, arrays: dict[str, np.ndarray]):
    """JSON-able structure of value; its arrays go into `arrays` under their path."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"checkpoint: {path!r} is an object array, which needs pickle; "
                            "store numbers or strings")
        if path in arrays:
            raise ValueError(f"checkpoint: two entries are named {path!r} (a name with '/' in "
                             "it collides with a nested one); rename one of them")
        arrays[path] = value
        return {ARRAY_TAG: path}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str) or key == ARRAY_TAG:
                raise TypeError(f"checkpoint: key {key!r} in {path or 'the state'!r}: keys must "
                                f"be strings other than {ARRAY_TAG!r}")
        return {k: _encode(v, f"{path}/{k}" if path else k, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}/{i}" if path else str(i), arrays)
                for i, v in enumerate(value)]
    raise TypeError(f"checkpoint: {path!r} = {value!r} ({type(value).__name__}) is neither an "
                    "array, a scalar, a list nor a dict, so it cannot be saved without pickle")


def _decode(structure, arrays: dict[str, np.ndarray]):
    if isinstance(structure, dict):
        if set(structure) == {ARRAY_TAG}:
            return arrays[structure[ARRAY_TAG]]
        return {k: _decode(v, arrays) for k, v in structure.items()}
    if isinstance(structure, list):
        return [_decode(v, arrays) for v in structure]
    return structure
